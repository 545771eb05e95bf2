/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Services for the benchmarks, written straight into an unpinned datapath. */
#ifndef XDP_CANARY_BENCHSVC_H
#define XDP_CANARY_BENCHSVC_H

#include "dp.h"

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

#endif /* XDP_CANARY_BENCHSVC_H */
