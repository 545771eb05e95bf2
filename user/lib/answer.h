/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Answers of the control protocol, which canaryctl also builds itself when it acts without the
 * agent: {"ok": true, ...} or {"ok": false, "error": TEXT, "exit": 1 | 2}.
 */
#ifndef XDP_CANARY_ANSWER_H
#define XDP_CANARY_ANSWER_H

#include <jansson.h>

enum answer_exit {
	ANSWER_FAIL = 1,	/* it did not work */
	ANSWER_USAGE = 2,	/* the request was wrong: nothing changed */
};

json_t *answer_fail(enum answer_exit code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Marks @fields as a success and returns it. */
json_t *answer_ok(json_t *fields);

#endif /* XDP_CANARY_ANSWER_H */
