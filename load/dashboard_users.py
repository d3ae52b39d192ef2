#!/usr/bin/env python3
"""Simulated dashboard users for load/dashboard_bench.sh: USERS admins, each logged in over its
own keep-alive HTTPS connection (ALPN http/1.1, as browsers offer it) with the live rollout feed
open on a second one, polling what the overview and rollout pages show once a second and
searching the clients every ten, for DURATION seconds. Prints one JSON line: requests, errors,
events received, request latency percentiles and this client's own CPU seconds (it shares the
machine with the server). Loopback only; bounded by DURATION plus timeouts."""
import http.client
import json
import os
import ssl
import sys
import threading
import time

port, name, password = int(sys.argv[1]), sys.argv[2], sys.argv[3]
users, duration = int(sys.argv[4]), float(sys.argv[5])

context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
context.set_alpn_protocols(["http/1.1"])

# Every second what the overview and the rollout page (polling, as without the feed) show;
# every tenth second also a search on the clients page, as a person types one.
POLLS = [("status", {}), ("limits", {}), ("rollout", {}), ("fleet", {})]
SEARCH = ("clients-page", {"limit": 50, "q": "user1"})
if os.environ.get("POLL", "1") == "0":
    POLLS, SEARCH = [], None
FEED = os.environ.get("FEED", "1") != "0"
lock = threading.Lock()
latencies, errors, events = [], [0], [0]
stop_at = time.monotonic() + duration


def connect(timeout=30):
    return http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=timeout)


def login(conn):
    for _ in range(20):
        conn.request("POST", "/api/login", json.dumps({"name": name, "password": password}),
                     {"Content-Type": "application/json"})
        response = conn.getresponse()
        body = response.read()
        if response.status == 200:
            cookie = response.getheader("Set-Cookie").split(";")[0]
            return cookie, json.loads(body)["csrf"]
        time.sleep(0.5)
    raise RuntimeError("login failed: %d %s" % (response.status, body))


def feed(cookie):
    conn = connect(timeout=2)  # reads wake up to see the end of the run
    conn.request("GET", "/api/events", headers={"Cookie": cookie})
    response = conn.getresponse()
    while time.monotonic() < stop_at:
        try:
            line = response.fp.readline()
        except (TimeoutError, OSError):
            continue
        if not line:
            break
        if line.startswith(b"event: "):
            with lock:
                events[0] += 1
    conn.close()


def user():
    conn = connect()
    cookie, csrf = login(conn)
    if FEED:
        threading.Thread(target=feed, args=(cookie,), daemon=True).start()
    headers = {"Cookie": cookie, "X-CSRF-Token": csrf, "Content-Type": "application/json"}
    second = 0
    while time.monotonic() < stop_at:
        started = time.monotonic()
        second += 1
        polls = POLLS + ([SEARCH] if SEARCH and second % 10 == 0 else [])
        for command, args in polls:
            t0 = time.monotonic()
            try:
                conn.request("POST", "/api/cmd/" + command, json.dumps(args), headers)
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                conn = connect()
            with lock:
                latencies.append(time.monotonic() - t0)
                if not ok:
                    errors[0] += 1
        time.sleep(max(0.0, 1.0 - (time.monotonic() - started)))


threads = [threading.Thread(target=user) for _ in range(users)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join(timeout=duration + 60)
latencies.sort()


def percentile(p):
    return round(latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1000, 1) if latencies else 0


cpu = os.times()
print(json.dumps({"users": users, "requests": len(latencies), "errors": errors[0],
                  "events": events[0], "p50_ms": percentile(0.5), "p99_ms": percentile(0.99),
                  "client_cpu_s": round(cpu.user + cpu.system, 2)}))
