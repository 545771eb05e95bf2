// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Active health checks: every backend of both pools of each service with "health" is probed
 * every `every`, the probes spread over the interval. A backend starts unknown and stays in its
 * pool until it is known down (`fall` failures in a row); `rise` passes bring it back. Each
 * change of a pool's live set publishes the pool again: down backends keep their slots but get
 * no new flows, and a pool with none left sends its version's new flows to the other version.
 *
 * The table holds copies of what it needs from the config, so it never points into a config
 * that a reload freed; health_reload() builds it again and carries over what it knew.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canaryd.h"
#include "probe.h"
#include "svc.h"

#define NS_PER_MS	1000000ULL

enum be_health {
	BE_UNKNOWN,	/* not probed enough yet: in the pool */
	BE_UP,
	BE_DOWN,	/* out of the pool */
};

static const char *const be_health_names[] = { "unknown", "up", "down" };

struct hc_backend {
	struct backend be;
	enum be_health state;
	unsigned int passes, fails;	/* in a row */
	char last[PROBE_REASON_MAX];	/* the last probe's outcome; "" before the first */
	__u64 next_ns;			/* when the next probe starts (CLOCK_MONOTONIC) */
	int pfd;			/* its entry in the last health_pollfds(), or -1 */
	struct probe probe;
};

/* One version's pool of one service. */
struct hc_pool {
	char svc[CFG_NAME_MAX];
	__u8 version;
	struct plan_health hc;
	struct hc_backend *be;		/* the config's pool, in slot order */
	unsigned int n;
	bool unpublished;		/* its live set changed and publishing failed: retry */
};

struct health_rt {
	struct hc_pool *pools;
	unsigned int npools;
};

#define FOR_EACH_BACKEND(rt, p, b)						\
	for (struct hc_pool *p = (rt)->pools; p < (rt)->pools + (rt)->npools; p++)	\
		for (struct hc_backend *b = p->be; b < p->be + p->n; b++)

static bool is_live(const struct hc_backend *b)
{
	return b->state != BE_DOWN;
}

static unsigned int live_count(const struct hc_pool *p)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < p->n; i++)
		n += is_live(&p->be[i]);
	return n;
}

static struct hc_pool *pool_find(struct health_rt *rt, const char *svc, unsigned int version)
{
	for (unsigned int i = 0; rt && i < rt->npools; i++)
		if (rt->pools[i].version == version && !strcmp(rt->pools[i].svc, svc))
			return &rt->pools[i];
	return NULL;
}

static struct hc_backend *backend_find(struct hc_pool *p, const struct backend *be)
{
	for (unsigned int i = 0; p && i < p->n; i++)
		if (!memcmp(p->be[i].be.addr, be->addr, 16) && p->be[i].be.port == be->port)
			return &p->be[i];
	return NULL;
}

static void rt_free(struct health_rt *rt)
{
	if (!rt)
		return;
	FOR_EACH_BACKEND(rt, p, b)
		probe_cancel(&b->probe);
	for (unsigned int i = 0; i < rt->npools; i++)
		free(rt->pools[i].be);
	free(rt->pools);
	free(rt);
}

static unsigned int pools_wanted(const struct canary_config *cfg)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < cfg->nservices; i++)
		n += cfg->services[i].health ? CANARY_V_MAX : 0;
	return n;
}

static int pool_init(struct hc_pool *p, const struct cfg_service *svc, unsigned int version)
{
	snprintf(p->svc, sizeof(p->svc), "%s", svc->name);
	p->version = version;
	p->hc = *svc->health;
	if (!svc->npool[version])
		return 0;
	p->be = calloc(svc->npool[version], sizeof(*p->be));
	if (!p->be)
		return -ENOMEM;
	p->n = svc->npool[version];
	for (unsigned int i = 0; i < p->n; i++) {
		p->be[i].be = svc->pool[version][i];
		p->be[i].pfd = -1;
		probe_init(&p->be[i].probe);
	}
	return 0;
}

/* A fresh table for @cfg: every backend unknown, nothing scheduled yet. */
static struct health_rt *rt_build(const struct canary_config *cfg)
{
	struct health_rt *rt = calloc(1, sizeof(*rt));
	unsigned int want = pools_wanted(cfg);

	if (!rt)
		return NULL;
	rt->pools = want ? calloc(want, sizeof(*rt->pools)) : NULL;
	if (want && !rt->pools)
		goto fail;
	for (unsigned int i = 0; i < cfg->nservices; i++) {
		const struct cfg_service *svc = &cfg->services[i];

		for (unsigned int v = 0; svc->health && v < CANARY_V_MAX; v++)
			if (pool_init(&rt->pools[rt->npools++], svc, v))
				goto fail;
	}
	return rt;
fail:
	rt_free(rt);
	return NULL;
}

/* New backends' first probes, spread evenly over their interval across the whole table. */
static void rt_schedule(struct health_rt *rt, __u64 now)
{
	unsigned int total = 0, k = 0;

	FOR_EACH_BACKEND(rt, p, b)
		total++;
	FOR_EACH_BACKEND(rt, p, b) {
		if (!b->next_ns)
			b->next_ns = now + p->hc.every_ms * NS_PER_MS * k / total + 1;
		k++;
	}
}

static void backends_live(const struct hc_pool *p, struct backend *be, bool *live)
{
	for (unsigned int i = 0; i < p->n; i++) {
		be[i] = p->be[i].be;
		live[i] = is_live(&p->be[i]);
	}
}

/* Publishes the pool with its live backends only; on failure it is retried at the next run. */
static int pool_publish_health(struct canaryd *d, struct hc_pool *p)
{
	struct state_svc *s = state_svc_find(d->state, p->svc);
	struct backend be[CANARY_MAX_BACKENDS];
	bool live[CANARY_MAX_BACKENDS];
	int ret;

	if (!s) {
		p->unpublished = false;	/* not in the datapath: nothing to publish */
		return -ENOENT;
	}
	backends_live(p, be, live);
	ret = pool_publish_live(&d->dp, s->id, p->version, be, p->n, live);
	if (ret && !p->unpublished)
		log_err("%s: publish the %s pool after a health change: %s (will retry)", p->svc,
			version_names[p->version], strerror(-ret));
	p->unpublished = ret != 0;
	return ret;
}

/* What is left of the pool, at the end of a change's log line. */
static const char *pool_left(struct health_rt *rt, const struct hc_pool *p, bool down,
			     char *buf, size_t len)
{
	const struct hc_pool *other = pool_find(rt, p->svc, !p->version);
	const char *ver = version_names[p->version], *alt = version_names[!p->version];
	unsigned int live = live_count(p);

	if (live)
		snprintf(buf, len, "%u of %u %s backends %s", live, p->n, ver,
			 down ? "left" : "in the pool");
	else if (other && !live_count(other))
		snprintf(buf, len, "no healthy backend in either pool: new flows are dropped");
	else
		snprintf(buf, len, "no healthy %s backend: new %s flows go to %s", ver, ver, alt);
	return buf;
}

static void state_change_log(struct health_rt *rt, const struct hc_pool *p,
			     const struct hc_backend *b)
{
	char ep[BACKEND_STRLEN], left[128];
	bool down = b->state == BE_DOWN;

	backend_format(&b->be, ep, sizeof(ep));
	pool_left(rt, p, down, left, sizeof(left));
	if (down)
		log_warn("%s: %s %s is down after %u failed checks (%s): %s", p->svc,
			 version_names[p->version], ep, b->fails, b->last, left);
	else
		log_info("%s: %s %s is up after %u passed checks (%s): %s", p->svc,
			 version_names[p->version], ep, b->passes, b->last, left);
}

/* Counts a decided probe; a backend that changes state changes its pool. */
static void probe_done(struct canaryd *d, struct hc_pool *p, struct hc_backend *b,
		       enum probe_result r)
{
	bool was_live = is_live(b);
	enum be_health next = b->state;

	snprintf(b->last, sizeof(b->last), "%s", b->probe.reason);
	if (r == PROBE_PASS) {
		b->passes++;
		b->fails = 0;
		if (b->passes >= p->hc.rise)
			next = BE_UP;
	} else {
		b->fails++;
		b->passes = 0;
		if (b->fails >= p->hc.fall)
			next = BE_DOWN;
	}
	if (next == b->state)
		return;
	b->state = next;
	if (was_live != is_live(b))
		pool_publish_health(d, p);
	state_change_log(d->health, p, b);
}

static void probe_due(struct canaryd *d, struct hc_pool *p, struct hc_backend *b, __u64 now)
{
	enum probe_kind kind = p->hc.type == HEALTH_HTTP ? PROBE_HTTP : PROBE_TCP;
	__u64 every = p->hc.every_ms * NS_PER_MS;
	enum probe_result r;

	b->next_ns += every;
	if (b->next_ns <= now)		/* late (a stalled loop): no burst to catch up */
		b->next_ns = now + every;
	r = probe_start(&b->probe, kind, &b->be, p->hc.path, p->hc.timeout_ms, now);
	if (r != PROBE_BUSY)
		probe_done(d, p, b, r);
}

int health_start(struct canaryd *d, char *err, size_t errlen)
{
	d->health = rt_build(&d->cfg);
	if (!d->health) {
		snprintf(err, errlen, "health checks: %s", strerror(ENOMEM));
		return -ENOMEM;
	}
	rt_schedule(d->health, mono_ns());
	return 0;
}

/* Takes over what @old knew of @b: its health, its schedule, and a probe already running. */
static void backend_carry(struct hc_backend *b, struct hc_backend *old, bool same_check)
{
	b->state = old->state;
	b->passes = old->passes;
	b->fails = old->fails;
	memcpy(b->last, old->last, sizeof(b->last));
	b->next_ns = old->next_ns;
	if (same_check) {
		b->probe = old->probe;	/* the socket moves with it */
		probe_init(&old->probe);
	}
}

static void rt_carry(struct health_rt *rt, struct health_rt *old)
{
	for (struct hc_pool *p = rt->pools; p < rt->pools + rt->npools; p++) {
		struct hc_pool *op = pool_find(old, p->svc, p->version);
		bool same = op && !memcmp(&op->hc, &p->hc, sizeof(p->hc));

		for (struct hc_backend *b = p->be; b < p->be + p->n; b++) {
			struct hc_backend *ob = backend_find(op, &b->be);

			if (ob)
				backend_carry(b, ob, same);
		}
	}
}

/* A service that no longer has "health": its pools go back to every backend. */
static void pools_unmask(struct canaryd *d, struct health_rt *old)
{
	for (struct hc_pool *op = old->pools; op < old->pools + old->npools; op++) {
		const struct cfg_service *svc = config_service(&d->cfg, op->svc);
		struct state_svc *s = state_svc_find(d->state, op->svc);
		int ret;

		if (!svc || svc->health || !s || live_count(op) == op->n)
			continue;
		ret = pool_publish(&d->dp, s->id, op->version, svc->pool[op->version],
				   svc->npool[op->version]);
		if (ret)
			log_err("%s: publish the %s pool without health checks: %s", op->svc,
				version_names[op->version], strerror(-ret));
	}
}

void health_reload(struct canaryd *d)
{
	struct health_rt *old = d->health, *rt = rt_build(&d->cfg);

	if (!rt) {
		log_err("health checks: %s: keeping the old probe table", strerror(ENOMEM));
		return;
	}
	if (old) {
		rt_carry(rt, old);
		pools_unmask(d, old);
	}
	rt_schedule(rt, mono_ns());
	d->health = rt;
	rt_free(old);
	/* apply_config() published changed pools whole: put the known down backends out again. */
	for (struct hc_pool *p = rt->pools; p < rt->pools + rt->npools; p++)
		if (live_count(p) != p->n)
			pool_publish_health(d, p);
}

unsigned int health_pollfds(struct canaryd *d, struct pollfd *pfd, unsigned int max)
{
	unsigned int n = 0;

	if (!d->health)
		return 0;
	FOR_EACH_BACKEND(d->health, p, b) {
		b->pfd = -1;
		if (probe_fd(&b->probe) < 0 || n >= max)
			continue;
		pfd[n] = (struct pollfd){ .fd = probe_fd(&b->probe),
					  .events = probe_events(&b->probe) };
		b->pfd = n++;
	}
	return n;
}

/*
 * What poll() said of @b's socket. One the caller did not poll (no room left in its array, or a
 * probe started since) is asked now, without waiting: a probe is never failed for a timeout
 * because nobody looked at its socket.
 */
static short revents_of(const struct hc_backend *b, const struct pollfd *pfd, unsigned int n)
{
	struct pollfd one = { .fd = probe_fd(&b->probe), .events = probe_events(&b->probe) };

	if (b->pfd >= 0 && (unsigned int)b->pfd < n && pfd[b->pfd].fd == one.fd)
		return pfd[b->pfd].revents;
	return poll(&one, 1, 0) == 1 ? one.revents : 0;
}

void health_run(struct canaryd *d, const struct pollfd *pfd, unsigned int n)
{
	__u64 now = mono_ns();

	if (!d->health)
		return;
	FOR_EACH_BACKEND(d->health, p, b) {
		if (probe_fd(&b->probe) >= 0) {
			enum probe_result r = probe_step(&b->probe, revents_of(b, pfd, n), now);

			if (r != PROBE_BUSY)
				probe_done(d, p, b, r);
		} else if (b->next_ns <= now) {
			probe_due(d, p, b, now);
		}
		b->pfd = -1;
	}
	for (struct hc_pool *p = d->health->pools; p < d->health->pools + d->health->npools; p++)
		if (p->unpublished)
			pool_publish_health(d, p);
}

int health_timeout_ms(struct canaryd *d)
{
	__u64 now = mono_ns(), next = 0;

	if (!d->health)
		return -1;
	FOR_EACH_BACKEND(d->health, p, b) {
		__u64 at = probe_fd(&b->probe) >= 0 ? b->probe.deadline_ns : b->next_ns;

		if (!next || at < next)
			next = at;
	}
	if (!next)
		return -1;
	if (next <= now)
		return 0;
	return (next - now + NS_PER_MS - 1) / NS_PER_MS;
}

bool health_pool_ok(struct canaryd *d, const char *svc, unsigned int version)
{
	struct hc_pool *p = pool_find(d->health, svc, version);
	const struct cfg_service *cs = config_service(&d->cfg, svc);

	if (!p)
		return !cs || !cs->health;
	for (unsigned int i = 0; i < p->n; i++)
		if (p->be[i].state != BE_UP)
			return false;
	return p->n > 0;
}

static json_t *pool_json(const struct hc_pool *p)
{
	json_t *arr = json_array();
	char ep[BACKEND_STRLEN];

	for (unsigned int i = 0; arr && i < p->n; i++) {
		const struct hc_backend *b = &p->be[i];

		json_array_append_new(arr, json_pack("{ss ss sI sI so}",
			"backend", backend_format(&b->be, ep, sizeof(ep)),
			"state", be_health_names[b->state],
			"passes", (json_int_t)b->passes, "fails", (json_int_t)b->fails,
			"last", b->last[0] ? json_string(b->last) : json_null()));
	}
	return arr;
}

int health_backend_up(struct canaryd *d, const char *svc, unsigned int version,
		      const struct backend *be)
{
	const struct hc_backend *b = backend_find(pool_find(d->health, svc, version), be);

	if (!b || b->state == BE_UNKNOWN)
		return -1;
	return b->state == BE_UP;
}

json_t *health_json(struct canaryd *d, const char *svc)
{
	json_t *out = NULL;

	for (unsigned int v = 0; v < CANARY_V_MAX; v++) {
		struct hc_pool *p = pool_find(d->health, svc, v);

		if (!p)
			continue;
		if (!out)
			out = json_object();
		if (out)
			json_object_set_new(out, version_names[v], pool_json(p));
	}
	return out;
}

void health_stop(struct canaryd *d)
{
	rt_free(d->health);
	d->health = NULL;
}
