/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Maglev consistent hashing (Eisenbud et al., NSDI 2016): the lookup table of a pool. */
#ifndef XDP_CANARY_MAGLEV_H
#define XDP_CANARY_MAGLEV_H

#include "canary_abi.h"

/*
 * Fills @table (@size entries, @size prime) with indexes into @be (@n backends, 1..255) so that
 * each backend owns about size/n entries and adding or removing one backend rewrites about 1/n
 * of them. Returns 0, or -EINVAL for a size that is not prime or a count out of range.
 */
int maglev_build(__u8 *table, unsigned int size, const struct backend *be, unsigned int n);

#endif /* XDP_CANARY_MAGLEV_H */
