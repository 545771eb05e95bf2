// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "attach.h"
#include "dp.h"
#include "kfeat.h"
#include "canary_bpf.skel.h"

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

static int pin_path_of(const struct canary_dp *dp, const struct bpf_map *map, char *path,
		       size_t len)
{
	if (snprintf(path, len, "%s/%s", dp->pin_dir, bpf_map__name(map)) >= (int)len)
		return -ENAMETOOLONG;
	return 0;
}

/*
 * Takes over the map pinned at @path if there is one. libbpf's own reuse check compares map
 * flags, which the kernel amends for some types (devmaps gain BPF_F_RDONLY_PROG), so the layout
 * is compared here instead. Returns 1 if reused, 0 if there is no pin, or a negative errno.
 */
static int map_reuse_pinned(struct bpf_map *map, const char *path, bool adopt_size, char *err,
			    size_t errlen)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int fd, ret;

	fd = bpf_obj_get(path);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		ret = -errno;
		snprintf(err, errlen, "open pinned map %s: %s", path, strerror(errno));
		return ret;
	}
	ret = bpf_obj_get_info_by_fd(fd, &info, &len);
	if (ret) {
		ret = -errno;
		snprintf(err, errlen, "inspect pinned map %s: %s", path, strerror(errno));
		goto out;
	}
	/* The flow table's size is a load option: a reader takes the one in use. */
	if (adopt_size && bpf_map__set_max_entries(map, info.max_entries)) {
		ret = -EINVAL;
		snprintf(err, errlen, "size %s like its pin", bpf_map__name(map));
		goto out;
	}
	if (info.type != bpf_map__type(map) || info.key_size != bpf_map__key_size(map) ||
	    info.value_size != bpf_map__value_size(map) ||
	    info.max_entries != bpf_map__max_entries(map)) {
		ret = -EEXIST;
		snprintf(err, errlen,
			 "pinned map %s has another layout (%s, key %u, value %u, %u entries; this "
			 "build wants %s, %u, %u, %u): remove the old pins first (canaryctl "
			 "teardown; established connections through the splitter are dropped)",
			 path, libbpf_bpf_map_type_str(info.type) ?: "?", info.key_size,
			 info.value_size, info.max_entries,
			 libbpf_bpf_map_type_str(bpf_map__type(map)) ?: "?", bpf_map__key_size(map),
			 bpf_map__value_size(map), bpf_map__max_entries(map));
		goto out;
	}
	ret = bpf_map__reuse_fd(map, fd);
	if (ret) {
		snprintf(err, errlen, "reuse pinned map %s: %s", path, strerror(-ret));
		goto out;
	}
	ret = 1;
out:
	close(fd);
	return ret;
}

/* Pins made anywhere else fail only after the whole object is loaded, and less clearly. */
static int pin_dir_ensure(struct canary_dp *dp, char *err, size_t errlen)
{
	struct statfs st;
	int ret;

	if (mkdir(dp->pin_dir, 0700) == 0)
		dp->made_pin_dir = true;
	else if (errno != EEXIST)
		goto fail;
	if (statfs(dp->pin_dir, &st))
		goto fail;
	if (st.f_type != BPF_FS_MAGIC) {
		snprintf(err, errlen, "pin_dir %s is not on a bpf filesystem (bpffs, as mounted on "
			 "%s): maps cannot be pinned there", dp->pin_dir, BPFFS_ROOT);
		return -EINVAL;
	}
	return 0;
fail:
	ret = -errno;
	snprintf(err, errlen, "create %s: %s", dp->pin_dir, strerror(errno));
	return ret;
}

static int pins_reuse(struct canary_dp *dp, bool pins_only, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct bpf_map *map;
	int ret;

	ret = bpffs_ensure();
	if (ret) {
		snprintf(err, errlen, "mount bpffs on %s: %s", BPFFS_ROOT, strerror(-ret));
		return ret;
	}
	if (!pins_only) {
		ret = pin_dir_ensure(dp, err, errlen);
		if (ret)
			return ret;
	}
	bpf_object__for_each_map(map, dp->skel->obj) {
		if (bpf_map__is_internal(map))
			continue;	/* load-time settings belong to each load */
		if (pin_path_of(dp, map, path, sizeof(path))) {
			snprintf(err, errlen, "pin path under %s: name too long", dp->pin_dir);
			return -ENAMETOOLONG;
		}
		ret = map_reuse_pinned(map, path, pins_only && map == dp->skel->maps.flows, err,
				       errlen);
		if (ret < 0)
			return ret;
		if (ret == 0 && pins_only) {
			snprintf(err, errlen, "no datapath pinned at %s (is canaryd started?)",
				 dp->pin_dir);
			return -ENOENT;
		}
	}
	return 0;
}

/* Pins the maps that were created by this load; reused ones are pinned already. */
static int pins_create(struct canary_dp *dp, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct bpf_map *map;
	struct stat st;
	int ret;

	bpf_object__for_each_map(map, dp->skel->obj) {
		if (bpf_map__is_internal(map))
			continue;
		if (pin_path_of(dp, map, path, sizeof(path)))
			return -ENAMETOOLONG;
		if (stat(path, &st) == 0)
			continue;
		ret = bpf_map__pin(map, path);
		if (ret) {
			snprintf(err, errlen, "pin map %s: %s", path, strerror(-ret));
			return ret;
		}
		dp->pins_made++;
	}
	return 0;
}

int canary_dp_unpin_made(struct canary_dp *dp)
{
	char links[PATH_MAX];
	struct bpf_map *map;
	int n = 0, ret = 0;

	bpf_object__for_each_map(map, dp->skel->obj) {
		/* Maps taken over from pins were never pinned by this load. */
		if (!bpf_map__is_pinned(map))
			continue;
		if (bpf_map__unpin(map, NULL))
			ret = -EIO;
		else
			n++;
	}
	dp->pins_made = 0;
	if (!dp->made_pin_dir)
		return ret ?: n;
	/* The links directory is this load's too: links.c makes it on the first attach. */
	if (snprintf(links, sizeof(links), "%s/links", dp->pin_dir) >= (int)sizeof(links))
		ret = -ENAMETOOLONG;
	else if ((rmdir(links) && errno != ENOENT) || (rmdir(dp->pin_dir) && errno != ENOENT))
		ret = -errno;
	else
		dp->made_pin_dir = false;
	return ret ?: n;
}

static size_t mapped_size(const struct bpf_map *map)
{
	size_t page = sysconf(_SC_PAGESIZE);
	size_t len = (size_t)bpf_map__value_size(map) * bpf_map__max_entries(map);

	return (len + page - 1) / page * page;
}

static int map_mmap(struct bpf_map *map, __u64 **out, char *err, size_t errlen)
{
	void *mem = mmap(NULL, mapped_size(map), PROT_READ | PROT_WRITE, MAP_SHARED,
			 bpf_map__fd(map), 0);

	if (mem == MAP_FAILED) {
		int ret = -errno;

		snprintf(err, errlen, "map %s into memory: %s", bpf_map__name(map), strerror(errno));
		return ret;
	}
	*out = mem;
	return 0;
}

static void maps_unmap(struct canary_dp *dp)
{
	if (dp->state_words)
		munmap(dp->state_words, mapped_size(dp->skel->maps.svc_state));
	if (dp->filter_words)
		munmap(dp->filter_words, mapped_size(dp->skel->maps.svc_filter));
	if (dp->be_filter_words)
		munmap(dp->be_filter_words, mapped_size(dp->skel->maps.be_filter));
	dp->state_words = NULL;
	dp->filter_words = NULL;
	dp->be_filter_words = NULL;
}

/* Multi-buffer XDP came in Linux 5.18: older kernels refuse the flag, and have one buffer. */
static void xdp_frags_fit(struct canary_dp *dp)
{
	struct bpf_program *prog = dp->skel->progs.xdp_canary_fwd;

	dp->xdp_frags = libbpf_probe_bpf_helper(BPF_PROG_TYPE_XDP, BPF_FUNC_xdp_get_buff_len,
						NULL) == 1;
	if (!dp->xdp_frags)
		bpf_program__set_flags(prog, bpf_program__flags(prog) & ~BPF_F_XDP_HAS_FRAGS);
}

static void progs_choose(struct canary_dp *dp, unsigned int progs)
{
	if (!progs)
		return;
	bpf_program__set_autoload(dp->skel->progs.xdp_canary_fwd, progs & CANARY_PROG_XDP);
	bpf_program__set_autoload(dp->skel->progs.tc_canary_fwd, progs & CANARY_PROG_TC_FWD);
	bpf_program__set_autoload(dp->skel->progs.tc_canary_reply, progs & CANARY_PROG_TC_REPLY);
}

int canary_dp_open(struct canary_dp *dp, const struct canary_dp_opts *opts, char *err,
		   size_t errlen)
{
	__u32 flows = opts && opts->flow_entries ? opts->flow_entries : CANARY_FLOWS_DEFAULT;
	int ret;

	memset(dp, 0, sizeof(*dp));
	dp->skel = canary_bpf__open();
	if (!dp->skel) {
		ret = -errno;
		snprintf(err, errlen, "open BPF object: %s", strerror(errno));
		return ret;
	}
	if (opts && opts->syn_timeout_ns)
		dp->skel->rodata->cfg_syn_timeout_ns = opts->syn_timeout_ns;
	if (opts && opts->udp_idle_ns)
		dp->skel->rodata->cfg_udp_idle_ns = opts->udp_idle_ns;
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
		ret = pins_reuse(dp, opts->pins_only, err, errlen);
		if (ret)
			goto fail;
	} else if (opts && opts->pins_only) {
		ret = -EINVAL;
		snprintf(err, errlen, "pins_only needs a pin directory");
		goto fail;
	}
	if (opts && opts->pins_only)
		goto map;
	ret = kfeat_check(err, errlen);
	if (ret)
		goto fail;
	xdp_frags_fit(dp);
	progs_choose(dp, opts ? opts->progs : 0);
	ret = canary_bpf__load(dp->skel);
	if (ret) {
		snprintf(err, errlen, "load BPF object (pins in %s): %s",
			 dp->pin_dir[0] ? dp->pin_dir : "-", strerror(-ret));
		goto fail;
	}
	if (dp->pin_dir[0]) {
		ret = pins_create(dp, err, errlen);
		if (ret)
			goto fail;
	}
map:
	ret = map_mmap(dp->skel->maps.svc_state, &dp->state_words, err, errlen);
	if (!ret)
		ret = map_mmap(dp->skel->maps.svc_filter, &dp->filter_words, err, errlen);
	if (!ret)
		ret = map_mmap(dp->skel->maps.be_filter, &dp->be_filter_words, err, errlen);
	if (ret)
		goto fail;
	return 0;
fail:
	maps_unmap(dp);
	if (canary_dp_unpin_made(dp) < 0) {
		size_t n = strlen(err);

		snprintf(err + n, errlen - n, " (and removing the pins it made under %s failed)",
			 dp->pin_dir);
	}
	canary_bpf__destroy(dp->skel);
	dp->skel = NULL;
	return ret;
}

int canary_dp_unpin(struct canary_dp *dp)
{
	if (!dp->pin_dir[0])
		return 0;
	char path[PATH_MAX];
	struct bpf_map *map;

	bpf_object__for_each_map(map, dp->skel->obj) {
		if (bpf_map__is_internal(map))
			continue;
		if (pin_path_of(dp, map, path, sizeof(path)))
			return -ENAMETOOLONG;
		if (unlink(path) && errno != ENOENT)
			return -errno;
	}
	if (snprintf(path, sizeof(path), "%s/links", dp->pin_dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	if (rmdir(path) && errno != ENOENT)
		return -errno;
	if (rmdir(dp->pin_dir) && errno != ENOENT)
		return -errno;
	return 0;
}

void canary_dp_close(struct canary_dp *dp)
{
	if (!dp->skel)
		return;
	canary_dp_detach_all(dp);
	maps_unmap(dp);
	canary_bpf__destroy(dp->skel);
	dp->skel = NULL;
}

int canary_dp_prog_fd(const struct canary_dp *dp)
{
	return bpf_program__fd(dp->skel->progs.xdp_canary_fwd);
}

__u64 canary_dp_udp_idle_ns(const struct canary_dp *dp)
{
	return dp->skel->rodata->cfg_udp_idle_ns;
}
