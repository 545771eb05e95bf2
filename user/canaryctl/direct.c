// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * canaryctl without canaryd: the pinned maps are the datapath's truth, so a weight change or a
 * rollback is the same atomic store the agent would make. The state file gets the same note,
 * under its lock, so the agent finds it when it starts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "answer.h"
#include "canaryctl.h"
#include "dp.h"
#include "events.h"
#include "ops.h"
#include "rollout.h"
#include "rostatus.h"
#include "status.h"
#include "svc.h"

struct direct {
	const struct ctl *c;
	json_t *req;
	const char *cmd;
	const char *service;
	struct canary_state *st;
	struct canary_dp dp;
	bool dp_open;
	int lock;
};


/* A success of canaryctl's own, which it reports as such. */
static json_t *direct_ok(json_t *fields)
{
	json_object_set_new(fields, "direct", json_true());
	return answer_ok(fields);
}

static int dp_open(struct direct *x, char *err, size_t errlen)
{
	struct canary_dp_opts opts = { .pin_dir = x->c->cfg.pin_dir, .pins_only = true };

	if (canary_dp_open(&x->dp, &opts, err, errlen))
		return -1;
	x->dp_open = true;
	return 0;
}

/*
 * The service's record. A state file that lost it (or was lost) is no reason for a rollback to
 * fail: with the service in the config, its id is in the pinned service table.
 */
static struct state_svc *service_find(struct direct *x)
{
	const struct cfg_service *svc = config_service(&x->c->cfg, x->service);
	struct state_svc *s = state_svc_find(x->st, x->service);
	__u32 id;

	if (s || !svc || svc_id_of(&x->dp, &svc->key, &id))
		return s;
	return state_svc_claim(x->st, x->service, id);
}

static json_t *set_weight(struct direct *x, struct state_svc *s, __u16 bp, bool hard,
			  const char *action)
{
	const char *reason = x->c->reason ? x->c->reason : "";
	char err[512] = "", from[8], to[8];
	struct op_result res;

	if (op_set_weight(&x->dp, s, bp, hard, action, reason, x->c->by, &res, err, sizeof(err)))
		return answer_fail(1, "%s", err);
	if (state_save(x->c->cfg.state_dir, x->st, err, sizeof(err)))
		fprintf(stderr, "canaryctl: warning: the datapath has the new weight, but %s\n",
			err);
	return direct_ok(json_pack("{ss ss ss ss sI sI sb}", "service", s->name, "action", action,
			    "from", weight_format(res.from_bp, from, sizeof(from)),
			    "to", weight_format(res.to_bp, to, sizeof(to)),
			    "generation_from", (json_int_t)res.gen_from,
			    "generation", (json_int_t)res.gen_to, "hard", hard));
}

static json_t *status_one(struct direct *x, struct state_svc *s, struct svc_sample *old)
{
	struct svc_sample cur;

	if (sample_read(&x->dp, s->id, &cur))
		return NULL;
	return status_svc_json(&x->dp, s, config_service(&x->c->cfg, s->name),
			       old && old->mono_ns ? old : NULL, &cur, false);
}

/* Two samples a second apart give the rates the agent would have kept. */
static json_t *cmd_status(struct direct *x, struct state_svc *only)
{
	struct svc_sample *first = calloc(CANARY_MAX_SVC, sizeof(*first));
	json_t *arr = json_array();
	struct timespec pause = { .tv_sec = 1 };

	if (!first)
		return answer_fail(1, "out of memory");
	for (unsigned int i = 0; i < x->st->nsvc; i++)
		if (!only || only == &x->st->svc[i])
			sample_read(&x->dp, x->st->svc[i].id, &first[i]);
	if (strcmp(x->cmd, "services"))
		nanosleep(&pause, NULL);
	for (unsigned int i = 0; i < x->st->nsvc; i++) {
		json_t *j;

		if (only && only != &x->st->svc[i])
			continue;
		j = status_one(x, &x->st->svc[i], &first[i]);
		if (j)
			json_array_append_new(arr, j);
	}
	free(first);
	return direct_ok(json_pack("{so}", "services", arr));
}

/*
 * The rollout's state follows what was done without the agent, so that a restarted agent does
 * not undo it: a rollback ends the rollout, a weight set by hand pauses it.
 */
static json_t *rollout_direct(struct direct *x, struct state_svc *s)
{
	const struct cfg_service *svc = config_service(&x->c->cfg, s->name);
	bool hard = json_is_true(json_object_get(x->req, "hard"));
	const char *reason = x->c->reason ? x->c->reason : "";
	struct ro_action a = { 0 };
	char err[256] = "";
	__u16 bp;

	if (!strcmp(x->cmd, "weight")) {
		bp = json_integer_value(json_object_get(x->req, "weight_bp"));
		rollout_weight_set(&s->ro, now_ms(), bp, x->c->by);
		return set_weight(x, s, bp, false, "weight");
	}
	if (!strcmp(x->cmd, "rollback")) {
		rollout_rollback(svc->plan, &s->ro, now_ms(), hard,
				 reason[0] ? reason : "rolled back by an operator, without canaryd",
				 &a);
		return set_weight(x, s, a.weight_bp, hard, hard ? "rollback --hard" : "rollback");
	}
	if (!strcmp(x->cmd, "promote")) {
		if (rollout_promote(svc->plan, &s->ro, now_ms(),
				    json_is_true(json_object_get(x->req, "full")), &a, err,
				    sizeof(err)))
			return answer_fail(1, "%s", err);
		rollout_annotate(&s->ro, &a, reason);
		return set_weight(x, s, s->ro.weight_bp, false, "promote");
	}
	return NULL;
}

static json_t *cmd_pause(struct direct *x, struct state_svc *s, bool pause)
{
	const struct cfg_service *svc = config_service(&x->c->cfg, s->name);
	struct ro_action a = { 0 };
	char err[512] = "";
	bool plan = svc && svc->plan, was = plan ? s->ro.paused : s->paused;

	/* A service with a plan keeps its paused flag in the rollout's state alone. */
	if (plan && rollout_pause(&s->ro, now_ms(), pause, pause ?
				  "paused by an operator, without canaryd" :
				  "resumed by an operator, without canaryd", &a, err, sizeof(err)))
		return answer_fail(1, "%s", err);
	if (!plan)
		s->paused = pause;
	if (state_save(x->c->cfg.state_dir, x->st, err, sizeof(err)))
		return answer_fail(1, "%s", err);
	return direct_ok(json_pack("{ss sb sb}", "service", s->name, "paused", pause, "changed",
			    was != pause));
}

/*
 * The decisions the state machine noted here since @from go to the event log, as the agent's do:
 * a restarted agent takes the ring as already logged, and history must show a rollback made
 * without it.
 */
static void decisions_log(struct direct *x, const struct state_svc *s, unsigned int from)
{
	const struct cfg_service *svc = config_service(&x->c->cfg, s->name);
	char err[512];

	if (!svc || !svc->plan)
		return;
	for (unsigned int i = from; i != s->ro.hnext; i = (i + 1) % RO_HISTORY) {
		json_t *ev = rollout_event_json(s->name, "decision", svc->plan, &s->ro,
						&s->ro.history[i]);

		if (!ev || events_append(x->c->cfg.state_dir, ev, err, sizeof(err)))
			fprintf(stderr, "canaryctl: warning: event log: %s\n",
				ev ? err : "out of memory");
		json_decref(ev);
	}
}

static json_t *dispatch_cmd(struct direct *x, struct state_svc *s)
{
	json_t *resp;

	if (!strcmp(x->cmd, "status") || !strcmp(x->cmd, "services"))
		return cmd_status(x, s);
	if (s && config_service(&x->c->cfg, s->name) &&
	    config_service(&x->c->cfg, s->name)->plan && (resp = rollout_direct(x, s)))
		return resp;
	if (!strcmp(x->cmd, "weight"))
		return set_weight(x, s, json_integer_value(json_object_get(x->req, "weight_bp")),
				  false, "weight");
	if (!strcmp(x->cmd, "rollback")) {
		bool hard = json_is_true(json_object_get(x->req, "hard"));

		return set_weight(x, s, 0, hard, hard ? "rollback --hard" : "rollback");
	}
	if (!strcmp(x->cmd, "promote"))
		return set_weight(x, s, CANARY_WEIGHT_MAX, false,
				  json_is_true(json_object_get(x->req, "full")) ? "promote --full"
										: "promote");
	if (!strcmp(x->cmd, "pause") || !strcmp(x->cmd, "resume"))
		return cmd_pause(x, s, !strcmp(x->cmd, "pause"));
	return answer_fail(1, "%s needs canaryd, which is not running", x->cmd);
}

static json_t *dispatch(struct direct *x)
{
	struct state_svc *s = NULL;
	unsigned int from;
	json_t *resp;

	if (x->service) {
		s = service_find(x);
		if (!s)
			return answer_fail(2, "no service \"%s\" in the state (%s) or the config",
				    x->service, x->c->cfg.state_dir);
	}
	from = s ? s->ro.hnext : 0;
	resp = dispatch_cmd(x, s);
	if (s && json_is_true(json_object_get(resp, "ok")))
		decisions_log(x, s, from);
	return resp;
}

/* The event log is a file: no pins, no lock, and it outlives the service. */
static json_t *history(const struct ctl *c, json_t *req)
{
	const char *service = json_string_value(json_object_get(req, "service"));
	json_t *max = json_object_get(req, "max"), *evs;
	char err[512];

	evs = events_read(c->cfg.state_dir, service, max ? json_integer_value(max) : 20, err,
			  sizeof(err));
	if (!evs)
		return answer_fail(1, "%s", err);
	return direct_ok(json_pack("{ss so}", "service", service, "events", evs));
}

static json_t *teardown(const struct ctl *c)
{
	char err[512] = "";

	if (canary_teardown(c->cfg.pin_dir, c->cfg.state_dir, err, sizeof(err)))
		return answer_fail(1, "teardown: %s", err);
	return direct_ok(json_object());
}

json_t *direct_call(const struct ctl *c, json_t *req)
{
	struct direct x = { .c = c, .req = req, .lock = -1 };
	char err[512] = "";
	json_t *resp;

	x.cmd = json_string_value(json_object_get(req, "cmd"));
	x.service = json_string_value(json_object_get(req, "service"));
	if (!strcmp(x.cmd, "teardown"))
		return teardown(c);
	if (!strcmp(x.cmd, "history"))
		return history(c, req);
	if (!strcmp(x.cmd, "reload") || !strcmp(x.cmd, "ping"))
		return answer_fail(1, "%s needs canaryd, which is not running", x.cmd);
	x.st = calloc(1, sizeof(*x.st));
	if (!x.st)
		return answer_fail(1, "out of memory");
	x.lock = state_lock(c->cfg.state_dir, err, sizeof(err));
	if (x.lock < 0)
		fprintf(stderr, "canaryctl: warning: %s; going on without it\n", err);
	if (state_load(c->cfg.state_dir, x.st, err, sizeof(err)))
		fprintf(stderr, "canaryctl: warning: %s; using the config\n", err);
	if (dp_open(&x, err, sizeof(err)))
		resp = answer_fail(1, "%s", err);
	else
		resp = dispatch(&x);
	if (x.dp_open)
		canary_dp_close(&x.dp);
	state_unlock(x.lock);
	free(x.st);
	return resp;
}
