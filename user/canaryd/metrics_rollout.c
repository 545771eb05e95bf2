// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The rollout engine's metrics: where each rollout is, what its checks last said, health. */
#include <math.h>

#include "addr.h"
#include "engine.h"
#include "exporter.h"
#include "rollout.h"

/* `NAME{service="S"` for a service with a plan and a state. */
static void svc_start(FILE *f, const char *name, const char *service)
{
	fprintf(f, "%s{service=\"", name);
	label_value(f, service);
	fputc('"', f);
}

static void value(FILE *f, double x)
{
	if (isinf(x))
		fprintf(f, "} %s\n", x > 0 ? "+Inf" : "-Inf");
	else
		fprintf(f, "} %.9g\n", x);
}

#define FOR_EACH_ROLLOUT(d, i, svc, s)						\
	for (unsigned int i = 0; i < (d)->cfg.nservices; i++)			\
		for (const struct cfg_service *svc = &(d)->cfg.services[i]; svc;	\
		     svc = NULL)							\
			for (struct state_svc *s = svc->plan ?			\
				state_svc_find((d)->state, svc->name) : NULL; s; s = NULL)

static void phases(FILE *f, struct canaryd *d)
{
	static const struct metric ph = { "xdp_canary_rollout_phase", "gauge",
		"1 for the phase the rollout is in (idle, waiting, warmup, stage, gate, complete, "
		"rolling_back, rolled_back), 0 for the others." };
	static const struct metric st = { "xdp_canary_rollout_stage", "gauge",
		"The stage the rollout is in, from 1; 0 when it is in none." };
	static const struct metric pa = { "xdp_canary_rollout_paused", "gauge",
		"1 when the rollout is paused." };
	static const struct metric fl = { "xdp_canary_rollout_consecutive_failures", "gauge",
		"Failed evaluations in a row; failure_limit of them roll back." };

	metric_header(f, &ph);
	FOR_EACH_ROLLOUT(d, i, svc, s)
		for (unsigned int p = 0; p < RO_PHASE_MAX; p++) {
			svc_start(f, ph.name, svc->name);
			fprintf(f, ",phase=\"%s\"} %d\n", ro_phase_names[p], s->ro.phase == p);
		}
	metric_header(f, &st);
	FOR_EACH_ROLLOUT(d, i, svc, s) {
		bool in = s->ro.phase == RO_STAGE || s->ro.phase == RO_GATE;

		svc_start(f, st.name, svc->name);
		fprintf(f, "} %d\n", in ? s->ro.stage + 1 : 0);
	}
	metric_header(f, &pa);
	FOR_EACH_ROLLOUT(d, i, svc, s) {
		svc_start(f, pa.name, svc->name);
		fprintf(f, "} %d\n", s->ro.paused);
	}
	metric_header(f, &fl);
	FOR_EACH_ROLLOUT(d, i, svc, s) {
		svc_start(f, fl.name, svc->name);
		fprintf(f, "} %u\n", s->ro.failures);
	}
}

static void counts(FILE *f, struct canaryd *d)
{
	static const struct metric ev = { "xdp_canary_rollout_evaluations_total", "counter",
		"Evaluations by verdict: pass, fail, hold (no data or errors)." };
	static const struct metric rb = { "xdp_canary_rollout_rollbacks_total", "counter",
		"Rollbacks, whatever asked for them (checks, breaker, operator)." };
	static const struct metric br = { "xdp_canary_breaker_trips_total", "counter",
		"Times the local breaker rolled back, since canaryd started." };

	metric_header(f, &ev);
	FOR_EACH_ROLLOUT(d, i, svc, s)
		for (unsigned int v = RV_PASS; v < RV_MAX; v++) {
			svc_start(f, ev.name, svc->name);
			fprintf(f, ",verdict=\"%s\"} %llu\n", ro_verdict_names[v],
				s->ro.evaluations[v]);
		}
	metric_header(f, &rb);
	FOR_EACH_ROLLOUT(d, i, svc, s) {
		svc_start(f, rb.name, svc->name);
		fprintf(f, "} %llu\n", s->ro.rollbacks);
	}
	metric_header(f, &br);
	FOR_EACH_ROLLOUT(d, i, svc, s) {
		svc_start(f, br.name, svc->name);
		fprintf(f, "} %llu\n", engine_breaker_trips(d, s->id));
	}
}

static void check_start(FILE *f, const char *name, const char *service, const char *check)
{
	svc_start(f, name, service);
	fputs(",check=\"", f);
	label_value(f, check);
	fputc('"', f);
}

static void checks(FILE *f, struct canaryd *d)
{
	static const struct metric val = { "xdp_canary_check_value", "gauge",
		"What each check last measured, per version (absent when there was no value)." };
	static const struct metric out = { "xdp_canary_check_outcome", "gauge",
		"1 for each check's last outcome (pass, fail, no_data, error), 0 for the others." };
	const struct ro_check_result *r;
	unsigned int n;

	metric_header(f, &val);
	FOR_EACH_ROLLOUT(d, i, svc, s) {
		r = engine_last_checks(d, s->id, &n);
		for (unsigned int c = 0; c < n; c++) {
			const double vals[CANARY_V_MAX] = { r[c].stable, r[c].canary };

			for (unsigned int v = 0; v < CANARY_V_MAX; v++) {
				if (isnan(vals[v]))
					continue;
				check_start(f, val.name, svc->name, r[c].name);
				fprintf(f, ",version=\"%s\"", version_names[v]);
				value(f, vals[v]);
			}
		}
	}
	metric_header(f, &out);
	FOR_EACH_ROLLOUT(d, i, svc, s) {
		r = engine_last_checks(d, s->id, &n);
		for (unsigned int c = 0; c < n; c++)
			for (unsigned int o = 0; o < CHECK_OUTCOME_MAX; o++) {
				check_start(f, out.name, svc->name, r[c].name);
				fprintf(f, ",outcome=\"%s\"} %d\n", check_outcome_names[o],
					r[c].outcome == o);
			}
	}
}

static void health(FILE *f, struct canaryd *d)
{
	static const struct metric up = { "xdp_canary_backend_up", "gauge",
		"1 when the backend passes its health checks, 0 when it is down (out of its "
		"pool), absent while unknown." };
	char ep[CANARY_ENDPOINTSTRLEN];

	metric_header(f, &up);
	for (unsigned int i = 0; i < d->cfg.nservices; i++) {
		const struct cfg_service *svc = &d->cfg.services[i];

		for (unsigned int v = 0; svc->health && v < CANARY_V_MAX; v++)
			for (unsigned int b = 0; b < svc->npool[v]; b++) {
				const struct backend *be = &svc->pool[v][b];
				int state = health_backend_up(d, svc->name, v, be);

				if (state < 0)
					continue;
				svc_start(f, up.name, svc->name);
				fprintf(f, ",version=\"%s\",backend=\"", version_names[v]);
				label_value(f, endpoint_format(be->addr, be->port, ep, sizeof(ep)));
				fprintf(f, "\"} %d\n", state);
			}
	}
}

void rollout_metrics(FILE *f, struct canaryd *d)
{
	phases(f, d);
	counts(f, d);
	checks(f, d);
	health(f, d);
}
