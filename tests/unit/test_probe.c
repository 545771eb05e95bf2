// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Health probes against real sockets on the loopback: listeners, a closed port, and small HTTP
 * responders forked for one answer each. Every port is the kernel's choice.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "addr.h"
#include "probe.h"

#define TIMEOUT_MS	1000

static __u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* A TCP socket bound to @addr (127.0.0.1 or ::1) on a port the kernel picks; listening if asked. */
static int bound_socket(const char *addr, bool listening, struct backend *be)
{
	struct sockaddr_storage ss = {};
	socklen_t len = sizeof(ss);
	int fd;

	memset(be, 0, sizeof(*be));
	assert_int_equal(addr_parse(addr, be->addr), 0);
	if (addr_is_v4(be->addr)) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, be->addr + 12, 4);
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, be->addr, 16);
		len = sizeof(*sin6);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	if (bind(fd, (struct sockaddr *)&ss, len))
		fail_msg("bind %s: %s", addr, strerror(errno));
	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	be->port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
						 : ((struct sockaddr_in6 *)&ss)->sin6_port);
	if (listening)
		assert_int_equal(listen(fd, 8), 0);
	return fd;
}

/* Polls the probe the way the agent does, until it is decided. */
static enum probe_result probe_run(struct probe *p, enum probe_result r)
{
	while (r == PROBE_BUSY) {
		struct pollfd pfd = { .fd = probe_fd(p), .events = probe_events(p) };
		int n = poll(&pfd, 1, 20);

		assert_true(n >= 0);
		r = probe_step(p, n > 0 ? pfd.revents : 0, now_ns());
	}
	assert_int_equal(probe_fd(p), -1);
	return r;
}

static enum probe_result probe_once(struct probe *p, enum probe_kind kind,
				    const struct backend *be, const char *path, __u64 timeout_ms)
{
	probe_init(p);
	return probe_run(p, probe_start(p, kind, be, path, timeout_ms, now_ns()));
}

/* IPv4 over AF_INET (the address is IPv4-mapped in the ABI), IPv6 over AF_INET6. */
static void tcp_listener_passes(void **state)
{
	static const char *const addrs[] = { "127.0.0.1", "::1" };
	struct backend be;
	struct probe p;

	(void)state;
	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		int fd = bound_socket(addrs[i], true, &be);

		assert_int_equal(probe_once(&p, PROBE_TCP, &be, NULL, TIMEOUT_MS), PROBE_PASS);
		assert_string_equal(p.reason, "connected");
		close(fd);
	}
}

/* Bound but not listening: the port answers SYNs with a RST, and no one else can take it. */
static void closed_port_refused(void **state)
{
	struct backend be;
	struct probe p;
	int fd = bound_socket("127.0.0.1", false, &be);

	(void)state;
	assert_int_equal(probe_once(&p, PROBE_TCP, &be, NULL, TIMEOUT_MS), PROBE_FAIL);
	assert_string_equal(p.reason, "connection refused");
	assert_int_equal(probe_once(&p, PROBE_HTTP, &be, "/", TIMEOUT_MS), PROBE_FAIL);
	assert_string_equal(p.reason, "connection refused");
	close(fd);
}

/* A listener that never accepts: the kernel completes the handshake, nothing ever answers. */
static void silent_listener_times_out(void **state)
{
	struct backend be;
	struct probe p;
	int fd = bound_socket("127.0.0.1", true, &be);
	__u64 start = now_ns(), took_ms;

	(void)state;
	assert_int_equal(probe_once(&p, PROBE_HTTP, &be, "/", TIMEOUT_MS), PROBE_FAIL);
	took_ms = (now_ns() - start) / 1000000;
	assert_string_equal(p.reason, "timed out after 1s");
	/* No speed bound: it gave up near its timeout, where a listener like this never answers. */
	assert_true(took_ms >= TIMEOUT_MS);
	assert_true(took_ms < 5 * TIMEOUT_MS);
	assert_int_equal(probe_once(&p, PROBE_HTTP, &be, "/", 150), PROBE_FAIL);
	assert_string_equal(p.reason, "timed out after 150ms");
	close(fd);
}

/* How a forked responder answers. */
struct answer {
	const char *first;	/* written once the request is in */
	const char *then;	/* written 50 ms later, if not NULL */
	const char *want_req;	/* the request must be exactly this (%u: the port), else
				 * the answer is "HTTP/1.1 400" */
};

/* Reads the request head (up to an empty line) from @fd into @buf. */
static size_t request_read(int fd, char *buf, size_t len)
{
	size_t got = 0;

	while (got + 1 < len) {
		ssize_t n = read(fd, buf + got, len - 1 - got);

		if (n <= 0)
			break;
		got += n;
		buf[got] = '\0';
		if (strstr(buf, "\r\n\r\n"))
			break;
	}
	buf[got] = '\0';
	return got;
}

static void __attribute__((noreturn)) responder_child(int lfd, __u16 port, const struct answer *a)
{
	char req[1024], want[1024];
	int fd = accept(lfd, NULL, NULL);

	if (fd < 0)
		_exit(1);
	request_read(fd, req, sizeof(req));
	if (a->want_req)
		snprintf(want, sizeof(want), a->want_req, port);
	if (a->want_req && strcmp(req, want)) {
		const char *bad = "HTTP/1.1 400 Bad Request\r\n\r\n";

		_exit(write(fd, bad, strlen(bad)) < 0 ? 1 : 2);
	}
	if (a->first[0] && write(fd, a->first, strlen(a->first)) < 0)
		_exit(1);
	if (a->then) {
		usleep(50000);
		if (write(fd, a->then, strlen(a->then)) < 0)
			_exit(1);
	}
	close(fd);
	_exit(0);
}

/* Probes a one-shot HTTP responder on 127.0.0.1 answering @a; returns the outcome. */
static enum probe_result http_probe(const struct answer *a, const char *path, struct probe *p)
{
	struct backend be;
	enum probe_result r;
	int lfd = bound_socket("127.0.0.1", true, &be), status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0)
		responder_child(lfd, be.port, a);
	r = probe_once(p, PROBE_HTTP, &be, path, TIMEOUT_MS);
	close(lfd);
	kill(pid, SIGKILL);	/* one that never got a connection waits in accept() */
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return r;
}

/* The request is exactly what the interface promises, Host included. */
static void http_request_is_well_formed(void **state)
{
	struct answer a = { "HTTP/1.0 204 No Content\r\n\r\n", NULL,
			    "GET /ready?full=1 HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n"
			    "User-Agent: canaryd\r\nConnection: close\r\n\r\n" };
	enum probe_result r;
	struct probe p;

	(void)state;
	r = http_probe(&a, "/ready?full=1", &p);
	assert_string_equal(p.reason, "HTTP 204");	/* "HTTP 400" for another request */
	assert_int_equal(r, PROBE_PASS);
}

/* Answers and what the probe makes of them. */
static void answers_judged(void **state)
{
	static const struct {
		struct answer a;
		enum probe_result want;
		const char *reason;
	} cases[] = {
		{ { "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" }, PROBE_PASS, "HTTP 200" },
		{ { "HTTP/1.1 503 Service Unavailable\r\n\r\n" }, PROBE_FAIL, "HTTP 503" },
		{ { "HTTP/1.1 302 Found\r\nLocation: /login\r\n\r\n" }, PROBE_FAIL, "HTTP 302" },
		/* a status line that arrives in pieces is put together */
		{ { "HTT", "P/1.1 200 OK\r\n\r\n" }, PROBE_PASS, "HTTP 200" },
		{ { "" }, PROBE_FAIL, "closed without an answer" },
		{ { "SSH-2.0-OpenSSH_9.2\r\n" }, PROBE_FAIL, "not HTTP" },
		{ { "HTTP/1.1 2OO OK\r\n\r\n" }, PROBE_FAIL, "not HTTP" },
		{ { "HTTP/2 200\r\n\r\n" }, PROBE_FAIL, "not HTTP" },
		{ { "HTTP/1.1 2000 OK\r\n\r\n" }, PROBE_FAIL, "not HTTP" },
		{ { "HTTP/1.1" }, PROBE_FAIL, "not HTTP" },	/* then the connection closes */
	};
	struct probe p;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum probe_result r = http_probe(&cases[i].a, "/healthz", &p);

		if (r != cases[i].want || strcmp(p.reason, cases[i].reason))
			fail_msg("case %zu: got %d \"%s\", want %d \"%s\"", i, r, p.reason,
				 cases[i].want, cases[i].reason);
	}
}

/* A new start cancels what runs; an idle probe polls for nothing. */
static void restart_and_idle(void **state)
{
	struct backend be;
	struct probe p;
	int fd = bound_socket("127.0.0.1", true, &be);

	(void)state;
	probe_init(&p);
	assert_int_equal(probe_events(&p), 0);
	assert_int_equal(probe_fd(&p), -1);
	assert_int_equal(probe_step(&p, 0, now_ns()), PROBE_FAIL);
	assert_int_equal(probe_start(&p, PROBE_HTTP, &be, "/", TIMEOUT_MS, now_ns()),
			 PROBE_BUSY);
	assert_true(probe_fd(&p) >= 0);
	assert_int_equal(probe_run(&p, probe_start(&p, PROBE_TCP, &be, NULL, TIMEOUT_MS,
						     now_ns())), PROBE_PASS);
	probe_cancel(&p);
	assert_int_equal(probe_fd(&p), -1);
	close(fd);
}

static void backends_formatted(void **state)
{
	struct backend be = { .port = 8080 };
	char buf[64];

	(void)state;
	assert_int_equal(addr_parse("10.0.0.2", be.addr), 0);
	assert_string_equal(backend_format(&be, buf, sizeof(buf)), "10.0.0.2:8080");
	assert_int_equal(addr_parse("2001:db8::2", be.addr), 0);
	assert_string_equal(backend_format(&be, buf, sizeof(buf)), "[2001:db8::2]:8080");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(tcp_listener_passes),
		cmocka_unit_test(closed_port_refused),
		cmocka_unit_test(silent_listener_times_out),
		cmocka_unit_test(http_request_is_well_formed),
		cmocka_unit_test(answers_judged),
		cmocka_unit_test(restart_and_idle),
		cmocka_unit_test(backends_formatted),
	};

	return cmocka_run_group_tests_name("probe", tests, NULL, NULL);
}
