/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The rollout state machine: where a service's rollout is (phase, stage, time in stage, failure
 * count) and what to do next. Pure logic: it touches no map, no file and no clock. Its caller (the
 * engine in canaryd, or a test with a fake clock) passes the time, the health of the canary pool
 * and the results of each evaluation, and carries out the action it gets back. Every decision is
 * kept in a short history, with its reason, so that anyone can read why the weight moved.
 *
 *   idle --start--> waiting (canary backends not all healthy yet) --healthy--> warmup | stage 0
 *   warmup --duration over--> stage 0
 *   stage i --hold over, last evaluation passed--> stage i+1  (or gate: waits for promote)
 *   last stage --hold over, last evaluation passed--> complete
 *   any running phase --failure_limit failed evaluations in a row, a critical failure, the
 *        breaker, max_hold with on_max_hold rollback, or an operator--> rolled_back
 *        (through rolling_back when the rollback is gradual)
 *   rolled_back | complete --start--> a new rollout
 *
 * Time in a stage counts only while the rollout runs unpaused and the caller ticks: a restarted
 * agent resumes mid-stage, without counting the time nobody was watching as healthy.
 */
#ifndef XDP_CANARY_ROLLOUT_H
#define XDP_CANARY_ROLLOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "plan.h"

#define RO_HISTORY	16
#define RO_TEXT_MAX	200
#define RO_SAMPLES_UNKNOWN	((__u64)-1)

enum ro_phase {
	RO_IDLE = 0,		/* no rollout: the weight is the operator's */
	RO_WAITING,		/* started; waiting for every canary backend to pass its health check */
	RO_WARMUP,
	RO_STAGE,		/* in stages[stage], holding */
	RO_GATE,		/* stages[stage] is manual, its hold passed: waits for promote */
	RO_COMPLETE,		/* the last stage passed */
	RO_ROLLING_BACK,	/* gradual rollback under way */
	RO_ROLLED_BACK,
	RO_PHASE_MAX,
};

/* One check's result in one evaluation. */
enum check_outcome {
	CHECK_PASS,
	CHECK_FAIL,
	CHECK_NO_DATA,		/* nothing to judge: empty result, NaN, fewer than min_samples */
	CHECK_ERROR,		/* could not ask: Prometheus down, timeout, bad answer */
	CHECK_OUTCOME_MAX,
};

/* What an evaluation (all checks together) says. */
enum ro_verdict {
	RV_NONE = 0,		/* no evaluation in this stage yet */
	RV_PASS,		/* every acting check passed (or on_no_data pass) */
	RV_FAIL,		/* an acting check failed (or on_no_data fail) */
	RV_HOLD,		/* none failed, some had no data or errors: neither */
	RV_MAX,
};

struct ro_check_result {
	char name[PLAN_NAME_MAX];
	enum check_outcome outcome;
	double canary;		/* the measured values; NAN when not measured */
	double stable;
	double threshold;	/* the limit of the rule that decided; NAN when none did */
	__u64 samples;		/* canary requests or flows in the window; RO_SAMPLES_UNKNOWN
				 * when nothing counts them (no samples_query) */
	char rule[16];		/* "max", "min", "max_ratio", "max_delta", "" */
	char reason[160];	/* "canary 0.31 > max 0.05" or the error */
	bool critical;
	bool dry_run;
};

struct ro_decision {
	__u64 time_ms;
	__u8 stage;
	__u16 weight_bp;	/* the weight after the action */
	__u8 verdict;		/* enum ro_verdict; RV_NONE for operator and timer events */
	char action[24];	/* "start", "advance", "hold", "rollback", "pause", "promote", ... */
	char reason[RO_TEXT_MAX];
};

/* Kept in the state file (state.c), so that a restarted agent resumes where this one was. */
struct rollout_state {
	__u8 phase;		/* enum ro_phase */
	bool paused;
	__u8 stage;		/* index into plan.stages */
	__u16 weight_bp;	/* the weight the rollout last set */
	__u64 started_ms;	/* when `start` was asked */
	__u64 stage_ms;		/* time run in this stage (or the warm-up, or a rollback step) */
	__u64 hold_ms;		/* time in RV_HOLD since the last pass or fail */
	unsigned int failures;	/* consecutive failed evaluations */
	__u8 last_verdict;	/* enum ro_verdict, of this stage */
	__u64 evaluations[RV_MAX];	/* by verdict, since the agent's state began */
	__u64 rollbacks;
	struct ro_decision history[RO_HISTORY];	/* a ring: newest at (hnext + RO_HISTORY - 1) */
	unsigned int hnext, nhistory;
	__u64 clock_ms;		/* not saved: the last tick; 0 after a restart */
};

enum ro_act {
	RA_NONE,
	RA_WEIGHT,		/* set the weight to weight_bp */
	RA_ROLLBACK,		/* set the weight to weight_bp (0, or a gradual step); hard: bump
				 * the generation so existing canary flows move */
};

struct ro_action {
	enum ro_act kind;
	__u16 weight_bp;
	bool hard;
	__u32 event;		/* enum hook_event, or 0 */
	char reason[RO_TEXT_MAX];
};

/* Begins a rollout (from idle, complete or rolled_back). -EBUSY when one runs. */
int rollout_start(const struct plan *pl, struct rollout_state *rs, __u64 now_ms, bool healthy,
		  struct ro_action *a, char *err, size_t errlen);

/*
 * Time passes: starts a waiting rollout once @healthy, ends a warm-up, advances a stage whose hold
 * is over and whose last evaluation passed, steps a gradual rollback, and acts on max_hold.
 */
void rollout_tick(const struct plan *pl, struct rollout_state *rs, __u64 now_ms, bool healthy,
		  struct ro_action *a);

/* True in the phases where checks are evaluated (warm-up, stage, gate). */
bool rollout_evaluates(const struct rollout_state *rs);

/*
 * An evaluation's results: counts failures, rolls back at failure_limit or on a critical check,
 * tracks hold. Returns the verdict. Results of dry-run checks are recorded and never act; during
 * the warm-up nothing acts.
 */
enum ro_verdict rollout_evaluated(const struct plan *pl, struct rollout_state *rs, __u64 now_ms,
				  const struct ro_check_result *res, unsigned int n,
				  struct ro_action *a);

/* The local breaker tripped: an instant rollback, whatever the plan's rollback mode. */
void rollout_breaker(const struct plan *pl, struct rollout_state *rs, __u64 now_ms,
		     const char *reason, struct ro_action *a);

/* Operator commands. Each returns 0 or a negative errno with the reason in @err. */
int rollout_promote(const struct plan *pl, struct rollout_state *rs, __u64 now_ms, bool full,
		    struct ro_action *a, char *err, size_t errlen);
int rollout_pause(struct rollout_state *rs, __u64 now_ms, bool pause, const char *reason,
		  struct ro_action *a, char *err, size_t errlen);
int rollout_rollback(const struct plan *pl, struct rollout_state *rs, __u64 now_ms, bool hard,
		     const char *reason, struct ro_action *a);

/* An operator set the weight by hand: a running rollout pauses, so that it does not undo it. */
void rollout_weight_set(struct rollout_state *rs, __u64 now_ms, __u16 bp, const char *by);

/* Milliseconds left in the stage's hold (0 when over or not in a stage). */
__u64 rollout_time_left(const struct plan *pl, const struct rollout_state *rs);

/* The newest decision, or NULL. */
const struct ro_decision *rollout_last(const struct rollout_state *rs);

/* Appends a decision to the history ring. */
void rollout_note(struct rollout_state *rs, __u64 now_ms, enum ro_verdict v, const char *action,
		  const char *reason);

/* Adds an operator's reason (" (WHY)") to the decision a command just made; nothing if empty. */
void rollout_annotate(struct rollout_state *rs, struct ro_action *a, const char *why);

extern const char *const ro_phase_names[RO_PHASE_MAX];	/* "idle", "waiting", ... */
extern const char *const check_outcome_names[CHECK_OUTCOME_MAX];	/* "pass", "fail", ... */
extern const char *const ro_verdict_names[RV_MAX];	/* "none", "pass", "fail", "hold" */

#endif /* XDP_CANARY_ROLLOUT_H */
