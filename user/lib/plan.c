// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The rollout engine's parts of the config: a service's "rollout" plan and "health" checks, and
 * the top-level "prometheus" and "breaker_every". Every default is filled in here, so that the
 * engine never has to guess what an absent key meant, and every limit is checked here, so that a
 * plan that loads is one the engine can run.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netinet/in.h>
#include <sys/stat.h>

#include "cfgparse.h"
#include "io.h"
#include "plan.h"
#include "sample.h"

#define MS_SECOND	1000ULL
#define MS_MINUTE	(60 * MS_SECOND)
#define MS_HOUR		(60 * MS_MINUTE)
#define MS_WEEK		(168 * MS_HOUR)
#define DURATION_DIGITS	9	/* per number: "999999999h" still fits in 64 bits, summed */
#define DURATION_LEN	32
#define DURATION_MAX_MS	1e15	/* beyond any limit, well within 64 bits */
#define PERCENT_LEN	8
#define NAMES_LEN	160

const char *const kernel_metric_names[KM_MAX] = {
	[KM_ERROR_RATIO] = "error_ratio", [KM_HANDSHAKE_P95] = "handshake_p95",
	[KM_HANDSHAKE_P99] = "handshake_p99", [KM_TTFB_P95] = "ttfb_p95",
	[KM_TTFB_P99] = "ttfb_p99",
};

const char *const hook_event_names[] = { "started", "advanced", "promoted", "paused", "resumed",
					 "rolled_back", "completed", NULL };
#define HOOK_EVENTS_N	(sizeof(hook_event_names) / sizeof(hook_event_names[0]) - 1)

static const char *const prom_keys[] = { "url", "timeout", "bearer_token_file", "ca_file",
					 "insecure", NULL };
static const char *const rollout_keys[] = { "stages", "warmup", "interval", "failure_limit",
					    "max_hold", "on_max_hold", "checks", "rollback",
					    "breaker", "webhooks", NULL };
static const char *const stage_keys[] = { "weight", "hold", "manual", NULL };
static const char *const warmup_keys[] = { "weight", "duration", NULL };
static const char *const plan_check_keys[] = { "name", "source", "query", "samples_query",
					       "metric", "kinds", "max", "min", "max_ratio",
					       "max_delta", "min_samples", "on_no_data",
					       "critical", "dry_run", NULL };
static const char *const rollback_keys[] = { "mode", "step", "every", "hard", NULL };
static const char *const breaker_keys[] = { "window", "max_error_ratio", "min_samples", "kinds",
					    NULL };
static const char *const hook_keys[] = { "url", "events", "timeout", NULL };
static const char *const health_keys[] = { "type", "path", "every", "timeout", "fall", "rise",
					   NULL };

const char *const check_source_names[] = {
	[CHECK_PROMETHEUS] = "prometheus", [CHECK_KERNEL] = "kernel", NULL };
static const char *const no_data_actions[] = {
	[NO_DATA_HOLD] = "hold", [NO_DATA_FAIL] = "fail", [NO_DATA_PASS] = "pass", NULL };
static const char *const max_hold_actions[] = {
	[MAX_HOLD_PAUSE] = "pause", [MAX_HOLD_ROLLBACK] = "rollback", NULL };
static const char *const rollback_modes[] = {
	[ROLLBACK_INSTANT] = "instant", [ROLLBACK_GRADUAL] = "gradual", NULL };
static const char *const health_types[] = { [HEALTH_TCP] = "tcp", [HEALTH_HTTP] = "http", NULL };

static const __u16 default_stages[] = { 100, 500, 2500, 5000, 10000 };

/* Units largest first: a duration names each at most once, in this order ("1h30m"). */
static const struct {
	const char *name;
	__u64 ms;
} units[] = { { "h", MS_HOUR }, { "m", MS_MINUTE }, { "s", MS_SECOND }, { "ms", 1 } };

static int explain(char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int explain(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* "1.5" of "1.5h": the whole part, and the fraction as @frac / @scale. NULL if not a number. */
static const char *duration_number(const char *s, __u64 *whole, __u64 *frac, __u64 *scale)
{
	unsigned int n;

	*whole = 0;
	*frac = 0;
	*scale = 1;
	for (n = 0; *s >= '0' && *s <= '9'; s++, n++) {
		if (n == DURATION_DIGITS)
			return NULL;
		*whole = *whole * 10 + (__u64)(*s - '0');
	}
	if (!n)
		return NULL;
	if (*s != '.')
		return s;
	for (s++, n = 0; *s >= '0' && *s <= '9'; s++, n++) {
		if (n == DURATION_DIGITS)
			return NULL;
		*frac = *frac * 10 + (__u64)(*s - '0');
		*scale *= 10;
	}
	return n ? s : NULL;
}

/* The unit at *@s ("ms" before "m"), past which *@s moves; -1 when there is none. */
static int duration_unit(const char **s)
{
	for (int i = (int)(sizeof(units) / sizeof(units[0])) - 1; i >= 0; i--) {
		size_t len = strlen(units[i].name);

		if (!strncmp(*s, units[i].name, len)) {
			*s += len;
			return i;
		}
	}
	return -1;
}

/* duration_parse(), saying why not in @why. */
static int duration_explain(const char *text, __u64 *ms, char *why, size_t whylen)
{
	__u64 total = 0, whole, frac, scale;
	const char *s = text;
	char q[QUOTE_LEN];
	int unit, last = -1;

	quote(text, q, sizeof(q));
	if (text[0] == '-')
		return explain(why, whylen, "%s is negative", q);
	do {
		s = duration_number(s, &whole, &frac, &scale);
		unit = s ? duration_unit(&s) : -1;
		if (unit < 0 && s && last < 0 && !*s)
			return explain(why, whylen, "%s needs a unit: ms, s, m or h", q);
		if (unit <= last)
			return explain(why, whylen,
				       "%s is not a duration such as 250ms, 30s, 5m or 1h", q);
		if (frac * units[unit].ms % scale)
			return explain(why, whylen, "%s is finer than a millisecond", q);
		total += whole * units[unit].ms + frac * units[unit].ms / scale;
		last = unit;
	} while (*s);
	*ms = total;
	return 0;
}

int duration_parse(const char *text, __u64 *ms)
{
	char why[REASON_LEN];

	return duration_explain(text, ms, why, sizeof(why));
}

const char *duration_format(__u64 ms, char *buf, size_t len)
{
	unsigned long long h = ms / MS_HOUR, m = ms % MS_HOUR / MS_MINUTE;
	unsigned long long s = ms % MS_MINUTE / MS_SECOND, rest = ms % MS_SECOND;
	int digits = 3;
	size_t o = 0;

	if (!len)
		return buf;
	buf[0] = '\0';
	if (ms && ms < MS_SECOND) {
		buf_appendf(buf, len, &o, "%llums", rest);
		return buf;
	}
	if (h)
		buf_appendf(buf, len, &o, "%lluh", h);
	if (m)
		buf_appendf(buf, len, &o, "%llum", m);
	if (!s && !rest && o)
		return buf;
	buf_appendf(buf, len, &o, "%llu", s);
	for (; rest && rest % 10 == 0; rest /= 10)
		digits--;
	if (rest)
		buf_appendf(buf, len, &o, ".%0*llu", digits, rest);
	buf_appendf(buf, len, &o, "s");
	return buf;
}

/* A JSON number of seconds, in whole milliseconds. */
static int seconds_value(struct parser *p, const char *key, json_t *v, __u64 *ms)
{
	double x = json_number_value(v) * 1000;
	char num[NUMBER_LEN];
	__u64 n;

	number_text(v, num, sizeof(num));
	if (x < 0)
		return fail(p, key, "%s is negative", num);
	if (x > DURATION_MAX_MS)
		return fail(p, key, "%s is too long", num);
	n = (__u64)(x + 0.5);
	if (x - (double)n > 1e-6 || (double)n - x > 1e-6)
		return fail(p, key, "%s is finer than a millisecond", num);
	*ms = n;
	return 0;
}

int get_duration(struct parser *p, json_t *obj, const char *key, bool required, __u64 min,
		 __u64 max, __u64 *ms)
{
	char why[REASON_LEN], a[DURATION_LEN], b[DURATION_LEN], c[DURATION_LEN];
	json_t *v = json_object_get(obj, key);
	__u64 n = 0;
	int ret;

	if (!v)
		return required ? fail(p, key, "missing") : 0;
	if (json_is_string(v)) {
		ret = duration_explain(json_string_value(v), &n, why, sizeof(why));
		if (ret)
			return fail(p, key, "%s", why);
	} else if (json_is_number(v)) {
		ret = seconds_value(p, key, v, &n);
		if (ret)
			return ret;
	} else {
		return fail(p, key, "expected a string or a number");
	}
	if (n < min || n > max)
		return fail(p, key, "%s is not in %s..%s", duration_format(n, a, sizeof(a)),
			    duration_format(min, b, sizeof(b)), duration_format(max, c, sizeof(c)));
	*ms = n;
	return 1;
}

/* Percent as people write it: "25", "2.5", "0.01". */
static const char *percent_text(__u16 bp, char *buf, size_t len)
{
	if (bp % 100 == 0)
		snprintf(buf, len, "%u", bp / 100);
	else if (bp % 10 == 0)
		snprintf(buf, len, "%u.%u", bp / 100, bp % 100 / 10);
	else
		snprintf(buf, len, "%u.%02u", bp / 100, bp % 100);
	return buf;
}

/* A weight or a rollback step: a percentage, as a number or as text ("2.5"). */
static int get_percent(struct parser *p, json_t *obj, const char *key, bool required,
		       __u16 *bp)
{
	json_t *v = json_object_get(obj, key);
	int ret;

	if (!v)
		return required ? fail(p, key, "missing") : 0;
	ret = percent_value(p, key, v, true, bp);
	return ret ? ret : 1;
}

/* An array of at most @max elements, each called @noun in messages. */
static int get_list(struct parser *p, json_t *obj, const char *key, size_t max, const char *noun,
		    json_t **arr)
{
	int ret = get(p, obj, key, JSON_ARRAY, false, arr);
	size_t n;

	if (ret <= 0)
		return ret;
	n = json_array_size(*arr);
	if (n > max)
		return fail(p, key, "%zu %s, at most %zu", n, noun, max);
	return 1;
}

typedef int (*element_fn)(struct parser *p, json_t *v, unsigned int i, void *arg);

/* Calls @fn on each element of @arr, the value of @key, with the element's path pushed. */
static int each(struct parser *p, const char *key, json_t *arr, element_fn fn, void *arg)
{
	size_t i, mark;
	json_t *v;
	int ret;

	json_array_foreach(arr, i, v) {
		mark = push(p, ".%s[%zu]", key, i);
		ret = fn(p, v, (unsigned int)i, arg);
		pop(p, mark);
		if (ret)
			return ret;
	}
	return 0;
}

/* A key that only makes sense with another setting is an error without it, never ignored. */
static int forbid(struct parser *p, json_t *obj, const char *key, const char *only_for)
{
	if (json_object_get(obj, key))
		return fail(p, key, "only for %s", only_for);
	return 0;
}

struct name_set {
	const char *const *names;
	size_t n;
	__u32 bits;
};

static int name_bit(struct parser *p, json_t *v, unsigned int i, void *arg)
{
	char q[QUOTE_LEN], list[NAMES_LEN];
	struct name_set *set = arg;
	int idx;

	(void)i;
	if (!json_is_string(v))
		return fail(p, NULL, "expected a string");
	quote(json_string_value(v), q, sizeof(q));
	idx = name_index(set->names, set->n, json_string_value(v));
	if (idx < 0)
		return fail(p, NULL, "%s is not %s", q, names_list(set->names, set->n, list,
								     sizeof(list)));
	if (set->bits & (1U << idx))
		return fail(p, NULL, "%s is listed twice", q);
	set->bits |= 1U << idx;
	return 0;
}

/* An array of names, as bits over @names: not empty, no name twice. */
static int get_names(struct parser *p, json_t *obj, const char *key, const char *const *names,
		     size_t n, __u32 *bits)
{
	struct name_set set = { .names = names, .n = n };
	json_t *arr = NULL;
	int ret = get(p, obj, key, JSON_ARRAY, false, &arr);

	if (ret <= 0)
		return ret;
	if (!json_array_size(arr))
		return fail(p, key, "must not be empty");
	ret = each(p, key, arr, name_bit, &set);
	if (ret)
		return ret;
	*bits = set.bits;
	return 1;
}

static bool kind_is_http(unsigned int k)
{
	return err_kinds[k].of_off == offsetof(struct ver_stats, http_responses);
}

static const char *denominator_name(size_t of_off)
{
	if (of_off == offsetof(struct ver_stats, new_flows))
		return "new flows";
	if (of_off == offsetof(struct ver_stats, http_responses))
		return "HTTP responses";
	return "packets";
}

static __u32 kind_bit(const char *name)
{
	for (unsigned int k = 0; k < err_kinds_n; k++)
		if (!strcmp(err_kinds[k].name, name))
			return 1U << k;
	return 0;
}

/* The kinds counted against new flows: what a connection's failure looks like on any service. */
static __u32 flow_kinds(void)
{
	__u32 bits = 0;

	for (unsigned int k = 0; k < err_kinds_n; k++)
		if (err_kinds[k].of_off == offsetof(struct ver_stats, new_flows))
			bits |= 1U << k;
	return bits;
}

struct kinds_rule {
	const char *names[32];	/* err_kinds' names: kinds are bits of a __u32 */
	size_t n;
	bool http;		/* the service reads HTTP responses */
	bool one_denominator;	/* a check's ratio: one count over one other */
	int first;		/* the first kind listed, once read */
};

/* Called on a list of kinds get_names() read: each is known, and listed once. */
static int kind_fits(struct parser *p, json_t *v, unsigned int i, void *arg)
{
	struct kinds_rule *r = arg;
	int k = name_index(r->names, r->n, json_string_value(v));

	(void)i;
	if (kind_is_http((unsigned int)k) && !r->http)
		return fail(p, NULL, "\"%s\" needs \"http\": true on the service", r->names[k]);
	if (r->first < 0)
		r->first = k;
	if (r->one_denominator && err_kinds[k].of_off != err_kinds[r->first].of_off)
		return fail(p, NULL,
			    "\"%s\" is a share of %s, \"%s\" of %s: use one check for each",
			    r->names[k], denominator_name(err_kinds[k].of_off), r->names[r->first],
			    denominator_name(err_kinds[r->first].of_off));
	return 0;
}

/* "kinds": error kinds of sample.c; 0 when absent. */
static int get_kinds(struct parser *p, json_t *obj, bool http, bool one_denominator,
		     __u32 *bits)
{
	struct kinds_rule rule = { .http = http, .one_denominator = one_denominator, .first = -1 };
	int ret;

	rule.n = err_kinds_n < 32 ? err_kinds_n : 32;
	for (size_t k = 0; k < rule.n; k++)
		rule.names[k] = err_kinds[k].name;
	ret = get_names(p, obj, "kinds", rule.names, rule.n, bits);
	if (ret <= 0)
		return ret;
	return each(p, "kinds", json_object_get(obj, "kinds"), kind_fits, &rule);
}

/* An http(s) URL with a host, and nothing a request line cannot carry. */
static int url_set(struct parser *p, const char *key, const char *url, char *dst, size_t size)
{
	size_t skip = 0;
	char q[QUOTE_LEN];

	if (!strncasecmp(url, "http://", 7))
		skip = 7;
	else if (!strncasecmp(url, "https://", 8))
		skip = 8;
	quote(url, q, sizeof(q));
	if (!skip)
		return fail(p, key, "%s is not an http:// or https:// URL", q);
	if (!url[skip] || url[skip] == '/')
		return fail(p, key, "%s has no host", q);
	for (const char *c = url; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f)
			return fail(p, key, "%s holds a space or a control character", q);
	return copy_text(p, key, dst, size, url);
}

static int get_url(struct parser *p, json_t *obj, char *dst, size_t size)
{
	const char *url = NULL;
	int ret = get_string(p, obj, "url", true, &url);

	return ret < 0 ? ret : url_set(p, "url", url, dst, size);
}

/*
 * Files read at each use (a token may rotate) are checked to exist, not to be readable: canaryctl
 * parses this config too, as a member of the control group who may not read a root-only token.
 */
static int get_file(struct parser *p, json_t *obj, const char *key, char *dst, size_t size)
{
	char q[QUOTE_LEN];
	struct stat st;
	int ret = get_abs_path(p, obj, key, dst, size);

	if (ret <= 0)
		return ret;
	if (stat(dst, &st)) {
		if (errno == ENOENT || errno == ENOTDIR)
			return fail(p, key, "%s: %s", quote(dst, q, sizeof(q)), strerror(errno));
		return 1;
	}
	if (S_ISDIR(st.st_mode))
		return fail(p, key, "%s is a directory", quote(dst, q, sizeof(q)));
	return 1;
}

/* Requests are made to URL + "/api/v1/query?...": a base URL ends with its path. */
static int prom_url(struct parser *p, json_t *obj, struct prom_cfg *pc)
{
	char q[QUOTE_LEN];
	size_t len;
	int ret = get_url(p, obj, pc->url, sizeof(pc->url));

	if (ret)
		return ret;
	if (strpbrk(pc->url, "?#"))
		return fail(p, "url", "%s: a base URL takes no query or fragment",
			    quote(pc->url, q, sizeof(q)));
	len = strlen(pc->url);
	while (len && pc->url[len - 1] == '/')
		pc->url[--len] = '\0';
	return 0;
}

int plan_parse_prometheus(struct parser *p, json_t *root)
{
	struct prom_cfg *pc = &p->cfg->prometheus;
	json_t *obj = NULL;
	size_t mark = 0;
	int ret = cfg_enter(p, root, "prometheus", prom_keys, &obj, &mark);

	if (ret <= 0)
		return ret;
	pc->set = true;
	pc->timeout_ms = 5 * MS_SECOND;
	ret = prom_url(p, obj, pc);
	if (!ret)
		ret = get_duration(p, obj, "timeout", false, 100, MS_MINUTE, &pc->timeout_ms);
	if (ret >= 0)
		ret = get_file(p, obj, "bearer_token_file", pc->token_file,
			       sizeof(pc->token_file));
	if (ret >= 0)
		ret = get_file(p, obj, "ca_file", pc->ca_file, sizeof(pc->ca_file));
	if (ret >= 0)
		ret = get_bool(p, obj, "insecure", &pc->insecure);
	return cfg_leave(p, mark, ret);
}

int plan_parse_breaker_every(struct parser *p, json_t *root)
{
	int ret;

	p->cfg->breaker_every_ms = 250;
	ret = get_duration(p, root, "breaker_every", false, 50, MS_SECOND,
			   &p->cfg->breaker_every_ms);
	return ret < 0 ? ret : 0;
}

/* A stage sees at least one evaluation, and it is that evaluation that lets it advance. */
static int stage_hold(struct parser *p, json_t *obj, const char *key, const struct plan *pl,
		      __u64 *ms)
{
	char a[DURATION_LEN], b[DURATION_LEN];
	int ret = get_duration(p, obj, key, false, 0, MS_WEEK, ms);

	if (ret > 0 && *ms < pl->interval_ms)
		return fail(p, key, "%s is shorter than the interval (%s)",
			    duration_format(*ms, a, sizeof(a)),
			    duration_format(pl->interval_ms, b, sizeof(b)));
	return ret;
}

/* An object, or a weight alone: "stages": [1, 5, {"weight": 25, "manual": true}, 100]. */
static int parse_stage(struct parser *p, json_t *v, unsigned int i, void *arg)
{
	char a[PERCENT_LEN], b[PERCENT_LEN];
	struct plan *pl = arg;
	struct plan_stage *st = &pl->stages[i];
	const char *wkey = NULL;
	int ret;

	st->hold_ms = pl->interval_ms;
	if (json_is_object(v)) {
		wkey = "weight";
		ret = check_keys(p, v, stage_keys);
		if (!ret)
			ret = get_percent(p, v, wkey, true, &st->weight);
		if (ret >= 0)
			ret = stage_hold(p, v, "hold", pl, &st->hold_ms);
		if (ret >= 0)
			ret = get_bool(p, v, "manual", &st->manual);
	} else if (json_is_number(v) || json_is_string(v)) {
		ret = percent_value(p, NULL, v, true, &st->weight);
	} else {
		ret = fail(p, NULL, "expected an object or a weight");
	}
	if (ret < 0)
		return ret;
	if (!st->weight)
		return fail(p, wkey, "must be above 0");
	if (i && st->weight <= pl->stages[i - 1].weight)
		return fail(p, wkey, "%s is not above stages[%u].weight (%s)",
			    percent_text(st->weight, a, sizeof(a)), i - 1,
			    percent_text(pl->stages[i - 1].weight, b, sizeof(b)));
	pl->nstages = i + 1;
	return 0;
}

static int parse_stages(struct parser *p, json_t *obj, struct plan *pl)
{
	json_t *arr = NULL;
	int ret = get_list(p, obj, "stages", PLAN_MAX_STAGES, "stages", &arr);

	if (ret < 0)
		return ret;
	if (ret > 0 && !json_array_size(arr))
		return fail(p, "stages", "at least one stage is needed");
	if (ret > 0)
		return each(p, "stages", arr, parse_stage, pl);
	for (unsigned int i = 0; i < sizeof(default_stages) / sizeof(default_stages[0]); i++) {
		pl->stages[i].weight = default_stages[i];
		pl->stages[i].hold_ms = pl->interval_ms;
	}
	pl->nstages = sizeof(default_stages) / sizeof(default_stages[0]);
	return 0;
}

/* A warm-up at 0 % is a quiet wait: the canary is healthy, and gets no traffic yet. */
static int parse_warmup(struct parser *p, json_t *obj, struct plan *pl)
{
	char a[PERCENT_LEN], b[PERCENT_LEN];
	json_t *w = NULL;
	size_t mark = 0;
	int ret = cfg_enter(p, obj, "warmup", warmup_keys, &w, &mark);

	if (ret <= 0)
		return ret;
	ret = get_percent(p, w, "weight", true, &pl->warmup_bp);
	if (ret > 0 && pl->warmup_bp >= pl->stages[0].weight)
		ret = fail(p, "weight", "%s is not below stages[0].weight (%s)",
			   percent_text(pl->warmup_bp, a, sizeof(a)),
			   percent_text(pl->stages[0].weight, b, sizeof(b)));
	if (ret >= 0)
		ret = get_duration(p, w, "duration", true, MS_SECOND, MS_WEEK, &pl->warmup_ms);
	return cfg_leave(p, mark, ret);
}

/* The keys the stages and max_hold are measured against come first. */
static int parse_pacing(struct parser *p, json_t *obj, struct plan *pl)
{
	unsigned int action = MAX_HOLD_PAUSE;
	json_int_t limit = 2;
	int ret;

	pl->interval_ms = 30 * MS_SECOND;
	ret = get_duration(p, obj, "interval", false, MS_SECOND, MS_HOUR, &pl->interval_ms);
	if (ret >= 0)
		ret = get_int(p, obj, "failure_limit", false, 1, 100, "is not in 1..100", &limit);
	pl->failure_limit = (unsigned int)limit;
	pl->max_hold_ms = 10 * pl->interval_ms;
	if (ret >= 0)
		ret = stage_hold(p, obj, "max_hold", pl, &pl->max_hold_ms);
	if (ret >= 0)
		ret = get_enum(p, obj, "on_max_hold", max_hold_actions, "pause or rollback",
			       &action);
	pl->on_max_hold = (enum max_hold_action)action;
	return ret < 0 ? ret : 0;
}

static int parse_rollback(struct parser *p, json_t *obj, struct plan *pl)
{
	unsigned int mode = ROLLBACK_INSTANT;
	json_t *rb = NULL;
	size_t mark = 0;
	int ret;

	pl->rollback = ROLLBACK_INSTANT;
	pl->rollback_step_bp = 2000;
	pl->rollback_every_ms = MS_SECOND;
	ret = cfg_enter(p, obj, "rollback", rollback_keys, &rb, &mark);
	if (ret <= 0)
		return ret;
	ret = get_enum(p, rb, "mode", rollback_modes, "instant or gradual", &mode);
	pl->rollback = (enum rollback_mode)mode;
	if (ret >= 0 && mode != ROLLBACK_GRADUAL)
		ret = forbid(p, rb, "step", "\"mode\": \"gradual\"");
	if (ret >= 0 && mode != ROLLBACK_GRADUAL)
		ret = forbid(p, rb, "every", "\"mode\": \"gradual\"");
	if (ret >= 0)
		ret = get_percent(p, rb, "step", false, &pl->rollback_step_bp);
	if (ret >= 0 && !pl->rollback_step_bp)
		ret = fail(p, "step", "must be above 0");
	if (ret >= 0)
		ret = get_duration(p, rb, "every", false, 100, MS_HOUR, &pl->rollback_every_ms);
	if (ret >= 0)
		ret = get_bool(p, rb, "hard", &pl->rollback_hard);
	return cfg_leave(p, mark, ret);
}

static int breaker_ratio(struct parser *p, json_t *obj, double *ratio)
{
	char num[NUMBER_LEN];
	json_t *v = NULL;
	int ret = get(p, obj, "max_error_ratio", JSON_REAL, false, &v);

	if (ret <= 0)
		return ret;
	*ratio = json_number_value(v);
	if (!(*ratio > 0 && *ratio <= 1))
		return fail(p, "max_error_ratio", "%s is not above 0 and at most 1",
			    number_text(v, num, sizeof(num)));
	return 1;
}

static int parse_breaker(struct parser *p, json_t *obj, const struct cfg_service *svc,
			 struct plan *pl)
{
	struct plan_breaker *br = &pl->breaker;
	json_t *v = json_object_get(obj, "breaker");
	json_int_t samples = 20;
	size_t mark = 0;
	int ret;

	br->enabled = !json_is_false(v);
	br->window_ms = MS_SECOND;
	br->max_ratio = 0.2;
	br->kinds = flow_kinds() | (svc->http ? kind_bit("http_5xx") : 0);
	if (!v || json_is_boolean(v)) {
		br->min_samples = (__u64)samples;
		return 0;
	}
	if (!json_is_object(v))
		return fail(p, "breaker", "expected true, false or an object");
	ret = cfg_enter(p, obj, "breaker", breaker_keys, &v, &mark);
	if (ret <= 0)
		return ret;
	ret = get_duration(p, v, "window", false, 250, MS_MINUTE, &br->window_ms);
	if (ret >= 0)
		ret = breaker_ratio(p, v, &br->max_ratio);
	if (ret >= 0)
		ret = get_int(p, v, "min_samples", false, 1, 1000000000,
			      "is not in 1..1000000000", &samples);
	br->min_samples = (__u64)samples;
	if (ret >= 0)
		ret = get_kinds(p, v, svc->http, false, &br->kinds);
	return cfg_leave(p, mark, ret);
}

static int check_name(struct parser *p, json_t *v, struct plan *pl, unsigned int i)
{
	struct plan_check *ck = &pl->checks[i];
	const char *name = NULL;
	int ret = get_string(p, v, "name", true, &name);

	if (ret < 0)
		return ret;
	ret = name_set(p, "name", name, ck->name, sizeof(ck->name));
	for (unsigned int j = 0; !ret && j < i; j++)
		if (!strcmp(pl->checks[j].name, ck->name))
			return fail(p, "name", "\"%s\" is used by checks[%u] too", ck->name, j);
	return ret;
}

/* A query: required or not, never empty. */
static int get_query(struct parser *p, json_t *v, const char *key, bool required, char *dst)
{
	const char *q = NULL;
	int ret = get_string(p, v, key, required, &q);

	if (ret <= 0)
		return ret;
	if (!q[0])
		return fail(p, key, "must not be empty");
	return copy_text(p, key, dst, PLAN_QUERY_MAX, q);
}

static int check_prometheus(struct parser *p, json_t *v, struct plan_check *ck)
{
	int ret;

	if (!p->cfg->prometheus.set)
		return fail(p, NULL,
			    "a prometheus check needs the top-level \"prometheus\" object");
	ret = forbid(p, v, "metric", "a kernel check");
	if (!ret)
		ret = forbid(p, v, "kinds", "a kernel check");
	if (!ret)
		ret = get_query(p, v, "query", true, ck->query);
	if (!ret)
		ret = get_query(p, v, "samples_query", false, ck->samples_query);
	/* Without a query that counts them, min_samples would be silently ignored. */
	if (!ret && !ck->samples_query[0])
		ret = forbid(p, v, "min_samples", "a check with \"samples_query\"");
	return ret < 0 ? ret : 0;
}

static int check_metric(struct parser *p, json_t *v, const struct cfg_service *svc,
			struct plan_check *ck)
{
	char q[QUOTE_LEN], list[NAMES_LEN];
	const char *metric = NULL;
	int ret = get_string(p, v, "metric", true, &metric);

	if (ret < 0)
		return ret;
	quote(metric, q, sizeof(q));
	ret = name_index(kernel_metric_names, KM_MAX, metric);
	if (ret < 0)
		return fail(p, "metric", "%s is not %s", q,
			    names_list(kernel_metric_names, KM_MAX, list, sizeof(list)));
	ck->metric = (enum kernel_metric)ret;
	if ((ck->metric == KM_TTFB_P95 || ck->metric == KM_TTFB_P99) && !svc->http)
		return fail(p, "metric", "%s needs \"http\": true on the service", q);
	return 0;
}

static int check_kernel(struct parser *p, json_t *v, const struct cfg_service *svc,
			struct plan_check *ck)
{
	int ret = forbid(p, v, "query", "a prometheus check");

	if (!ret)
		ret = forbid(p, v, "samples_query", "a prometheus check");
	if (!ret)
		ret = check_metric(p, v, svc, ck);
	if (ret)
		return ret;
	if (ck->metric != KM_ERROR_RATIO)
		return forbid(p, v, "kinds", "the error_ratio metric");
	ck->kinds = flow_kinds();
	ret = get_kinds(p, v, svc->http, true, &ck->kinds);
	return ret < 0 ? ret : 0;
}

static int get_rule(struct parser *p, json_t *v, const char *key, unsigned int bit,
		    struct plan_check *ck, double *dst)
{
	int ret = get_number(p, v, key, false, dst);

	if (ret > 0)
		ck->rules |= bit;
	return ret;
}

/* The limits a rule's number must keep: an error ratio of 5 is a percentage written wrong. */
static int rule_limits(struct parser *p, json_t *v, const struct plan_check *ck)
{
	bool ratio = ck->source == CHECK_KERNEL && ck->metric == KM_ERROR_RATIO;
	char a[NUMBER_LEN], b[NUMBER_LEN];

	if (!ck->rules)
		return fail(p, NULL, "needs a rule: max, min, max_ratio or max_delta");
	if ((ck->rules & RULE_MAX_RATIO) && !(ck->max_ratio > 0))
		return fail(p, "max_ratio", "%s is not above 0",
			    number_text(json_object_get(v, "max_ratio"), a, sizeof(a)));
	if ((ck->rules & RULE_MAX_DELTA) && ck->max_delta < 0)
		return fail(p, "max_delta", "%s is negative",
			    number_text(json_object_get(v, "max_delta"), a, sizeof(a)));
	if (ratio && (ck->rules & RULE_MAX) && !(ck->max >= 0 && ck->max <= 1))
		return fail(p, "max", "%s is not a ratio (0..1)",
			    number_text(json_object_get(v, "max"), a, sizeof(a)));
	if (ratio && (ck->rules & RULE_MIN) && !(ck->min >= 0 && ck->min <= 1))
		return fail(p, "min", "%s is not a ratio (0..1)",
			    number_text(json_object_get(v, "min"), a, sizeof(a)));
	if ((ck->rules & RULE_MAX) && (ck->rules & RULE_MIN) && ck->min > ck->max)
		return fail(p, "min", "%s is above max (%s)",
			    number_text(json_object_get(v, "min"), a, sizeof(a)),
			    number_text(json_object_get(v, "max"), b, sizeof(b)));
	return 0;
}

static int check_rules(struct parser *p, json_t *v, struct plan_check *ck)
{
	int ret = get_rule(p, v, "max", RULE_MAX, ck, &ck->max);

	if (ret >= 0)
		ret = get_rule(p, v, "min", RULE_MIN, ck, &ck->min);
	if (ret >= 0)
		ret = get_rule(p, v, "max_ratio", RULE_MAX_RATIO, ck, &ck->max_ratio);
	if (ret >= 0)
		ret = get_rule(p, v, "max_delta", RULE_MAX_DELTA, ck, &ck->max_delta);
	return ret < 0 ? ret : rule_limits(p, v, ck);
}

static int check_options(struct parser *p, json_t *v, struct plan_check *ck)
{
	unsigned int action = NO_DATA_HOLD;
	json_int_t samples = 0;
	int ret;

	ret = get_int(p, v, "min_samples", false, 0, LLONG_MAX, "is negative", &samples);
	ck->min_samples = (__u64)samples;
	if (ret >= 0)
		ret = get_enum(p, v, "on_no_data", no_data_actions, "hold, fail or pass", &action);
	ck->on_no_data = (enum no_data_action)action;
	if (ret >= 0)
		ret = get_bool(p, v, "critical", &ck->critical);
	if (ret >= 0)
		ret = get_bool(p, v, "dry_run", &ck->dry_run);
	return ret < 0 ? ret : 0;
}

static int parse_check(struct parser *p, json_t *v, unsigned int i, void *arg)
{
	struct cfg_service *svc = arg;
	struct plan_check *ck = &svc->plan->checks[i];
	unsigned int source = 0;
	int ret;

	if (!json_is_object(v))
		return fail(p, NULL, "expected an object");
	ret = check_keys(p, v, plan_check_keys);
	if (!ret)
		ret = check_name(p, v, svc->plan, i);
	if (!ret)
		ret = get_enum(p, v, "source", check_source_names, "prometheus or kernel", &source);
	if (!ret)
		ret = fail(p, "source", "missing");
	if (ret < 0)
		return ret;
	ck->source = (enum check_source)source;
	if (ck->source == CHECK_PROMETHEUS)
		ret = check_prometheus(p, v, ck);
	else
		ret = check_kernel(p, v, svc, ck);
	if (!ret)
		ret = check_rules(p, v, ck);
	if (!ret)
		ret = check_options(p, v, ck);
	if (!ret)
		svc->plan->nchecks = i + 1;
	return ret;
}

static int parse_hook(struct parser *p, json_t *v, unsigned int i, void *arg)
{
	struct plan *pl = arg;
	struct plan_hook *hook = &pl->hooks[i];
	int ret;

	if (!json_is_object(v))
		return fail(p, NULL, "expected an object");
	hook->events = HOOK_ALL;
	hook->timeout_ms = 2 * MS_SECOND;
	ret = check_keys(p, v, hook_keys);
	if (!ret)
		ret = get_url(p, v, hook->url, sizeof(hook->url));
	if (!ret)
		ret = get_names(p, v, "events", hook_event_names, HOOK_EVENTS_N, &hook->events);
	if (ret >= 0)
		ret = get_duration(p, v, "timeout", false, 100, 30 * MS_SECOND, &hook->timeout_ms);
	if (ret < 0)
		return ret;
	pl->nhooks = i + 1;
	return 0;
}

static int parse_lists(struct parser *p, json_t *obj, struct cfg_service *svc)
{
	json_t *arr = NULL;
	int ret = get_list(p, obj, "checks", PLAN_MAX_CHECKS, "checks", &arr);

	if (ret > 0)
		ret = each(p, "checks", arr, parse_check, svc);
	if (ret >= 0)
		ret = get_list(p, obj, "webhooks", PLAN_MAX_HOOKS, "webhooks", &arr);
	if (ret > 0)
		ret = each(p, "webhooks", arr, parse_hook, svc->plan);
	return ret < 0 ? ret : 0;
}

int plan_parse_rollout(struct parser *p, struct cfg_service *svc, json_t *obj)
{
	json_t *ro = NULL;
	size_t mark = 0;
	int ret = cfg_enter(p, obj, "rollout", rollout_keys, &ro, &mark);

	if (ret <= 0)
		return ret;
	svc->plan = calloc(1, sizeof(*svc->plan));
	if (!svc->plan)
		return cfg_leave(p, mark, fail_nomem(p, NULL));
	ret = parse_pacing(p, ro, svc->plan);
	if (!ret)
		ret = parse_stages(p, ro, svc->plan);
	if (!ret)
		ret = parse_warmup(p, ro, svc->plan);
	if (!ret)
		ret = parse_lists(p, ro, svc);
	if (!ret)
		ret = parse_rollback(p, ro, svc->plan);
	if (!ret)
		ret = parse_breaker(p, ro, svc, svc->plan);
	return cfg_leave(p, mark, ret);
}

/* A path that goes into a request line as it is. */
static int health_path(struct parser *p, json_t *obj, struct plan_health *h)
{
	const char *path = NULL;
	char q[QUOTE_LEN];
	int ret;

	strcpy(h->path, "/");
	if (h->type != HEALTH_HTTP)
		return forbid(p, obj, "path", "\"type\": \"http\"");
	ret = get_string(p, obj, "path", false, &path);
	if (ret <= 0)
		return ret;
	quote(path, q, sizeof(q));
	if (path[0] != '/')
		return fail(p, "path", "%s does not start with \"/\"", q);
	for (const char *c = path; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f)
			return fail(p, "path", "%s holds a space or a control character", q);
	return copy_text(p, "path", h->path, sizeof(h->path), path);
}

/* A probe must end before the next one starts. */
static int health_timing(struct parser *p, json_t *obj, struct plan_health *h)
{
	char a[DURATION_LEN], b[DURATION_LEN];
	int ret;

	h->every_ms = 2 * MS_SECOND;
	ret = get_duration(p, obj, "every", false, 100, MS_HOUR, &h->every_ms);
	if (ret < 0)
		return ret;
	h->timeout_ms = h->every_ms > 2 * MS_SECOND ? MS_SECOND : h->every_ms / 2;
	ret = get_duration(p, obj, "timeout", false, 10, MS_HOUR, &h->timeout_ms);
	if (ret > 0 && h->timeout_ms >= h->every_ms)
		return fail(p, "timeout", "%s is not below every (%s)",
			    duration_format(h->timeout_ms, a, sizeof(a)),
			    duration_format(h->every_ms, b, sizeof(b)));
	return ret < 0 ? ret : 0;
}

static int health_counts(struct parser *p, json_t *obj, struct plan_health *h)
{
	json_int_t fall = 3, rise = 2;
	int ret = get_int(p, obj, "fall", false, 1, 100, "is not in 1..100", &fall);

	if (ret >= 0)
		ret = get_int(p, obj, "rise", false, 1, 100, "is not in 1..100", &rise);
	h->fall = (unsigned int)fall;
	h->rise = (unsigned int)rise;
	return ret < 0 ? ret : 0;
}

int plan_parse_health(struct parser *p, struct cfg_service *svc, json_t *obj)
{
	unsigned int type;
	struct plan_health *h;
	json_t *ho = NULL;
	size_t mark = 0;
	int ret = cfg_enter(p, obj, "health", health_keys, &ho, &mark);

	if (ret <= 0)
		return ret;
	if (svc->key.proto != IPPROTO_TCP)
		return cfg_leave(p, mark, fail(p, NULL, "health checks need a TCP service"));
	h = svc->health = calloc(1, sizeof(*svc->health));
	if (!h)
		return cfg_leave(p, mark, fail_nomem(p, NULL));
	type = svc->http ? HEALTH_HTTP : HEALTH_TCP;
	ret = get_enum(p, ho, "type", health_types, "tcp or http", &type);
	h->type = (enum health_type)type;
	if (ret >= 0)
		ret = health_path(p, ho, h);
	if (ret >= 0)
		ret = health_timing(p, ho, h);
	if (ret >= 0)
		ret = health_counts(p, ho, h);
	return cfg_leave(p, mark, ret);
}
