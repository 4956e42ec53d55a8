/* util.c — allocation and bounded formatting helpers (see util.h). */
#include "util.h"

#include <stdint.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(size_t n)
{
	fprintf(stderr, "sorad: out of memory allocating %zu bytes\n", n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
	if (!p)
		oom(nmemb * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom(n);
	return q;
}

void *xgrow(void *p, size_t *cap, size_t need, size_t first)
{
	if (need <= *cap)
		return p;
	size_t c = *cap ? *cap : first;
	while (c < need)
		c *= 2;
	*cap = c;
	return xrealloc(p, c);
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = xmalloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

int vbfmt(char *buf, size_t size, const char *fmt, va_list ap)
{
	if (size == 0)
		return -1;
	int n = vsnprintf(buf, size, fmt, ap);
	if (n < 0) {
		buf[0] = '\0';
		return -1;
	}
	return (size_t)n < size ? 0 : -1;
}

int bfmt(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = vbfmt(buf, size, fmt, ap);
	va_end(ap);
	return rc;
}

int bcopy_str(char *dst, size_t size, const char *src)
{
	return bfmt(dst, size, "%s", src);
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *out = NULL;
	int n = vasprintf(&out, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom(0);
	return out;
}

int dbl_is_integer(double d)
{
	/* NaN fails both comparisons; within the range a long long holds d exactly. */
	if (!(d > -9007199254740992.0 && d < 9007199254740992.0))
		return 0;
	return (double)(long long)d == d;
}

uint64_t hash_mem(const char *p, size_t n)
{
	uint64_t h = 0x9E3779B97F4A7C15ULL ^ (uint64_t)n, w;
	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, p, n);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
	return h ^ (h >> 29);
}

size_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (size_t)h;
}

/* The edit distance of A and B (insertions, deletions, substitutions, and swaps of
 * two neighbours), for words of up to 31 bytes; 99 when longer. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 31 || lb > 31)
		return 99;
	size_t d[32][32];
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t k = 0; k <= lb; k++)
		d[0][k] = k;
	for (size_t i = 1; i <= la; i++)
		for (size_t k = 1; k <= lb; k++) {
			size_t best = d[i - 1][k - 1] + (a[i - 1] != b[k - 1]);
			if (d[i - 1][k] + 1 < best)
				best = d[i - 1][k] + 1;
			if (d[i][k - 1] + 1 < best)
				best = d[i][k - 1] + 1;
			if (i > 1 && k > 1 && a[i - 1] == b[k - 2] && a[i - 2] == b[k - 1] &&
			    d[i - 2][k - 2] + 1 < best)
				best = d[i - 2][k - 2] + 1;
			d[i][k] = best;
		}
	return d[la][lb];
}

const char *closest_word(const char *word, const char *const *known, size_t n)
{
	const char *best = NULL;
	size_t best_d = strlen(word) < 4 ? 1 : 2; /* at most this far */
	for (size_t i = 0; i < n; i++) {
		size_t dist = edit_distance(word, known[i]);
		if (dist <= best_d) {
			best = known[i];
			best_d = dist;
		}
	}
	return best && !strcmp(best, word) ? NULL : best;
}
