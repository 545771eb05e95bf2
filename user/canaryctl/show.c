// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* canaryctl's output for people. --json prints the answers as they are instead. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "canaryctl.h"
#include "sample.h"

const char *str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key)) ?: "?";
}

double num(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

static long long total(json_t *v, const char *key)
{
	return (long long)json_integer_value(json_object_get(v, key));
}

static const char *duration(double s, char *buf, size_t len)
{
	if (isnan(s))
		snprintf(buf, len, "-");
	else if (s < 1e-3)
		snprintf(buf, len, "%.0fus", s * 1e6);
	else if (s < 1)
		snprintf(buf, len, "%.1fms", s * 1e3);
	else
		snprintf(buf, len, "%.2fs", s);
	return buf;
}

static const char *ratio(json_t *errs, const char *kind, char *buf, size_t len)
{
	double r = num(json_object_get(errs, kind), "ratio");

	if (isnan(r))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.2f%%", r * 100);
	return buf;
}

static const char *rate(double x, char *buf, size_t len)
{
	if (isnan(x))
		snprintf(buf, len, "-");
	else if (x >= 1e6)
		snprintf(buf, len, "%.1fM", x / 1e6);
	else if (x >= 1e4)
		snprintf(buf, len, "%.1fk", x / 1e3);
	else
		snprintf(buf, len, "%.1f", x);
	return buf;
}

const char *when(json_int_t ms, char *buf, size_t len)
{
	time_t t = ms / 1000;
	struct tm tm;

	strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", gmtime_r(&t, &tm));
	return buf;
}

static void show_change(json_t *c)
{
	char t[40];

	if (!json_is_object(c)) {
		printf("  last change: none recorded\n");
		return;
	}
	printf("  last change: %s: %s, canary %s%% -> %s%%, by %s", 
	       when(json_integer_value(json_object_get(c, "time_ms")), t, sizeof(t)),
	       str(c, "action"), str(c, "from"), str(c, "to"), str(c, "by"));
	printf(" (%s)\n", *str(c, "reason") ? str(c, "reason") : "no reason given");
}

static void show_version(const char *name, json_t *v)
{
	json_t *errs = json_object_get(v, "errors"), *lat = json_object_get(v, "latency");
	json_t *hs = json_object_get(lat, "handshake"), *tt = json_object_get(lat, "ttfb");
	char b[14][16];

	printf("  %-7s %7.2f%% %9lld %8s %9s %9s %8s %8s %8s %8s %8s  %s/%s/%s  %s/%s/%s\n", name,
	       num(v, "weight"), total(v, "flows_total"),
	       rate(num(v, "flows_per_s"), b[0], 16), rate(num(v, "packets_per_s"), b[1], 16),
	       rate(num(v, "bytes_per_s"), b[2], 16), ratio(errs, "refused", b[3], 16),
	       ratio(errs, "reset", b[4], 16), ratio(errs, "syn_timeout", b[5], 16),
	       ratio(errs, "unreachable", b[6], 16), ratio(errs, "http_5xx", b[7], 16),
	       duration(num(hs, "p50_s"), b[8], 16), duration(num(hs, "p95_s"), b[9], 16),
	       duration(num(hs, "p99_s"), b[10], 16), duration(num(tt, "p50_s"), b[11], 16),
	       duration(num(tt, "p95_s"), b[12], 16), duration(num(tt, "p99_s"), b[13], 16));
}

/*
 * What the flows column leaves out: handshakes begun, flows met without one, and packets the
 * flow table had no room for. Shown once either of the last two is not zero: they need a look.
 */
static void show_flow_notes(json_t *vers)
{
	bool notable = false;

	for (unsigned int i = 0; i < CANARY_V_MAX; i++) {
		json_t *v = json_object_get(vers, version_names[i]);

		notable |= total(v, "midstream_flows_total") ||
			   total(v, "table_full_packets_total");
	}
	if (!notable)
		return;
	printf("  handshakes begun / midstream flows / packets with no room in the flow table:");
	for (unsigned int i = 0; i < CANARY_V_MAX; i++) {
		json_t *v = json_object_get(vers, version_names[i]);

		printf("%s %s %lld/%lld/%lld", i ? "," : "", version_names[i],
		       total(v, "syns_total"), total(v, "midstream_flows_total"),
		       total(v, "table_full_packets_total"));
	}
	putchar('\n');
}

/* "203.0.113.10:80/tcp", "[2001:db8::10]:80/tcp". */
static const char *vip_text(json_t *s, char *buf, size_t len)
{
	const char *vip = str(s, "vip");

	snprintf(buf, len, strchr(vip, ':') ? "[%s]:%lld/%s" : "%s:%lld/%s", vip,
		 (long long)json_integer_value(json_object_get(s, "port")), str(s, "protocol"));
	return buf;
}

static void show_status(json_t *s)
{
	json_t *vers = json_object_get(s, "versions");
	double win = num(s, "window_s");
	char vip[80];

	printf("%s", str(s, "service"));
	if (json_object_get(s, "vip"))
		printf("  %s", vip_text(s, vip, sizeof(vip)));
	printf("  hash %s%s  generation %lld%s\n", str(s, "hash"),
	       json_is_true(json_object_get(s, "http")) ? "  http" : "",
	       (long long)json_integer_value(json_object_get(s, "generation")),
	       json_is_true(json_object_get(s, "paused")) ? "  PAUSED" : "");
	printf("  canary weight %.2f%%\n", num(s, "weight"));
	show_change(json_object_get(s, "last_change"));
	if (isnan(win))
		printf("  rates: no window yet\n");
	else
		printf("  rates and ratios over the last %.1f s; errors as a share of new flows "
		       "(5xx: of responses)\n", win);
	printf("  %-7s %8s %9s %8s %9s %9s %8s %8s %8s %8s %8s  %-16s  %s\n", "VERSION", "WEIGHT",
	       "FLOWS", "FLOWS/S", "PKTS/S", "BYTES/S", "REFUSED", "RESET", "SYN_TMO",
	       "UNREACH", "5XX", "HANDSHAKE p50/95/99", "TTFB p50/95/99");
	show_version("stable", json_object_get(vers, "stable"));
	show_version("canary", json_object_get(vers, "canary"));
	show_flow_notes(vers);
	show_rollout(json_object_get(s, "rollout"));
	show_health(json_object_get(s, "health"));
}

static void show_services(json_t *arr)
{
	size_t i;
	json_t *s;

	printf("%-20s %4s %-28s %8s %s\n", "SERVICE", "ID", "VIP", "CANARY", "STATE");
	json_array_foreach(arr, i, s) {
		char vip[80] = "-";

		if (json_object_get(s, "vip"))
			vip_text(s, vip, sizeof(vip));
		printf("%-20s %4lld %-28s %7.2f%% %s\n", str(s, "service"),
		       (long long)json_integer_value(json_object_get(s, "id")), vip,
		       num(s, "weight"), json_is_true(json_object_get(s, "paused")) ? "paused" :
										 "running");
	}
}

static void show_weight(const char *cmd, json_t *r)
{
	const char *action = str(r, "action");

	printf("%s: %s: canary weight %s%% -> %s%%", str(r, "service"), action, str(r, "from"),
	       str(r, "to"));
	if (json_is_true(json_object_get(r, "hard")))
		printf("; generation %lld -> %lld: existing canary flows are decided again now",
		       (long long)json_integer_value(json_object_get(r, "generation_from")),
		       (long long)json_integer_value(json_object_get(r, "generation")));
	else if (!strcmp(cmd, "rollback"))
		printf("; new flows go to stable, established canary connections finish where "
		       "they are (--hard moves them)");
	printf("\n");
}

static const char *direct_what(const char *cmd)
{
	if (!strcmp(cmd, "status") || !strcmp(cmd, "services"))
		return "read from the pinned maps directly";
	if (!strcmp(cmd, "pause") || !strcmp(cmd, "resume"))
		return "recorded in the state file for canaryd's next start";
	if (!strcmp(cmd, "history"))
		return "read from the event log";
	return "acted on the pinned maps directly";
}

void show(const struct ctl *c, const char *cmd, json_t *resp)
{
	size_t i;
	json_t *s;

	if (c->json) {
		json_dumpf(resp, stdout, JSON_COMPACT);
		putchar('\n');
		return;
	}
	if (json_is_true(json_object_get(resp, "direct")))
		fprintf(stderr, "canaryctl: canaryd is not running (no answer on %s): %s\n",
			c->cfg.control_socket, direct_what(cmd));
	if (!strcmp(cmd, "services")) {
		show_services(json_object_get(resp, "services"));
	} else if (!strcmp(cmd, "status")) {
		json_array_foreach(json_object_get(resp, "services"), i, s) {
			if (i)
				putchar('\n');
			show_status(s);
		}
	} else if (json_object_get(resp, "rollout")) {
		show_rollout_answer(cmd, resp);
	} else if (!strcmp(cmd, "history")) {
		show_history(resp);
	} else if (!strcmp(cmd, "weight") || !strcmp(cmd, "rollback") ||
		   !strcmp(cmd, "promote")) {
		show_weight(cmd, resp);
	} else if (!strcmp(cmd, "pause") || !strcmp(cmd, "resume")) {
		printf("%s: %s%s\n", str(resp, "service"),
		       json_is_true(json_object_get(resp, "changed")) ? "" : "already ",
		       json_is_true(json_object_get(resp, "paused")) ? "paused" : "running");
	} else if (!strcmp(cmd, "reload")) {
		printf("canaryd: reloading %s (its log says what changed)\n", str(resp, "config"));
	} else if (!strcmp(cmd, "teardown")) {
		printf("xdp-canary removed: programs detached, pins and state gone\n");
	}
}
