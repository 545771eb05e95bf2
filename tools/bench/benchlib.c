// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/bpf.h>
#include <bpf/bpf.h>

#include "addr.h"
#include "benchlib.h"
#include "svc.h"

/* Backend @i of a run of addresses from @first (its last byte, and the one before, count up). */
static void backend_nth(struct backend *be, const __u8 first[16], unsigned int i, __u16 port)
{
	unsigned int lo = first[15] + i;

	memcpy(be->addr, first, 16);
	be->addr[15] = lo & 0xff;
	be->addr[14] += lo >> 8;
	be->port = port;
	be->reserved = 0;
}

static void pool_put(struct canary_dp *dp, const struct bench_svc *s, const __u8 first[16],
		     __u8 version, unsigned int from)
{
	struct backend be[CANARY_MAX_BACKENDS];

	for (unsigned int i = 0; i < s->backends; i++)
		backend_nth(&be[i], first, from + i, s->backend_port);
	if (pool_publish(dp, s->id, version, be, s->backends)) {
		fprintf(stderr, "bench: cannot publish the pools of %s\n", s->vip);
		exit(1);
	}
}

void bench_svc_put(struct canary_dp *dp, const struct bench_svc *s)
{
	struct svc_state st = { .gen = 1, .weight = s->weight, .flags = s->flags };
	__u8 vip[16], first[16];
	struct svc_key key;

	if (addr_parse(s->vip, vip) || addr_parse(s->backend, first) || !s->backends ||
	    s->backends > CANARY_MAX_BACKENDS) {
		fprintf(stderr, "bench: bad service %s\n", s->vip);
		exit(1);
	}
	pool_put(dp, s, first, CANARY_V_STABLE, 0);
	if (s->weight)
		pool_put(dp, s, first, CANARY_V_CANARY, s->backends);
	svc_key_init(&key, vip, 80, IPPROTO_TCP);
	if (svc_put(dp, &key, s->id, &st)) {
		fprintf(stderr, "bench: cannot configure service %s\n", s->vip);
		exit(1);
	}
}

double bench_run_ns(int prog_fd, __u32 ifindex, const __u8 *pkt, size_t len, int repeat)
{
	struct xdp_md ctx = { .data_end = len, .ingress_ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts,
		    .data_in = pkt,
		    .data_size_in = len,
		    .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx),
		    .repeat = repeat);

	if (bpf_prog_test_run_opts(prog_fd, &opts)) {
		fprintf(stderr, "bench: test run: %s\n", strerror(errno));
		exit(1);
	}
	return opts.duration;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double bench_median(double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[n / 2];
}

void bench_flow(struct pkt_spec *s, const char *vip, unsigned int i, __u8 tcp_flags)
{
	pkt_spec_init(s, "198.18.0.0", 0, vip, 80, IPPROTO_TCP);
	s->tcp_flags = tcp_flags;
	s->saddr[14] = (i >> 8) & 0xff;
	s->saddr[15] = i & 0xff;
	s->sport = 1024 + i / 65536;
	s->payload_len = 6;	/* 60 bytes, 64 with the FCS: the shortest Ethernet frame */
}
