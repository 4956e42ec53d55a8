/*
 * hmap.h — the one hash map: string keys to pointers, open addressing with linear
 * probing, at most half full (it doubles), deletions by backward shift (no
 * tombstones). A lookup never allocates; an insertion only when the table grows.
 *
 * Ownership: the map owns its slot array only. Keys and values are borrowed: a key
 * must stay unchanged and alive while its entry is in the map, which is easiest when
 * the key is a field of the value (a job's name, an entry's video id). A value is
 * never NULL (NULL means "none"). An index into an array can be stored as a value
 * with hmap_index_val and read back with hmap_val_index.
 *
 * A key may be added more than once (hmap_add) when the caller tells the entries
 * apart by their values (hmap_get_next, hmap_del_val); hmap_put keeps keys unique.
 */
#ifndef SORAD_HMAP_H
#define SORAD_HMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hmap_slot {
	const char *key; /* NULL: empty */
	void *val;
	size_t hash;
};

struct hmap {
	struct hmap_slot *s; /* cap slots, allocated at the first insertion */
	size_t cap, n;       /* cap: 0 or a power of two, at least 2 * n */
};

#define HMAP_INIT                                                                                  \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}

void hmap_init(struct hmap *m);
/* Frees the slots (not the keys or values); M can be used again. */
void hmap_release(struct hmap *m);
/* Empties M, keeping its slots for what comes next. */
void hmap_clear(struct hmap *m);

/* The value of KEY (the first added, when added more than once), or NULL. */
void *hmap_get(const struct hmap *m, const char *key);

/*
 * Every value of KEY, for a key added more than once:
 *   size_t pos; for (void *v = hmap_get_first(m, key, &pos); v; v = hmap_get_next(m, key, &pos))
 * M must not change during the walk.
 */
void *hmap_get_first(const struct hmap *m, const char *key, size_t *pos);
void *hmap_get_next(const struct hmap *m, const char *key, size_t *pos);

/* Sets KEY to VAL (not NULL): replaces the value of an entry with KEY, else adds one.
 * Returns the value replaced, or NULL. */
void *hmap_put(struct hmap *m, const char *key, void *val);
/* Adds an entry KEY → VAL (not NULL) even if KEY has one already. */
void hmap_add(struct hmap *m, const char *key, void *val);

/* Removes the entry of KEY (the first added); returns its value, or NULL if none. */
void *hmap_del(struct hmap *m, const char *key);
/* Removes the entry KEY → VAL; true if there was one. */
bool hmap_del_val(struct hmap *m, const char *key, const void *val);

/*
 * Every entry, in no particular order:
 *   size_t pos = 0; const char *k; void *v; while (hmap_next(m, &pos, &k, &v)) ...
 * M must not change during the walk (collect first, or empty it with hmap_clear after).
 * K may be NULL when only values are wanted.
 */
bool hmap_next(const struct hmap *m, size_t *pos, const char **key, void **val);

/* A set of strings: each key its own copy, which is also its value. */
/* Adds a copy of KEY unless it is there; true when added. */
bool hmap_set_add(struct hmap *m, const char *key);
/* Frees the copies and the slots; M can be used again. */
void hmap_set_release(struct hmap *m);

/* An array index as a value (never NULL), and back. */
static inline void *hmap_index_val(size_t i)
{
	return (void *)(uintptr_t)(i + 1);
}
static inline size_t hmap_val_index(const void *v)
{
	return (size_t)(uintptr_t)v - 1;
}

#endif
