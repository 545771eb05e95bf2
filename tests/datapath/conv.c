// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* One connection through the splitter, driven from both ends (see conv.h). */
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

static const __u8 mac_xc0[6] = MAC_XC0;
static const __u8 mac_client[6] = MAC_CLIENT;

struct pkt_spec conv_spec(const struct conv *c, bool from_client, __u8 flags,
			  const char *payload)
{
	struct pkt_spec s;

	if (from_client)
		pkt_spec_init(&s, c->client, c->cport, c->vip, c->vport, c->proto);
	else
		pkt_spec_init(&s, c->backend, c->bport, c->client, c->cport, c->proto);
	s.tcp_flags = flags;
	s.payload = payload;
	s.payload_len = payload ? strlen(payload) : 0;
	return s;
}

void conv_start(struct conv *c, struct dp_env *env, __u32 svc_flags)
{
	const char *backends[] = { c->backend };
	struct test_svc svc;

	c->env = env;
	env_svc(env, &svc, c->vip, c->vport, c->proto, SVC, 0);
	svc.st.flags |= svc_flags;
	env_svc_update(env, &svc);
	env_pool(env, &svc, CANARY_V_STABLE, backends, 1, c->bport);
}

__u32 client_sends(struct conv *c, __u8 flags, const char *payload)
{
	struct pkt_spec s = conv_spec(c, true, flags, payload);
	__u8 in[PKT_MAX], out[PKT_MAX];
	__u32 out_len;

	return env_run(c->env, in, pkt_build(&s, in), out, &out_len);
}

/* The backend's packet through the reply path; @out gets what leaves. */
__u32 backend_sends(struct conv *c, __u8 flags, const char *payload, __u8 *out,
		    __u32 *out_len)
{
	struct pkt_spec s = conv_spec(c, false, flags, payload);
	__u8 in[PKT_MAX];
	size_t len = pkt_build(&s, in);

	if (c->local)
		return env_run_tc(c->env, in, len, out, out_len);
	return env_run_from(c->env, c->env->if_backend, in, len, out, out_len);
}

void backend_says(struct conv *c, __u8 flags, const char *payload)
{
	__u8 out[PKT_MAX];
	__u32 out_len;

	backend_sends(c, flags, payload, out, &out_len);
}

void conv_handshake(struct conv *c)
{
	client_sends(c, F_SYN, NULL);
	backend_says(c, F_SYN | F_ACK, NULL);
	client_sends(c, F_ACK, NULL);
}

struct ver_stats conv_stats(struct conv *c)
{
	struct ver_stats vs;

	assert_int_equal(stats_ver(&c->env->dp, SVC, CANARY_V_STABLE, &vs), 0);
	return vs;
}

__u64 hist_count(struct conv *c, enum canary_hist_kind kind)
{
	struct lat_hist h;
	__u64 sum = 0;

	assert_int_equal(stats_hist(&c->env->dp, SVC, CANARY_V_STABLE, kind, &h), 0);
	for (int b = 0; b < CANARY_HIST_BUCKETS; b++)
		sum += h.bucket[b];
	assert_int_equal(sum, h.count);
	return h.count;
}

struct flow_key conv_key(struct conv *c)
{
	struct pkt_spec s = conv_spec(c, true, 0, NULL);
	struct flow_key k = { .proto = c->proto };

	memcpy(k.src, s.saddr, 16);
	memcpy(k.dst, s.daddr, 16);
	k.sport = s.sport;
	k.dport = s.dport;
	return k;
}

/* The connection's entry in flows, if the table has it. */
bool flow_entry(struct conv *c, struct flow_val *v)
{
	struct flow_key k = conv_key(c);

	return bpf_map_lookup_elem(bpf_map__fd(c->env->dp.skel->maps.flows), &k, v) == 0;
}

bool flow_present(struct conv *c)
{
	struct flow_val v;

	return flow_entry(c, &v);
}

/* The connection's handshake, if it waits in the SYN cache. */
bool syn_entry_of(struct conv *c, struct syn_entry *e)
{
	struct flow_key k = conv_key(c);
	__u32 slot = syn_slot_of(c);

	if (slot == SYN_NO_SLOT)
		return false;
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(c->env->dp.skel->maps.syn_cache), &slot,
					     e), 0);
	return !memcmp(&e->key, &k, sizeof(k));
}

__u32 syn_slot_of(struct conv *c)
{
	struct flow_key k = conv_key(c);
	__u32 slot = canary_syn_slot(canary_syn_key_hash(&k));
	struct syn_entry e;

	for (int way = 0; way < 2; way++, slot ^= 1) {
		assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(c->env->dp.skel->maps.syn_cache),
						     &slot, &e), 0);
		if (!memcmp(&e.key, &k, sizeof(k)))
			return slot;
	}
	return SYN_NO_SLOT;
}

bool syn_pending(struct conv *c)
{
	struct syn_entry e;

	return syn_entry_of(c, &e);
}

/* The connection is gone: from flows, and from the SYN cache. */
void assert_retired(struct conv *c)
{
	assert_false(flow_present(c));
	assert_false(syn_pending(c));
}

/* Whether the connection's entry is there, and marked midstream or not as @want. */
void assert_midstream(struct conv *c, bool want)
{
	struct flow_val fv;

	assert_true(flow_entry(c, &fv));
	assert_int_equal(!!(fv.flags & CANARY_FLOW_MIDSTREAM), want);
}

/*
 * The golden reply: the backend's packet, now from the VIP. Forwarded by XDP, it also has the
 * client's MAC and one hop less; TC egress leaves both to the stack.
 */
void golden_reply(struct conv *c, __u8 flags, __u32 want_action)
{
	struct pkt_spec exp = conv_spec(c, false, flags, NULL);
	__u8 out[PKT_MAX], want[PKT_MAX];
	__u32 out_len;

	assert_int_equal(backend_sends(c, flags, NULL, out, &out_len), want_action);
	assert_int_equal(addr_parse(c->vip, exp.saddr), 0);
	exp.sport = c->vport;
	if (!c->local) {
		memcpy(exp.dmac, mac_client, 6);
		memcpy(exp.smac, mac_xc0, 6);
		exp.ttl = 63;
	}
	assert_packet_equal(out, out_len, want, pkt_build(&exp, want));
	assert_true(pkt_csums_ok(out, out_len));
}

