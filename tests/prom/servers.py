#!/usr/bin/env python3
"""Servers for tests/bats/prom.bats, on 127.0.0.1 and a port the kernel picks.

  servers.py exporter DIR          serves DIR/metrics (the test rewrites it) as /metrics
  servers.py fake DIR [CERT KEY]   a Prometheus that answers badly on purpose (over TLS with
                                   CERT and KEY): the first path segment says how, see ANSWERS

Each writes its port to DIR/port once it listens. The fake one also appends every request it
gets to DIR/requests.jsonl: path, query parameters, Authorization, Content-Type and body.
"""
import json
import os
import ssl
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SLOW_S = 10         # far longer than any timeout the tests give the client
TOKEN = "s3cret-token"
BIG = 2 * 1024 * 1024


def vector(*series):
    result = [{"metric": labels, "value": [time.time(), value]} for labels, value in series]
    return {"status": "success", "data": {"resultType": "vector", "result": result}}


# mode: (HTTP status, Content-Type, body); a dict body is sent as JSON
ANSWERS = {
    "value": (200, "application/json", vector(({}, "42"))),
    "scalar": (200, "application/json",
               {"status": "success", "data": {"resultType": "scalar", "result": [1, "3.5"]}}),
    "inf": (200, "application/json", vector(({}, "+Inf"))),
    "nan": (200, "application/json", vector(({}, "NaN"))),
    "several": (200, "application/json",
                vector(({"__name__": "up", "pod": "a"}, "1"), ({"__name__": "up", "pod": "b"}, "0"),
                       ({"__name__": "up", "pod": "c"}, "1"))),
    "matrix": (200, "application/json",
               {"status": "success",
                "data": {"resultType": "matrix",
                         "result": [{"metric": {}, "values": [[1, "1"], [2, "2"]]}]}}),
    "error": (422, "application/json",
              {"status": "error", "errorType": "execution",
               "error": "expanding series: query processing would load too many samples"}),
    "notjson": (200, "text/html", "<html><body>\x01\x1b[31mproxy login</body></html>\n"),
    "unavailable": (503, "text/plain", "upstream connect error or disconnect\n"),
    "hook-fail": (500, "text/plain", "boom\n"),
    "hook-ok": (200, "application/json", {"ok": True}),
}


class Exporter(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path != "/metrics":
            self.send_error(404)
            return
        with open(os.path.join(self.server.dir, "metrics"), "rb") as f:
            body = f.read()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        pass


class FakeProm(BaseHTTPRequestHandler):
    def record(self, body):
        url = urllib.parse.urlsplit(self.path)
        line = {"path": url.path, "query": dict(urllib.parse.parse_qsl(url.query)),
                "authorization": self.headers.get("Authorization"),
                "content_type": self.headers.get("Content-Type"),
                "body": body.decode("utf-8", "replace")}
        with open(os.path.join(self.server.dir, "requests.jsonl"), "a") as f:
            f.write(json.dumps(line) + "\n")
        return url.path.strip("/").split("/")[0]

    def reply(self, code, ctype, body, length=True):
        data = json.dumps(body).encode() if isinstance(body, dict) else body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        if length:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def answer(self, mode):
        if mode == "slow":
            time.sleep(SLOW_S)
            mode = "value"
        if mode == "auth" and self.headers.get("Authorization") != "Bearer " + TOKEN:
            self.reply(401, "text/plain", "unauthorized\n")
        elif mode == "auth":
            self.reply(*ANSWERS["value"])
        elif mode in ("big", "big-unsized"):
            # HTTP/1.0 without Content-Length: the body ends when the connection closes
            self.reply(200, "application/json", "[" + " " * BIG + "]", mode == "big")
        elif mode in ANSWERS:
            self.reply(*ANSWERS[mode])
        else:
            self.send_error(404)

    def do_GET(self):
        try:
            self.answer(self.record(b""))
        except (BrokenPipeError, ConnectionResetError):
            pass    # the client gave up first: that is what the slow mode tests

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.answer(self.record(body))

    def log_message(self, fmt, *args):
        pass


def main():
    if len(sys.argv) not in (3, 5) or sys.argv[1] not in ("exporter", "fake"):
        sys.exit(__doc__)
    handler = Exporter if sys.argv[1] == "exporter" else FakeProm
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    server.dir = sys.argv[2]
    if len(sys.argv) == 5:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[3], sys.argv[4])
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    tmp = os.path.join(server.dir, "port.tmp")
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(tmp, os.path.join(server.dir, "port"))
    server.serve_forever()


if __name__ == "__main__":
    main()
