#!/usr/bin/env python3
"""Bounded HTTP load generator: one new connection per request (Connection: close).

usage: load.py URL (--requests N | --duration S) [--concurrency C] [--timeout S]
               [--stop-file PATH] [--out FILE]

Sends GET URL with C requests in parallel (default 4), each with a timeout (default 3 s):
N requests, or as many as fit in S seconds (at most 100000). Stops early once PATH exists.
Prints one JSON line to stdout, and to FILE if --out is given:

  {"sent": requests made, "ok": 2xx answers, "failed": network errors/timeouts,
   "statuses": {"200": n, "503": n, ...}, "bodies": {"stable\\n": n, ...},
   "errors": {"TimeoutError: timed out": n, ...}}

An HTTP error status (e.g. 5xx) is counted in statuses, not in failed.
Exit status: 0 if failed == 0, else 1.
"""
import argparse
import collections
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse

MAX_REQUESTS = 100000


def main():
    p = argparse.ArgumentParser(description="bounded HTTP load generator")
    p.add_argument("url")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--requests", type=int)
    g.add_argument("--duration", type=float)
    p.add_argument("--concurrency", type=int, default=4)
    p.add_argument("--timeout", type=float, default=3.0)
    p.add_argument("--stop-file")
    p.add_argument("--out")
    a = p.parse_args()

    u = urllib.parse.urlsplit(a.url)
    if u.scheme != "http" or not u.hostname:
        p.error("only http://HOST[:PORT]/PATH URLs are supported")
    host, port = u.hostname, u.port or 80
    path = (u.path or "/") + ("?" + u.query if u.query else "")
    limit = a.requests if a.requests is not None else MAX_REQUESTS
    deadline = time.monotonic() + a.duration if a.duration is not None else None

    lock = threading.Lock()
    totals = {"sent": 0, "ok": 0, "failed": 0}
    statuses, bodies, errors = collections.Counter(), collections.Counter(), collections.Counter()

    def take_ticket():
        if deadline is not None and time.monotonic() >= deadline:
            return False
        if a.stop_file and os.path.exists(a.stop_file):
            return False
        with lock:
            if totals["sent"] >= limit:
                return False
            totals["sent"] += 1
            return True

    def worker():
        while take_ticket():
            conn = http.client.HTTPConnection(host, port, timeout=a.timeout)
            try:
                conn.request("GET", path, headers={"Connection": "close"})
                resp = conn.getresponse()
                body = resp.read().decode("utf-8", "replace")
            except (OSError, http.client.HTTPException) as e:
                print("load: %r" % e, file=sys.stderr)
                with lock:
                    totals["failed"] += 1
                    errors[type(e).__name__ + ": " + str(e)] += 1
                continue
            finally:
                conn.close()
            with lock:
                statuses[str(resp.status)] += 1
                bodies[body] += 1
                if 200 <= resp.status < 300:
                    totals["ok"] += 1

    threads = [threading.Thread(target=worker) for _ in range(max(1, a.concurrency))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    line = json.dumps(dict(**totals, statuses=dict(statuses), bodies=dict(bodies),
                           errors=dict(errors)))
    print(line, flush=True)
    if a.out:
        with open(a.out, "w") as f:
            f.write(line + "\n")
    sys.exit(0 if totals["failed"] == 0 else 1)


if __name__ == "__main__":
    main()
