/* coldidx.c — a compact index of positions by 32-bit hash (see coldidx.h). */
#include "coldidx.h"

#include "util.h"

#include <stdlib.h>
#include <string.h>

int coldidx_init(struct coldidx *ci, size_t n, size_t max_pos)
{
	*ci = (struct coldidx){0};
	if (max_pos > COLDIDX_MAX_POS)
		return -1;
	unsigned bits = 1;
	while (bits < 32 && ((size_t)1 << bits) <= max_pos)
		bits++;
	ci->pos_bits = bits;
	/* at most 90 % full (memory is a target: issue 20); the home slots come from the
	 * hash's high bits scaled to the table, so any size works */
	ci->cap = n + n / 9 + 16;
	/* Written, not calloc'ed: a probe reading a fresh page maps the shared zero page,
	 * and the write after it copies the page and flushes every CPU's TLB (the usage
	 * log's load runs beside, on another thread): a million adds paid 7 % of the
	 * start for it. A write faults each page in once. */
	ci->slot = xmalloc(ci->cap * sizeof(*ci->slot));
	memset(ci->slot, 0, ci->cap * sizeof(*ci->slot));
	return 0;
}

void coldidx_free(struct coldidx *ci)
{
	free(ci->slot);
	*ci = (struct coldidx){0};
}

/* H's first slot: the high bits of the hash scaled to the table (Lemire's reduction). */
static size_t home(const struct coldidx *ci, uint32_t h)
{
	return (size_t)(((uint64_t)h * (uint64_t)ci->cap) >> 32);
}

/* The tag of H in the bits above the position's (its low bits: independent of home). */
static uint32_t tag(const struct coldidx *ci, uint32_t h)
{
	return ci->pos_bits >= 32 ? 0 : h << ci->pos_bits;
}

static uint32_t pos_mask(const struct coldidx *ci)
{
	return ci->pos_bits >= 32 ? UINT32_MAX : ((uint32_t)1 << ci->pos_bits) - 1;
}

void coldidx_add(struct coldidx *ci, uint32_t h, size_t pos)
{
	if (!ci->slot || ci->n + 1 >= ci->cap)
		return; /* sized by init: never, unless misused */
	size_t i = home(ci, h);
	while (ci->slot[i])
		i = i + 1 == ci->cap ? 0 : i + 1;
	ci->slot[i] = tag(ci, h) | (uint32_t)(pos + 1);
	ci->n++;
}

void coldidx_add_at(struct coldidx *ci, uint32_t h, size_t pos, size_t it)
{
	if (!ci->slot || !it || it > ci->cap || ci->slot[it - 1] || ci->n + 1 >= ci->cap) {
		coldidx_add(ci, h, pos);
		return;
	}
	ci->slot[it - 1] = tag(ci, h) | (uint32_t)(pos + 1);
	ci->n++;
}

size_t coldidx_next(const struct coldidx *ci, uint32_t h, size_t *it)
{
	if (!ci->slot)
		return COLDIDX_NONE;
	/* *IT: 0 before the first call, else 1 + the slot after the last one looked at */
	size_t i = *it ? *it - 1 : home(ci, h);
	uint32_t want = tag(ci, h), mask = pos_mask(ci);
	for (;;) {
		uint32_t s = ci->slot[i];
		if (!s) {
			*it = i + 1; /* the empty slot: where H goes (coldidx_add_at) */
			return COLDIDX_NONE;
		}
		i = i + 1 == ci->cap ? 0 : i + 1;
		if ((s & ~mask) == want) {
			*it = i + 1;
			return (size_t)(s & mask) - 1;
		}
	}
}

void coldidx_set(struct coldidx *ci, size_t it, size_t pos)
{
	if (!ci->slot || !it)
		return;
	/* IT is 1 + the slot after the one returned */
	size_t i = it - 1 ? it - 2 : ci->cap - 1;
	ci->slot[i] = (ci->slot[i] & ~pos_mask(ci)) | (uint32_t)(pos + 1);
}

void coldidx_prefetch(const struct coldidx *ci, uint32_t h)
{
#if defined(__GNUC__) || defined(__clang__)
	if (ci->slot)
		__builtin_prefetch(&ci->slot[home(ci, h)]);
#else
	(void)ci;
	(void)h;
#endif
}

uint32_t coldidx_hash(const char *s)
{
	uint64_t h = hash_mem(s, strlen(s)); /* low bits the tag, high ones the home slot */
	return (uint32_t)(h ^ (h >> 32));
}
