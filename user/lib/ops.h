/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What an operator does to a running datapath, the same whether the agent does it or canaryctl
 * does it alone on the pins: each change is one atomic store, then a note in the state.
 */
#ifndef XDP_CANARY_OPS_H
#define XDP_CANARY_OPS_H

#include <stdbool.h>
#include <stddef.h>

#include "dp.h"
#include "state.h"

struct op_result {
	__u16 from_bp;
	__u16 to_bp;
	__u32 gen_from;
	__u32 gen_to;
};

/*
 * Sets @s's canary weight to @bp; @hard also bumps the generation, so that existing canary flows
 * are decided again. Notes @action, @reason and @by in @s.
 */
int op_set_weight(struct canary_dp *dp, struct state_svc *s, __u16 bp, bool hard,
		  const char *action, const char *reason, const char *by, struct op_result *res,
		  char *err, size_t errlen);

/*
 * Removes the datapath from the kernel: pinned links (which detaches the programs), the clsact
 * filters @st lists, and every pin under @pin_dir. The state file stays.
 */
int canary_remove_datapath(const char *pin_dir, const struct canary_state *st, char *err,
			   size_t errlen);

/*
 * Removes everything xdp-canary left in the kernel and on disk: pinned links (which detaches
 * the programs), the clsact filters the state lists, every pin under @pin_dir, and the state file.
 */
int canary_teardown(const char *pin_dir, const char *state_dir, char *err, size_t errlen);

#endif /* XDP_CANARY_OPS_H */
