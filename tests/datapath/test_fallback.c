// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Pools without a healthy backend: a version's new flows go to the other version, counted as
 * fallback_flows on the version that could not take them; both empty, they are dropped. And
 * pools published with backends down (pool_publish_live): only the live ones get new flows.
 */
#include <netinet/in.h>
#include <string.h>
#include <linux/bpf.h>

#include "addr.h"
#include "dp_tests.h"
#include "stats.h"

#define VIP		"198.51.100.100"
#define CLIENT		"198.51.100.7"
#define SVC_ID		6
#define PORT_STABLE	8080
#define PORT_CANARY	8081

static const char *const stable_be[] = { "192.0.2.10", "192.0.2.11", "192.0.2.12" };
static const char *const canary_be[] = { "192.0.2.20" };
static const __u8 mac_xc2[6] = MAC_XC2;

/* A service at @weight with @nstable stable and @ncanary canary backends (0: published empty). */
static void fallback_service(struct dp_env *env, struct test_svc *svc, __u16 weight,
			     unsigned int nstable, unsigned int ncanary)
{
	env_svc(env, svc, VIP, 80, IPPROTO_TCP, SVC_ID, weight);
	env_pool(env, svc, CANARY_V_STABLE, stable_be, nstable, PORT_STABLE);
	env_pool(env, svc, CANARY_V_CANARY, canary_be, ncanary, PORT_CANARY);
}

/*
 * Sends one packet of the flow from CLIENT:@sport and checks it left for @backend:@port, byte
 * for byte: redirected to xc2, towards the backend's neighbour (02:00:00:00:be:NN for .NN).
 */
static void expect_sent_to(struct dp_env *env, __u16 sport, const char *backend, __u16 port,
			   __u8 mac_last)
{
	__u8 in[PKT_MAX], out[PKT_MAX], want[PKT_MAX];
	struct pkt_spec spec, exp;
	size_t len, want_len;
	__u32 out_len;

	pkt_spec_init(&spec, CLIENT, sport, VIP, 80, IPPROTO_TCP);
	len = pkt_build(&spec, in);
	exp = spec;
	assert_int_equal(addr_parse(backend, exp.daddr), 0);
	exp.dport = port;
	memcpy(exp.dmac, (const __u8[6]){ 2, 0, 0, 0, 0xbe, mac_last }, 6);
	memcpy(exp.smac, mac_xc2, 6);
	exp.ttl = 63;
	want_len = pkt_build(&exp, want);

	assert_int_equal(env_run(env, in, len, out, &out_len), XDP_REDIRECT);
	assert_packet_equal(out, out_len, want, want_len);
}

static struct ver_stats ver_stats_read(struct dp_env *env, __u8 version)
{
	struct ver_stats vs;

	assert_int_equal(stats_ver(&env->dp, SVC_ID, version, &vs), 0);
	return vs;
}

/* One flow went from @empty's pool to the other version's: counted there, and as a fallback. */
static void assert_one_fallback(struct dp_env *env, __u8 empty)
{
	struct ver_stats from = ver_stats_read(env, empty), to = ver_stats_read(env, !empty);

	assert_int_equal(from.fallback_flows, 1);
	assert_int_equal(from.syns + from.packets + from.no_backend, 0);
	assert_int_equal(to.syns, 1);
	assert_int_equal(to.packets, 1);
	assert_int_equal(to.fallback_flows + to.no_backend, 0);
}

static void canary_empty_goes_to_stable(void **state)
{
	struct dp_env *env = *state;
	struct ver_stats canary, stable;
	struct test_svc svc;

	fallback_service(env, &svc, CANARY_WEIGHT_MAX, 1, 0);
	expect_sent_to(env, 40000, "192.0.2.10", PORT_STABLE, 0x10);
	assert_one_fallback(env, CANARY_V_CANARY);

	/* The flow is stable's now: it stays there when the canary pool fills again... */
	env_pool(env, &svc, CANARY_V_CANARY, canary_be, 1, PORT_CANARY);
	expect_sent_to(env, 40000, "192.0.2.10", PORT_STABLE, 0x10);
	stable = ver_stats_read(env, CANARY_V_STABLE);
	assert_int_equal(stable.syns, 1);	/* the second SYN is the first's retransmission */
	assert_int_equal(stable.packets, 2);
	/* ...while a new one goes where the weight says. */
	expect_sent_to(env, 40001, "192.0.2.20", PORT_CANARY, 0x20);
	canary = ver_stats_read(env, CANARY_V_CANARY);
	assert_int_equal(canary.fallback_flows, 1);
	assert_int_equal(canary.syns, 1);
}

static void stable_empty_goes_to_canary(void **state)
{
	struct dp_env *env = *state;
	struct test_svc svc;

	fallback_service(env, &svc, 0, 0, 1);
	expect_sent_to(env, 40000, "192.0.2.20", PORT_CANARY, 0x20);
	assert_one_fallback(env, CANARY_V_STABLE);
}

static void both_empty_dropped(void **state)
{
	__u8 in[PKT_MAX], out[PKT_MAX];
	struct dp_env *env = *state;
	struct ver_stats canary, stable;
	struct pkt_spec spec;
	struct test_svc svc;
	__u32 out_len;

	fallback_service(env, &svc, CANARY_WEIGHT_MAX, 0, 0);
	pkt_spec_init(&spec, CLIENT, 40000, VIP, 80, IPPROTO_TCP);
	assert_int_equal(env_run(env, in, pkt_build(&spec, in), out, &out_len), XDP_DROP);
	canary = ver_stats_read(env, CANARY_V_CANARY);
	stable = ver_stats_read(env, CANARY_V_STABLE);
	assert_int_equal(canary.no_backend, 1);
	assert_int_equal(canary.fallback_flows + canary.new_flows + canary.packets, 0);
	assert_int_equal(stable.no_backend + stable.fallback_flows + stable.new_flows, 0);
}

/* An override forces a version with no backend: the flow goes to the other one all the same. */
static void override_to_empty_version_falls_back(void **state)
{
	struct dp_env *env = *state;
	struct test_svc svc;
	unsigned int plen;
	__u8 prefix[16];

	fallback_service(env, &svc, 0, 1, 0);
	assert_int_equal(prefix_parse(CLIENT "/32", prefix, &plen), 0);
	assert_int_equal(override_put(&env->dp, SVC_ID, prefix, plen, CANARY_V_CANARY), 0);
	assert_int_equal(svc_set_overrides(&env->dp, SVC_ID, true), 0);
	expect_sent_to(env, 40000, "192.0.2.10", PORT_STABLE, 0x10);
	assert_one_fallback(env, CANARY_V_CANARY);
	/* The override did not decide it: stable is where it ended up, not what it asked for. */
	assert_int_equal(ver_stats_read(env, CANARY_V_STABLE).override_flows, 0);
}

static void publish_live(struct dp_env *env, __u8 version, const char *const *addrs,
			 unsigned int n, __u16 port, const bool *live)
{
	struct backend be[CANARY_MAX_BACKENDS] = {};

	for (unsigned int i = 0; i < n; i++) {
		assert_int_equal(addr_parse(addrs[i], be[i].addr), 0);
		be[i].port = port;
	}
	assert_int_equal(pool_publish_live(&env->dp, SVC_ID, version, be, n, live), 0);
}

#define LIVE_FLOWS 3000

/* Flows from 198.18.x.y: new flows land on live backends only; backend i keeps slot i. */
static void down_backend_gets_no_new_flow(void **state)
{
	static const bool live[3] = { true, false, true };
	struct dp_env *env = *state;
	unsigned int per_slot[3] = {};
	struct test_svc svc;
	struct be_stats bs;

	fallback_service(env, &svc, 0, 3, 1);
	publish_live(env, CANARY_V_STABLE, stable_be, 3, PORT_STABLE, live);
	for (unsigned int i = 0; i < LIVE_FLOWS; i++) {
		struct pkt_spec s;
		struct verdict v;

		pkt_spec_init(&s, "198.18.0.0", 1024 + i, VIP, 80, IPPROTO_TCP);
		s.saddr[14] = i >> 8;
		s.saddr[15] = i & 0xff;
		v = env_send(env, &s);
		assert_int_equal(v.dport, PORT_STABLE);
		assert_true(v.daddr[15] == 10 || v.daddr[15] == 12);
		per_slot[v.daddr[15] - 10]++;
	}
	for (unsigned int slot = 0; slot < 3; slot++) {
		assert_int_equal(stats_backend(&env->dp, SVC_ID, CANARY_V_STABLE, slot, &bs), 0);
		assert_int_equal(bs.packets, per_slot[slot]);
	}
	assert_int_equal(per_slot[1], 0);
	assert_true(per_slot[0] > LIVE_FLOWS / 3 && per_slot[2] > LIVE_FLOWS / 3);
}

/* Every stable backend down: the pool is published empty, and stable's flows go to canary. */
static void all_down_is_an_empty_pool(void **state)
{
	static const bool none[3] = { false, false, false };
	struct dp_env *env = *state;
	struct test_svc svc;

	fallback_service(env, &svc, 0, 3, 1);
	publish_live(env, CANARY_V_STABLE, stable_be, 3, PORT_STABLE, none);
	expect_sent_to(env, 40000, "192.0.2.20", PORT_CANARY, 0x20);
	assert_one_fallback(env, CANARY_V_STABLE);
}

#define FALLBACK_TEST(fn) cmocka_unit_test_setup_teardown(fn, env_setup, env_teardown)

static const struct CMUnitTest fallback_tests[] = {
	FALLBACK_TEST(canary_empty_goes_to_stable),
	FALLBACK_TEST(stable_empty_goes_to_canary),
	FALLBACK_TEST(both_empty_dropped),
	FALLBACK_TEST(override_to_empty_version_falls_back),
	FALLBACK_TEST(down_backend_gets_no_new_flow),
	FALLBACK_TEST(all_down_is_an_empty_pool),
};

const struct test_group fallback_group = { "fallback", fallback_tests,
					    sizeof(fallback_tests) / sizeof(fallback_tests[0]) };
