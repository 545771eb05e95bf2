/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* What the benchmarks share: services written straight into an unpinned datapath, timed
 * test runs, medians and synthetic flows. */
#ifndef XDP_CANARY_BENCHLIB_H
#define XDP_CANARY_BENCHLIB_H

#include <stddef.h>

#include "dp.h"
#include "pktgen.h"

struct bench_svc {
	const char *vip;	/* IPv4 or IPv6 text; TCP port 80 */
	__u32 id;
	__u16 weight;		/* canary share, basis points; 0: no canary pool */
	const char *backend;	/* the first backend's address; the others follow it */
	__u16 backend_port;
	unsigned int backends;	/* per pool, 1..CANARY_MAX_BACKENDS */
	__u8 flags;		/* CANARY_SVC_F_* */
};

/*
 * Publishes the pools and then the service. Stable's backends are @backend and the n - 1
 * addresses after it, canary's the n after those. Exits on failure: a bench without its
 * services measures nothing.
 */
void bench_svc_put(struct canary_dp *dp, const struct bench_svc *s);

/* Mean ns a run over @repeat runs of one packet, as the kernel measured it; exits on failure. */
double bench_run_ns(int prog_fd, __u32 ifindex, const __u8 *pkt, size_t len, int repeat);

/* The median of @n values; sorts @v. */
double bench_median(double *v, int n);

/* TCP flow @i (0..2^24) from 198.18.0.0/16 to @vip port 80; a 64-byte frame with its FCS. */
void bench_flow(struct pkt_spec *s, const char *vip, unsigned int i, __u8 tcp_flags);

#endif /* XDP_CANARY_BENCHLIB_H */
