/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Reading the datapath's per-CPU counters, summed over every possible CPU. */
#ifndef XDP_CANARY_STATS_H
#define XDP_CANARY_STATS_H

#include "canary_abi.h"
#include "dp.h"

int stats_ver(struct canary_dp *dp, __u32 svc_id, __u8 version, struct ver_stats *out);

int stats_backend(struct canary_dp *dp, __u32 svc_id, __u8 version, __u32 slot,
		  struct be_stats *out);

int stats_hist(struct canary_dp *dp, __u32 svc_id, __u8 version, enum canary_hist_kind kind,
	       struct lat_hist *out);

int stats_passed(struct canary_dp *dp, enum canary_dp_reason reason, struct dp_stats *out);

/* Zeroes a service id's counters and histograms, for a service that takes over a retired id. */
int stats_reset(struct canary_dp *dp, __u32 svc_id);

#endif /* XDP_CANARY_STATS_H */
