// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * canaryd's flow sweep against the real table: which entries go and which stay, for entries
 * written from user space and by the datapath itself; a pass a step at a time; the room a sweep
 * makes for connections a full table had refused; and how long a pass over a full
 * default-sized table takes, and its longest step.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "canary_bpf.skel.h"
#include "conv.h"
#include "dp_tests.h"
#include "stats.h"
#include "sweep.h"

#define SEC_NS		1000000000ULL
#define NOW		(1000000 * SEC_NS)	/* a chosen now: no packet runs in these tests */
#define UDP_IDLE	(30 * SEC_NS)
#define SMALL_TABLE	1024
#define BATCHES_TABLE	16384
#define BATCHES_FLOWS	10000		/* more than two of the sweep's batches */
#define ERRLEN		256

#define ESTABLISHED	(CANARY_FLOW_SYNACK | CANARY_FLOW_COUNTED | CANARY_FLOW_REPLIED)
#define MIDSTREAM	(CANARY_FLOW_MIDSTREAM | CANARY_FLOW_COUNTED)

typedef int (*sweep_fn)(struct canary_dp *dp, __u64 now_ns, const struct sweep_timeouts *t,
			struct sweep_result *res, char *err, size_t errlen);

static const struct sweep_timeouts timeouts = { .udp_idle_ns = UDP_IDLE,
						.tcp_idle_ns = CANARY_IDLE_TCP_NS };

/* Flow @i: client ::ffff:10.x.y.z (the low 24 bits of @i), port 40000, to 203.0.113.10:80. */
static struct flow_key key_of(unsigned int i, __u8 proto)
{
	struct flow_key k = { .src = { [10] = 0xff, [11] = 0xff, 10, i >> 16, i >> 8, i },
			      .dst = { [10] = 0xff, [11] = 0xff, 203, 0, 113, 10 },
			      .sport = 40000, .dport = 80, .proto = proto };

	return k;
}

static struct flow_val val_of(__u32 flags, __u64 last_ns)
{
	struct flow_val v = { .nat_addr = { [10] = 0xff, [11] = 0xff, 192, 0, 2, 10 },
			      .nat_port = 8080, .svc_id = SVC, .gen = 1, .flags = flags,
			      .last_ns = last_ns };

	return v;
}

static int flows_fd(struct dp_env *env)
{
	return bpf_map__fd(env->dp.skel->maps.flows);
}

static bool present(struct dp_env *env, const struct flow_key *k)
{
	struct flow_val v;

	return bpf_map_lookup_elem(flows_fd(env), k, &v) == 0;
}

static struct sweep_result sweep_at(struct dp_env *env, sweep_fn fn, __u64 now_ns)
{
	struct sweep_result res;
	char err[ERRLEN] = "";
	int ret = fn(&env->dp, now_ns, &timeouts, &res, err, sizeof(err));

	if (ret)
		print_error("%s\n", err);
	assert_int_equal(ret, 0);
	return res;
}

struct entry {
	__u8 proto;
	__u32 flags;
	__u64 last_ns;
	bool stays;
};

static const struct entry mix[] = {
	{ IPPROTO_UDP, 0, NOW - UDP_IDLE, true },
	{ IPPROTO_UDP, 0, NOW - UDP_IDLE - 1, false },
	{ IPPROTO_TCP, ESTABLISHED, NOW - CANARY_IDLE_TCP_NS, true },
	{ IPPROTO_TCP, ESTABLISHED, NOW - CANARY_IDLE_TCP_NS - 1, false },
	{ IPPROTO_TCP, ESTABLISHED | CANARY_FLOW_CLOSED, NOW - CANARY_IDLE_SHORT_NS, true },
	{ IPPROTO_TCP, ESTABLISHED | CANARY_FLOW_CLOSED, NOW - CANARY_IDLE_SHORT_NS - 1, false },
	{ IPPROTO_TCP, MIDSTREAM, NOW - CANARY_IDLE_SHORT_NS, true },
	{ IPPROTO_TCP, MIDSTREAM, NOW - CANARY_IDLE_SHORT_NS - 1, false },
	{ IPPROTO_TCP, MIDSTREAM | CANARY_FLOW_REPLIED, NOW - CANARY_IDLE_SHORT_NS - 1, true },
	{ IPPROTO_TCP, MIDSTREAM | CANARY_FLOW_REPLIED, NOW - CANARY_IDLE_TCP_NS - 1, false },
	{ IPPROTO_TCP, MIDSTREAM, NOW + SEC_NS, true },		/* stamped after now */
	{ IPPROTO_UDP, 0, UINT64_MAX, true },
};

#define MIX_N	(sizeof(mix) / sizeof(mix[0]))

/* The mix in a small table, swept by @fn: exactly the idle go; a second sweep finds none. */
static void sweep_the_mix(struct dp_env *env, sweep_fn fn)
{
	struct sweep_result res;
	unsigned int stay = 0;

	env_reload_table(env, SMALL_TABLE);
	for (unsigned int i = 0; i < MIX_N; i++) {
		struct flow_key k = key_of(i, mix[i].proto);
		struct flow_val v = val_of(mix[i].flags, mix[i].last_ns);

		assert_int_equal(bpf_map_update_elem(flows_fd(env), &k, &v, BPF_NOEXIST), 0);
		stay += mix[i].stays;
	}
	res = sweep_at(env, fn, NOW);
	assert_int_equal(res.seen, MIX_N);
	assert_int_equal(res.removed, MIX_N - stay);
	assert_int_equal(res.capacity, SMALL_TABLE);
	for (unsigned int i = 0; i < MIX_N; i++) {
		struct flow_key k = key_of(i, mix[i].proto);

		if (present(env, &k) != mix[i].stays)
			print_error("mix[%u] %s\n", i, mix[i].stays ? "removed" : "kept");
		assert_int_equal(present(env, &k), mix[i].stays);
	}
	res = sweep_at(env, fn, NOW);
	assert_int_equal(res.seen, stay);
	assert_int_equal(res.removed, 0);
}

static void sweep_removes_exactly_the_idle(void **state)
{
	sweep_the_mix(*state, flow_sweep);
}

static void sweep_by_key_removes_the_same(void **state)
{
	sweep_the_mix(*state, flow_sweep_by_key);
}

/* Flows @first.. (@n of them), TCP established, last seen @idle_ns before NOW. */
static void fill(struct dp_env *env, unsigned int first, unsigned int n, __u64 idle_ns)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	struct flow_key *keys = calloc(n, sizeof(*keys));
	struct flow_val *vals = calloc(n, sizeof(*vals));
	__u32 count = n;

	assert_non_null(keys);
	assert_non_null(vals);
	for (unsigned int i = 0; i < n; i++) {
		keys[i] = key_of(first + i, IPPROTO_TCP);
		vals[i] = val_of(ESTABLISHED, NOW - idle_ns);
	}
	assert_int_equal(bpf_map_update_batch(flows_fd(env), keys, vals, &count, &opts), 0);
	assert_int_equal(count, n);
	free(keys);
	free(vals);
}

/*
 * Busy entries, then idle ones, spread by the hash over several batches, swept a step at a
 * time: each step goes on where the last one stopped, every idle entry goes, every busy one
 * stays.
 */
static void sweep_steps_go_through_every_batch(void **state)
{
	struct sweep_cursor c = { 0 };
	struct dp_env *env = *state;
	char err[ERRLEN] = "";
	unsigned int steps = 1;
	int ret;

	env_reload_table(env, BATCHES_TABLE);
	fill(env, 0, BATCHES_FLOWS / 2, SEC_NS);
	fill(env, BATCHES_FLOWS / 2, BATCHES_FLOWS / 2, CANARY_IDLE_TCP_NS + SEC_NS);
	assert_int_equal(flow_sweep_step(&env->dp, &c, NOW, &timeouts, err, sizeof(err)), 0);
	assert_true(c.res.seen > 0 && c.res.seen <= SWEEP_BATCH);
	while (!(ret = flow_sweep_step(&env->dp, &c, NOW, &timeouts, err, sizeof(err))))
		steps++;
	assert_int_equal(ret, 1);
	assert_true(steps >= 2);
	assert_int_equal(c.res.seen, BATCHES_FLOWS);
	assert_int_equal(c.res.removed, BATCHES_FLOWS / 2);
	assert_int_equal(c.res.capacity, BATCHES_TABLE);
	assert_int_equal(env_flows_count(env), BATCHES_FLOWS / 2);
	for (unsigned int i = 0; i < BATCHES_FLOWS / 2; i++) {
		struct flow_key k = key_of(i, IPPROTO_TCP);

		assert_true(present(env, &k));
	}
}

/*
 * Entries the datapath wrote, on its own clock: a closed connection goes after the short idle
 * time, the established ones after the TCP idle time, and the room a sweep makes takes the
 * connection a full table had to serve from the SYN cache.
 */
static void swept_room_takes_a_refused_connection(void **state)
{
	struct conv c = { .client = "198.51.100.7", .vip = "198.51.100.100",
			  .backend = "192.0.2.10", 20000, 80, 8080, IPPROTO_TCP }, closed, extra;
	struct dp_env *env = *state;
	struct sweep_result res;

	env_reload_table(env, 16);
	conv_start(&c, env, 0);
	for (; env_flows_count(env) < 16; c.cport++)
		conv_handshake(&c);
	closed = c;
	closed.cport = 20000;
	client_sends(&closed, F_FIN | F_ACK, NULL);
	backend_says(&closed, F_FIN | F_ACK, NULL);
	extra = c;
	extra.cport = 40000;
	conv_handshake(&extra);
	assert_false(flow_present(&extra));
	assert_int_equal(conv_stats(&extra).table_full, 1);

	res = sweep_at(env, flow_sweep, flow_clock_ns() + CANARY_IDLE_SHORT_NS + 2 * SEC_NS);
	assert_int_equal(res.seen, 16);
	assert_int_equal(res.removed, 1);
	assert_false(flow_present(&closed));
	client_sends(&extra, F_ACK, NULL);
	assert_true(flow_present(&extra));
	assert_int_equal(env_flows_count(env), 16);

	res = sweep_at(env, flow_sweep, flow_clock_ns() + CANARY_IDLE_TCP_NS + 2 * SEC_NS);
	assert_int_equal(res.removed, 16);
	assert_int_equal(env_flows_count(env), 0);
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1e3 + (t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* A pass at @now_ns, a step at a time: how long it took, and its longest step, in ms. */
static struct sweep_result timed_pass(struct dp_env *env, __u64 now_ns, double *pass_ms,
				      double *step_ms)
{
	struct sweep_cursor c = { 0 };
	struct timespec t0, ts;
	char err[ERRLEN] = "";
	int ret;

	*step_ms = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		double ms;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		ret = flow_sweep_step(&env->dp, &c, now_ns, &timeouts, err, sizeof(err));
		ms = ms_since(&ts);
		if (ms > *step_ms)
			*step_ms = ms;
	} while (!ret);
	*pass_ms = ms_since(&t0);
	if (ret < 0)
		print_error("%s\n", err);
	assert_int_equal(ret, 1);
	return c.res;
}

/* A full table of the default size: a pass that removes nothing, and one that removes all. */
static void sweep_of_a_full_table_is_quick(void **state)
{
	double keep_ms, keep_step_ms, all_ms, all_step_ms;
	struct dp_env *env = *state;
	struct sweep_result res;

	env_reload_table(env, CANARY_FLOWS_DEFAULT);
	fill(env, 0, CANARY_FLOWS_DEFAULT, SEC_NS);
	res = timed_pass(env, NOW, &keep_ms, &keep_step_ms);
	assert_int_equal(res.seen, CANARY_FLOWS_DEFAULT);
	assert_int_equal(res.removed, 0);
	res = timed_pass(env, NOW + CANARY_IDLE_TCP_NS, &all_ms, &all_step_ms);
	assert_int_equal(res.removed, CANARY_FLOWS_DEFAULT);
	assert_int_equal(env_flows_count(env), 0);
	printf("sweep of %u entries: %.1f ms removing none (longest step %.2f ms), %.1f ms "
	       "removing all (longest step %.2f ms)\n", CANARY_FLOWS_DEFAULT, keep_ms,
	       keep_step_ms, all_ms, all_step_ms);
}

#define SWEEP_TEST(fn) cmocka_unit_test_setup_teardown(fn, env_setup, env_teardown)

static const struct CMUnitTest sweep_tests[] = {
	SWEEP_TEST(sweep_removes_exactly_the_idle),
	SWEEP_TEST(sweep_by_key_removes_the_same),
	SWEEP_TEST(sweep_steps_go_through_every_batch),
	SWEEP_TEST(swept_room_takes_a_refused_connection),
	SWEEP_TEST(sweep_of_a_full_table_is_quick),
};

const struct test_group sweep_group = { "sweep", sweep_tests,
					 sizeof(sweep_tests) / sizeof(sweep_tests[0]) };
