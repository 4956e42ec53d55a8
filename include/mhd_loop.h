/*
 * mhd_loop.h — a libmicrohttpd daemon run inside sorad's event loop, for the status
 * endpoint (httpd.c) and the callback listener (callback.c): started with
 * MHD_USE_EPOLL and no internal thread, MHD's epoll descriptor is watched by the loop
 * and MHD_get_timeout is kept on a loop timer, so that every request is handled on the
 * loop's thread between other events.
 */
#ifndef SORAD_MHD_LOOP_H
#define SORAD_MHD_LOOP_H

#include <stdarg.h>

#include <microhttpd.h>

struct loop;
struct mhd_loop;

/* Takes over MHD (started with MHD_USE_EPOLL, without a thread of its own): watches its
 * descriptor and arms its timeout. Returns NULL when MHD has no epoll descriptor or the
 * loop cannot watch it; MHD is then still the caller's to stop. *port: the port MHD is
 * bound to (0 when unknown). */
struct mhd_loop *mhd_loop_start(struct loop *l, struct MHD_Daemon *mhd, unsigned *port);

/* Lets MHD run at the loop's next turn: after a connection was resumed outside MHD_run. */
void mhd_loop_kick(struct mhd_loop *ml);

/* Stops watching, stops MHD (its completion callbacks run now) and frees; NULL is a no-op. */
void mhd_loop_stop(struct mhd_loop *ml);

/* MHD's messages into sorad's debug log: MHD_OPTION_EXTERNAL_LOGGER, mhd_loop_log, and
 * as its closure a string naming the server ("status", "callback"). */
void mhd_loop_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

#endif
