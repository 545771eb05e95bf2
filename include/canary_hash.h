/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The 32-bit word hash used for flow decisions (datapath) and Maglev permutations (user space).
 * It is MurmurHash3's block and finalisation steps: cheap in BPF (no tables, no loops the
 * verifier has to bound) and well mixed in the low bits, which `% 10000` and `% M` depend on.
 */
#ifndef XDP_CANARY_HASH_H
#define XDP_CANARY_HASH_H

#include "canary_abi.h"

#define CANARY_SEED_VERSION	0x9e3779b9u	/* version bucket */
#define CANARY_SEED_BACKEND	0x85ebca77u	/* backend inside the pool */
#define CANARY_SEED_OFFSET	0xc2b2ae3du	/* Maglev offset */
#define CANARY_SEED_SKIP	0x27d4eb2fu	/* Maglev skip */
#define CANARY_SEED_FILTER	0x165667b1u	/* svc_filter bit */
#define CANARY_SEED_SYN		0xd3a2646cu	/* syn_cache slot and check */

static inline __u32 canary_rotl32(__u32 x, unsigned int r)
{
	return (x << r) | (x >> (32 - r));
}

static inline __u32 canary_hash_mix(__u32 h, __u32 word)
{
	word *= 0xcc9e2d51u;
	word = canary_rotl32(word, 15);
	word *= 0x1b873593u;
	h ^= word;
	h = canary_rotl32(h, 13);
	return h * 5 + 0xe6546b64u;
}

static inline __u32 canary_hash_final(__u32 h, __u32 nwords)
{
	h ^= nwords * 4;
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

static inline __u32 canary_hash_addr(__u32 h, const __u8 *addr)
{
	const __u32 *w = (const __u32 *)addr;

	h = canary_hash_mix(h, w[0]);
	h = canary_hash_mix(h, w[1]);
	h = canary_hash_mix(h, w[2]);
	return canary_hash_mix(h, w[3]);
}

/* The svc_filter bit of a service key (see canary_abi.h); @port in host order. */
static inline __u32 canary_filter_bit(const __u8 *addr, __u16 port, __u8 proto)
{
	__u32 h = canary_hash_mix(CANARY_SEED_FILTER, ((const __u32 *)addr)[3]);

	h = canary_hash_mix(h, ((const __u32 *)addr)[0] ^ ((const __u32 *)addr)[1] ^
			       ((const __u32 *)addr)[2]);
	h = canary_hash_mix(h, (__u32)port << 8 | proto);
	return canary_hash_final(h, 3) & (CANARY_FILTER_WORDS * 64 - 1);
}

/*
 * The syn_cache slot of a client's tuple (see canary_abi.h); it may also be in the other slot
 * of the pair, slot ^ 1. Its hash also seeds the check.
 */
static inline __u32 canary_syn_key_hash(const struct flow_key *k)
{
	__u32 h = canary_hash_addr(CANARY_SEED_SYN, k->src);

	h = canary_hash_addr(h, k->dst);
	h = canary_hash_mix(h, (__u32)k->sport << 16 | k->dport);
	return canary_hash_mix(h, k->proto);
}

static inline __u32 canary_syn_slot(__u32 key_hash)
{
	return canary_hash_final(key_hash, 10) & (CANARY_SYN_SLOTS - 1);
}

#endif /* XDP_CANARY_HASH_H */
