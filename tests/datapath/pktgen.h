/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Builds golden test packets byte by byte, checksums computed from scratch: the tests' own
 * implementation, independent of the datapath's incremental updates.
 */
#ifndef XDP_CANARY_PKTGEN_H
#define XDP_CANARY_PKTGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#define PKT_MAX 9100	/* a jumbo frame: MTU 9000 and its Ethernet header */

struct pkt_spec {
	__u8 dmac[6];
	__u8 smac[6];
	int vlan_tags;		/* 0, 1 or 2 (outer 802.1ad, inner 802.1Q) */
	__u8 saddr[16];		/* ABI form: IPv4-mapped for IPv4 */
	__u8 daddr[16];
	__u16 sport;		/* host order */
	__u16 dport;
	__u8 proto;		/* IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP or IPPROTO_ICMPV6 */
	__u8 icmp_type;		/* 0: echo request */
	__u8 icmp_code;
	__u8 ttl;		/* 0: 64 */
	int ip_opt_words;	/* IPv4 option words (4 bytes each), 0..10 */
	__u16 frag;		/* IPv4 flags and fragment offset, host order */
	bool v6_frag_hdr;	/* IPv6: insert a fragment header */
	bool udp_no_csum;	/* IPv4 UDP: checksum 0 ("none") */
	__u8 tcp_flags;		/* 0: SYN */
	size_t payload_len;	/* bytes after the L4 header: a fixed pattern, or payload */
	const char *payload;	/* NULL: the pattern */
};

/* Fills @s with a plain IPv4 (or IPv6) packet from @src:@sport to @dst:@dport. */
void pkt_spec_init(struct pkt_spec *s, const char *src, __u16 sport, const char *dst, __u16 dport,
		   __u8 proto);

/* Writes the packet into @buf (PKT_MAX bytes); returns its length. */
size_t pkt_build(const struct pkt_spec *s, __u8 *buf);

/* True if the IPv4 header checksum and the L4 checksum of @buf verify by summation. */
bool pkt_csums_ok(const __u8 *buf, size_t len);

/* Offsets into a built packet, for tests that corrupt fields. */
size_t pkt_l3_offset(const struct pkt_spec *s);
size_t pkt_l4_offset(const struct pkt_spec *s);

bool spec_is_v4(const struct pkt_spec *s);

#endif /* XDP_CANARY_PKTGEN_H */
