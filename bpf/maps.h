/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The datapath's maps. Their key and value types are the ABI in include/canary_abi.h. */
#ifndef XDP_CANARY_MAPS_H
#define XDP_CANARY_MAPS_H

#include "canary_abi.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CANARY_MAX_SVC);
	__type(key, struct svc_key);
	__type(value, struct svc_val);
} svc SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CANARY_MAX_SVC);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct svc_state);
} svc_state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CANARY_FILTER_WORDS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
} svc_filter SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CANARY_FILTER_WORDS);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
} be_filter SEC(".maps");

struct pool_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pool);
};

/*
 * An empty pool, which is also what makes clang emit struct pool in full into BTF: a type that is
 * only reachable through the outer map's inner template is emitted as a forward declaration.
 * User space creates each new pool map with this map's BTF types.
 */
struct pool_map pool_empty SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, CANARY_MAX_SVC * CANARY_V_MAX);
	__type(key, __u32);
	__array(values, struct pool_map);
} svc_backends SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CANARY_FLOWS_DEFAULT);
	__type(key, struct flow_key);
	__type(value, struct flow_val);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CANARY_SYN_SLOTS);
	__type(key, __u32);
	__type(value, struct syn_entry);
} syn_cache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CANARY_MAX_SVC * CANARY_V_MAX * CANARY_MAX_BACKENDS);
	__type(key, struct be_svc_key);
	__type(value, struct be_svc_val);
} be_svc SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CANARY_MAX_SVC);
	__type(key, __u32);
	__type(value, struct svc_key);
} svc_vip SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 4096);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct override_key);
	__type(value, struct override_val);
} overrides SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CANARY_MAX_SVC * CANARY_V_MAX);
	__type(key, __u32);
	__type(value, struct ver_stats);
} ver_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CANARY_MAX_SVC * CANARY_V_MAX * CANARY_MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct be_stats);
} be_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CANARY_MAX_SVC * CANARY_V_MAX * CANARY_HIST_MAX);
	__type(key, __u32);
	__type(value, struct lat_hist);
} lat_hist SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CANARY_DP_SLOTS);
	__type(key, __u32);
	__type(value, struct dp_stats);
} dp_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CANARY_FIB_CACHE_SLOTS);
	__type(key, __u32);
	__type(value, struct fib_cache_entry);
} fib_cache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} tx_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CANARY_IF_MAX);
	__type(key, __u32);
	__type(value, struct if_cfg);
} if_cfg SEC(".maps");

/*
 * Per CPU room for what the stack has no space for. The forward path (XDP, or TC ingress) and
 * the egress reply path each have their own, so that neither need know when the other runs.
 */
enum { CONN_ROOM_INGRESS, CONN_ROOM_EGRESS, CONN_ROOM_MAX };

struct conn_room {
	struct flow_key fk;	/* a reply's forward key */
	struct flow_val fv;	/* a reply's handshake: the SYN cache entry's checked copy */
	struct flow_val plan;	/* the forward path's flow: a copy of its entry, or a decision */
	__u32 after;		/* the forward path's enum fwd_after */
	__u32 reserved;
	struct bpf_fib_lookup fib;	/* the forward path's FIB question and answer */
	struct flow_key scan;	/* dp_reply_scan()'s key */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CONN_ROOM_MAX);
	__type(key, __u32);
	__type(value, struct conn_room);
} conn_room SEC(".maps");

#endif /* XDP_CANARY_MAPS_H */
