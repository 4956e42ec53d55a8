/* deadline.c — service times into locally observed windows (see deadline.h). */
#include "deadline.h"

static long long clamp(long long v, long long lo, long long hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

long long deadline_window_s(long long expires_at, long long server_now, long long completed_at,
                            long long created_at, long long default_s)
{
	long long from = server_now > 0 ? server_now : completed_at > 0 ? completed_at : created_at;

	if (expires_at <= 0 || from <= 0)
		return clamp(default_s, 0, DEADLINE_MAX_WINDOW_S);
	return clamp(expires_at - from, 0, DEADLINE_MAX_WINDOW_S);
}

long long deadline_elapsed_ms(long long since_wall_ms, long long now_wall_ms, long long max_ms)
{
	return clamp(now_wall_ms - since_wall_ms, 0, max_ms < 0 ? 0 : max_ms);
}

long long deadline_wait_ms(long long due_wall_ms, long long now_wall_ms, long long max_ms)
{
	return clamp(due_wall_ms - now_wall_ms, 0, max_ms < 0 ? 0 : max_ms);
}
