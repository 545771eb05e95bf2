// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Maglev table construction, in isolation from the kernel. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "addr.h"
#include "maglev.h"

#define M CANARY_MAGLEV_SIZE

static void backends(struct backend *be, unsigned int n)
{
	char text[32];

	memset(be, 0, n * sizeof(*be));
	for (unsigned int i = 0; i < n; i++) {
		snprintf(text, sizeof(text), "10.1.%u.%u", i / 200, i % 200 + 1);
		assert_int_equal(addr_parse(text, be[i].addr), 0);
		be[i].port = 8080;
	}
}

static void every_backend_gets_its_share(void **state)
{
	static const unsigned int counts[] = { 1, 2, 3, 5, 17, 64 };
	struct backend be[CANARY_MAX_BACKENDS];
	__u8 table[M];

	(void)state;
	for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		unsigned int n = counts[c], owned[CANARY_MAX_BACKENDS] = {};

		backends(be, n);
		assert_int_equal(maglev_build(table, M, be, n), 0);
		for (unsigned int i = 0; i < M; i++) {
			assert_true(table[i] < n);
			owned[table[i]]++;
		}
		/* Maglev's round-robin fill: shares differ by at most one entry. */
		for (unsigned int b = 0; b < n; b++)
			assert_true(owned[b] == M / n || owned[b] == M / n + 1);
	}
}

static unsigned int entries_moved(unsigned int from, unsigned int to)
{
	struct backend be[CANARY_MAX_BACKENDS];
	static __u8 before[M], after[M];
	unsigned int moved = 0;

	backends(be, from > to ? from : to);
	assert_int_equal(maglev_build(before, M, be, from), 0);
	assert_int_equal(maglev_build(after, M, be, to), 0);
	for (unsigned int i = 0; i < M; i++)
		moved += before[i] != after[i];
	return moved;
}

static void one_more_backend_moves_about_one_nth(void **state)
{
	(void)state;
	for (unsigned int n = 2; n <= 20; n++) {
		double moved = (double)entries_moved(n, n + 1) / M, ideal = 1.0 / (n + 1);

		assert_true(moved >= ideal * 0.9 && moved <= ideal * 1.6);
	}
}

static void same_input_same_table(void **state)
{
	struct backend be[8];
	static __u8 a[M], b[M];

	(void)state;
	backends(be, 8);
	assert_int_equal(maglev_build(a, M, be, 8), 0);
	assert_int_equal(maglev_build(b, M, be, 8), 0);
	assert_memory_equal(a, b, M);
}

/* Backends 1, 4 and 6 of 8 down. */
static void down_backends_own_no_entry(void **state)
{
	static const bool live[8] = { 1, 0, 1, 1, 0, 1, 0, 1 };
	struct backend be[8];
	unsigned int owned[8] = {};
	static __u8 table[M];

	(void)state;
	backends(be, 8);
	assert_int_equal(maglev_build_live(table, M, be, 8, live), 0);
	for (unsigned int i = 0; i < M; i++) {
		assert_true(table[i] < 8 && live[table[i]]);
		owned[table[i]]++;
	}
	/* An even share of the table, give or take the two rounds of filling. */
	for (unsigned int b = 0; b < 8; b++)
		if (live[b])
			assert_true(owned[b] + 2 >= M / 5 && owned[b] <= M / 5 + 2);
}

/* Taking backends out, one after another, moves their entries and not one other. */
static void going_down_moves_only_its_entries(void **state)
{
	static __u8 all[M], some[M];
	struct backend be[CANARY_MAX_BACKENDS];
	bool live[CANARY_MAX_BACKENDS];

	(void)state;
	for (unsigned int n = 2; n <= CANARY_MAX_BACKENDS; n *= 2) {
		backends(be, n);
		memset(live, 1, sizeof(live));
		assert_int_equal(maglev_build(all, M, be, n), 0);
		for (unsigned int down = 0; down + 1 < n; down++) {
			live[down] = false;
			assert_int_equal(maglev_build_live(some, M, be, n, live), 0);
			for (unsigned int i = 0; i < M; i++)
				if (live[all[i]])
					assert_int_equal(some[i], all[i]);
				else
					assert_true(live[some[i]]);
		}
	}
}

static void all_live_is_the_plain_table(void **state)
{
	static const bool live[5] = { 1, 1, 1, 1, 1 };
	static __u8 a[M], b[M];
	struct backend be[5];

	(void)state;
	backends(be, 5);
	assert_int_equal(maglev_build(a, M, be, 5), 0);
	assert_int_equal(maglev_build_live(b, M, be, 5, live), 0);
	assert_memory_equal(a, b, M);
	assert_int_equal(maglev_build_live(b, M, be, 5, NULL), 0);
	assert_memory_equal(a, b, M);
}

static void bad_arguments_rejected(void **state)
{
	struct backend be[1];
	__u8 table[M];

	(void)state;
	backends(be, 1);
	assert_int_equal(maglev_build(table, 4096, be, 1), -EINVAL);	/* not prime */
	assert_int_equal(maglev_build(table, M, be, 0), -EINVAL);
	assert_int_equal(maglev_build(table, M, be, 255), -EINVAL);
	assert_int_equal(maglev_build_live(table, M, be, 1, (const bool[1]){ false }), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_backend_gets_its_share),
		cmocka_unit_test(one_more_backend_moves_about_one_nth),
		cmocka_unit_test(same_input_same_table),
		cmocka_unit_test(down_backends_own_no_entry),
		cmocka_unit_test(going_down_moves_only_its_entries),
		cmocka_unit_test(all_live_is_the_plain_table),
		cmocka_unit_test(bad_arguments_rejected),
	};

	return cmocka_run_group_tests_name("maglev", tests, NULL, NULL);
}
