/*
 * deadline.h — the one rule for deadlines: every decision is taken on this machine's
 * monotonic clock, from the moment sorad observed an event, never by comparing the
 * service's absolute times (its clock may be hours off) or this machine's wall clock
 * (it may be set back or forward) with "now". Pure functions: the caller passes
 * every clock reading, so each rule is unit-tested exactly.
 *
 * A service's absolute time (a video's expires_at) becomes a window: how long was
 * left when sorad read the answer, measured on the service's own clock (its Date
 * header), else against the video's own completed_at or created_at, else a default.
 * The window is kept as a monotonic deadline while sorad runs. Monotonic clocks do not
 * survive a reboot, so a record keeps the window and the wall time it was observed
 * at; after a restart the time that passed is taken from the wall clock, never as
 * less than zero (a clock set back counts as no time passed) and never as more than
 * the window (so nothing is ever due further away than it was).
 */
#ifndef SORAD_DEADLINE_H
#define SORAD_DEADLINE_H

#include "clock.h"

/* The download window when the service gives no expires_at (about an hour, as the
 * Videos API documents), and the longest one believed (a week). */
#define DEADLINE_DEFAULT_WINDOW_S 3600LL
#define DEADLINE_MAX_WINDOW_S (7LL * 24 * 3600)

/*
 * Seconds left before EXPIRES_AT (< 0 unknown), as observed when the service's clock
 * read SERVER_NOW (its Date header, < 0 unknown): all four on the service's clock.
 * Without SERVER_NOW the window is counted from COMPLETED_AT, else CREATED_AT (the
 * video's own times; <= 0 unknown), which is generous by the time since then. Without
 * EXPIRES_AT, or any time to count it from: DEFAULT_S. The result is within
 * [0, DEADLINE_MAX_WINDOW_S].
 */
long long deadline_window_s(struct service_s expires_at, struct service_s server_now,
                            struct service_s completed_at, struct service_s created_at,
                            long long default_s);

/*
 * The wall-clock milliseconds that passed from SINCE (a time this machine recorded
 * before a restart) to NOW, within [0, MAX_MS]: a clock set back counts as no time.
 */
long long deadline_elapsed_ms(struct wall_ms since, struct wall_ms now, long long max_ms);

/*
 * Milliseconds still to wait for something due at DUE (recorded before a restart) at
 * NOW, within [0, MAX_MS]: nothing recorded can make a job wait longer than the
 * longest wait sorad itself schedules.
 */
long long deadline_wait_ms(struct wall_ms due, struct wall_ms now, long long max_ms);

#endif
