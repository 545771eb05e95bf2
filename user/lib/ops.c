// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "links.h"
#include "ops.h"
#include "svc.h"

int op_set_weight(struct canary_dp *dp, struct state_svc *s, __u16 bp, bool hard,
		  const char *action, const char *reason, const char *by, struct op_result *res,
		  char *err, size_t errlen)
{
	struct svc_state before, after;
	int ret;

	ret = svc_state_read(dp, s->id, &before);
	if (!ret)
		ret = hard ? svc_rollback_hard(dp, s->id, bp) : svc_set_weight(dp, s->id, bp);
	if (!ret)
		ret = svc_state_read(dp, s->id, &after);
	if (ret) {
		snprintf(err, errlen, "service %s (id %u): set weight: %s", s->name, s->id,
			 ret == -ENOENT ? "not in the datapath" : strerror(-ret));
		return ret;
	}
	*res = (struct op_result){ .from_bp = before.weight, .to_bp = after.weight,
				   .gen_from = before.gen, .gen_to = after.gen };
	state_note(s, now_ms(), action, before.weight, after.weight, reason, by);
	return 0;
}

static int unpin_link(const char *ifname, const char *kind, void *ctx)
{
	const char *pin_dir = ctx;
	char err[256];

	return link_unpin(pin_dir, kind, ifname, err, sizeof(err));
}

/* Removes the files directly in @dir, then @dir. Pins are files; nothing here recurses. */
static int dir_clear(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	int ret = 0;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (de->d_type == DT_DIR)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path) ||
		    (unlink(path) && errno != ENOENT))
			ret = -EIO;
	}
	closedir(d);
	if (!ret && rmdir(dir) && errno != ENOENT)
		ret = -errno;
	return ret;
}

int canary_remove_datapath(const char *pin_dir, const struct canary_state *st, char *err,
			   size_t errlen)
{
	char links[PATH_MAX];
	int ret;

	ret = links_for_each(pin_dir, unpin_link, (void *)pin_dir);
	if (ret)
		snprintf(err, errlen, "remove links under %s: %s", pin_dir, strerror(-ret));
	for (unsigned int i = 0; !ret && i < st->clsact.n; i++)
		ret = clsact_remove(st->clsact.name[i], CANARY_TC_BOTH, err, errlen);
	for (unsigned int i = 0; !ret && i < st->clsact_in.n; i++)
		ret = clsact_remove(st->clsact_in.name[i], CANARY_TC_BOTH, err, errlen);
	if (!ret) {
		snprintf(links, sizeof(links), "%s/links", pin_dir);
		ret = dir_clear(links);
		if (!ret)
			ret = dir_clear(pin_dir);
		if (ret)
			snprintf(err, errlen, "remove pins under %s: %s", pin_dir, strerror(-ret));
	}
	return ret;
}

int canary_teardown(const char *pin_dir, const char *state_dir, char *err, size_t errlen)
{
	struct canary_state *st = calloc(1, sizeof(*st));
	char path[PATH_MAX];
	int ret;

	if (!st)
		return -ENOMEM;
	/* No state file (or a bad one): no clsact filter is known to be ours. */
	if (state_load(state_dir, st, err, errlen))
		memset(st, 0, sizeof(*st));
	ret = canary_remove_datapath(pin_dir, st, err, errlen);
	if (!ret && snprintf(path, sizeof(path), "%s/state.json", state_dir) < (int)sizeof(path) &&
	    unlink(path) && errno != ENOENT) {
		ret = -errno;
		snprintf(err, errlen, "remove %s: %s", path, strerror(errno));
	}
	free(st);
	return ret;
}
