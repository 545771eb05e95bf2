/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* canaryctl's pieces: talking to canaryd, acting on the pins without it, and showing results. */
#ifndef XDP_CANARY_CANARYCTL_H
#define XDP_CANARY_CANARYCTL_H

#include <stdbool.h>
#include <jansson.h>

#include "config.h"

enum ctl_exit {
	CTL_OK = 0,
	CTL_FAIL = 1,
	CTL_USAGE = 2,
};

struct ctl {
	struct canary_config cfg;	/* paths and services; defaults when there is no file */
	bool have_cfg;
	bool json;
	const char *reason;
	char by[64];
};

/*
 * Sends @req to canaryd. Returns the answer, or NULL with *@down true when no canaryd listens,
 * or NULL with *@down false when one listened but did not answer (@err says what happened).
 */
json_t *agent_call(const struct ctl *c, json_t *req, bool *down, char *err, size_t errlen);

/* The same requests, done on the pins and the state file while canaryd is not running. */
json_t *direct_call(const struct ctl *c, json_t *req);

/* Prints an answer for people. */
void show(const struct ctl *c, const char *cmd, json_t *resp);

/* show.c: a member as text ("?" when absent) or a number (NAN); Unix ms as UTC text. */
const char *str(json_t *o, const char *key);
double num(json_t *o, const char *key);
const char *when(json_int_t ms, char *buf, size_t len);

/* show_rollout.c: rollouts, decisions and health, for people. */
void show_rollout(json_t *ro);
void show_health(json_t *health);
void show_rollout_answer(const char *cmd, json_t *resp);
void show_history(json_t *resp);

#endif /* XDP_CANARY_CANARYCTL_H */
