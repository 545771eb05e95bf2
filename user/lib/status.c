// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <string.h>
#include <netinet/in.h>

#include "addr.h"
#include "rostatus.h"
#include "status.h"
#include "svc.h"

static json_t *change_json(const struct state_change *c)
{
	char from[8], to[8];

	if (!c->time_ms)
		return json_null();
	return json_pack("{sI ss ss ss ss ss}", "time_ms", (json_int_t)c->time_ms,
			 "action", c->action, "from", weight_format(c->from_bp, from, sizeof(from)),
			 "to", weight_format(c->to_bp, to, sizeof(to)), "reason", c->reason,
			 "by", c->by);
}

static json_t *versions_json(const struct cfg_service *svc, const struct svc_state *st,
			     const struct svc_sample *old, const struct svc_sample *cur)
{
	json_t *vers = json_object();

	for (unsigned int v = 0; v < CANARY_V_MAX; v++) {
		__u16 bp = v == CANARY_V_CANARY ? st->weight : CANARY_WEIGHT_MAX - st->weight;
		json_t *j = sample_version_json(old, cur, v);

		json_object_set_new(j, "weight", json_real(bp / 100.0));
		if (svc)
			json_object_set_new(j, "backends", json_integer(svc->npool[v]));
		json_object_set_new(vers, version_names[v], j);
	}
	return vers;
}

static void endpoint_set(json_t *j, const struct cfg_service *svc)
{
	char addr[CANARY_ADDRSTRLEN];

	if (!svc)
		return;
	json_object_set_new(j, "vip", json_string(addr_format(svc->key.addr, addr, sizeof(addr))));
	json_object_set_new(j, "port", json_integer(svc->key.port));
	json_object_set_new(j, "protocol",
			    json_string(svc->key.proto == IPPROTO_UDP ? "udp" : "tcp"));
}

json_t *status_svc_json(struct canary_dp *dp, const struct state_svc *s,
			const struct cfg_service *svc, const struct svc_sample *old,
			const struct svc_sample *cur, bool agent)
{
	/* With a plan, the rollout's own flag: the state machine pauses and resumes it too. */
	bool paused = svc && svc->plan ? s->ro.paused : s->paused;
	struct svc_state st;
	json_t *j;

	if (svc_state_read(dp, s->id, &st))
		return NULL;
	j = json_pack("{ss sI ss sb sf sI sI sb sb so}",
		      "service", s->name, "id", (json_int_t)s->id,
		      "hash", st.mode == CANARY_HASH_CLIENT ? "client" : "flow",
		      "http", !!(st.flags & CANARY_SVC_F_HTTP),
		      "weight", st.weight / 100.0, "weight_bp", (json_int_t)st.weight,
		      "generation", (json_int_t)st.gen, "paused", paused,
		      "agent", agent, "last_change", change_json(&s->last));
	endpoint_set(j, svc);
	json_object_set_new(j, "active", json_boolean(st.flags & CANARY_SVC_F_ACTIVE));
	json_object_set_new(j, "window_s", old ? json_real((cur->mono_ns - old->mono_ns) / 1e9)
					       : json_null());
	json_object_set_new(j, "versions", versions_json(svc, &st, old, cur));
	if (svc && svc->plan)
		json_object_set_new(j, "rollout", rollout_status_json(svc->plan, &s->ro));
	return j;
}
