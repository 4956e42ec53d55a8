/* t_eta.c — how long a job has run (eta.h) and how long it has left (status_json.h),
 * on this machine's clock whatever the service's clock says; the typical durations per
 * model. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "eta.h"
#include "job.h"
#include "status_json.h"
#include "util.h"

static void t_eta_elapsed_is_on_this_machines_clock(void **state)
{
	(void)state;
	struct job j;
	job_init(&j);
	j.submit_at = 1700000000;
	/* a service 2 h behind ours, then 2 h ahead: 60 s either way */
	j.video_created_at = 1700000000 - 7200;
	assert_int_equal(eta_elapsed_s(&j, 1700000060), 60);
	j.video_created_at = 1700000000 + 7200;
	assert_int_equal(eta_elapsed_s(&j, 1700000060), 60);
	/* a clock set back past the submission: unknown, not negative */
	assert_int_equal(eta_elapsed_s(&j, 1699999000), -1);
	/* a record too old to have a submit_at: the video's own time */
	j.submit_at = -1;
	j.video_created_at = 1700000000;
	assert_int_equal(eta_elapsed_s(&j, 1700000030), 30);
	j.video_created_at = -1;
	assert_int_equal(eta_elapsed_s(&j, 1700000030), -1);
}

/* Time left from the rate so far, on this machine's clock too. */
static void t_eta_remaining_from_the_rate_on_this_machines_clock(void **state)
{
	(void)state;
	struct job j;
	job_init(&j);
	j.state = JOB_RUNNING;
	j.submit_at = 1700000000;
	j.video_created_at = 1700000000 - 7200; /* a service 2 h behind */
	j.progress = 25;
	assert_int_equal(status_json_remaining_s(&j, 1700000060), 180);
	j.video_created_at = 1700000000 + 7200; /* 2 h ahead */
	assert_int_equal(status_json_remaining_s(&j, 1700000060), 180);
}

static void t_eta_typical_per_model(void **state)
{
	(void)state;
	struct eta e;
	eta_init(&e);
	struct job j;
	job_init(&j);
	j.state = JOB_DONE;
	j.model = xstrdup("sora-2");
	j.video_created_at = 1000;
	j.video_completed_at = 1100;
	eta_add(&e, &j);
	j.video_completed_at = 1300;
	eta_add(&e, &j);
	assert_int_equal(eta_typical_s(&e, "sora-2"), 200);
	assert_int_equal(eta_typical_s(&e, "veo-3"), -1);
	/* a failed job says nothing about how long a video takes */
	j.state = JOB_FAILED;
	j.video_completed_at = 9000;
	eta_add(&e, &j);
	assert_int_equal(eta_typical_s(&e, "sora-2"), 200);
	job_release(&j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_eta_elapsed_is_on_this_machines_clock),
	    cmocka_unit_test(t_eta_remaining_from_the_rate_on_this_machines_clock),
	    cmocka_unit_test(t_eta_typical_per_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
