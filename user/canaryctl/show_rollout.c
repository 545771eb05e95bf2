// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Rollouts for people: where one is, why it did what it did, and the backends' health. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "canaryctl.h"
#include "plan.h"

static const char *ms_text(json_t *o, const char *key, char *buf, size_t len)
{
	return duration_format(json_integer_value(json_object_get(o, key)), buf, len);
}

/* A check's number: "-" when there was none. */
static const char *value_text(json_t *o, const char *key, char *buf, size_t len)
{
	json_t *v = json_object_get(o, key);

	if (json_is_string(v))
		snprintf(buf, len, "%s", json_string_value(v));	/* "+Inf", "-Inf" */
	else if (json_is_integer(v))
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
	else if (json_is_number(v))
		snprintf(buf, len, "%.4g", json_number_value(v));
	else
		snprintf(buf, len, "-");
	return buf;
}

static void show_check(json_t *c, const char *indent)
{
	char can[24], stb[24], thr[24], rule[48], smp[24];

	value_text(c, "threshold", thr, sizeof(thr));
	snprintf(rule, sizeof(rule), "%s %s", *str(c, "rule") ? str(c, "rule") : "-",
		 *str(c, "rule") ? thr : "");
	printf("%s%-16s %-10s %-8s %10s %10s  %-18s %8s%s%s  %s\n", indent, str(c, "name"),
	       str(c, "source"), str(c, "outcome"), value_text(c, "canary", can, sizeof(can)),
	       value_text(c, "stable", stb, sizeof(stb)), rule,
	       value_text(c, "samples", smp, sizeof(smp)),
	       json_is_true(json_object_get(c, "critical")) ? "  critical" : "",
	       json_is_true(json_object_get(c, "dry_run")) ? "  dry-run" : "", str(c, "reason"));
}

static void show_checks(json_t *checks, const char *indent)
{
	size_t i;
	json_t *c;

	if (!json_array_size(checks))
		return;
	printf("%s%-16s %-10s %-8s %10s %10s  %-18s %8s\n", indent, "CHECK", "SOURCE", "OUTCOME",
	       "CANARY", "STABLE", "RULE", "SAMPLES");
	json_array_foreach(checks, i, c)
		show_check(c, indent);
}

static void show_decision(json_t *dec, const char *prefix)
{
	char t[40];

	if (!json_is_object(dec))
		return;
	printf("%s%s: %s%s%s: %s\n", prefix,
	       when(json_integer_value(json_object_get(dec, "time_ms")), t, sizeof(t)),
	       str(dec, "action"), strcmp(str(dec, "verdict"), "none") ? ", verdict " : "",
	       strcmp(str(dec, "verdict"), "none") ? str(dec, "verdict") : "", str(dec, "reason"));
}

/* One line: where the rollout is. */
static void show_where(json_t *ro)
{
	const char *phase = str(ro, "phase");
	char in[32], left[32];

	printf("  rollout: %s", phase);
	if (!strcmp(phase, "stage") || !strcmp(phase, "gate"))
		printf(", stage %lld of %lld (%s%%), %s in", 
		       (long long)json_integer_value(json_object_get(ro, "stage")),
		       (long long)json_integer_value(json_object_get(ro, "stages")),
		       str(ro, "stage_weight"), ms_text(ro, "time_in_stage_ms", in, sizeof(in)));
	if (!strcmp(phase, "stage"))
		printf(", %s left", ms_text(ro, "time_left_ms", left, sizeof(left)));
	if (!strcmp(phase, "gate"))
		printf(": waiting for canaryctl promote");
	if (!strcmp(phase, "idle") || !strcmp(phase, "rolled_back") || !strcmp(phase, "complete"))
		printf(" (canaryctl start begins a new one)");
	if (json_is_true(json_object_get(ro, "paused")))
		printf("  PAUSED");
	printf("\n");
}

void show_rollout(json_t *ro)
{
	if (!json_is_object(ro))
		return;
	show_where(ro);
	printf("  last verdict %s; failed evaluations in a row %lld of %lld; rollbacks %lld",
	       str(ro, "last_verdict"), (long long)json_integer_value(json_object_get(ro, "failures")),
	       (long long)json_integer_value(json_object_get(ro, "failure_limit")),
	       (long long)json_integer_value(json_object_get(ro, "rollbacks")));
	if (json_object_get(ro, "breaker_trips"))
		printf(" (breaker %lld)",
		       (long long)json_integer_value(json_object_get(ro, "breaker_trips")));
	printf("\n");
	show_decision(json_object_get(ro, "last_decision"), "  last decision ");
	show_checks(json_object_get(ro, "checks"), "    ");
}

void show_health(json_t *health)
{
	static const char *const versions[] = { "stable", "canary" };
	size_t i;
	json_t *be;

	if (!json_is_object(health))
		return;
	printf("  health:");
	for (unsigned int v = 0; v < 2; v++) {
		printf("  %s", versions[v]);
		json_array_foreach(json_object_get(health, versions[v]), i, be)
			printf(" %s %s (%s)", str(be, "backend"), str(be, "state"), str(be, "last"));
	}
	printf("\n");
}

void show_rollout_answer(const char *cmd, json_t *resp)
{
	json_t *ro = json_object_get(resp, "rollout");

	printf("%s: %s: canary weight %s%% -> %s%%: %s\n", str(resp, "service"), cmd,
	       str(resp, "from"), str(resp, "to"), str(resp, "reason"));
	show_where(ro);
}

void show_history(json_t *resp)
{
	json_t *events = json_object_get(resp, "events"), *ev;
	size_t i;

	if (!json_array_size(events)) {
		printf("%s: no rollout events yet\n", str(resp, "service"));
		return;
	}
	json_array_foreach(events, i, ev) {
		json_t *dec = json_object_get(ev, "decision");
		json_t *ro = json_object_get(ev, "rollout");
		char t[40];

		printf("%s  stage %lld/%lld  %6s%%  %-10s %-8s %s\n",
		       when(json_integer_value(json_object_get(ev, "time_ms")), t, sizeof(t)),
		       (long long)json_integer_value(json_object_get(dec, "stage")),
		       (long long)json_integer_value(json_object_get(ro, "stages")),
		       str(dec, "weight"), str(dec, "action"), str(dec, "verdict"),
		       str(dec, "reason"));
		show_checks(json_object_get(ev, "checks"), "    ");
	}
}
