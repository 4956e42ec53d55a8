/* t_claimretry.c — failed claims tried again: 1 s, then doubling; done ends the tries. */
#include "claimretry.h"
#include "loop.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

struct run {
	struct loop *l;
	struct claimretry *cr;
	long long t0, at[4];
	unsigned calls, fail_times; /* the first FAIL_TIMES tries fail again */
	char last[32];
};

static void on_due(const char *name, void *ud)
{
	struct run *r = ud;
	r->at[r->calls < 4 ? r->calls : 3] = loop_now_ms() - r->t0;
	r->calls++;
	snprintf(r->last, sizeof(r->last), "%s", name);
	if (r->calls <= r->fail_times) {
		claimretry_failed(r->cr, name, "No space left on device");
		return;
	}
	claimretry_done(r->cr, name, true);
	loop_stop(r->l);
}

static void t_claimretry_backs_off_and_stops_when_done(void **state)
{
	(void)state;
	struct run r = {.fail_times = 1};
	r.l = loop_new();
	assert_non_null(r.l);
	r.cr = claimretry_new(r.l, on_due, &r);
	claimretry_done(r.cr, "never-failed.txt", false); /* not an error */
	assert_int_equal(claimretry_pending(r.cr), 0);
	assert_int_equal(loop_timers_armed(r.l), 0);

	r.t0 = loop_now_ms();
	claimretry_failed(r.cr, "full.txt", "No space left on device");
	assert_int_equal(claimretry_pending(r.cr), 1);
	assert_int_equal(loop_timers_armed(r.l), 1);
	assert_int_equal(loop_run(r.l), 0);
	/* Tried after 1 s, failed again (reported from inside the callback), tried again
	 * 2 s after that, then done: nothing left, no timer. */
	assert_int_equal(r.calls, 2);
	assert_string_equal(r.last, "full.txt");
	assert_true(r.at[0] >= CLAIMRETRY_FIRST_MS);
	assert_true(r.at[1] - r.at[0] >= 2 * CLAIMRETRY_FIRST_MS);
	assert_int_equal(claimretry_pending(r.cr), 0);
	assert_int_equal(loop_timers_armed(r.l), 0);
	claimretry_free(r.cr);
	loop_free(r.l);
}

static void dummy(const char *name, void *ud)
{
	(void)name;
	(void)ud;
}

static void t_claimretry_free_with_pending_names(void **state)
{
	(void)state;
	struct loop *l = loop_new();
	struct claimretry *cr = claimretry_new(l, dummy, NULL);
	claimretry_failed(cr, "a.txt", "Invalid cross-device link");
	claimretry_failed(cr, "b.txt", "Invalid cross-device link");
	claimretry_failed(cr, "a.txt", "Not a directory"); /* same name: one entry */
	assert_int_equal(claimretry_pending(cr), 2);
	claimretry_done(cr, "b.txt", false);
	assert_int_equal(claimretry_pending(cr), 1);
	claimretry_free(cr); /* frees the names still waiting and disarms */
	assert_int_equal(loop_timers_armed(l), 0);
	loop_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_claimretry_backs_off_and_stops_when_done),
	    cmocka_unit_test(t_claimretry_free_with_pending_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
