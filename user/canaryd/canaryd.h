/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* canaryd's one context, and the interfaces between its files. */
#ifndef XDP_CANARY_CANARYD_H
#define XDP_CANARY_CANARYD_H

#include <stdbool.h>
#include <jansson.h>

#include "attach.h"
#include "config.h"
#include "dp.h"
#include "sample.h"
#include "state.h"
#include "sweep.h"

#define SAMPLE_RING	64

struct MHD_Daemon;
struct health_rt;
struct engine;
struct pollfd;

/* Samples of one service id, oldest overwritten first. */
struct sample_ring {
	struct svc_sample s[SAMPLE_RING];
	unsigned int next;	/* where the next sample goes */
	unsigned int n;
};

struct iface_rt {
	char name[IF_NAMESIZE];
	bool xdp, tc, tc_in;	/* XDP, TC egress (local replies), TC ingress (forward) */
	enum canary_xdp_mode xdp_mode;
	enum canary_tc_mode tc_mode, tc_in_mode;
};

struct agent_counters {
	__u64 reloads_ok;
	__u64 reloads_failed;
	__u64 control_requests;
	__u64 control_denied;
	__u64 sample_errors;
	__u64 scrapes;
};

/* The flow table's sweep (sweeper.c), and what the exporter shows of it. */
struct sweep_rt {
	struct sweep_cursor cur;	/* the pass under way */
	bool in_pass;
	__u64 next_ns;		/* mono_ns() when the next pass is due */
	__u64 full_warned_ns;	/* the last "nearly full" warning */
	__u64 err_logged_ns;	/* the last failed sweep logged */
	__u64 swept_total;	/* idle entries removed since canaryd started */
	__u64 in_use;		/* entries after the last pass */
	__u32 capacity;		/* the table's size, as the last pass found it */
	bool ran;		/* a pass has finished: in_use is known */
};

/*
 * What this start made, noted as it is made (undo.c), so that a start that fails removes that
 * and nothing else: never pins, links or filters it took over from a previous run.
 */
struct start_made {
	bool on;			/* noting: a start is under way (not a reload) */
	bool datapath;			/* it loaded one: no pins were there to take over */
	bool state_dir, ctl_dir;	/* directories it created */
	unsigned int state_new;	/* bit i: undo.c's state file i was not there */
	struct { char kind[4], ifname[IF_NAMESIZE]; } links[CFG_MAX_IFACES * 2];
	unsigned int nlinks;
	char filters[CFG_MAX_IFACES][IF_NAMESIZE];	/* clsact filters */
	unsigned int nfilters;
	char qdiscs[CFG_MAX_IFACES][IF_NAMESIZE];	/* clsact qdiscs */
	unsigned int nqdiscs;
};

struct canaryd {
	struct canary_config cfg;
	struct canary_dp dp;
	struct canary_state *state;
	struct sample_ring *rings;		/* by service id, CANARY_MAX_SVC of them */
	struct iface_rt ifaces[CFG_MAX_IFACES];
	unsigned int nifaces;
	struct agent_counters counters;
	struct sweep_rt sweep;
	bool last_reload_ok;
	struct start_made made;
	__u64 start_ms;
	__u64 state_seen;		/* inode and mtime of state.json as last written or read */
	int lock_fd, ctl_fd, sig_fd, timer_fd;
	struct MHD_Daemon *mhd;
	struct health_rt *health;	/* health.c: probes and who is up */
	struct engine *engine;		/* engine.c: rollouts, checks, breaker, webhooks */
	bool stop;
};

/* One line to stderr: what happened and why. */
void logf_(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_info(...)	logf_("info", __VA_ARGS__)
#define log_warn(...)	logf_("warning", __VA_ARGS__)
#define log_err(...)	logf_("error", __VA_ARGS__)

/* apply.c: make the datapath what @cfg says, keeping what is there already. */
int apply_config(struct canaryd *d, const struct canary_config *old, char *err, size_t errlen);
int ifaces_preflight(const struct canary_config *cfg, char *err, size_t errlen);
int ifaces_apply(struct canaryd *d, char *err, size_t errlen);
bool clsact_note(struct canaryd *d, const char *ifname, bool on);

/* undo.c: what a start makes, and its removal when the start fails. */
void made_link(struct canaryd *d, const char *kind, const char *ifname);
void made_filter(struct canaryd *d, const char *ifname);
void made_qdisc(struct canaryd *d, const char *ifname);
void state_files_note(struct canaryd *d);	/* before the first is made */
void start_undo(struct canaryd *d);
int state_commit(struct canaryd *d);
void state_refresh(struct canaryd *d);

/* sampling and status (status.c) */
void samples_take(struct canaryd *d);
__u64 sample_every_ns(const struct canary_config *cfg);	/* so that the ring covers the window */
json_t *status_json(struct canaryd *d, const struct cfg_service *svc);

/* sweeper.c: removes idle entries from the flow table, a slice a call; call it every tick. */
void sweep_tick(struct canaryd *d);

/* control.c */
int control_open(struct canaryd *d, char *err, size_t errlen);
void control_accept(struct canaryd *d);
void control_close(struct canaryd *d);

/* exporter.c */
int exporter_start(struct canaryd *d, char *err, size_t errlen);
int exporter_poll_fd(struct canaryd *d);
int exporter_timeout_ms(struct canaryd *d);
void exporter_run(struct canaryd *d);
void exporter_stop(struct canaryd *d);

/*
 * health.c: active checks of every backend of services with "health". A backend that fails
 * `fall` probes in a row leaves its pool (the pool is published again without it); `rise` passes
 * bring it back. Single-threaded: probes are non-blocking sockets polled by the main loop.
 */
#define HEALTH_POLL_MAX	256	/* probes polled at once; more wait their turn */

int health_start(struct canaryd *d, char *err, size_t errlen);	/* after the first apply */
void health_reload(struct canaryd *d);		/* after each apply_config(): new probe table,
						 * health kept for backends that stay */
unsigned int health_pollfds(struct canaryd *d, struct pollfd *pfd, unsigned int max);
void health_run(struct canaryd *d, const struct pollfd *pfd, unsigned int n); /* after poll */
int health_timeout_ms(struct canaryd *d);	/* until the next probe is due; -1: none */
bool health_pool_ok(struct canaryd *d, const char *svc, unsigned int version); /* all up;
						 * true when the service has no "health" */
json_t *health_json(struct canaryd *d, const char *svc);	/* NULL when no "health" */
int health_backend_up(struct canaryd *d, const char *svc, unsigned int version,
		      const struct backend *be);	/* 1 up, 0 down, -1 unknown or unprobed */
void health_stop(struct canaryd *d);

#endif /* XDP_CANARY_CANARYD_H */
