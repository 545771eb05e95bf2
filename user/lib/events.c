// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "events.h"
#include "io.h"

static int events_path(const char *dir, const char *suffix, char *path, size_t len)
{
	if (snprintf(path, len, "%s/%s%s", dir, EVENTS_FILE, suffix) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

/* A full log becomes the old generation; the next append starts a new one. */
static int events_rotate(const char *dir, const char *path)
{
	char old[PATH_MAX];
	struct stat st;
	int ret;

	if (stat(path, &st) || st.st_size < EVENTS_MAX_BYTES)
		return 0;
	ret = events_path(dir, ".1", old, sizeof(old));
	if (!ret && rename(path, old))
		ret = -errno;
	return ret;
}

int events_append(const char *state_dir, const json_t *ev, char *err, size_t errlen)
{
	char path[PATH_MAX], *line;
	int fd, ret, rotated;
	size_t len;

	ret = events_path(state_dir, "", path, sizeof(path));
	if (ret) {
		snprintf(err, errlen, "event log in %s: %s", state_dir, strerror(-ret));
		return ret;
	}
	rotated = events_rotate(state_dir, path);
	line = json_dumps(ev, JSON_COMPACT | JSON_ENSURE_ASCII);
	if (!line) {
		snprintf(err, errlen, "event log: cannot encode an event");
		return -ENOMEM;
	}
	len = strlen(line);
	line[len] = '\n';	/* json_dumps() gave len + 1 bytes: the NUL becomes the newline */
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	ret = fd < 0 ? -errno : write_full(fd, line, len + 1);
	if (ret)
		snprintf(err, errlen, "append to %s: %s", path, strerror(-ret));
	if (!ret && rotated) {	/* the event is in; the log just keeps growing */
		snprintf(err, errlen, "rotate %s: %s", path, strerror(-rotated));
		ret = rotated;
	}
	if (fd >= 0)
		close(fd);
	free(line);
	return ret;
}

static bool event_of(const json_t *ev, const char *service)
{
	const char *s = json_string_value(json_object_get(ev, "service"));

	return !service || (s && !strcmp(s, service));
}

/* Appends the matching events of @path to @out, dropping the oldest beyond @max. */
static int events_scan(const char *path, const char *service, size_t max, json_t *out)
{
	size_t cap = 0;
	char *line = NULL;
	ssize_t n;
	int ret;
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while ((n = getline(&line, &cap, f)) > 0) {
		json_t *ev = json_loadb(line, n, 0, NULL);

		/* A torn last line (a crash mid-write) is skipped, not fatal. */
		if (json_is_object(ev) && event_of(ev, service)) {
			json_array_append(out, ev);
			if (json_array_size(out) > max)
				json_array_remove(out, 0);
		}
		json_decref(ev);
	}
	ret = ferror(f) ? -EIO : 0;
	free(line);
	fclose(f);
	return ret;
}

json_t *events_read(const char *state_dir, const char *service, size_t max, char *err,
		    size_t errlen)
{
	const char *const gens[] = { ".1", "" };
	json_t *out = json_array();
	char path[PATH_MAX];
	int ret = 0;

	for (unsigned int g = 0; out && !ret && g < 2; g++) {
		ret = events_path(state_dir, gens[g], path, sizeof(path));
		if (!ret)
			ret = events_scan(path, service, max, out);
	}
	if (!out || ret) {
		snprintf(err, errlen, "read %s: %s", ret ? path : "events",
			 strerror(ret ? -ret : ENOMEM));
		json_decref(out);
		return NULL;
	}
	return out;
}
