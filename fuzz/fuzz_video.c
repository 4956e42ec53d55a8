/*
 * fuzz_video.c — the Videos API's JSON as any server may send it: video_parse,
 * video_list_parse, video_deleted_parse, api_error_parse and video_text_sanitize on
 * the same bytes. Oracles: the limits video.h promises hold for whatever is accepted
 * (ids acceptable by video_id_is_safe, progress -1 or 0..100, texts bounded and NUL-free).
 */
#include "fuzz.h"

#include <stdbool.h>
#include <string.h>

#include "utf8.h"
#include "video.h"

static void check_text(const char *s, size_t max, const char *what)
{
	if (!s)
		return;
	size_t n = strlen(s);
	FUZZ_CHECK(n <= max, what);
	FUZZ_CHECK(utf8_check(s, n, NULL), what);
}

static void check_video(const struct video *v)
{
	FUZZ_CHECK(!v->id || video_id_is_safe(v->id), "an accepted video has no id or a safe one");
	FUZZ_CHECK(!v->remixed_from_video_id || video_id_is_safe(v->remixed_from_video_id),
	           "remixed_from_video_id is safe");
	FUZZ_CHECK(v->progress >= -1 && v->progress <= 100, "progress is -1 (unknown) or 0..100");
	FUZZ_CHECK(v->created_at >= -1 && v->created_at <= VIDEO_TIME_MAX, "created_at in range");
	FUZZ_CHECK(v->expires_at >= -1 && v->expires_at <= VIDEO_TIME_MAX, "expires_at in range");
	check_text(v->prompt, VIDEO_PROMPT_MAX, "the prompt is bounded UTF-8");
	check_text(v->error_message, VIDEO_MESSAGE_MAX, "the error message is bounded UTF-8");
	check_text(v->model, VIDEO_TOKEN_MAX, "a token is bounded");
	check_text(v->size, VIDEO_TOKEN_MAX, "a token is bounded");
	check_text(v->seconds, VIDEO_TOKEN_MAX, "a token is bounded");
	check_text(v->status_raw, VIDEO_TOKEN_MAX, "a token is bounded");
	if (v->error_message)
		for (const char *p = v->error_message; *p; p++)
			FUZZ_CHECK((unsigned char)*p >= 0x20 && *p != 0x7f,
			           "the error message fits one log line");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *json = (const char *)data;
	char err[256];
	bool syntax, deleted;

	struct video v;
	video_init(&v);
	if (video_parse(&v, json, size, &syntax, err, sizeof(err)) == 0)
		check_video(&v);
	else
		FUZZ_CHECK(!v.id, "a rejected video is left empty");
	video_release(&v);

	struct video_list l;
	video_list_init(&l);
	if (video_list_parse(&l, json, size, &syntax, err, sizeof(err)) == 0) {
		FUZZ_CHECK(l.n <= VIDEO_LIST_MAX, "a list page is bounded");
		for (size_t i = 0; i < l.n; i++)
			check_video(&l.data[i]);
		FUZZ_CHECK(!l.first_id || video_id_is_safe(l.first_id), "first_id is safe");
		FUZZ_CHECK(!l.last_id || video_id_is_safe(l.last_id), "last_id is safe");
	}
	video_list_release(&l);

	(void)video_deleted_parse(&deleted, json, size, &syntax, err, sizeof(err));

	struct api_error e;
	api_error_init(&e);
	if (api_error_parse(&e, json, size) == 0) {
		check_text(e.message, VIDEO_MESSAGE_MAX, "the error message is bounded UTF-8");
		check_text(e.type, VIDEO_TOKEN_MAX, "a token is bounded");
		check_text(e.code, VIDEO_TOKEN_MAX, "a token is bounded");
		check_text(e.param, VIDEO_TOKEN_MAX, "a token is bounded");
	}
	api_error_release(&e);

	char *t = video_text_sanitize(json, size, 512);
	check_text(t, 512, "sanitized text is bounded UTF-8");
	free(t);
	return 0;
}
