// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The flow table's sweep on the agent's clock. A pass over the table begins every
 * SWEEP_EVERY_NS and goes on from the main loop's timer, at most SLICE_NS of it a tick: reading
 * a full 262144-entry table takes tens of milliseconds, one of the largest (flow_entries) whole
 * seconds, and the breaker must not wait for it. One line when a pass removed something; a
 * warning, once a minute at most, while the table stays nearly full, because a full table gives
 * new connections no entry.
 */
#include <string.h>

#include "canaryd.h"
#include "sweep.h"

#define SWEEP_EVERY_NS	(5 * 1000000000ULL)	/* from one pass's start to the next's */
#define SLICE_NS	10000000ULL		/* a batch is about a millisecond */
#define WARN_EVERY_NS	(60 * 1000000000ULL)
#define FULL_PERCENT	90

/* Whether @every has passed since *@last_ns (or nothing was ever logged); if so, now it has. */
static bool log_due(__u64 *last_ns, __u64 now, __u64 every)
{
	if (*last_ns && now - *last_ns < every)
		return false;
	*last_ns = now;
	return true;
}

static void pass_report(struct canaryd *d, const struct sweep_result *r, __u64 now)
{
	struct sweep_rt *s = &d->sweep;

	s->in_use = r->seen - r->removed;
	s->capacity = r->capacity;
	s->ran = true;
	if (r->removed)
		log_info("flow sweep: removed %llu idle flows (%llu of %u in use)", r->removed,
			 s->in_use, r->capacity);
	if (s->in_use * 100 > (__u64)r->capacity * FULL_PERCENT &&
	    log_due(&s->full_warned_ns, now, WARN_EVERY_NS))
		log_warn("flow table nearly full after the sweep: %llu of %u entries in use; a "
			 "full table gives new connections no entry (table_full): raise "
			 "flow_entries", s->in_use, r->capacity);
}

void sweep_tick(struct canaryd *d)
{
	const struct sweep_timeouts t = { .udp_idle_ns = canary_dp_udp_idle_ns(&d->dp),
					  .tcp_idle_ns = d->cfg.tcp_idle_ms * 1000000ULL };
	struct sweep_rt *s = &d->sweep;
	__u64 start = mono_ns();
	char err[256] = "";
	int ret;

	if (!s->in_pass) {
		if (start < s->next_ns)
			return;
		memset(&s->cur, 0, sizeof(s->cur));
		s->in_pass = true;
		s->next_ns = start + SWEEP_EVERY_NS;
	}
	do
		ret = flow_sweep_step(&d->dp, &s->cur, flow_clock_ns(), &t, err, sizeof(err));
	while (!ret && mono_ns() - start < SLICE_NS);
	if (!ret)
		return;		/* the rest at the next tick */
	s->in_pass = false;
	s->swept_total += s->cur.res.removed;
	if (ret > 0)
		pass_report(d, &s->cur.res, start);
	else if (log_due(&s->err_logged_ns, start, WARN_EVERY_NS))
		log_warn("%s (removed %llu idle flows before that)", err, s->cur.res.removed);
}
