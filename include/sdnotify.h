/*
 * sdnotify.h — telling systemd how the daemon is doing (Type=notify): READY,
 * STATUS, RELOADING, STOPPING and WATCHDOG. The protocol of sd_notify(3) and
 * sd_watchdog_enabled(3), spoken directly rather than through libsystemd: one
 * datagram to $NOTIFY_SOCKET (a path, or "@NAME" for an abstract socket), and
 * $WATCHDOG_USEC / $WATCHDOG_PID read as systemd sets them. Linking libsystemd for
 * this cost every daemon about 0.4 MiB of memory. Does nothing when not started by
 * systemd (no NOTIFY_SOCKET).
 */
#ifndef SORAD_SDNOTIFY_H
#define SORAD_SDNOTIFY_H

/* Sends STATE (e.g. "READY=1\nSTATUS=...") to systemd; quiet no-op otherwise. */
void sdn_send(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The watchdog interval systemd asked for, in milliseconds, or 0 when none. */
long long sdn_watchdog_ms(void);

#endif
