// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The rollout state machine with a fake clock: every transition, failure counting, hold and
 * max_hold, gates, dry runs, rollbacks, a restart mid-stage; and the rules that judge a check.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "judge.h"
#include "rollout.h"
#include "state.h"

#define SEC	1000ULL
#define MIN	(60 * SEC)
#define HOLD	(5 * MIN)

struct fx {
	struct plan pl;
	struct rollout_state rs;
	__u64 now;		/* the fake clock */
	struct ro_action a;
	char err[256];
};

static const __u16 default_bp[] = { 100, 500, 2500, 5000, 10000 };

/* 1, 5, 25, 50, 100 %, 5 minutes each; one check "5xx" with max 0.05; instant rollback. */
static void plan_default(struct plan *pl)
{
	memset(pl, 0, sizeof(*pl));
	pl->nstages = 5;
	for (unsigned int i = 0; i < pl->nstages; i++) {
		pl->stages[i].weight = default_bp[i];
		pl->stages[i].hold_ms = HOLD;
	}
	pl->interval_ms = 30 * SEC;
	pl->failure_limit = 2;
	pl->max_hold_ms = 10 * MIN;
	pl->on_max_hold = MAX_HOLD_PAUSE;
	pl->nchecks = 1;
	snprintf(pl->checks[0].name, PLAN_NAME_MAX, "5xx");
	pl->checks[0].rules = RULE_MAX;
	pl->checks[0].max = 0.05;
	pl->rollback = ROLLBACK_INSTANT;
	pl->rollback_step_bp = 2000;
	pl->rollback_every_ms = SEC;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	plan_default(&f->pl);
	f->now = 1700000000000ULL;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

static void tick(struct fx *f, __u64 ms)
{
	f->now += ms;
	rollout_tick(&f->pl, &f->rs, f->now, true, &f->a);
}

/* The operator commands on the fixture: each returns what the call did. */
static int start_if(struct fx *f, bool healthy)
{
	return rollout_start(&f->pl, &f->rs, f->now, healthy, &f->a, f->err, sizeof(f->err));
}

static void start(struct fx *f)
{
	assert_int_equal(start_if(f, true), 0);
}

static int promote(struct fx *f, bool full)
{
	return rollout_promote(&f->pl, &f->rs, f->now, full, &f->a, f->err, sizeof(f->err));
}

static int set_paused(struct fx *f, bool on, const char *reason)
{
	return rollout_pause(&f->rs, f->now, on, reason, &f->a, f->err, sizeof(f->err));
}

/* The result check_judge gives plan check @i for these values. */
static void measure(const struct fx *f, unsigned int i, double canary, double stable,
		    struct ro_check_result *r)
{
	check_judge(&f->pl.checks[i], canary, stable, 1000, r);
}

/* One evaluation of the plan's first check, 0.002 (pass) or 0.31 (fail) against max 0.05. */
static enum ro_verdict evaluate(struct fx *f, double canary)
{
	struct ro_check_result r;

	measure(f, 0, canary, 0.002, &r);
	return rollout_evaluated(&f->pl, &f->rs, f->now, &r, 1, &f->a);
}

static enum ro_verdict evaluate_outcome(struct fx *f, enum check_outcome o)
{
	struct ro_check_result r;

	check_unmeasured(&f->pl.checks[0], o, o == CHECK_ERROR ? "HTTP 503" : "empty result", &r);
	return rollout_evaluated(&f->pl, &f->rs, f->now, &r, 1, &f->a);
}

#define PASSING	0.002
#define FAILING	0.31

/* A pass, then the hold: the stage ends. */
static void pass_stage(struct fx *f)
{
	assert_int_equal(evaluate(f, PASSING), RV_PASS);
	tick(f, f->pl.stages[f->rs.stage].hold_ms);
}

static void assert_reason_has(const char *reason, const char *part)
{
	if (!strstr(reason, part))
		fail_msg("\"%s\" is not in \"%s\"", part, reason);
}

static void assert_act(const struct ro_action *a, enum ro_act kind, __u16 bp, __u32 event)
{
	assert_int_equal(a->kind, kind);
	if (kind != RA_NONE)
		assert_int_equal(a->weight_bp, bp);
	assert_int_equal(a->event, event);
}

/* ---- starting ---- */

static void start_enters_first_stage(void **state)
{
	struct fx *f = *state;

	start(f);
	assert_int_equal(f->rs.phase, RO_STAGE);
	assert_int_equal(f->rs.stage, 0);
	assert_int_equal(f->rs.weight_bp, 100);
	assert_act(&f->a, RA_WEIGHT, 100, HOOK_STARTED);
	assert_int_equal(f->rs.started_ms, f->now);
	assert_string_equal(rollout_last(&f->rs)->action, "start");
	assert_reason_has(f->a.reason, "stage 1 of 5 (1%)");
	assert_int_equal(rollout_time_left(&f->pl, &f->rs), HOLD);
}

static void start_waits_for_healthy_backends(void **state)
{
	struct fx *f = *state;

	f->rs.weight_bp = 0;
	assert_int_equal(start_if(f, false), 0);
	assert_int_equal(f->rs.phase, RO_WAITING);
	assert_act(&f->a, RA_NONE, 0, HOOK_STARTED);
	assert_reason_has(f->a.reason, "waiting for canary backends to pass health checks");
	assert_false(rollout_evaluates(&f->rs));
	f->now += HOLD;
	rollout_tick(&f->pl, &f->rs, f->now, false, &f->a);
	assert_int_equal(f->rs.phase, RO_WAITING);
	assert_act(&f->a, RA_NONE, 0, 0);
	tick(f, SEC);
	assert_int_equal(f->rs.phase, RO_STAGE);
	assert_act(&f->a, RA_WEIGHT, 100, HOOK_ADVANCED);
	assert_reason_has(f->a.reason, "canary backends healthy");
	/* The stage's time starts now, not when start was asked. */
	assert_int_equal(f->rs.stage_ms, 0);
}

static void warmup_then_first_stage(void **state)
{
	struct fx *f = *state;

	f->pl.warmup_bp = 50;
	f->pl.warmup_ms = MIN;
	start(f);
	assert_int_equal(f->rs.phase, RO_WARMUP);
	assert_act(&f->a, RA_WEIGHT, 50, HOOK_STARTED);
	assert_true(rollout_evaluates(&f->rs));
	/* Failing checks during the warm-up are recorded, and never act. */
	for (int i = 0; i < 5; i++) {
		tick(f, 10 * SEC);
		assert_int_equal(evaluate(f, FAILING), RV_FAIL);
		assert_act(&f->a, RA_NONE, 0, 0);
		assert_string_equal(rollout_last(&f->rs)->action, "none (warm-up)");
	}
	assert_int_equal(f->rs.failures, 0);
	assert_int_equal(f->rs.evaluations[RV_FAIL], 5);
	assert_int_equal(f->rs.phase, RO_WARMUP);
	assert_int_equal(rollout_time_left(&f->pl, &f->rs), 10 * SEC);
	tick(f, 10 * SEC);
	assert_int_equal(f->rs.phase, RO_STAGE);
	assert_act(&f->a, RA_WEIGHT, 100, HOOK_ADVANCED);
	assert_reason_has(f->a.reason, "warm-up over");
	assert_int_equal(f->rs.last_verdict, RV_NONE);
}

static void start_while_running_is_busy(void **state)
{
	struct fx *f = *state;

	start(f);
	assert_int_equal(start_if(f, true), -EBUSY);
	assert_reason_has(f->err, "stage 1 of 5 (1%)");
	assert_int_equal(f->rs.phase, RO_STAGE);
}

/* ---- holding and advancing ---- */

static void hold_not_over_does_not_advance(void **state)
{
	struct fx *f = *state;

	start(f);
	assert_int_equal(evaluate(f, PASSING), RV_PASS);
	tick(f, HOLD - 1);
	assert_int_equal(f->rs.stage, 0);
	assert_act(&f->a, RA_NONE, 0, 0);
	assert_int_equal(rollout_time_left(&f->pl, &f->rs), 1);
	tick(f, 1);
	assert_int_equal(f->rs.stage, 1);
	assert_act(&f->a, RA_WEIGHT, 500, HOOK_ADVANCED);
	assert_reason_has(f->a.reason, "stage 1 of 5 (1%) held 5m with checks passing: "
			  "advancing to 5%");
}

static void hold_over_needs_a_pass(void **state)
{
	struct fx *f = *state;

	start(f);
	tick(f, HOLD);		/* no evaluation yet */
	assert_int_equal(f->rs.stage, 0);
	assert_int_equal(evaluate_outcome(f, CHECK_NO_DATA), RV_HOLD);
	tick(f, MIN);
	assert_int_equal(f->rs.stage, 0);
	assert_int_equal(evaluate(f, FAILING), RV_FAIL);
	tick(f, MIN);
	assert_int_equal(f->rs.stage, 0);
	assert_int_equal(evaluate(f, PASSING), RV_PASS);
	tick(f, 1);
	assert_int_equal(f->rs.stage, 1);
}

static void full_progression_completes(void **state)
{
	struct fx *f = *state;

	start(f);
	for (unsigned int i = 1; i < 5; i++) {
		pass_stage(f);
		assert_int_equal(f->rs.phase, RO_STAGE);
		assert_int_equal(f->rs.stage, i);
		assert_act(&f->a, RA_WEIGHT, default_bp[i], HOOK_ADVANCED);
		assert_int_equal(f->rs.weight_bp, default_bp[i]);
		assert_int_equal(f->rs.last_verdict, RV_NONE);
		assert_int_equal(f->rs.stage_ms, 0);
	}
	pass_stage(f);
	assert_int_equal(f->rs.phase, RO_COMPLETE);
	assert_act(&f->a, RA_NONE, 0, HOOK_COMPLETED);
	assert_int_equal(f->rs.weight_bp, 10000);
	assert_false(rollout_evaluates(&f->rs));
	assert_int_equal(rollout_time_left(&f->pl, &f->rs), 0);
	/* Nothing moves once complete. */
	tick(f, HOLD);
	assert_act(&f->a, RA_NONE, 0, 0);
	assert_int_equal(f->rs.evaluations[RV_PASS], 5);
}

static void manual_gate_waits_for_promote(void **state)
{
	struct fx *f = *state;

	f->pl.stages[1].manual = true;
	start(f);
	pass_stage(f);
	pass_stage(f);
	assert_int_equal(f->rs.phase, RO_GATE);
	assert_int_equal(f->rs.stage, 1);
	assert_act(&f->a, RA_NONE, 0, 0);
	assert_reason_has(f->a.reason, "waiting for promote");
	/* Checks still run at the gate; time alone does not open it. */
	assert_true(rollout_evaluates(&f->rs));
	assert_int_equal(evaluate(f, PASSING), RV_PASS);
	tick(f, 10 * HOLD);
	assert_int_equal(f->rs.phase, RO_GATE);
	assert_int_equal(promote(f, false), 0);
	assert_int_equal(f->rs.phase, RO_STAGE);
	assert_int_equal(f->rs.stage, 2);
	assert_act(&f->a, RA_WEIGHT, 2500, HOOK_PROMOTED);
}

static void promote_skips_a_stage(void **state)
{
	struct fx *f = *state;

	start(f);
	tick(f, MIN);
	assert_int_equal(promote(f, false), 0);
	assert_int_equal(f->rs.stage, 1);
	assert_int_equal(f->rs.stage_ms, 0);
	assert_act(&f->a, RA_WEIGHT, 500, HOOK_PROMOTED);
	assert_string_equal(rollout_last(&f->rs)->action, "promote");
	/* From the last stage, promote completes. */
	f->rs.stage = 4;
	assert_int_equal(promote(f, false), 0);
	assert_int_equal(f->rs.phase, RO_COMPLETE);
	assert_int_equal(f->a.event, HOOK_PROMOTED);
}

static void promote_full_completes_at_100(void **state)
{
	struct fx *f = *state;

	start(f);
	assert_int_equal(promote(f, true), 0);
	assert_int_equal(f->rs.phase, RO_COMPLETE);
	assert_act(&f->a, RA_WEIGHT, 10000, HOOK_PROMOTED);
	assert_int_equal(f->rs.weight_bp, 10000);
}

static void promote_refused_without_a_running_rollout(void **state)
{
	struct fx *f = *state;

	assert_int_equal(promote(f, false), -EINVAL);
	assert_reason_has(f->err, "canaryctl start");
	assert_int_equal(start_if(f, false), 0);
	assert_int_equal(promote(f, true), -EBUSY);
	assert_reason_has(f->err, "health checks");
	assert_int_equal(f->rs.phase, RO_WAITING);
}

/* ---- pausing ---- */

static void pause_stops_time_and_resume_continues(void **state)
{
	struct fx *f = *state;

	start(f);
	assert_int_equal(evaluate(f, PASSING), RV_PASS);
	tick(f, 2 * MIN);
	assert_int_equal(set_paused(f, true, "looking at logs"), 0);
	assert_true(f->rs.paused);
	assert_int_equal(f->a.event, HOOK_PAUSED);
	assert_reason_has(f->a.reason, "looking at logs");
	tick(f, 10 * HOLD);
	assert_int_equal(f->rs.stage, 0);
	assert_int_equal(f->rs.stage_ms, 2 * MIN);
	assert_int_equal(set_paused(f, false, NULL), 0);
	assert_false(f->rs.paused);
	assert_int_equal(f->a.event, HOOK_RESUMED);
	tick(f, 3 * MIN - 1);
	assert_int_equal(f->rs.stage, 0);
	tick(f, 1);
	assert_int_equal(f->rs.stage, 1);
}

static void pause_twice_and_pause_nothing(void **state)
{
	struct fx *f = *state;

	assert_int_equal(set_paused(f, true, NULL), -EINVAL);
	start(f);
	assert_int_equal(set_paused(f, false, NULL), 0);
	assert_string_equal(f->a.reason, "not paused");
	assert_int_equal(set_paused(f, true, NULL), 0);
	assert_int_equal(f->rs.nhistory, 2);
	assert_int_equal(set_paused(f, true, NULL), 0);
	assert_string_equal(f->a.reason, "already paused");
	assert_int_equal(f->a.event, 0);
	assert_int_equal(f->rs.nhistory, 2);
}

static void paused_rollout_still_rolls_back_on_failures(void **state)
{
	struct fx *f = *state;

	start(f);
	assert_int_equal(set_paused(f, true, NULL), 0);
	evaluate(f, FAILING);
	evaluate(f, FAILING);
	assert_int_equal(f->rs.phase, RO_ROLLED_BACK);
	assert_false(f->rs.paused);
}

static void weight_set_by_hand_pauses(void **state)
{
	struct fx *f = *state;

	rollout_weight_set(&f->rs, f->now, 300, "canaryctl uid 0");
	assert_int_equal(f->rs.weight_bp, 300);
	assert_int_equal(f->rs.phase, RO_IDLE);
	assert_null(rollout_last(&f->rs));
	start(f);
	rollout_weight_set(&f->rs, f->now, 300, "canaryctl uid 0");
	assert_true(f->rs.paused);
	assert_int_equal(f->rs.weight_bp, 300);
	assert_string_equal(rollout_last(&f->rs)->reason,
			    "weight set by hand to 3% by canaryctl uid 0: rollout paused");
	assert_int_equal(evaluate(f, PASSING), RV_PASS);
	tick(f, HOLD);
	assert_int_equal(f->rs.stage, 0);
	assert_int_equal(f->rs.weight_bp, 300);
}

/* ---- judging evaluations ---- */

static void failure_limit_counts_consecutive_failures(void **state)
{
	struct fx *f = *state;

	start(f);
	assert_int_equal(evaluate(f, FAILING), RV_FAIL);
	assert_int_equal(f->rs.failures, 1);
	assert_act(&f->a, RA_NONE, 0, 0);
	assert_string_equal(rollout_last(&f->rs)->action, "count failure");
	assert_reason_has(f->a.reason, "failure 1 of 2");
	assert_int_equal(evaluate(f, PASSING), RV_PASS);
	assert_int_equal(f->rs.failures, 0);
	assert_reason_has(f->a.reason, "failure count reset");
	assert_int_equal(evaluate(f, FAILING), RV_FAIL);
	assert_int_equal(f->rs.phase, RO_STAGE);
	assert_int_equal(evaluate(f, FAILING), RV_FAIL);
	assert_int_equal(f->rs.phase, RO_ROLLED_BACK);
	assert_act(&f->a, RA_ROLLBACK, 0, HOOK_ROLLED_BACK);
	assert_false(f->a.hard);
	assert_int_equal(f->rs.weight_bp, 0);
	assert_int_equal(f->rs.rollbacks, 1);
	assert_reason_has(f->a.reason, "5xx: canary 0.31 > max 0.05 (stable 0.002, 1000 samples)"
			  "; failure 2 of 2: rolled back to 0%");
	assert_int_equal(rollout_last(&f->rs)->verdict, RV_FAIL);
	assert_int_equal(f->rs.evaluations[RV_FAIL], 3);
	assert_int_equal(f->rs.evaluations[RV_PASS], 1);
	/* Late results of an evaluation change nothing now. */
	assert_int_equal(evaluate(f, FAILING), RV_NONE);
	assert_int_equal(f->rs.evaluations[RV_FAIL], 3);
}

static void critical_check_rolls_back_at_once(void **state)
{
	struct fx *f = *state;

	f->pl.checks[0].critical = true;
	f->pl.rollback = ROLLBACK_GRADUAL;	/* a critical failure is instant anyway */
	f->pl.rollback_hard = true;
	start(f);
	assert_int_equal(evaluate(f, FAILING), RV_FAIL);
	assert_int_equal(f->rs.phase, RO_ROLLED_BACK);
	assert_act(&f->a, RA_ROLLBACK, 0, HOOK_ROLLED_BACK);
	assert_true(f->a.hard);
	assert_reason_has(f->a.reason, "critical");
}

static void dry_run_never_acts_but_is_told(void **state)
{
	struct fx *f = *state;
	struct ro_check_result r[2];

	f->pl.nchecks = 2;
	f->pl.checks[1] = f->pl.checks[0];
	snprintf(f->pl.checks[1].name, PLAN_NAME_MAX, "latency");
	f->pl.checks[1].dry_run = true;
	f->pl.checks[1].critical = true;
	start(f);
	for (int i = 0; i < 4; i++) {
		measure(f, 0, PASSING, 0.002, &r[0]);
		measure(f, 1, FAILING, 0.002, &r[1]);
		assert_int_equal(rollout_evaluated(&f->pl, &f->rs, f->now, r, 2, &f->a), RV_PASS);
		assert_act(&f->a, RA_NONE, 0, 0);
	}
	assert_int_equal(f->rs.failures, 0);
	assert_reason_has(f->a.reason, "[dry run] latency: canary 0.31 > max 0.05");
	tick(f, HOLD);
	assert_int_equal(f->rs.stage, 1);
	/* Only dry-run checks: nothing acts, the evaluation passes. */
	f->pl.checks[0].dry_run = true;
	measure(f, 0, FAILING, 0.002, &r[0]);
	assert_int_equal(rollout_evaluated(&f->pl, &f->rs, f->now, r, 2, &f->a), RV_PASS);
	assert_int_equal(f->rs.phase, RO_STAGE);
}

static void no_checks_pass(void **state)
{
	struct fx *f = *state;

	f->pl.nchecks = 0;
	start(f);
	assert_int_equal(rollout_evaluated(&f->pl, &f->rs, f->now, NULL, 0, &f->a), RV_PASS);
	assert_reason_has(f->a.reason, "no checks configured");
	tick(f, HOLD);
	assert_int_equal(f->rs.stage, 1);
}

static void errors_hold_never_fail_nor_pass(void **state)
{
	struct fx *f = *state;

	start(f);
	assert_int_equal(evaluate(f, FAILING), RV_FAIL);
	for (int i = 0; i < 9; i++) {
		assert_int_equal(evaluate_outcome(f, CHECK_ERROR), RV_HOLD);
		assert_act(&f->a, RA_NONE, 0, 0);
		tick(f, MIN);
	}
	assert_int_equal(f->rs.phase, RO_STAGE);
	assert_int_equal(f->rs.stage, 0);
	assert_int_equal(f->rs.failures, 1);	/* a hold neither adds nor resets */
	assert_string_equal(rollout_last(&f->rs)->action, "hold");
	assert_reason_has(rollout_last(&f->rs)->reason, "5xx: error: HTTP 503");
	assert_int_equal(f->rs.hold_ms, 9 * MIN);
}

static void on_no_data_decides(void **state)
{
	struct fx *f = *state;

	start(f);
	assert_int_equal(evaluate_outcome(f, CHECK_NO_DATA), RV_HOLD);
	f->pl.checks[0].on_no_data = NO_DATA_PASS;
	assert_int_equal(evaluate_outcome(f, CHECK_NO_DATA), RV_PASS);
	assert_reason_has(f->a.reason, "on_no_data pass");
	f->pl.checks[0].on_no_data = NO_DATA_FAIL;
	assert_int_equal(evaluate_outcome(f, CHECK_NO_DATA), RV_FAIL);
	assert_int_equal(f->rs.failures, 1);
	assert_reason_has(f->a.reason, "5xx: no data, empty result (on_no_data fail)");
	assert_int_equal(evaluate_outcome(f, CHECK_NO_DATA), RV_FAIL);
	assert_int_equal(f->rs.phase, RO_ROLLED_BACK);
}

static void max_hold_pauses(void **state)
{
	struct fx *f = *state;

	start(f);
	for (int i = 0; i < 20; i++) {
		evaluate_outcome(f, CHECK_NO_DATA);
		tick(f, 30 * SEC);
		if (f->rs.paused)
			break;
	}
	assert_true(f->rs.paused);
	assert_int_equal(f->rs.hold_ms, 10 * MIN);
	assert_act(&f->a, RA_NONE, 0, HOOK_PAUSED);
	assert_string_equal(f->a.reason,
			    "held 10m without a verdict (no data or errors): paused");
	/* Paused: the hold stops counting, max_hold does not fire again. */
	evaluate_outcome(f, CHECK_NO_DATA);
	tick(f, HOLD);
	assert_int_equal(f->rs.hold_ms, 10 * MIN);
	assert_act(&f->a, RA_NONE, 0, 0);
	/* Resuming starts the hold over. */
	assert_int_equal(set_paused(f, false, NULL), 0);
	assert_int_equal(f->rs.hold_ms, 0);
}

static void max_hold_rolls_back(void **state)
{
	struct fx *f = *state;

	f->pl.on_max_hold = MAX_HOLD_ROLLBACK;
	start(f);
	evaluate_outcome(f, CHECK_ERROR);
	tick(f, 10 * MIN - 1);
	assert_int_equal(f->rs.phase, RO_STAGE);
	tick(f, 1);
	assert_int_equal(f->rs.phase, RO_ROLLED_BACK);
	assert_act(&f->a, RA_ROLLBACK, 0, HOOK_ROLLED_BACK);
	assert_reason_has(f->a.reason, "without a verdict");
}

/* ---- rolling back ---- */

static void gradual_rollback_steps_down(void **state)
{
	struct fx *f = *state;

	f->pl.rollback = ROLLBACK_GRADUAL;
	start(f);
	pass_stage(f);
	pass_stage(f);
	assert_int_equal(f->rs.weight_bp, 2500);
	evaluate(f, FAILING);
	evaluate(f, FAILING);
	assert_int_equal(f->rs.phase, RO_ROLLING_BACK);
	assert_act(&f->a, RA_ROLLBACK, 500, HOOK_ROLLED_BACK);
	assert_int_equal(f->rs.rollbacks, 1);
	assert_reason_has(f->a.reason, "rolling back by 20% every 1s, now at 5%");
	/* A rollback cannot be paused, and it goes on. */
	assert_int_equal(set_paused(f, true, NULL), -EBUSY);
	tick(f, 999);
	assert_act(&f->a, RA_NONE, 0, 0);
	assert_int_equal(f->rs.weight_bp, 500);
	tick(f, 1);
	assert_act(&f->a, RA_ROLLBACK, 0, 0);
	assert_int_equal(f->rs.phase, RO_ROLLED_BACK);
	assert_int_equal(f->rs.rollbacks, 1);
}

static void gradual_rollback_late_tick_catches_up(void **state)
{
	struct fx *f = *state;

	f->pl.rollback = ROLLBACK_GRADUAL;
	f->pl.rollback_step_bp = 1000;
	f->pl.rollback_hard = true;
	f->pl.stages[0].weight = 5000;
	start(f);
	evaluate(f, FAILING);
	evaluate(f, FAILING);
	assert_int_equal(f->rs.weight_bp, 4000);
	tick(f, 2500);		/* two steps due */
	assert_act(&f->a, RA_ROLLBACK, 2000, 0);
	assert_true(f->a.hard);
	assert_string_equal(rollout_last(&f->rs)->action, "rollback step");
	tick(f, 500);
	assert_int_equal(f->rs.weight_bp, 1000);
	tick(f, SEC);
	assert_int_equal(f->rs.phase, RO_ROLLED_BACK);
}

static void breaker_rolls_back_instantly(void **state)
{
	struct fx *f = *state;

	rollout_breaker(&f->pl, &f->rs, f->now, "breaker: canary http_5xx 0.6", &f->a);
	assert_act(&f->a, RA_NONE, 0, 0);	/* no rollout: nothing to do */
	f->pl.rollback = ROLLBACK_GRADUAL;
	start(f);
	pass_stage(f);
	assert_int_equal(set_paused(f, true, NULL), 0);
	rollout_breaker(&f->pl, &f->rs, f->now, "breaker: canary http_5xx 0.6", &f->a);
	assert_int_equal(f->rs.phase, RO_ROLLED_BACK);
	assert_act(&f->a, RA_ROLLBACK, 0, HOOK_ROLLED_BACK);
	assert_false(f->rs.paused);
	assert_int_equal(f->rs.rollbacks, 1);
	assert_string_equal(f->a.reason, "breaker: canary http_5xx 0.6: rolled back to 0%");
}

static void breaker_ends_a_gradual_rollback(void **state)
{
	struct fx *f = *state;

	f->pl.rollback = ROLLBACK_GRADUAL;
	f->pl.stages[0].weight = 5000;
	start(f);
	evaluate(f, FAILING);
	evaluate(f, FAILING);
	assert_int_equal(f->rs.phase, RO_ROLLING_BACK);
	rollout_breaker(&f->pl, &f->rs, f->now, "breaker", &f->a);
	assert_act(&f->a, RA_ROLLBACK, 0, 0);	/* rolled_back was sent already */
	assert_int_equal(f->rs.phase, RO_ROLLED_BACK);
	assert_int_equal(f->rs.rollbacks, 1);
}

/* Brings a fresh rollout to @phase. */
static void reach(struct fx *f, enum ro_phase phase)
{
	memset(&f->rs, 0, sizeof(f->rs));
	f->pl.warmup_ms = phase == RO_WARMUP ? MIN : 0;
	f->pl.warmup_bp = 50;
	f->pl.stages[0].manual = phase == RO_GATE;
	f->pl.rollback = phase == RO_ROLLING_BACK ? ROLLBACK_GRADUAL : ROLLBACK_INSTANT;
	f->pl.stages[0].weight = phase == RO_ROLLING_BACK ? 5000 : 100;
	if (phase == RO_IDLE)
		return;
	assert_int_equal(start_if(f, phase != RO_WAITING), 0);
	if (phase == RO_GATE || phase == RO_COMPLETE)
		pass_stage(f);
	if (phase == RO_COMPLETE)
		assert_int_equal(promote(f, true), 0);
	if (phase == RO_ROLLING_BACK || phase == RO_ROLLED_BACK) {
		evaluate(f, FAILING);
		evaluate(f, FAILING);
	}
	assert_int_equal(f->rs.phase, phase);
}

static void operator_rollback_from_every_phase(void **state)
{
	struct fx *f = *state;

	for (int p = RO_IDLE; p < RO_PHASE_MAX; p++) {
		reach(f, p);
		f->rs.weight_bp = 700;
		assert_int_equal(rollout_rollback(&f->pl, &f->rs, f->now, true, "bad deploy",
						  &f->a), 0);
		assert_int_equal(f->a.kind, RA_ROLLBACK);
		assert_int_equal(f->a.weight_bp, 0);
		assert_true(f->a.hard);
		assert_int_equal(f->rs.weight_bp, 0);
		assert_int_equal(f->rs.phase, p == RO_IDLE ? RO_IDLE : RO_ROLLED_BACK);
		assert_string_equal(f->a.reason, "bad deploy: rolled back to 0% (hard)");
		assert_string_equal(rollout_last(&f->rs)->action, "rollback");
	}
}

static void start_after_rollback(void **state)
{
	struct fx *f = *state;

	reach(f, RO_ROLLED_BACK);
	assert_int_equal(promote(f, false), -EINVAL);
	start(f);
	assert_int_equal(f->rs.phase, RO_STAGE);
	assert_int_equal(f->rs.failures, 0);
	assert_int_equal(f->rs.rollbacks, 1);	/* counters and history outlive a rollout */
	assert_act(&f->a, RA_WEIGHT, 100, HOOK_STARTED);
	reach(f, RO_COMPLETE);
	start(f);
	assert_int_equal(f->rs.phase, RO_STAGE);
}

/* ---- time ---- */

static void clock_going_back_adds_nothing(void **state)
{
	struct fx *f = *state;

	start(f);
	evaluate(f, PASSING);
	tick(f, MIN);
	f->now -= 10 * MIN;
	rollout_tick(&f->pl, &f->rs, f->now, true, &f->a);
	assert_int_equal(f->rs.stage_ms, MIN);
	tick(f, MIN);
	assert_int_equal(f->rs.stage_ms, 2 * MIN);
}

static void restart_resumes_mid_stage(void **state)
{
	struct fx *f = *state;
	char dir[] = "/tmp/xdp-canary-ro-XXXXXX", err[256] = "", cmd[300];
	struct canary_state *st = calloc(1, sizeof(*st));
	struct state_svc *s;

	assert_non_null(st);
	assert_non_null(mkdtemp(dir));
	start(f);
	pass_stage(f);
	evaluate(f, PASSING);
	tick(f, 3 * MIN);
	s = state_svc_add(st, "web", f->now);
	s->ro = f->rs;
	assert_int_equal(state_save(dir, st, err, sizeof(err)), 0);
	assert_int_equal(state_load(dir, st, err, sizeof(err)), 0);
	f->rs = state_svc_find(st, "web")->ro;
	assert_int_equal(f->rs.clock_ms, 0);
	assert_int_equal(f->rs.stage, 1);
	assert_int_equal(f->rs.stage_ms, 3 * MIN);
	assert_int_equal(f->rs.last_verdict, RV_PASS);
	/* An hour down: the first tick only sets the clock. */
	tick(f, 60 * MIN);
	assert_int_equal(f->rs.stage, 1);
	assert_int_equal(f->rs.stage_ms, 3 * MIN);
	tick(f, 2 * MIN - 1);
	assert_int_equal(f->rs.stage, 1);
	tick(f, 1);
	assert_int_equal(f->rs.stage, 2);
	assert_act(&f->a, RA_WEIGHT, 2500, HOOK_ADVANCED);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	free(st);
}

static void history_ring_wraps(void **state)
{
	struct fx *f = *state;
	char reason[32];

	assert_null(rollout_last(&f->rs));
	for (int i = 0; i < RO_HISTORY + 4; i++) {
		snprintf(reason, sizeof(reason), "note %d", i);
		rollout_note(&f->rs, f->now + i, RV_NONE, "test", reason);
	}
	assert_int_equal(f->rs.nhistory, RO_HISTORY);
	assert_string_equal(rollout_last(&f->rs)->reason, "note 19");
	assert_int_equal(rollout_last(&f->rs)->time_ms, f->now + 19);
	/* The oldest kept is the fifth. */
	assert_string_equal(f->rs.history[f->rs.hnext].reason, "note 4");
}

static void names_cover_every_value(void **state)
{
	(void)state;
	for (int i = 0; i < RO_PHASE_MAX; i++)
		assert_non_null(ro_phase_names[i]);
	for (int i = 0; i < RV_MAX; i++)
		assert_non_null(ro_verdict_names[i]);
	assert_string_equal(check_outcome_names[CHECK_NO_DATA], "no_data");
	assert_string_equal(ro_phase_names[RO_ROLLING_BACK], "rolling_back");
}

/* ---- judging one check ---- */

struct judge_case {
	unsigned int rules;
	double canary, stable;
	enum check_outcome outcome;
	const char *rule;
	double threshold;	/* NAN: none */
	const char *reason;	/* NULL: not looked at */
};

/* Each with max 0.05, min 10, max_ratio 2, max_delta 0.01. */
static const struct judge_case judge_cases[] = {
	{ RULE_MAX, 0.002, NAN, CHECK_PASS, "max", 0.05, "canary 0.002 <= max 0.05" },
	{ RULE_MAX, 0.31, NAN, CHECK_FAIL, "max", 0.05, "canary 0.31 > max 0.05" },
	{ RULE_MAX, 0.05, NAN, CHECK_PASS, "max", 0.05, NULL },	/* the limit itself passes */
	{ RULE_MIN, 9, NAN, CHECK_FAIL, "min", 10, "canary 9 < min 10" },
	{ RULE_MIN, 10, NAN, CHECK_PASS, "min", 10, NULL },
	{ RULE_MAX_RATIO, 0.03, 0.01, CHECK_FAIL, "max_ratio", 0.02,
	  "canary 0.03 > max_ratio 2 x stable = 0.02" },
	{ RULE_MAX_RATIO, 0.02, 0.01, CHECK_PASS, "max_ratio", 0.02, NULL },
	/* Stable at 0: a canary at 0 passes, any error fails. */
	{ RULE_MAX_RATIO, 0, 0, CHECK_PASS, "max_ratio", 0, NULL },
	{ RULE_MAX_RATIO, 0.001, 0, CHECK_FAIL, "max_ratio", 0, NULL },
	{ RULE_MAX_DELTA, 0.025, 0.01, CHECK_FAIL, "max_delta", 0.02,
	  "canary 0.025 > stable + max_delta 0.01 = 0.02" },
	{ RULE_MAX_DELTA, 0.015, 0.01, CHECK_PASS, "max_delta", 0.02, NULL },
	/* Every rule must hold; the first that does not is the one reported. */
	{ RULE_MAX | RULE_MAX_RATIO, 0.3, 0.01, CHECK_FAIL, "max", 0.05, NULL },
	{ RULE_MAX | RULE_MAX_RATIO, 0.04, 0.01, CHECK_FAIL, "max_ratio", 0.02, NULL },
	{ RULE_MAX | RULE_MAX_RATIO, 0.015, 0.01, CHECK_PASS, "max", 0.05,
	  "canary 0.015 <= max 0.05, <= max_ratio 2 x stable = 0.02" },
	{ RULE_MAX, NAN, 0.01, CHECK_NO_DATA, "", NAN, "no data" },
	/* Without a stable value only absolute rules are judged, and the reason says so. */
	{ RULE_MAX_RATIO | RULE_MAX_DELTA, 0.3, NAN, CHECK_NO_DATA, "", NAN,
	  "no stable value to compare with" },
	{ RULE_MAX | RULE_MAX_RATIO | RULE_MAX_DELTA, 0.01, NAN, CHECK_PASS, "max", 0.05,
	  "canary 0.01 <= max 0.05; without a stable value, not judged: max_ratio, max_delta" },
	{ RULE_MAX | RULE_MAX_RATIO | RULE_MAX_DELTA, 0.3, NAN, CHECK_FAIL, "max", 0.05, NULL },
	/* Infinities compare as numbers. */
	{ RULE_MAX, INFINITY, NAN, CHECK_FAIL, "max", 0.05, "canary inf > max 0.05" },
	{ RULE_MAX, -INFINITY, NAN, CHECK_PASS, "max", 0.05, NULL },
	{ RULE_MIN, -INFINITY, NAN, CHECK_FAIL, "min", 10, "canary -inf < min 10" },
	{ RULE_MAX_RATIO, 5, INFINITY, CHECK_PASS, "max_ratio", INFINITY, NULL },
	{ RULE_MAX_RATIO, INFINITY, INFINITY, CHECK_PASS, "max_ratio", INFINITY, NULL },
	{ RULE_MAX_RATIO, INFINITY, 1, CHECK_FAIL, "max_ratio", 2, NULL },
};

static struct plan_check judged(unsigned int rules)
{
	struct plan_check c;

	memset(&c, 0, sizeof(c));
	snprintf(c.name, sizeof(c.name), "err");
	c.rules = rules;
	c.max = 0.05;
	c.min = 10;
	c.max_ratio = 2;
	c.max_delta = 0.01;
	return c;
}

static void judge_rules(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(judge_cases) / sizeof(judge_cases[0]); i++) {
		const struct judge_case *t = &judge_cases[i];
		struct plan_check c = judged(t->rules);
		struct ro_check_result r;

		check_judge(&c, t->canary, t->stable, 1000, &r);
		if (r.outcome != t->outcome || strcmp(r.rule, t->rule) ||
		    (t->reason && strcmp(r.reason, t->reason)))
			fail_msg("case %zu: %s, rule \"%s\", \"%s\"", i,
				 check_outcome_names[r.outcome], r.rule, r.reason);
		if (isnan(t->threshold))
			assert_true(isnan(r.threshold));
		else if (isinf(t->threshold))
			assert_true(isinf(r.threshold));
		else
			assert_float_equal(r.threshold, t->threshold, 1e-12);
		assert_true(isnan(t->canary) ? isnan(r.canary) : r.canary == t->canary);
	}
}

static void judge_min_samples(void **state)
{
	struct plan_check c = judged(RULE_MAX);
	struct ro_check_result r;

	(void)state;
	c.min_samples = 500;
	c.critical = true;
	check_judge(&c, 0.3, 0.01, 412, &r);
	assert_int_equal(r.outcome, CHECK_NO_DATA);
	assert_string_equal(r.reason, "412 samples, fewer than min_samples 500");
	assert_string_equal(r.name, "err");
	assert_true(r.critical);
	assert_false(r.dry_run);
	check_judge(&c, 0.3, 0.01, 500, &r);
	assert_int_equal(r.outcome, CHECK_FAIL);
	assert_int_equal(r.samples, 500);
	assert_float_equal(r.stable, 0.01, 1e-12);
}

static void judge_unmeasured(void **state)
{
	struct plan_check c = judged(RULE_MAX);
	struct ro_check_result r;

	(void)state;
	c.dry_run = true;
	check_unmeasured(&c, CHECK_ERROR, "HTTP 503: service unavailable", &r);
	assert_int_equal(r.outcome, CHECK_ERROR);
	assert_string_equal(r.reason, "HTTP 503: service unavailable");
	assert_true(r.dry_run);
	assert_true(isnan(r.canary) && isnan(r.stable) && isnan(r.threshold));
	assert_string_equal(r.rule, "");
}

#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(start_enters_first_stage),
		T(start_waits_for_healthy_backends),
		T(warmup_then_first_stage),
		T(start_while_running_is_busy),
		T(hold_not_over_does_not_advance),
		T(hold_over_needs_a_pass),
		T(full_progression_completes),
		T(manual_gate_waits_for_promote),
		T(promote_skips_a_stage),
		T(promote_full_completes_at_100),
		T(promote_refused_without_a_running_rollout),
		T(pause_stops_time_and_resume_continues),
		T(pause_twice_and_pause_nothing),
		T(paused_rollout_still_rolls_back_on_failures),
		T(weight_set_by_hand_pauses),
		T(failure_limit_counts_consecutive_failures),
		T(critical_check_rolls_back_at_once),
		T(dry_run_never_acts_but_is_told),
		T(no_checks_pass),
		T(errors_hold_never_fail_nor_pass),
		T(on_no_data_decides),
		T(max_hold_pauses),
		T(max_hold_rolls_back),
		T(gradual_rollback_steps_down),
		T(gradual_rollback_late_tick_catches_up),
		T(breaker_rolls_back_instantly),
		T(breaker_ends_a_gradual_rollback),
		T(operator_rollback_from_every_phase),
		T(start_after_rollback),
		T(clock_going_back_adds_nothing),
		T(restart_resumes_mid_stage),
		T(history_ring_wraps),
		T(names_cover_every_value),
		T(judge_rules),
		T(judge_min_samples),
		T(judge_unmeasured),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
