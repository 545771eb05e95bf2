/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Addresses as the map ABI stores them: 16 bytes, IPv4 as ::ffff:a.b.c.d. */
#ifndef XDP_CANARY_ADDR_H
#define XDP_CANARY_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#define CANARY_ADDRSTRLEN 46	/* INET6_ADDRSTRLEN */

/* Parses a dotted IPv4 or an IPv6 address; returns 0 or -EINVAL. */
int addr_parse(const char *text, __u8 addr[16]);

/* Formats IPv4-mapped addresses as dotted quads; @buf holds CANARY_ADDRSTRLEN bytes. */
const char *addr_format(const __u8 addr[16], char *buf, size_t len);

#define CANARY_ENDPOINTSTRLEN	(CANARY_ADDRSTRLEN + 8)	/* "[ADDR]:PORT" */

/* "10.0.0.2:8080" or "[2001:db8::2]:8080"; @buf holds CANARY_ENDPOINTSTRLEN bytes. */
const char *endpoint_format(const __u8 addr[16], __u16 port, char *buf, size_t len);

bool addr_is_v4(const __u8 addr[16]);

/*
 * Parses "ADDR/LEN" (or a bare address, a host prefix) into an address with the bits past the
 * prefix cleared and a prefix length in the 128-bit space (IPv4 /24 becomes /120).
 */
int prefix_parse(const char *text, __u8 addr[16], unsigned int *plen);

#endif /* XDP_CANARY_ADDR_H */
