// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The control socket: one JSON object a line in, one a line out, one request a connection.
 * Requests: {"cmd": "status" | "services" | "weight" | "rollback" | "start" | "promote" |
 * "pause" | "resume" | "history" | "reload" | "teardown" | "ping", "service": NAME,
 * "weight_bp": N, "hard": BOOL, "full": BOOL, "reason": TEXT, "max": N}. Answers: {"ok": true, ...} or {"ok": false, "error": TEXT,
 * "exit": 1 | 2}, where exit 2 means the request itself was wrong.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "answer.h"
#include "canaryd.h"
#include "engine.h"
#include "events.h"
#include "ops.h"
#include "rollout.h"
#include "rostatus.h"
#include "status.h"
#include "svc.h"

#define REQUEST_MAX	65536

struct request {
	struct canaryd *d;
	json_t *req;
	const char *cmd;
	const char *service;
	const char *reason;
	char by[64];
	const struct cfg_service *svc;	/* the service's config, once service_arg() found it */
};


/* We hold the agent lock: a socket left at @path is a dead agent's. Anything else is not ours. */
static int stale_socket_remove(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (lstat(path, &st)) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "control socket %s: %s", path, strerror(errno));
		return -errno;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "control socket %s: something else is there (not a socket); "
			 "canaryd does not remove it", path);
		return -EEXIST;
	}
	if (unlink(path) && errno != ENOENT) {
		snprintf(err, errlen, "control socket %s: remove the old one: %s", path,
			 strerror(errno));
		return -errno;
	}
	return 0;
}

static int socket_dir_ensure(struct canaryd *d, const char *path, char *err, size_t errlen)
{
	char dir[PATH_MAX], *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) == 0) {
		d->made.ctl_dir = d->made.on;
		return 0;
	}
	if (errno == EEXIST)
		return 0;
	snprintf(err, errlen, "create %s: %s", dir, strerror(errno));
	return -errno;
}

int control_open(struct canaryd *d, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = d->cfg.control_socket;
	mode_t mode = d->cfg.control_has_group ? 0660 : 0600;
	int fd, ret;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "control socket %s: path too long", path);
		return -ENAMETOOLONG;
	}
	ret = socket_dir_ensure(d, path, err, errlen);
	if (!ret)
		ret = stale_socket_remove(path, err, errlen);
	if (ret)
		return ret;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		ret = -errno;
		snprintf(err, errlen, "control socket %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return ret;
	}
	d->ctl_fd = fd;		/* the file is ours from here: control_close() removes it */
	if (chmod(path, mode) || (d->cfg.control_has_group && chown(path, 0, d->cfg.control_gid)) ||
	    listen(fd, 16)) {
		ret = -errno;
		snprintf(err, errlen, "control socket %s: %s", path, strerror(errno));
		return ret;
	}
	return 0;
}

void control_close(struct canaryd *d)
{
	if (d->ctl_fd < 0)
		return;
	close(d->ctl_fd);
	unlink(d->cfg.control_socket);
	d->ctl_fd = -1;
}

static bool in_group(uid_t uid, gid_t gid, gid_t want)
{
	struct passwd pw, *res;
	gid_t groups[64];
	int n = 64;
	char buf[4096];

	if (gid == want)
		return true;
	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) || !res ||
	    getgrouplist(pw.pw_name, pw.pw_gid, groups, &n) < 0)
		return false;
	for (int i = 0; i < n; i++)
		if (groups[i] == want)
			return true;
	return false;
}

static bool peer_allowed(struct canaryd *d, int fd, char *by, size_t len)
{
	struct ucred cred;
	socklen_t clen = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen))
		return false;
	snprintf(by, len, "canaryctl uid %u pid %d", cred.uid, cred.pid);
	return cred.uid == 0 ||
	       (d->cfg.control_has_group && in_group(cred.uid, cred.gid, d->cfg.control_gid));
}

static struct state_svc *service_arg(struct request *r, json_t **err)
{
	struct state_svc *s;

	if (!r->service) {
		*err = answer_fail(2, "%s: which service?", r->cmd);
		return NULL;
	}
	s = state_svc_find(r->d->state, r->service);
	r->svc = config_service(&r->d->cfg, r->service);
	if (!s || !r->svc) {
		*err = answer_fail(2, "no service \"%s\" (canaryctl services lists them)", r->service);
		return NULL;
	}
	return s;
}

/* The answer to a rollout command: what the state machine did and where the rollout is. */
static json_t *rollout_answer(struct request *r, struct state_svc *s, const char *cmd,
			      const struct ro_action *a)
{
	struct svc_state before = { 0 }, after = { 0 };
	char from[8], to[8], err[512];

	svc_state_read(&r->d->dp, s->id, &before);
	if (engine_act(r->d, r->svc, s, a, r->by, NULL, err, sizeof(err)))
		return answer_fail(ANSWER_FAIL, "%s", err);
	svc_state_read(&r->d->dp, s->id, &after);
	return answer_ok(json_pack("{ss ss ss ss ss so}", "service", s->name, "action", cmd,
			    "from", weight_format(before.weight, from, sizeof(from)),
			    "to", weight_format(after.weight, to, sizeof(to)),
			    "reason", a->reason,
			    "rollout", rollout_status_json(r->svc->plan, &s->ro)));
}

/* A reason the operator gave, or what the command itself says. */
static const char *reason_or(struct request *r, const char *dflt)
{
	return r->reason[0] ? r->reason : dflt;
}

static json_t *cmd_start(struct request *r)
{
	struct ro_action a = { 0 };
	json_t *err = NULL;
	struct state_svc *s = service_arg(r, &err);
	char why[256];

	if (!s)
		return err;
	if (!r->svc->plan)
		return answer_fail(ANSWER_USAGE, "service %s has no \"rollout\" plan in %s",
				   s->name, r->d->cfg.path);
	if (rollout_start(r->svc->plan, &s->ro, now_ms(),
			  health_pool_ok(r->d, s->name, CANARY_V_CANARY), &a, why, sizeof(why)))
		return answer_fail(ANSWER_FAIL, "%s", why);
	rollout_annotate(&s->ro, &a, r->reason);
	return rollout_answer(r, s, "start", &a);
}

static json_t *cmd_history(struct request *r)
{
	json_t *max = json_object_get(r->req, "max"), *err = NULL, *evs;
	struct state_svc *s = service_arg(r, &err);
	char why[512];

	if (!s)
		return err;
	if (max && (!json_is_integer(max) || json_integer_value(max) < 1))
		return answer_fail(ANSWER_USAGE, "history: max must be a positive integer");
	evs = events_read(r->d->cfg.state_dir, s->name, max ? json_integer_value(max) : 20, why,
			  sizeof(why));
	if (!evs)
		return answer_fail(ANSWER_FAIL, "%s", why);
	return answer_ok(json_pack("{ss so}", "service", s->name, "events", evs));
}

static json_t *set_weight(struct request *r, struct state_svc *s, __u16 bp, bool hard,
			  const char *action)
{
	struct op_result res;
	char err[512], from[8], to[8];

	if (op_set_weight(&r->d->dp, s, bp, hard, action, r->reason, r->by, &res, err,
			  sizeof(err)))
		return answer_fail(1, "%s", err);
	state_commit(r->d);
	log_info("service %s: %s: canary weight %s%% -> %s%%%s (%s: %s)", s->name, action,
		 weight_format(res.from_bp, from, sizeof(from)),
		 weight_format(res.to_bp, to, sizeof(to)),
		 hard ? ", existing canary flows decided again" : "", r->by,
		 r->reason[0] ? r->reason : "no reason given");
	return answer_ok(json_pack("{ss ss ss ss sI sI sb}", "service", s->name, "action", action,
			    "from", from, "to", to, "generation_from", (json_int_t)res.gen_from,
			    "generation", (json_int_t)res.gen_to, "hard", hard));
}

static json_t *cmd_weight(struct request *r)
{
	json_t *bpj = json_object_get(r->req, "weight_bp"), *err = NULL, *ans;
	struct state_svc *s = service_arg(r, &err);
	const struct ro_action none = { 0 };
	json_int_t bp;

	if (!s)
		return err;
	if (!json_is_integer(bpj) || (bp = json_integer_value(bpj)) < 0 ||
	    bp > CANARY_WEIGHT_MAX)
		return answer_fail(2, "weight: weight_bp must be 0..%d", CANARY_WEIGHT_MAX);
	if (!r->svc->plan)
		return set_weight(r, s, bp, false, "weight");
	ans = set_weight(r, s, bp, false, "weight");
	if (!json_is_true(json_object_get(ans, "ok")))
		return ans;
	/* Stored: the rollout pauses so that it does not undo it, and the log says so now. */
	rollout_weight_set(&s->ro, now_ms(), bp, r->by);
	engine_act(r->d, r->svc, s, &none, r->by, NULL, NULL, 0);
	return ans;
}

static json_t *cmd_rollback(struct request *r)
{
	bool hard = json_is_true(json_object_get(r->req, "hard"));
	json_t *err = NULL;
	struct state_svc *s = service_arg(r, &err);
	struct ro_action a = { 0 };

	if (!s)
		return err;
	if (!r->svc->plan)
		return set_weight(r, s, 0, hard, hard ? "rollback --hard" : "rollback");
	/*
	 * The rollout ends first, so that nothing moves the weight up again, then the store; if
	 * the store fails the operator is told, and the rollout stays ended.
	 */
	rollout_rollback(r->svc->plan, &s->ro, now_ms(), hard,
			 reason_or(r, "rolled back by an operator"), &a);
	return rollout_answer(r, s, hard ? "rollback --hard" : "rollback", &a);
}

/* Without a plan, promoting goes to 100 %; with one, to the next stage (or the last). */
static json_t *cmd_promote(struct request *r)
{
	bool full = json_is_true(json_object_get(r->req, "full"));
	struct ro_action a = { 0 };
	json_t *err = NULL;
	struct state_svc *s = service_arg(r, &err);
	char why[256];

	if (!s)
		return err;
	if (!r->svc->plan)
		return set_weight(r, s, CANARY_WEIGHT_MAX, false,
				  full ? "promote --full" : "promote");
	if (rollout_promote(r->svc->plan, &s->ro, now_ms(), full, &a, why, sizeof(why)))
		return answer_fail(ANSWER_FAIL, "%s", why);
	rollout_annotate(&s->ro, &a, r->reason);
	return rollout_answer(r, s, full ? "promote --full" : "promote", &a);
}

static json_t *cmd_pause(struct request *r, bool pause)
{
	json_t *err = NULL;
	struct state_svc *s = service_arg(r, &err);
	bool was;

	if (!s)
		return err;
	was = s->paused;
	if (r->svc->plan) {
		struct ro_action a = { 0 };
		char why[256];

		if (rollout_pause(&s->ro, now_ms(), pause, reason_or(r, pause ? "paused by an operator"
								      : "resumed by an operator"),
				  &a, why, sizeof(why)))
			return answer_fail(ANSWER_FAIL, "%s", why);
		return rollout_answer(r, s, pause ? "pause" : "resume", &a);
	}
	s->paused = pause;
	state_commit(r->d);
	log_info("service %s: %s (%s: %s)", s->name,
		 was == pause ? (pause ? "already paused" : "not paused") :
				(pause ? "paused" : "resumed"),
		 r->by, r->reason[0] ? r->reason : "no reason given");
	return answer_ok(json_pack("{ss sb sb}", "service", s->name, "paused", pause, "changed",
			    was != pause));
}

static json_t *services_list(struct canaryd *d)
{
	json_t *arr = json_array();

	for (unsigned int i = 0; i < d->cfg.nservices; i++) {
		json_t *st = status_json(d, &d->cfg.services[i]);

		if (st)
			json_array_append_new(arr, st);
	}
	return arr;
}

static json_t *cmd_status(struct request *r)
{
	const struct cfg_service *svc;
	json_t *st;

	if (!r->service)
		return answer_ok(json_pack("{so}", "services", services_list(r->d)));
	svc = config_service(&r->d->cfg, r->service);
	if (!svc)
		return answer_fail(2, "no service \"%s\" (canaryctl services lists them)", r->service);
	st = status_json(r->d, svc);
	if (!st)
		return answer_fail(1, "service %s: its state cannot be read", r->service);
	return answer_ok(json_pack("{s[o]}", "services", st));
}

static json_t *cmd_teardown(struct request *r)
{
	char err[512] = "";

	/* On failure the agent runs on, and must still be reachable. */
	if (canary_teardown(r->d->cfg.pin_dir, r->d->cfg.state_dir, err, sizeof(err)))
		return answer_fail(1, "teardown: %s", err);
	control_close(r->d);
	log_info("teardown (%s): programs, links and pins removed; stopping", r->by);
	r->d->stop = true;
	return answer_ok(json_object());
}

static json_t *dispatch(struct request *r)
{
	if (!strcmp(r->cmd, "ping"))
		return answer_ok(json_pack("{si}", "pid", getpid()));
	if (!strcmp(r->cmd, "status") || !strcmp(r->cmd, "services"))
		return cmd_status(r);
	if (!strcmp(r->cmd, "weight"))
		return cmd_weight(r);
	if (!strcmp(r->cmd, "rollback"))
		return cmd_rollback(r);
	if (!strcmp(r->cmd, "promote"))
		return cmd_promote(r);
	if (!strcmp(r->cmd, "start"))
		return cmd_start(r);
	if (!strcmp(r->cmd, "history"))
		return cmd_history(r);
	if (!strcmp(r->cmd, "pause") || !strcmp(r->cmd, "resume"))
		return cmd_pause(r, !strcmp(r->cmd, "pause"));
	if (!strcmp(r->cmd, "reload")) {
		kill(getpid(), SIGHUP);	/* the signal path does it, once, in order */
		return answer_ok(json_pack("{ss}", "config", r->d->cfg.path));
	}
	if (!strcmp(r->cmd, "teardown"))
		return cmd_teardown(r);
	return answer_fail(2, "unknown command \"%s\"", r->cmd);
}

static json_t *handle(struct canaryd *d, int fd, const char *line)
{
	struct request r = { .d = d };
	json_error_t jerr;
	json_t *resp;

	if (!peer_allowed(d, fd, r.by, sizeof(r.by))) {
		d->counters.control_denied++;
		log_warn("control: %s refused (not root%s)", r.by,
			 d->cfg.control_has_group ? " nor in the control group" : "");
		return answer_fail(1, "permission denied: root or the control group only");
	}
	state_refresh(d);
	r.req = json_loads(line, 0, &jerr);
	if (!json_is_object(r.req)) {
		json_decref(r.req);
		return answer_fail(2, "bad request: %s", jerr.text);
	}
	r.cmd = json_string_value(json_object_get(r.req, "cmd")) ?: "";
	r.service = json_string_value(json_object_get(r.req, "service"));
	r.reason = json_string_value(json_object_get(r.req, "reason")) ?: "";
	/* A reason goes into one log line: it may not start another. */
	if (strpbrk(r.reason, "\n\r\t\x1b"))
		resp = answer_fail(ANSWER_USAGE, "reason: control characters are not allowed");
	else
		resp = dispatch(&r);
	json_decref(r.req);
	return resp;
}

static ssize_t read_line(int fd, char *buf, size_t len)
{
	size_t got = 0;

	while (got < len - 1) {
		ssize_t n = read(fd, buf + got, len - 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
		if (memchr(buf + got - n, '\n', n))
			break;
	}
	buf[got] = '\0';
	return got;
}

void control_accept(struct canaryd *d)
{
	struct timeval tv = { .tv_sec = 2 };
	char *buf, *out;
	json_t *resp;
	int fd;

	fd = accept4(d->ctl_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	d->counters.control_requests++;
	buf = malloc(REQUEST_MAX);
	/* A client that never finishes its line does not hold the agent for long. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (buf && read_line(fd, buf, REQUEST_MAX) > 0) {
		resp = handle(d, fd, buf);
		out = json_dumps(resp, JSON_COMPACT);
		if (out && (write(fd, out, strlen(out)) < 0 || write(fd, "\n", 1) < 0))
			log_warn("control: answer lost: %s", strerror(errno));
		free(out);
		json_decref(resp);
	}
	free(buf);
	close(fd);
}
