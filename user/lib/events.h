/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The event log: every rollout decision and every evaluation, one JSON object a line, in
 * STATE_DIR/events.jsonl. Appended by the agent, read by `canaryctl history` and by anyone with
 * jq. When it passes EVENTS_MAX_BYTES it becomes events.jsonl.1 (one generation is kept).
 */
#ifndef XDP_CANARY_EVENTS_H
#define XDP_CANARY_EVENTS_H

#include <stddef.h>
#include <jansson.h>

#define EVENTS_FILE		"events.jsonl"
#define EVENTS_MAX_BYTES	(16 << 20)

/*
 * Appends @ev as one line (one write(2), so lines never interleave). An error after the line
 * is in (a full log that cannot be rotated) is still returned, with its reason in @err.
 */
int events_append(const char *state_dir, const json_t *ev, char *err, size_t errlen);

/*
 * The newest @max events of @service (all services when NULL), oldest first, from the rotated
 * file and the current one. Returns a JSON array, or NULL with the reason in @err.
 */
json_t *events_read(const char *state_dir, const char *service, size_t max, char *err,
		    size_t errlen);

#endif /* XDP_CANARY_EVENTS_H */
