/* t_coldidx.c — the compact index of cold jobs (coldidx.h): every position added is
 * found under its hash, tag collisions only add candidates, positions near the limit,
 * an empty index. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coldidx.h"

#define N 20000

/* Whether POS is among the candidates of H. */
static bool has(const struct coldidx *ci, uint32_t h, size_t pos, size_t *candidates)
{
	size_t it = 0, p;
	bool found = false;
	*candidates = 0;
	while ((p = coldidx_next(ci, h, &it)) != COLDIDX_NONE) {
		(*candidates)++;
		found |= p == pos;
	}
	return found;
}

static void t_coldidx_finds_every_position(void **state)
{
	(void)state;
	struct coldidx ci;
	assert_int_equal(coldidx_init(&ci, N, N), 0);
	char name[32];
	for (size_t i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "hist-%07zu", i);
		coldidx_add(&ci, coldidx_hash(name), i);
	}
	size_t total = 0, c;
	for (size_t i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "hist-%07zu", i);
		assert_true(has(&ci, coldidx_hash(name), i, &c));
		total += c;
	}
	/* tags make a false candidate rare: nearly one candidate a lookup */
	assert_true(total < N + N / 50);
	/* a name never added: rarely a candidate (tag collisions only) */
	size_t misses = 0;
	for (size_t i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "other-%zu", i);
		has(&ci, coldidx_hash(name), 0, &c);
		misses += c;
	}
	assert_true(misses < N / 50);
	coldidx_free(&ci);
}

static void t_coldidx_same_hash_many_positions(void **state)
{
	(void)state;
	struct coldidx ci;
	assert_int_equal(coldidx_init(&ci, 10, 1000), 0);
	for (size_t p = 0; p < 5; p++)
		coldidx_add(&ci, 42, p * 100);
	coldidx_add(&ci, 43, 7);
	size_t it = 0, p, seen = 0;
	while ((p = coldidx_next(&ci, 42, &it)) != COLDIDX_NONE) {
		assert_int_equal(p % 100, 0);
		seen++;
	}
	assert_int_equal(seen, 5);
	size_t c;
	assert_true(has(&ci, 43, 7, &c));
	coldidx_free(&ci);
}

/* A lookup that found nothing says where the hash goes: add_at puts it there. */
static void t_coldidx_add_where_the_lookup_ended(void **state)
{
	(void)state;
	struct coldidx ci;
	assert_int_equal(coldidx_init(&ci, 100, 100), 0);
	for (size_t p = 0; p < 60; p++) {
		size_t it = 0;
		uint32_t h = (uint32_t)(p % 7) * 0x9E3779B9U; /* clusters: 7 hashes */
		while (coldidx_next(&ci, h, &it) != COLDIDX_NONE)
			;
		coldidx_add_at(&ci, h, p, it);
	}
	assert_int_equal(ci.n, 60);
	for (size_t p = 0; p < 60; p++) {
		size_t c;
		assert_true(has(&ci, (uint32_t)(p % 7) * 0x9E3779B9U, p, &c));
	}
	/* a stale mark (the slot taken since) falls back to a walk */
	size_t it = 0;
	while (coldidx_next(&ci, 5, &it) != COLDIDX_NONE)
		;
	coldidx_add(&ci, 5, 70);
	coldidx_add_at(&ci, 5, 71, it);
	size_t c;
	assert_true(has(&ci, 5, 70, &c) && has(&ci, 5, 71, &c));
	coldidx_free(&ci);
}

static void t_coldidx_limits(void **state)
{
	(void)state;
	struct coldidx ci;
	assert_int_equal(coldidx_init(&ci, 0, 0), 0);
	size_t it = 0;
	assert_int_equal(coldidx_next(&ci, 1, &it), COLDIDX_NONE);
	coldidx_free(&ci);
	assert_int_equal(coldidx_init(&ci, 1, COLDIDX_MAX_POS + 1), -1);
	assert_int_equal(coldidx_init(&ci, 4, COLDIDX_MAX_POS), 0);
	coldidx_add(&ci, 0xdeadbeef, COLDIDX_MAX_POS - 2);
	coldidx_add(&ci, 0, 0);
	size_t c;
	assert_true(has(&ci, 0xdeadbeef, COLDIDX_MAX_POS - 2, &c));
	assert_true(has(&ci, 0, 0, &c));
	coldidx_free(&ci);
	/* an index never made finds nothing */
	struct coldidx none = {0};
	it = 0;
	assert_int_equal(coldidx_next(&none, 1, &it), COLDIDX_NONE);
}

/* An entry moved (coldidx_set): found at its new position, not its old one, also in
 * the last slot (the iterator wraps around). */
static void t_coldidx_set_moves_an_entry(void **state)
{
	(void)state;
	struct coldidx ci;
	assert_int_equal(coldidx_init(&ci, 10, 1000), 0);
	/* a hash whose home is the last slot: its second entry wraps to slot 0 */
	uint32_t last = UINT32_MAX;
	coldidx_add(&ci, last, 1);
	coldidx_add(&ci, last, 2);
	coldidx_add(&ci, 7, 3);
	for (size_t want = 1; want <= 2; want++) {
		size_t it = 0, p;
		while ((p = coldidx_next(&ci, last, &it)) != COLDIDX_NONE && p != want)
			;
		assert_int_equal(p, want);
		coldidx_set(&ci, it, want + 100);
	}
	size_t c;
	assert_true(has(&ci, last, 101, &c));
	assert_true(has(&ci, last, 102, &c));
	assert_int_equal(c, 2);
	assert_false(has(&ci, last, 1, &c));
	assert_false(has(&ci, last, 2, &c));
	assert_true(has(&ci, 7, 3, &c));
	coldidx_prefetch(&ci, last); /* a hint only */
	coldidx_free(&ci);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_coldidx_finds_every_position),
	    cmocka_unit_test(t_coldidx_same_hash_many_positions),
	    cmocka_unit_test(t_coldidx_add_where_the_lookup_ended),
	    cmocka_unit_test(t_coldidx_limits),
	    cmocka_unit_test(t_coldidx_set_moves_an_entry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
