// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "canary_hash.h"
#include "maglev.h"
#include "svc.h"
#include "canary_bpf.skel.h"

static int map_fd(struct bpf_map *map)
{
	return bpf_map__fd(map);
}

static int errno_of(int ret)
{
	return ret < 0 ? -errno : 0;
}

void svc_key_init(struct svc_key *key, const __u8 addr[16], __u16 port, __u8 proto)
{
	memset(key, 0, sizeof(*key));
	memcpy(key->addr, addr, 16);
	key->port = port;
	key->proto = proto;
}

static __u64 state_to_word(const struct svc_state *st)
{
	__u64 word;

	memcpy(&word, st, sizeof(word));
	return word;
}

static struct svc_state word_to_state(__u64 word)
{
	struct svc_state st;

	memcpy(&st, &word, sizeof(st));
	return st;
}

static bool state_valid(const struct svc_state *st)
{
	return st->weight <= CANARY_WEIGHT_MAX && st->mode <= CANARY_HASH_CLIENT;
}

struct state_change {
	int weight;		/* -1: keep */
	bool bump_gen;
	int overrides;		/* -1: keep, 0: clear, 1: set */
	int mode;		/* -1: keep */
	int http;		/* -1: keep, 0: clear, 1: set */
};

static __u8 flag_apply(__u8 flags, __u8 flag, int how)
{
	if (how == 1)
		return flags | flag;
	if (how == 0)
		return flags & ~flag;
	return flags;
}

/*
 * Compare-and-swap, so that two writers (the agent, and a CLI writing the pins directly while the
 * agent is down) never lose each other's change.
 */
static int state_change(struct canary_dp *dp, __u32 id, const struct state_change *c)
{
	__u64 old, new;

	if (id >= CANARY_MAX_SVC || c->weight > CANARY_WEIGHT_MAX || c->mode > CANARY_HASH_CLIENT)
		return -EINVAL;
	old = __atomic_load_n(&dp->state_words[id], __ATOMIC_ACQUIRE);
	do {
		struct svc_state st = word_to_state(old);

		if (!(st.flags & CANARY_SVC_F_ACTIVE))
			return -ENOENT;
		if (c->weight >= 0)
			st.weight = c->weight;
		if (c->bump_gen)
			st.gen++;
		if (c->mode >= 0)
			st.mode = c->mode;
		st.flags = flag_apply(st.flags, CANARY_SVC_F_OVERRIDES, c->overrides);
		st.flags = flag_apply(st.flags, CANARY_SVC_F_HTTP, c->http);
		new = state_to_word(&st);
	} while (!__atomic_compare_exchange_n(&dp->state_words[id], &old, new, false,
					      __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
	return 0;
}

static __u32 filter_bit_of(const struct svc_key *key)
{
	return canary_filter_bit(key->addr, key->port, key->proto);
}

/* Recomputes the filter from the services there are, and stores the words that changed. */
static int filter_sync(struct canary_dp *dp)
{
	int fd = map_fd(dp->skel->maps.svc);
	__u64 *want = calloc(CANARY_FILTER_WORDS, sizeof(*want));
	struct svc_key key, next, *prev = NULL;
	__u32 bit;

	if (!want)
		return -ENOMEM;
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		bit = filter_bit_of(&next);
		want[bit / 64] |= 1ULL << (bit % 64);
		key = next;
		prev = &key;
	}
	for (int w = 0; w < CANARY_FILTER_WORDS; w++)
		if (__atomic_load_n(&dp->filter_words[w], __ATOMIC_RELAXED) != want[w])
			__atomic_store_n(&dp->filter_words[w], want[w], __ATOMIC_RELEASE);
	free(want);
	return 0;
}

int svc_put(struct canary_dp *dp, const struct svc_key *key, __u32 id,
	    const struct svc_state *st)
{
	struct svc_val val = { .id = id };
	struct svc_state live = *st;
	__u32 bit = filter_bit_of(key);
	__u64 prev;

	if (id >= CANARY_MAX_SVC || !state_valid(st))
		return -EINVAL;
	live.flags |= CANARY_SVC_F_ACTIVE;
	/* Before the service: its replies find their flows through the VIP. */
	if (bpf_map_update_elem(map_fd(dp->skel->maps.svc_vip), &id, key, BPF_ANY))
		return -errno;
	prev = __atomic_exchange_n(&dp->state_words[id], state_to_word(&live), __ATOMIC_ACQ_REL);
	if (bpf_map_update_elem(map_fd(dp->skel->maps.svc), key, &val, BPF_ANY)) {
		int ret = -errno;

		/* Nothing half-applied: the id goes back to what it was. */
		__atomic_store_n(&dp->state_words[id], prev, __ATOMIC_RELEASE);
		return ret;
	}
	/* Last: the filter bit is what lets packets reach the lookups. */
	__atomic_fetch_or(&dp->filter_words[bit / 64], 1ULL << (bit % 64), __ATOMIC_RELEASE);
	return 0;
}

int svc_id_of(struct canary_dp *dp, const struct svc_key *key, __u32 *id)
{
	struct svc_val val;

	if (bpf_map_lookup_elem(map_fd(dp->skel->maps.svc), key, &val))
		return -errno;
	*id = val.id;
	return 0;
}

int svc_state_read(struct canary_dp *dp, __u32 id, struct svc_state *st)
{
	if (id >= CANARY_MAX_SVC)
		return -EINVAL;
	*st = word_to_state(__atomic_load_n(&dp->state_words[id], __ATOMIC_ACQUIRE));
	return 0;
}

int svc_key_of(struct canary_dp *dp, __u32 id, struct svc_key *key)
{
	int fd = map_fd(dp->skel->maps.svc);
	struct svc_key cur, *prev = NULL;
	struct svc_val val;

	while (bpf_map_get_next_key(fd, prev, key) == 0) {
		if (!bpf_map_lookup_elem(fd, key, &val) && val.id == id)
			return 0;
		cur = *key;
		prev = &cur;
	}
	return -ENOENT;
}

int svc_unmap(struct canary_dp *dp, const struct svc_key *key)
{
	if (bpf_map_delete_elem(map_fd(dp->skel->maps.svc), key))
		return -errno;
	return filter_sync(dp);
}

int svc_del(struct canary_dp *dp, const struct svc_key *key)
{
	__u32 id = 0;
	int ret;

	ret = svc_id_of(dp, key, &id);
	if (ret)
		return ret;
	if (id >= CANARY_MAX_SVC)
		return -ERANGE;
	__atomic_store_n(&dp->state_words[id], 0, __ATOMIC_RELEASE);
	return svc_unmap(dp, key);
}

int svc_set_weight(struct canary_dp *dp, __u32 id, __u16 weight)
{
	struct state_change c = { .weight = weight, .overrides = -1, .mode = -1, .http = -1 };

	return state_change(dp, id, &c);
}

int svc_rollback_hard(struct canary_dp *dp, __u32 id, __u16 weight)
{
	struct state_change c = { .weight = weight, .bump_gen = true, .overrides = -1, .mode = -1,
				  .http = -1 };

	return state_change(dp, id, &c);
}

int svc_set_overrides(struct canary_dp *dp, __u32 id, bool on)
{
	struct state_change c = { .weight = -1, .overrides = on, .mode = -1, .http = -1 };

	return state_change(dp, id, &c);
}

int svc_set_mode(struct canary_dp *dp, __u32 id, __u8 mode, bool http)
{
	struct state_change c = { .weight = -1, .overrides = -1, .mode = mode, .http = http };

	return state_change(dp, id, &c);
}

static int pool_map_create(struct canary_dp *dp)
{
	struct bpf_map *tmpl = dp->skel->maps.pool_empty;
	LIBBPF_OPTS(bpf_map_create_opts, opts,
		    .btf_fd = bpf_object__btf_fd(dp->skel->obj),
		    .btf_key_type_id = bpf_map__btf_key_type_id(tmpl),
		    .btf_value_type_id = bpf_map__btf_value_type_id(tmpl));
	int fd;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "pool", sizeof(__u32), sizeof(struct pool), 1,
			    &opts);
	return fd < 0 ? -errno : fd;
}

/* Lets replies from these backends reach the reply path; bits are never cleared. */
static void be_filter_add(struct canary_dp *dp, const struct backend *be, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		__u32 bit = canary_filter_bit(be[i].addr, be[i].port, 0);

		__atomic_fetch_or(&dp->be_filter_words[bit / 64], 1ULL << (bit % 64),
				  __ATOMIC_RELEASE);
	}
}

static bool svc_active(struct canary_dp *dp, __u32 id)
{
	struct svc_state st;

	return id < CANARY_MAX_SVC && !svc_state_read(dp, id, &st) &&
	       (st.flags & CANARY_SVC_F_ACTIVE);
}

/* Whether @be is in a pool of service @id as published now (a map-in-map lookup gives an id). */
static bool pool_has(struct canary_dp *dp, __u32 id, const struct be_svc_key *be)
{
	struct pool *pool = malloc(sizeof(*pool));
	bool found = false;

	for (__u8 v = 0; pool && v < CANARY_V_MAX && !found; v++) {
		__u32 idx = pool_index(id, v), inner_id, zero = 0;
		int fd;

		if (bpf_map_lookup_elem(map_fd(dp->skel->maps.svc_backends), &idx, &inner_id))
			continue;
		fd = bpf_map_get_fd_by_id(inner_id);
		if (fd < 0)
			continue;
		if (!bpf_map_lookup_elem(fd, &zero, pool))
			for (unsigned int i = 0; i < CANARY_MAX_BACKENDS && !found; i++)
				found = !memcmp(pool->be[i].addr, be->addr, 16) &&
					pool->be[i].port == be->port;
		close(fd);
	}
	free(pool);
	return found;
}

/*
 * Adds @id to what @v lists for backend @be. A full list first drops the services that are
 * retired or no longer have the backend: their flows to it lose their replies, which is why
 * entries are not dropped before the room is needed.
 */
static int be_svc_list_add(struct canary_dp *dp, struct be_svc_val *v, __u32 id,
			   const struct be_svc_key *be)
{
	unsigned int kept = 0;

	for (unsigned int i = 0; i < v->count; i++)
		if (v->id[i] == id)
			return 0;
	if (v->count == CANARY_BE_SVC_MAX) {
		for (unsigned int i = 0; i < v->count; i++)
			if (svc_active(dp, v->id[i]) && pool_has(dp, v->id[i], be))
				v->id[kept++] = v->id[i];
		v->count = kept;
	}
	if (v->count == CANARY_BE_SVC_MAX)
		return -ENOSPC;
	v->id[v->count++] = id;
	return 1;
}

/* Lets replies from these backends find the flows of service @id (see be_svc in the ABI). */
static int be_svc_add(struct canary_dp *dp, __u32 id, const struct backend *be, unsigned int n)
{
	int fd = map_fd(dp->skel->maps.be_svc);

	for (unsigned int i = 0; i < n; i++) {
		struct be_svc_key key = { .port = be[i].port };
		struct be_svc_val val = { 0 };
		int ret;

		memcpy(key.addr, be[i].addr, 16);
		if (bpf_map_lookup_elem(fd, &key, &val) && errno != ENOENT)
			return -errno;
		ret = be_svc_list_add(dp, &val, id, &key);
		if (ret < 0)
			return ret;
		if (ret && bpf_map_update_elem(fd, &key, &val, BPF_ANY))
			return -errno;
	}
	return 0;
}

static bool any_live(const bool *live, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (!live || live[i])
			return true;
	return false;
}

int pool_publish_live(struct canary_dp *dp, __u32 svc_id, __u8 version, const struct backend *be,
		      unsigned int n, const bool *live)
{
	__u32 idx = pool_index(svc_id, version), zero = 0;
	struct pool *pool;
	int fd, ret = 0;

	if (svc_id >= CANARY_MAX_SVC || version >= CANARY_V_MAX || n > CANARY_MAX_BACKENDS)
		return -EINVAL;
	pool = calloc(1, sizeof(*pool));
	if (!pool)
		return -ENOMEM;
	/*
	 * Before the pool: a reply must never beat its filter bit. Down backends too: the flows
	 * pinned to them still get their replies rewritten.
	 */
	ret = be_svc_add(dp, svc_id, be, n);
	if (ret)
		goto out;
	be_filter_add(dp, be, n);
	if (any_live(live, n)) {
		pool->count = n;
		memcpy(pool->be, be, n * sizeof(*be));
		ret = maglev_build_live(pool->maglev, CANARY_MAGLEV_SIZE, be, n, live);
		if (ret)
			goto out;
	}
	fd = pool_map_create(dp);
	if (fd < 0) {
		ret = fd;
		goto out;
	}
	ret = errno_of(bpf_map_update_elem(fd, &zero, pool, BPF_ANY));
	/* A map-in-map update returns only after an RCU grace period: the old pool is unused. */
	if (!ret)
		ret = errno_of(bpf_map_update_elem(map_fd(dp->skel->maps.svc_backends), &idx, &fd,
						   BPF_ANY));
	close(fd);
out:
	free(pool);
	return ret;
}

int pool_publish(struct canary_dp *dp, __u32 svc_id, __u8 version, const struct backend *be,
		 unsigned int n)
{
	return pool_publish_live(dp, svc_id, version, be, n, NULL);
}

static void override_key_init(struct override_key *key, __u32 svc_id, const __u8 addr[16],
			      unsigned int plen)
{
	memset(key, 0, sizeof(*key));
	key->prefixlen = 32 + plen;
	key->svc_id = htonl(svc_id);
	memcpy(key->addr, addr, 16);
}

int override_put(struct canary_dp *dp, __u32 svc_id, const __u8 addr[16], unsigned int plen,
		 __u8 version)
{
	struct override_val val = { .version = version };
	struct override_key key;

	if (plen > 128 || version >= CANARY_V_MAX || svc_id >= CANARY_MAX_SVC)
		return -EINVAL;
	override_key_init(&key, svc_id, addr, plen);
	return errno_of(bpf_map_update_elem(map_fd(dp->skel->maps.overrides), &key, &val,
					    BPF_ANY));
}

int override_del(struct canary_dp *dp, __u32 svc_id, const __u8 addr[16], unsigned int plen)
{
	struct override_key key;

	if (plen > 128)
		return -EINVAL;
	override_key_init(&key, svc_id, addr, plen);
	return errno_of(bpf_map_delete_elem(map_fd(dp->skel->maps.overrides), &key));
}

int override_prune(struct canary_dp *dp, __u32 svc_id, override_keep_fn keep, void *ctx)
{
	int fd = map_fd(dp->skel->maps.overrides);
	struct override_key key, next, *prev = NULL;
	__u32 want = htonl(svc_id);

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		if (key.svc_id == want &&
		    !keep(key.addr, key.prefixlen - 32, ctx)) {
			if (bpf_map_delete_elem(fd, &key))
				return -errno;
			prev = NULL;	/* the walk restarts: deleting moved the trie */
			continue;
		}
		prev = &key;
	}
	return 0;
}

/* Deletes the entries of a map keyed by ifindex for which @keep says false. */
static int ifindex_map_prune(int fd, ifindex_keep_fn keep, void *ctx)
{
	__u32 key, next, *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		if (!keep(key, ctx)) {
			if (bpf_map_delete_elem(fd, &key))
				return -errno;
			prev = NULL;
			continue;
		}
		prev = &key;
	}
	return 0;
}

int tx_port_prune(struct canary_dp *dp, ifindex_keep_fn keep, void *ctx)
{
	return ifindex_map_prune(map_fd(dp->skel->maps.tx_ports), keep, ctx);
}

int if_cfg_prune(struct canary_dp *dp, ifindex_keep_fn keep, void *ctx)
{
	return ifindex_map_prune(map_fd(dp->skel->maps.if_cfg), keep, ctx);
}

int if_cfg_put(struct canary_dp *dp, __u32 ifindex, const struct if_cfg *ic)
{
	return errno_of(bpf_map_update_elem(map_fd(dp->skel->maps.if_cfg), &ifindex, ic, BPF_ANY));
}

int tx_port_add(struct canary_dp *dp, __u32 ifindex)
{
	return errno_of(bpf_map_update_elem(map_fd(dp->skel->maps.tx_ports), &ifindex, &ifindex,
					    BPF_ANY));
}

int tx_port_del(struct canary_dp *dp, __u32 ifindex)
{
	return errno_of(bpf_map_delete_elem(map_fd(dp->skel->maps.tx_ports), &ifindex));
}
