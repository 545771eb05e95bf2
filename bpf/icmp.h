/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ICMP errors about a flow through the splitter. An error quotes the packet the backend (or a
 * router before it) could not take, client to backend after the rewrite, so the quoted tuple,
 * turned around, is a reply of the flow's (reply_find).
 *
 * "Destination unreachable" is counted against the flow's version. These counts judge the
 * canary, and anyone can send an ICMP error, so one counts only when its sender could know:
 * "port (or protocol) unreachable" only from the backend's own address, "net or host
 * unreachable" only from someone other than the client, and only once a connection.
 *
 * "Fragmentation needed" (ICMPv6 "packet too big") says nothing about the backend's health: it
 * is the path's MTU, which the client must learn. The client never sent to the backend's
 * address, so its stack would not match the error to its socket: the quoted packet is turned
 * back into what the client sent (VIP and service port, checksums with them) and the error
 * goes on to the client.
 */
#ifndef XDP_CANARY_ICMP_H
#define XDP_CANARY_ICMP_H

#include "conn.h"
#include "csum.h"
#include "parse.h"
#include "svc.h"

#define ICMP_DEST_UNREACH	3
#define ICMPV6_DEST_UNREACH	1
#define ICMPV6_PKT_TOOBIG	2
#define ICMP_HDR_LEN		8
#define ICMP_NET_UNREACH	0
#define ICMP_HOST_UNREACH	1
#define ICMP_PROT_UNREACH	2
#define ICMP_PORT_UNREACH	3
#define ICMP_FRAG_NEEDED	4
#define ICMPV6_NOROUTE		0
#define ICMPV6_ADDR_UNREACH	3
#define ICMPV6_PORT_UNREACH	4
#define TCP_CSUM_WORD		8	/* the checksum's offset in 16-bit words */
#define UDP_CSUM_WORD		3

enum icmp_kind {
	ICMP_IGNORED,
	ICMP_UNREACH,		/* counted against the flow's version */
	ICMP_TOO_BIG,		/* rewritten for the client */
};

/* What the quoted packet is: the flow it belongs to, and where its fields are. */
struct icmp_quote {
	struct flow_key rk;	/* the quote turned around: a reply's tuple */
	void *ip;		/* the quoted IP header */
	__u16 *l4;		/* its L4 header: ports, then (if quoted) more */
};

static __always_inline bool addr6_equal(const struct in6_addr *a, const struct in6_addr *b)
{
	const __u32 *x = (const __u32 *)a, *y = (const __u32 *)b;

	return !((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3]));
}

/* Whether the sender of the code could know it; @from_backend, @from_client: its outer source. */
static __always_inline enum icmp_kind icmp_plausible(bool endpoint_code, bool path_code,
						     bool from_backend, bool from_client)
{
	if (endpoint_code)
		return from_backend ? ICMP_UNREACH : ICMP_IGNORED;
	return path_code && !from_client ? ICMP_UNREACH : ICMP_IGNORED;
}

/* The quoted L4 ports, turned around into the reply key. */
static __always_inline bool icmp_quoted_ports(struct icmp_quote *q, __u16 *ports, void *data_end)
{
	if ((void *)(ports + 2) > data_end)
		return false;
	q->l4 = ports;
	q->rk.sport = bpf_ntohs(ports[1]);
	q->rk.dport = bpf_ntohs(ports[0]);
	return true;
}

static __always_inline enum icmp_kind icmp4_quote(const struct pkt *p, struct icmp_quote *q)
{
	const __u8 *ic = p->l4;
	struct iphdr *in = p->l4 + ICMP_HDR_LEN;
	__u8 code;

	if ((void *)(in + 1) > p->data_end || ic[0] != ICMP_DEST_UNREACH || in->ihl < 5)
		return ICMP_IGNORED;
	if (in->protocol != IPPROTO_TCP && in->protocol != IPPROTO_UDP)
		return ICMP_IGNORED;
	addr_from_v4(q->rk.src, in->daddr);
	addr_from_v4(q->rk.dst, in->saddr);
	q->rk.proto = in->protocol;
	q->ip = in;
	if (!icmp_quoted_ports(q, (void *)in + in->ihl * 4, p->data_end))
		return ICMP_IGNORED;
	code = ic[1];
	if (code == ICMP_FRAG_NEEDED)
		return ICMP_TOO_BIG;
	return icmp_plausible(code == ICMP_PROT_UNREACH || code == ICMP_PORT_UNREACH,
			      code == ICMP_NET_UNREACH || code == ICMP_HOST_UNREACH,
			      p->ip4->saddr == in->daddr, p->ip4->saddr == in->saddr);
}

static __always_inline enum icmp_kind icmp6_quote(const struct pkt *p, struct icmp_quote *q)
{
	const __u8 *ic = p->l4;
	struct ipv6hdr *in = p->l4 + ICMP_HDR_LEN;

	if ((void *)(in + 1) > p->data_end)
		return ICMP_IGNORED;
	if (ic[0] != ICMPV6_DEST_UNREACH && ic[0] != ICMPV6_PKT_TOOBIG)
		return ICMP_IGNORED;
	if (in->nexthdr != IPPROTO_TCP && in->nexthdr != IPPROTO_UDP)
		return ICMP_IGNORED;
	__builtin_memcpy(q->rk.src, &in->daddr, 16);
	__builtin_memcpy(q->rk.dst, &in->saddr, 16);
	q->rk.proto = in->nexthdr;
	q->ip = in;
	if (!icmp_quoted_ports(q, (void *)(in + 1), p->data_end))
		return ICMP_IGNORED;
	if (ic[0] == ICMPV6_PKT_TOOBIG)
		return ICMP_TOO_BIG;
	return icmp_plausible(ic[1] == ICMPV6_PORT_UNREACH,
			      ic[1] == ICMPV6_NOROUTE || ic[1] == ICMPV6_ADDR_UNREACH,
			      addr6_equal(&p->ip6->saddr, &in->daddr),
			      addr6_equal(&p->ip6->saddr, &in->saddr));
}

/*
 * The quoted L4 checksum, when the router quoted that much, for a pseudo-header and port change
 * of @delta; returns the change to the ICMP checksum. A UDP checksum of zero means "none".
 */
static __always_inline __u32 icmp_quoted_l4_fix(const struct pkt *p, struct icmp_quote *q,
						__u32 delta)
{
	bool udp = q->rk.proto == IPPROTO_UDP;
	__u16 *check = q->l4 + (udp ? UDP_CSUM_WORD : TCP_CSUM_WORD);
	__u16 old, new;

	if ((void *)(check + 1) > p->data_end)
		return 0;
	old = *check;
	if (udp && old == 0)
		return 0;
	new = csum_apply_l4(old, delta, udp);
	*check = new;
	return csum_delta(0, &old, &new, 1);
}

/*
 * Turns the quoted packet back into the client's own: the backend's address and port become
 * the VIP's (@fk, the flow's forward key). The ICMP checksum covers the whole quote (for ICMPv6
 * also the outer addresses, which stay), so it takes every word that changed.
 */
static __always_inline void icmp_too_big_rewrite(struct pkt *p, struct icmp_quote *q,
						 const struct flow_key *fk, const bool v4)
{
	__u16 *icmp_check = (__u16 *)p->l4 + 1;
	__u16 port = bpf_htons(fk->dport), old_port;
	__u32 delta, icmp_delta;

	if (v4) {
		struct iphdr *in = q->ip;
		__be32 vip = *(__be32 *)&fk->dst[12];
		__u16 old_check = in->check;

		delta = csum_delta(0, (__u16 *)&in->daddr, (__u16 *)&vip, 2);
		in->daddr = vip;
		in->check = csum_apply(old_check, delta);
		icmp_delta = delta + csum_delta(0, &old_check, &in->check, 1);
	} else {
		struct ipv6hdr *in = q->ip;

		delta = csum_delta(0, (__u16 *)&in->daddr, (__u16 *)fk->dst, 8);
		__builtin_memcpy(&in->daddr, fk->dst, 16);
		icmp_delta = delta;
	}
	/* The quoted packet went client to backend: its destination port is the second word. */
	old_port = q->l4[1];
	q->l4[1] = port;
	delta = csum_delta(delta, &old_port, &port, 1);
	icmp_delta = csum_delta(icmp_delta, &old_port, &port, 1);
	icmp_delta += icmp_quoted_l4_fix(p, q, delta);
	*icmp_check = csum_apply(*icmp_check, icmp_delta);
}

/*
 * An ICMP error about one of our flows: counted if plausible, or (path MTU, @rewrite: the XDP
 * path, which owns the packet) rewritten for the client. The packet is passed on either way. @c
 * is room for the flow's reference.
 */
static __always_inline void icmp_seen(struct pkt *p, struct conn_ref *c, __u64 bytes,
				      __u32 ingress, const bool v4, const bool rewrite)
{
	struct icmp_quote q = {};
	enum icmp_kind kind = v4 ? icmp4_quote(p, &q) : icmp6_quote(p, &q);
	struct ver_stats *vs;
	struct flow_val *fe;

	if (kind == ICMP_IGNORED)
		return;
	if (!reply_find(&q.rk, c, rewrite ? CONN_ROOM_INGRESS : CONN_ROOM_EGRESS))
		return;
	if (ingress && !reply_side_ok(conn_ref_val(c), ingress)) {
		count_passed(CANARY_DP_REPLY_WRONG_SIDE, bytes);
		return;
	}
	/*
	 * Established connections only: a SYN is too small for a path's MTU, and a handshake
	 * that fails shows as a SYN timeout.
	 */
	fe = c->fe;
	if (!fe)
		return;
	if (kind == ICMP_TOO_BIG) {
		if (rewrite) {
			icmp_too_big_rewrite(p, &q, c->fk, v4);
			count_passed(CANARY_DP_PMTU_REWRITTEN, bytes);
		}
		return;
	}
	if (__sync_fetch_and_or(&fe->flags, CANARY_FLOW_ICMP_SEEN) & CANARY_FLOW_ICMP_SEEN)
		return;
	vs = ver_stats_of(fe->svc_id, fe->version);
	if (vs)
		vs->icmp_unreach++;
}

#endif /* XDP_CANARY_ICMP_H */
