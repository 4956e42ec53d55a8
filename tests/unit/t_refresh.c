/* t_refresh.c — how far apart batch polling's list walks may start (refresh.h): the
 * usual gap, the hot gap after a walk saw videos finishing, the shorter gap a due short
 * job asks for, and the floors (REFRESH_SHORT_GAP_MS, the server's
 * openai-poll-after-ms). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "refresh.h"

static void t_usual_and_hot_gaps(void **state)
{
	(void)state;
	assert_int_equal(REFRESH_MIN_GAP_MS, refresh_gap_ms(false, 0, 0));
	assert_int_equal(REFRESH_HOT_GAP_MS, refresh_gap_ms(true, 0, 0));
	/* a due job asking for more than the usual gap does not slow the walks */
	assert_int_equal(REFRESH_MIN_GAP_MS, refresh_gap_ms(false, 5000, 0));
	assert_int_equal(REFRESH_HOT_GAP_MS, refresh_gap_ms(true, 5000, 0));
}

static void t_short_jobs_shorten_the_gap(void **state)
{
	(void)state;
	/* a 2 s job polls on the fine grid: a walk that found nothing does not hold its
	 * aimed poll back for REFRESH_MIN_GAP_MS */
	assert_int_equal(25, refresh_gap_ms(false, 25, 0));
	assert_int_equal(REFRESH_SHORT_GAP_MS, refresh_gap_ms(false, REFRESH_SHORT_GAP_MS, 0));
	assert_int_equal(REFRESH_SHORT_GAP_MS, refresh_gap_ms(true, REFRESH_SHORT_GAP_MS, 0));
	/* never below the floor */
	assert_int_equal(REFRESH_SHORT_GAP_MS, refresh_gap_ms(false, 1, 0));
}

static void t_server_pace_is_a_floor(void **state)
{
	(void)state;
	assert_int_equal(700, refresh_gap_ms(false, 10, 700));
	assert_int_equal(700, refresh_gap_ms(true, 0, 700));
	assert_int_equal(REFRESH_MIN_GAP_MS, refresh_gap_ms(false, 0, 20));
	assert_int_equal(40, refresh_gap_ms(false, 10, 40));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_usual_and_hot_gaps),
	    cmocka_unit_test(t_short_jobs_shorten_the_gap),
	    cmocka_unit_test(t_server_pace_is_a_floor),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
