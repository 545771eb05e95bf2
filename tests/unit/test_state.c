// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The state file round-trips, ids rest after retirement, and latency quantiles interpolate. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "sample.h"
#include "state.h"

static void state_round_trip(void **unused)
{
	char dir[] = "/tmp/xdp-canary-state-XXXXXX", err[256] = "";
	struct canary_state *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct state_svc *s;

	(void)unused;
	assert_non_null(mkdtemp(dir));
	s = state_svc_add(a, "web", 1000);
	assert_non_null(s);
	assert_int_equal(s->id, 0);
	s->paused = true;
	state_note(s, 2000, "weight", 100, 2500, "moving \"on\"", "canaryctl uid 0");
	assert_non_null(state_svc_add(a, "api", 1000));
	snprintf(a->clsact[a->nclsact++], IF_NAMESIZE, "eth1");
	assert_int_equal(state_save(dir, a, err, sizeof(err)), 0);
	assert_int_equal(state_load(dir, b, err, sizeof(err)), 0);
	s = state_svc_find(b, "web");
	assert_non_null(s);
	assert_true(s->paused);
	assert_int_equal(s->last.to_bp, 2500);
	assert_string_equal(s->last.reason, "moving \"on\"");
	assert_int_equal(state_svc_find(b, "api")->id, 1);
	assert_string_equal(b->clsact[0], "eth1");
	/* No temporary file is left behind by the atomic write. */
	{
		char tmp[300];

		snprintf(tmp, sizeof(tmp), "%s/state.json.tmp", dir);
		assert_int_not_equal(access(tmp, F_OK), 0);
		snprintf(tmp, sizeof(tmp), "rm -rf %s", dir);
		assert_int_equal(system(tmp), 0);
	}
	free(a);
	free(b);
}

static void retired_ids_rest(void **unused)
{
	struct canary_state *st = calloc(1, sizeof(*st));

	(void)unused;
	assert_int_equal(state_svc_add(st, "a", 0)->id, 0);
	assert_int_equal(state_svc_add(st, "b", 0)->id, 1);
	state_svc_retire(st, "a", 10000);
	/* Id 0 rests: a new service gets 2, until the rest is over. */
	assert_int_equal(state_svc_add(st, "c", 10000 + 1000)->id, 2);
	assert_int_equal(state_svc_add(st, "d", 10000 + STATE_RETIRE_MS)->id, 0);
	free(st);
}

static void missing_and_corrupt_files(void **unused)
{
	char dir[] = "/tmp/xdp-canary-state-XXXXXX", err[256] = "", cmd[300];
	struct canary_state *st = calloc(1, sizeof(*st));

	(void)unused;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(state_load(dir, st, err, sizeof(err)), 0);
	assert_int_equal(st->nsvc, 0);
	snprintf(cmd, sizeof(cmd), "echo '{not json' > %s/state.json", dir);
	assert_int_equal(system(cmd), 0);
	assert_int_not_equal(state_load(dir, st, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "state.json"));
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	free(st);
}

static void quantiles(void **unused)
{
	struct lat_hist h = {};

	(void)unused;
	assert_true(isnan(hist_quantile(&h, 0.5)));
	/* 100 samples in [1024, 2048) us: the median is in the middle of the bucket. */
	h.bucket[10] = 100;
	assert_float_equal(hist_quantile(&h, 0.5), 1536e-6, 1e-9);
	assert_float_equal(hist_quantile(&h, 1.0), 2048e-6, 1e-9);
	/* One slow outlier moves p99 only past 99 fast ones. */
	h.bucket[10] = 99;
	h.bucket[20] = 1;
	assert_true(hist_quantile(&h, 0.5) < 2048e-6);
	assert_true(hist_quantile(&h, 0.999) >= 1048576e-6);
	assert_true(isinf(hist_bucket_le(CANARY_HIST_BUCKETS - 1)));
	assert_float_equal(hist_bucket_le(0), 2e-6, 1e-12);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(state_round_trip),
		cmocka_unit_test(retired_ids_rest),
		cmocka_unit_test(missing_and_corrupt_files),
		cmocka_unit_test(quantiles),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
