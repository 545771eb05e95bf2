#!/usr/bin/python3
"""A lab backend: a real HTTP/1.1 server for one version of a service, with its own Prometheus
metrics and a control endpoint that injects faults while it runs.

usage: backend.py --app NAME --version stable|canary --release TAG --listen ADDR:PORT
                  --admin ADDR:PORT [--lab NAME]

The service port answers every GET with "APP RELEASE (VERSION)" (and /healthz with "ok", which
faults leave alone, as a real app's health endpoint often does). The admin port serves:
  GET  /metrics        http_requests_total{app,version,release,code} and
                       http_request_duration_seconds{app,version,release} (a histogram)
  GET  /state          the current release and faults, as JSON
  POST /fault?error=RATIO&delay_ms=MS
                       answer a share RATIO (0..1) of requests with 503, and add MS of latency
                       to every request; either may be given alone
  POST /release?tag=TAG
                       "deploy" release TAG: it answers as TAG, and faults are cleared
"""
import argparse
import json
import random
import re
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

RELEASE_TAG = re.compile(r"[A-Za-z0-9.-]{1,32}")
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Backend:
    """The state both servers share; the lock keeps a fault's two numbers consistent."""

    def __init__(self, app, version, release):
        self.app = app
        self.version = version
        self.release = release
        self.error = 0.0
        self.delay = 0.0
        self.lock = threading.Lock()
        self.registry = CollectorRegistry()
        labels = ("app", "version", "release")
        self.requests = Counter("http_requests", "Requests served, by status code",
                                labels + ("code",), registry=self.registry)
        self.duration = Histogram("http_request_duration_seconds",
                                  "Time from request to response", labels,
                                  buckets=BUCKETS, registry=self.registry)

    def snapshot(self):
        with self.lock:
            return self.release, self.error, self.delay

    def state(self):
        release, error, delay = self.snapshot()
        return {"app": self.app, "version": self.version, "release": release,
                "error": error, "delay_ms": round(delay * 1000, 3)}


def parse_fault(query, backend):
    """Returns the new (error, delay) from a /fault query, or raises ValueError."""
    args = urllib.parse.parse_qs(query, strict_parsing=bool(query))
    unknown = set(args) - {"error", "delay_ms"}
    if unknown:
        raise ValueError("unknown parameter %s" % ", ".join(sorted(unknown)))
    _, error, delay = backend.snapshot()
    if "error" in args:
        error = float(args["error"][-1])
        if not 0.0 <= error <= 1.0:
            raise ValueError("error %s is not a ratio in 0..1" % args["error"][-1])
    if "delay_ms" in args:
        delay = float(args["delay_ms"][-1]) / 1000.0
        if not 0.0 <= delay <= 10.0:
            raise ValueError("delay_ms %s is not in 0..10000" % args["delay_ms"][-1])
    return error, delay


def release_tag(text):
    """A release name as both --release and /release take it, or ValueError."""
    if not RELEASE_TAG.fullmatch(text or ""):
        raise ValueError("release tag %r: 1 to 32 letters, digits, '.' or '-'" % text)
    return text


class Quiet(BaseHTTPRequestHandler):
    """A handler that logs nothing (load would flood the log) and writes whole answers."""

    def send(self, code, body, ctype, close=False):
        self.send_response(code)
        if close:
            self.send_header("Connection", "close")
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def service_handler(backend):
    class Service(Quiet):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            start = time.monotonic()
            release, error, delay = backend.snapshot()
            if self.path == "/healthz":
                self.answer(200, b"ok\n")
                return
            if delay:
                time.sleep(delay)
            code = 503 if error and random.random() < error else 200
            body = "%s %s (%s)\n" % (backend.app, release, backend.version)
            self.answer(code, body.encode())
            backend.requests.labels(backend.app, backend.version, release, str(code)).inc()
            backend.duration.labels(backend.app, backend.version, release).observe(
                time.monotonic() - start)

        def answer(self, code, body):
            # Say so when the client asked to close: wrk (and others) would otherwise send
            # the next request on a connection the server is about to close.
            close = self.headers.get("Connection", "").lower() == "close"
            self.send(code, body, "text/plain", close)

    return Service


def admin_handler(backend):
    class Admin(Quiet):
        def do_GET(self):
            if self.path == "/metrics":
                self.send(200, generate_latest(backend.registry), CONTENT_TYPE_LATEST)
            elif self.path == "/state":
                self.reply_json(200, backend.state())
            else:
                self.reply_json(404, {"error": "no such path: " + self.path})

        def do_POST(self):
            url = urllib.parse.urlsplit(self.path)
            try:
                if url.path == "/fault":
                    error, delay = parse_fault(url.query, backend)
                    with backend.lock:
                        backend.error, backend.delay = error, delay
                elif url.path == "/release":
                    tag = release_tag(urllib.parse.parse_qs(url.query).get("tag", [""])[-1])
                    with backend.lock:
                        backend.release, backend.error, backend.delay = tag, 0.0, 0.0
                else:
                    self.reply_json(404, {"error": "no such path: " + url.path})
                    return
            except ValueError as e:
                self.reply_json(400, {"error": str(e)})
                return
            self.reply_json(200, backend.state())

        def reply_json(self, code, obj):
            self.send(code, (json.dumps(obj) + "\n").encode(), "application/json")

    return Admin


def endpoint(text):
    addr, _, port = text.rpartition(":")
    if not addr or not port.isdigit():
        raise argparse.ArgumentTypeError("%r is not ADDR:PORT" % text)
    return addr.strip("[]"), int(port)


def main():
    p = argparse.ArgumentParser(description="A lab backend with metrics and fault injection.")
    p.add_argument("--app", required=True)
    p.add_argument("--version", required=True, choices=("stable", "canary"))
    p.add_argument("--release", required=True, type=release_tag)
    p.add_argument("--listen", required=True, type=endpoint)
    p.add_argument("--admin", required=True, type=endpoint)
    p.add_argument("--lab", help="the lab this backend belongs to (for ps, and tests)")
    a = p.parse_args()

    backend = Backend(a.app, a.version, a.release)
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer.request_queue_size = 256
    try:
        service = ThreadingHTTPServer(a.listen, service_handler(backend))
        admin = ThreadingHTTPServer(a.admin, admin_handler(backend))
    except OSError as e:
        sys.exit("backend: listen: %s" % e)
    threading.Thread(target=admin.serve_forever, daemon=True).start()
    service.serve_forever()


if __name__ == "__main__":
    main()
