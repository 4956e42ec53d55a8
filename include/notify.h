/*
 * notify.h — desktop notifications through libnotify: "Video ready: NAME" (model,
 * size, seconds; the thumbnail as the image; an "Open" action where the server
 * supports actions), "Video failed: NAME" (the reason), and "Usage cap reached".
 *
 * Never blocking the loop: notify_notification_show() is a synchronous D-Bus call
 * (up to D-Bus's 25 s timeout when the server hangs). So notifications are shown by
 * one worker thread, started on the first notification (none while notify = false),
 * that runs its own GLib main context: the loop hands it a copy of each notification
 * with g_main_context_invoke(), which never waits, and action callbacks ("Open") are
 * dispatched there too. A thread rather than a child per batch: one D-Bus connection
 * for the daemon's lifetime, and the "Open" action needs a long-lived connection to
 * receive the server's ActionInvoked signal. The worker touches no daemon state and
 * only writes log lines (log.c is thread-safe).
 *
 * libnotify (and with it GLib, GObject, GIO and gdk-pixbuf) is not linked: it is loaded
 * with dlopen("libnotify.so.4") when the first notification is sent, so a daemon that
 * never notifies never maps it. If it cannot be loaded, one warning says so
 * ("notifications off: cannot load libnotify.so.4: ...") and notifications stay off
 * until the daemon restarts.
 *
 * No session bus (a headless server) is not an error: the first failure is logged
 * once as a warning, later ones at debug level; notifications keep being tried, so
 * a desktop session that appears later gets them.
 *
 * Ownership: struct notifier owns its thread and queue; strings passed in are copied.
 */
#ifndef SORAD_NOTIFY_H
#define SORAD_NOTIFY_H

struct notifier;

/* A notifier; no thread yet. Never NULL. */
struct notifier *notifier_new(void);

/*
 * Stops the worker: waits up to 2 s for a notification being shown; a worker stuck
 * in D-Bus after that is left to the process exit. NULL is fine.
 */
void notifier_free(struct notifier *n);

/*
 * Queues a notification. IMAGE (a file path) becomes the "image-path" hint when not
 * NULL; OPEN (a file path) gets an "Open" action when not NULL and the server
 * supports actions. CRITICAL marks failures. Never blocks.
 */
void notifier_send(struct notifier *n, const char *summary, const char *body, const char *image,
                   const char *open, int critical);

#endif
