// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Address and prefix parsing into the map ABI's 16-byte form. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "addr.h"

static void v4_is_stored_mapped(void **state)
{
	static const __u8 want[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1 };
	char buf[CANARY_ADDRSTRLEN];
	__u8 addr[16];

	(void)state;
	assert_int_equal(addr_parse("192.0.2.1", addr), 0);
	assert_memory_equal(addr, want, 16);
	assert_true(addr_is_v4(addr));
	assert_string_equal(addr_format(addr, buf, sizeof(buf)), "192.0.2.1");
}

static void v6_round_trips(void **state)
{
	char buf[CANARY_ADDRSTRLEN];
	__u8 addr[16];

	(void)state;
	assert_int_equal(addr_parse("2001:db8::1", addr), 0);
	assert_false(addr_is_v4(addr));
	assert_string_equal(addr_format(addr, buf, sizeof(buf)), "2001:db8::1");
}

static void garbage_rejected(void **state)
{
	static const char *const bad[] = { "", "abc", "192.0.2", "192.0.2.256", "1.2.3.4.5",
					   "2001:db8:::1", " 192.0.2.1", "192.0.2.1 " };
	__u8 addr[16];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(addr_parse(bad[i], addr), -EINVAL);
}

static void prefixes_in_128_bit_space(void **state)
{
	char buf[CANARY_ADDRSTRLEN];
	unsigned int plen;
	__u8 addr[16];

	(void)state;
	assert_int_equal(prefix_parse("198.51.100.77/24", addr, &plen), 0);
	assert_int_equal(plen, 96 + 24);
	assert_string_equal(addr_format(addr, buf, sizeof(buf)), "198.51.100.0");
	assert_int_equal(prefix_parse("2001:db8:1::ff/64", addr, &plen), 0);
	assert_int_equal(plen, 64);
	assert_string_equal(addr_format(addr, buf, sizeof(buf)), "2001:db8:1::");
	assert_int_equal(prefix_parse("192.0.2.1", addr, &plen), 0);
	assert_int_equal(plen, 128);
	assert_int_equal(prefix_parse("0.0.0.0/0", addr, &plen), 0);
	assert_int_equal(plen, 96);
}

static void bad_prefixes_rejected(void **state)
{
	static const char *const bad[] = { "192.0.2.0/33", "2001:db8::/129", "192.0.2.0/",
					   "192.0.2.0/x", "/24", "192.0.2.0/24/1", "abc/8",
					   "192.0.2.0/-1" };
	unsigned int plen;
	__u8 addr[16];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(prefix_parse(bad[i], addr, &plen), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(v4_is_stored_mapped),
		cmocka_unit_test(v6_round_trips),
		cmocka_unit_test(garbage_rejected),
		cmocka_unit_test(prefixes_in_128_bit_space),
		cmocka_unit_test(bad_prefixes_rejected),
	};

	return cmocka_run_group_tests_name("addr", tests, NULL, NULL);
}
