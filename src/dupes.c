/* dupes.c — the index of jobs by what they ask for (see dupes.h). */
#include "dupes.h"
#include "hmap.h"
#include "util.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FNV_OFFSET 1469598103934665603ULL
#define FNV_PRIME 1099511628211ULL
#define REFERENCE_MAX (64LL << 20)

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= FNV_PRIME;
	}
	return h;
}

/* A field and a separator no text holds, so that ("ab","c") and ("a","bc") differ. */
static uint64_t field(uint64_t h, const char *s)
{
	if (s)
		h = fnv(h, s, strlen(s));
	return fnv(h, "\x1f", 1);
}

static uint64_t file_bytes(uint64_t h, const char *path)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return h;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > REFERENCE_MAX) {
		close(fd);
		return h;
	}
	char buf[65536];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		h = fnv(h, buf, (size_t)n);
	close(fd);
	return h;
}

void dupes_key(const struct job *j, const char *reference_path, char *key)
{
	char secs[16];
	bfmt(secs, sizeof(secs), "%u", j->seconds);
	uint64_t h = FNV_OFFSET;
	h = field(h, j->prompt);
	h = field(h, j->model);
	h = field(h, j->size);
	h = field(h, secs);
	h = field(h, j->remix_of);
	h = field(h, j->reference);
	if (j->reference && reference_path)
		h = file_bytes(h, reference_path);
	/* What only some protocols send counts when set; older keys stay the same. */
	if (j->last_frame || j->has_seed || j->audio || j->options || j->extend_of) {
		char seed[32];
		bfmt(seed, sizeof(seed), "%lld/%d/%d", j->seed, j->has_seed, j->audio);
		h = field(h, j->last_frame);
		h = field(h, seed);
		h = field(h, j->options);
		if (j->extend_of) /* so that the keys of the others stay the same too */
			h = field(h, j->extend_of);
	}
	bfmt(key, DUPES_KEY_LEN + 1, "%016llx", (unsigned long long)h);
}

/* The newest job asking KEY: the key is the map's key. */
struct slot {
	char *key, *name;
	long long at;
};

struct dupes {
	struct hmap slots; /* key → struct slot */
};

struct dupes *dupes_new(void)
{
	return xcalloc(1, sizeof(struct dupes));
}

void dupes_free(struct dupes *d)
{
	if (!d)
		return;
	void *v;
	for (size_t pos = 0; hmap_next(&d->slots, &pos, NULL, &v);) {
		struct slot *s = v;
		free(s->key);
		free(s->name);
		free(s);
	}
	hmap_release(&d->slots);
	free(d);
}

void dupes_put(struct dupes *d, const char *key, const char *name, long long at)
{
	struct slot *s = hmap_get(&d->slots, key);
	if (!s) {
		s = xcalloc(1, sizeof(*s));
		s->key = xstrdup(key);
		hmap_put(&d->slots, s->key, s);
	}
	free(s->name);
	s->name = xstrdup(name);
	s->at = at;
}

const char *dupes_get(const struct dupes *d, const char *key, long long *at)
{
	const struct slot *s = hmap_get(&d->slots, key);
	if (!s)
		return NULL;
	if (at)
		*at = s->at;
	return s->name;
}
