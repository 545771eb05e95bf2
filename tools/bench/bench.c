// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * canary-bench: ns/packet of the forward path against a bare XDP_PASS program, side by side in
 * one run, through BPF_PROG_TEST_RUN in a private network namespace.
 *
 * Two modes, because a test run with a repeat count hands the program the same buffer again and
 * again, already rewritten by the previous run:
 * - repeat mode, for paths whose output is their input: a packet for no service, and a pinned
 *   flow to a service whose only backend is the VIP itself on a local address;
 * - single-run mode, one distinct packet a call, for new flows and for pinned flows forwarded by
 *   XDP_TX (which rewrite the packet). The kernel's figure for one run includes one clock read,
 *   so this mode also gives the difference to the bare program, not only the ratio.
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "benchlib.h"
#include "dp.h"
#include "netns.h"
#include "pktgen.h"
#include "scaling.h"
#include "xdp_bare.skel.h"

#define ROUNDS		5
#define TCP_SYN		0x02
#define TCP_ACK		0x10
#define TCP_PSH_ACK	0x18
#define REPEAT		2000000
#define SINGLE_FLOWS	50000

static const char *const bench_netns[] = {
	"ip link set lo up",
	"ip link add xb0 address 02:00:00:00:00:01 type veth peer name xb1",
	"ip link set xb0 up", "ip link set xb1 up",
	"ip addr add 198.51.100.1/24 dev xb0",
	"ip addr add 203.0.113.1/32 dev lo",
	"ip neigh add 198.51.100.50 lladdr 02:00:00:00:be:50 dev xb0 nud permanent",
	"ip route add 198.18.0.0/16 dev xb0",
	"ip neigh add 198.18.0.1 lladdr 02:00:00:00:c1:01 dev xb0 nud permanent",
	"sysctl -qw net.ipv4.ip_forward=1",
	/* the scaling section's pools: 64 stable and 64 canary backends from .50 */
	"for i in $(seq 51 177); do ip neigh add 198.51.100.$i lladdr 02:00:00:00:be:50 dev xb0 "
	"nud permanent || exit 1; done",
};

struct bench {
	struct canary_dp dp;
	struct xdp_bare *bare;
	__u32 ifindex;
};

static void service_flags(struct bench *b, const char *vip, __u32 id, const char *backend,
			  __u16 port, __u8 flags)
{
	struct bench_svc svc = { .vip = vip, .id = id, .backend = backend, .backend_port = port,
				 .backends = 1, .flags = flags };

	bench_svc_put(&b->dp, &svc);
}

static void service(struct bench *b, const char *vip, __u32 id, const char *backend, __u16 port)
{
	service_flags(b, vip, id, backend, port, 0);
}

/* One row per path, medians of the rounds; row 0 is the bare program, the baseline. */
static void report(const char *const *names, double rounds[][ROUNDS], int rows)
{
	double base = bench_median(rounds[0], ROUNDS);

	printf("  %-52s %8s     %6s  %10s\n", "", "ns/pkt", "ratio", "vs bare");
	for (int i = 0; i < rows; i++) {
		double ns = bench_median(rounds[i], ROUNDS);

		printf("  %-52s %8.1f ns  %5.2fx  %+7.1f ns\n", names[i], ns, ns / base, ns - base);
	}
}

static void repeat_mode(struct bench *b)
{
	static const char *const names[] = { "bare XDP_PASS", "splitter, not a service packet",
					     "splitter, pinned flow, local backend" };
	int fwd = canary_dp_prog_fd(&b->dp), bfd = bpf_program__fd(b->bare->progs.xdp_bare);
	__u8 svc_pkt[PKT_MAX], other_pkt[PKT_MAX];
	double ns[3][ROUNDS];
	struct pkt_spec s;
	size_t svc_len, other_len;

	service(b, "203.0.113.1", 1, "203.0.113.1", 80);
	bench_flow(&s, "203.0.113.1", 1, TCP_ACK);
	svc_len = pkt_build(&s, svc_pkt);
	s.dport = 81;
	other_len = pkt_build(&s, other_pkt);
	bench_run_ns(fwd, b->ifindex, svc_pkt, svc_len, 1);	/* decide and pin the flow */

	for (int r = 0; r < ROUNDS; r++) {
		ns[0][r] = bench_run_ns(bfd, b->ifindex, svc_pkt, svc_len, REPEAT);
		ns[1][r] = bench_run_ns(fwd, b->ifindex, other_pkt, other_len, REPEAT);
		ns[2][r] = bench_run_ns(fwd, b->ifindex, svc_pkt, svc_len, REPEAT);
	}
	printf("repeat mode: one 64-byte packet run %d times a round, median of %d rounds\n",
	       REPEAT, ROUNDS);
	report(names, ns, 3);
}

/* Mean over SINGLE_FLOWS distinct packets, one test run each. */
static double single_pass(int prog_fd, __u32 ifindex, const char *vip, __u8 tcp_flags)
{
	__u8 pkt[PKT_MAX];
	struct pkt_spec s;
	double sum = 0;

	for (unsigned int i = 0; i < SINGLE_FLOWS; i++) {
		bench_flow(&s, vip, i, tcp_flags);
		sum += bench_run_ns(prog_fd, ifindex, pkt, pkt_build(&s, pkt), 1);
	}
	return sum / SINGLE_FLOWS;
}

static void single_mode(struct bench *b)
{
	static const char *const names[] = { "bare XDP_PASS",
					     "splitter, new connection's SYN, XDP_TX to backend",
					     "splitter, its ACK (moves into flows), XDP_TX",
					     "splitter, pinned flow, XDP_TX to backend" };
	int fwd = canary_dp_prog_fd(&b->dp), bfd = bpf_program__fd(b->bare->progs.xdp_bare);
	double ns[4][ROUNDS];
	char vip[32];

	for (int r = 0; r < ROUNDS; r++) {
		/* A new VIP a round, so that every flow of the round is new to it. */
		snprintf(vip, sizeof(vip), "198.51.100.%d", 100 + r);
		service(b, vip, 10 + r, "198.51.100.50", 8080);
		ns[0][r] = single_pass(bfd, b->ifindex, vip, TCP_ACK);
		ns[1][r] = single_pass(fwd, b->ifindex, vip, TCP_SYN);
		ns[2][r] = single_pass(fwd, b->ifindex, vip, TCP_ACK);
		ns[3][r] = single_pass(fwd, b->ifindex, vip, TCP_ACK);
	}
	printf("single-run mode: %d distinct 64-byte packets a round, one run each, median of %d "
	       "rounds\n(each figure includes the kernel's own clock read: read the difference)\n",
	       SINGLE_FLOWS, ROUNDS);
	report(names, ns, 4);
}

/* A VIP of the reply bench, and the port of its backend 198.51.100.50. */
struct reply_svc {
	const char *vip;
	__u16 port;
};

/* One packet of a conversation between client 198.18.0.1:1000 and @rs's backend. */
static size_t conv_pkt(__u8 *buf, const struct reply_svc *rs, bool from_client, __u8 flags,
		       const char *payload)
{
	struct pkt_spec s;

	if (from_client)
		pkt_spec_init(&s, "198.18.0.1", 1000, rs->vip, 80, IPPROTO_TCP);
	else
		pkt_spec_init(&s, "198.51.100.50", rs->port, "198.18.0.1", 1000, IPPROTO_TCP);
	s.tcp_flags = flags;
	s.payload = payload;
	s.payload_len = strlen(payload);
	return pkt_build(&s, buf);
}

/*
 * The mean ns of a backend's response segment through @prog_fd, each one after a request
 * segment from the client (not timed), so that each is the first segment of a response.
 */
static double response_pass(struct bench *b, int prog_fd, const struct reply_svc *rs)
{
	static const char req[] = "GET / HTTP/1.1\r\nHost: bench\r\n\r\n";
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
	int fwd = canary_dp_prog_fd(&b->dp);
	__u8 q[PKT_MAX], a[PKT_MAX];
	size_t qlen = conv_pkt(q, rs, true, TCP_PSH_ACK, req);
	size_t alen = conv_pkt(a, rs, false, TCP_PSH_ACK, resp);
	double sum = 0;

	for (unsigned int i = 0; i < SINGLE_FLOWS; i++) {
		bench_run_ns(fwd, b->ifindex, q, qlen, 1);
		sum += bench_run_ns(prog_fd, b->ifindex, a, alen, 1);
	}
	return sum / SINGLE_FLOWS;
}

/*
 * A reply finds its connection through the services of its backend: one, as usual, or (the
 * last row) the last of the six services whose pools have 198.51.100.50:8080, each of the
 * others one flow lookup more.
 */
static void reply_mode(struct bench *b)
{
	static const char *const names[] = { "bare XDP_PASS", "reply, plain TCP service",
					     "reply, http service (status line read)",
					     "reply, backend in 6 services' pools" };
	static const struct reply_svc rs[] = { { "198.51.100.120", 8081 },
					       { "198.51.100.121", 8082 },
					       { "198.51.100.122", 8080 } };
	int fwd = canary_dp_prog_fd(&b->dp), bfd = bpf_program__fd(b->bare->progs.xdp_bare);
	double ns[4][ROUNDS];
	__u8 pkt[PKT_MAX];

	service(b, rs[0].vip, 30, "198.51.100.50", rs[0].port);
	service_flags(b, rs[1].vip, 31, "198.51.100.50", rs[1].port, CANARY_SVC_F_HTTP);
	service(b, rs[2].vip, 32, "198.51.100.50", rs[2].port);
	for (int i = 0; i < 3; i++)
		bench_run_ns(fwd, b->ifindex, pkt, conv_pkt(pkt, &rs[i], true, TCP_SYN, ""), 1);
	for (int r = 0; r < ROUNDS; r++) {
		ns[0][r] = response_pass(b, bfd, &rs[0]);
		for (int i = 0; i < 3; i++)
			ns[i + 1][r] = response_pass(b, fwd, &rs[i]);
	}
	printf("reply path, single-run mode: %d response segments a round (each after a request),\n"
	       "rewritten to the VIP and sent by XDP_TX to the client, median of %d rounds\n",
	       SINGLE_FLOWS, ROUNDS);
	report(names, ns, 4);
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: canary-bench [--quick] [--only prog|scaling] [--scaling-tsv FILE]\n\n"
		"The datapath alone under BPF_PROG_TEST_RUN, against a bare XDP_PASS program in the\n"
		"same run: the forward and reply paths (prog), then their cost as the flow table,\n"
		"the services and the pools grow (scaling).\n\n"
		"  --quick             one round of fewer packets for scaling (a smoke run)\n"
		"  --only SECTION      prog or scaling; default both\n"
		"  --scaling-tsv FILE  also write the scaling points to FILE, tab-separated\n");
}

struct bench_args {
	bool prog, scaling;
	struct scaling_opts sc;
};

static int parse_args(int argc, char **argv, struct bench_args *a)
{
	static const struct option longopts[] = {
		{ "quick", no_argument, NULL, 'q' }, { "only", required_argument, NULL, 'o' },
		{ "scaling-tsv", required_argument, NULL, 't' }, { "help", no_argument, NULL, 'h' },
		{}
	};
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (c == 'q') {
			a->sc.rounds = 1;
			a->sc.samples = 10000;
		} else if (c == 'o' && (!strcmp(optarg, "prog") || !strcmp(optarg, "scaling"))) {
			a->prog = !strcmp(optarg, "prog");
			a->scaling = !a->prog;
		} else if (c == 't') {
			a->sc.tsv = optarg;
		} else if (c == 'h') {
			usage(stdout);
			exit(0);
		} else {
			usage(stderr);
			return -1;
		}
	}
	return optind < argc ? (usage(stderr), -1) : 0;
}

static int bench_open(struct bench *b)
{
	struct canary_dp_opts opts = { .flow_entries = CANARY_FLOWS_DEFAULT };
	char err[256];

	if (netns_private() || netns_run(bench_netns, sizeof(bench_netns) / sizeof(bench_netns[0])))
		return -1;
	if (canary_dp_open(&b->dp, &opts, err, sizeof(err))) {
		fprintf(stderr, "bench: %s\n", err);
		return -1;
	}
	b->bare = xdp_bare__open_and_load();
	b->ifindex = if_nametoindex("xb0");
	if (!b->bare || !b->ifindex) {
		fprintf(stderr, "bench: cannot load the bare program or find xb0\n");
		return -1;
	}
	return 0;
}

/* What one bare run costs in single-run mode, clock read included: the scaling table's zero. */
static double bare_single_ns(struct bench *b)
{
	int bfd = bpf_program__fd(b->bare->progs.xdp_bare);
	double ns[ROUNDS];

	for (int r = 0; r < ROUNDS; r++)
		ns[r] = single_pass(bfd, b->ifindex, "198.51.100.99", TCP_ACK);
	return bench_median(ns, ROUNDS);
}

int main(int argc, char **argv)
{
	struct bench_args a = { .prog = true, .scaling = true, .sc = { .rounds = 3, .samples = 50000 } };
	struct bench b = {};
	struct utsname un;
	int rc = 0;

	if (parse_args(argc, argv, &a))
		return 2;
	if (bench_open(&b))
		return 1;
	uname(&un);
	printf("xdp-canary bench: BPF_PROG_TEST_RUN on Linux %s, %ld CPUs\n\n", un.release,
	       sysconf(_SC_NPROCESSORS_ONLN));
	if (a.prog) {
		repeat_mode(&b);
		printf("\n");
		single_mode(&b);
		printf("\n");
		reply_mode(&b);
	}
	if (a.scaling) {
		if (a.prog)
			printf("\n");
		rc = scaling_report(&a.sc, b.ifindex, bare_single_ns(&b)) ? 1 : 0;
	}
	xdp_bare__destroy(b.bare);
	canary_dp_close(&b.dp);
	return rc;
}
