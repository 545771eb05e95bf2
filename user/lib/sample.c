// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <math.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

#include "sample.h"
#include "stats.h"

#define VS(field)	offsetof(struct ver_stats, field)

const struct err_kind err_kinds[] = {
	{ "refused", VS(rst_refused), VS(new_flows), "the backend answered the SYN with a RST" },
	{ "reset", VS(rst_midflow), VS(new_flows), "the backend reset an established connection" },
	{ "syn_timeout", VS(syn_timeout), VS(new_flows), "the backend left a SYN unanswered" },
	{ "unreachable", VS(icmp_unreach), VS(new_flows), "ICMP unreachable for a flow" },
	{ "no_backend", VS(no_backend), VS(packets), "dropped: no backend in either version's pool" },
	{ "http_5xx", VS(http_5xx), VS(http_responses), "HTTP responses with status 5xx" },
	{ "http_4xx", VS(http_4xx), VS(http_responses), "HTTP responses with status 4xx" },
};
const unsigned int err_kinds_n = sizeof(err_kinds) / sizeof(err_kinds[0]);

const char *const hist_names[CANARY_HIST_MAX] = { "handshake", "ttfb" };
const char *const version_names[CANARY_V_MAX] = { "stable", "canary" };

__u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int sample_read(struct canary_dp *dp, __u32 svc_id, struct svc_sample *out)
{
	int ret;

	memset(out, 0, sizeof(*out));
	for (unsigned int v = 0; v < CANARY_V_MAX; v++) {
		ret = stats_ver(dp, svc_id, v, &out->v[v].vs);
		for (unsigned int k = 0; !ret && k < CANARY_HIST_MAX; k++)
			ret = stats_hist(dp, svc_id, v, k, &out->v[v].hist[k]);
		if (ret)
			return ret;
	}
	out->mono_ns = mono_ns();
	return 0;
}

double hist_bucket_le(unsigned int i)
{
	if (i >= CANARY_HIST_BUCKETS - 1)
		return INFINITY;
	return ldexp(1.0, i + 1) / 1e6;
}

static double bucket_low(unsigned int i)
{
	return i == 0 ? 0.0 : ldexp(1.0, i) / 1e6;
}

double hist_quantile(const struct lat_hist *h, double q)
{
	__u64 total = 0, seen = 0;
	double rank;

	for (unsigned int i = 0; i < CANARY_HIST_BUCKETS; i++)
		total += h->bucket[i];
	if (!total)
		return NAN;
	rank = q * total;
	for (unsigned int i = 0; i < CANARY_HIST_BUCKETS; i++) {
		double lo = bucket_low(i), hi;

		if (!h->bucket[i] || seen + h->bucket[i] < rank) {
			seen += h->bucket[i];
			continue;
		}
		/* The open last bucket has no upper bound: report its lower one. */
		if (i == CANARY_HIST_BUCKETS - 1)
			return lo;
		hi = hist_bucket_le(i);
		return lo + (hi - lo) * (rank - seen) / h->bucket[i];
	}
	return bucket_low(CANARY_HIST_BUCKETS - 1);
}

json_t *json_number_or_null(double x)
{
	if (isnan(x))
		return json_null();
	if (isinf(x))
		return json_string(x > 0 ? "+Inf" : "-Inf");
	return json_real(x);
}

void hist_sub(const struct lat_hist *a, const struct lat_hist *b, struct lat_hist *out)
{
	out->count = a->count - b->count;
	out->sum_us = a->sum_us - b->sum_us;
	for (unsigned int i = 0; i < CANARY_HIST_BUCKETS; i++)
		out->bucket[i] = a->bucket[i] - b->bucket[i];
}

static json_t *errors_json(const struct ver_stats *cur, const struct ver_stats *old)
{
	json_t *errs = json_object();

	for (unsigned int i = 0; i < err_kinds_n; i++) {
		const struct err_kind *k = &err_kinds[i];
		__u64 n = ver_counter(cur, k->off), of = ver_counter(cur, k->of_off);
		__u64 wn = old ? n - ver_counter(old, k->off) : n;
		__u64 wof = old ? of - ver_counter(old, k->of_off) : of;

		json_object_set_new(errs, k->name,
				    json_pack("{sI sI so}", "total", (json_int_t)n, "window",
					      (json_int_t)wn, "ratio",
					      json_number_or_null(wof ? (double)wn / wof : NAN)));
	}
	return errs;
}

static json_t *latency_json(const struct ver_sample *cur, const struct ver_sample *old)
{
	json_t *lat = json_object();
	struct lat_hist w;

	for (unsigned int k = 0; k < CANARY_HIST_MAX; k++) {
		if (old)
			hist_sub(&cur->hist[k], &old->hist[k], &w);
		else
			w = cur->hist[k];
		json_object_set_new(lat, hist_names[k],
				    json_pack("{sI so so so}", "samples", (json_int_t)w.count,
					      "p50_s", json_number_or_null(hist_quantile(&w, 0.50)),
					      "p95_s", json_number_or_null(hist_quantile(&w, 0.95)),
					      "p99_s", json_number_or_null(hist_quantile(&w, 0.99))));
	}
	return lat;
}

static json_t *rate_json(__u64 cur, __u64 old, double secs)
{
	return secs > 0 ? json_real((cur - old) / secs) : json_null();
}

json_t *sample_version_json(const struct svc_sample *old, const struct svc_sample *cur,
			    unsigned int version)
{
	const struct ver_sample *c = &cur->v[version];
	const struct ver_sample *o = old && old->mono_ns ? &old->v[version] : NULL;
	double secs = o ? (cur->mono_ns - old->mono_ns) / 1e9 : 0;
	const struct ver_stats *ovs = o ? &o->vs : NULL;

	return json_pack("{sI sI sI sI sI sI sI sI so so so so so}",
			 "flows_total", (json_int_t)c->vs.new_flows,
			 "packets_total", (json_int_t)c->vs.packets,
			 "bytes_total", (json_int_t)c->vs.bytes,
			 "http_responses_total", (json_int_t)c->vs.http_responses,
			 "fallback_flows_total", (json_int_t)c->vs.fallback_flows,
			 "syns_total", (json_int_t)c->vs.syns,
			 "midstream_flows_total", (json_int_t)c->vs.midstream,
			 "table_full_packets_total", (json_int_t)c->vs.table_full,
			 "flows_per_s", rate_json(c->vs.new_flows, ovs ? ovs->new_flows : 0, secs),
			 "packets_per_s", rate_json(c->vs.packets, ovs ? ovs->packets : 0, secs),
			 "bytes_per_s", rate_json(c->vs.bytes, ovs ? ovs->bytes : 0, secs),
			 "errors", errors_json(&c->vs, ovs),
			 "latency", latency_json(c, o));
}
