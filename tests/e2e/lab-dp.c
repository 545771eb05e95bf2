// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * lab-dp: the end-to-end tests' loader, until canaryd exists. It puts the datapath into a
 * network namespace of the test's (setns on the network namespace only, so that the pins stay
 * on this host's bpffs, where bpftool finds them), with one service, id 0.
 *
 *   lab-dp up PIN_DIR NETNS [options]   load, pin, attach, configure; stay until SIGTERM,
 *                                       then detach and remove the pins
 *   lab-dp weight PIN_DIR BASIS_POINTS  set service 0's weight through the pins
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>

#include "addr.h"
#include "attach.h"
#include "dp.h"
#include "svc.h"

#define MAX_IFS 8

struct lab {
	const char *pin_dir;
	const char *netns;
	const char *xdp_ifs[MAX_IFS], *tc_ifs[MAX_IFS], *tx_ifs[MAX_IFS];
	int nxdp, ntc, ntx;
	const char *vip;
	const char *pools[CANARY_V_MAX];
	bool http;
	long weight;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: lab-dp up PIN_DIR NETNS --vip ADDR:PORT --stable ADDR:PORT[,...]\n"
		"                 --canary ADDR:PORT[,...] [--xdp IF]... [--tc IF]... [--tx IF]...\n"
		"                 [--http] [--weight BASIS_POINTS]\n"
		"       lab-dp weight PIN_DIR BASIS_POINTS\n");
}

/* "ADDR:PORT", IPv6 as "[ADDR]:PORT". */
static int endpoint_parse(const char *text, __u8 addr[16], __u16 *port)
{
	char host[CANARY_ADDRSTRLEN + 2];
	const char *colon = strrchr(text, ':');
	size_t len;
	char *end;
	long p;

	if (!colon)
		return -EINVAL;
	len = colon - text;
	if (len >= sizeof(host))
		return -EINVAL;
	memcpy(host, text, len);
	host[len] = '\0';
	if (host[0] == '[' && len > 2 && host[len - 1] == ']') {
		memmove(host, host + 1, len - 2);
		host[len - 2] = '\0';
	}
	p = strtol(colon + 1, &end, 10);
	if (*end || p < 1 || p > 65535 || addr_parse(host, addr))
		return -EINVAL;
	*port = (__u16)p;
	return 0;
}

static int pool_parse(const char *text, struct backend *be, unsigned int *n)
{
	char *copy = strdup(text), *save = NULL, *tok;
	int ret = 0;

	if (!copy)
		return -ENOMEM;
	*n = 0;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (*n == CANARY_MAX_BACKENDS || endpoint_parse(tok, be[*n].addr, &be[*n].port)) {
			ret = -EINVAL;
			break;
		}
		(*n)++;
	}
	free(copy);
	return ret;
}

static int weight_parse(const char *text, long *weight)
{
	char *end;

	*weight = strtol(text, &end, 10);
	return *end || *weight < 0 || *weight > CANARY_WEIGHT_MAX ? -EINVAL : 0;
}

static int netns_enter(const char *name)
{
	char path[128];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET)) {
		fprintf(stderr, "lab-dp: enter network namespace %s: %s\n", name, strerror(errno));
		ret = -1;
	}
	if (fd >= 0)
		close(fd);
	return ret;
}

static int ifindex_of(const char *name)
{
	int ifindex = if_nametoindex(name);

	if (!ifindex)
		fprintf(stderr, "lab-dp: no interface %s: %s\n", name, strerror(errno));
	return ifindex;
}

static int attach_all(struct canary_dp *dp, const struct lab *lab)
{
	enum canary_xdp_mode xmode;
	enum canary_tc_mode tmode = CANARY_TC_TCX;
	char err[256];
	int ifindex;

	for (int i = 0; i < lab->ntx; i++) {
		ifindex = ifindex_of(lab->tx_ifs[i]);
		if (!ifindex || tx_port_add(dp, ifindex))
			return -1;
	}
	for (int i = 0; i < lab->nxdp; i++) {
		ifindex = ifindex_of(lab->xdp_ifs[i]);
		if (!ifindex || canary_attach_xdp(dp, ifindex, &xmode, err, sizeof(err))) {
			fprintf(stderr, "lab-dp: %s\n", err);
			return -1;
		}
		printf("xdp on %s: %s\n", lab->xdp_ifs[i], canary_xdp_mode_name(xmode));
	}
	for (int i = 0; i < lab->ntc; i++) {
		ifindex = ifindex_of(lab->tc_ifs[i]);
		if (!ifindex || canary_attach_tc(dp, ifindex, &tmode, err, sizeof(err))) {
			fprintf(stderr, "lab-dp: %s\n", err);
			return -1;
		}
		printf("tc egress on %s: %s\n", lab->tc_ifs[i], canary_tc_mode_name(tmode));
	}
	return 0;
}

static int service_up(struct canary_dp *dp, const struct lab *lab)
{
	struct svc_state st = { .weight = lab->weight, .gen = 1,
				.flags = lab->http ? CANARY_SVC_F_HTTP : 0 };
	struct backend be[CANARY_MAX_BACKENDS] = {};
	struct svc_key key;
	unsigned int n;
	__u8 addr[16];
	__u16 port;

	if (endpoint_parse(lab->vip, addr, &port)) {
		fprintf(stderr, "lab-dp: --vip %s: not ADDR:PORT\n", lab->vip);
		return -1;
	}
	for (int v = 0; v < CANARY_V_MAX; v++) {
		memset(be, 0, sizeof(be));
		if (pool_parse(lab->pools[v], be, &n) || pool_publish(dp, 0, v, be, n)) {
			fprintf(stderr, "lab-dp: pool %s: bad or not published\n", lab->pools[v]);
			return -1;
		}
	}
	svc_key_init(&key, addr, port, IPPROTO_TCP);
	if (svc_put(dp, &key, 0, &st)) {
		fprintf(stderr, "lab-dp: service %s not published\n", lab->vip);
		return -1;
	}
	return 0;
}

static int cmd_up(struct lab *lab)
{
	struct canary_dp_opts opts = { .pin_dir = lab->pin_dir };
	struct canary_dp dp;
	char err[256];
	int ret = 1;

	if (netns_enter(lab->netns))
		return 1;
	if (canary_dp_open(&dp, &opts, err, sizeof(err))) {
		fprintf(stderr, "lab-dp: %s\n", err);
		return 1;
	}
	if (!attach_all(&dp, lab) && !service_up(&dp, lab)) {
		printf("ready\n");
		fflush(stdout);
		while (!stop)
			pause();
		ret = 0;
	}
	canary_dp_detach_all(&dp);
	canary_dp_unpin(&dp);
	canary_dp_close(&dp);
	return ret;
}

static int cmd_weight(const char *pin_dir, const char *text)
{
	struct canary_dp_opts opts = { .pin_dir = pin_dir };
	struct canary_dp dp;
	char err[256];
	long weight;
	int ret;

	if (weight_parse(text, &weight)) {
		fprintf(stderr, "lab-dp: weight %s: not 0..%d\n", text, CANARY_WEIGHT_MAX);
		return 2;
	}
	if (canary_dp_open(&dp, &opts, err, sizeof(err))) {
		fprintf(stderr, "lab-dp: %s\n", err);
		return 1;
	}
	ret = svc_set_weight(&dp, 0, weight);
	if (ret)
		fprintf(stderr, "lab-dp: set weight: %s\n", strerror(-ret));
	canary_dp_close(&dp);
	return ret ? 1 : 0;
}

static int add_if(const char **list, int *n, const char *name)
{
	if (*n == MAX_IFS)
		return -1;
	list[(*n)++] = name;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "vip", required_argument, NULL, 'v' },
		{ "stable", required_argument, NULL, 's' },
		{ "canary", required_argument, NULL, 'c' },
		{ "xdp", required_argument, NULL, 'x' },
		{ "tc", required_argument, NULL, 't' },
		{ "tx", required_argument, NULL, 'r' },
		{ "http", no_argument, NULL, 'h' },
		{ "weight", required_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	struct lab lab = {};
	int opt, bad = 0;

	if (argc == 4 && !strcmp(argv[1], "weight"))
		return cmd_weight(argv[2], argv[3]);
	if (argc < 4 || strcmp(argv[1], "up")) {
		usage(stderr);
		return 2;
	}
	lab.pin_dir = argv[2];
	lab.netns = argv[3];
	optind = 4;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'v': lab.vip = optarg; break;
		case 's': lab.pools[CANARY_V_STABLE] = optarg; break;
		case 'c': lab.pools[CANARY_V_CANARY] = optarg; break;
		case 'x': bad |= add_if(lab.xdp_ifs, &lab.nxdp, optarg); break;
		case 't': bad |= add_if(lab.tc_ifs, &lab.ntc, optarg); break;
		case 'r': bad |= add_if(lab.tx_ifs, &lab.ntx, optarg); break;
		case 'h': lab.http = true; break;
		case 'w': bad |= weight_parse(optarg, &lab.weight); break;
		default: bad = 1;
		}
	}
	if (bad || optind != argc || !lab.vip || !lab.pools[0] || !lab.pools[1]) {
		usage(stderr);
		return 2;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	return cmd_up(&lab);
}
