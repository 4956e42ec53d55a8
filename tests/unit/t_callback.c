/* t_callback.c — the checks of a signed completion callback (callback_verify.h) and
 * the SHA-256/HMAC under them (hmac.h): signatures made with openssl(1) pass, every way
 * of getting one wrong is refused, the window holds both ways, MACs are compared
 * through ct_memeq (wrapped here: -Wl,--wrap=ct_memeq in tests/CMakeLists.txt), and
 * the bodies and the memory of events seen are bounded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include "callback_verify.h"
#include "conf.h"
#include "hmac.h"
#include "util.h"

/* ---- ct_memeq, seen through the linker's --wrap ------------------------------------- */

int __real_ct_memeq(const void *a, const void *b, size_t n);
int __wrap_ct_memeq(const void *a, const void *b, size_t n);

static unsigned ct_calls;
static size_t ct_last_n;

int __wrap_ct_memeq(const void *a, const void *b, size_t n)
{
	ct_calls++;
	ct_last_n = n;
	return __real_ct_memeq(a, b, n);
}

/* ---- a callback signed with openssl ------------------------------------------------- */

/* printf '%s' "1700000000,$BODY" | openssl dgst -sha256 -hmac whsec_unit_test_secret -r */
static const char secret[] = "whsec_unit_test_secret";
static const char body[] = "{\"type\":\"video.generation.completed\",\"created_at\":"
                           "\"2026-12-06T20:00:00.000Z\",\"data\":{\"id\":\"vid_abc123\","
                           "\"status\":\"completed\"}}";
#define T0 1700000000LL
#define MAC "ec44a46669f1197fe8d0633c480fe5cba060213c1848a6bfff67d68722e1af93"
#define GOOD_SIG "t=1700000000,v1=" MAC

static enum cbv_result verify_at(const char *sig, const char *b, long long now)
{
	return cbv_verify(secret, strlen(secret), sig, b, strlen(b), (struct wall_s){now}, NULL);
}

static void hex_of(const unsigned char *p, size_t n, char *out)
{
	hex_encode(p, n, out);
}

static void t_hmac_matches_rfc4231(void **state)
{
	(void)state;
	unsigned char key[131], mac[SHA256_LEN];
	char hex[2 * SHA256_LEN + 1];
	const void *parts[2];
	size_t lens[2];

	memset(key, 0x0b, 20); /* test case 1 */
	parts[0] = "Hi There";
	lens[0] = 8;
	hmac_sha256(key, 20, parts, lens, 1, mac);
	hex_of(mac, sizeof(mac), hex);
	assert_string_equal(hex,
	                    "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");

	parts[0] = "what do ya want "; /* test case 2, in two parts */
	parts[1] = "for nothing?";
	lens[0] = 16;
	lens[1] = 12;
	hmac_sha256("Jefe", 4, parts, lens, 2, mac);
	hex_of(mac, sizeof(mac), hex);
	assert_string_equal(hex,
	                    "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");

	memset(key, 0xaa, sizeof(key)); /* test case 6: a key longer than the block */
	parts[0] = "Test Using Larger Than Block-Size Key - Hash Key First";
	lens[0] = strlen(parts[0]);
	hmac_sha256(key, sizeof(key), parts, lens, 1, mac);
	hex_of(mac, sizeof(mac), hex);
	assert_string_equal(hex,
	                    "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

static void t_ct_memeq_tells_equal_from_different(void **state)
{
	(void)state;
	unsigned char a[32], b[32];
	memset(a, 7, sizeof(a));
	memcpy(b, a, sizeof(b));
	assert_int_equal(__real_ct_memeq(a, b, sizeof(a)), 1);
	b[0] ^= 1;
	assert_int_equal(__real_ct_memeq(a, b, sizeof(a)), 0);
	b[0] ^= 1;
	b[31] ^= 0x80;
	assert_int_equal(__real_ct_memeq(a, b, sizeof(a)), 0);
	assert_int_equal(__real_ct_memeq(a, b, 0), 1);
}

static void t_good_signature_passes(void **state)
{
	(void)state;
	long long skew = 99;
	assert_int_equal(cbv_verify(secret, strlen(secret), GOOD_SIG, body, strlen(body),
	                            (struct wall_s){T0}, &skew),
	                 CBV_OK);
	assert_int_equal(skew, 0);
	/* Blanks around pairs, upper-case hex, pairs of other schemes, a rotated secret's
	 * v1 beside the good one: all as the header may come. */
	char upper[] = MAC;
	for (char *p = upper; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	char sig[512];
	assert_int_equal(bfmt(sig, sizeof sig, "t=1700000000, v0=zz, v1=%s", upper), 0);
	assert_int_equal(verify_at(sig, body, T0), CBV_OK);
	assert_int_equal(bfmt(sig, sizeof sig, "v1=%064d,t=1700000000,v1=%s", 0, MAC), 0);
	assert_int_equal(verify_at(sig, body, T0), CBV_OK);
}

static void t_bad_signature_refused(void **state)
{
	(void)state;
	char sig[] = GOOD_SIG;
	char *last = sig + strlen(sig) - 1;
	*last = *last == '0' ? '1' : '0'; /* one hex digit off */
	assert_int_equal(verify_at(sig, body, T0), CBV_BAD_SIGNATURE);
	assert_string_equal(cbv_result_text(CBV_BAD_SIGNATURE), "bad signature");
}

static void t_wrong_secret_refused(void **state)
{
	(void)state;
	static const char other[] = "whsec_unit_test_secreT";
	assert_int_equal(cbv_verify(other, strlen(other), GOOD_SIG, body, strlen(body),
	                            (struct wall_s){T0}, NULL),
	                 CBV_BAD_SIGNATURE);
	assert_int_equal(cbv_verify(secret, strlen(secret) - 1, GOOD_SIG, body, strlen(body),
	                            (struct wall_s){T0}, NULL),
	                 CBV_BAD_SIGNATURE);
}

static void t_stale_and_future_timestamps_refused(void **state)
{
	(void)state;
	long long skew = 0;
	/* CBV_TOLERANCE_S either way is still in; one second more is not. */
	assert_int_equal(verify_at(GOOD_SIG, body, T0 + CBV_TOLERANCE_S), CBV_OK);
	assert_int_equal(verify_at(GOOD_SIG, body, T0 - CBV_TOLERANCE_S), CBV_OK);
	assert_int_equal(cbv_verify(secret, strlen(secret), GOOD_SIG, body, strlen(body),
	                            (struct wall_s){T0 + CBV_TOLERANCE_S + 1}, &skew),
	                 CBV_STALE);
	assert_int_equal(skew, CBV_TOLERANCE_S + 1);
	assert_int_equal(cbv_verify(secret, strlen(secret), GOOD_SIG, body, strlen(body),
	                            (struct wall_s){T0 - CBV_TOLERANCE_S - 1}, &skew),
	                 CBV_FUTURE);
	assert_int_equal(skew, -CBV_TOLERANCE_S - 1);
	assert_int_equal(verify_at(GOOD_SIG, body, T0 + 86400), CBV_STALE);
}

static void t_missing_or_malformed_headers_refused(void **state)
{
	(void)state;
	assert_int_equal(verify_at(NULL, body, T0), CBV_UNSIGNED);
	assert_int_equal(verify_at("", body, T0), CBV_UNSIGNED);
	static const char *const bad[] = {
	    "t=1700000000",                      /* no v1 */
	    "v1=" MAC,                           /* no t */
	    "t=,v1=" MAC,                        /* empty t */
	    "t=17000000x0,v1=" MAC,              /* not a number */
	    "t=-1700000000,v1=" MAC,             /* signed */
	    "t=1700000000,t=1700000000,v1=" MAC, /* t twice */
	    "t=1700000000,v1=abc",               /* a short MAC */
	    "t=1700000000,v1=" MAC "00",         /* a long one */
	    "t=1700000000,v1=" MAC "g",          /* not hex */
	    "t=1700000000;v1=" MAC,              /* not comma-separated */
	    "sha256=" MAC,                       /* another provider's scheme */
	    "t=1700000000000000000000,v1=" MAC,  /* beyond any clock */
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		enum cbv_result r = verify_at(bad[i], body, T0);
		if (r != CBV_MALFORMED)
			fail_msg("'%s': expected malformed, got %s", bad[i], cbv_result_text(r));
	}
	char huge[CBV_HEADER_MAX + 200];
	assert_int_equal(
	    bfmt(huge, sizeof huge, "t=1700000000,v1=%s,x=%0*d", MAC, CBV_HEADER_MAX, 0), 0);
	assert_int_equal(verify_at(huge, body, T0), CBV_MALFORMED);
}

static void t_signature_over_other_bytes_refused(void **state)
{
	(void)state;
	char b[sizeof(body) + 2];
	/* One byte changed, a newline added (a re-serialized body), one byte dropped. */
	memcpy(b, body, sizeof(body));
	b[strlen(b) - 3] = 'x';
	assert_int_equal(verify_at(GOOD_SIG, b, T0), CBV_BAD_SIGNATURE);
	assert_int_equal(bfmt(b, sizeof b, "%s\n", body), 0);
	assert_int_equal(verify_at(GOOD_SIG, b, T0), CBV_BAD_SIGNATURE);
	assert_int_equal(cbv_verify(secret, strlen(secret), GOOD_SIG, body, strlen(body) - 1,
	                            (struct wall_s){T0}, NULL),
	                 CBV_BAD_SIGNATURE);
	/* The same body and MAC under another timestamp: t is signed too. */
	assert_int_equal(verify_at("t=1700000001,v1=" MAC, body, T0), CBV_BAD_SIGNATURE);
	/* A MAC over the body alone (no "<t>," before it), as other providers sign. */
	unsigned char mac[SHA256_LEN];
	char sig[128], hex[2 * SHA256_LEN + 1];
	const void *parts[1] = {body};
	size_t lens[1] = {strlen(body)};
	hmac_sha256(secret, strlen(secret), parts, lens, 1, mac);
	hex_of(mac, sizeof(mac), hex);
	assert_int_equal(bfmt(sig, sizeof sig, "t=1700000000,v1=%s", hex), 0);
	assert_int_equal(verify_at(sig, body, T0), CBV_BAD_SIGNATURE);
}

static void t_macs_are_compared_in_constant_time(void **state)
{
	(void)state;
	ct_calls = 0;
	assert_int_equal(verify_at(GOOD_SIG, body, T0), CBV_OK);
	assert_int_equal(ct_calls, 1);
	assert_int_equal(ct_last_n, SHA256_LEN);
	ct_calls = 0;
	assert_int_equal(verify_at("t=1700000000,v1=" MAC ",v1=" MAC, "{}", T0), CBV_BAD_SIGNATURE);
	assert_int_equal(ct_calls, 2); /* every v1 is compared, none skipped after a miss */
	/* No MAC is computed or compared for a header refused on its form or its time. */
	ct_calls = 0;
	assert_int_equal(verify_at(GOOD_SIG, body, T0 + 3600), CBV_STALE);
	assert_int_equal(ct_calls, 0);
}

static void t_event_fields_are_read(void **state)
{
	(void)state;
	struct cbv_event ev;
	char why[128];
	assert_int_equal(cbv_parse_event(body, strlen(body), &ev, why, sizeof why), 0);
	assert_string_equal(ev.type, "video.generation.completed");
	assert_string_equal(ev.id, "vid_abc123");
	assert_string_equal(ev.status, "completed");
	/* The body need not end in NUL: only LEN bytes are read. */
	char cut[sizeof(body) + 8];
	memcpy(cut, body, strlen(body));
	memcpy(cut + strlen(body), "GARBAGE", 8);
	assert_int_equal(cbv_parse_event(cut, strlen(body), &ev, why, sizeof why), 0);
}

static void t_non_events_are_refused(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "",
	    "not json",
	    "[1,2,3]",
	    "{\"type\":\"video.generation.completed\"}",
	    "{\"type\":\"x\",\"data\":[]}",
	    "{\"type\":\"x\",\"data\":{\"status\":\"completed\"}}",
	    "{\"type\":\"x\",\"data\":{\"id\":\"v\"}}",
	    "{\"type\":\"x\",\"data\":{\"id\":7,\"status\":\"completed\"}}",
	    "{\"type\":\"x\",\"data\":{\"id\":\"\",\"status\":\"completed\"}}",
	    "{\"data\":{\"id\":\"v\",\"status\":\"completed\"}}",
	};
	struct cbv_event ev;
	char why[128];
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		why[0] = '\0';
		if (cbv_parse_event(bad[i], strlen(bad[i]), &ev, why, sizeof why) == 0)
			fail_msg("'%s' was taken for an event", bad[i]);
		assert_true(why[0] != '\0');
	}
	char *long_id = xasprintf(
	    "{\"type\":\"x\",\"data\":{\"id\":\"%0*d\",\"status\":\"failed\"}}", CBV_ID_MAX, 0);
	assert_int_equal(cbv_parse_event(long_id, strlen(long_id), &ev, why, sizeof why), -1);
	free(long_id);
}

static void t_duplicates_are_remembered_within_bounds(void **state)
{
	(void)state;
	struct cbv_seen *s = xcalloc(1, sizeof(*s));
	struct cbv_event a = {.type = "t", .id = "vid_1", .status = "completed"};
	struct cbv_event b = a;
	assert_false(cbv_seen_has(s, &a));
	cbv_seen_add(s, &a);
	assert_true(cbv_seen_has(s, &a));
	cbv_seen_add(s, &a); /* twice is once */
	assert_int_equal(s->used, 1);
	bcopy_str(b.status, sizeof b.status, "failed"); /* another event of the same job */
	assert_false(cbv_seen_has(s, &b));
	/* "<id>-<status>" is the identity: id "a-b" + "c" is not id "a" + "b-c". */
	struct cbv_event c1 = {.id = "a-b", .status = "c"}, c2 = {.id = "a", .status = "b-cx"};
	cbv_seen_add(s, &c1);
	assert_false(cbv_seen_has(s, &c2));
	/* Beyond CBV_SEEN_MAX the oldest is forgotten and memory stays the same. */
	for (unsigned i = 0; i < CBV_SEEN_MAX; i++) {
		struct cbv_event e = {.status = "completed"};
		assert_int_equal(bfmt(e.id, sizeof e.id, "vid_n%u", i), 0);
		cbv_seen_add(s, &e);
	}
	assert_int_equal(s->used, CBV_SEEN_MAX);
	assert_false(cbv_seen_has(s, &a));
	struct cbv_event last = {.status = "completed"};
	assert_int_equal(bfmt(last.id, sizeof last.id, "vid_n%u", CBV_SEEN_MAX - 1), 0);
	assert_true(cbv_seen_has(s, &last));
	free(s);
}

static void t_oversize_bodies_are_refused(void **state)
{
	(void)state;
	struct cbv_body b = {0};
	static char chunk[4000];
	memset(chunk, 'x', sizeof(chunk));
	size_t total = 0;
	while (total + sizeof(chunk) <= CBV_MAX_BODY) {
		assert_int_equal(cbv_body_add(&b, chunk, sizeof(chunk)), 0);
		total += sizeof(chunk);
	}
	assert_int_equal(cbv_body_add(&b, chunk, CBV_MAX_BODY - total), 0);
	assert_int_equal(b.len, CBV_MAX_BODY);
	assert_int_equal(cbv_body_add(&b, chunk, 1), -1); /* one byte more */
	assert_int_equal(b.len, CBV_MAX_BODY);
	assert_int_equal(cbv_body_add(&b, chunk, 0), 0);
	cbv_body_release(&b);
	assert_null(b.data);
	assert_int_equal(cbv_body_add(&b, chunk, SIZE_MAX), -1); /* no overflow */
	assert_int_equal(cbv_body_add(&b, body, strlen(body)), 0);
	assert_memory_equal(b.data, body, strlen(body));
	cbv_body_release(&b);
}

/* ---- the configuration keys -------------------------------------------------------- */

static char conf_dir[] = "/tmp/t_callback.XXXXXX";

/* Writes LINES (plus the folders) as conf_dir/sorad.conf and loads it (keyless or not);
 * ERR gets the message of a refused file. */
static struct conf *load_lines(const char *lines, bool keyless, char *err, size_t errlen)
{
	char path[128];
	assert_int_equal(bfmt(path, sizeof path, "%s/sorad.conf", conf_dir), 0);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f,
	        "inbox = \"%s/in\"\noutbox = \"%s/out\"\nstate_dir = \"%s/st\"\n"
	        "log_dir = \"%s/log\"\n%s",
	        conf_dir, conf_dir, conf_dir, conf_dir, lines);
	assert_int_equal(fclose(f), 0);
	err[0] = '\0';
	return keyless ? conf_load_keyless(path, err, errlen) : conf_load(path, err, errlen);
}

static void write_secret(const char *text, mode_t mode)
{
	char path[128];
	assert_int_equal(bfmt(path, sizeof path, "%s/secret", conf_dir), 0);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void t_callbacks_are_off_by_default(void **state)
{
	(void)state;
	char err[1024];
	struct conf *c = load_lines("", false, err, sizeof err);
	assert_non_null(c);
	assert_null(c->callback_listen);
	assert_null(c->callback_url);
	assert_null(c->callback_secret);
	conf_free(c);
	c = load_lines("callback_listen = \"\"\n", false, err, sizeof err);
	assert_non_null(c);
	assert_null(c->callback_listen);
	conf_free(c);
}

static void t_callback_keys_are_checked(void **state)
{
	(void)state;
	char err[1024], lines[512];
	struct conf *c =
	    load_lines("callback_listen = \"127.0.0.1:8788\"\n", false, err, sizeof err);
	assert_null(c);
	assert_non_null(strstr(err, "sorad.conf:5: callback_listen needs callback_secret_file"));
	c = load_lines("api_protocol = \"openrouter\"\ncallback_url = \"https://x.example/hook\"\n",
	               false, err, sizeof err);
	assert_null(c);
	assert_non_null(strstr(err, "callback_url needs callback_listen"));
	c = load_lines("callback_url = \"ftp://x.example/hook\"\n", false, err, sizeof err);
	assert_null(c);
	c = load_lines("callback_listen = \"nowhere\"\n", false, err, sizeof err);
	assert_null(c);
	assert_non_null(strstr(err, "HOST:PORT"));

	write_secret("  whsec_abc123  \n", 0644);
	assert_int_equal(bfmt(lines, sizeof lines,
	                      "callback_listen = \"127.0.0.1:8788\"\ncallback_secret_file = "
	                      "\"secret\"\ncallback_url = \"https://x.example/hooks/sorad\"\n"
	                      "api_protocol = \"openrouter\"\n"),
	                 0);
	c = load_lines(lines, false, err, sizeof err);
	assert_null(c);
	assert_non_null(strstr(err, "is readable by everyone; chmod 600 it"));
	assert_null(strstr(err, "whsec_abc123")); /* never the secret */
	write_secret("  whsec_abc123  \n", 0600);
	c = load_lines(lines, false, err, sizeof err);
	assert_non_null(c);
	assert_string_equal(c->callback_secret, "whsec_abc123");
	assert_string_equal(c->callback_listen, "127.0.0.1:8788");
	assert_string_equal(c->callback_url, "https://x.example/hooks/sorad");
	assert_non_null(strstr(c->callback_secret_file, conf_dir)); /* relative to the file */
	conf_free(c);
	/* The commands do not read it: the daemon holds it. */
	c = load_lines(lines, true, err, sizeof err);
	assert_non_null(c);
	assert_null(c->callback_secret);
	conf_free(c);
	write_secret("\n", 0600);
	c = load_lines(lines, false, err, sizeof err);
	assert_null(c);
	assert_non_null(strstr(err, "is empty"));
	/* Only OpenRouter's creates carry callback_url: with the Videos API (the default,
	 * or said) it is refused, with the line and what to do; callback_listen alone (the
	 * workspace's default URL) stays allowed. */
	write_secret("whsec_abc123\n", 0600);
	static const char *const not_openrouter[] = {"", "api_protocol = \"openai\"\n"};
	for (size_t i = 0; i < ARRAY_LEN(not_openrouter); i++) {
		assert_int_equal(
		    bfmt(lines, sizeof lines,
		         "%scallback_listen = \"127.0.0.1:8788\"\ncallback_secret_file = "
		         "\"secret\"\ncallback_url = \"https://x.example/hooks/sorad\"\n",
		         not_openrouter[i]),
		    0);
		c = load_lines(lines, false, err, sizeof err);
		assert_null(c);
		assert_non_null(strstr(err, i ? "sorad.conf:8: callback_url is sent only with "
		                                "api_protocol = \"openrouter\""
		                              : "sorad.conf:7: callback_url is sent only with "
		                                "api_protocol = \"openrouter\""));
		assert_non_null(strstr(err, "with api_protocol = \"openai\" no create carries it"));
	}
	c = load_lines("callback_listen = \"127.0.0.1:8788\"\ncallback_secret_file = \"secret\"\n",
	               false, err, sizeof err);
	assert_non_null(c);
	assert_null(c->callback_url);
	conf_free(c);
}

static int conf_setup(void **state)
{
	(void)state;
	return mkdtemp(conf_dir) ? 0 : -1;
}

static int conf_teardown(void **state)
{
	(void)state;
	char cmd[128];
	if (bfmt(cmd, sizeof cmd, "rm -rf '%s'", conf_dir) != 0)
		return -1;
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_hmac_matches_rfc4231),
	    cmocka_unit_test(t_ct_memeq_tells_equal_from_different),
	    cmocka_unit_test(t_good_signature_passes),
	    cmocka_unit_test(t_bad_signature_refused),
	    cmocka_unit_test(t_wrong_secret_refused),
	    cmocka_unit_test(t_stale_and_future_timestamps_refused),
	    cmocka_unit_test(t_missing_or_malformed_headers_refused),
	    cmocka_unit_test(t_signature_over_other_bytes_refused),
	    cmocka_unit_test(t_macs_are_compared_in_constant_time),
	    cmocka_unit_test(t_event_fields_are_read),
	    cmocka_unit_test(t_non_events_are_refused),
	    cmocka_unit_test(t_duplicates_are_remembered_within_bounds),
	    cmocka_unit_test(t_oversize_bodies_are_refused),
	    cmocka_unit_test(t_callbacks_are_off_by_default),
	    cmocka_unit_test(t_callback_keys_are_checked),
	};
	return cmocka_run_group_tests(tests, conf_setup, conf_teardown);
}
