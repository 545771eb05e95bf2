/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The SYN cache: TCP connections between their SYN and the client's ACK of the SYN-ACK. Their
 * decision waits in a two-way set-associative array shared by every CPU rather than in flows,
 * so a flood of spoofed SYNs, which never complete a handshake, only ever displaces other
 * unfinished handshakes. Reading a slot costs an array lookup and two hashes; writing it, no
 * allocation and no lock.
 */
#ifndef XDP_CANARY_SYN_H
#define XDP_CANARY_SYN_H

#include "canary_abi.h"
#include "canary_hash.h"
#include "config.h"
#include "hash.h"
#include "maps.h"
#include "svc.h"


/* The entry in @slot, if it is @k's and whole: *@fv gets the checked copy of its decision. */
static __always_inline struct syn_entry *syn_way(const struct flow_key *k, __u32 h, __u32 slot,
						 struct flow_val *fv)
{
	struct syn_entry *e = bpf_map_lookup_elem(&syn_cache, &slot);
	__u32 check;

	if (!e || !dp_key_equal(&e->key, k))
		return NULL;
	check = e->check;
	*fv = e->fv;
	return dp_syn_check(h, fv) == check ? e : NULL;
}

/*
 * The unfinished handshake of @k, or NULL; @h is dp_syn_key_hash(@k), computed once for a
 * lookup and the store that may follow. *@fv gets a copy of the decision, taken before the
 * check: what the caller acts on is what was checked. A key may be in either slot of its pair.
 */
static __always_inline struct syn_entry *syn_find(const struct flow_key *k, __u32 h,
						  struct flow_val *fv)
{
	__u32 slot = canary_syn_slot(h);
	struct syn_entry *e = syn_way(k, h, slot, fv);

	return e ? e : syn_way(k, h, slot ^ 1, fv);
}

/* A slot a new handshake may take without displacing one: free, or its SYN timed out. */
static __always_inline bool syn_slot_free(const struct syn_entry *e, __u64 now)
{
	return !e->key.proto || now - e->fv.syn_ns >= cfg_syn_timeout_ns;
}

/*
 * Keeps a new SYN's decision in one slot of its pair: a free one, else the older handshake's,
 * which is counted as displaced (under a SYN flood that is where the flood shows). Two ways
 * make that rare for real traffic: a handshake is displaced only by two others at once.
 */
static __always_inline void syn_store(const struct flow_key *k, __u32 h,
				      const struct flow_val *fv, __u64 bytes)
{
	__u32 slot = canary_syn_slot(h), other = slot ^ 1, check = dp_syn_check(h, fv);
	struct syn_entry *e = bpf_map_lookup_elem(&syn_cache, &slot);
	struct syn_entry *e2 = bpf_map_lookup_elem(&syn_cache, &other);

	if (!e || !e2)
		return;
	if (!syn_slot_free(e, fv->syn_ns)) {
		if (syn_slot_free(e2, fv->syn_ns) || e2->fv.syn_ns < e->fv.syn_ns)
			e = e2;
		if (!syn_slot_free(e, fv->syn_ns))
			count_passed(CANARY_DP_SYN_DISPLACED, bytes);
	}
	e->check = ~check;	/* a reader in between sees no entry */
	e->key = *k;
	e->fv = *fv;
	e->check = check;
}

/* The handshake is over (completed, or ended by a RST): the slot is free. */
static __always_inline void syn_clear(struct syn_entry *e)
{
	e->key.proto = 0;
}

#endif /* XDP_CANARY_SYN_H */
