/* t_util.c — the small helpers every module uses. */
#include "util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

/* sorad does not link libm: whole numbers are recognised without floor(). */
static void t_dbl_is_integer(void **state)
{
	(void)state;
	assert_true(dbl_is_integer(0.0));
	assert_true(dbl_is_integer(-0.0));
	assert_true(dbl_is_integer(12.0));
	assert_true(dbl_is_integer(-7.0));
	assert_true(dbl_is_integer(4102444800.0)); /* a unix time in 2100 */
	assert_true(dbl_is_integer(9007199254740990.0));
	assert_false(dbl_is_integer(0.5));
	assert_false(dbl_is_integer(-2.25));
	assert_false(dbl_is_integer(1e-300));
	assert_false(dbl_is_integer(4.7e59)); /* beyond 2^53: never a valid count or time */
	assert_false(dbl_is_integer(INFINITY));
	assert_false(dbl_is_integer(-INFINITY));
	assert_false(dbl_is_integer(NAN));
}

static void t_bounded_formatting_reports_truncation(void **state)
{
	(void)state;
	char buf[8];
	assert_int_equal(bfmt(buf, sizeof(buf), "%s", "1234567"), 0);
	assert_int_equal(bfmt(buf, sizeof(buf), "%s", "12345678"), -1);
	assert_string_equal(buf, "1234567");
	assert_int_equal(bcopy_str(buf, sizeof(buf), "abc"), 0);
	assert_int_equal(bcopy_str(buf, sizeof(buf), "abcdefghij"), -1);
	assert_int_equal(strlen(buf), 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_dbl_is_integer),
	    cmocka_unit_test(t_bounded_formatting_reports_truncation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
