// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * canary-pps: packets per second through a forwarder on one veth pair, with a generator the
 * bench owns, side by side in one run.
 *
 *   generator (pps_gen, live frames, CPU 0) -> gen end ===veth=== fwd end (forwarder, CPU 1)
 *   sink (pps_sink on the gen end, CPU 0)  <-  what the forwarder sends back to "the backends"
 *
 * Both ends' NAPI run threaded, so the forwarder has a kernel thread of its own: pinned to the
 * second CPU, its CPU time over the frames that reached the sink is the forwarder's ns per
 * packet on one core, whatever the generator manages. The backends are addresses whose
 * neighbour entry is the gen end's MAC, so every forwarded frame comes back to the sink.
 * Everything lives in a network and mount namespace of this process's own, gone with it.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "benchlib.h"
#include "dp.h"
#include "netns.h"
#include "pktgen.h"
#include "pps.skel.h"
#include "canary_bpf.skel.h"
#include "xdp_bare.skel.h"
#include "xdp_fwd_floor.skel.h"

#define TCP_SYN		0x02
#define TCP_ACK		0x10
#define GEN_IF		"xpg0"
#define FWD_IF		"xpf0"
#define VIP		"203.0.113.10"
#define OTHER_DST	"198.51.100.60"	/* routed, not a service: the stack forwards it */
#define STABLE		"198.51.100.50"
#define WARMUP_US	300000	/* caches, page pool and flow table settle before counting */
#define MAX_RUNS	16

enum fwd_kind { FWD_REFLECT, FWD_FIB, FWD_CANARY, FWD_CANARY_TC, FWD_PASS, FWD_NFT };

struct scenario {
	const char *name;
	const char *title;
	enum fwd_kind fwd;
	const char *dst;
	bool fresh;		/* a new flow every frame; else o->flows flows, each opened by a
				 * SYN before the run, then sent ACKs */
	bool lifecycle;		/* fresh flows of three frames: SYN, ACK, RST */
};

struct result {
	double mpps, ns_pkt, busy, offered_mpps;
};

struct opts {
	double seconds;
	int rounds;
	__u32 flows;
	const char *tsv;
	const char *only;	/* comma-separated scenario names; NULL: all */
};

static const struct scenario scenarios[] = {
	{ "reflect", "XDP_TX reflector (the floor)", FWD_REFLECT, VIP, false },
	{ "fib", "FIB lookup + redirect floor", FWD_FIB, VIP, false },
	{ "pinned", "xdp-canary, pinned flows", FWD_CANARY, VIP, false },
	{ "new", "xdp-canary, a new flow (SYN) every frame", FWD_CANARY, VIP, true },
	{ "conn", "xdp-canary, connections: SYN, ACK, RST", FWD_CANARY, VIP,
	  true, true },
	{ "other", "xdp-canary, not a service (stack forwards)", FWD_CANARY, OTHER_DST, false },
	{ "tc-pinned", "xdp-canary at TC ingress, pinned flows", FWD_CANARY_TC, VIP, false },
	{ "tc-new", "xdp-canary at TC ingress, a new flow (SYN) every frame", FWD_CANARY_TC, VIP,
	  true },
	{ "stack", "XDP_PASS, the stack forwards", FWD_PASS, OTHER_DST, false },
	{ "nft-pinned", "nftables DNAT, established flows", FWD_NFT, VIP, false },
	{ "nft-new", "nftables DNAT, a new flow (SYN) every frame", FWD_NFT, VIP, true },
	{ "nft-conn", "nftables DNAT, connections: SYN, ACK, RST", FWD_NFT, VIP, true, true },
};
#define NSCEN (sizeof(scenarios) / sizeof(scenarios[0]))

static const char *const topo_up[] = {
	"ip link add " GEN_IF " address 02:00:00:00:01:01 type veth peer name " FWD_IF
	" address 02:00:00:00:00:01",
	"ip link set " GEN_IF " up", "ip link set " FWD_IF " up",
	"ip addr add 198.51.100.1/24 dev " FWD_IF,
	"ip neigh replace 198.51.100.50 lladdr 02:00:00:00:01:01 dev " FWD_IF " nud permanent",
	"ip neigh replace 198.51.100.51 lladdr 02:00:00:00:01:01 dev " FWD_IF " nud permanent",
	"ip neigh replace 198.51.100.60 lladdr 02:00:00:00:01:01 dev " FWD_IF " nud permanent",
	"ip route replace 198.18.0.0/16 dev " FWD_IF,
	"ip route replace " VIP "/32 via 198.51.100.50 dev " FWD_IF,
	"sysctl -qw net.ipv4.ip_forward=1",
	"sysctl -qw net.ipv4.conf.all.send_redirects=0",
	"sysctl -qw net.ipv4.conf." FWD_IF ".send_redirects=0",
	"sysctl -qw net.ipv4.conf.all.rp_filter=0",
	"sysctl -qw net.ipv4.conf." FWD_IF ".rp_filter=0",
};

static const char nft_rules[] =
	"nft -f - <<'EOF'\n"
	"table ip xpps {\n"
	"	chain pre {\n"
	"		type nat hook prerouting priority dstnat;\n"
	"		ip daddr " VIP " tcp dport 80 dnat to numgen random mod 10 map "
	"{ 0-8 : 198.51.100.50, 9 : 198.51.100.51 } : 8080\n"
	"	}\n"
	"}\n"
	"EOF";

static const char *const lo_up = "ip link set lo up";
static const char *const nft_setup = nft_rules;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * A network namespace and a mount namespace with their own sysfs: /sys/class/net must show
 * this namespace's devices, to make their NAPI threaded.
 */
static int private_namespaces(void)
{
	if (unshare(CLONE_NEWNET | CLONE_NEWNS)) {
		fprintf(stderr, "pps: unshare: %s (run as root)\n", strerror(errno));
		return -1;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("sysfs", "/sys", "sysfs", 0, NULL)) {
		fprintf(stderr, "pps: mount sysfs: %s\n", strerror(errno));
		return -1;
	}
	return netns_run(&lo_up, 1);
}

static int pin_task(pid_t pid, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu % sysconf(_SC_NPROCESSORS_ONLN), &set);
	return sched_setaffinity(pid, sizeof(set), &set);
}

/*
 * The sink shares the generator's CPU and must never be what drops frames: it runs before the
 * generator whenever it has any.
 */
static int sink_first(pid_t pid)
{
	struct sched_param sp = { .sched_priority = 1 };

	return sched_setscheduler(pid, SCHED_FIFO, &sp);
}

/* Makes @ifname's NAPI a kernel thread of its own; returns its PID, or -1. */
static pid_t napi_thread(const char *ifname)
{
	char path[300], prefix[32], comm[32];
	struct dirent *de;
	pid_t pid = -1;
	FILE *f;
	DIR *d;

	snprintf(path, sizeof(path), "/sys/class/net/%s/threaded", ifname);
	f = fopen(path, "w");
	if (!f || fputs("1", f) < 0 || fclose(f)) {
		fprintf(stderr, "pps: threaded NAPI on %s: %s\n", ifname, strerror(errno));
		return -1;
	}
	snprintf(prefix, sizeof(prefix), "napi/%s-", ifname);
	d = opendir("/proc");
	while (d && (de = readdir(d)) && pid < 0) {
		snprintf(path, sizeof(path), "/proc/%s/comm", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) && !strncmp(comm, prefix, strlen(prefix)))
			pid = atoi(de->d_name);
		fclose(f);
	}
	if (d)
		closedir(d);
	if (pid < 0)
		fprintf(stderr, "pps: no NAPI thread for %s\n", ifname);
	return pid;
}

/* ns the task has run on a CPU (the first field of its schedstat). */
static double task_cpu_ns(pid_t pid)
{
	char path[64];
	double ns = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/schedstat", pid);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%lf", &ns) != 1)
			ns = -1;
		fclose(f);
	}
	return ns;
}

/*
 * A generator and sink object whose template is a frame of @s with @tcp_flags (with
 * @lifecycle, the flags of each flow's three frames instead).
 */
static struct pps *gen_open(const struct scenario *s, __u32 flows, __u8 tcp_flags,
			    bool lifecycle)
{
	__u8 frame[PKT_MAX];
	struct pkt_spec spec;
	struct pps *g;

	pkt_spec_init(&spec, "198.18.0.0", 1024, s->dst, 80, IPPROTO_TCP);
	spec.tcp_flags = tcp_flags;
	spec.payload_len = 6;	/* 60 bytes: the shortest Ethernet frame without its FCS */
	g = pps__open();
	if (!g)
		return NULL;
	if (pkt_build(&spec, frame) != 60) {
		pps__destroy(g);
		return NULL;
	}
	memcpy((void *)g->rodata->tmpl, frame, sizeof(g->rodata->tmpl));
	g->rodata->flows = flows;
	g->rodata->lifecycle = lifecycle;
	if (pps__load(g)) {
		pps__destroy(g);
		return NULL;
	}
	return g;
}

/*
 * Pushes @frames frames of @g's template into the gen end; returns 0, or -1 unless a signal
 * ended the run. One run for a whole measurement: each run swaps the program into the XDP
 * dispatcher and waits for an RCU grace period, which short runs would spend most of their
 * time in.
 */
static int gen_push(struct pps *g, __u32 ifindex, __u32 frames)
{
	__u8 frame[PKT_MAX];
	struct xdp_md ctx = { .data_end = 60, .ingress_ifindex = ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame, .data_size_in = 60, .ctx_in = &ctx,
		    .ctx_size_in = sizeof(ctx), .repeat = frames,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES);

	memcpy(frame, (const void *)g->rodata->tmpl, sizeof(g->rodata->tmpl));
	memset(frame + sizeof(g->rodata->tmpl), 0, 60 - sizeof(g->rodata->tmpl));
	if (bpf_prog_test_run_opts(bpf_program__fd(g->progs.pps_gen), &opts) && errno != EINTR) {
		fprintf(stderr, "pps: live-frames run: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

struct forwarder {
	struct canary_dp dp;
	bool dp_open;
	struct xdp_bare *bare;
	struct xdp_fwd_floor *floor;
};

/*
 * The splitter at TC ingress of @ifindex: frames reach it as skbs, behind an XDP pass program
 * (a veth delivers the generator's frames only to a peer that runs XDP).
 */
static int canary_tc_attach(struct forwarder *f, unsigned int ifindex)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = bpf_program__fd(f->dp.skel->progs.tc_canary_fwd));
	int ret = bpf_tc_hook_create(&hook);

	if (ret && ret != -EEXIST)
		return ret;
	ret = bpf_tc_attach(&hook, &opts);
	if (ret)
		return ret;
	f->bare = xdp_bare__open_and_load();
	return f->bare ? bpf_program__fd(f->bare->progs.xdp_bare) : -errno;
}

static int forwarder_prog(struct forwarder *f, const struct scenario *s, struct pps *g,
			  unsigned int ifindex)
{
	struct canary_dp_opts dpo = { .syn_timeout_ns = 3600ULL * 1000000000 };
	struct bench_svc svc = { .vip = VIP, .id = 1, .weight = 1000, .backend = STABLE,
				 .backend_port = 8080, .backends = 1 };
	char err[256];

	switch (s->fwd) {
	case FWD_REFLECT:
		return bpf_program__fd(g->progs.pps_reflect);
	case FWD_FIB:
		f->floor = xdp_fwd_floor__open_and_load();
		return f->floor ? bpf_program__fd(f->floor->progs.xdp_fwd_floor) : -1;
	case FWD_CANARY:
	case FWD_CANARY_TC:
		if (canary_dp_open(&f->dp, &dpo, err, sizeof(err))) {
			fprintf(stderr, "pps: %s\n", err);
			return -1;
		}
		f->dp_open = true;
		bench_svc_put(&f->dp, &svc);
		if (s->fwd == FWD_CANARY_TC)
			return canary_tc_attach(f, ifindex);
		return canary_dp_prog_fd(&f->dp);
	case FWD_NFT:
		if (netns_run(&nft_setup, 1))
			return -1;
		/* fallthrough */
	case FWD_PASS:
		f->bare = xdp_bare__open_and_load();
		return f->bare ? bpf_program__fd(f->bare->progs.xdp_bare) : -1;
	}
	return -1;
}

static void forwarder_close(struct forwarder *f)
{
	if (f->dp_open)
		canary_dp_close(&f->dp);
	xdp_bare__destroy(f->bare);
	xdp_fwd_floor__destroy(f->floor);
	memset(f, 0, sizeof(*f));
}

static int topology(bool up)
{
	system("nft delete table ip xpps 2>/dev/null");
	system("ip link del " GEN_IF " 2>/dev/null");
	if (!up)
		return 0;
	return netns_run(topo_up, sizeof(topo_up) / sizeof(topo_up[0]));
}

struct snap {
	__u64 sunk, sent;
	double cpu_ns, t;
};

struct window {
	struct pps *g;
	pid_t fwd_napi;
	double seconds;
	pthread_t generator;
	struct snap from, to;
};

static void snap_take(const struct window *w, struct snap *s)
{
	s->t = now_s();
	s->cpu_ns = task_cpu_ns(w->fwd_napi);
	s->sunk = w->g->bss->sunk;
	s->sent = w->g->bss->sent;
}

/* Counts over the window, then stops the generator's run with a signal. */
static void *window_thread(void *arg)
{
	struct window *w = arg;

	usleep(WARMUP_US);
	snap_take(w, &w->from);
	usleep(w->seconds * 1e6);
	snap_take(w, &w->to);
	pthread_kill(w->generator, SIGUSR1);
	return NULL;
}

static void on_signal(int sig)
{
	(void)sig;
}

/* Runs the generator until the window closes; returns 0 or -1. */
static int gen_window(struct window *w, __u32 ifindex, struct result *r)
{
	struct sigaction sa = { .sa_handler = on_signal };	/* no SA_RESTART: the run ends */
	double dt, frames;
	pthread_t tid;

	w->generator = pthread_self();
	if (sigaction(SIGUSR1, &sa, NULL) || pthread_create(&tid, NULL, window_thread, w))
		return -1;
	if (gen_push(w->g, ifindex, UINT32_MAX)) {
		pthread_cancel(tid);
		pthread_join(tid, NULL);
		return -1;
	}
	pthread_join(tid, NULL);
	if (w->from.cpu_ns < 0 || w->to.cpu_ns < 0)
		return -1;
	dt = w->to.t - w->from.t;
	frames = w->to.sunk - w->from.sunk;
	r->mpps = frames / dt / 1e6;
	r->offered_mpps = (w->to.sent - w->from.sent) / dt / 1e6;
	r->busy = (w->to.cpu_ns - w->from.cpu_ns) / (dt * 1e9);
	r->ns_pkt = frames ? (w->to.cpu_ns - w->from.cpu_ns) / frames : 0;
	return 0;
}

static int measure(const struct scenario *s, const struct opts *o, struct result *r)
{
	__u32 flows = s->fresh ? 0 : o->flows;
	__u32 gen_if = 0, fwd_if = 0, xdp_flags = XDP_FLAGS_DRV_MODE;
	struct pps *g = NULL, *prime = NULL;
	struct forwarder f = {};
	struct window w = { .seconds = o->seconds };
	pid_t sink_napi;
	int prog, rc = -1;

	if (topology(true))
		goto out;
	gen_if = if_nametoindex(GEN_IF);
	fwd_if = if_nametoindex(FWD_IF);
	g = gen_open(s, flows, s->fresh ? TCP_SYN : TCP_ACK, s->lifecycle);
	if (!g || !gen_if || !fwd_if) {
		fprintf(stderr, "pps: %s: %s\n", !g ? "load the generator" : "find the veth pair",
			strerror(errno));
		goto out;
	}
	prog = forwarder_prog(&f, s, g, fwd_if);
	if (prog < 0 || bpf_xdp_attach(fwd_if, prog, xdp_flags, NULL) ||
	    bpf_xdp_attach(gen_if, bpf_program__fd(g->progs.pps_sink), xdp_flags, NULL)) {
		fprintf(stderr, "pps: attach %s: %s\n", s->name, strerror(errno));
		goto out;
	}
	w.g = g;
	w.fwd_napi = napi_thread(FWD_IF);
	sink_napi = napi_thread(GEN_IF);
	if (w.fwd_napi < 0 || sink_napi < 0 || pin_task(w.fwd_napi, 1) || pin_task(sink_napi, 0) ||
	    sink_first(sink_napi))
		goto out;
	if (!s->fresh) {
		prime = gen_open(s, flows, TCP_SYN, false);
		if (!prime || gen_push(prime, gen_if, flows * 4))
			goto out;
	}
	rc = gen_window(&w, gen_if, r);
out:
	bpf_xdp_detach(fwd_if, xdp_flags, NULL);
	topology(false);
	forwarder_close(&f);
	pps__destroy(prime);
	pps__destroy(g);
	return rc;
}

/* Medians over the rounds, a row a scenario; every run also to @tsv when given. */
static void report(const struct opts *o, const int *sel, int nsel, struct result res[][MAX_RUNS],
		   FILE *tsv)
{
	double base = 0;

	printf("%-46s %7s %9s %10s %10s %8s\n", "", "Mpps", "ns/pkt", "vs floor", "fwd busy",
	       "offered");
	if (tsv)
		fprintf(tsv, "scenario\ttitle\tround\tmpps\tns_pkt\tbusy\toffered_mpps\n");
	for (int k = 0; k < nsel; k++) {
		double mpps[MAX_RUNS], ns[MAX_RUNS], busy[MAX_RUNS], off[MAX_RUNS];
		int i = sel[k];

		for (int r = 0; r < o->rounds; r++) {
			mpps[r] = res[i][r].mpps;
			ns[r] = res[i][r].ns_pkt;
			busy[r] = res[i][r].busy;
			off[r] = res[i][r].offered_mpps;
			if (tsv)
				fprintf(tsv, "%s\t%s\t%d\t%.4f\t%.1f\t%.3f\t%.4f\n",
					scenarios[i].name, scenarios[i].title, r + 1, mpps[r],
					ns[r], busy[r], off[r]);
		}
		if (k == 0)
			base = bench_median(ns, o->rounds);
		printf("  %-44s %7.2f %6.0f ns %9.2fx %9.0f %% %8.2f\n", scenarios[i].title,
		       bench_median(mpps, o->rounds), bench_median(ns, o->rounds),
		       bench_median(ns, o->rounds) / base, 100 * bench_median(busy, o->rounds),
		       bench_median(off, o->rounds));
	}
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: canary-pps [--seconds S] [--rounds N] [--flows N] [--tsv FILE] [--scenarios L]\n\n"
		"Packets per second through a forwarder on one veth pair, fed by a generator of its\n"
		"own (BPF_F_TEST_XDP_LIVE_FRAMES): the splitter on pinned flows, new flows and other\n"
		"traffic, at XDP and at TC ingress, against an XDP_TX reflector, a FIB-and-redirect\n"
		"floor, the stack's own forwarding and nftables DNAT. 60-byte TCP frames; rounds interleave the scenarios.\n\n"
		"  --seconds S   length of each measured run (default 3)\n"
		"  --rounds N    rounds, each scenario once a round, medians reported (default 3)\n"
		"  --flows N     distinct flows of the pinned scenarios (default 1024)\n"
		"  --tsv FILE    also write every run to FILE, tab-separated\n"
		"  --scenarios L only these, comma-separated: reflect,fib,pinned,new,conn,other,\n"
		"                tc-pinned,tc-new,stack,nft-pinned,nft-new,nft-conn (default all; the\n"
		"                first one given is the floor)\n"
		"Runs as root in namespaces of its own; needs 2 CPUs to keep the generator off the\n"
		"forwarder's core.\n");
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "seconds", required_argument, NULL, 's' }, { "rounds", required_argument, NULL, 'r' },
		{ "flows", required_argument, NULL, 'f' }, { "tsv", required_argument, NULL, 't' },
		{ "scenarios", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' }, {}
	};
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 's': o->seconds = atof(optarg); break;
		case 'r': o->rounds = atoi(optarg); break;
		case 'f': o->flows = strtoul(optarg, NULL, 10); break;
		case 't': o->tsv = optarg; break;
		case 'S': o->only = optarg; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (o->seconds <= 0 || o->seconds > 60 || o->rounds < 1 || o->rounds > MAX_RUNS ||
	    o->flows < 1 || o->flows > 65536) {
		fprintf(stderr, "canary-pps: --seconds 0..60, --rounds 1..%d, --flows 1..65536\n",
			MAX_RUNS);
		return -1;
	}
	return 0;
}

/* The scenarios @only names, in its order; all of them without it. Returns how many, or -1. */
static int select_scenarios(const char *only, int *sel)
{
	char buf[256], *tok, *save;
	int n = 0;

	if (!only) {
		for (size_t i = 0; i < NSCEN; i++)
			sel[n++] = i;
		return n;
	}
	snprintf(buf, sizeof(buf), "%s", only);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		size_t i = 0;

		while (i < NSCEN && strcmp(scenarios[i].name, tok))
			i++;
		if (i == NSCEN || n == (int)NSCEN) {
			fprintf(stderr, "canary-pps: unknown scenario '%s' (see --help)\n", tok);
			return -1;
		}
		sel[n++] = i;
	}
	return n;
}

int main(int argc, char **argv)
{
	struct opts o = { .seconds = 3, .rounds = 3, .flows = 1024 };
	static struct result res[NSCEN][MAX_RUNS];
	int sel[NSCEN], nsel, rc = 0;
	struct utsname un;
	FILE *tsv = NULL;

	if (parse_args(argc, argv, &o))
		return 2;
	nsel = select_scenarios(o.only, sel);
	if (nsel < 1)
		return 2;
	/* Before minutes of measuring: a file that cannot be written fails now. */
	if (o.tsv && !(tsv = fopen(o.tsv, "w"))) {
		fprintf(stderr, "canary-pps: %s: %s\n", o.tsv, strerror(errno));
		return 1;
	}
	if (private_namespaces())
		return 1;
	if (pin_task(0, 0)) {
		fprintf(stderr, "pps: pin the generator to CPU 0: %s\n", strerror(errno));
		return 1;
	}
	uname(&un);
	printf("xdp-canary pps: live frames on veth, Linux %s, %ld CPUs; %d round(s) of %.1f s, "
	       "%u pinned flows\n", un.release, sysconf(_SC_NPROCESSORS_ONLN), o.rounds, o.seconds,
	       o.flows);
	for (int r = 0; r < o.rounds; r++)
		for (int k = 0; k < nsel; k++)
			if (measure(&scenarios[sel[k]], &o, &res[sel[k]][r])) {
				fprintf(stderr, "pps: scenario %s failed\n", scenarios[sel[k]].name);
				return 1;
			}
	report(&o, sel, nsel, res, tsv);
	if (tsv && fclose(tsv)) {
		fprintf(stderr, "canary-pps: %s: %s\n", o.tsv, strerror(errno));
		rc = 1;
	}
	return rc;
}
