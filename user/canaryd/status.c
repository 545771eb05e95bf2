// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The agent's view of each service: a ring of samples, and the status canaryctl shows. */
#include "canaryd.h"
#include "engine.h"
#include "rostatus.h"
#include "status.h"

/* One a second; more seconds apart when the status window is longer than half the ring. */
__u64 sample_every_ns(const struct canary_config *cfg)
{
	__u64 every = 1000000000ULL;

	if (cfg->status_window_s > SAMPLE_RING / 2)
		every *= (cfg->status_window_s + SAMPLE_RING / 2 - 1) / (SAMPLE_RING / 2);
	return every;
}

void samples_take(struct canaryd *d)
{
	for (unsigned int i = 0; i < d->state->nsvc; i++) {
		struct sample_ring *r = &d->rings[d->state->svc[i].id];

		if (sample_read(&d->dp, d->state->svc[i].id, &r->s[r->next])) {
			d->counters.sample_errors++;
			continue;
		}
		r->next = (r->next + 1) % SAMPLE_RING;
		if (r->n < SAMPLE_RING)
			r->n++;
	}
}

/* The newest sample, and the one closest to a window before it. */
static void window_of(const struct sample_ring *r, __u64 window_ns, const struct svc_sample **old,
		      const struct svc_sample **cur)
{
	*old = *cur = NULL;
	if (!r->n)
		return;
	*cur = &r->s[(r->next + SAMPLE_RING - 1) % SAMPLE_RING];
	for (unsigned int back = r->n - 1; back > 0; back--) {
		const struct svc_sample *s = &r->s[(r->next + SAMPLE_RING - 1 - back) % SAMPLE_RING];

		if ((*cur)->mono_ns - s->mono_ns <= window_ns + window_ns / 4) {
			*old = s;
			return;
		}
	}
}

/* The last evaluation's checks, and the breaker's trips, next to where the rollout is. */
static void rollout_checks_add(struct canaryd *d, const struct cfg_service *svc,
			       const struct state_svc *s, json_t *ro)
{
	const struct ro_check_result *res;
	json_t *arr = json_array();
	unsigned int n;

	res = engine_last_checks(d, s->id, &n);
	for (unsigned int i = 0; i < n && i < svc->plan->nchecks; i++)
		json_array_append_new(arr, check_result_json(&svc->plan->checks[i], &res[i]));
	json_object_set_new(ro, "checks", arr);
	json_object_set_new(ro, "breaker_trips", json_integer(engine_breaker_trips(d, s->id)));
}

json_t *status_json(struct canaryd *d, const struct cfg_service *svc)
{
	struct state_svc *s = state_svc_find(d->state, svc->name);
	const struct svc_sample *old, *last;
	struct svc_sample now;
	json_t *st, *health;

	if (!s || sample_read(&d->dp, s->id, &now))
		return NULL;
	/* Totals as of now; rates over the window the ring covers. */
	window_of(&d->rings[s->id], d->cfg.status_window_s * 1000000000ULL, &old, &last);
	if (!old)
		old = last;
	st = status_svc_json(&d->dp, s, svc, old, &now, true);
	if (st && svc->plan)
		rollout_checks_add(d, svc, s, json_object_get(st, "rollout"));
	health = st ? health_json(d, svc->name) : NULL;
	if (health)
		json_object_set_new(st, "health", health);
	return st;
}
