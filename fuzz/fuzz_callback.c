/*
 * fuzz_callback.c — a signed completion callback as anyone on the Internet may send
 * it (callback_verify.h): the input's first line is the X-OpenRouter-Signature header,
 * the rest the body. Oracles: cbv_verify says OK only when the header carries the true
 * MAC of "<t>,<body>" (its lower-case hex appears in it, case aside) and t is inside
 * the window; an event that cbv_parse_event accepts has non-empty, bounded fields; the
 * same body signed here with the right secret always passes; the memory of events seen
 * holds what was added.
 */
#include "fuzz.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "callback_verify.h"
#include "hmac.h"
#include "util.h"

#define NOW 1700000000LL
static const char secret[] = "whsec_fuzz";

static void mac_hex(const char *t, size_t t_len, const uint8_t *body, size_t len,
                    char hex[2 * SHA256_LEN + 1])
{
	unsigned char mac[SHA256_LEN];
	const void *parts[3] = {t, ",", body};
	size_t lens[3] = {t_len, 1, len};
	hmac_sha256(secret, strlen(secret), parts, lens, 3, mac);
	hex_encode(mac, sizeof(mac), hex);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t hlen = nl ? (size_t)(nl - data) : size;
	const uint8_t *body = nl ? nl + 1 : data + size;
	size_t blen = size - hlen - (nl ? 1 : 0);
	char *header = xstrndup((const char *)data, hlen);

	long long skew = 0;
	enum cbv_result r =
	    cbv_verify(secret, strlen(secret), header, body, blen, (struct wall_s){NOW}, &skew);
	if (r == CBV_OK) {
		const char *t = strstr(header, "t=");
		FUZZ_CHECK(t != NULL, "a good signature has a t=");
		FUZZ_CHECK(skew >= -CBV_TOLERANCE_S && skew <= CBV_TOLERANCE_S,
		           "OK only in the window");
		char hex[2 * SHA256_LEN + 1];
		/* The t= that was used may not be the first "t=" substring: try each. */
		bool found = false;
		for (const char *p = header; (p = strstr(p, "t=")) != NULL && !found; p += 2) {
			size_t n = strspn(p + 2, "0123456789");
			mac_hex(p + 2, n, body, blen, hex);
			found = strcasestr(header, hex) != NULL;
		}
		FUZZ_CHECK(found, "OK only with the true MAC in the header");
	}

	/* The same body signed right always passes. */
	char hex[2 * SHA256_LEN + 1], sig[128];
	mac_hex("1700000000", 10, body, blen, hex);
	FUZZ_CHECK(bfmt(sig, sizeof(sig), "t=1700000000,v1=%s", hex) == 0, "the header fits");
	FUZZ_CHECK(cbv_verify(secret, strlen(secret), sig, body, blen, (struct wall_s){NOW},
	                      NULL) == CBV_OK,
	           "a body signed with the secret passes");

	struct cbv_event ev;
	char why[256];
	if (cbv_parse_event((const char *)body, blen, &ev, why, sizeof(why)) == 0) {
		FUZZ_CHECK(ev.id[0] && ev.status[0] && ev.type[0], "an event's fields are set");
		FUZZ_CHECK(strlen(ev.id) < sizeof(ev.id), "the id is bounded");
		static struct cbv_seen seen;
		cbv_seen_add(&seen, &ev);
		FUZZ_CHECK(cbv_seen_has(&seen, &ev), "an event added is seen");
		FUZZ_CHECK(seen.used <= CBV_SEEN_MAX, "the memory is bounded");
	}
	free(header);
	return 0;
}
