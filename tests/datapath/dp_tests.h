/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The datapath test groups, one per file. */
#ifndef XDP_CANARY_DP_TESTS_H
#define XDP_CANARY_DP_TESTS_H

#include "env.h"

struct test_group {
	const char *name;
	const struct CMUnitTest *tests;
	size_t count;
};

extern const struct test_group nat_group;
extern const struct test_group parse_group;
extern const struct test_group split_group;
extern const struct test_group fallback_group;
extern const struct test_group pin_group;
extern const struct test_group reply_group;
extern const struct test_group conn_group;
extern const struct test_group sweep_group;
extern const struct test_group kfeat_group;
extern const struct test_group frags_group;

/* Asserts @got equals @want byte for byte, printing both in hex when they differ. */
void assert_packet_equal(const __u8 *got, size_t got_len, const __u8 *want, size_t want_len);

#endif /* XDP_CANARY_DP_TESTS_H */
