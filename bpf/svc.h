/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Services as the datapath sees them: the filters in front of every lookup, and the state word. */
#ifndef XDP_CANARY_SVC_H
#define XDP_CANARY_SVC_H

#include "canary_abi.h"
#include "canary_hash.h"
#include "maps.h"

static __always_inline bool filter_test(void *filter, __u32 bit)
{
	__u32 word = bit / 64;
	__u64 *w = bpf_map_lookup_elem(filter, &word);

	return w && (*w >> (bit & 63)) & 1;
}

/* A clear bit: certainly no service at this VIP, port and protocol. */
static __always_inline bool svc_filter_hit(const struct flow_key *k)
{
	return filter_test(&svc_filter, canary_filter_bit(k->dst, k->dport, k->proto));
}

/* A clear bit: certainly not from a backend of any pool. */
static __always_inline bool be_filter_hit(const struct flow_key *k)
{
	return filter_test(&be_filter, canary_filter_bit(k->src, k->sport, 0));
}

/*
 * One aligned 64-bit load: weight, mode, flags and generation come from the same store.
 * Returns false when the id is not an active service (*st is filled all the same).
 */
static __always_inline bool svc_state_of(__u32 id, struct svc_state *st)
{
	struct svc_state *cur = bpf_map_lookup_elem(&svc_state, &id);
	union {
		__u64 word;
		struct svc_state st;
	} snap;

	if (!cur) {
		__builtin_memset(st, 0, sizeof(*st));
		return false;
	}
	snap.word = *(volatile const __u64 *)cur;
	*st = snap.st;
	return st->flags & CANARY_SVC_F_ACTIVE;
}

static __always_inline struct ver_stats *ver_stats_of(__u32 svc_id, __u8 version)
{
	__u32 idx = pool_index(svc_id, version);

	return bpf_map_lookup_elem(&ver_stats, &idx);
}

static __always_inline void count_passed(__u32 reason, __u64 bytes)
{
	struct dp_stats *s = bpf_map_lookup_elem(&dp_stats, &reason);

	if (s) {
		s->packets++;
		s->bytes += bytes;
	}
}

#endif /* XDP_CANARY_SVC_H */
