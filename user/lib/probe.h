/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Active health probes of one backend: a TCP connect, or an HTTP GET whose status line must be
 * 2xx. Non-blocking and single-threaded: the caller polls probe_fd() for probe_events() and
 * hands what poll() said to probe_step(), which also enforces the deadline. Every outcome comes
 * with a short reason a person can read in a log line: "HTTP 503", "connection refused",
 * "timed out after 1s", "not HTTP".
 */
#ifndef XDP_CANARY_PROBE_H
#define XDP_CANARY_PROBE_H

#include <stddef.h>
#include <linux/types.h>

#include "addr.h"
#include "canary_abi.h"

#define BACKEND_STRLEN		CANARY_ENDPOINTSTRLEN	/* "[ADDR]:PORT" */
#define PROBE_REASON_MAX	64
#define PROBE_REQ_MAX		512
#define PROBE_RESP_MAX		64	/* the start of the status line: "HTTP/1.1 NNN" */

enum probe_kind {
	PROBE_TCP,
	PROBE_HTTP,
};

enum probe_result {
	PROBE_BUSY,		/* not decided yet: poll again */
	PROBE_PASS,
	PROBE_FAIL,
};

enum probe_phase {
	PROBE_IDLE,		/* no socket */
	PROBE_CONNECTING,
	PROBE_SENDING,		/* http: the request, maybe in several writes */
	PROBE_READING,		/* http: the status line */
};

struct probe {
	int fd;				/* -1 when idle */
	enum probe_kind kind;
	enum probe_phase phase;
	__u64 deadline_ns;		/* CLOCK_MONOTONIC */
	__u64 timeout_ms;		/* for the reason of a timeout */
	char req[PROBE_REQ_MAX];
	size_t req_len, req_sent;
	char resp[PROBE_RESP_MAX + 1];
	size_t resp_len;
	char reason[PROBE_REASON_MAX];	/* why it passed or failed: "HTTP 200", "connected" */
};

/* An idle probe. */
void probe_init(struct probe *p);

/*
 * Starts probing @be (IPv4-mapped addresses are probed over IPv4), with @path the HTTP path
 * ("/" when NULL or empty). Returns PROBE_BUSY, or the outcome when it is known at once (a
 * connect refused on the spot, a socket that cannot be made: PROBE_FAIL with the reason).
 * A probe already running is cancelled first.
 */
enum probe_result probe_start(struct probe *p, enum probe_kind kind, const struct backend *be,
			      const char *path, __u64 timeout_ms, __u64 now_ns);

/* The socket to poll while busy, -1 when idle. */
int probe_fd(const struct probe *p);

/* The events to poll for: POLLOUT while connecting or sending, POLLIN while reading; 0 idle. */
short probe_events(const struct probe *p);

/*
 * Moves the probe on with what poll() returned for its socket (0 when it was not polled or had
 * nothing), at @now_ns. Past the deadline an undecided probe fails. A decided probe is idle
 * again (its socket closed) and its reason says why. An idle probe returns PROBE_FAIL and keeps
 * its last reason.
 */
enum probe_result probe_step(struct probe *p, short revents, __u64 now_ns);

/* Stops a running probe and closes its socket. */
void probe_cancel(struct probe *p);

/* "10.0.0.2:8080" or "[2001:db8::2]:8080"; @buf holds BACKEND_STRLEN bytes. */
const char *backend_format(const struct backend *be, char *buf, size_t len);

#endif /* XDP_CANARY_PROBE_H */
