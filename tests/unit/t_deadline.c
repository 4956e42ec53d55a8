/* t_deadline.c — service times into locally observed windows (deadline.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "deadline.h"

/* The clocks as deadline.h takes them. */
#define SV(x) ((struct service_s){(x)})
#define WM(x) ((struct wall_ms){(x)})

#define expect_ll(what, expected, got)                                                             \
	do {                                                                                       \
		long long e_ = (expected), g_ = (got);                                             \
		if (e_ != g_)                                                                      \
			fail_msg("%s: expected %lld, got %lld", what, e_, g_);                     \
	} while (0)

static void t_window_is_measured_on_the_services_clock(void **state)
{
	(void)state;
	/* a service 2 h behind: expires_at an hour after its own now, whatever ours is */
	long long server_now = 1700000000 - 7200;
	expect_ll("Date present", 3600,
	          deadline_window_s(SV(server_now + 3600), SV(server_now), SV(server_now - 5),
	                            SV(server_now - 60), DEADLINE_DEFAULT_WINDOW_S));
}

static void t_window_without_date_counts_from_completed_then_created(void **state)
{
	(void)state;
	expect_ll("from completed_at", 3600,
	          deadline_window_s(SV(5000), SV(-1), SV(1400), SV(1000), 10));
	expect_ll("from created_at", 4000,
	          deadline_window_s(SV(5000), SV(-1), SV(-1), SV(1000), 10));
	expect_ll("created_at 0 (unknown)", 10,
	          deadline_window_s(SV(5000), SV(-1), SV(0), SV(0), 10));
}

static void t_window_defaults_and_bounds(void **state)
{
	(void)state;
	expect_ll("no expires_at", DEADLINE_DEFAULT_WINDOW_S,
	          deadline_window_s(SV(-1), SV(1000), SV(900), SV(800), DEADLINE_DEFAULT_WINDOW_S));
	expect_ll("already expired on its clock", 0,
	          deadline_window_s(SV(1000), SV(2000), SV(-1), SV(-1), 3600));
	expect_ll("absurdly far", DEADLINE_MAX_WINDOW_S,
	          deadline_window_s(SV(4000000000LL), SV(1000), SV(-1), SV(-1), 3600));
}

static void t_elapsed_after_restart_is_never_negative_nor_beyond_max(void **state)
{
	(void)state;
	expect_ll("plain", 5000, deadline_elapsed_ms(WM(10000), WM(15000), 60000));
	expect_ll("clock set back", 0, deadline_elapsed_ms(WM(15000), WM(10000), 60000));
	expect_ll("days off", 60000, deadline_elapsed_ms(WM(0), WM(86400000LL * 3), 60000));
	expect_ll("max below zero", 0, deadline_elapsed_ms(WM(0), WM(1000), -5));
}

static void t_wait_after_restart_is_bounded(void **state)
{
	(void)state;
	expect_ll("due in 3 s", 3000, deadline_wait_ms(WM(13000), WM(10000), 20000));
	expect_ll("due long ago", 0, deadline_wait_ms(WM(1000), WM(10000), 20000));
	/* a record saying "a day from now" (another version, a clock set back) */
	expect_ll("a day away", 20000, deadline_wait_ms(WM(10000 + 86400000LL), WM(10000), 20000));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_window_is_measured_on_the_services_clock),
	    cmocka_unit_test(t_window_without_date_counts_from_completed_then_created),
	    cmocka_unit_test(t_window_defaults_and_bounds),
	    cmocka_unit_test(t_elapsed_after_restart_is_never_negative_nor_beyond_max),
	    cmocka_unit_test(t_wait_after_restart_is_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
