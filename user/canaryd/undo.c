// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A start that fails leaves nothing it made: the steps note here what they make (links, clsact
 * filters and qdiscs, pins, the socket, the state files), and start_undo() removes exactly that.
 * What a start took over from a previous run (pins, links, filters, a qdisc someone made) is
 * never its to remove: that datapath still carries traffic.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "canaryd.h"
#include "io.h"
#include "links.h"

/* In the state directory; a bit of start_made.state_new each. */
enum { SF_PID, SF_LOCK, SF_STATE, NSTATE_FILES };
static const char *const state_files[NSTATE_FILES] = {
	[SF_PID] = "canaryd.pid", [SF_LOCK] = "state.lock", [SF_STATE] = "state.json",
};

/* What start_undo() removed, for its one line; removals that failed are logged apart. */
struct undo {
	char done[1024];
	size_t off;
	bool kept_datapath;	/* a takeover's */
};

static void name_copy(char *dst, const char *ifname)
{
	snprintf(dst, IF_NAMESIZE, "%s", ifname);
}

void made_link(struct canaryd *d, const char *kind, const char *ifname)
{
	struct start_made *m = &d->made;

	if (!m->on || m->nlinks == sizeof(m->links) / sizeof(m->links[0]))
		return;
	snprintf(m->links[m->nlinks].kind, sizeof(m->links[0].kind), "%s", kind);
	name_copy(m->links[m->nlinks++].ifname, ifname);
}

void made_filter(struct canaryd *d, const char *ifname)
{
	struct start_made *m = &d->made;

	if (m->on && m->nfilters < CFG_MAX_IFACES)
		name_copy(m->filters[m->nfilters++], ifname);
}

void made_qdisc(struct canaryd *d, const char *ifname)
{
	struct start_made *m = &d->made;

	if (m->on && m->nqdiscs < CFG_MAX_IFACES)
		name_copy(m->qdiscs[m->nqdiscs++], ifname);
}

static int state_path(const struct canaryd *d, unsigned int i, char *path, size_t len)
{
	return snprintf(path, len, "%s/%s", d->cfg.state_dir, state_files[i]) < (int)len ? 0 :
									  -ENAMETOOLONG;
}

void state_files_note(struct canaryd *d)
{
	char path[PATH_MAX];

	d->made.state_new = 0;
	for (unsigned int i = 0; i < NSTATE_FILES; i++)
		if (!state_path(d, i, path, sizeof(path)) && access(path, F_OK) && errno == ENOENT)
			d->made.state_new |= 1u << i;
}

static void undo_note(struct undo *u, int ret, const char *err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Adds "what" to the line of removed things, or logs why it stays. */
static void undo_note(struct undo *u, int ret, const char *err, const char *fmt, ...)
{
	char what[PATH_MAX + 64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (ret)
		log_warn("start failed: %s stays: %s", what, err[0] ? err : strerror(-ret));
	else
		buf_appendf(u->done, sizeof(u->done), &u->off, "%s%s", u->off ? ", " : "", what);
}

static bool qdisc_made(const struct start_made *m, const char *ifname)
{
	for (unsigned int i = 0; i < m->nqdiscs; i++)
		if (!strcmp(m->qdiscs[i], ifname))
			return true;
	return false;
}

/* Returns whether the state's list of clsact filters changed. */
static bool attachments_undo(struct canaryd *d, struct undo *u)
{
	struct start_made *m = &d->made;
	bool forgot = false;
	char err[512];
	int ret;

	for (unsigned int i = 0; i < m->nlinks; i++) {
		err[0] = '\0';
		ret = link_unpin(d->cfg.pin_dir, m->links[i].kind, m->links[i].ifname, err,
				 sizeof(err));
		undo_note(u, ret, err, "link %s_%s", m->links[i].kind, m->links[i].ifname);
	}
	for (unsigned int i = 0; i < m->nfilters; i++) {
		if (qdisc_made(m, m->filters[i]))
			continue;	/* it goes with its qdisc */
		err[0] = '\0';
		ret = clsact_remove(m->filters[i], CANARY_TC_BOTH, err, sizeof(err));
		forgot |= !ret && clsact_note(d, m->filters[i], false);
		undo_note(u, ret, err, "clsact filter on %s", m->filters[i]);
	}
	for (unsigned int i = 0; i < m->nqdiscs; i++) {
		err[0] = '\0';
		ret = clsact_qdisc_destroy(m->qdiscs[i], err, sizeof(err));
		forgot |= !ret && clsact_note(d, m->qdiscs[i], false);
		undo_note(u, ret, err, "clsact qdisc on %s", m->qdiscs[i]);
	}
	return forgot;
}

static void pins_undo(struct canaryd *d, struct undo *u)
{
	int n;

	if (!d->dp.skel)
		return;		/* the datapath's own open undid itself */
	/*
	 * A takeover keeps every pin, also one it made for a map the old pins lacked: the program
	 * it swapped into the links it keeps uses that map.
	 */
	if (!d->made.datapath) {
		u->kept_datapath = true;
		return;
	}
	n = canary_dp_unpin_made(&d->dp);
	if (n < 0)
		undo_note(u, n, "", "pins under %s", d->cfg.pin_dir);
	else
		undo_note(u, 0, "", "%d pins under %s", n, d->cfg.pin_dir);
}

static void socket_undo(struct canaryd *d, struct undo *u)
{
	char dir[PATH_MAX], *slash;

	if (d->ctl_fd < 0)
		return;
	control_close(d);
	undo_note(u, 0, "", "control socket %s", d->cfg.control_socket);
	snprintf(dir, sizeof(dir), "%s", d->cfg.control_socket);
	slash = strrchr(dir, '/');
	if (!d->made.ctl_dir || !slash)
		return;
	*slash = '\0';
	undo_note(u, rmdir(dir) ? -errno : 0, "", "directory %s", dir);
}

static void state_undo(struct canaryd *d, struct undo *u, bool forgot_filters)
{
	char path[PATH_MAX], names[64] = "";
	size_t off = 0;

	/* A state file that stays must not list a filter that is gone. */
	if (forgot_filters && !(d->made.state_new & 1u << SF_STATE))
		state_commit(d);
	for (unsigned int i = 0; i < NSTATE_FILES; i++) {
		if (!(d->made.state_new & 1u << i) || state_path(d, i, path, sizeof(path)))
			continue;
		if (unlink(path) == 0)
			buf_appendf(names, sizeof(names), &off, "%s%s", off ? ", " : "",
				    state_files[i]);
		else if (errno != ENOENT)
			undo_note(u, -errno, "", "%s", path);
	}
	if (d->made.state_dir)
		undo_note(u, rmdir(d->cfg.state_dir) ? -errno : 0, "", "state directory %s%s%s",
			  d->cfg.state_dir, off ? " with " : "", names);
	else if (off)
		undo_note(u, 0, "", "%s in %s", names, d->cfg.state_dir);
}

void start_undo(struct canaryd *d)
{
	struct undo u = {};
	bool forgot;

	forgot = attachments_undo(d, &u);
	pins_undo(d, &u);
	socket_undo(d, &u);
	state_undo(d, &u, forgot);
	log_info("start failed: %s%s%s%s", u.off ? "removed what this start made: " :
					     "it had made nothing to remove", u.done,
		 u.kept_datapath ? "; the datapath it took over stays, with its links, under " : "",
		 u.kept_datapath ? d->cfg.pin_dir : "");
}
