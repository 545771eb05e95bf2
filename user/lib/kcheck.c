// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <math.h>
#include <stdio.h>

#include "kcheck.h"

/* A ratio of the kinds in @kinds (one denominator, the config makes sure) over the window. */
static void error_ratio(__u32 kinds, const struct ver_stats *old, const struct ver_stats *cur,
			double *value, __u64 *samples)
{
	__u64 errors = 0, of = 0;

	for (unsigned int i = 0; i < err_kinds_n; i++) {
		const struct err_kind *k = &err_kinds[i];

		if (!(kinds & (1u << i)))
			continue;
		errors += ver_counter(cur, k->off) - ver_counter(old, k->off);
		of = ver_counter(cur, k->of_off) - ver_counter(old, k->of_off);
	}
	*samples = of;
	*value = of ? (double)errors / of : NAN;
}

static void latency(enum canary_hist_kind kind, double q, const struct ver_sample *old,
		    const struct ver_sample *cur, double *value, __u64 *samples)
{
	struct lat_hist w;

	hist_sub(&cur->hist[kind], &old->hist[kind], &w);
	*samples = w.count;
	*value = hist_quantile(&w, q);
}

/* The latency metrics: which histogram, which quantile. */
static const struct {
	enum canary_hist_kind kind;
	double q;
} latencies[KM_MAX] = {
	[KM_HANDSHAKE_P95] = { CANARY_HIST_HANDSHAKE, 0.95 },
	[KM_HANDSHAKE_P99] = { CANARY_HIST_HANDSHAKE, 0.99 },
	[KM_TTFB_P95] = { CANARY_HIST_TTFB, 0.95 },
	[KM_TTFB_P99] = { CANARY_HIST_TTFB, 0.99 },
};

void kcheck_measure(const struct plan_check *c, const struct svc_sample *old,
		    const struct svc_sample *cur, unsigned int version, double *value,
		    __u64 *samples)
{
	const struct ver_sample *o = &old->v[version], *n = &cur->v[version];

	*value = NAN;
	*samples = 0;
	if (c->metric == KM_ERROR_RATIO)
		error_ratio(c->kinds, &o->vs, &n->vs, value, samples);
	else if (c->metric < KM_MAX)
		latency(latencies[c->metric].kind, latencies[c->metric].q, o, n, value, samples);
}

bool breaker_tripped(const struct plan_breaker *b, const struct svc_sample *old,
		     const struct svc_sample *cur, char *reason, size_t len)
{
	const struct ver_stats *o = &old->v[CANARY_V_CANARY].vs, *n = &cur->v[CANARY_V_CANARY].vs;
	double secs = (cur->mono_ns - old->mono_ns) / 1e9;

	if (!b->enabled)
		return false;
	for (unsigned int i = 0; i < err_kinds_n; i++) {
		const struct err_kind *k = &err_kinds[i];
		__u64 errors, of;

		if (!(b->kinds & (1u << i)))
			continue;
		errors = ver_counter(n, k->off) - ver_counter(o, k->off);
		of = ver_counter(n, k->of_off) - ver_counter(o, k->of_off);
		if (of < b->min_samples || !of || (double)errors / of <= b->max_ratio)
			continue;
		snprintf(reason, len, "%s %.3g (%llu of %llu) > %.3g over %.2fs", k->name,
			 (double)errors / of, (unsigned long long)errors, (unsigned long long)of,
			 b->max_ratio, secs);
		return true;
	}
	return false;
}
