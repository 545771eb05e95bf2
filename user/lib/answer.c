// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <stdarg.h>
#include <stdio.h>

#include "answer.h"

json_t *answer_fail(enum answer_exit code, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{sb ss si}", "ok", 0, "error", msg, "exit", code);
}

json_t *answer_ok(json_t *fields)
{
	json_object_set_new(fields, "ok", json_true());
	return fields;
}
