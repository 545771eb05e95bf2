// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The state file round-trips (with a rollout, and without one as older files are), ids rest
 * after retirement, and latency quantiles interpolate.
 */
#include <errno.h>
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
	snprintf(a->clsact.name[a->clsact.n++], IF_NAMESIZE, "eth1");
	snprintf(a->clsact_in.name[a->clsact_in.n++], IF_NAMESIZE, "veth2");
	assert_int_equal(state_save(dir, a, err, sizeof(err)), 0);
	assert_int_equal(state_load(dir, b, err, sizeof(err)), 0);
	s = state_svc_find(b, "web");
	assert_non_null(s);
	assert_true(s->paused);
	assert_int_equal(s->last.to_bp, 2500);
	assert_string_equal(s->last.reason, "moving \"on\"");
	assert_int_equal(state_svc_find(b, "api")->id, 1);
	assert_string_equal(b->clsact.name[0], "eth1");
	assert_int_equal(b->clsact_in.n, 1);
	assert_string_equal(b->clsact_in.name[0], "veth2");
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

/* A rollout mid-stage with a history that wrapped, as canaryd would hold it. */
static void rollout_fill(struct rollout_state *ro)
{
	char reason[32];

	ro->phase = RO_STAGE;
	ro->paused = true;
	ro->stage = 2;
	ro->weight_bp = 2500;
	ro->started_ms = 1700000000000ULL;
	ro->stage_ms = 180000;
	ro->hold_ms = 30000;
	ro->failures = 1;
	ro->last_verdict = RV_HOLD;
	ro->evaluations[RV_PASS] = 7;
	ro->evaluations[RV_HOLD] = 2;
	ro->rollbacks = 3;
	ro->clock_ms = 1700000500000ULL;
	for (int i = 0; i < RO_HISTORY + 3; i++) {
		snprintf(reason, sizeof(reason), "decision \"%d\"", i);
		rollout_note(ro, 1000 + i, i % 2 ? RV_FAIL : RV_NONE, "hold", reason);
	}
}

/* The "rollout" object the file holds for @svc, or NULL; its own reference. */
static json_t *saved_rollout(const char *dir, const char *svc)
{
	char path[300];
	json_t *root, *ro;

	snprintf(path, sizeof(path), "%s/state.json", dir);
	root = json_load_file(path, 0, NULL);
	assert_non_null(root);
	ro = json_object_get(json_object_get(json_object_get(root, "services"), svc), "rollout");
	json_incref(ro);
	json_decref(root);
	return ro;
}

static void rollout_round_trip(void **unused)
{
	char dir[] = "/tmp/xdp-canary-state-XXXXXX", err[256] = "", cmd[300];
	struct canary_state *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	const struct rollout_state *ro;
	json_t *saved;

	(void)unused;
	assert_non_null(mkdtemp(dir));
	rollout_fill(&state_svc_add(a, "web", 0)->ro);
	assert_non_null(state_svc_add(a, "api", 0));
	assert_int_equal(state_save(dir, a, err, sizeof(err)), 0);
	/* The clock is not saved; an idle rollout that never ran is not written at all. */
	saved = saved_rollout(dir, "web");
	assert_non_null(saved);
	assert_null(json_object_get(saved, "clock_ms"));
	assert_string_equal(json_string_value(json_object_get(saved, "phase")), "stage");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
		json_object_get(saved, "history"), 0), "verdict")), "fail");
	json_decref(saved);
	assert_null(saved_rollout(dir, "api"));
	assert_int_equal(state_load(dir, b, err, sizeof(err)), 0);
	ro = &state_svc_find(b, "web")->ro;
	assert_int_equal(ro->phase, RO_STAGE);
	assert_true(ro->paused);
	assert_int_equal(ro->stage, 2);
	assert_int_equal(ro->weight_bp, 2500);
	assert_int_equal(ro->started_ms, 1700000000000ULL);
	assert_int_equal(ro->stage_ms, 180000);
	assert_int_equal(ro->hold_ms, 30000);
	assert_int_equal(ro->failures, 1);
	assert_int_equal(ro->last_verdict, RV_HOLD);
	assert_int_equal(ro->evaluations[RV_PASS], 7);
	assert_int_equal(ro->evaluations[RV_HOLD], 2);
	assert_int_equal(ro->evaluations[RV_FAIL], 0);
	assert_int_equal(ro->rollbacks, 3);
	assert_int_equal(ro->clock_ms, 0);
	/* The ring comes back in order: the newest last, the oldest kept first. */
	assert_int_equal(ro->nhistory, RO_HISTORY);
	assert_string_equal(rollout_last(ro)->reason, "decision \"18\"");
	assert_int_equal(rollout_last(ro)->verdict, RV_NONE);
	assert_int_equal(rollout_last(ro)->time_ms, 1018);
	assert_int_equal(rollout_last(ro)->stage, 2);
	assert_int_equal(rollout_last(ro)->weight_bp, 2500);
	assert_string_equal(ro->history[ro->hnext].reason, "decision \"3\"");
	assert_int_equal(ro->history[ro->hnext].verdict, RV_FAIL);
	assert_int_equal(state_svc_find(b, "api")->ro.phase, RO_IDLE);
	assert_int_equal(state_svc_find(b, "api")->ro.nhistory, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	free(a);
	free(b);
}

static void write_state(const char *dir, const char *json)
{
	char path[300];
	FILE *f;

	snprintf(path, sizeof(path), "%s/state.json", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_true(fputs(json, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static void old_file_without_rollout_loads_idle(void **unused)
{
	char dir[] = "/tmp/xdp-canary-state-XXXXXX", err[256] = "", cmd[300];
	struct canary_state *st = calloc(1, sizeof(*st));
	struct state_svc *s;

	(void)unused;
	assert_non_null(mkdtemp(dir));
	write_state(dir, "{\"format\": 1, \"services\": {\"web\": {\"id\": 4, \"paused\": false, "
		    "\"last_change\": {\"time_ms\": 5, \"from_bp\": 0, \"to_bp\": 100, "
		    "\"action\": \"weight\", \"reason\": \"\", \"by\": \"x\"}}}, "
		    "\"retired\": [], \"clsact\": []}");
	assert_int_equal(state_load(dir, st, err, sizeof(err)), 0);
	s = state_svc_find(st, "web");
	assert_non_null(s);
	assert_int_equal(s->id, 4);
	assert_int_equal(s->ro.phase, RO_IDLE);
	assert_null(rollout_last(&s->ro));
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	free(st);
}

static void bad_rollout_is_a_corrupt_file(void **unused)
{
	static const char *const bad[] = {
		"\"phase\": \"flying\"",		/* unknown phase */
		"\"phase\": \"stage\", \"stage\": -1",
		"\"phase\": \"stage\", \"weight_bp\": 10001",
		"\"phase\": \"stage\", \"last_verdict\": \"maybe\"",
		"\"phase\": \"stage\", \"history\": [{\"time_ms\": 1}]",
	};
	char dir[] = "/tmp/xdp-canary-state-XXXXXX", err[256], cmd[300], json[1024];
	struct canary_state *st = calloc(1, sizeof(*st));

	(void)unused;
	assert_non_null(mkdtemp(dir));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* json_loads keeps the last of two equal keys: the bad one comes second. */
		snprintf(json, sizeof(json), "{\"format\": 1, \"services\": {\"web\": {\"id\": 1, "
			 "\"rollout\": {\"phase\": \"stage\", \"paused\": false, \"stage\": 0, "
			 "\"weight_bp\": 100, \"started_ms\": 1, \"stage_ms\": 0, "
			 "\"hold_ms\": 0, \"failures\": 0, \"last_verdict\": \"none\", "
			 "\"evaluations\": {}, \"rollbacks\": 0, \"history\": [], %s}}}}",
			 bad[i]);
		write_state(dir, json);
		err[0] = '\0';
		assert_int_equal(state_load(dir, st, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "not a state file of this version"));
		assert_int_equal(st->nsvc, 0);
	}
	/* The same file without the bad field loads. */
	snprintf(json, sizeof(json), "{\"format\": 1, \"services\": {\"web\": {\"id\": 1, "
		 "\"rollout\": {\"phase\": \"gate\", \"paused\": false, \"stage\": 0, "
		 "\"weight_bp\": 100, \"started_ms\": 1, \"stage_ms\": 0, \"hold_ms\": 0, "
		 "\"failures\": 0, \"last_verdict\": \"none\", \"evaluations\": {}, "
		 "\"rollbacks\": 0, \"history\": []}}}}");
	write_state(dir, json);
	assert_int_equal(state_load(dir, st, err, sizeof(err)), 0);
	assert_int_equal(state_svc_find(st, "web")->ro.phase, RO_GATE);
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
		cmocka_unit_test(rollout_round_trip),
		cmocka_unit_test(old_file_without_rollout_loads_idle),
		cmocka_unit_test(bad_rollout_is_a_corrupt_file),
		cmocka_unit_test(quantiles),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
