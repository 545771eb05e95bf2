// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The rollout state machine (rollout.h). The choices its header leaves open:
 * - Checks keep running while a rollout is paused, and still roll it back: a pause stops
 *   progress, not protection. Paused time counts neither toward a stage's hold nor max_hold.
 * - A rollback, once begun, runs to its end: it cannot be paused, and a paused rollout that rolls
 *   back is no longer paused.
 * - The breaker, a critical check and an operator roll back at once, whatever the plan's mode;
 *   failure_limit and max_hold roll back the plan's way, instant or gradual.
 * - "started" is sent when start is asked, even when the rollout then waits for its backends;
 *   each stage the rollout enters by itself (after waiting, the warm-up or a stage) sends
 *   "advanced"; a gradual rollback sends "rolled_back" once, when it begins.
 * - promote keeps the paused flag as it is; a weight set by hand sets it; only resume clears it.
 * - Results of an evaluation that ends after the rollout left warm-up, stage or gate are ignored.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "canary_abi.h"
#include "rollout.h"

/*
 * Room a reason keeps for what led to it; the rest is for what was done about it, the longest
 * being ": rolling back by 12.34% every 1m30.5s, now at 12.34%".
 */
#define WHY_MAX		(RO_TEXT_MAX - 60)

const char *const ro_phase_names[RO_PHASE_MAX] = {
	[RO_IDLE] = "idle",
	[RO_WAITING] = "waiting",
	[RO_WARMUP] = "warmup",
	[RO_STAGE] = "stage",
	[RO_GATE] = "gate",
	[RO_COMPLETE] = "complete",
	[RO_ROLLING_BACK] = "rolling_back",
	[RO_ROLLED_BACK] = "rolled_back",
};

const char *const check_outcome_names[CHECK_OUTCOME_MAX] = {
	[CHECK_PASS] = "pass",
	[CHECK_FAIL] = "fail",
	[CHECK_NO_DATA] = "no_data",
	[CHECK_ERROR] = "error",
};

const char *const ro_verdict_names[RV_MAX] = {
	[RV_NONE] = "none",
	[RV_PASS] = "pass",
	[RV_FAIL] = "fail",
	[RV_HOLD] = "hold",
};

/*
 * Short texts made in place for a reason: a weight, a duration, a stage, a phase. Sized for
 * what they hold, so that the compiler can see that nothing is cut.
 */
struct pct_text {
	char s[16];
};

struct dur_text {
	char s[32];
};

struct stage_text {
	char s[64];
};

struct text {
	char s[128];
};

static struct pct_text pct(__u16 bp)
{
	struct pct_text w;

	snprintf(w.s, sizeof(w.s), "%g%%", bp / 100.0);
	return w;
}

static struct dur_text dur(__u64 ms)
{
	struct dur_text w;

	duration_format(ms, w.s, sizeof(w.s));
	return w;
}

/* The stage @i, clamped: a reloaded plan may have fewer stages than the rollout had reached. */
static const struct plan_stage *stage_at(const struct plan *pl, unsigned int i)
{
	return &pl->stages[i < pl->nstages ? i : (pl->nstages ? pl->nstages - 1 : 0)];
}

static struct stage_text stage_name(const struct plan *pl, unsigned int i)
{
	struct stage_text w;

	snprintf(w.s, sizeof(w.s), "stage %u of %u (%s)", i + 1, pl->nstages,
		 pct(stage_at(pl, i)->weight).s);
	return w;
}

static bool last_stage(const struct plan *pl, const struct rollout_state *rs)
{
	return rs->stage + 1u >= pl->nstages;
}

/* Phases in which the rollout steers the weight, and which a pause therefore stops. */
static bool steering(const struct rollout_state *rs)
{
	return rs->phase == RO_WAITING || rs->phase == RO_WARMUP || rs->phase == RO_STAGE ||
	       rs->phase == RO_GATE;
}

static bool running(const struct rollout_state *rs)
{
	return steering(rs) || rs->phase == RO_ROLLING_BACK;
}

bool rollout_evaluates(const struct rollout_state *rs)
{
	return rs->phase == RO_WARMUP || rs->phase == RO_STAGE || rs->phase == RO_GATE;
}

/* Where a running rollout is, for errors: "at stage 3 of 5 (25%), paused". */
static struct text where(const struct plan *pl, const struct rollout_state *rs)
{
	struct text w;

	switch (rs->phase) {
	case RO_WAITING:
		snprintf(w.s, sizeof(w.s), "waiting for healthy canary backends");
		break;
	case RO_WARMUP:
		snprintf(w.s, sizeof(w.s), "in warm-up at %s", pct(rs->weight_bp).s);
		break;
	case RO_GATE:
		snprintf(w.s, sizeof(w.s), "gate after %s", stage_name(pl, rs->stage).s);
		break;
	case RO_ROLLING_BACK:
		snprintf(w.s, sizeof(w.s), "rolling back, at %s", pct(rs->weight_bp).s);
		break;
	default:
		snprintf(w.s, sizeof(w.s), "%s", stage_name(pl, rs->stage).s);
	}
	if (rs->paused)
		snprintf(w.s + strlen(w.s), sizeof(w.s) - strlen(w.s), ", paused");
	return w;
}

void rollout_note(struct rollout_state *rs, __u64 now, enum ro_verdict v, const char *action,
		  const char *reason)
{
	struct ro_decision *d = &rs->history[rs->hnext % RO_HISTORY];

	memset(d, 0, sizeof(*d));
	d->time_ms = now;
	d->stage = rs->stage;
	d->weight_bp = rs->weight_bp;
	d->verdict = v;
	snprintf(d->action, sizeof(d->action), "%s", action ? action : "");
	snprintf(d->reason, sizeof(d->reason), "%s", reason ? reason : "");
	rs->hnext = (rs->hnext + 1) % RO_HISTORY;
	if (rs->nhistory < RO_HISTORY)
		rs->nhistory++;
}

/* Where the newest decision is in the ring (which must not be empty). */
static unsigned int newest(const struct rollout_state *rs)
{
	return (rs->hnext + RO_HISTORY - 1) % RO_HISTORY;
}

void rollout_annotate(struct rollout_state *rs, struct ro_action *a, const char *why)
{
	struct ro_decision *d;
	size_t n;

	if (!rs->nhistory || !why || !why[0])
		return;
	d = &rs->history[newest(rs)];
	n = strlen(d->reason);
	snprintf(d->reason + n, sizeof(d->reason) - n, " (%s)", why);
	snprintf(a->reason, sizeof(a->reason), "%s", d->reason);
}

const struct ro_decision *rollout_last(const struct rollout_state *rs)
{
	return rs->nhistory ? &rs->history[newest(rs)] : NULL;
}

/* Records a decision, and hands its reason and event to the caller. */
__attribute__((format(printf, 7, 8)))
static void decide(struct rollout_state *rs, __u64 now, enum ro_verdict v, const char *action,
		   __u32 event, struct ro_action *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->reason, sizeof(a->reason), fmt, ap);
	va_end(ap);
	a->event = event;
	rollout_note(rs, now, v, action, a->reason);
}

static void action_init(struct ro_action *a, const struct rollout_state *rs)
{
	memset(a, 0, sizeof(*a));
	a->kind = RA_NONE;
	a->weight_bp = rs->weight_bp;
}

static void move_weight(struct rollout_state *rs, struct ro_action *a, enum ro_act kind,
			__u16 bp, bool hard)
{
	rs->weight_bp = bp;
	a->kind = kind;
	a->weight_bp = bp;
	a->hard = hard;
}

/*
 * Counts the time since the last call into the phase (and the hold), when the rollout runs.
 * The first call after a restart only sets the clock: nobody watched the time in between.
 */
static void account(struct rollout_state *rs, __u64 now)
{
	__u64 d = rs->clock_ms && now > rs->clock_ms ? now - rs->clock_ms : 0;

	rs->clock_ms = now;
	if (rs->phase == RO_ROLLING_BACK) {
		rs->stage_ms += d;
		return;
	}
	if (!rollout_evaluates(rs) || rs->paused)
		return;
	rs->stage_ms += d;
	if (rs->last_verdict == RV_HOLD)
		rs->hold_ms += d;
}

static void phase_clock_reset(struct rollout_state *rs)
{
	rs->stage_ms = 0;
	rs->hold_ms = 0;
	rs->failures = 0;
	rs->last_verdict = RV_NONE;
}

static void enter_stage(const struct plan *pl, struct rollout_state *rs, unsigned int i,
			struct ro_action *a)
{
	rs->phase = RO_STAGE;
	rs->stage = i;
	phase_clock_reset(rs);
	move_weight(rs, a, RA_WEIGHT, stage_at(pl, i)->weight, false);
}

/* The warm-up if the plan has one, else the first stage. */
static struct text enter_first(const struct plan *pl, struct rollout_state *rs,
			       struct ro_action *a)
{
	struct text w;

	if (!pl->warmup_ms) {
		enter_stage(pl, rs, 0, a);
		snprintf(w.s, sizeof(w.s), "%s", stage_name(pl, 0).s);
		return w;
	}
	rs->phase = RO_WARMUP;
	rs->stage = 0;
	phase_clock_reset(rs);
	move_weight(rs, a, RA_WEIGHT, pl->warmup_bp, false);
	snprintf(w.s, sizeof(w.s), "warm-up at %s for %s", pct(pl->warmup_bp).s,
		 dur(pl->warmup_ms).s);
	return w;
}

/* @w less @n steps of @step, at least 0; a step of 0 goes to 0 at once. */
static __u16 step_down(__u16 w, __u16 step, __u64 n)
{
	if (!step || n > (__u64)w / step)
		return 0;
	return w - step * n;
}

/*
 * Rolls back because of @why: to 0 at once, or (@gradual) by the plan's first step. From idle
 * (an operator's rollback with no rollout) the weight goes to 0 and the phase stays idle.
 */
static void roll_back(const struct plan *pl, struct rollout_state *rs, __u64 now,
		      enum ro_verdict v, bool gradual, bool hard, const char *why,
		      struct ro_action *a)
{
	__u16 to = gradual ? step_down(rs->weight_bp, pl->rollback_step_bp, 1) : 0;
	bool again = rs->phase == RO_ROLLING_BACK;

	if (!again)
		rs->rollbacks++;
	rs->paused = false;
	rs->stage_ms = 0;
	move_weight(rs, a, RA_ROLLBACK, to, hard);
	if (rs->phase != RO_IDLE)
		rs->phase = to ? RO_ROLLING_BACK : RO_ROLLED_BACK;
	if (to)
		decide(rs, now, v, "rollback", HOOK_ROLLED_BACK, a,
		       "%.*s: rolling back by %s every %s, now at %s", WHY_MAX, why,
		       pct(pl->rollback_step_bp).s, dur(pl->rollback_every_ms).s, pct(to).s);
	else
		decide(rs, now, v, "rollback", again ? 0 : HOOK_ROLLED_BACK, a,
		       "%.*s: rolled back to 0%%%s", WHY_MAX, why, hard ? " (hard)" : "");
}

/* The rollback a plan asks for when checks fail or hold too long. */
static void plan_roll_back(const struct plan *pl, struct rollout_state *rs, __u64 now,
			   enum ro_verdict v, const char *why, struct ro_action *a)
{
	roll_back(pl, rs, now, v, pl->rollback == ROLLBACK_GRADUAL, pl->rollback_hard, why, a);
}

int rollout_start(const struct plan *pl, struct rollout_state *rs, __u64 now, bool healthy,
		  struct ro_action *a, char *err, size_t errlen)
{
	action_init(a, rs);
	account(rs, now);
	if (running(rs)) {
		snprintf(err, errlen, "a rollout is running (%s): %s first", where(pl, rs).s,
			 rollout_evaluates(rs) ? "promote it --full or roll it back" :
						 "roll it back");
		return -EBUSY;
	}
	if (!pl->nstages) {
		snprintf(err, errlen, "the rollout plan has no stages");
		return -EINVAL;
	}
	rs->paused = false;
	rs->started_ms = now;
	rs->stage = 0;
	phase_clock_reset(rs);
	if (!healthy) {
		rs->phase = RO_WAITING;
		decide(rs, now, RV_NONE, "start", HOOK_STARTED, a,
		       "started: waiting for canary backends to pass health checks");
		return 0;
	}
	decide(rs, now, RV_NONE, "start", HOOK_STARTED, a, "started: %s",
	       enter_first(pl, rs, a).s);
	return 0;
}

/* The stage's hold is over with its checks passing: the gate, the next stage, or the end. */
static void stage_done(const struct plan *pl, struct rollout_state *rs, __u64 now,
		       struct ro_action *a)
{
	struct stage_text from = stage_name(pl, rs->stage);
	struct dur_text held = dur(rs->stage_ms);

	if (stage_at(pl, rs->stage)->manual) {
		rs->phase = RO_GATE;
		decide(rs, now, RV_NONE, "gate", 0, a,
		       "%s held %s with checks passing: waiting for promote", from.s, held.s);
	} else if (last_stage(pl, rs)) {
		rs->phase = RO_COMPLETE;
		decide(rs, now, RV_NONE, "complete", HOOK_COMPLETED, a,
		       "%s held %s with checks passing: rollout complete", from.s, held.s);
	} else {
		enter_stage(pl, rs, rs->stage + 1, a);
		decide(rs, now, RV_NONE, "advance", HOOK_ADVANCED, a,
		       "%s held %s with checks passing: advancing to %s", from.s, held.s,
		       pct(rs->weight_bp).s);
	}
}

static bool stage_over(const struct plan *pl, const struct rollout_state *rs)
{
	return !rs->paused && rs->last_verdict == RV_PASS &&
	       rs->stage_ms >= stage_at(pl, rs->stage)->hold_ms;
}

/* Too long without a verdict (no data, errors): pause, or roll back, as the plan says. */
static void max_hold_check(const struct plan *pl, struct rollout_state *rs, __u64 now,
			   struct ro_action *a)
{
	char why[RO_TEXT_MAX];

	if (rs->paused || !pl->max_hold_ms || rs->hold_ms < pl->max_hold_ms)
		return;
	snprintf(why, sizeof(why), "held %s without a verdict (no data or errors)",
		 dur(rs->hold_ms).s);
	if (pl->on_max_hold == MAX_HOLD_ROLLBACK) {
		plan_roll_back(pl, rs, now, RV_NONE, why, a);
		return;
	}
	rs->paused = true;
	decide(rs, now, RV_NONE, "pause", HOOK_PAUSED, a, "%s: paused", why);
}

/* A gradual rollback takes the steps due since the last one (several if ticks came late). */
static void rollback_steps(const struct plan *pl, struct rollout_state *rs, __u64 now,
			   struct ro_action *a)
{
	__u64 every = pl->rollback_every_ms ? pl->rollback_every_ms : 1;
	__u64 n = rs->stage_ms / every;

	if (!n)
		return;
	rs->stage_ms %= every;
	move_weight(rs, a, RA_ROLLBACK, step_down(rs->weight_bp, pl->rollback_step_bp, n),
		    pl->rollback_hard);
	if (rs->weight_bp) {
		decide(rs, now, RV_NONE, "rollback step", 0, a, "gradual rollback: now at %s",
		       pct(rs->weight_bp).s);
		return;
	}
	rs->phase = RO_ROLLED_BACK;
	decide(rs, now, RV_NONE, "rollback", 0, a, "gradual rollback done: canary at 0%%");
}

void rollout_tick(const struct plan *pl, struct rollout_state *rs, __u64 now, bool healthy,
		  struct ro_action *a)
{
	struct dur_text held;

	action_init(a, rs);
	account(rs, now);
	switch (rs->phase) {
	case RO_WAITING:
		if (healthy && !rs->paused)
			decide(rs, now, RV_NONE, "advance", HOOK_ADVANCED, a,
			       "canary backends healthy: %s", enter_first(pl, rs, a).s);
		break;
	case RO_WARMUP:
		if (rs->paused || rs->stage_ms < pl->warmup_ms)
			break;
		held = dur(rs->stage_ms);
		enter_stage(pl, rs, 0, a);
		decide(rs, now, RV_NONE, "advance", HOOK_ADVANCED, a, "warm-up over after %s: %s",
		       held.s, stage_name(pl, 0).s);
		break;
	case RO_STAGE:
		if (stage_over(pl, rs))
			stage_done(pl, rs, now, a);
		else
			max_hold_check(pl, rs, now, a);
		break;
	case RO_GATE:
		max_hold_check(pl, rs, now, a);
		break;
	case RO_ROLLING_BACK:
		rollback_steps(pl, rs, now, a);
		break;
	default:
		break;
	}
}

static const struct plan_check *check_find(const struct plan *pl, const char *name)
{
	for (unsigned int i = 0; i < pl->nchecks; i++)
		if (!strcmp(pl->checks[i].name, name))
			return &pl->checks[i];
	return NULL;
}

/*
 * What one result counts as. No data counts as its check's on_no_data says; an error never
 * counts as a pass or a failure: a Prometheus that is down must neither advance nor roll back.
 */
static enum ro_verdict check_verdict(const struct plan *pl, const struct ro_check_result *r)
{
	const struct plan_check *c;

	switch (r->outcome) {
	case CHECK_PASS:
		return RV_PASS;
	case CHECK_FAIL:
		return RV_FAIL;
	case CHECK_NO_DATA:
		c = check_find(pl, r->name);
		if (c && c->on_no_data == NO_DATA_FAIL)
			return RV_FAIL;
		if (c && c->on_no_data == NO_DATA_PASS)
			return RV_PASS;
		return RV_HOLD;
	default:
		return RV_HOLD;
	}
}

struct tally {
	enum ro_verdict v;
	bool critical;		/* a failing check is critical */
};

/* Any acting failure fails the evaluation; else any hold holds it; else it passed. */
static struct tally tally(const struct plan *pl, const struct ro_check_result *res,
			  unsigned int n)
{
	struct tally t = { RV_PASS, false };

	for (unsigned int i = 0; i < n; i++) {
		enum ro_verdict v = res[i].dry_run ? RV_PASS : check_verdict(pl, &res[i]);

		if (v == RV_FAIL) {
			t.v = RV_FAIL;
			t.critical |= res[i].critical;
		} else if (v == RV_HOLD && t.v == RV_PASS) {
			t.v = RV_HOLD;
		}
	}
	return t;
}

/*
 * "5xx: canary 0.31 > max 0.05 (stable 0.002, 412 samples)", "p99: no data (on_no_data fail)";
 * a pass without its numbers in brackets, to leave room for what went wrong.
 */
static int check_text(const struct plan *pl, const struct ro_check_result *r, char *buf,
		      size_t len)
{
	enum ro_verdict v = check_verdict(pl, r);
	const char *what = "", *note = "";
	char numbers[64] = "";

	switch (r->outcome) {
	case CHECK_PASS:
		break;
	case CHECK_FAIL:
		if (r->samples == RO_SAMPLES_UNKNOWN && !isnan(r->stable))
			snprintf(numbers, sizeof(numbers), " (stable %.4g)", r->stable);
		else if (r->samples == RO_SAMPLES_UNKNOWN)
			break;
		else if (isnan(r->stable))
			snprintf(numbers, sizeof(numbers), " (%llu samples)",
				 (unsigned long long)r->samples);
		else
			snprintf(numbers, sizeof(numbers), " (stable %.4g, %llu samples)",
				 r->stable, (unsigned long long)r->samples);
		break;
	case CHECK_NO_DATA:
		what = strcmp(r->reason, "no data") ? "no data, " : "";
		note = v == RV_FAIL ? " (on_no_data fail)" :
		       v == RV_PASS ? " (on_no_data pass)" : "";
		break;
	default:
		what = "error: ";
	}
	return snprintf(buf, len, "%s%s: %s%s%s%s", r->dry_run ? "[dry run] " : "", r->name, what,
			r->reason, numbers, note);
}

static bool summarized(const struct plan *pl, const struct ro_check_result *r, enum ro_verdict v,
		       bool dry_run)
{
	if (r->dry_run != dry_run)
		return false;
	return dry_run ? r->outcome != CHECK_PASS : check_verdict(pl, r) == v;
}

/*
 * The checks the verdict @v rests on, then the dry-run checks that did not pass, cut with "..."
 * when they do not fit.
 */
static void summarize(const struct plan *pl, const struct ro_check_result *res, unsigned int n,
		      enum ro_verdict v, char *buf, size_t len)
{
	size_t at = 0;

	buf[0] = '\0';
	for (int dry = 0; dry < 2; dry++) {
		for (unsigned int i = 0; i < n && at + 4 < len; i++) {
			if (!summarized(pl, &res[i], v, dry))
				continue;
			if (at)
				at += snprintf(buf + at, len - at, "; ");
			at += check_text(pl, &res[i], buf + at, len - at);
		}
	}
	if (at >= len)
		snprintf(buf + len - 4, 4, "...");
	if (!at)
		snprintf(buf, len, "%s", n ? "every check is a dry run" : "no checks configured");
}

static void evaluated_pass(const struct plan *pl, struct rollout_state *rs, __u64 now,
			   const char *checks, struct ro_action *a)
{
	__u64 left = rollout_time_left(pl, rs);
	char then[128] = "";

	if (rs->phase == RO_GATE)
		snprintf(then, sizeof(then), "; waiting for promote");
	else if (left)
		snprintf(then, sizeof(then), "; %s left in %s", dur(left).s,
			 stage_name(pl, rs->stage).s);
	decide(rs, now, RV_PASS, "none", 0, a, "%s%s%s", checks,
	       rs->failures ? "; failure count reset" : "", then);
	rs->failures = 0;
	rs->hold_ms = 0;
}

static void evaluated_hold(const struct plan *pl, struct rollout_state *rs, __u64 now,
			   const char *checks, struct ro_action *a)
{
	struct dur_text held = dur(rs->hold_ms), limit = dur(pl->max_hold_ms);

	if (rs->hold_ms)
		decide(rs, now, RV_HOLD, "hold", 0, a,
		       "%s; holding: no verdict for %s of max_hold %s", checks, held.s, limit.s);
	else
		decide(rs, now, RV_HOLD, "hold", 0, a, "%s; holding (max_hold %s)", checks,
		       limit.s);
}

static void evaluated_fail(const struct plan *pl, struct rollout_state *rs, __u64 now,
			   const struct tally *t, const char *checks, struct ro_action *a)
{
	unsigned int limit = pl->failure_limit ? pl->failure_limit : 1;
	char why[RO_TEXT_MAX];

	rs->failures++;
	rs->hold_ms = 0;
	if (t->critical) {
		snprintf(why, sizeof(why), "%s; a critical check failed", checks);
		roll_back(pl, rs, now, RV_FAIL, false, pl->rollback_hard, why, a);
	} else if (rs->failures >= limit) {
		snprintf(why, sizeof(why), "%s; failure %u of %u", checks, rs->failures, limit);
		plan_roll_back(pl, rs, now, RV_FAIL, why, a);
	} else {
		decide(rs, now, RV_FAIL, "count failure", 0, a, "%s; failure %u of %u", checks,
		       rs->failures, limit);
	}
}

enum ro_verdict rollout_evaluated(const struct plan *pl, struct rollout_state *rs, __u64 now,
				  const struct ro_check_result *res, unsigned int n,
				  struct ro_action *a)
{
	char checks[WHY_MAX - 26];	/* room for "; failure 10 of 10" and the like */
	struct tally t;

	action_init(a, rs);
	account(rs, now);
	if (!rollout_evaluates(rs))
		return RV_NONE;
	t = tally(pl, res, n);
	rs->evaluations[t.v]++;
	rs->last_verdict = t.v;
	summarize(pl, res, n, t.v, checks, sizeof(checks));
	if (rs->phase == RO_WARMUP)
		decide(rs, now, t.v, "none (warm-up)", 0, a, "%s: %s", ro_verdict_names[t.v],
		       checks);
	else if (t.v == RV_PASS)
		evaluated_pass(pl, rs, now, checks, a);
	else if (t.v == RV_HOLD)
		evaluated_hold(pl, rs, now, checks, a);
	else
		evaluated_fail(pl, rs, now, &t, checks, a);
	return t.v;
}

void rollout_breaker(const struct plan *pl, struct rollout_state *rs, __u64 now,
		     const char *reason, struct ro_action *a)
{
	action_init(a, rs);
	account(rs, now);
	if (running(rs))
		roll_back(pl, rs, now, RV_NONE, false, pl->rollback_hard,
			  reason && *reason ? reason : "the breaker tripped", a);
}

/* Whether there is something to promote: a rollout past waiting that is not rolling back. */
static int promotable(const struct rollout_state *rs, char *err, size_t errlen)
{
	if (rollout_evaluates(rs))
		return 0;
	if (rs->phase == RO_WAITING)
		snprintf(err, errlen, "the rollout waits for its canary backends to pass health "
			 "checks: nothing to promote yet");
	else if (rs->phase == RO_ROLLING_BACK)
		snprintf(err, errlen, "a rollback is under way: nothing to promote");
	else
		snprintf(err, errlen, "no rollout running: canaryctl start SERVICE");
	return running(rs) ? -EBUSY : -EINVAL;
}

int rollout_promote(const struct plan *pl, struct rollout_state *rs, __u64 now, bool full,
		    struct ro_action *a, char *err, size_t errlen)
{
	struct stage_text from = stage_name(pl, rs->stage);
	int ret;

	action_init(a, rs);
	account(rs, now);
	ret = promotable(rs, err, errlen);
	if (ret)
		return ret;
	if (rs->phase == RO_WARMUP)
		snprintf(from.s, sizeof(from.s), "the warm-up");
	if (full) {
		rs->phase = RO_COMPLETE;
		rs->stage = pl->nstages ? pl->nstages - 1 : 0;
		move_weight(rs, a, RA_WEIGHT, CANARY_WEIGHT_MAX, false);
		decide(rs, now, RV_NONE, "promote", HOOK_PROMOTED, a,
		       "promoted --full from %s: rollout complete at 100%%", from.s);
	} else if (rs->phase == RO_WARMUP) {
		enter_stage(pl, rs, 0, a);
		decide(rs, now, RV_NONE, "promote", HOOK_PROMOTED, a, "promoted from %s to %s",
		       from.s, stage_name(pl, 0).s);
	} else if (last_stage(pl, rs)) {
		rs->phase = RO_COMPLETE;
		decide(rs, now, RV_NONE, "promote", HOOK_PROMOTED, a,
		       "promoted from %s, the last: rollout complete", from.s);
	} else {
		enter_stage(pl, rs, rs->stage + 1, a);
		decide(rs, now, RV_NONE, "promote", HOOK_PROMOTED, a, "promoted from %s to %s",
		       from.s, stage_name(pl, rs->stage).s);
	}
	return 0;
}

int rollout_pause(struct rollout_state *rs, __u64 now, bool pause, const char *reason,
		  struct ro_action *a, char *err, size_t errlen)
{
	action_init(a, rs);
	account(rs, now);
	if (!steering(rs)) {
		snprintf(err, errlen, "%s", rs->phase == RO_ROLLING_BACK ?
			 "a rollback is under way: it cannot be paused" :
			 "no rollout running: canaryctl start SERVICE");
		return rs->phase == RO_ROLLING_BACK ? -EBUSY : -EINVAL;
	}
	if (rs->paused == pause) {
		snprintf(a->reason, sizeof(a->reason), "%s",
			 pause ? "already paused" : "not paused");
		return 0;
	}
	rs->paused = pause;
	if (!pause)
		rs->hold_ms = 0;	/* the hold counts again from the resume */
	decide(rs, now, RV_NONE, pause ? "pause" : "resume", pause ? HOOK_PAUSED : HOOK_RESUMED,
	       a, "%.*s: %s", WHY_MAX, reason && *reason ? reason : "an operator asked",
	       pause ? "paused" : "resumed");
	return 0;
}

int rollout_rollback(const struct plan *pl, struct rollout_state *rs, __u64 now, bool hard,
		     const char *reason, struct ro_action *a)
{
	action_init(a, rs);
	account(rs, now);
	roll_back(pl, rs, now, RV_NONE, false, hard,
		  reason && *reason ? reason : "an operator asked", a);
	return 0;
}

void rollout_weight_set(struct rollout_state *rs, __u64 now, __u16 bp, const char *by)
{
	struct ro_action a;
	const char *then;

	account(rs, now);
	rs->weight_bp = bp;
	if (rs->phase == RO_ROLLING_BACK) {
		rs->phase = RO_ROLLED_BACK;
		then = "gradual rollback stopped";
	} else if (steering(rs)) {
		rs->paused = true;
		then = "rollout paused";
	} else {
		return;		/* no rollout: the weight is the operator's, state.c keeps why */
	}
	decide(rs, now, RV_NONE, "weight", 0, &a, "weight set by hand to %s by %.*s: %s",
	       pct(bp).s, WHY_MAX - 40, by && *by ? by : "an operator", then);
}

__u64 rollout_time_left(const struct plan *pl, const struct rollout_state *rs)
{
	__u64 total;

	if (rs->phase == RO_STAGE)
		total = stage_at(pl, rs->stage)->hold_ms;
	else if (rs->phase == RO_WARMUP)
		total = pl->warmup_ms;
	else
		return 0;
	return rs->stage_ms < total ? total - rs->stage_ms : 0;
}
