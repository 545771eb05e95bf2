/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A connection through the splitter: its reply entry (backend to client), which carries the
 * state both directions update, and the events that change it: handshake, FIN, RST, HTTP
 * requests and responses. Shared by the XDP program and the TC egress program.
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

/*
 * tests/selftest.sh builds a datapath that loses every 5xx, to show that the tests notice; no
 * other build defines this.
 */
#ifdef XDP_CANARY_SELFTEST_LOSE_5XX
#define HTTP_5XX_COUNTED 0
#else
#define HTTP_5XX_COUNTED 1
#endif

/* The reply entry's key: the forward tuple as the backend answers it. */
static __always_inline void reply_key_of(struct flow_key *rk, const struct flow_key *fk,
					 const struct flow_val *fv)
{
	__builtin_memcpy(rk->src, fv->nat_addr, 16);
	__builtin_memcpy(rk->dst, fk->src, 16);
	rk->sport = fv->nat_port;
	rk->dport = fk->sport;
	rk->proto = fk->proto;
	__builtin_memset(rk->pad, 0, sizeof(rk->pad));
}

/* The forward entry's key, from a reply packet's tuple and its reply entry. */
static __always_inline void forward_key_of(struct flow_key *fk, const struct flow_key *rk,
					   const struct flow_val *rv)
{
	__builtin_memcpy(fk->src, rk->dst, 16);
	__builtin_memcpy(fk->dst, rv->nat_addr, 16);
	fk->sport = rk->dport;
	fk->dport = rv->nat_port;
	fk->proto = rk->proto;
	__builtin_memset(fk->pad, 0, sizeof(fk->pad));
}

/*
 * A TCP flow not opened by a SYN is midstream, in both entries (@fv is the forward one, yet to
 * be written): a stray segment after a close, which the backend answers with a RST, or a
 * connection older than its entry. Neither has a handshake to time or to fail.
 */
static __always_inline void conn_mark_midstream(const struct pkt *p, struct flow_val *fv)
{
	if (p->key.proto == IPPROTO_TCP && !(p->tcp_flags & TCP_SYN))
		fv->flags |= CANARY_FLOW_MIDSTREAM;
}

/*
 * A new flow's reply entry, pointing back at the VIP, stamped with the first packet's time,
 * written once the first packet is on its way: @egress is the interface it left by.
 */
static __always_inline void conn_open(const struct pkt *p, const struct flow_val *fv,
				      __u32 egress, __u64 now)
{
	struct flow_val rv;
	struct flow_key rk;

	rv = *fv;
	reply_key_of(&rk, &p->key, fv);
	__builtin_memcpy(rv.nat_addr, p->key.dst, 16);
	rv.nat_port = p->key.dport;
	rv.flags = CANARY_FLOW_REPLY | (fv->flags & CANARY_FLOW_MIDSTREAM);
	rv.be_ifindex = egress;
	rv.syn_ns = now;
	rv.last_ns = now;
	bpf_map_update_elem(&flows, &rk, &rv, BPF_ANY);
}

/*
 * Replies are taken only from the interface the flow leaves by towards its backend: one that
 * comes in from the clients' side claiming to be the backend's is forged, and must neither
 * count against a version nor end the flow. Routing must be symmetric for this (it is when
 * the backends' route back to clients is the splitter).
 */
static __always_inline bool reply_side_ok(const struct flow_val *rev, __u32 ingress)
{
	return !rev->be_ifindex || rev->be_ifindex == ingress;
}

static __always_inline void conn_retire(const struct flow_key *fk, const struct flow_key *rk)
{
	bpf_map_delete_elem(&flows, fk);
	bpf_map_delete_elem(&flows, rk);
}

/* Counted once per flow: the backend has left the SYN unanswered for too long. */
static __always_inline void conn_check_syn_late(struct flow_val *rv, struct ver_stats *vs,
						__u64 now)
{
	if (rv->flags & (CANARY_FLOW_SYNACK | CANARY_FLOW_SYN_LATE | CANARY_FLOW_MIDSTREAM))
		return;
	if (now - rv->syn_ns < cfg_syn_timeout_ns)
		return;
	if (!(__sync_fetch_and_or(&rv->flags, CANARY_FLOW_SYN_LATE) & CANARY_FLOW_SYN_LATE))
		vs->syn_timeout++;
}

/* The connection is closed: counted once, however it ends (FIN both ways, a RST, or both). */
static __always_inline void conn_closed(struct flow_val *rv, struct ver_stats *vs)
{
	if (!(__sync_fetch_and_or(&rv->flags, CANARY_FLOW_CLOSED) & CANARY_FLOW_CLOSED))
		vs->flows_closed++;
}

/*
 * FIN from one side (@mine); when the other side's FIN is there already, the connection is
 * closed: both entries say so, and a new SYN on the same tuple starts a new flow.
 */
static __always_inline void conn_fin(struct flow_val *rv, __u32 *fwd_flags, __u32 mine,
				     __u32 theirs, struct ver_stats *vs)
{
	__u32 old = __sync_fetch_and_or(&rv->flags, mine);

	if (!(old & theirs) || (old & CANARY_FLOW_CLOSED))
		return;
	if (fwd_flags)
		__sync_fetch_and_or(fwd_flags, CANARY_FLOW_CLOSED);
	conn_closed(rv, vs);
}

/*
 * Client to backend, on a pinned TCP flow: the events the reply entry must know. Returns true
 * when the flow ends with this packet (RST), to be retired once it is forwarded.
 */
static __always_inline bool conn_from_client(const struct pkt *p, struct flow_val *fwd,
					     const struct flow_val *fv, __u8 svc_flags,
					     struct ver_stats *vs)
{
	__u8 fl = p->tcp_flags;
	bool http_data = (svc_flags & CANARY_SVC_F_HTTP) && p->payload_len;
	struct flow_val *rv;
	struct flow_key rk;
	__u64 now;

	if (!(fl & (TCP_FIN | TCP_RST | TCP_SYN)) && !http_data)
		return false;
	reply_key_of(&rk, &p->key, fv);
	rv = bpf_map_lookup_elem(&flows, &rk);
	if (!rv)
		return false;
	now = bpf_ktime_get_ns();
	if (fl & (TCP_SYN | TCP_RST))
		conn_check_syn_late(rv, vs, now);
	if (fl & TCP_RST) {
		conn_closed(rv, vs);
		return true;
	}
	if (fl & TCP_FIN)
		conn_fin(rv, &fwd->flags, CANARY_FLOW_FIN_CLIENT, CANARY_FLOW_FIN_BACKEND, vs);
	if (http_data && !(rv->flags & CANARY_FLOW_REQ_PENDING)) {
		rv->req_ns = now;
		__sync_fetch_and_or(&rv->flags, CANARY_FLOW_REQ_PENDING);
	}
	return false;
}

/* The first segment of a response: time it, and read its status line. */
static __always_inline void conn_http_response(const struct pkt *p, struct flow_val *rv,
					       struct ver_stats *vs, __u64 now)
{
	int status;

	if (!(__sync_fetch_and_and(&rv->flags, ~CANARY_FLOW_REQ_PENDING) &
	      CANARY_FLOW_REQ_PENDING))
		return;	/* not the first segment of a response */
	hist_add(rv->svc_id, rv->version, CANARY_HIST_TTFB, now - rv->req_ns);
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
static __always_inline void conn_count_rst(const struct flow_val *rv, struct ver_stats *vs)
{
	if (rv->flags & CANARY_FLOW_MIDSTREAM)
		return;
	if (rv->flags & CANARY_FLOW_SYNACK)
		vs->rst_midflow++;
	else
		vs->rst_refused++;
}

/*
 * Backend to client: handshake, resets, FINs, HTTP responses. Returns true when the flow ends
 * with this packet (RST), to be retired once it is forwarded.
 */
static __always_inline bool conn_from_backend(const struct pkt *p, struct flow_val *rv,
					      __u8 svc_flags, struct ver_stats *vs)
{
	__u8 fl = p->tcp_flags;
	struct flow_val *fwd;
	struct flow_key fk;
	__u64 now;

	if (p->key.proto != IPPROTO_TCP)
		return false;
	if (fl & TCP_RST) {
		conn_count_rst(rv, vs);
		conn_closed(rv, vs);
		return true;
	}
	now = bpf_ktime_get_ns();
	/* A midstream flow's first packet was no SYN: no handshake time to sample. */
	if ((fl & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK) &&
	    !(__sync_fetch_and_or(&rv->flags, CANARY_FLOW_SYNACK) &
	      (CANARY_FLOW_SYNACK | CANARY_FLOW_MIDSTREAM)))
		hist_add(rv->svc_id, rv->version, CANARY_HIST_HANDSHAKE, now - rv->syn_ns);
	if (fl & TCP_FIN) {
		forward_key_of(&fk, &p->key, rv);
		fwd = bpf_map_lookup_elem(&flows, &fk);
		conn_fin(rv, fwd ? &fwd->flags : NULL, CANARY_FLOW_FIN_BACKEND,
			 CANARY_FLOW_FIN_CLIENT, vs);
	}
	if ((svc_flags & CANARY_SVC_F_HTTP) && p->payload_len)
		conn_http_response(p, rv, vs, now);
	return false;
}

/*
 * A reply packet whose reply entry is @rev: counted, and observed. *@rv gets a copy of the entry
 * (the VIP to rewrite to); *@retire says whether the flow ends with this packet: after a RST, or
 * the last ACK once both sides have sent their FIN. Returns the version's counters, or NULL
 * when the entry's id is out of range.
 */
static __always_inline struct ver_stats *conn_reply(const struct pkt *p, struct flow_val *rev,
						    struct flow_val *rv, __u64 bytes,
						    bool *retire)
{
	struct ver_stats *vs;
	struct svc_state st;

	*rv = *rev;
	*retire = false;
	vs = ver_stats_of(rv->svc_id, rv->version);
	if (!vs)
		return NULL;
	svc_state_of(rv->svc_id, &st);	/* a retired service's flows still get their replies */
	vs->reply_packets++;
	vs->reply_bytes += bytes;
	*retire = conn_from_backend(p, rev, st.flags, vs) ||
		  ((rv->flags & CANARY_FLOW_CLOSED) && p->key.proto == IPPROTO_TCP &&
		   !(p->tcp_flags & TCP_FIN));
	return vs;
}

/* Removes both entries of the flow a reply packet belongs to. */
static __always_inline void conn_retire_by_reply(const struct flow_key *rk,
						 const struct flow_val *rv)
{
	struct flow_key fk;

	forward_key_of(&fk, rk, rv);
	conn_retire(&fk, rk);
}

#endif /* XDP_CANARY_CONN_H */
