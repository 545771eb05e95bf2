#!/usr/bin/env python3
"""Long-lived connection holder: N keep-alive HTTP/1.1 connections that each keep asking.

usage: conns.py HOST PORT N DURATION_S [--interval S] [--final] [--ready FILE] [--out FILE]

Opens N TCP connections to HOST:PORT (one thread each) and on each one sends
"GET / HTTP/1.1" every --interval seconds (default 0.2), reading the whole response
(status line, headers, Content-Length body) with a 2 s timeout per request. A connection
that fails is counted, closed and never reopened. Once every connection has its first answer
(or has failed) it creates the --ready FILE, so that a test moves the weight only then, however
slow the machine. DURATION_S seconds later (or on SIGTERM/SIGINT) each connection asks once
more if --final is given (so that connections left idle with a long --interval prove they
still work), then it prints one JSON line to stdout, and to FILE if --out is given:

  {"connections": N, "requests": complete responses (any status),
   "resets": ECONNRESET/EPIPE/unexpected EOF, "errors": anything else (timeouts, failed connects),
   "moved": connections answered by another backend than their first answer's,
   "statuses": {"200": n, ...}, "bodies": {"stable\\n": n, ...}}

Exit status: 0 if resets, errors and moved are all 0, else 1.
"""
import argparse
import collections
import json
import signal
import socket
import sys
import threading

REQUEST = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
TIMEOUT = 2.0


class UnexpectedEOF(Exception):
    pass


def read_response(f):
    """Read one response from the file f; return (status, body text)."""
    line = f.readline(65537)
    if not line.endswith(b"\n"):
        raise UnexpectedEOF("EOF in status line")
    parts = line.split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
        raise ValueError("bad status line %r" % line)
    status = int(parts[1])
    length = 0
    while True:
        line = f.readline(65537)
        if not line.endswith(b"\n"):
            raise UnexpectedEOF("EOF in headers")
        if line in (b"\r\n", b"\n"):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    body = f.read(length) if length else b""
    if len(body) != length:
        raise UnexpectedEOF("EOF in body")
    return status, body.decode("utf-8", "replace")


def main():
    p = argparse.ArgumentParser(description="hold N keep-alive HTTP connections")
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("n", type=int)
    p.add_argument("duration", type=float)
    p.add_argument("--interval", type=float, default=0.2)
    p.add_argument("--final", action="store_true")
    p.add_argument("--ready")
    p.add_argument("--out")
    a = p.parse_args()

    stop = threading.Event()
    lock = threading.Lock()
    totals = {"requests": 0, "resets": 0, "errors": 0, "moved": 0}
    statuses, bodies = collections.Counter(), collections.Counter()
    settled = threading.Semaphore(0)    # released once a connection has its first answer or failed

    def count(key):
        with lock:
            totals[key] += 1

    def worker():
        try:
            sock = socket.create_connection((a.host, a.port), timeout=TIMEOUT)
        except OSError as e:
            print("conns: connect: %s" % e, file=sys.stderr)
            count("errors")
            settled.release()
            return
        f = sock.makefile("rb")
        first, last = True, None
        try:
            while True:
                sock.sendall(REQUEST)
                status, body = read_response(f)
                with lock:
                    totals["requests"] += 1
                    statuses[str(status)] += 1
                    bodies[body] += 1
                    if last is not None and body != last:
                        totals["moved"] += 1    # once: last is the new backend's from here
                last = body
                if first:
                    settled.release()
                    first = False
                if stop.is_set():
                    break
                stop.wait(a.interval)
                if stop.is_set() and not a.final:
                    break
        except (ConnectionResetError, BrokenPipeError, ConnectionAbortedError, UnexpectedEOF) as e:
            print("conns: reset: %s" % e, file=sys.stderr)
            count("resets")
        except Exception as e:  # timeouts, parse errors, other socket errors
            print("conns: error: %r" % e, file=sys.stderr)
            count("errors")
        finally:
            if first:
                settled.release()
            f.close()
            sock.close()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(a.n)]
    for t in threads:
        t.start()
    for _ in threads:
        settled.acquire()
    if a.ready:
        open(a.ready, "w").close()
    stop.wait(a.duration)
    stop.set()
    for t in threads:
        t.join(TIMEOUT + 1)

    with lock:
        result = dict(connections=a.n, **totals, statuses=dict(statuses), bodies=dict(bodies))
    line = json.dumps(result)
    print(line, flush=True)
    if a.out:
        with open(a.out, "w") as f:
            f.write(line + "\n")
    sys.exit(0 if result["resets"] == result["errors"] == result["moved"] == 0 else 1)


if __name__ == "__main__":
    main()
