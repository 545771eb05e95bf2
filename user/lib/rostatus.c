// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <math.h>

#include "config.h"
#include "rostatus.h"
#include "state.h"
#include "sample.h"

static json_t *weight_json(__u16 bp)
{
	char buf[8];

	return json_string(weight_format(bp, buf, sizeof(buf)));
}

json_t *decision_json(const struct ro_decision *dec)
{
	if (!dec)
		return json_null();
	return json_pack("{sI si so ss ss ss}", "time_ms", (json_int_t)dec->time_ms,
			 "stage", dec->stage + 1, "weight", weight_json(dec->weight_bp),
			 "verdict", ro_verdict_names[dec->verdict < RV_MAX ? dec->verdict : RV_NONE],
			 "action", dec->action, "reason", dec->reason);
}

json_t *check_result_json(const struct plan_check *c, const struct ro_check_result *r)
{
	json_t *j = json_pack("{ss ss so so so so ss ss sb sb}", "name", r->name,
			      "outcome", check_outcome_names[r->outcome],
			      "canary", json_number_or_null(r->canary),
			      "stable", json_number_or_null(r->stable),
			      "threshold", json_number_or_null(r->threshold),
			      "samples", r->samples == RO_SAMPLES_UNKNOWN ? json_null() :
					 json_integer((json_int_t)r->samples), "rule", r->rule,
			      "reason", r->reason, "critical", r->critical, "dry_run", r->dry_run);

	if (j && c)
		json_object_set_new(j, "source", json_string(check_source_names[c->source]));
	return j;
}

json_t *rollout_status_json(const struct plan *pl, const struct rollout_state *rs)
{
	const struct plan_stage *st = rs->stage < pl->nstages ? &pl->stages[rs->stage] : NULL;
	json_t *j;

	j = json_pack("{ss sb si si so sI sI si si sI sI so}",
		      "phase", ro_phase_names[rs->phase < RO_PHASE_MAX ? rs->phase : RO_IDLE],
		      "paused", rs->paused, "stage", rs->stage + 1, "stages", pl->nstages,
		      "weight", weight_json(rs->weight_bp),
		      "time_in_stage_ms", (json_int_t)rs->stage_ms,
		      "time_left_ms", (json_int_t)rollout_time_left(pl, rs),
		      "failures", rs->failures, "failure_limit", pl->failure_limit,
		      "hold_ms", (json_int_t)rs->hold_ms, "rollbacks", (json_int_t)rs->rollbacks,
		      "last_decision", decision_json(rollout_last(rs)));
	if (j && rs->started_ms)
		json_object_set_new(j, "started_ms", json_integer((json_int_t)rs->started_ms));
	if (j && st) {
		json_object_set_new(j, "stage_weight", weight_json(st->weight));
		json_object_set_new(j, "manual", json_boolean(st->manual));
	}
	if (j)
		json_object_set_new(j, "last_verdict",
				    json_string(ro_verdict_names[rs->last_verdict < RV_MAX ?
								 rs->last_verdict : RV_NONE]));
	return j;
}

json_t *rollout_event_json(const char *service, const char *kind, const struct plan *pl,
			   const struct rollout_state *rs, const struct ro_decision *dec)
{
	json_t *ev = json_pack("{sI ss ss so}", "time_ms", (json_int_t)now_ms(), "service",
			       service, "event", kind, "rollout", rollout_status_json(pl, rs));

	if (ev && dec)
		json_object_set_new(ev, "decision", decision_json(dec));
	return ev;
}
