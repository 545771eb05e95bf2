// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "judge.h"

struct rule {
	enum rule_bits bit;
	const char *name;
	bool upper;		/* the canary must stay at or below the threshold */
};

/* In the order they are judged: the first that fails is the one reported. */
static const struct rule rules[] = {
	{ RULE_MAX, "max", true },
	{ RULE_MIN, "min", false },
	{ RULE_MAX_RATIO, "max_ratio", true },
	{ RULE_MAX_DELTA, "max_delta", true },
};

/* NAN when the rule cannot be judged: a relative rule without a stable value. */
static double rule_threshold(const struct plan_check *c, enum rule_bits bit, double stable)
{
	switch (bit) {
	case RULE_MAX:
		return c->max;
	case RULE_MIN:
		return c->min;
	case RULE_MAX_RATIO:
		return stable * c->max_ratio;
	case RULE_MAX_DELTA:
		return stable + c->max_delta;
	}
	return NAN;
}

/* The limit as the config says it, with the number it came to: "max_ratio 2 x stable = 0.004". */
static void rule_limit(const struct plan_check *c, const struct rule *ru, double thr, char *buf,
		       size_t len)
{
	if (ru->bit == RULE_MAX_RATIO)
		snprintf(buf, len, "max_ratio %.4g x stable = %.4g", c->max_ratio, thr);
	else if (ru->bit == RULE_MAX_DELTA)
		snprintf(buf, len, "stable + max_delta %.4g = %.4g", c->max_delta, thr);
	else
		snprintf(buf, len, "%s %.4g", ru->name, thr);
}

static void result_init(const struct plan_check *c, struct ro_check_result *r)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", c->name);
	r->critical = c->critical;
	r->dry_run = c->dry_run;
	r->canary = NAN;
	r->stable = NAN;
	r->threshold = NAN;
}

void check_unmeasured(const struct plan_check *c, enum check_outcome o, const char *why,
		      struct ro_check_result *r)
{
	result_init(c, r);
	r->outcome = o;
	snprintf(r->reason, sizeof(r->reason), "%s", why ? why : "");
}

static void decided_by(struct ro_check_result *r, enum check_outcome o, const struct rule *ru,
		       double thr)
{
	r->outcome = o;
	snprintf(r->rule, sizeof(r->rule), "%s", ru->name);
	r->threshold = thr;
}

__attribute__((format(printf, 3, 4)))
static void append(char *buf, size_t len, const char *fmt, ...)
{
	size_t at = strlen(buf);
	va_list ap;

	if (at + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + at, len - at, fmt, ap);
	va_end(ap);
}

/*
 * Every configured rule must hold; the first that does not is the failure. Returns false with
 * @r filled as a failure, or true with @r a pass when a rule could be judged (relative rules
 * cannot without a stable value), its reason listing the limits the canary kept within.
 */
static bool rules_hold(const struct plan_check *c, double canary, double stable,
		       struct ro_check_result *r)
{
	char limit[80], held[128] = "", unjudged[40] = "";

	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		const struct rule *ru = &rules[i];
		double thr = rule_threshold(c, ru->bit, stable);

		if (!(c->rules & ru->bit))
			continue;
		if (isnan(thr)) {
			append(unjudged, sizeof(unjudged), "%s%s", unjudged[0] ? ", " : "",
			       ru->name);
			continue;
		}
		rule_limit(c, ru, thr, limit, sizeof(limit));
		if (ru->upper ? canary > thr : canary < thr) {
			decided_by(r, CHECK_FAIL, ru, thr);
			snprintf(r->reason, sizeof(r->reason), "canary %.4g %s %s", canary,
				 ru->upper ? ">" : "<", limit);
			return false;
		}
		if (r->outcome != CHECK_PASS)
			decided_by(r, CHECK_PASS, ru, thr);
		append(held, sizeof(held), "%s%s %s", held[0] ? ", " : "", ru->upper ? "<=" : ">=",
		       limit);
	}
	if (r->outcome != CHECK_PASS)
		return true;
	snprintf(r->reason, sizeof(r->reason), "canary %.4g %s", canary, held);
	if (unjudged[0])
		append(r->reason, sizeof(r->reason), "; without a stable value, not judged: %s",
		       unjudged);
	return true;
}

void check_judge(const struct plan_check *c, double canary, double stable, __u64 samples,
		 struct ro_check_result *r)
{
	result_init(c, r);
	r->canary = canary;
	r->stable = stable;
	r->samples = samples;
	r->outcome = CHECK_NO_DATA;
	if (isnan(canary)) {
		snprintf(r->reason, sizeof(r->reason), "no data");
		return;
	}
	if (samples < c->min_samples) {
		snprintf(r->reason, sizeof(r->reason), "%llu samples, fewer than min_samples %llu",
			 (unsigned long long)samples, (unsigned long long)c->min_samples);
		return;
	}
	if (!rules_hold(c, canary, stable, r) || r->outcome == CHECK_PASS)
		return;
	snprintf(r->reason, sizeof(r->reason), "%s",
		 c->rules ? "no stable value to compare with" : "no rule to judge by");
}
