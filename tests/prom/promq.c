// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The Prometheus client from the command line, so that tests can run it against real servers:
 *
 *   promq URL QUERY [--timeout MS] [--time MS] [--token-file F] [--ca-file F] [--insecure]
 *   promq --post URL BODY [--timeout MS]
 *
 * Prints one JSON line: {"status": "value", "value": 1.5} ("+Inf"/"-Inf" as strings),
 * {"status": "no_data", "reason": "..."} or {"status": "error", "error": "..."}; a webhook
 * prints {"status": "ok"} or an error. Exits 0 on a value (or a webhook that worked), 2 on bad
 * usage, 3 on no data, 4 on an error.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <jansson.h>

#include "prom.h"

enum promq_exit {
	EXIT_VALUE = 0,
	EXIT_USAGE = 2,
	EXIT_NO_DATA = 3,
	EXIT_ERROR = 4,
};

struct promq_args {
	const char *url;
	const char *what;	/* the query, or the webhook's body */
	bool post;
	struct prom_cfg cfg;
	__u64 time_ms;
	__u64 timeout_ms;
};

static int usage(const char *why)
{
	fprintf(stderr, "promq: %s\n"
		"usage: promq URL QUERY [--timeout MS] [--time MS] [--token-file F] [--ca-file F] "
		"[--insecure]\n"
		"       promq --post URL BODY [--timeout MS]\n", why);
	return EXIT_USAGE;
}

static int parse_ms(const char *text, __u64 *ms)
{
	char *end;

	errno = 0;
	*ms = strtoull(text, &end, 10);
	return errno || end == text || *end || *text == '-' ? -EINVAL : 0;
}

static int copy_arg(char *dst, size_t size, const char *src)
{
	return snprintf(dst, size, "%s", src) < (int)size ? 0 : -ENAMETOOLONG;
}

/* One option and its value (if any) at argv[*i]; advances *i past what it used. */
static int parse_option(struct promq_args *a, int argc, char **argv, int *i)
{
	const char *opt = argv[*i], *val = *i + 1 < argc ? argv[*i + 1] : NULL;

	if (!strcmp(opt, "--insecure")) {
		a->cfg.insecure = true;
		return 0;
	}
	if (!strcmp(opt, "--post")) {
		a->post = true;
		return 0;
	}
	if (!val)
		return -EINVAL;
	(*i)++;
	if (!strcmp(opt, "--timeout"))
		return parse_ms(val, &a->timeout_ms);
	if (!strcmp(opt, "--time"))
		return parse_ms(val, &a->time_ms);
	if (!strcmp(opt, "--token-file"))
		return copy_arg(a->cfg.token_file, sizeof(a->cfg.token_file), val);
	if (!strcmp(opt, "--ca-file"))
		return copy_arg(a->cfg.ca_file, sizeof(a->cfg.ca_file), val);
	return -EINVAL;
}

static int parse_args(struct promq_args *a, int argc, char **argv)
{
	const char *pos[2];
	int i, npos = 0;

	for (i = 1; i < argc; i++) {
		if (!strncmp(argv[i], "--", 2)) {
			if (parse_option(a, argc, argv, &i))
				return -EINVAL;
		} else if (npos < 2) {
			pos[npos++] = argv[i];
		} else {
			return -EINVAL;
		}
	}
	if (npos != 2)
		return -EINVAL;
	a->url = pos[0];
	a->what = pos[1];
	return copy_arg(a->cfg.url, sizeof(a->cfg.url), a->url);
}

static __u64 now_ms(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return (__u64)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static int print_line(json_t *line)
{
	char *text = line ? json_dumps(line, JSON_COMPACT) : NULL;

	json_decref(line);
	if (!text) {
		fprintf(stderr, "promq: cannot format the answer\n");
		return -ENOMEM;
	}
	printf("%s\n", text);
	free(text);
	return 0;
}

static int print_answer(const struct prom_answer *ans)
{
	json_t *value;

	switch (ans->status) {
	case PROM_VALUE:
		value = isfinite(ans->value) ? json_real(ans->value) :
			json_string(ans->value > 0 ? "+Inf" : "-Inf");
		return print_line(json_pack("{ss so}", "status", "value", "value", value)) ?
		       EXIT_ERROR : EXIT_VALUE;
	case PROM_NO_DATA:
		print_line(json_pack("{ss ss}", "status", "no_data", "reason", ans->error));
		return EXIT_NO_DATA;
	default:
		print_line(json_pack("{ss ss}", "status", "error", "error", ans->error));
		return EXIT_ERROR;
	}
}

static int run_query(const struct promq_args *a)
{
	struct prom_answer ans;

	prom_query(&a->cfg, a->what, a->time_ms ? a->time_ms : now_ms(), a->timeout_ms, &ans);
	return print_answer(&ans);
}

static int run_hook(const struct promq_args *a)
{
	char err[512] = "";
	struct prom_req *req;
	int ret = -EIO;

	req = hook_req_new(a->url, a->what, a->timeout_ms, err, sizeof(err));
	if (req)
		ret = hook_req_status(req, curl_easy_perform(prom_req_handle(req)), err, sizeof(err));
	prom_req_free(req);
	if (ret) {
		print_line(json_pack("{ss ss}", "status", "error", "error", err));
		return EXIT_ERROR;
	}
	return print_line(json_pack("{ss}", "status", "ok")) ? EXIT_ERROR : EXIT_VALUE;
}

int main(int argc, char **argv)
{
	struct promq_args a = { .timeout_ms = 5000 };
	int ret;

	if (parse_args(&a, argc, argv))
		return usage("bad arguments");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return usage("curl_global_init failed");
	ret = a.post ? run_hook(&a) : run_query(&a);
	curl_global_cleanup();
	return ret;
}
