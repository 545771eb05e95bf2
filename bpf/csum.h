/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Incremental Internet checksum updates (RFC 1624, eqn. 3) for rewritten headers. */
#ifndef XDP_CANARY_CSUM_H
#define XDP_CANARY_CSUM_H

static __always_inline __u16 csum_fold32(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/*
 * The one's-complement difference between the 16-bit words of @from and @to, to be added to a
 * checksum with csum_apply(). Byte order does not matter: one's-complement sums commute with it.
 */
static __always_inline __u32 csum_delta(__u32 delta, const __u16 *from, const __u16 *to, int words)
{
#pragma unroll
	for (int i = 0; i < words; i++) {
		delta += (__u16)~from[i];
		delta += to[i];
	}
	return delta;
}

/* HC' = ~(~HC + delta) */
static __always_inline __u16 csum_apply(__u16 check, __u32 delta)
{
	return (__u16)~csum_fold32((__u16)~check + csum_fold32(delta));
}

/* An L4 checksum after @delta: a UDP one that comes out zero is sent as 0xffff (RFC 768). */
static __always_inline __u16 csum_apply_l4(__u16 check, __u32 delta, bool udp)
{
	__u16 new = csum_apply(check, delta);

	return udp && new == 0 ? 0xffff : new;
}

#endif /* XDP_CANARY_CSUM_H */
