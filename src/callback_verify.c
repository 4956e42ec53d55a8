/*
 * callback_verify.c — see callback_verify.h.
 */
#include "callback_verify.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "decimal.h"
#include "hmac.h"
#include "util.h"

#define CBV_MAX_V1 8 /* v1 pairs looked at in one header */

const char *cbv_result_text(enum cbv_result r)
{
	switch (r) {
	case CBV_OK:
		return "signature good";
	case CBV_UNSIGNED:
		return "unsigned (no " CBV_SIGNATURE_HEADER " header)";
	case CBV_MALFORMED:
		return "malformed " CBV_SIGNATURE_HEADER " header";
	case CBV_STALE:
		return "timestamp too old";
	case CBV_FUTURE:
		return "timestamp in the future";
	case CBV_BAD_SIGNATURE:
		return "bad signature";
	}
	return "?";
}

/* One hex digit's value, or -1. */
static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* S[N] as SHA256_LEN bytes of hex: 0, or -1 when it is not exactly that. */
static int unhex_mac(const char *s, size_t n, unsigned char out[SHA256_LEN])
{
	if (n != 2 * SHA256_LEN)
		return -1;
	for (size_t i = 0; i < SHA256_LEN; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

/* The parts of a signature header. */
struct sig_parts {
	const char *t; /* points into the header; T_LEN digits */
	size_t t_len;
	struct service_s t_at; /* the service's clock */
	unsigned char v1[CBV_MAX_V1][SHA256_LEN];
	size_t n_v1;
};

/* One "key=value" pair P[N] of the header into SP: 0, or -1 when malformed. */
static int take_pair(const char *p, size_t n, struct sig_parts *sp)
{
	const char *eq = memchr(p, '=', n);
	if (!eq)
		return -1;
	size_t klen = (size_t)(eq - p), vlen = n - klen - 1;
	const char *v = eq + 1;
	if (klen == 1 && p[0] == 't') {
		if (sp->t || vlen == 0 || vlen > 18)
			return -1; /* twice, empty, or beyond any real clock */
		unsigned long long t;
		if (decimal_uint_n(v, vlen, LLONG_MAX, &t) != 0)
			return -1;
		sp->t = v;
		sp->t_len = vlen;
		sp->t_at.s = (long long)t;
	} else if (klen == 2 && p[0] == 'v' && p[1] == '1') {
		if (sp->n_v1 == CBV_MAX_V1 || unhex_mac(v, vlen, sp->v1[sp->n_v1]) != 0)
			return -1;
		sp->n_v1++;
	}
	return 0; /* another scheme's pair: not ours to judge */
}

/* HDR as "k=v,k=v" (blanks around the pairs allowed) into SP: 0, or -1. */
static int split_header(const char *hdr, struct sig_parts *sp)
{
	memset(sp, 0, sizeof(*sp));
	if (strlen(hdr) > CBV_HEADER_MAX)
		return -1;
	const char *p = hdr;
	while (*p) {
		while (*p == ' ' || *p == '\t')
			p++;
		size_t n = strcspn(p, ",");
		size_t len = n;
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len && take_pair(p, len, sp) != 0)
			return -1;
		p += n;
		if (*p == ',')
			p++;
	}
	return sp->t && sp->n_v1 ? 0 : -1;
}

enum cbv_result cbv_verify(const void *secret, size_t secret_len, const char *signature,
                           const void *body, size_t body_len, struct wall_s now, long long *skew_s)
{
	struct sig_parts sp;
	if (!signature || !*signature)
		return CBV_UNSIGNED;
	if (split_header(signature, &sp) != 0)
		return CBV_MALFORMED;
	long long skew = now.s - sp.t_at.s; /* the one place the two clocks meet */
	if (skew_s)
		*skew_s = skew;
	if (skew > CBV_TOLERANCE_S)
		return CBV_STALE;
	if (skew < -CBV_TOLERANCE_S)
		return CBV_FUTURE;

	/* "<t>,<raw body>": the timestamp as sent, not as reformatted here. */
	unsigned char mac[SHA256_LEN];
	const void *parts[3] = {sp.t, ",", body};
	size_t lens[3] = {sp.t_len, 1, body_len};
	hmac_sha256(secret, secret_len, parts, lens, 3, mac);
	int match = 0;
	for (size_t i = 0; i < sp.n_v1; i++)
		match |= ct_memeq(mac, sp.v1[i], SHA256_LEN);
	return match ? CBV_OK : CBV_BAD_SIGNATURE;
}

int cbv_body_add(struct cbv_body *b, const void *p, size_t n)
{
	if (n > CBV_MAX_BODY - b->len)
		return -1;
	b->data = xgrow(b->data, &b->cap, b->len + n, 4096);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

void cbv_body_release(struct cbv_body *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/* OBJ's string member NAME into BUF[SIZE]: 0, or -1 (absent, not a string, empty or
 * too long) with WHY set. */
static int member_str(const cJSON *obj, const char *name, char *buf, size_t size, char *why,
                      size_t whylen)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(obj, name);
	if (!cJSON_IsString(m) || !m->valuestring[0]) {
		bfmt(why, whylen, "no string '%s'", name);
		return -1;
	}
	if (bcopy_str(buf, size, m->valuestring) != 0) {
		bfmt(why, whylen, "'%s' is longer than %zu bytes", name, size - 1);
		return -1;
	}
	return 0;
}

int cbv_parse_event(const char *body, size_t len, struct cbv_event *ev, char *why, size_t whylen)
{
	memset(ev, 0, sizeof(*ev));
	cJSON *root = cJSON_ParseWithLength(body, len);
	int rc = -1;
	if (!cJSON_IsObject(root)) {
		bcopy_str(why, whylen, "the body is not a JSON object");
		goto out;
	}
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
	if (!cJSON_IsObject(data)) {
		bcopy_str(why, whylen, "no object 'data'");
		goto out;
	}
	if (member_str(root, "type", ev->type, sizeof(ev->type), why, whylen) != 0 ||
	    member_str(data, "id", ev->id, sizeof(ev->id), why, whylen) != 0 ||
	    member_str(data, "status", ev->status, sizeof(ev->status), why, whylen) != 0)
		goto out;
	rc = 0;
out:
	cJSON_Delete(root);
	return rc;
}

char *cbv_event_data(const char *body, size_t len)
{
	cJSON *root = cJSON_ParseWithLength(body, len);
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
	char *text = cJSON_IsObject(data) ? cJSON_PrintUnformatted(data) : NULL;
	cJSON_Delete(root);
	return text;
}

/* The identity of EV: SHA-256 of "<id>-<status>", cut to CBV_SEEN_DIGEST bytes. */
static void event_digest(const struct cbv_event *ev, unsigned char out[CBV_SEEN_DIGEST])
{
	unsigned char full[SHA256_LEN];
	struct sha256 s;
	sha256_init(&s);
	sha256_update(&s, ev->id, strlen(ev->id));
	sha256_update(&s, "-", 1);
	sha256_update(&s, ev->status, strlen(ev->status));
	sha256_final(&s, full);
	memcpy(out, full, CBV_SEEN_DIGEST);
}

bool cbv_seen_has(const struct cbv_seen *s, const struct cbv_event *ev)
{
	unsigned char d[CBV_SEEN_DIGEST];
	event_digest(ev, d);
	for (size_t i = 0; i < s->used; i++)
		if (!memcmp(s->digest[i], d, sizeof(d)))
			return true;
	return false;
}

void cbv_seen_add(struct cbv_seen *s, const struct cbv_event *ev)
{
	if (cbv_seen_has(s, ev))
		return;
	event_digest(ev, s->digest[s->next]);
	s->next = (s->next + 1) % CBV_SEEN_MAX;
	if (s->used < CBV_SEEN_MAX)
		s->used++;
}
