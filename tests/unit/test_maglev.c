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

static void bad_arguments_rejected(void **state)
{
	struct backend be[1];
	__u8 table[M];

	(void)state;
	backends(be, 1);
	assert_int_equal(maglev_build(table, 4096, be, 1), -EINVAL);	/* not prime */
	assert_int_equal(maglev_build(table, M, be, 0), -EINVAL);
	assert_int_equal(maglev_build(table, M, be, 255), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_backend_gets_its_share),
		cmocka_unit_test(one_more_backend_moves_about_one_nth),
		cmocka_unit_test(same_input_same_table),
		cmocka_unit_test(bad_arguments_rejected),
	};

	return cmocka_run_group_tests_name("maglev", tests, NULL, NULL);
}
