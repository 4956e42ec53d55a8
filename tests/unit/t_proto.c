/* t_proto.c — the protocols (proto.h): OpenRouter's mapping of a size to resolution and
 * aspect ratio, its status words, its create body (duration, frames as data URLs, seed,
 * generate_audio, options passed through) and its answers, hostile ones included; the
 * OpenAI protocol's multipart create and paths as they always were; the registry; and
 * the capabilities a protocol settles whatever the configuration says. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "caps.h"
#include "proto.h"
#include "util.h"

static void expect_shape(const char *size, const char *res, const char *aspect)
{
	char r[16], a[32];
	if (proto_openrouter_shape(size, r, sizeof(r), a, sizeof(a)) != 0)
		fail_msg("size %s: expected %s %s, got a refusal", size, res, aspect);
	if (strcmp(r, res) || strcmp(a, aspect))
		fail_msg("size %s: expected %s %s, got %s %s", size, res, aspect, r, a);
}

static void t_openrouter_shape_from_size(void **state)
{
	(void)state;
	expect_shape("1280x720", "720p", "16:9");
	expect_shape("720x1280", "720p", "9:16");
	expect_shape("1920x1080", "1080p", "16:9");
	expect_shape("1080x1920", "1080p", "9:16");
	expect_shape("720x720", "720p", "1:1");
	expect_shape("1024x768", "768p", "4:3");
	expect_shape("1792x1024", "1024p", "7:4");
	static const char *const bad[] = {
	    "",          "x",          "1280x",      "x720",      "0x720",
	    "1280x0",    "1280x720x2", "123456x720", "-1280x720", "1280X720",
	    " 1280x720", "1280x720 ",  "12.5x720",   "1280x7a0",  "99999999999999999999x1"};
	char r[16], a[32];
	for (size_t i = 0; i < ARRAY_LEN(bad); i++)
		if (proto_openrouter_shape(bad[i], r, sizeof(r), a, sizeof(a)) != -1)
			fail_msg("size '%s' should be refused, got %s %s", bad[i], r, a);
	assert_int_equal(proto_openrouter_shape(NULL, r, sizeof(r), a, sizeof(a)), -1);
	/* a buffer too small is a refusal, never a cut value */
	assert_int_equal(proto_openrouter_shape("1280x720", r, 3, a, sizeof(a)), -1);
}

static void t_openrouter_status_words(void **state)
{
	(void)state;
	assert_int_equal(proto_openrouter_status("pending"), VIDEO_QUEUED);
	assert_int_equal(proto_openrouter_status("in_progress"), VIDEO_IN_PROGRESS);
	assert_int_equal(proto_openrouter_status("IN_PROGRESS"), VIDEO_IN_PROGRESS);
	assert_int_equal(proto_openrouter_status("completed"), VIDEO_COMPLETED);
	assert_int_equal(proto_openrouter_status("failed"), VIDEO_FAILED);
	assert_int_equal(proto_openrouter_status("cancelled"), VIDEO_CANCELLED);
	assert_int_equal(proto_openrouter_status("expired"), VIDEO_EXPIRED);
	/* OpenAI's words are not OpenRouter's: unknown, treated as still running */
	assert_int_equal(proto_openrouter_status("queued"), VIDEO_UNKNOWN);
	assert_int_equal(proto_openrouter_status("done"), VIDEO_UNKNOWN);
	assert_int_equal(proto_openrouter_status(""), VIDEO_UNKNOWN);
	assert_int_equal(proto_openrouter_status(NULL), VIDEO_UNKNOWN);
}

static int parse_or(struct video *v, char **url, const char *json)
{
	char err[256];
	bool syntax = false;
	video_init(v);
	return proto_openrouter.parse_video(v, url, json, strlen(json), &syntax, err, sizeof(err));
}

static void t_openrouter_parses_answers(void **state)
{
	(void)state;
	struct video v;
	char *url = NULL;

	assert_int_equal(parse_or(&v, &url,
	                          "{\"id\":\"gen-vid-1-abc\",\"polling_url\":"
	                          "\"https://openrouter.ai/api/v1/videos/gen-vid-1-abc\","
	                          "\"status\":\"pending\"}"),
	                 0);
	assert_string_equal(v.id, "gen-vid-1-abc");
	assert_int_equal(v.status, VIDEO_QUEUED);
	assert_int_equal(v.progress, -1);
	assert_string_equal(url, "https://openrouter.ai/api/v1/videos/gen-vid-1-abc");
	free(url);
	video_release(&v);

	assert_int_equal(parse_or(&v, &url,
	                          "{\"id\":\"gen-vid-1-abc\",\"status\":\"completed\","
	                          "\"unsigned_urls\":[\"https://x/y\"],"
	                          "\"usage\":{\"cost\":0.8,\"is_byok\":false}}"),
	                 0);
	assert_int_equal(v.status, VIDEO_COMPLETED);
	assert_true(v.usage_cost > 0.79 && v.usage_cost < 0.81);
	assert_false(v.has_error);
	assert_null(url);
	video_release(&v);

	static const struct {
		const char *word;
		enum video_status st;
	} ends[] = {
	    {"failed", VIDEO_FAILED}, {"cancelled", VIDEO_CANCELLED}, {"expired", VIDEO_EXPIRED}};
	for (size_t i = 0; i < ARRAY_LEN(ends); i++) {
		char body[256];
		bfmt(body, sizeof(body),
		     "{\"id\":\"gen-vid-2\",\"status\":\"%s\",\"error\":\"Job %s:\\nsee\\tlogs\"}",
		     ends[i].word, ends[i].word);
		assert_int_equal(parse_or(&v, NULL, body), 0);
		assert_int_equal(v.status, ends[i].st);
		assert_true(v.has_error);
		/* one log line: control characters become spaces */
		assert_non_null(v.error_message);
		assert_null(strpbrk(v.error_message, "\n\t"));
		assert_non_null(strstr(v.error_message, ends[i].word));
		video_release(&v);
	}
}

static void t_openrouter_refuses_hostile_answers(void **state)
{
	(void)state;
	struct video v;
	char *url = (char *)1;
	static const char *const bad[] = {
	    "",
	    "not json",
	    "{\"id\":\"gen-vid-1\",\"status\":\"pending\"",       /* cut */
	    "{\"id\":\"gen-vid-1\"}",                             /* no status */
	    "{\"id\":\"a b\",\"status\":\"pending\"}",            /* unsafe id */
	    "{\"id\":\"..\",\"status\":\"pending\"}",             /* unsafe id */
	    "{\"id\":42,\"status\":\"pending\"}",                 /* not a string */
	    "[{\"id\":\"gen-vid-1\",\"status\":\"pending\"}]",    /* not an object */
	    "{\"id\":\"gen-vid-1\",\"status\":\"pending\"} tail", /* trailing garbage */
	    "{\"id\":\"gen\\u0000x\",\"status\":\"pending\"}",    /* a NUL in the id */
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		if (parse_or(&v, &url, bad[i]) != -1)
			fail_msg("answer %zu should be refused: %s", i, bad[i]);
		assert_null(url);
		assert_null(v.id);
		video_release(&v);
	}
	/* wrong types and sizes of what is optional: ignored, never trusted */
	assert_int_equal(parse_or(&v, &url,
	                          "{\"id\":\"g\",\"status\":\"completed\",\"polling_url\":7,"
	                          "\"usage\":{\"cost\":\"0.8\"},\"error\":{\"x\":1}}"),
	                 0);
	assert_null(url);
	assert_true(v.usage_cost < 0);
	video_release(&v);
	assert_int_equal(parse_or(&v, &url,
	                          "{\"id\":\"g\",\"status\":\"failed\",\"usage\":{\"cost\":-3},"
	                          "\"polling_url\":\"http://h/a b\",\"error\":12}"),
	                 0);
	assert_null(url); /* a URL with a space is not one to poll */
	assert_true(v.usage_cost < 0);
	assert_false(v.has_error); /* a number is no error text */
	video_release(&v);
	/* a huge error text is cut to VIDEO_MESSAGE_MAX; a huge polling_url dropped */
	size_t n = VIDEO_MESSAGE_MAX * 4;
	static const char head[] = "{\"id\":\"g\",\"status\":\"failed\",\"error\":\"";
	char *big = xmalloc(n + 3300), *s;
	memcpy(big, head, sizeof(head));
	s = big + strlen(big);
	memset(s, 'e', n);
	s += n;
	bfmt(s, 64, "\",\"polling_url\":\"http://h/");
	s += strlen(s);
	memset(s, 'p', 3000);
	s += 3000;
	memcpy(s, "\"}", 3);
	assert_int_equal(parse_or(&v, &url, big), 0);
	assert_true(v.has_error);
	assert_true(strlen(v.error_message) <= VIDEO_MESSAGE_MAX);
	assert_null(url);
	video_release(&v);
	free(big);
}

/* A small file with a PNG signature (the protocols sniff, they do not decode). */
static void write_png(const char *path)
{
	static const unsigned char png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0,
	                                    0,    13,  'I', 'H', 'D',  'R',  1,    2,    3};
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(png, 1, sizeof(png), f), sizeof(png));
	assert_int_equal(fclose(f), 0);
}

static cJSON *build_or(const struct api_create_params *p, enum api_kind *kind, char *err,
                       size_t errlen)
{
	struct proto_request r;
	proto_request_init(&r);
	if (proto_openrouter.create(p, &r, kind, err, errlen) != 0) {
		proto_request_release(&r);
		return NULL;
	}
	assert_string_equal(r.method, "POST");
	assert_string_equal(r.path, "/videos");
	assert_int_equal(r.n_parts, 0);
	cJSON *o = cJSON_Parse(r.json);
	proto_request_release(&r);
	assert_non_null(o);
	return o;
}

static const char *str_at(const cJSON *o, const char *k)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(m) ? m->valuestring : NULL;
}

/* A size the model lists itself (its catalog's supported_sizes) goes as "size". */
static void t_openrouter_size_as_listed(void **state)
{
	(void)state;
	char err[256] = "";
	enum api_kind kind = API_OK;
	struct api_create_params p = {.prompt = "A fox",
	                              .model = "openai/sora-2-pro",
	                              .size = "1792x1024",
	                              .size_as_is = true};
	cJSON *o = build_or(&p, &kind, err, sizeof(err));
	assert_non_null(o);
	assert_string_equal(str_at(o, "size"), "1792x1024");
	assert_null(cJSON_GetObjectItemCaseSensitive(o, "resolution"));
	assert_null(cJSON_GetObjectItemCaseSensitive(o, "aspect_ratio"));
	cJSON_Delete(o);
	p.size_as_is = false;
	o = build_or(&p, &kind, err, sizeof(err));
	assert_non_null(o);
	assert_null(cJSON_GetObjectItemCaseSensitive(o, "size"));
	assert_string_equal(str_at(o, "resolution"), "1024p");
	cJSON_Delete(o);
}

static void t_openrouter_create_body(void **state)
{
	(void)state;
	char first[] = "/tmp/t_proto_first_XXXXXX", err[256] = "";
	int fd = mkstemp(first);
	assert_true(fd >= 0);
	close(fd);
	write_png(first);
	enum api_kind kind = API_OK;
	struct api_create_params p = {.prompt = "A fox",
	                              .model = "google/veo-3.1",
	                              .seconds = "8",
	                              .size = "720x1280",
	                              .input_reference = first,
	                              .last_frame = first,
	                              .has_seed = true,
	                              .seed = 4294967295LL,
	                              .audio = API_AUDIO_OFF,
	                              .options_json = "{\"provider\":{\"only\":[\"x\"]},\"n\":1}"};
	cJSON *o = build_or(&p, &kind, err, sizeof(err));
	assert_non_null(o);
	assert_string_equal(str_at(o, "model"), "google/veo-3.1");
	assert_string_equal(str_at(o, "prompt"), "A fox");
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(o, "duration");
	assert_true(cJSON_IsNumber(d) && d->valuedouble == 8);
	assert_string_equal(str_at(o, "resolution"), "720p");
	assert_string_equal(str_at(o, "aspect_ratio"), "9:16");
	assert_null(cJSON_GetObjectItemCaseSensitive(o, "size"));
	assert_null(cJSON_GetObjectItemCaseSensitive(o, "seconds"));
	const cJSON *frames = cJSON_GetObjectItemCaseSensitive(o, "frame_images");
	assert_int_equal(cJSON_GetArraySize(frames), 2);
	const cJSON *f0 = cJSON_GetArrayItem(frames, 0), *f1 = cJSON_GetArrayItem(frames, 1);
	assert_string_equal(str_at(f0, "type"), "image_url");
	assert_string_equal(str_at(f0, "frame_type"), "first_frame");
	assert_string_equal(str_at(f1, "frame_type"), "last_frame");
	/* 19 bytes of PNG: "iVBORw0KGgo..." after the prefix, padded */
	const char *url = str_at(cJSON_GetObjectItemCaseSensitive(f0, "image_url"), "url");
	assert_non_null(url);
	assert_string_equal(url, "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgECAw==");
	const cJSON *seed = cJSON_GetObjectItemCaseSensitive(o, "seed");
	assert_true(cJSON_IsNumber(seed) && seed->valuedouble == 4294967295.0);
	assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(o, "generate_audio")));
	assert_true(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(o, "provider")));
	assert_true(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(o, "n")));
	cJSON_Delete(o);

	/* the least: the prompt only; audio on */
	struct api_create_params min = {.prompt = "A fox", .audio = API_AUDIO_ON};
	o = build_or(&min, &kind, err, sizeof(err));
	assert_non_null(o);
	assert_int_equal(cJSON_GetArraySize(o), 2);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "generate_audio")));
	cJSON_Delete(o);

	/* refused before anything is sent: options that restate a key, options that are
	 * not an object, seconds that are not whole, a size that is not WxH, an image that
	 * is none */
	static const char *const bad_options[] = {"{\"duration\":4}", "[1]", "nope", "{\"a\":"};
	for (size_t i = 0; i < ARRAY_LEN(bad_options); i++) {
		struct api_create_params b = {
		    .prompt = "A fox", .seconds = "4", .options_json = bad_options[i]};
		kind = API_OK;
		assert_null(build_or(&b, &kind, err, sizeof(err)));
		assert_int_equal(kind, API_VALIDATION);
	}
	struct api_create_params b = {.prompt = "A fox", .seconds = "8s"};
	assert_null(build_or(&b, &kind, err, sizeof(err)));
	assert_int_equal(kind, API_VALIDATION);
	b = (struct api_create_params){.prompt = "A fox", .size = "big"};
	assert_null(build_or(&b, &kind, err, sizeof(err)));
	assert_int_equal(kind, API_VALIDATION);
	FILE *f = fopen(first, "w");
	assert_non_null(f);
	fputs("not an image", f);
	fclose(f);
	b = (struct api_create_params){.prompt = "A fox", .last_frame = first};
	assert_null(build_or(&b, &kind, err, sizeof(err)));
	assert_int_equal(kind, API_VALIDATION);
	unlink(first);
	b = (struct api_create_params){.prompt = "A fox", .input_reference = first};
	assert_null(build_or(&b, &kind, err, sizeof(err)));
	assert_int_equal(kind, API_LOCAL);
}

static void t_openai_create_is_the_multipart_it_was(void **state)
{
	(void)state;
	char ref[] = "/tmp/t_proto_ref_XXXXXX", err[256];
	int fd = mkstemp(ref);
	assert_true(fd >= 0);
	close(fd);
	write_png(ref);
	struct api_create_params p = {.prompt = "A fox",
	                              .model = "sora-2",
	                              .seconds = "4",
	                              .size = "1280x720",
	                              .input_reference = ref};
	struct proto_request r;
	enum api_kind kind = API_OK;
	proto_request_init(&r);
	assert_int_equal(proto_openai.create(&p, &r, &kind, err, sizeof(err)), 0);
	assert_string_equal(r.method, "POST");
	assert_string_equal(r.path, "/videos");
	assert_null(r.json);
	static const char *const names[] = {"prompt", "model", "seconds", "size",
	                                    "input_reference"};
	static const char *const values[] = {"A fox", "sora-2", "4", "1280x720", NULL};
	assert_int_equal(r.n_parts, 5);
	for (size_t i = 0; i < 5; i++) {
		assert_string_equal(r.parts[i].name, names[i]);
		if (values[i])
			assert_string_equal(r.parts[i].value, values[i]);
	}
	assert_string_equal(r.parts[4].file, ref);
	assert_string_equal(r.parts[4].mime, "image/png");
	proto_request_release(&r);
	/* unset fields are not sent */
	struct api_create_params q = {.prompt = "A fox"};
	assert_int_equal(proto_openai.create(&q, &r, &kind, err, sizeof(err)), 0);
	assert_int_equal(r.n_parts, 1);
	proto_request_release(&r);
	/* what the Videos API has no field for is refused, nothing sent */
	struct api_create_params s = {.prompt = "A fox", .has_seed = true, .seed = 1};
	assert_int_equal(proto_openai.create(&s, &r, &kind, err, sizeof(err)), -1);
	assert_int_equal(kind, API_VALIDATION);
	assert_non_null(strstr(err, "seed"));
	proto_request_release(&r);
	unlink(ref);
}

/* callback_url (callback.h): OpenRouter's create carries it when set, and an options
 * object may not set it behind sorad's back; the Videos API's multipart never has it. */
static void t_callback_url_only_in_openrouter_creates(void **state)
{
	(void)state;
	char err[256] = "";
	enum api_kind kind = API_OK;
	const char *url = "http://127.0.0.1:8788/hooks/sorad";
	struct api_create_params p = {.prompt = "A fox", .seconds = "4", .callback_url = url};
	cJSON *o = build_or(&p, &kind, err, sizeof(err));
	assert_non_null(o);
	assert_string_equal(str_at(o, "callback_url"), url);
	cJSON_Delete(o);
	struct api_create_params none = {.prompt = "A fox", .seconds = "4"};
	o = build_or(&none, &kind, err, sizeof(err));
	assert_non_null(o);
	assert_null(cJSON_GetObjectItemCaseSensitive(o, "callback_url"));
	cJSON_Delete(o);
	struct api_create_params sneaky = {.prompt = "A fox",
	                                   .callback_url = url,
	                                   .options_json = "{\"callback_url\":\"http://x/\"}"};
	kind = API_OK;
	assert_null(build_or(&sneaky, &kind, err, sizeof(err)));
	assert_int_equal(kind, API_VALIDATION);
	assert_non_null(strstr(err, "callback_url"));

	struct proto_request r;
	proto_request_init(&r);
	kind = API_OK;
	assert_int_equal(proto_openai.create(&p, &r, &kind, err, sizeof(err)), 0);
	assert_null(r.json);
	for (size_t i = 0; i < r.n_parts; i++) {
		assert_string_not_equal(r.parts[i].name, "callback_url");
		assert_true(!r.parts[i].value || !strstr(r.parts[i].value, url));
	}
	proto_request_release(&r);
}

/* previous_job_id: in OpenRouter's create body only when the job extends another;
 * the Videos API has no such field, so the openai protocol refuses it, nothing sent. */
static void t_previous_job_id_only_for_openrouter(void **state)
{
	(void)state;
	char err[256] = "";
	enum api_kind kind = API_OK;
	struct api_create_params p = {
	    .prompt = "On", .model = "google/veo-3.1", .previous_job_id = "job_src_1"};
	cJSON *o = build_or(&p, &kind, err, sizeof(err));
	assert_non_null(o);
	assert_string_equal(str_at(o, "previous_job_id"), "job_src_1");
	cJSON_Delete(o);
	p.previous_job_id = NULL;
	o = build_or(&p, &kind, err, sizeof(err));
	assert_non_null(o);
	assert_null(cJSON_GetObjectItemCaseSensitive(o, "previous_job_id"));
	cJSON_Delete(o);

	struct proto_request r;
	proto_request_init(&r);
	p.previous_job_id = "job_src_1";
	assert_int_equal(proto_openai.create(&p, &r, &kind, err, sizeof(err)), -1);
	assert_int_equal(kind, API_VALIDATION);
	if (!strstr(err, "extend_of"))
		fail_msg("expected the refusal to name extend_of, got \"%s\"", err);
	assert_int_equal(r.n_parts, 0);
	proto_request_release(&r);
	assert_true(proto_openrouter.extras & PROTO_EXTRA_EXTEND);
	assert_false(proto_openai.extras & PROTO_EXTRA_EXTEND);
}

static void expect_path(const struct proto *p, enum api_op op, enum api_variant v, const char *want)
{
	char *got = p->video_path(op, "vid%2Fx", v);
	if (!want) {
		if (got)
			fail_msg("%s %s: expected no request, got %s", p->name, api_op_name(op),
			         got);
		return;
	}
	if (!got || strcmp(got, want))
		fail_msg("%s %s: expected %s, got %s", p->name, api_op_name(op), want,
		         got ? got : "none");
	free(got);
}

static void t_paths(void **state)
{
	(void)state;
	expect_path(&proto_openai, API_OP_RETRIEVE, API_VARIANT_VIDEO, "/videos/vid%2Fx");
	expect_path(&proto_openai, API_OP_DELETE, API_VARIANT_VIDEO, "/videos/vid%2Fx");
	expect_path(&proto_openai, API_OP_REMIX, API_VARIANT_VIDEO, "/videos/vid%2Fx/remix");
	expect_path(&proto_openai, API_OP_CONTENT, API_VARIANT_THUMBNAIL,
	            "/videos/vid%2Fx/content?variant=thumbnail");
	expect_path(&proto_openai, API_OP_CONTENT, API_VARIANT_VIDEO,
	            "/videos/vid%2Fx/content?variant=video");
	expect_path(&proto_openrouter, API_OP_RETRIEVE, API_VARIANT_VIDEO, "/videos/vid%2Fx");
	expect_path(&proto_openrouter, API_OP_CONTENT, API_VARIANT_VIDEO,
	            "/videos/vid%2Fx/content?index=0");
	expect_path(&proto_openrouter, API_OP_CONTENT, API_VARIANT_THUMBNAIL, NULL);
	expect_path(&proto_openrouter, API_OP_CONTENT, API_VARIANT_SPRITESHEET, NULL);
	expect_path(&proto_openrouter, API_OP_DELETE, API_VARIANT_VIDEO, NULL);
	expect_path(&proto_openrouter, API_OP_REMIX, API_VARIANT_VIDEO, NULL);
}

/* A polling_url is followed only under api_base: the key goes nowhere else. */
static void t_polling_url_under_the_base_only(void **state)
{
	(void)state;
	const char *base = "https://openrouter.ai/api/v1";
	assert_string_equal(proto_path_under(base, "https://openrouter.ai/api/v1/videos/g-1"),
	                    "/videos/g-1");
	assert_string_equal(proto_path_under(base, "https://openrouter.ai/api/v1/jobs/g-1?x=1"),
	                    "/jobs/g-1?x=1");
	static const char *const elsewhere[] = {
	    "https://evil.example/api/v1/videos/g-1",
	    "https://openrouter.ai.evil.example/api/v1/videos/g-1",
	    "https://openrouter.ai/api/v10/videos/g-1",
	    "http://openrouter.ai/api/v1/videos/g-1",
	    "https://openrouter.ai/api/v1",
	    "https://openrouter.ai/api/v1/../v2/videos/g-1",
	    "https://openrouter.ai/api/v1/videos/g-1#frag",
	    "/videos/g-1",
	    "",
	};
	for (size_t i = 0; i < ARRAY_LEN(elsewhere); i++)
		if (proto_path_under(base, elsewhere[i]))
			fail_msg("%s is not under %s", elsewhere[i], base);
	assert_null(proto_path_under(base, NULL));
	assert_null(proto_path_under("", "https://x/videos"));
}

static void t_registry(void **state)
{
	(void)state;
	assert_ptr_equal(proto_find(NULL), &proto_openai);
	assert_ptr_equal(proto_find("openai"), &proto_openai);
	assert_ptr_equal(proto_find("openrouter"), &proto_openrouter);
	assert_null(proto_find("OpenRouter"));
	assert_null(proto_find(""));
	assert_string_equal(proto_names(), "openai, openrouter");
	assert_int_equal(proto_openai.extras, 0);
}

static void t_openrouter_moderation_is_not_a_key_problem(void **state)
{
	(void)state;
	const char *mod = "{\"error\":{\"code\":403,\"message\":\"flagged\","
	                  "\"metadata\":{\"reasons\":[\"violence\"]}}}";
	const char *key = "{\"error\":{\"code\":403,\"message\":\"Key disabled\"}}";
	struct api_error e;
	api_error_init(&e);
	assert_int_equal(proto_openrouter.error_kind(403, &e, mod, strlen(mod)),
	                 API_CONTENT_POLICY);
	assert_string_equal(e.code, "moderation_blocked");
	api_error_release(&e);
	assert_int_equal(proto_openrouter.error_kind(403, &e, key, strlen(key)), API_OK);
	assert_int_equal(proto_openrouter.error_kind(400, &e, mod, strlen(mod)), API_OK);
	assert_int_equal(proto_openrouter.error_kind(403, &e, "garbage", 7), API_OK);
	assert_int_equal(proto_openrouter.error_kind(403, &e, NULL, 0), API_OK);
	api_error_release(&e);
}

static void t_protocol_settles_caps(void **state)
{
	(void)state;
	struct caps c;
	enum caps_setting set[CAPS_COUNT] = {0};
	set[CAPS_LIST] = CAPS_SET_YES; /* a configuration that says otherwise */
	memset(&c, 0, sizeof(c));
	caps_configure(&c, "http://127.0.0.1:1/api/v1", CAPS_PROFILE_OPENAI, set);
	caps_set_protocol(&c, proto_openrouter.name, proto_openrouter.caps);
	enum caps_source src;
	assert_int_equal(caps_get(&c, CAPS_LIST, &src), CAPS_NO);
	assert_int_equal(src, CAPS_FROM_PROTOCOL);
	assert_false(caps_has(&c, CAPS_THUMBNAIL));
	assert_false(caps_has(&c, CAPS_SPRITESHEET));
	assert_false(caps_has(&c, CAPS_DELETE));
	caps_learn(&c, CAPS_LIST, CAPS_YES, "a list answered");
	assert_false(caps_has(&c, CAPS_LIST));
	char why[200];
	assert_non_null(
	    strstr(caps_explain(&c, CAPS_LIST, why, sizeof(why)), "api_protocol openrouter"));
	/* OpenAI settles nothing: the configuration and the profile decide again */
	caps_set_protocol(&c, proto_openai.name, proto_openai.caps);
	assert_int_equal(caps_get(&c, CAPS_LIST, &src), CAPS_YES);
	assert_int_equal(src, CAPS_FROM_CONFIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_openrouter_shape_from_size),
	    cmocka_unit_test(t_openrouter_status_words),
	    cmocka_unit_test(t_openrouter_parses_answers),
	    cmocka_unit_test(t_openrouter_refuses_hostile_answers),
	    cmocka_unit_test(t_openrouter_create_body),
	    cmocka_unit_test(t_openrouter_size_as_listed),
	    cmocka_unit_test(t_openai_create_is_the_multipart_it_was),
	    cmocka_unit_test(t_callback_url_only_in_openrouter_creates),
	    cmocka_unit_test(t_previous_job_id_only_for_openrouter),
	    cmocka_unit_test(t_paths),
	    cmocka_unit_test(t_polling_url_under_the_base_only),
	    cmocka_unit_test(t_registry),
	    cmocka_unit_test(t_openrouter_moderation_is_not_a_key_problem),
	    cmocka_unit_test(t_protocol_settles_caps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
