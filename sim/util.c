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

void base64_encode(const unsigned char *in, size_t len, char *out, size_t size)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;

	if (size == 0)
		return;
	for (size_t i = 0; i < len && o + 5 <= size; i += 3) {
		unsigned v = (unsigned)in[i] << 16;

		if (i + 1 < len)
			v |= (unsigned)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		out[o++] = tab[(v >> 18) & 63];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = i + 1 < len ? tab[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? tab[v & 63] : '=';
	}
	out[o] = '\0';
}

static int b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

int base64_decode(const char *s, struct buf *out)
{
	unsigned acc = 0, bits = 0;

	for (; *s && *s != '='; s++) {
		int v = b64val((unsigned char)*s);
		unsigned char byte;

		if (v < 0) {
			if (*s == '\n' || *s == '\r' || *s == ' ')
				continue;
			return -1;
		}
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			byte = (unsigned char)(acc >> bits);
			buf_append(out, &byte, 1);
		}
	}
	return 0;
}

/* The bounds of the second byte of a sequence led by B (WHATWG "UTF-8 decoder"), and
 * how many continuation bytes follow; 0 when B cannot lead a sequence. */
static int utf8_lead(unsigned char b, unsigned char *lo, unsigned char *hi)
{
	*lo = 0x80;
	*hi = 0xBF;
	if (b >= 0xC2 && b <= 0xDF)
		return 1;
	if (b >= 0xE0 && b <= 0xEF) {
		if (b == 0xE0)
			*lo = 0xA0;
		if (b == 0xED)
			*hi = 0x9F;
		return 2;
	}
	if (b >= 0xF0 && b <= 0xF4) {
		if (b == 0xF0)
			*lo = 0x90;
		if (b == 0xF4)
			*hi = 0x8F;
		return 3;
	}
	return 0;
}

void utf8_reencode_lossy(const unsigned char *p, size_t n, struct buf *out)
{
	static const unsigned char fffd[] = {0xEF, 0xBF, 0xBD};
	size_t i = 0;

	while (i < n) {
		unsigned char lo, hi;
		int need;
		size_t j;

		if (p[i] < 0x80) {
			buf_append(out, &p[i++], 1);
			continue;
		}
		need = utf8_lead(p[i], &lo, &hi);
		if (need == 0) {
			buf_append(out, fffd, sizeof(fffd));
			i++;
			continue;
		}
		/* The sequence ends at the first byte out of bounds, which is not consumed:
		 * it starts the next one (a maximal subpart is one U+FFFD). */
		for (j = 1; j <= (size_t)need && i + j < n; j++) {
			if (p[i + j] < lo || p[i + j] > hi)
				break;
			lo = 0x80;
			hi = 0xBF;
		}
		if (j == (size_t)need + 1)
			buf_append(out, &p[i], j);
		else
			buf_append(out, fffd, sizeof(fffd));
		i += j;
	}
}
