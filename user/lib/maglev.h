/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Maglev consistent hashing (Eisenbud et al., NSDI 2016): the lookup table of a pool. */
#ifndef XDP_CANARY_MAGLEV_H
#define XDP_CANARY_MAGLEV_H

#include <stdbool.h>

#include "canary_abi.h"

/*
 * Fills @table (@size entries, @size prime) with indexes into @be (@n backends, 1..255) so that
 * each backend owns about size/n entries and adding or removing one backend rewrites about 1/n
 * of them. Returns 0, or -EINVAL for a size that is not prime or a count out of range.
 */
int maglev_build(__u8 *table, unsigned int size, const struct backend *be, unsigned int n);

/*
 * The same over the backends @live says are up (NULL: all): the others own no entry, and the
 * entries keep indexing @be, so backend i stays i whoever else is down. The dead backends'
 * entries are shared out among the live ones and every other entry stays as in the table of all:
 * a backend going down moves its own entries only. -EINVAL also when no backend is live.
 */
int maglev_build_live(__u8 *table, unsigned int size, const struct backend *be, unsigned int n,
		      const bool *live);

#endif /* XDP_CANARY_MAGLEV_H */
