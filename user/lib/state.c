// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>

#include "io.h"
#include "state.h"

#define STATE_FILE	"state.json"
#define STATE_LOCK	"state.lock"
#define STATE_FORMAT	1

__u64 now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (__u64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void copy_str(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

static json_t *change_to_json(const struct state_change *c)
{
	return json_pack("{sI sI sI ss ss ss}", "time_ms", (json_int_t)c->time_ms,
			 "from_bp", (json_int_t)c->from_bp, "to_bp", (json_int_t)c->to_bp,
			 "action", c->action, "reason", c->reason, "by", c->by);
}

static void change_from_json(json_t *j, struct state_change *c)
{
	memset(c, 0, sizeof(*c));
	if (!json_is_object(j))
		return;
	c->time_ms = json_integer_value(json_object_get(j, "time_ms"));
	c->from_bp = json_integer_value(json_object_get(j, "from_bp"));
	c->to_bp = json_integer_value(json_object_get(j, "to_bp"));
	copy_str(c->action, sizeof(c->action), json_string_value(json_object_get(j, "action")));
	copy_str(c->reason, sizeof(c->reason), json_string_value(json_object_get(j, "reason")));
	copy_str(c->by, sizeof(c->by), json_string_value(json_object_get(j, "by")));
}

/* An idle rollout that never ran says nothing worth a line in the file. */
static bool rollout_saved(const struct rollout_state *ro)
{
	if (ro->phase != RO_IDLE || ro->nhistory || ro->rollbacks)
		return true;
	for (int v = 0; v < RV_MAX; v++)
		if (ro->evaluations[v])
			return true;
	return false;
}

static const char *verdict_name(__u8 v)
{
	return ro_verdict_names[v < RV_MAX ? v : RV_NONE];
}

static json_t *decision_to_json(const struct ro_decision *d)
{
	return json_pack("{sI si si ss ss ss}", "time_ms", (json_int_t)d->time_ms, "stage",
			 d->stage, "weight_bp", d->weight_bp, "verdict", verdict_name(d->verdict),
			 "action", d->action, "reason", d->reason);
}

/* The history oldest first, so that a reader (and the loader) need not know the ring. */
static json_t *history_to_json(const struct rollout_state *ro)
{
	unsigned int first = (ro->hnext + RO_HISTORY - ro->nhistory) % RO_HISTORY;
	json_t *hist = json_array();

	for (unsigned int i = 0; hist && i < ro->nhistory; i++) {
		if (json_array_append_new(hist, decision_to_json(
				&ro->history[(first + i) % RO_HISTORY]))) {
			json_decref(hist);
			return NULL;
		}
	}
	return hist;
}

static json_t *evaluations_to_json(const struct rollout_state *ro)
{
	json_t *evals = json_object();

	for (int v = 0; evals && v < RV_MAX; v++) {
		if (json_object_set_new(evals, ro_verdict_names[v],
					json_integer((json_int_t)ro->evaluations[v]))) {
			json_decref(evals);
			return NULL;
		}
	}
	return evals;
}

/* Everything but the clock: a restarted agent starts its own. */
static json_t *rollout_to_json(const struct rollout_state *ro)
{
	return json_pack("{ss sb si si sI sI sI sI ss so sI so}",
			 "phase", ro_phase_names[ro->phase < RO_PHASE_MAX ? ro->phase : RO_IDLE],
			 "paused", ro->paused, "stage", ro->stage, "weight_bp", ro->weight_bp,
			 "started_ms", (json_int_t)ro->started_ms,
			 "stage_ms", (json_int_t)ro->stage_ms, "hold_ms", (json_int_t)ro->hold_ms,
			 "failures", (json_int_t)ro->failures,
			 "last_verdict", verdict_name(ro->last_verdict),
			 "evaluations", evaluations_to_json(ro),
			 "rollbacks", (json_int_t)ro->rollbacks, "history", history_to_json(ro));
}

static json_t *svc_to_json(const struct state_svc *s)
{
	json_t *j = json_pack("{sI sb so}", "id", (json_int_t)s->id, "paused", s->paused,
			      "last_change", change_to_json(&s->last));

	if (j && rollout_saved(&s->ro) &&
	    json_object_set_new(j, "rollout", rollout_to_json(&s->ro))) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static void ifnames_to_json(json_t *arr, const struct ifname_set *set)
{
	for (unsigned int i = 0; i < set->n; i++)
		json_array_append_new(arr, json_string(set->name[i]));
}

/* Names past the set's room, or not strings, are left out: the file was not ours to trust. */
static void ifnames_from_json(const json_t *arr, struct ifname_set *set)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
		if (set->n < CFG_MAX_IFACES && json_is_string(v))
			copy_str(set->name[set->n++], IF_NAMESIZE, json_string_value(v));
}

static json_t *state_to_json(const struct canary_state *st)
{
	json_t *root = json_pack("{si s{} s[] s[] s[]}", "format", STATE_FORMAT, "services",
				 "retired", "clsact", "clsact_ingress");
	json_t *svcs = json_object_get(root, "services");

	for (unsigned int i = 0; i < st->nsvc; i++) {
		if (json_object_set_new(svcs, st->svc[i].name, svc_to_json(&st->svc[i]))) {
			json_decref(root);
			return NULL;
		}
	}
	for (unsigned int id = 0; id < CANARY_MAX_SVC; id++)
		if (st->retired_ms[id])
			json_array_append_new(json_object_get(root, "retired"),
					      json_pack("{sI sI}", "id", (json_int_t)id, "time_ms",
							(json_int_t)st->retired_ms[id]));
	ifnames_to_json(json_object_get(root, "clsact"), &st->clsact);
	ifnames_to_json(json_object_get(root, "clsact_ingress"), &st->clsact_in);
	return root;
}

static int name_index(const char *const *names, int n, const char *name)
{
	for (int i = 0; name && i < n; i++)
		if (names[i] && !strcmp(names[i], name))
			return i;
	return -1;
}

static bool in_range(json_int_t x, json_int_t max)
{
	return x >= 0 && x <= max;
}

static int decision_from_json(json_t *j, struct ro_decision *d)
{
	json_int_t time, stage, weight;
	const char *verdict, *action, *reason;
	int v;

	if (json_unpack(j, "{s:I s:I s:I s:s s:s s:s}", "time_ms", &time, "stage", &stage,
			"weight_bp", &weight, "verdict", &verdict, "action", &action,
			"reason", &reason))
		return -EINVAL;
	v = name_index(ro_verdict_names, RV_MAX, verdict);
	if (v < 0 || !in_range(time, INT64_MAX) || !in_range(stage, PLAN_MAX_STAGES - 1) ||
	    !in_range(weight, CANARY_WEIGHT_MAX))
		return -EINVAL;
	d->time_ms = time;
	d->stage = stage;
	d->weight_bp = weight;
	d->verdict = v;
	copy_str(d->action, sizeof(d->action), action);
	copy_str(d->reason, sizeof(d->reason), reason);
	return 0;
}

/* The ring refilled from the oldest: slot i holds the i-th decision. */
static int history_from_json(json_t *hist, struct rollout_state *ro)
{
	json_t *d;
	size_t i;

	if (!json_is_array(hist) || json_array_size(hist) > RO_HISTORY)
		return -EINVAL;
	json_array_foreach(hist, i, d)
		if (decision_from_json(d, &ro->history[i]))
			return -EINVAL;
	ro->nhistory = json_array_size(hist);
	ro->hnext = ro->nhistory % RO_HISTORY;
	return 0;
}

/* Verdicts absent from "evaluations" count 0; one that is not a count spoils the file. */
static int evaluations_from_json(json_t *evals, struct rollout_state *ro)
{
	if (!json_is_object(evals))
		return -EINVAL;
	for (int v = 0; v < RV_MAX; v++) {
		json_t *n = json_object_get(evals, ro_verdict_names[v]);

		if (!n)
			continue;
		if (!json_is_integer(n) || !in_range(json_integer_value(n), INT64_MAX))
			return -EINVAL;
		ro->evaluations[v] = json_integer_value(n);
	}
	return 0;
}

static int rollout_from_json(json_t *j, struct rollout_state *ro)
{
	json_int_t stage, weight, started, stage_ms, hold_ms, failures, rollbacks;
	const char *phase, *last;
	json_t *evals, *hist;
	int paused, p, v;

	if (json_unpack(j, "{s:s s:b s:I s:I s:I s:I s:I s:I s:s s:o s:I s:o}", "phase", &phase,
			"paused", &paused, "stage", &stage, "weight_bp", &weight,
			"started_ms", &started, "stage_ms", &stage_ms, "hold_ms", &hold_ms,
			"failures", &failures, "last_verdict", &last, "evaluations", &evals,
			"rollbacks", &rollbacks, "history", &hist))
		return -EINVAL;
	p = name_index(ro_phase_names, RO_PHASE_MAX, phase);
	v = name_index(ro_verdict_names, RV_MAX, last);
	if (p < 0 || v < 0 || !in_range(stage, PLAN_MAX_STAGES - 1) ||
	    !in_range(weight, CANARY_WEIGHT_MAX) || !in_range(started, INT64_MAX) ||
	    !in_range(stage_ms, INT64_MAX) || !in_range(hold_ms, INT64_MAX) ||
	    !in_range(failures, UINT_MAX) || !in_range(rollbacks, INT64_MAX))
		return -EINVAL;
	ro->phase = p;
	ro->paused = paused;
	ro->stage = stage;
	ro->weight_bp = weight;
	ro->started_ms = started;
	ro->stage_ms = stage_ms;
	ro->hold_ms = hold_ms;
	ro->failures = failures;
	ro->last_verdict = v;
	ro->rollbacks = rollbacks;
	ro->clock_ms = 0;
	if (evaluations_from_json(evals, ro) || history_from_json(hist, ro))
		return -EINVAL;
	return 0;
}

static int state_from_json(json_t *root, struct canary_state *st)
{
	json_t *svcs = json_object_get(root, "services"), *v, *ro;
	const char *name;
	size_t i;

	if (json_integer_value(json_object_get(root, "format")) != STATE_FORMAT ||
	    !json_is_object(svcs))
		return -EINVAL;
	json_object_foreach(svcs, name, v) {
		json_int_t id = json_integer_value(json_object_get(v, "id"));
		struct state_svc *s;

		if (st->nsvc == CANARY_MAX_SVC || id < 0 || id >= CANARY_MAX_SVC)
			return -EINVAL;
		s = &st->svc[st->nsvc++];
		copy_str(s->name, sizeof(s->name), name);
		s->id = id;
		s->paused = json_is_true(json_object_get(v, "paused"));
		change_from_json(json_object_get(v, "last_change"), &s->last);
		ro = json_object_get(v, "rollout");
		if (ro && rollout_from_json(ro, &s->ro))
			return -EINVAL;
	}
	json_array_foreach(json_object_get(root, "retired"), i, v) {
		json_int_t id = json_integer_value(json_object_get(v, "id"));

		if (id >= 0 && id < CANARY_MAX_SVC)
			st->retired_ms[id] = json_integer_value(json_object_get(v, "time_ms"));
	}
	ifnames_from_json(json_object_get(root, "clsact"), &st->clsact);
	ifnames_from_json(json_object_get(root, "clsact_ingress"), &st->clsact_in);
	return 0;
}

static int path_in(const char *dir, const char *file, char *path, size_t len, char *err,
		   size_t errlen)
{
	if (snprintf(path, len, "%s/%s", dir, file) < (int)len)
		return 0;
	snprintf(err, errlen, "state directory %s: path too long", dir);
	return -ENAMETOOLONG;
}

int state_load(const char *dir, struct canary_state *st, char *err, size_t errlen)
{
	char path[PATH_MAX];
	json_error_t jerr;
	json_t *root;
	int ret;

	memset(st, 0, sizeof(*st));
	ret = path_in(dir, STATE_FILE, path, sizeof(path), err, errlen);
	if (ret)
		return ret;
	if (access(path, F_OK) && errno == ENOENT)
		return 0;
	root = json_load_file(path, 0, &jerr);
	if (!root) {
		/* No line: the file could not be read at all, and jansson says why. */
		if (jerr.line > 0)
			snprintf(err, errlen, "%s:%d: %s", path, jerr.line, jerr.text);
		else
			snprintf(err, errlen, "%s", jerr.text);
		return -EINVAL;
	}
	ret = state_from_json(root, st);
	json_decref(root);
	if (ret) {
		memset(st, 0, sizeof(*st));
		snprintf(err, errlen, "%s: not a state file of this version", path);
	}
	return ret;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd))
		ret = -errno;
	close(fd);
	return ret;
}

static int dir_ensure(const char *dir, char *err, size_t errlen)
{
	if (mkdir(dir, 0750) == 0 || errno == EEXIST)
		return 0;
	snprintf(err, errlen, "create %s: %s", dir, strerror(errno));
	return -errno;
}

int state_save(const char *dir, const struct canary_state *st, char *err, size_t errlen)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	json_t *root = state_to_json(st);
	char *text = root ? json_dumps(root, JSON_INDENT(1) | JSON_SORT_KEYS) : NULL;
	int fd = -1, ret;

	json_decref(root);
	if (!text) {
		snprintf(err, errlen, "encode state: out of memory");
		return -ENOMEM;
	}
	/* These three say what went wrong themselves. */
	ret = dir_ensure(dir, err, errlen);
	if (!ret)
		ret = path_in(dir, STATE_FILE, path, sizeof(path), err, errlen);
	if (!ret)
		ret = path_in(dir, STATE_FILE ".tmp", tmp, sizeof(tmp), err, errlen);
	if (ret) {
		free(text);
		return ret;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	ret = fd < 0 ? -errno : 0;
	if (!ret)
		ret = write_full(fd, text, strlen(text));
	if (!ret && fsync(fd))
		ret = -errno;
	if (fd >= 0 && close(fd) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (!ret)
		ret = fsync_dir(dir);
	if (ret)
		snprintf(err, errlen, "write %s/%s: %s", dir, STATE_FILE, strerror(-ret));
	free(text);
	return ret;
}

int state_lock(const char *dir, char *err, size_t errlen)
{
	char path[PATH_MAX];
	int fd, ret;

	ret = dir_ensure(dir, err, errlen);
	if (!ret)
		ret = path_in(dir, STATE_LOCK, path, sizeof(path), err, errlen);
	if (ret)
		return ret;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0 || flock(fd, LOCK_EX)) {
		ret = -errno;
		snprintf(err, errlen, "lock %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return ret;
	}
	return fd;
}

void state_unlock(int fd)
{
	if (fd >= 0)
		close(fd);	/* closing drops the flock */
}

struct state_svc *state_svc_find(struct canary_state *st, const char *name)
{
	for (unsigned int i = 0; i < st->nsvc; i++)
		if (!strcmp(st->svc[i].name, name))
			return &st->svc[i];
	return NULL;
}

static bool id_in_use(const struct canary_state *st, __u32 id)
{
	for (unsigned int i = 0; i < st->nsvc; i++)
		if (st->svc[i].id == id)
			return true;
	return false;
}

struct state_svc *state_svc_claim(struct canary_state *st, const char *name, __u32 id)
{
	struct state_svc *s;

	if (st->nsvc == CANARY_MAX_SVC || id >= CANARY_MAX_SVC || id_in_use(st, id))
		return NULL;
	st->retired_ms[id] = 0;
	s = &st->svc[st->nsvc++];
	memset(s, 0, sizeof(*s));
	copy_str(s->name, sizeof(s->name), name);
	s->id = id;
	return s;
}

struct state_svc *state_svc_add(struct canary_state *st, const char *name, __u64 now)
{
	for (__u32 id = 0; id < CANARY_MAX_SVC; id++) {
		if (id_in_use(st, id))
			continue;
		if (st->retired_ms[id] && now - st->retired_ms[id] < STATE_RETIRE_MS)
			continue;
		return state_svc_claim(st, name, id);
	}
	return NULL;
}

void state_svc_retire(struct canary_state *st, const char *name, __u64 now)
{
	struct state_svc *s = state_svc_find(st, name);

	if (!s)
		return;
	st->retired_ms[s->id] = now;
	*s = st->svc[--st->nsvc];
}

void state_note(struct state_svc *s, __u64 now, const char *action, __u16 from_bp, __u16 to_bp,
		const char *reason, const char *by)
{
	struct state_change *c = &s->last;

	c->time_ms = now;
	c->from_bp = from_bp;
	c->to_bp = to_bp;
	copy_str(c->action, sizeof(c->action), action);
	copy_str(c->reason, sizeof(c->reason), reason);
	copy_str(c->by, sizeof(c->by), by);
}
