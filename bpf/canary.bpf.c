// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * xdp-canary forward path: client packets to a service VIP are split between the stable and the
 * canary pool by weight, pinned per flow, rewritten to the chosen backend and forwarded.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "canary_abi.h"
#include "maps.h"
#include "parse.h"
#include "decide.h"
#include "nat.h"
#include "fwd.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

static __always_inline void count_passed(__u32 reason, __u64 bytes)
{
	struct dp_stats *s = bpf_map_lookup_elem(&dp_stats, &reason);

	if (s) {
		s->packets++;
		s->bytes += bytes;
	}
}

/* A clear filter bit: certainly no service at this VIP, port and protocol. */
static __always_inline bool svc_filter_hit(const struct flow_key *k)
{
	__u32 bit = canary_filter_bit(k->dst, k->dport, k->proto), word = bit / 64;
	__u64 *w = bpf_map_lookup_elem(&svc_filter, &word);

	return w && (*w >> (bit & 63)) & 1;
}

/*
 * One aligned 64-bit load: weight, mode, flags and generation come from the same store.
 * Returns false when the id is not an active service.
 */
static __always_inline bool svc_state_of(__u32 id, struct svc_state *st)
{
	struct svc_state *cur = bpf_map_lookup_elem(&svc_state, &id);
	union {
		__u64 word;
		struct svc_state st;
	} snap;

	if (!cur)
		return false;
	snap.word = *(volatile const __u64 *)cur;
	*st = snap.st;
	return st->flags & CANARY_SVC_F_ACTIVE;
}

/* A known flow keeps its version and backend, unless it is a canary flow from before a hard
 * rollback (an older generation). */
static __always_inline bool flow_still_pinned(const struct flow_val *fv,
					      const struct svc_state *st)
{
	return fv->version != CANARY_V_CANARY || fv->gen == st->gen;
}

static __always_inline void svc_key_of(struct svc_key *sk, const struct flow_key *k)
{
	__builtin_memcpy(sk->addr, k->dst, 16);
	sk->port = k->dport;
	sk->proto = k->proto;
	sk->pad = 0;
}

/* Counts, rewrites and forwards a packet of a decided flow. */
static __always_inline int flow_forward(struct xdp_md *ctx, struct pkt *p,
					const struct flow_val *fv, bool new_flow,
					bool overridden, __u64 bytes, const bool v4)
{
	__u32 idx = pool_index(fv->svc_id, fv->version), be_idx;
	struct ver_stats *vs;
	struct be_stats *bs;

	vs = bpf_map_lookup_elem(&ver_stats, &idx);
	be_idx = be_index(fv->svc_id, fv->version, fv->be_slot);
	bs = bpf_map_lookup_elem(&be_stats, &be_idx);
	if (!vs || !bs)
		return XDP_PASS;	/* id out of range: user space wrote a bad entry */
	vs->packets++;
	vs->bytes += bytes;
	bs->packets++;
	bs->bytes += bytes;
	if (new_flow) {
		vs->new_flows++;
		vs->override_flows += overridden;
		bs->new_flows++;
	}
	dnat_to_backend(p, fv, v4);
	return fwd_to_backend(ctx, p, fv, be_idx, vs, v4);
}

/* A flow the table does not know (or must decide again): version, then backend. */
static __always_inline int flow_decide(struct xdp_md *ctx, struct pkt *p, __u64 bytes,
				       const bool v4)
{
	bool overridden = false;
	struct svc_state st;
	struct flow_val fv;
	struct svc_key sk;
	struct svc_val *sv;
	__u8 version;
	__u32 idx;

	svc_key_of(&sk, &p->key);
	sv = bpf_map_lookup_elem(&svc, &sk);
	if (!sv || !svc_state_of(sv->id, &st))
		return XDP_PASS;
	version = pick_version(&p->key, sv->id, &st, &overridden);
	if (!pick_backend(&p->key, sv->id, &st, version, &fv)) {
		struct ver_stats *vs;

		idx = pool_index(sv->id, version);
		vs = bpf_map_lookup_elem(&ver_stats, &idx);
		if (vs)
			vs->no_backend++;
		return XDP_DROP;
	}
	/* If the table is full the LRU evicts; on any failure the packet still goes. */
	bpf_map_update_elem(&flows, &p->key, &fv, BPF_ANY);
	return flow_forward(ctx, p, &fv, true, overridden, bytes, v4);
}

/*
 * A known flow needs neither the service hash nor a decision: its entry names the service,
 * whose state (one array slot) says whether the pin still holds.
 */
static __always_inline int ip_packet(struct xdp_md *ctx, struct pkt *p, __u64 bytes,
				     const bool v4)
{
	struct flow_val fv, *cached;
	struct svc_state st;
	int rc;

	rc = parse_l3_l4(p, v4);
	if (rc != PARSE_OK) {
		if (rc >= 0)
			count_passed(rc, bytes);
		return XDP_PASS;
	}
	if (!svc_filter_hit(&p->key))
		return XDP_PASS;
	cached = bpf_map_lookup_elem(&flows, &p->key);
	if (cached) {
		fv = *cached;
		if (svc_state_of(fv.svc_id, &st) && flow_still_pinned(&fv, &st))
			return flow_forward(ctx, p, &fv, false, false, bytes, v4);
	}
	return flow_decide(ctx, p, bytes, v4);
}

SEC("xdp")
int xdp_canary_fwd(struct xdp_md *ctx)
{
	struct pkt p = {
		.data = (void *)(long)ctx->data,
		.data_end = (void *)(long)ctx->data_end,
	};
	__u64 bytes = p.data_end - p.data;
	__be16 proto;
	int rc;

	rc = parse_l2(&p, &proto);
	if (rc != PARSE_OK) {
		count_passed(rc, bytes);
		return XDP_PASS;
	}
	if (proto == bpf_htons(ETH_P_IP))
		return ip_packet(ctx, &p, bytes, true);
	if (proto == bpf_htons(ETH_P_IPV6))
		return ip_packet(ctx, &p, bytes, false);
	return XDP_PASS;
}
