/*
 * coldidx.h — a compact index from a 32-bit hash to positions in an array: what finds a
 * finished job known only by its line in STATE/history.tsv (jobs.c, "cold" jobs) by
 * its name or its video id, in 4 bytes a slot instead of a string and a pointer.
 *
 * Open addressing with linear probing, made once for a known number of entries (at
 * most 80 % full). A slot holds the position + 1 in its low bits and, in the bits a
 * position does not need, the hash's own bits as a tag: a lookup yields the positions
 * whose hash may be the one asked (a tag collision is possible), and the caller
 * confirms each by what is at that position (the line read back). Entries are never
 * deleted: a position whose entry left is skipped by the caller.
 *
 * Ownership: the index owns its slot array (coldidx_free).
 */
#ifndef SORAD_COLDIDX_H
#define SORAD_COLDIDX_H

#include <stddef.h>
#include <stdint.h>

struct coldidx {
	uint32_t *slot; /* cap slots, 0 empty */
	size_t cap, n;
	unsigned pos_bits; /* bits of a slot that hold position + 1 */
};

#define COLDIDX_NONE ((size_t)-1)
#define COLDIDX_MAX_POS ((size_t)1 << 30) /* positions from 0 to this - 2 */

/* Sized for N entries at positions below MAX_POS (<= COLDIDX_MAX_POS). 0, or -1 when
 * MAX_POS is too large (CI left empty). */
int coldidx_init(struct coldidx *ci, size_t n, size_t max_pos);
void coldidx_free(struct coldidx *ci);
/* Adds POS (below the init's MAX_POS) under hash H; at most N entries in all. */
void coldidx_add(struct coldidx *ci, uint32_t h, size_t pos);
/* The positions that may hold hash H: *IT = 0 first, then each call the next;
 * COLDIDX_NONE after the last, *IT then marking where H would be added: add_at adds
 * POS there (as coldidx_add, without walking the slots again) when nothing was added
 * since. */
size_t coldidx_next(const struct coldidx *ci, uint32_t h, size_t *it);
void coldidx_add_at(struct coldidx *ci, uint32_t h, size_t pos, size_t it);
/* The entry coldidx_next last returned, IT as that call left it, now at POS (below the
 * init's MAX_POS): a key that moved keeps its slot. */
void coldidx_set(struct coldidx *ci, size_t it, size_t pos);
/* Asks for H's first slot to be brought into the cache: a lookup of H comes soon (a
 * loop that knows its next hash while it works on the current one). */
void coldidx_prefetch(const struct coldidx *ci, uint32_t h);
/* The 32-bit hash the jobs use (FNV-1a). */
uint32_t coldidx_hash(const char *s);

#endif
