/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the datapath's own counters say about a version over a window: the measures of kernel
 * checks, and the local breaker's verdict. Two samples in, numbers out: no map is read here.
 */
#ifndef XDP_CANARY_KCHECK_H
#define XDP_CANARY_KCHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "plan.h"
#include "sample.h"

/*
 * @c's metric for @version between @old and @cur: *@value (NAN when nothing happened) and
 * *@samples, the denominator of a ratio or the latencies measured.
 */
void kcheck_measure(const struct plan_check *c, const struct svc_sample *old,
		    const struct svc_sample *cur, unsigned int version, double *value,
		    __u64 *samples);

/*
 * True when the canary's error ratio of one of @b's kinds between @old and @cur is above
 * max_ratio with at least min_samples in its denominator; @reason then says which, e.g.
 * "http_5xx 0.62 (31 of 50) > 0.2 over 1s".
 */
bool breaker_tripped(const struct plan_breaker *b, const struct svc_sample *old,
		     const struct svc_sample *cur, char *reason, size_t len);

#endif /* XDP_CANARY_KCHECK_H */
