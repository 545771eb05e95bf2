// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The event log rotates past EVENTS_MAX_BYTES into events.jsonl.1, keeps one old generation,
 * and is read across both files, oldest first.
 */
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "events.h"

struct log_dir {
	char dir[sizeof("/tmp/xdp-canary-events-XXXXXX")];
	char cur[PATH_MAX], old[PATH_MAX];
};

static int log_dir_setup(void **state)
{
	struct log_dir *d = calloc(1, sizeof(*d));

	if (!d)
		return -1;
	strcpy(d->dir, "/tmp/xdp-canary-events-XXXXXX");
	if (!mkdtemp(d->dir))
		return -1;
	snprintf(d->cur, sizeof(d->cur), "%s/%s", d->dir, EVENTS_FILE);
	snprintf(d->old, sizeof(d->old), "%s/%s.1", d->dir, EVENTS_FILE);
	*state = d;
	return 0;
}

static int log_dir_teardown(void **state)
{
	struct log_dir *d = *state;

	unlink(d->cur);
	unlink(d->old);
	rmdir(d->dir);
	free(d);
	return 0;
}

static off_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) ? -1 : st.st_size;
}

/* Fills @path with event lines of service @svc up to at least @bytes. */
static void fill(const char *path, const char *svc, off_t bytes)
{
	char line[1024];
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0640);
	int n;

	assert_true(fd >= 0);
	n = snprintf(line, sizeof(line), "{\"service\":\"%s\",\"pad\":\"%0*d\"}\n", svc, 960, 0);
	while (file_size(path) < bytes)
		assert_int_equal(write(fd, line, n), n);
	close(fd);
}

static void append(const char *dir, const char *svc, int seq)
{
	json_t *ev = json_pack("{s:s, s:i}", "service", svc, "seq", seq);
	char err[256] = "";

	assert_non_null(ev);
	assert_int_equal(events_append(dir, ev, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	json_decref(ev);
}

static void rotates_past_max_and_keeps_one_generation(void **state)
{
	struct log_dir *d = *state;
	off_t before;

	/* Below the limit: appended in place. */
	fill(d->cur, "first", EVENTS_MAX_BYTES - 2048);
	append(d->dir, "web", 1);
	assert_int_equal(file_size(d->old), -1);
	/* At the limit: the next append starts a new file, the full one becomes .1. */
	fill(d->cur, "first", EVENTS_MAX_BYTES);
	before = file_size(d->cur);
	append(d->dir, "web", 2);
	assert_int_equal(file_size(d->old), before);
	assert_true(file_size(d->cur) > 0 && file_size(d->cur) < 100);
	/* Full again: the newer generation replaces the older, nothing piles up. */
	fill(d->cur, "second", EVENTS_MAX_BYTES);
	before = file_size(d->cur);
	append(d->dir, "web", 3);
	assert_int_equal(file_size(d->old), before);
	assert_true(file_size(d->cur) < 100);
	assert_int_equal(access(d->old, F_OK), 0);
	{
		char two[PATH_MAX + 2];

		snprintf(two, sizeof(two), "%s.2", d->cur);
		assert_int_equal(access(two, F_OK), -1);
	}
}

static void read_spans_both_generations_oldest_first(void **state)
{
	struct log_dir *d = *state;
	char err[256] = "";
	json_t *evs;

	append(d->dir, "web", 1);
	fill(d->cur, "other", EVENTS_MAX_BYTES);
	append(d->dir, "web", 2);	/* rotates first: 1 is in .1, 2 in the new file */
	append(d->dir, "web", 3);
	assert_true(file_size(d->old) >= EVENTS_MAX_BYTES);
	evs = events_read(d->dir, "web", 20, err, sizeof(err));
	assert_non_null(evs);
	assert_int_equal(json_array_size(evs), 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(json_integer_value(json_object_get(json_array_get(evs, i), "seq")),
				 i + 1);
	json_decref(evs);
	/* The newest two only. */
	evs = events_read(d->dir, "web", 2, err, sizeof(err));
	assert_non_null(evs);
	assert_int_equal(json_array_size(evs), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(evs, 0), "seq")), 2);
	json_decref(evs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(rotates_past_max_and_keeps_one_generation,
						log_dir_setup, log_dir_teardown),
		cmocka_unit_test_setup_teardown(read_spans_both_generations_oldest_first,
						log_dir_setup, log_dir_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
