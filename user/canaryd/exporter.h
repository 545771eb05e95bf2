/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* What the exporter's files share: writing metrics in the text format. */
#ifndef XDP_CANARY_EXPORTER_H
#define XDP_CANARY_EXPORTER_H

#include <stdio.h>

#include "canaryd.h"

struct metric {
	const char *name;
	const char *type;
	const char *help;
};

/* "# HELP" and "# TYPE" lines. */
void metric_header(FILE *f, const struct metric *m);

/* A label value with backslash, double quote and newline escaped. */
void label_value(FILE *f, const char *v);

/* metrics_rollout.c: rollouts, checks, the breaker, backend health. */
void rollout_metrics(FILE *f, struct canaryd *d);

#endif /* XDP_CANARY_EXPORTER_H */
