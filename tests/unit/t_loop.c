/* t_loop.c — the event loop: timers in deadline order, fds, signals, no idle wakeups. */
#include "clock.h"
#include "loop.h"
#include "util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <string.h>
#include <time.h>
#include <sys/epoll.h>
#include <unistd.h>

struct rec {
	struct loop *l;
	char order[16];
	size_t n;
	int stop_after;
};

static void note(struct rec *r, char c)
{
	r->order[r->n++] = c;
	if ((int)r->n == r->stop_after)
		loop_stop(r->l);
}

static struct rec *R;
static void ta(void *ud)
{
	(void)ud;
	note(R, 'a');
}
static void tb(void *ud)
{
	(void)ud;
	note(R, 'b');
}
static void tc(void *ud)
{
	(void)ud;
	note(R, 'c');
}

static void t_loop_timers_fire_in_deadline_order(void **state)
{
	(void)state;
	struct loop *l = loop_new();
	assert_non_null(l);
	struct rec r = {.l = l, .stop_after = 3};
	R = &r;
	struct loop_timer *a = loop_timer_new(l, ta, NULL);
	struct loop_timer *b = loop_timer_new(l, tb, NULL);
	struct loop_timer *c = loop_timer_new(l, tc, NULL);
	struct loop_timer *never = loop_timer_new(l, tc, NULL);
	long long t0 = loop_now_ms();
	loop_timer_arm(c, 30);
	loop_timer_arm(a, 10);
	loop_timer_arm(b, 20);
	loop_timer_arm(never, 5);
	loop_timer_disarm(never);
	loop_timer_arm(a, 1); /* re-arming replaces */
	assert_int_equal(loop_timers_armed(l), 3);
	assert_int_equal(loop_run(l), 0);
	assert_memory_equal(r.order, "abc", 3);
	assert_true(loop_now_ms() - t0 >= 30);
	assert_int_equal(loop_timers_armed(l), 0);
	loop_timer_free(a);
	loop_timer_free(b);
	loop_timer_free(c);
	loop_timer_free(never);
	loop_free(l);
}

struct pipes {
	struct loop *l;
	int a[2], b[2];
	int reads;
};

static void on_a(int fd, uint32_t ev, void *ud)
{
	struct pipes *p = ud;
	char buf[8];
	assert_true(ev & EPOLLIN);
	assert_int_equal(read(fd, buf, sizeof(buf)), 1);
	p->reads++;
	/* Unwatching b while its event may be pending in the same batch must be safe. */
	loop_unwatch(p->l, p->b[0]);
	loop_stop(p->l);
}

static void on_b(int fd, uint32_t ev, void *ud)
{
	(void)fd;
	(void)ev;
	struct pipes *p = ud;
	p->reads += 100;
	loop_unwatch(p->l, p->a[0]);
	loop_stop(p->l);
}

static void t_loop_fd_events_and_unwatch_in_callback(void **state)
{
	(void)state;
	struct pipes p = {.l = loop_new()};
	assert_int_equal(pipe(p.a), 0);
	assert_int_equal(pipe(p.b), 0);
	assert_int_equal(loop_watch(p.l, p.a[0], EPOLLIN, on_a, &p), 0);
	assert_int_equal(loop_watch(p.l, p.b[0], EPOLLIN, on_b, &p), 0);
	assert_int_equal(write(p.a[1], "x", 1), 1);
	assert_int_equal(write(p.b[1], "y", 1), 1);
	assert_int_equal(loop_run(p.l), 0);
	/* Exactly one of the two callbacks ran: the other was unwatched first. */
	assert_true(p.reads == 1 || p.reads == 100);
	loop_unwatch(p.l, p.a[0]);
	loop_unwatch(p.l, p.b[0]);
	for (int i = 0; i < 2; i++) {
		close(p.a[i]);
		close(p.b[i]);
	}
	loop_free(p.l);
}

static int got_signal;

static void on_sig(int signo, void *ud)
{
	got_signal = signo;
	loop_stop(ud);
}

static void t_loop_delivers_signals_as_events(void **state)
{
	(void)state;
	struct loop *l = loop_new();
	const int sigs[] = {SIGUSR1, SIGHUP};
	assert_int_equal(loop_signals(l, sigs, 2, on_sig, l), 0);
	assert_int_equal(kill(getpid(), SIGHUP), 0);
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(got_signal, SIGHUP);
	loop_free(l);
}

static void rearm_self(void *ud)
{
	struct rec *r = ud;
	note(r, 'x');
	if (r->n < 5) {
		/* A timer re-armed for "now" from its own callback runs again, not forever
		 * within one pass. */
		extern struct loop_timer *self_timer;
		loop_timer_arm(self_timer, 0);
	}
}
struct loop_timer *self_timer;

static void t_loop_timer_rearmed_from_its_callback(void **state)
{
	(void)state;
	struct loop *l = loop_new();
	struct rec r = {.l = l, .stop_after = 5};
	self_timer = loop_timer_new(l, rearm_self, &r);
	loop_timer_arm(self_timer, 0);
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(r.n, 5);
	loop_timer_free(self_timer);
	loop_free(l);
}

static void t_loop_many_timers_heap_order(void **state)
{
	(void)state;
	struct loop *l = loop_new();
	enum { N = 500 };
	struct loop_timer *t[N];
	unsigned seed = 7;
	for (int i = 0; i < N; i++) {
		t[i] = loop_timer_new(l, ta, NULL);
		seed = seed * 1103515245 + 12345;
		loop_timer_arm_at(t[i], 1000000 + (seed >> 8) % 100000);
	}
	for (int i = 0; i < N; i += 3)
		loop_timer_disarm(t[i]);
	assert_int_equal(loop_timers_armed(l), N - (N + 2) / 3);
	for (int i = 0; i < N; i++)
		loop_timer_free(t[i]);
	assert_int_equal(loop_timers_armed(l), 0);
	loop_free(l);
}

/* The loop's clock is clock.h's monotonic clock; the wall clock is time(2)'s. */
static void t_loop_clock_is_the_monotonic_clock(void **state)
{
	(void)state;
	struct mono_ms a = clock_mono_ms();
	long long l = loop_now_ms();
	long long us = clock_mono_us();
	struct mono_ms b = clock_mono_ms();
	if (l < a.ms || l > b.ms)
		fail_msg("loop_now_ms %lld outside clock_mono_ms [%lld, %lld]", l, a.ms, b.ms);
	if (us / 1000 < a.ms || us / 1000 > b.ms)
		fail_msg("clock_mono_us %lld outside [%lld, %lld] ms", us, a.ms, b.ms);
	assert_true(mono_ms_diff(b, a) >= 0);
	assert_int_equal(mono_ms_diff((struct mono_ms){1500}, (struct mono_ms){2000}), -500);
	long long t0 = (long long)time(NULL);
	struct wall_s w = clock_wall_s();
	long long t1 = (long long)time(NULL);
	if (w.s < t0 || w.s > t1)
		fail_msg("clock_wall_s %lld outside time(2)'s [%lld, %lld]", w.s, t0, t1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_loop_timers_fire_in_deadline_order),
	    cmocka_unit_test(t_loop_fd_events_and_unwatch_in_callback),
	    cmocka_unit_test(t_loop_delivers_signals_as_events),
	    cmocka_unit_test(t_loop_timer_rearmed_from_its_callback),
	    cmocka_unit_test(t_loop_many_timers_heap_order),
	    cmocka_unit_test(t_loop_clock_is_the_monotonic_clock),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
