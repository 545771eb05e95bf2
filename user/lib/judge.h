/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Judging one check: its rules (max, min, max_ratio, max_delta) applied to the values measured
 * for the canary and the stable version. Pure: the caller measures, this only compares, so that
 * the same rules judge Prometheus and kernel checks alike.
 */
#ifndef XDP_CANARY_JUDGE_H
#define XDP_CANARY_JUDGE_H

#include <linux/types.h>

#include "plan.h"
#include "rollout.h"

/*
 * Fills @r from @c and the measures: pass or fail with the rule that decided, or no data (the
 * canary is NaN, fewer than min_samples, or only relative rules and no stable value). @stable
 * may be NAN when it was not measured; ±INFINITY compare as numbers do.
 */
void check_judge(const struct plan_check *c, double canary, double stable, __u64 samples,
		 struct ro_check_result *r);

/* A check that could not be measured: @o is CHECK_ERROR or CHECK_NO_DATA, @why says why. */
void check_unmeasured(const struct plan_check *c, enum check_outcome o, const char *why,
		      struct ro_check_result *r);

#endif /* XDP_CANARY_JUDGE_H */
