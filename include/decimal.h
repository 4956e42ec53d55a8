/*
 * decimal.h — numbers written in decimal (configuration values, query arguments,
 * headers, environment variables, a service's prices), parsed the one way: digit by
 * digit, without the C library's locale (strtod's decimal point follows LC_NUMERIC),
 * errno, leading blanks or signs that strtol and strtod take on their own. Each caller
 * says which shape it accepts; nothing else is. Pure functions.
 */
#ifndef SORAD_DECIMAL_H
#define SORAD_DECIMAL_H

#include <stddef.h>

/*
 * An unsigned integer: the LEN bytes at S are digits 0-9 and nothing else (no sign,
 * blank, "0x"; at least one; leading zeros are fine), and their value is at most MAX.
 * 0 with *OUT set, or -1 (*OUT untouched). A value beyond MAX is refused however many
 * digits it has: nothing wraps.
 */
int decimal_uint_n(const char *s, size_t len, unsigned long long max, unsigned long long *out);

/* The same for the whole string S (NULL is refused). */
int decimal_uint(const char *s, unsigned long long max, unsigned long long *out);

/* What decimal_real accepts besides digits with an optional fraction. */
enum decimal_flags {
	DECIMAL_BLANKS = 1 << 0,   /* spaces and tabs before and after ("  1.5 ") */
	DECIMAL_EXPONENT = 1 << 1, /* an exponent: "1e3", "2.5E-4" */
};

/*
 * A non-negative decimal number: digits with an optional fraction ("123", "1.5",
 * "1.", ".5"; at least one digit, one '.' at most, always '.' whatever the locale),
 * plus what FLAGS allow; no sign, no "inf" or "nan". Rounded as strtod rounds in the
 * usual case (at most 19 significant digits and a power of ten up to 22: exactly);
 * beyond, within an ulp or so. 0 with *OUT set, or -1 (*OUT untouched), also for a
 * value too large to be finite.
 */
int decimal_real(const char *s, unsigned flags, double *out);

#endif
