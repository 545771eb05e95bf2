/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* What the agent needs to know of a network interface: its MAC, driver and MTU. */
#ifndef XDP_CANARY_IFACE_H
#define XDP_CANARY_IFACE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

/* Returns 0, or a negative errno with @err saying what failed. */
int iface_mac(const char *ifname, __u8 mac[6], char *err, size_t errlen);

/* Whether @ifname is a veth device (false when that cannot be asked). */
bool iface_is_veth(const char *ifname);

/* The MTU of @ifname, or 0 when it cannot be asked. */
unsigned int iface_mtu(const char *ifname);

#endif /* XDP_CANARY_IFACE_H */
