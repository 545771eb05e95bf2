/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ICMP "destination unreachable" about a flow through the splitter: the error quotes the packet
 * the backend (or a router before it) could not take, client to backend after the rewrite, so
 * the quoted tuple, turned around, is the flow's reply entry.
 *
 * These counts judge the canary, and anyone can send an ICMP error, so one counts only when its
 * sender could know: "port (or protocol) unreachable" only from the backend's own address, "net
 * or host unreachable" only from someone other than the client, and only once a connection.
 * Fragmentation needed and the other codes say nothing about the backend's health.
 */
#ifndef XDP_CANARY_ICMP_H
#define XDP_CANARY_ICMP_H

#include "parse.h"
#include "svc.h"

#define ICMP_DEST_UNREACH	3
#define ICMPV6_DEST_UNREACH	1
#define ICMP_HDR_LEN		8
#define ICMP_NET_UNREACH	0
#define ICMP_HOST_UNREACH	1
#define ICMP_PROT_UNREACH	2
#define ICMP_PORT_UNREACH	3
#define ICMPV6_NOROUTE		0
#define ICMPV6_ADDR_UNREACH	3
#define ICMPV6_PORT_UNREACH	4

static __always_inline bool addr6_equal(const struct in6_addr *a, const struct in6_addr *b)
{
	const __u32 *x = (const __u32 *)a, *y = (const __u32 *)b;

	return !((x[0] ^ y[0]) | (x[1] ^ y[1]) | (x[2] ^ y[2]) | (x[3] ^ y[3]));
}

/* The quoted L4 ports, turned around into @rk. */
static __always_inline bool icmp_quoted_ports(struct flow_key *rk, const __u16 *ports,
					      const void *data_end)
{
	if ((const void *)(ports + 2) > data_end)
		return false;
	rk->sport = bpf_ntohs(ports[1]);
	rk->dport = bpf_ntohs(ports[0]);
	return true;
}

/* Whether the sender of @code could know it; @from_backend, @from_client: its outer source. */
static __always_inline bool icmp_plausible(bool endpoint_code, bool path_code, bool from_backend,
					   bool from_client)
{
	if (endpoint_code)
		return from_backend;
	return path_code && !from_client;
}

static __always_inline bool icmp4_quoted_flow(const struct pkt *p, struct flow_key *rk)
{
	const __u8 *ic = p->l4;
	const struct iphdr *in = p->l4 + ICMP_HDR_LEN;
	__u8 code;

	if ((const void *)(in + 1) > p->data_end || ic[0] != ICMP_DEST_UNREACH || in->ihl < 5)
		return false;
	code = ic[1];
	if (!icmp_plausible(code == ICMP_PROT_UNREACH || code == ICMP_PORT_UNREACH,
			    code == ICMP_NET_UNREACH || code == ICMP_HOST_UNREACH,
			    p->ip4->saddr == in->daddr, p->ip4->saddr == in->saddr))
		return false;
	if (in->protocol != IPPROTO_TCP && in->protocol != IPPROTO_UDP)
		return false;
	addr_from_v4(rk->src, in->daddr);
	addr_from_v4(rk->dst, in->saddr);
	rk->proto = in->protocol;
	return icmp_quoted_ports(rk, (const void *)in + in->ihl * 4, p->data_end);
}

static __always_inline bool icmp6_quoted_flow(const struct pkt *p, struct flow_key *rk)
{
	const __u8 *ic = p->l4;
	const struct ipv6hdr *in = p->l4 + ICMP_HDR_LEN;

	if ((const void *)(in + 1) > p->data_end || ic[0] != ICMPV6_DEST_UNREACH)
		return false;
	if (!icmp_plausible(ic[1] == ICMPV6_PORT_UNREACH,
			    ic[1] == ICMPV6_NOROUTE || ic[1] == ICMPV6_ADDR_UNREACH,
			    addr6_equal(&p->ip6->saddr, &in->daddr),
			    addr6_equal(&p->ip6->saddr, &in->saddr)))
		return false;
	if (in->nexthdr != IPPROTO_TCP && in->nexthdr != IPPROTO_UDP)
		return false;
	__builtin_memcpy(rk->src, &in->daddr, 16);
	__builtin_memcpy(rk->dst, &in->saddr, 16);
	rk->proto = in->nexthdr;
	return icmp_quoted_ports(rk, (const void *)(in + 1), p->data_end);
}

/* Counts the error against the version of the flow it is about, if it is one of ours. */
static __always_inline void icmp_unreach_seen(const struct pkt *p, const bool v4)
{
	struct flow_key rk = {};
	struct flow_val *rev;
	struct ver_stats *vs;
	bool quoted = v4 ? icmp4_quoted_flow(p, &rk) : icmp6_quoted_flow(p, &rk);

	if (!quoted)
		return;
	rev = bpf_map_lookup_elem(&flows, &rk);
	if (!rev || !(rev->flags & CANARY_FLOW_REPLY))
		return;
	if (__sync_fetch_and_or(&rev->flags, CANARY_FLOW_ICMP_SEEN) & CANARY_FLOW_ICMP_SEEN)
		return;
	vs = ver_stats_of(rev->svc_id, rev->version);
	if (vs)
		vs->icmp_unreach++;
}

#endif /* XDP_CANARY_ICMP_H */
