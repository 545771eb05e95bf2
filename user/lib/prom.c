// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The Prometheus client and webhook POSTs (prom.h). A server's answer is never trusted: every
 * field is checked for presence and type, any text quoted from it is cut and stripped of control
 * characters, and only a number that is really there becomes a value.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "io.h"
#include "prom.h"

#define BODY_MAX	(1 << 20)	/* one number's answer is a few hundred bytes */
#define TOKEN_MAX	8192
#define SNIPPET_LEN	64		/* server text quoted in a message: enough to recognise */
#define ERROR_TEXT_LEN	160		/* Prometheus' own error message, which says what to fix */
#define SERIES_LEN	80		/* one series' name and labels in the several-series error */
#define URL_LEN		96		/* the URL as messages name it */
#define QUERY_PATH	"/api/v1/query"

struct prom_req {
	CURL *curl;
	struct curl_slist *headers;
	const char *method;	/* "GET" or "POST", for messages */
	char *url;		/* the endpoint without its query string, for messages */
	char *body;		/* the answer, NUL-terminated */
	size_t len;
	bool too_big;
	char curl_err[CURL_ERROR_SIZE];
};

/*
 * Copies @len bytes of server text into @buf: printable ASCII only (line breaks and tabs become
 * spaces, anything else '?', so that logs and JSON stay valid), without trailing blanks, cut with
 * "..." to fit.
 */
static size_t trimmed_len(const char *s, size_t len)
{
	while (len && (s[len - 1] == '\n' || s[len - 1] == '\r' || s[len - 1] == ' ' ||
		       s[len - 1] == '\t'))
		len--;
	return len;
}

static const char *clean_text(const char *s, size_t len, char *buf, size_t size)
{
	size_t i, n = 0;

	len = trimmed_len(s, len);
	for (i = 0; i < len && n + 1 < size; i++) {
		if (s[i] == '\n' || s[i] == '\r' || s[i] == '\t')
			buf[n++] = ' ';
		else
			buf[n++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	}
	if (i < len && size >= 4)
		memcpy(buf + (n > size - 4 ? size - 4 : n), "...", 4);
	else
		buf[n] = '\0';
	return buf;
}

static void answer_set(struct prom_answer *ans, enum prom_status status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void answer_set(struct prom_answer *ans, enum prom_status status, const char *fmt, ...)
{
	va_list ap;

	ans->status = status;
	ans->value = NAN;
	va_start(ap, fmt);
	vsnprintf(ans->error, sizeof(ans->error), fmt, ap);
	va_end(ap);
}

static void answer_value(struct prom_answer *ans, double value)
{
	ans->status = PROM_VALUE;
	ans->value = value;
	ans->error[0] = '\0';
}

static bool http_ok(long code)
{
	return code >= 200 && code <= 299;
}

/* Prometheus writes numbers with Go's strconv.FormatFloat: [-]digits[.digits][e[-+]digits]. */
static bool is_decimal(const char *s)
{
	size_t digits = 0;

	if (*s == '-' || *s == '+')
		s++;
	for (; *s >= '0' && *s <= '9'; s++)
		digits++;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++)
			digits++;
	if (!digits)
		return false;
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '-' || *s == '+')
			s++;
		if (*s < '0' || *s > '9')
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return *s == '\0';
}

static void parse_number(const char *text, struct prom_answer *ans)
{
	char quoted[SNIPPET_LEN];
	double v;

	if (!strcmp(text, "NaN")) {
		answer_set(ans, PROM_NO_DATA, "NaN");
	} else if (!strcmp(text, "+Inf") || !strcmp(text, "Inf")) {
		answer_value(ans, INFINITY);
	} else if (!strcmp(text, "-Inf")) {
		answer_value(ans, -INFINITY);
	} else if (!is_decimal(text)) {
		answer_set(ans, PROM_ERROR, "value \"%s\" is not a number",
			   clean_text(text, strlen(text), quoted, sizeof(quoted)));
	} else {
		v = strtod(text, NULL);
		if (isfinite(v))
			answer_value(ans, v);
		else
			answer_set(ans, PROM_ERROR, "value \"%s\" is out of range",
				   clean_text(text, strlen(text), quoted, sizeof(quoted)));
	}
}

/* A sample is [unix_time, "value"], in a scalar's result and in a vector element's "value". */
static void parse_sample(const json_t *pair, const char *what, struct prom_answer *ans)
{
	const json_t *value = json_array_get(pair, 1);

	if (!json_is_array(pair) || json_array_size(pair) != 2 ||
	    !json_is_number(json_array_get(pair, 0)))
		answer_set(ans, PROM_ERROR, "%s: not a [time, \"value\"] pair", what);
	else if (!json_is_string(value))
		answer_set(ans, PROM_ERROR, "%s: the value is not a string", what);
	else
		parse_number(json_string_value(value), ans);
}

/* name{label="value", ...}: how a person finds the series in Prometheus' own UI. */
static const char *series_name(const json_t *series, char *buf, size_t size)
{
	const json_t *metric = json_object_get(series, "metric");
	const char *name = json_string_value(json_object_get(metric, "__name__"));
	const char *key, *sep = "";
	char raw[512];
	json_t *val;
	size_t off = 0;

	buf_appendf(raw, sizeof(raw), &off, "%s{", name ? name : "");
	json_object_foreach((json_t *)metric, key, val) {
		if (!strcmp(key, "__name__") || !json_is_string(val))
			continue;
		buf_appendf(raw, sizeof(raw), &off, "%s%s=\"%s\"", sep, key, json_string_value(val));
		sep = ", ";
	}
	buf_appendf(raw, sizeof(raw), &off, "}");
	return clean_text(raw, off, buf, size);
}

static void several_series(const json_t *result, struct prom_answer *ans)
{
	size_t n = json_array_size(result);
	char first[SERIES_LEN], second[SERIES_LEN];

	answer_set(ans, PROM_ERROR, "%zu series: aggregate the query (sum, max, ...): %s, %s%s", n,
		   series_name(json_array_get(result, 0), first, sizeof(first)),
		   series_name(json_array_get(result, 1), second, sizeof(second)),
		   n > 2 ? ", ..." : "");
}

static void read_vector(const json_t *result, struct prom_answer *ans)
{
	const json_t *series = json_array_get(result, 0);

	if (!json_is_array(result))
		answer_set(ans, PROM_ERROR, "vector: \"result\" is not a list");
	else if (json_array_size(result) == 0)
		answer_set(ans, PROM_NO_DATA, "empty result");
	else if (json_array_size(result) > 1)
		several_series(result, ans);
	else if (!json_is_object(series))
		answer_set(ans, PROM_ERROR, "vector: the series is not an object");
	else
		parse_sample(json_object_get(series, "value"), "vector", ans);
}

static void read_data(const json_t *data, struct prom_answer *ans)
{
	const char *type = json_string_value(json_object_get(data, "resultType"));
	const json_t *result = json_object_get(data, "result");
	char quoted[SNIPPET_LEN];

	if (!json_is_object(data))
		answer_set(ans, PROM_ERROR, "no \"data\" object in the answer");
	else if (!type)
		answer_set(ans, PROM_ERROR, "no \"resultType\" in the answer");
	else if (!result)
		answer_set(ans, PROM_ERROR, "no \"result\" in the answer");
	else if (!strcmp(type, "scalar"))
		parse_sample(result, "scalar", ans);
	else if (!strcmp(type, "vector"))
		read_vector(result, ans);
	else if (!strcmp(type, "matrix"))
		answer_set(ans, PROM_ERROR, "a range vector (matrix), not one number: "
			   "wrap the range in a function, e.g. rate(...[5m])");
	else
		answer_set(ans, PROM_ERROR, "result type \"%s\" is not a number",
			   clean_text(type, strlen(type), quoted, sizeof(quoted)));
}

static const char *json_text(const json_t *root, const char *key, char *buf, size_t size)
{
	const json_t *v = json_object_get(root, key);

	if (!json_is_string(v))
		return "?";
	return clean_text(json_string_value(v), json_string_length(v), buf, size);
}

/* {"status": "error", "errorType": "bad_data", "error": "..."}, with any HTTP status. */
static void status_error(const char *http, const json_t *root, struct prom_answer *ans)
{
	char type[SNIPPET_LEN], text[ERROR_TEXT_LEN];

	answer_set(ans, PROM_ERROR, "%s%s: %s", http, json_text(root, "errorType", type, sizeof(type)),
		   json_text(root, "error", text, sizeof(text)));
}

static void read_root(long http_code, const json_t *root, struct prom_answer *ans)
{
	const char *status = json_string_value(json_object_get(root, "status"));
	char http[32] = "", quoted[SNIPPET_LEN];

	if (!http_ok(http_code))
		snprintf(http, sizeof(http), "HTTP %ld: ", http_code);
	if (!json_is_object(root))
		answer_set(ans, PROM_ERROR, "%sthe answer is not a JSON object", http);
	else if (!status)
		answer_set(ans, PROM_ERROR, "%sno \"status\" in the answer", http);
	else if (!strcmp(status, "error"))
		status_error(http, root, ans);
	else if (strcmp(status, "success"))
		answer_set(ans, PROM_ERROR, "%sstatus \"%s\"", http,
			   clean_text(status, strlen(status), quoted, sizeof(quoted)));
	else if (!http_ok(http_code))
		answer_set(ans, PROM_ERROR, "HTTP %ld", http_code);
	else
		read_data(json_object_get(root, "data"), ans);
}

static void not_json(long http_code, const char *body, size_t len, struct prom_answer *ans)
{
	char quoted[SNIPPET_LEN];

	clean_text(body, len, quoted, sizeof(quoted));
	if (http_ok(http_code) && len)
		answer_set(ans, PROM_ERROR, "not JSON: \"%s\"", quoted);
	else if (http_ok(http_code))
		answer_set(ans, PROM_ERROR, "not JSON: an empty answer");
	else if (len)
		answer_set(ans, PROM_ERROR, "HTTP %ld: \"%s\"", http_code, quoted);
	else
		answer_set(ans, PROM_ERROR, "HTTP %ld", http_code);
}

void prom_answer_parse(long http_code, const char *body, size_t len, struct prom_answer *ans)
{
	json_error_t jerr;
	json_t *root;

	if (!body)
		len = 0;
	root = len ? json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
	if (!root) {
		not_json(http_code, body, len, ans);
		return;
	}
	read_root(http_code, root, ans);
	json_decref(root);
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct prom_req *req = arg;
	size_t n = size * nmemb;
	char *body;

	if (n > BODY_MAX - req->len) {
		req->too_big = true;
		return 0;	/* curl ends the transfer with CURLE_WRITE_ERROR */
	}
	body = realloc(req->body, req->len + n + 1);
	if (!body)
		return 0;
	memcpy(body + req->len, data, n);
	req->len += n;
	body[req->len] = '\0';
	req->body = body;
	return n;
}

void prom_req_free(struct prom_req *req)
{
	if (!req)
		return;
	curl_easy_cleanup(req->curl);
	curl_slist_free_all(req->headers);
	free(req->url);
	free(req->body);
	free(req);
}

/* What queries and webhooks share: one easy handle, bounded in time, size and protocols. */
static struct prom_req *req_alloc(const char *method, const char *url, __u64 timeout_ms, char *err,
				  size_t errlen)
{
	struct prom_req *req;
	CURLcode rc;

	if (!timeout_ms) {
		snprintf(err, errlen, "%s %s: a timeout of 0 would wait forever", method, url);
		return NULL;
	}
	req = calloc(1, sizeof(*req));
	if (!req || !(req->curl = curl_easy_init()) || !(req->url = strdup(url))) {
		snprintf(err, errlen, "%s %s: out of memory", method, url);
		prom_req_free(req);
		return NULL;
	}
	req->method = method;
	rc = curl_easy_setopt(req->curl, CURLOPT_PRIVATE, req) ?:
	     curl_easy_setopt(req->curl, CURLOPT_NOSIGNAL, 1L) ?:
	     curl_easy_setopt(req->curl, CURLOPT_PROTOCOLS_STR, "http,https") ?:
	     curl_easy_setopt(req->curl, CURLOPT_TIMEOUT_MS, (long)timeout_ms) ?:
	     curl_easy_setopt(req->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms) ?:
	     curl_easy_setopt(req->curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)BODY_MAX) ?:
	     curl_easy_setopt(req->curl, CURLOPT_WRITEFUNCTION, on_body) ?:
	     curl_easy_setopt(req->curl, CURLOPT_WRITEDATA, req) ?:
	     curl_easy_setopt(req->curl, CURLOPT_ERRORBUFFER, req->curl_err) ?:
	     curl_easy_setopt(req->curl, CURLOPT_USERAGENT, "xdp-canary");
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "%s %s: %s", method, url, curl_easy_strerror(rc));
		prom_req_free(req);
		return NULL;
	}
	return req;
}

static int add_header(struct prom_req *req, const char *header)
{
	struct curl_slist *list = curl_slist_append(req->headers, header);

	if (!list)
		return -ENOMEM;
	req->headers = list;
	return 0;
}

/* Read at each request, so that a rotated token is picked up. */
static int read_token(const char *path, char *tok, size_t size, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	size_t n, i;
	int bad;

	if (!f) {
		bad = -errno;
		snprintf(err, errlen, "bearer_token_file %s: %s", path, strerror(-bad));
		return bad;
	}
	/* size bytes asked: all of them read means no room for the NUL, so too long. */
	n = fread(tok, 1, size, f);
	bad = ferror(f) ? -EIO : n == size ? -EFBIG : 0;
	fclose(f);
	if (bad) {
		snprintf(err, errlen, "bearer_token_file %s: %s", path,
			 bad == -EIO ? "cannot be read" : "longer than 8 KiB");
		return bad;
	}
	n = trimmed_len(tok, n);
	tok[n] = '\0';
	for (i = 0; i < n; i++)
		if (tok[i] < 0x21 || tok[i] > 0x7e)	/* it goes into a header line */
			break;
	if (!n || i < n) {
		snprintf(err, errlen, "bearer_token_file %s: %s", path,
			 !n ? "is empty" : "holds a space, a control character or non-ASCII");
		return -EINVAL;
	}
	return 0;
}

static int auth_header(struct prom_req *req, const char *path, char *err, size_t errlen)
{
	char tok[TOKEN_MAX], *line = NULL;
	int ret;

	ret = read_token(path, tok, sizeof(tok), err, errlen);
	if (ret)
		return ret;
	if (asprintf(&line, "Authorization: Bearer %s", tok) < 0)
		line = NULL;
	explicit_bzero(tok, sizeof(tok));
	ret = line ? add_header(req, line) : -ENOMEM;
	if (line) {
		explicit_bzero(line, strlen(line));
		free(line);
	}
	if (ret)
		snprintf(err, errlen, "bearer_token_file %s: out of memory", path);
	return ret;
}

/* Prometheus' own timeout a tenth earlier than curl's, so that its error arrives first. */
static unsigned long long server_timeout_ms(__u64 timeout_ms)
{
	return timeout_ms > 10 ? timeout_ms - timeout_ms / 10 : timeout_ms;
}

static char *query_url(struct prom_req *req, const char *query, __u64 time_ms, __u64 timeout_ms)
{
	char *q = curl_easy_escape(req->curl, query, 0), *url;
	int n;

	if (!q)
		return NULL;
	n = asprintf(&url, "%s?query=%s&time=%llu.%03llu&timeout=%llums", req->url, q,
		     (unsigned long long)time_ms / 1000, (unsigned long long)time_ms % 1000,
		     server_timeout_ms(timeout_ms));
	curl_free(q);
	return n < 0 ? NULL : url;
}

static int prom_setup(struct prom_req *req, const struct prom_cfg *cfg, const char *query,
		      __u64 time_ms, __u64 timeout_ms, char *err, size_t errlen)
{
	char *url = query_url(req, query, time_ms, timeout_ms);
	CURLcode rc;

	if (!url || add_header(req, "Accept: application/json")) {
		snprintf(err, errlen, "GET %s: out of memory", req->url);
		free(url);
		return -ENOMEM;
	}
	if (cfg->token_file[0] && auth_header(req, cfg->token_file, err, errlen)) {
		free(url);
		return -EINVAL;
	}
	rc = curl_easy_setopt(req->curl, CURLOPT_URL, url) ?:
	     curl_easy_setopt(req->curl, CURLOPT_HTTPGET, 1L) ?:
	     curl_easy_setopt(req->curl, CURLOPT_HTTPHEADER, req->headers) ?:
	     (cfg->ca_file[0] ? curl_easy_setopt(req->curl, CURLOPT_CAINFO, cfg->ca_file) : 0) ?:
	     curl_easy_setopt(req->curl, CURLOPT_SSL_VERIFYPEER, cfg->insecure ? 0L : 1L) ?:
	     curl_easy_setopt(req->curl, CURLOPT_SSL_VERIFYHOST, cfg->insecure ? 0L : 2L);
	free(url);
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "GET %s: %s", req->url, curl_easy_strerror(rc));
		return -EINVAL;
	}
	return 0;
}

struct prom_req *prom_req_new(const struct prom_cfg *cfg, const char *query, __u64 time_ms,
			      __u64 timeout_ms, char *err, size_t errlen)
{
	size_t base = strlen(cfg->url);
	struct prom_req *req;
	char *url;

	while (base && cfg->url[base - 1] == '/')
		base--;
	if (asprintf(&url, "%.*s" QUERY_PATH, (int)base, cfg->url) < 0) {
		snprintf(err, errlen, "prometheus: out of memory");
		return NULL;
	}
	req = req_alloc("GET", url, timeout_ms, err, errlen);
	free(url);
	if (req && prom_setup(req, cfg, query, time_ms, timeout_ms, err, errlen)) {
		prom_req_free(req);
		return NULL;
	}
	return req;
}

CURL *prom_req_handle(struct prom_req *req)
{
	return req->curl;
}

/* "GET http://...: Timeout was reached (Operation timed out after 1000 milliseconds ...)" */
static void transfer_error(const struct prom_req *req, CURLcode rc, char *buf, size_t size)
{
	char url[URL_LEN], detail[SNIPPET_LEN * 2];

	clean_text(req->url, strlen(req->url), url, sizeof(url));
	if (req->too_big || rc == CURLE_FILESIZE_EXCEEDED)
		snprintf(buf, size, "%s %s: answer larger than 1 MiB", req->method, url);
	else if (req->curl_err[0] && strstr(req->curl_err, curl_easy_strerror(rc)))
		snprintf(buf, size, "%s %s: %s", req->method, url,
			 clean_text(req->curl_err, strlen(req->curl_err), detail, sizeof(detail)));
	else if (req->curl_err[0])
		snprintf(buf, size, "%s %s: %s (%s)", req->method, url, curl_easy_strerror(rc),
			 clean_text(req->curl_err, strlen(req->curl_err), detail, sizeof(detail)));
	else
		snprintf(buf, size, "%s %s: %s", req->method, url, curl_easy_strerror(rc));
}

void prom_req_answer(struct prom_req *req, CURLcode rc, struct prom_answer *ans)
{
	long code = 0;

	if (rc != CURLE_OK || req->too_big) {
		answer_set(ans, PROM_ERROR, "transfer failed");
		transfer_error(req, rc, ans->error, sizeof(ans->error));
	} else if (curl_easy_getinfo(req->curl, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK) {
		answer_set(ans, PROM_ERROR, "GET %.*s: no HTTP status", URL_LEN, req->url);
	} else {
		prom_answer_parse(code, req->body, req->len, ans);
	}
}

void prom_query(const struct prom_cfg *cfg, const char *query, __u64 time_ms, __u64 timeout_ms,
		struct prom_answer *ans)
{
	char err[sizeof(ans->error)];
	struct prom_req *req;

	req = prom_req_new(cfg, query, time_ms, timeout_ms, err, sizeof(err));
	if (!req) {
		answer_set(ans, PROM_ERROR, "%s", err);
		return;
	}
	prom_req_answer(req, curl_easy_perform(req->curl), ans);
	prom_req_free(req);
}

static bool is_word_char(char c)
{
	return c == '_' || isalnum((unsigned char)c);
}

/* $name is a variable only as a whole word: "$services" is left alone. */
static const char *lookup_var(const char *p, const char *const vals[], size_t *skip)
{
	static const char *const names[] = { "service", "version", "interval" };
	size_t i, n;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		n = strlen(names[i]);
		if (vals[i] && !strncmp(p + 1, names[i], n) && !is_word_char(p[n + 1])) {
			*skip = n + 1;
			return vals[i];
		}
	}
	return NULL;
}

int prom_expand(const char *tmpl, const char *service, const char *version, const char *interval,
		char *out, size_t len)
{
	const char *const vals[] = { service, version, interval };
	const char *p = tmpl, *val;
	size_t off = 0, skip, n;

	if (!len)
		return -ENAMETOOLONG;
	while (*p) {
		val = *p == '$' ? lookup_var(p, vals, &skip) : NULL;
		if (val) {
			n = strlen(val);
		} else {
			val = p;
			skip = 1;
			n = 1;
		}
		if (n >= len - off) {
			out[0] = '\0';
			return -ENAMETOOLONG;
		}
		memcpy(out + off, val, n);
		off += n;
		p += skip;
	}
	out[off] = '\0';
	return 0;
}

struct prom_req *hook_req_new(const char *url, const char *json_body, __u64 timeout_ms, char *err,
			      size_t errlen)
{
	struct prom_req *req = req_alloc("POST", url, timeout_ms, err, errlen);
	CURLcode rc;

	if (!req)
		return NULL;
	if (add_header(req, "Content-Type: application/json")) {
		snprintf(err, errlen, "POST %s: out of memory", url);
		prom_req_free(req);
		return NULL;
	}
	rc = curl_easy_setopt(req->curl, CURLOPT_URL, url) ?:
	     curl_easy_setopt(req->curl, CURLOPT_HTTPHEADER, req->headers) ?:
	     curl_easy_setopt(req->curl, CURLOPT_COPYPOSTFIELDS, json_body);
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "POST %s: %s", url, curl_easy_strerror(rc));
		prom_req_free(req);
		return NULL;
	}
	return req;
}

int hook_req_status(struct prom_req *req, CURLcode rc, char *err, size_t errlen)
{
	char url[URL_LEN], quoted[SNIPPET_LEN];
	long code = 0;

	/* A webhook's answer is not read: an oversized one still means the POST arrived. */
	if (rc != CURLE_OK && !req->too_big) {
		transfer_error(req, rc, err, errlen);
		return -EIO;
	}
	if (curl_easy_getinfo(req->curl, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK)
		code = 0;
	if (http_ok(code))
		return 0;
	clean_text(req->url, strlen(req->url), url, sizeof(url));
	if (req->len)
		snprintf(err, errlen, "POST %s: HTTP %ld: \"%s\"", url, code,
			 clean_text(req->body, req->len, quoted, sizeof(quoted)));
	else
		snprintf(err, errlen, "POST %s: HTTP %ld", url, code);
	return -EIO;
}
