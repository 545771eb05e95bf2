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

/* Creates or replaces the service entry (weight, mode, flags, generation, id) in one update. */
int svc_put(struct canary_dp *dp, const struct svc_key *key, const struct svc_val *val);

int svc_get(struct canary_dp *dp, const struct svc_key *key, struct svc_val *val);

int svc_del(struct canary_dp *dp, const struct svc_key *key);

/* Replaces the weight only (basis points, 0..CANARY_WEIGHT_MAX). */
int svc_set_weight(struct canary_dp *dp, const struct svc_key *key, __u16 weight);

/*
 * Hard rollback: weight and a new generation in one update, so that every canary flow decided
 * before it is decided again, now at @weight.
 */
int svc_rollback_hard(struct canary_dp *dp, const struct svc_key *key, __u16 weight);

/*
 * Publishes a version's pool: @n backends (0..CANARY_MAX_BACKENDS; backend i is slot i) and their
 * Maglev table, in a new inner map swapped in at once. When this returns, no packet is still being
 * decided with the old pool.
 */
int pool_publish(struct canary_dp *dp, __u32 svc_id, __u8 version, const struct backend *be,
		 unsigned int n);

/*
 * Forces @version for clients in @addr/@plen (plen in the 128-bit space, see prefix_parse()).
 * The datapath looks only for services whose svc_val has CANARY_SVC_F_OVERRIDES set.
 */
int override_put(struct canary_dp *dp, __u32 svc_id, const __u8 addr[16], unsigned int plen,
		 __u8 version);

int override_del(struct canary_dp *dp, __u32 svc_id, const __u8 addr[16], unsigned int plen);

/* Lets the datapath redirect to @ifindex (a DEVMAP_HASH entry). */
int tx_port_add(struct canary_dp *dp, __u32 ifindex);

int tx_port_del(struct canary_dp *dp, __u32 ifindex);

#endif /* XDP_CANARY_SVC_H */
