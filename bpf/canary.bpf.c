// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xdp-canary datapath.
 *
 * The forward path, on the interfaces clients and remote backends are reached by: client
 * packets to a service VIP are split between the stable and the canary pool by weight, pinned per
 * flow, rewritten to the chosen backend and forwarded; replies of remote backends are rewritten
 * back to the VIP and forwarded to the client. One source, two entry points: XDP (the fast one)
 * and TC ingress (veth with local senders, whose partial checksums XDP cannot see).
 *
 * TC egress, for backends on this host: their replies are generated here and never cross XDP,
 * so they are rewritten back to the VIP on their way out.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_core_read.h>

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

enum pin_verdict {
	PIN_KEEP,	/* the flow stays where it is */
	PIN_LAST,	/* the flow's last packet: forward it, then retire the flow */
	PIN_AGAIN,	/* decide again: a hard rollback */
	PIN_NEW,	/* a new connection on a closed tuple: a handshake of its own */
	PIN_EXPIRED,	/* decide again: an idle UDP flow */
};

/*
 * Whether a known flow keeps its version and backend: yes, unless it is a canary flow from
 * before a hard rollback (an older generation), a UDP flow idle for too long, or a SYN on a
 * connection both sides have closed or on a midstream flow: a new connection on that tuple,
 * with a handshake of its own to time.
 */
static __always_inline enum pin_verdict flow_pin(const struct pkt *p, struct flow_val *fe,
						 const struct flow_val *fv,
						 const struct svc_state *st)
{
	__u64 now = bpf_ktime_get_coarse_ns();

	if (fv->version == CANARY_V_CANARY && fv->gen != st->gen)
		return PIN_AGAIN;
	if (p->key.proto == IPPROTO_UDP && now - fv->last_ns > cfg_udp_idle_ns)
		return PIN_EXPIRED;
	conn_touch(fe, now);
	if (p->key.proto == IPPROTO_UDP)
		return PIN_KEEP;
	if ((p->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN &&
	    (fv->flags & (CANARY_FLOW_CLOSED | CANARY_FLOW_MIDSTREAM)))
		return PIN_NEW;
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
 * The forward path first works out what a packet's flow is (a plan), then sends it from one
 * place, then does what the plan says must follow, once the packet is on its way and its egress
 * is known: one copy of the rewrite and forwarding code per family, not one per case.
 */
#define PLAN_SEND	(-1)	/* returned by the planning steps: send as planned */

enum fwd_after {
	AFTER_NOTHING,
	AFTER_RETIRE,		/* the flow's last packet: its entry goes */
	AFTER_SYN,		/* a new handshake: its decision goes into the SYN cache */
	AFTER_OPEN,		/* a new flow: its decision goes into flows */
};

struct fwd_plan {
	struct flow_val *fv;	/* the flow: a copy of its entry, or a decision (conn_room) */
	struct ver_stats *vs;
	struct conn_room *room;	/* room->after: what follows the send, an enum fwd_after */
	__u32 syn_hash;		/* AFTER_SYN: the key's SYN cache hash */
};

/* A packet of a connection in flows (@fe). */
static __always_inline int plan_pinned(const struct pkt *p, struct flow_val *fe,
				       const struct svc_state *st, bool retire,
				       struct fwd_plan *pl)
{
	pl->vs = ver_stats_of(pl->fv->svc_id, pl->fv->version);
	if (!pl->vs)
		return XDP_PASS;	/* id out of range: user space wrote a bad entry */
	if (p->key.proto == IPPROTO_TCP)
		retire |= conn_from_client(p, fe, st->flags, pl->vs);
	pl->room->after = retire ? AFTER_RETIRE : AFTER_NOTHING;
	return PLAN_SEND;
}

/*
 * Version, then backend, for a flow to the service @p is addressed to: PLAN_SEND and pl->fv,
 * pl->vs, or what to do with the packet (not a service: pass; no backend in either pool: drop).
 */
static __always_inline int plan_choose(struct pkt *p, struct fwd_plan *pl)
{
	bool overridden = false;
	struct svc_state st;
	struct svc_key sk;
	struct svc_val *sv;
	__u8 version;

	svc_key_of(&sk, &p->key);
	sv = bpf_map_lookup_elem(&svc, &sk);
	if (!sv || !svc_state_of(sv->id, &st))
		return XDP_PASS;
	version = pick_version(&p->key, sv->id, &st, &overridden);
	if (!pick_backend(&p->key, sv->id, &st, version, pl->fv)) {
		if (!pick_fallback(&p->key, sv->id, &st, version, pl->fv))
			return XDP_DROP;
		overridden = false;	/* the override's version could not take it */
	}
	if (overridden)
		pl->fv->flags = CANARY_FLOW_OVERRIDDEN;
	pl->fv->last_ns = bpf_ktime_get_coarse_ns();
	conn_mark_midstream(p, pl->fv);
	pl->vs = ver_stats_of(pl->fv->svc_id, pl->fv->version);
	return pl->vs ? PLAN_SEND : XDP_PASS;
}

/*
 * A flow decided now and kept in flows from its first packet on: UDP, a TCP flow met without
 * its handshake (midstream), or a known flow decided @again.
 */
static __always_inline int plan_open(struct pkt *p, bool again, struct fwd_plan *pl)
{
	int rc = plan_choose(p, pl);

	if (rc != PLAN_SEND)
		return rc;
	if ((pl->fv->flags & CANARY_FLOW_MIDSTREAM) && !again)
		pl->vs->midstream++;
	else
		conn_count_new(&pl->fv->flags, pl->fv, pl->vs);
	pl->room->after = AFTER_OPEN;
	return PLAN_SEND;
}

/* A SYN of a new connection: decided, and its decision kept in the SYN cache, not in flows. */
static __always_inline int plan_syn(struct pkt *p, struct fwd_plan *pl)
{
	int rc = plan_choose(p, pl);

	if (rc != PLAN_SEND)
		return rc;
	pl->vs->syns++;
	pl->room->after = AFTER_SYN;
	return PLAN_SEND;
}

/*
 * The client's ACK of the SYN-ACK (or any packet but a SYN or RST) completes the handshake: the
 * SYN cache's decision moves into flows. Whatever the weight did since the SYN, the connection
 * stays where its SYN went. With no room in flows, it is served from the SYN cache.
 */
static __always_inline int plan_promote(const struct pkt *p, struct syn_entry *se,
					struct fwd_plan *pl)
{
	struct svc_state st;
	struct flow_val *fe;

	conn_count_new(&se->fv.flags, pl->fv, pl->vs);
	pl->fv->flags = se->fv.flags;
	pl->fv->last_ns = bpf_ktime_get_coarse_ns();
	if (bpf_map_update_elem(&flows, &p->key, pl->fv, BPF_ANY)) {
		pl->vs->table_full++;
		return PLAN_SEND;
	}
	syn_clear(se);
	fe = bpf_map_lookup_elem(&flows, &p->key);
	if (!fe)
		return PLAN_SEND;
	svc_state_of(pl->fv->svc_id, &st);
	return plan_pinned(p, fe, &st, false, pl);
}

/* A TCP packet of a connection that is not in flows. */
static __always_inline int plan_tcp_unknown(struct pkt *p, struct fwd_plan *pl)
{
	__u8 fl = p->tcp_flags;
	struct syn_entry *se;

	pl->room->after = AFTER_NOTHING;
	pl->syn_hash = dp_syn_key_hash(&p->key);
	se = syn_find(&p->key, pl->syn_hash, pl->fv);
	if (!se) {
		if ((fl & (TCP_SYN | TCP_ACK)) == TCP_SYN)
			return plan_syn(p, pl);
		return plan_open(p, false, pl);
	}
	pl->vs = ver_stats_of(pl->fv->svc_id, pl->fv->version);
	if (!pl->vs)
		return XDP_PASS;
	if (!(fl & (TCP_SYN | TCP_RST)))
		return plan_promote(p, se, pl);
	/* A retransmitted SYN goes where the first went; a client's RST ends the handshake. */
	conn_check_syn_late(&se->fv, pl->vs, bpf_ktime_get_ns());
	if (fl & TCP_RST)
		syn_clear(se);
	return PLAN_SEND;
}

/* A packet to a service from a flow that flows has no entry for. */
static __always_inline int plan_unknown(struct pkt *p, struct fwd_plan *pl)
{
	if (p->key.proto == IPPROTO_TCP)
		return plan_tcp_unknown(p, pl);
	return plan_open(p, false, pl);
}

/* A packet to a service whose flow is in flows (@fe). */
static __always_inline int plan_known(struct pkt *p, struct flow_val *fe, struct fwd_plan *pl)
{
	enum pin_verdict pin;
	struct svc_state st;

	*pl->fv = *fe;
	if (!svc_state_of(pl->fv->svc_id, &st))
		return plan_open(p, true, pl);
	pin = flow_pin(p, fe, pl->fv, &st);
	switch (pin) {
	case PIN_KEEP:
	case PIN_LAST:
		return plan_pinned(p, fe, &st, pin == PIN_LAST, pl);
	case PIN_NEW:
		bpf_map_delete_elem(&flows, &p->key);
		return plan_tcp_unknown(p, pl);
	case PIN_EXPIRED:
		pl->vs = ver_stats_of(pl->fv->svc_id, pl->fv->version);
		if (pl->vs)
			pl->vs->flows_expired++;
		break;
	default:
		break;
	}
	return plan_open(p, true, pl);
}

/*
 * Rewrites the packet as @to says: in place with incremental checksums (XDP), or with the
 * kernel's helpers (TC), which know partial and complete checksums. Returns 0, or -1: a TC packet
 * half rewritten, counted, to be dropped.
 */
static __always_inline int pkt_rewrite(void *ctx, struct pkt *p, const struct nat_to *to,
				       __u64 bytes, const bool v4, const bool tc)
{
	if (!tc) {
		nat_rewrite(p, to->addr, to->port, to->dst, v4);
		return 0;
	}
	if (!tc_nat(ctx, p, to, v4))
		return 0;
	count_passed(CANARY_DP_TC_REWRITE_FAIL, bytes);
	return -1;
}

/*
 * Counts the packet, forwards it, rewrites it; then what the plan says follows. The way out is
 * found first, with the rewrite's new destination: TC's rewrite leaves the packet's pointers
 * stale.
 */
static __always_inline int fwd_planned(void *ctx, struct pkt *p, struct fwd_plan *pl,
				       __u64 bytes, const bool v4, const bool tc)
{
	__u32 be_idx = be_index(pl->fv->svc_id, pl->fv->version, pl->fv->be_slot);
	struct nat_to to = { .addr = pl->fv->nat_addr, .port = pl->fv->nat_port, .dst = true };
	struct be_stats *bs = bpf_map_lookup_elem(&be_stats, &be_idx);
	struct ver_stats *vs = pl->vs;
	__u32 egress = 0;
	int act;

	vs->packets++;
	vs->bytes += bytes;
	if (bs) {
		bs->packets++;
		bs->bytes += bytes;
	}
	act = fwd_to_backend(ctx, p, pl->fv, be_idx, vs, &egress, v4, tc);
	if (pkt_rewrite(ctx, p, &to, bytes, v4, tc))
		return XDP_DROP;
	/*
	 * Read back from map memory, the after-action is a value the verifier does not know: what
	 * follows the send is verified once, not once for each way a plan can be made.
	 */
	switch (*(volatile __u32 *)&pl->room->after) {
	case AFTER_RETIRE:
		bpf_map_delete_elem(&flows, &p->key);
		break;
	case AFTER_SYN:
		pl->fv->be_ifindex = egress;
		pl->fv->syn_ns = bpf_ktime_get_ns();
		syn_store(&p->key, pl->syn_hash, pl->fv, bytes);
		break;
	case AFTER_OPEN:
		pl->fv->be_ifindex = egress;
		if (bpf_map_update_elem(&flows, &p->key, pl->fv, BPF_ANY))
			vs->table_full++;
		break;
	default:
		break;
	}
	return act;
}

/* A backend's reply, seen on its way in (remote backends): back to the VIP, on to the client. */
static __always_inline int reply_in(void *ctx, struct pkt *p, struct conn_ref *c, __u64 bytes,
				    const bool v4, const bool tc)
{
	struct nat_to to = { .addr = c->fk->dst, .port = c->fk->dport, .dst = false };
	struct ver_stats *vs;
	bool retire;
	int act;

	if (!reply_side_ok(conn_ref_val(c), hook_ifindex(ctx, tc))) {
		count_passed(CANARY_DP_REPLY_WRONG_SIDE, bytes);
		return XDP_PASS;
	}
	vs = conn_reply(p, c, bytes, &retire);
	if (!vs)
		return XDP_PASS;
	act = fwd_to_client(ctx, p, vs, c->fk, v4, tc);
	if (pkt_rewrite(ctx, p, &to, bytes, v4, tc))
		return XDP_DROP;
	if (retire)
		bpf_map_delete_elem(&flows, c->fk);
	return act;
}

#define REPLY_NONE	(-1)	/* not a reply of any connection */

/* A packet from a backend's address and port: a reply, or REPLY_NONE. */
static __always_inline int reply_packet(void *ctx, struct pkt *p, struct conn_ref *c,
					__u64 bytes, const bool v4, const bool tc)
{
	if (!reply_find(&p->key, c, CONN_ROOM_INGRESS))
		return REPLY_NONE;
	return reply_in(ctx, p, c, bytes, v4, tc);
}

/* A packet to a service: its flow looked up, planned, then sent. */
static __always_inline int fwd_packet(void *ctx, struct pkt *p, const bool v4, const bool tc)
{
	struct flow_val *fe = bpf_map_lookup_elem(&flows, &p->key);
	__u64 bytes = p->len;
	__u32 hook = CONN_ROOM_INGRESS;
	struct fwd_plan pl = {};
	struct conn_room *r;
	int rc;

	r = bpf_map_lookup_elem(&conn_room, &hook);
	if (!r)
		return XDP_PASS;
	pl.fv = &r->plan;
	pl.room = r;

	rc = fe ? plan_known(p, fe, &pl) : plan_unknown(p, &pl);
	if (rc != PLAN_SEND)
		return rc;
	return fwd_planned(ctx, p, &pl, bytes, v4, tc);
}

#define FRAME_OURS	(-1)
#define PACKET_FWD	(-2)	/* ip_packet(): a packet for the forward path */

/*
 * Whether the frame is addressed to the interface: FRAME_OURS, or what to do with a frame for
 * another host (a promiscuous interface, a bridge port) that must not be split.
 */
static __always_inline int frame_check(void *ctx, const struct pkt *p, __u64 bytes,
				       const bool tc)
{
	__u32 ifindex = hook_ifindex(ctx, tc);
	struct if_cfg *ic = bpf_map_lookup_elem(&if_cfg, &ifindex);
	const __u8 *d = p->eth->h_dest;

	if (!ic || (*(__u32 *)d == *(__u32 *)ic->mac && *(__u16 *)(d + 4) == *(__u16 *)&ic->mac[4]))
		return FRAME_OURS;
	if (ic->flags & CANARY_IF_F_DROP_OTHER_HOST) {
		count_passed(CANARY_DP_OTHER_HOST_DROP, bytes);
		return XDP_DROP;
	}
	count_passed(CANARY_DP_OTHER_HOST, bytes);
	return XDP_PASS;
}

/* A packet to a service alone: PACKET_FWD, or what frame_check() says of another host's. */
static __always_inline int frame_check_fwd(void *ctx, const struct pkt *p, __u64 bytes,
					   const bool tc)
{
	int rc = frame_check(ctx, p, bytes, tc);

	return rc == FRAME_OURS ? PACKET_FWD : rc;
}

/* A multi-buffer frame whose headers the first buffer does not hold is not truncated. */
static __always_inline __u32 parse_reason(const struct pkt *p, int rc)
{
	if (rc == CANARY_DP_TRUNCATED && p->len > p->data_end - p->data)
		return CANARY_DP_SPLIT_HEADERS;
	return rc;
}

/*
 * What a TCP or UDP packet is: a client's to a service (PACKET_FWD), a backend's reply, which
 * is sent here, or neither. A packet both to a service and from a backend (a backend that is a
 * client too) is a reply only if it is not a known flow of its own.
 * Returns an XDP action or PACKET_FWD; the TC entry point translates it.
 */
static __always_inline int ip_packet(void *ctx, struct pkt *p, const bool v4, const bool tc)
{
	struct conn_ref c;	/* an ICMP error's flow, or a reply's: one room for both */
	__u64 bytes = p->len;
	bool to_svc;
	int rc;

	rc = parse_l3_l4(p, v4);
	if (rc == PARSE_ICMP && frame_check(ctx, p, bytes, tc) == FRAME_OURS &&
	    conn_ref_init(&c, CONN_ROOM_INGRESS))
		icmp_seen(p, &c, bytes, hook_ifindex(ctx, tc), v4, true);
	if (rc != PARSE_OK) {
		if (rc >= 0)
			count_passed(parse_reason(p, rc), bytes);
		return XDP_PASS;
	}
	to_svc = svc_filter_hit(&p->key);
	if (!be_filter_hit(&p->key))
		return to_svc ? frame_check_fwd(ctx, p, bytes, tc) : XDP_PASS;
	rc = frame_check(ctx, p, bytes, tc);
	if (rc != FRAME_OURS)
		return rc;
	if (to_svc && bpf_map_lookup_elem(&flows, &p->key))
		return PACKET_FWD;
	if (conn_ref_init(&c, CONN_ROOM_INGRESS)) {
		rc = reply_packet(ctx, p, &c, bytes, v4, tc);
		if (rc != REPLY_NONE)
			return rc;
	}
	if (to_svc)
		return PACKET_FWD;
	count_passed(CANARY_DP_REPLY_NO_FLOW, bytes);
	return XDP_PASS;
}

/*
 * A function of its own for each family and hook: the paths never meet, and each hook's helpers
 * stay out of the other's program. The forward path is called by the entry point, not from
 * here: the two frames' stacks then never add up (the reply's scan is one call deeper).
 */
static __noinline int xdp_ip4(struct xdp_md *ctx, struct pkt *p)
{
	return ip_packet(ctx, p, true, false);
}

static __noinline int xdp_ip6(struct xdp_md *ctx, struct pkt *p)
{
	return ip_packet(ctx, p, false, false);
}

static __noinline int xdp_fwd4(struct xdp_md *ctx, struct pkt *p)
{
	return fwd_packet(ctx, p, true, false);
}

static __noinline int xdp_fwd6(struct xdp_md *ctx, struct pkt *p)
{
	return fwd_packet(ctx, p, false, false);
}

static __noinline int tc_ip4(struct __sk_buff *skb, struct pkt *p)
{
	return ip_packet(skb, p, true, true);
}

static __noinline int tc_ip6(struct __sk_buff *skb, struct pkt *p)
{
	return ip_packet(skb, p, false, true);
}

static __noinline int tc_fwd4(struct __sk_buff *skb, struct pkt *p)
{
	return fwd_packet(skb, p, true, true);
}

static __noinline int tc_fwd6(struct __sk_buff *skb, struct pkt *p)
{
	return fwd_packet(skb, p, false, true);
}

/*
 * The whole frame's length: with multi-buffer XDP (xdp.frags, Linux 5.18), data_end ends the
 * first buffer only. Older kernels load the program without frags, and have one buffer.
 */
static __always_inline __u32 xdp_frame_len(struct xdp_md *ctx, const struct pkt *p)
{
	if (bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_xdp_get_buff_len))
		return bpf_xdp_get_buff_len(ctx);
	return p->data_end - p->data;
}

SEC("xdp.frags")
int xdp_canary_fwd(struct xdp_md *ctx)
{
	struct pkt p = {
		.data = (void *)(long)ctx->data,
		.data_end = (void *)(long)ctx->data_end,
	};
	__be16 proto;
	int rc;

	p.len = xdp_frame_len(ctx, &p);
	rc = parse_l2(&p, &proto);
	if (rc != PARSE_OK) {
		count_passed(parse_reason(&p, rc), p.len);
		return XDP_PASS;
	}
	if (proto == bpf_htons(ETH_P_IP)) {
		rc = xdp_ip4(ctx, &p);
		return rc == PACKET_FWD ? xdp_fwd4(ctx, &p) : rc;
	}
	if (proto == bpf_htons(ETH_P_IPV6)) {
		rc = xdp_ip6(ctx, &p);
		return rc == PACKET_FWD ? xdp_fwd6(ctx, &p) : rc;
	}
	return XDP_PASS;
}

/* Headers and the first bytes of data must be readable in place. */
static __always_inline void tc_pull(struct __sk_buff *skb)
{
	if (skb->len > skb->data_end - skb->data)
		bpf_skb_pull_data(skb, skb->len < TC_PULL_LEN ? skb->len : TC_PULL_LEN);
}

static __always_inline int tc_verdict(int act)
{
	if (act == XDP_DROP)
		return TC_ACT_SHOT;
	return act == XDP_REDIRECT ? TC_ACT_REDIRECT : TC_ACT_OK;
}

/*
 * The forward path at TC ingress, for interfaces XDP cannot serve well: veth with local senders
 * (container hosts), whose packets carry partial checksums that XDP cannot see. Same maps,
 * same decisions, same counters as xdp_canary_fwd.
 */
SEC("tc")
int tc_canary_fwd(struct __sk_buff *skb)
{
	struct pkt p = {};
	__be16 proto;
	int rc;

	tc_pull(skb);
	/* Context fields are read at a constant offset of the context itself, or not at all. */
	barrier_var(skb);
	p.data = (void *)(long)skb->data;
	p.data_end = (void *)(long)skb->data_end;
	p.len = skb->len;
	p.gso = skb->gso_size != 0;
	p.tagged = skb->vlan_present;	/* the kernel took the outer tag off already */
	rc = parse_l2(&p, &proto);
	if (rc != PARSE_OK) {
		count_passed(rc, p.len);
		return TC_ACT_OK;
	}
	if (proto == bpf_htons(ETH_P_IP)) {
		rc = tc_ip4(skb, &p);
		return tc_verdict(rc == PACKET_FWD ? tc_fwd4(skb, &p) : rc);
	}
	if (proto == bpf_htons(ETH_P_IPV6)) {
		rc = tc_ip6(skb, &p);
		return tc_verdict(rc == PACKET_FWD ? tc_fwd6(skb, &p) : rc);
	}
	return TC_ACT_OK;
}

static __always_inline int tc_reply_packet(struct __sk_buff *skb, struct pkt *p, const bool v4)
{
	__u64 bytes = skb->len;
	struct nat_to to;
	struct conn_ref c;
	bool retire;
	int rc;

	if (!conn_ref_init(&c, CONN_ROOM_EGRESS))
		return TC_ACT_OK;
	rc = parse_l3_l4(p, v4);
	if (rc == PARSE_ICMP)
		icmp_seen(p, &c, bytes, 0, v4, false);	/* a local backend's port unreachable */
	if (rc != PARSE_OK || !be_filter_hit(&p->key))
		return TC_ACT_OK;
	if (!reply_find(&p->key, &c, CONN_ROOM_EGRESS)) {
		count_passed(CANARY_DP_REPLY_NO_FLOW, bytes);
		return TC_ACT_OK;
	}
	conn_reply(p, &c, bytes, &retire);
	to = (struct nat_to){ .addr = c.fk->dst, .port = c.fk->dport, .dst = false };
	/* Half rewritten, it would leave with the backend's address or a bad checksum. */
	if (pkt_rewrite(skb, p, &to, bytes, v4, true))
		return TC_ACT_SHOT;
	if (retire)
		bpf_map_delete_elem(&flows, c.fk);
	return TC_ACT_OK;
}

/* TC egress, for backends on this host: their replies, back to the VIP on their way out. */
SEC("tc")
int tc_canary_reply(struct __sk_buff *skb)
{
	struct pkt p = {};
	__be16 proto;

	tc_pull(skb);
	barrier_var(skb);
	p.data = (void *)(long)skb->data;
	p.data_end = (void *)(long)skb->data_end;
	p.len = skb->len;
	if (parse_l2(&p, &proto) != PARSE_OK)
		return TC_ACT_OK;
	if (proto == bpf_htons(ETH_P_IP))
		return tc_reply_packet(skb, &p, true);
	if (proto == bpf_htons(ETH_P_IPV6))
		return tc_reply_packet(skb, &p, false);
	return TC_ACT_OK;
}
