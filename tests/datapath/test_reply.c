// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Connections through the splitter: replies rewritten back to the VIP (XDP for remote backends,
 * TC egress for local ones), TCP lifecycle, HTTP status lines, latency, errors.
 */
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "addr.h"
#include "canary_bpf.skel.h"
#include "conv.h"
#include "dp_tests.h"
#include "stats.h"

static void v4_tcp_reply_remote(void **state)
{
	struct conv c = { .client = "198.51.100.7", .vip = "198.51.100.100",
			  .backend = "192.0.2.10", 40000, 80, 8080, IPPROTO_TCP };

	conv_start(&c, *state, 0);
	assert_int_equal(client_sends(&c, F_SYN, NULL), XDP_REDIRECT);
	golden_reply(&c, F_SYN | F_ACK, XDP_REDIRECT);
	assert_int_equal(conv_stats(&c).reply_packets, 1);
	assert_int_equal(hist_count(&c, CANARY_HIST_HANDSHAKE), 1);
}

static void v6_udp_reply_remote(void **state)
{
	struct conv c = { .client = "2001:db8:1::7", .vip = "2001:db8:1::100",
			  .backend = "2001:db8:2::10", 5000, 53, 5353, IPPROTO_UDP };

	conv_start(&c, *state, 0);
	assert_int_equal(client_sends(&c, 0, NULL), XDP_REDIRECT);
	golden_reply(&c, 0, XDP_REDIRECT);
	assert_int_equal(conv_stats(&c).reply_packets, 1);
}

static void v6_tcp_reply_remote(void **state)
{
	struct conv c = { .client = "2001:db8:1::7", .vip = "2001:db8:1::100",
			  .backend = "2001:db8:2::11", 40010, 443, 8443, IPPROTO_TCP };

	conv_start(&c, *state, 0);
	assert_int_equal(client_sends(&c, F_SYN, NULL), XDP_REDIRECT);
	golden_reply(&c, F_SYN | F_ACK, XDP_REDIRECT);
	assert_int_equal(hist_count(&c, CANARY_HIST_HANDSHAKE), 1);
}

static void v4_udp_reply_remote(void **state)
{
	struct conv c = { .client = "198.51.100.7", .vip = "198.51.100.100",
			  .backend = "192.0.2.11", 5010, 53, 5353, IPPROTO_UDP };

	conv_start(&c, *state, 0);
	assert_int_equal(client_sends(&c, 0, NULL), XDP_REDIRECT);
	golden_reply(&c, 0, XDP_REDIRECT);
	assert_int_equal(conv_stats(&c).reply_packets, 1);
}

static void v4_tcp_reply_local_tc(void **state)
{
	struct conv c = { .client = "198.51.100.7", .vip = "198.51.100.100",
			  .backend = "203.0.113.1", 40000, 80, 8080, IPPROTO_TCP, .local = true };

	conv_start(&c, *state, 0);
	assert_int_equal(client_sends(&c, F_SYN, NULL), XDP_PASS);
	assert_int_equal(conv_stats(&c).fwd_local, 1);
	golden_reply(&c, F_SYN | F_ACK, 0 /* TC_ACT_OK */);
	assert_int_equal(hist_count(&c, CANARY_HIST_HANDSHAKE), 1);
}

static void v6_udp_reply_local_tc(void **state)
{
	struct conv c = { .client = "2001:db8:1::7", .vip = "2001:db8:1::100",
			  .backend = "2001:db8:3::1", 5000, 53, 5353, IPPROTO_UDP, .local = true };

	conv_start(&c, *state, 0);
	assert_int_equal(client_sends(&c, 0, NULL), XDP_PASS);
	golden_reply(&c, 0, 0);
	assert_int_equal(conv_stats(&c).reply_packets, 1);
}

static void v4_udp_reply_keeps_zero_checksum(void **state)
{
	struct conv c = { .client = "198.51.100.7", .vip = "198.51.100.100",
			  .backend = "203.0.113.1", 5000, 53, 5353, IPPROTO_UDP, .local = true };
	struct pkt_spec s;
	__u8 in[PKT_MAX], out[PKT_MAX];
	__u32 out_len;
	size_t l4;

	conv_start(&c, *state, 0);
	client_sends(&c, 0, NULL);
	s = conv_spec(&c, false, 0, NULL);
	s.udp_no_csum = true;
	l4 = pkt_l4_offset(&s);
	assert_int_equal(env_run_tc(c.env, in, pkt_build(&s, in), out, &out_len), 0);
	assert_int_equal(out[l4 + 6] | out[l4 + 7], 0);
	assert_int_equal(out[l4] << 8 | out[l4 + 1], 53);
}

static void rst_answering_syn_is_refused(void **state)
{
	struct conv c = { .client = "198.51.100.7", .vip = "198.51.100.100",
			  .backend = "192.0.2.10", 40001, 80, 8080, IPPROTO_TCP };
	struct ver_stats vs;

	conv_start(&c, *state, 0);
	client_sends(&c, F_SYN, NULL);
	golden_reply(&c, F_RST | F_ACK, XDP_REDIRECT);
	vs = conv_stats(&c);
	assert_int_equal(vs.rst_refused, 1);
	assert_int_equal(vs.rst_midflow, 0);
	assert_int_equal(vs.flows_closed, 1);
	assert_retired(&c);
}

static void rst_after_handshake_is_midflow(void **state)
{
	struct conv c = { .client = "2001:db8:1::7", .vip = "2001:db8:1::100",
			  .backend = "2001:db8:3::1", 40002, 80, 8080, IPPROTO_TCP, .local = true };
	struct ver_stats vs;

	conv_start(&c, *state, 0);
	conv_handshake(&c);
	backend_says(&c, F_RST, NULL);
	vs = conv_stats(&c);
	assert_int_equal(vs.rst_refused, 0);
	assert_int_equal(vs.rst_midflow, 1);
	assert_false(flow_present(&c));
}

static void fin_both_ways_retires_on_last_ack(void **state)
{
	struct conv c = { .client = "198.51.100.7", .vip = "198.51.100.100",
			  .backend = "192.0.2.10", 40003, 80, 8080, IPPROTO_TCP };

	conv_start(&c, *state, 0);
	conv_handshake(&c);
	client_sends(&c, F_FIN | F_ACK, NULL);
	assert_int_equal(conv_stats(&c).flows_closed, 0);
	backend_says(&c, F_FIN | F_ACK, NULL);
	assert_int_equal(conv_stats(&c).flows_closed, 1);
	assert_true(flow_present(&c));
	assert_int_equal(client_sends(&c, F_ACK, NULL), XDP_REDIRECT);	/* the last ACK goes */
	assert_retired(&c);
	/* The same tuple again is a new connection, decided anew. */
	client_sends(&c, F_SYN, NULL);
	assert_int_equal(conv_stats(&c).syns, 2);
	assert_true(syn_pending(&c));
}

/* A RST after FIN both ways, from either side, ends a connection closed already. */
static void rst_after_fins_closes_once(void **state)
{
	struct conv c = { .client = "198.51.100.7", .vip = "198.51.100.100",
			  .backend = "192.0.2.10", 40012, 80, 8080, IPPROTO_TCP };

	conv_start(&c, *state, 0);
	for (int from_client = 0; from_client < 2; from_client++, c.cport++) {
		conv_handshake(&c);
		client_sends(&c, F_FIN | F_ACK, NULL);
		backend_says(&c, F_FIN | F_ACK, NULL);
		if (from_client)
			client_sends(&c, F_RST, NULL);
		else
			backend_says(&c, F_RST, NULL);
		assert_retired(&c);
	}
	assert_int_equal(conv_stats(&c).flows_closed, 2);
}

/*
 * The client resets a connection after its close, and a retransmitted FIN of its arrives after
 * the flow is gone. That stray is forwarded as a flow of its own; the backend's RST answering it
 * is neither a refused connection nor a reset one.
 */
static void stray_fin_after_close_reset_not_refused(void **state)
{
	struct conv c = { .client = "198.51.100.7", .vip = "198.51.100.100",
			  .backend = "192.0.2.10", 40008, 80, 8080, IPPROTO_TCP };
	struct ver_stats vs;
	__u64 closed;

	conv_start(&c, *state, 0);
	conv_handshake(&c);
	client_sends(&c, F_FIN | F_ACK, NULL);
	backend_says(&c, F_FIN | F_ACK, NULL);
	client_sends(&c, F_RST, NULL);
	assert_false(flow_present(&c));
	closed = conv_stats(&c).flows_closed;

	assert_int_equal(client_sends(&c, F_FIN | F_ACK, NULL), XDP_REDIRECT);
	assert_midstream(&c, true);
	golden_reply(&c, F_RST, XDP_REDIRECT);
	vs = conv_stats(&c);
	assert_int_equal(vs.rst_refused, 0);
	assert_int_equal(vs.rst_midflow, 0);
	assert_int_equal(vs.new_flows, 1);	/* the stray was decided, and counted apart */
	assert_int_equal(vs.midstream, 1);
	assert_int_equal(vs.flows_closed, closed + 1);
	assert_int_equal(hist_count(&c, CANARY_HIST_HANDSHAKE), 1);
	assert_retired(&c);
}

/*
 * A connection older than its entry (the entry was evicted between the SYN and the last ACK of
 * the handshake), on a local backend: its SYN-ACK retransmission is no handshake sample, its RST
 * no error.
 */
static void midstream_flow_local_no_handshake_no_error(void **state)
{
	struct conv c = { .client = "2001:db8:1::7", .vip = "2001:db8:1::100",
			  .backend = "2001:db8:3::1", 40009, 80, 8080, IPPROTO_TCP, .local = true };
	struct ver_stats vs;

	conv_start(&c, *state, 0);
	assert_int_equal(client_sends(&c, F_ACK, NULL), XDP_PASS);
	assert_midstream(&c, true);
	golden_reply(&c, F_SYN | F_ACK, 0 /* TC_ACT_OK */);
	assert_int_equal(hist_count(&c, CANARY_HIST_HANDSHAKE), 0);
	golden_reply(&c, F_RST | F_ACK, 0);
	vs = conv_stats(&c);
	assert_int_equal(vs.rst_refused + vs.rst_midflow, 0);
	assert_int_equal(vs.flows_closed, 1);
	assert_retired(&c);
}

/*
 * A SYN on a midstream flow's tuple (the backend never answered the stray) is a new connection:
 * decided anew, with its handshake timed and its refusal counted.
 */
static void syn_after_stray_is_new_connection(void **state)
{
	struct conv c = { .client = "198.51.100.7", .vip = "198.51.100.100",
			  .backend = "192.0.2.10", 40010, 80, 8080, IPPROTO_TCP };
	struct ver_stats vs;

	conv_start(&c, *state, 0);
	client_sends(&c, F_FIN | F_ACK, NULL);
	assert_midstream(&c, true);
	assert_int_equal(client_sends(&c, F_SYN, NULL), XDP_REDIRECT);
	assert_false(flow_present(&c));
	assert_true(syn_pending(&c));
	vs = conv_stats(&c);
	assert_int_equal(vs.midstream + vs.syns, 2);
	golden_reply(&c, F_RST | F_ACK, XDP_REDIRECT);
	vs = conv_stats(&c);
	assert_int_equal(vs.new_flows, 1);	/* refused: a connection, and its error */
	assert_int_equal(vs.rst_refused, 1);
	assert_int_equal(vs.rst_midflow, 0);
	assert_int_equal(vs.flows_closed, 1);

	client_sends(&c, F_FIN | F_ACK, NULL);
	client_sends(&c, F_SYN, NULL);
	backend_says(&c, F_SYN | F_ACK, NULL);
	assert_int_equal(hist_count(&c, CANARY_HIST_HANDSHAKE), 1);
}

/* Keep-alive: each request's first response segment is read, nothing else. */
static void http_status_lines_per_request(void **state)
{
	static const char req[] = "GET / HTTP/1.1\r\nHost: svc\r\n\r\n";
	struct conv c = { .client = "198.51.100.7", .vip = "198.51.100.100",
			  .backend = "192.0.2.10", 40004, 80, 8080, IPPROTO_TCP };
	struct ver_stats vs;

	conv_start(&c, *state, CANARY_SVC_F_HTTP);
	conv_handshake(&c);

	client_sends(&c, F_PSH | F_ACK, req);
	backend_says(&c, F_PSH | F_ACK, "HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n");
	backend_says(&c, F_PSH | F_ACK, "HTTP/1.1 503 is only body text here");
	client_sends(&c, F_PSH | F_ACK, "GET /b HTTP/1.1\r\n");	/* one request, two segments */
	client_sends(&c, F_PSH | F_ACK, "Host: svc\r\n\r\n");
	backend_says(&c, F_PSH | F_ACK, "HTTP/1.1 404 Not Found\r\n\r\n");
	client_sends(&c, F_PSH | F_ACK, req);
	backend_says(&c, F_PSH | F_ACK, "HTTP/1.0 503 Service Unavailable\r\n\r\n");
	client_sends(&c, F_PSH | F_ACK, req);
	backend_says(&c, F_PSH | F_ACK, "\r\nHTTP/1.1 500 Internal Server Error\r\n\r\n");
	client_sends(&c, F_PSH | F_ACK, req);
	backend_says(&c, F_PSH | F_ACK, "SSH-2.0-OpenSSH_9.2\r\n");
	backend_says(&c, F_ACK, NULL);		/* no data: not a response */

	vs = conv_stats(&c);
	assert_int_equal(vs.http_responses, 3);
	assert_int_equal(vs.http_4xx, 1);
	assert_int_equal(vs.http_5xx, 1);
	assert_int_equal(vs.http_unparsed, 2);
	assert_int_equal(hist_count(&c, CANARY_HIST_TTFB), 5);
}

static void http_not_read_on_plain_services(void **state)
{
	struct conv c = { .client = "198.51.100.7", .vip = "198.51.100.100",
			  .backend = "192.0.2.10", 40005, 80, 8080, IPPROTO_TCP };
	struct ver_stats vs;

	conv_start(&c, *state, 0);
	client_sends(&c, F_SYN, NULL);
	backend_says(&c, F_SYN | F_ACK, NULL);
	client_sends(&c, F_PSH | F_ACK, "GET / HTTP/1.1\r\n\r\n");
	backend_says(&c, F_PSH | F_ACK, "HTTP/1.1 500 Internal Server Error\r\n\r\n");
	vs = conv_stats(&c);
	assert_int_equal(vs.http_responses + vs.http_5xx + vs.http_unparsed, 0);
	assert_int_equal(hist_count(&c, CANARY_HIST_TTFB), 0);
}

static void reply_without_flow_counted(void **state)
{
	struct conv c = { .client = "198.51.100.7", .vip = "198.51.100.100",
			  .backend = "192.0.2.10", 40006, 80, 8080, IPPROTO_TCP };
	struct pkt_spec s;
	struct dp_stats ds;
	__u8 in[PKT_MAX], out[PKT_MAX];
	__u32 out_len;
	size_t len;

	conv_start(&c, *state, 0);
	s = conv_spec(&c, false, F_ACK, NULL);
	len = pkt_build(&s, in);
	assert_int_equal(env_run_from(c.env, c.env->if_backend, in, len, out, &out_len), XDP_PASS);
	assert_packet_equal(out, out_len, in, len);
	assert_int_equal(env_run_tc(c.env, in, len, out, &out_len), 0);
	assert_packet_equal(out, out_len, in, len);
	assert_int_equal(stats_passed(&c.env->dp, CANARY_DP_REPLY_NO_FLOW, &ds), 0);
	assert_int_equal(ds.packets, 2);
}

/* An ICMP error about @c's flow: who sends it, its type and code. */
struct icmp_err {
	const char *from;	/* NULL: the backend */
	__u8 type, code;
};

/*
 * The backend (or a router before it) cannot deliver the client's packet: its ICMP error quotes
 * that packet as rewritten. The error goes up the stack as it came; returns the flow version's
 * icmp_unreach count after it.
 */
static __u64 icmp_error_sent(struct conv *c, const struct icmp_err *e)
{
	struct pkt_spec quoted = conv_spec(c, true, 0, NULL), err;
	__u8 q[PKT_MAX], in[PKT_MAX], out[PKT_MAX];
	bool v6 = strchr(c->client, ':');
	size_t qlen, l3, len;
	__u32 out_len;

	assert_int_equal(addr_parse(c->backend, quoted.daddr), 0);	/* as rewritten */
	quoted.dport = c->bport;
	qlen = pkt_build(&quoted, q);
	l3 = pkt_l3_offset(&quoted);
	pkt_spec_init(&err, e->from ? e->from : c->backend, 0, c->client, 0,
		      v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP);
	err.icmp_type = e->type;
	err.icmp_code = e->code;
	err.payload = (const char *)q + l3;
	err.payload_len = qlen - l3;
	len = pkt_build(&err, in);
	assert_true(pkt_csums_ok(in, len));
	if (c->local)
		assert_int_equal(env_run_tc(c->env, in, len, out, &out_len), 0);
	else
		assert_int_equal(env_run_from(c->env, c->env->if_backend, in, len, out, &out_len),
				 XDP_PASS);
	assert_packet_equal(out, out_len, in, len);
	return conv_stats(c).icmp_unreach;
}

static const struct icmp_err port_unreach4 = { NULL, 3, 3 }, port_unreach6 = { NULL, 1, 4 };

static void v4_icmp_port_unreachable_remote(void **state)
{
	struct conv c = { .client = "198.51.100.7", .vip = "198.51.100.100",
			  .backend = "192.0.2.10", 5002, 53, 5353, IPPROTO_UDP };

	conv_start(&c, *state, 0);
	client_sends(&c, 0, NULL);
	assert_int_equal(icmp_error_sent(&c, &port_unreach4), 1);
}

static void v6_icmp_port_unreachable_local(void **state)
{
	struct conv c = { .client = "2001:db8:1::7", .vip = "2001:db8:1::100",
			  .backend = "2001:db8:3::1", 5003, 53, 5353, IPPROTO_UDP, .local = true };

	conv_start(&c, *state, 0);
	client_sends(&c, 0, NULL);
	assert_int_equal(icmp_error_sent(&c, &port_unreach6), 1);
}

/*
 * Errors a client could forge against a flow of its own: none counts. "Port unreachable" from
 * anyone but the backend, "host unreachable" from the client itself, codes that are not the
 * backend failing, and a second error for a flow that had one. (Fragmentation needed is not
 * an error either: the too_big tests.)
 */
static void icmp_forgeries_not_counted(struct conv *c, struct dp_env *env, const char *router)
{
	bool v6 = strchr(c->client, ':');
	const struct icmp_err forged[] = {
		{ c->client, v6 ? 1 : 3, v6 ? 4 : 3 },	/* port unreachable from the client */
		{ router, v6 ? 1 : 3, v6 ? 4 : 3 },	/* ... or from any other address */
		{ c->client, v6 ? 1 : 3, v6 ? 3 : 1 },	/* host unreachable from the client */
		{ NULL, 3, 13 },			/* v4 administratively prohibited */
		{ NULL, 1, 1 },				/* v6 administratively prohibited */
	};
	const struct icmp_err path = { router, v6 ? 1 : 3, v6 ? 3 : 1 };

	conv_start(c, env, 0);
	conv_handshake(c);
	for (size_t i = 0; i < sizeof(forged) / sizeof(forged[0]); i++)
		if ((forged[i].type == 3) != v6)
			assert_int_equal(icmp_error_sent(c, &forged[i]), 0);
	/* A router on the way may say the host is unreachable: counted, once a connection. */
	assert_int_equal(icmp_error_sent(c, &path), 1);
	assert_int_equal(icmp_error_sent(c, &path), 1);
	assert_int_equal(icmp_error_sent(c, v6 ? &port_unreach6 : &port_unreach4), 1);
}

static void v4_icmp_forgeries_not_counted(void **state)
{
	struct conv c = { .client = "198.51.100.7", .vip = "198.51.100.100",
			  .backend = "192.0.2.10", 40010, 80, 8080, IPPROTO_TCP };

	icmp_forgeries_not_counted(&c, *state, "203.0.113.254");
}

static void v6_icmp_forgeries_not_counted(void **state)
{
	struct conv c = { .client = "2001:db8:1::7", .vip = "2001:db8:1::100",
			  .backend = "2001:db8:3::1", 40011, 80, 8080, IPPROTO_TCP };

	icmp_forgeries_not_counted(&c, *state, "2001:db8:ff::1");
}

/* An ICMP error from @from to the client quoting @quote_len bytes of @pkt's IP packet. */
static size_t icmp_quoting(const struct conv *c, const char *from, __u8 type, __u8 code,
			   const struct pkt_spec *quoted, size_t quote_len, __u8 *out)
{
	__u8 q[PKT_MAX];
	size_t qlen = pkt_build(quoted, q), l3 = pkt_l3_offset(quoted);
	struct pkt_spec err;

	pkt_spec_init(&err, from, 0, c->client, 0,
		      strchr(c->client, ':') ? IPPROTO_ICMPV6 : IPPROTO_ICMP);
	err.icmp_type = type;
	err.icmp_code = code;
	err.payload = (const char *)q + l3;
	err.payload_len = quote_len && quote_len < qlen - l3 ? quote_len : qlen - l3;
	return pkt_build(&err, out);
}

/*
 * A router between the splitter and a remote backend cannot forward the client's packet whole.
 * Its "fragmentation needed" ("packet too big") quotes the packet as rewritten, which the
 * client never sent: it leaves quoting what the client did send, checksums and all, and counts
 * as no error. @quote_len: how much of the packet the router quoted (0: all of it).
 */
static void too_big_rewritten(struct conv *c, struct dp_env *env, __u8 type, __u8 code,
			      size_t quote_len)
{
	static const char req[] = "GET /large HTTP/1.1\r\nHost: canary\r\n\r\n";
	const char *router = strchr(c->client, ':') ? "2001:db8:ff::1" : "203.0.113.254";
	struct pkt_spec sent, forwarded;
	__u8 in[PKT_MAX], want[PKT_MAX], out[PKT_MAX];
	struct dp_stats ds;
	size_t len, want_len;
	__u32 out_len;

	conv_start(c, env, 0);
	if (c->proto == IPPROTO_TCP)
		conv_handshake(c);
	else
		client_sends(c, 0, NULL);
	sent = conv_spec(c, true, F_PSH | F_ACK, c->proto == IPPROTO_TCP ? req : "query");
	forwarded = sent;
	assert_int_equal(addr_parse(c->backend, forwarded.daddr), 0);
	forwarded.dport = c->bport;
	len = icmp_quoting(c, router, type, code, &forwarded, quote_len, in);
	want_len = icmp_quoting(c, router, type, code, &sent, quote_len, want);
	assert_true(pkt_csums_ok(in, len));
	assert_int_equal(env_run_from(c->env, c->env->if_backend, in, len, out, &out_len),
			 XDP_PASS);
	assert_packet_equal(out, out_len, want, want_len);
	assert_int_equal(conv_stats(c).icmp_unreach, 0);
	assert_int_equal(stats_passed(&c->env->dp, CANARY_DP_PMTU_REWRITTEN, &ds), 0);
	assert_int_equal(ds.packets, 1);
}

static void v4_frag_needed_rewritten_for_the_client(void **state)
{
	struct conv c = { .client = "198.51.100.7", .vip = "198.51.100.100",
			  .backend = "192.0.2.10", 40012, 80, 8080, IPPROTO_TCP };

	too_big_rewritten(&c, *state, 3, 4, 0);
}

/* RFC 792's minimum quote: the IP header and 8 bytes, no TCP checksum to fix. */
static void v4_frag_needed_short_quote_rewritten(void **state)
{
	struct conv c = { .client = "198.51.100.7", .vip = "198.51.100.100",
			  .backend = "192.0.2.10", 40013, 80, 8080, IPPROTO_TCP };

	too_big_rewritten(&c, *state, 3, 4, 28);
}

static void v6_packet_too_big_rewritten_for_the_client(void **state)
{
	struct conv c = { .client = "2001:db8:1::7", .vip = "2001:db8:1::100",
			  .backend = "2001:db8:3::1", 5014, 53, 5353, IPPROTO_UDP };

	too_big_rewritten(&c, *state, 2, 0, 0);
}

/* About no flow of ours: passed exactly as it came, and not counted as rewritten. */
static void too_big_for_no_flow_untouched(void **state)
{
	struct conv c = { .client = "198.51.100.7", .vip = "198.51.100.100",
			  .backend = "192.0.2.10", 40015, 80, 8080, IPPROTO_TCP };
	struct pkt_spec other;
	__u8 in[PKT_MAX], out[PKT_MAX];
	struct dp_stats ds;
	__u32 out_len;
	size_t len;

	conv_start(&c, *state, 0);
	other = conv_spec(&c, true, F_ACK, NULL);
	assert_int_equal(addr_parse(c.backend, other.daddr), 0);
	other.dport = c.bport;
	len = icmp_quoting(&c, "203.0.113.254", 3, 4, &other, 0, in);
	assert_int_equal(env_run_from(c.env, c.env->if_backend, in, len, out, &out_len), XDP_PASS);
	assert_packet_equal(out, out_len, in, len);
	assert_int_equal(stats_passed(&c.env->dp, CANARY_DP_PMTU_REWRITTEN, &ds), 0);
	assert_int_equal(ds.packets, 0);
}

/*
 * A client that forges its backend's packets from the clients' side: a RST (which would count
 * as refused and end the flow) and a port unreachable "from the backend". Neither is taken: the
 * flow's replies come only by the interface it leaves by towards its backend.
 */
static void v4_backend_packets_forged_from_the_client_side(void **state)
{
	struct conv c = { .client = "198.51.100.7", .vip = "198.51.100.100",
			  .backend = "192.0.2.10", 40016, 80, 8080, IPPROTO_TCP };
	struct pkt_spec rst, quoted;
	__u8 in[PKT_MAX], out[PKT_MAX];
	struct syn_entry se;
	struct dp_stats ds;
	__u32 out_len;
	size_t len;

	conv_start(&c, *state, 0);
	client_sends(&c, F_SYN, NULL);
	assert_true(syn_entry_of(&c, &se));
	assert_int_equal(se.fv.be_ifindex, c.env->if_backend);
	rst = conv_spec(&c, false, F_RST | F_ACK, NULL);
	len = pkt_build(&rst, in);
	assert_int_equal(env_run_from(c.env, c.env->if_client, in, len, out, &out_len), XDP_PASS);
	assert_packet_equal(out, out_len, in, len);
	quoted = conv_spec(&c, true, F_SYN, NULL);
	assert_int_equal(addr_parse(c.backend, quoted.daddr), 0);
	quoted.dport = c.bport;
	len = icmp_quoting(&c, c.backend, 3, 3, &quoted, 0, in);
	assert_int_equal(env_run_from(c.env, c.env->if_client, in, len, out, &out_len), XDP_PASS);
	assert_packet_equal(out, out_len, in, len);
	assert_int_equal(conv_stats(&c).rst_refused + conv_stats(&c).icmp_unreach, 0);
	assert_int_equal(stats_passed(&c.env->dp, CANARY_DP_REPLY_WRONG_SIDE, &ds), 0);
	assert_int_equal(ds.packets, 2);
	/* The flow is untouched: the real backend's RST, by its own side, still counts. */
	assert_true(syn_pending(&c));
	backend_says(&c, F_RST | F_ACK, NULL);
	assert_int_equal(conv_stats(&c).rst_refused, 1);
	assert_retired(&c);
}

/* A datapath loaded with short timeouts (in ns), in place of the test's own. */
static void reload_with_timeouts(struct dp_env *env, __u64 timeout_ns)
{
	struct canary_dp_opts opts = { .flow_entries = 4096, .syn_timeout_ns = timeout_ns,
				       .udp_idle_ns = timeout_ns };

	canary_dp_close(&env->dp);
	assert_int_equal(env_open(env, &opts), 0);
}

static void unanswered_syn_counted_once(void **state)
{
	struct conv c = { .client = "198.51.100.7", .vip = "198.51.100.100",
			  .backend = "192.0.2.10", 40007, 80, 8080, IPPROTO_TCP };

	/*
	 * The flow clock is coarse (a jiffy is 4 ms at HZ=250) and a guest under TCG can stall
	 * between two runs, so "before the timeout" needs a timeout far longer than either.
	 */
	reload_with_timeouts(*state, 300000000);
	conv_start(&c, *state, 0);
	client_sends(&c, F_SYN, NULL);
	client_sends(&c, F_SYN, NULL);	/* a retransmission before the timeout */
	assert_int_equal(conv_stats(&c).syn_timeout, 0);
	usleep(400000);
	client_sends(&c, F_SYN, NULL);
	client_sends(&c, F_SYN, NULL);
	assert_int_equal(conv_stats(&c).syn_timeout, 1);
}

/*
 * A midstream flow had no SYN to leave unanswered: a client RST long after its first packet is
 * no SYN timeout. A SYN on its tuple starts a connection whose SYN can time out.
 */
static void midstream_flow_no_syn_timeout(void **state)
{
	struct conv c = { .client = "198.51.100.7", .vip = "198.51.100.100",
			  .backend = "192.0.2.10", 40011, 80, 8080, IPPROTO_TCP };

	reload_with_timeouts(*state, 1000000);
	conv_start(&c, *state, 0);
	client_sends(&c, F_FIN | F_ACK, NULL);
	usleep(20000);
	client_sends(&c, F_FIN | F_ACK, NULL);	/* a retransmission of the stray */
	client_sends(&c, F_RST, NULL);
	assert_int_equal(conv_stats(&c).syn_timeout, 0);
	assert_int_equal(conv_stats(&c).flows_closed, 1);
	assert_false(flow_present(&c));

	client_sends(&c, F_ACK, NULL);
	client_sends(&c, F_SYN, NULL);
	usleep(20000);
	client_sends(&c, F_SYN, NULL);
	assert_int_equal(conv_stats(&c).syn_timeout, 1);
}

static void idle_udp_flow_decided_again(void **state)
{
	struct conv c = { .client = "198.51.100.7", .vip = "198.51.100.100",
			  .backend = "192.0.2.10", 5001, 53, 5353, IPPROTO_UDP };
	struct ver_stats vs;

	reload_with_timeouts(*state, 1000000);
	conv_start(&c, *state, 0);
	client_sends(&c, 0, NULL);
	usleep(50000);		/* the coarse clock moves by jiffies */
	client_sends(&c, 0, NULL);
	vs = conv_stats(&c);
	assert_int_equal(vs.flows_expired, 1);
	assert_int_equal(vs.new_flows, 2);
}

#define REPLY_TEST(fn) cmocka_unit_test_setup_teardown(fn, env_setup, env_teardown)

static const struct CMUnitTest reply_tests[] = {
	REPLY_TEST(v4_tcp_reply_remote),
	REPLY_TEST(v6_udp_reply_remote),
	REPLY_TEST(v6_tcp_reply_remote),
	REPLY_TEST(v4_udp_reply_remote),
	REPLY_TEST(v4_tcp_reply_local_tc),
	REPLY_TEST(v6_udp_reply_local_tc),
	REPLY_TEST(v4_udp_reply_keeps_zero_checksum),
	REPLY_TEST(rst_answering_syn_is_refused),
	REPLY_TEST(rst_after_handshake_is_midflow),
	REPLY_TEST(fin_both_ways_retires_on_last_ack),
	REPLY_TEST(rst_after_fins_closes_once),
	REPLY_TEST(stray_fin_after_close_reset_not_refused),
	REPLY_TEST(midstream_flow_local_no_handshake_no_error),
	REPLY_TEST(syn_after_stray_is_new_connection),
	REPLY_TEST(http_status_lines_per_request),
	REPLY_TEST(http_not_read_on_plain_services),
	REPLY_TEST(reply_without_flow_counted),
	REPLY_TEST(v4_icmp_port_unreachable_remote),
	REPLY_TEST(v6_icmp_port_unreachable_local),
	REPLY_TEST(v4_icmp_forgeries_not_counted),
	REPLY_TEST(v6_icmp_forgeries_not_counted),
	REPLY_TEST(v4_frag_needed_rewritten_for_the_client),
	REPLY_TEST(v4_frag_needed_short_quote_rewritten),
	REPLY_TEST(v6_packet_too_big_rewritten_for_the_client),
	REPLY_TEST(too_big_for_no_flow_untouched),
	REPLY_TEST(v4_backend_packets_forged_from_the_client_side),
	REPLY_TEST(unanswered_syn_counted_once),
	REPLY_TEST(midstream_flow_no_syn_timeout),
	REPLY_TEST(idle_udp_flow_decided_again),
};

const struct test_group reply_group = { "reply", reply_tests,
					 sizeof(reply_tests) / sizeof(reply_tests[0]) };
