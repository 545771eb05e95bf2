// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The kernel checks' error ratio and the breaker, on two hand-made samples: the errors between
 * them over their own denominator, the min_samples floor, max_ratio as a strict bound, and one
 * kind tripping while another stays under.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "kcheck.h"

#define KIND(name) (1u << kind_index(name))

static unsigned int kind_index(const char *name)
{
	for (unsigned int i = 0; i < err_kinds_n; i++)
		if (!strcmp(err_kinds[i].name, name))
			return i;
	fail_msg("no error kind %s", name);
	return 0;
}

/* Two samples one second apart: @old as given, @cur with the canary's deltas added. */
struct window {
	struct svc_sample old, cur;
};

static void window_init(struct window *w)
{
	memset(w, 0, sizeof(*w));
	w->old.mono_ns = 5000000000ULL;
	w->cur.mono_ns = 6000000000ULL;
	/* Counts from before the window, which must not count. */
	for (unsigned int v = 0; v < CANARY_V_MAX; v++) {
		w->old.v[v].vs.new_flows = 1000;
		w->old.v[v].vs.rst_refused = 900;
		w->old.v[v].vs.http_responses = 1000;
		w->old.v[v].vs.http_5xx = 900;
		w->cur.v[v].vs = w->old.v[v].vs;
	}
}

static void canary_add(struct window *w, __u64 flows, __u64 refused, __u64 responses, __u64 e5xx)
{
	struct ver_stats *vs = &w->cur.v[CANARY_V_CANARY].vs;

	vs->new_flows += flows;
	vs->rst_refused += refused;
	vs->http_responses += responses;
	vs->http_5xx += e5xx;
}

static void error_ratio_over_the_window(void **unused)
{
	struct plan_check c = { .metric = KM_ERROR_RATIO, .kinds = KIND("http_5xx") };
	struct window w;
	__u64 samples;
	double value;

	(void)unused;
	window_init(&w);
	canary_add(&w, 40, 0, 50, 5);
	kcheck_measure(&c, &w.old, &w.cur, CANARY_V_CANARY, &value, &samples);
	assert_int_equal(samples, 50);
	assert_true(fabs(value - 0.1) < 1e-12);
	/* Stable had nothing in the window: no value, not 0. */
	kcheck_measure(&c, &w.old, &w.cur, CANARY_V_STABLE, &value, &samples);
	assert_int_equal(samples, 0);
	assert_true(isnan(value));
}

static void error_ratio_adds_kinds_of_one_denominator(void **unused)
{
	struct plan_check c = { .metric = KM_ERROR_RATIO,
				.kinds = KIND("refused") | KIND("reset") | KIND("syn_timeout") };
	struct window w;
	__u64 samples;
	double value;

	(void)unused;
	window_init(&w);
	canary_add(&w, 20, 2, 0, 0);
	w.cur.v[CANARY_V_CANARY].vs.rst_midflow += 1;
	w.cur.v[CANARY_V_CANARY].vs.syn_timeout += 2;
	w.cur.v[CANARY_V_CANARY].vs.icmp_unreach += 7;	/* not asked for */
	kcheck_measure(&c, &w.old, &w.cur, CANARY_V_CANARY, &value, &samples);
	assert_int_equal(samples, 20);
	assert_true(fabs(value - 0.25) < 1e-12);
}

/* A breaker over one second's window, with the kinds it watches, and a reason to fill. */
struct breaker_case {
	struct plan_breaker b;
	struct window w;
	char reason[128];
};

static void breaker_case_init(struct breaker_case *c, __u32 kinds)
{
	c->b = (struct plan_breaker){ .enabled = true, .window_ms = 1000, .max_ratio = 0.2,
				      .min_samples = 20, .kinds = kinds };
	window_init(&c->w);
	c->reason[0] = '\0';
}

static bool trips(struct breaker_case *c)
{
	return breaker_tripped(&c->b, &c->w.old, &c->w.cur, c->reason, sizeof(c->reason));
}

static void breaker_trips_above_max_ratio(void **unused)
{
	struct breaker_case c;

	(void)unused;
	breaker_case_init(&c, KIND("http_5xx"));
	canary_add(&c.w, 0, 0, 50, 31);
	assert_true(trips(&c));
	assert_string_equal(c.reason, "http_5xx 0.62 (31 of 50) > 0.2 over 1.00s");
}

static void breaker_holds_at_max_ratio_and_below_min_samples(void **unused)
{
	struct breaker_case c;

	(void)unused;
	breaker_case_init(&c, KIND("http_5xx"));
	canary_add(&c.w, 0, 0, 50, 10);	/* exactly 0.2: not above */
	assert_false(trips(&c));
	assert_string_equal(c.reason, "");
	breaker_case_init(&c, KIND("http_5xx"));
	canary_add(&c.w, 0, 0, 19, 19);	/* every answer a 5xx, one short of min_samples */
	assert_false(trips(&c));
	breaker_case_init(&c, KIND("http_5xx"));
	canary_add(&c.w, 0, 0, 20, 19);
	assert_true(trips(&c));
}

static void breaker_judges_each_kind_against_its_own_denominator(void **unused)
{
	struct breaker_case c;

	(void)unused;
	/* 5xx at 0.1 of 100 responses, refused at 0.5 of 40 new flows: refused trips. */
	breaker_case_init(&c, KIND("refused") | KIND("http_5xx"));
	canary_add(&c.w, 40, 20, 100, 10);
	assert_true(trips(&c));
	assert_string_equal(c.reason, "refused 0.5 (20 of 40) > 0.2 over 1.00s");
	/* The same errors on stable only: the breaker watches the canary. */
	breaker_case_init(&c, KIND("refused") | KIND("http_5xx"));
	c.w.cur.v[CANARY_V_STABLE].vs.new_flows += 40;
	c.w.cur.v[CANARY_V_STABLE].vs.rst_refused += 40;
	assert_false(trips(&c));
	/* Kinds not asked for do not trip. */
	breaker_case_init(&c, KIND("refused") | KIND("http_5xx"));
	canary_add(&c.w, 40, 0, 0, 0);
	c.w.cur.v[CANARY_V_CANARY].vs.syn_timeout += 40;
	assert_false(trips(&c));
}

static void breaker_off_never_trips(void **unused)
{
	struct breaker_case c;

	(void)unused;
	breaker_case_init(&c, KIND("http_5xx"));
	c.b.enabled = false;
	canary_add(&c.w, 0, 0, 100, 100);
	assert_false(trips(&c));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(error_ratio_over_the_window),
		cmocka_unit_test(error_ratio_adds_kinds_of_one_denominator),
		cmocka_unit_test(breaker_trips_above_max_ratio),
		cmocka_unit_test(breaker_holds_at_max_ratio_and_below_min_samples),
		cmocka_unit_test(breaker_judges_each_kind_against_its_own_denominator),
		cmocka_unit_test(breaker_off_never_trips),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
