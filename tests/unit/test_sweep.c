// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Which flow entries the sweep takes as idle: every rule, on both sides of its limit. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "sweep.h"

#define S		1000000000ULL
#define NOW		(100000 * S)
#define UDP_IDLE	(30 * S)
#define MID		CANARY_FLOW_MIDSTREAM
#define REPLIED		CANARY_FLOW_REPLIED
#define CLOSED		CANARY_FLOW_CLOSED
#define ESTABLISHED	(CANARY_FLOW_SYNACK | CANARY_FLOW_COUNTED)
#define HALF_CLOSED	(ESTABLISHED | CANARY_FLOW_FIN_CLIENT)

static const struct sweep_timeouts timeouts = { .udp_idle_ns = UDP_IDLE,
						.tcp_idle_ns = CANARY_IDLE_TCP_NS };

struct idle_case {
	__u8 proto;
	__u32 flags;
	__u64 idle_ns;		/* now - last_ns */
	bool expired;
};

static bool expired_after(const struct sweep_timeouts *t, __u8 proto, __u32 flags, __u64 last_ns,
			  __u64 now_ns)
{
	struct flow_key k = { .proto = proto };
	struct flow_val v = { .flags = flags, .last_ns = last_ns };

	return flow_idle_expired(&k, &v, now_ns, t);
}

static void each_rule_at_its_limit(void **state)
{
	static const struct idle_case cases[] = {
		/* UDP: the datapath's idle time, whatever the flags say. */
		{ IPPROTO_UDP, 0, UDP_IDLE - 1, false },
		{ IPPROTO_UDP, 0, UDP_IDLE, false },
		{ IPPROTO_UDP, 0, UDP_IDLE + 1, true },
		{ IPPROTO_UDP, CLOSED | MID, CANARY_IDLE_SHORT_NS + 1, false },
		/* TCP, closed (FIN both ways): the short time. */
		{ IPPROTO_TCP, ESTABLISHED | CLOSED, CANARY_IDLE_SHORT_NS, false },
		{ IPPROTO_TCP, ESTABLISHED | CLOSED, CANARY_IDLE_SHORT_NS + 1, true },
		{ IPPROTO_TCP, CLOSED | MID | REPLIED, CANARY_IDLE_SHORT_NS + 1, true },
		/* TCP, midstream and never answered: the short time. */
		{ IPPROTO_TCP, MID, CANARY_IDLE_SHORT_NS, false },
		{ IPPROTO_TCP, MID, CANARY_IDLE_SHORT_NS + 1, true },
		/* TCP, midstream but answered: an older connection, kept like any other. */
		{ IPPROTO_TCP, MID | REPLIED, CANARY_IDLE_SHORT_NS + 1, false },
		{ IPPROTO_TCP, MID | REPLIED, CANARY_IDLE_TCP_NS, false },
		{ IPPROTO_TCP, MID | REPLIED, CANARY_IDLE_TCP_NS + 1, true },
		/* TCP, established or half closed: the TCP idle time. */
		{ IPPROTO_TCP, ESTABLISHED, CANARY_IDLE_SHORT_NS + 1, false },
		{ IPPROTO_TCP, ESTABLISHED, CANARY_IDLE_TCP_NS, false },
		{ IPPROTO_TCP, ESTABLISHED, CANARY_IDLE_TCP_NS + 1, true },
		{ IPPROTO_TCP, HALF_CLOSED, CANARY_IDLE_SHORT_NS + 1, false },
		{ IPPROTO_TCP, HALF_CLOSED, CANARY_IDLE_TCP_NS + 1, true },
		{ IPPROTO_TCP, 0, CANARY_IDLE_TCP_NS + 1, true },
		/* Another protocol (the datapath writes none): TCP's rules. */
		{ IPPROTO_ICMP, 0, CANARY_IDLE_SHORT_NS + 1, false },
		{ IPPROTO_ICMP, MID, CANARY_IDLE_SHORT_NS + 1, true },
		{ IPPROTO_ICMP, 0, CANARY_IDLE_TCP_NS + 1, true },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct idle_case *c = &cases[i];
		bool got = expired_after(&timeouts, c->proto, c->flags, NOW - c->idle_ns, NOW);

		if (got != c->expired)
			print_error("cases[%zu]: proto %u flags %#x idle %llu ns\n", i, c->proto,
				    c->flags, (unsigned long long)c->idle_ns);
		assert_int_equal(got, c->expired);
	}
}

/* tcp_idle is the config's: a shorter one applies to established and answered flows alike. */
static void tcp_idle_is_the_configured_one(void **state)
{
	const struct sweep_timeouts t = { .udp_idle_ns = UDP_IDLE, .tcp_idle_ns = 60 * S };

	(void)state;
	assert_false(expired_after(&t, IPPROTO_TCP, ESTABLISHED, NOW - 60 * S, NOW));
	assert_true(expired_after(&t, IPPROTO_TCP, ESTABLISHED, NOW - 60 * S - 1, NOW));
	assert_true(expired_after(&t, IPPROTO_TCP, MID | REPLIED, NOW - 60 * S - 1, NOW));
	assert_false(expired_after(&t, IPPROTO_UDP, 0, NOW - UDP_IDLE, NOW));
}

/* A stamp at or after now is no idle time, and does not wrap around into a huge one. */
static void last_ns_in_the_future_never_expires(void **state)
{
	(void)state;
	assert_false(expired_after(&timeouts, IPPROTO_TCP, MID, NOW, NOW));
	assert_false(expired_after(&timeouts, IPPROTO_TCP, MID, NOW + 1, NOW));
	assert_false(expired_after(&timeouts, IPPROTO_UDP, 0, NOW + UDP_IDLE + 1, NOW));
	assert_false(expired_after(&timeouts, IPPROTO_TCP, CLOSED, UINT64_MAX, NOW));
	assert_false(expired_after(&timeouts, IPPROTO_TCP, CLOSED, 1, 0));
}

/* Soon after boot the clock is smaller than the limits: nothing underflows there either. */
static void early_clock_is_no_idle_time(void **state)
{
	(void)state;
	assert_false(expired_after(&timeouts, IPPROTO_TCP, ESTABLISHED, 0, 5 * S));
	assert_false(expired_after(&timeouts, IPPROTO_UDP, 0, 0, UDP_IDLE));
	assert_true(expired_after(&timeouts, IPPROTO_UDP, 0, 0, UDP_IDLE + 1));
	assert_true(expired_after(&timeouts, IPPROTO_TCP, MID, 0, CANARY_IDLE_SHORT_NS + 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(each_rule_at_its_limit),
		cmocka_unit_test(tcp_idle_is_the_configured_one),
		cmocka_unit_test(last_ns_in_the_future_never_expires),
		cmocka_unit_test(early_clock_is_no_idle_time),
	};

	return cmocka_run_group_tests_name("sweep", tests, NULL, NULL);
}
