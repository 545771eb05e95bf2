// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The flow table's sweep (sweep.h). The table is read a batch at a time and each batch's idle
 * entries are deleted at once, so an entry is deleted a millisecond or so after it was read as
 * idle. A packet in between still loses its entry: the kernel has no compare-and-delete
 * for hash maps. For UDP that changes nothing (the datapath decides a flow idle that long again
 * anyway); a TCP connection would have to be silent for tcp_idle and speak again in those
 * milliseconds, and it is then decided again as a midstream flow.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <netinet/in.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "canary_bpf.skel.h"
#include "sweep.h"

#define ENOTSUPP_KERNEL	524	/* the kernel's ENOTSUPP, a map type without the operation */

enum {
	STEP_MORE,	/* flow_sweep_step()'s own: more of the table is left */
	STEP_DONE,	/* the pass is over */
	STEP_NO_BATCH,	/* the kernel has no batch lookup: sweep key by key */
};

static __u64 idle_limit_ns(const struct flow_key *k, const struct flow_val *v,
			   const struct sweep_timeouts *t)
{
	if (k->proto == IPPROTO_UDP)
		return t->udp_idle_ns;
	if (v->flags & CANARY_FLOW_CLOSED)
		return CANARY_IDLE_SHORT_NS;
	/* A stray segment or a spoofed ACK: no backend ever answered it. */
	if ((v->flags & (CANARY_FLOW_MIDSTREAM | CANARY_FLOW_REPLIED)) == CANARY_FLOW_MIDSTREAM)
		return CANARY_IDLE_SHORT_NS;
	return t->tcp_idle_ns;
}

bool flow_idle_expired(const struct flow_key *k, const struct flow_val *v, __u64 now_ns,
		       const struct sweep_timeouts *t)
{
	return v->last_ns < now_ns && now_ns - v->last_ns > idle_limit_ns(k, v, t);
}

__u64 flow_clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static bool batch_missing(int ret)
{
	return ret == -EINVAL || ret == -EOPNOTSUPP || ret == -ENOTSUPP_KERNEL;
}

static void result_init(struct canary_dp *dp, struct sweep_result *res)
{
	memset(res, 0, sizeof(*res));
	res->capacity = bpf_map__max_entries(dp->skel->maps.flows);
}

/* Moves the keys of the idle ones among @n entries to the front of @keys; returns how many. */
static __u32 idle_keys(struct flow_key *keys, const struct flow_val *vals, __u32 n, __u64 now_ns,
		       const struct sweep_timeouts *t)
{
	__u32 idle = 0;

	for (__u32 i = 0; i < n; i++)
		if (flow_idle_expired(&keys[i], &vals[i], now_ns, t))
			keys[idle++] = keys[i];
	return idle;
}

/* Deletes @n keys. One the datapath retired first (-ENOENT) stops a batch: the rest go on. */
static int keys_delete(int fd, const struct flow_key *keys, __u32 n, __u64 *removed)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 done = 0;

	while (done < n) {
		__u32 count = n - done;
		int ret = bpf_map_delete_batch(fd, keys + done, &count, &opts);

		*removed += count;
		done += count;
		if (ret == -ENOENT)
			done++;
		else if (ret)
			return ret;
	}
	return 0;
}

/* The next batch from where @c is, its idle entries deleted: STEP_DONE at the table's end. */
static int sweep_batch(int fd, struct sweep_cursor *c, struct flow_key *keys,
		       struct flow_val *vals, __u64 now_ns, const struct sweep_timeouts *t,
		       char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	__u32 n = SWEEP_BATCH, out = 0;
	int ret = bpf_map_lookup_batch(fd, c->started ? &c->token : NULL, &out, keys, vals, &n,
				       &opts);
	bool last = ret == -ENOENT;	/* the table's end: @n entries were left */

	if (ret && !last) {
		if (!c->started && batch_missing(ret))
			return STEP_NO_BATCH;
		snprintf(err, errlen, "sweep flows: lookup batch: %s", strerror(-ret));
		return ret;
	}
	c->started = true;
	c->token = out;
	c->res.seen += n;
	ret = keys_delete(fd, keys, idle_keys(keys, vals, n, now_ns, t), &c->res.removed);
	if (ret) {
		snprintf(err, errlen, "sweep flows: delete batch: %s", strerror(-ret));
		return ret;
	}
	return last ? STEP_DONE : STEP_MORE;
}

int flow_sweep_step(struct canary_dp *dp, struct sweep_cursor *c, __u64 now_ns,
		    const struct sweep_timeouts *t, char *err, size_t errlen)
{
	struct flow_key *keys = malloc(SWEEP_BATCH * sizeof(*keys));
	struct flow_val *vals = malloc(SWEEP_BATCH * sizeof(*vals));
	int ret = -ENOMEM;

	if (!c->started)
		result_init(dp, &c->res);
	if (keys && vals)
		ret = sweep_batch(bpf_map__fd(dp->skel->maps.flows), c, keys, vals, now_ns, t, err,
				  errlen);
	else
		snprintf(err, errlen, "sweep flows: %s", strerror(ENOMEM));
	free(keys);
	free(vals);
	if (ret == STEP_NO_BATCH) {
		ret = flow_sweep_by_key(dp, now_ns, t, &c->res, err, errlen);
		return ret ? ret : STEP_DONE;
	}
	return ret;
}

int flow_sweep(struct canary_dp *dp, __u64 now_ns, const struct sweep_timeouts *t,
	       struct sweep_result *res, char *err, size_t errlen)
{
	struct sweep_cursor c = { 0 };
	int ret;

	do
		ret = flow_sweep_step(dp, &c, now_ns, t, err, errlen);
	while (ret == STEP_MORE);
	*res = c.res;
	return ret < 0 ? ret : 0;
}

static int key_delete(int fd, const struct flow_key *k, __u64 *removed)
{
	if (bpf_map_delete_elem(fd, k))
		return errno == ENOENT ? 0 : -errno;
	(*removed)++;
	return 0;
}

int flow_sweep_by_key(struct canary_dp *dp, __u64 now_ns, const struct sweep_timeouts *t,
		      struct sweep_result *res, char *err, size_t errlen)
{
	int fd = bpf_map__fd(dp->skel->maps.flows), ret;
	struct flow_key cur, next;
	bool have = false, idle = false;
	struct flow_val v;
	__u64 steps = 0;

	result_init(dp, res);
	/*
	 * A key the datapath deletes under the walk sends it back to the first key: the bound
	 * keeps such a walk finite.
	 */
	while (!(ret = bpf_map_get_next_key(fd, have ? &cur : NULL, &next)) &&
	       steps++ < 2ULL * res->capacity) {
		/* Deleted once past it, so that the walk goes on from a key still there. */
		ret = idle ? key_delete(fd, &cur, &res->removed) : 0;
		if (ret) {
			snprintf(err, errlen, "sweep flows: delete: %s", strerror(-ret));
			return ret;
		}
		cur = next;
		have = true;
		idle = false;
		if (bpf_map_lookup_elem(fd, &cur, &v)) {
			if (errno == ENOENT)
				continue;
			ret = -errno;
			snprintf(err, errlen, "sweep flows: lookup: %s", strerror(errno));
			return ret;
		}
		res->seen++;
		idle = flow_idle_expired(&cur, &v, now_ns, t);
	}
	if (ret && ret != -ENOENT) {
		snprintf(err, errlen, "sweep flows: next key: %s", strerror(-ret));
		return ret;
	}
	ret = idle ? key_delete(fd, &cur, &res->removed) : 0;
	if (ret)
		snprintf(err, errlen, "sweep flows: delete: %s", strerror(-ret));
	return ret;
}
