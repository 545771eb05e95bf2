// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "maglev.h"
#include "svc.h"
#include "xdp_fwd.skel.h"

static int map_fd(struct bpf_map *map)
{
	return bpf_map__fd(map);
}

static int errno_of(int ret)
{
	return ret < 0 ? -errno : 0;
}

void svc_key_init(struct svc_key *key, const __u8 addr[16], __u16 port, __u8 proto)
{
	memset(key, 0, sizeof(*key));
	memcpy(key->addr, addr, 16);
	key->port = port;
	key->proto = proto;
}

int svc_put(struct canary_dp *dp, const struct svc_key *key, const struct svc_val *val)
{
	if (val->st.weight > CANARY_WEIGHT_MAX || val->id >= CANARY_MAX_SVC ||
	    val->st.mode > CANARY_HASH_CLIENT)
		return -EINVAL;
	return errno_of(bpf_map_update_elem(map_fd(dp->skel->maps.svc), key, val, BPF_ANY));
}

int svc_get(struct canary_dp *dp, const struct svc_key *key, struct svc_val *val)
{
	return errno_of(bpf_map_lookup_elem(map_fd(dp->skel->maps.svc), key, val));
}

int svc_del(struct canary_dp *dp, const struct svc_key *key)
{
	return errno_of(bpf_map_delete_elem(map_fd(dp->skel->maps.svc), key));
}

/* Read, change, write back whole: the update replaces the entry, never edits it in place. */
int svc_set_weight(struct canary_dp *dp, const struct svc_key *key, __u16 weight)
{
	struct svc_val val;
	int ret;

	if (weight > CANARY_WEIGHT_MAX)
		return -EINVAL;
	ret = svc_get(dp, key, &val);
	if (ret)
		return ret;
	val.st.weight = weight;
	return svc_put(dp, key, &val);
}

int svc_rollback_hard(struct canary_dp *dp, const struct svc_key *key, __u16 weight)
{
	struct svc_val val;
	int ret;

	if (weight > CANARY_WEIGHT_MAX)
		return -EINVAL;
	ret = svc_get(dp, key, &val);
	if (ret)
		return ret;
	val.st.weight = weight;
	val.st.gen++;
	return svc_put(dp, key, &val);
}

static int pool_map_create(struct canary_dp *dp)
{
	struct bpf_map *tmpl = dp->skel->maps.pool_empty;
	LIBBPF_OPTS(bpf_map_create_opts, opts,
		    .btf_fd = bpf_object__btf_fd(dp->skel->obj),
		    .btf_key_type_id = bpf_map__btf_key_type_id(tmpl),
		    .btf_value_type_id = bpf_map__btf_value_type_id(tmpl));
	int fd;

	fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "pool", sizeof(__u32), sizeof(struct pool), 1,
			    &opts);
	return fd < 0 ? -errno : fd;
}

int pool_publish(struct canary_dp *dp, __u32 svc_id, __u8 version, const struct backend *be,
		 unsigned int n)
{
	__u32 idx = pool_index(svc_id, version), zero = 0;
	struct pool *pool;
	int fd, ret;

	if (svc_id >= CANARY_MAX_SVC || version >= CANARY_V_MAX || n > CANARY_MAX_BACKENDS)
		return -EINVAL;
	pool = calloc(1, sizeof(*pool));
	if (!pool)
		return -ENOMEM;
	pool->count = n;
	if (n) {
		memcpy(pool->be, be, n * sizeof(*be));
		ret = maglev_build(pool->maglev, CANARY_MAGLEV_SIZE, be, n);
		if (ret)
			goto out;
	}
	fd = pool_map_create(dp);
	if (fd < 0) {
		ret = fd;
		goto out;
	}
	ret = errno_of(bpf_map_update_elem(fd, &zero, pool, BPF_ANY));
	/* A map-in-map update returns only after an RCU grace period: the old pool is unused. */
	if (!ret)
		ret = errno_of(bpf_map_update_elem(map_fd(dp->skel->maps.svc_backends), &idx, &fd,
						   BPF_ANY));
	close(fd);
out:
	free(pool);
	return ret;
}

static void override_key_init(struct override_key *key, __u32 svc_id, const __u8 addr[16],
			      unsigned int plen)
{
	memset(key, 0, sizeof(*key));
	key->prefixlen = 32 + plen;
	key->svc_id = htonl(svc_id);
	memcpy(key->addr, addr, 16);
}

int override_put(struct canary_dp *dp, __u32 svc_id, const __u8 addr[16], unsigned int plen,
		 __u8 version)
{
	struct override_val val = { .version = version };
	struct override_key key;

	if (plen > 128 || version >= CANARY_V_MAX || svc_id >= CANARY_MAX_SVC)
		return -EINVAL;
	override_key_init(&key, svc_id, addr, plen);
	return errno_of(bpf_map_update_elem(map_fd(dp->skel->maps.overrides), &key, &val,
					    BPF_ANY));
}

int override_del(struct canary_dp *dp, __u32 svc_id, const __u8 addr[16], unsigned int plen)
{
	struct override_key key;

	if (plen > 128)
		return -EINVAL;
	override_key_init(&key, svc_id, addr, plen);
	return errno_of(bpf_map_delete_elem(map_fd(dp->skel->maps.overrides), &key));
}

int tx_port_add(struct canary_dp *dp, __u32 ifindex)
{
	return errno_of(bpf_map_update_elem(map_fd(dp->skel->maps.tx_ports), &ifindex, &ifindex,
					    BPF_ANY));
}

int tx_port_del(struct canary_dp *dp, __u32 ifindex)
{
	return errno_of(bpf_map_delete_elem(map_fd(dp->skel->maps.tx_ports), &ifindex));
}
