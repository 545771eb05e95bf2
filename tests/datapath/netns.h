/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* A private network namespace for this process, configured by shell commands. */
#ifndef XDP_CANARY_NETNS_H
#define XDP_CANARY_NETNS_H

#include <stddef.h>

/* Moves the calling process into a new network namespace that has no name and goes away with
 * the process, so nothing is left behind however the process ends. Returns 0 or -1. */
int netns_private(void);

/* Runs @n commands in order; returns 0, or -1 after saying which one failed. */
int netns_run(const char *const *script, size_t n);

#endif /* XDP_CANARY_NETNS_H */
