/*
 * util.h - small helpers shared by every sora-sim module: logging, clocks, a
 * growable byte buffer, allocation that aborts on out-of-memory, the splitmix64
 * mixer and UTF-8 counting.
 */
#ifndef SIM_UTIL_H
#define SIM_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Log levels: errors and warnings always reach stderr, info only with --verbose. */
extern bool sim_verbose;

void sim_log(const char *level, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define log_err(...) sim_log("error", __func__, __VA_ARGS__)
#define log_warn(...) sim_log("warning", __func__, __VA_ARGS__)
#define log_info(...)                                                                              \
	do {                                                                                       \
		if (sim_verbose)                                                                   \
			sim_log("info", __func__, __VA_ARGS__);                                    \
	} while (0)

/* Milliseconds: monotonic for durations and state transitions, real time for timestamps. */
int64_t now_mono_ms(void);
int64_t now_real_ms(void);

/* The simulated service's clock: this machine's real time plus --clock-offset-s
 * (sim_clock_offset_ms, set once at start-up, may be negative). Every time the service
 * reports (created_at, completed_at, expires_at, the Date header) is read from it. */
extern int64_t sim_clock_offset_ms;
int64_t now_service_ms(void);

/* Out of memory is not recoverable in a test simulator: these abort with a message. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* A growable byte buffer. data is always NUL-terminated (not counted in len). The
 * buffer owns data; buf_release frees it, buf_detach hands it to the caller. */
struct buf {
	char *data;
	size_t len;
	size_t cap;
};
#define BUF_INIT                                                                                   \
	{                                                                                          \
		NULL, 0, 0                                                                         \
	}
void buf_append(struct buf *b, const void *p, size_t n);
void buf_reset(struct buf *b);
char *buf_detach(struct buf *b, size_t *len);
void buf_release(struct buf *b);

/* splitmix64: advances *state and returns the next 64-bit value. Also a good
 * stateless mixer: splitmix64 of a copy of (seed ^ n) names object n. */
uint64_t splitmix64(uint64_t *state);

/* FNV-1a, for cache keys and hash tables. */
uint64_t fnv1a64(const void *p, size_t n);

/* Number of Unicode code points in a UTF-8 string of n bytes (invalid bytes count one each). */
size_t utf8_chars(const char *s, size_t n);

/* Percent-decoding in two steps, so that an id holding '/' (sent as %2F) can travel
 * in one path segment: url_unescape_keep_slash decodes every %HH except %2F and %25,
 * which stay encoded (it is libmicrohttpd's unescape callback, for the path and the
 * query arguments alike), and url_unescape_rest decodes those two once the path has
 * been split at its real slashes. Both work in place, leave a malformed escape as it
 * is, and return the new length. */
size_t url_unescape_keep_slash(char *s);
size_t url_unescape_rest(char *s);

/* Standard base64 with padding, as Python's base64.b64encode writes it: LEN bytes of
 * IN into OUT, cut short (still terminated) when SIZE is too small. */
void base64_encode(const unsigned char *in, size_t len, char *out, size_t size);
/* Decodes base64 (standard or URL alphabet, padding optional, line breaks and spaces
 * skipped) and appends the bytes to OUT; -1 on any other character. */
int base64_decode(const char *s, struct buf *out);

/* What a JavaScript gateway does to a binary body it reads as text (Node's
 * Buffer.toString('utf8'), WHATWG's decoder): every maximal invalid UTF-8 subpart
 * becomes U+FFFD, and the text is encoded back to UTF-8. Appends the result of the N
 * bytes at P to OUT; valid UTF-8 comes back unchanged, binary comes back longer. */
void utf8_reencode_lossy(const unsigned char *p, size_t n, struct buf *out);

/* snprintf that returns 0 when the whole string fit, -1 (and logs) when it was truncated. */
int bsnprintf(char *dst, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
