// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The kernel-feature check canaryd runs before it loads: passes here, names what is missing. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <linux/bpf.h>

#include "dp_tests.h"
#include "kfeat.h"

static void this_kernel_has_every_feature(void **state)
{
	char err[256] = "";

	(void)state;
	if (kfeat_check(err, sizeof(err)))
		fail_msg("%s", err);
}

/* A kernel without a feature, stood for by a helper and a map type no kernel has. */
static void missing_feature_named_with_its_release(void **state)
{
	const struct kfeat helper[] = {
		{ KFEAT_MAP, BPF_MAP_TYPE_HASH, "hash maps", "3.19" },
		{ KFEAT_XDP_HELPER, 100000, "bpf_no_such_helper", "9.9" },
	};
	const struct kfeat map[] = { { KFEAT_MAP, 100000, "no such maps", "9.8" } };
	char err[256] = "", want[256];
	struct utsname u;

	(void)state;
	assert_int_equal(uname(&u), 0);
	assert_int_equal(kfeat_check_list(helper, 2, err, sizeof(err)), -EOPNOTSUPP);
	snprintf(want, sizeof(want), "kernel %s has no bpf_no_such_helper (Linux 9.9): "
		 "xdp-canary needs Linux 5.11 or later", u.release);
	assert_string_equal(err, want);
	assert_int_equal(kfeat_check_list(map, 1, err, sizeof(err)), -EOPNOTSUPP);
	assert_non_null(strstr(err, "has no no such maps (Linux 9.8)"));
}

static const struct CMUnitTest kfeat_tests[] = {
	cmocka_unit_test(this_kernel_has_every_feature),
	cmocka_unit_test(missing_feature_named_with_its_release),
};

const struct test_group kfeat_group = { "kfeat", kfeat_tests,
					sizeof(kfeat_tests) / sizeof(kfeat_tests[0]) };
