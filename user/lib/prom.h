/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Asking Prometheus for one number: GET /api/v1/query with the query, a fixed evaluation time and
 * a timeout, through libcurl; the answer read with jansson. Every answer ends as a value, "no
 * data" or an error with a reason a person can act on; none is ever taken for a value it is not.
 *
 * A request is a libcurl easy handle the caller runs: canaryd adds it to its multi handle (so that
 * a slow Prometheus never stalls the agent), tests and tools call prom_query(), which runs it.
 */
#ifndef XDP_CANARY_PROM_H
#define XDP_CANARY_PROM_H

#include <stddef.h>
#include <curl/curl.h>
#include <linux/types.h>

#include "plan.h"

enum prom_status {
	PROM_VALUE,		/* one number (a one-series vector or a scalar); ±Inf included */
	PROM_NO_DATA,		/* an empty vector, or NaN */
	PROM_ERROR,		/* HTTP or transport error, timeout, "status":"error", not JSON,
				 * several series, a result type that is not a number */
};

struct prom_answer {
	enum prom_status status;
	double value;		/* PROM_VALUE only */
	char error[240];	/* PROM_ERROR: why, e.g. "HTTP 503: ...", "3 series: aggregate the
				 * query (sum, max, ...)"; PROM_NO_DATA: "empty result" or "NaN" */
};

struct prom_req;

/*
 * A request for @query at @time_ms (Unix milliseconds) with Prometheus' own timeout= and curl's
 * both set from @timeout_ms. Reads the bearer token file now. NULL with the reason in @err.
 */
struct prom_req *prom_req_new(const struct prom_cfg *cfg, const char *query, __u64 time_ms,
			      __u64 timeout_ms, char *err, size_t errlen);

/* The easy handle to run (curl_multi_add_handle or curl_easy_perform). */
CURL *prom_req_handle(struct prom_req *req);

/* Reads the outcome once the transfer ended with @rc. */
void prom_req_answer(struct prom_req *req, CURLcode rc, struct prom_answer *ans);

void prom_req_free(struct prom_req *req);

/* Reads an HTTP answer: status code and body. The parser behind prom_req_answer(). */
void prom_answer_parse(long http_code, const char *body, size_t len, struct prom_answer *ans);

/* The whole exchange, blocking: for tests and tools. */
void prom_query(const struct prom_cfg *cfg, const char *query, __u64 time_ms, __u64 timeout_ms,
		struct prom_answer *ans);

/*
 * Expands $service, $version and $interval (e.g. "30s") in @tmpl. Returns 0, or -ENAMETOOLONG
 * when the result does not fit @len.
 */
int prom_expand(const char *tmpl, const char *service, const char *version, const char *interval,
		char *out, size_t len);

/*
 * A webhook: POST @json_body to @url with Content-Type application/json and @timeout_ms. The
 * caller runs it like a query; the status is read with hook_req_status().
 */
struct prom_req *hook_req_new(const char *url, const char *json_body, __u64 timeout_ms, char *err,
			      size_t errlen);

/* 0 when the transfer worked and the server answered 2xx; else -EIO with the reason in @err. */
int hook_req_status(struct prom_req *req, CURLcode rc, char *err, size_t errlen);

#endif /* XDP_CANARY_PROM_H */
