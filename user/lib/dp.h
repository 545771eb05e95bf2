/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The datapath as user space holds it: the loaded forward program and its maps, pinned under a
 * directory of bpffs or not pinned at all (tests).
 */
#ifndef XDP_CANARY_DP_H
#define XDP_CANARY_DP_H

#include <limits.h>
#include <stdbool.h>
#include <linux/types.h>

#include "canary_abi.h"

struct canary_bpf;

#define CANARY_MAX_ATTACH	16

/* A program attached to an interface, by a link (XDP, TCX) or a clsact filter. */
struct canary_attach {
	__u32 ifindex;
	int link_fd;		/* -1 for a clsact filter */
	__u32 tc_handle;	/* clsact filter */
	__u32 tc_priority;
};

struct canary_dp {
	struct canary_bpf *skel;
	__u64 *state_words;	/* svc_state, mapped: one word per service id */
	__u64 *filter_words;	/* svc_filter, mapped */
	__u64 *be_filter_words;	/* be_filter, mapped */
	struct canary_attach attached[CANARY_MAX_ATTACH];
	int nattached;
	char pin_dir[PATH_MAX];	/* "" when not pinned */
	bool xdp_frags;		/* the XDP program takes multi-buffer frames (Linux 5.18+) */
	bool made_pin_dir;	/* this open created pin_dir */
	unsigned int pins_made;	/* maps this open pinned (the others it took over) */
};

/* The programs of the datapath object, for canary_dp_opts.progs. */
#define CANARY_PROG_XDP		(1U << 0)	/* xdp_canary_fwd */
#define CANARY_PROG_TC_FWD	(1U << 1)	/* tc_canary_fwd */
#define CANARY_PROG_TC_REPLY	(1U << 2)	/* tc_canary_reply */

struct canary_dp_opts {
	const char *pin_dir;	/* NULL: do not pin; else reuse the maps pinned there, or pin them */
	__u32 flow_entries;	/* 0: CANARY_FLOWS_DEFAULT */
	__u64 syn_timeout_ns;	/* 0: 3 s */
	__u64 udp_idle_ns;	/* 0: 30 s */
	bool pins_only;		/* open the maps pinned at pin_dir (all must be there) and load no
				 * program: for tools that read and write a running datapath */
	unsigned int progs;	/* CANARY_PROG_* to load; 0: all (the agent, which may move a
				 * forward path between its hooks). Each costs its verification. */
};

/* Mounts bpffs on /sys/fs/bpf unless one is there already. */
int bpffs_ensure(void);

/* Opens and loads the forward program. Returns 0 or a negative errno; @err says what failed. */
int canary_dp_open(struct canary_dp *dp, const struct canary_dp_opts *opts, char *err,
		   size_t errlen);

/*
 * Removes the pins this open made (not the maps it took over), and pin_dir with its links
 * directory if this open created it. Returns how many pins it removed, or a negative errno.
 */
int canary_dp_unpin_made(struct canary_dp *dp);

/* Removes every pin under dp->pin_dir and the directory itself. */
int canary_dp_unpin(struct canary_dp *dp);

void canary_dp_close(struct canary_dp *dp);

int canary_dp_prog_fd(const struct canary_dp *dp);

/* The idle time after which the loaded datapath decides a UDP flow again (cfg_udp_idle_ns). */
__u64 canary_dp_udp_idle_ns(const struct canary_dp *dp);

#endif /* XDP_CANARY_DP_H */
