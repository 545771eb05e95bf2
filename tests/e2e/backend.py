#!/usr/bin/env python3
"""A test backend: a real HTTP/1.1 server (keep-alive) that answers every GET with its name;
GET /big/N answers N bytes more after the name's line (large responses, jumbo frames).

usage: backend.py NAME ADDR PORT STATE_DIR
The status it answers with is read from STATE_DIR/NAME.status at each request (200 if there is
none), and every request it serves adds a line "STATUS UNIX_TIME_MS" to STATE_DIR/NAME.hits.
"""
import http.server
import os
import sys
import time


def main():
    name, addr, port, state = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    status_file = os.path.join(state, name + ".status")
    hits_file = os.path.join(state, name + ".hits")

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            try:
                with open(status_file) as f:
                    status = int(f.read().strip())
            except (OSError, ValueError):
                status = 200
            body = (name + "\n").encode()
            if self.path.startswith("/big/") and self.path[5:].isdigit():
                body += b"x" * min(int(self.path[5:]), 1 << 24)
            # On record before the answer leaves: a client that has it finds its hit counted.
            with open(hits_file, "a") as f:
                f.write("%d %d\n" % (status, time.time_ns() // 1000000))
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    class Server(http.server.ThreadingHTTPServer):
        # A listen backlog of 5 (the default) drops SYNs under a burst of new connections on
        # a slow machine: the client then waits a second for its retransmission.
        request_queue_size = 128

    Server((addr, port), Handler).serve_forever()


if __name__ == "__main__":
    main()
