/* clock.c — the clocks sorad reads (see clock.h). */
#include "clock.h"

#include <time.h>

static long long read_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

struct mono_ms clock_mono_ms(void)
{
	return (struct mono_ms){read_ns(CLOCK_MONOTONIC) / 1000000};
}

long long clock_mono_us(void)
{
	return read_ns(CLOCK_MONOTONIC) / 1000;
}

struct wall_s clock_wall_s(void)
{
	return (struct wall_s){(long long)time(NULL)};
}
