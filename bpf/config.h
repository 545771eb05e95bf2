/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Settings fixed at load time (the skeleton's rodata): the loader may change them before load. */
#ifndef XDP_CANARY_CONFIG_H
#define XDP_CANARY_CONFIG_H

/* A SYN the backend has not answered for this long counts as a SYN timeout. */
const volatile __u64 cfg_syn_timeout_ns = 3000000000ULL;
/* A UDP flow idle for this long is decided again at the current weight. */
const volatile __u64 cfg_udp_idle_ns = 30000000000ULL;

#endif /* XDP_CANARY_CONFIG_H */
