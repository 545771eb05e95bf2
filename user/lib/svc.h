/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Writing a service's configuration into the datapath. Each call is one atomic publication:
 * a reader sees the configuration before it or after it, never a mix.
 */
#ifndef XDP_CANARY_SVC_H
#define XDP_CANARY_SVC_H

#include <stdbool.h>

#include "canary_abi.h"
#include "dp.h"

/* Builds a key; @addr is in the ABI's 16-byte form, @port in host order. */
void svc_key_init(struct svc_key *key, const __u8 addr[16], __u16 port, __u8 proto);

/*
 * Creates or replaces a service: @id (0..CANARY_MAX_SVC-1) and its state, which is stored with
 * CANARY_SVC_F_ACTIVE set. Publish its pools first: the service takes traffic from the moment
 * this returns. An id may be given to another service only once the old one's flows are gone.
 */
int svc_put(struct canary_dp *dp, const struct svc_key *key, __u32 id,
	    const struct svc_state *st);

/* The id of the service at @key, or -ENOENT. */
int svc_id_of(struct canary_dp *dp, const struct svc_key *key, __u32 *id);

/* A snapshot of a service's state word. */
int svc_state_read(struct canary_dp *dp, __u32 id, struct svc_state *st);

/* The key that maps to @id, or -ENOENT. */
int svc_key_of(struct canary_dp *dp, __u32 id, struct svc_key *key);

/* Removes @key from the service table only: its id and state stay (a VIP that moves). */
int svc_unmap(struct canary_dp *dp, const struct svc_key *key);

/* Retires the service: new packets to it pass untouched, its pinned flows stop matching. */
int svc_del(struct canary_dp *dp, const struct svc_key *key);

/* Replaces the weight (basis points, 0..CANARY_WEIGHT_MAX) in one atomic store. */
int svc_set_weight(struct canary_dp *dp, __u32 id, __u16 weight);

/*
 * Hard rollback: weight and a new generation in one atomic store, so that every canary flow
 * decided before it is decided again, now at @weight.
 */
int svc_rollback_hard(struct canary_dp *dp, __u32 id, __u16 weight);

/* Sets or clears the CANARY_SVC_F_OVERRIDES flag, in one atomic store. */
int svc_set_overrides(struct canary_dp *dp, __u32 id, bool on);

/* Sets the hash mode and the HTTP flag, in one atomic store; weight and generation stay. */
int svc_set_mode(struct canary_dp *dp, __u32 id, __u8 mode, bool http);

/*
 * Publishes a version's pool: @n backends (0..CANARY_MAX_BACKENDS; backend i is slot i) and their
 * Maglev table, in a new inner map swapped in at once. When this returns, no packet is still being
 * decided with the old pool. -ENOSPC: a backend is in the pools of CANARY_BE_SVC_MAX other
 * active services already.
 */
int pool_publish(struct canary_dp *dp, __u32 svc_id, __u8 version, const struct backend *be,
		 unsigned int n);

/*
 * The same, with only the backends @live says are healthy in the Maglev table (NULL: all).
 * Backend i keeps slot i whatever its health, so its counters and its pinned flows (which still
 * reach it) keep their meaning. With none live the pool is published empty: the datapath sends
 * the version's new flows to the other version.
 */
int pool_publish_live(struct canary_dp *dp, __u32 svc_id, __u8 version, const struct backend *be,
		      unsigned int n, const bool *live);

/*
 * Forces @version for clients in @addr/@plen (plen in the 128-bit space, see prefix_parse()).
 * The datapath looks only for services with CANARY_SVC_F_OVERRIDES set (svc_set_overrides()).
 */
int override_put(struct canary_dp *dp, __u32 svc_id, const __u8 addr[16], unsigned int plen,
		 __u8 version);

int override_del(struct canary_dp *dp, __u32 svc_id, const __u8 addr[16], unsigned int plen);

typedef bool (*override_keep_fn)(const __u8 addr[16], unsigned int plen, void *ctx);

/* Deletes @svc_id's override prefixes for which @keep says false. */
int override_prune(struct canary_dp *dp, __u32 svc_id, override_keep_fn keep, void *ctx);

typedef bool (*ifindex_keep_fn)(__u32 ifindex, void *ctx);

/* Deletes the redirect targets for which @keep says false. */
int tx_port_prune(struct canary_dp *dp, ifindex_keep_fn keep, void *ctx);

/* What the forward program knows of the interface @ifindex: its MAC, what to do with frames
 * addressed to another. */
int if_cfg_put(struct canary_dp *dp, __u32 ifindex, const struct if_cfg *ic);

/* Deletes the interfaces' entries for which @keep says false. */
int if_cfg_prune(struct canary_dp *dp, ifindex_keep_fn keep, void *ctx);

/* Lets the datapath redirect to @ifindex (a DEVMAP_HASH entry). */
int tx_port_add(struct canary_dp *dp, __u32 ifindex);

int tx_port_del(struct canary_dp *dp, __u32 ifindex);

#endif /* XDP_CANARY_SVC_H */
