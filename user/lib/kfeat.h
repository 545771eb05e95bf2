/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the datapath needs of the running kernel, asked of the kernel itself before the object
 * loads: a kernel without one of them is refused with the feature's name and the Linux release
 * that brought it, not with a verifier log.
 */
#ifndef XDP_CANARY_KFEAT_H
#define XDP_CANARY_KFEAT_H

#include <stddef.h>

enum kfeat_kind {
	KFEAT_BTF,		/* the kernel's own BTF, for CO-RE */
	KFEAT_MAP,		/* a map type: @id is an enum bpf_map_type */
	KFEAT_MMAPABLE,		/* arrays created with BPF_F_MMAPABLE */
	KFEAT_XDP_HELPER,	/* a helper callable from XDP: @id is an enum bpf_func_id */
};

struct kfeat {
	enum kfeat_kind kind;
	int id;
	const char *name;	/* "bpf_ktime_get_coarse_ns" */
	const char *since;	/* "5.11" */
};

/* 0 when the kernel has all of @feats; else a negative errno and @err names the first missing. */
int kfeat_check_list(const struct kfeat *feats, size_t n, char *err, size_t errlen);

/* kfeat_check_list() on what canary.bpf.c uses. */
int kfeat_check(char *err, size_t errlen);

#endif
