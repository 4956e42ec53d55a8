/* t_hmap.c — the one hash map (hmap.h): lookups, growth, deletions by backward
 * shift, keys added more than once, walks, indexes as values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"

#define N 5000

static char keys[N][16];

static void make_keys(void)
{
	for (size_t i = 0; i < N; i++)
		snprintf(keys[i], sizeof(keys[i]), "video_%zu", i);
}

static void t_hmap_put_get_and_replace(void **state)
{
	(void)state;
	struct hmap m = HMAP_INIT;
	int a = 1, b = 2;
	assert_null(hmap_get(&m, "x"));
	assert_null(hmap_del(&m, "x"));
	assert_null(hmap_get(&m, NULL));
	assert_null(hmap_put(&m, "x", &a));
	assert_ptr_equal(hmap_get(&m, "x"), &a);
	/* Another string with the same text finds it: keys compare by content. */
	char same[] = "x";
	assert_ptr_equal(hmap_get(&m, same), &a);
	assert_ptr_equal(hmap_put(&m, "x", &b), &a);
	assert_ptr_equal(hmap_get(&m, "x"), &b);
	assert_int_equal(m.n, 1);
	assert_null(hmap_get(&m, "y"));
	assert_null(hmap_get(&m, ""));
	assert_ptr_equal(hmap_del(&m, "x"), &b);
	assert_int_equal(m.n, 0);
	assert_null(hmap_get(&m, "x"));
	hmap_release(&m);
}

static void t_hmap_grows_and_finds_every_key(void **state)
{
	(void)state;
	make_keys();
	struct hmap m = HMAP_INIT;
	for (size_t i = 0; i < N; i++) {
		hmap_put(&m, keys[i], hmap_index_val(i));
		if (m.cap < 2 * m.n)
			fail_msg("after %zu keys: %zu slots, expected at least twice", m.n, m.cap);
	}
	assert_int_equal(m.n, N);
	for (size_t i = 0; i < N; i++) {
		void *v = hmap_get(&m, keys[i]);
		if (!v || hmap_val_index(v) != i)
			fail_msg("key %s: expected index %zu, got %s", keys[i], i,
			         v ? "another" : "none");
	}
	hmap_release(&m);
	assert_null(m.s);
	assert_int_equal(m.cap, 0);
}

/* Every deletion leaves every other key findable (the backward shift never hides one). */
static void t_hmap_deletions_keep_the_rest_findable(void **state)
{
	(void)state;
	make_keys();
	struct hmap m = HMAP_INIT;
	for (size_t i = 0; i < N; i++)
		hmap_put(&m, keys[i], keys[i]);
	static bool gone[N];
	srand(7);
	for (size_t round = 0; round < N / 2; round++) {
		size_t i = (size_t)rand() % N;
		void *v = hmap_del(&m, keys[i]);
		if (gone[i] ? v != NULL : v != keys[i])
			fail_msg("deleting %s (round %zu): wrong value", keys[i], round);
		gone[i] = true;
		if (round % 97 == 0)
			for (size_t k = 0; k < N; k++)
				if (!gone[k] && hmap_get(&m, keys[k]) != keys[k])
					fail_msg("after deleting %s: %s is lost", keys[i], keys[k]);
	}
	size_t left = 0;
	for (size_t k = 0; k < N; k++)
		left += !gone[k];
	assert_int_equal(m.n, left);
	/* Small tables wrap around their end: every slot is somebody's home. */
	struct hmap w = HMAP_INIT;
	for (size_t i = 0; i < 7; i++)
		hmap_put(&w, keys[i], keys[i]);
	for (size_t i = 0; i < 7; i++) {
		assert_ptr_equal(hmap_del(&w, keys[i]), keys[i]);
		for (size_t k = i + 1; k < 7; k++)
			assert_ptr_equal(hmap_get(&w, keys[k]), keys[k]);
	}
	assert_int_equal(w.n, 0);
	hmap_release(&w);
	hmap_release(&m);
}

static void t_hmap_a_key_added_more_than_once(void **state)
{
	(void)state;
	struct hmap m = HMAP_INIT;
	int v[3];
	for (int i = 0; i < 3; i++)
		hmap_add(&m, "shot", &v[i]);
	hmap_add(&m, "other", &v[0]);
	assert_int_equal(m.n, 4);
	size_t pos, seen = 0;
	for (void *p = hmap_get_first(&m, "shot", &pos); p; p = hmap_get_next(&m, "shot", &pos))
		seen |= (size_t)1 << ((int *)p - v);
	assert_int_equal(seen, 7);
	assert_true(hmap_del_val(&m, "shot", &v[1]));
	assert_false(hmap_del_val(&m, "shot", &v[1]));
	seen = 0;
	for (void *p = hmap_get_first(&m, "shot", &pos); p; p = hmap_get_next(&m, "shot", &pos))
		seen |= (size_t)1 << ((int *)p - v);
	assert_int_equal(seen, 5);
	assert_ptr_equal(hmap_get(&m, "other"), &v[0]);
	assert_null(hmap_get_first(&m, "none", &pos));
	assert_null(hmap_get_next(&m, "none", &pos));
	hmap_release(&m);
}

static void t_hmap_walk_and_clear(void **state)
{
	(void)state;
	make_keys();
	struct hmap m = HMAP_INIT;
	size_t pos = 0;
	const char *k;
	void *v;
	assert_false(hmap_next(&m, &pos, &k, &v));
	for (size_t i = 0; i < 100; i++)
		hmap_put(&m, keys[i], hmap_index_val(i));
	static bool seen[100];
	size_t n = 0;
	for (pos = 0; hmap_next(&m, &pos, &k, &v); n++) {
		size_t i = hmap_val_index(v);
		assert_true(i < 100);
		assert_false(seen[i]);
		assert_string_equal(k, keys[i]);
		seen[i] = true;
	}
	assert_int_equal(n, 100);
	size_t cap = m.cap;
	hmap_clear(&m);
	assert_int_equal(m.n, 0);
	assert_int_equal(m.cap, cap);
	assert_null(hmap_get(&m, keys[3]));
	pos = 0;
	assert_false(hmap_next(&m, &pos, NULL, &v));
	hmap_put(&m, keys[3], keys[3]);
	assert_ptr_equal(hmap_get(&m, keys[3]), keys[3]);
	hmap_release(&m);
	assert_int_equal(hmap_val_index(hmap_index_val(0)), 0);
	assert_non_null(hmap_index_val(0));
}

/* A set of strings: its own copies, each once; released with them (ASan: no leak). */
static void t_hmap_set_of_copies(void **state)
{
	(void)state;
	struct hmap m = HMAP_INIT;
	char key[16] = "shot-1";
	assert_true(hmap_set_add(&m, key));
	key[5] = '2'; /* the caller's buffer changes: the set keeps its copy */
	assert_true(hmap_set_add(&m, key));
	assert_false(hmap_set_add(&m, "shot-1"));
	assert_int_equal(m.n, 2);
	const char *k1 = hmap_get(&m, "shot-1");
	assert_non_null(k1);
	assert_string_equal(k1, "shot-1");
	assert_ptr_not_equal(k1, key);
	assert_non_null(hmap_get(&m, "shot-2"));
	hmap_set_release(&m);
	assert_int_equal(m.n, 0);
	assert_null(hmap_get(&m, "shot-1"));
	assert_true(hmap_set_add(&m, "again")); /* usable again */
	hmap_set_release(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_hmap_put_get_and_replace),
	    cmocka_unit_test(t_hmap_grows_and_finds_every_key),
	    cmocka_unit_test(t_hmap_deletions_keep_the_rest_findable),
	    cmocka_unit_test(t_hmap_a_key_added_more_than_once),
	    cmocka_unit_test(t_hmap_walk_and_clear),
	    cmocka_unit_test(t_hmap_set_of_copies),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
