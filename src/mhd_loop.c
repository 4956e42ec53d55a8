/* mhd_loop.c — a libmicrohttpd daemon inside the event loop (see mhd_loop.h). */
#include "mhd_loop.h"
#include "log.h"
#include "loop.h"
#include "util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

struct mhd_loop {
	struct loop *loop;
	struct MHD_Daemon *mhd;
	int epfd;                 /* MHD's epoll descriptor, watched by the loop */
	struct loop_timer *timer; /* MHD_get_timeout */
};

/* MHD's next timeout, capped at an hour (a longer one is simply re-asked then). */
static void rearm(struct mhd_loop *ml)
{
	MHD_UNSIGNED_LONG_LONG ms;
	if (MHD_get_timeout(ml->mhd, &ms) == MHD_YES)
		loop_timer_arm(ml->timer, ms > 3600000ULL ? 3600000LL : (long long)ms);
	else
		loop_timer_disarm(ml->timer);
}

static void run(struct mhd_loop *ml)
{
	MHD_run(ml->mhd);
	rearm(ml);
}

static void on_fd(int fd, uint32_t events, void *ud)
{
	(void)fd;
	(void)events;
	run(ud);
}

static void on_timer(void *ud)
{
	run(ud);
}

struct mhd_loop *mhd_loop_start(struct loop *l, struct MHD_Daemon *mhd, unsigned *port)
{
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_BIND_PORT);
	*port = info ? info->port : 0;
	info = MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info || info->epoll_fd < 0)
		return NULL;
	struct mhd_loop *ml = xcalloc(1, sizeof(*ml));
	ml->loop = l;
	ml->mhd = mhd;
	ml->epfd = info->epoll_fd;
	ml->timer = loop_timer_new(l, on_timer, ml);
	if (loop_watch(l, ml->epfd, EPOLLIN, on_fd, ml) != 0) {
		loop_timer_free(ml->timer);
		free(ml);
		return NULL;
	}
	rearm(ml);
	return ml;
}

void mhd_loop_kick(struct mhd_loop *ml)
{
	loop_timer_arm(ml->timer, 0);
}

void mhd_loop_stop(struct mhd_loop *ml)
{
	if (!ml)
		return;
	loop_unwatch(ml->loop, ml->epfd);
	MHD_stop_daemon(ml->mhd);
	loop_timer_free(ml->timer);
	free(ml);
}

void mhd_loop_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	vbfmt(msg, sizeof(msg), fmt, ap);
	size_t n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
		msg[--n] = '\0';
	log_debug("%s: libmicrohttpd: %s", cls ? (const char *)cls : "http", msg);
}
