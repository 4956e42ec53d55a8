/* util.c - see util.h. */
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

bool sim_verbose;

void sim_log(const char *level, const char *func, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* One fprintf per line so that lines from different threads do not interleave. */
	fprintf(stderr, "sora-sim: %s: %s: %s\n", level, func, msg);
}

static int64_t clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t now_mono_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}
int64_t now_real_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}

int64_t sim_clock_offset_ms;

int64_t now_service_ms(void)
{
	return clock_ms(CLOCK_REALTIME) + sim_clock_offset_ms;
}

static void *oom_check(void *p, size_t n)
{
	if (p == NULL && n != 0) {
		fprintf(stderr, "sora-sim: fatal: out of memory allocating %zu bytes\n", n);
		abort();
	}
	return p;
}

void *xmalloc(size_t n)
{
	return oom_check(malloc(n ? n : 1), n ? n : 1);
}
void *xcalloc(size_t n, size_t size)
{
	return oom_check(calloc(n ? n : 1, size ? size : 1), 1);
}
void *xrealloc(void *p, size_t n)
{
	return oom_check(realloc(p, n ? n : 1), n ? n : 1);
}

char *xstrndup(const char *s, size_t n)
{
	char *d = xmalloc(n + 1);

	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

void buf_append(struct buf *b, const void *p, size_t n)
{
	if (!b->data || b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;

		while (cap < b->len + n + 1)
			cap *= 2;
		b->data = xrealloc(b->data, cap);
		b->cap = cap;
	}
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

char *buf_detach(struct buf *b, size_t *len)
{
	char *d;

	if (b->data == NULL)
		buf_append(b, "", 0);
	d = b->data;
	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return d;
}

void buf_release(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t fnv1a64(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 0xcbf29ce484222325ULL;

	while (n--) {
		h ^= *s++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

size_t utf8_chars(const char *s, size_t n)
{
	size_t i, count = 0;

	/* Count every byte that is not a continuation byte (10xxxxxx). */
	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			count++;
	return count;
}

int bsnprintf(char *dst, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(dst, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size) {
		log_err("string truncated (%d bytes into %zu): %.40s...", n, size, dst);
		return -1;
	}
	return 0;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes %HH in place; with only_kept, only %2F and %25, else all but those two. */
static size_t unescape(char *s, bool only_kept)
{
	char *r = s, *w = s;

	while (*r) {
		int hi = r[0] == '%' ? hex_value(r[1]) : -1;
		int lo = hi >= 0 ? hex_value(r[2]) : -1;
		bool kept;

		if (lo < 0) {
			*w++ = *r++;
			continue;
		}
		kept = hi * 16 + lo == '/' || hi * 16 + lo == '%';
		if (kept != only_kept) {
			*w++ = *r++; /* copied as is: the '%' now, its two digits next */
			continue;
		}
		*w++ = (char)(hi * 16 + lo);
		r += 3;
	}
	*w = '\0';
	return (size_t)(w - s);
}

size_t url_unescape_keep_slash(char *s)
{
	return unescape(s, false);
}

size_t url_unescape_rest(char *s)
{
	return unescape(s, true);
}
