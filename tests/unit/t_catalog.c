/* t_catalog.c — the model catalog: sora-sim's GET /videos/models parsed, hostile
 * answers survived, every problem of a job named with what is allowed, the cache's
 * round trip and age. */
#include "catalog.h"
#include "conf.h"
#include "prompt.h"
#include "util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What sora-sim --protocol openrouter serves (sim/openrouter.c), every field of
 * @openrouter/sdk's VideoModel. */
static const char SIM_ANSWER[] =
    "{\"data\":[{\"allowed_passthrough_parameters\":[\"personGeneration\",\"negativePrompt\"],\"ca"
    "nonical_slug\":\"google/veo-3.1\",\"created\":1760400000,\"creativity\":null,\"description\":"
    "\"Google's video model with sound; first and last frames; continues a previous job.\","
    "\"generate_audio\":true,\"hugging_face_id\":null,\"id\":\"google/veo-3.1\",\"name\":\"Google: "
    "V"
    "eo 3.1\",\"pricing_skus\":{\"duration_seconds_with_audio\":\"0.40\",\"duration_seconds_witho"
    "ut_audio\":\"0.20\"},\"seed\":true,\"supported_aspect_ratios\":[\"16:9\",\"9:16\"],"
    "\"supported_d"
    "urations\":[4,6,8],\"supported_frame_images\":[\"first_frame\",\"last_frame\"],\"supported_r"
    "esolutions\":[\"720p\",\"1080p\"],\"supported_sizes\":null,\"upscale_factor\":null},{\"allowed"
    "_passthrough_parameters\":[],\"canonical_slug\":\"openai/sora-2-pro\",\"created\":175970880"
    "0,\"creativity\":null,\"description\":\"OpenAI's video model, sized in pixels; a first fr"
    "ame; edits a previous job.\",\"generate_audio\":true,\"hugging_face_id\":null,\"id\":\"opena"
    "i/sora-2-pro\",\"name\":\"OpenAI: Sora 2 Pro\",\"pricing_skus\":{\"duration_seconds_720p\":\"0"
    ".30\",\"duration_seconds_1080p\":\"0.50\"},\"seed\":true,\"supported_aspect_ratios\":[\"16:"
    "9\","
    "\"9:16\"],\"supported_durations\":[4,8,12],\"supported_frame_images\":[\"first_frame\"],\"sup"
    "ported_resolutions\":[\"720p\",\"1080p\"],\"supported_sizes\":[\"720x1280\",\"1280x720\","
    "\"1080x"
    "1920\",\"1920x1080\"],\"upscale_factor\":null},{\"allowed_passthrough_parameters\":[\"negati"
    "ve_prompt\",\"prompt_extend\"],\"canonical_slug\":\"alibaba/wan-2.6\",\"created\":1765152000,"
    "\"creativity\":null,\"description\":\"Alibaba's video model: 5 or 10 seconds, square too;"
    " a first frame; no continuation.\",\"generate_audio\":true,\"hugging_face_id\":null,\"id\":"
    "\"alibaba/wan-2.6\",\"name\":\"Alibaba: Wan 2.6\",\"pricing_skus\":{\"duration_seconds_720p\":"
    "\"0.10\",\"duration_seconds_1080p\":\"0.15\"},\"seed\":true,\"supported_aspect_ratios\":[\"16:"
    "9"
    "\",\"9:16\",\"1:1\"],\"supported_durations\":[5,10],\"supported_frame_images\":[\"first_"
    "frame\""
    "],\"supported_resolutions\":[\"720p\",\"1080p\"],\"supported_sizes\":null,\"upscale_factor\":n"
    "ull}]}";

static struct catalog *parse_ok(const char *json)
{
	char why[256];
	struct catalog *cat = catalog_parse(json, strlen(json), why, sizeof(why));
	if (!cat)
		fail_msg("catalog_parse refused %.80s...: %s", json, why);
	return cat;
}

static void expect_list(const struct catalog_list *l, const char *joined)
{
	char buf[1024] = "";
	for (size_t i = 0; i < l->n; i++) {
		size_t used = strlen(buf);
		bfmt(buf + used, sizeof(buf) - used, "%s%s", i ? ", " : "", l->v[i]);
	}
	if (!l->stated || strcmp(buf, joined) != 0)
		fail_msg("expected the list \"%s\", got %s\"%s\"", joined,
		         l->stated ? "" : "(not stated) ", buf);
}

/* Validates REQ, expecting problems that contain each of the NULL-terminated NEEDLES
 * (none: it must pass); NEEDLES count the lines exactly. */
static void expect_problems(const struct catalog *cat, const struct catalog_request *req, ...)
{
	char why[2048];
	int rc = catalog_validate(cat, req, why, sizeof(why));
	va_list ap;
	va_start(ap, req);
	size_t n = 0;
	for (const char *needle; (needle = va_arg(ap, const char *));) {
		n++;
		if (!strstr(why, needle))
			fail_msg("expected a problem \"%s\", got \"%s\"", needle, why);
	}
	va_end(ap);
	size_t lines = why[0] ? 1 : 0;
	for (const char *p = why; *p; p++)
		lines += *p == '\n';
	if (lines != n || (n == 0) != (rc == 0))
		fail_msg("expected %zu problem(s) (rc %d), got rc %d: \"%s\"", n, n ? -1 : 0, rc,
		         why);
}

static void t_catalog_parses_the_sims_answer(void **state)
{
	(void)state;
	struct catalog *cat = parse_ok(SIM_ANSWER);
	assert_int_equal(cat->n, 3);
	const struct catalog_model *veo = catalog_find(cat, "google/veo-3.1");
	assert_non_null(veo);
	assert_string_equal(veo->name, "Google: Veo 3.1");
	assert_true(veo->durations_stated);
	assert_int_equal(veo->n_durations, 3);
	assert_int_equal(veo->durations[0], 4);
	assert_int_equal(veo->durations[2], 8);
	expect_list(&veo->resolutions, "720p, 1080p");
	expect_list(&veo->aspect_ratios, "16:9, 9:16");
	assert_false(veo->sizes.stated); /* null: by resolution and aspect ratio */
	expect_list(&veo->frames, "first_frame, last_frame");
	assert_int_equal(veo->audio, CATALOG_YES);
	assert_int_equal(veo->seed, CATALOG_YES);
	assert_int_equal(veo->n_prices, 2);
	assert_string_equal(veo->prices[0].sku, "duration_seconds_with_audio");
	assert_string_equal(veo->prices[0].usd, "0.40");
	const struct catalog_model *sora = catalog_find(cat, "openai/sora-2-pro");
	assert_non_null(sora);
	expect_list(&sora->sizes, "720x1280, 1280x720, 1080x1920, 1920x1080");
	expect_list(&sora->frames, "first_frame");
	const struct catalog_model *wan = catalog_find(cat, "alibaba/wan-2.6");
	assert_non_null(wan);
	expect_list(&wan->aspect_ratios, "16:9, 9:16, 1:1");
	assert_null(catalog_find(cat, "google/veo-3"));
	assert_null(catalog_find(NULL, "google/veo-3.1"));
	/* a size goes as it is only to a model that lists it */
	assert_true(catalog_takes_size(cat, "openai/sora-2-pro", "1280x720"));
	assert_false(catalog_takes_size(cat, "openai/sora-2-pro", "1792x1024"));
	assert_false(catalog_takes_size(cat, "google/veo-3.1", "1280x720"));
	assert_false(catalog_takes_size(cat, "google/veo-3", "1280x720"));
	assert_false(catalog_takes_size(NULL, "openai/sora-2-pro", "1280x720"));
	assert_false(catalog_takes_size(cat, "openai/sora-2-pro", NULL));
	catalog_free(cat);
}

static void t_catalog_refuses_what_is_not_a_catalog(void **state)
{
	(void)state;
	char why[256];
	static const char *const bad[] = {"",
	                                  "not json",
	                                  "[]",
	                                  "{}",
	                                  "{\"data\":{}}",
	                                  "{\"data\":\"x\"}",
	                                  "{\"data\":null}",
	                                  "{\"data\":[1,2"};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		struct catalog *cat = catalog_parse(bad[i], strlen(bad[i]), why, sizeof(why));
		if (cat)
			fail_msg("\"%s\" was taken for a catalog", bad[i]);
		assert_true(why[0] != '\0');
	}
	/* Over the size limit: refused before it is parsed. */
	size_t big = CATALOG_MAX_BYTES + 1;
	char *huge = xmalloc(big);
	memset(huge, ' ', big);
	memcpy(huge, "{\"data\":[]}", 11);
	assert_null(catalog_parse(huge, big, why, sizeof(why)));
	assert_non_null(strstr(why, "more than"));
	free(huge);
}

static void t_catalog_skips_fields_of_the_wrong_type(void **state)
{
	(void)state;
	struct catalog *cat = parse_ok(
	    "{\"data\":[7, null, \"m\", {\"name\":\"no id\"}, {\"id\":42}, {\"id\":\"\"},"
	    "{\"id\":\"bad\\u0001id\"},"
	    "{\"id\":\"a/one\",\"name\":5,\"supported_durations\":[\"4\",4.5,-1,0,1e300,null,"
	    "true,{},6,6,8],\"supported_resolutions\":\"720p\",\"supported_aspect_ratios\":"
	    "[16,\"16:9\",null,\"16:9\",[\"1:1\"]],\"supported_sizes\":{\"a\":1},"
	    "\"supported_frame_images\":[\"first_frame\",3],\"generate_audio\":\"yes\","
	    "\"seed\":0,\"pricing_skus\":{\"a\":0.1,\"b\":\"free\",\"c\":\"-1\",\"d\":\"0.25\","
	    "\"e\":null}},"
	    "{\"id\":\"a/two\"},"
	    "{\"id\":\"a/one\",\"supported_durations\":[99]}]}");
	assert_int_equal(cat->n, 2);
	const struct catalog_model *m = catalog_find(cat, "a/one");
	assert_non_null(m);
	assert_null(m->name);
	assert_int_equal(m->n_durations, 2); /* 6 and 8, each once; the first a/one counts */
	assert_int_equal(m->durations[0], 6);
	assert_int_equal(m->durations[1], 8);
	assert_false(m->resolutions.stated);
	expect_list(&m->aspect_ratios, "16:9");
	assert_false(m->sizes.stated);
	expect_list(&m->frames, "first_frame");
	assert_int_equal(m->audio, CATALOG_UNKNOWN);
	assert_int_equal(m->seed, CATALOG_UNKNOWN);
	assert_int_equal(m->n_prices, 1);
	assert_string_equal(m->prices[0].sku, "d");
	/* Everything missing: nothing stated, nothing checked. */
	const struct catalog_model *two = catalog_find(cat, "a/two");
	assert_non_null(two);
	assert_false(two->durations_stated || two->resolutions.stated || two->frames.stated);
	struct catalog_request req = {.model = "a/two",
	                              .seconds = 999,
	                              .size = "1x1",
	                              .first_frame = true,
	                              .last_frame = true,
	                              .audio = CATALOG_YES,
	                              .seed = true};
	expect_problems(cat, &req, NULL);
	catalog_free(cat);
}

static void t_catalog_cuts_huge_arrays(void **state)
{
	(void)state;
	/* 5000 models, the first with 5000 durations and 5000 resolutions. */
	size_t cap = 2u << 20, len = 0;
	char *j = xmalloc(cap);
	len += (size_t)snprintf(j + len, cap - len,
	                        "{\"data\":[{\"id\":\"m/0\",\"supported_durations\":[");
	for (int i = 1; i <= 5000; i++)
		len += (size_t)snprintf(j + len, cap - len, "%s%d", i > 1 ? "," : "", i);
	len += (size_t)snprintf(j + len, cap - len, "],\"supported_resolutions\":[");
	for (int i = 1; i <= 5000; i++)
		len += (size_t)snprintf(j + len, cap - len, "%s\"%dp\"", i > 1 ? "," : "", i);
	len += (size_t)snprintf(j + len, cap - len, "]}");
	for (int i = 1; i < 5000; i++)
		len += (size_t)snprintf(j + len, cap - len, ",{\"id\":\"m/%d\"}", i);
	len += (size_t)snprintf(j + len, cap - len, "]}");
	assert_true(len < cap - 1);
	struct catalog *cat = parse_ok(j);
	assert_int_equal(cat->n, CATALOG_MAX_MODELS);
	assert_int_equal(cat->models[0].n_durations, CATALOG_MAX_VALUES);
	assert_int_equal(cat->models[0].resolutions.n, CATALOG_MAX_VALUES);
	/* A problem's list of allowed values is bounded too. */
	char why[512];
	struct catalog_request req = {.model = "m/0", .seconds = 9999};
	assert_int_equal(catalog_validate(cat, &req, why, sizeof(why)), -1);
	assert_true(strlen(why) < sizeof(why));
	assert_non_null(strstr(why, "9999 seconds is not available for m/0 (allowed: 1, 2, 3"));
	req.model = "nope";
	assert_int_equal(catalog_validate(cat, &req, why, sizeof(why)), -1);
	assert_non_null(
	    strstr(why, "model 'nope' is not in the service's catalog (available: m/0, m/1"));
	catalog_free(cat);
	/* A million repeats: not read whole; what comes after them is not looked at. */
	len = 0;
	len += (size_t)snprintf(j + len, cap - len,
	                        "{\"data\":[{\"id\":\"r/1\",\"supported_resolutions\":[");
	for (int i = 0; i < 200000; i++)
		len += (size_t)snprintf(j + len, cap - len, "\"a\",");
	len += (size_t)snprintf(j + len, cap - len, "\"720p\"]}");
	for (int i = 0; i < 50000; i++)
		len += (size_t)snprintf(j + len, cap - len, ",{\"id\":\"r/1\"}");
	len += (size_t)snprintf(j + len, cap - len, ",{\"id\":\"r/2\"}]}");
	assert_true(len < cap - 1);
	cat = parse_ok(j);
	assert_int_equal(cat->n, 1);
	expect_list(&cat->models[0].resolutions, "a");
	catalog_free(cat);
	free(j);
}

static void t_catalog_validation_names_every_problem_and_what_is_allowed(void **state)
{
	(void)state;
	struct catalog *cat = parse_ok(SIM_ANSWER);
	struct catalog_request ok = {.model = "google/veo-3.1",
	                             .seconds = 8,
	                             .size = "1920x1080",
	                             .first_frame = true,
	                             .last_frame = true,
	                             .audio = CATALOG_YES,
	                             .seed = true};
	expect_problems(cat, &ok, NULL);
	struct catalog_request wan = {.model = "alibaba/wan-2.6", .seconds = 4, .size = "720x720"};
	expect_problems(cat, &wan,
	                "4 seconds is not available for alibaba/wan-2.6 (allowed: 5, 10)", NULL);
	struct catalog_request bad = {.model = "openai/sora-2-pro",
	                              .seconds = 6,
	                              .size = "1024x1792",
	                              .first_frame = true,
	                              .last_frame = true};
	expect_problems(
	    cat, &bad,
	    "size 1024x1792 is not available for openai/sora-2-pro (allowed: 720x1280, "
	    "1280x720, 1080x1920, 1920x1080)",
	    "6 seconds is not available for openai/sora-2-pro (allowed: 4, 8, 12)",
	    "a last frame is not available for openai/sora-2-pro (frame images: first_frame)",
	    NULL);
	struct catalog_request none = {.model = "acme/x"};
	expect_problems(
	    cat, &none,
	    "model 'acme/x' is not in the service's catalog (available: google/veo-3.1, "
	    "openai/sora-2-pro, alibaba/wan-2.6)",
	    NULL);
	catalog_free(cat);
	/* No audio, no seed, no frames (null): each said. */
	cat = parse_ok("{\"data\":[{\"id\":\"q/silent\",\"generate_audio\":false,\"seed\":false,"
	               "\"supported_frame_images\":null}]}");
	struct catalog_request q = {
	    .model = "q/silent", .first_frame = true, .audio = CATALOG_YES, .seed = true};
	expect_problems(
	    cat, &q,
	    "a reference image (first frame) is not available for q/silent (frame images: none)",
	    "audio is not available for q/silent", "a seed is not available for q/silent", NULL);
	q.audio = CATALOG_NO; /* silence asked of a silent model: fine */
	q.seed = false;
	q.first_frame = false;
	expect_problems(cat, &q, NULL);
	catalog_free(cat);

	/* A prompt file's spec carries its last frame, audio and seed to the check. */
	cat = parse_ok("{\"data\":[{\"id\":\"q/silent\",\"generate_audio\":false,\"seed\":false,"
	               "\"supported_frame_images\":[\"first_frame\"]}]}");
	char why[512];
	struct job_spec s = {.name = "x",
	                     .prompt = "p",
	                     .model = "q/silent",
	                     .last_frame = "end.png",
	                     .audio = 1,
	                     .has_seed = true,
	                     .seed = 7};
	assert_int_equal(catalog_validate_spec(cat, &s, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "a last frame is not available for q/silent"));
	assert_non_null(strstr(why, "audio is not available for q/silent"));
	assert_non_null(strstr(why, "a seed is not available for q/silent"));
	s = (struct job_spec){.name = "x", .prompt = "p", .model = "q/silent", .audio = 2};
	assert_int_equal(catalog_validate_spec(cat, &s, why, sizeof(why)), 0); /* silence: fine */
	catalog_free(cat);
}

static void t_catalog_sizes_from_resolution_and_aspect(void **state)
{
	(void)state;
	struct catalog *cat =
	    parse_ok("{\"data\":[{\"id\":\"r/x\",\"supported_sizes\":[\"1280x720\"],"
	             "\"supported_resolutions\":[\"720p\",\"768p\",\"1K\",\"4K\",\"p\",\"99999p\"],"
	             "\"supported_aspect_ratios\":[\"16:9\",\"4:3\",\"9:21\",\"0:1\",\"x\"]}]}");
	char buf[512];
	catalog_model_sizes(&cat->models[0], buf, sizeof(buf));
	/* 768p at 16:9 is not whole pixels, 1K names no size, 0:1 and x are no ratios. */
	assert_string_equal(buf, "1280x720, 960x720, 720x1680, 1024x768, 768x1792, 3840x2160, "
	                         "2880x2160, 2160x5040");
	catalog_free(cat);
}

static void t_catalog_prices_by_resolution_and_audio(void **state)
{
	(void)state;
	struct catalog *cat = parse_ok(SIM_ANSWER);
	const struct catalog_model *veo = catalog_find(cat, "google/veo-3.1");
	const struct catalog_model *sora = catalog_find(cat, "openai/sora-2-pro");
	/* Veo makes sound unless told not to: with_audio by default. */
	assert_true(catalog_price_per_second(veo, "1280x720", CATALOG_UNKNOWN) == 0.40);
	assert_true(catalog_price_per_second(veo, "1280x720", CATALOG_NO) == 0.20);
	assert_true(catalog_price_per_second(sora, "720x1280", CATALOG_UNKNOWN) == 0.30);
	assert_true(catalog_price_per_second(sora, "1920x1080", CATALOG_UNKNOWN) == 0.50);
	/* A size no SKU names: the highest per-second price. */
	assert_true(catalog_price_per_second(sora, "640x480", CATALOG_UNKNOWN) == 0.50);
	assert_true(catalog_estimate_cost(cat, "alibaba/wan-2.6", "1080x1920", 10) == 1.5);
	assert_true(catalog_estimate_cost(cat, "acme/x", "1280x720", 4) < 0);
	assert_true(catalog_estimate_cost(NULL, "google/veo-3.1", "1280x720", 4) < 0);
	catalog_free(cat);
	/* No SKU about seconds: no price. */
	cat = parse_ok("{\"data\":[{\"id\":\"p/x\",\"pricing_skus\":{\"per_video\":\"2\"}}]}");
	assert_true(catalog_estimate_cost(cat, "p/x", "1280x720", 4) < 0);
	catalog_free(cat);
}

static void t_catalog_due_by_age_and_clock(void **state)
{
	(void)state;
	time_t now = 1800000000;
	assert_true(catalog_due(0, now, CATALOG_MAX_AGE_S)); /* never fetched */
	assert_false(catalog_due(now, now, CATALOG_MAX_AGE_S));
	assert_false(catalog_due(now - 3599, now, CATALOG_MAX_AGE_S));
	assert_true(catalog_due(now - 3600, now, CATALOG_MAX_AGE_S));
	assert_true(catalog_due(now + 10, now, CATALOG_MAX_AGE_S));      /* the clock went back */
	assert_false(catalog_due(now - 30, now, CATALOG_MIN_REFETCH_S)); /* a SIGHUP storm */
	assert_true(catalog_due(now - 60, now, CATALOG_MIN_REFETCH_S));
}

static void t_catalog_cache_round_trip_and_other_service(void **state)
{
	(void)state;
	char dir[] = "/tmp/t_catalog.XXXXXX", why[512], path[600];
	assert_non_null(mkdtemp(dir));
	struct catalog *cat = parse_ok(SIM_ANSWER);
	cat->fetched_at = 1800000000;
	cat->api_base = xstrdup("http://127.0.0.1:9/api/v1");
	assert_int_equal(catalog_save(dir, cat), 0);
	struct catalog *back = catalog_load(dir, "http://127.0.0.1:9/api/v1", why, sizeof(why));
	if (!back)
		fail_msg("the cache was not read back: %s", why);
	assert_int_equal(back->fetched_at, 1800000000);
	char *a = catalog_to_json(cat), *b = catalog_to_json(back);
	assert_string_equal(a, b);
	free(a);
	free(b);
	catalog_free(back);
	/* Another service's catalog is no catalog. */
	assert_null(catalog_load(dir, "https://openrouter.ai/api/v1", why, sizeof(why)));
	assert_non_null(strstr(why, "is the catalog of http://127.0.0.1:9/api/v1"));
	/* None at all: NULL and no reason. */
	bfmt(path, sizeof(path), "%s/%s", dir, CATALOG_FILE);
	assert_int_equal(unlink(path), 0);
	assert_null(catalog_load(dir, "http://127.0.0.1:9/api/v1", why, sizeof(why)));
	assert_string_equal(why, "");
	/* A damaged cache: NULL with a reason. */
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"data\": [", f);
	assert_int_equal(fclose(f), 0);
	assert_null(catalog_load(dir, "http://127.0.0.1:9/api/v1", why, sizeof(why)));
	assert_non_null(strstr(why, "not JSON"));
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
	catalog_free(cat);
}

static void t_catalog_prompt_validate_table_wins(void **state)
{
	(void)state;
	char err[512], why[1024];
	unsetenv("DEFAULT_MODEL");
	unsetenv("DEFAULT_SIZE");
	unsetenv("DEFAULT_SECONDS");
	struct conf *c = conf_load(NULL, err, sizeof(err));
	if (!c)
		fail_msg("conf_load(NULL): %s", err);
	/* A catalog that also lists sora-2, with other durations: the table's are used. */
	catalog_install(parse_ok("{\"data\":[{\"id\":\"sora-2\",\"supported_durations\":[7]},"
	                         "{\"id\":\"alibaba/wan-2.6\",\"supported_durations\":[5,10]}]}"));
	struct job_spec s = {.model = "sora-2", .size = "1280x720", .seconds = 4};
	assert_int_equal(prompt_validate(&s, c, why, sizeof(why)), 0);
	s.model = "alibaba/wan-2.6";
	assert_int_equal(prompt_validate(&s, c, why, sizeof(why)), -1);
	assert_string_equal(why, "4 seconds is not available for alibaba/wan-2.6 (allowed: 5, 10)");
	s.seconds = 10;
	assert_int_equal(prompt_validate(&s, c, why, sizeof(why)), 0);
	s.model = "acme/x";
	assert_int_equal(prompt_validate(&s, c, why, sizeof(why)), -1);
	assert_string_equal(why, "model 'acme/x' is not configured (available: sora-2, sora-2-pro, "
	                         "sora-2, alibaba/wan-2.6)");
	/* Without a catalog, the table alone, as before. */
	catalog_install(NULL);
	s.model = "alibaba/wan-2.6";
	assert_int_equal(prompt_validate(&s, c, why, sizeof(why)), -1);
	assert_string_equal(why, "model 'alibaba/wan-2.6' is not configured (available: sora-2, "
	                         "sora-2-pro)");
	conf_free(c);
}

/* Loads a configuration of the lines LINE (NULL: the defaults). */
static struct conf *conf_of(const char *line)
{
	char path[] = "/tmp/t_catalog_conf.XXXXXX", err[512];
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	if (line)
		assert_int_equal(write(fd, line, strlen(line)), (ssize_t)strlen(line));
	assert_int_equal(close(fd), 0);
	struct conf *c = conf_load(line ? path : NULL, err, sizeof(err));
	unlink(path);
	if (!c)
		fail_msg("conf_load(%s): %s", line ? line : "defaults", err);
	return c;
}

static void t_catalog_wanted_by_model_catalog(void **state)
{
	(void)state;
	static const struct {
		const char *line;
		bool wanted;
	} cases[] = {{NULL, false}, /* auto, openai: the Videos API has no catalog */
	             {"model_catalog = auto\n", false},
	             {"model_catalog = yes\n", true},
	             {"model_catalog = no\n", false},
	             {"api_protocol = \"openrouter\"\n", true}, /* auto: OpenRouter's */
	             {"api_protocol = \"openrouter\"\nmodel_catalog = auto\n", true},
	             {"api_protocol = \"openrouter\"\nmodel_catalog = no\n", false},
	             {"api_protocol = \"openai\"\nmodel_catalog = auto\n", false},
	             {"api_protocol = \"openai\"\nmodel_catalog = yes\n", true}};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct conf *c = conf_of(cases[i].line);
		if (catalog_wanted(c) != cases[i].wanted)
			fail_msg("%s: expected wanted=%d",
			         cases[i].line ? cases[i].line : "defaults", cases[i].wanted);
		conf_free(c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_catalog_parses_the_sims_answer),
	    cmocka_unit_test(t_catalog_refuses_what_is_not_a_catalog),
	    cmocka_unit_test(t_catalog_skips_fields_of_the_wrong_type),
	    cmocka_unit_test(t_catalog_cuts_huge_arrays),
	    cmocka_unit_test(t_catalog_validation_names_every_problem_and_what_is_allowed),
	    cmocka_unit_test(t_catalog_sizes_from_resolution_and_aspect),
	    cmocka_unit_test(t_catalog_prices_by_resolution_and_audio),
	    cmocka_unit_test(t_catalog_due_by_age_and_clock),
	    cmocka_unit_test(t_catalog_cache_round_trip_and_other_service),
	    cmocka_unit_test(t_catalog_prompt_validate_table_wins),
	    cmocka_unit_test(t_catalog_wanted_by_model_catalog),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
