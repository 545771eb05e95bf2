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

static __always_inline __u32 l3_len(const struct pkt *p, const bool v4)
{
	if (v4)
		return bpf_ntohs(p->ip4->tot_len);
	return bpf_ntohs(p->ip6->payload_len) + sizeof(struct ipv6hdr);
}

static __always_inline void fib_params_fill(struct bpf_fib_lookup *fib, const struct pkt *p,
					    __u32 ifindex, const bool v4)
{
	fib->ifindex = ifindex;
	fib->l4_protocol = p->key.proto;
	fib->sport = bpf_htons(p->key.sport);
	fib->dport = *((__u16 *)p->l4 + 1);
	fib->tot_len = l3_len(p, v4);
	if (v4) {
		fib->family = AF_INET;
		fib->tos = p->ip4->tos;
		fib->ipv4_src = p->ip4->saddr;
		fib->ipv4_dst = p->ip4->daddr;
	} else {
		fib->family = AF_INET6;
		fib->flowinfo = *(__be32 *)p->ip6 & IPV6_FLOWINFO_MASK;
		__builtin_memcpy(fib->ipv6_src, &p->ip6->saddr, 16);
		__builtin_memcpy(fib->ipv6_dst, &p->ip6->daddr, 16);
	}
}

/* Rewrites MACs and TTL for a packet this program sends out itself, and counts how. */
static __always_inline int fwd_out(struct xdp_md *ctx, struct pkt *p, __u32 egress,
				   const __u8 *dmac, const __u8 *smac, struct ver_stats *vs,
				   const bool v4)
{
	int act = XDP_TX;

	if (ttl_of(p, v4) <= 1) {
		vs->fwd_stack++;	/* the stack sends the ICMP time-exceeded */
		return XDP_PASS;
	}
	if (egress != ctx->ingress_ifindex) {
		/* Lookup failure returns the flags' low bits: XDP_PASS, packet unchanged. */
		act = bpf_redirect_map(&tx_ports, egress, XDP_PASS);
		if (act != XDP_REDIRECT) {
			vs->redirect_fail++;
			return XDP_PASS;
		}
		vs->fwd_redirect++;
	} else {
		vs->fwd_tx++;
	}
	ttl_decrement(p, v4);
	__builtin_memcpy(p->eth->h_dest, dmac, ETH_ALEN);
	__builtin_memcpy(p->eth->h_source, smac, ETH_ALEN);
	return act;
}

static __always_inline bool addr_equal(const __u8 *a, const __u8 *b)
{
	const __u64 *x = (const __u64 *)a, *y = (const __u64 *)b;

	return x[0] == y[0] && x[1] == y[1];
}

/* The cached answer for this backend and ingress, if it is still fresh. */
static __always_inline struct fib_cache_entry *fib_cached(struct xdp_md *ctx,
							  const struct pkt *p,
							  const struct flow_val *fv, __u32 idx,
							  __u64 now, const bool v4)
{
	struct fib_cache_entry *fc = bpf_map_lookup_elem(&fib_cache, &idx);

	if (!fc || fc->kind == CANARY_FIB_NONE || now >= fc->expires_ns ||
	    fc->ingress != ctx->ingress_ifindex || !addr_equal(fc->addr, fv->nat_addr))
		return NULL;
	if (fc->kind == CANARY_FIB_FWD && l3_len(p, v4) > fc->fits_len)
		return NULL;	/* the full lookup checks it against the MTU */
	return fc;
}

static __always_inline void fib_remember(struct fib_cache_entry *fc, struct xdp_md *ctx,
					 const __u8 *addr, const struct bpf_fib_lookup *fib,
					 __u8 kind, __u64 now)
{
	if (!fc)
		return;
	__builtin_memcpy(fc->addr, addr, 16);
	fc->expires_ns = now + CANARY_FIB_CACHE_NS;
	fc->ingress = ctx->ingress_ifindex;
	fc->egress = fib->ifindex;
	/* Recent kernels report the route MTU here on success, older ones leave tot_len. */
	fc->fits_len = fib->mtu_result;
	__builtin_memcpy(fc->dmac, fib->dmac, ETH_ALEN);
	__builtin_memcpy(fc->smac, fib->smac, ETH_ALEN);
	fc->kind = kind;
}

/*
 * Asks the FIB where the packet's destination is, and acts on it. Only answers that stay true
 * for a while are remembered in @fc (when given): local, forward. A missing neighbour or route
 * is asked again every packet. *@egress: the interface the packet leaves by (untouched when
 * the stack takes it).
 */
static __always_inline int fwd_by_fib(struct xdp_md *ctx, struct pkt *p, struct ver_stats *vs,
				      struct fib_cache_entry *fc, const __u8 *addr, __u64 now,
				      __u32 *egress, const bool v4)
{
	struct bpf_fib_lookup fib = {};
	long rc;

	fib_params_fill(&fib, p, ctx->ingress_ifindex, v4);
	rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
	switch (rc) {
	case BPF_FIB_LKUP_RET_SUCCESS:
		fib_remember(fc, ctx, addr, &fib, CANARY_FIB_FWD, now);
		*egress = fib.ifindex;
		return fwd_out(ctx, p, fib.ifindex, fib.dmac, fib.smac, vs, v4);
	case BPF_FIB_LKUP_RET_NOT_FWDED:
		fib_remember(fc, ctx, addr, &fib, CANARY_FIB_LOCAL, now);
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

/* The route of a tagged frame belongs to its VLAN subinterface: let the stack decide. */
static __always_inline bool fwd_leave_to_stack(const struct pkt *p, struct ver_stats *vs)
{
	if (!p->vlan_tags)
		return false;
	vs->fwd_stack++;
	return true;
}

/* @be_idx is the backend's be_index(), which picks its fib_cache slot; *@egress as above. */
static __always_inline int fwd_to_backend(struct xdp_md *ctx, struct pkt *p,
					  const struct flow_val *fv, __u32 be_idx,
					  struct ver_stats *vs, __u32 *egress, const bool v4)
{
	__u32 idx = be_idx & (CANARY_FIB_CACHE_SLOTS - 1);
	__u64 now = bpf_ktime_get_coarse_ns();
	struct fib_cache_entry *fc;

	if (fwd_leave_to_stack(p, vs))
		return XDP_PASS;
	fc = fib_cached(ctx, p, fv, idx, now, v4);
	if (fc && fc->kind == CANARY_FIB_LOCAL) {
		vs->fwd_local++;
		return XDP_PASS;
	}
	if (fc) {
		*egress = fc->egress;
		return fwd_out(ctx, p, fc->egress, fc->dmac, fc->smac, vs, v4);
	}
	fc = bpf_map_lookup_elem(&fib_cache, &idx);
	return fwd_by_fib(ctx, p, vs, fc, fv->nat_addr, now, egress, v4);
}

/* Replies go to clients, too many to cache for: one FIB lookup each. */
static __always_inline int fwd_to_client(struct xdp_md *ctx, struct pkt *p, struct ver_stats *vs,
					 const bool v4)
{
	__u32 egress;

	if (fwd_leave_to_stack(p, vs))
		return XDP_PASS;
	return fwd_by_fib(ctx, p, vs, NULL, NULL, 0, &egress, v4);
}

#endif /* XDP_CANARY_FWD_H */
