/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A service's counters at one instant, and what two instants say: rates, error ratios and
 * latency quantiles over the window between them. The agent samples every second and keeps a
 * short ring; canaryctl, with no agent, samples twice.
 */
#ifndef XDP_CANARY_SAMPLE_H
#define XDP_CANARY_SAMPLE_H

#include <stddef.h>
#include <jansson.h>

#include "canary_abi.h"
#include "dp.h"

struct ver_sample {
	struct ver_stats vs;
	struct lat_hist hist[CANARY_HIST_MAX];
};

struct svc_sample {
	__u64 mono_ns;		/* CLOCK_MONOTONIC; 0: no sample */
	struct ver_sample v[CANARY_V_MAX];
};

/* An error kind: a ver_stats counter, and what it is a share of. */
struct err_kind {
	const char *name;	/* as in metrics and status: "refused", "http_5xx", ... */
	size_t off;		/* offsetof(struct ver_stats, counter) */
	size_t of_off;		/* the denominator: new_flows or http_responses */
	const char *help;
};

extern const struct err_kind err_kinds[];
extern const unsigned int err_kinds_n;

extern const char *const hist_names[CANARY_HIST_MAX];	/* "handshake", "ttfb" */
extern const char *const version_names[CANARY_V_MAX];	/* "stable", "canary" */

static inline __u64 ver_counter(const struct ver_stats *vs, size_t off)
{
	return *(const __u64 *)((const char *)vs + off);
}

int sample_read(struct canary_dp *dp, __u32 svc_id, struct svc_sample *out);

__u64 mono_ns(void);

/*
 * The @q quantile (0..1) of a log2 microsecond histogram, in seconds, interpolated inside the
 * bucket it falls in (so within a factor of two); NAN when it is empty.
 */
double hist_quantile(const struct lat_hist *h, double q);

/* A number, or null when it is NaN (JSON has no NaN); ±Inf as the strings "+Inf", "-Inf". */
json_t *json_number_or_null(double x);

/* @a - @b, bucket by bucket: a histogram of what happened between two samples. */
void hist_sub(const struct lat_hist *a, const struct lat_hist *b, struct lat_hist *out);

/* The upper bound of bucket @i in seconds (INFINITY for the last). */
double hist_bucket_le(unsigned int i);

/*
 * One version over the window from @old to @cur (@old may be NULL or empty: totals only) as a
 * JSON object: totals, per-second rates, errors by kind with ratios, latency quantiles.
 */
json_t *sample_version_json(const struct svc_sample *old, const struct svc_sample *cur,
			    unsigned int version);

#endif /* XDP_CANARY_SAMPLE_H */
