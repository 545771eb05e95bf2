/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Destination NAT towards the chosen backend, with incremental checksum updates. */
#ifndef XDP_CANARY_NAT_H
#define XDP_CANARY_NAT_H

#include "csum.h"
#include "parse.h"

/* What a rewrite puts in: the new address and port, and which end they go to. */
struct nat_to {
	const __u8 *addr;
	__u16 port;
	bool dst;		/* towards a backend; else a reply, from the VIP */
};

/*
 * Rewrites the destination (@dst, towards a backend) or the source (replies, back to the VIP)
 * address and port. The L4 checksum covers the pseudo-header, so it takes the address change as
 * well as the port change. An IPv4 UDP checksum of zero means "none" and stays zero; a computed
 * UDP checksum of zero is sent as 0xffff (RFC 768).
 */
static __always_inline void nat_rewrite(struct pkt *p, const __u8 *addr, __u16 port,
					const bool dst, const bool v4)
{
	__u16 *l4port = (__u16 *)p->l4 + (dst ? 1 : 0);	/* same offsets in TCP and UDP */
	__u16 new_port = bpf_htons(port);
	bool udp = p->key.proto == IPPROTO_UDP;
	__u32 delta;

	if (v4) {
		__be32 *a = dst ? &p->ip4->daddr : &p->ip4->saddr;
		__be32 new_addr = *(__be32 *)&addr[12];

		delta = csum_delta(0, (__u16 *)a, (__u16 *)&new_addr, 2);
		p->ip4->check = csum_apply(p->ip4->check, delta);
		*a = new_addr;
	} else {
		struct in6_addr *a = dst ? &p->ip6->daddr : &p->ip6->saddr;

		delta = csum_delta(0, (__u16 *)a, (__u16 *)addr, 8);
		__builtin_memcpy(a, addr, 16);
	}
	delta = csum_delta(delta, l4port, &new_port, 1);
	*l4port = new_port;

	if (udp && v4 && *p->l4_csum == 0)
		return;
	*p->l4_csum = csum_apply_l4(*p->l4_csum, delta, udp);
}

/* A router's TTL decrement, for packets this program forwards itself. */
static __always_inline void ttl_decrement(struct pkt *p, const bool v4)
{
	if (v4) {
		__u16 old = *(__u16 *)&p->ip4->ttl, new;

		p->ip4->ttl--;
		new = *(__u16 *)&p->ip4->ttl;
		p->ip4->check = csum_apply(p->ip4->check, csum_delta(0, &old, &new, 1));
	} else {
		p->ip6->hop_limit--;
	}
}

static __always_inline __u8 ttl_of(const struct pkt *p, const bool v4)
{
	return v4 ? p->ip4->ttl : p->ip6->hop_limit;
}

#endif /* XDP_CANARY_NAT_H */
