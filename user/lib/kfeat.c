// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/utsname.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "kfeat.h"

#define KFEAT_MIN	"5.11"

/*
 * BTF first (a kernel built without it is the likeliest gap), then newest first: an old kernel
 * is told of the newest thing it lacks.
 */
static const struct kfeat datapath_feats[] = {
	{ KFEAT_BTF, 0, "BTF of the running kernel (/sys/kernel/btf/vmlinux)", "5.4" },
	{ KFEAT_XDP_HELPER, BPF_FUNC_ktime_get_coarse_ns, "bpf_ktime_get_coarse_ns", "5.11" },
	{ KFEAT_MMAPABLE, 0, "mmapable arrays (BPF_F_MMAPABLE)", "5.5" },
	{ KFEAT_MAP, BPF_MAP_TYPE_DEVMAP_HASH, "DEVMAP_HASH maps", "5.4" },
	{ KFEAT_XDP_HELPER, BPF_FUNC_fib_lookup, "bpf_fib_lookup", "4.18" },
	{ KFEAT_MAP, BPF_MAP_TYPE_LRU_HASH, "LRU hash maps", "4.10" },
	{ KFEAT_MAP, BPF_MAP_TYPE_LPM_TRIE, "LPM trie maps", "4.11" },
	{ KFEAT_MAP, BPF_MAP_TYPE_ARRAY_OF_MAPS, "array of maps", "4.12" },
};

static int mmapable_probe(void)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts, .map_flags = BPF_F_MMAPABLE);
	int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "kfeat_mmap", 4, 8, 1, &opts);

	if (fd < 0)
		return errno == EINVAL ? 0 : -errno;
	close(fd);
	return 1;
}

/* 1: present, 0: missing, negative errno: the question itself failed. */
static int kfeat_probe(const struct kfeat *f)
{
	switch (f->kind) {
	case KFEAT_BTF:
		return access("/sys/kernel/btf/vmlinux", R_OK) == 0;
	case KFEAT_MAP:
		return libbpf_probe_bpf_map_type(f->id, NULL);
	case KFEAT_MMAPABLE:
		return mmapable_probe();
	case KFEAT_XDP_HELPER:
		return libbpf_probe_bpf_helper(BPF_PROG_TYPE_XDP, f->id, NULL);
	}
	return -EINVAL;
}

int kfeat_check_list(const struct kfeat *feats, size_t n, char *err, size_t errlen)
{
	struct utsname u;
	int ret;

	if (uname(&u))
		snprintf(u.release, sizeof(u.release), "?");
	for (size_t i = 0; i < n; i++) {
		ret = kfeat_probe(&feats[i]);
		if (ret == 1)
			continue;
		if (ret == 0 || ret == -EINVAL || ret == -EOPNOTSUPP) {
			snprintf(err, errlen,
				 "kernel %s has no %s (Linux %s): xdp-canary needs Linux %s or later",
				 u.release, feats[i].name, feats[i].since, KFEAT_MIN);
			return -EOPNOTSUPP;
		}
		snprintf(err, errlen, "ask kernel %s for %s: %s", u.release, feats[i].name,
			 strerror(-ret));
		return ret;
	}
	return 0;
}

int kfeat_check(char *err, size_t errlen)
{
	return kfeat_check_list(datapath_feats, sizeof(datapath_feats) / sizeof(datapath_feats[0]),
				err, errlen);
}
