/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The rollout engine inside canaryd (engine.c): see there. */
#ifndef XDP_CANARY_ENGINE_H
#define XDP_CANARY_ENGINE_H

#include <curl/curl.h>

#include "canaryd.h"
#include "rollout.h"

int engine_open(struct canaryd *d, char *err, size_t errlen);
void engine_close(struct canaryd *d);

/* Every breaker_every: samples, the breaker, the state machines' clocks, evaluations due. */
void engine_tick(struct canaryd *d);

/* Waits for the transfers and @extra (the loop's own fds) at once; returns as poll(2) would. */
int engine_poll(struct canaryd *d, struct curl_waitfd *extra, unsigned int n, int timeout_ms);

/* Moves transfers on and handles the finished ones. */
void engine_run(struct canaryd *d);

/*
 * Forgets what the engine knew of @s's id: for a service that is new, adopted, retired, or
 * whose plan changed. Its windows, breaker ring, last checks and evaluation start again.
 */
void engine_svc_reset(struct canaryd *d, const struct state_svc *s);

/*
 * Decisions in @s's rollout are already in the event log (canaryctl changed and logged them
 * without the agent). At start, the first apply resets every service the same way.
 */
void engine_adopt_svc(struct canaryd *d, const struct state_svc *s);

/*
 * Carries out @a for @s: the weight, the event log, webhooks, the state file. @checks (or NULL)
 * are the results the decision came from. Returns 0, or the weight store's error with the
 * reason in @err (which may be NULL: the log has it anyway).
 */
int engine_act(struct canaryd *d, const struct cfg_service *svc, struct state_svc *s,
	       const struct ro_action *a, const char *by, const json_t *checks, char *err,
	       size_t errlen);

const struct ro_check_result *engine_last_checks(struct canaryd *d, __u32 id, unsigned int *n);
__u64 engine_breaker_trips(struct canaryd *d, __u32 id);

#endif /* XDP_CANARY_ENGINE_H */
