#!/usr/bin/env python3
"""Prints sluiced's server-side check-in latency histogram (sluice_checkin_duration_seconds,
from a check-in's frame to its answer) from GET /metrics as one JSON line: {"le": count, ...,
"sum": s, "count": n}. With two such lines (before, after) as arguments instead, prints the
run's count, mean and interpolated p50/p99 in ms. Used by load/dashboard_bench.sh."""
import json
import ssl
import sys
import http.client


def scrape(port, token):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["http/1.1"])
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=30)
    conn.request("GET", "/metrics", headers={"Authorization": "Bearer " + token})
    text = conn.getresponse().read().decode()
    out = {}
    for line in text.splitlines():
        if line.startswith("sluice_checkin_duration_seconds_bucket{le=\""):
            le = line.split('"')[1]
            out[le] = float(line.rsplit(" ", 1)[1])
        elif line.startswith("sluice_checkin_duration_seconds_sum "):
            out["sum"] = float(line.split()[1])
        elif line.startswith("sluice_checkin_duration_seconds_count "):
            out["count"] = float(line.split()[1])
    return out


def percentile(delta, q):
    bounds = sorted((float(le), n) for le, n in delta.items() if le not in ("sum", "count", "+Inf"))
    target, lower, below = q * delta["count"], 0.0, 0.0
    for bound, cumulative in bounds:
        if cumulative >= target:
            share = (target - below) / (cumulative - below) if cumulative > below else 1.0
            return round((lower + (bound - lower) * share) * 1000, 1)
        lower, below = bound, cumulative
    return None  # beyond the largest finite bucket


if len(sys.argv) == 3 and sys.argv[1].isdigit():
    print(json.dumps(scrape(int(sys.argv[1]), sys.argv[2])))
else:
    before, after = json.loads(sys.argv[1]), json.loads(sys.argv[2])
    delta = {key: after[key] - before.get(key, 0) for key in after}
    count = delta["count"]
    print(json.dumps({"checkins": int(count),
                      "mean_ms": round(delta["sum"] / count * 1000, 2) if count else None,
                      "p50_ms": percentile(delta, 0.5) if count else None,
                      "p99_ms": percentile(delta, 0.99) if count else None}))
