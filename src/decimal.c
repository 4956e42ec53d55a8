/* decimal.c — numbers in decimal, parsed one way (see decimal.h). */
#include "decimal.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

int decimal_uint_n(const char *s, size_t len, unsigned long long max, unsigned long long *out)
{
	unsigned long long v = 0;
	if (!s || len == 0)
		return -1;
	if (len <= 19) { /* below 10^19 < 2^64: no overflow to watch on the way */
		for (size_t i = 0; i < len; i++) {
			unsigned d = (unsigned)(unsigned char)s[i] - '0';
			if (d > 9)
				return -1;
			v = v * 10 + d;
		}
		if (v > max)
			return -1;
		*out = v;
		return 0;
	}
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		unsigned d = (unsigned)(s[i] - '0');
		if (d > max || v > (max - d) / 10) /* v * 10 + d > max, without overflowing */
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int decimal_uint(const char *s, unsigned long long max, unsigned long long *out)
{
	return s ? decimal_uint_n(s, strlen(s), max, out) : -1;
}

static const char *skip_blanks(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* The exponent at S (after 'e'): an optional sign and 1..4 digits; S past it, or NULL. */
static const char *exponent(const char *s, int *e)
{
	int sign = 1;
	if (*s == '+' || *s == '-')
		sign = *s++ == '-' ? -1 : 1;
	size_t n = strspn(s, "0123456789");
	unsigned long long v;
	if (n == 0 || n > 4 || decimal_uint_n(s, n, 9999, &v) != 0)
		return NULL;
	*e = sign * (int)v;
	return s + n;
}

/* M * 10^E: exact operands when M < 2^53 and |E| <= 22, so one correctly rounded step. */
static double scale10(unsigned long long m, int e)
{
	static const double p10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
	                             1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
	                             1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
	double v = (double)m;
	for (; e > 22; e -= 22)
		v *= 1e22;
	for (; e < -22; e += 22)
		v /= 1e22;
	return e >= 0 ? v * p10[e] : v / p10[-e];
}

int decimal_real(const char *s, unsigned flags, double *out)
{
	unsigned long long m = 0; /* the first 19 significant digits */
	int e = 0;                /* the power of ten M is to be scaled by */
	bool digits = false;
	if (!s)
		return -1;
	if (flags & DECIMAL_BLANKS)
		s = skip_blanks(s);
	for (bool dot = false;; s++) {
		if (*s == '.' && !dot) {
			dot = true;
			continue;
		}
		if (*s < '0' || *s > '9')
			break;
		digits = true;
		if (m < 1000000000000000000ULL) { /* 10^18: one more digit still fits */
			m = m * 10 + (unsigned long long)(*s - '0');
			e -= dot;
		} else {
			e += !dot; /* an integer digit beyond what M holds */
		}
		if (e < -9999 || e > 9999) /* absurdly long: not a number we take */
			return -1;
	}
	if (!digits)
		return -1;
	if ((flags & DECIMAL_EXPONENT) && (*s == 'e' || *s == 'E')) {
		int x = 0;
		s = exponent(s + 1, &x);
		if (!s)
			return -1;
		e += x;
	}
	if (flags & DECIMAL_BLANKS)
		s = skip_blanks(s);
	if (*s)
		return -1;
	double v = m ? scale10(m, e) : 0;
	if (!isfinite(v))
		return -1;
	*out = v;
	return 0;
}
