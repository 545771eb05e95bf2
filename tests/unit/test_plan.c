// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Durations as the config writes them and as messages and status show them, and the name tables
 * plan.h exports. The keys that hold durations are tested with the rest of the config
 * (test_config.c).
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "plan.h"

static void durations_parse(void **state)
{
	static const struct {
		const char *text;
		__u64 ms;
	} good[] = {
		{ "250ms", 250 }, { "1.5s", 1500 }, { "30s", 30000 }, { "5m", 300000 },
		{ "1h", 3600000 }, { "1h30m", 5400000 }, { "2m30s", 150000 }, { "0s", 0 },
		{ "0.25s", 250 }, { "1.5h", 5400000 }, { "1m0.5s", 60500 }, { "007s", 7000 },
		{ "1h2m3s4ms", 3723004 }, { "0.001s", 1 }, { "999999999h", 999999999ULL * 3600000 },
	};
	__u64 ms;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ms = 12345;
		assert_int_equal(duration_parse(good[i].text, &ms), 0);
		assert_int_equal(ms, good[i].ms);
	}
}

static void durations_rejected(void **state)
{
	static const char *const bad[] = {
		"", "5", "1.5", "-1s", "1x", "s", "1 s", " 1s", "1s ", "1.s", ".5s", "1e3ms",
		"30m1h", "1s1s", "1ms1s", "1h5", "0.5ms", "1.0005s", "1000000000s", "+1s", "1S",
		"1sec", "1d",
	};
	__u64 ms;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ms = 12345;
		if (duration_parse(bad[i], &ms) != -EINVAL)
			print_error("bad[%zu]: \"%s\"\n", i, bad[i]);
		assert_int_equal(duration_parse(bad[i], &ms), -EINVAL);
		assert_int_equal(ms, 12345);
	}
}

static void durations_format(void **state)
{
	static const struct {
		__u64 ms;
		const char *text;
	} cases[] = {
		{ 0, "0s" }, { 250, "250ms" }, { 999, "999ms" }, { 1000, "1s" }, { 1500, "1.5s" },
		{ 1001, "1.001s" }, { 1050, "1.05s" }, { 30000, "30s" }, { 60000, "1m" },
		{ 90000, "1m30s" }, { 60500, "1m0.5s" }, { 300000, "5m" }, { 3600000, "1h" },
		{ 5400000, "1h30m" }, { 3723004, "1h2m3.004s" }, { 604800000, "168h" },
	};
	char buf[32];
	__u64 ms;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_string_equal(duration_format(cases[i].ms, buf, sizeof(buf)), cases[i].text);
		/* What is shown reads back as the same duration. */
		assert_int_equal(duration_parse(buf, &ms), 0);
		assert_int_equal(ms, cases[i].ms);
	}
}

/* A buffer too small cuts the text, and never writes past it. */
static void duration_format_short_buffer(void **state)
{
	char buf[8];

	(void)state;
	memset(buf, 'x', sizeof(buf));
	assert_string_equal(duration_format(5400000, buf, 4), "1h3");
	assert_int_equal(buf[4], 'x');
	assert_string_equal(duration_format(3723004, buf, sizeof(buf)), "1h2m3.0");
}

static void name_tables(void **state)
{
	unsigned int n = 0;

	(void)state;
	assert_string_equal(kernel_metric_names[KM_ERROR_RATIO], "error_ratio");
	assert_string_equal(kernel_metric_names[KM_HANDSHAKE_P99], "handshake_p99");
	assert_string_equal(kernel_metric_names[KM_TTFB_P95], "ttfb_p95");
	for (; hook_event_names[n]; n++)
		assert_true((1U << n) & HOOK_ALL);
	assert_int_equal(1U << n, HOOK_ALL + 1);
	assert_string_equal(hook_event_names[5], "rolled_back");
	assert_int_equal(HOOK_ROLLED_BACK, 1 << 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(durations_parse),
		cmocka_unit_test(durations_rejected),
		cmocka_unit_test(durations_format),
		cmocka_unit_test(duration_format_short_buffer),
		cmocka_unit_test(name_tables),
	};

	return cmocka_run_group_tests_name("plan", tests, NULL, NULL);
}
