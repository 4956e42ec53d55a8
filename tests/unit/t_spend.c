/* t_spend.c — the one rule for whether a create may have spent money (spend.h), as a
 * table of every case, and the prompt/model/list rules of reconciliation (reconcile.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reconcile.h"
#include "spend.h"
#include "util.h"

static const struct {
	const char *what;
	bool sent;
	long status;
	bool error_body, usable;
	enum spend_outcome want;
} cases[] = {
    /* Nothing left this machine. */
    {"connection refused, nothing sent", false, 0, false, false, SPEND_REFUSED},
    /* No answer once something was sent: reset, timeout, empty reply. */
    {"reset or timeout after sending", true, 0, false, false, SPEND_IN_DOUBT},
    /* 2xx. */
    {"201 with a usable Video", true, 201, false, true, SPEND_MADE},
    {"200 with a usable Video", true, 200, false, true, SPEND_MADE},
    {"200 with HTML", true, 200, false, false, SPEND_IN_DOUBT},
    {"200 with a cut-off body", true, 200, false, false, SPEND_IN_DOUBT},
    {"200 with an id sorad will not store", true, 200, false, false, SPEND_IN_DOUBT},
    {"202 with an error-shaped body", true, 202, true, false, SPEND_IN_DOUBT},
    /* Explicit refusals. */
    {"400 with an error body", true, 400, true, false, SPEND_REFUSED},
    {"401 with an error body", true, 401, true, false, SPEND_REFUSED},
    {"403 with an error body", true, 403, true, false, SPEND_REFUSED},
    {"404 with an error body", true, 404, true, false, SPEND_REFUSED},
    {"413 with an error body", true, 413, true, false, SPEND_REFUSED},
    {"415 with an error body", true, 415, true, false, SPEND_REFUSED},
    {"422 with an error body", true, 422, true, false, SPEND_REFUSED},
    {"429 with an error body", true, 429, true, false, SPEND_REFUSED},
    {"429 without a body", true, 429, false, false, SPEND_REFUSED},
    /* A 4xx without the service's error body may be a proxy's page. */
    {"400 without an error body", true, 400, false, false, SPEND_IN_DOUBT},
    {"404 HTML from a proxy", true, 404, false, false, SPEND_IN_DOUBT},
    {"422 without an error body", true, 422, false, false, SPEND_IN_DOUBT},
    /* Everything else. */
    {"408 with an error body", true, 408, true, false, SPEND_IN_DOUBT},
    {"409 with an error body", true, 409, true, false, SPEND_IN_DOUBT},
    {"405 with an error body", true, 405, true, false, SPEND_IN_DOUBT},
    {"410 with an error body", true, 410, true, false, SPEND_IN_DOUBT},
    {"500 Portkey's failure body", true, 500, true, false, SPEND_IN_DOUBT},
    {"500 without a body", true, 500, false, false, SPEND_IN_DOUBT},
    {"502 HTML", true, 502, false, false, SPEND_IN_DOUBT},
    {"503 with an error body", true, 503, true, false, SPEND_IN_DOUBT},
    {"504 HTML", true, 504, false, false, SPEND_IN_DOUBT},
    {"599", true, 599, false, false, SPEND_IN_DOUBT},
    {"302 redirect", true, 302, false, false, SPEND_IN_DOUBT},
    {"100 as final", true, 100, false, false, SPEND_IN_DOUBT},
};

static void t_every_create_outcome(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		enum spend_outcome got = spend_create_outcome(cases[i].sent, cases[i].status,
		                                              cases[i].error_body, cases[i].usable);
		if (got != cases[i].want)
			fail_msg("%s: expected %s, got %s", cases[i].what,
			         spend_outcome_name(cases[i].want), spend_outcome_name(got));
	}
}

/* No status between 100 and 599 other than the listed refusals is ever "refused". */
static void t_only_the_listed_statuses_refuse(void **state)
{
	(void)state;
	static const long refusals[] = {400, 401, 403, 404, 413, 415, 422, 429};
	for (long st = 100; st < 600; st++) {
		bool listed = false;
		for (size_t i = 0; i < ARRAY_LEN(refusals); i++)
			listed = listed || refusals[i] == st;
		enum spend_outcome o = spend_create_outcome(true, st, true, false);
		if ((o == SPEND_REFUSED) != listed)
			fail_msg("HTTP %ld with an error body: %s", st, spend_outcome_name(o));
	}
}

static void t_prompts_compare_after_normalization(void **state)
{
	(void)state;
	assert_true(reconcile_prompt_equal("a fox\r\nin snow", "a fox\nin snow"));
	assert_true(reconcile_prompt_equal("a fox\r\nin snow", "a fox \nin snow"));
	assert_true(reconcile_prompt_equal("a\x1b[31mfox", "a [31mfox"));
	assert_true(reconcile_prompt_equal("a\x7f fox", "a fox"));
	assert_true(reconcile_prompt_equal("  a fox\t\t", "a fox"));
	assert_true(reconcile_prompt_equal("a\rfox", "a fox"));
	assert_false(reconcile_prompt_equal("a fox", "a fix"));
	assert_false(reconcile_prompt_equal("a fox", "a fox jumps"));
	assert_false(reconcile_prompt_equal("a fox", "afox"));
	assert_false(reconcile_prompt_equal("a fox", NULL));
	assert_false(reconcile_prompt_equal(NULL, NULL));
}

static void t_models_match_dated_snapshots_and_aliases(void **state)
{
	(void)state;
	char err[256];
	FILE *f = fopen("t_spend.conf", "w");
	assert_non_null(f);
	fputs("model \"sora-2\" {\n  seconds = {4, 8}\n  aliases = {\"openai/sora-2\"}\n"
	      "  size \"1280x720\" { price = 0.1 }\n}\n",
	      f);
	assert_int_equal(fclose(f), 0);
	struct conf *c = conf_load("t_spend.conf", err, sizeof(err));
	if (!c)
		fail_msg("conf: %s", err);
	assert_true(reconcile_model_matches(c, "sora-2", "sora-2"));
	assert_true(reconcile_model_matches(c, "sora-2", "SORA-2"));
	assert_true(reconcile_model_matches(c, "sora-2", "sora-2-2025-10-06"));
	assert_true(reconcile_model_matches(c, "sora-2", "openai/sora-2"));
	assert_false(reconcile_model_matches(c, "sora-2", "sora-2-pro"));
	assert_false(reconcile_model_matches(c, "sora-2", "sora-2-pro-2025-10-06"));
	assert_false(reconcile_model_matches(c, "sora-2", "sora-2-2025-10-6"));
	assert_false(reconcile_model_matches(c, "sora-2", "sora-2-2025-10-06x"));
	assert_false(reconcile_model_matches(c, "sora-2", NULL));
	assert_true(reconcile_model_matches(NULL, "sora-2", "sora-2-2025-12-08"));
	conf_free(c);
	remove("t_spend.conf");
}

/* A job and a list page for the reconciliation tests. */
static struct job job_for(long long submit_at)
{
	struct job j;
	job_init(&j);
	j.name = (char *)"fox";
	j.prompt = (char *)"a fox\r\nin snow";
	j.model = (char *)"sora-2";
	j.size = (char *)"1280x720";
	j.seconds = 4;
	j.submit_at = submit_at;
	return j;
}

static struct video vid(const char *id, const char *prompt, const char *model, long long created)
{
	struct video v;
	video_init(&v);
	v.id = (char *)id;
	v.prompt = (char *)prompt;
	v.model = (char *)model;
	v.size = (char *)"1280x720";
	v.seconds = (char *)"4";
	v.created_at = created;
	return v;
}

static enum reconcile_verdict page(struct reconcile_scan *s, const struct job *j, struct video *v,
                                   size_t n, bool has_more, const struct video **adopt, char *why)
{
	struct video_list l = {
	    .data = v, .n = n, .has_more = has_more, .last_id = n ? v[n - 1].id : NULL};
	return reconcile_page(s, NULL, j, &l, 120, 3, NULL, NULL, adopt, why, 512);
}

static void t_list_adopts_the_match(void **state)
{
	(void)state;
	struct job j = job_for(10000);
	struct video v[] = {vid("video_b", "a dog", "sora-2", 10002),
	                    vid("video_a", "a fox\nin snow", "sora-2-2025-10-06", 10001)};
	struct reconcile_scan s = {0};
	const struct video *a = NULL;
	char why[512];
	assert_int_equal(page(&s, &j, v, 2, true, &a, why), RECONCILE_ADOPT);
	assert_string_equal(a->id, "video_a");
	/* Size and seconds only when reported. */
	v[1].size = NULL;
	v[1].seconds = NULL;
	memset(&s, 0, sizeof(s));
	assert_int_equal(page(&s, &j, v, 2, true, &a, why), RECONCILE_ADOPT);
}

static void t_list_proves_absence_only_when_it_reaches_back(void **state)
{
	(void)state;
	struct job j = job_for(10000);
	struct video v[] = {vid("video_b", "a dog", "sora-2", 10002),
	                    vid("video_c", "a cat", "sora-2", 9990)};
	struct reconcile_scan s = {0};
	const struct video *a = NULL;
	char why[512];
	/* Not past the intent yet (9990 is within the 120 s allowance), more pages. */
	assert_int_equal(page(&s, &j, v, 2, true, &a, why), RECONCILE_NEXT_PAGE);
	struct video older[] = {vid("video_d", "a cow", "sora-2", 9000)};
	assert_int_equal(page(&s, &j, older, 1, true, &a, why), RECONCILE_ABSENT);
	/* The end of the list proves it too. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(page(&s, &j, v, 2, false, &a, why), RECONCILE_ABSENT);
	/* Pages run out: unproven. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(page(&s, &j, v, 2, true, &a, why), RECONCILE_NEXT_PAGE);
	assert_int_equal(page(&s, &j, v + 1, 1, true, &a, why), RECONCILE_NEXT_PAGE);
	assert_int_equal(page(&s, &j, v + 1, 1, true, &a, why), RECONCILE_UNPROVEN);
	assert_non_null(strstr(why, "pages"));
}

static void t_list_cannot_prove_without_prompts_or_with_skipped_items(void **state)
{
	(void)state;
	struct job j = job_for(10000);
	struct video v[] = {vid("video_b", NULL, "sora-2", 10002),
	                    vid("video_c", NULL, "sora-2", 9000)};
	struct reconcile_scan s = {0};
	const struct video *a = NULL;
	char why[512];
	assert_int_equal(page(&s, &j, v, 2, false, &a, why), RECONCILE_UNPROVEN);
	assert_non_null(strstr(why, "prompts"));

	struct video w[] = {vid("video_c", "a cat", "sora-2", 9000)};
	struct video_list l = {.data = w, .n = 1, .n_skipped = 1};
	memset(&s, 0, sizeof(s));
	assert_int_equal(reconcile_page(&s, NULL, &j, &l, 120, 3, NULL, NULL, &a, why, sizeof(why)),
	                 RECONCILE_UNPROVEN);
	assert_non_null(strstr(why, "cannot use"));
}

static void t_list_without_times_or_order_cannot_prove(void **state)
{
	(void)state;
	struct job j = job_for(10000);
	/* created_at 0: the same prompt, but when? */
	struct video v[] = {vid("video_a", "a fox in snow", "sora-2", 0)};
	struct reconcile_scan s = {0};
	const struct video *a = NULL;
	char why[512];
	assert_int_equal(page(&s, &j, v, 1, false, &a, why), RECONCILE_UNPROVEN);
	assert_non_null(strstr(why, "video_a"));
	/* Oldest first: the first item is older than the intent, but the list is not
	 * newest-first, so it proves nothing. */
	struct video asc[] = {vid("video_x", "a cat", "sora-2", 9000),
	                      vid("video_y", "a dog", "sora-2", 9500)};
	memset(&s, 0, sizeof(s));
	assert_int_equal(page(&s, &j, asc, 2, true, &a, why), RECONCILE_UNPROVEN);
	assert_non_null(strstr(why, "order"));
}

static bool owned_a(const char *id, void *ud)
{
	(void)ud;
	return !strcmp(id, "video_a");
}

static void t_list_never_adopts_another_jobs_video(void **state)
{
	(void)state;
	struct job j = job_for(10000);
	struct video v[] = {vid("video_a", "a fox in snow", "sora-2", 10001)};
	struct video_list l = {.data = v, .n = 1};
	struct reconcile_scan s = {0};
	const struct video *a = NULL;
	char why[512];
	assert_int_equal(
	    reconcile_page(&s, NULL, &j, &l, 120, 3, owned_a, NULL, &a, why, sizeof(why)),
	    RECONCILE_ABSENT);
}

static void t_list_unsupported(void **state)
{
	(void)state;
	assert_true(reconcile_list_unsupported(404, NULL));
	assert_true(reconcile_list_unsupported(405, "Method Not Allowed"));
	assert_true(reconcile_list_unsupported(501, NULL));
	assert_true(reconcile_list_unsupported(
	    500, "litellm.NotImplementedError: list videos is not supported for gemini"));
	assert_false(reconcile_list_unsupported(500, "Something went wrong"));
	assert_false(reconcile_list_unsupported(503, NULL));
	assert_false(reconcile_list_unsupported(400, "not supported"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_every_create_outcome),
	    cmocka_unit_test(t_only_the_listed_statuses_refuse),
	    cmocka_unit_test(t_prompts_compare_after_normalization),
	    cmocka_unit_test(t_models_match_dated_snapshots_and_aliases),
	    cmocka_unit_test(t_list_adopts_the_match),
	    cmocka_unit_test(t_list_proves_absence_only_when_it_reaches_back),
	    cmocka_unit_test(t_list_cannot_prove_without_prompts_or_with_skipped_items),
	    cmocka_unit_test(t_list_without_times_or_order_cannot_prove),
	    cmocka_unit_test(t_list_never_adopts_another_jobs_video),
	    cmocka_unit_test(t_list_unsupported),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
