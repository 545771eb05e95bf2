// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "addr.h"
#include "probe.h"

#define NS_PER_MS	1000000ULL
#define STATUS_PREFIX	"HTTP/1."
#define STATUS_DECIDED	13	/* "HTTP/1.1 200" and the character after it */

void probe_init(struct probe *p)
{
	memset(p, 0, sizeof(*p));
	p->fd = -1;
}

const char *backend_format(const struct backend *be, char *buf, size_t len)
{
	return endpoint_format(be->addr, be->port, buf, len);
}

/* IPv4-mapped addresses are IPv4 backends: an AF_INET6 socket would need dual-stack to reach. */
static socklen_t sockaddr_of(const struct backend *be, struct sockaddr_storage *ss)
{
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;

	memset(ss, 0, sizeof(*ss));
	if (addr_is_v4(be->addr)) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(be->port);
		memcpy(&sin->sin_addr, be->addr + 12, 4);
		return sizeof(*sin);
	}
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(be->port);
	memcpy(&sin6->sin6_addr, be->addr, 16);
	return sizeof(*sin6);
}

void probe_cancel(struct probe *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	p->phase = PROBE_IDLE;
}

/* Decides the probe: @result, and why (printf-style). The socket is closed. */
static enum probe_result __attribute__((format(printf, 3, 4)))
probe_end(struct probe *p, enum probe_result result, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->reason, sizeof(p->reason), fmt, ap);
	va_end(ap);
	probe_cancel(p);
	return result;
}

/* "connection refused": strerror in lower case, as the end of a log line. */
static enum probe_result probe_fail_errno(struct probe *p, int err)
{
	enum probe_result r = probe_end(p, PROBE_FAIL, "%s", strerror(err));

	p->reason[0] = tolower((unsigned char)p->reason[0]);
	return r;
}

static int request_build(struct probe *p, const struct backend *be, const char *path)
{
	char host[BACKEND_STRLEN];
	int n;

	n = snprintf(p->req, sizeof(p->req),
		     "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: canaryd\r\nConnection: close\r\n"
		     "\r\n", path && path[0] ? path : "/", backend_format(be, host, sizeof(host)));
	if (n < 0 || (size_t)n >= sizeof(p->req))
		return -ENAMETOOLONG;
	p->req_len = n;
	return 0;
}

/* One send (@out) or recv on the probe's socket, across EINTR: bytes moved, or -errno. */
static ssize_t probe_io(struct probe *p, bool out, void *buf, size_t len)
{
	ssize_t n;

	do
		n = out ? send(p->fd, buf, len, MSG_NOSIGNAL) : recv(p->fd, buf, len, 0);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

static enum probe_result send_more(struct probe *p)
{
	while (p->req_sent < p->req_len) {
		ssize_t n = probe_io(p, true, p->req + p->req_sent, p->req_len - p->req_sent);

		if (n == -EAGAIN)
			return PROBE_BUSY;
		if (n < 0)
			return probe_fail_errno(p, -n);
		p->req_sent += n;
	}
	p->phase = PROBE_READING;
	return PROBE_BUSY;
}

static enum probe_result connected(struct probe *p)
{
	if (p->kind == PROBE_TCP)
		return probe_end(p, PROBE_PASS, "connected");
	p->phase = PROBE_SENDING;
	return send_more(p);
}

enum probe_result probe_start(struct probe *p, enum probe_kind kind, const struct backend *be,
			      const char *path, __u64 timeout_ms, __u64 now_ns)
{
	struct sockaddr_storage ss;
	socklen_t len;

	probe_cancel(p);
	p->kind = kind;
	p->timeout_ms = timeout_ms;
	p->deadline_ns = now_ns + timeout_ms * NS_PER_MS;
	p->req_len = p->req_sent = p->resp_len = 0;
	p->reason[0] = '\0';
	if (kind == PROBE_HTTP && request_build(p, be, path))
		return probe_end(p, PROBE_FAIL, "request too long (path of %zu bytes)",
				 strlen(path));
	len = sockaddr_of(be, &ss);
	p->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
	if (p->fd < 0)
		return probe_end(p, PROBE_FAIL, "socket: %s", strerror(errno));
	p->phase = PROBE_CONNECTING;
	if (!connect(p->fd, (struct sockaddr *)&ss, len))
		return connected(p);
	if (errno != EINPROGRESS)
		return probe_fail_errno(p, errno);
	return PROBE_BUSY;
}

int probe_fd(const struct probe *p)
{
	return p->fd;
}

short probe_events(const struct probe *p)
{
	switch (p->phase) {
	case PROBE_CONNECTING:
	case PROBE_SENDING:
		return POLLOUT;
	case PROBE_READING:
		return POLLIN;
	default:
		return 0;
	}
}

static enum probe_result connect_done(struct probe *p)
{
	socklen_t len = sizeof(int);
	int err = 0;

	if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len))
		err = errno;
	if (err == EINPROGRESS)
		return PROBE_BUSY;
	return err ? probe_fail_errno(p, err) : connected(p);
}

/* The code of a status line "HTTP/1.x NNN[ reason]", or -1 when it is not one. */
static int status_code_of(const char *line, size_t len)
{
	if (len < 12 || memcmp(line, STATUS_PREFIX, strlen(STATUS_PREFIX)) ||
	    !isdigit((unsigned char)line[7]) || line[8] != ' ')
		return -1;
	for (size_t i = 9; i < 12; i++)
		if (!isdigit((unsigned char)line[i]))
			return -1;
	if (len > 12 && line[12] != ' ' && line[12] != '\r' && line[12] != '\n')
		return -1;
	return (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
}

static enum probe_result status_judge(struct probe *p)
{
	int code = status_code_of(p->resp, p->resp_len);

	if (code < 0 && !p->resp_len)
		return probe_end(p, PROBE_FAIL, "closed without an answer");
	if (code < 0)
		return probe_end(p, PROBE_FAIL, "not HTTP");
	return probe_end(p, code >= 200 && code <= 299 ? PROBE_PASS : PROBE_FAIL, "HTTP %d",
			 code);
}

/* Enough of the answer to judge it: the status code and what follows, or what cannot be one. */
static bool status_decidable(const struct probe *p)
{
	size_t prefix = p->resp_len < strlen(STATUS_PREFIX) ? p->resp_len : strlen(STATUS_PREFIX);

	return p->resp_len >= STATUS_DECIDED || memchr(p->resp, '\n', p->resp_len) ||
	       memcmp(p->resp, STATUS_PREFIX, prefix);
}

/* Reads until the status line can be judged, or EOF. */
static enum probe_result read_more(struct probe *p)
{
	for (;;) {
		ssize_t n = probe_io(p, false, p->resp + p->resp_len, PROBE_RESP_MAX - p->resp_len);

		if (n == -EAGAIN)
			return PROBE_BUSY;
		if (n < 0)
			return probe_fail_errno(p, -n);
		p->resp_len += n;
		p->resp[p->resp_len] = '\0';
		if (!n || status_decidable(p))
			return status_judge(p);
	}
}

static enum probe_result timed_out(struct probe *p)
{
	if (p->timeout_ms % 1000)
		return probe_end(p, PROBE_FAIL, "timed out after %llums",
				 (unsigned long long)p->timeout_ms);
	return probe_end(p, PROBE_FAIL, "timed out after %llus",
			 (unsigned long long)p->timeout_ms / 1000);
}

enum probe_result probe_step(struct probe *p, short revents, __u64 now_ns)
{
	enum probe_result r = PROBE_BUSY;

	if (p->phase == PROBE_IDLE)
		return PROBE_FAIL;	/* nothing running: the last reason stands */
	if (revents) {
		if (p->phase == PROBE_CONNECTING)
			r = connect_done(p);
		else if (p->phase == PROBE_SENDING)
			r = send_more(p);
		else
			r = read_more(p);
	}
	if (r == PROBE_BUSY && now_ns >= p->deadline_ns)
		return timed_out(p);
	return r;
}
