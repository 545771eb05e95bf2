/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Small I/O helpers that the agent, the CLI and the state file share. */
#ifndef XDP_CANARY_IO_H
#define XDP_CANARY_IO_H

#include <stddef.h>

/* Writes all of @buf, across short writes and EINTR. Returns 0 or a negative errno. */
int write_full(int fd, const void *buf, size_t len);

#endif /* XDP_CANARY_IO_H */
