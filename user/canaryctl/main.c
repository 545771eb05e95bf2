// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * canaryctl: the operator's command line for xdp-canary. It asks canaryd over its control
 * socket; when canaryd is not running, weight, rollback and promote act on the pinned maps
 * directly, because a rollback must work when the agent does not.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "canaryctl.h"

struct command {
	const char *name;
	const char *args;	/* usage after the name */
	int nargs_min, nargs_max;
	const char *flag;	/* the command's own flag, if any */
	const char *help;
};

static const struct command commands[] = {
	{ "status", "[SERVICE]", 0, 1, NULL,
	  "Show each version's weight, flows, packet and byte rates, error ratios by kind, and\n"
	  "p50/p95/p99 handshake and time-to-first-byte latency over the agent's status window,\n"
	  "and the last change with its reason. Without canaryd, read from the pins over 1 s." },
	{ "services", "", 0, 0, NULL, "List the services with their id, VIP and canary weight." },
	{ "weight", "SERVICE PERCENT", 2, 2, NULL,
	  "Set the canary's share of new flows: 0 to 100, at most two decimals (2.5, 0.01).\n"
	  "Established connections stay where they are. Works without canaryd (on the pins)." },
	{ "rollback", "SERVICE [--hard]", 1, 1, "hard",
	  "Send every new flow to stable at once (canary weight 0). With --hard, existing canary\n"
	  "flows are decided again too (they move to stable). A running rollout ends; a new one\n"
	  "needs start. Works without canaryd." },
	{ "start", "SERVICE", 1, 1, NULL,
	  "Begin the service's rollout plan (its \"rollout\" in the config): once every canary\n"
	  "backend passes its health check, the warm-up if any, then stage 1. Each stage holds,\n"
	  "then advances while its checks pass; failed checks or the breaker roll back. A new\n"
	  "rollout after a rollback or a completed one needs start again. Needs canaryd." },
	{ "promote", "SERVICE [--full]", 1, 1, "full",
	  "With a rollout running: go to the next stage now, skipping the rest of the hold or a\n"
	  "manual gate; --full goes to 100 % and completes the rollout. Without a rollout plan:\n"
	  "give the canary 100 % of new flows. Works without canaryd." },
	{ "pause", "SERVICE", 1, 1, NULL,
	  "Hold the rollout where it is: time in the stage stops and it does not advance. Checks\n"
	  "still run, and failed checks and the breaker still roll back." },
	{ "resume", "SERVICE", 1, 1, NULL, "Let a paused rollout go on from where it stopped." },
	{ "history", "SERVICE [-n N]", 1, 1, NULL,
	  "Show the rollout's last N decisions and evaluations (default 20), oldest first: time,\n"
	  "stage, weight, action, verdict and reason, and for evaluations each check's canary and\n"
	  "stable values, rule and threshold, samples and outcome. From the event log in the\n"
	  "state directory (events.jsonl, one JSON object a line); works without canaryd." },
	{ "reload", "", 0, 0, NULL, "Ask canaryd to reload its config (as SIGHUP does)." },
	{ "teardown", "", 0, 0, NULL,
	  "Remove xdp-canary from the kernel: detach the programs, remove links, pins and state;\n"
	  "canaryd stops. Traffic to the VIPs is no longer split." },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: canaryctl [OPTIONS] COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].args);
	fprintf(f,
		"\noptions:\n"
		"  -c, --config PATH   canaryd's config, for its socket, pins and state\n"
		"                      (default %s)\n"
		"  -s, --socket PATH   control socket (default: the config's, else %s)\n"
		"  -j, --json          print answers as JSON, one object a line\n"
		"  -r, --reason TEXT   why: kept with the change and logged\n"
		"  -n, --max N         history: how many events (default 20)\n"
		"  -h, --help          this text; 'canaryctl COMMAND --help' for a command\n"
		"  -V, --version       print the version\n"
		"\nexit status: 0 success, 1 failure, 2 bad usage (bad argument, unknown service).\n",
		CANARY_CONFIG_DEFAULT, CANARY_SOCKET_DEFAULT);
}

static void command_usage(FILE *f, const struct command *cmd)
{
	fprintf(f, "usage: canaryctl [OPTIONS] %s %s\n\n%s\n", cmd->name, cmd->args, cmd->help);
}

static const struct command *command_find(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

/* The config gives the paths; without one, the defaults do. A bad one must not stop a rollback. */
static void config_setup(struct ctl *c, const char *path, bool explicit)
{
	char err[512] = "";

	if (!config_load(path, &c->cfg, err, sizeof(err))) {
		c->have_cfg = true;
		return;
	}
	if (explicit || access(path, F_OK) == 0)
		fprintf(stderr, "canaryctl: warning: %s: %s; using default paths\n", path, err);
	/* The smallest valid config: every path at its default. */
	if (config_parse("{\"interfaces\": [\"lo\"], \"services\": []}", "defaults", &c->cfg, err,
			 sizeof(err)))
		fprintf(stderr, "canaryctl: defaults: %s\n", err);
}

static json_t *request_build(const struct command *cmd, char **args, int nargs, bool flag,
			     const char *reason)
{
	json_t *req = json_pack("{ss}", "cmd", cmd->name);

	if (nargs > 0)
		json_object_set_new(req, "service", json_string(args[0]));
	if (cmd->flag)
		json_object_set_new(req, cmd->flag, json_boolean(flag));
	if (reason)
		json_object_set_new(req, "reason", json_string(reason));
	return req;
}

/* Only weight, rollback and promote may go around a canaryd that does not answer. */
static bool may_bypass(const char *cmd)
{
	return !strcmp(cmd, "weight") || !strcmp(cmd, "rollback") || !strcmp(cmd, "promote");
}

static int run(struct ctl *c, const struct command *cmd, json_t *req)
{
	char err[512] = "";
	bool down;
	json_t *resp = agent_call(c, req, &down, err, sizeof(err));
	int code;

	if (!resp && !down && may_bypass(cmd->name)) {
		fprintf(stderr, "canaryctl: %s; acting on the pins directly\n", err);
		down = true;
	}
	if (!resp && down)
		resp = direct_call(c, req);
	if (!resp) {
		fprintf(stderr, "canaryctl: %s\n", err);
		return CTL_FAIL;
	}
	if (json_is_true(json_object_get(resp, "ok"))) {
		show(c, cmd->name, resp);
		code = CTL_OK;
	} else {
		code = json_integer_value(json_object_get(resp, "exit")) == CTL_USAGE ? CTL_USAGE
										       : CTL_FAIL;
		if (c->json)
			show(c, cmd->name, resp);
		fprintf(stderr, "canaryctl: %s: %s\n", cmd->name,
			json_string_value(json_object_get(resp, "error")) ?: "failed");
	}
	json_decref(resp);
	return code;
}

static int max_parse(const char *text, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(text, &end, 10);
	return errno || end == text || *end || *out < 1 || *out > 10000 ? -1 : 0;
}

struct args {
	const char *config;
	bool config_given;
	const char *socket;
	bool json, help, flag;
	const char *reason;
	const char *max;
	char *pos[4];
	int npos;
};

static bool looks_negative(const char *a)
{
	return a[0] == '-' && a[1] >= '0' && a[1] <= '9';
}

static int option_value(int argc, char **argv, int *i, const char *a, const char *lng,
			const char *shrt, const char **out)
{
	size_t n = strlen(lng);

	if (!strcmp(a, shrt) || !strcmp(a, lng)) {
		if (*i + 1 >= argc) {
			fprintf(stderr, "canaryctl: %s needs a value\n", a);
			return -1;
		}
		*out = argv[++*i];
		return 1;
	}
	if (!strncmp(a, lng, n) && a[n] == '=') {
		*out = a + n + 1;
		return 1;
	}
	return 0;
}

/* GNU style: options anywhere, the first word is the command, "--" ends options. */
static int args_parse(int argc, char **argv, struct args *a, const char **flag_name)
{
	bool opts_done = false;

	for (int i = 1; i < argc; i++) {
		const char *t = argv[i];
		int r;

		if (opts_done || t[0] != '-' || !t[1] || looks_negative(t)) {
			if (a->npos == 4) {
				fprintf(stderr, "canaryctl: too many arguments\n");
				return -1;
			}
			a->pos[a->npos++] = argv[i];
			continue;
		}
		if (!strcmp(t, "--")) {
			opts_done = true;
			continue;
		}
		if ((r = option_value(argc, argv, &i, t, "--config", "-c", &a->config))) {
			a->config_given = true;
		} else if (!r && (r = option_value(argc, argv, &i, t, "--socket", "-s",
						      &a->socket))) {
		} else if (!r && (r = option_value(argc, argv, &i, t, "--reason", "-r",
						      &a->reason))) {
		} else if (!r && (r = option_value(argc, argv, &i, t, "--max", "-n", &a->max))) {
		} else if (!strcmp(t, "-j") || !strcmp(t, "--json")) {
			a->json = true;
		} else if (!strcmp(t, "-h") || !strcmp(t, "--help")) {
			a->help = true;
		} else if (!strcmp(t, "-V") || !strcmp(t, "--version")) {
			printf("canaryctl %s\n", XDP_CANARY_VERSION);
			exit(0);
		} else if (t[0] == '-' && t[1] == '-' && (!strcmp(t + 2, "hard") ||
							  !strcmp(t + 2, "full"))) {
			a->flag = true;
			*flag_name = t + 2;
		} else {
			fprintf(stderr, "canaryctl: unknown option %s\n", t);
			return -1;
		}
		if (r < 0)
			return -1;
	}
	return 0;
}

static int check_args(const struct command *cmd, const struct args *a, const char *flag_name,
		      char *err, size_t errlen)
{
	int nargs = a->npos - 1;

	if (flag_name && (!cmd->flag || strcmp(cmd->flag, flag_name))) {
		snprintf(err, errlen, "%s has no option --%s", cmd->name, flag_name);
		return -1;
	}
	if (nargs < cmd->nargs_min) {
		snprintf(err, errlen, "%s: missing %s", cmd->name,
			 nargs == 0 && cmd->nargs_min ? "SERVICE" : "PERCENT");
		return -1;
	}
	if (nargs > cmd->nargs_max) {
		snprintf(err, errlen, "%s: unexpected argument '%s'", cmd->name,
			 a->pos[cmd->nargs_max + 1]);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct args a = { .config = CANARY_CONFIG_DEFAULT };
	const char *flag_name = NULL;
	const struct command *cmd;
	struct ctl c = {};
	char err[512];
	json_t *req;
	long max = 0;
	__u16 bp = 0;
	int ret;

	if (args_parse(argc, argv, &a, &flag_name)) {
		fprintf(stderr, "Try 'canaryctl --help'.\n");
		return CTL_USAGE;
	}
	if (!a.npos) {
		usage(a.help ? stdout : stderr);
		return a.help ? CTL_OK : CTL_USAGE;
	}
	cmd = command_find(a.pos[0]);
	if (!cmd) {
		fprintf(stderr, "canaryctl: unknown command '%s'\nTry 'canaryctl --help'.\n",
			a.pos[0]);
		return CTL_USAGE;
	}
	if (a.help) {
		command_usage(stdout, cmd);
		return CTL_OK;
	}
	if (check_args(cmd, &a, flag_name, err, sizeof(err)) ||
	    (!strcmp(cmd->name, "weight") && weight_parse(a.pos[2], &bp, err, sizeof(err)))) {
		fprintf(stderr, "canaryctl: %s\n", err);
		command_usage(stderr, cmd);
		return CTL_USAGE;
	}
	if (a.max && (strcmp(cmd->name, "history") || max_parse(a.max, &max))) {
		fprintf(stderr, "canaryctl: -n %s: %s\n", a.max, strcmp(cmd->name, "history") ?
			"only history takes it" : "not a count (1..10000)");
		return CTL_USAGE;
	}
	if (a.reason && strpbrk(a.reason, "\n\r\t\x1b")) {
		fprintf(stderr, "canaryctl: --reason: control characters are not allowed\n");
		return CTL_USAGE;
	}
	config_setup(&c, a.config, a.config_given);
	if (a.socket)
		snprintf(c.cfg.control_socket, sizeof(c.cfg.control_socket), "%s", a.socket);
	c.json = a.json;
	c.reason = a.reason;
	snprintf(c.by, sizeof(c.by), "canaryctl uid %u (direct)", getuid());
	req = request_build(cmd, a.pos + 1, a.npos - 1, a.flag, a.reason);
	if (!strcmp(cmd->name, "weight"))
		json_object_set_new(req, "weight_bp", json_integer(bp));
	if (a.max)
		json_object_set_new(req, "max", json_integer(max));
	ret = run(&c, cmd, req);
	json_decref(req);
	config_free(&c.cfg);
	return ret;
}
