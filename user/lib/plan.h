/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * A service's rollout plan, its health checks, and the Prometheus server checks ask: the parts of
 * canaryd's config the rollout engine runs on. Parsed and validated with the rest of the config
 * (config.c calls plan.c), so a plan that loads is one the engine can run.
 *
 * Durations are strings with a unit, "250ms", "30s", "5m", "1h", or a number of seconds.
 */
#ifndef XDP_CANARY_PLAN_H
#define XDP_CANARY_PLAN_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#define PLAN_MAX_STAGES		16
#define PLAN_MAX_CHECKS		16
#define PLAN_MAX_HOOKS		4
#define PLAN_NAME_MAX		64	/* check names: [A-Za-z0-9_.-], 1..63 characters */
#define PLAN_URL_MAX		512
#define PLAN_QUERY_MAX		2048
#define PLAN_PATH_MAX		256

/* One step of the plan: {"weight": 5, "hold": "5m", "manual": false}. */
struct plan_stage {
	__u16 weight;		/* basis points, 1..10000; stages strictly increase */
	__u64 hold_ms;		/* default: the plan's interval */
	bool manual;		/* after the hold, wait for `canaryctl promote` */
};

enum check_source {
	CHECK_PROMETHEUS,	/* "source": "prometheus" */
	CHECK_KERNEL,		/* "source": "kernel" */
};

/* What a kernel check measures, per version, over the window since the last evaluation. */
enum kernel_metric {
	KM_ERROR_RATIO,		/* "error_ratio": the kinds' errors over their denominator */
	KM_HANDSHAKE_P95,	/* "handshake_p95", in seconds */
	KM_HANDSHAKE_P99,
	KM_TTFB_P95,		/* "ttfb_p95", http services only */
	KM_TTFB_P99,
	KM_MAX,
};

enum no_data_action {
	NO_DATA_HOLD,		/* "hold" (default): neither pass nor fail; max_hold bounds it */
	NO_DATA_FAIL,
	NO_DATA_PASS,
};

enum rule_bits {
	RULE_MAX = 1 << 0,	/* canary <= max */
	RULE_MIN = 1 << 1,	/* canary >= min */
	RULE_MAX_RATIO = 1 << 2,	/* canary <= stable * max_ratio */
	RULE_MAX_DELTA = 1 << 3,	/* canary <= stable + max_delta */
};

/*
 * {"name": "5xx", "source": "prometheus", "query": "...", "max": 0.01, "max_ratio": 2,
 *  "min_samples": 200, "on_no_data": "hold", "critical": false, "dry_run": false}
 * {"name": "5xx", "source": "kernel", "metric": "error_ratio", "kinds": ["http_5xx"], "max": 0.01}
 * At least one rule. Relative rules need the stable value: a prometheus check gets it from the
 * same query with $version = stable; "samples_query" (optional, prometheus) counts the canary's
 * requests in the window for min_samples.
 */
struct plan_check {
	char name[PLAN_NAME_MAX];
	enum check_source source;
	char query[PLAN_QUERY_MAX];		/* prometheus: $service, $version, $interval */
	char samples_query[PLAN_QUERY_MAX];	/* prometheus, optional: "" when absent */
	enum kernel_metric metric;		/* kernel */
	__u32 kinds;		/* error_ratio: bits over err_kinds[] (sample.h), one denominator;
				 * default: every kind with new_flows as its denominator */
	unsigned int rules;	/* enum rule_bits */
	double max, min, max_ratio, max_delta;
	__u64 min_samples;	/* default 0: any sample will do (kernel: at least one) */
	enum no_data_action on_no_data;
	bool critical;		/* one failure rolls back, whatever failure_limit says */
	bool dry_run;		/* evaluated and reported, never acted on */
};

/* "breaker": {"window": "1s", "max_error_ratio": 0.2, "min_samples": 20, "kinds": [...]} */
struct plan_breaker {
	bool enabled;		/* default true; "breaker": false turns it off */
	__u64 window_ms;	/* default 1000; 250..60000 */
	double max_ratio;	/* default 0.2; 0 < x <= 1 */
	__u64 min_samples;	/* default 20: the kind's denominator over the window */
	__u32 kinds;		/* default: refused, reset, syn_timeout, unreachable, and http_5xx on
				 * http services; each kind is judged against its own denominator */
};

enum hook_event {
	HOOK_STARTED = 1 << 0,		/* "started" */
	HOOK_ADVANCED = 1 << 1,		/* "advanced": a stage ended, the next began */
	HOOK_PROMOTED = 1 << 2,		/* "promoted": an operator skipped ahead */
	HOOK_PAUSED = 1 << 3,		/* "paused" (by an operator or by max_hold) */
	HOOK_RESUMED = 1 << 4,		/* "resumed" */
	HOOK_ROLLED_BACK = 1 << 5,	/* "rolled_back" */
	HOOK_COMPLETED = 1 << 6,	/* "completed": the last stage's hold passed */
	HOOK_ALL = (1 << 7) - 1,
};

/* {"url": "https://...", "events": ["rolled_back", ...], "timeout": "2s"} */
struct plan_hook {
	char url[PLAN_URL_MAX];
	__u32 events;		/* enum hook_event; default HOOK_ALL */
	__u64 timeout_ms;	/* default 2000 */
};

enum rollback_mode {
	ROLLBACK_INSTANT,	/* weight 0 in one map update */
	ROLLBACK_GRADUAL,	/* step down by step_bp every step_ms */
};

enum max_hold_action {
	MAX_HOLD_PAUSE,
	MAX_HOLD_ROLLBACK,
};

/*
 * "rollout": {"stages": [...], "warmup": {"weight": 0.5, "duration": "1m"}, "interval": "30s",
 *  "failure_limit": 2, "max_hold": "10m", "on_max_hold": "pause", "checks": [...],
 *  "rollback": {"mode": "instant" | "gradual", "step": 20, "every": "1s", "hard": false},
 *  "breaker": {...} | false, "webhooks": [...]}
 */
struct plan {
	struct plan_stage stages[PLAN_MAX_STAGES];
	unsigned int nstages;		/* default: 1, 5, 25, 50, 100 %, each held one interval */
	__u16 warmup_bp;		/* warm-up weight; checks run but do not act */
	__u64 warmup_ms;		/* 0: no warm-up */
	__u64 interval_ms;		/* default 30000; at least 1000 */
	unsigned int failure_limit;	/* consecutive failed evaluations; default 2 */
	__u64 max_hold_ms;		/* default 10 intervals */
	enum max_hold_action on_max_hold;	/* default pause */
	struct plan_check checks[PLAN_MAX_CHECKS];
	unsigned int nchecks;
	enum rollback_mode rollback;
	__u16 rollback_step_bp;		/* gradual: default 2000 */
	__u64 rollback_every_ms;	/* gradual: default 1000 */
	bool rollback_hard;		/* also move existing canary flows (generation bump) */
	struct plan_breaker breaker;
	struct plan_hook hooks[PLAN_MAX_HOOKS];
	unsigned int nhooks;
};

/* "health": {"type": "tcp" | "http", "path": "/healthz", "every": "2s", "timeout": "1s",
 *  "fall": 3, "rise": 2} on a service: probes each backend of both pools. */
enum health_type {
	HEALTH_TCP,
	HEALTH_HTTP,
};

struct plan_health {
	enum health_type type;
	char path[PLAN_PATH_MAX];	/* http: default "/"; a 2xx answer passes */
	__u64 every_ms;			/* default 2000; 100..3600000 */
	__u64 timeout_ms;		/* default 1000; below every */
	unsigned int fall;		/* failures in a row that take a backend out; default 3 */
	unsigned int rise;		/* passes in a row that bring it back; default 2 */
};

/*
 * Top level "prometheus": {"url": "http://127.0.0.1:9090", "timeout": "5s",
 *  "bearer_token_file": "/etc/xdp-canary/prom.token", "ca_file": "/etc/ssl/...",
 *  "insecure": false}
 */
struct prom_cfg {
	bool set;			/* the key is present */
	char url[PLAN_URL_MAX];		/* base URL, no trailing slash; http or https */
	__u64 timeout_ms;		/* default 5000; a query's is also capped below its interval */
	char token_file[PATH_MAX];	/* "" when absent; read at each query (rotation) */
	char ca_file[PATH_MAX];		/* "" : the system's CAs */
	bool insecure;			/* skip TLS verification (tests only) */
};

/* "250ms", "30s", "5m", "1h", "2.5s"; returns 0 and milliseconds, or -EINVAL. */
int duration_parse(const char *text, __u64 *ms);

/* Milliseconds the way people write them: "250ms", "30s", "5m", "1h30m". */
const char *duration_format(__u64 ms, char *buf, size_t len);

extern const char *const kernel_metric_names[KM_MAX];
extern const char *const check_source_names[];		/* by enum check_source */
extern const char *const hook_event_names[];	/* bit i: hook_event_names[i] */

#endif /* XDP_CANARY_PLAN_H */
