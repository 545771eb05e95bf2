/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Attaching the datapath's programs to interfaces, and detaching them. */
#ifndef XDP_CANARY_ATTACH_H
#define XDP_CANARY_ATTACH_H

#include <stddef.h>

#include "dp.h"

/* From the kernel's UAPI (6.6); Debian 12's headers predate it. */
#define CANARY_BPF_TCX_INGRESS	46
#define CANARY_BPF_TCX_EGRESS	47

/* The clsact egress filter that is xdp-canary's, where there is no TCX. */
#define CLSACT_PRIORITY		1
#define CLSACT_HANDLE		0xc4a1

enum canary_xdp_mode {
	CANARY_XDP_NATIVE,
	CANARY_XDP_GENERIC,	/* the driver has no XDP: the kernel runs it on the skb */
};

/* Where a TC program runs: the forward path at ingress, local backends' replies at egress. */
enum canary_tc_dir {
	CANARY_TC_INGRESS,
	CANARY_TC_EGRESS,
	CANARY_TC_DIRS,
};

#define CANARY_TC_DIR_BIT(dir)	(1U << (dir))
#define CANARY_TC_BOTH		(CANARY_TC_DIR_BIT(CANARY_TC_INGRESS) | \
				 CANARY_TC_DIR_BIT(CANARY_TC_EGRESS))

enum canary_tc_mode {
	CANARY_TC_TCX,		/* a TCX link (Linux 6.6 and later) */
	CANARY_TC_CLSACT,	/* a clsact qdisc with a cls_bpf filter */
};

/* The forward and remote-reply program, by a link; says in @mode which mode the kernel chose. */
int canary_attach_xdp(struct canary_dp *dp, unsigned int ifindex, enum canary_xdp_mode *mode,
		      char *err, size_t errlen);

/*
 * The local-reply program on egress. *@mode in: CANARY_TC_TCX asks for TCX where the kernel has
 * it (else clsact), CANARY_TC_CLSACT for clsact only; out: what was used.
 */
int canary_attach_tc(struct canary_dp *dp, unsigned int ifindex, enum canary_tc_mode *mode,
		     char *err, size_t errlen);

void canary_dp_detach_all(struct canary_dp *dp);

const char *canary_xdp_mode_name(enum canary_xdp_mode mode);
const char *canary_tc_mode_name(enum canary_tc_mode mode);

#endif /* XDP_CANARY_ATTACH_H */
