/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The flow table's sweep. flows never evicts (a full table refuses new connections), so the
 * entries of connections that went quiet without a FIN or RST seen, of UDP flows, and of stray
 * segments are removed from user space once idle for long enough (the rules in the ABI, next to
 * CANARY_IDLE_SHORT_NS).
 */
#ifndef XDP_CANARY_SWEEP_H
#define XDP_CANARY_SWEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "canary_abi.h"
#include "dp.h"

#define SWEEP_BATCH	4096	/* entries a step reads at most: 416 KiB of keys and values */

struct sweep_timeouts {
	__u64 udp_idle_ns;	/* the datapath's own (canary_dp_udp_idle_ns()) */
	__u64 tcp_idle_ns;	/* config "tcp_idle" */
};

struct sweep_result {
	__u64 seen;		/* entries read */
	__u64 removed;		/* of them, deleted as idle (by the sweep, not the datapath) */
	__u32 capacity;		/* the table's max_entries */
};

/*
 * Whether the entry (@k, @v) has been idle for longer than its rules allow at @now_ns (the
 * datapath's clock: flow_clock_ns()). UDP: udp_idle_ns. TCP, and any other protocol: a closed
 * connection, or a midstream one its backend never answered, CANARY_IDLE_SHORT_NS; any other,
 * tcp_idle_ns. An entry stamped at or after @now_ns is not idle.
 */
bool flow_idle_expired(const struct flow_key *k, const struct flow_val *v, __u64 now_ns,
		       const struct sweep_timeouts *t);

/* Now on the clock flow_val.last_ns is read from (bpf_ktime_get_coarse_ns()). */
__u64 flow_clock_ns(void);

/* Where a pass over flows is: a zeroed cursor begins one. */
struct sweep_cursor {
	__u32 token;		/* the batch API's place: a hash map's next bucket */
	bool started;		/* the pass has read its first batch */
	struct sweep_result res;	/* what the pass did so far */
};

/*
 * The next batch of the pass at @c (SWEEP_BATCH entries at most, a millisecond or so): the
 * entries flow_idle_expired() says are idle at @now_ns are deleted; one the datapath retires
 * meanwhile is no error. A big table is thus swept a slice at a time, between other work.
 * Returns 1 when the pass is over (c->res says what it did), 0 when more is left, or a
 * negative errno with the step that failed in @err (c->res counts what was done until then).
 */
int flow_sweep_step(struct canary_dp *dp, struct sweep_cursor *c, __u64 now_ns,
		    const struct sweep_timeouts *t, char *err, size_t errlen);

/* A whole pass at once, into @res: 0 or flow_sweep_step()'s error. */
int flow_sweep(struct canary_dp *dp, __u64 now_ns, const struct sweep_timeouts *t,
	       struct sweep_result *res, char *err, size_t errlen);

/*
 * A whole pass one key at a time: what flow_sweep_step() falls back to on a kernel without
 * batch operations on hash maps (before 5.6). Exposed so that the tests can run it.
 */
int flow_sweep_by_key(struct canary_dp *dp, __u64 now_ns, const struct sweep_timeouts *t,
		      struct sweep_result *res, char *err, size_t errlen);

#endif /* XDP_CANARY_SWEEP_H */
