/* t_video.c — Video, list, delete and error JSON parsing, including hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "video.h"

static const char full_video[] =
    "{\"id\":\"video_68d7512d07848190b3e45da0ecbebcde004da08e1e0678d5\",\"object\":\"video\","
    "\"model\":\"sora-2\",\"status\":\"completed\",\"progress\":100,"
    "\"created_at\":1758941485,\"completed_at\":1758941600,\"expires_at\":1758945200,"
    "\"prompt\":\"A calico cat\\nplaying piano\",\"size\":\"1280x720\",\"seconds\":\"8\","
    "\"remixed_from_video_id\":\"video_abc\",\"quality\":\"standard\","
    "\"error\":null,\"future_field\":{\"nested\":[1,2,{\"x\":null}]}}";

/* Appends STR at BUF+O (the buffer is sized by the caller); returns the new end. */
static size_t put(char *buf, size_t o, const char *str)
{
	size_t n = strlen(str);
	memcpy(buf + o, str, n + 1);
	return o + n;
}

/* Parses S as a video and fails the test, saying why, when the outcome differs. */
static void parse_ok(struct video *v, const char *s)
{
	char err[200] = "";
	bool syntax = true;
	if (video_parse(v, s, strlen(s), &syntax, err, sizeof(err)) != 0)
		fail_msg("expected the video to parse, got: %s\n  input: %.200s", err, s);
}

static void parse_rejects(const char *s, bool want_syntax, const char *why)
{
	struct video v;
	char err[200] = "";
	bool syntax = !want_syntax;
	if (video_parse(&v, s, strlen(s), &syntax, err, sizeof(err)) == 0)
		fail_msg("expected rejection (%s), but it parsed with id %s\n  input: %.200s", why,
		         v.id ? v.id : "(null)", s);
	if (syntax != want_syntax)
		fail_msg("%s: expected syntax=%d, got %d (%s)", why, want_syntax, syntax, err);
	if (!err[0])
		fail_msg("%s: rejected without a reason", why);
	if (v.id || v.model || v.prompt)
		fail_msg("%s: a rejected parse left fields behind", why);
}

static void t_video_full_object_parses_every_field(void **state)
{
	struct video v;
	(void)state;
	parse_ok(&v, full_video);
	assert_string_equal(v.id, "video_68d7512d07848190b3e45da0ecbebcde004da08e1e0678d5");
	assert_string_equal(v.object, "video");
	assert_string_equal(v.model, "sora-2");
	assert_int_equal(v.status, VIDEO_COMPLETED);
	assert_string_equal(v.status_raw, "completed");
	assert_int_equal(v.progress, 100);
	assert_int_equal(v.created_at, 1758941485);
	assert_int_equal(v.completed_at, 1758941600);
	assert_int_equal(v.expires_at, 1758945200);
	assert_string_equal(v.prompt, "A calico cat\nplaying piano");
	assert_false(v.prompt_truncated);
	assert_string_equal(v.size, "1280x720");
	assert_string_equal(v.seconds, "8");
	assert_string_equal(v.remixed_from_video_id, "video_abc");
	assert_false(v.has_error);
	video_release(&v);
	assert_null(v.id); /* released structs are reusable */
}

static void t_video_failed_with_error_object(void **state)
{
	struct video v;
	(void)state;
	parse_ok(&v, "{\"id\":\"v1\",\"status\":\"failed\",\"progress\":40,\"error\":"
	             "{\"code\":\"moderation_blocked\",\"message\":\"Blocked\\r\\nby policy\"}}");
	assert_int_equal(v.status, VIDEO_FAILED);
	assert_true(v.has_error);
	assert_string_equal(v.error_code, "moderation_blocked");
	assert_string_equal(v.error_message, "Blocked  by policy"); /* one log line */
	video_release(&v);
}

static void t_video_nulls_everywhere_but_id_and_status(void **state)
{
	struct video v;
	(void)state;
	parse_ok(&v,
	         "{\"id\":\"v1\",\"object\":null,\"model\":null,\"status\":\"queued\","
	         "\"progress\":null,\"created_at\":null,\"completed_at\":null,\"expires_at\":null,"
	         "\"prompt\":null,\"size\":null,\"seconds\":null,\"remixed_from_video_id\":null,"
	         "\"error\":null}");
	assert_int_equal(v.status, VIDEO_QUEUED);
	assert_null(v.object);
	assert_null(v.model);
	assert_int_equal(v.progress, -1); /* unknown, not a frozen 0 % */
	assert_int_equal(v.created_at, -1);
	assert_int_equal(v.completed_at, -1);
	assert_null(v.prompt);
	assert_null(v.size);
	assert_null(v.seconds);
	assert_null(v.remixed_from_video_id);
	assert_false(v.has_error);
	video_release(&v);
	parse_rejects("{\"id\":\"v1\",\"status\":null}", false, "null status");
}

/* Gateways answer a retrieve with "id": "" (or none): the answer is still usable, and
 * the caller, who knows which video it asked for, keeps its own id. */
static void t_video_answer_without_id_parses_with_no_id(void **state)
{
	static const char *const noid[] = {
	    "{\"status\":\"completed\"}",
	    "{\"id\":null,\"status\":\"completed\"}",
	    "{\"id\":\"\",\"status\":\"completed\"}",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(noid) / sizeof(noid[0]); i++) {
		struct video v;
		parse_ok(&v, noid[i]);
		if (v.id)
			fail_msg("%s: expected no id, got '%s'", noid[i], v.id);
		assert_int_equal(v.status, VIDEO_COMPLETED);
		video_release(&v);
	}
}

static void t_video_missing_status_is_rejected(void **state)
{
	(void)state;
	parse_rejects("{\"id\":\"v1\"}", false, "missing status");
	parse_rejects("{}", false, "empty object");
}

static void t_video_wrong_types_are_dropped_or_rejected(void **state)
{
	struct video v;
	(void)state;
	parse_rejects("{\"id\":42,\"status\":\"queued\"}", false, "numeric id");
	parse_rejects("{\"id\":[\"v1\"],\"status\":\"queued\"}", false, "array id");
	parse_rejects("{\"id\":\"v1\",\"status\":3}", false, "numeric status");
	parse_ok(&v,
	         "{\"id\":\"v1\",\"status\":\"queued\",\"model\":7,\"size\":[1280,720],"
	         "\"object\":{},\"prompt\":false,\"progress\":\"50\",\"created_at\":\"1700000000\","
	         "\"completed_at\":true,\"seconds\":8,\"error\":\"boom\"}");
	assert_null(v.model);
	assert_null(v.size);
	assert_null(v.object);
	assert_null(v.prompt);
	assert_int_equal(v.progress, -1);   /* numbers as strings are not numbers */
	assert_int_equal(v.created_at, -1); /* idem */
	assert_int_equal(v.completed_at, -1);
	assert_string_equal(v.seconds, "8"); /* an integer seconds is formatted */
	assert_false(v.has_error);           /* error must be an object */
	video_release(&v);
}

static void t_video_absurd_numbers_are_clamped_or_unknown(void **state)
{
	struct video v;
	(void)state;
	parse_ok(&v,
	         "{\"id\":\"v1\",\"status\":\"in_progress\",\"progress\":1e308,"
	         "\"created_at\":-5,\"completed_at\":1e300,\"expires_at\":1.5,\"seconds\":1e20}");
	assert_int_equal(v.progress, 100);
	assert_int_equal(v.created_at, -1);
	assert_int_equal(v.completed_at, -1);
	assert_int_equal(v.expires_at, -1);
	assert_null(v.seconds);
	video_release(&v);
	parse_ok(&v, "{\"id\":\"v1\",\"status\":\"queued\",\"progress\":-7,\"created_at\":1e400}");
	assert_int_equal(v.progress, 0);
	assert_int_equal(v.created_at, -1); /* inf */
	video_release(&v);
	parse_ok(&v, "{\"id\":\"v1\",\"status\":\"queued\",\"progress\":42.9,"
	             "\"created_at\":253402300799,\"expires_at\":253402300800}");
	assert_int_equal(v.progress, 42);
	assert_int_equal(v.created_at, 253402300799LL);
	assert_int_equal(v.expires_at, -1);
	video_release(&v);
}

static void t_video_unknown_status_is_kept_as_unknown(void **state)
{
	struct video v;
	(void)state;
	parse_ok(&v, "{\"id\":\"v1\",\"status\":\"frobnicating\"}");
	assert_int_equal(v.status, VIDEO_UNKNOWN);
	assert_string_equal(v.status_raw, "frobnicating");
	assert_string_equal(video_status_name(v.status), "unknown");
	video_release(&v);
	parse_ok(&v, "{\"id\":\"v1\",\"status\":\"\\u0007bell\"}");
	assert_int_equal(v.status, VIDEO_UNKNOWN);
	assert_null(v.status_raw);
	video_release(&v);
}

static void t_video_unsafe_ids_are_rejected(void **state)
{
	static const char *const bad[] = {
	    "a b",        "a\\\"b", "a'b",       ".",   "..",    "a\\tb",
	    "caf\\u00e9", "a\\\\b", "x\\u0000y", "a`b", "a\\nb", "a\\u007fb",
	};
	char buf[600];
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(buf, sizeof(buf), "{\"id\":\"%s\",\"status\":\"queued\"}", bad[i]);
		parse_rejects(buf, false, bad[i]);
	}
	snprintf(buf, sizeof(buf),
	         "{\"id\":\"v\",\"status\":\"queued\",\"remixed_from_video_id\":"
	         "\"a b\"}");
	parse_rejects(buf, false, "unsafe remixed_from_video_id");
	/* 513 bytes is one too many; a LiteLLM-style 250-byte id is fine */
	char id[600];
	char big[700];
	memset(id, 'a', 513);
	id[513] = '\0';
	snprintf(big, sizeof(big), "{\"id\":\"%s\",\"status\":\"queued\"}", id);
	parse_rejects(big, false, "513-byte id");
	id[250] = '\0';
	memcpy(id, "video_bGl0ZWxsbTpjdXN0b21fbGxtX3Byb3ZpZGVyOm9wZW5haTs=", 52);
	snprintf(big, sizeof(big), "{\"id\":\"%s\",\"status\":\"queued\"}", id);
	struct video v;
	parse_ok(&v, big);
	assert_int_equal(strlen(v.id), 250);
	video_release(&v);
	assert_true(video_id_is_safe("video_abc-123.x~=+%?#&"));
	id[250] = 'a';
	id[512] = '\0';
	assert_true(video_id_is_safe(id)); /* 512 bytes: the longest kept */
	assert_false(video_id_is_safe(NULL));
	assert_false(video_id_is_safe(""));
}

/* LiteLLM's ids are "video_" + base64, with '+', '/' and '=': they are ids like any
 * other, never "unsafe", because an id only ever goes into a URL percent-encoded. */
static void t_video_base64_ids_with_slash_plus_equals_are_accepted(void **state)
{
	static const char *const good[] = {
	    "video_bGl0ZWxsbTpjdXN0b21fbGxtX3Byb3ZpZGVyOmdlbWluaTttb2RlbF9pZDp2ZW8t/+ab==",
	    "a/b",
	    "../etc/passwd",
	    "/",
	    "x=",
	    "+",
	    "a%2Fb",
	    "video_a?b#c&d",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char buf[300];
		struct video v;
		if (!video_id_is_safe(good[i]))
			fail_msg("expected '%s' to be an acceptable id", good[i]);
		snprintf(buf, sizeof(buf), "{\"id\":\"%s\",\"status\":\"queued\"}", good[i]);
		parse_ok(&v, buf);
		assert_string_equal(v.id, good[i]);
		video_release(&v);
	}
}

/* Every byte outside RFC 3986's unreserved set is %XX, so an id is one path segment
 * (or one query value) whatever it holds. */
static void t_video_id_escape_percent_encodes_everything_reserved(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"video_abc-1.2~x", "video_abc-1.2~x"},
	    {"video_a+b/c=", "video_a%2Bb%2Fc%3D"},
	    {"a/../b", "a%2F..%2Fb"},
	    {"%2F", "%252F"},
	    {"a?b#c&d=e", "a%3Fb%23c%26d%3De"},
	    {"", ""},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *e = video_id_escape(cases[i].in);
		if (strcmp(e, cases[i].out) != 0)
			fail_msg("escape('%s'): expected '%s', got '%s'", cases[i].in, cases[i].out,
			         e);
		free(e);
	}
}

/* The one table of status words (video.h): each word, in any case. */
static void t_video_status_words_map_in_one_table(void **state)
{
	static const struct {
		const char *word;
		enum video_status want;
	} words[] = {
	    {"queued", VIDEO_QUEUED},           {"pending", VIDEO_QUEUED},
	    {"in_queue", VIDEO_QUEUED},         {"IN_QUEUE", VIDEO_QUEUED},
	    {"in_progress", VIDEO_IN_PROGRESS}, {"processing", VIDEO_IN_PROGRESS},
	    {"Processing", VIDEO_IN_PROGRESS},  {"running", VIDEO_IN_PROGRESS},
	    {"RUNNING", VIDEO_IN_PROGRESS},     {"completed", VIDEO_COMPLETED},
	    {"Completed", VIDEO_COMPLETED},     {"failed", VIDEO_FAILED},
	    {"cancelled", VIDEO_CANCELLED},     {"canceled", VIDEO_CANCELLED},
	    {"CANCELLED", VIDEO_CANCELLED},     {"expired", VIDEO_EXPIRED},
	    {"Expired", VIDEO_EXPIRED},         {"succeeded", VIDEO_UNKNOWN},
	    {"in-progress", VIDEO_UNKNOWN},     {"", VIDEO_UNKNOWN},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		enum video_status got = video_status_from(words[i].word);
		if (got != words[i].want)
			fail_msg("status '%s': expected %s, got %s", words[i].word,
			         video_status_name(words[i].want), video_status_name(got));
	}
	assert_int_equal(video_status_from(NULL), VIDEO_UNKNOWN);
	/* through the parser too, with the raw word kept */
	struct video v;
	parse_ok(&v, "{\"id\":\"v1\",\"status\":\"Canceled\"}");
	assert_int_equal(v.status, VIDEO_CANCELLED);
	assert_string_equal(v.status_raw, "Canceled");
	assert_string_equal(video_status_name(v.status), "cancelled");
	video_release(&v);
	assert_string_equal(video_status_name(VIDEO_EXPIRED), "expired");
	assert_true(video_status_is_final(VIDEO_CANCELLED));
	assert_true(video_status_is_final(VIDEO_EXPIRED));
	assert_true(video_status_is_final(VIDEO_COMPLETED));
	assert_true(video_status_is_final(VIDEO_FAILED));
	assert_false(video_status_is_final(VIDEO_UNKNOWN));
	assert_false(video_status_is_final(VIDEO_IN_PROGRESS));
	assert_false(video_status_is_final(VIDEO_QUEUED));
}

/* LiteLLM sends no progress and created_at 0: both are "unknown", not 0 % and 1970. */
static void t_video_missing_progress_and_zero_times_are_unknown(void **state)
{
	struct video v;
	(void)state;
	parse_ok(&v, "{\"id\":\"v1\",\"status\":\"processing\",\"created_at\":0,"
	             "\"completed_at\":0}");
	assert_int_equal(v.progress, -1);
	assert_int_equal(v.created_at, -1);
	assert_int_equal(v.completed_at, -1);
	video_release(&v);
	parse_ok(&v, "{\"id\":\"v1\",\"status\":\"queued\",\"progress\":0}");
	assert_int_equal(v.progress, 0); /* a 0 the service did send stays */
	video_release(&v);
}

/* A "usage" object is kept whole and its cost picked out. */
static void t_video_usage_is_kept_with_its_cost(void **state)
{
	struct video v;
	(void)state;
	parse_ok(&v, "{\"id\":\"v1\",\"status\":\"completed\",\"usage\":"
	             "{\"cost\":0.4,\"is_byok\":false,\"duration_seconds\":4}}");
	assert_non_null(v.usage_json);
	assert_string_equal(v.usage_json,
	                    "{\"cost\":0.4,\"is_byok\":false,\"duration_seconds\":4}");
	assert_true(v.usage_cost > 0.399 && v.usage_cost < 0.401);
	video_release(&v);
	parse_ok(&v, "{\"id\":\"v1\",\"status\":\"completed\",\"usage\":{\"cost\":\"0.4\"}}");
	assert_non_null(v.usage_json);
	assert_true(v.usage_cost < 0); /* a string is not a cost */
	video_release(&v);
	parse_ok(&v, "{\"id\":\"v1\",\"status\":\"completed\",\"usage\":[1]}");
	assert_null(v.usage_json);
	assert_true(v.usage_cost < 0);
	video_release(&v);
	parse_ok(&v, "{\"id\":\"v1\",\"status\":\"completed\",\"usage\":{\"total_cost\":-1}}");
	assert_true(v.usage_cost < 0); /* negative: no cost */
	video_release(&v);
}

static void t_video_non_object_top_level_is_rejected(void **state)
{
	(void)state;
	parse_rejects("[{\"id\":\"v1\",\"status\":\"queued\"}]", false, "array");
	parse_rejects("\"video\"", false, "string");
	parse_rejects("42", false, "number");
	parse_rejects("null", false, "null");
	parse_rejects("", true, "empty body");
	parse_rejects("   ", true, "blank body");
	parse_rejects("<html>502 Bad Gateway</html>", true, "HTML");
}

static void t_video_truncated_or_trailing_garbage_is_a_syntax_error(void **state)
{
	char cut[sizeof(full_video)];
	(void)state;
	for (size_t n = 1; n < sizeof(full_video) - 1; n += 7) {
		memcpy(cut, full_video, n);
		cut[n] = '\0';
		parse_rejects(cut, true, "truncated body");
	}
	parse_rejects("{\"id\":\"v1\",\"status\":\"queued\"} {}", true, "two values");
	parse_rejects("{\"id\":\"v1\",\"status\":\"queued\"}xyz", true, "trailing bytes");
	struct video v;
	parse_ok(&v, "{\"id\":\"v1\",\"status\":\"queued\"}\r\n  ");
	video_release(&v);
	/* the length counts, not the NUL: bytes past LEN are never read */
	char err[100];
	bool syntax;
	const char *two = "{\"id\":\"v1\",\"status\":\"queued\"}GARBAGE";
	assert_int_equal(video_parse(&v, two, strlen(two) - 7, &syntax, err, sizeof(err)), 0);
	video_release(&v);
}

static void t_video_deep_nesting_does_not_crash(void **state)
{
	size_t depth = 200000;
	char *s = xmalloc(depth * 2 + 100);
	(void)state;
	memset(s, '[', depth);
	memset(s + depth, ']', depth);
	s[depth * 2] = '\0';
	parse_rejects(s, true, "200000 nested arrays");
	/* moderate nesting under an unknown key is ignored */
	size_t o = put(s, 0, "{\"id\":\"v1\",\"status\":\"queued\",\"x\":");
	memset(s + o, '[', 500);
	memset(s + o + 500, ']', 500);
	put(s, o + 1000, "}");
	struct video v;
	parse_ok(&v, s);
	video_release(&v);
	free(s);
}

static void t_video_ten_megabyte_body_is_rejected(void **state)
{
	size_t n = 10 * 1024 * 1024;
	char *s = xmalloc(n + 100);
	(void)state;
	size_t o = put(s, 0, "{\"id\":\"v1\",\"status\":\"queued\",\"prompt\":\"");
	memset(s + o, 'a', n);
	put(s, o + n, "\"}");
	parse_rejects(s, false, "10 MB prompt");
	free(s);
}

static void t_video_long_prompt_is_truncated_at_a_character_boundary(void **state)
{
	/* 60000 x "é" (2 bytes each) = 120000 bytes, plus 10000 x "€" (3 bytes) */
	size_t n1 = 60000, n2 = 10000;
	char *s = xmalloc(n1 * 2 + n2 * 3 + 100);
	struct video v;
	(void)state;
	size_t o = put(s, 0, "{\"id\":\"v1\",\"status\":\"queued\",\"prompt\":\"");
	for (size_t i = 0; i < n1; i++, o += 2)
		memcpy(s + o, "\xc3\xa9", 2);
	for (size_t i = 0; i < n2; i++, o += 3)
		memcpy(s + o, "\xe2\x82\xac", 3);
	put(s, o, "\"}");
	parse_ok(&v, s);
	assert_true(v.prompt_truncated);
	size_t len = strlen(v.prompt);
	if (len > VIDEO_PROMPT_MAX || len < VIDEO_PROMPT_MAX - 2)
		fail_msg("expected a prompt of %d bytes (minus a partial character), got %zu",
		         VIDEO_PROMPT_MAX, len);
	/* ends with a whole euro sign */
	assert_memory_equal(v.prompt + len - 3, "\xe2\x82\xac", 3);
	video_release(&v);
	free(s);
}

static void t_video_invalid_utf8_is_replaced_in_text_and_dropped_in_tokens(void **state)
{
	struct video v;
	(void)state;
	parse_ok(&v, "{\"id\":\"v1\",\"status\":\"queued\",\"prompt\":\"ok \xff\xfe bad \xc0\xaf "
	             "\xed\xa0\x80 end\",\"model\":\"sora-\xff\"}");
	assert_string_equal(v.prompt, "ok \xef\xbf\xbd\xef\xbf\xbd bad \xef\xbf\xbd\xef\xbf\xbd "
	                              "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd end");
	assert_null(v.model);
	video_release(&v);
	/* a lone surrogate escape is refused by cJSON as a whole */
	parse_rejects("{\"id\":\"v1\",\"status\":\"queued\",\"prompt\":\"\\ud800\"}", true,
	              "lone surrogate escape");
}

static void t_video_long_tokens_are_dropped_not_truncated(void **state)
{
	char buf[400], model[200];
	struct video v;
	(void)state;
	memset(model, 'm', 129);
	model[129] = '\0';
	snprintf(buf, sizeof(buf), "{\"id\":\"v1\",\"status\":\"queued\",\"model\":\"%s\"}", model);
	parse_ok(&v, buf);
	assert_null(v.model);
	video_release(&v);
	model[128] = '\0';
	snprintf(buf, sizeof(buf), "{\"id\":\"v1\",\"status\":\"queued\",\"model\":\"%s\"}", model);
	parse_ok(&v, buf);
	assert_int_equal(strlen(v.model), 128);
	video_release(&v);
}

static void t_video_error_message_is_capped_at_4_kib(void **state)
{
	size_t n = 20000;
	char *s = xmalloc(n + 200);
	struct video v;
	(void)state;
	size_t o = put(s, 0,
	               "{\"id\":\"v1\",\"status\":\"failed\",\"error\":{\"code\":"
	               "\"x\",\"message\":\"");
	memset(s + o, 'e', n);
	put(s, o + n, "\"}}");
	parse_ok(&v, s);
	assert_int_equal(strlen(v.error_message), VIDEO_MESSAGE_MAX);
	video_release(&v);
	free(s);
}

static void t_video_move_leaves_source_empty(void **state)
{
	struct video a, b;
	(void)state;
	parse_ok(&a, full_video);
	video_init(&b);
	video_move(&b, &a);
	assert_null(a.id);
	assert_string_equal(b.id, "video_68d7512d07848190b3e45da0ecbebcde004da08e1e0678d5");
	video_release(&b);
}

static void t_list_parses_pages_and_skips_bad_elements(void **state)
{
	const char *s = "{\"object\":\"list\",\"data\":[{\"id\":\"v1\",\"status\":\"queued\"},"
	                "{\"id\":\"a b\",\"status\":\"queued\"},42,null,{\"status\":\"queued\"},"
	                "{\"id\":\"\",\"status\":\"queued\"},"
	                "{\"id\":\"v2\",\"status\":\"completed\",\"progress\":100}],"
	                "\"first_id\":\"v1\",\"last_id\":\"v2\",\"has_more\":true}";
	struct video_list l;
	char err[200] = "";
	bool syntax;
	(void)state;
	if (video_list_parse(&l, s, strlen(s), &syntax, err, sizeof(err)) != 0)
		fail_msg("expected the list to parse, got: %s", err);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.n_skipped, 5); /* list elements need an id */
	assert_string_equal(l.data[0].id, "v1");
	assert_string_equal(l.data[1].id, "v2");
	assert_int_equal(l.data[1].status, VIDEO_COMPLETED);
	assert_string_equal(l.first_id, "v1");
	assert_string_equal(l.last_id, "v2");
	assert_true(l.has_more);
	video_list_release(&l);

	s = "{\"object\":\"list\",\"data\":[],\"first_id\":null,\"last_id\":null,\"has_more\":"
	    "false}";
	assert_int_equal(video_list_parse(&l, s, strlen(s), &syntax, err, sizeof(err)), 0);
	assert_int_equal(l.n, 0);
	assert_null(l.first_id);
	assert_false(l.has_more);
	video_list_release(&l);

	s = "{\"object\":\"list\",\"data\":[],\"has_more\":\"yes\"}";
	assert_int_equal(video_list_parse(&l, s, strlen(s), &syntax, err, sizeof(err)), 0);
	assert_false(l.has_more); /* only a JSON true counts */
	video_list_release(&l);
}

static void t_list_rejects_bad_shapes(void **state)
{
	static const char *const bad[] = {
	    "{\"object\":\"list\"}",
	    "{\"data\":{}}",
	    "{\"data\":\"[]\"}",
	    "[]",
	    "{\"data\":[],\"last_id\":\"a b\"}",
	    "{\"data\":[],\"first_id\":17}",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct video_list l;
		char err[200] = "";
		if (video_list_parse(&l, bad[i], strlen(bad[i]), NULL, err, sizeof(err)) == 0)
			fail_msg("expected rejection of %s", bad[i]);
		assert_null(l.data);
	}
}

static void t_list_caps_the_number_of_elements(void **state)
{
	size_t n = VIDEO_LIST_MAX + 5;
	char *s = xmalloc(n * 40 + 100);
	size_t o = put(s, 0, "{\"data\":[");
	struct video_list l;
	(void)state;
	for (size_t i = 0; i < n; i++)
		o += (size_t)snprintf(s + o, 40, "%s{\"id\":\"v%zu\",\"status\":\"queued\"}",
		                      i ? "," : "", i);
	put(s, o, "]}");
	assert_int_equal(video_list_parse(&l, s, strlen(s), NULL, NULL, 0), 0);
	assert_int_equal(l.n, VIDEO_LIST_MAX);
	assert_int_equal(l.n_skipped, 5);
	video_list_release(&l);
	free(s);
}

static void t_deleted_answer(void **state)
{
	bool deleted = false;
	const char *s = "{\"id\":\"v1\",\"object\":\"video.deleted\",\"deleted\":true}";
	(void)state;
	assert_int_equal(video_deleted_parse(&deleted, s, strlen(s), NULL, NULL, 0), 0);
	assert_true(deleted);
	s = "{\"id\":\"v1\",\"deleted\":\"true\"}";
	assert_int_equal(video_deleted_parse(&deleted, s, strlen(s), NULL, NULL, 0), -1);
	assert_false(deleted);
}

static void t_error_body_openai_shape(void **state)
{
	struct api_error e;
	const char *s = "{\"error\":{\"message\":\"Invalid value: '10'. Supported values are: "
	                "'4', '8', and '12'.\",\"type\":\"invalid_request_error\",\"param\":"
	                "\"seconds\",\"code\":null}}";
	(void)state;
	api_error_init(&e);
	e.http_status = 400;
	assert_int_equal(api_error_parse(&e, s, strlen(s)), 0);
	assert_string_equal(e.type, "invalid_request_error");
	assert_string_equal(e.param, "seconds");
	assert_null(e.code);
	assert_non_null(strstr(e.message, "Supported values"));
	assert_int_equal(e.http_status, 400); /* untouched */
	api_error_release(&e);

	s = "{\"error\":{\"message\":\"Your request was "
	    "blocked.\",\"type\":\"invalid_request_error\","
	    "\"param\":null,\"code\":\"moderation_blocked\"}}";
	assert_int_equal(api_error_parse(&e, s, strlen(s)), 0);
	assert_string_equal(e.code, "moderation_blocked");
	assert_null(e.param);
	assert_int_equal(retry_classify_http(400, e.code), API_CONTENT_POLICY);
	api_error_release(&e);
}

static void t_error_body_gateway_shapes_and_garbage(void **state)
{
	struct api_error e;
	const char *s;
	(void)state;
	api_error_init(&e);
	s = "{\"error\":\"upstream\\nfailed\"}";
	assert_int_equal(api_error_parse(&e, s, strlen(s)), 0);
	assert_string_equal(e.message, "upstream failed");
	api_error_release(&e);
	s = "{\"detail\":\"Not authenticated\"}";
	assert_int_equal(api_error_parse(&e, s, strlen(s)), 0);
	assert_string_equal(e.message, "Not authenticated");
	api_error_release(&e);
	s = "{\"error\":{\"message\":\"x\",\"code\":429,\"type\":[1]}}";
	assert_int_equal(api_error_parse(&e, s, strlen(s)), 0);
	assert_string_equal(e.code, "429");
	assert_null(e.type);
	api_error_release(&e);
	s = "<html><body>502 Bad Gateway</body></html>";
	assert_int_equal(api_error_parse(&e, s, strlen(s)), -1);
	assert_null(e.message);
	s = "{\"unrelated\":1}";
	assert_int_equal(api_error_parse(&e, s, strlen(s)), -1);
	assert_int_equal(api_error_parse(&e, NULL, 0), -1);
	api_error_release(&e);
}

static void t_text_sanitize_for_non_json_bodies(void **state)
{
	(void)state;
	char *t = video_text_sanitize("line1\nline2\t\x01\xff", 14, 100);
	assert_string_equal(t, "line1 line2  \xef\xbf\xbd");
	free(t);
	t = video_text_sanitize("abcdef", 6, 4);
	assert_string_equal(t, "abcd");
	free(t);
	t = video_text_sanitize("\xff\xff", 2, 4); /* U+FFFD does not fit twice */
	assert_string_equal(t, "\xef\xbf\xbd");
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_video_full_object_parses_every_field),
	    cmocka_unit_test(t_video_failed_with_error_object),
	    cmocka_unit_test(t_video_nulls_everywhere_but_id_and_status),
	    cmocka_unit_test(t_video_answer_without_id_parses_with_no_id),
	    cmocka_unit_test(t_video_missing_status_is_rejected),
	    cmocka_unit_test(t_video_base64_ids_with_slash_plus_equals_are_accepted),
	    cmocka_unit_test(t_video_id_escape_percent_encodes_everything_reserved),
	    cmocka_unit_test(t_video_status_words_map_in_one_table),
	    cmocka_unit_test(t_video_missing_progress_and_zero_times_are_unknown),
	    cmocka_unit_test(t_video_usage_is_kept_with_its_cost),
	    cmocka_unit_test(t_video_wrong_types_are_dropped_or_rejected),
	    cmocka_unit_test(t_video_absurd_numbers_are_clamped_or_unknown),
	    cmocka_unit_test(t_video_unknown_status_is_kept_as_unknown),
	    cmocka_unit_test(t_video_unsafe_ids_are_rejected),
	    cmocka_unit_test(t_video_non_object_top_level_is_rejected),
	    cmocka_unit_test(t_video_truncated_or_trailing_garbage_is_a_syntax_error),
	    cmocka_unit_test(t_video_deep_nesting_does_not_crash),
	    cmocka_unit_test(t_video_ten_megabyte_body_is_rejected),
	    cmocka_unit_test(t_video_long_prompt_is_truncated_at_a_character_boundary),
	    cmocka_unit_test(t_video_invalid_utf8_is_replaced_in_text_and_dropped_in_tokens),
	    cmocka_unit_test(t_video_long_tokens_are_dropped_not_truncated),
	    cmocka_unit_test(t_video_error_message_is_capped_at_4_kib),
	    cmocka_unit_test(t_video_move_leaves_source_empty),
	    cmocka_unit_test(t_list_parses_pages_and_skips_bad_elements),
	    cmocka_unit_test(t_list_rejects_bad_shapes),
	    cmocka_unit_test(t_list_caps_the_number_of_elements),
	    cmocka_unit_test(t_deleted_answer),
	    cmocka_unit_test(t_error_body_openai_shape),
	    cmocka_unit_test(t_error_body_gateway_shapes_and_garbage),
	    cmocka_unit_test(t_text_sanitize_for_non_json_bodies),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
