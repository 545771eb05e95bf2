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

/* One aligned 64-bit load: weight, mode, flags and generation come from the same update. */
static __always_inline struct svc_state svc_snapshot(const struct svc_val *sv)
{
	union {
		__u64 word;
		struct svc_state st;
	} snap;

	snap.word = *(volatile const __u64 *)&sv->st;
	return snap.st;
}

/*
 * A known flow keeps its version and backend, unless it is a canary flow from before a hard
 * rollback (older generation), or its service was removed and added again under another id.
 */
static __always_inline bool flow_still_pinned(const struct flow_val *fv, __u32 svc_id,
					      const struct svc_state *st)
{
	if (fv->svc_id != svc_id)
		return false;
	return fv->version != CANARY_V_CANARY || fv->gen == st->gen;
}

static __always_inline void svc_key_of(struct svc_key *sk, const struct flow_key *k)
{
	__builtin_memcpy(sk->addr, k->dst, 16);
	sk->port = k->dport;
	sk->proto = k->proto;
	sk->pad = 0;
}

/*
 * Everything after parsing, for a packet of a known service. @v4 is a constant at each call
 * site, so the compiler emits one copy per family and the verifier never has to follow a branch
 * on a packet pointer it cannot prove non-NULL.
 */
static __always_inline int svc_packet(struct xdp_md *ctx, struct pkt *p, const struct svc_val *sv,
				      __u64 bytes, const bool v4)
{
	struct svc_state st = svc_snapshot(sv);
	bool new_flow = false, overridden = false;
	struct flow_val fv, *cached;
	struct ver_stats *vs;
	struct be_stats *bs;
	__u32 id = sv->id, idx;

	cached = bpf_map_lookup_elem(&flows, &p->key);
	if (cached && flow_still_pinned(cached, id, &st)) {
		fv = *cached;
	} else {
		__u8 version = pick_version(&p->key, id, &st, &overridden);

		if (!pick_backend(&p->key, id, &st, version, &fv)) {
			idx = pool_index(id, version);
			vs = bpf_map_lookup_elem(&ver_stats, &idx);
			if (vs)
				vs->no_backend++;
			return XDP_DROP;
		}
		/* If the table is full the LRU evicts; on any failure the packet still goes. */
		bpf_map_update_elem(&flows, &p->key, &fv, BPF_ANY);
		new_flow = true;
	}

	idx = pool_index(id, fv.version);
	vs = bpf_map_lookup_elem(&ver_stats, &idx);
	idx = be_index(id, fv.version, fv.be_slot);
	bs = bpf_map_lookup_elem(&be_stats, &idx);
	if (!vs || !bs)
		return XDP_PASS;	/* id out of range: user space wrote a bad svc entry */
	vs->packets++;
	vs->bytes += bytes;
	bs->packets++;
	bs->bytes += bytes;
	if (new_flow) {
		vs->new_flows++;
		vs->override_flows += overridden;
		bs->new_flows++;
	}

	dnat_to_backend(p, &fv, v4);
	return fwd_to_backend(ctx, p, vs, v4);
}

static __always_inline int ip_packet(struct xdp_md *ctx, struct pkt *p, __u64 bytes,
				     const bool v4)
{
	struct svc_key sk;
	struct svc_val *sv;
	int rc;

	rc = parse_l3_l4(p, v4);
	if (rc != PARSE_OK) {
		if (rc >= 0)
			count_passed(rc, bytes);
		return XDP_PASS;
	}
	svc_key_of(&sk, &p->key);
	sv = bpf_map_lookup_elem(&svc, &sk);
	if (!sv)
		return XDP_PASS;
	return svc_packet(ctx, p, sv, bytes, v4);
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
