/* loop.c — epoll + timerfd + signalfd event loop (see loop.h). */
#include "loop.h"
#include "clock.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS 64

struct fd_entry {
	loop_fd_fn *cb;
	void *ud;
	uint32_t gen; /* changes on every (re)registration, so stale events are dropped */
	bool used;
};

struct loop_timer {
	struct loop *loop;
	loop_timer_fn *cb;
	void *ud;
	long long at_ms;
	size_t heap_idx; /* position in loop->heap, or SIZE_MAX when disarmed */
};

struct loop {
	int epfd, tfd, sfd;
	struct fd_entry *fds; /* indexed by fd */
	size_t n_fds;
	uint32_t next_gen;
	struct loop_timer **heap; /* min-heap by at_ms */
	size_t n_heap, cap_heap;
	long long armed_at; /* what the timerfd is set to, -1 disarmed */
	loop_signal_fn *sig_cb;
	void *sig_ud;
	loop_idle_fn *idle_cb;
	void *idle_ud;
	bool stop;
};

long long loop_now_ms(void)
{
	return clock_mono_ms().ms;
}

static void on_timerfd(int fd, uint32_t events, void *ud);

struct loop *loop_new(void)
{
	struct loop *l = xcalloc(1, sizeof(*l));
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	l->sfd = -1;
	l->armed_at = -1;
	if (l->epfd < 0 || l->tfd < 0) {
		log_error("loop: cannot create epoll/timerfd: %s", strerror(errno));
		loop_free(l);
		return NULL;
	}
	if (loop_watch(l, l->tfd, EPOLLIN, on_timerfd, l) != 0) {
		loop_free(l);
		return NULL;
	}
	return l;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n_heap; i++)
		l->heap[i]->heap_idx = SIZE_MAX;
	if (l->sfd >= 0)
		close(l->sfd);
	if (l->tfd >= 0)
		close(l->tfd);
	if (l->epfd >= 0)
		close(l->epfd);
	free(l->fds);
	free(l->heap);
	free(l);
}

int loop_watch(struct loop *l, int fd, uint32_t events, loop_fd_fn *cb, void *ud)
{
	if (fd < 0) {
		errno = EBADF;
		return -1;
	}
	if ((size_t)fd >= l->n_fds) {
		size_t n = l->n_fds ? l->n_fds : 64;
		while (n <= (size_t)fd)
			n *= 2;
		l->fds = xrealloc(l->fds, n * sizeof(*l->fds));
		memset(l->fds + l->n_fds, 0, (n - l->n_fds) * sizeof(*l->fds));
		l->n_fds = n;
	}
	struct fd_entry *e = &l->fds[fd];
	uint32_t gen = ++l->next_gen;
	struct epoll_event ev = {.events = events, .data.u64 = (uint64_t)gen << 32 | (uint32_t)fd};
	int op = e->used ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if (epoll_ctl(l->epfd, op, fd, &ev) != 0) {
		log_error("loop: cannot watch fd %d: %s", fd, strerror(errno));
		return -1;
	}
	e->cb = cb;
	e->ud = ud;
	e->gen = gen;
	e->used = true;
	return 0;
}

void loop_unwatch(struct loop *l, int fd)
{
	if (fd < 0 || (size_t)fd >= l->n_fds || !l->fds[fd].used)
		return;
	/* ENOENT/EBADF: the fd was closed already, which removed it from the epoll set. */
	if (epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL) != 0 && errno != EBADF && errno != ENOENT)
		log_warn("loop: cannot unwatch fd %d: %s", fd, strerror(errno));
	memset(&l->fds[fd], 0, sizeof(l->fds[fd]));
}

/* ---- timers: a binary min-heap; the timerfd is armed to the earliest deadline */

static void heap_swap(struct loop *l, size_t a, size_t b)
{
	struct loop_timer *t = l->heap[a];
	l->heap[a] = l->heap[b];
	l->heap[b] = t;
	l->heap[a]->heap_idx = a;
	l->heap[b]->heap_idx = b;
}

static void heap_up(struct loop *l, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (l->heap[p]->at_ms <= l->heap[i]->at_ms)
			break;
		heap_swap(l, i, p);
		i = p;
	}
}

static void heap_down(struct loop *l, size_t i)
{
	for (;;) {
		size_t c = 2 * i + 1, m = i;
		if (c < l->n_heap && l->heap[c]->at_ms < l->heap[m]->at_ms)
			m = c;
		if (c + 1 < l->n_heap && l->heap[c + 1]->at_ms < l->heap[m]->at_ms)
			m = c + 1;
		if (m == i)
			break;
		heap_swap(l, i, m);
		i = m;
	}
}

static void heap_remove(struct loop *l, struct loop_timer *t)
{
	size_t i = t->heap_idx;
	if (i == SIZE_MAX)
		return;
	t->heap_idx = SIZE_MAX;
	l->n_heap--;
	if (i == l->n_heap)
		return;
	l->heap[i] = l->heap[l->n_heap];
	l->heap[i]->heap_idx = i;
	heap_up(l, i);
	heap_down(l, l->heap[i]->heap_idx);
}

/* Sets the timerfd to the earliest deadline, or disarms it: no timer, no wakeup. */
static void rearm(struct loop *l)
{
	long long at = l->n_heap ? l->heap[0]->at_ms : -1;
	if (at == l->armed_at)
		return;
	struct itimerspec its = {0};
	if (at >= 0) {
		if (at < 1)
			at = 1; /* zero would disarm */
		its.it_value.tv_sec = at / 1000;
		its.it_value.tv_nsec = (at % 1000) * 1000000;
	}
	if (timerfd_settime(l->tfd, TFD_TIMER_ABSTIME, &its, NULL) != 0) {
		log_error("loop: timerfd_settime: %s", strerror(errno));
		return;
	}
	l->armed_at = at;
}

struct loop_timer *loop_timer_new(struct loop *l, loop_timer_fn *cb, void *ud)
{
	struct loop_timer *t = xcalloc(1, sizeof(*t));
	t->loop = l;
	t->cb = cb;
	t->ud = ud;
	t->heap_idx = SIZE_MAX;
	return t;
}

void loop_timer_arm_at(struct loop_timer *t, long long at_ms)
{
	struct loop *l = t->loop;
	heap_remove(l, t);
	t->at_ms = at_ms;
	if (l->n_heap == l->cap_heap) {
		l->cap_heap = l->cap_heap ? 2 * l->cap_heap : 64;
		l->heap = xrealloc(l->heap, l->cap_heap * sizeof(*l->heap));
	}
	t->heap_idx = l->n_heap;
	l->heap[l->n_heap++] = t;
	heap_up(l, t->heap_idx);
	rearm(l);
}

void loop_timer_arm(struct loop_timer *t, long long ms)
{
	loop_timer_arm_at(t, loop_now_ms() + (ms > 0 ? ms : 0));
}

void loop_timer_disarm(struct loop_timer *t)
{
	if (t->heap_idx == SIZE_MAX)
		return;
	heap_remove(t->loop, t);
	rearm(t->loop);
}

int loop_timer_armed(const struct loop_timer *t)
{
	return t->heap_idx != SIZE_MAX;
}

void loop_timer_free(struct loop_timer *t)
{
	if (!t)
		return;
	loop_timer_disarm(t);
	free(t);
}

size_t loop_timers_armed(const struct loop *l)
{
	return l->n_heap;
}

static void on_timerfd(int fd, uint32_t events, void *ud)
{
	(void)events;
	struct loop *l = ud;
	uint64_t expirations;
	if (read(fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		log_warn("loop: timerfd read: %s", strerror(errno));
	l->armed_at = -1; /* a one-shot timerfd is disarmed once it fired */
	long long now = loop_now_ms();
	/* Run what is due; timers armed by callbacks for "now" run on the next pass. */
	size_t budget = l->n_heap;
	while (l->n_heap && l->heap[0]->at_ms <= now && budget--) {
		struct loop_timer *t = l->heap[0];
		heap_remove(l, t);
		t->cb(t->ud);
	}
	rearm(l);
}

/* ---- signals */

static void on_signalfd(int fd, uint32_t events, void *ud)
{
	(void)events;
	struct loop *l = ud;
	struct signalfd_siginfo si;
	ssize_t n;
	while ((n = read(fd, &si, sizeof(si))) == (ssize_t)sizeof(si))
		l->sig_cb((int)si.ssi_signo, l->sig_ud);
	if (n < 0 && errno != EAGAIN)
		log_warn("loop: signalfd read: %s", strerror(errno));
}

int loop_signals(struct loop *l, const int *signals, size_t n, loop_signal_fn *cb, void *ud)
{
	sigset_t set;
	sigemptyset(&set);
	for (size_t i = 0; i < n; i++)
		sigaddset(&set, signals[i]);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0) {
		log_error("loop: sigprocmask: %s", strerror(errno));
		return -1;
	}
	int fd = signalfd(l->sfd, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0) {
		log_error("loop: signalfd: %s", strerror(errno));
		return -1;
	}
	l->sfd = fd;
	l->sig_cb = cb;
	l->sig_ud = ud;
	return loop_watch(l, fd, EPOLLIN, on_signalfd, l);
}

/* ---- running */

int loop_run(struct loop *l)
{
	l->stop = false;
	struct epoll_event evs[MAX_EVENTS];
	while (!l->stop) {
		int timeout = l->idle_cb && l->idle_cb(l->idle_ud) ? 0 : -1;
		if (l->stop)
			break;
		int n = epoll_wait(l->epfd, evs, MAX_EVENTS, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error("loop: epoll_wait: %s", strerror(errno));
			return -1;
		}
		for (int i = 0; i < n; i++) {
			int fd = (int)(uint32_t)evs[i].data.u64;
			uint32_t gen = (uint32_t)(evs[i].data.u64 >> 32);
			if ((size_t)fd >= l->n_fds)
				continue;
			struct fd_entry *e = &l->fds[fd];
			if (!e->used || e->gen != gen)
				continue; /* unwatched (or re-watched) by an earlier callback */
			e->cb(fd, evs[i].events, e->ud);
		}
	}
	return 0;
}

void loop_before_wait(struct loop *l, loop_idle_fn *cb, void *ud)
{
	l->idle_cb = cb;
	l->idle_ud = ud;
}

void loop_stop(struct loop *l)
{
	l->stop = true;
}
