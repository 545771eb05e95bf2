// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xdp-canary datapath.
 *
 * XDP, on the interfaces clients and remote backends are reached by: client packets to a service
 * VIP are split between the stable and the canary pool by weight, pinned per flow, rewritten to
 * the chosen backend and forwarded; replies of remote backends are rewritten back to the VIP and
 * forwarded to the client.
 *
 * TC egress, for backends on this host: their replies are generated here and never cross XDP,
 * so they are rewritten back to the VIP on their way out.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "canary_abi.h"
#include "config.h"
#include "maps.h"
#include "parse.h"
#include "svc.h"
#include "decide.h"
#include "nat.h"
#include "fwd.h"
#include "conn.h"
#include "icmp.h"
#include "tc_nat.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define SECOND_NS	1000000000ULL

enum pin_verdict {
	PIN_KEEP,	/* the flow stays where it is */
	PIN_LAST,	/* the flow's last packet: forward it, then retire the flow */
	PIN_AGAIN,	/* decide again: a hard rollback, or a new connection on a closed tuple */
	PIN_EXPIRED,	/* decide again: an idle UDP flow */
};

/*
 * Whether a known flow keeps its version and backend: yes, unless it is a canary flow from
 * before a hard rollback (an older generation), a UDP flow idle for too long, or a SYN on a
 * connection both sides have closed or on a midstream flow: a new connection on that tuple,
 * with a handshake of its own to time.
 */
static __always_inline enum pin_verdict flow_pin(const struct pkt *p, struct flow_val *cached,
						 const struct flow_val *fv,
						 const struct svc_state *st)
{
	if (fv->version == CANARY_V_CANARY && fv->gen != st->gen)
		return PIN_AGAIN;
	if (p->key.proto == IPPROTO_UDP) {
		__u64 now = bpf_ktime_get_coarse_ns();

		if (now - fv->last_ns > cfg_udp_idle_ns)
			return PIN_EXPIRED;
		if (now - fv->last_ns > SECOND_NS)
			cached->last_ns = now;	/* to a second: one write a second, not a packet */
		return PIN_KEEP;
	}
	if ((p->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN &&
	    (fv->flags & (CANARY_FLOW_CLOSED | CANARY_FLOW_MIDSTREAM)))
		return PIN_AGAIN;
	return (fv->flags & CANARY_FLOW_CLOSED) ? PIN_LAST : PIN_KEEP;
}

static __always_inline void svc_key_of(struct svc_key *sk, const struct flow_key *k)
{
	__builtin_memcpy(sk->addr, k->dst, 16);
	sk->port = k->dport;
	sk->proto = k->proto;
	sk->pad = 0;
}

/*
 * Counts, rewrites and forwards a packet of a decided flow. @cached is its entry in the flow
 * table, NULL for a flow decided by this very packet.
 */
static __always_inline int flow_forward(struct xdp_md *ctx, struct pkt *p, struct flow_val *cached,
					const struct flow_val *fv, const struct svc_state *st,
					bool retire, bool overridden, __u64 bytes, const bool v4)
{
	__u32 be_idx = be_index(fv->svc_id, fv->version, fv->be_slot);
	struct ver_stats *vs = ver_stats_of(fv->svc_id, fv->version);
	struct be_stats *bs = bpf_map_lookup_elem(&be_stats, &be_idx);
	__u32 egress = 0;
	struct flow_key rk;
	int act;

	if (!vs || !bs)
		return XDP_PASS;	/* id out of range: user space wrote a bad entry */
	vs->packets++;
	vs->bytes += bytes;
	bs->packets++;
	bs->bytes += bytes;
	if (!cached) {
		vs->new_flows++;
		vs->override_flows += overridden;
		bs->new_flows++;
	} else if (p->key.proto == IPPROTO_TCP) {
		retire |= conn_from_client(p, cached, fv, st->flags, vs);
	}
	nat_rewrite(p, fv->nat_addr, fv->nat_port, true, v4);
	act = fwd_to_backend(ctx, p, fv, be_idx, vs, &egress, v4);
	if (!cached)
		conn_open(p, fv, egress, bpf_ktime_get_ns());
	if (retire) {
		reply_key_of(&rk, &p->key, fv);
		conn_retire(&p->key, &rk);
	}
	return act;
}

/* A flow the table does not know (or must decide again): version, then backend. */
static __always_inline int flow_decide(struct xdp_md *ctx, struct pkt *p, __u64 bytes,
				       const bool v4)
{
	bool overridden = false;
	struct svc_state st;
	struct flow_val fv;
	struct svc_key sk;
	struct svc_val *sv;
	__u8 version;

	svc_key_of(&sk, &p->key);
	sv = bpf_map_lookup_elem(&svc, &sk);
	if (!sv || !svc_state_of(sv->id, &st))
		return XDP_PASS;
	version = pick_version(&p->key, sv->id, &st, &overridden);
	if (!pick_backend(&p->key, sv->id, &st, version, &fv)) {
		if (!pick_fallback(&p->key, sv->id, &st, version, &fv))
			return XDP_DROP;
		overridden = false;	/* the override's version could not take it */
	}
	fv.last_ns = bpf_ktime_get_coarse_ns();
	conn_mark_midstream(p, &fv);
	/* If the table is full the LRU evicts; on any failure the packet still goes. */
	bpf_map_update_elem(&flows, &p->key, &fv, BPF_ANY);
	return flow_forward(ctx, p, NULL, &fv, &st, false, overridden, bytes, v4);
}

/* A backend's reply, seen on its way in (remote backends): back to the VIP, on to the client. */
static __always_inline int reply_xdp(struct xdp_md *ctx, struct pkt *p, struct flow_val *rev,
				     __u64 bytes, const bool v4)
{
	struct ver_stats *vs;
	struct flow_val rv;
	bool retire;
	int act;

	vs = conn_reply(p, rev, &rv, bytes, &retire);
	if (!vs)
		return XDP_PASS;
	nat_rewrite(p, rv.nat_addr, rv.nat_port, false, v4);
	act = fwd_to_client(ctx, p, vs, v4);
	if (retire)
		conn_retire_by_reply(&p->key, &rv);
	return act;
}

/*
 * One flow lookup serves both directions: a client packet finds its forward entry, a backend's
 * reply its reply entry. A known flow needs neither the service hash nor a decision.
 */
static __always_inline int ip_packet(struct xdp_md *ctx, struct pkt *p, __u64 bytes,
				     const bool v4)
{
	struct flow_val fv, *cached;
	enum pin_verdict pin;
	struct svc_state st;
	bool to_svc;
	int rc;

	rc = parse_l3_l4(p, v4);
	if (rc == PARSE_ICMP)
		icmp_seen(p, bytes, ctx->ingress_ifindex, v4, true);
	if (rc != PARSE_OK) {
		if (rc >= 0)
			count_passed(rc, bytes);
		return XDP_PASS;
	}
	to_svc = svc_filter_hit(&p->key);
	if (!to_svc && !be_filter_hit(&p->key))
		return XDP_PASS;
	cached = bpf_map_lookup_elem(&flows, &p->key);
	if (cached && (cached->flags & CANARY_FLOW_REPLY)) {
		if (!reply_side_ok(cached, ctx->ingress_ifindex)) {
			count_passed(CANARY_DP_REPLY_WRONG_SIDE, bytes);
			return XDP_PASS;
		}
		return reply_xdp(ctx, p, cached, bytes, v4);
	}
	if (!to_svc) {
		count_passed(CANARY_DP_REPLY_NO_FLOW, bytes);
		return XDP_PASS;
	}
	if (cached) {
		fv = *cached;
		if (svc_state_of(fv.svc_id, &st)) {
			pin = flow_pin(p, cached, &fv, &st);
			if (pin == PIN_KEEP || pin == PIN_LAST)
				return flow_forward(ctx, p, cached, &fv, &st, pin == PIN_LAST,
						    false, bytes, v4);
			if (pin == PIN_EXPIRED) {
				struct ver_stats *vs = ver_stats_of(fv.svc_id, fv.version);

				if (vs)
					vs->flows_expired++;
			}
		}
	}
	return flow_decide(ctx, p, bytes, v4);
}

SEC("xdp")
int xdp_canary_fwd(struct xdp_md *ctx)
{
	struct pkt p = {
		.data = (void *)(long)ctx->data,
		.data_end = (void *)(long)ctx->data_end,
	};
	__u64 bytes = p.data_end - p.data;
	__be16 proto;
	int rc;

	p.len = bytes;
	rc = parse_l2(&p, &proto);
	if (rc != PARSE_OK) {
		count_passed(rc, bytes);
		return XDP_PASS;
	}
	if (proto == bpf_htons(ETH_P_IP))
		return ip_packet(ctx, &p, bytes, true);
	if (proto == bpf_htons(ETH_P_IPV6))
		return ip_packet(ctx, &p, bytes, false);
	return XDP_PASS;
}

static __always_inline int tc_ip_packet(struct __sk_buff *skb, struct pkt *p, const bool v4)
{
	__u64 bytes = skb->len;
	struct flow_val rv, *rev;
	bool retire;
	int rc;

	rc = parse_l3_l4(p, v4);
	if (rc == PARSE_ICMP)
		icmp_seen(p, bytes, 0, v4, false);	/* a local backend's port unreachable */
	if (rc != PARSE_OK || !be_filter_hit(&p->key))
		return TC_ACT_OK;
	rev = bpf_map_lookup_elem(&flows, &p->key);
	if (!rev || !(rev->flags & CANARY_FLOW_REPLY)) {
		count_passed(CANARY_DP_REPLY_NO_FLOW, bytes);
		return TC_ACT_OK;
	}
	conn_reply(p, rev, &rv, bytes, &retire);
	/* Packet pointers are stale from here on. */
	if (tc_snat(skb, p, &rv, v4)) {
		/* Half rewritten, it would leave with the backend's address or a bad checksum. */
		count_passed(CANARY_DP_TC_REWRITE_FAIL, bytes);
		return TC_ACT_SHOT;
	}
	if (retire)
		conn_retire_by_reply(&p->key, &rv);
	return TC_ACT_OK;
}

SEC("tc")
int tc_canary_reply(struct __sk_buff *skb)
{
	struct pkt p = {};
	__be16 proto;

	/* Headers and the first bytes of data must be readable in place. */
	if (skb->len > skb->data_end - skb->data)
		bpf_skb_pull_data(skb, skb->len < TC_PULL_LEN ? skb->len : TC_PULL_LEN);
	/* Context fields are read at a constant offset of the context itself, or not at all. */
	barrier_var(skb);
	p.data = (void *)(long)skb->data;
	p.data_end = (void *)(long)skb->data_end;
	p.len = skb->len;
	if (parse_l2(&p, &proto) != PARSE_OK)
		return TC_ACT_OK;
	if (proto == bpf_htons(ETH_P_IP))
		return tc_ip_packet(skb, &p, true);
	if (proto == bpf_htons(ETH_P_IPV6))
		return tc_ip_packet(skb, &p, false);
	return TC_ACT_OK;
}
