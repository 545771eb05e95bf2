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

static bool is_live(const bool *live, unsigned int i)
{
	return !live || live[i];
}

/* Live backends take turns claiming their next preferred free entry until @todo are claimed. */
static void maglev_fill(__u8 *table, unsigned int size, struct maglev_perm *perm, unsigned int n,
			const bool *live, unsigned int todo)
{
	unsigned int filled = 0;

	while (filled < todo) {
		for (unsigned int i = 0; i < n && filled < todo; i++) {
			__u32 c;

			if (!is_live(live, i))
				continue;
			do {
				c = (perm[i].offset + (__u64)perm[i].next * perm[i].skip) % size;
				perm[i].next++;
			} while (table[c] != MAGLEV_EMPTY);
			table[c] = i;
			filled++;
		}
	}
}

/* Frees the entries of backends that are not live; returns how many. */
static unsigned int maglev_free_dead(__u8 *table, unsigned int size, const bool *live)
{
	unsigned int freed = 0;

	for (unsigned int c = 0; c < size; c++) {
		if (is_live(live, table[c]))
			continue;
		table[c] = MAGLEV_EMPTY;
		freed++;
	}
	return freed;
}

/*
 * The table of every backend first, then the entries of the dead ones shared out among the live
 * ones the same way: a backend going down moves its own entries and no other, and coming back
 * takes exactly those back. Health flapping never disturbs where the others' new flows go.
 */
int maglev_build_live(__u8 *table, unsigned int size, const struct backend *be, unsigned int n,
		      const bool *live)
{
	struct maglev_perm *perm;
	unsigned int nlive = 0, freed;

	if (!is_prime(size) || n >= MAGLEV_EMPTY)
		return -EINVAL;
	for (unsigned int i = 0; i < n; i++)
		nlive += is_live(live, i);
	if (!nlive)
		return -EINVAL;
	perm = calloc(n, sizeof(*perm));
	if (!perm)
		return -ENOMEM;
	for (unsigned int i = 0; i < n; i++) {
		perm[i].offset = backend_hash(&be[i], CANARY_SEED_OFFSET) % size;
		perm[i].skip = backend_hash(&be[i], CANARY_SEED_SKIP) % (size - 1) + 1;
	}
	memset(table, MAGLEV_EMPTY, size);
	maglev_fill(table, size, perm, n, NULL, size);
	freed = maglev_free_dead(table, size, live);
	if (freed) {
		for (unsigned int i = 0; i < n; i++)
			perm[i].next = 0;
		maglev_fill(table, size, perm, n, live, freed);
	}
	free(perm);
	return 0;
}

int maglev_build(__u8 *table, unsigned int size, const struct backend *be, unsigned int n)
{
	return maglev_build_live(table, size, be, n, NULL);
}
