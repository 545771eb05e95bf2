// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The Prometheus exporter: text format 0.0.4 on /metrics, served by libmicrohttpd from the
 * agent's own poll loop (no thread), so that a scrape reads the maps between two other events.
 * Counters are the datapath's, summed over CPUs at scrape time; nothing is cached.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <microhttpd.h>

#include "addr.h"
#include "canaryd.h"
#include "exporter.h"
#include "stats.h"
#include "svc.h"

/* Label values: backslash, double quote and newline escaped. */
void label_value(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', f);
		if (*v == '\n') {
			fputs("\\n", f);
			continue;
		}
		fputc(*v, f);
	}
}

void metric_header(FILE *f, const struct metric *m)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", m->name, m->help, m->name, m->type);
}

static void sample_start(FILE *f, const char *name, const char *suffix, const char *service,
			 const char *version)
{
	fprintf(f, "%s%s{service=\"", name, suffix);
	label_value(f, service);
	fputs("\",version=\"", f);
	label_value(f, version);
	fputc('"', f);
}

static const struct metric ver_metrics[] = {
	{ "xdp_canary_packets_total", "counter", "Packets sent towards a backend, per version." },
	{ "xdp_canary_bytes_total", "counter", "Bytes sent towards a backend (L2 included)." },
	{ "xdp_canary_flows_total", "counter",
	  "New flows of the version: TCP once its handshake completes (or is refused, or times "
	  "out), UDP when decided." },
	{ "xdp_canary_override_flows_total", "counter", "New flows an override prefix decided." },
	{ "xdp_canary_reply_packets_total", "counter", "Backend to client packets, per version." },
	{ "xdp_canary_reply_bytes_total", "counter", "Backend to client bytes, per version." },
	{ "xdp_canary_http_responses_total", "counter", "HTTP responses seen (first segments)." },
	{ "xdp_canary_http_unparsed_total", "counter", "Responses without an HTTP/1.x status." },
	{ "xdp_canary_flows_closed_total", "counter", "Flows ended by FIN both ways or RST." },
	{ "xdp_canary_flows_expired_total", "counter", "Idle UDP flows decided again." },
	{ "xdp_canary_fallback_flows_total", "counter",
	  "New flows this version's pool had no healthy backend for, sent to the other version." },
	{ "xdp_canary_syns_total", "counter",
	  "TCP handshakes begun (SYNs decided, not their retransmissions). A SYN alone is not a "
	  "new flow: spoofed SYNs show here, not in flows_total." },
	{ "xdp_canary_midstream_flows_total", "counter",
	  "TCP flows first seen without a handshake (a stray segment, a spoofed ACK, a connection "
	  "older than its entry); not in flows_total." },
	{ "xdp_canary_table_full_packets_total", "counter",
	  "Packets of connections the flow table had no room for (served from the SYN cache while "
	  "their handshake lasts there, or decided packet by packet)." },
};

static const size_t ver_offsets[] = {
	offsetof(struct ver_stats, packets), offsetof(struct ver_stats, bytes),
	offsetof(struct ver_stats, new_flows), offsetof(struct ver_stats, override_flows),
	offsetof(struct ver_stats, reply_packets), offsetof(struct ver_stats, reply_bytes),
	offsetof(struct ver_stats, http_responses), offsetof(struct ver_stats, http_unparsed),
	offsetof(struct ver_stats, flows_closed), offsetof(struct ver_stats, flows_expired),
	offsetof(struct ver_stats, fallback_flows), offsetof(struct ver_stats, syns),
	offsetof(struct ver_stats, midstream), offsetof(struct ver_stats, table_full),
};

_Static_assert(sizeof(ver_metrics) / sizeof(ver_metrics[0]) ==
	       sizeof(ver_offsets) / sizeof(ver_offsets[0]), "a counter for every metric");

static const struct { const char *outcome; size_t off; } fwd_outcomes[] = {
	{ "local", offsetof(struct ver_stats, fwd_local) },
	{ "tx", offsetof(struct ver_stats, fwd_tx) },
	{ "redirect", offsetof(struct ver_stats, fwd_redirect) },
	{ "stack", offsetof(struct ver_stats, fwd_stack) },
	{ "no_neigh", offsetof(struct ver_stats, no_neigh) },
	{ "fib_fail", offsetof(struct ver_stats, fib_fail) },
	{ "redirect_fail", offsetof(struct ver_stats, redirect_fail) },
};

/* Every configured service's sample, read once a scrape. */
struct scrape {
	struct canaryd *d;
	struct svc_sample *s;		/* by index in cfg.services */
	bool *ok;
};

#define FOR_EACH_VERSION(sc, i, v)						\
	for (unsigned int i = 0; i < (sc)->d->cfg.nservices; i++)		\
		if ((sc)->ok[i])						\
			for (unsigned int v = 0; v < CANARY_V_MAX; v++)

static void ver_counters(FILE *f, const struct scrape *sc)
{
	for (size_t m = 0; m < sizeof(ver_metrics) / sizeof(ver_metrics[0]); m++) {
		metric_header(f, &ver_metrics[m]);
		FOR_EACH_VERSION(sc, i, v) {
			sample_start(f, ver_metrics[m].name, "", sc->d->cfg.services[i].name,
				     version_names[v]);
			fprintf(f, "} %llu\n", ver_counter(&sc->s[i].v[v].vs, ver_offsets[m]));
		}
	}
}

static void errors(FILE *f, const struct scrape *sc)
{
	static const struct metric m = { "xdp_canary_errors_total", "counter",
		"Errors by kind: refused, reset, syn_timeout, unreachable, no_backend, http_5xx, "
		"http_4xx." };

	metric_header(f, &m);
	FOR_EACH_VERSION(sc, i, v)
		for (unsigned int k = 0; k < err_kinds_n; k++) {
			sample_start(f, m.name, "", sc->d->cfg.services[i].name, version_names[v]);
			fprintf(f, ",kind=\"%s\"} %llu\n", err_kinds[k].name,
				ver_counter(&sc->s[i].v[v].vs, err_kinds[k].off));
		}
}

static void forwards(FILE *f, const struct scrape *sc)
{
	static const struct metric m = { "xdp_canary_forward_total", "counter",
		"Packets towards backends by how they left: local, tx, redirect, stack, or passed "
		"to the kernel for no_neigh, fib_fail, redirect_fail." };

	metric_header(f, &m);
	FOR_EACH_VERSION(sc, i, v)
		for (size_t o = 0; o < sizeof(fwd_outcomes) / sizeof(fwd_outcomes[0]); o++) {
			sample_start(f, m.name, "", sc->d->cfg.services[i].name, version_names[v]);
			fprintf(f, ",outcome=\"%s\"} %llu\n", fwd_outcomes[o].outcome,
				ver_counter(&sc->s[i].v[v].vs, fwd_outcomes[o].off));
		}
}

static void histogram(FILE *f, const struct scrape *sc, unsigned int kind)
{
	static const struct metric ms[CANARY_HIST_MAX] = {
		{ "xdp_canary_handshake_seconds", "histogram",
		  "SYN forwarded to SYN-ACK seen, per version." },
		{ "xdp_canary_ttfb_seconds", "histogram",
		  "HTTP: first request byte forwarded to first response byte, per version." },
	};
	const struct metric *m = &ms[kind];

	metric_header(f, m);
	FOR_EACH_VERSION(sc, i, v) {
		const struct lat_hist *h = &sc->s[i].v[v].hist[kind];
		const char *svc = sc->d->cfg.services[i].name;
		__u64 cum = 0;

		for (unsigned int b = 0; b < CANARY_HIST_BUCKETS; b++) {
			double le = hist_bucket_le(b);

			cum += h->bucket[b];
			sample_start(f, m->name, "_bucket", svc, version_names[v]);
			if (isinf(le))
				fprintf(f, ",le=\"+Inf\"} %llu\n", cum);
			else
				fprintf(f, ",le=\"%.6g\"} %llu\n", le, cum);
		}
		sample_start(f, m->name, "_sum", svc, version_names[v]);
		fprintf(f, "} %.6f\n", h->sum_us / 1e6);
		sample_start(f, m->name, "_count", svc, version_names[v]);
		fprintf(f, "} %llu\n", cum);
	}
}

static void weights(FILE *f, const struct scrape *sc)
{
	static const struct metric m = { "xdp_canary_weight_ratio", "gauge",
		"Share of new flows each version gets, 0..1." };
	static const struct metric g = { "xdp_canary_generation", "gauge",
		"Service generation; a hard rollback adds one." };
	struct canaryd *d = sc->d;

	metric_header(f, &m);
	FOR_EACH_VERSION(sc, i, v) {
		struct state_svc *s = state_svc_find(d->state, d->cfg.services[i].name);
		struct svc_state st;

		if (!s || svc_state_read(&d->dp, s->id, &st))
			continue;
		sample_start(f, m.name, "", d->cfg.services[i].name, version_names[v]);
		fprintf(f, "} %.4f\n", (v == CANARY_V_CANARY ? st.weight :
					CANARY_WEIGHT_MAX - st.weight) / 10000.0);
	}
	metric_header(f, &g);
	for (unsigned int i = 0; i < d->cfg.nservices; i++) {
		struct state_svc *s = state_svc_find(d->state, d->cfg.services[i].name);
		struct svc_state st;

		if (!s || svc_state_read(&d->dp, s->id, &st))
			continue;
		fputs("xdp_canary_generation{service=\"", f);
		label_value(f, d->cfg.services[i].name);
		fprintf(f, "\"} %u\n", st.gen);
	}
}

/* One backend's three samples, each into its own metric's stream. */
static void backend_samples(FILE *out[3], const char *const names[3], const char *service,
			    unsigned int v, const struct backend *be, const struct be_stats *bs)
{
	const __u64 vals[3] = { bs->packets, bs->bytes, bs->new_flows };
	char ep[CANARY_ENDPOINTSTRLEN];

	endpoint_format(be->addr, be->port, ep, sizeof(ep));
	for (unsigned int m = 0; m < 3; m++) {
		sample_start(out[m], names[m], "", service, version_names[v]);
		fputs(",backend=\"", out[m]);
		label_value(out[m], ep);
		fprintf(out[m], "\"} %llu\n", vals[m]);
	}
}

/*
 * Each backend's per-CPU counters are read once; its three samples go to three streams, printed
 * one metric after the other (the text format groups a metric's samples).
 */
static void backends(FILE *f, struct canaryd *d)
{
	static const struct metric ms[3] = {
		{ "xdp_canary_backend_packets_total", "counter", "Packets sent to the backend." },
		{ "xdp_canary_backend_bytes_total", "counter", "Bytes sent to the backend." },
		{ "xdp_canary_backend_flows_total", "counter", "New flows sent to the backend." },
	};
	const char *const names[3] = { ms[0].name, ms[1].name, ms[2].name };
	char *buf[3] = { NULL };
	size_t len[3];
	FILE *out[3];

	for (unsigned int m = 0; m < 3; m++)
		out[m] = open_memstream(&buf[m], &len[m]);
	for (unsigned int i = 0; out[0] && out[1] && out[2] && i < d->cfg.nservices; i++) {
		const struct cfg_service *svc = &d->cfg.services[i];
		struct state_svc *s = state_svc_find(d->state, svc->name);

		for (unsigned int v = 0; s && v < CANARY_V_MAX; v++)
			for (unsigned int b = 0; b < svc->npool[v]; b++) {
				struct be_stats bs;

				if (!stats_backend(&d->dp, s->id, v, b, &bs))
					backend_samples(out, names, svc->name, v, &svc->pool[v][b],
							&bs);
			}
	}
	for (unsigned int m = 0; m < 3; m++) {
		metric_header(f, &ms[m]);
		if (out[m])
			fclose(out[m]);
		if (buf[m])
			fwrite(buf[m], 1, len[m], f);
		free(buf[m]);
	}
}

/* What the datapath did with the packets each dp_stats reason counts. */
static const struct { const char *reason, *action; } dp_reasons[] = {
	[CANARY_DP_FRAGMENT] = { "fragment", "pass" },
	[CANARY_DP_TRUNCATED] = { "truncated", "pass" },
	[CANARY_DP_BAD_HEADER] = { "bad_header", "pass" },
	[CANARY_DP_VLAN_DEPTH] = { "vlan_depth", "pass" },
	[CANARY_DP_REPLY_NO_FLOW] = { "reply_no_flow", "pass" },
	[CANARY_DP_TC_REWRITE_FAIL] = { "tc_rewrite_failed", "drop" },
	[CANARY_DP_PMTU_REWRITTEN] = { "pmtu_rewritten", "pass" },
	[CANARY_DP_REPLY_WRONG_SIDE] = { "reply_wrong_side", "pass" },
	[CANARY_DP_SYN_DISPLACED] = { "syn_displaced", "forward" },
	[CANARY_DP_SPLIT_HEADERS] = { "split_headers", "pass" },
	[CANARY_DP_OTHER_HOST] = { "other_host", "pass" },
	[CANARY_DP_OTHER_HOST_DROP] = { "other_host", "drop" },
};

_Static_assert(sizeof(dp_reasons) / sizeof(dp_reasons[0]) == CANARY_DP_MAX,
	       "a name for every dp_stats reason");

static void datapath(FILE *f, struct canaryd *d)
{
	static const struct metric m = { "xdp_canary_exception_packets_total", "counter",
		"Packets the datapath passed outside the split (action pass) or dropped, by "
		"reason; syn_displaced: SYNs split as usual (action forward) that took the SYN "
		"cache slot of a handshake still in progress." };

	metric_header(f, &m);
	for (unsigned int r = 0; r < CANARY_DP_MAX; r++) {
		struct dp_stats ds;

		if (stats_passed(&d->dp, r, &ds))
			continue;
		fprintf(f, "%s{reason=\"%s\",action=\"%s\"} %llu\n", m.name, dp_reasons[r].reason,
			dp_reasons[r].action, ds.packets);
	}
}

/* The flow table as the last sweep found it; its size and use are not known before one. */
static void flow_table(FILE *f, struct canaryd *d)
{
	static const struct metric ms[] = {
		{ "xdp_canary_flow_entries", "gauge",
		  "Entries in the flow table (one a connection) after the last sweep." },
		{ "xdp_canary_flow_capacity", "gauge",
		  "Entries the flow table holds (flow_entries); a full one gives new connections "
		  "none." },
		{ "xdp_canary_flows_swept_total", "counter",
		  "Idle flow entries the sweep removed since canaryd started." },
	};
	const struct sweep_rt *s = &d->sweep;

	metric_header(f, &ms[0]);
	if (s->ran)
		fprintf(f, "%s %llu\n", ms[0].name, s->in_use);
	metric_header(f, &ms[1]);
	if (s->ran)
		fprintf(f, "%s %u\n", ms[1].name, s->capacity);
	metric_header(f, &ms[2]);
	fprintf(f, "%s %llu\n", ms[2].name, s->swept_total);
}

static void agent(FILE *f, struct canaryd *d)
{
	const struct agent_counters *c = &d->counters;

	fputs("# HELP xdp_canary_agent_up canaryd answers.\n# TYPE xdp_canary_agent_up gauge\n"
	      "xdp_canary_agent_up 1\n", f);
	fprintf(f, "# HELP xdp_canary_agent_start_time_seconds When canaryd started.\n"
		"# TYPE xdp_canary_agent_start_time_seconds gauge\n"
		"xdp_canary_agent_start_time_seconds %.3f\n", d->start_ms / 1000.0);
	fprintf(f, "# HELP xdp_canary_agent_reloads_total Config reloads by result.\n"
		"# TYPE xdp_canary_agent_reloads_total counter\n"
		"xdp_canary_agent_reloads_total{result=\"ok\"} %llu\n"
		"xdp_canary_agent_reloads_total{result=\"failed\"} %llu\n",
		c->reloads_ok, c->reloads_failed);
	fprintf(f, "# HELP xdp_canary_agent_config_last_reload_ok The last reload applied.\n"
		"# TYPE xdp_canary_agent_config_last_reload_ok gauge\n"
		"xdp_canary_agent_config_last_reload_ok %d\n", d->last_reload_ok);
	fprintf(f, "# HELP xdp_canary_agent_control_requests_total Control socket requests.\n"
		"# TYPE xdp_canary_agent_control_requests_total counter\n"
		"xdp_canary_agent_control_requests_total{result=\"served\"} %llu\n"
		"xdp_canary_agent_control_requests_total{result=\"denied\"} %llu\n",
		c->control_requests - c->control_denied, c->control_denied);
	fprintf(f, "# HELP xdp_canary_agent_scrapes_total Scrapes served, this one included.\n"
		"# TYPE xdp_canary_agent_scrapes_total counter\n"
		"xdp_canary_agent_scrapes_total %llu\n", c->scrapes);
	fprintf(f, "# HELP xdp_canary_agent_sample_errors_total Failed reads of the counters.\n"
		"# TYPE xdp_canary_agent_sample_errors_total counter\n"
		"xdp_canary_agent_sample_errors_total %llu\n", c->sample_errors);
	fputs("# HELP xdp_canary_attached Programs attached, by interface, hook (xdp and tc_ingress: the forward program; tc: the local-reply program at egress) and mode.\n"
	      "# TYPE xdp_canary_attached gauge\n", f);
	for (unsigned int i = 0; i < d->nifaces; i++) {
		const struct iface_rt *rt = &d->ifaces[i];

		if (rt->xdp)
			fprintf(f, "xdp_canary_attached{interface=\"%s\",hook=\"xdp\",mode=\"%s\"} 1\n",
				rt->name, canary_xdp_mode_name(rt->xdp_mode));
		if (rt->tc_in)
			fprintf(f, "xdp_canary_attached{interface=\"%s\",hook=\"tc_ingress\","
				"mode=\"%s\"} 1\n", rt->name, canary_tc_mode_name(rt->tc_in_mode));
		if (rt->tc)
			fprintf(f, "xdp_canary_attached{interface=\"%s\",hook=\"tc\",mode=\"%s\"} 1\n",
				rt->name, canary_tc_mode_name(rt->tc_mode));
	}
}

static void scrape_read(struct scrape *sc)
{
	struct canaryd *d = sc->d;

	for (unsigned int i = 0; i < d->cfg.nservices; i++) {
		struct state_svc *s = state_svc_find(d->state, d->cfg.services[i].name);

		sc->ok[i] = s && !sample_read(&d->dp, s->id, &sc->s[i]);
		if (s && !sc->ok[i])
			d->counters.sample_errors++;
	}
}

static char *render(struct canaryd *d, size_t *len)
{
	struct scrape sc = { .d = d };
	char *buf = NULL;
	FILE *f;

	sc.s = calloc(d->cfg.nservices + 1, sizeof(*sc.s));
	sc.ok = calloc(d->cfg.nservices + 1, sizeof(*sc.ok));
	f = open_memstream(&buf, len);
	if (!sc.s || !sc.ok || !f) {
		free(sc.s);
		free(sc.ok);
		if (f)
			fclose(f);
		free(buf);
		return NULL;
	}
	scrape_read(&sc);
	weights(f, &sc);
	ver_counters(f, &sc);
	errors(f, &sc);
	forwards(f, &sc);
	for (unsigned int k = 0; k < CANARY_HIST_MAX; k++)
		histogram(f, &sc, k);
	backends(f, d);
	datapath(f, d);
	flow_table(f, d);
	rollout_metrics(f, d);
	agent(f, d);
	fclose(f);
	free(sc.s);
	free(sc.ok);
	return buf;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_len, void **con_cls)
{
	struct canaryd *d = cls;
	struct MHD_Response *resp;
	unsigned int status = MHD_HTTP_OK;
	enum MHD_Result ret;
	size_t len = 0;
	char *body;

	(void)version, (void)upload, (void)upload_len, (void)con_cls;
	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		status = MHD_HTTP_METHOD_NOT_ALLOWED;
		body = strdup("GET /metrics\n");
	} else if (strcmp(url, "/metrics")) {
		status = MHD_HTTP_NOT_FOUND;
		body = strdup("xdp-canary exporter: metrics are on /metrics\n");
	} else {
		d->counters.scrapes++;
		body = render(d, &len);
		if (!body) {
			status = MHD_HTTP_INTERNAL_SERVER_ERROR;
			body = strdup("out of memory\n");
		}
	}
	if (!body)
		return MHD_NO;
	if (status != MHD_HTTP_OK)
		len = strlen(body);
	resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type",
				status == MHD_HTTP_OK ? "text/plain; version=0.0.4; charset=utf-8"
						      : "text/plain");
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

int exporter_start(struct canaryd *d, char *err, size_t errlen)
{
	if (!d->cfg.exporter_on)
		return 0;
	d->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, answer, d,
				  MHD_OPTION_SOCK_ADDR, &d->cfg.exporter_addr,
				  MHD_OPTION_CONNECTION_TIMEOUT, 10U,
				  MHD_OPTION_CONNECTION_LIMIT, 64U, MHD_OPTION_END);
	if (!d->mhd) {
		snprintf(err, errlen, "exporter: listen on %s: %s", d->cfg.exporter_listen,
			 strerror(errno ?: EADDRINUSE));
		return -1;
	}
	return 0;
}

int exporter_poll_fd(struct canaryd *d)
{
	const union MHD_DaemonInfo *info;

	if (!d->mhd)
		return -1;
	info = MHD_get_daemon_info(d->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	return info ? info->epoll_fd : -1;
}

int exporter_timeout_ms(struct canaryd *d)
{
	MHD_UNSIGNED_LONG_LONG ms;

	if (!d->mhd || MHD_get_timeout(d->mhd, &ms) != MHD_YES)
		return -1;
	return ms > 60000 ? 60000 : (int)ms;
}

void exporter_run(struct canaryd *d)
{
	if (d->mhd)
		MHD_run(d->mhd);
}

void exporter_stop(struct canaryd *d)
{
	if (d->mhd)
		MHD_stop_daemon(d->mhd);
	d->mhd = NULL;
}
