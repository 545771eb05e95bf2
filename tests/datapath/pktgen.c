// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "pktgen.h"

#define ETH_HLEN	14
#define IP4_HLEN	20
#define IP6_HLEN	40
#define FRAG6_HLEN	8
#define TCP_HLEN	20
#define UDP_HLEN	8

static void put16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static __u16 get16(const __u8 *p)
{
	return (__u16)(p[0] << 8 | p[1]);
}

/* RFC 1071 sum over big-endian 16-bit words, not yet folded or complemented. */
static __u32 sum16(const __u8 *p, size_t len, __u32 acc)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		acc += get16(p + i);
	if (len & 1)
		acc += (__u32)p[len - 1] << 8;
	return acc;
}

static __u16 fold(__u32 acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (__u16)acc;
}

bool spec_is_v4(const struct pkt_spec *s)
{
	return addr_is_v4(s->daddr);
}

void pkt_spec_init(struct pkt_spec *s, const char *src, __u16 sport, const char *dst, __u16 dport,
		   __u8 proto)
{
	static const __u8 dmac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	static const __u8 smac[6] = { 0x02, 0, 0, 0, 0x01, 0x01 };

	memset(s, 0, sizeof(*s));
	memcpy(s->dmac, dmac, 6);
	memcpy(s->smac, smac, 6);
	if (addr_parse(src, s->saddr) || addr_parse(dst, s->daddr))
		abort();
	s->sport = sport;
	s->dport = dport;
	s->proto = proto;
	s->payload_len = 32;
}

size_t pkt_l3_offset(const struct pkt_spec *s)
{
	return ETH_HLEN + 4 * s->vlan_tags;
}

size_t pkt_l4_offset(const struct pkt_spec *s)
{
	if (spec_is_v4(s))
		return pkt_l3_offset(s) + IP4_HLEN + 4 * s->ip_opt_words;
	return pkt_l3_offset(s) + IP6_HLEN + (s->v6_frag_hdr ? FRAG6_HLEN : 0);
}

static size_t l4_hlen(__u8 proto)
{
	return proto == IPPROTO_TCP ? TCP_HLEN : UDP_HLEN;	/* ICMP's header is 8 too */
}

static size_t put_l2(const struct pkt_spec *s, __u8 *p)
{
	static const __u16 tpid[2] = { 0x88a8, 0x8100 };
	size_t off = 12;

	memcpy(p, s->dmac, 6);
	memcpy(p + 6, s->smac, 6);
	for (int i = 0; i < s->vlan_tags; i++) {
		put16(p + off, tpid[s->vlan_tags == 1 ? 1 : i]);
		put16(p + off + 2, 100 + i);	/* VLAN id */
		off += 4;
	}
	put16(p + off, spec_is_v4(s) ? 0x0800 : 0x86dd);
	return off + 2;
}

static void put_ipv4(const struct pkt_spec *s, __u8 *ip, size_t l4_len)
{
	size_t hlen = IP4_HLEN + 4 * s->ip_opt_words;

	ip[0] = 0x40 | (hlen / 4);
	ip[1] = 0;
	put16(ip + 2, hlen + l4_len);
	put16(ip + 4, 0x1234);
	put16(ip + 6, s->frag);
	ip[8] = s->ttl ? s->ttl : 64;
	ip[9] = s->proto;
	memcpy(ip + 12, s->saddr + 12, 4);
	memcpy(ip + 16, s->daddr + 12, 4);
	/* Options: NOPs, ended by End of Options List. */
	memset(ip + IP4_HLEN, 1, hlen - IP4_HLEN);
	if (hlen > IP4_HLEN)
		ip[hlen - 1] = 0;
	put16(ip + 10, (__u16)~fold(sum16(ip, hlen, 0)));
}

static void put_ipv6(const struct pkt_spec *s, __u8 *ip, size_t l4_len)
{
	size_t ext = s->v6_frag_hdr ? FRAG6_HLEN : 0;

	ip[0] = 0x60;
	put16(ip + 4, ext + l4_len);
	ip[6] = s->v6_frag_hdr ? 44 : s->proto;
	ip[7] = s->ttl ? s->ttl : 64;
	memcpy(ip + 8, s->saddr, 16);
	memcpy(ip + 24, s->daddr, 16);
	if (ext) {
		ip[IP6_HLEN] = s->proto;
		put16(ip + IP6_HLEN + 2, 0x0001);	/* offset 0, more fragments */
	}
}

static __u32 pseudo_sum(const __u8 *src, const __u8 *dst, bool v4, __u8 proto, size_t l4_len)
{
	__u32 acc = 0;

	if (v4) {
		acc = sum16(src + 12, 4, acc);
		acc = sum16(dst + 12, 4, acc);
	} else {
		acc = sum16(src, 16, acc);
		acc = sum16(dst, 16, acc);
	}
	acc += proto;
	return acc + (__u32)l4_len;
}

static void put_l4(const struct pkt_spec *s, __u8 *l4, size_t l4_len)
{
	size_t hlen = l4_hlen(s->proto);
	__u16 check;

	for (size_t i = 0; i < s->payload_len; i++)
		l4[hlen + i] = s->payload ? (__u8)s->payload[i] : (__u8)(0x41 + i % 26);
	if (s->proto == IPPROTO_ICMP || s->proto == IPPROTO_ICMPV6) {
		bool v6 = s->proto == IPPROTO_ICMPV6;

		l4[0] = s->icmp_type ? s->icmp_type : (v6 ? 128 : 8);	/* echo request */
		l4[1] = s->icmp_code;
		put16(l4 + 2, (__u16)~fold(sum16(l4, l4_len, v6 ? pseudo_sum(s->saddr, s->daddr,
								     false, s->proto, l4_len) : 0)));
		return;
	}
	put16(l4, s->sport);
	put16(l4 + 2, s->dport);
	if (s->proto == IPPROTO_TCP) {
		put16(l4 + 4, 0x0102);
		put16(l4 + 8, 0);
		l4[12] = (TCP_HLEN / 4) << 4;
		l4[13] = s->tcp_flags ? s->tcp_flags : 0x02;
		put16(l4 + 14, 64240);
	} else {
		put16(l4 + 4, l4_len);
	}
	if (s->proto == IPPROTO_UDP && s->udp_no_csum && spec_is_v4(s))
		return;
	check = ~fold(sum16(l4, l4_len, pseudo_sum(s->saddr, s->daddr, spec_is_v4(s), s->proto,
						  l4_len)));
	if (s->proto == IPPROTO_UDP && check == 0)
		check = 0xffff;
	put16(l4 + (s->proto == IPPROTO_TCP ? 16 : 6), check);
}

size_t pkt_build(const struct pkt_spec *s, __u8 *buf)
{
	size_t l4_len = l4_hlen(s->proto) + s->payload_len;
	size_t l3 = pkt_l3_offset(s), l4 = pkt_l4_offset(s);

	memset(buf, 0, PKT_MAX);
	put_l2(s, buf);
	if (spec_is_v4(s))
		put_ipv4(s, buf + l3, l4_len);
	else
		put_ipv6(s, buf + l3, l4_len);
	put_l4(s, buf + l4, l4_len);
	return l4 + l4_len;
}

/* Verification walks the packet as a receiver would, independent of the spec. */
bool pkt_csums_ok(const __u8 *buf, size_t len)
{
	size_t off = 12, l4_off, l4_len;
	__u16 type = get16(buf + off);
	const __u8 *ip, *src, *dst;
	bool v4;
	__u8 proto;

	while (type == 0x8100 || type == 0x88a8) {
		off += 4;
		type = get16(buf + off);
	}
	ip = buf + off + 2;
	v4 = type == 0x0800;
	if (v4) {
		size_t hlen = (ip[0] & 0xf) * 4;

		if (fold(sum16(ip, hlen, 0)) != 0xffff)
			return false;
		proto = ip[9];
		l4_off = (size_t)(ip - buf) + hlen;
		l4_len = get16(ip + 2) - hlen;
		src = ip + 12 - 12;	/* pseudo_sum() reads bytes 12..15 of a 16-byte form */
		dst = ip + 16 - 12;
	} else {
		proto = ip[6];
		l4_off = (size_t)(ip - buf) + IP6_HLEN;
		l4_len = get16(ip + 4);
		src = ip + 8;
		dst = ip + 24;
	}
	if (l4_off + l4_len > len)
		return false;
	if (proto == IPPROTO_UDP && v4 && get16(buf + l4_off + 6) == 0)
		return true;
	if (proto == IPPROTO_ICMP)
		return fold(sum16(buf + l4_off, l4_len, 0)) == 0xffff;
	return fold(sum16(buf + l4_off, l4_len, pseudo_sum(src, dst, v4, proto, l4_len))) ==
	       0xffff;
}
