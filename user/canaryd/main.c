// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * canaryd: the xdp-canary host agent. It loads the datapath (or takes over the one pinned by a
 * previous run), keeps it as the config file says, answers canaryctl on a Unix socket, and
 * serves Prometheus metrics. It runs in the foreground; systemd supervises it.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "canaryd.h"
#include "engine.h"
#include "hostcheck.h"
#include "ops.h"
#include "rollout.h"

static const char usage_text[] =
	"usage: canaryd [-c CONFIG] [--netns NAME] [-v]\n"
	"       canaryd [-c CONFIG] --check-config\n"
	"       canaryd [-c CONFIG] [--netns NAME] --detach\n"
	"\n"
	"The xdp-canary host agent. It loads the XDP/TC datapath, pins its maps and links under the\n"
	"config's pin_dir (default " CANARY_PIN_DIR "), fills them from the config, and\n"
	"stays in the foreground serving canaryctl (control socket) and Prometheus (exporter).\n"
	"A restarted canaryd takes over the pinned datapath without a gap: weights, flows and\n"
	"counters stay. Killing it leaves traffic flowing on the last weights.\n"
	"\n"
	"  -c, --config PATH   config file (default " CANARY_CONFIG_DEFAULT ")\n"
	"      --check-config  validate the config and exit; touches nothing\n"
	"      --detach        remove the programs, links, pins and state, then exit\n"
	"      --netns NAME    run in network namespace NAME (/run/netns/NAME); pins stay on\n"
	"                      this mount namespace's bpffs\n"
	"  -h, --help          this text\n"
	"  -V, --version       print the version\n"
	"\n"
	"Signals: SIGHUP reloads the config and applies only what changed; SIGTERM and SIGINT\n"
	"stop the agent and leave the datapath running.\n"
	"\n"
	"Exit status: 0 success, 1 failure (config, kernel), 2 bad usage.\n";

void logf_(const char *level, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "canaryd: %s: ", level);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

struct options {
	const char *config;
	const char *netns;
	bool check, detach;
};

static int options_parse(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'k' },
		{ "detach", no_argument, NULL, 'd' },
		{ "netns", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int opt;

	*o = (struct options){ .config = CANARY_CONFIG_DEFAULT };
	while ((opt = getopt_long(argc, argv, "c:hV", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': o->config = optarg; break;
		case 'k': o->check = true; break;
		case 'd': o->detach = true; break;
		case 'n': o->netns = optarg; break;
		case 'h': fputs(usage_text, stdout); exit(0);
		case 'V': printf("canaryd %s\n", XDP_CANARY_VERSION); exit(0);
		default: return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "canaryd: unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (o->check && o->detach) {
		fprintf(stderr, "canaryd: --check-config and --detach do not go together\n");
		return -1;
	}
	return 0;
}

static int netns_enter(const char *name)
{
	char path[PATH_MAX];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET)) {
		log_err("enter network namespace %s: %s", name, strerror(errno));
		ret = -1;
	}
	if (fd >= 0)
		close(fd);
	return ret;
}

/* One agent per state directory: the second one would fight the first over the maps. */
static int agent_lock(struct canaryd *d, char *err, size_t errlen)
{
	char path[PATH_MAX + 16], pid[32];
	int fd;

	if (mkdir(d->cfg.state_dir, 0750) == 0) {
		d->made.state_dir = true;
	} else if (errno != EEXIST) {
		snprintf(err, errlen, "create %s: %s", d->cfg.state_dir, strerror(errno));
		return -1;
	}
	state_files_note(d);	/* before the pid file, which may be the first of them */
	snprintf(path, sizeof(path), "%s/canaryd.pid", d->cfg.state_dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0) {
		snprintf(err, errlen, "open %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		ssize_t n = read(fd, pid, sizeof(pid) - 1);

		d->made.state_new = 0;	/* they are the running agent's */
		pid[n > 0 ? n : 0] = '\0';
		snprintf(err, errlen, "another canaryd (pid %s) runs with state in %s",
			 strtok(pid, "\n") ?: "?", d->cfg.state_dir);
		close(fd);
		return -1;
	}
	snprintf(pid, sizeof(pid), "%d\n", getpid());
	if (ftruncate(fd, 0) || pwrite(fd, pid, strlen(pid), 0) < 0)
		log_warn("write %s: %s", path, strerror(errno));
	d->lock_fd = fd;
	return 0;
}

static int signals_open(struct canaryd *d)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	d->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return d->sig_fd < 0 ? -errno : 0;
}

static int timer_open(struct canaryd *d)
{
	struct itimerspec its = {};

	/* The breaker's period: samples for status are taken every few of its ticks. */
	its.it_interval.tv_sec = d->cfg.breaker_every_ms / 1000;
	its.it_interval.tv_nsec = (d->cfg.breaker_every_ms % 1000) * 1000000L;
	its.it_value = its.it_interval;
	d->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (d->timer_fd < 0 || timerfd_settime(d->timer_fd, 0, &its, NULL))
		return -errno;
	return 0;
}

/*
 * What the running agent was started with: its pins, state, socket, exporter and flow table
 * stay until the next start, whatever a reloaded file says, so the agent never loses track of
 * the socket it must unlink or the pins it holds.
 */
static void startup_settings_keep(struct canary_config *next, const struct canary_config *cur)
{
	if (strcmp(next->pin_dir, cur->pin_dir) || strcmp(next->state_dir, cur->state_dir) ||
	    strcmp(next->control_socket, cur->control_socket) ||
	    next->control_has_group != cur->control_has_group ||
	    next->control_gid != cur->control_gid ||
	    strcmp(next->exporter_listen, cur->exporter_listen) ||
	    next->flow_entries != cur->flow_entries ||
	    next->breaker_every_ms != cur->breaker_every_ms)
		log_warn("reload: pin_dir, state_dir, control, exporter, flow_entries and "
			 "breaker_every take effect at the next start only");
	memcpy(next->pin_dir, cur->pin_dir, sizeof(next->pin_dir));
	memcpy(next->state_dir, cur->state_dir, sizeof(next->state_dir));
	memcpy(next->control_socket, cur->control_socket, sizeof(next->control_socket));
	next->control_has_group = cur->control_has_group;
	next->control_gid = cur->control_gid;
	memcpy(next->exporter_listen, cur->exporter_listen, sizeof(next->exporter_listen));
	next->exporter_on = cur->exporter_on;
	next->exporter_addr = cur->exporter_addr;
	next->exporter_addrlen = cur->exporter_addrlen;
	next->flow_entries = cur->flow_entries;
	next->breaker_every_ms = cur->breaker_every_ms;
}

/* What the host must offer @cfg: its interfaces, and forwarding where backends are remote. */
static int host_ready(const struct canary_config *cfg, char *err, size_t errlen)
{
	int ret = ifaces_preflight(cfg, err, errlen);

	if (!ret)
		ret = host_forwarding_check_here(cfg, err, errlen);
	return ret;
}

static void reload_refused(struct canaryd *d, const char *err)
{
	d->counters.reloads_failed++;
	d->last_reload_ok = false;
	log_err("reload %s: %s; keeping the running config", d->cfg.path, err);
}

static void reload(struct canaryd *d)
{
	struct canary_config next, old;
	char err[512] = "";

	if (config_load(d->cfg.path, &next, err, sizeof(err))) {
		reload_refused(d, err);
		return;
	}
	if (host_ready(&next, err, sizeof(err))) {
		reload_refused(d, err);
		config_free(&next);
		return;
	}
	startup_settings_keep(&next, &d->cfg);
	old = d->cfg;
	d->cfg = next;
	/* After a failed apply the running config is not what the maps hold: apply all of it. */
	if (apply_config(d, d->last_reload_ok ? &old : NULL, err, sizeof(err))) {
		d->counters.reloads_failed++;
		d->last_reload_ok = false;
		log_err("reload %s: %s", d->cfg.path, err);
	} else {
		d->counters.reloads_ok++;
		d->last_reload_ok = true;
		log_info("reloaded %s: %u services, %u interfaces", d->cfg.path,
			 d->cfg.nservices, d->cfg.nifaces);
	}
	health_reload(d);
	config_free(&old);
}

static void signal_handle(struct canaryd *d)
{
	struct signalfd_siginfo si;

	while (read(d->sig_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			log_info("SIGHUP: reloading %s", d->cfg.path);
			reload(d);
		} else {
			log_info("%s: stopping; the datapath stays attached with its weights "
				 "(canaryd --detach removes it)", strsignal(si.ssi_signo));
			d->stop = true;
		}
	}
}

static void timer_handle(struct canaryd *d)
{
	__u64 ticks;

	if (read(d->timer_fd, &ticks, sizeof(ticks)) != sizeof(ticks))
		return;
	engine_tick(d);
	sweep_tick(d);
}

enum { PFD_SIG, PFD_TIMER, PFD_CTL, PFD_HTTP, PFD_N, PFD_MAX = PFD_N + HEALTH_POLL_MAX };

static int min_timeout(int a, int b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

/* One wait for everything: signals, the timer, the socket, the exporter, probes, transfers. */
static void run(struct canaryd *d)
{
	struct pollfd pfd[PFD_MAX] = {
		[PFD_SIG] = { .fd = d->sig_fd, .events = POLLIN },
		[PFD_TIMER] = { .fd = d->timer_fd, .events = POLLIN },
		[PFD_CTL] = { .fd = d->ctl_fd, .events = POLLIN },
		[PFD_HTTP] = { .fd = exporter_poll_fd(d), .events = POLLIN },
	};
	struct curl_waitfd wfd[PFD_MAX];

	while (!d->stop) {
		unsigned int n = PFD_N + health_pollfds(d, pfd + PFD_N, PFD_MAX - PFD_N);
		int timeout = min_timeout(exporter_timeout_ms(d), health_timeout_ms(d));

		for (unsigned int i = 0; i < n; i++)
			wfd[i] = (struct curl_waitfd){ .fd = pfd[i].fd, .events = pfd[i].events };
		if (engine_poll(d, wfd, n, timeout < 0 ? 1000 : timeout) < 0)
			return;
		for (unsigned int i = 0; i < n; i++)
			pfd[i].revents = wfd[i].revents;
		if (pfd[PFD_SIG].revents)
			signal_handle(d);
		if (pfd[PFD_TIMER].revents)
			timer_handle(d);
		if (pfd[PFD_CTL].revents)
			control_accept(d);
		health_run(d, pfd + PFD_N, n - PFD_N);
		engine_run(d);
		exporter_run(d);
	}
}

static int datapath_open(struct canaryd *d, char *err, size_t errlen)
{
	struct canary_dp_opts opts = { .pin_dir = d->cfg.pin_dir,
				       .flow_entries = d->cfg.flow_entries };
	char path[PATH_MAX + 16];
	bool pinned;

	snprintf(path, sizeof(path), "%s/svc_state", d->cfg.pin_dir);
	pinned = access(path, F_OK) == 0;
	if (canary_dp_open(&d->dp, &opts, err, errlen))
		return -1;
	d->made.datapath = !pinned;
	log_info("%s", pinned ? "taking over the pinned datapath: weights, flows and counters stay"
			      : "loaded a new datapath");
	log_info("maps pinned under %s", d->cfg.pin_dir);
	return 0;
}

/* Says what a restarted agent picks up, so that nobody wonders whether it started over. */
static void rollouts_resumed(struct canaryd *d)
{
	for (unsigned int i = 0; i < d->state->nsvc; i++) {
		const struct state_svc *s = &d->state->svc[i];
		const struct cfg_service *svc = config_service(&d->cfg, s->name);
		char w[8], t[32];

		if (!svc || !svc->plan || s->ro.phase == RO_IDLE)
			continue;
		log_info("service %s: rollout %s%s at stage %u of %u (%s%%), %s into it", s->name,
			 ro_phase_names[s->ro.phase], s->ro.paused ? " (paused)" : "",
			 s->ro.stage + 1, svc->plan->nstages,
			 weight_format(s->ro.weight_bp, w, sizeof(w)),
			 duration_format(s->ro.stage_ms, t, sizeof(t)));
	}
}

static int serve_setup(struct canaryd *d, char *err, size_t errlen)
{
	if (state_load(d->cfg.state_dir, d->state, err, errlen)) {
		log_warn("%s: starting from the pins alone", err);
		memset(d->state, 0, sizeof(*d->state));
	}
	if (engine_open(d, err, errlen) || apply_config(d, NULL, err, errlen) ||
	    health_start(d, err, errlen))
		return -1;
	rollouts_resumed(d);
	if (signals_open(d) || timer_open(d)) {
		snprintf(err, errlen, "signals and timer: %s", strerror(errno));
		return -1;
	}
	if (control_open(d, err, errlen) || exporter_start(d, err, errlen))
		return -1;
	samples_take(d);
	log_info("ready: %u services, %u interfaces, control %s, metrics %s", d->cfg.nservices,
		 d->cfg.nifaces, d->cfg.control_socket,
		 d->cfg.exporter_on ? d->cfg.exporter_listen : "off");
	return 0;
}

/* In order: nothing is made before the host is known to be fit. */
static int start_steps(struct canaryd *d, char *err, size_t errlen)
{
	int ret = host_btf_check(host_btf_path(), err, errlen);

	if (!ret)
		ret = host_ready(&d->cfg, err, errlen);
	if (!ret)
		ret = agent_lock(d, err, errlen);
	if (!ret)
		ret = datapath_open(d, err, errlen);
	if (!ret)
		ret = serve_setup(d, err, errlen);
	return ret;
}

static int start(struct canaryd *d)
{
	char err[PATH_MAX + 512] = "";	/* a path or two, and why */
	int ret;

	d->made.on = true;
	ret = start_steps(d, err, sizeof(err));
	d->made.on = false;
	if (ret) {
		log_err("start failed: %s", err[0] ? err : "?");
		start_undo(d);
	}
	return ret;
}

static void finish(struct canaryd *d)
{
	health_stop(d);
	engine_close(d);
	exporter_stop(d);
	control_close(d);
	canary_dp_close(&d->dp);	/* pinned links and maps stay */
	if (d->sig_fd >= 0)
		close(d->sig_fd);
	if (d->timer_fd >= 0)
		close(d->timer_fd);
	if (d->lock_fd >= 0)
		close(d->lock_fd);
	config_free(&d->cfg);
	free(d->state);
	free(d->rings);
}

static int detach(struct canaryd *d)
{
	char err[512] = "";

	if (agent_lock(d, err, sizeof(err))) {
		log_err("detach: %s", err);
		return 1;
	}
	if (canary_teardown(d->cfg.pin_dir, d->cfg.state_dir, err, sizeof(err))) {
		log_err("detach: %s", err);
		return 1;
	}
	log_info("detached: programs, links and pins under %s removed, state cleared",
		 d->cfg.pin_dir);
	return 0;
}

int main(int argc, char **argv)
{
	struct canaryd d = { .lock_fd = -1, .ctl_fd = -1, .sig_fd = -1, .timer_fd = -1,
			     .last_reload_ok = true };
	struct options o;
	char err[512] = "";
	int ret = 1;

	if (options_parse(argc, argv, &o)) {
		fputs("Try 'canaryd --help'.\n", stderr);
		return 2;
	}
	if (config_load(o.config, &d.cfg, err, sizeof(err))) {
		/* Syntax errors name the file already; key path errors do not. */
		if (!strncmp(err, o.config, strlen(o.config)))
			fprintf(stderr, "canaryd: %s\n", err);
		else
			fprintf(stderr, "canaryd: %s: %s\n", o.config, err);
		return 1;
	}
	if (o.check) {
		printf("%s: OK: %u services, %u interfaces\n", o.config, d.cfg.nservices,
		       d.cfg.nifaces);
		config_free(&d.cfg);
		return 0;
	}
	/* Before --detach too: a clsact filter is found only in its interface's namespace. */
	if (o.netns && netns_enter(o.netns))
		return 1;
	if (o.detach) {
		ret = detach(&d);
		config_free(&d.cfg);
		return ret;
	}
	d.start_ms = now_ms();
	d.state = calloc(1, sizeof(*d.state));
	d.rings = calloc(CANARY_MAX_SVC, sizeof(*d.rings));
	if (!d.state || !d.rings) {
		log_err("out of memory");
		return 1;
	}
	log_info("canaryd %s starting with %s", XDP_CANARY_VERSION, o.config);
	if (!start(&d)) {
		run(&d);
		ret = 0;
	}
	finish(&d);
	return ret;
}
