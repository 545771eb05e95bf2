#!/usr/bin/env python3
"""A client that tries to make its canary connections count as failures with forged packets.

usage: spoof.py icmp VIP BACKEND [--port 8080] [--count N] [--rate R]
       spoof.py rst VIP BACKEND --dev IF --mac MAC [--port 8080] [--conns N]
       spoof.py synflood VIP --src PREFIX [--count N]

Both modes first open keep-alive connections to VIP:80 until they have one (icmp) or N (rst)
answered by the canary (the backend's body names its version).

icmp: sends COUNT ICMP "destination unreachable" errors quoting the connection as the
splitter rewrote it (this client to BACKEND:PORT), R a second, to the VIP through a raw
socket: port unreachable, fragmentation needed and host unreachable, the outer source forged
as BACKEND or left as the client's own.

rst: for each connection, the backend's RST as the splitter would see it coming back (BACKEND:
PORT to this client), sent from the clients' side: an Ethernet frame on IF to the splitter's
MAC, so that it goes through the splitter's XDP program like a reply.

Then asks once more on every connection. Prints one JSON line: what was sent and how many
connections still answered. Exit status 0 when all did.

synflood: COUNT SYNs to VIP:80 as fast as a raw socket takes them, each from a random address
of PREFIX (an IPv4 /8 to /24 that routes nowhere) and a random port: handshakes that never
complete. Prints one JSON line with what was sent.

Run in the client's namespace, as root.
"""
import argparse
import ipaddress
import json
import random
import socket
import struct
import sys
import time

TCP_RST, TCP_SYN, TCP_ACK = 0x04, 0x02, 0x10


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
    return hdr[:10] + struct.pack("!H", checksum(hdr)) + hdr[12:] + payload


def tcp(src, dst, sport, dport, flags, seq=1, ack=0):
    hdr = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 64240, 0, 0)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(hdr))
    return hdr[:16] + struct.pack("!H", checksum(pseudo + hdr)) + hdr[18:]


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


def canary_connections(vip, want, tries=256):
    canary, held = [], []
    for _ in range(tries):
        s = socket.create_connection((vip, 80), timeout=5)
        (canary if ask(s, vip) == "canary" else held).append(s)
        if len(canary) == want:
            break
    for h in held:
        h.close()
    if len(canary) < want:
        raise SystemExit(f"spoof: {len(canary)} of {want} connections reached the canary")
    return canary


def still_answer(conns, vip):
    n = 0
    for c in conns:
        try:
            n += ask(c, vip) == "canary"
        except (OSError, ConnectionError):
            pass
    return n


def forge_icmp(a, conns):
    client, cport = conns[0].getsockname()
    quoted = ipv4(client, a.backend, socket.IPPROTO_TCP,
                  tcp(client, a.backend, cport, a.port, TCP_SYN))
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    forms = [(code, src) for code in (3, 4, 1) for src in (a.backend, client)]
    for i in range(a.count):
        code, src = forms[i % len(forms)]
        raw.sendto(ipv4(src, a.vip, socket.IPPROTO_ICMP, icmp_unreach(code, quoted)), (a.vip, 0))
        time.sleep(1 / a.rate)
    return a.count


def forge_rst(a, conns):
    raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    raw.bind((a.dev, 0))
    own_mac = raw.getsockname()[4]
    eth = bytes.fromhex(a.mac.replace(":", "")) + own_mac + b"\x08\x00"
    for c in conns:
        client, cport = c.getsockname()
        seg = tcp(a.backend, client, a.port, cport, TCP_RST | TCP_ACK)
        raw.send(eth + ipv4(a.backend, client, socket.IPPROTO_TCP, seg))
    return len(conns)


def syn_flood(a):
    net = ipaddress.ip_network(a.src)
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    first, size = int(net.network_address), net.num_addresses
    for _ in range(a.count):
        src = str(ipaddress.ip_address(first + random.randrange(1, size - 1)))
        seg = tcp(src, a.vip, random.randrange(1024, 65536), 80, TCP_SYN,
                  seq=random.getrandbits(32))
        raw.sendto(ipv4(src, a.vip, socket.IPPROTO_TCP, seg), (a.vip, 0))
    return a.count


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mode", choices=["icmp", "rst", "synflood"])
    ap.add_argument("vip")
    ap.add_argument("backend", nargs="?")
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--count", type=int, default=150)
    ap.add_argument("--rate", type=float, default=50)
    ap.add_argument("--conns", type=int, default=8)
    ap.add_argument("--dev")
    ap.add_argument("--mac")
    ap.add_argument("--src")
    a = ap.parse_args()
    if a.mode == "rst" and not (a.dev and a.mac):
        ap.error("rst needs --dev and --mac")
    if a.mode == "synflood":
        if not a.src:
            ap.error("synflood needs --src")
        print(json.dumps({"mode": a.mode, "sent": syn_flood(a)}))
        return 0
    if not a.backend:
        ap.error(f"{a.mode} needs BACKEND")

    conns = canary_connections(a.vip, 1 if a.mode == "icmp" else a.conns)
    sent = forge_icmp(a, conns) if a.mode == "icmp" else forge_rst(a, conns)
    time.sleep(0.2)
    answered = still_answer(conns, a.vip)
    print(json.dumps({"mode": a.mode, "sent": sent, "conns": len(conns), "answered": answered}))
    return 0 if answered == len(conns) else 1


if __name__ == "__main__":
    sys.exit(main())
