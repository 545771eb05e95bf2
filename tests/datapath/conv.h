/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * One connection through the splitter, driven packet by packet from both ends, and what the
 * maps say of it: the helpers of the connection tests (test_reply.c, test_conn.c).
 */
#ifndef XDP_CANARY_CONV_H
#define XDP_CANARY_CONV_H

#include <stdbool.h>
#include <linux/types.h>

#include "canary_abi.h"
#include "env.h"
#include "pktgen.h"

#define SVC	6
#define F_FIN	0x01
#define F_SYN	0x02
#define F_RST	0x04
#define F_PSH	0x08
#define F_ACK	0x10

/* One connection: client to VIP, served by one backend. */
struct conv {
	struct dp_env *env;
	const char *client, *vip, *backend;
	__u16 cport, vport, bport;
	__u8 proto;
	bool local;		/* the backend is on this host: replies go through TC egress */
};

/* A packet of the connection: the client's (to the VIP) or the backend's (to the client). */
struct pkt_spec conv_spec(const struct conv *c, bool from_client, __u8 flags,
			  const char *payload);

/* The service SVC at the VIP, with the one backend as its stable pool. */
void conv_start(struct conv *c, struct dp_env *env, __u32 svc_flags);

/* Runs a client packet through XDP; returns the action. */
__u32 client_sends(struct conv *c, __u8 flags, const char *payload);

/* The backend's packet through the reply path (XDP, or TC for a local one); @out: what leaves. */
__u32 backend_sends(struct conv *c, __u8 flags, const char *payload, __u8 *out,
		    __u32 *out_len);
void backend_says(struct conv *c, __u8 flags, const char *payload);

/* SYN, SYN-ACK, ACK. */
void conv_handshake(struct conv *c);

struct ver_stats conv_stats(struct conv *c);
__u64 hist_count(struct conv *c, enum canary_hist_kind kind);

/* The connection's key in flows and in the SYN cache: the client's tuple. */
struct flow_key conv_key(struct conv *c);

/* The connection's entry in flows, if the table has it. */
bool flow_entry(struct conv *c, struct flow_val *v);
bool flow_present(struct conv *c);

/* The connection's handshake, if it waits in the SYN cache. */
bool syn_entry_of(struct conv *c, struct syn_entry *e);

/* The SYN cache slot (of the key's pair) that holds the connection's key, or SYN_NO_SLOT. */
#define SYN_NO_SLOT	((__u32)-1)
__u32 syn_slot_of(struct conv *c);
bool syn_pending(struct conv *c);

/* The connection is gone: from flows, and from the SYN cache. */
void assert_retired(struct conv *c);

/* Whether the connection's entry is there, and marked midstream or not as @want. */
void assert_midstream(struct conv *c, bool want);

/*
 * The golden reply: the backend's packet, now from the VIP. Forwarded by XDP, it also has the
 * client's MAC and one hop less; TC egress leaves both to the stack.
 */
void golden_reply(struct conv *c, __u8 flags, __u32 want_action);

#endif /* XDP_CANARY_CONV_H */
