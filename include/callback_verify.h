/*
 * callback_verify.h — the checks a signed completion callback must pass before sorad
 * acts on it, as OpenRouter's guide "Get Video Results with Webhooks" gives them; pure
 * functions (the caller passes the clock), so each rule is unit-tested exactly
 * (tests/unit/t_callback.c). The listener is callback.h.
 *
 * The signature: a header
 *
 *     X-OpenRouter-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>
 *
 * where the HMAC is keyed with the workspace's signing secret (its bytes as written,
 * no decoding) over the bytes "<t>,<raw body>": the timestamp as sent, one comma, then
 * the request body exactly as received (never a re-serialized JSON). Pairs other than
 * t and v1 are ignored (room for a future v2); several v1 pairs (a secret being
 * rotated) pass when any one matches. The MAC is compared in constant time (ct_memeq).
 *
 * The time window: t is the sender's clock, and sorad has only its own to judge it
 * by, so a callback is refused when t is more than CBV_TOLERANCE_S from this machine's
 * wall clock, either way. A replay of a captured callback is thus useless after five
 * minutes, and within them it is a duplicate (below). The price: a machine whose clock
 * is off by more than five minutes refuses every callback (the log says by how much),
 * and jobs then finish by polling alone. Keep the clock synchronized (NTP).
 *
 * Duplicates: the sender retries a delivery it thinks failed, so one event may come
 * several times. Its identity is "<data.id>-<data.status>" from the signed body (the
 * same text as the X-OpenRouter-Idempotency-Key header, which is not signed, so it is
 * only logged). struct cbv_seen remembers the last CBV_SEEN_MAX identities as SHA-256
 * digests: bounded memory, whatever the ids' lengths.
 *
 * Ownership: plain data; nothing here allocates.
 */
#ifndef SORAD_CALLBACK_VERIFY_H
#define SORAD_CALLBACK_VERIFY_H

#include "clock.h"

#include <stdbool.h>
#include <stddef.h>

#define CBV_SIGNATURE_HEADER "X-OpenRouter-Signature"
#define CBV_IDEMPOTENCY_HEADER "X-OpenRouter-Idempotency-Key"
#define CBV_TOLERANCE_S 300 /* the guide's "about five minutes", both ways */
#define CBV_HEADER_MAX 1024 /* a longer signature header is malformed */
#define CBV_ID_MAX 512      /* a job id (LiteLLM-style ids reach ~200 bytes) */
#define CBV_SEEN_MAX 1024   /* event identities remembered (16 bytes each) */
#define CBV_SEEN_DIGEST 16

enum cbv_result {
	CBV_OK,
	CBV_UNSIGNED,      /* no signature header */
	CBV_MALFORMED,     /* a header without t= or v1=, or not of their form */
	CBV_STALE,         /* t is more than CBV_TOLERANCE_S in the past */
	CBV_FUTURE,        /* ...or in the future */
	CBV_BAD_SIGNATURE, /* no v1 matches: another secret, or other bytes signed */
};

/* A short phrase for the log ("bad signature"); never contains the secret. */
const char *cbv_result_text(enum cbv_result r);

/*
 * Checks SIGNATURE (the header's value, NULL when absent) for BODY[BODY_LEN] under
 * SECRET[SECRET_LEN] at NOW (this machine's clock; t is the service's). *SKEW_S, when
 * not NULL, is set to NOW - t in seconds once t was read (for the log of a stale or
 * future callback).
 */
enum cbv_result cbv_verify(const void *secret, size_t secret_len, const char *signature,
                           const void *body, size_t body_len, struct wall_s now, long long *skew_s);

/* A request body gathered whole, at most CBV_MAX_BODY bytes, before it is judged: the
 * signature covers the raw bytes, so nothing is looked at before the last one. A
 * zeroed struct is empty; cbv_body_release frees what it holds. */
#define CBV_MAX_BODY (64 * 1024) /* OpenRouter's events are about 1 KiB */
struct cbv_body {
	char *data; /* owned; NULL while empty */
	size_t len, cap;
};
/* Appends P[N]: 0, or -1 (nothing appended) when the body would pass CBV_MAX_BODY. */
int cbv_body_add(struct cbv_body *b, const void *p, size_t n);
void cbv_body_release(struct cbv_body *b);

/* The fields of a callback's body that sorad uses. */
struct cbv_event {
	char type[64];       /* "video.generation.completed" */
	char id[CBV_ID_MAX]; /* data.id: the job id the create returned */
	char status[32];     /* data.status: "completed", "failed", "cancelled", "expired" */
};

/* Reads BODY[LEN] (JSON) into EV: 0, or -1 with the reason in WHY (a JSON object with
 * string members type, data.id and data.status is required; other members are free). */
int cbv_parse_event(const char *body, size_t len, struct cbv_event *ev, char *why, size_t whylen);

/* The member "data" of the event BODY[LEN] as JSON text (caller frees), or NULL. */
char *cbv_event_data(const char *body, size_t len);

/* The event identities seen lately; a zeroed struct is empty. */
struct cbv_seen {
	unsigned char digest[CBV_SEEN_MAX][CBV_SEEN_DIGEST];
	size_t used, next; /* entries filled; where the next one goes (the oldest) */
};

/* Whether the event EV was remembered; cbv_seen_add remembers it, forgetting the
 * oldest beyond CBV_SEEN_MAX. */
bool cbv_seen_has(const struct cbv_seen *s, const struct cbv_event *ev);
void cbv_seen_add(struct cbv_seen *s, const struct cbv_event *ev);

#endif
