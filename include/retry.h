/*
 * retry.h — what went wrong with a Videos API call, in one word and in plain words,
 * and whether and when to try again. Pure functions: no clock, no randomness, no I/O
 * (the caller passes "now" and the jitter), so every rule is unit-tested exactly.
 *
 * The rules follow openai-python 3.x (_base_client.py, see docs videos-api.md §6):
 *   - retry only transient failures and rate limits, at most max_retries times;
 *   - a Retry-After longer than 120 s means "do not retry now";
 *   - "x-should-retry: true|false" from the server overrides the status rules;
 *   - delay = retry-after-ms (float ms), else retry-after (float seconds or an HTTP
 *     date) when 0 < d <= 120 s, else min(base * 2^n, max) * (1 - 0.25 * jitter),
 *     n = retries already taken, jitter in [0, 1).
 */
#ifndef SORAD_RETRY_H
#define SORAD_RETRY_H

#include <stdbool.h>
#include <time.h>

/* The error taxonomy. Every request ends with exactly one of these. */
enum api_kind {
	API_OK = 0,
	API_CONFIG,         /* 401, 403, bad URL, TLS failure, host not resolved */
	API_VALIDATION,     /* 400/422 that is not a content-policy refusal; bad local input */
	API_CONTENT_POLICY, /* 400/422 whose error code says moderation/content policy/safety */
	API_NOT_FOUND,      /* 404 */
	API_RATE_LIMITED,   /* 429 */
	API_TRANSIENT,      /* 5xx, 408, 409, reset, refused, timeout, truncated or garbled body */
	API_LOCAL,          /* this machine failed: disk full, I/O error, unreadable file */
	API_FATAL,          /* anything else: unexpected status, hostile or oversized response */
};
#define API_KIND_COUNT (API_FATAL + 1)

/* A short stable name ("ok", "config", "validation", "content_policy", "not_found",
 * "rate_limited", "transient", "local", "fatal"); "?" for an out-of-range value. */
const char *api_kind_name(enum api_kind kind);

/* One sentence in plain words for a person: what happened and what to do.
 * Static storage; never NULL. */
const char *api_kind_describe(enum api_kind kind);

/* True when an API error code (or a failed video's error.code) means a content-policy
 * refusal: "moderation_blocked", or containing "moderation", "content_policy" or
 * "safety" (case-insensitive). NULL is false. */
bool api_code_is_content_policy(const char *code);

/* Kind of a completed HTTP exchange from its status and the error body's code
 * (NULL when none): 2xx ok; 401/403 config; 400/422 validation or content policy;
 * 404 and 410 not found; 429 rate limited; 408, 409, 5xx transient; anything else fatal. */
enum api_kind retry_classify_http(long status, const char *error_code);

/* Kind of a libcurl transfer failure (a CURLcode as int; 0 is ok). Bad URL, TLS and
 * name resolution are config; refused, reset, timeouts, truncation, empty replies and
 * HTTP/2 stream errors are transient; local read/write errors are local. */
enum api_kind retry_classify_curl(int curl_code);

/* "x-should-retry" header value: 1 for "true", 0 for "false", -1 absent or other. */
int retry_parse_should_retry(const char *value);

/*
 * The server's requested delay in milliseconds: the "retry-after-ms" value (float
 * ms) if it parses, else "retry-after" as float seconds, else as an HTTP date
 * relative to NOW. Either argument may be NULL. Returns -1 when nothing usable was
 * given (absent, garbage, not finite, or not > 0). Values are capped at one day.
 */
long retry_after_ms(const char *retry_after_ms_hdr, const char *retry_after_hdr, time_t now);

/* A server-requested delay AFTER_MS (from retry_after_ms()) bounded by MAX_MS
 * (retry_after_max_s): how long anything waits because the server asked, at most.
 * -1 stays -1 (nothing asked); MAX_MS <= 0 means no bound. */
long retry_after_bound_ms(long after_ms, long max_ms);

/* The longest server-requested delay honoured within one request (longer: the request
 * is not retried; its caller waits retry_after_bound_ms() before trying again). */
#define RETRY_AFTER_MAX_MS 120000L

/* Exponential backoff for the retry that follows N retries already taken:
 * min(base * 2^n, max) * (1 - 0.25 * jitter), jitter clamped into [0, 1]. */
long retry_backoff_ms(unsigned n, long base_ms, long max_ms, double jitter);

/* The delay before the next attempt: the server's (AFTER_MS from retry_after_ms())
 * when 0 < AFTER_MS <= 120 s, otherwise retry_backoff_ms(). */
long retry_delay_ms(long after_ms, unsigned n, long base_ms, long max_ms, double jitter);

/*
 * Whether to try again after a failure of KIND, having already retried RETRIES_TAKEN
 * times (max MAX_RETRIES). SHOULD_RETRY is the parsed x-should-retry (-1 when the
 * server said nothing or there was no response), AFTER_MS the server's delay or -1.
 * Local failures and successes are never retried; a server delay over 120 s stops
 * retrying; then x-should-retry decides if present; then only transient and
 * rate-limited kinds are retried.
 */
bool retry_should(enum api_kind kind, int should_retry, long after_ms, unsigned retries_taken,
                  unsigned max_retries);

#endif
