/* t_caps.c — what the service can do (caps.h): the profiles' defaults, the
 * configuration's overrides, what answers teach and when it is forgotten (an injected
 * clock), the refusals that say an operation does not exist, and the configuration
 * syntax (api_profile, capabilities { ... }) with its line numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "caps.h"
#include "conf.h"
#include "log.h"
#include "util.h"

static long long fake_now;

static long long fake_clock(void *ud)
{
	(void)ud;
	return fake_now;
}

static void setup_caps(struct caps *c, enum caps_profile p, const enum caps_setting *set)
{
	memset(c, 0, sizeof(*c));
	caps_configure(c, "http://127.0.0.1:1/v1", p, set);
	c->now_ms = fake_clock;
	fake_now = 1000;
}

static void t_profiles_give_their_defaults(void **state)
{
	(void)state;
	struct caps c;
	setup_caps(&c, CAPS_PROFILE_OPENAI, NULL);
	for (int i = 0; i < CAPS_COUNT; i++) {
		enum caps_source src;
		assert_int_equal(caps_get(&c, (enum caps_id)i, &src), CAPS_YES);
		assert_int_equal(src, CAPS_FROM_PROFILE);
	}
	setup_caps(&c, CAPS_PROFILE_LITELLM, NULL);
	assert_int_equal(caps_get(&c, CAPS_LIST_PROMPTS, NULL), CAPS_NO);
	assert_int_equal(caps_get(&c, CAPS_DELETE, NULL), CAPS_NO);
	assert_int_equal(caps_get(&c, CAPS_THUMBNAIL, NULL), CAPS_NO);
	assert_int_equal(caps_get(&c, CAPS_SPRITESHEET, NULL), CAPS_NO);
	assert_int_equal(caps_get(&c, CAPS_REMIX, NULL), CAPS_YES);
	assert_int_equal(caps_get(&c, CAPS_LIST, NULL), CAPS_UNKNOWN); /* depends on the backend */
	assert_true(caps_has(&c, CAPS_LIST));
	assert_false(caps_has(&c, CAPS_DELETE));
	setup_caps(&c, CAPS_PROFILE_AUTO, NULL);
	for (int i = 0; i < CAPS_COUNT; i++) {
		enum caps_source src;
		assert_int_equal(caps_get(&c, (enum caps_id)i, &src), CAPS_UNKNOWN);
		assert_int_equal(src, CAPS_FROM_NOTHING);
		assert_true(caps_has(&c, (enum caps_id)i)); /* unknown: try it */
	}
	assert_true(caps_has(NULL, CAPS_LIST));
}

static void t_configuration_overrides_profile_and_learning(void **state)
{
	(void)state;
	enum caps_setting set[CAPS_COUNT] = {0};
	set[CAPS_DELETE] = CAPS_SET_YES;
	set[CAPS_LIST] = CAPS_SET_NO;
	struct caps c;
	setup_caps(&c, CAPS_PROFILE_LITELLM, set);
	enum caps_source src;
	assert_int_equal(caps_get(&c, CAPS_DELETE, &src), CAPS_YES); /* over the profile's no */
	assert_int_equal(src, CAPS_FROM_CONFIG);
	assert_int_equal(caps_get(&c, CAPS_LIST, &src), CAPS_NO);
	/* The service says otherwise: the configuration still wins. */
	caps_learn(&c, CAPS_LIST, CAPS_YES, "HTTP 200");
	caps_learn(&c, CAPS_DELETE, CAPS_NO, "HTTP 405");
	assert_int_equal(caps_get(&c, CAPS_LIST, NULL), CAPS_NO);
	assert_int_equal(caps_get(&c, CAPS_DELETE, NULL), CAPS_YES);
	char buf[200];
	assert_string_equal(caps_explain(&c, CAPS_LIST, buf, sizeof(buf)),
	                    "capabilities { list = no } in the configuration");
	assert_string_equal(caps_explain(&c, CAPS_LIST_PROMPTS, buf, sizeof(buf)),
	                    "api_profile litellm");
}

static void t_learning_holds_then_expires(void **state)
{
	(void)state;
	struct caps c;
	setup_caps(&c, CAPS_PROFILE_AUTO, NULL);
	caps_learn(&c, CAPS_LIST, CAPS_NO, "HTTP 405: Method not allowed");
	enum caps_source src;
	assert_int_equal(caps_get(&c, CAPS_LIST, &src), CAPS_NO);
	assert_int_equal(src, CAPS_FROM_LEARNED);
	assert_false(caps_has(&c, CAPS_LIST));
	assert_string_equal(caps_why(&c, CAPS_LIST), "HTTP 405: Method not allowed");
	char buf[200];
	assert_string_equal(caps_explain(&c, CAPS_LIST, buf, sizeof(buf)),
	                    "learned: HTTP 405: Method not allowed");
	fake_now += CAPS_RELEARN_MS - 1;
	assert_false(caps_has(&c, CAPS_LIST));
	/* An hour later the service is asked again. */
	fake_now += 1;
	assert_int_equal(caps_get(&c, CAPS_LIST, &src), CAPS_UNKNOWN);
	assert_int_equal(src, CAPS_FROM_NOTHING);
	assert_true(caps_has(&c, CAPS_LIST));
	/* Seen again: learned again, from now. */
	caps_learn(&c, CAPS_LIST, CAPS_NO, "HTTP 405: Method not allowed");
	assert_false(caps_has(&c, CAPS_LIST));
	/* ...and an answer gives it back. */
	caps_learn(&c, CAPS_LIST, CAPS_YES, "HTTP 200");
	assert_true(caps_has(&c, CAPS_LIST));
	assert_int_equal(caps_get(&c, CAPS_LIST, NULL), CAPS_YES);
	/* Under a profile, an expired lesson falls back to the profile's default. */
	setup_caps(&c, CAPS_PROFILE_LITELLM, NULL);
	caps_learn(&c, CAPS_LIST_PROMPTS, CAPS_YES, "1 listed videos with their prompts");
	assert_int_equal(caps_get(&c, CAPS_LIST_PROMPTS, NULL), CAPS_YES);
	fake_now += CAPS_RELEARN_MS;
	assert_int_equal(caps_get(&c, CAPS_LIST_PROMPTS, &src), CAPS_NO);
	assert_int_equal(src, CAPS_FROM_PROFILE);
}

static void t_another_endpoint_forgets_what_was_learned(void **state)
{
	(void)state;
	struct caps c;
	setup_caps(&c, CAPS_PROFILE_AUTO, NULL);
	caps_learn(&c, CAPS_LIST, CAPS_NO, "HTTP 405");
	caps_configure(&c, "http://127.0.0.1:1/v1", CAPS_PROFILE_AUTO, NULL); /* a reload */
	assert_false(caps_has(&c, CAPS_LIST));
	caps_configure(&c, "http://gateway.example/v1", CAPS_PROFILE_AUTO, NULL);
	assert_true(caps_has(&c, CAPS_LIST));
	assert_string_equal(caps_why(&c, CAPS_LIST), "");
}

/* A failed result of OP with STATUS, MESSAGE and error TYPE (NULL: not the service's
 * own error shape). */
static struct api_result failed(enum api_op op, long status, const char *message, const char *type)
{
	struct api_result r;
	memset(&r, 0, sizeof(r));
	r.op = op;
	r.kind = status == 404 ? API_NOT_FOUND : status >= 500 ? API_TRANSIENT : API_FATAL;
	r.http_status = status;
	r.poll_after_ms = -1;
	r.error.message = (char *)message;
	r.error.type = (char *)type;
	return r;
}

static void t_refusals_say_the_operation_does_not_exist(void **state)
{
	(void)state;
	static const char litellm[] = "litellm.APIConnectionError: NotImplementedError: Video "
	                              "list is not supported by Google Veo.\n  File ...";
	struct api_result r;
	r = failed(API_OP_LIST, 405, "Method not allowed", "invalid_request_error");
	assert_true(caps_refusal(&r));
	r = failed(API_OP_LIST, 404, "Invalid URL", "invalid_request_error");
	assert_true(caps_refusal(&r));
	r = failed(API_OP_LIST, 500, litellm, NULL);
	assert_true(caps_refusal(&r));
	r = failed(API_OP_LIST, 500, "Something went wrong", NULL);
	assert_false(caps_refusal(&r)); /* Portkey's 500: an accident, not an answer */
	r = failed(API_OP_LIST, 503, NULL, NULL);
	assert_false(caps_refusal(&r));
	/* A delete's 404 in the service's shape is about the video; a bare one about the
	 * route. */
	r = failed(API_OP_DELETE, 404, "No video found with id 'video_x'", "invalid_request_error");
	assert_false(caps_refusal(&r));
	r = failed(API_OP_DELETE, 404, "Not Found", NULL);
	assert_true(caps_refusal(&r));
	r = failed(API_OP_DELETE, 405, "Method Not Allowed", NULL);
	assert_true(caps_refusal(&r));
	r = failed(API_OP_DELETE, 500, "delete is not supported for vertex_ai", NULL);
	assert_true(caps_refusal(&r));
	/* Never for a retrieve or a download: a 404 there is about the video. */
	r = failed(API_OP_RETRIEVE, 404, "Not Found", NULL);
	assert_false(caps_refusal(&r));
	r = failed(API_OP_CONTENT, 405, "Method Not Allowed", NULL);
	assert_false(caps_refusal(&r));
}

static void t_answers_teach(void **state)
{
	(void)state;
	struct caps c;
	setup_caps(&c, CAPS_PROFILE_AUTO, NULL);
	/* A list refused LiteLLM's way. */
	struct api_result r = failed(API_OP_LIST, 500, "Video list is not supported", NULL);
	assert_true(caps_observe(&c, &r));
	assert_false(caps_has(&c, CAPS_LIST));
	assert_string_equal(caps_why(&c, CAPS_LIST), "HTTP 500: Video list is not supported");
	/* A failure that is no refusal teaches nothing. */
	setup_caps(&c, CAPS_PROFILE_AUTO, NULL);
	r = failed(API_OP_LIST, 502, "Bad gateway", NULL);
	assert_false(caps_observe(&c, &r));
	assert_int_equal(caps_get(&c, CAPS_LIST, NULL), CAPS_UNKNOWN);
	/* A list whose videos have no prompt. */
	struct video v[2];
	memset(v, 0, sizeof(v));
	v[0].prompt = (char *)"a cat";
	memset(&r, 0, sizeof(r));
	r.op = API_OP_LIST;
	r.kind = API_OK;
	r.http_status = 200;
	r.poll_after_ms = 1500;
	r.has_list = true;
	r.list.data = v;
	r.list.n = 2;
	assert_false(caps_observe(&c, &r));
	assert_int_equal(caps_get(&c, CAPS_LIST, NULL), CAPS_YES);
	assert_int_equal(caps_get(&c, CAPS_LIST_PROMPTS, NULL), CAPS_NO);
	assert_string_equal(caps_why(&c, CAPS_LIST_PROMPTS), "1 of 2 listed videos have no prompt");
	assert_int_equal(caps_get(&c, CAPS_POLL_HINTS, NULL), CAPS_YES);
	/* An empty page says nothing about prompts. */
	setup_caps(&c, CAPS_PROFILE_AUTO, NULL);
	r.list.n = 0;
	caps_observe(&c, &r);
	assert_int_equal(caps_get(&c, CAPS_LIST_PROMPTS, NULL), CAPS_UNKNOWN);
	/* A delete: a 404 in the service's shape shows the route; a 405 its absence. */
	r = failed(API_OP_DELETE, 404, "No such video", "invalid_request_error");
	caps_observe(&c, &r);
	assert_int_equal(caps_get(&c, CAPS_DELETE, NULL), CAPS_YES);
	r = failed(API_OP_DELETE, 405, "Method Not Allowed", NULL);
	caps_observe(&c, &r);
	assert_int_equal(caps_get(&c, CAPS_DELETE, NULL), CAPS_NO);
	assert_true(caps_observe(NULL, &r)); /* no caps: still a refusal */
}

/* Writes TEXT to a temporary configuration file; returns its path (static). */
static const char *conf_file(const char *text)
{
	static char path[64];
	bcopy_str(path, sizeof(path), "/tmp/t_caps-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void t_configuration_syntax(void **state)
{
	(void)state;
	char err[2048];
	const char *p = conf_file("api_profile = litellm\n"
	                          "capabilities {\n"
	                          "  list = no\n"
	                          "  delete = yes\n"
	                          "  variants = no\n"
	                          "  spritesheet = yes\n"
	                          "}\n");
	struct conf *c = conf_load(p, err, sizeof(err));
	unlink(p);
	assert_non_null(c);
	assert_int_equal(c->api_profile, CAPS_PROFILE_LITELLM);
	assert_int_equal(c->caps[CAPS_LIST], CAPS_SET_NO);
	assert_int_equal(c->caps[CAPS_DELETE], CAPS_SET_YES);
	assert_int_equal(c->caps[CAPS_THUMBNAIL], CAPS_SET_NO);    /* from variants */
	assert_int_equal(c->caps[CAPS_SPRITESHEET], CAPS_SET_YES); /* its own key wins */
	assert_int_equal(c->caps[CAPS_LIST_PROMPTS], CAPS_SET_AUTO);
	conf_free(c);

	c = conf_load(NULL, err, sizeof(err));
	assert_non_null(c);
	assert_int_equal(c->api_profile, CAPS_PROFILE_AUTO);
	for (int i = 0; i < CAPS_COUNT; i++)
		assert_int_equal(c->caps[i], CAPS_SET_AUTO);
	conf_free(c);

	p = conf_file("api_profile = azure\n"
	              "capabilities {\n"
	              "  list = maybe\n"
	              "}\n");
	c = conf_load(p, err, sizeof(err));
	assert_null(c);
	char want[256];
	bfmt(want, sizeof(want),
	     "%s:1: api_profile = \"azure\": must be \"auto\", \"openai\" or "
	     "\"litellm\"",
	     p);
	if (!strstr(err, want))
		fail_msg("expected '%s' in: %s", want, err);
	bfmt(want, sizeof(want),
	     "%s:3: capabilities: list = \"maybe\": must be \"auto\", \"yes\" "
	     "or \"no\"",
	     p);
	if (!strstr(err, want))
		fail_msg("expected '%s' in: %s", want, err);
	unlink(p);
}

int main(void)
{
	log_open(NULL, LOG_ERROR, 0, false);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_profiles_give_their_defaults),
	    cmocka_unit_test(t_configuration_overrides_profile_and_learning),
	    cmocka_unit_test(t_learning_holds_then_expires),
	    cmocka_unit_test(t_another_endpoint_forgets_what_was_learned),
	    cmocka_unit_test(t_refusals_say_the_operation_does_not_exist),
	    cmocka_unit_test(t_answers_teach),
	    cmocka_unit_test(t_configuration_syntax),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
