/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The datapath's hashes and key comparison, as global functions. The verifier checks a global
 * function once, on its own, where it would check an inlined one again on every path that
 * reaches it: the hashes were most of the instructions it processed, and the program came
 * within 5% of its limit.
 */
#ifndef XDP_CANARY_HASH_BPF_H
#define XDP_CANARY_HASH_BPF_H

#include "canary_abi.h"
#include "canary_hash.h"

/*
 * A flow's hash for its version (@seed CANARY_SEED_VERSION) or backend (CANARY_SEED_BACKEND). In
 * client mode it covers the client address alone, so every connection of one client lands in
 * the same bucket, hence on the same version.
 */
__noinline __u32 dp_flow_hash(const struct flow_key *k, __u32 mode, __u32 seed)
{
	__u32 h;

	if (!k)
		return 0;
	h = canary_hash_addr(seed, k->src);
	if (mode == CANARY_HASH_CLIENT)
		return canary_hash_final(h, 4);
	h = canary_hash_addr(h, k->dst);
	h = canary_hash_mix(h, (__u32)k->sport << 16 | k->dport);
	h = canary_hash_mix(h, k->proto);
	return canary_hash_final(h, 10);
}

__noinline __u32 dp_syn_key_hash(const struct flow_key *k)
{
	return k ? canary_syn_key_hash(k) : 0;
}

/* A SYN cache entry's check: everything of its decision but the flags, which change in place. */
__noinline __u32 dp_syn_check(__u32 h, const struct flow_val *fv)
{
	if (!fv)
		return 0;
	h = canary_hash_addr(h, fv->nat_addr);
	h = canary_hash_mix(h, (__u32)fv->nat_port << 16 | (__u32)fv->version << 8 | fv->be_slot);
	h = canary_hash_mix(h, fv->svc_id);
	h = canary_hash_mix(h, fv->gen);
	h = canary_hash_mix(h, fv->be_ifindex);
	h = canary_hash_mix(h, (__u32)fv->syn_ns);
	h = canary_hash_mix(h, fv->syn_ns >> 32);
	return canary_hash_final(h, 21);
}

__noinline int dp_key_equal(const struct flow_key *a, const struct flow_key *b)
{
	const __u32 *x = (const __u32 *)a, *y = (const __u32 *)b;
	__u32 diff = 0;

	if (!a || !b)
		return 0;
#pragma unroll
	for (int i = 0; i < (int)(sizeof(*a) / 4); i++)
		diff |= x[i] ^ y[i];
	return !diff;
}

#endif /* XDP_CANARY_HASH_BPF_H */
