// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "stats.h"
#include "canary_bpf.skel.h"

/* Every stats value is a struct of __u64 counters: sum each one over the CPUs. */
static int percpu_sum(struct bpf_map *map, __u32 key, void *out, size_t size)
{
	int ncpu = libbpf_num_possible_cpus();
	size_t n = size / sizeof(__u64);
	__u64 *sum = out, *all;

	if (ncpu < 0)
		return ncpu;
	all = calloc(ncpu, size);
	if (!all)
		return -ENOMEM;
	if (bpf_map_lookup_elem(bpf_map__fd(map), &key, all)) {
		int ret = -errno;

		free(all);
		return ret;
	}
	memset(out, 0, size);
	for (int cpu = 0; cpu < ncpu; cpu++)
		for (size_t i = 0; i < n; i++)
			sum[i] += all[cpu * n + i];
	free(all);
	return 0;
}

int stats_ver(struct canary_dp *dp, __u32 svc_id, __u8 version, struct ver_stats *out)
{
	if (svc_id >= CANARY_MAX_SVC || version >= CANARY_V_MAX)
		return -EINVAL;
	return percpu_sum(dp->skel->maps.ver_stats, pool_index(svc_id, version), out,
			  sizeof(*out));
}

int stats_backend(struct canary_dp *dp, __u32 svc_id, __u8 version, __u32 slot,
		  struct be_stats *out)
{
	if (svc_id >= CANARY_MAX_SVC || version >= CANARY_V_MAX || slot >= CANARY_MAX_BACKENDS)
		return -EINVAL;
	return percpu_sum(dp->skel->maps.be_stats, be_index(svc_id, version, slot), out,
			  sizeof(*out));
}

int stats_hist(struct canary_dp *dp, __u32 svc_id, __u8 version, enum canary_hist_kind kind,
	       struct lat_hist *out)
{
	if (svc_id >= CANARY_MAX_SVC || version >= CANARY_V_MAX || kind >= CANARY_HIST_MAX)
		return -EINVAL;
	return percpu_sum(dp->skel->maps.lat_hist, hist_index(svc_id, version, kind), out,
			  sizeof(*out));
}

int stats_passed(struct canary_dp *dp, enum canary_dp_reason reason, struct dp_stats *out)
{
	if (reason >= CANARY_DP_MAX)
		return -EINVAL;
	return percpu_sum(dp->skel->maps.dp_stats, reason, out, sizeof(*out));
}

static int percpu_zero(struct bpf_map *map, __u32 key)
{
	int ncpu = libbpf_num_possible_cpus(), ret = 0;
	void *zero;

	if (ncpu < 0)
		return ncpu;
	zero = calloc(ncpu, bpf_map__value_size(map));
	if (!zero)
		return -ENOMEM;
	if (bpf_map_update_elem(bpf_map__fd(map), &key, zero, BPF_ANY))
		ret = -errno;
	free(zero);
	return ret;
}

int stats_reset(struct canary_dp *dp, __u32 svc_id)
{
	int ret = 0;

	if (svc_id >= CANARY_MAX_SVC)
		return -EINVAL;
	for (__u32 v = 0; !ret && v < CANARY_V_MAX; v++) {
		ret = percpu_zero(dp->skel->maps.ver_stats, pool_index(svc_id, v));
		for (__u32 k = 0; !ret && k < CANARY_HIST_MAX; k++)
			ret = percpu_zero(dp->skel->maps.lat_hist, hist_index(svc_id, v, k));
		for (__u32 slot = 0; !ret && slot < CANARY_MAX_BACKENDS; slot++)
			ret = percpu_zero(dp->skel->maps.be_stats, be_index(svc_id, v, slot));
	}
	return ret;
}
