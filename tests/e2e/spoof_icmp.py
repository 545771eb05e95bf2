#!/usr/bin/env python3
"""A client that tries to roll the canary back with forged ICMP errors about its own connection.

usage: spoof_icmp.py VIP BACKEND [--port 8080] [--count N] [--rate R]

Opens keep-alive connections to VIP:80 until one is answered by the canary (the backend's body
names its version), then sends COUNT ICMP "destination unreachable" errors quoting that
connection as the splitter rewrote it (this client to BACKEND:PORT), R a second, to the VIP
through a raw socket: port unreachable, fragmentation needed and host unreachable, with the
outer source forged as BACKEND or left as the client's own. Then asks once more on the same
connection. Prints one JSON line: the connection's port, errors sent, and whether it still
answered. Run inside the client's network namespace, as root.
"""
import argparse
import json
import socket
import struct
import sys
import time


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(src, dst, proto, payload):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0, 64, proto, 0,
                      socket.inet_aton(src), socket.inet_aton(dst))
    hdr = hdr[:10] + struct.pack("!H", checksum(hdr)) + hdr[12:]
    return hdr + payload


def quote(client, cport, backend, bport):
    """The connection's SYN as the splitter sent it on: client to backend, TCP header whole."""
    tcp = struct.pack("!HHIIBBHHH", cport, bport, 1, 0, 5 << 4, 0x02, 64240, 0, 0)
    return ipv4(client, backend, socket.IPPROTO_TCP, tcp)


def icmp_unreach(code, quoted):
    msg = struct.pack("!BBHI", 3, code, 0, 0) + quoted
    return msg[:2] + struct.pack("!H", checksum(msg)) + msg[4:]


def ask(sock, vip):
    sock.sendall(f"GET / HTTP/1.1\r\nHost: {vip}\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int([h.split(b":")[1] for h in head.split(b"\r\n")
                  if h.lower().startswith(b"content-length")][0])
    while len(body) < length:
        body += sock.recv(4096)
    return body.decode().strip()


def canary_connection(vip, tries=64):
    held = []
    for _ in range(tries):
        s = socket.create_connection((vip, 80), timeout=5)
        if ask(s, vip) == "canary":
            for h in held:
                h.close()
            return s
        held.append(s)   # kept open, so the next one gets another port
    raise SystemExit(f"spoof_icmp: no connection reached the canary in {tries} tries")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("vip")
    ap.add_argument("backend")
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--count", type=int, default=150)
    ap.add_argument("--rate", type=float, default=50)
    a = ap.parse_args()

    conn = canary_connection(a.vip)
    client, cport = conn.getsockname()
    quoted = quote(client, cport, a.backend, a.port)
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    forms = [(code, src) for code in (3, 4, 1) for src in (a.backend, client)]
    for i in range(a.count):
        code, src = forms[i % len(forms)]
        raw.sendto(ipv4(src, a.vip, socket.IPPROTO_ICMP, icmp_unreach(code, quoted)),
                   (a.vip, 0))
        time.sleep(1 / a.rate)
    try:
        answered = ask(conn, a.vip) == "canary"
    except (OSError, ConnectionError):
        answered = False
    print(json.dumps({"port": cport, "sent": a.count, "answered": answered}))
    return 0 if answered else 1


if __name__ == "__main__":
    sys.exit(main())
