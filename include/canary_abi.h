/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The map ABI of xdp-canary: every key and value the datapath and user space share.
 *
 * Conventions, chosen so that `bpftool map dump` is readable by a person:
 * - addresses are 16 bytes; IPv4 is stored IPv4-mapped (::ffff:a.b.c.d), so one key type serves
 *   both families and one LPM trie holds v4 and v6 prefixes;
 * - ports are in host byte order (the datapath swaps them; it is one instruction);
 * - weights are in basis points: 0..10000, where 10000 is 100 %.
 */
#ifndef XDP_CANARY_ABI_H
#define XDP_CANARY_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Keys are read as 32-bit words by the hash; keep them word-aligned wherever they live. */
#define CANARY_WORD_ALIGNED	__attribute__((aligned(4)))

#define CANARY_PIN_DIR		"/sys/fs/bpf/xdp-canary"
#define CANARY_MAX_SVC		256
#define CANARY_MAX_BACKENDS	64	/* per pool; a power of two (slots are masked) */
#define CANARY_MAGLEV_SIZE	4093	/* prime, ~64 entries a backend at the maximum pool */
#define CANARY_WEIGHT_MAX	10000
#define CANARY_FLOWS_DEFAULT	262144	/* connections (flows map entries) */

enum canary_version {
	CANARY_V_STABLE = 0,
	CANARY_V_CANARY = 1,
	CANARY_V_MAX,
};

enum canary_hash_mode {
	CANARY_HASH_FLOW = 0,	/* 5-tuple: each connection decided on its own */
	CANARY_HASH_CLIENT = 1,	/* client address: one client, one version (L4 stickiness) */
};

enum canary_svc_flags {
	CANARY_SVC_F_ACTIVE = 1 << 0,		/* the service exists: clear it to retire the id */
	CANARY_SVC_F_OVERRIDES = 1 << 1,	/* the overrides trie has entries for this service */
	CANARY_SVC_F_HTTP = 1 << 2,		/* HTTP/1.x: read response status lines, time them */
};

/* svc: HASH, service key -> svc_val: which id a VIP has. Consulted for new flows only. */
struct svc_key {
	__u8 addr[16];
	__u16 port;
	__u8 proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	__u8 pad;
} CANARY_WORD_ALIGNED;

struct svc_val {
	__u32 id;		/* 0..CANARY_MAX_SVC-1: index into svc_state, svc_backends, stats */
	__u32 reserved;
};

/*
 * svc_state: ARRAY (mmapable) indexed by service id. What the datapath decides flows with, in one
 * aligned 64-bit word: user space publishes it with a single atomic store into the mapped array,
 * and the datapath reads it with a single load, so weight, mode, flags and generation are always
 * seen together.
 */
struct svc_state {
	__u16 weight;		/* canary share in basis points */
	__u8 mode;		/* enum canary_hash_mode */
	__u8 flags;		/* enum canary_svc_flags */
	__u32 gen;		/* bumped by a hard rollback: canary flows of older generations
				 * are decided again */
};


/*
 * svc_filter: ARRAY (mmapable) of CANARY_FILTER_WORDS 64-bit words: one bit per
 * canary_filter_bit(VIP, port, proto) of every service. A clear bit means "no service": the
 * packet passes without a hash lookup. A set bit may be another service's (a false positive costs
 * lookups, never a wrong decision).
 */
#define CANARY_FILTER_WORDS	1024

/*
 * fib_cache: PERCPU_ARRAY of CANARY_FIB_CACHE_SLOTS, direct-mapped by be_index(): the FIB's
 * answer for a backend, reused for CANARY_FIB_CACHE_NS so that a pinned flow does not pay a FIB
 * lookup per packet. Per CPU, so never written by two CPUs at once; checked against the backend
 * address and ingress interface, so two backends sharing a slot only cost lookups.
 */
#define CANARY_FIB_CACHE_NS	100000000ULL
#define CANARY_FIB_CACHE_SLOTS	2048	/* a power of two; 96 KiB a CPU */

enum canary_fib_kind {
	CANARY_FIB_NONE = 0,
	CANARY_FIB_LOCAL = 1,	/* the backend is a local address */
	CANARY_FIB_FWD = 2,	/* forward out of ifindex to dmac */
};

struct fib_cache_entry {
	__u8 addr[16];		/* backend the answer is for */
	__u64 expires_ns;	/* bpf_ktime_get_coarse_ns() deadline */
	__u32 ingress;		/* ingress ifindex the answer is for */
	__u32 egress;		/* egress ifindex (CANARY_FIB_FWD) */
	__u16 fits_len;		/* an L3 length known to fit the route: the MTU the FIB reports
				 * (6.x) or the packet it passed; longer ones get a full lookup */
	__u8 kind;		/* enum canary_fib_kind */
	__u8 dmac[6];
	__u8 smac[6];
	__u8 reserved[3];
};

/*
 * svc_backends: ARRAY_OF_MAPS indexed by pool_index(id, version); each inner map is an ARRAY of
 * one struct pool. A pool is never edited in place: user space fills a new inner map and swaps it
 * in, and the kernel returns from that update only after every program that could still see the
 * old pool has finished.
 */
struct backend {
	__u8 addr[16];
	__u16 port;
	__u16 reserved;
} CANARY_WORD_ALIGNED;

struct pool {
	__u32 count;		/* slots in use; 0: the pool is empty (or has no healthy
				 * backend): new flows go to the other version's pool */
	__u32 reserved;
	struct backend be[CANARY_MAX_BACKENDS];		/* indexed by slot */
	__u8 maglev[CANARY_MAGLEV_SIZE];		/* Maglev lookup table: slot numbers,
							 * of healthy backends only */
};

/*
 * flows: HASH, preallocated, shared by every CPU: one entry per connection, keyed by the client's
 * tuple (client to VIP). A reply finds it through be_svc and svc_vip (the VIP it answers for).
 * The table never evicts: a full table refuses new connections (counted as table_full), so no
 * new flow can ever push out an established one. Entries are removed when their connection
 * ends (RST, or the last ACK after FIN both ways), and by canaryd's sweep once idle for longer
 * than CANARY_IDLE_* (or the configured UDP or TCP idle time).
 */
struct flow_key {
	__u8 src[16];
	__u8 dst[16];
	__u16 sport;
	__u16 dport;
	__u8 proto;
	__u8 pad[3];
} CANARY_WORD_ALIGNED;

enum canary_flow_flags {
	/* 1 << 0 is unused: it marked the reply entry of the two-entry table */
	CANARY_FLOW_SYNACK = 1 << 1,		/* the backend answered the SYN */
	CANARY_FLOW_FIN_CLIENT = 1 << 2,
	CANARY_FLOW_FIN_BACKEND = 1 << 3,
	CANARY_FLOW_CLOSED = 1 << 4,		/* FIN both ways: a new SYN starts a new flow */
	CANARY_FLOW_REQ_PENDING = 1 << 5,	/* http: a request went, its response has not come */
	CANARY_FLOW_SYN_LATE = 1 << 6,		/* counted as a SYN timeout already */
	/* the first packet was not a SYN: a stray segment after a close, or an older connection */
	CANARY_FLOW_MIDSTREAM = 1 << 7,
	CANARY_FLOW_ICMP_SEEN = 1 << 8,		/* an ICMP error counted already */
	CANARY_FLOW_COUNTED = 1 << 9,		/* counted in new_flows already */
	CANARY_FLOW_OVERRIDDEN = 1 << 10,	/* an override prefix decided the version */
	CANARY_FLOW_REPLIED = 1 << 11,		/* the backend has sent something back */
};

struct flow_val {
	__u8 nat_addr[16];	/* the backend */
	__u16 nat_port;
	__u8 version;		/* enum canary_version */
	__u8 be_slot;
	__u32 svc_id;
	__u32 gen;		/* svc_state.gen when the flow was decided */
	__u32 flags;		/* enum canary_flow_flags; changed with atomic operations */
	__u32 be_ifindex;	/* the interface the flow leaves by towards its backend, the only
				 * one its replies are taken from (0: not known, or a local
				 * backend: any) */
	__u64 syn_ns;		/* when the SYN went to the backend */
	__u64 req_ns;		/* http: when the pending request's first byte went */
	__u64 last_ns;		/* last packet either way, to a second (UDP idle expiry uses the
				 * client's; the sweep both) */
};

/*
 * What canaryd's sweep removes from flows (bpf_ktime_get_coarse_ns() against last_ns): a
 * closed connection, or a midstream one the backend never answered (a spoofed ACK, a stray
 * segment), after CANARY_IDLE_SHORT_NS; UDP after the UDP idle time; other TCP connections
 * after the TCP idle time (config, default CANARY_IDLE_TCP_NS).
 */
#define CANARY_IDLE_SHORT_NS	10000000000ULL
#define CANARY_IDLE_TCP_NS	3600000000000ULL

/*
 * syn_cache: ARRAY of CANARY_SYN_SLOTS, shared by every CPU, two-way set-associative by a
 * hash of the client's tuple (slots 2i and 2i+1 a set): TCP connections whose handshake has
 * not completed. The SYN's decision waits
 * here, not in flows, so spoofed SYNs (which never complete a handshake) can displace only
 * each other. The client's ACK of the SYN-ACK moves it into flows. check is a hash over key
 * and decision: two CPUs writing one slot at once leave an entry that reads as empty, never one
 * that mixes two connections. A slot whose key.proto is 0 is free.
 */
#define CANARY_SYN_SLOTS	65536	/* a power of two; 7 MiB */

struct syn_entry {
	struct flow_key key;
	struct flow_val fv;	/* the decision, syn_ns, be_ifindex; flags change in place */
	__u32 check;
	__u32 reserved;
};

/*
 * be_svc: HASH, backend address and port -> the ids of the services whose pools have it, for
 * replies: the reply's source is the backend, and each id's VIP (svc_vip) gives a forward key to
 * try. Written before the pool that has the backend is published.
 */
#define CANARY_BE_SVC_MAX	8

struct be_svc_key {
	__u8 addr[16];
	__u16 port;
	__u16 pad;
} CANARY_WORD_ALIGNED;

struct be_svc_val {
	__u32 count;		/* ids in use, 1..CANARY_BE_SVC_MAX */
	__u32 id[CANARY_BE_SVC_MAX];
};

/* svc_vip: ARRAY indexed by service id: its VIP, port and protocol, for the reply path. */

/* overrides: LPM_TRIE. prefixlen counts the 32 bits of svc_id plus the address bits. */
struct override_key {
	__u32 prefixlen;
	__u32 svc_id;		/* big-endian, so that it is the leading 32 bits of the prefix */
	__u8 addr[16];
};

struct override_val {
	__u8 version;		/* enum canary_version */
	__u8 reserved[3];
};

/* ver_stats: PERCPU_ARRAY indexed by pool_index(id, version). Sum over CPUs. */
struct ver_stats {
	__u64 packets;		/* packets sent towards a backend (rewritten) */
	__u64 bytes;		/* their length on the wire as XDP saw it, L2 header included */
	__u64 new_flows;	/* connections of this version: TCP once its handshake completes, or
				 * fails at the backend (refused, SYN timeout); UDP when decided;
				 * re-decisions included */
	__u64 override_flows;	/* of new_flows, how many an override prefix decided */
	__u64 fwd_local;	/* backend is a local address: passed to the stack */
	__u64 fwd_tx;		/* sent back out of the interface it came in on */
	__u64 fwd_redirect;	/* redirected to another interface */
	__u64 fwd_stack;	/* rewritten, then left to the kernel to route (VLAN, TTL <= 1) */
	__u64 no_neigh;		/* next hop not resolved yet: passed so the kernel resolves it */
	__u64 fib_fail;		/* no route, or forwarding off, MTU: passed to the stack */
	__u64 redirect_fail;	/* egress interface not in tx_ports: passed to the stack */
	__u64 no_backend;	/* dropped: this version's pool and the other's are empty */
	__u64 reply_packets;	/* backend to client, rewritten to come from the VIP */
	__u64 reply_bytes;
	__u64 rst_refused;	/* backend answered the SYN with a RST: connection refused */
	__u64 rst_midflow;	/* backend reset an established connection */
	__u64 syn_timeout;	/* backend left a SYN unanswered past the SYN timeout */
	__u64 icmp_unreach;	/* ICMP unreachable for a flow, from a sender that could know;
				 * once a flow (bpf/icmp.h) */
	__u64 http_responses;	/* http: first segments of responses seen */
	__u64 http_4xx;
	__u64 http_5xx;
	__u64 http_unparsed;	/* http: a response that does not start with an HTTP/1.x status */
	__u64 flows_closed;	/* FIN both ways, or RST */
	__u64 flows_expired;	/* idle UDP flows decided again */
	__u64 fallback_flows;	/* new flows this version's empty pool sent to the other version */
	__u64 syns;		/* TCP handshakes begun: SYNs decided (a retransmission is not a
				 * new one); those that never complete are not new_flows */
	__u64 midstream;	/* TCP flows first seen without a handshake (a stray segment, a
				 * spoofed ACK, an older connection): not new_flows */
	__u64 table_full;	/* packets of connections flows had no room for: served from the
				 * SYN cache while their slot lasts there (TCP), or decided
				 * packet by packet */
};

/*
 * lat_hist: PERCPU_ARRAY indexed by hist_index(id, version, kind): log2 histograms of
 * microseconds. Bucket 0 counts 0-1 us, bucket i (1..CANARY_HIST_BUCKETS-2) counts
 * [2^i, 2^(i+1)) us, the last bucket everything from 2^(CANARY_HIST_BUCKETS-1) us (134 s) up.
 */
#define CANARY_HIST_BUCKETS	28

enum canary_hist_kind {
	CANARY_HIST_HANDSHAKE = 0,	/* SYN forwarded to SYN-ACK seen */
	CANARY_HIST_TTFB = 1,		/* http: first request byte forwarded to first response byte */
	CANARY_HIST_MAX,
};

struct lat_hist {
	__u64 count;
	__u64 sum_us;
	__u64 bucket[CANARY_HIST_BUCKETS];
};

/* be_stats: PERCPU_ARRAY indexed by be_index(id, version, slot). */
struct be_stats {
	__u64 packets;
	__u64 bytes;
	__u64 new_flows;
};

/* dp_stats: PERCPU_ARRAY indexed by enum canary_dp_reason: packets passed outside the split
 * (untouched but for a path-MTU error's quote; a failed TC rewrite is dropped), and why. */
enum canary_dp_reason {
	CANARY_DP_FRAGMENT = 0,		/* IPv4 fragment or IPv6 fragment header */
	CANARY_DP_TRUNCATED = 1,	/* shorter than its own headers */
	CANARY_DP_BAD_HEADER = 2,	/* IHL < 5, total length, TCP data offset, UDP length */
	CANARY_DP_VLAN_DEPTH = 3,	/* more than two VLAN tags */
	CANARY_DP_REPLY_NO_FLOW = 4,	/* from a backend address and port, but no flow knows it */
	CANARY_DP_TC_REWRITE_FAIL = 5,	/* TC: a checksum or store helper failed: dropped */
	CANARY_DP_PMTU_REWRITTEN = 6,	/* ICMP fragmentation needed / packet too big about a
					 * flow: its quote turned back to the VIP, passed on */
	CANARY_DP_REPLY_WRONG_SIDE = 7,	/* a flow's reply (or ICMP error) that came in by another
					 * interface than its backend's: forged, not taken */
	CANARY_DP_SYN_DISPLACED = 8,	/* not a packet passed: a SYN that took the SYN cache slot
					 * of a handshake still in progress */
	CANARY_DP_SPLIT_HEADERS = 9,	/* multi-buffer XDP: headers reach past the first buffer */
	CANARY_DP_OTHER_HOST = 10,	/* addressed to another MAC than the interface's: passed */
	CANARY_DP_OTHER_HOST_DROP = 11,	/* the same, dropped ("other_host": "drop") */
	CANARY_DP_MAX,
};

/* dp_stats' size: room for reasons to come without a new map layout. */
#define CANARY_DP_SLOTS		32

struct dp_stats {
	__u64 packets;
	__u64 bytes;
};

/* tx_ports: DEVMAP_HASH, ifindex -> ifindex: the interfaces the datapath may redirect to. */

/*
 * if_cfg: HASH, ifindex -> struct if_cfg: the interfaces the forward program is attached to.
 * Only frames to the interface's own MAC are split; an interface without an entry (a test run)
 * takes every frame.
 */
#define CANARY_IF_MAX			64
#define CANARY_IF_F_DROP_OTHER_HOST	(1U << 0)	/* else passed, as if not there */

struct if_cfg {
	__u8 mac[6];
	__u16 flags;
};

/*
 * be_filter: like svc_filter, for replies: one bit per canary_filter_bit(backend, port, 0). Bits
 * are set when a pool is published and never cleared: a stale bit costs a lookup, no more.
 */

static inline __u32 pool_index(__u32 svc_id, __u32 version)
{
	return svc_id * CANARY_V_MAX + version;
}

static inline __u32 hist_index(__u32 svc_id, __u32 version, __u32 kind)
{
	return pool_index(svc_id, version) * CANARY_HIST_MAX + kind;
}

static inline __u32 be_index(__u32 svc_id, __u32 version, __u32 slot)
{
	return pool_index(svc_id, version) * CANARY_MAX_BACKENDS + slot;
}

#endif /* XDP_CANARY_ABI_H */
