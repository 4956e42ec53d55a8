/* deadline.c — service times into locally observed windows (see deadline.h). */
#include "deadline.h"

static long long clamp(long long v, long long lo, long long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

long long deadline_window_s(struct service_s expires_at, struct service_s server_now,
                            struct service_s completed_at, struct service_s created_at,
                            long long default_s)
{
	long long from = server_now.s > 0     ? server_now.s
	                 : completed_at.s > 0 ? completed_at.s
	                                      : created_at.s;

	if (expires_at.s <= 0 || from <= 0)
		return clamp(default_s, 0, DEADLINE_MAX_WINDOW_S);
	return clamp(expires_at.s - from, 0, DEADLINE_MAX_WINDOW_S);
}

long long deadline_elapsed_ms(struct wall_ms since, struct wall_ms now, long long max_ms)
{
	return clamp(now.ms - since.ms, 0, max_ms < 0 ? 0 : max_ms);
}

long long deadline_wait_ms(struct wall_ms due, struct wall_ms now, long long max_ms)
{
	return clamp(due.ms - now.ms, 0, max_ms < 0 ? 0 : max_ms);
}
