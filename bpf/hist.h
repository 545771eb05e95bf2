/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Latency histograms per service, version and kind: log2 buckets of microseconds. */
#ifndef XDP_CANARY_HIST_H
#define XDP_CANARY_HIST_H

#include "maps.h"

static __always_inline __u32 log2_u64(__u64 v)
{
	__u32 r = 0;

	if (v >> 32) {
		v >>= 32;
		r += 32;
	}
	if (v >> 16) {
		v >>= 16;
		r += 16;
	}
	if (v >> 8) {
		v >>= 8;
		r += 8;
	}
	if (v >> 4) {
		v >>= 4;
		r += 4;
	}
	if (v >> 2) {
		v >>= 2;
		r += 2;
	}
	return r + (__u32)(v >> 1);
}

static __always_inline void hist_add(__u32 svc_id, __u8 version, __u32 kind, __u64 ns)
{
	__u32 idx = hist_index(svc_id, version, kind), b;
	struct lat_hist *h = bpf_map_lookup_elem(&lat_hist, &idx);
	__u64 us = ns / 1000;

	if (!h)
		return;
	b = log2_u64(us);
	barrier_var(b);
	if (b >= CANARY_HIST_BUCKETS)
		b = CANARY_HIST_BUCKETS - 1;
	h->count++;
	h->sum_us += us;
	h->bucket[b]++;
}

#endif /* XDP_CANARY_HIST_H */
