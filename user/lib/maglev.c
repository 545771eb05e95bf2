// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "canary_hash.h"
#include "maglev.h"

#define MAGLEV_EMPTY 0xff

struct maglev_perm {
	__u32 offset;
	__u32 skip;
	__u32 next;
};

static bool is_prime(unsigned int n)
{
	if (n < 2)
		return false;
	for (unsigned int d = 2; d * d <= n; d++)
		if (n % d == 0)
			return false;
	return true;
}

/* A backend's place in the permutation depends on its identity only, never on its slot. */
static __u32 backend_hash(const struct backend *be, __u32 seed)
{
	__u32 h = canary_hash_addr(seed, be->addr);

	return canary_hash_final(canary_hash_mix(h, be->port), 5);
}

int maglev_build(__u8 *table, unsigned int size, const struct backend *be, unsigned int n)
{
	struct maglev_perm *perm;
	unsigned int filled = 0;

	if (!is_prime(size) || n == 0 || n >= MAGLEV_EMPTY)
		return -EINVAL;
	perm = calloc(n, sizeof(*perm));
	if (!perm)
		return -ENOMEM;
	for (unsigned int i = 0; i < n; i++) {
		perm[i].offset = backend_hash(&be[i], CANARY_SEED_OFFSET) % size;
		perm[i].skip = backend_hash(&be[i], CANARY_SEED_SKIP) % (size - 1) + 1;
	}
	memset(table, MAGLEV_EMPTY, size);
	/* Backends take turns claiming their next preferred free entry until the table is full. */
	while (filled < size) {
		for (unsigned int i = 0; i < n && filled < size; i++) {
			__u32 c;

			do {
				c = (perm[i].offset + (__u64)perm[i].next * perm[i].skip) % size;
				perm[i].next++;
			} while (table[c] != MAGLEV_EMPTY);
			table[c] = i;
			filled++;
		}
	}
	free(perm);
	return 0;
}
