/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* A service's status as canaryctl shows it, built the same by the agent and by canaryctl alone. */
#ifndef XDP_CANARY_STATUS_H
#define XDP_CANARY_STATUS_H

#include <stdbool.h>
#include <jansson.h>

#include "config.h"
#include "dp.h"
#include "sample.h"
#include "state.h"

/*
 * @svc may be NULL (no config at hand: no VIP or pool sizes); @old may be NULL (no window: totals
 * only). @agent says whether canaryd built it.
 */
json_t *status_svc_json(struct canary_dp *dp, const struct state_svc *s,
			const struct cfg_service *svc, const struct svc_sample *old,
			const struct svc_sample *cur, bool agent);

#endif /* XDP_CANARY_STATUS_H */
