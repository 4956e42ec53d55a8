/* t_decimal.c — the one way numbers in decimal are parsed (decimal.h), in the shapes
 * its callers take: ports, limits, seeds and sizes (integers), Retry-After and prices
 * (non-negative decimals). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <locale.h>
#include <string.h>

#include "decimal.h"

static void expect_uint(const char *s, unsigned long long max, unsigned long long want)
{
	unsigned long long v = 12345;
	if (decimal_uint(s, max, &v) != 0)
		fail_msg("decimal_uint(\"%s\", %llu): expected %llu, got a refusal", s, max, want);
	if (v != want)
		fail_msg("decimal_uint(\"%s\", %llu): expected %llu, got %llu", s, max, want, v);
}

static void expect_no_uint(const char *s, unsigned long long max)
{
	unsigned long long v = 12345;
	if (decimal_uint(s, max, &v) == 0)
		fail_msg("decimal_uint(\"%s\", %llu): expected a refusal, got %llu", s ? s : "NULL",
		         max, v);
	if (v != 12345)
		fail_msg("decimal_uint(\"%s\"): a refusal changed *out to %llu", s ? s : "NULL", v);
}

static void expect_real(const char *s, unsigned flags, double want)
{
	double v = -7;
	if (decimal_real(s, flags, &v) != 0)
		fail_msg("decimal_real(\"%s\", %u): expected %.17g, got a refusal", s, flags, want);
	if (v != want)
		fail_msg("decimal_real(\"%s\", %u): expected %.17g, got %.17g", s, flags, want, v);
}

static void expect_no_real(const char *s, unsigned flags)
{
	double v = -7;
	if (decimal_real(s, flags, &v) == 0)
		fail_msg("decimal_real(\"%s\", %u): expected a refusal, got %.17g", s ? s : "NULL",
		         flags, v);
	if (v != -7)
		fail_msg("decimal_real(\"%s\"): a refusal changed *out to %.17g", s ? s : "NULL",
		         v);
}

static void t_decimal_uint_takes_digits_up_to_max(void **state)
{
	(void)state;
	expect_uint("0", 0, 0);
	expect_uint("65535", 65535, 65535);
	expect_uint("007", 100, 7); /* leading zeros are the caller's to refuse */
	expect_uint("100", 100, 100);
	expect_uint("18446744073709551615", ULLONG_MAX, ULLONG_MAX);
	expect_uint("000000000000000000000000000001", 1, 1);
}

static void t_decimal_uint_refuses_overflow_signs_blanks_and_junk(void **state)
{
	(void)state;
	expect_no_uint("101", 100);
	expect_no_uint("5", 0);
	expect_no_uint("9", 5);
	expect_no_uint("19", 15);
	expect_no_uint("65536", 65535);
	expect_no_uint("18446744073709551616", ULLONG_MAX); /* 2^64: nothing wraps */
	expect_no_uint("99999999999999999999999999", ULLONG_MAX);
	expect_no_uint("1000000000000000000000", 1000000000);
	static const char *const junk[] = {"",    " 1", "1 ",  "+1", "-1",  "-0",  "0x10",
	                                   "1e3", "1.", "1.0", "１", "\t7", "7\n", "12a"};
	for (size_t i = 0; i < sizeof(junk) / sizeof(*junk); i++)
		expect_no_uint(junk[i], ULLONG_MAX);
	expect_no_uint(NULL, ULLONG_MAX);
}

static void t_decimal_uint_n_reads_only_len_bytes(void **state)
{
	(void)state;
	unsigned long long v = 0;
	assert_int_equal(decimal_uint_n("1280x720", 4, 65535, &v), 0);
	assert_int_equal(v, 1280);
	assert_int_equal(decimal_uint_n("1280x720", 5, 65535, &v), -1);
	assert_int_equal(decimal_uint_n("1280x720", 0, 65535, &v), -1);
	assert_int_equal(decimal_uint_n("99999x1", 5, 99999, &v), 0);
	assert_int_equal(v, 99999);
}

static void t_decimal_real_digits_and_fraction(void **state)
{
	(void)state;
	expect_real("0", 0, 0);
	expect_real("123", 0, 123);
	expect_real("1.5", 0, 1.5);
	expect_real("1.", 0, 1);
	expect_real(".5", 0, 0.5);
	expect_real("12.25", 0, 12.25);
	expect_real("007.50", 0, 7.5);
	/* Rounded as strtod rounds them: the prices compared to literals. */
	expect_real("0.30", 0, 0.30);
	expect_real("0.1", 0, 0.1);
	expect_real("0.000003", 0, 0.000003);
	expect_real("1234567890.123456789", 0, 1234567890.123456789);
	expect_real("0.00000000000000000000000001", 0, 1e-26);
	static const char *const junk[] = {"",    ".",  "..",  "1..2", "1.2.3", "-1",
	                                   "+1",  "-0", "1,5", "inf",  "nan",   "0x10",
	                                   "1e3", " 1", "1 ",  "1a",   "e3",    "1e"};
	for (size_t i = 0; i < sizeof(junk) / sizeof(*junk); i++)
		expect_no_real(junk[i], 0);
	expect_no_real(NULL, 0);
}

static void t_decimal_real_blanks_only_when_asked(void **state)
{
	(void)state;
	expect_real(" 80 ", DECIMAL_BLANKS, 80);
	expect_real("\t1.5\t", DECIMAL_BLANKS, 1.5);
	expect_no_real(" ", DECIMAL_BLANKS);
	expect_no_real("1 2", DECIMAL_BLANKS);
	expect_no_real("\n1", DECIMAL_BLANKS); /* spaces and tabs, not any isspace */
	expect_no_real("1e3", DECIMAL_BLANKS);
}

static void t_decimal_real_exponent_only_when_asked(void **state)
{
	(void)state;
	expect_real("1e3", DECIMAL_EXPONENT, 1000);
	expect_real("2.5E-4", DECIMAL_EXPONENT, 2.5e-4);
	expect_real("1.25e-6", DECIMAL_EXPONENT, 1.25e-6);
	expect_real("4e+0", DECIMAL_EXPONENT, 4);
	expect_no_real("1e", DECIMAL_EXPONENT);
	expect_no_real("1e+", DECIMAL_EXPONENT);
	expect_no_real("e5", DECIMAL_EXPONENT);
	expect_no_real("1e99999", DECIMAL_EXPONENT); /* five exponent digits */
	expect_no_real("1e400", DECIMAL_EXPONENT);   /* not finite */
	expect_real("1e-400", DECIMAL_EXPONENT, 0);  /* below the smallest: zero, as strtod */
}

static void t_decimal_real_huge_is_refused_not_infinite(void **state)
{
	(void)state;
	char big[400];
	memset(big, '9', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	expect_no_real(big, 0);
	char longfrac[400] = "1.";
	memset(longfrac + 2, '0', sizeof(longfrac) - 3);
	longfrac[sizeof(longfrac) - 1] = '\0';
	expect_real(longfrac, 0, 1);
}

static void t_decimal_real_ignores_the_locale(void **state)
{
	(void)state;
	/* A decimal comma locale, when the machine has one; the C locale otherwise. */
	if (!setlocale(LC_NUMERIC, "de_DE.UTF-8"))
		setlocale(LC_NUMERIC, "C");
	expect_real("1.5", 0, 1.5);
	expect_no_real("1,5", 0);
	setlocale(LC_NUMERIC, "C");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_decimal_uint_takes_digits_up_to_max),
	    cmocka_unit_test(t_decimal_uint_refuses_overflow_signs_blanks_and_junk),
	    cmocka_unit_test(t_decimal_uint_n_reads_only_len_bytes),
	    cmocka_unit_test(t_decimal_real_digits_and_fraction),
	    cmocka_unit_test(t_decimal_real_blanks_only_when_asked),
	    cmocka_unit_test(t_decimal_real_exponent_only_when_asked),
	    cmocka_unit_test(t_decimal_real_huge_is_refused_not_infinite),
	    cmocka_unit_test(t_decimal_real_ignores_the_locale),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
