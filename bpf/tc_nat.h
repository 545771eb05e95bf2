/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Source NAT of a reply in TC, with the kernel's checksum helpers. Locally generated packets
 * usually carry CHECKSUM_PARTIAL (the checksum is finished by the NIC or the stack later); the
 * helpers with BPF_F_PSEUDO_HDR adjust only the pseudo-header part then, which is what such a
 * packet needs. No offload has to be turned off.
 */
#ifndef XDP_CANARY_TC_NAT_H
#define XDP_CANARY_TC_NAT_H

#include "parse.h"

#define TC_ACT_OK	0
#define TC_ACT_SHOT	2
#define TC_PULL_LEN	160	/* L2 + 2 VLAN tags + IPv6 + TCP with options + a status line */

/*
 * Returns 0, or the first helper's error: the packet may then be half rewritten, and must not
 * leave as it is.
 */
static __always_inline long tc_snat(struct __sk_buff *skb, const struct pkt *p,
				    const __u8 *vip, __u16 vport, const bool v4)
{
	__u32 l4_off = p->l4 - p->data, csum_off = (void *)p->l4_csum - p->data;
	__u64 udp = p->key.proto == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0;
	__be16 old_port = bpf_htons(p->key.sport), new_port = bpf_htons(vport);
	__u32 old_addr[4], new_addr[4];
	long err;

	/* Read everything first: every helper below invalidates packet pointers. */
	if (v4) {
		__u32 ip_off = (void *)p->ip4 - p->data;

		old_addr[0] = p->ip4->saddr;
		new_addr[0] = *(__u32 *)&vip[12];
		err = bpf_l4_csum_replace(skb, csum_off, old_addr[0], new_addr[0],
					  BPF_F_PSEUDO_HDR | udp | sizeof(__u32));
		if (!err)
			err = bpf_l3_csum_replace(skb, ip_off + offsetof(struct iphdr, check),
						  old_addr[0], new_addr[0], sizeof(__u32));
		if (!err)
			err = bpf_skb_store_bytes(skb, ip_off + offsetof(struct iphdr, saddr),
						  &new_addr[0], sizeof(__u32), 0);
	} else {
		__u32 src_off = (void *)&p->ip6->saddr - p->data;

		__builtin_memcpy(old_addr, &p->ip6->saddr, 16);
		__builtin_memcpy(new_addr, vip, 16);
		err = 0;
#pragma unroll
		for (int i = 0; i < 4; i++)
			if (!err)
				err = bpf_l4_csum_replace(skb, csum_off, old_addr[i], new_addr[i],
							  BPF_F_PSEUDO_HDR | udp | sizeof(__u32));
		if (!err)
			err = bpf_skb_store_bytes(skb, src_off, new_addr, 16, 0);
	}
	if (!err)
		err = bpf_l4_csum_replace(skb, csum_off, old_port, new_port, udp | sizeof(__u16));
	if (!err)
		err = bpf_skb_store_bytes(skb, l4_off, &new_port, sizeof(new_port), 0);
	return err;
}

#endif /* XDP_CANARY_TC_NAT_H */
