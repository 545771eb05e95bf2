/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Attachments that outlive the agent. XDP and TCX attachments are bpf links pinned under
 * PIN_DIR/links/ (xdp_IFNAME, tcx_IFNAME): the program stays attached while its agent restarts or
 * dies, and a new agent swaps its freshly loaded program into the same link, which the kernel
 * does in one step. clsact filters are not links; they are replaced in place and stay until
 * detached by name.
 */
#ifndef XDP_CANARY_LINKS_H
#define XDP_CANARY_LINKS_H

#include <stdbool.h>
#include <stddef.h>

#include "attach.h"
#include "dp.h"

enum canary_xdp_want {
	CANARY_XDP_WANT_AUTO,		/* native, else generic */
	CANARY_XDP_WANT_NATIVE,
	CANARY_XDP_WANT_GENERIC,
};

struct link_result {
	bool reused;		/* an attachment was there already and now runs this program */
	bool fell_back;		/* auto: no native XDP (generic it is), or no TCX (clsact) */
	bool made_qdisc;	/* the clsact qdisc is new: nothing was on the interface */
	enum canary_xdp_mode xdp_mode;
	enum canary_tc_mode tc_mode;
};

/* XDP on @ifname, by the link pinned for it or a new pinned one. */
int link_xdp_ensure(struct canary_dp *dp, const char *ifname, enum canary_xdp_want want,
		    struct link_result *res, char *err, size_t errlen);

/*
 * A TC program on @ifname: the forward program at ingress, or the local-reply program at
 * egress. @mode CANARY_TC_TCX asks for TCX where the kernel has it (else clsact); the result is
 * in @res. Its pinned link is named link_tc_kind(@dir)_IFNAME.
 */
int link_tc_ensure(struct canary_dp *dp, const char *ifname, enum canary_tc_dir dir,
		   enum canary_tc_mode mode, struct link_result *res, char *err, size_t errlen);

const char *link_tc_kind(enum canary_tc_dir dir);

/* Removes the pinned link of @kind ("xdp" or "tcx") for @ifname, which detaches it. */
int link_unpin(const char *pin_dir, const char *kind, const char *ifname, char *err,
	       size_t errlen);

/* Removes xdp-canary's clsact filters of @dirs (CANARY_TC_DIR_BIT()s) from @ifname. */
int clsact_remove(const char *ifname, unsigned int dirs, char *err, size_t errlen);

/* Removes @ifname's clsact qdisc with every filter on it: only for one xdp-canary made. */
int clsact_qdisc_destroy(const char *ifname, char *err, size_t errlen);

/* Detaches whatever xdp-canary has on @ifname (pinned links and its clsact filter). */
int link_remove(const char *pin_dir, const char *ifname, char *err, size_t errlen);

/* Calls @fn for each interface name that has a pinned link under @pin_dir. */
int links_for_each(const char *pin_dir, int (*fn)(const char *ifname, const char *kind,
						   void *ctx), void *ctx);

#endif /* XDP_CANARY_LINKS_H */
