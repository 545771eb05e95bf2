// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>
#include <bpf/libbpf.h>

#include "dp.h"
#include "xdp_fwd.skel.h"

#define BPFFS_ROOT "/sys/fs/bpf"

int bpffs_ensure(void)
{
	struct statfs st;

	if (statfs(BPFFS_ROOT, &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return 0;
	if (mount("bpf", BPFFS_ROOT, "bpf", 0, "mode=0700"))
		return -errno;
	return 0;
}

static int pin_paths_set(struct canary_dp *dp, char *err, size_t errlen)
{
	struct bpf_map *map;
	char path[PATH_MAX];
	int ret;

	ret = bpffs_ensure();
	if (ret) {
		snprintf(err, errlen, "mount bpffs on %s: %s", BPFFS_ROOT, strerror(-ret));
		return ret;
	}
	if (mkdir(dp->pin_dir, 0700) && errno != EEXIST) {
		ret = -errno;
		snprintf(err, errlen, "create %s: %s", dp->pin_dir, strerror(errno));
		return ret;
	}
	bpf_object__for_each_map(map, dp->skel->obj) {
		if (snprintf(path, sizeof(path), "%s/%s", dp->pin_dir, bpf_map__name(map)) >=
		    (int)sizeof(path)) {
			snprintf(err, errlen, "pin path under %s: name too long", dp->pin_dir);
			return -ENAMETOOLONG;
		}
		ret = bpf_map__set_pin_path(map, path);
		if (ret) {
			snprintf(err, errlen, "pin path %s: %s", path, strerror(-ret));
			return ret;
		}
	}
	return 0;
}

int canary_dp_open(struct canary_dp *dp, const struct canary_dp_opts *opts, char *err,
		   size_t errlen)
{
	__u32 flows = opts && opts->flow_entries ? opts->flow_entries : CANARY_FLOWS_DEFAULT;
	int ret;

	memset(dp, 0, sizeof(*dp));
	dp->skel = xdp_fwd__open();
	if (!dp->skel) {
		ret = -errno;
		snprintf(err, errlen, "open BPF object: %s", strerror(errno));
		return ret;
	}
	ret = bpf_map__set_max_entries(dp->skel->maps.flows, flows);
	if (ret) {
		snprintf(err, errlen, "size flows map to %u: %s", flows, strerror(-ret));
		goto fail;
	}
	if (opts && opts->pin_dir) {
		if (snprintf(dp->pin_dir, sizeof(dp->pin_dir), "%s", opts->pin_dir) >=
		    (int)sizeof(dp->pin_dir)) {
			ret = -ENAMETOOLONG;
			snprintf(err, errlen, "pin directory name too long");
			goto fail;
		}
		ret = pin_paths_set(dp, err, errlen);
		if (ret)
			goto fail;
	}
	ret = xdp_fwd__load(dp->skel);
	if (ret) {
		snprintf(err, errlen, "load BPF object (verifier or map mismatch with pins in %s): %s",
			 dp->pin_dir[0] ? dp->pin_dir : "-", strerror(-ret));
		goto fail;
	}
	return 0;
fail:
	xdp_fwd__destroy(dp->skel);
	dp->skel = NULL;
	return ret;
}

int canary_dp_unpin(struct canary_dp *dp)
{
	int ret;

	if (!dp->pin_dir[0])
		return 0;
	ret = bpf_object__unpin_maps(dp->skel->obj, NULL);
	if (ret)
		return ret;
	if (rmdir(dp->pin_dir) && errno != ENOENT)
		return -errno;
	return 0;
}

void canary_dp_close(struct canary_dp *dp)
{
	xdp_fwd__destroy(dp->skel);
	dp->skel = NULL;
}

int canary_dp_prog_fd(const struct canary_dp *dp)
{
	return bpf_program__fd(dp->skel->progs.xdp_canary_fwd);
}
