/* t_prompt.c — the inbox formats (.txt with front matter, .json, .jsonl) and validation. */
#include "conf.h"
#include "prompt.h"
#include "utf8.h"
#include "util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

static struct conf *C;

static int group_setup(void **state)
{
	(void)state;
	char err[512];
	unsetenv("DEFAULT_MODEL");
	unsetenv("DEFAULT_SIZE");
	unsetenv("DEFAULT_SECONDS");
	C = conf_load(NULL, err, sizeof(err));
	if (!C)
		fail_msg("conf_load(NULL): %s", err);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	conf_free(C);
	return 0;
}

static void parse(enum prompt_format f, const char *stem, const char *text, struct prompt_file *pf)
{
	prompt_parse(f, stem, text, strlen(text), C, pf);
}

static void expect_error(const struct job_spec *s, const char *needle)
{
	if (!s->error)
		fail_msg("expected an error containing \"%s\", got none", needle);
	if (!strstr(s->error, needle))
		fail_msg("expected an error containing \"%s\", got \"%s\"", needle, s->error);
}

static void t_prompt_txt_whole_file_is_the_prompt(void **state)
{
	(void)state;
	struct prompt_file pf;
	parse(PROMPT_TXT, "cat-piano", "\n  A calico cat playing piano on stage.\n\n", &pf);
	assert_int_equal(pf.n, 1);
	assert_null(pf.jobs[0].error);
	assert_string_equal(pf.jobs[0].name, "cat-piano");
	assert_string_equal(pf.jobs[0].prompt, "A calico cat playing piano on stage.");
	assert_string_equal(pf.jobs[0].model, "sora-2");
	assert_string_equal(pf.jobs[0].size, "1280x720");
	assert_int_equal(pf.jobs[0].seconds, 4);
	assert_null(pf.jobs[0].reference);
	prompt_file_release(&pf);
}

static void t_prompt_txt_front_matter_with_bom_and_crlf(void **state)
{
	(void)state;
	struct prompt_file pf;
	parse(PROMPT_TXT, "x",
	      "\xEF\xBB\xBF---\r\nmodel: sora-2-pro\r\nSize: \"1792x1024\"\r\n# a comment\r\n"
	      "seconds: 8s\r\nname: lake-sunset\r\nreference: lake.PNG\r\n---\r\n"
	      "A serene mountain lake at sunset.\r\nSecond line.\r\n",
	      &pf);
	assert_int_equal(pf.n, 1);
	struct job_spec *s = &pf.jobs[0];
	assert_null(s->error);
	assert_string_equal(s->name, "lake-sunset");
	assert_string_equal(s->model, "sora-2-pro");
	assert_string_equal(s->size, "1792x1024");
	assert_int_equal(s->seconds, 8);
	assert_string_equal(s->reference, "lake.PNG");
	assert_string_equal(s->prompt, "A serene mountain lake at sunset.\r\nSecond line.");
	prompt_file_release(&pf);
}

static void t_prompt_txt_bad_front_matter_names_the_line(void **state)
{
	(void)state;
	struct prompt_file pf;
	parse(PROMPT_TXT, "x", "---\nmodel: sora-2\nmodle: sora-2-pro\n---\nhi", &pf);
	expect_error(&pf.jobs[0], "line 3: unknown key 'modle'");
	prompt_file_release(&pf);
	parse(PROMPT_TXT, "x", "---\nmodel sora-2\n---\nhi", &pf);
	expect_error(&pf.jobs[0], "line 2: expected 'key: value'");
	prompt_file_release(&pf);
	parse(PROMPT_TXT, "x", "---\nmodel: sora-2\nA cat.\n", &pf);
	expect_error(&pf.jobs[0], "never closed");
	prompt_file_release(&pf);
	parse(PROMPT_TXT, "x", "---\nseconds: four\n---\nA cat.", &pf);
	expect_error(&pf.jobs[0], "line 2: 'seconds' must be a whole number");
	prompt_file_release(&pf);
	parse(PROMPT_TXT, "x", "---\nreference: ../../etc/passwd\n---\nA cat.", &pf);
	expect_error(&pf.jobs[0], "'reference' must name a .png, .jpg, .jpeg or .webp file");
	prompt_file_release(&pf);
	parse(PROMPT_TXT, "x", "---\nname: ../evil\n---\nA cat.", &pf);
	expect_error(&pf.jobs[0], "cannot be used as a file name");
	prompt_file_release(&pf);
	parse(PROMPT_TXT, "x", "---\nmodel: sora-2\n---\n   \n", &pf);
	expect_error(&pf.jobs[0], "the prompt is empty");
	prompt_file_release(&pf);
}

static void t_prompt_rejects_binary_and_invalid_utf8(void **state)
{
	(void)state;
	struct prompt_file pf;
	const char bin[] = "GIF89a\0\0\x01\x02";
	prompt_parse(PROMPT_TXT, "x", bin, sizeof(bin), C, &pf);
	expect_error(&pf.jobs[0], "binary data");
	prompt_file_release(&pf);
	parse(PROMPT_TXT, "x", "caf\xC3 au lait \xC0\xAF", &pf);
	expect_error(&pf.jobs[0], "not valid UTF-8");
	prompt_file_release(&pf);
}

static void t_prompt_length_limit_counts_characters(void **state)
{
	(void)state;
	/* 32000 two-byte characters are fine; one more is not. */
	size_t n = PROMPT_MAX_CHARS;
	char *text = xmalloc(2 * (n + 1) + 1);
	for (size_t i = 0; i <= n; i++)
		memcpy(text + 2 * i, "\xC3\xA9", 2);
	text[2 * n] = '\0';
	struct prompt_file pf;
	parse(PROMPT_TXT, "x", text, &pf);
	assert_null(pf.jobs[0].error);
	prompt_file_release(&pf);
	text[2 * n] = '\xC3';
	text[2 * (n + 1)] = '\0';
	parse(PROMPT_TXT, "x", text, &pf);
	expect_error(&pf.jobs[0], "32001 characters; the limit is 32000");
	prompt_file_release(&pf);
	free(text);
}

static void t_prompt_json_object(void **state)
{
	(void)state;
	struct prompt_file pf;
	parse(PROMPT_JSON, "promo",
	      "{\"prompt\": \"Close-up of a watch\", \"model\": \"sora-2-pro\", \"seconds\": 12,"
	      " \"size\": \"1280x720\", \"_comment\": 5, \"reference\": null}\n",
	      &pf);
	assert_null(pf.jobs[0].error);
	assert_string_equal(pf.jobs[0].name, "promo");
	assert_int_equal(pf.jobs[0].seconds, 12);
	assert_string_equal(pf.jobs[0].model, "sora-2-pro");
	prompt_file_release(&pf);

	parse(PROMPT_JSON, "promo", "{\"prompt\": \"x\", \"seconds\": 4.5}", &pf);
	expect_error(&pf.jobs[0], "'seconds' must be a whole number");
	prompt_file_release(&pf);
	parse(PROMPT_JSON, "promo", "{\"prompt\": [\"x\"]}", &pf);
	expect_error(&pf.jobs[0], "\"prompt\" must be a string");
	prompt_file_release(&pf);
	parse(PROMPT_JSON, "promo", "{\"prompt\": \"x\"} trailing", &pf);
	expect_error(&pf.jobs[0], "text after the JSON object");
	prompt_file_release(&pf);
	parse(PROMPT_JSON, "promo", "[1,2]", &pf);
	expect_error(&pf.jobs[0], "expected a JSON object");
	prompt_file_release(&pf);
	parse(PROMPT_JSON, "promo", "{\"prompt\": ", &pf);
	expect_error(&pf.jobs[0], "not valid JSON");
	prompt_file_release(&pf);
	parse(PROMPT_JSON, "promo", "{\"seconds\": \"8\"}", &pf);
	expect_error(&pf.jobs[0], "there is no prompt");
	prompt_file_release(&pf);
}

static void t_prompt_jsonl_bad_line_fails_that_line_only(void **state)
{
	(void)state;
	struct prompt_file pf;
	parse(PROMPT_JSONL, "batch",
	      "{\"prompt\": \"one\"}\n"
	      "\n"
	      "{\"prompt\": \"three\", \"name\": \"third\"}\r\n"
	      "{not json}\n"
	      "{\"prompt\": \"five\", \"size\": \"720x1280\"}",
	      &pf);
	assert_int_equal(pf.n, 4);
	assert_string_equal(pf.jobs[0].name, "batch-1");
	assert_int_equal(pf.jobs[0].line, 1);
	assert_null(pf.jobs[0].error);
	assert_string_equal(pf.jobs[1].name, "third");
	assert_int_equal(pf.jobs[1].line, 3);
	assert_null(pf.jobs[1].error);
	assert_string_equal(pf.jobs[2].name, "batch-4");
	expect_error(&pf.jobs[2], "line 4: the line is not valid JSON");
	assert_string_equal(pf.jobs[3].name, "batch-5");
	assert_string_equal(pf.jobs[3].size, "720x1280");
	assert_null(pf.jobs[3].error);
	prompt_file_release(&pf);

	parse(PROMPT_JSONL, "empty", "\n\n  \n", &pf);
	assert_int_equal(pf.n, 1);
	expect_error(&pf.jobs[0], "no jobs");
	prompt_file_release(&pf);
}

/* A batch of N lines: line i is LINE, blank lines where BLANK says. Caller frees. */
static char *batch_text(unsigned n, const char *line, unsigned blank_from)
{
	size_t ll = strlen(line), size = (size_t)n * (ll + 1) + 1, used = 0;
	char *t = xmalloc(size);
	for (unsigned i = 1; i <= n; i++) {
		const char *l = i >= blank_from ? "" : line;
		size_t k = strlen(l);
		memcpy(t + used, l, k);
		used += k;
		t[used++] = '\n';
	}
	t[used] = '\0';
	return t;
}

static void expect_complete(const struct job_spec *s)
{
	/* A record is made of every spec, error or not (jobs.c record_claim). */
	assert_non_null(s->name);
	assert_non_null(s->model);
	assert_non_null(s->size);
	assert_true(s->seconds > 0);
}

static void t_prompt_jsonl_over_the_line_limit_is_refused_whole(void **state)
{
	(void)state;
	struct prompt_file pf;
	/* One job more than the limit: no job of it runs, one error names the limit and
	 * the first line beyond it, and that spec has its defaults (issue 18: it had
	 * none and the daemon crashed in record_claim, at every start). */
	char *t = batch_text(PROMPT_BATCH_MAX + 1, "{\"prompt\": \"a fox\"}", UINT32_MAX);
	parse(PROMPT_JSONL, "big", t, &pf);
	assert_int_equal(pf.n, 1);
	assert_string_equal(pf.jobs[0].name, "big");
	expect_error(&pf.jobs[0], "the batch has 10001 jobs and goes on past line 10000");
	expect_error(&pf.jobs[0], "line 10001 is the first beyond it");
	expect_complete(&pf.jobs[0]);
	prompt_file_release(&pf);
	free(t);

	/* Exactly the limit, then blank lines: every job runs. */
	t = batch_text(PROMPT_BATCH_MAX + 5, "{\"prompt\": \"a fox\"}", PROMPT_BATCH_MAX + 1);
	parse(PROMPT_JSONL, "full", t, &pf);
	assert_int_equal(pf.n, PROMPT_BATCH_MAX);
	for (size_t i = 0; i < pf.n; i++) {
		assert_null(pf.jobs[i].error);
		expect_complete(&pf.jobs[i]);
	}
	assert_int_equal(pf.jobs[pf.n - 1].line, PROMPT_BATCH_MAX);
	prompt_file_release(&pf);
	free(t);

	/* Fewer jobs than the limit, but blank lines push one past line 10000: its line
	 * number would not fit a record (store.c), so the file is refused too. */
	t = xmalloc(PROMPT_BATCH_MAX + 4);
	memset(t, '\n', PROMPT_BATCH_MAX);
	memcpy(t + PROMPT_BATCH_MAX, "{}\n", 4); /* line 10001 holds a job */
	parse(PROMPT_JSONL, "sparse", t, &pf);
	assert_int_equal(pf.n, 1);
	expect_error(&pf.jobs[0], "the batch has 1 jobs and goes on past line 10000");
	expect_complete(&pf.jobs[0]);
	prompt_file_release(&pf);
	free(t);
}

static void t_prompt_every_spec_has_its_defaults(void **state)
{
	(void)state;
	static const char *const bad[] = {"", "\n\n", "{", "\x01\x02", "---\nx\n", "[1]"};
	for (size_t f = 0; f < 3; f++) {
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			struct prompt_file pf;
			prompt_parse((enum prompt_format)f, "x", bad[i], strlen(bad[i]), C, &pf);
			assert_true(pf.n >= 1);
			for (size_t k = 0; k < pf.n; k++)
				expect_complete(&pf.jobs[k]);
			prompt_file_release(&pf);
		}
	}
}

static void t_prompt_remix_rules(void **state)
{
	(void)state;
	struct prompt_file pf;
	parse(PROMPT_TXT, "r", "---\nremix_of: cat-piano\n---\nMake it snow.", &pf);
	assert_null(pf.jobs[0].error);
	assert_string_equal(pf.jobs[0].remix_of, "cat-piano");
	prompt_file_release(&pf);
	parse(PROMPT_TXT, "r", "---\nremix_of: video_123\nsize: 720x1280\n---\nMake it snow.", &pf);
	expect_error(&pf.jobs[0], "a remix keeps the model, size and seconds");
	prompt_file_release(&pf);
	parse(PROMPT_TXT, "r", "---\nremix_of: video_123\nreference: a.png\n---\nSnow.", &pf);
	expect_error(&pf.jobs[0], "cannot be combined");
	prompt_file_release(&pf);
}

static void t_prompt_unsafe_stem_is_sanitized(void **state)
{
	(void)state;
	struct prompt_file pf;
	parse(PROMPT_TXT, "-rf\x01x", "A cat.", &pf);
	assert_null(pf.jobs[0].error);
	assert_string_equal(pf.jobs[0].name, "_rf_x");
	assert_true(prompt_name_ok(pf.jobs[0].name));
	prompt_file_release(&pf);
	assert_false(prompt_name_ok(".hidden"));
	assert_false(prompt_name_ok("a/b"));
	assert_false(prompt_name_ok(""));
	assert_true(prompt_name_ok("Ünïcode clip 1"));
}

static void t_prompt_validate_against_model_table(void **state)
{
	(void)state;
	struct prompt_file pf;
	char why[512];
	parse(PROMPT_TXT, "x", "---\nsize: 1920x1080\n---\nA cat.", &pf);
	assert_int_equal(prompt_validate(&pf.jobs[0], C, why, sizeof(why)), -1);
	assert_string_equal(
	    why, "size 1920x1080 is not available for sora-2 (allowed: 720x1280, 1280x720)");
	prompt_file_release(&pf);
	parse(PROMPT_TXT, "x", "---\nmodel: sora-3\n---\nA cat.", &pf);
	assert_int_equal(prompt_validate(&pf.jobs[0], C, why, sizeof(why)), -1);
	assert_string_equal(why,
	                    "model 'sora-3' is not configured (available: sora-2, sora-2-pro)");
	prompt_file_release(&pf);
	parse(PROMPT_TXT, "x", "---\nseconds: 10\n---\nA cat.", &pf);
	assert_int_equal(prompt_validate(&pf.jobs[0], C, why, sizeof(why)), -1);
	assert_string_equal(why,
	                    "10 seconds is not available for sora-2 (allowed: 4, 8, 12, 16, 20)");
	prompt_file_release(&pf);
	parse(PROMPT_TXT, "x", "---\nmodel: sora-2-pro\nsize: 1920x1080\nseconds: 20\n---\nA cat.",
	      &pf);
	assert_int_equal(prompt_validate(&pf.jobs[0], C, why, sizeof(why)), 0);
	prompt_file_release(&pf);
}

static void t_utf8_check_rejects_overlong_surrogates_and_nul(void **state)
{
	(void)state;
	size_t n;
	assert_true(utf8_check("a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x8E\xAC", 10, &n));
	assert_int_equal(n, 4);
	assert_false(utf8_check("\xC0\xAF", 2, NULL));         /* overlong '/' */
	assert_false(utf8_check("\xE0\x80\xAF", 3, NULL));     /* overlong */
	assert_false(utf8_check("\xED\xA0\x80", 3, NULL));     /* surrogate */
	assert_false(utf8_check("\xF4\x90\x80\x80", 4, NULL)); /* > U+10FFFF */
	assert_false(utf8_check("a\0b", 3, NULL));
	assert_false(utf8_check("\xE2\x82", 2, NULL)); /* cut short */
	assert_int_equal(utf8_valid_prefix("ab\xE2\x82", 4), 2);
}

/* last_frame, seed, audio and options: parsed in both forms, then refused by the
 * OpenAI protocol (the default) before anything is sent, accepted by OpenRouter. */
static void t_prompt_protocol_extras(void **state)
{
	(void)state;
	struct prompt_file pf;
	parse(PROMPT_TXT, "x", "---\nlast_frame: end.png\nseed: 42\naudio: false\n---\nA kite.\n",
	      &pf);
	assert_int_equal(pf.n, 1);
	struct job_spec *s = &pf.jobs[0];
	assert_null(s->error);
	assert_string_equal(s->last_frame, "end.png");
	assert_true(s->has_seed);
	assert_int_equal(s->seed, 42);
	assert_int_equal(s->audio, 2);
	assert_int_equal(prompt_check(s, C), -1);
	expect_error(s, "'last_frame' cannot be sent with api_protocol openai");
	expect_error(s, "'seed' cannot be sent");
	expect_error(s, "'audio' cannot be sent");
	prompt_file_release(&pf);

	char *saved = C->api_protocol;
	C->api_protocol = xstrdup("openrouter");
	parse(PROMPT_JSON, "x",
	      "{\"prompt\": \"A kite.\", \"seed\": 7, \"audio\": true, "
	      "\"options\": {\"provider\": {\"only\": [\"a\"]}}}",
	      &pf);
	s = &pf.jobs[0];
	assert_null(s->error);
	assert_true(s->has_seed);
	assert_int_equal(s->seed, 7);
	assert_int_equal(s->audio, 1);
	assert_string_equal(s->options, "{\"provider\":{\"only\":[\"a\"]}}");
	assert_int_equal(prompt_check(s, C), 0);
	prompt_file_release(&pf);

	static const char *const bad[][2] = {
	    {"---\nseed: -1\n---\nA kite.", "'seed' must be a whole number"},
	    {"---\nseed: 4294967296\n---\nA kite.", "'seed' must be a whole number"},
	    {"---\nseed: 1e3\n---\nA kite.", "'seed' must be a whole number"},
	    {"---\naudio: maybe\n---\nA kite.", "'audio' must be true or false"},
	    {"---\nlast_frame: ../end.png\n---\nA kite.", "'last_frame' must name"},
	    {"---\nlast_frame: end.gif\n---\nA kite.", "'last_frame' must name"},
	    {"---\noptions: {}\n---\nA kite.", "use a .json or .jsonl"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		parse(PROMPT_TXT, "x", bad[i][0], &pf);
		expect_error(&pf.jobs[0], bad[i][1]);
		prompt_file_release(&pf);
	}
	static const char *const bad_json[][2] = {
	    {"{\"prompt\": \"A\", \"seed\": 1.5}", "'seed' must be a whole number"},
	    {"{\"prompt\": \"A\", \"seed\": -2}", "'seed' must be a whole number"},
	    {"{\"prompt\": \"A\", \"options\": [1]}", "'options' must be a JSON object"},
	    {"{\"prompt\": \"A\", \"options\": \"x\"}", "'options' must be a JSON object"},
	    {"{\"prompt\": \"A\", \"audio\": 1}", "\"audio\" must be a string"},
	};
	for (size_t i = 0; i < sizeof(bad_json) / sizeof(bad_json[0]); i++) {
		parse(PROMPT_JSON, "x", bad_json[i][0], &pf);
		expect_error(&pf.jobs[0], bad_json[i][1]);
		prompt_file_release(&pf);
	}
	free(C->api_protocol);
	C->api_protocol = saved;
}

/* extend_of in every form: front matter, JSON, a storyboard's "previous" and an
 * earlier line's name; never with remix_of; refused before any spend where the
 * protocol cannot continue a video (openai), with remix_of suggested. */
static void t_prompt_extend_of_and_storyboards(void **state)
{
	(void)state;
	struct prompt_file pf;
	char *saved = C->api_protocol;
	C->api_protocol = xstrdup("openrouter");

	parse(PROMPT_TXT, "x", "---\nextend_of: shot-1\n---\nThe kite climbs on.", &pf);
	assert_null(pf.jobs[0].error);
	assert_string_equal(pf.jobs[0].extend_of, "shot-1");
	assert_null(pf.jobs[0].remix_of);
	assert_int_equal(prompt_check(&pf.jobs[0], C), 0);
	prompt_file_release(&pf);

	parse(PROMPT_JSON, "x", "{\"prompt\": \"On.\", \"extend_of\": \"vid_abc123\"}", &pf);
	assert_null(pf.jobs[0].error);
	assert_string_equal(pf.jobs[0].extend_of, "vid_abc123");
	prompt_file_release(&pf);

	/* A storyboard: each line extends the one before; "previous" becomes that line's
	 * job name (its own name, or NAME-i), an earlier name is kept as written. */
	parse(PROMPT_JSONL, "board",
	      "{\"prompt\": \"A kite on the ground.\", \"name\": \"one\"}\n"
	      "\n"
	      "{\"prompt\": \"It lifts.\", \"extend_of\": \"previous\"}\n"
	      "{\"prompt\": \"It soars.\", \"extend_of\": \"previous\", \"name\": \"three\"}\n"
	      "{\"prompt\": \"Back to the start.\", \"extend_of\": \"one\"}\n",
	      &pf);
	assert_int_equal(pf.n, 4);
	for (size_t i = 0; i < pf.n; i++)
		if (pf.jobs[i].error)
			fail_msg("line %u: unexpected error: %s", pf.jobs[i].line,
			         pf.jobs[i].error);
	assert_null(pf.jobs[0].extend_of);
	assert_string_equal(pf.jobs[1].name, "board-3");
	assert_string_equal(pf.jobs[1].extend_of, "one");
	assert_string_equal(pf.jobs[2].extend_of, "board-3");
	assert_string_equal(pf.jobs[3].extend_of, "one");
	prompt_file_release(&pf);

	/* A line without a model of its own runs on the model of the line it extends. */
	parse(PROMPT_JSONL, "board",
	      "{\"prompt\": \"A.\", \"model\": \"openai/sora-2-pro\"}\n"
	      "{\"prompt\": \"B.\", \"extend_of\": \"previous\"}\n"
	      "{\"prompt\": \"C.\", \"extend_of\": \"previous\"}\n"
	      "{\"prompt\": \"D.\", \"extend_of\": \"board-1\", \"model\": \"sora-2\"}\n",
	      &pf);
	assert_int_equal(pf.n, 4);
	assert_string_equal(pf.jobs[1].model, "openai/sora-2-pro");
	assert_string_equal(pf.jobs[2].model, "openai/sora-2-pro");
	assert_string_equal(pf.jobs[3].model, "sora-2"); /* its own: said at the source */
	assert_true(pf.jobs[0].model_set);
	assert_false(pf.jobs[1].model_set);
	prompt_file_release(&pf);

	static const struct {
		enum prompt_format f;
		const char *text, *want;
	} bad[] = {
	    {PROMPT_JSONL, "{\"prompt\": \"A.\", \"extend_of\": \"previous\"}\n",
	     "on the batch's first job: there is no line before it"},
	    {PROMPT_TXT, "---\nextend_of: previous\n---\nA.", "the line before in a .jsonl"},
	    {PROMPT_JSON, "{\"prompt\": \"A.\", \"extend_of\": \"previous\"}",
	     "the line before in a .jsonl"},
	    {PROMPT_TXT, "---\nextend_of: a\nremix_of: b\n---\nA.",
	     "'extend_of' and 'remix_of' cannot be combined"},
	    {PROMPT_TXT, "---\nextend_of: ../x\n---\nA.", "'extend_of' must be a video id"},
	    {PROMPT_TXT, "---\nextend_of: x\n---\nA.", "'extend_of' names this job itself"},
	    {PROMPT_TXT, "---\nextends_of: a\n---\nA.", "did you mean 'extend_of'"},
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		parse(bad[i].f, "x", bad[i].text, &pf);
		expect_error(&pf.jobs[0], bad[i].want);
		prompt_file_release(&pf);
	}
	free(C->api_protocol);
	C->api_protocol = saved;

	/* The Videos API has remix, not extend: refused before anything is spent. */
	parse(PROMPT_TXT, "x", "---\nextend_of: shot-1\n---\nOn.", &pf);
	assert_null(pf.jobs[0].error);
	assert_int_equal(prompt_check(&pf.jobs[0], C), -1);
	expect_error(&pf.jobs[0], "'extend_of' cannot be sent with api_protocol openai");
	expect_error(&pf.jobs[0], "use remix_of instead");
	prompt_file_release(&pf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_prompt_txt_whole_file_is_the_prompt),
	    cmocka_unit_test(t_prompt_txt_front_matter_with_bom_and_crlf),
	    cmocka_unit_test(t_prompt_txt_bad_front_matter_names_the_line),
	    cmocka_unit_test(t_prompt_rejects_binary_and_invalid_utf8),
	    cmocka_unit_test(t_prompt_length_limit_counts_characters),
	    cmocka_unit_test(t_prompt_json_object),
	    cmocka_unit_test(t_prompt_jsonl_bad_line_fails_that_line_only),
	    cmocka_unit_test(t_prompt_jsonl_over_the_line_limit_is_refused_whole),
	    cmocka_unit_test(t_prompt_every_spec_has_its_defaults),
	    cmocka_unit_test(t_prompt_remix_rules),
	    cmocka_unit_test(t_prompt_extend_of_and_storyboards),
	    cmocka_unit_test(t_prompt_unsafe_stem_is_sanitized),
	    cmocka_unit_test(t_prompt_validate_against_model_table),
	    cmocka_unit_test(t_utf8_check_rejects_overlong_surrogates_and_nul),
	    cmocka_unit_test(t_prompt_protocol_extras),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
