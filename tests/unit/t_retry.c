/* t_retry.c — the error taxonomy and the retry/backoff schedule (retry.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "retry.h"

#define expect_long(what, expected, got)                                                           \
	do {                                                                                       \
		long e_ = (expected), g_ = (got);                                                  \
		if (e_ != g_)                                                                      \
			fail_msg("%s: expected %ld, got %ld", what, e_, g_);                       \
	} while (0)

#define expect_kind(what, expected, got)                                                           \
	do {                                                                                       \
		enum api_kind e_ = (expected), g_ = (got);                                         \
		if (e_ != g_)                                                                      \
			fail_msg("%s: expected %s, got %s", what, api_kind_name(e_),               \
			         api_kind_name(g_));                                               \
	} while (0)

static void t_backoff_doubles_from_base_up_to_max_without_jitter(void **state)
{
	(void)state;
	/* the SDK defaults: 500 ms base, 8 s ceiling */
	static const long expect[] = {500, 1000, 2000, 4000, 8000, 8000, 8000};
	for (unsigned n = 0; n < sizeof(expect) / sizeof(expect[0]); n++)
		expect_long("backoff(n)", expect[n], retry_backoff_ms(n, 500, 8000, 0.0));
}

static void t_backoff_jitter_takes_off_up_to_a_quarter(void **state)
{
	(void)state;
	expect_long("jitter 0.5 at n=0", 437, retry_backoff_ms(0, 500, 8000, 0.5));     /* 437.5 */
	expect_long("jitter 0.999 at n=1", 750, retry_backoff_ms(1, 500, 8000, 0.999)); /* 750.25 */
	expect_long("jitter 1 at n=4", 6000, retry_backoff_ms(4, 500, 8000, 1.0));
	expect_long("jitter 0.2 at n=3", 3800, retry_backoff_ms(3, 500, 8000, 0.2));
	/* the test knobs of the integration test: 50 ms base */
	expect_long("base 50, n=2, jitter 0", 200, retry_backoff_ms(2, 50, 8000, 0.0));
	/* out-of-range jitter is clamped, NaN counts as 0 */
	expect_long("jitter -3", 500, retry_backoff_ms(0, 500, 8000, -3.0));
	expect_long("jitter 7", 375, retry_backoff_ms(0, 500, 8000, 7.0));
	expect_long("jitter NaN", 500, retry_backoff_ms(0, 500, 8000, NAN));
}

static void t_backoff_huge_attempt_numbers_do_not_overflow(void **state)
{
	(void)state;
	expect_long("n=63", 8000, retry_backoff_ms(63, 500, 8000, 0.0));
	expect_long("n=4000000000", 8000, retry_backoff_ms(4000000000u, 500, 8000, 0.0));
	expect_long("negative knobs", 0, retry_backoff_ms(3, -5, -1, 0.0));
}

static void t_retry_after_ms_wins_and_may_be_fractional(void **state)
{
	(void)state;
	expect_long("retry-after-ms 1500", 1500, retry_after_ms("1500", "9", 0));
	expect_long("retry-after-ms 12.25 rounds up", 13, retry_after_ms("12.25", NULL, 0));
	expect_long("retry-after-ms with blanks", 80, retry_after_ms(" 80 ", NULL, 0));
	/* garbage in retry-after-ms falls through to retry-after */
	expect_long("garbage ms, seconds used", 2000, retry_after_ms("soon", "2", 0));
	expect_long("zero ms is not a delay", -1, retry_after_ms("0", NULL, 0));
	expect_long("negative ms is garbage", -1, retry_after_ms("-5", NULL, 0));
}

static void t_retry_after_seconds_and_http_date(void **state)
{
	(void)state;
	expect_long("retry-after 3", 3000, retry_after_ms(NULL, "3", 0));
	expect_long("retry-after 0.5", 500, retry_after_ms(NULL, "0.5", 0));
	/* Sun, 06 Nov 1994 08:49:37 GMT is 784111777 */
	expect_long("HTTP date 7 s ahead", 7000,
	            retry_after_ms(NULL, "Sun, 06 Nov 1994 08:49:37 GMT", 784111770));
	expect_long("HTTP date in the past", -1,
	            retry_after_ms(NULL, "Sun, 06 Nov 1994 08:49:37 GMT", 784111800));
	expect_long("garbage", -1, retry_after_ms(NULL, "whenever you like", 0));
	expect_long("empty", -1, retry_after_ms(NULL, "", 0));
	expect_long("nothing", -1, retry_after_ms(NULL, NULL, 0));
	expect_long("1e9 seconds is capped at a day", 86400000L,
	            retry_after_ms(NULL, "1000000000", 0));
	expect_long("1,5 is not a number", -1, retry_after_ms("1,5", NULL, 0));
}

static void t_delay_uses_server_value_up_to_120_s_else_backoff(void **state)
{
	(void)state;
	expect_long("server 3000", 3000, retry_delay_ms(3000, 0, 500, 8000, 0.0));
	expect_long("server 120000", 120000, retry_delay_ms(120000, 5, 500, 8000, 0.0));
	expect_long("server 120001 -> backoff", 1000, retry_delay_ms(120001, 1, 500, 8000, 0.0));
	expect_long("none -> backoff", 2000, retry_delay_ms(-1, 2, 500, 8000, 0.0));
	expect_long("none -> backoff with jitter", 1500, retry_delay_ms(-1, 2, 500, 8000, 1.0));
}

static void t_should_retry_only_transient_and_rate_limited(void **state)
{
	(void)state;
	for (int k = 0; k < API_KIND_COUNT; k++) {
		bool want = k == API_TRANSIENT || k == API_RATE_LIMITED;
		if (retry_should((enum api_kind)k, -1, -1, 0, 2) != want)
			fail_msg("kind %s: expected retry=%d", api_kind_name((enum api_kind)k),
			         want);
	}
}

static void t_should_retry_stops_at_max_retries(void **state)
{
	(void)state;
	assert_true(retry_should(API_TRANSIENT, -1, -1, 0, 2));
	assert_true(retry_should(API_TRANSIENT, -1, -1, 1, 2));
	if (retry_should(API_TRANSIENT, -1, -1, 2, 2))
		fail_msg("retried a third time with max_retries 2");
	if (retry_should(API_RATE_LIMITED, 1, -1, 0, 0))
		fail_msg("retried with max_retries 0");
}

static void t_x_should_retry_overrides_status_rules(void **state)
{
	(void)state;
	if (retry_should(API_TRANSIENT, 0, -1, 0, 3))
		fail_msg("x-should-retry: false did not stop a 5xx retry");
	if (!retry_should(API_FATAL, 1, -1, 0, 3))
		fail_msg("x-should-retry: true did not allow a retry");
	if (retry_should(API_LOCAL, 1, -1, 0, 3))
		fail_msg("a local failure (disk full) was retried on the server's word");
	expect_long("parse true", 1, retry_parse_should_retry("true"));
	expect_long("parse TRUE", 1, retry_parse_should_retry("TRUE"));
	expect_long("parse false", 0, retry_parse_should_retry("false"));
	expect_long("parse yes", -1, retry_parse_should_retry("yes"));
	expect_long("parse NULL", -1, retry_parse_should_retry(NULL));
}

static void t_retry_after_over_120_s_means_no_retry(void **state)
{
	(void)state;
	if (retry_should(API_RATE_LIMITED, -1, 120001, 0, 5))
		fail_msg("retried although the server asked for more than 120 s");
	if (retry_should(API_RATE_LIMITED, 1, 3600000, 0, 5))
		fail_msg("x-should-retry: true outweighed a retry-after over 120 s");
	assert_true(retry_should(API_RATE_LIMITED, -1, 120000, 0, 5));
}

static void t_retry_after_is_bounded_by_retry_after_max(void **state)
{
	(void)state;
	/* "retry-after: 999999" (capped at a day by retry_after_ms) with a 2 s bound */
	expect_long("huge, bounded", 2000,
	            retry_after_bound_ms(retry_after_ms(NULL, "999999", 0), 2000));
	expect_long("within the bound", 1500, retry_after_bound_ms(1500, 2000));
	expect_long("nothing asked", -1, retry_after_bound_ms(-1, 2000));
	expect_long("zero asked", -1, retry_after_bound_ms(0, 2000));
	expect_long("no bound", 86400000L, retry_after_bound_ms(86400000L, 0));
}

static void t_classify_every_http_status(void **state)
{
	(void)state;
	for (long s = 100; s < 600; s++) {
		enum api_kind want;
		if (s >= 200 && s < 300)
			want = API_OK;
		else if (s == 401 || s == 403)
			want = API_CONFIG;
		else if (s == 400 || s == 422)
			want = API_VALIDATION;
		else if (s == 404 || s == 410)
			want = API_NOT_FOUND;
		else if (s == 429)
			want = API_RATE_LIMITED;
		else if (s == 408 || s == 409 || s >= 500)
			want = API_TRANSIENT;
		else
			want = API_FATAL;
		char what[32];
		snprintf(what, sizeof(what), "HTTP %ld", s);
		expect_kind(what, want, retry_classify_http(s, NULL));
	}
	expect_kind("HTTP 0", API_FATAL, retry_classify_http(0, NULL));
	expect_kind("HTTP 999", API_FATAL, retry_classify_http(999, NULL));
}

static void t_classify_content_policy_by_error_code(void **state)
{
	(void)state;
	expect_kind("400 moderation_blocked", API_CONTENT_POLICY,
	            retry_classify_http(400, "moderation_blocked"));
	expect_kind("400 content_policy_violation", API_CONTENT_POLICY,
	            retry_classify_http(400, "content_policy_violation"));
	expect_kind("400 SAFETY_check", API_CONTENT_POLICY,
	            retry_classify_http(400, "SAFETY_check"));
	expect_kind("422 moderation", API_CONTENT_POLICY, retry_classify_http(422, "moderation"));
	expect_kind("400 invalid_value", API_VALIDATION, retry_classify_http(400, "invalid_value"));
	expect_kind("500 moderation is still a server error", API_TRANSIENT,
	            retry_classify_http(500, "moderation_blocked"));
	assert_true(api_code_is_content_policy("moderation_blocked"));
	assert_false(api_code_is_content_policy(NULL));
	assert_false(api_code_is_content_policy("invalid_size"));
}

static void t_classify_curl_codes(void **state)
{
	(void)state;
	static const struct {
		CURLcode code;
		enum api_kind kind;
	} cases[] = {
	    {CURLE_OK, API_OK},
	    {CURLE_URL_MALFORMAT, API_CONFIG},
	    {CURLE_UNSUPPORTED_PROTOCOL, API_CONFIG},
	    {CURLE_COULDNT_RESOLVE_HOST, API_CONFIG},
	    {CURLE_PEER_FAILED_VERIFICATION, API_CONFIG},
	    {CURLE_SSL_CONNECT_ERROR, API_CONFIG},
	    {CURLE_SSL_CACERT_BADFILE, API_CONFIG},
	    {CURLE_COULDNT_CONNECT, API_TRANSIENT},
	    {CURLE_OPERATION_TIMEDOUT, API_TRANSIENT},
	    {CURLE_PARTIAL_FILE, API_TRANSIENT},
	    {CURLE_RECV_ERROR, API_TRANSIENT},
	    {CURLE_SEND_ERROR, API_TRANSIENT},
	    {CURLE_GOT_NOTHING, API_TRANSIENT},
	    {CURLE_HTTP2, API_TRANSIENT},
	    {CURLE_HTTP2_STREAM, API_TRANSIENT},
	    {CURLE_WEIRD_SERVER_REPLY, API_TRANSIENT},
	    {CURLE_WRITE_ERROR, API_LOCAL},
	    {CURLE_READ_ERROR, API_LOCAL},
	    {CURLE_OUT_OF_MEMORY, API_FATAL},
	    {CURLE_BAD_FUNCTION_ARGUMENT, API_FATAL},
	    {CURLE_TOO_MANY_REDIRECTS, API_FATAL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_kind(curl_easy_strerror(cases[i].code), cases[i].kind,
		            retry_classify_curl((int)cases[i].code));
	expect_kind("unknown code 9999", API_FATAL, retry_classify_curl(9999));
}

static void t_every_kind_has_a_name_and_plain_words(void **state)
{
	(void)state;
	for (int k = 0; k < API_KIND_COUNT; k++) {
		const char *name = api_kind_name((enum api_kind)k);
		const char *words = api_kind_describe((enum api_kind)k);
		if (!name || !*name || strcmp(name, "?") == 0)
			fail_msg("kind %d has no name", k);
		if (!words || strlen(words) < 20 || words[strlen(words) - 1] != '.')
			fail_msg("kind %s has no sentence: \"%s\"", name, words ? words : "(null)");
	}
	assert_string_equal(api_kind_name(API_CONTENT_POLICY), "content_policy");
	assert_string_equal(api_kind_name((enum api_kind)42), "?");
	assert_non_null(strstr(api_kind_describe(API_CONTENT_POLICY), "restricted content"));
	assert_non_null(strstr(api_kind_describe(API_RATE_LIMITED), "Too many requests"));
	assert_non_null(api_kind_describe((enum api_kind) - 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_backoff_doubles_from_base_up_to_max_without_jitter),
	    cmocka_unit_test(t_backoff_jitter_takes_off_up_to_a_quarter),
	    cmocka_unit_test(t_backoff_huge_attempt_numbers_do_not_overflow),
	    cmocka_unit_test(t_retry_after_ms_wins_and_may_be_fractional),
	    cmocka_unit_test(t_retry_after_seconds_and_http_date),
	    cmocka_unit_test(t_delay_uses_server_value_up_to_120_s_else_backoff),
	    cmocka_unit_test(t_should_retry_only_transient_and_rate_limited),
	    cmocka_unit_test(t_should_retry_stops_at_max_retries),
	    cmocka_unit_test(t_x_should_retry_overrides_status_rules),
	    cmocka_unit_test(t_retry_after_over_120_s_means_no_retry),
	    cmocka_unit_test(t_classify_every_http_status),
	    cmocka_unit_test(t_classify_content_policy_by_error_code),
	    cmocka_unit_test(t_classify_curl_codes),
	    cmocka_unit_test(t_retry_after_is_bounded_by_retry_after_max),
	    cmocka_unit_test(t_every_kind_has_a_name_and_plain_words),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
