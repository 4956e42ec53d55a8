/* hmap.c — the one hash map (see hmap.h). */
#include "hmap.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

#define HMAP_FIRST_CAP 16

void hmap_init(struct hmap *m)
{
	memset(m, 0, sizeof(*m));
}

void hmap_release(struct hmap *m)
{
	free(m->s);
	hmap_init(m);
}

void hmap_clear(struct hmap *m)
{
	if (m->s)
		memset(m->s, 0, m->cap * sizeof(*m->s));
	m->n = 0;
}

/* The slot of KEY's first entry at or after its home, or SIZE_MAX. */
static size_t find_from(const struct hmap *m, const char *key, size_t h, size_t i)
{
	for (; m->s[i].key; i = (i + 1) & (m->cap - 1))
		if (m->s[i].hash == h && !strcmp(m->s[i].key, key))
			return i;
	return SIZE_MAX;
}

static size_t find(const struct hmap *m, const char *key)
{
	if (!m->n || !key)
		return SIZE_MAX;
	size_t h = hash_str(key);
	return find_from(m, key, h, h & (m->cap - 1));
}

void *hmap_get(const struct hmap *m, const char *key)
{
	size_t i = find(m, key);
	return i == SIZE_MAX ? NULL : m->s[i].val;
}

void *hmap_get_first(const struct hmap *m, const char *key, size_t *pos)
{
	*pos = find(m, key);
	return *pos == SIZE_MAX ? NULL : m->s[*pos].val;
}

void *hmap_get_next(const struct hmap *m, const char *key, size_t *pos)
{
	if (*pos == SIZE_MAX)
		return NULL;
	*pos = find_from(m, key, m->s[*pos].hash, (*pos + 1) & (m->cap - 1));
	return *pos == SIZE_MAX ? NULL : m->s[*pos].val;
}

static void place(struct hmap_slot *s, size_t cap, const struct hmap_slot *e)
{
	size_t i = e->hash & (cap - 1);
	while (s[i].key)
		i = (i + 1) & (cap - 1);
	s[i] = *e;
}

void hmap_add(struct hmap *m, const char *key, void *val)
{
	if (2 * (m->n + 1) > m->cap) {
		size_t cap = m->cap ? 2 * m->cap : HMAP_FIRST_CAP;
		struct hmap_slot *s = xcalloc(cap, sizeof(*s));
		for (size_t i = 0; i < m->cap; i++)
			if (m->s[i].key)
				place(s, cap, &m->s[i]);
		free(m->s);
		m->s = s;
		m->cap = cap;
	}
	struct hmap_slot e = {key, val, hash_str(key)};
	place(m->s, m->cap, &e);
	m->n++;
}

void *hmap_put(struct hmap *m, const char *key, void *val)
{
	size_t i = find(m, key);
	if (i == SIZE_MAX) {
		hmap_add(m, key, val);
		return NULL;
	}
	void *old = m->s[i].val;
	m->s[i].key = key;
	m->s[i].val = val;
	return old;
}

/* Empties slot I, moving back the entries after it that it would hide. */
static void remove_at(struct hmap *m, size_t i)
{
	size_t mask = m->cap - 1;
	for (size_t j = (i + 1) & mask; m->s[j].key; j = (j + 1) & mask) {
		size_t home = m->s[j].hash & mask;
		/* J may move to I when its home is not in (I, J], cyclically. */
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			m->s[i] = m->s[j];
			i = j;
		}
	}
	memset(&m->s[i], 0, sizeof(m->s[i]));
	m->n--;
}

void *hmap_del(struct hmap *m, const char *key)
{
	size_t i = find(m, key);
	if (i == SIZE_MAX)
		return NULL;
	void *val = m->s[i].val;
	remove_at(m, i);
	return val;
}

bool hmap_del_val(struct hmap *m, const char *key, const void *val)
{
	size_t pos;
	for (void *v = hmap_get_first(m, key, &pos); v; v = hmap_get_next(m, key, &pos))
		if (v == val) {
			remove_at(m, pos);
			return true;
		}
	return false;
}

bool hmap_next(const struct hmap *m, size_t *pos, const char **key, void **val)
{
	for (; *pos < m->cap; (*pos)++)
		if (m->s[*pos].key) {
			if (key)
				*key = m->s[*pos].key;
			*val = m->s[*pos].val;
			(*pos)++;
			return true;
		}
	return false;
}

bool hmap_set_add(struct hmap *m, const char *key)
{
	if (hmap_get(m, key))
		return false;
	char *k = xstrdup(key);
	hmap_put(m, k, k);
	return true;
}

void hmap_set_release(struct hmap *m)
{
	size_t pos = 0;
	void *v;
	while (hmap_next(m, &pos, NULL, &v))
		free(v);
	hmap_release(m);
}
