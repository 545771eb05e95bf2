// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * How the forward path's cost moves with the size of what it looks things up in: the flow
 * table (1 k, 100 k, 1 M flows), the number of services (1, 16, 256) and of backends a pool
 * (1, 8, 64). One axis moves at a time from a middle point; each point gets a datapath of its
 * own, filled by the program itself (a SYN and its ACK a flow), then timed on pinned flows
 * picked at random across the table and on SYNs of flows it has never seen.
 */
#include <stdio.h>
#include <stdlib.h>

#include "benchlib.h"
#include "scaling.h"

#define TCP_SYN		0x02
#define TCP_ACK		0x10
#define MAX_ROUNDS	9

struct point {
	const char *axis;
	unsigned int flows, services, backends;
};

static const struct point points[] = {
	{ "flows", 1000, 1, 8 },
	{ "flows", 100000, 1, 8 },
	{ "flows", 1000000, 1, 8 },
	{ "services", 100000, 1, 8 },
	{ "services", 100000, 16, 8 },
	{ "services", 100000, 256, 8 },
	{ "backends", 100000, 1, 1 },
	{ "backends", 100000, 1, 8 },
	{ "backends", 100000, 1, 64 },
};

static void vip_of(char *buf, size_t len, unsigned int svc)
{
	snprintf(buf, len, "10.100.%u.%u", 1 + svc / 250, 1 + svc % 250);
}

/* One packet of flow @i: its service is i mod services, as a spread of clients would be. */
static size_t flow_pkt(const struct point *p, unsigned int i, __u8 flags, __u8 *pkt)
{
	struct pkt_spec s;
	char vip[32];

	vip_of(vip, sizeof(vip), i % p->services);
	bench_flow(&s, vip, i, flags);
	return pkt_build(&s, pkt);
}

/* The table holds twice the flows it is filled with, as an operator would size it. */
static int point_open(struct canary_dp *dp, const struct point *p)
{
	struct canary_dp_opts o = { .flow_entries = 2 * p->flows, .syn_timeout_ns = 3600e9 };
	char err[256];

	if (o.flow_entries < CANARY_FLOWS_DEFAULT)
		o.flow_entries = CANARY_FLOWS_DEFAULT;
	if (canary_dp_open(dp, &o, err, sizeof(err))) {
		fprintf(stderr, "bench: %s\n", err);
		return -1;
	}
	for (unsigned int k = 0; k < p->services; k++) {
		char vip[32];
		/* A port a service: a backend may be in only CANARY_BE_SVC_MAX services' pools. */
		struct bench_svc svc = { .vip = vip, .id = k, .weight = 1000,
					 .backend = "198.51.100.50", .backend_port = 8080 + k,
					 .backends = p->backends };

		vip_of(vip, sizeof(vip), k);
		bench_svc_put(dp, &svc);
	}
	return 0;
}

/* Mean ns of @n flows, one test run each: pinned ones at random across the table, or new ones. */
static double point_pass(const struct point *p, int fd, __u32 ifindex, unsigned int n, bool fresh,
			 unsigned int *next_new, unsigned int *rng)
{
	__u8 pkt[PKT_MAX];
	double sum = 0;

	for (unsigned int j = 0; j < n; j++) {
		unsigned int i;

		*rng = *rng * 1103515245 + 12345;
		i = fresh ? (*next_new)++ : (*rng >> 4) % p->flows;
		sum += bench_run_ns(fd, ifindex, pkt, flow_pkt(p, i, fresh ? TCP_SYN : TCP_ACK, pkt), 1);
	}
	return sum / n;
}

static int point_run(const struct point *p, const struct scaling_opts *o, __u32 ifindex,
		     double *pinned, double *fresh)
{
	double pin_r[MAX_ROUNDS], new_r[MAX_ROUNDS];
	unsigned int next_new = p->flows, rng = 1;
	struct canary_dp dp;
	__u8 pkt[PKT_MAX];
	int fd;

	if (point_open(&dp, p))
		return -1;
	fd = canary_dp_prog_fd(&dp);
	for (unsigned int i = 0; i < p->flows; i++) {	/* each a SYN, then its ACK */
		bench_run_ns(fd, ifindex, pkt, flow_pkt(p, i, TCP_SYN, pkt), 1);
		bench_run_ns(fd, ifindex, pkt, flow_pkt(p, i, TCP_ACK, pkt), 1);
	}
	for (int r = 0; r < o->rounds; r++) {
		pin_r[r] = point_pass(p, fd, ifindex, o->samples, false, &next_new, &rng);
		new_r[r] = point_pass(p, fd, ifindex, o->samples, true, &next_new, &rng);
	}
	*pinned = bench_median(pin_r, o->rounds);
	*fresh = bench_median(new_r, o->rounds);
	canary_dp_close(&dp);
	return 0;
}

int scaling_report(const struct scaling_opts *o, __u32 ifindex, double bare_ns)
{
	FILE *tsv = NULL;

	if (o->rounds < 1 || o->rounds > MAX_ROUNDS || !o->samples) {
		fprintf(stderr, "bench: scaling needs 1..%d rounds and some samples\n", MAX_ROUNDS);
		return -1;
	}
	if (o->tsv && !(tsv = fopen(o->tsv, "w"))) {
		fprintf(stderr, "bench: %s: cannot write\n", o->tsv);
		return -1;
	}
	if (tsv)
		fprintf(tsv, "axis\tflows\tservices\tbackends\tpinned_ns\tnew_ns\tbare_ns\n");
	printf("scaling, single-run mode: %u packets a path a round, median of %d rounds; a bare "
	       "XDP_PASS run costs %.1f ns here\n", o->samples, o->rounds, bare_ns);
	printf("  %-9s %9s %9s %9s %14s %14s\n", "axis", "flows", "services", "backends",
	       "pinned ns/pkt", "new ns/pkt");
	for (size_t k = 0; k < sizeof(points) / sizeof(points[0]); k++) {
		const struct point *p = &points[k];
		double pinned, fresh;

		if (point_run(p, o, ifindex, &pinned, &fresh)) {
			if (tsv)
				fclose(tsv);
			return -1;
		}
		printf("  %-9s %9u %9u %9u %14.1f %14.1f\n", p->axis, p->flows, p->services,
		       p->backends, pinned, fresh);
		if (tsv)
			fprintf(tsv, "%s\t%u\t%u\t%u\t%.1f\t%.1f\t%.1f\n", p->axis, p->flows,
				p->services, p->backends, pinned, fresh, bare_ns);
		fflush(stdout);
	}
	if (tsv)
		fclose(tsv);
	return 0;
}
