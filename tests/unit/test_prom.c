// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The Prometheus client's reading of answers (every shape a server may send, good and bad), query
 * templates, and the checks a request makes before anything is sent. Real servers are in
 * tests/bats/prom.bats.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "prom.h"

#define V(x)	"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[" x "]}}"
#define ONE(v)	V("{\"metric\":{\"job\":\"web\"},\"value\":[1700000000.5," v "]}")
#define DATA(t, r) "{\"status\":\"success\",\"data\":{\"resultType\":\"" t "\",\"result\":" r "}}"

struct parse_case {
	long code;
	const char *body;
	enum prom_status status;
	double value;		/* PROM_VALUE */
	const char *text;	/* in the error or no-data reason */
};

static const struct parse_case cases[] = {
	{ 200, ONE("\"42\""), PROM_VALUE, 42, "" },
	{ 200, ONE("\"-0.25\""), PROM_VALUE, -0.25, "" },
	{ 200, ONE("\"1e3\""), PROM_VALUE, 1000, "" },
	{ 200, DATA("scalar", "[1700000000, \"3.5\"]"), PROM_VALUE, 3.5, "" },
	{ 200, ONE("\"+Inf\""), PROM_VALUE, INFINITY, "" },
	{ 200, ONE("\"-Inf\""), PROM_VALUE, -INFINITY, "" },
	{ 200, ONE("\"NaN\""), PROM_NO_DATA, 0, "NaN" },
	{ 200, DATA("scalar", "[1, \"NaN\"]"), PROM_NO_DATA, 0, "NaN" },
	{ 200, V(""), PROM_NO_DATA, 0, "empty result" },
	{ 200, V("{\"metric\":{\"__name__\":\"up\",\"pod\":\"a\"},\"value\":[1,\"1\"]},"
		 "{\"metric\":{\"__name__\":\"up\",\"pod\":\"b\"},\"value\":[1,\"0\"]}"),
	  PROM_ERROR, 0, "2 series: aggregate the query (sum, max, ...): up{pod=\"a\"}, up{pod=\"b\"}" },
	{ 200, V("{},{},{}"), PROM_ERROR, 0, "3 series" },
	{ 200, DATA("matrix", "[{\"metric\":{},\"values\":[[1,\"1\"]]}]"), PROM_ERROR, 0, "matrix" },
	{ 200, DATA("string", "[1, \"hello\"]"), PROM_ERROR, 0, "result type \"string\"" },
	{ 400, "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"1:5: parse error\"}",
	  PROM_ERROR, 0, "HTTP 400: bad_data: 1:5: parse error" },
	{ 503, "{\"status\":\"error\",\"errorType\":\"timeout\",\"error\":\"query timed out\"}",
	  PROM_ERROR, 0, "HTTP 503: timeout: query timed out" },
	{ 200, "{\"status\":\"error\"}", PROM_ERROR, 0, "?: ?" },
	{ 500, "Internal Server Error\n", PROM_ERROR, 0, "HTTP 500: \"Internal Server Error\"" },
	{ 502, "", PROM_ERROR, 0, "HTTP 502" },
	{ 500, DATA("scalar", "[1, \"1\"]"), PROM_ERROR, 0, "HTTP 500" },
	{ 200, "<html>login</html>", PROM_ERROR, 0, "not JSON: \"<html>login</html>\"" },
	{ 200, "", PROM_ERROR, 0, "not JSON: an empty answer" },
	{ 200, "{\"status\":\"success\",\"data\":{\"resultType\":\"vec", PROM_ERROR, 0, "not JSON" },
	{ 200, "[1, 2]", PROM_ERROR, 0, "not a JSON object" },
	{ 200, "{\"status\":\"success\",\"status\":\"error\"}", PROM_ERROR, 0, "not JSON" },
	{ 200, ONE("42"), PROM_ERROR, 0, "not a string" },
	{ 200, ONE("null"), PROM_ERROR, 0, "not a string" },
	{ 200, ONE("\"abc\""), PROM_ERROR, 0, "\"abc\" is not a number" },
	{ 200, ONE("\"0x10\""), PROM_ERROR, 0, "is not a number" },
	{ 200, ONE("\"\""), PROM_ERROR, 0, "is not a number" },
	{ 200, ONE("\"1.5 \""), PROM_ERROR, 0, "is not a number" },
	{ 200, ONE("\"inf\""), PROM_ERROR, 0, "is not a number" },
	{ 200, ONE("\"1e999\""), PROM_ERROR, 0, "out of range" },
	{ 200, V("{\"metric\":{},\"value\":[1,\"1\",2]}"), PROM_ERROR, 0, "not a [time, \"value\"]" },
	{ 200, V("{\"metric\":{},\"value\":[\"1\",\"1\"]}"), PROM_ERROR, 0, "not a [time" },
	{ 200, V("{\"metric\":{}}"), PROM_ERROR, 0, "not a [time" },
	{ 200, V("[1,\"1\"]"), PROM_ERROR, 0, "the series is not an object" },
	{ 200, DATA("vector", "{}"), PROM_ERROR, 0, "\"result\" is not a list" },
	{ 200, DATA("scalar", "\"1\""), PROM_ERROR, 0, "scalar: not a [time" },
	{ 200, "{\"status\":\"success\"}", PROM_ERROR, 0, "no \"data\"" },
	{ 200, "{\"status\":\"success\",\"data\":[]}", PROM_ERROR, 0, "no \"data\"" },
	{ 200, "{\"status\":\"success\",\"data\":{\"result\":[]}}", PROM_ERROR, 0, "no \"resultType\"" },
	{ 200, "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\"}}", PROM_ERROR, 0,
	  "no \"result\"" },
	{ 200, "{\"data\":{}}", PROM_ERROR, 0, "no \"status\"" },
	{ 200, "{\"status\":7}", PROM_ERROR, 0, "no \"status\"" },
	{ 200, "{\"status\":\"maybe\"}", PROM_ERROR, 0, "status \"maybe\"" },
};

/* Every message is one line of printable ASCII that fits its buffer. */
static void assert_clean(const struct prom_answer *ans)
{
	size_t n = strnlen(ans->error, sizeof(ans->error));

	assert_true(n < sizeof(ans->error));
	for (size_t i = 0; i < n; i++)
		assert_true(ans->error[i] >= 0x20 && ans->error[i] < 0x7f);
}

static void check_case(const struct parse_case *c)
{
	struct prom_answer ans;

	memset(&ans, 0xa5, sizeof(ans));
	prom_answer_parse(c->code, c->body, strlen(c->body), &ans);
	if (ans.status != c->status || !strstr(ans.error, c->text))
		fail_msg("body %s: status %d \"%s\", want %d with \"%s\"", c->body, ans.status,
			 ans.error, c->status, c->text);
	assert_clean(&ans);
	if (c->status == PROM_VALUE)
		assert_true(ans.value == c->value);
	else
		assert_true(ans.error[0]);
}

static void answers_of_every_shape(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		check_case(&cases[i]);
}

static void server_text_is_quoted_safely(void **state)
{
	static const char body[] = "{\"status\":\"error\",\"errorType\":\"bad\\u001b[31m\","
				   "\"error\":\"line one\\nline two\\u0007\\u00e9\"}";
	struct prom_answer ans;

	(void)state;
	prom_answer_parse(400, body, strlen(body), &ans);
	assert_int_equal(ans.status, PROM_ERROR);
	assert_string_equal(ans.error, "HTTP 400: bad?[31m: line one line two???");
}

static void long_server_text_is_cut(void **state)
{
	char body[4096];
	struct prom_answer ans;
	size_t n;

	(void)state;
	n = (size_t)snprintf(body, sizeof(body), "<html>");
	memset(body + n, 'x', 3000);
	prom_answer_parse(200, body, n + 3000, &ans);
	assert_int_equal(ans.status, PROM_ERROR);
	assert_clean(&ans);
	assert_true(strlen(ans.error) < 100);
	assert_non_null(strstr(ans.error, "...\""));

	prom_answer_parse(502, body, n + 3000, &ans);
	assert_int_equal(ans.status, PROM_ERROR);
	assert_true(!strncmp(ans.error, "HTTP 502: \"<html>xxx", 20));
	assert_clean(&ans);
}

static void many_series_names_are_cut(void **state)
{
	char label[600], body[2048];
	struct prom_answer ans;

	(void)state;
	memset(label, 'l', sizeof(label) - 1);
	label[sizeof(label) - 1] = '\0';
	snprintf(body, sizeof(body), V("{\"metric\":{\"a\":\"%s\"},\"value\":[1,\"1\"]},{},{},{}"),
		 label);
	prom_answer_parse(200, body, strlen(body), &ans);
	assert_int_equal(ans.status, PROM_ERROR);
	assert_non_null(strstr(ans.error, "4 series"));
	assert_non_null(strstr(ans.error, "{a=\"lll"));
	assert_non_null(strstr(ans.error, ", {}, ..."));
	assert_clean(&ans);
}

static void absent_and_odd_bodies(void **state)
{
	static const char nul[] = "{\"status\":\"success\"}\0garbage";
	struct prom_answer ans;

	(void)state;
	prom_answer_parse(200, NULL, 10, &ans);
	assert_int_equal(ans.status, PROM_ERROR);
	assert_string_equal(ans.error, "not JSON: an empty answer");
	prom_answer_parse(200, nul, sizeof(nul) - 1, &ans);
	assert_int_equal(ans.status, PROM_ERROR);
	assert_non_null(strstr(ans.error, "not JSON"));
	assert_clean(&ans);
}

/* Cut anywhere, a good answer never reads as a value; only the whole of it does. */
static void every_truncation_is_an_error(void **state)
{
	static const char body[] = ONE("\"12.5\"");
	struct prom_answer ans;

	(void)state;
	for (size_t len = 0; len < sizeof(body) - 1; len++) {
		prom_answer_parse(200, body, len, &ans);
		assert_int_not_equal(ans.status, PROM_VALUE);
		assert_clean(&ans);
	}
	prom_answer_parse(200, body, sizeof(body) - 1, &ans);
	assert_int_equal(ans.status, PROM_VALUE);
	assert_true(ans.value == 12.5);
}

/* Any one byte changed gives either a value that is really in the body, or a clean message. */
static void every_byte_flip_is_survived(void **state)
{
	static const char good[] = ONE("\"7\"");
	static const char flips[] = { '\0', '"', '}', ']', 'x', '\\', '\x01', '9', ',' };
	char body[sizeof(good)];
	struct prom_answer ans;

	(void)state;
	for (size_t i = 0; i < sizeof(good) - 1; i++) {
		for (size_t f = 0; f < sizeof(flips); f++) {
			memcpy(body, good, sizeof(good));
			body[i] = flips[f];
			prom_answer_parse(200, body, sizeof(good) - 1, &ans);
			assert_clean(&ans);
			if (ans.status == PROM_VALUE)
				assert_true(ans.value == 7 || ans.value == 9 || ans.value == 97 ||
					    ans.value == 79);
		}
	}
}

static void expand_case(const char *tmpl, const char *want)
{
	char out[256];

	assert_int_equal(prom_expand(tmpl, "web", "canary", "30s", out, sizeof(out)), 0);
	assert_string_equal(out, want);
}

static void templates_expand_whole_words(void **state)
{
	(void)state;
	expand_case("sum(rate(http_requests_total{service=\"$service\",version=\"$version\","
		    "code=~\"5..\"}[$interval]))",
		    "sum(rate(http_requests_total{service=\"web\",version=\"canary\","
		    "code=~\"5..\"}[30s]))");
	expand_case("$service$version", "webcanary");
	expand_case("$services $version_x $foo $", "$services $version_x $foo $");
	expand_case("$$service", "$web");
	expand_case("no variables", "no variables");
	expand_case("", "");
	expand_case("x[$interval]/$Service", "x[30s]/$Service");
}

static void templates_that_do_not_fit(void **state)
{
	char out[16];

	(void)state;
	assert_int_equal(prom_expand("$service", NULL, "canary", "30s", out, sizeof(out)), 0);
	assert_string_equal(out, "$service");
	assert_int_equal(prom_expand("[$interval]", "w", "v", "30s", out, 6), 0);
	assert_string_equal(out, "[30s]");
	assert_int_equal(prom_expand("[$interval]", "w", "v", "30s", out, 5), -ENAMETOOLONG);
	assert_string_equal(out, "");
	assert_int_equal(prom_expand("0123456789abcdef", "w", "v", "i", out, sizeof(out)),
			 -ENAMETOOLONG);
	assert_int_equal(prom_expand("", "w", "v", "i", out, 0), -ENAMETOOLONG);
}

static char *temp_file(const char *text)
{
	char *path = strdup("/tmp/test_prom_XXXXXX");
	int fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void request_refused(struct prom_cfg *cfg, __u64 timeout_ms, const char *why)
{
	struct prom_answer ans;
	char err[240] = "";

	assert_null(prom_req_new(cfg, "up", 1000, timeout_ms, err, sizeof(err)));
	if (!strstr(err, why))
		fail_msg("error \"%s\", want \"%s\"", err, why);
	prom_query(cfg, "up", 1000, timeout_ms, &ans);
	assert_int_equal(ans.status, PROM_ERROR);
	assert_non_null(strstr(ans.error, why));
}

static void bad_token_files_are_refused(void **state)
{
	static struct prom_cfg cfg = { .set = true, .url = "http://127.0.0.1:9" };
	char *empty = temp_file("\n\n"), *spaced = temp_file("abc def\n");
	char *good = temp_file("abc.def-ghi\r\n");
	struct prom_req *req;
	char err[240];

	(void)state;
	snprintf(cfg.token_file, sizeof(cfg.token_file), "/nonexistent/token");
	request_refused(&cfg, 1000, "/nonexistent/token: No such file or directory");
	snprintf(cfg.token_file, sizeof(cfg.token_file), "%s", empty);
	request_refused(&cfg, 1000, "is empty");
	snprintf(cfg.token_file, sizeof(cfg.token_file), "%s", spaced);
	request_refused(&cfg, 1000, "holds a space, a control character or non-ASCII");
	snprintf(cfg.token_file, sizeof(cfg.token_file), "%s", good);
	request_refused(&cfg, 0, "a timeout of 0");
	req = prom_req_new(&cfg, "up", 1000, 1000, err, sizeof(err));
	assert_non_null(req);
	assert_non_null(prom_req_handle(req));
	prom_req_free(req);
	unlink(empty);
	unlink(spaced);
	unlink(good);
	free(empty);
	free(spaced);
	free(good);
}

static void webhook_needs_a_timeout(void **state)
{
	struct prom_req *req;
	char err[240] = "";

	(void)state;
	assert_null(hook_req_new("http://127.0.0.1:9/hook", "{}", 0, err, sizeof(err)));
	assert_non_null(strstr(err, "POST http://127.0.0.1:9/hook: a timeout of 0"));
	req = hook_req_new("http://127.0.0.1:9/hook", "{}", 1000, err, sizeof(err));
	assert_non_null(req);
	prom_req_free(req);
	prom_req_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(answers_of_every_shape),
		cmocka_unit_test(server_text_is_quoted_safely),
		cmocka_unit_test(long_server_text_is_cut),
		cmocka_unit_test(many_series_names_are_cut),
		cmocka_unit_test(absent_and_odd_bodies),
		cmocka_unit_test(every_truncation_is_an_error),
		cmocka_unit_test(every_byte_flip_is_survived),
		cmocka_unit_test(templates_expand_whole_words),
		cmocka_unit_test(templates_that_do_not_fit),
		cmocka_unit_test(bad_token_files_are_refused),
		cmocka_unit_test(webhook_needs_a_timeout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
