/* t_pollplan.c — polls aimed at the predicted finish, the cap never passed (pollplan.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>

#include "pollplan.h"

#define T0 1000000LL /* a monotonic clock reading to start from (on the 800 ms grid) */

#define expect_ll(what, expected, got)                                                             \
	do {                                                                                       \
		long long e_ = (expected), g_ = (got);                                             \
		if (e_ != g_)                                                                      \
			fail_msg("%s: expected %lld, got %lld", what, e_, g_);                     \
	} while (0)
#define expect_between(what, lo, hi, got)                                                          \
	do {                                                                                       \
		long long l_ = (lo), h_ = (hi), g_ = (got);                                        \
		if (g_ < l_ || g_ > h_)                                                            \
			fail_msg("%s: expected %lld..%lld, got %lld", what, l_, h_, g_);           \
	} while (0)

static void t_linear_progress_predicts_the_finish(void **state)
{
	(void)state;
	struct pollplan_job pj;
	pollplan_start(&pj, T0);
	pollplan_running(&pj, T0 + 2000, 10);
	expect_ll("one sample: a line from the creation", T0 + 20000, pollplan_predict(&pj, -1));
	pollplan_running(&pj, T0 + 14000, 70);
	expect_ll("two samples", T0 + 20000, pollplan_predict(&pj, -1));
	/* the next poll: just after 20 s (margin, then the grid), well before the cap */
	long long w = pollplan_wait(&pj, T0 + 14000, 10000, -1, -1);
	expect_between("aimed just after the finish", 6000, 6000 + 140 + 600, w);
}

static void t_ease_in_progress_is_followed(void **state)
{
	(void)state;
	struct pollplan_job pj;
	pollplan_start(&pj, T0);
	/* p = 100 (t / 20 s)^2 */
	pollplan_running(&pj, T0 + 4000, 4);
	pollplan_running(&pj, T0 + 8000, 16);
	expect_between("a power law through both", T0 + 19900, T0 + 20100,
	               pollplan_predict(&pj, -1));
}

static void t_never_later_than_the_cap(void **state)
{
	(void)state;
	struct pollplan_job pj;
	pollplan_start(&pj, T0);
	pollplan_running(&pj, T0 + 2000, 1); /* 1 % after 2 s: 200 s away */
	for (long long cap = 0; cap <= 10000; cap += 250) {
		long long w = pollplan_wait(&pj, T0 + 2000, cap, -1, -1);
		if (w > cap)
			fail_msg("cap %lld: waited %lld", cap, w);
	}
	/* the observed durations say 3 s, progress nothing: never past the cap either */
	pollplan_start(&pj, T0);
	assert_true(pollplan_wait(&pj, T0, 2000, -1, 3000) <= 2000);
	assert_true(pollplan_wait(&pj, T0, 2000, -1, 60000) <= 2000);
}

static void t_server_poll_after_is_a_floor(void **state)
{
	(void)state;
	struct pollplan_job pj;
	pollplan_start(&pj, T0);
	pollplan_running(&pj, T0 + 19900, 99);
	expect_ll("openai-poll-after-ms wins", 5000,
	          pollplan_wait(&pj, T0 + 19900, 2000, 5000, -1));
}

static void t_observed_durations_without_progress(void **state)
{
	(void)state;
	struct pollplan_job pj;
	pollplan_start(&pj, T0);
	pollplan_running(&pj, T0 + 2000, -1); /* no progress (LiteLLM) */
	expect_ll("nothing predicts", 0, pollplan_predict(&pj, -1));
	expect_between("the cap then", 4000 - 1200, 4000,
	               pollplan_wait(&pj, T0 + 2000, 4000, -1, -1));
	expect_ll("the durations observed", T0 + 5000, pollplan_predict(&pj, 5000));
	long long w = pollplan_wait(&pj, T0 + 2000, 4000, -1, 5000);
	expect_between("aimed at 5 s", 3065, 3065 + 150, w);
	/* 0 % (queued) says nothing either */
	pollplan_running(&pj, T0 + 3000, 0);
	expect_ll("0 %: the durations", T0 + 5000, pollplan_predict(&pj, 5000));
}

static void t_late_polls_fast_then_the_cap(void **state)
{
	(void)state;
	struct pollplan_job pj;
	pollplan_start(&pj, T0);
	long long now = T0 + 6000; /* predicted 5 s, not finished at 6 s */
	pollplan_running(&pj, now, -1);
	for (int i = 0; i < POLLPLAN_FAST_POLLS; i++) {
		long long w = pollplan_wait(&pj, now, 10000, -1, 5000);
		expect_between("fast", POLLPLAN_MIN_WAIT_MS, POLLPLAN_FAST_MS + 600, w);
		now += w;
		pollplan_running(&pj, now, -1);
	}
	long long w = pollplan_wait(&pj, now, 10000, -1, 5000);
	expect_between("then the cap (on its grid)", 10000 - 1200, 10000, w);
}

/* A 2 s job (the benchmark's waves of short jobs): aimed a few tens of milliseconds
 * after its finish, not the long jobs' ~80 ms; late, it asks again within a tenth of it. */
static void t_short_jobs_aim_close(void **state)
{
	(void)state;
	struct pollplan_job pj;
	pollplan_start(&pj, T0);
	/* 50 % read at 1 s: the true value in [50, 51), taken at its middle, so linear
	 * progress is done at 1000 * 100 / 50.5 = 1980 ms */
	pollplan_running(&pj, T0 + 1000, 50);
	expect_ll("a whole percent read as its middle", T0 + 1980, pollplan_predict(&pj, -1));
	long long w = pollplan_wait(&pj, T0 + 1000, 2000, -1, -1);
	long long margin = POLLPLAN_MARGIN_SHORT_MS + 1980 * POLLPLAN_MARGIN_PERMILLE / 1000;
	expect_between("aimed just after the finish", 980 + margin,
	               980 + margin + POLLPLAN_GRID_FINE_MS, w);
	expect_ll("on the fine grid", 0, (T0 + 1000 + w) % POLLPLAN_GRID_FINE_MS);
	/* the same from the durations observed, without progress */
	pollplan_start(&pj, T0);
	w = pollplan_wait(&pj, T0 + 300, 2000, -1, 2000);
	expect_between("from history", 1700 + margin, 1700 + margin + POLLPLAN_GRID_FINE_MS, w);
	/* not finished when predicted: asked again at each instant of the fine grid, not
	 * every 2000 / POLLPLAN_FAST_DIV (100 ms) nor the long jobs' 300 ms, for as long as
	 * POLLPLAN_FAST_POLLS polls at 100 ms would take; then the cap again */
	long long now = (T0 + 2100) / POLLPLAN_GRID_FINE_MS * POLLPLAN_GRID_FINE_MS;
	long long fast_end = now + POLLPLAN_FAST_POLLS * (2000 / POLLPLAN_FAST_DIV);
	pollplan_running(&pj, now, -1);
	int polls = 0;
	for (;;) {
		w = pollplan_wait(&pj, now, 2000, -1, 2000);
		if (w > POLLPLAN_GRID_FINE_MS)
			break;
		expect_ll("fast, for a short job: the fine grid", POLLPLAN_GRID_FINE_MS, w);
		now += w;
		pollplan_running(&pj, now, -1);
		polls++;
	}
	expect_ll("as long as the 100 ms polls would take", fast_end, now);
	expect_ll("that many polls",
	          POLLPLAN_FAST_POLLS * (2000 / POLLPLAN_FAST_DIV) / POLLPLAN_GRID_FINE_MS, polls);
	expect_between("then the cap (on its grid)", 2000 - 600, 2000, w);
	/* a long job keeps the late side of a whole percent: 50 % at 10 s, done at 20 s */
	pollplan_start(&pj, T0);
	pollplan_running(&pj, T0 + 10000, 50);
	expect_ll("a long job: the percent as read", T0 + 20000, pollplan_predict(&pj, -1));
	/* a long job keeps the long margin and interval */
	pollplan_start(&pj, T0);
	now = T0 + 21000;
	pollplan_running(&pj, now, -1);
	w = pollplan_wait(&pj, now, 10000, -1, 20000);
	expect_between("fast, for a 20 s job", POLLPLAN_FAST_MS, POLLPLAN_FAST_MS + 600, w);
}

static void t_progress_back_and_odd_values(void **state)
{
	(void)state;
	struct pollplan_job pj;
	pollplan_start(&pj, T0);
	pollplan_running(&pj, T0 + 5000, 50);
	pollplan_running(&pj, T0 + 6000, 20); /* went back: a new start */
	expect_ll("back: only the latest", -1, pj.p1);
	expect_ll("line through the latest", T0 + 30000, pollplan_predict(&pj, -1));
	pollplan_running(&pj, T0 + 7000, 250);
	pollplan_running(&pj, T0 + 7000, -7);
	pollplan_running(&pj, T0 + 7000, INT_MIN);
	expect_ll("out of range ignored", 20, pj.p2);
	expect_ll("but the answer counts", T0 + 7000, pj.open_ms);
	pollplan_running(&pj, T0 + 8000, 100);
	expect_ll("100 % but running: due now", T0 + 8000, pollplan_predict(&pj, -1));
	long long w = pollplan_wait(&pj, T0 + 8000, 10000, -1, -1);
	expect_between("fast", POLLPLAN_MIN_WAIT_MS, POLLPLAN_FAST_MS + 600, w);
	/* huge and negative durations from history are not believed */
	pollplan_start(&pj, T0);
	expect_ll("negative typical", 0, pollplan_predict(&pj, -5));
	expect_ll("huge typical", 0, pollplan_predict(&pj, LLONG_MAX));
	assert_true(pollplan_wait(&pj, T0, LLONG_MAX / 4, -1, -1) > 0);
	expect_ll("negative cap: at once", 0, pollplan_wait(&pj, T0, -10, -1, -1));
}

static void t_progress_cap_without_support(void **state)
{
	(void)state;
	/* the caller passes -1 when the service is known to report no progress */
	struct pollplan_job pj;
	pollplan_start(&pj, T0);
	pollplan_running(&pj, T0 + 2000, -1);
	pollplan_running(&pj, T0 + 6000, -1);
	expect_ll("nothing", 0, pollplan_predict(&pj, -1));
	expect_between("cap (on its grid)", 8000 - 1200, 8000,
	               pollplan_wait(&pj, T0 + 6000, 8000, -1, -1));
}

static void t_completed_bracket_and_service_times(void **state)
{
	(void)state;
	struct pollplan_job pj;
	struct pollplan_outcome o;
	pollplan_start(&pj, T0);
	pollplan_running(&pj, T0 + 14000, 70);
	(void)pollplan_wait(&pj, T0 + 14000, 10000, -1, -1); /* predicts 20 s */
	assert_true(pollplan_completed(&pj, T0 + 24000, 20, &o));
	expect_ll("the service's 20 s within the bracket", 20000, o.duration_ms);
	expect_ll("seen 4 s after", 4000, o.detect_ms);
	assert_true(o.predicted);
	expect_ll("error", 0, o.error_ms);
	/* without service times: the middle of the bracket */
	assert_true(pollplan_completed(&pj, T0 + 16000, -1, &o));
	expect_ll("middle", 15000, o.duration_ms);
	/* a service duration outside the bracket is clamped into it */
	assert_true(pollplan_completed(&pj, T0 + 16000, 40, &o));
	expect_ll("clamped", 16000, o.duration_ms);
	/* answers out of order make no sense */
	assert_false(pollplan_completed(&pj, T0 + 1000, 20, &o));
	/* resumed after a restart: from the video's creation, or (unknown) never learned */
	pollplan_resume(&pj, T0 + 50000, 30000);
	expect_ll("resumed start", T0 + 20000, pj.start_ms);
	assert_true(pollplan_completed(&pj, T0 + 51000, -1, &o));
	expect_ll("bracket from the resume", 30500, o.duration_ms);
	pollplan_resume(&pj, T0 + 50000, -1);
	assert_false(pollplan_completed(&pj, T0 + 51000, 20, &o));
}

static void t_durations_table(void **state)
{
	(void)state;
	struct pollplan_durations d = {0};
	char k[POLLPLAN_KEY_MAX], k2[POLLPLAN_KEY_MAX];
	pollplan_key(k, sizeof(k), "sora-2", "1280x720", 8);
	pollplan_key(k2, sizeof(k2), "sora-2", "1280x720", 4);
	expect_ll("none yet", -1, pollplan_typical_ms(&d, k));
	pollplan_learn(&d, k, 20000);
	pollplan_learn(&d, k, 22000);
	pollplan_learn(&d, k2, 5000);
	pollplan_learn(&d, k, -1);                  /* ignored */
	pollplan_learn(&d, k, POLLPLAN_MAX_MS + 1); /* ignored */
	expect_ll("mean", 21000, pollplan_typical_ms(&d, k));
	expect_ll("by seconds too", 5000, pollplan_typical_ms(&d, k2));
	for (int i = 0; i < 100; i++)
		pollplan_learn(&d, k, 30000);
	expect_ll("follows the recent ones", 30000, pollplan_typical_ms(&d, k));
	for (int i = 0; i < POLLPLAN_KEYS + 10; i++) {
		char kk[POLLPLAN_KEY_MAX];
		pollplan_key(kk, sizeof(kk), "m", "s", (unsigned)i + 100);
		pollplan_learn(&d, kk, 1000);
	}
	expect_ll("full: bounded", POLLPLAN_KEYS, (long long)d.n);
}

static void t_grid_and_histograms(void **state)
{
	(void)state;
	expect_ll("2 s job: short, the fine grid", POLLPLAN_GRID_FINE_MS, pollplan_grid_ms(2000));
	expect_ll("3 s job", POLLPLAN_GRID_FINE_MS, pollplan_grid_ms(3999));
	expect_ll("4 s job", 150, pollplan_grid_ms(4000));
	expect_ll("every step a multiple of the fine one", 0,
	          pollplan_grid_ms(600000) % POLLPLAN_GRID_FINE_MS);
	expect_ll("20 s job", 600, pollplan_grid_ms(20000));
	expect_ll("minutes", POLLPLAN_GRID_MAX_MS, pollplan_grid_ms(600000));
	expect_ll("nothing", POLLPLAN_GRID_MIN_MS, pollplan_grid_ms(-5));
	/* two jobs started apart, aimed at nearby finishes, poll at the same instant */
	struct pollplan_job a, b;
	pollplan_start(&a, T0 + 13);
	pollplan_start(&b, T0 + 171);
	long long wa = pollplan_wait(&a, T0 + 2000, 10000, -1, 19900);
	long long wb = pollplan_wait(&b, T0 + 2000, 10000, -1, 19850);
	expect_ll("one instant", T0 + 2000 + wa, T0 + 2000 + wb);

	struct pollplan_stats s = {0};
	struct pollplan_outcome o = {.detect_ms = 300, .error_ms = -1500, .predicted = true};
	pollplan_count(&s, &o);
	o = (struct pollplan_outcome){.detect_ms = 200000};
	pollplan_count(&s, &o);
	expect_ll("detect n", 2, (long long)s.detect.n);
	expect_ll("0.3 s in le=0.5", 1, (long long)s.detect.count[3]);
	expect_ll("200 s in +Inf", 1, (long long)s.detect.count[POLLPLAN_BUCKETS]);
	expect_ll("error n", 1, (long long)s.error.n);
	expect_ll("1.5 s in le=2", 1, (long long)s.error.count[5]);
	expect_ll("early", 1, (long long)s.early);
	expect_ll("unpredicted", 1, (long long)s.unpredicted);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_linear_progress_predicts_the_finish),
	    cmocka_unit_test(t_ease_in_progress_is_followed),
	    cmocka_unit_test(t_never_later_than_the_cap),
	    cmocka_unit_test(t_server_poll_after_is_a_floor),
	    cmocka_unit_test(t_observed_durations_without_progress),
	    cmocka_unit_test(t_late_polls_fast_then_the_cap),
	    cmocka_unit_test(t_progress_back_and_odd_values),
	    cmocka_unit_test(t_progress_cap_without_support),
	    cmocka_unit_test(t_completed_bracket_and_service_times),
	    cmocka_unit_test(t_durations_table),
	    cmocka_unit_test(t_grid_and_histograms),
	    cmocka_unit_test(t_short_jobs_aim_close),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
