/*
 * clock.h — the clocks sorad reads, as types the compiler tells apart, so that a
 * monotonic instant is never compared with a date, nor this machine's date with the
 * service's:
 *
 *   struct mono_ms    CLOCK_MONOTONIC in milliseconds: timers, intervals, deadlines
 *                     while the daemon runs (loop.h's loop_now_ms is this clock)
 *   struct wall_s     this machine's CLOCK_REALTIME in seconds since the epoch: the
 *                     dates sorad writes (records, the usage log, file names)
 *   struct wall_ms    the same clock in milliseconds (a claimed job's next try, the
 *                     start of a doubt, as records keep them)
 *   struct service_s  seconds since the epoch as the service wrote them (created_at,
 *                     expires_at): its clock, not ours; deadline.h turns them into a
 *                     window on the monotonic clock
 *
 * The values are plain (.ms, .s) where a number is needed: in formats, and at the
 * edges of modules that still pass bare long long. Reading a clock cannot fail on
 * Linux for these clock ids.
 */
#ifndef SORAD_CLOCK_H
#define SORAD_CLOCK_H

struct mono_ms {
	long long ms;
};

struct wall_s {
	long long s;
};

struct wall_ms {
	long long ms;
};

struct service_s {
	long long s;
};

/* Now, on the monotonic clock. */
struct mono_ms clock_mono_ms(void);
/* The monotonic clock in microseconds, for the debug log's timings. */
long long clock_mono_us(void);
/* Now, on this machine's wall clock. */
struct wall_s clock_wall_s(void);

/* T in milliseconds. */
static inline struct wall_ms wall_ms_of(struct wall_s t)
{
	return (struct wall_ms){t.s * 1000};
}

/* Milliseconds from FROM to TO (negative when TO is earlier). */
static inline long long mono_ms_diff(struct mono_ms to, struct mono_ms from)
{
	return to.ms - from.ms;
}

#endif
