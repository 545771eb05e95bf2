// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The benchmark's baseline: the cheapest XDP program there is. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("xdp")
int xdp_bare(struct xdp_md *ctx)
{
	return XDP_PASS;
}

/* The same, for interfaces with an MTU past one page: it takes multi-buffer frames. */
SEC("xdp.frags")
int xdp_bare_frags(struct xdp_md *ctx)
{
	return XDP_PASS;
}
