/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Small I/O helpers that the agent, the CLI and the state file share. */
#ifndef XDP_CANARY_IO_H
#define XDP_CANARY_IO_H

#include <stddef.h>

/* Writes all of @buf, across short writes and EINTR. Returns 0 or a negative errno. */
int write_full(int fd, const void *buf, size_t len);

/* Appends what fits of the formatted text at *@off in @buf (@len bytes); *@off stays on the NUL. */
void buf_appendf(char *buf, size_t len, size_t *off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif /* XDP_CANARY_IO_H */
