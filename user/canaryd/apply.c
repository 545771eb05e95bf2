// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Making the datapath what the config says. At start the pins may hold a previous run's
 * datapath: what matches is kept as it is (weights, generations, flows, counters), and only the
 * difference is written. A reload does the same against the config it replaces.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <net/if.h>

#include "addr.h"
#include "canaryd.h"
#include "engine.h"
#include "links.h"
#include "stats.h"
#include "svc.h"

static const struct cfg_service *cfg_service_of(const struct canary_config *cfg,
						const char *name)
{
	return cfg ? config_service(cfg, name) : NULL;
}

static const char *key_format(const struct svc_key *key, char *buf, size_t len)
{
	char addr[CANARY_ADDRSTRLEN];

	addr_format(key->addr, addr, sizeof(addr));
	snprintf(buf, len, addr_is_v4(key->addr) ? "%s:%u/%s" : "[%s]:%u/%s", addr, key->port,
		 key->proto == IPPROTO_UDP ? "udp" : "tcp");
	return buf;
}

static int pools_publish(struct canaryd *d, __u32 id, const struct cfg_service *svc)
{
	int ret = 0;

	for (unsigned int v = 0; !ret && v < CANARY_V_MAX; v++)
		ret = pool_publish(&d->dp, id, v, svc->pool[v], svc->npool[v]);
	return ret;
}

static bool pools_equal(const struct cfg_service *a, const struct cfg_service *b)
{
	for (unsigned int v = 0; v < CANARY_V_MAX; v++)
		if (a->npool[v] != b->npool[v] ||
		    memcmp(a->pool[v], b->pool[v], a->npool[v] * sizeof(a->pool[v][0])))
			return false;
	return true;
}

static bool overrides_equal(const struct cfg_service *a, const struct cfg_service *b)
{
	return a->noverrides == b->noverrides &&
	       !memcmp(a->overrides, b->overrides, a->noverrides * sizeof(*a->overrides));
}

static bool override_wanted(const __u8 addr[16], unsigned int plen, void *ctx)
{
	const struct cfg_service *svc = ctx;

	for (unsigned int i = 0; i < svc->noverrides; i++)
		if (svc->overrides[i].plen == plen && !memcmp(svc->overrides[i].addr, addr, 16))
			return true;
	return false;
}

/* New prefixes first, stale ones after: a client is never left without its override. */
static int overrides_sync(struct canaryd *d, __u32 id, const struct cfg_service *svc)
{
	int ret = 0;

	for (unsigned int i = 0; !ret && i < svc->noverrides; i++)
		ret = override_put(&d->dp, id, svc->overrides[i].addr, svc->overrides[i].plen,
				   svc->overrides[i].version);
	if (!ret)
		ret = override_prune(&d->dp, id, override_wanted, (void *)svc);
	return ret;
}

static int service_create(struct canaryd *d, const struct cfg_service *svc, char *err,
			  size_t errlen)
{
	struct svc_state st = { .weight = svc->weight, .mode = svc->mode, .gen = 1,
				.flags = (svc->http ? CANARY_SVC_F_HTTP : 0) |
					 (svc->noverrides ? CANARY_SVC_F_OVERRIDES : 0) };
	struct state_svc *s = state_svc_add(d->state, svc->name, now_ms());
	char key[80], w[8];
	int ret;

	if (!s) {
		snprintf(err, errlen, "service %s: no free service id (%d at most, retired ids "
			 "rest 5 minutes)", svc->name, CANARY_MAX_SVC);
		return -ENOSPC;
	}
	/* A retired id keeps its old counters: the new service starts from zero. */
	ret = stats_reset(&d->dp, s->id);
	if (!ret)
		ret = pools_publish(d, s->id, svc);
	if (!ret)
		ret = overrides_sync(d, s->id, svc);
	if (!ret)
		ret = svc_put(&d->dp, &svc->key, s->id, &st);
	if (ret) {
		snprintf(err, errlen, "service %s: publish: %s", svc->name, strerror(-ret));
		state_svc_retire(d->state, svc->name, 0);
		return ret;
	}
	engine_svc_reset(d, s);	/* a reused id: nothing of its last service's rollout */
	state_note(s, now_ms(), "created", 0, svc->weight, "in the config", "canaryd");
	log_info("service %s: created as id %u on %s: %u stable, %u canary backends, canary "
		 "weight %s%%", svc->name, s->id, key_format(&svc->key, key, sizeof(key)),
		 svc->npool[0], svc->npool[1], weight_format(svc->weight, w, sizeof(w)));
	return 0;
}

/* The service kept its id but its VIP, port or protocol changed. */
static int service_rekey(struct canaryd *d, const struct cfg_service *svc, __u32 id)
{
	struct svc_key old;
	struct svc_state st;
	char from[80], to[80];
	int ret;

	ret = svc_state_read(&d->dp, id, &st);
	if (!ret)
		ret = svc_put(&d->dp, &svc->key, id, &st);
	if (ret)
		return ret;
	if (!svc_key_of(&d->dp, id, &old) && memcmp(&old, &svc->key, sizeof(old))) {
		ret = svc_unmap(&d->dp, &old);
		log_info("service %s: moved from %s to %s; its flows and weight stay", svc->name,
			 key_format(&old, from, sizeof(from)), key_format(&svc->key, to, sizeof(to)));
	}
	return ret;
}

static int service_update(struct canaryd *d, const struct cfg_service *svc,
			  const struct cfg_service *old, struct state_svc *s)
{
	struct svc_state st;
	__u32 id_now;
	char w[8];
	int ret = 0;

	if (svc_id_of(&d->dp, &svc->key, &id_now) || id_now != s->id)
		ret = service_rekey(d, svc, s->id);
	if (!ret && (!old || !pools_equal(old, svc))) {
		ret = pools_publish(d, s->id, svc);
		if (!ret && old)
			log_info("service %s: pools now %u stable, %u canary backends", svc->name,
				 svc->npool[0], svc->npool[1]);
	}
	if (!ret && (!old || !overrides_equal(old, svc))) {
		ret = overrides_sync(d, s->id, svc);
		if (!ret)
			ret = svc_set_overrides(&d->dp, s->id, svc->noverrides > 0);
	}
	if (!ret)
		ret = svc_state_read(&d->dp, s->id, &st);
	if (!ret && (st.mode != svc->mode || !(st.flags & CANARY_SVC_F_HTTP) != !svc->http)) {
		ret = svc_set_mode(&d->dp, s->id, svc->mode, svc->http);
		log_info("service %s: hash %s, http %s", svc->name,
			 svc->mode == CANARY_HASH_CLIENT ? "client" : "flow", svc->http ? "on" : "off");
	}
	/* The file's weight is where a service starts; it moves the weight only when edited. */
	if (!ret && old && old->weight != svc->weight) {
		ret = svc_set_weight(&d->dp, s->id, svc->weight);
		if (ret)
			return ret;
		state_note(s, now_ms(), "weight", st.weight, svc->weight, "edited in the config",
			   "canaryd reload");
		log_info("service %s: canary weight %s%% (edited in the config)", svc->name,
			 weight_format(svc->weight, w, sizeof(w)));
	}
	return ret;
}

/* Keeps nothing: every override prefix of a retired service goes. */
static bool override_none(const __u8 addr[16], unsigned int plen, void *ctx)
{
	(void)addr, (void)plen, (void)ctx;
	return false;
}

static void service_retire(struct canaryd *d, struct state_svc *s)
{
	char name[CFG_NAME_MAX];
	struct svc_key key;
	__u32 id = s->id;
	int ret = 0;

	snprintf(name, sizeof(name), "%s", s->name);
	/* The service table first: from then on no new flow reaches the id. */
	if (!svc_key_of(&d->dp, id, &key))
		ret = svc_del(&d->dp, &key);
	if (ret)
		log_warn("service %s: remove from the service table: %s", name, strerror(-ret));
	for (unsigned int v = 0; v < CANARY_V_MAX; v++) {
		ret = pool_publish(&d->dp, id, v, NULL, 0);
		if (ret)
			log_warn("service %s: empty the %s pool: %s", name, version_names[v],
				 strerror(-ret));
	}
	ret = override_prune(&d->dp, id, override_none, NULL);
	if (ret)
		log_warn("service %s: remove override prefixes: %s", name, strerror(-ret));
	engine_svc_reset(d, s);
	state_svc_retire(d->state, name, now_ms());
	log_info("service %s: removed (id %u rests 5 minutes before reuse)", name, id);
}

/* A service the state forgot (state file lost) but the pins still hold: take it back. */
static struct state_svc *service_adopt(struct canaryd *d, const struct cfg_service *svc)
{
	struct state_svc *s;
	__u32 id;

	if (svc_id_of(&d->dp, &svc->key, &id))
		return NULL;
	s = state_svc_claim(d->state, svc->name, id);
	if (!s)
		return NULL;
	engine_svc_reset(d, s);
	log_info("service %s: found in the pins as id %u; kept", svc->name, id);
	return s;
}

/* Checks and windows of the old plan mean nothing to a new one. Plans are calloc'ed: memcmp. */
static bool plan_changed(const struct cfg_service *old, const struct cfg_service *svc)
{
	if (!old || !old->plan || !svc->plan)
		return !old || old->plan != svc->plan;
	return memcmp(old->plan, svc->plan, sizeof(*svc->plan)) != 0;
}

static int services_apply(struct canaryd *d, const struct canary_config *old, char *err,
			  size_t errlen)
{
	int ret;

	for (unsigned int i = 0; i < d->state->nsvc;) {
		if (!config_service(&d->cfg, d->state->svc[i].name)) {
			service_retire(d, &d->state->svc[i]);
			continue;	/* the last one moved into slot i */
		}
		i++;
	}
	/* Every id the pins hold is claimed before a new service is given one. */
	for (unsigned int i = 0; i < d->cfg.nservices; i++)
		if (!state_svc_find(d->state, d->cfg.services[i].name))
			service_adopt(d, &d->cfg.services[i]);
	for (unsigned int i = 0; i < d->cfg.nservices; i++) {
		const struct cfg_service *svc = &d->cfg.services[i];
		struct state_svc *s = state_svc_find(d->state, svc->name);

		if (s && plan_changed(cfg_service_of(old, svc->name), svc))
			engine_svc_reset(d, s);
		if (s)
			ret = service_update(d, svc, cfg_service_of(old, svc->name), s);
		else
			ret = service_create(d, svc, err, errlen);
		if (ret) {
			if (!err[0])
				snprintf(err, errlen, "service %s: %s", svc->name, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

static __u64 state_stamp(struct canaryd *d)
{
	char path[PATH_MAX + 16];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/state.json", d->cfg.state_dir);
	if (stat(path, &sb))
		return 0;
	return sb.st_ino * 1000003ULL ^ (sb.st_mtim.tv_sec * 1000000000ULL + sb.st_mtim.tv_nsec);
}

/*
 * canaryctl writes the state file itself when it cannot reach the agent (a wrong socket path, a
 * moment of unresponsiveness). Take over its notes, so the next write does not erase them.
 */
void state_refresh(struct canaryd *d)
{
	__u64 stamp = state_stamp(d);
	struct canary_state *disk;
	char err[512] = "";

	if (!stamp || stamp == d->state_seen)
		return;
	disk = calloc(1, sizeof(*disk));
	if (!disk || state_load(d->cfg.state_dir, disk, err, sizeof(err))) {
		free(disk);
		return;
	}
	for (unsigned int i = 0; i < d->state->nsvc; i++) {
		struct state_svc *s = &d->state->svc[i], *t = state_svc_find(disk, s->name);

		if (!t || t->id != s->id)
			continue;
		if (t->last.time_ms > s->last.time_ms) {
			log_info("service %s: %s to %.2f%% made by %s without the agent", s->name,
				 t->last.action, t->last.to_bp / 100.0, t->last.by);
			s->last = t->last;
			/* What canaryctl did to the rollout too: rolled back, paused, promoted. */
			s->ro = t->ro;
			s->ro.clock_ms = 0;
			engine_adopt_svc(d, s);
		}
		s->paused = t->paused;
	}
	d->state_seen = stamp;
	free(disk);
}

int state_commit(struct canaryd *d)
{
	char err[512] = "";
	int lock, ret;

	lock = state_lock(d->cfg.state_dir, err, sizeof(err));
	ret = lock < 0 ? lock : state_save(d->cfg.state_dir, d->state, err, sizeof(err));
	if (!ret)
		d->state_seen = state_stamp(d);
	state_unlock(lock);
	if (ret)
		log_err("save state: %s", err);
	return ret;
}

int apply_config(struct canaryd *d, const struct canary_config *old, char *err, size_t errlen)
{
	int ret;

	err[0] = '\0';
	state_refresh(d);
	ret = ifaces_preflight(&d->cfg, err, errlen);
	if (!ret)
		ret = services_apply(d, old, err, errlen);
	/* Services before interfaces: a program attached for the first time finds them. */
	if (!ret)
		ret = ifaces_apply(d, err, errlen);
	state_commit(d);
	return ret;
}
