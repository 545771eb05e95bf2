// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The flow table's sweep on the agent's clock: every SWEEP_EVERY_NS, from the main loop's timer.
 * A sweep of a full default-sized table takes milliseconds (tests/datapath/test_sweep.c), so
 * it runs inline. One line when it removed something; a warning, once a minute at most, when the
 * table stays nearly full, because a full table gives new connections no entry.
 */
#include "canaryd.h"
#include "sweep.h"

#define SWEEP_EVERY_NS	(5 * 1000000000ULL)
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

static void sweep_report(struct canaryd *d, const struct sweep_result *r, __u64 now)
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
	__u64 now = mono_ns();
	struct sweep_result r;
	char err[256] = "";
	int ret;

	if (now < d->sweep.next_ns)
		return;
	d->sweep.next_ns = now + SWEEP_EVERY_NS;
	ret = flow_sweep(&d->dp, flow_clock_ns(), &t, &r, err, sizeof(err));
	d->sweep.swept_total += r.removed;
	if (!ret)
		sweep_report(d, &r, now);
	else if (log_due(&d->sweep.err_logged_ns, now, WARN_EVERY_NS))
		log_warn("%s (removed %llu idle flows before that)", err, r.removed);
}
