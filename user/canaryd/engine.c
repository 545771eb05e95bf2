// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The rollout engine: for each service with a plan, the breaker every tick, the state machine's
 * clock, evaluations every interval, and whatever they decide carried out on the maps, the state
 * file, the event log and the webhooks.
 *
 * Prometheus queries and webhooks are libcurl transfers on one multi handle that the main loop
 * polls with everything else: a slow or dead Prometheus never holds up the breaker, a rollback
 * or the control socket.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canaryd.h"
#include "engine.h"
#include "events.h"
#include "judge.h"
#include "kcheck.h"
#include "ops.h"
#include "prom.h"
#include "rostatus.h"

/* What a prometheus check asks: the canary's value, the stable one's, the canary's samples. */
enum ask { ASK_CANARY, ASK_STABLE, ASK_SAMPLES, ASK_MAX };

struct eval {
	__u64 seq;		/* 0: none in flight */
	__u64 time_ms;		/* the evaluation time, the same for every query */
	__u8 phase, stage;	/* where the rollout was: a result for another stage is dropped */
	unsigned int pending;
	bool asked[PLAN_MAX_CHECKS][ASK_MAX];
	struct prom_answer ans[PLAN_MAX_CHECKS][ASK_MAX];
	struct ro_check_result res[PLAN_MAX_CHECKS];
};

struct svc_engine {
	struct svc_sample window_start;	/* kernel checks measure from here */
	__u64 next_eval_ns;		/* CLOCK_MONOTONIC */
	struct eval ev;
	struct svc_sample *brk;		/* breaker ring */
	unsigned int brk_cap, brk_next, brk_n;
	struct ro_check_result last[PLAN_MAX_CHECKS];
	unsigned int nlast;
	__u64 breaker_trips;
	unsigned int seen_hnext;	/* decisions up to here are in the event log */
	bool running;			/* was running at the last tick */
};

enum xfer_kind { XFER_QUERY, XFER_HOOK };

struct xfer {
	struct xfer *next;		/* every transfer under way, for engine_close() */
	struct prom_req *req;
	enum xfer_kind kind;
	char service[CFG_NAME_MAX];	/* by name: a reload may renumber the config's services */
	__u64 seq;
	unsigned int check;
	enum ask ask;
	char what[PLAN_URL_MAX + 32];	/* for logs: "webhook https://..." */
};

struct engine {
	CURLM *multi;
	struct xfer *xfers;
	struct svc_engine svc[CANARY_MAX_SVC];
	__u64 sampled_ns;		/* when samples_take() last ran */
	__u64 seq;
};

static const char *const ask_names[ASK_MAX] = { "canary", "stable", "samples" };

static bool running_phase(__u8 phase)
{
	return phase == RO_WARMUP || phase == RO_STAGE || phase == RO_GATE ||
	       phase == RO_ROLLING_BACK;
}

int engine_open(struct canaryd *d, char *err, size_t errlen)
{
	CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);

	if (rc) {
		snprintf(err, errlen, "libcurl: %s", curl_easy_strerror(rc));
		return -EIO;
	}
	d->engine = calloc(1, sizeof(*d->engine));
	if (!d->engine || !(d->engine->multi = curl_multi_init())) {
		snprintf(err, errlen, "rollout engine: out of memory");
		return -ENOMEM;
	}
	return 0;
}

static void xfer_end(struct engine *e, struct xfer *x)
{
	for (struct xfer **p = &e->xfers; *p; p = &(*p)->next) {
		if (*p == x) {
			*p = x->next;
			break;
		}
	}
	curl_multi_remove_handle(e->multi, prom_req_handle(x->req));
	prom_req_free(x->req);
	free(x);
}

void engine_close(struct canaryd *d)
{
	struct engine *e = d->engine;

	if (!e)
		return;
	while (e->xfers)
		xfer_end(e, e->xfers);
	curl_multi_cleanup(e->multi);
	for (unsigned int i = 0; i < CANARY_MAX_SVC; i++)
		free(e->svc[i].brk);
	free(e);
	d->engine = NULL;
	curl_global_cleanup();
}

static struct xfer *xfer_add(struct engine *e, struct prom_req *req, enum xfer_kind kind)
{
	struct xfer *x = calloc(1, sizeof(*x));
	CURL *h = prom_req_handle(req);

	if (!x) {
		prom_req_free(req);
		return NULL;
	}
	x->req = req;
	x->kind = kind;
	curl_easy_setopt(h, CURLOPT_PRIVATE, x);
	if (curl_multi_add_handle(e->multi, h)) {
		prom_req_free(req);
		free(x);
		return NULL;
	}
	x->next = e->xfers;
	e->xfers = x;
	return x;
}

/* ---- the event log and webhooks ---- */

static void hooks_fire(struct canaryd *d, const struct cfg_service *svc, __u32 event,
		       const json_t *body)
{
	const struct plan *pl = svc->plan;
	char err[512] = "", *text;

	if (!event || !pl->nhooks)
		return;
	text = json_dumps(body, JSON_COMPACT);
	for (unsigned int i = 0; text && i < pl->nhooks; i++) {
		const struct plan_hook *h = &pl->hooks[i];
		struct prom_req *req;
		struct xfer *x;

		if (!(h->events & event))
			continue;
		req = hook_req_new(h->url, text, h->timeout_ms, err, sizeof(err));
		x = req ? xfer_add(d->engine, req, XFER_HOOK) : NULL;
		if (!x) {
			log_warn("service %s: webhook %s not sent: %s", svc->name, h->url,
				 err[0] ? err : "out of memory");
			continue;
		}
		snprintf(x->what, sizeof(x->what), "service %s: webhook %s", svc->name, h->url);
	}
	free(text);
}

static const char *event_name(__u32 event)
{
	for (unsigned int i = 0; hook_event_names[i]; i++)
		if (event == 1u << i)
			return hook_event_names[i];
	return NULL;
}

static void event_write(struct canaryd *d, json_t *ev)
{
	char err[512];

	if (events_append(d->cfg.state_dir, ev, err, sizeof(err)))
		log_warn("%s", err);
}

/* Every decision the state machine noted since the last call goes to the event log. */
static unsigned int decisions_log(struct canaryd *d, const struct cfg_service *svc,
				  struct svc_engine *se, const struct rollout_state *rs,
				  const json_t *checks)
{
	unsigned int n = 0;

	for (; se->seen_hnext != rs->hnext; n++) {
		json_t *ev = rollout_event_json(svc->name, checks ? "evaluation" : "decision",
						svc->plan, rs, &rs->history[se->seen_hnext]);

		se->seen_hnext = (se->seen_hnext + 1) % RO_HISTORY;
		if (!ev) {
			log_warn("service %s: event log: out of memory", svc->name);
			continue;
		}
		if (checks)
			json_object_set(ev, "checks", (json_t *)checks);
		event_write(d, ev);
		json_decref(ev);
	}
	return n;
}

/* ---- carrying out what the state machine decided ---- */

static void window_restart(struct canaryd *d, struct state_svc *s, const struct plan *pl)
{
	struct svc_engine *se = &d->engine->svc[s->id];

	if (sample_read(&d->dp, s->id, &se->window_start))
		memset(&se->window_start, 0, sizeof(se->window_start));
	se->next_eval_ns = mono_ns() + pl->interval_ms * 1000000ULL;
	se->ev.seq = 0;		/* an evaluation under way was for the old weight */
}

static int weight_apply(struct canaryd *d, struct state_svc *s, const struct ro_action *a,
			const char *by, char *err, size_t errlen)
{
	const char *action = a->kind == RA_ROLLBACK ? (a->hard ? "rollback --hard" : "rollback")
						    : "rollout";
	struct op_result res;
	char from[8], to[8];
	int ret;

	ret = op_set_weight(&d->dp, s, a->weight_bp, a->hard, action, a->reason, by, &res, err,
			    errlen);
	if (ret) {
		log_err("service %s: %s: %s", s->name, action, err);
		return ret;
	}
	log_info("service %s: %s: canary weight %s%% -> %s%%%s (%s)", s->name, action,
		 weight_format(res.from_bp, from, sizeof(from)),
		 weight_format(res.to_bp, to, sizeof(to)),
		 a->hard ? ", existing canary flows decided again" : "", a->reason);
	return 0;
}

int engine_act(struct canaryd *d, const struct cfg_service *svc, struct state_svc *s,
	       const struct ro_action *a, const char *by, const json_t *checks, char *err,
	       size_t errlen)
{
	struct svc_engine *se = &d->engine->svc[s->id];
	const char *name = event_name(a->event);
	char why[512];
	unsigned int noted;
	int ret = 0;

	if (a->kind != RA_NONE) {
		ret = weight_apply(d, s, a, by, err ?: why, err ? errlen : sizeof(why));
		window_restart(d, s, svc->plan);
	}
	if (name && a->kind == RA_NONE)
		log_info("service %s: %s: %s", s->name, name, a->reason);
	noted = decisions_log(d, svc, se, &s->ro, checks);
	if (name) {
		json_t *body = rollout_event_json(svc->name, name, svc->plan, &s->ro, NULL);

		json_object_set_new(body, "reason", json_string(a->reason));
		hooks_fire(d, svc, a->event, body);
		json_decref(body);
	}
	if (a->kind != RA_NONE || name || noted)
		state_commit(d);
	return ret;
}

/* ---- evaluations ---- */

static int ask(struct canaryd *d, const struct cfg_service *svc, struct eval *ev,
	       unsigned int i, enum ask what)
{
	const struct plan *pl = svc->plan;
	const struct plan_check *c = &pl->checks[i];
	char query[PLAN_QUERY_MAX], interval[32], err[512] = "";
	const char *tmpl = what == ASK_SAMPLES ? c->samples_query : c->query;
	const char *version = version_names[what == ASK_STABLE ? CANARY_V_STABLE :
								 CANARY_V_CANARY];
	__u64 timeout = d->cfg.prometheus.timeout_ms;
	struct prom_req *req = NULL;
	struct xfer *x;

	/* The answer must come before the next evaluation is due. */
	if (timeout > pl->interval_ms * 8 / 10)
		timeout = pl->interval_ms * 8 / 10;
	duration_format(pl->interval_ms, interval, sizeof(interval));
	if (prom_expand(tmpl, svc->name, version, interval, query, sizeof(query)))
		snprintf(err, sizeof(err), "query longer than %zu bytes once expanded",
			 sizeof(query) - 1);
	else
		req = prom_req_new(&d->cfg.prometheus, query, ev->time_ms, timeout, err,
				   sizeof(err));
	x = req ? xfer_add(d->engine, req, XFER_QUERY) : NULL;
	/* Asked, even when the asking failed: the check then ends as an error, never judged. */
	ev->asked[i][what] = true;
	if (!x) {
		ev->ans[i][what].status = PROM_ERROR;
		snprintf(ev->ans[i][what].error, sizeof(ev->ans[i][what].error), "%s",
			 err[0] ? err : "out of memory");
		return -EIO;
	}
	snprintf(x->service, sizeof(x->service), "%s", svc->name);
	x->seq = ev->seq;
	x->check = i;
	x->ask = what;
	snprintf(x->what, sizeof(x->what), "service %s: check %s: %s query", svc->name, c->name,
		 ask_names[what]);
	ev->pending++;
	return 0;
}

static bool wants_stable(const struct plan_check *c)
{
	return c->rules & (RULE_MAX_RATIO | RULE_MAX_DELTA);
}

static void kernel_check(const struct plan_check *c, const struct svc_sample *old,
			 const struct svc_sample *cur, struct ro_check_result *r)
{
	double canary, stable;
	__u64 samples, stable_samples;

	kcheck_measure(c, old, cur, CANARY_V_CANARY, &canary, &samples);
	kcheck_measure(c, old, cur, CANARY_V_STABLE, &stable, &stable_samples);
	check_judge(c, canary, stable, samples, r);
}

/* A prometheus check from its answers. */
static void prom_check(const struct plan_check *c, const struct eval *ev, unsigned int i,
		       struct ro_check_result *r)
{
	const struct prom_answer *can = &ev->ans[i][ASK_CANARY];
	const struct prom_answer *stb = &ev->ans[i][ASK_STABLE];
	const struct prom_answer *smp = &ev->ans[i][ASK_SAMPLES];
	struct plan_check judged = *c;
	__u64 samples = RO_SAMPLES_UNKNOWN;
	double stable = NAN;
	char why[300];

	for (unsigned int w = 0; w < ASK_MAX; w++) {
		if (!ev->asked[i][w] || ev->ans[i][w].status != PROM_ERROR)
			continue;
		snprintf(why, sizeof(why), "%s query: %s", ask_names[w], ev->ans[i][w].error);
		check_unmeasured(c, CHECK_ERROR, why, r);
		return;
	}
	if (can->status == PROM_NO_DATA) {
		snprintf(why, sizeof(why), "canary query: no data (%s)", can->error);
		check_unmeasured(c, CHECK_NO_DATA, why, r);
		return;
	}
	if (ev->asked[i][ASK_STABLE] && stb->status == PROM_VALUE)
		stable = stb->value;
	if (ev->asked[i][ASK_SAMPLES])
		samples = smp->status == PROM_VALUE && smp->value > 0 ? (__u64)smp->value : 0;
	else
		judged.min_samples = 0;	/* nothing counts them: min_samples cannot apply */
	check_judge(&judged, can->value, stable, samples, r);
}

static json_t *checks_json(const struct plan *pl, const struct ro_check_result *res)
{
	json_t *arr = json_array();

	for (unsigned int i = 0; i < pl->nchecks; i++)
		json_array_append_new(arr, check_result_json(&pl->checks[i], &res[i]));
	return arr;
}

static void eval_finish(struct canaryd *d, const struct cfg_service *svc, struct state_svc *s)
{
	struct svc_engine *se = &d->engine->svc[s->id];
	const struct plan *pl = svc->plan;
	struct eval *ev = &se->ev;
	struct ro_action a = { 0 };
	json_t *checks;

	for (unsigned int i = 0; i < pl->nchecks; i++)
		if (pl->checks[i].source == CHECK_PROMETHEUS)
			prom_check(&pl->checks[i], ev, i, &ev->res[i]);
	ev->seq = 0;
	memcpy(se->last, ev->res, sizeof(se->last));
	se->nlast = pl->nchecks;
	if (s->ro.phase != ev->phase || s->ro.stage != ev->stage)
		return;		/* an operator moved the rollout meanwhile */
	rollout_evaluated(pl, &s->ro, now_ms(), ev->res, pl->nchecks, &a);
	checks = checks_json(pl, ev->res);
	engine_act(d, svc, s, &a, "rollout engine", checks, NULL, 0);
	json_decref(checks);
}

static void eval_start(struct canaryd *d, const struct cfg_service *svc, struct state_svc *s,
		       const struct svc_sample *now)
{
	struct svc_engine *se = &d->engine->svc[s->id];
	const struct plan *pl = svc->plan;
	struct eval *ev = &se->ev;

	memset(ev, 0, sizeof(*ev));
	ev->seq = ++d->engine->seq;
	ev->time_ms = now_ms();
	ev->phase = s->ro.phase;
	ev->stage = s->ro.stage;
	for (unsigned int i = 0; i < pl->nchecks; i++) {
		const struct plan_check *c = &pl->checks[i];

		if (c->source == CHECK_KERNEL) {
			kernel_check(c, &se->window_start, now, &ev->res[i]);
			continue;
		}
		if (ask(d, svc, ev, i, ASK_CANARY))
			continue;
		if (wants_stable(c))
			ask(d, svc, ev, i, ASK_STABLE);
		if (c->samples_query[0])
			ask(d, svc, ev, i, ASK_SAMPLES);
	}
	se->window_start = *now;
	se->next_eval_ns = now->mono_ns + pl->interval_ms * 1000000ULL;
	if (!ev->pending)
		eval_finish(d, svc, s);
}

/* ---- the breaker ---- */

static int breaker_ring(struct svc_engine *se, const struct canary_config *cfg,
			const struct plan *pl)
{
	unsigned int cap = pl->breaker.window_ms / cfg->breaker_every_ms + 2;

	if (se->brk_cap == cap)
		return 0;
	free(se->brk);
	se->brk = calloc(cap, sizeof(*se->brk));
	se->brk_cap = se->brk ? cap : 0;
	se->brk_n = se->brk_next = 0;
	return se->brk ? 0 : -ENOMEM;
}

/* The newest sample at least the breaker's window old, or the oldest there is. */
static const struct svc_sample *breaker_base(const struct svc_engine *se, __u64 window_ns)
{
	const struct svc_sample *cur = &se->brk[(se->brk_next + se->brk_cap - 1) % se->brk_cap];

	for (unsigned int back = 1; back < se->brk_n; back++) {
		const struct svc_sample *s =
			&se->brk[(se->brk_next + se->brk_cap - 1 - back) % se->brk_cap];

		if (cur->mono_ns - s->mono_ns >= window_ns || back == se->brk_n - 1)
			return s;
	}
	return NULL;
}

static void breaker_check(struct canaryd *d, const struct cfg_service *svc,
			  struct state_svc *s, const struct svc_sample *now)
{
	struct svc_engine *se = &d->engine->svc[s->id];
	const struct plan *pl = svc->plan;
	const struct svc_sample *base;
	struct ro_action a = { 0 };
	char why[160], reason[RO_TEXT_MAX];

	if (!pl->breaker.enabled || breaker_ring(se, &d->cfg, pl))
		return;
	se->brk[se->brk_next] = *now;
	se->brk_next = (se->brk_next + 1) % se->brk_cap;
	if (se->brk_n < se->brk_cap)
		se->brk_n++;
	base = breaker_base(se, pl->breaker.window_ms * 1000000ULL);
	if (!base || !breaker_tripped(&pl->breaker, base, now, why, sizeof(why)))
		return;
	snprintf(reason, sizeof(reason), "breaker: canary %s", why);
	rollout_breaker(pl, &s->ro, now_ms(), reason, &a);
	if (a.kind == RA_NONE)
		return;
	se->breaker_trips++;
	se->brk_n = 0;
	engine_act(d, svc, s, &a, "breaker", NULL, NULL, 0);
}

/* ---- the clock ---- */

static void engine_svc_tick(struct canaryd *d, const struct cfg_service *svc, struct state_svc *s)
{
	struct svc_engine *se = &d->engine->svc[s->id];
	bool healthy = health_pool_ok(d, svc->name, CANARY_V_CANARY);
	struct ro_action a = { 0 };
	struct svc_sample now;

	rollout_tick(svc->plan, &s->ro, now_ms(), healthy, &a);
	engine_act(d, svc, s, &a, "rollout engine", NULL, NULL, 0);
	if (!running_phase(s->ro.phase)) {
		se->running = false;
		return;
	}
	if (sample_read(&d->dp, s->id, &now)) {
		d->counters.sample_errors++;
		return;
	}
	if (!se->running) {	/* just started, or the agent just did */
		se->running = true;
		se->brk_n = 0;
		se->window_start = now;
		se->next_eval_ns = now.mono_ns + svc->plan->interval_ms * 1000000ULL;
	}
	breaker_check(d, svc, s, &now);
	if (rollout_evaluates(&s->ro) && !se->ev.seq && now.mono_ns >= se->next_eval_ns)
		eval_start(d, svc, s, &now);
}

void engine_tick(struct canaryd *d)
{
	__u64 now = mono_ns(), half_tick = d->cfg.breaker_every_ms * 500000ULL;

	/* Half a tick of slack: a timer that fires a little early does not skip a sample. */
	if (now + half_tick - d->engine->sampled_ns >= sample_every_ns(&d->cfg)) {
		samples_take(d);
		d->engine->sampled_ns = now;
	}
	for (unsigned int i = 0; i < d->cfg.nservices; i++) {
		const struct cfg_service *svc = &d->cfg.services[i];
		struct state_svc *s = state_svc_find(d->state, svc->name);

		if (svc->plan && s)
			engine_svc_tick(d, svc, s);
	}
}

/* ---- transfers ---- */

static void query_done(struct canaryd *d, struct xfer *x, CURLcode rc)
{
	const struct cfg_service *svc = config_service(&d->cfg, x->service);
	struct state_svc *s = svc ? state_svc_find(d->state, svc->name) : NULL;
	struct eval *ev;

	if (!s || !svc->plan)
		return;		/* the service went away with a reload */
	ev = &d->engine->svc[s->id].ev;
	if (ev->seq != x->seq)
		return;		/* an evaluation that was called off */
	prom_req_answer(x->req, rc, &ev->ans[x->check][x->ask]);
	if (--ev->pending == 0)
		eval_finish(d, svc, s);
}

static void hook_done(struct xfer *x, CURLcode rc)
{
	char err[512];

	if (hook_req_status(x->req, rc, err, sizeof(err)))
		log_warn("%s: %s", x->what, err);
}

void engine_run(struct canaryd *d)
{
	struct engine *e = d->engine;
	struct CURLMsg *m;
	int running, left;

	curl_multi_perform(e->multi, &running);
	while ((m = curl_multi_info_read(e->multi, &left))) {
		struct xfer *x = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		if (x && x->kind == XFER_QUERY)
			query_done(d, x, m->data.result);
		else if (x)
			hook_done(x, m->data.result);
		if (x)
			xfer_end(e, x);
	}
}

int engine_poll(struct canaryd *d, struct curl_waitfd *extra, unsigned int n, int timeout_ms)
{
	int numfds = 0;
	CURLMcode mc = curl_multi_poll(d->engine->multi, extra, n, timeout_ms, &numfds);

	if (mc != CURLM_OK) {
		log_err("poll: %s", curl_multi_strerror(mc));
		return -EIO;
	}
	return numfds;
}

/* ---- what the control socket and the exporter ask ---- */

void engine_svc_reset(struct canaryd *d, const struct state_svc *s)
{
	struct svc_engine *se = &d->engine->svc[s->id];

	free(se->brk);
	memset(se, 0, sizeof(*se));	/* an evaluation under way is dropped with it */
	se->seen_hnext = s->ro.hnext;
}

const struct ro_check_result *engine_last_checks(struct canaryd *d, __u32 id, unsigned int *n)
{
	*n = d->engine->svc[id].nlast;
	return d->engine->svc[id].last;
}

__u64 engine_breaker_trips(struct canaryd *d, __u32 id)
{
	return d->engine->svc[id].breaker_trips;
}

void engine_adopt_svc(struct canaryd *d, const struct state_svc *s)
{
	d->engine->svc[s->id].seen_hnext = s->ro.hnext;
}
