// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The packets-per-second bench's own traffic generator and its ends (tools/bench/pps.c).
 *
 * pps_gen runs under BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES: every frame it returns
 * XDP_TX for leaves by the veth named in the run's ingress_ifindex and reaches its peer, where
 * the program under test runs. Frames come back to this run's page pool once they are freed,
 * with whatever the forwarder wrote into them, so the generator writes the whole header again
 * from its template, not only the fields it varies.
 */
#include "vmlinux.h"
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define PPS_HDR_LEN	54	/* Ethernet, IPv4 without options, TCP without options */
#define PPS_IP_CHECK	24	/* offsets into the frame */
#define PPS_SADDR_LO	28
#define PPS_SPORT	34
#define PPS_TCP_FLAGS	46	/* the 16-bit word of data offset and flags */
#define PPS_TCP_CHECK	50
#define TCP_SYN		0x02
#define TCP_RST		0x04
#define TCP_ACK		0x10

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by the bench before load: the template's header and what varies from frame to frame. */
const volatile __u8 tmpl[PPS_HDR_LEN];
const volatile __u32 flows;	/* 0: every frame a new flow; else cycle through this many */
const volatile bool lifecycle;	/* new flows three frames each: SYN, ACK, RST (flows 0 only) */

__u64 sent;	/* frames the generator built */
__u64 sunk;	/* frames that reached the sink */

/* RFC 1624: the checksum @check with the 16-bit word @from replaced by @to. */
static __always_inline __u16 csum_replace(__u16 check, __u16 from, __u16 to)
{
	__u32 sum = (__u16)~check + (__u16)~from + to;

	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

static __always_inline __u16 tmpl16(int off)
{
	return (__u16)tmpl[off] | (__u16)tmpl[off + 1] << 8;
}

static __always_inline void put16(__u8 *p, __u16 v)
{
	p[0] = v & 0xff;
	p[1] = v >> 8;
}

SEC("xdp")
int pps_gen(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u64 seq = __sync_fetch_and_add(&sent, 1);
	__u32 idx = flows ? seq % flows : lifecycle ? seq / 3 : seq;
	/* Flow idx: the source address's low 16 bits and the source port, template plus idx. */
	__u16 lo = bpf_htons((__u16)idx), port = bpf_htons(1024 + (__u16)(idx >> 16));
	__u16 ip_check, tcp_check, flags_word = tmpl16(PPS_TCP_FLAGS);

	if (data + PPS_HDR_LEN > end)
		return XDP_ABORTED;
	for (int i = 0; i < PPS_HDR_LEN; i++)
		data[i] = tmpl[i];
	ip_check = csum_replace(tmpl16(PPS_IP_CHECK), tmpl16(PPS_SADDR_LO), lo);
	tcp_check = csum_replace(tmpl16(PPS_TCP_CHECK), tmpl16(PPS_SADDR_LO), lo);
	tcp_check = csum_replace(tcp_check, tmpl16(PPS_SPORT), port);
	if (lifecycle) {
		__u32 phase = seq % 3;
		__u8 fl = phase == 0 ? TCP_SYN : phase == 1 ? TCP_ACK : TCP_RST | TCP_ACK;
		__u16 word = (flags_word & 0xff) | (__u16)fl << 8;

		tcp_check = csum_replace(tcp_check, flags_word, word);
		put16(data + PPS_TCP_FLAGS, word);
	}
	put16(data + PPS_SADDR_LO, lo);
	put16(data + PPS_SPORT, port);
	put16(data + PPS_IP_CHECK, ip_check);
	put16(data + PPS_TCP_CHECK, tcp_check);
	return XDP_TX;
}

/* The far end: what a forwarder sends back is counted here and dropped. */
SEC("xdp")
int pps_sink(struct xdp_md *ctx)
{
	__sync_fetch_and_add(&sunk, 1);
	return XDP_DROP;
}

/* The floor for one interface: the least a forwarder can do, send the frame back where it came. */
SEC("xdp")
int pps_reflect(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u8 mac[6];

	if (data + 12 > end)
		return XDP_DROP;
	__builtin_memcpy(mac, data, 6);
	__builtin_memcpy(data, data + 6, 6);
	__builtin_memcpy(data + 6, mac, 6);
	return XDP_TX;
}
