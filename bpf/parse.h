/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Header parsing for the forward path: Ethernet, up to two VLAN tags, IPv4 (with options) or
 * IPv6, then TCP or UDP. Every read is bounds-checked against data_end; a packet that ends
 * early or carries nonsense lengths is reported with the reason it is passed untouched.
 */
#ifndef XDP_CANARY_PARSE_H
#define XDP_CANARY_PARSE_H

#include "canary_abi.h"

#define ETH_ALEN	6
#define ETH_P_IP	0x0800
#define ETH_P_IPV6	0x86DD
#define ETH_P_8021Q	0x8100
#define ETH_P_8021AD	0x88A8
#define IP_MF		0x2000
#define IP_OFFSET	0x1fff
#define NEXTHDR_FRAG	44
#define IPPROTO_ICMP6	58
#define TCP_FIN		0x01
#define TCP_SYN		0x02
#define TCP_RST		0x04
#define TCP_ACK		0x10
#define VLAN_MAX_DEPTH	2

/* parse_packet() returns an enum canary_dp_reason, or one of these. */
enum parse_result {
	PARSE_OK = -1,		/* a TCP or UDP packet: look it up */
	PARSE_OTHER = -2,	/* not ours to look at: pass, count nothing */
	PARSE_ICMP = -3,	/* ICMP or ICMPv6: p->l4 is its header */
};

struct vlan_tag {
	__be16 tci;
	__be16 proto;
};

struct pkt {
	void *data;
	void *data_end;		/* end of what can be read in place */
	__u32 len;		/* the whole packet: in TC it may reach past data_end (fragments) */
	struct ethhdr *eth;
	struct iphdr *ip4;	/* IPv4 packets */
	struct ipv6hdr *ip6;	/* IPv6 packets */
	void *l4;
	__u16 *l4_csum;
	void *payload;		/* the first byte after the L4 header */
	__u16 payload_len;	/* bytes of data the headers say the packet carries */
	__u8 tcp_flags;
	__u8 vlan_tags;		/* tags in the frame itself */
	bool tagged;		/* a VLAN tag in the frame, or (TC) taken off into the skb */
	bool gso;		/* TC: a GSO packet, cut into segments on its way out */
	struct flow_key key;
};

static __always_inline void addr_from_v4(__u8 *dst, __be32 v4)
{
	__u32 *w = (__u32 *)dst;

	w[0] = 0;
	w[1] = 0;
	w[2] = bpf_htonl(0xffff);
	w[3] = v4;
}

static __always_inline int parse_l2(struct pkt *p, __be16 *proto)
{
	struct ethhdr *eth = p->data;
	void *cur = eth + 1;

	if (cur > p->data_end)
		return CANARY_DP_TRUNCATED;
	p->eth = eth;
	*proto = eth->h_proto;
#pragma unroll
	for (int i = 0; i < VLAN_MAX_DEPTH; i++) {
		struct vlan_tag *tag = cur;

		if (*proto != bpf_htons(ETH_P_8021Q) && *proto != bpf_htons(ETH_P_8021AD))
			return PARSE_OK;
		if ((void *)(tag + 1) > p->data_end)
			return CANARY_DP_TRUNCATED;
		*proto = tag->proto;
		cur = tag + 1;
		p->vlan_tags++;
		p->tagged = true;
	}
	if (*proto == bpf_htons(ETH_P_8021Q) || *proto == bpf_htons(ETH_P_8021AD))
		return CANARY_DP_VLAN_DEPTH;
	return PARSE_OK;
}

static __always_inline void *l3_start(const struct pkt *p)
{
	return (void *)(p->eth + 1) + p->vlan_tags * sizeof(struct vlan_tag);
}

static __always_inline int parse_ipv4(struct pkt *p)
{
	struct iphdr *iph = l3_start(p);
	__u32 hlen, tot_len;

	if ((void *)(iph + 1) > p->data_end)
		return CANARY_DP_TRUNCATED;
	if (iph->protocol != IPPROTO_TCP && iph->protocol != IPPROTO_UDP &&
	    iph->protocol != IPPROTO_ICMP)
		return PARSE_OTHER;
	hlen = iph->ihl * 4;
	tot_len = bpf_ntohs(iph->tot_len);
	if (hlen < sizeof(*iph) || tot_len < hlen)
		return CANARY_DP_BAD_HEADER;
	if ((void *)iph - p->data + tot_len > p->len)
		return CANARY_DP_TRUNCATED;
	if (iph->frag_off & bpf_htons(IP_MF | IP_OFFSET))
		return CANARY_DP_FRAGMENT;
	p->ip4 = iph;
	p->l4 = (void *)iph + hlen;
	p->key.proto = iph->protocol;
	if (iph->protocol == IPPROTO_ICMP)
		return PARSE_ICMP;
	addr_from_v4(p->key.src, iph->saddr);
	addr_from_v4(p->key.dst, iph->daddr);
	return PARSE_OK;
}

static __always_inline int parse_ipv6(struct pkt *p)
{
	struct ipv6hdr *ip6 = l3_start(p);

	if ((void *)(ip6 + 1) > p->data_end)
		return CANARY_DP_TRUNCATED;
	if (ip6->nexthdr == NEXTHDR_FRAG)
		return CANARY_DP_FRAGMENT;
	if (ip6->nexthdr != IPPROTO_TCP && ip6->nexthdr != IPPROTO_UDP &&
	    ip6->nexthdr != IPPROTO_ICMP6)
		return PARSE_OTHER;
	if ((void *)(ip6 + 1) - p->data + bpf_ntohs(ip6->payload_len) > p->len)
		return CANARY_DP_TRUNCATED;
	p->ip6 = ip6;
	p->l4 = ip6 + 1;
	p->key.proto = ip6->nexthdr;
	if (ip6->nexthdr == IPPROTO_ICMP6)
		return PARSE_ICMP;
	__builtin_memcpy(p->key.src, &ip6->saddr, 16);
	__builtin_memcpy(p->key.dst, &ip6->daddr, 16);
	return PARSE_OK;
}

/* The L4 length the IP header claims, for the L4 headers' own length checks. */
static __always_inline __u32 l4_len(const struct pkt *p, const bool v4)
{
	if (v4)
		return bpf_ntohs(p->ip4->tot_len) - p->ip4->ihl * 4;
	return bpf_ntohs(p->ip6->payload_len);
}

static __always_inline int parse_l4(struct pkt *p, const bool v4)
{
	if (p->key.proto == IPPROTO_TCP) {
		struct tcphdr *th = p->l4;

		if ((void *)(th + 1) > p->data_end)
			return CANARY_DP_TRUNCATED;
		if (th->doff < 5 || th->doff * 4 > l4_len(p, v4))
			return CANARY_DP_BAD_HEADER;
		p->key.sport = bpf_ntohs(th->source);
		p->key.dport = bpf_ntohs(th->dest);
		p->l4_csum = &th->check;
		p->tcp_flags = ((__u8 *)th)[13];
		p->payload = (void *)th + th->doff * 4;
		p->payload_len = l4_len(p, v4) - th->doff * 4;
		return PARSE_OK;
	} else {
		struct udphdr *uh = p->l4;

		if ((void *)(uh + 1) > p->data_end)
			return CANARY_DP_TRUNCATED;
		if (bpf_ntohs(uh->len) < sizeof(*uh) || bpf_ntohs(uh->len) > l4_len(p, v4))
			return CANARY_DP_BAD_HEADER;
		p->key.sport = bpf_ntohs(uh->source);
		p->key.dport = bpf_ntohs(uh->dest);
		p->l4_csum = &uh->check;
		p->payload = uh + 1;
		p->payload_len = bpf_ntohs(uh->len) - sizeof(*uh);
		return PARSE_OK;
	}
}

/*
 * L3 and L4 of a packet whose L2 said @v4 (IPv4) or not (IPv6). The caller dispatches on the
 * ethertype with @v4 constant, so each family gets its own code and the verifier its own path.
 */
static __always_inline int parse_l3_l4(struct pkt *p, const bool v4)
{
	int rc = v4 ? parse_ipv4(p) : parse_ipv6(p);

	if (rc != PARSE_OK)
		return rc;
	return parse_l4(p, v4);
}

#endif /* XDP_CANARY_PARSE_H */
