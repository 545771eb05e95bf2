// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/if_link.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "iface.h"
#include "links.h"
#include "canary_bpf.skel.h"


static int link_path(const char *pin_dir, const char *kind, const char *ifname, char *path,
		     size_t len)
{
	if (snprintf(path, len, "%s/links/%s_%s", pin_dir, kind, ifname) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

static int links_dir_ensure(const char *pin_dir, char *err, size_t errlen)
{
	char dir[PATH_MAX];

	if (snprintf(dir, sizeof(dir), "%s/links", pin_dir) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	if (mkdir(dir, 0700) && errno != EEXIST) {
		int ret = -errno;

		snprintf(err, errlen, "create %s: %s", dir, strerror(errno));
		return ret;
	}
	return 0;
}

/*
 * Swaps @prog_fd into the link pinned at @path if it still serves @ifindex. Returns 1 if it did,
 * 0 if there is no usable pin (a stale one, whose interface went away, is removed), or a negative
 * errno.
 */
static int pinned_link_update(const char *path, unsigned int ifindex, int prog_fd, char *err,
			      size_t errlen)
{
	struct bpf_link_info info = {};
	__u32 len = sizeof(info);
	int fd, ret;

	fd = bpf_obj_get(path);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "open pinned link %s: %s", path, strerror(errno));
		return ret;
	}
	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		/* Never unpin what could not be inspected: that would detach a working link. */
		ret = -errno;
		snprintf(err, errlen, "inspect pinned link %s: %s", path, strerror(errno));
		close(fd);
		return ret;
	}
	/* XDP and TCX link info both begin with the ifindex (0 once the device is gone). */
	if (info.xdp.ifindex != ifindex) {
		close(fd);
		if (unlink(path) && errno != ENOENT) {
			ret = -errno;
			snprintf(err, errlen, "remove stale link %s: %s", path, strerror(errno));
			return ret;
		}
		return 0;
	}
	ret = bpf_link_update(fd, prog_fd, NULL);
	if (ret) {
		ret = -errno;
		snprintf(err, errlen, "swap program into %s: %s", path, strerror(errno));
	}
	close(fd);
	return ret ? ret : 1;
}

static int pinned_link_create(const char *path, int prog_fd, unsigned int ifindex,
			      enum bpf_attach_type type, __u32 flags)
{
	LIBBPF_OPTS(bpf_link_create_opts, opts, .flags = flags);
	int fd, ret = 0;

	fd = bpf_link_create(prog_fd, ifindex, type, &opts);
	if (fd < 0)
		return -errno;
	if (bpf_obj_pin(fd, path))
		ret = -errno;
	close(fd);	/* the pin holds the link now, or, on error, nothing does */
	return ret;
}

static const char *xdp_busy_hint(unsigned int ifindex, char *buf, size_t len)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);

	if (bpf_xdp_query(ifindex, 0, &q) || !q.prog_id)
		return "";
	snprintf(buf, len, " (XDP program id %u is attached already; xdp-canary does not chain "
		 "XDP programs: detach it, or leave xdp off here)", q.prog_id);
	return buf;
}

static int xdp_create(struct canary_dp *dp, const char *path, const char *ifname,
		      unsigned int ifindex, enum canary_xdp_want want, struct link_result *res,
		      char *err, size_t errlen)
{
	int prog_fd = bpf_program__fd(dp->skel->progs.xdp_canary_fwd), ret;
	char hint[160];

	ret = pinned_link_create(path, prog_fd, ifindex, BPF_XDP,
				 want == CANARY_XDP_WANT_GENERIC ? XDP_FLAGS_SKB_MODE :
								   XDP_FLAGS_DRV_MODE);
	if (ret == -EOPNOTSUPP && want == CANARY_XDP_WANT_AUTO) {
		res->fell_back = true;
		ret = pinned_link_create(path, prog_fd, ifindex, BPF_XDP, XDP_FLAGS_SKB_MODE);
	}
	if (ret == -ERANGE)
		snprintf(err, errlen, "attach xdp to %s: its MTU, %u, is more than this driver's XDP "
			 "takes%s: use \"hook\": \"tc\" for it, or a smaller MTU", ifname,
			 iface_mtu(ifname), dp->xdp_frags ? "" : " without multi-buffer XDP "
			 "(Linux 5.18)");
	else if (ret)
		snprintf(err, errlen, "attach xdp to %s: %s%s", ifname, strerror(-ret),
			 ret == -EBUSY || ret == -EEXIST ?
			 xdp_busy_hint(ifindex, hint, sizeof(hint)) : "");
	return ret;
}

static unsigned int ifindex_lookup(const char *ifname, char *err, size_t errlen)
{
	unsigned int ifindex = if_nametoindex(ifname);

	if (!ifindex)
		snprintf(err, errlen, "interface %s: %s", ifname, strerror(errno));
	return ifindex;
}

/*
 * The pin path for @kind on @ifname, with @prog_fd swapped into the link pinned there if one
 * serves the interface: returns 1 if so, 0 if a link must be made, or a negative errno.
 */
static int pinned_link_take(struct canary_dp *dp, const char *kind, const char *ifname,
			    unsigned int ifindex, int prog_fd, char *path, size_t len, char *err,
			    size_t errlen)
{
	int ret;

	ret = links_dir_ensure(dp->pin_dir, err, errlen);
	if (ret)
		return ret;
	ret = link_path(dp->pin_dir, kind, ifname, path, len);
	if (ret) {
		snprintf(err, errlen, "link pin path under %s: name too long", dp->pin_dir);
		return ret;
	}
	return pinned_link_update(path, ifindex, prog_fd, err, errlen);
}

int link_xdp_ensure(struct canary_dp *dp, const char *ifname, enum canary_xdp_want want,
		    struct link_result *res, char *err, size_t errlen)
{
	int prog_fd = bpf_program__fd(dp->skel->progs.xdp_canary_fwd), ret;
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	char path[PATH_MAX];
	unsigned int ifindex;

	memset(res, 0, sizeof(*res));
	ifindex = ifindex_lookup(ifname, err, errlen);
	if (!ifindex)
		return -ENODEV;
	ret = pinned_link_take(dp, "xdp", ifname, ifindex, prog_fd, path, sizeof(path), err,
			       errlen);
	if (ret < 0)
		return ret;
	res->reused = ret == 1;
	if (!res->reused) {
		ret = xdp_create(dp, path, ifname, ifindex, want, res, err, errlen);
		if (ret)
			return ret;
	}
	ret = bpf_xdp_query(ifindex, 0, &q);
	res->xdp_mode = !ret && q.attach_mode == XDP_ATTACHED_SKB ? CANARY_XDP_GENERIC :
								   CANARY_XDP_NATIVE;
	return 0;
}

/* The two TC hooks: the forward program at ingress, the local-reply program at egress. */
static const struct tc_side {
	enum bpf_tc_attach_point point;
	enum bpf_attach_type tcx;
	const char *kind;	/* its pinned link's name: KIND_IFNAME */
	const char *name;
} tc_sides[] = {
	[CANARY_TC_INGRESS] = { BPF_TC_INGRESS, CANARY_BPF_TCX_INGRESS, "tci", "ingress" },
	[CANARY_TC_EGRESS] = { BPF_TC_EGRESS, CANARY_BPF_TCX_EGRESS, "tcx", "egress" },
};

static int tc_prog_fd(const struct canary_dp *dp, enum canary_tc_dir dir)
{
	return bpf_program__fd(dir == CANARY_TC_INGRESS ? dp->skel->progs.tc_canary_fwd :
							  dp->skel->progs.tc_canary_reply);
}

static int clsact_ensure(struct canary_dp *dp, const char *ifname, unsigned int ifindex,
			 enum canary_tc_dir dir, struct link_result *res, char *err, size_t errlen)
{
	const struct tc_side *side = &tc_sides[dir];
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = side->point);
	LIBBPF_OPTS(bpf_tc_opts, query, .handle = CLSACT_HANDLE, .priority = CLSACT_PRIORITY);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = CLSACT_HANDLE, .priority = CLSACT_PRIORITY,
		    .flags = BPF_TC_F_REPLACE, .prog_fd = tc_prog_fd(dp, dir));
	int ret;

	res->tc_mode = CANARY_TC_CLSACT;
	ret = bpf_tc_hook_create(&hook);
	if (ret && ret != -EEXIST) {
		snprintf(err, errlen, "create clsact qdisc on %s: %s", ifname, strerror(-ret));
		return ret;
	}
	res->made_qdisc = ret == 0;	/* -EEXIST: someone's qdisc, never ours to remove */
	res->reused = bpf_tc_query(&hook, &query) == 0;
	/* REPLACE swaps the program of our own filter in place, or creates it. */
	ret = bpf_tc_attach(&hook, &opts);
	if (ret)
		snprintf(err, errlen, "attach tc %s filter to %s: %s", side->name, ifname,
			 strerror(-ret));
	return ret;
}

int link_tc_ensure(struct canary_dp *dp, const char *ifname, enum canary_tc_dir dir,
		   enum canary_tc_mode mode, struct link_result *res, char *err, size_t errlen)
{
	const struct tc_side *side = &tc_sides[dir];
	int prog_fd = tc_prog_fd(dp, dir), ret;
	char path[PATH_MAX];
	unsigned int ifindex;

	memset(res, 0, sizeof(*res));
	ifindex = ifindex_lookup(ifname, err, errlen);
	if (!ifindex)
		return -ENODEV;
	if (mode == CANARY_TC_CLSACT)
		return clsact_ensure(dp, ifname, ifindex, dir, res, err, errlen);
	ret = pinned_link_take(dp, side->kind, ifname, ifindex, prog_fd, path, sizeof(path), err,
			       errlen);
	if (ret < 0)
		return ret;
	res->tc_mode = CANARY_TC_TCX;
	res->reused = ret == 1;
	if (res->reused)
		return 0;
	ret = pinned_link_create(path, prog_fd, ifindex, side->tcx, 0);
	if (ret == -EINVAL) {	/* before 6.6: no TCX */
		ret = clsact_ensure(dp, ifname, ifindex, dir, res, err, errlen);
		res->fell_back = true;
		return ret;
	}
	if (ret)
		snprintf(err, errlen, "attach tcx %s to %s: %s", side->name, ifname,
			 strerror(-ret));
	return ret;
}

const char *link_tc_kind(enum canary_tc_dir dir)
{
	return tc_sides[dir].kind;
}

int link_unpin(const char *pin_dir, const char *kind, const char *ifname, char *err,
		 size_t errlen)
{
	char path[PATH_MAX];
	int ret;

	ret = link_path(pin_dir, kind, ifname, path, sizeof(path));
	if (ret)
		return ret;
	/* The pin is the link's last reference: removing it detaches the program. */
	if (unlink(path) && errno != ENOENT) {
		ret = -errno;
		snprintf(err, errlen, "remove link %s: %s", path, strerror(errno));
		return ret;
	}
	return 0;
}

static int clsact_side_remove(unsigned int ifindex, const char *ifname,
			      const struct tc_side *side, char *err, size_t errlen)
{
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = side->point);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = CLSACT_HANDLE, .priority = CLSACT_PRIORITY);
	int ret = bpf_tc_detach(&hook, &opts);

	if (ret && ret != -ENOENT && ret != -EINVAL) {
		snprintf(err, errlen, "detach tc %s filter from %s: %s", side->name, ifname,
			 strerror(-ret));
		return ret;
	}
	return 0;
}

int clsact_remove(const char *ifname, unsigned int dirs, char *err, size_t errlen)
{
	unsigned int ifindex = if_nametoindex(ifname);
	int ret = 0;

	if (!ifindex)
		return 0;	/* gone with its interface */
	for (unsigned int dir = 0; !ret && dir < CANARY_TC_DIRS; dir++)
		if (dirs & (1U << dir))
			ret = clsact_side_remove(ifindex, ifname, &tc_sides[dir], err, errlen);
	return ret;
}

int clsact_qdisc_destroy(const char *ifname, char *err, size_t errlen)
{
	unsigned int ifindex = if_nametoindex(ifname);
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS);
	int ret;

	if (!ifindex)
		return 0;	/* gone with its interface */
	ret = bpf_tc_hook_destroy(&hook);
	if (ret && ret != -ENOENT && ret != -EINVAL) {
		snprintf(err, errlen, "remove clsact qdisc from %s: %s", ifname, strerror(-ret));
		return ret;
	}
	return 0;
}

int link_remove(const char *pin_dir, const char *ifname, char *err, size_t errlen)
{
	int ret;

	ret = link_unpin(pin_dir, "xdp", ifname, err, errlen);
	for (unsigned int dir = 0; !ret && dir < CANARY_TC_DIRS; dir++)
		ret = link_unpin(pin_dir, tc_sides[dir].kind, ifname, err, errlen);
	if (!ret)
		ret = clsact_remove(ifname, CANARY_TC_BOTH, err, errlen);
	return ret;
}

int links_for_each(const char *pin_dir, int (*fn)(const char *ifname, const char *kind,
						   void *ctx), void *ctx)
{
	char dir[PATH_MAX], kind[4];
	struct dirent *de;
	int ret = 0;
	DIR *d;

	if (snprintf(dir, sizeof(dir), "%s/links", pin_dir) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while (!ret && (de = readdir(d))) {
		if (strlen(de->d_name) < 5 || de->d_name[3] != '_')
			continue;
		memcpy(kind, de->d_name, 3);
		kind[3] = '\0';
		ret = fn(de->d_name + 4, kind, ctx);
	}
	closedir(d);
	return ret;
}
