/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the agent remembers beyond the pinned maps: which id each service has, the last change
 * of its weight and why, where its rollout is (and the decisions that took it there), and ids
 * retired recently. Kept in STATE_DIR/state.json, written whole (write, fsync, rename), so a
 * crash leaves the old file or the new one. Writers serialize on STATE_DIR/state.lock: the
 * agent, and canaryctl when it acts on the pins without the agent.
 */
#ifndef XDP_CANARY_STATE_H
#define XDP_CANARY_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "canary_abi.h"
#include "config.h"
#include "rollout.h"

#define STATE_TEXT_MAX		200
#define STATE_RETIRE_MS		(5 * 60 * 1000)	/* an id rests this long before its reuse */

struct state_change {
	__u64 time_ms;			/* Unix time; 0: never changed */
	__u16 from_bp;
	__u16 to_bp;
	char action[24];		/* "created", "weight", "rollback", "rollback --hard", ... */
	char reason[STATE_TEXT_MAX];
	char by[64];			/* who asked, e.g. "canaryctl uid 0" */
};

struct state_svc {
	char name[CFG_NAME_MAX];
	__u32 id;
	bool paused;
	struct state_change last;
	struct rollout_state ro;	/* saved as "rollout" unless idle with no history */
};

/* Interface names, each at most once. */
struct ifname_set {
	char name[CFG_MAX_IFACES][IF_NAMESIZE];
	unsigned int n;
};

struct canary_state {
	struct state_svc svc[CANARY_MAX_SVC];
	unsigned int nsvc;
	__u64 retired_ms[CANARY_MAX_SVC];	/* by id: when it was retired; 0: not resting */
	struct ifname_set clsact;	/* our clsact egress filter (local backends' replies) */
	struct ifname_set clsact_in;	/* our clsact ingress filter (the forward path) */
};

/* Reads STATE_DIR/state.json; a missing file is an empty state. */
int state_load(const char *dir, struct canary_state *st, char *err, size_t errlen);

/* Writes it atomically, creating @dir if needed. */
int state_save(const char *dir, const struct canary_state *st, char *err, size_t errlen);

/* Takes STATE_DIR/state.lock (blocking). Returns the lock's fd, or a negative errno. */
int state_lock(const char *dir, char *err, size_t errlen);
void state_unlock(int fd);

struct state_svc *state_svc_find(struct canary_state *st, const char *name);

/* Adds @name with a free id (none in use, none resting). NULL when all are taken. */
struct state_svc *state_svc_add(struct canary_state *st, const char *name, __u64 now_ms);

/*
 * Adds @name with the id the pins already give it (a state file that lost the service).
 * NULL when another service holds that id.
 */
struct state_svc *state_svc_claim(struct canary_state *st, const char *name, __u32 id);

/* Removes @name; its id rests for STATE_RETIRE_MS. */
void state_svc_retire(struct canary_state *st, const char *name, __u64 now_ms);

/* Records a change of weight. */
void state_note(struct state_svc *s, __u64 now_ms, const char *action, __u16 from_bp,
		__u16 to_bp, const char *reason, const char *by);

__u64 now_ms(void);

#endif /* XDP_CANARY_STATE_H */
