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

/*
 * The lookup is made before the packet is rewritten (TC's checksum helpers would leave its
 * pointers stale): @addr and @port are what the rewrite will put in, at the destination (@dst,
 * towards a backend) or the source (a reply, from the VIP). TC leaves tot_len 0 so that the
 * kernel checks the skb itself against the route's MTU, which also knows GSO packets.
 */
static __always_inline void fib_params_fill(struct bpf_fib_lookup *fib, const struct pkt *p,
					    __u32 ifindex, const __u8 *addr, __u16 port,
					    const bool dst, const bool v4, const bool tc)
{
	const __u16 *ports = p->l4;

	fib->ifindex = ifindex;
	fib->l4_protocol = p->key.proto;
	fib->sport = dst ? ports[0] : bpf_htons(port);
	fib->dport = dst ? bpf_htons(port) : ports[1];
	fib->tot_len = tc ? 0 : l3_len(p, v4);
	if (v4) {
		fib->family = AF_INET;
		fib->tos = p->ip4->tos;
		fib->ipv4_src = dst ? p->ip4->saddr : *(__be32 *)&addr[12];
		fib->ipv4_dst = dst ? *(__be32 *)&addr[12] : p->ip4->daddr;
	} else {
		fib->family = AF_INET6;
		fib->flowinfo = *(__be32 *)p->ip6 & IPV6_FLOWINFO_MASK;
		__builtin_memcpy(fib->ipv6_src, dst ? (const __u8 *)&p->ip6->saddr : addr, 16);
		__builtin_memcpy(fib->ipv6_dst, dst ? addr : (const __u8 *)&p->ip6->daddr, 16);
	}
}

/* The interface a packet came in by, in either hook's context. */
static __always_inline __u32 hook_ifindex(void *ctx, const bool tc)
{
	if (tc)
		return ((struct __sk_buff *)ctx)->ifindex;
	return ((struct xdp_md *)ctx)->ingress_ifindex;
}

/*
 * Rewrites MACs and TTL for a packet this program sends out itself, and counts how. XDP sends
 * it back out (XDP_TX) or redirects it through tx_ports; TC redirects it to the egress of
 * either interface, which needs no map: the core's XDP_REDIRECT stands for TC_ACT_REDIRECT.
 */
static __always_inline int fwd_out(void *ctx, struct pkt *p, __u32 egress, const __u8 *dmac,
				   const __u8 *smac, struct ver_stats *vs, const bool v4,
				   const bool tc)
{
	bool same = egress == hook_ifindex(ctx, tc);
	int act = XDP_TX;

	if (ttl_of(p, v4) <= 1) {
		vs->fwd_stack++;	/* the stack sends the ICMP time-exceeded */
		return XDP_PASS;
	}
	if (tc) {
		bpf_redirect(egress, 0);
		act = XDP_REDIRECT;
	} else if (!same) {
		/* Lookup failure returns the flags' low bits: XDP_PASS, packet unchanged. */
		act = bpf_redirect_map(&tx_ports, egress, XDP_PASS);
		if (act != XDP_REDIRECT) {
			vs->redirect_fail++;
			return XDP_PASS;
		}
	}
	if (same)
		vs->fwd_tx++;
	else
		vs->fwd_redirect++;
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

/*
 * The cached answer for this backend and ingress, if it is still fresh. A GSO packet (TC) is
 * cut to the sender's segment size on its way out, so its length says nothing about the MTU.
 */
static __always_inline struct fib_cache_entry *fib_cached(const struct pkt *p,
							  const struct flow_val *fv, __u32 idx,
							  __u32 ingress, __u64 now, const bool v4)
{
	struct fib_cache_entry *fc = bpf_map_lookup_elem(&fib_cache, &idx);

	if (!fc || fc->kind == CANARY_FIB_NONE || now >= fc->expires_ns ||
	    fc->ingress != ingress || !addr_equal(fc->addr, fv->nat_addr))
		return NULL;
	if (fc->kind == CANARY_FIB_FWD && !p->gso && l3_len(p, v4) > fc->fits_len)
		return NULL;	/* the full lookup checks it against the MTU */
	return fc;
}

static __always_inline void fib_remember(struct fib_cache_entry *fc, __u32 ingress,
					 const __u8 *addr, const struct bpf_fib_lookup *fib,
					 __u8 kind, __u64 now)
{
	if (!fc)
		return;
	__builtin_memcpy(fc->addr, addr, 16);
	fc->expires_ns = now + CANARY_FIB_CACHE_NS;
	fc->ingress = ingress;
	fc->egress = fib->ifindex;
	/* Recent kernels report the route MTU here on success, older ones leave tot_len. */
	fc->fits_len = fib->mtu_result;
	__builtin_memcpy(fc->dmac, fib->dmac, ETH_ALEN);
	__builtin_memcpy(fc->smac, fib->smac, ETH_ALEN);
	fc->kind = kind;
}

/*
 * Asks the FIB where the packet's destination is (as @to will rewrite it), and acts on it. Only
 * answers that stay true for a while are remembered in @fc (when given): local, forward. A
 * missing neighbour or route is asked again every packet. *@egress: the interface the packet
 * leaves by (untouched when the stack takes it).
 */
static __always_inline int fwd_by_fib(void *ctx, struct pkt *p, struct ver_stats *vs,
				      struct fib_cache_entry *fc, const struct nat_to *to,
				      __u64 now, __u32 *egress, const bool v4, const bool tc)
{
	__u32 ingress = hook_ifindex(ctx, tc), room = CONN_ROOM_INGRESS;
	struct bpf_fib_lookup *fib;
	struct conn_room *r;
	long rc;

	/* In the room, not on the stack, which the rest of the path needs. */
	r = bpf_map_lookup_elem(&conn_room, &room);
	if (!r)
		return XDP_PASS;
	fib = &r->fib;
	__builtin_memset(fib, 0, sizeof(*fib));
	fib_params_fill(fib, p, ingress, to->addr, to->port, to->dst, v4, tc);
	rc = bpf_fib_lookup(ctx, fib, sizeof(*fib), 0);
	switch (rc) {
	case BPF_FIB_LKUP_RET_SUCCESS:
		fib_remember(fc, ingress, to->addr, fib, CANARY_FIB_FWD, now);
		*egress = fib->ifindex;
		return fwd_out(ctx, p, fib->ifindex, fib->dmac, fib->smac, vs, v4, tc);
	case BPF_FIB_LKUP_RET_NOT_FWDED:
		fib_remember(fc, ingress, to->addr, fib, CANARY_FIB_LOCAL, now);
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

/*
 * The route of a tagged frame belongs to its VLAN subinterface: let the stack decide. A
 * multi-buffer frame goes to the stack too: Linux 6.1's veth drops one sent by XDP_TX or a
 * redirect, and the stack forwards it on every kernel.
 */
static __always_inline bool fwd_leave_to_stack(const struct pkt *p, struct ver_stats *vs,
					       const bool tc)
{
	bool frags = !tc && p->len > p->data_end - p->data;

	if (!p->tagged && !frags)
		return false;
	vs->fwd_stack++;
	return true;
}

/* @be_idx is the backend's be_index(), which picks its fib_cache slot; *@egress as above. */
static __always_inline int fwd_to_backend(void *ctx, struct pkt *p, const struct flow_val *fv,
					  __u32 be_idx, struct ver_stats *vs, __u32 *egress,
					  const bool v4, const bool tc)
{
	struct nat_to to = { .addr = fv->nat_addr, .port = fv->nat_port, .dst = true };
	__u32 idx = be_idx & (CANARY_FIB_CACHE_SLOTS - 1);
	__u64 now = bpf_ktime_get_coarse_ns();
	struct fib_cache_entry *fc;

	if (fwd_leave_to_stack(p, vs, tc))
		return XDP_PASS;
	fc = fib_cached(p, fv, idx, hook_ifindex(ctx, tc), now, v4);
	if (fc && fc->kind == CANARY_FIB_LOCAL) {
		vs->fwd_local++;
		return XDP_PASS;
	}
	if (fc) {
		*egress = fc->egress;
		return fwd_out(ctx, p, fc->egress, fc->dmac, fc->smac, vs, v4, tc);
	}
	fc = bpf_map_lookup_elem(&fib_cache, &idx);
	return fwd_by_fib(ctx, p, vs, fc, &to, now, egress, v4, tc);
}

/* Replies go to clients, too many to cache for: one FIB lookup each. */
static __always_inline int fwd_to_client(void *ctx, struct pkt *p, struct ver_stats *vs,
					 const struct flow_key *fk, const bool v4, const bool tc)
{
	struct nat_to to = { .addr = fk->dst, .port = fk->dport, .dst = false };
	__u32 egress;

	if (fwd_leave_to_stack(p, vs, tc))
		return XDP_PASS;
	return fwd_by_fib(ctx, p, vs, NULL, &to, 0, &egress, v4, tc);
}

#endif /* XDP_CANARY_FWD_H */
