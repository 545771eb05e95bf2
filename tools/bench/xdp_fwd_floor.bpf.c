// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The HTTP benchmark's floor: the least an XDP forwarder does on these veths. An IPv4 packet is
 * routed by the FIB, its TTL decremented and its MACs set, and it is redirected; no split, no
 * NAT, no flow table, no counters. Whatever xdp-canary costs beyond this is its own work.
 */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define FLOOR_AF_INET	2
#define FLOOR_ETH_P_IP	0x0800

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* RFC 1624 incremental update for a TTL one lower, as the kernel's ip_decrease_ttl() does. */
static __always_inline void ttl_decrement(struct iphdr *ip)
{
	__u32 check = ip->check;

	check += bpf_htons(0x0100);
	ip->check = (__u16)(check + (check >= 0xffff));
	ip->ttl--;
}

SEC("xdp")
int xdp_fwd_floor(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct bpf_fib_lookup fib = {};
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);

	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(FLOOR_ETH_P_IP) || ip->ttl <= 1)
		return XDP_PASS;
	fib.family = FLOOR_AF_INET;
	fib.tos = ip->tos;
	fib.l4_protocol = ip->protocol;
	fib.tot_len = bpf_ntohs(ip->tot_len);
	fib.ipv4_src = ip->saddr;
	fib.ipv4_dst = ip->daddr;
	fib.ifindex = ctx->ingress_ifindex;
	if (bpf_fib_lookup(ctx, &fib, sizeof(fib), 0) != BPF_FIB_LKUP_RET_SUCCESS)
		return XDP_PASS;	/* local, no neighbour yet, ...: the stack does it */
	ttl_decrement(ip);
	__builtin_memcpy(eth->h_dest, fib.dmac, sizeof(eth->h_dest));
	__builtin_memcpy(eth->h_source, fib.smac, sizeof(eth->h_source));
	return bpf_redirect(fib.ifindex, 0);
}
