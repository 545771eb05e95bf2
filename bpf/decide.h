/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Deciding a new flow: which version (override prefix, else hash bucket against the weight), then
 * which backend of that version's pool (Maglev table).
 */
#ifndef XDP_CANARY_DECIDE_H
#define XDP_CANARY_DECIDE_H

#include "canary_abi.h"
#include "hash.h"
#include "maps.h"
#include "parse.h"
#include "svc.h"

/* Returns the version an override prefix forces on this client, or -1. */
static __always_inline int override_version(__u32 svc_id, const __u8 *client)
{
	struct override_key ok = {
		.prefixlen = 32 + 128,
		.svc_id = bpf_htonl(svc_id),
	};
	struct override_val *ov;

	__builtin_memcpy(ok.addr, client, 16);
	ov = bpf_map_lookup_elem(&overrides, &ok);
	if (!ov || ov->version >= CANARY_V_MAX)
		return -1;
	return ov->version;
}

/*
 * A flow is canary when its bucket is below the weight: raising the weight only adds buckets to
 * the canary, so no flow ever moves from canary back to stable on the way up.
 */
static __always_inline __u8 pick_version(const struct flow_key *k, __u32 svc_id,
					 const struct svc_state *st, bool *overridden)
{
	int forced = -1;

	if (st->flags & CANARY_SVC_F_OVERRIDES)
		forced = override_version(svc_id, k->src);
	*overridden = forced >= 0;
	if (forced >= 0)
		return forced;
	return dp_flow_hash(k, st->mode, CANARY_SEED_VERSION) % CANARY_WEIGHT_MAX < st->weight ?
		CANARY_V_CANARY : CANARY_V_STABLE;
}

/* Fills @fv with a backend of @version's pool; returns false when the pool is empty. */
static __always_inline bool pick_backend(const struct flow_key *k, __u32 svc_id,
					 const struct svc_state *st, __u8 version,
					 struct flow_val *fv)
{
	__u32 idx = pool_index(svc_id, version), zero = 0, slot;
	struct backend *be;
	struct pool *pool;
	void *inner;

	inner = bpf_map_lookup_elem(&svc_backends, &idx);
	if (!inner)
		return false;
	pool = bpf_map_lookup_elem(inner, &zero);
	if (!pool || !pool->count)
		return false;
	slot = dp_flow_hash(k, st->mode, CANARY_SEED_BACKEND) % CANARY_MAGLEV_SIZE;
	/* The verifier does not bound a modulo: keep the compiler from folding this check away. */
	barrier_var(slot);
	if (slot >= CANARY_MAGLEV_SIZE)
		return false;
	slot = pool->maglev[slot] & (CANARY_MAX_BACKENDS - 1);
	be = &pool->be[slot];
	__builtin_memset(fv, 0, sizeof(*fv));
	__builtin_memcpy(fv->nat_addr, be->addr, 16);
	fv->nat_port = be->port;
	fv->be_slot = slot;
	fv->version = version;
	fv->svc_id = svc_id;
	fv->gen = st->gen;
	return true;
}

static __always_inline __u8 other_version(__u8 version)
{
	return version == CANARY_V_STABLE ? CANARY_V_CANARY : CANARY_V_STABLE;
}

/*
 * @version's pool is empty (or none of its backends is healthy): rather than drop the new flow,
 * send it to the other version's pool, whose flow it is from then on. Counted on @version:
 * fallback_flows when the other pool took it, no_backend when it is empty too (the caller drops).
 */
static __always_inline bool pick_fallback(const struct flow_key *k, __u32 svc_id,
					  const struct svc_state *st, __u8 version,
					  struct flow_val *fv)
{
	struct ver_stats *vs = ver_stats_of(svc_id, version);
	bool found = pick_backend(k, svc_id, st, other_version(version), fv);

	if (vs) {
		if (found)
			vs->fallback_flows++;
		else
			vs->no_backend++;
	}
	return found;
}

#endif /* XDP_CANARY_DECIDE_H */
