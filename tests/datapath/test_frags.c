// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Frames the forward path sees at the edges of what it was built for: jumbo frames (MTU 9000),
 * which XDP gets in several buffers (xdp.frags) and must rewrite from the first, and frames for
 * another host's MAC, which it must not split.
 */
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <netinet/in.h>
#include <bpf/bpf.h>

#include "addr.h"
#include "canary_bpf.skel.h"
#include "dp_tests.h"
#include "iface.h"
#include "stats.h"

#define JUMBO_MTU	9000


/*
 * A jumbo frame to the VIP, split to its only backend: rewritten whole, every buffer kept, and
 * passed to the stack, which forwards it (MACs and TTL are the stack's to change).
 */
static void jumbo_golden(struct dp_env *env, const char *client, const char *vip,
			 const char *backend, __u8 proto)
{
	static __u8 in[PKT_MAX], out[PKT_MAX], want[PKT_MAX];
	const char *backends[] = { backend };
	struct pkt_spec spec, exp;
	size_t len, want_len, hdrs;
	struct test_svc svc;
	struct ver_stats vs;
	__u32 out_len;

	/* BPF_PROG_TEST_RUN takes an skb of one page at most: TC's jumbo frames are the e2e's. */
	if (env->tc)
		skip();
	env_svc(env, &svc, vip, 80, proto, 9, 0);
	env_pool(env, &svc, CANARY_V_STABLE, backends, 1, 8080);
	pkt_spec_init(&spec, client, 41000, vip, 80, proto);
	spec.tcp_flags = 0x10;	/* an ACK: a flow met midstream, decided on this frame */
	hdrs = pkt_l4_offset(&spec) - 14 + (proto == IPPROTO_TCP ? 20 : 8);
	spec.payload_len = JUMBO_MTU - hdrs;
	len = pkt_build(&spec, in);
	assert_int_equal(len, JUMBO_MTU + 14);

	exp = spec;
	assert_int_equal(addr_parse(backend, exp.daddr), 0);
	exp.dport = 8080;
	want_len = pkt_build(&exp, want);

	assert_int_equal(env_run(env, in, len, out, &out_len), XDP_PASS);
	assert_packet_equal(out, out_len, want, want_len);
	assert_true(pkt_csums_ok(out, out_len));
	assert_int_equal(stats_ver(&env->dp, 9, CANARY_V_STABLE, &vs), 0);
	assert_int_equal(vs.bytes, len);
	assert_int_equal(vs.fwd_stack, 1);
	svc_del(&env->dp, &svc.key);
}

static int jumbo_setup(void **state)
{
	if (system("ip link set xc2 mtu 9000 && ip link set xc3 mtu 9000"))
		return -1;
	return env_setup(state);
}

static int jumbo_teardown(void **state)
{
	int err = system("ip link set xc2 mtu 1500 && ip link set xc3 mtu 1500");

	if (env_teardown(state))
		return -1;
	return err ? -1 : 0;
}

static void jumbo_v4_tcp_rewritten_whole(void **state)
{
	jumbo_golden(*state, "198.51.100.7", "198.51.100.100", "192.0.2.10", IPPROTO_TCP);
}

static void jumbo_v6_udp_rewritten_whole(void **state)
{
	jumbo_golden(*state, "2001:db8:1::7", "2001:db8:1::100", "2001:db8:2::10", IPPROTO_UDP);
}

/* if_cfg for the clients' interface (xc0), as canaryd writes it; @flags CANARY_IF_F_*. */
static void if_cfg_set(struct dp_env *env, __u16 flags)
{
	struct if_cfg ic = { .flags = flags };
	char err[128];

	assert_int_equal(iface_mac("xc0", ic.mac, err, sizeof(err)), 0);
	assert_int_equal(if_cfg_put(&env->dp, env->if_client, &ic), 0);
}

static __u64 passed(struct dp_env *env, enum canary_dp_reason reason)
{
	struct dp_stats ds;

	assert_int_equal(stats_passed(&env->dp, reason, &ds), 0);
	return ds.packets;
}

/*
 * A frame to the VIP but to another MAC (a promiscuous interface, a bridge port): passed
 * untouched, or dropped, as the interface says, and never split. One to the interface's own
 * MAC is split as always.
 */
static void other_host(struct dp_env *env, __u16 flags, __u32 action, enum canary_dp_reason why)
{
	const char *backends[] = { "192.0.2.10" };
	static __u8 in[PKT_MAX], out[PKT_MAX];
	struct pkt_spec spec;
	struct test_svc svc;
	struct ver_stats vs;
	__u32 out_len;
	size_t len;

	env_svc(env, &svc, "198.51.100.100", 80, IPPROTO_TCP, 10, 0);
	env_pool(env, &svc, CANARY_V_STABLE, backends, 1, 8080);
	if_cfg_set(env, flags);
	pkt_spec_init(&spec, "198.51.100.7", 42000, "198.51.100.100", 80, IPPROTO_TCP);
	spec.dmac[5] = 0x99;	/* not xc0's 02:00:00:00:00:01 */
	len = pkt_build(&spec, in);
	assert_int_equal(env_run(env, in, len, out, &out_len), action);
	if (action == XDP_PASS)
		assert_packet_equal(out, out_len, in, len);
	assert_int_equal(passed(env, why), 1);
	assert_int_equal(stats_ver(&env->dp, 10, CANARY_V_STABLE, &vs), 0);
	assert_int_equal(vs.packets, 0);

	spec.dmac[5] = 0x01;
	len = pkt_build(&spec, in);
	assert_int_equal(env_run(env, in, len, out, &out_len), XDP_REDIRECT);
	assert_int_equal(stats_ver(&env->dp, 10, CANARY_V_STABLE, &vs), 0);
	assert_int_equal(vs.packets, 1);
	assert_int_equal(bpf_map_delete_elem(bpf_map__fd(env->dp.skel->maps.if_cfg),
					     &env->if_client), 0);
	svc_del(&env->dp, &svc.key);
}

static void other_host_passed_untouched(void **state)
{
	other_host(*state, 0, XDP_PASS, CANARY_DP_OTHER_HOST);
}

static void other_host_dropped_when_asked(void **state)
{
	other_host(*state, CANARY_IF_F_DROP_OTHER_HOST, XDP_DROP, CANARY_DP_OTHER_HOST_DROP);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test_setup_teardown(jumbo_v4_tcp_rewritten_whole, jumbo_setup, jumbo_teardown),
	cmocka_unit_test_setup_teardown(jumbo_v6_udp_rewritten_whole, jumbo_setup, jumbo_teardown),
	cmocka_unit_test_setup_teardown(other_host_passed_untouched, env_setup, env_teardown),
	cmocka_unit_test_setup_teardown(other_host_dropped_when_asked, env_setup, env_teardown),
};

const struct test_group frags_group = { "frags", tests, sizeof(tests) / sizeof(tests[0]) };
