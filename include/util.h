/*
 * util.h — the few helpers every module uses: allocation that aborts on
 * out-of-memory (the one place sorad may abort), and bounded string formatting.
 */
#ifndef SORAD_UTIL_H
#define SORAD_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Allocation: abort with a message on out-of-memory. The caller owns the result. */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
/* A growing buffer P of *CAP bytes made to hold NEED: unchanged when it does, else
 * reallocated to FIRST (when *CAP is 0) doubled until it holds NEED; *CAP updated. */
void *xgrow(void *p, size_t *cap, size_t need, size_t first);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/*
 * Bounded formatting into buf[size]. Returns 0 when the whole result fitted,
 * -1 when it was truncated (buf is still NUL-terminated) or on a format error.
 */
int bfmt(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int vbfmt(char *buf, size_t size, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Bounded copy of src into dst[size]: 0 when it fitted, -1 when truncated. */
int bcopy_str(char *dst, size_t size, const char *src);

/* FNV-1a of the string S: for the open-addressing indexes (job names, video ids, paths). */
size_t hash_str(const char *s);
/* A 64-bit hash of N bytes at P, eight bytes a step (long keys, many of them: a start's
 * history lines, cold jobs' names); never stored, compared within one process. */
uint64_t hash_mem(const char *p, size_t n);

/* True when D is a whole number within +-2^53 (without libm: sorad does not link it). */
int dbl_is_integer(double d);

/* The word of KNOWN[N] that WORD is probably a typo of (at most two edits away, one
 * for words under 4 bytes; a swap of neighbours is one edit), or NULL. For "did you
 * mean" in messages. */
const char *closest_word(const char *word, const char *const *known, size_t n);

/* Formats into a new heap string owned by the caller. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
