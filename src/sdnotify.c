/* sdnotify.c — systemd's notification protocol, spoken directly (see sdnotify.h). */
#include "sdnotify.h"
#include "decimal.h"
#include "util.h"

#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

/*
 * $NOTIFY_SOCKET as an address: an absolute path, or "@NAME" for an abstract socket
 * (what systemd hands to services). Returns its length, or 0 when there is none or
 * it cannot be used. A path needs room for its NUL; an abstract name has none.
 */
static socklen_t notify_addr(struct sockaddr_un *sa)
{
	const char *e = getenv("NOTIFY_SOCKET");
	if (!e || (e[0] != '/' && e[0] != '@') || !e[1])
		return 0;
	size_t len = strlen(e);
	bool abstract = e[0] == '@';
	if (len > sizeof(sa->sun_path) - (abstract ? 0 : 1))
		return 0;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, e, len);
	if (abstract)
		sa->sun_path[0] = '\0';
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (abstract ? 0 : 1));
}

void sdn_send(const char *fmt, ...)
{
	struct sockaddr_un sa;
	socklen_t salen = notify_addr(&sa);
	if (!salen)
		return; /* not run by systemd */
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vbfmt(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	/* systemd went away, or never listened: nothing to do (as sd_notify(3) does). */
	(void)sendto(fd, buf, strlen(buf), MSG_NOSIGNAL, (const struct sockaddr *)&sa, salen);
	close(fd);
}

/* An environment variable as a positive decimal number; 0 when unset or not one. */
static unsigned long long env_number(const char *name)
{
	unsigned long long v;
	return decimal_uint(getenv(name), ULLONG_MAX, &v) == 0 ? v : 0;
}

long long sdn_watchdog_ms(void)
{
	/* WATCHDOG_PID, when set, names the process the watchdog is for (sd_watchdog_enabled). */
	unsigned long long pid = env_number("WATCHDOG_PID");
	if (getenv("WATCHDOG_PID") && pid != (unsigned long long)getpid())
		return 0;
	unsigned long long usec = env_number("WATCHDOG_USEC");
	if (usec == 0 || usec == ~0ULL) /* none, or "infinity" */
		return 0;
	return (long long)(usec / 1000);
}
