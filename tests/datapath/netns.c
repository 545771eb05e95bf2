// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netns.h"

int netns_private(void)
{
	if (unshare(CLONE_NEWNET)) {
		fprintf(stderr, "unshare(CLONE_NEWNET): %s (run as root)\n", strerror(errno));
		return -1;
	}
	return 0;
}

int netns_run(const char *const *script, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int rc = system(script[i]);

		if (rc != 0) {
			fprintf(stderr, "netns setup: '%s' failed (status %d)\n", script[i], rc);
			return -1;
		}
	}
	return 0;
}
