/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The forward path's ns per packet as its tables grow (tools/bench/scaling.c). */
#ifndef XDP_CANARY_SCALING_H
#define XDP_CANARY_SCALING_H

#include <linux/types.h>

struct scaling_opts {
	int rounds;
	unsigned int samples;	/* packets a path a round */
	const char *tsv;	/* NULL, or a file for every point, tab-separated */
};

/*
 * Prints a row a point; @ifindex is the interface the packets come in by (its FIB must reach
 * 198.51.100.50 and the 127 addresses after it), @bare_ns what one bare run costs. 0 or -1.
 */
int scaling_report(const struct scaling_opts *o, __u32 ifindex, double bare_ns);

#endif /* XDP_CANARY_SCALING_H */
