/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * NAT in TC, with the kernel's checksum helpers. Packets of local senders usually carry
 * CHECKSUM_PARTIAL (the L4 checksum field holds the pseudo-header's sum; the NIC or the stack
 * finishes it later), packets from a NIC may carry CHECKSUM_COMPLETE (skb->csum must follow every
 * change): the helpers know which, and with BPF_F_PSEUDO_HDR change for the address only what
 * the packet's kind needs. No offload has to be turned off.
 */
#ifndef XDP_CANARY_TC_NAT_H
#define XDP_CANARY_TC_NAT_H

#include "nat.h"
#include "parse.h"

#define TC_ACT_OK	0
#define TC_ACT_SHOT	2
#define TC_ACT_REDIRECT	7
#define TC_PULL_LEN	160	/* L2 + 2 VLAN tags + IPv6 + TCP with options + a status line */

static __always_inline long tc_nat4(struct __sk_buff *skb, const struct pkt *p, __u32 csum_off,
				    __u64 udp, const struct nat_to *to)
{
	__u32 ip_off = (void *)p->ip4 - p->data;
	__u32 addr_off = ip_off + (to->dst ? offsetof(struct iphdr, daddr) :
					      offsetof(struct iphdr, saddr));
	__be32 old = to->dst ? p->ip4->daddr : p->ip4->saddr, new = *(__be32 *)&to->addr[12];
	long err;

	err = bpf_l4_csum_replace(skb, csum_off, old, new, BPF_F_PSEUDO_HDR | udp | sizeof(new));
	if (!err)
		err = bpf_l3_csum_replace(skb, ip_off + offsetof(struct iphdr, check), old, new,
					  sizeof(new));
	if (!err)
		err = bpf_skb_store_bytes(skb, addr_off, &new, sizeof(new), 0);
	return err;
}

static __always_inline long tc_nat6(struct __sk_buff *skb, const struct pkt *p, __u32 csum_off,
				    __u64 udp, const struct nat_to *to)
{
	const struct in6_addr *a = to->dst ? &p->ip6->daddr : &p->ip6->saddr;
	__u32 addr_off = (void *)a - p->data;
	__u32 old[4], new[4];
	long err = 0;

	__builtin_memcpy(old, a, 16);
	__builtin_memcpy(new, to->addr, 16);
#pragma unroll
	for (int i = 0; i < 4; i++)
		if (!err)
			err = bpf_l4_csum_replace(skb, csum_off, old[i], new[i],
						  BPF_F_PSEUDO_HDR | udp | sizeof(__u32));
	if (!err)
		err = bpf_skb_store_bytes(skb, addr_off, new, 16, 0);
	return err;
}

/*
 * The rewrite of nat_rewrite(), for an skb. Returns 0, or the first helper's error: the packet
 * may then be half rewritten, and must not leave as it is. Every helper invalidates the
 * packet's pointers: whatever is read of @p is read before the first.
 */
static __always_inline long tc_nat(struct __sk_buff *skb, const struct pkt *p,
				   const struct nat_to *to, const bool v4)
{
	__u32 port_off = p->l4 - p->data + (to->dst ? 2 : 0);	/* same in TCP and UDP */
	__u32 csum_off = (void *)p->l4_csum - p->data;
	__u64 udp = p->key.proto == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0;
	__be16 old_port = *(__be16 *)((void *)p->l4 + (to->dst ? 2 : 0));
	__be16 new_port = bpf_htons(to->port);
	long err;

	err = v4 ? tc_nat4(skb, p, csum_off, udp, to) : tc_nat6(skb, p, csum_off, udp, to);
	if (!err)
		err = bpf_l4_csum_replace(skb, csum_off, old_port, new_port, udp | sizeof(__u16));
	if (!err)
		err = bpf_skb_store_bytes(skb, port_off, &new_port, sizeof(new_port), 0);
	return err;
}

#endif /* XDP_CANARY_TC_NAT_H */
