/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Forwarding a rewritten packet: the kernel's FIB says where the backend is. A local backend
 * goes up the stack; a remote one leaves by XDP_TX or a redirect with the next hop's MAC; every
 * case the program cannot finish itself (no neighbour entry yet, no route, TTL running out, VLAN
 * subinterfaces) is passed to the stack, which knows how, and counted.
 */
#ifndef XDP_CANARY_FWD_H
#define XDP_CANARY_FWD_H

#include "maps.h"
#include "nat.h"
#include "parse.h"

#define AF_INET		2
#define AF_INET6	10
#define IPV6_FLOWINFO_MASK	bpf_htonl(0x0FFFFFFF)

static __always_inline void fib_params_fill(struct bpf_fib_lookup *fib, const struct pkt *p,
					    __u32 ifindex, const bool v4)
{
	fib->ifindex = ifindex;
	fib->l4_protocol = p->key.proto;
	fib->sport = bpf_htons(p->key.sport);
	fib->dport = *((__u16 *)p->l4 + 1);
	if (v4) {
		fib->family = AF_INET;
		fib->tos = p->ip4->tos;
		fib->tot_len = bpf_ntohs(p->ip4->tot_len);
		fib->ipv4_src = p->ip4->saddr;
		fib->ipv4_dst = p->ip4->daddr;
	} else {
		fib->family = AF_INET6;
		fib->flowinfo = *(__be32 *)p->ip6 & IPV6_FLOWINFO_MASK;
		fib->tot_len = bpf_ntohs(p->ip6->payload_len) + sizeof(struct ipv6hdr);
		__builtin_memcpy(fib->ipv6_src, &p->ip6->saddr, 16);
		__builtin_memcpy(fib->ipv6_dst, &p->ip6->daddr, 16);
	}
}

static __always_inline int fwd_out(struct xdp_md *ctx, struct pkt *p,
				   const struct bpf_fib_lookup *fib, struct ver_stats *vs, const bool v4)
{
	int act = XDP_TX;

	if (ttl_of(p, v4) <= 1) {
		vs->fwd_stack++;	/* the stack sends the ICMP time-exceeded */
		return XDP_PASS;
	}
	if (fib->ifindex != ctx->ingress_ifindex) {
		/* Lookup failure returns the flags' low bits: XDP_PASS, packet unchanged. */
		act = bpf_redirect_map(&tx_ports, fib->ifindex, XDP_PASS);
		if (act != XDP_REDIRECT) {
			vs->redirect_fail++;
			return XDP_PASS;
		}
		vs->fwd_redirect++;
	} else {
		vs->fwd_tx++;
	}
	ttl_decrement(p, v4);
	__builtin_memcpy(p->eth->h_dest, fib->dmac, ETH_ALEN);
	__builtin_memcpy(p->eth->h_source, fib->smac, ETH_ALEN);
	return act;
}

static __always_inline int fwd_to_backend(struct xdp_md *ctx, struct pkt *p, struct ver_stats *vs,
					  const bool v4)
{
	struct bpf_fib_lookup fib = {};
	long rc;

	if (p->vlan_tags) {
		/* The route of a tagged frame belongs to its VLAN subinterface: let the stack decide. */
		vs->fwd_stack++;
		return XDP_PASS;
	}
	fib_params_fill(&fib, p, ctx->ingress_ifindex, v4);
	rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
	switch (rc) {
	case BPF_FIB_LKUP_RET_SUCCESS:
		return fwd_out(ctx, p, &fib, vs, v4);
	case BPF_FIB_LKUP_RET_NOT_FWDED:
		vs->fwd_local++;
		return XDP_PASS;
	case BPF_FIB_LKUP_RET_NO_NEIGH:
		vs->no_neigh++;
		return XDP_PASS;
	default:
		vs->fib_fail++;
		return XDP_PASS;
	}
}

#endif /* XDP_CANARY_FWD_H */
