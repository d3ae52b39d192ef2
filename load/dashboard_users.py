#!/usr/bin/env python3
"""Simulated dashboard users for load/dashboard_bench.sh: USERS admins, each logged in over its
own keep-alive HTTPS connection (ALPN http/1.1, as browsers offer it) with the live rollout feed
open on a second one, polling what the overview and rollout pages show once a second and
searching the clients every ten, for DURATION seconds. Prints one JSON line: requests, errors,
events received, request latency percentiles and this client's own CPU seconds (it shares the
machine with the server). Loopback only; bounded by DURATION plus timeouts."""
import http.client
import json
import multiprocessing
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
    # Blocks in readline until the next event: a timed-out socket file cannot be read again
    # (Python's SocketIO), so the read has no timeout short of the run; the thread is a daemon
    # and ends with its process.
    conn = connect(timeout=duration + 60)
    conn.request("GET", "/api/events", headers={"Cookie": cookie})
    response = conn.getresponse()
    while time.monotonic() < stop_at:
        try:
            line = response.fp.readline()
        except OSError:
            break
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


def run_group(count, out):
    """COUNT users as threads of this process; their figures go to the pipe OUT."""
    threads = [threading.Thread(target=user) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=duration + 60)
    cpu = os.times()
    out.send({"latencies": latencies, "errors": errors[0], "events": events[0],
              "cpu_s": cpu.user + cpu.system})
    out.close()


# The users run in groups of at most 10 threads per process: one interpreter's lock shared by
# 100 threads (each user's poller and feed reader) costs more than the requests, and a starved
# client's slow answers would be counted as the server's.
groups = [min(10, users - start) for start in range(0, users, 10)]
pipes, children = [], []
for count in groups:
    receive, send = multiprocessing.Pipe(duplex=False)
    child = multiprocessing.Process(target=run_group, args=(count, send))
    child.start()
    pipes.append(receive)
    children.append(child)
all_latencies, all_errors, all_events, cpu_s = [], 0, 0, 0.0
for receive, child in zip(pipes, children):
    figures = receive.recv() if receive.poll(duration + 90) else None
    child.join(timeout=10)
    if figures is None:
        all_errors += 1
        continue
    all_latencies += figures["latencies"]
    all_errors += figures["errors"]
    all_events += figures["events"]
    cpu_s += figures["cpu_s"]
all_latencies.sort()


def percentile(p):
    if not all_latencies:
        return 0
    return round(all_latencies[min(len(all_latencies) - 1, int(len(all_latencies) * p))] * 1000, 1)


print(json.dumps({"users": users, "processes": len(groups), "requests": len(all_latencies),
                  "requests_per_s": round(len(all_latencies) / duration, 1),
                  "errors": all_errors, "events": all_events, "p50_ms": percentile(0.5),
                  "p99_ms": percentile(0.99), "client_cpu_s": round(cpu_s, 2)}))
