// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The config parser's tools: the key path every message starts with, and getters that check a
 * member's type and range so that each parse function only says what its keys mean.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfgparse.h"

/*
 * Control characters are escaped so that an error stays one line, and long text is cut (never
 * inside a UTF-8 sequence) so that the reason stays readable.
 */
const char *quote(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	buf[o++] = '"';
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((o + 8 >= len && (c & 0xc0) != 0x80) || o + 5 >= len) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (c < 0x20 || c == 0x7f)
			o += snprintf(buf + o, len - o, "\\x%02x", c);
		else if (c == '"' || c == '\\')
			o += snprintf(buf + o, len - o, "\\%c", c);
		else
			buf[o++] = (char)c;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

const char *number_text(json_t *v, char *buf, size_t len)
{
	if (json_is_integer(v))
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else
		snprintf(buf, len, "%.15g", json_real_value(v));
	return buf;
}

size_t push(struct parser *p, const char *fmt, ...)
{
	size_t mark = strlen(p->path);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->path + mark, sizeof(p->path) - mark, fmt, ap);
	va_end(ap);
	return mark;
}

size_t push_key(struct parser *p, const char *key)
{
	return push(p, "%s%s", p->path[0] ? "." : "", key);
}

void pop(struct parser *p, size_t mark)
{
	p->path[mark] = '\0';
}

int fail(struct parser *p, const char *key, const char *fmt, ...)
{
	char reason[REASON_LEN];
	size_t mark = 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (key)
		mark = push_key(p, key);
	if (p->path[0])
		snprintf(p->err, p->errlen, "%s: %s", p->path, reason);
	else
		snprintf(p->err, p->errlen, "%s", reason);
	if (key)
		pop(p, mark);
	return -EINVAL;
}

int fail_nomem(struct parser *p, const char *key)
{
	fail(p, key, "%s", strerror(ENOMEM));
	return -ENOMEM;
}

int check_keys(struct parser *p, json_t *obj, const char *const *known)
{
	char q[QUOTE_LEN];
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v) {
		const char *const *k;

		for (k = known; *k && strcmp(*k, key); k++)
			;
		if (!*k)
			return fail(p, NULL, "unknown key %s", quote(key, q, sizeof(q)));
	}
	return 0;
}

const char *type_name(json_type type)
{
	switch (type) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "true or false";
	default:
		return "null";
	}
}

int get(struct parser *p, json_t *obj, const char *key, json_type type, bool required,
	json_t **out)
{
	json_t *v = json_object_get(obj, key);
	bool ok;

	if (!v) {
		if (required)
			return fail(p, key, "missing");
		return 0;
	}
	if (type == JSON_REAL)
		ok = json_is_number(v);
	else if (type == JSON_TRUE)
		ok = json_is_boolean(v);
	else
		ok = json_typeof(v) == type;
	if (!ok)
		return fail(p, key, "expected %s", type_name(type));
	*out = v;
	return 1;
}

int get_string(struct parser *p, json_t *obj, const char *key, bool required, const char **out)
{
	json_t *v = NULL;
	int ret = get(p, obj, key, JSON_STRING, required, &v);

	if (ret > 0)
		*out = json_string_value(v);
	return ret;
}

int get_bool(struct parser *p, json_t *obj, const char *key, bool *out)
{
	json_t *v = NULL;
	int ret = get(p, obj, key, JSON_TRUE, false, &v);

	if (ret > 0)
		*out = json_is_true(v);
	return ret;
}

int get_number(struct parser *p, json_t *obj, const char *key, bool required, double *out)
{
	json_t *v = NULL;
	int ret = get(p, obj, key, JSON_REAL, required, &v);

	if (ret > 0)
		*out = json_number_value(v);
	return ret;
}

int get_int(struct parser *p, json_t *obj, const char *key, bool required, json_int_t min,
	    json_int_t max, const char *what, json_int_t *out)
{
	json_int_t i;
	json_t *v = NULL;
	int ret = get(p, obj, key, JSON_INTEGER, required, &v);

	if (ret <= 0)
		return ret;
	i = json_integer_value(v);
	if (i < min || i > max)
		return fail(p, key, "%" JSON_INTEGER_FORMAT " %s", i, what);
	*out = i;
	return 1;
}

int get_enum(struct parser *p, json_t *obj, const char *key, const char *const *names,
	     const char *expected, unsigned int *out)
{
	char q[QUOTE_LEN];
	const char *s = NULL;
	int ret = get_string(p, obj, key, false, &s);

	if (ret <= 0)
		return ret;
	for (unsigned int i = 0; names[i]; i++) {
		if (!strcmp(s, names[i])) {
			*out = i;
			return 1;
		}
	}
	return fail(p, key, "%s is not %s", quote(s, q, sizeof(q)), expected);
}

int copy_text(struct parser *p, const char *key, char *dst, size_t size, const char *s)
{
	if (strlen(s) >= size)
		return fail(p, key, "longer than %zu characters", size - 1);
	strcpy(dst, s);
	return 0;
}

int get_abs_path(struct parser *p, json_t *obj, const char *key, char *dst, size_t size)
{
	char q[QUOTE_LEN];
	const char *s = NULL;
	int ret = get_string(p, obj, key, false, &s);

	if (ret <= 0)
		return ret;
	if (s[0] != '/')
		return fail(p, key, "%s is not an absolute path", quote(s, q, sizeof(q)));
	ret = copy_text(p, key, dst, size, s);
	return ret ? ret : 1;
}

int name_set(struct parser *p, const char *key, const char *name, char *dst, size_t size)
{
	char q[QUOTE_LEN];
	const char *c;

	if (!name[0])
		return fail(p, key, "must not be empty");
	for (c = name; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '_' || *c == '.' || *c == '-'))
			return fail(p, key,
				    "%s may only hold letters, digits, \"_\", \".\" and \"-\"",
				    quote(name, q, sizeof(q)));
	if (strlen(name) >= size)
		return fail(p, key, "%s is longer than %zu characters", quote(name, q, sizeof(q)),
			    size - 1);
	strcpy(dst, name);
	return 0;
}

/* JSON numbers are binary: "two decimals" allows for the error 2.55 carries as a double. */
static int percent_number(struct parser *p, const char *key, json_t *v, __u16 *bp)
{
	char num[NUMBER_LEN];
	double d, x;
	long n;

	number_text(v, num, sizeof(num));
	if (json_is_integer(v)) {
		if (json_integer_value(v) < 0 || json_integer_value(v) > 100)
			return fail(p, key, "%s is not a percentage (0..100)", num);
		*bp = (__u16)(json_integer_value(v) * 100);
		return 0;
	}
	d = json_real_value(v);
	if (!(d >= 0 && d <= 100))
		return fail(p, key, "%s is not a percentage (0..100)", num);
	x = d * 100;
	n = (long)(x + 0.5);
	if (x - (double)n > 1e-6 || (double)n - x > 1e-6)
		return fail(p, key, "%s has more than two decimals", num);
	*bp = (__u16)n;
	return 0;
}

int percent_value(struct parser *p, const char *key, json_t *v, bool strings, __u16 *bp)
{
	char why[REASON_LEN];

	if (json_is_number(v))
		return percent_number(p, key, v, bp);
	if (!strings || !json_is_string(v))
		return fail(p, key, "expected %s", strings ? "a number or a string" : "a number");
	if (weight_parse(json_string_value(v), bp, why, sizeof(why)))
		return fail(p, key, "%s", why);
	return 0;
}

int name_index(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(names[i], s))
			return (int)i;
	return -1;
}

const char *names_list(const char *const *names, size_t n, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s",
				      !i ? "" : i + 1 < n ? ", " : " or ", names[i]);
	return buf;
}

/* @obj's object @key with its keys checked and its path pushed: pop(@mark) once done with it. */
int cfg_enter(struct parser *p, json_t *obj, const char *key, const char *const *keys,
		 json_t **out, size_t *mark)
{
	int ret = get(p, obj, key, JSON_OBJECT, false, out);

	if (ret <= 0)
		return ret;
	*mark = push_key(p, key);
	ret = check_keys(p, *out, keys);
	if (ret) {
		pop(p, *mark);
		return ret;
	}
	return 1;
}

/* @ret of the parse of an object entered with enter(): 0 or the error. */
int cfg_leave(struct parser *p, size_t mark, int ret)
{
	pop(p, mark);
	return ret < 0 ? ret : 0;
}
