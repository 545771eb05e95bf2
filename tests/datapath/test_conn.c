// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Connection state under pressure: a SYN flood, a full table, a weight change during a
 * handshake, a backend in two services' pools, a SYN cache slot torn by two writers.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "addr.h"
#include "canary_bpf.skel.h"
#include "canary_hash.h"
#include "conv.h"
#include "dp_tests.h"
#include "stats.h"
#include "svc.h"

#define SMALL_TABLE	1024
#define ESTABLISHED	50
#define CANARY_BE	"192.0.2.20"

static const char *const canary_be[] = { CANARY_BE };

/* @c's service with a canary pool too (one backend, CANARY_BE), at @weight. */
static void conv_start_split(struct conv *c, struct dp_env *env, __u16 weight)
{
	struct test_svc svc;

	conv_start(c, env, 0);
	env_svc(env, &svc, c->vip, c->vport, c->proto, SVC, weight);
	env_pool(env, &svc, CANARY_V_CANARY, canary_be, 1, c->bport);
}

static void set_weight(struct dp_env *env, __u16 weight)
{
	assert_int_equal(svc_set_weight(&env->dp, SVC, weight), 0);
}

/* Where a client packet of @c went: the backend's last octet. */
static __u8 client_goes_to(struct conv *c, __u8 flags)
{
	struct pkt_spec s = conv_spec(c, true, flags, NULL);
	struct verdict v = env_send(c->env, &s);

	assert_int_equal(v.action, XDP_REDIRECT);
	return v.daddr[15];
}

static __u64 passed(struct dp_env *env, __u32 reason)
{
	struct dp_stats ds;

	assert_int_equal(stats_passed(&env->dp, reason, &ds), 0);
	return ds.packets;
}

/* A SYN from a spoofed source: 10.x.y.z, port from @i. */
static void spoofed_syn(struct conv *c, unsigned int i)
{
	struct pkt_spec s = conv_spec(c, true, F_SYN, NULL);

	s.saddr[12] = 10;
	s.saddr[13] = i >> 16;
	s.saddr[14] = i >> 8;
	s.saddr[15] = i;
	s.sport = 1024 + i % 50000;
	assert_int_equal(env_send(c->env, &s).action, XDP_REDIRECT);
}

/*
 * Spoofed SYNs, four times what the table holds, with the weight moved from 0 to 100 % half
 * way: established connections keep their entries and their backend; the flood shows as
 * handshakes begun, not as new flows, and takes no room in flows.
 */
static void syn_flood_leaves_established_alone(void **state)
{
	struct conv conns[ESTABLISHED], flood = { .client = "198.51.100.9",
		.vip = "198.51.100.100", .backend = "192.0.2.10", 1, 80, 8080, IPPROTO_TCP };
	struct dp_env *env = *state;
	struct ver_stats vs;

	env_reload_table(env, SMALL_TABLE);
	conv_start_split(&flood, env, 0);
	for (int i = 0; i < ESTABLISHED; i++) {
		conns[i] = flood;
		conns[i].cport = 30000 + i;
		conv_handshake(&conns[i]);
	}
	for (unsigned int i = 0; i < 4 * SMALL_TABLE; i++) {
		if (i == 2 * SMALL_TABLE)
			set_weight(env, CANARY_WEIGHT_MAX);
		spoofed_syn(&flood, i);
	}
	assert_int_equal(env_flows_count(env), ESTABLISHED);
	for (int i = 0; i < ESTABLISHED; i++)
		assert_int_equal(client_goes_to(&conns[i], F_ACK), 10);
	vs = conv_stats(&flood);
	assert_int_equal(vs.new_flows, ESTABLISHED);
	assert_int_equal(vs.syns, ESTABLISHED + 2 * SMALL_TABLE);
	assert_int_equal(vs.midstream + vs.table_full, 0);
	assert_int_equal(stats_ver(&env->dp, SVC, CANARY_V_CANARY, &vs), 0);
	assert_int_equal(vs.syns, 2 * SMALL_TABLE);
	assert_int_equal(vs.new_flows, 0);
}

/* The weight moves between the SYN and the ACK: the connection stays where its SYN went. */
static void weight_change_during_handshake_splits_nothing(void **state)
{
	struct conv c = { .client = "198.51.100.7", .vip = "198.51.100.100",
			  .backend = "192.0.2.10", 40100, 80, 8080, IPPROTO_TCP };
	struct flow_val fv;

	conv_start_split(&c, *state, 0);
	assert_int_equal(client_goes_to(&c, F_SYN), 10);
	set_weight(c.env, CANARY_WEIGHT_MAX);
	assert_int_equal(client_goes_to(&c, F_SYN), 10);	/* a retransmission */
	golden_reply(&c, F_SYN | F_ACK, XDP_REDIRECT);
	assert_int_equal(client_goes_to(&c, F_ACK), 10);
	assert_true(flow_entry(&c, &fv));
	assert_int_equal(fv.version, CANARY_V_STABLE);
	assert_true(fv.flags & CANARY_FLOW_SYNACK);
	assert_false(syn_pending(&c));
	assert_int_equal(hist_count(&c, CANARY_HIST_HANDSHAKE), 1);
}

/*
 * A full table takes no new connection, and evicts none: the one it has no room for is served
 * from the SYN cache (both ways), counted as table_full; the established ones stay pinned.
 */
static void full_table_evicts_nothing(void **state)
{
	struct conv c = { .client = "198.51.100.7", .vip = "198.51.100.100",
			  .backend = "192.0.2.10", 1, 80, 8080, IPPROTO_TCP }, extra;
	struct dp_env *env = *state;
	struct ver_stats vs;

	env_reload_table(env, 16);
	conv_start_split(&c, env, 0);
	for (c.cport = 20000; env_flows_count(env) < 16; c.cport++)
		conv_handshake(&c);
	extra = c;
	extra.cport = 40000;
	extra.backend = CANARY_BE;
	set_weight(env, CANARY_WEIGHT_MAX);
	client_sends(&extra, F_SYN, NULL);
	golden_reply(&extra, F_SYN | F_ACK, XDP_REDIRECT);
	assert_int_equal(client_goes_to(&extra, F_ACK), 20);
	assert_int_equal(client_goes_to(&extra, F_ACK | F_PSH), 20);
	golden_reply(&extra, F_ACK, XDP_REDIRECT);
	assert_int_equal(stats_ver(&env->dp, SVC, CANARY_V_CANARY, &vs), 0);
	assert_int_equal(vs.table_full, 2);
	assert_int_equal(vs.new_flows, 1);	/* counted once */
	assert_false(flow_present(&extra));
	assert_int_equal(env_flows_count(env), 16);
	c.cport = 20000;
	assert_int_equal(client_goes_to(&c, F_ACK), 10);
}

/* A backend in two services' pools: each reply goes back from the VIP its connection used. */
static void backend_of_two_services(void **state)
{
	struct conv a = { .client = "198.51.100.7", .vip = "198.51.100.100",
			  .backend = "192.0.2.10", 40200, 80, 8080, IPPROTO_TCP }, b = a;
	const char *backends[] = { a.backend };
	struct test_svc other;

	conv_start(&a, *state, 0);
	b.vip = "198.51.100.101";
	b.vport = 81;
	b.cport++;	/* the same port too would be the same connection to the backend */
	env_svc(a.env, &other, b.vip, b.vport, IPPROTO_TCP, SVC + 1, 0);
	env_pool(a.env, &other, CANARY_V_STABLE, backends, 1, b.bport);
	b.env = a.env;
	conv_handshake(&a);
	client_sends(&b, F_SYN, NULL);
	golden_reply(&b, F_SYN | F_ACK, XDP_REDIRECT);
	client_sends(&b, F_ACK, NULL);
	golden_reply(&a, F_ACK, XDP_REDIRECT);
	golden_reply(&b, F_ACK, XDP_REDIRECT);
	assert_true(flow_present(&a) && flow_present(&b));
}

/*
 * Two CPUs writing one SYN cache slot at once can leave a key with another connection's
 * decision. The check word makes such an entry read as no entry: the ACK is a midstream flow,
 * decided on its own, never sent to the other connection's backend.
 */
static void torn_syn_entry_reads_as_empty(void **state)
{
	struct conv c = { .client = "198.51.100.7", .vip = "198.51.100.100",
			  .backend = "192.0.2.10", 40300, 80, 8080, IPPROTO_TCP };
	struct syn_entry e;
	__u32 slot;
	int fd;

	conv_start_split(&c, *state, 0);
	client_sends(&c, F_SYN, NULL);
	slot = syn_slot_of(&c);
	assert_int_not_equal(slot, SYN_NO_SLOT);
	fd = bpf_map__fd(c.env->dp.skel->maps.syn_cache);
	assert_int_equal(bpf_map_lookup_elem(fd, &slot, &e), 0);
	assert_int_equal(addr_parse(CANARY_BE, e.fv.nat_addr), 0);	/* another's backend */
	e.fv.version = CANARY_V_CANARY;
	assert_int_equal(bpf_map_update_elem(fd, &slot, &e, BPF_ANY), 0);
	assert_int_equal(client_goes_to(&c, F_ACK), 10);
	assert_midstream(&c, true);
	assert_int_equal(conv_stats(&c).midstream, 1);
}

static const char *const pair_clients[] = { "198.51.100.8", "198.51.100.9", "198.51.100.10",
					    "198.51.100.11" };

/*
 * The next connection, in the order of pair_clients and then ports, after (@*client, @d's
 * port) whose key falls in @pair; false if none.
 */
static bool next_in_pair(struct conv *d, unsigned int *client, __u32 pair)
{
	for (; *client < 4; (*client)++, d->cport = 0) {
		d->client = pair_clients[*client];
		while (++d->cport) {
			struct flow_key k = conv_key(d);

			if ((canary_syn_slot(canary_syn_key_hash(&k)) | 1) == pair)
				return true;
		}
	}
	return false;
}

/*
 * A slot pair holds two handshakes: a third SYN in it takes the older one's slot, and is
 * counted as displacing it.
 */
static void displaced_handshake_counted(void **state)
{
	struct conv c = { .client = "198.51.100.7", .vip = "198.51.100.100",
			  .backend = "192.0.2.10", 40400, 80, 8080, IPPROTO_TCP }, d1, d2;
	unsigned int client = 0;
	struct flow_key k;
	__u32 pair;

	conv_start(&c, *state, 0);
	k = conv_key(&c);
	pair = canary_syn_slot(canary_syn_key_hash(&k)) | 1;
	d1 = c;
	d1.cport = 0;
	assert_true(next_in_pair(&d1, &client, pair));
	d2 = d1;
	assert_true(next_in_pair(&d2, &client, pair));
	client_sends(&c, F_SYN, NULL);
	client_sends(&d1, F_SYN, NULL);
	assert_int_equal(passed(c.env, CANARY_DP_SYN_DISPLACED), 0);
	assert_true(syn_pending(&c) && syn_pending(&d1));
	client_sends(&d2, F_SYN, NULL);
	assert_int_equal(passed(c.env, CANARY_DP_SYN_DISPLACED), 1);
	assert_false(syn_pending(&c));
	assert_true(syn_pending(&d1) && syn_pending(&d2));
}

/*
 * A backend in CANARY_BE_SVC_MAX services' pools takes no more; once one of them has moved to
 * other backends, its place in the backend's list goes to the next.
 */
static void backend_list_makes_room(void **state)
{
	const char *shared[] = { "192.0.2.10" }, *other[] = { "192.0.2.11" };
	struct test_svc svc[CANARY_BE_SVC_MAX + 1];
	struct dp_env *env = *state;
	struct backend be = { .port = 8080 };
	char vip[32];

	for (int i = 0; i <= CANARY_BE_SVC_MAX; i++) {
		snprintf(vip, sizeof(vip), "198.51.100.%d", 100 + i);
		env_svc(env, &svc[i], vip, 80, IPPROTO_TCP, 20 + i, 0);
	}
	for (int i = 0; i < CANARY_BE_SVC_MAX; i++)
		env_pool(env, &svc[i], CANARY_V_STABLE, shared, 1, 8080);
	assert_int_equal(addr_parse(shared[0], be.addr), 0);
	assert_int_equal(pool_publish(&env->dp, svc[CANARY_BE_SVC_MAX].id, CANARY_V_STABLE, &be, 1),
			 -ENOSPC);
	env_pool(env, &svc[0], CANARY_V_STABLE, other, 1, 8080);
	env_pool(env, &svc[CANARY_BE_SVC_MAX], CANARY_V_STABLE, shared, 1, 8080);
}

#define CONN_TEST(fn) cmocka_unit_test_setup_teardown(fn, env_setup, env_teardown)

static const struct CMUnitTest conn_tests[] = {
	CONN_TEST(syn_flood_leaves_established_alone),
	CONN_TEST(weight_change_during_handshake_splits_nothing),
	CONN_TEST(full_table_evicts_nothing),
	CONN_TEST(backend_of_two_services),
	CONN_TEST(torn_syn_entry_reads_as_empty),
	CONN_TEST(displaced_handshake_counted),
	CONN_TEST(backend_list_makes_room),
};

const struct test_group conn_group = { "conn", conn_tests,
					sizeof(conn_tests) / sizeof(conn_tests[0]) };
