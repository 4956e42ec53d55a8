/*
 * loop.h — the daemon's single-threaded event loop (after Redis's ae and curl's
 * ephiperfifo.c): epoll for file descriptors, one timerfd for all timers, and a
 * signalfd so signals arrive as ordinary events. When nothing is scheduled the
 * timerfd is disarmed: an idle daemon sleeps in epoll_wait and never wakes up.
 *
 * Callbacks may add and remove watches and timers, including their own. Nothing in
 * the loop blocks; callbacks must not either.
 *
 * Ownership: the loop owns its own descriptors; watched fds stay the caller's
 * (unwatch before closing). Timers are allocated by loop_timer_new and freed by the
 * caller with loop_timer_free (which disarms them).
 */
#ifndef SORAD_LOOP_H
#define SORAD_LOOP_H

#include <stddef.h>
#include <stdint.h>

struct loop;
struct loop_timer;

/* EVENTS: EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP bits as epoll reported them. */
typedef void loop_fd_fn(int fd, uint32_t events, void *ud);
typedef void loop_timer_fn(void *ud);
typedef void loop_signal_fn(int signo, void *ud);

/* A new loop, or NULL (logged). */
struct loop *loop_new(void);
/* Frees the loop; timers must have been freed and fds unwatched by their owners. */
void loop_free(struct loop *l);

/* Watches FD for EVENTS (EPOLLIN/EPOLLOUT), replacing an earlier watch of FD. 0 or -1. */
int loop_watch(struct loop *l, int fd, uint32_t events, loop_fd_fn *cb, void *ud);
/* Stops watching FD (no effect if not watched). Pending events for it are dropped. */
void loop_unwatch(struct loop *l, int fd);

struct loop_timer *loop_timer_new(struct loop *l, loop_timer_fn *cb, void *ud);
/* Fires once, MS milliseconds from now (0: on the next iteration); replaces any earlier arming. */
void loop_timer_arm(struct loop_timer *t, long long ms);
/* Fires once at the monotonic time AT_MS (loop_now_ms's clock). */
void loop_timer_arm_at(struct loop_timer *t, long long at_ms);
void loop_timer_disarm(struct loop_timer *t);
int loop_timer_armed(const struct loop_timer *t);
void loop_timer_free(struct loop_timer *t);

/*
 * Delivers SIGNALS (N of them) through the loop: they are blocked for the process
 * and read from a signalfd, and CB runs for each. Call before starting threads.
 */
int loop_signals(struct loop *l, const int *signals, size_t n, loop_signal_fn *cb, void *ud);

/*
 * Before each wait, CB runs (one per loop; NULL removes it): the place for work
 * that gathers what the callbacks of one iteration did (the group commit, commit.h).
 * When it returns nonzero it has more to do: the loop then only polls for events and
 * calls it again right after.
 */
typedef int loop_idle_fn(void *ud);
void loop_before_wait(struct loop *l, loop_idle_fn *cb, void *ud);

/* Runs until loop_stop; 0, or -1 when epoll fails (logged). */
int loop_run(struct loop *l);
/* Makes loop_run return after the current iteration. */
void loop_stop(struct loop *l);

/* CLOCK_MONOTONIC milliseconds. */
long long loop_now_ms(void);
/* Number of armed timers (for tests and the idle check). */
size_t loop_timers_armed(const struct loop *l);

#endif
