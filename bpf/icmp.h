/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ICMP "destination unreachable" about a flow through the splitter: the error quotes the packet
 * the backend (or a router before it) could not take, client to backend after the rewrite, so
 * the quoted tuple, turned around, is the flow's reply entry.
 */
#ifndef XDP_CANARY_ICMP_H
#define XDP_CANARY_ICMP_H

#include "parse.h"
#include "svc.h"

#define ICMP_DEST_UNREACH	3
#define ICMPV6_DEST_UNREACH	1
#define ICMP_HDR_LEN		8

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

static __always_inline bool icmp4_quoted_flow(const struct pkt *p, struct flow_key *rk)
{
	const __u8 *ic = p->l4;
	const struct iphdr *in = p->l4 + ICMP_HDR_LEN;

	if ((const void *)(in + 1) > p->data_end || ic[0] != ICMP_DEST_UNREACH || in->ihl < 5)
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
	vs = ver_stats_of(rev->svc_id, rev->version);
	if (vs)
		vs->icmp_unreach++;
}

#endif /* XDP_CANARY_ICMP_H */
