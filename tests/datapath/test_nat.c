// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Golden packets: DNAT, checksums, and what the FIB's answer makes of each packet. */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>

#include "addr.h"
#include "dp_tests.h"
#include "stats.h"

static const __u8 mac_xc0[6] = MAC_XC0;
static const __u8 mac_xc2[6] = MAC_XC2;
static const __u8 mac_onlink[6] = MAC_ONLINK;

struct golden {
	const char *client;
	const char *vip;
	__u8 proto;
	const char *backend;
	__u16 be_port;
	__u32 action;
	const __u8 *dmac;	/* NULL: MACs untouched, TTL untouched (the stack forwards) */
	const __u8 *smac;
	int vlan_tags;
	int ip_opt_words;
	bool udp_no_csum;
	__u8 ttl;
};

/* One service, one backend; the expected packet is built from scratch with the new fields. */
static struct ver_stats run_golden(struct dp_env *env, const struct golden *g)
{
	__u8 in[PKT_MAX], out[PKT_MAX], want[PKT_MAX];
	const char *backends[] = { g->backend };
	struct pkt_spec spec, exp;
	struct test_svc svc;
	struct ver_stats vs;
	size_t len, want_len;
	__u32 out_len;

	env_svc(env, &svc, g->vip, 80, g->proto, 7, 0);
	env_pool(env, &svc, CANARY_V_STABLE, backends, 1, g->be_port);

	pkt_spec_init(&spec, g->client, 40000, g->vip, 80, g->proto);
	spec.vlan_tags = g->vlan_tags;
	spec.ip_opt_words = g->ip_opt_words;
	spec.udp_no_csum = g->udp_no_csum;
	spec.ttl = g->ttl;
	len = pkt_build(&spec, in);

	exp = spec;
	assert_int_equal(addr_parse(g->backend, exp.daddr), 0);
	exp.dport = g->be_port;
	if (g->dmac) {
		memcpy(exp.dmac, g->dmac, 6);
		memcpy(exp.smac, g->smac, 6);
		exp.ttl = (spec.ttl ? spec.ttl : 64) - 1;
	}
	want_len = pkt_build(&exp, want);

	assert_int_equal(env_run(env, in, len, out, &out_len), g->action);
	assert_packet_equal(out, out_len, want, want_len);
	assert_true(pkt_csums_ok(out, out_len));
	assert_int_equal(stats_ver(&env->dp, 7, CANARY_V_STABLE, &vs), 0);
	assert_int_equal(vs.packets, 1);
	assert_int_equal(vs.bytes, len);
	return vs;
}

static void v4_tcp_onlink_tx(void **state)
{
	struct golden g = { "198.51.100.7", "198.51.100.100", IPPROTO_TCP, "198.51.100.50", 8080,
			    XDP_TX, mac_onlink, mac_xc0 };

	assert_int_equal(run_golden(*state, &g).fwd_tx, 1);
}

static void v4_udp_redirect(void **state)
{
	struct golden g = { "198.51.100.7", "198.51.100.100", IPPROTO_UDP, "192.0.2.10", 5353,
			    XDP_REDIRECT, (const __u8[6]){ 2, 0, 0, 0, 0xbe, 0x10 }, mac_xc2 };

	assert_int_equal(run_golden(*state, &g).fwd_redirect, 1);
}

static void v4_udp_zero_checksum_stays_zero(void **state)
{
	struct golden g = { "198.51.100.7", "198.51.100.100", IPPROTO_UDP, "192.0.2.11", 5353,
			    XDP_REDIRECT, (const __u8[6]){ 2, 0, 0, 0, 0xbe, 0x11 }, mac_xc2,
			    .udp_no_csum = true };

	run_golden(*state, &g);
}

static void v4_tcp_ip_options(void **state)
{
	struct golden g = { "198.51.100.7", "198.51.100.100", IPPROTO_TCP, "192.0.2.12", 8443,
			    XDP_REDIRECT, (const __u8[6]){ 2, 0, 0, 0, 0xbe, 0x12 }, mac_xc2,
			    .ip_opt_words = 3 };

	run_golden(*state, &g);
}

static void v6_tcp_redirect(void **state)
{
	struct golden g = { "2001:db8:1::7", "2001:db8:1::100", IPPROTO_TCP, "2001:db8:2::10",
			    8080, XDP_REDIRECT, (const __u8[6]){ 2, 0, 0, 0, 0xbe, 0x10 },
			    mac_xc2 };

	assert_int_equal(run_golden(*state, &g).fwd_redirect, 1);
}

static void v6_udp_onlink_tx(void **state)
{
	struct golden g = { "2001:db8:1::7", "2001:db8:1::100", IPPROTO_UDP, "2001:db8:1::50",
			    5353, XDP_TX, mac_onlink, mac_xc0 };

	assert_int_equal(run_golden(*state, &g).fwd_tx, 1);
}

static void v4_vlan_tagged_to_stack(void **state)
{
	struct golden g = { "198.51.100.7", "198.51.100.100", IPPROTO_TCP, "192.0.2.10", 8080,
			    XDP_PASS, .vlan_tags = 1 };

	assert_int_equal(run_golden(*state, &g).fwd_stack, 1);
}

static void v6_double_vlan_to_stack(void **state)
{
	struct golden g = { "2001:db8:1::7", "2001:db8:1::100", IPPROTO_UDP, "2001:db8:2::10",
			    5353, XDP_PASS, .vlan_tags = 2 };

	assert_int_equal(run_golden(*state, &g).fwd_stack, 1);
}

static void v4_local_backend_passed(void **state)
{
	struct golden g = { "198.51.100.7", "198.51.100.100", IPPROTO_TCP, "203.0.113.1", 8080,
			    XDP_PASS };

	assert_int_equal(run_golden(*state, &g).fwd_local, 1);
}

static void v6_local_backend_passed(void **state)
{
	struct golden g = { "2001:db8:1::7", "2001:db8:1::100", IPPROTO_TCP, "2001:db8:3::1",
			    8080, XDP_PASS };

	assert_int_equal(run_golden(*state, &g).fwd_local, 1);
}

static void v4_no_neighbour_passed(void **state)
{
	struct golden g = { "198.51.100.7", "198.51.100.100", IPPROTO_TCP, "192.0.2.99", 8080,
			    XDP_PASS };

	assert_int_equal(run_golden(*state, &g).no_neigh, 1);
}

static void v6_unreachable_passed(void **state)
{
	struct golden g = { "2001:db8:1::7", "2001:db8:1::100", IPPROTO_UDP, "2001:db8:ff::1",
			    5353, XDP_PASS };

	assert_int_equal(run_golden(*state, &g).fib_fail, 1);
}

/* XDP redirects only to tx_ports; TC redirects to any interface, and needs no map for it. */
static void v4_redirect_port_missing_passed(void **state)
{
	struct dp_env *env = *state;
	struct golden g = { "198.51.100.7", "198.51.100.100", IPPROTO_TCP, "192.0.2.10", 8080,
			    XDP_PASS };

	if (env->tc)
		skip();
	assert_int_equal(tx_port_del(&env->dp, env->if_backend), 0);
	assert_int_equal(run_golden(env, &g).redirect_fail, 1);
}

static void v4_ttl_expiring_to_stack(void **state)
{
	struct golden g = { "198.51.100.7", "198.51.100.100", IPPROTO_TCP, "192.0.2.10", 8080,
			    XDP_PASS, .ttl = 1 };

	assert_int_equal(run_golden(*state, &g).fwd_stack, 1);
}

static void empty_pool_dropped(void **state)
{
	struct dp_env *env = *state;
	__u8 in[PKT_MAX], out[PKT_MAX];
	struct pkt_spec spec;
	struct test_svc svc;
	struct ver_stats vs;
	__u32 out_len;
	size_t len;

	env_svc(env, &svc, "198.51.100.100", 80, IPPROTO_TCP, 3, CANARY_WEIGHT_MAX);
	pkt_spec_init(&spec, "198.51.100.7", 40000, "198.51.100.100", 80, IPPROTO_TCP);
	len = pkt_build(&spec, in);
	assert_int_equal(env_run(env, in, len, out, &out_len), XDP_DROP);
	assert_int_equal(stats_ver(&env->dp, 3, CANARY_V_CANARY, &vs), 0);
	assert_int_equal(vs.no_backend, 1);
	assert_int_equal(vs.packets, 0);
	env_pool(env, &svc, CANARY_V_CANARY, NULL, 0, 0);	/* published, but empty */
	assert_int_equal(env_run(env, in, len, out, &out_len), XDP_DROP);
	assert_int_equal(stats_ver(&env->dp, 3, CANARY_V_CANARY, &vs), 0);
	assert_int_equal(vs.no_backend, 2);
}

static __u32 send_once(struct dp_env *env, const char *client, __u16 sport, size_t payload,
		       __u8 *out)
{
	__u8 in[PKT_MAX];
	struct pkt_spec s;
	__u32 out_len;

	pkt_spec_init(&s, client, sport, "198.51.100.100", 80, IPPROTO_TCP);
	s.payload_len = payload;
	return env_run(env, in, pkt_build(&s, in), out, &out_len);
}

/*
 * The FIB's answer is cached per backend slot, but never for another backend in that slot, and
 * never past CANARY_FIB_CACHE_NS: a neighbour that changes its MAC is followed.
 */
static void fib_cache_follows_backend_and_neighbour(void **state)
{
	static const __u8 mac_a[6] = { 2, 0, 0, 0, 0xbe, 0x10 }, mac_b[6] = { 2, 0, 0, 0, 0xaa, 1 };
	static const __u8 mac_11[6] = { 2, 0, 0, 0, 0xbe, 0x11 };
	const char *first[] = { "192.0.2.10" }, *second[] = { "192.0.2.11" };
	struct dp_env *env = *state;
	__u8 out[PKT_MAX];
	struct test_svc svc;
	struct ver_stats vs;

	env_svc(env, &svc, "198.51.100.100", 80, IPPROTO_TCP, 7, 0);
	env_pool(env, &svc, CANARY_V_STABLE, first, 1, 8080);
	assert_int_equal(send_once(env, "198.51.100.7", 1000, 10, out), XDP_REDIRECT);
	assert_memory_equal(out, mac_a, 6);
	assert_int_equal(send_once(env, "198.51.100.7", 1000, 10, out), XDP_REDIRECT);
	assert_memory_equal(out, mac_a, 6);

	/* Same slot, another backend: its own answer at once. */
	env_pool(env, &svc, CANARY_V_STABLE, second, 1, 8080);
	assert_int_equal(send_once(env, "198.51.100.7", 1001, 10, out), XDP_REDIRECT);
	assert_memory_equal(out, mac_11, 6);

	/* A new MAC for the neighbour is used once the cached answer has expired. */
	assert_int_equal(system("ip neigh replace 192.0.2.10 lladdr 02:00:00:00:aa:01 dev xc2 "
				"nud permanent"), 0);
	usleep(3 * CANARY_FIB_CACHE_NS / 1000);
	assert_int_equal(send_once(env, "198.51.100.7", 1000, 10, out), XDP_REDIRECT);
	assert_memory_equal(out, mac_b, 6);

	/*
	 * A smaller MTU is seen once the answer expires (the cache is per CPU: wait for all).
	 * Not below 1280: that would take IPv6 off the link, and its routes with it.
	 */
	assert_int_equal(system("ip link set xc2 mtu 1300"), 0);
	usleep(3 * CANARY_FIB_CACHE_NS / 1000);
	assert_int_equal(send_once(env, "198.51.100.7", 1000, 1400, out), XDP_PASS);
	assert_int_equal(stats_ver(&env->dp, 7, CANARY_V_STABLE, &vs), 0);
	assert_int_equal(vs.fib_fail, 1);
	assert_int_equal(vs.fwd_redirect, 4);
}

/* The shared namespace as env.c made it, whether the test above passed or not. */
static int fib_cache_teardown(void **state)
{
	int err = system("ip link set xc2 mtu 1500 && ip neigh replace 192.0.2.10 "
			 "lladdr 02:00:00:00:be:10 dev xc2 nud permanent");

	if (env_teardown(state))
		return -1;
	return err ? -1 : 0;
}

/* A retired service lets its packets pass untouched, pinned flows included. */
static void deleted_service_passes_untouched(void **state)
{
	const char *backends[] = { "192.0.2.10" };
	struct dp_env *env = *state;
	__u8 in[PKT_MAX], out[PKT_MAX];
	struct test_svc svc;
	struct pkt_spec s;
	__u32 out_len;
	size_t len;

	env_svc(env, &svc, "198.51.100.100", 80, IPPROTO_TCP, 7, 0);
	env_pool(env, &svc, CANARY_V_STABLE, backends, 1, 8080);
	pkt_spec_init(&s, "198.51.100.7", 1000, "198.51.100.100", 80, IPPROTO_TCP);
	len = pkt_build(&s, in);
	assert_int_equal(env_run(env, in, len, out, &out_len), XDP_REDIRECT);
	assert_int_equal(svc_del(&env->dp, &svc.key), 0);
	assert_int_equal(env_run(env, in, len, out, &out_len), XDP_PASS);
	assert_packet_equal(out, out_len, in, len);
	/* Back again, under the same id: the flow is served again. */
	env_svc_update(env, &svc);
	assert_int_equal(env_run(env, in, len, out, &out_len), XDP_REDIRECT);
}

/* A service the svc map has no room for changes nothing, not even its id's state word. */
static void failed_service_put_changes_nothing(void **state)
{
	struct dp_env *env = *state;
	struct svc_state before, st = { .weight = 10 };
	struct test_svc svc;
	char vip[32];

	for (unsigned int i = 0; i < CANARY_MAX_SVC; i++) {
		snprintf(vip, sizeof(vip), "10.9.%u.%u", i / 250, i % 250);
		env_svc(env, &svc, vip, 80, IPPROTO_TCP, i, 0);
	}
	assert_int_equal(svc_state_read(&env->dp, 3, &before), 0);
	assert_true(svc_put(&env->dp, &(struct svc_key){ .port = 1 }, 3, &st) < 0);
	assert_int_equal(svc_state_read(&env->dp, 3, &st), 0);
	assert_memory_equal(&st, &before, sizeof(st));
	assert_int_equal(svc_put(&env->dp, &svc.key, CANARY_MAX_SVC, &st), -EINVAL);
	st.weight = CANARY_WEIGHT_MAX + 1;
	assert_int_equal(svc_put(&env->dp, &svc.key, 3, &st), -EINVAL);
	assert_int_equal(svc_set_weight(&env->dp, 3, CANARY_WEIGHT_MAX + 1), -EINVAL);
	assert_int_equal(svc_set_weight(&env->dp, 300, 5), -EINVAL);
}

#define NAT_TEST(fn) cmocka_unit_test_setup_teardown(fn, env_setup, env_teardown)

static const struct CMUnitTest nat_tests[] = {
	NAT_TEST(v4_tcp_onlink_tx),
	NAT_TEST(v4_udp_redirect),
	NAT_TEST(v4_udp_zero_checksum_stays_zero),
	NAT_TEST(v4_tcp_ip_options),
	NAT_TEST(v6_tcp_redirect),
	NAT_TEST(v6_udp_onlink_tx),
	NAT_TEST(v4_vlan_tagged_to_stack),
	NAT_TEST(v6_double_vlan_to_stack),
	NAT_TEST(v4_local_backend_passed),
	NAT_TEST(v6_local_backend_passed),
	NAT_TEST(v4_no_neighbour_passed),
	NAT_TEST(v6_unreachable_passed),
	NAT_TEST(v4_redirect_port_missing_passed),
	NAT_TEST(v4_ttl_expiring_to_stack),
	NAT_TEST(empty_pool_dropped),
	cmocka_unit_test_setup_teardown(fib_cache_follows_backend_and_neighbour, env_setup,
					fib_cache_teardown),
	NAT_TEST(deleted_service_passes_untouched),
	NAT_TEST(failed_service_put_changes_nothing),
};

const struct test_group nat_group = { "nat", nat_tests, sizeof(nat_tests) / sizeof(nat_tests[0]) };
