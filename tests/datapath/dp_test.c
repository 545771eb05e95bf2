// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Datapath tests: the real forward program, loaded into the running kernel and driven with
 * BPF_PROG_TEST_RUN, golden packets in and out.
 */
#include <stdio.h>
#include <string.h>

#include "dp_tests.h"

static void hexdump(const char *what, const __u8 *p, size_t len)
{
	fprintf(stderr, "%s (%zu bytes):", what, len);
	for (size_t i = 0; i < len; i++)
		fprintf(stderr, "%s%02x", i % 16 ? " " : "\n  ", p[i]);
	fprintf(stderr, "\n");
}

void assert_packet_equal(const __u8 *got, size_t got_len, const __u8 *want, size_t want_len)
{
	if (got_len == want_len && !memcmp(got, want, got_len))
		return;
	hexdump("got", got, got_len);
	hexdump("want", want, want_len);
	fail_msg("packet differs from the golden one");
}

/*
 * DP_HOOK=tc runs the groups that send packets through the TC ingress program instead: the
 * same golden packets, decisions and counters as XDP. The others are about loading, pinning
 * and sweeping, which the hook does not change.
 */
static int groups_run(const struct test_group *const *groups, size_t n)
{
	int failed = 0;

	for (size_t i = 0; i < n; i++)
		failed += _cmocka_run_group_tests(groups[i]->name, groups[i]->tests,
						  groups[i]->count, NULL, NULL);
	return failed;
}

int main(void)
{
	static const struct test_group *const packets[] = {
		&nat_group, &parse_group, &split_group, &fallback_group, &reply_group, &conn_group,
		&frags_group,
	};
	static const struct test_group *const loading[] = { &sweep_group, &pin_group,
							    &kfeat_group };
	int failed;

	if (env_netns_setup())
		return 1;
	failed = groups_run(packets, sizeof(packets) / sizeof(packets[0]));
	if (!env_hook_is_tc())
		failed += groups_run(loading, sizeof(loading) / sizeof(loading[0]));
	return failed ? 1 : 0;
}
