// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Deciding flows: the split by weight, pinning, client mode, overrides, Maglev, counters. */
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <linux/bpf.h>

#include "addr.h"
#include "dp_tests.h"
#include "stats.h"

#define VIP4		"198.51.100.100"
#define VIP6		"2001:db8:1::100"
#define PORT_STABLE	8080
#define PORT_CANARY	8081
#define SPLIT_FLOWS	100000
#define SVC_ID		4

static const char *const stable4[] = { "192.0.2.10", "192.0.2.11", "192.0.2.12", "192.0.2.13",
				       "192.0.2.14" };
static const char *const canary4[] = { "192.0.2.20", "192.0.2.21", "192.0.2.22", "192.0.2.23" };
static const char *const stable6[] = { "2001:db8:2::10", "2001:db8:2::11" };
static const char *const canary6[] = { "2001:db8:2::20", "2001:db8:2::21" };

/* A service on both families, @nstable stable and @ncanary canary backends. */
static void split_services(struct dp_env *env, struct test_svc svc[2], __u16 weight, __u8 mode,
			   unsigned int nstable, unsigned int ncanary)
{
	env_svc(env, &svc[0], VIP4, 80, IPPROTO_TCP, SVC_ID, weight);
	env_svc(env, &svc[1], VIP6, 80, IPPROTO_TCP, SVC_ID + 1, weight);
	for (int i = 0; i < 2; i++) {
		svc[i].st.mode = mode;
		env_svc_update(env, &svc[i]);
	}
	env_pool(env, &svc[0], CANARY_V_STABLE, stable4, nstable, PORT_STABLE);
	env_pool(env, &svc[0], CANARY_V_CANARY, canary4, ncanary, PORT_CANARY);
	env_pool(env, &svc[1], CANARY_V_STABLE, stable6, 2, PORT_STABLE);
	env_pool(env, &svc[1], CANARY_V_CANARY, canary6, 2, PORT_CANARY);
}

/* Flow @i: odd ones IPv6. Client addresses and ports both vary. */
static void flow_spec(struct pkt_spec *s, unsigned int i, bool v6_too)
{
	bool v6 = v6_too && (i & 1);

	pkt_spec_init(s, v6 ? "2001:db8:1::" : "198.18.0.0", 0, v6 ? VIP6 : VIP4, 80,
		      IPPROTO_TCP);
	s->saddr[13] = (i >> 16) & 0xff;
	s->saddr[14] = (i >> 8) & 0xff;
	s->saddr[15] = i & 0xff;
	s->sport = 1024 + (i * 7919) % 60000;
	s->payload_len = 0;
}

static bool is_canary(const struct verdict *v)
{
	assert_true(v->dport == PORT_STABLE || v->dport == PORT_CANARY);
	return v->dport == PORT_CANARY;
}

static void env_reload(void **state)
{
	assert_int_equal(env_teardown(state), 0);
	assert_int_equal(env_setup(state), 0);
}

static void split_by_weight(void **state)
{
	static const __u16 weights[] = { 0, 1, 100, 2500, 5000, 9999, 10000 };
	const size_t nw = sizeof(weights) / sizeof(weights[0]);
	bool *canary = calloc(nw * SPLIT_FLOWS, sizeof(bool));
	struct test_svc svc[2];
	struct pkt_spec s;

	assert_non_null(canary);
	for (size_t w = 0; w < nw; w++) {
		double p = weights[w] / 10000.0, n = 0, mean = SPLIT_FLOWS * p;
		struct dp_env *env;

		env_reload(state);
		env = *state;
		split_services(env, svc, weights[w], CANARY_HASH_FLOW, 4, 4);
		for (unsigned int i = 0; i < SPLIT_FLOWS; i++) {
			struct verdict v;

			flow_spec(&s, i, true);
			v = env_send(env, &s);
			canary[w * SPLIT_FLOWS + i] = is_canary(&v);
			n += canary[w * SPLIT_FLOWS + i];
		}
		if (weights[w] == 0 || weights[w] == CANARY_WEIGHT_MAX)
			assert_true(n == mean);
		else
			assert_true(fabs(n - mean) <= 4 * sqrt(SPLIT_FLOWS * p * (1 - p)));
	}
	/* Raising the weight never takes a flow from the canary. */
	for (size_t w = 1; w < nw; w++)
		for (unsigned int i = 0; i < SPLIT_FLOWS; i++)
			if (canary[(w - 1) * SPLIT_FLOWS + i])
				assert_true(canary[w * SPLIT_FLOWS + i]);
	free(canary);
}

#define TCP_F_ACK	0x10

/*
 * Flows @from..@to: @open, each a SYN, then the ACK that completes its handshake (what the
 * datapath sees of one: the backend's SYN-ACK makes no difference to where the flow goes); else
 * one more segment of each. @out gets where the last packet went.
 */
static void send_flows(struct dp_env *env, unsigned int from, unsigned int to, bool open,
		       struct verdict *out)
{
	struct pkt_spec s;

	for (unsigned int i = from; i < to; i++) {
		flow_spec(&s, i, true);
		if (open)
			env_send(env, &s);
		s.tcp_flags = TCP_F_ACK;
		out[i - from] = env_send(env, &s);
	}
}

static void flows_keep_version_and_backend(void **state)
{
	struct dp_env *env = *state;
	struct verdict first[2000], again[2000];
	struct test_svc svc[2];
	unsigned int canaries = 0;

	split_services(env, svc, 5000, CANARY_HASH_FLOW, 4, 4);
	send_flows(env, 0, 2000, true, first);
	for (int i = 0; i < 2000; i++)
		canaries += is_canary(&first[i]);
	assert_true(canaries > 800 && canaries < 1200);

	for (int step = 0; step < 2; step++) {
		__u16 weight = step ? CANARY_WEIGHT_MAX : 0;

		assert_int_equal(svc_set_weight(&env->dp, svc[0].id, weight), 0);
		assert_int_equal(svc_set_weight(&env->dp, svc[1].id, weight), 0);
		send_flows(env, 0, 2000, false, again);
		assert_memory_equal(first, again, sizeof(first));
		/* New flows follow the new weight. */
		send_flows(env, 10000 + step * 2000, 12000 + step * 2000, true, again);
		for (int i = 0; i < 2000; i++)
			assert_int_equal(is_canary(&again[i]), step);
	}
}

static void client_mode_sticks_per_client(void **state)
{
	struct dp_env *env = *state;
	unsigned int clients = 500, canary_clients = 0;
	struct test_svc svc[2];
	struct pkt_spec s;

	split_services(env, svc, 5000, CANARY_HASH_CLIENT, 4, 4);
	for (unsigned int c = 0; c < clients; c++) {
		struct verdict first = {};

		for (unsigned int f = 0; f < 20; f++) {
			struct verdict v;

			flow_spec(&s, c, true);
			s.sport = 20000 + f * 31;
			v = env_send(env, &s);
			if (f == 0)
				first = v;
			/* Same version, and the same backend inside it. */
			assert_memory_equal(&v, &first, sizeof(v));
		}
		canary_clients += is_canary(&first);
	}
	assert_true(fabs(canary_clients - clients / 2.0) <= 4 * sqrt(clients * 0.25));
}

static struct verdict send_from(struct dp_env *env, const char *client, const char *vip,
				__u16 sport)
{
	struct pkt_spec s;

	pkt_spec_init(&s, client, sport, vip, 80, IPPROTO_TCP);
	env_send(env, &s);
	s.tcp_flags = TCP_F_ACK;	/* the handshake completes: a new flow */
	return env_send(env, &s);
}

static void put_override(struct dp_env *env, __u32 svc_id, const char *prefix, __u8 version)
{
	unsigned int plen;
	__u8 addr[16];

	assert_int_equal(prefix_parse(prefix, addr, &plen), 0);
	assert_int_equal(override_put(&env->dp, svc_id, addr, plen, version), 0);
}

static void overrides_force_version(void **state)
{
	struct dp_env *env = *state;
	struct test_svc svc[2];
	struct verdict v;
	struct ver_stats vs;
	__u16 sport = 1000;

	split_services(env, svc, 0, CANARY_HASH_FLOW, 4, 4);
	for (int i = 0; i < 2; i++)
		assert_int_equal(svc_set_overrides(&env->dp, svc[i].id, true), 0);
	put_override(env, SVC_ID, "198.51.100.0/24", CANARY_V_CANARY);
	put_override(env, SVC_ID, "198.51.100.128/25", CANARY_V_STABLE);
	put_override(env, SVC_ID + 1, "2001:db8:1::/64", CANARY_V_CANARY);
	put_override(env, 9, "0.0.0.0/0", CANARY_V_CANARY);	/* another service's */

	for (int step = 0; step < 2; step++) {
		v = send_from(env, "198.51.100.7", VIP4, sport++);
		assert_true(is_canary(&v));
		v = send_from(env, "198.51.100.200", VIP4, sport++);	/* longest prefix wins */
		assert_false(is_canary(&v));
		v = send_from(env, "2001:db8:1::7", VIP6, sport++);
		assert_true(is_canary(&v));
		v = send_from(env, "198.51.101.7", VIP4, sport++);	/* no override: weight */
		assert_int_equal(is_canary(&v), step);
		v = send_from(env, "2001:db8:9::7", VIP6, sport++);
		assert_int_equal(is_canary(&v), step);

		assert_int_equal(svc_set_weight(&env->dp, svc[0].id, CANARY_WEIGHT_MAX), 0);
		assert_int_equal(svc_set_weight(&env->dp, svc[1].id, CANARY_WEIGHT_MAX), 0);
	}
	assert_int_equal(stats_ver(&env->dp, SVC_ID, CANARY_V_CANARY, &vs), 0);
	assert_int_equal(vs.override_flows, 2);
	assert_int_equal(stats_ver(&env->dp, SVC_ID, CANARY_V_STABLE, &vs), 0);
	assert_int_equal(vs.override_flows, 2);
}

#define MAGLEV_FLOWS 20000

static void stable_backends_of(struct dp_env *env, unsigned int nbackends, __u8 *last_octet)
{
	struct test_svc svc[2];
	struct pkt_spec s;

	split_services(env, svc, 0, CANARY_HASH_FLOW, nbackends, 4);
	for (unsigned int i = 0; i < MAGLEV_FLOWS; i++) {
		struct verdict v;

		flow_spec(&s, i, false);
		v = env_send(env, &s);
		last_octet[i] = v.daddr[15];
	}
}

static void adding_backend_moves_a_fifth(void **state)
{
	static __u8 four[MAGLEV_FLOWS], five[MAGLEV_FLOWS];
	unsigned int moved = 0, per_backend[5] = {};

	stable_backends_of(*state, 4, four);
	env_reload(state);
	stable_backends_of(*state, 5, five);
	for (unsigned int i = 0; i < MAGLEV_FLOWS; i++) {
		moved += four[i] != five[i];
		assert_true(five[i] >= 10 && five[i] <= 14);
		per_backend[five[i] - 10]++;
	}
	assert_true(moved >= MAGLEV_FLOWS * 15 / 100 && moved <= MAGLEV_FLOWS * 25 / 100);
	for (int b = 0; b < 5; b++)	/* 20 % each, within 4 sigma and Maglev's own slack */
		assert_true(fabs(per_backend[b] - MAGLEV_FLOWS / 5.0) <= 300);
}

struct tally {
	__u64 packets, bytes, flows, syns;
};

static void counters_match_traffic(void **state)
{
	struct dp_env *env = *state;
	struct tally want[2][4] = {};
	struct test_svc svc[2];
	__u8 in[PKT_MAX];
	struct pkt_spec s;
	struct ver_stats vs;
	struct be_stats bs;

	split_services(env, svc, 5000, CANARY_HASH_FLOW, 3, 3);
	for (unsigned int i = 0; i < 300; i++) {
		for (unsigned int k = 0; k <= i % 3; k++) {
			struct verdict v;
			int ver, slot;
			size_t len;

			flow_spec(&s, i, false);
			s.tcp_flags = k ? TCP_F_ACK : 0;
			s.payload_len = (i * 13 + k * 101) % 200;
			len = pkt_build(&s, in);
			v = env_send(env, &s);
			ver = is_canary(&v);
			slot = v.daddr[15] - (ver ? 20 : 10);
			assert_true(slot >= 0 && slot < 3);
			want[ver][slot].packets++;
			want[ver][slot].bytes += len;
			want[ver][slot].flows += k == 1;	/* a SYN alone is no new flow */
			want[ver][slot].syns += k == 0;
		}
	}
	for (int ver = 0; ver < 2; ver++) {
		struct tally sum = {};

		for (int slot = 0; slot < 4; slot++) {
			assert_int_equal(stats_backend(&env->dp, SVC_ID, ver, slot, &bs), 0);
			assert_int_equal(bs.packets, want[ver][slot].packets);
			assert_int_equal(bs.bytes, want[ver][slot].bytes);
			assert_int_equal(bs.new_flows, want[ver][slot].flows);
			sum.packets += bs.packets;
			sum.bytes += bs.bytes;
			sum.flows += bs.new_flows;
			sum.syns += want[ver][slot].syns;
		}
		assert_int_equal(stats_ver(&env->dp, SVC_ID, ver, &vs), 0);
		assert_int_equal(vs.packets, sum.packets);
		assert_int_equal(vs.bytes, sum.bytes);
		assert_int_equal(vs.new_flows, sum.flows);
		assert_int_equal(vs.syns, sum.syns);
		assert_true(sum.packets > 0);
	}
}

static void hard_rollback_redecides_canary_flows(void **state)
{
	struct dp_env *env = *state;
	struct verdict first[1000], again[1000];
	struct test_svc svc[2];

	split_services(env, svc, 5000, CANARY_HASH_FLOW, 4, 4);
	send_flows(env, 0, 1000, true, first);

	/* A plain weight change leaves canary flows where they are... */
	for (int i = 0; i < 2; i++)
		assert_int_equal(svc_set_weight(&env->dp, svc[i].id, 0), 0);
	send_flows(env, 0, 1000, false, again);
	assert_memory_equal(first, again, sizeof(first));

	/* ...a hard rollback moves them, and only them. */
	for (int i = 0; i < 2; i++)
		assert_int_equal(svc_rollback_hard(&env->dp, svc[i].id, 0), 0);
	send_flows(env, 0, 1000, false, again);
	for (int i = 0; i < 1000; i++) {
		assert_false(is_canary(&again[i]));
		if (!is_canary(&first[i]))
			assert_memory_equal(&first[i], &again[i], sizeof(first[i]));
	}
}

struct swap_reader {
	struct dp_env *env;
	atomic_bool stop;
	atomic_ulong sent;
	unsigned long from_a, from_b, torn, failed;
};

/* A backend of pool A (.10-.13 at 8080) or of pool B (.20-.22 at 9090), never a mix. */
static bool from_pool(const struct verdict *v, bool a)
{
	__u8 o = v->daddr[15];

	if (a)
		return o >= 10 && o <= 13 && v->dport == 8080;
	return o >= 20 && o <= 22 && v->dport == 9090;
}

/* No cmocka here: the test thread judges what this one counted. */
static void *swap_reader_run(void *arg)
{
	struct swap_reader *r = arg;
	struct pkt_spec s;

	while (!atomic_load(&r->stop)) {
		unsigned long n = atomic_load(&r->sent);
		struct verdict v;

		flow_spec(&s, 200000 + n % 100000, false);
		s.sport = n / 100000 + 1;
		if (env_try_send(r->env, &s, &v))
			r->failed++;
		else if (from_pool(&v, true))
			r->from_a++;
		else if (from_pool(&v, false))
			r->from_b++;
		else
			r->torn++;
		atomic_fetch_add(&r->sent, 1);
	}
	return NULL;
}

/* Until the reader has sent a packet after now, so each swap has traffic on both sides. */
static bool reader_moved_on(struct swap_reader *r)
{
	unsigned long seen = atomic_load(&r->sent);

	for (int spin = 0; spin < 10000000; spin++) {
		if (atomic_load(&r->sent) > seen + 1)
			return true;
		sched_yield();
	}
	return false;
}

static void pool_swap_is_atomic_under_traffic(void **state)
{
	struct swap_reader r = { .env = *state };
	struct test_svc svc[2];
	pthread_t reader;
	int overlapped = 0;

	split_services(r.env, svc, 0, CANARY_HASH_FLOW, 4, 4);
	assert_int_equal(pthread_create(&reader, NULL, swap_reader_run, &r), 0);
	overlapped += reader_moved_on(&r);
	for (int i = 0; i < 60; i++) {
		if (i & 1)
			env_pool(r.env, &svc[0], CANARY_V_STABLE, stable4, 4, 8080);
		else
			env_pool(r.env, &svc[0], CANARY_V_STABLE, canary4, 3, 9090);
		overlapped += reader_moved_on(&r);
	}
	atomic_store(&r.stop, true);
	assert_int_equal(pthread_join(reader, NULL), 0);
	/* The reader ran before, between and after all 60 swaps, and saw both pools. */
	assert_int_equal(overlapped, 61);
	assert_true(r.from_a > 0);
	assert_true(r.from_b > 0);
	assert_int_equal(r.failed, 0);
	assert_int_equal(r.torn, 0);
	assert_int_equal(r.from_a + r.from_b, atomic_load(&r.sent));
}

#define SPLIT_TEST(fn) cmocka_unit_test_setup_teardown(fn, env_setup, env_teardown)

static const struct CMUnitTest split_tests[] = {
	SPLIT_TEST(split_by_weight),
	SPLIT_TEST(flows_keep_version_and_backend),
	SPLIT_TEST(client_mode_sticks_per_client),
	SPLIT_TEST(overrides_force_version),
	SPLIT_TEST(adding_backend_moves_a_fifth),
	SPLIT_TEST(counters_match_traffic),
	SPLIT_TEST(hard_rollback_redecides_canary_flows),
	SPLIT_TEST(pool_swap_is_atomic_under_traffic),
};

const struct test_group split_group = { "split", split_tests,
					 sizeof(split_tests) / sizeof(split_tests[0]) };
