// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The agent's view of each service: a ring of samples, and the status canaryctl shows. */
#include "canaryd.h"
#include "status.h"

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

json_t *status_json(struct canaryd *d, const struct cfg_service *svc)
{
	struct state_svc *s = state_svc_find(d->state, svc->name);
	const struct svc_sample *old, *last;
	struct svc_sample now;

	if (!s || sample_read(&d->dp, s->id, &now))
		return NULL;
	/* Totals as of now; rates over the window the ring covers. */
	window_of(&d->rings[s->id], d->cfg.status_window_s * 1000000000ULL, &old, &last);
	if (!old)
		old = last;
	return status_svc_json(&d->dp, s, svc, old, &now, true);
}
