/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A connection through the splitter: its one entry in flows (or, before its handshake
 * completes, in the SYN cache), how a reply finds it, and the events that change it: handshake,
 * FIN, RST, HTTP requests and responses. Both directions update the same entry, so its forward
 * and reply state can never be separated. Shared by the XDP program and the TC egress program.
 */
#ifndef XDP_CANARY_CONN_H
#define XDP_CANARY_CONN_H

#include "canary_abi.h"
#include "config.h"
#include "hist.h"
#include "http.h"
#include "maps.h"
#include "parse.h"
#include "svc.h"
#include "syn.h"

/*
 * tests/selftest.sh builds a datapath that loses every 5xx, to show that the tests notice; no
 * other build defines this.
 */
#ifdef XDP_CANARY_SELFTEST_LOSE_5XX
#define HTTP_5XX_COUNTED 0
#else
#define HTTP_5XX_COUNTED 1
#endif

/*
 * A TCP flow not opened by a SYN is midstream (@fv, yet to be written): a stray segment after a
 * close, which the backend answers with a RST, a spoofed ACK, or a connection older than its
 * entry. None has a handshake to time or to fail.
 */
static __always_inline void conn_mark_midstream(const struct pkt *p, struct flow_val *fv)
{
	if (p->key.proto == IPPROTO_TCP && !(p->tcp_flags & TCP_SYN))
		fv->flags |= CANARY_FLOW_MIDSTREAM;
}

/*
 * The entry's clock (the sweep's, and UDP's idle expiry) moves to a second: one write a
 * second, not one a packet, whichever side sends.
 */
static __always_inline void conn_touch(struct flow_val *fe, __u64 now)
{
	if (now - fe->last_ns > 1000000000ULL)
		fe->last_ns = now;
}

/*
 * Replies are taken only from the interface the flow leaves by towards its backend: one that
 * comes in from the clients' side claiming to be the backend's is forged, and must neither
 * count against a version nor end the flow. Routing must be symmetric for this (it is when
 * the backends' route back to clients is the splitter).
 */
static __always_inline bool reply_side_ok(const struct flow_val *fv, __u32 ingress)
{
	return !fv->be_ifindex || fv->be_ifindex == ingress;
}

/*
 * A connection is one of its version's new flows once, at the first of: its handshake
 * completing, the backend refusing it, the SYN timing out. A SYN alone is not one: spoofed SYNs
 * would dilute every error ratio and fill every min_samples. @flags: the entry's, live.
 */
static __always_inline void conn_count_new(__u32 *flags, const struct flow_val *fv,
					   struct ver_stats *vs)
{
	__u32 idx = be_index(fv->svc_id, fv->version, fv->be_slot);
	struct be_stats *bs;
	__u32 old;

	old = __sync_fetch_and_or(flags, CANARY_FLOW_COUNTED);
	if (old & CANARY_FLOW_COUNTED)
		return;
	vs->new_flows++;
	vs->override_flows += !!(old & CANARY_FLOW_OVERRIDDEN);
	bs = bpf_map_lookup_elem(&be_stats, &idx);
	if (bs)
		bs->new_flows++;
}

/* Counted once per flow: the backend has left the SYN unanswered for too long. */
static __always_inline void conn_check_syn_late(struct flow_val *fv, struct ver_stats *vs,
						__u64 now)
{
	if (fv->flags & (CANARY_FLOW_SYNACK | CANARY_FLOW_SYN_LATE | CANARY_FLOW_MIDSTREAM))
		return;
	if (now - fv->syn_ns < cfg_syn_timeout_ns)
		return;
	if (__sync_fetch_and_or(&fv->flags, CANARY_FLOW_SYN_LATE) & CANARY_FLOW_SYN_LATE)
		return;
	vs->syn_timeout++;
	conn_count_new(&fv->flags, fv, vs);
}

/* The connection is closed: counted once, however it ends (FIN both ways, a RST, or both). */
static __always_inline void conn_closed(struct flow_val *fe, struct ver_stats *vs)
{
	if (!(__sync_fetch_and_or(&fe->flags, CANARY_FLOW_CLOSED) & CANARY_FLOW_CLOSED))
		vs->flows_closed++;
}

/*
 * FIN from one side (@mine); when the other side's FIN is there already, the connection is
 * closed, and a new SYN on the same tuple starts a new flow.
 */
static __always_inline void conn_fin(struct flow_val *fe, __u32 mine, __u32 theirs,
				     struct ver_stats *vs)
{
	__u32 old = __sync_fetch_and_or(&fe->flags, mine);

	if (!(old & theirs) || (old & CANARY_FLOW_CLOSED))
		return;
	conn_closed(fe, vs);
}

/*
 * Client to backend, on a pinned TCP flow (@fe, its entry). Returns true when the flow ends
 * with this packet (RST), to be retired once it is forwarded.
 */
static __always_inline bool conn_from_client(const struct pkt *p, struct flow_val *fe,
					     __u8 svc_flags, struct ver_stats *vs)
{
	__u8 fl = p->tcp_flags;
	bool http_data = (svc_flags & CANARY_SVC_F_HTTP) && p->payload_len;
	__u64 now;

	if (!(fl & (TCP_FIN | TCP_RST | TCP_SYN)) && !http_data)
		return false;
	now = bpf_ktime_get_ns();
	if (fl & (TCP_SYN | TCP_RST))
		conn_check_syn_late(fe, vs, now);
	if (fl & TCP_RST) {
		conn_closed(fe, vs);
		return true;
	}
	if (fl & TCP_FIN)
		conn_fin(fe, CANARY_FLOW_FIN_CLIENT, CANARY_FLOW_FIN_BACKEND, vs);
	if (http_data && !(fe->flags & CANARY_FLOW_REQ_PENDING)) {
		fe->req_ns = now;
		__sync_fetch_and_or(&fe->flags, CANARY_FLOW_REQ_PENDING);
	}
	return false;
}

/* The first segment of a response: time it, and read its status line. */
static __always_inline void conn_http_response(const struct pkt *p, struct flow_val *fe,
					       struct ver_stats *vs, __u64 now)
{
	int status;

	if (!(__sync_fetch_and_and(&fe->flags, ~CANARY_FLOW_REQ_PENDING) &
	      CANARY_FLOW_REQ_PENDING))
		return;	/* not the first segment of a response */
	hist_add(fe->svc_id, fe->version, CANARY_HIST_TTFB, now - fe->req_ns);
	status = http_status(p->payload, p->data_end);
	if (!status) {
		vs->http_unparsed++;
		return;
	}
	vs->http_responses++;
	if (status >= 500)
		vs->http_5xx += HTTP_5XX_COUNTED;
	else if (status >= 400)
		vs->http_4xx++;
}

/*
 * A backend's RST: the connection was refused before the SYN-ACK, reset after it. On a midstream
 * flow there is no telling which; most often it answers a stray segment after a close, so it is
 * not counted as an error.
 */
static __always_inline void conn_count_rst(__u32 flags, struct ver_stats *vs)
{
	if (flags & CANARY_FLOW_MIDSTREAM)
		return;
	if (flags & CANARY_FLOW_SYNACK)
		vs->rst_midflow++;
	else
		vs->rst_refused++;
}

/* The first SYN-ACK: the backend took the connection; its delay goes into the histogram. */
static __always_inline void conn_synack(struct flow_val *fv, __u64 now)
{
	/* A midstream flow's first packet was no SYN: no handshake time to sample. */
	if (!(__sync_fetch_and_or(&fv->flags, CANARY_FLOW_SYNACK) &
	      (CANARY_FLOW_SYNACK | CANARY_FLOW_MIDSTREAM)))
		hist_add(fv->svc_id, fv->version, CANARY_HIST_HANDSHAKE, now - fv->syn_ns);
}

/*
 * Backend to client: handshake, resets, FINs, HTTP responses. Returns true when the flow ends
 * with this packet (RST), to be retired once it is forwarded.
 */
static __always_inline bool conn_from_backend(const struct pkt *p, struct flow_val *fe,
					      __u8 svc_flags, struct ver_stats *vs)
{
	__u8 fl = p->tcp_flags;
	__u64 now;

	if (p->key.proto != IPPROTO_TCP)
		return false;
	if (fl & TCP_RST) {
		conn_count_rst(fe->flags, vs);
		conn_closed(fe, vs);
		return true;
	}
	now = bpf_ktime_get_ns();
	if ((fl & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK))
		conn_synack(fe, now);
	if (fl & TCP_FIN)
		conn_fin(fe, CANARY_FLOW_FIN_BACKEND, CANARY_FLOW_FIN_CLIENT, vs);
	if ((svc_flags & CANARY_SVC_F_HTTP) && p->payload_len)
		conn_http_response(p, fe, vs, now);
	return false;
}

/*
 * The backend's packet of an unfinished handshake (@se, *@fv its checked copy): a SYN-ACK is
 * timed, a RST refuses the connection, which then counts as a new flow and is gone.
 */
static __always_inline void conn_syn_reply(const struct pkt *p, struct syn_entry *se,
					   const struct flow_val *fv, struct ver_stats *vs)
{
	__u8 fl = p->tcp_flags;

	if (!(se->fv.flags & CANARY_FLOW_REPLIED))
		__sync_fetch_and_or(&se->fv.flags, CANARY_FLOW_REPLIED);
	if (fl & TCP_RST) {
		conn_count_rst(se->fv.flags, vs);
		conn_count_new(&se->fv.flags, fv, vs);
		vs->flows_closed++;
		syn_clear(se);
		return;
	}
	if ((fl & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK))
		conn_synack(&se->fv, bpf_ktime_get_ns());
}

/*
 * What a reply found: the connection's entry in flows, or its handshake in the SYN cache, and
 * its forward key, whose destination is the VIP to rewrite the reply to. The key and the copy
 * live in a per-CPU scratch map (conn_room): on the stack they would not fit beside the rest.
 */
struct conn_ref {
	struct flow_key *fk;
	struct flow_val *fe;	/* the entry in flows, or NULL: */
	struct syn_entry *se;	/* the handshake, */
	struct flow_val *fv;	/* and its checked copy */
};

/* @hook: CONN_ROOM_INGRESS or CONN_ROOM_EGRESS. */
static __always_inline bool conn_ref_init(struct conn_ref *c, __u32 hook)
{
	struct conn_room *r = bpf_map_lookup_elem(&conn_room, &hook);

	if (!r)
		return false;
	c->fk = &r->fk;
	c->fv = &r->fv;
	c->fe = NULL;
	c->se = NULL;
	return true;
}

static __always_inline bool conn_backend_is(const struct flow_val *fv, const struct flow_key *rk)
{
	const __u32 *a = (const __u32 *)fv->nat_addr, *b = (const __u32 *)rk->src;

	/* Keys are only word-aligned on the stack. */
	return !((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2]) | (a[3] ^ b[3])) &&
	       fv->nat_port == rk->sport;
}

/* The forward key a reply @rk would have if it answered for service @id's VIP. */
static __always_inline bool reply_key_of_svc(const struct flow_key *rk, __u32 id,
					     struct flow_key *fk)
{
	struct svc_key *vip = bpf_map_lookup_elem(&svc_vip, &id);

	if (!vip || vip->proto != rk->proto)
		return false;
	__builtin_memcpy(fk->src, rk->dst, 16);
	__builtin_memcpy(fk->dst, vip->addr, 16);
	fk->sport = rk->dport;
	fk->dport = vip->port;
	fk->proto = rk->proto;
	__builtin_memset(fk->pad, 0, sizeof(fk->pad));
	return true;
}

/* The entry in flows of @rk's connection to service @id (its forward key in @fk), or NULL. */
static __always_inline struct flow_val *reply_in_flows(const struct flow_key *rk, __u32 id,
						       struct flow_key *fk)
{
	struct flow_val *fe;

	if (!reply_key_of_svc(rk, id, fk))
		return NULL;
	fe = bpf_map_lookup_elem(&flows, fk);
	return fe && conn_backend_is(fe, rk) ? fe : NULL;
}

/*
 * The same in the SYN cache; *@fv gets the checked copy of the handshake's decision. @scan: in
 * dp_reply_scan(), which hashes inline: one more call level would take the stack past its
 * 512 bytes.
 */
static __always_inline struct syn_entry *reply_in_syn(const struct flow_key *rk, __u32 id,
						      struct flow_key *fk, struct flow_val *fv,
						      const bool scan)
{
	struct syn_entry *se;

	if (!reply_key_of_svc(rk, id, fk))
		return NULL;
	se = syn_find(fk, scan ? canary_syn_key_hash(fk) : dp_syn_key_hash(fk), fv);
	return se && conn_backend_is(fv, rk) ? se : NULL;
}

/*
 * Which of a backend's services after its first (@bv) has the connection @rk answers, in the
 * SYN cache (@syn) or in flows: its index, or 0 for none. A global function, which the verifier
 * checks once, not on every path to a reply. It looks with a key in the room (@room: a
 * CONN_ROOM_*): before Linux 6.3 or so a map key cannot be a global function's argument.
 */
__noinline int dp_reply_scan(const struct flow_key *rk, const struct be_svc_val *bv,
			     struct flow_val *fv, __u32 room, int syn)
{
	struct conn_room *r = bpf_map_lookup_elem(&conn_room, &room);

	if (!rk || !bv || !fv || !r)
		return 0;
#pragma clang loop unroll(disable)
	for (int i = 1; i < CANARY_BE_SVC_MAX && i < bv->count; i++)
		if (syn ? !!reply_in_syn(rk, bv->id[i], &r->scan, fv, true) :
			  !!reply_in_flows(rk, bv->id[i], &r->scan))
			return i;
	return 0;
}

_Static_assert(!(CANARY_BE_SVC_MAX & (CANARY_BE_SVC_MAX - 1)), "a mask bounds be_svc indexes");

/* @room: the CONN_ROOM_* @c was made in. */
static __always_inline bool reply_find(const struct flow_key *rk, struct conn_ref *c,
				       const __u32 room)
{
	struct be_svc_key bk = { .port = rk->sport };
	struct be_svc_val *bv;
	int i;

	__builtin_memcpy(bk.addr, rk->src, 16);
	bv = bpf_map_lookup_elem(&be_svc, &bk);
	if (!bv || !bv->count)
		return false;
	c->se = NULL;
	c->fe = reply_in_flows(rk, bv->id[0], c->fk);
	if (c->fe)
		return true;
	i = bv->count > 1 ? dp_reply_scan(rk, bv, c->fv, room, false) : 0;
	/* The mask bounds the index for the verifier; dp_reply_scan() returns less anyway. */
	if (i > 0)
		c->fe = reply_in_flows(rk, bv->id[i & (CANARY_BE_SVC_MAX - 1)], c->fk);
	if (c->fe || rk->proto != IPPROTO_TCP)
		return c->fe;
	c->se = reply_in_syn(rk, bv->id[0], c->fk, c->fv, false);
	if (c->se)
		return true;
	i = bv->count > 1 ? dp_reply_scan(rk, bv, c->fv, room, true) : 0;
	if (i > 0)
		c->se = reply_in_syn(rk, bv->id[i & (CANARY_BE_SVC_MAX - 1)], c->fk, c->fv,
				     false);
	return c->se;
}

/* The connection's state as the reply path reads it: the entry, or the handshake's copy. */
static __always_inline const struct flow_val *conn_ref_val(const struct conn_ref *c)
{
	return c->fe ? c->fe : c->fv;
}

/*
 * A reply packet of the connection @c: counted, and observed. *@retire says whether the flow
 * ends with this packet: after a RST, or the last ACK once both sides have sent their FIN.
 * Returns the version's counters, or NULL when the entry's id is out of range.
 */
static __always_inline struct ver_stats *conn_reply(const struct pkt *p, struct conn_ref *c,
						    __u64 bytes, bool *retire)
{
	const struct flow_val *fv = conn_ref_val(c);
	struct flow_val *fe = c->fe;
	struct ver_stats *vs;
	struct svc_state st;

	*retire = false;
	vs = ver_stats_of(fv->svc_id, fv->version);
	if (!vs)
		return NULL;
	vs->reply_packets++;
	vs->reply_bytes += bytes;
	if (!fe) {
		if (p->key.proto == IPPROTO_TCP)
			conn_syn_reply(p, c->se, fv, vs);
		return vs;
	}
	if (!(fe->flags & CANARY_FLOW_REPLIED))
		__sync_fetch_and_or(&fe->flags, CANARY_FLOW_REPLIED);
	conn_touch(fe, bpf_ktime_get_coarse_ns());
	svc_state_of(fe->svc_id, &st);	/* a retired service's flows still get their replies */
	*retire = conn_from_backend(p, fe, st.flags, vs) ||
		  ((fe->flags & CANARY_FLOW_CLOSED) && p->key.proto == IPPROTO_TCP &&
		   !(p->tcp_flags & TCP_FIN));
	return vs;
}

#endif /* XDP_CANARY_CONN_H */
