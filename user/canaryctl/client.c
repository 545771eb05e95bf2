// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "canaryctl.h"
#include "io.h"

#define ANSWER_MAX	(4 << 20)

static char *recv_line(int fd)
{
	size_t cap = 65536, got = 0;
	char *buf = malloc(cap);

	while (buf) {
		ssize_t n;

		if (got + 1 == cap) {
			char *more = cap < ANSWER_MAX ? realloc(buf, cap * 2) : NULL;

			if (!more)
				break;
			buf = more;
			cap *= 2;
		}
		n = read(fd, buf + got, cap - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
		if (memchr(buf + got - n, '\n', n)) {
			buf[got] = '\0';
			return buf;
		}
	}
	free(buf);
	return NULL;
}

json_t *agent_call(const struct ctl *c, json_t *req, bool *down, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	/* Generous: a status of many services takes a moment; a hung agent must not hang us. */
	struct timeval tv = { .tv_sec = 5 };
	char *text = NULL, *line = NULL;
	json_t *resp = NULL;
	int fd;

	*down = false;
	if (strlen(c->cfg.control_socket) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "control socket path too long");
		return NULL;
	}
	memcpy(sa.sun_path, c->cfg.control_socket, strlen(c->cfg.control_socket) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return NULL;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		*down = errno == ENOENT || errno == ECONNREFUSED;
		snprintf(err, errlen, "connect to %s: %s", sa.sun_path, strerror(errno));
		close(fd);
		return NULL;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	text = json_dumps(req, JSON_COMPACT);
	if (!text || write_full(fd, text, strlen(text)) || write_full(fd, "\n", 1)) {
		snprintf(err, errlen, "send to canaryd: %s", strerror(errno));
		goto out;
	}
	line = recv_line(fd);
	resp = line ? json_loads(line, 0, NULL) : NULL;
	if (!json_is_object(resp)) {
		json_decref(resp);
		resp = NULL;
		snprintf(err, errlen, "canaryd did not answer within %ld s", (long)tv.tv_sec);
	}
out:
	free(text);
	free(line);
	close(fd);
	return resp;
}
