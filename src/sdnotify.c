/* sdnotify.c — sd_notify wrapper (see sdnotify.h). */
#include "sdnotify.h"
#include "util.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

void sdn_send(const char *fmt, ...)
{
#ifdef HAVE_LIBSYSTEMD
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vbfmt(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	(void)sd_notify(0, buf); /* not run by systemd, or it went away: nothing to do */
#else
	(void)fmt;
#endif
}

long long sdn_watchdog_ms(void)
{
#ifdef HAVE_LIBSYSTEMD
	uint64_t usec = 0;
	if (sd_watchdog_enabled(0, &usec) > 0)
		return (long long)(usec / 1000);
#endif
	return 0;
}
