/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* A rollout as JSON: for status, the event log, history and webhooks alike. */
#ifndef XDP_CANARY_ROSTATUS_H
#define XDP_CANARY_ROSTATUS_H

#include <jansson.h>

#include "plan.h"
#include "rollout.h"

/* Where the rollout is: phase, stage i of n, weight, time in stage and left, last decision. */
json_t *rollout_status_json(const struct plan *pl, const struct rollout_state *rs);

json_t *decision_json(const struct ro_decision *dec);

/*
 * An event as the log and webhooks carry it: {time_ms, service, event: @kind, rollout, and
 * decision when @dec is not NULL}.
 */
json_t *rollout_event_json(const char *service, const char *kind, const struct plan *pl,
			   const struct rollout_state *rs, const struct ro_decision *dec);

/* One check's result: name, outcome, canary, stable, threshold, rule, samples, reason. */
json_t *check_result_json(const struct plan_check *c, const struct ro_check_result *r);

#endif /* XDP_CANARY_ROSTATUS_H */
