/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What config.c and plan.c share to read canaryd's config: a parser that knows the key path of
 * the value at hand, and getters that check a member's type and range and, on error, write one
 * line "PATH.KEY: REASON" and return -EINVAL. Getters return 1 when the member was read, 0 when it
 * is absent (and optional), or a negative errno.
 */
#ifndef XDP_CANARY_CFGPARSE_H
#define XDP_CANARY_CFGPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include <linux/types.h>

#include "config.h"

#define QUOTE_LEN	80	/* user text quoted in messages: long enough to recognise */
#define PATH_LEN	96	/* "services[255].overrides[1000].prefix" and then some */
#define REASON_LEN	320
#define NUMBER_LEN	32

struct parser {
	struct canary_config *cfg;
	char *err;
	size_t errlen;
	char path[PATH_LEN];	/* key path of the value being parsed: "services[1].canary" */
};

/* @s in double quotes, control characters escaped and long text cut: for messages. */
const char *quote(const char *s, char *buf, size_t len);

/* The JSON number as its writer would recognise it: "5", "2.555". */
const char *number_text(json_t *v, char *buf, size_t len);

/* Appends to the key path; returns the mark that pop() goes back to. */
size_t push(struct parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
size_t push_key(struct parser *p, const char *key);
void pop(struct parser *p, size_t mark);

/* "PATH.KEY: REASON" (@key may be NULL: the error is about the value at PATH itself). */
int fail(struct parser *p, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* fail() for an allocation that failed: returns -ENOMEM. */
int fail_nomem(struct parser *p, const char *key);

/* Unknown keys are errors: a misspelt key would otherwise leave its setting at the default. */
int check_keys(struct parser *p, json_t *obj, const char *const *known);

/* "a string", "an object", ...: what a message says was expected. */
const char *type_name(json_type type);

/*
 * @obj's member @key in *@out when it has @type (JSON_REAL standing for any number, JSON_TRUE
 * for either boolean).
 */
int get(struct parser *p, json_t *obj, const char *key, json_type type, bool required,
	json_t **out);
int get_string(struct parser *p, json_t *obj, const char *key, bool required, const char **out);
int get_bool(struct parser *p, json_t *obj, const char *key, bool *out);

/* A number (integer or not) in *@out. */
int get_number(struct parser *p, json_t *obj, const char *key, bool required, double *out);

/* An integer in @min..@max; @what ends the message of one out of range. */
int get_int(struct parser *p, json_t *obj, const char *key, bool required, json_int_t min,
	    json_int_t max, const char *what, json_int_t *out);

/*
 * A duration in @min..@max milliseconds, in *@ms: a string with units ("250ms", "1h30m"), or a
 * number of seconds.
 */
int get_duration(struct parser *p, json_t *obj, const char *key, bool required, __u64 min,
		 __u64 max, __u64 *ms);

/* One of @names (a NULL-terminated table); its index in *@out. */
int get_enum(struct parser *p, json_t *obj, const char *key, const char *const *names,
	     const char *expected, unsigned int *out);

/* Returns 0, or -EINVAL when @s does not fit @size with its NUL. */
int copy_text(struct parser *p, const char *key, char *dst, size_t size, const char *s);

int get_abs_path(struct parser *p, json_t *obj, const char *key, char *dst, size_t size);

/* A name of letters, digits, "_", "." and "-" that fits @size; returns 0 or -EINVAL. */
int name_set(struct parser *p, const char *key, const char *name, char *dst, size_t size);

/*
 * A percentage with at most two decimals, as basis points: @v is a JSON number, or with
 * @strings also text such as "2.5" (weight_parse()). Returns 0 or -EINVAL.
 */
int percent_value(struct parser *p, const char *key, json_t *v, bool strings, __u16 *bp);

/* The index of @s in @names[0..@n), or -1. */
int name_index(const char *const *names, size_t n, const char *s);

/* "a, b or c": the names a value may take, for messages. */
const char *names_list(const char *const *names, size_t n, char *buf, size_t len);

/*
 * The rollout engine's parts of the config (plan.c). Each reads its key from @obj (the top level,
 * or a service) and fills p->cfg or @svc; the key is optional.
 */
int plan_parse_prometheus(struct parser *p, json_t *root);
int plan_parse_breaker_every(struct parser *p, json_t *root);
int plan_parse_rollout(struct parser *p, struct cfg_service *svc, json_t *obj);
int plan_parse_health(struct parser *p, struct cfg_service *svc, json_t *obj);

/*
 * Enters @obj's object @key: checks its keys and pushes its path. Returns 1 (then pop(*@mark),
 * or cfg_leave(), once done), 0 when it is absent, or -EINVAL.
 */
int cfg_enter(struct parser *p, json_t *obj, const char *key, const char *const *keys,
	      json_t **out, size_t *mark);

/* Pops what cfg_enter() pushed; @ret of the object's parse becomes 0 or the error. */
int cfg_leave(struct parser *p, size_t mark, int ret);

#endif /* XDP_CANARY_CFGPARSE_H */
