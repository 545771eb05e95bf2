// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>

#include "addr.h"
#include "canary_bpf.skel.h"
#include "env.h"
#include "iface.h"
#include "netns.h"

static const char *const netns_script[] = {
	"ip link set lo up",
	"ip link add xc0 address 02:00:00:00:00:01 type veth peer name xc1",
	"ip link add xc2 address 02:00:00:00:00:02 type veth peer name xc3",
	"ip link set xc0 up", "ip link set xc1 up", "ip link set xc2 up", "ip link set xc3 up",
	"ip addr add 198.51.100.1/24 dev xc0",
	"ip -6 addr add 2001:db8:1::1/64 dev xc0 nodad",
	"ip addr add 192.0.2.1/24 dev xc2",
	"ip -6 addr add 2001:db8:2::1/64 dev xc2 nodad",
	"ip addr add 203.0.113.1/32 dev lo",
	"ip -6 addr add 2001:db8:3::1/128 dev lo nodad",
	"ip route add unreachable 10.255.0.0/16",
	"ip -6 route add unreachable 2001:db8:ff::/48",
	"ip neigh add 198.51.100.50 lladdr 02:00:00:00:be:50 dev xc0 nud permanent",
	"ip -6 neigh add 2001:db8:1::50 lladdr 02:00:00:00:be:50 dev xc0 nud permanent",
	"ip neigh add 198.51.100.7 lladdr 02:00:00:00:c1:07 dev xc0 nud permanent",
	"ip -6 neigh add 2001:db8:1::7 lladdr 02:00:00:00:c1:07 dev xc0 nud permanent",
	"sysctl -qw net.ipv4.ip_forward=1",
	"sysctl -qw net.ipv6.conf.all.forwarding=1",
};

int env_netns_setup(void)
{
	char cmd[200];
	const char *step[] = { cmd };

	if (netns_private() || netns_run(netns_script, sizeof(netns_script) / sizeof(netns_script[0])))
		return -1;
	for (unsigned int nn = 10; nn < 30; nn++) {
		snprintf(cmd, sizeof(cmd),
			 "ip neigh add 192.0.2.%u lladdr 02:00:00:00:be:%02u dev xc2 nud permanent && "
			 "ip -6 neigh add 2001:db8:2::%u lladdr 02:00:00:00:be:%02u dev xc2 nud permanent",
			 nn, nn, nn, nn);
		if (netns_run(step, 1))
			return -1;
	}
	return 0;
}

int env_open(struct dp_env *env, const struct canary_dp_opts *opts)
{
	struct canary_dp_opts o = { .flow_entries = TEST_FLOWS };
	char err[256];

	/* Only the forward program under test: every load costs the verifier its programs. */
	if (opts)
		o = *opts;
	env->tc = env_hook_is_tc();
	o.progs = (env->tc ? CANARY_PROG_TC_FWD : CANARY_PROG_XDP) | CANARY_PROG_TC_REPLY;
	if (canary_dp_open(&env->dp, &o, err, sizeof(err))) {
		fprintf(stderr, "env: %s\n", err);
		return -1;
	}
	env->prog_fd = env->tc ? bpf_program__fd(env->dp.skel->progs.tc_canary_fwd) :
				 canary_dp_prog_fd(&env->dp);
	env->if_client = if_nametoindex("xc0");
	env->if_backend = if_nametoindex("xc2");
	if (!env->if_client || !env->if_backend || tx_port_add(&env->dp, env->if_backend) ||
	    tx_port_add(&env->dp, env->if_client)) {
		fprintf(stderr, "env: test interfaces missing\n");
		canary_dp_close(&env->dp);
		return -1;
	}
	return 0;
}

int env_setup(void **state)
{
	struct dp_env *env = calloc(1, sizeof(*env));

	if (!env)
		return -1;
	if (env_open(env, NULL)) {
		free(env);
		return -1;
	}
	*state = env;
	return 0;
}

int env_teardown(void **state)
{
	struct dp_env *env = *state;

	canary_dp_close(&env->dp);
	free(env);
	return 0;
}

void env_reload_table(struct dp_env *env, __u32 entries)
{
	struct canary_dp_opts opts = { .flow_entries = entries };

	canary_dp_close(&env->dp);
	assert_int_equal(env_open(env, &opts), 0);
}

unsigned int env_flows_count(struct dp_env *env)
{
	int fd = bpf_map__fd(env->dp.skel->maps.flows);
	struct flow_key k, next, *prev = NULL;
	unsigned int n = 0;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		n++;
	}
	return n;
}

__u32 env_run(struct dp_env *env, const __u8 *in, size_t len, __u8 *out, __u32 *out_len)
{
	return env_run_from(env, env->if_client, in, len, out, out_len);
}

/* One run of @fd with @ctx as its context; *@retval is the program's own. */
static int prog_run(int fd, const __u8 *in, size_t len, __u8 *out, __u32 *out_len, void *ctx,
		    size_t ctx_size, __u32 *retval)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		    .data_in = in,
		    .data_size_in = len,
		    .data_out = out,
		    .data_size_out = PKT_MAX,
		    .ctx_in = ctx,
		    .ctx_size_in = ctx_size,
		    .repeat = 1);
	int err = bpf_prog_test_run_opts(fd, &opts);

	if (err)
		return err;
	*out_len = opts.data_size_out;
	*retval = opts.retval;
	return 0;
}

__u32 env_run_tc(struct dp_env *env, const __u8 *in, size_t len, __u8 *out, __u32 *out_len)
{
	int fd = bpf_program__fd(env->dp.skel->progs.tc_canary_reply);
	__u32 retval = 0;

	assert_int_equal(prog_run(fd, in, len, out, out_len, NULL, 0, &retval), 0);
	return retval;
}

bool env_hook_is_tc(void)
{
	const char *hook = getenv("DP_HOOK");

	return hook && !strcmp(hook, "tc");
}

/*
 * The XDP action a TC verdict stands for, so that one golden test checks both hooks: a redirect
 * back out of the interface it came in by (its own MAC as the source) is XDP_TX.
 */
static __u32 tc_as_xdp(__u32 ifindex, const __u8 *out, __u32 out_len, __u32 verdict)
{
	char name[IF_NAMESIZE], err[128];
	__u8 mac[6];

	switch (verdict) {
	case TC_ACT_OK:
		return XDP_PASS;
	case TC_ACT_SHOT:
		return XDP_DROP;
	case TC_ACT_REDIRECT:
		assert_non_null(if_indextoname(ifindex, name));
		assert_int_equal(iface_mac(name, mac, err, sizeof(err)), 0);
		return out_len >= 12 && !memcmp(out + 6, mac, 6) ? XDP_TX : XDP_REDIRECT;
	}
	return XDP_ABORTED;
}

int env_try_run_from(struct dp_env *env, __u32 ifindex, const __u8 *in, size_t len, __u8 *out,
		     __u32 *out_len, __u32 *retval)
{
	struct xdp_md xdp = { .data_end = len, .ingress_ifindex = ifindex };
	struct __sk_buff skb = { .ifindex = ifindex };
	int err;

	if (!env->tc)
		return prog_run(env->prog_fd, in, len, out, out_len, &xdp, sizeof(xdp), retval);
	err = prog_run(env->prog_fd, in, len, out, out_len, &skb, sizeof(skb), retval);
	if (!err)
		*retval = tc_as_xdp(ifindex, out, *out_len, *retval);
	return err;
}

__u32 env_run_from(struct dp_env *env, __u32 ifindex, const __u8 *in, size_t len, __u8 *out,
		   __u32 *out_len)
{
	__u32 retval;

	assert_int_equal(env_try_run_from(env, ifindex, in, len, out, out_len, &retval), 0);
	return retval;
}

void env_svc(struct dp_env *env, struct test_svc *svc, const char *vip, __u16 port, __u8 proto,
	     __u32 id, __u16 weight)
{
	__u8 addr[16];

	assert_int_equal(addr_parse(vip, addr), 0);
	svc_key_init(&svc->key, addr, port, proto);
	memset(&svc->st, 0, sizeof(svc->st));
	svc->id = id;
	svc->st.weight = weight;
	svc->st.gen = 1;
	env_svc_update(env, svc);
}

void env_svc_update(struct dp_env *env, const struct test_svc *svc)
{
	assert_int_equal(svc_put(&env->dp, &svc->key, svc->id, &svc->st), 0);
}

void env_pool(struct dp_env *env, const struct test_svc *svc, __u8 version,
	      const char *const *addrs, unsigned int n, __u16 port)
{
	struct backend be[CANARY_MAX_BACKENDS] = {};

	assert_true(n <= CANARY_MAX_BACKENDS);
	for (unsigned int i = 0; i < n; i++) {
		assert_int_equal(addr_parse(addrs[i], be[i].addr), 0);
		be[i].port = port;
	}
	assert_int_equal(pool_publish(&env->dp, svc->id, version, be, n), 0);
}

const char *env_backend_addr(char *buf, size_t len, bool v4, unsigned int nn)
{
	snprintf(buf, len, v4 ? "192.0.2.%u" : "2001:db8:2::%u", nn);
	return buf;
}

int env_try_send(struct dp_env *env, const struct pkt_spec *s, struct verdict *v)
{
	__u8 in[PKT_MAX], out[PKT_MAX];
	size_t len = pkt_build(s, in), l3 = pkt_l3_offset(s), l4 = pkt_l4_offset(s);
	__u32 out_len;
	int err;

	err = env_try_run_from(env, env->if_client, in, len, out, &out_len, &v->action);
	if (err)
		return err;
	if (out_len != len)
		return -EMSGSIZE;
	if (spec_is_v4(s)) {
		memcpy(v->daddr, s->daddr, 12);	/* the IPv4-mapped prefix */
		memcpy(v->daddr + 12, out + l3 + 16, 4);
	} else {
		memcpy(v->daddr, out + l3 + 24, 16);
	}
	v->dport = (__u16)(out[l4 + 2] << 8 | out[l4 + 3]);
	return 0;
}

struct verdict env_send(struct dp_env *env, const struct pkt_spec *s)
{
	struct verdict v = {};

	assert_int_equal(env_try_send(env, s, &v), 0);
	return v;
}
