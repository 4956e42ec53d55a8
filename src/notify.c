/* notify.c — desktop notifications on a worker thread (see notify.h). */
#include "notify.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <libnotify/notify.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct notifier {
	pthread_t thread;
	bool started;
	GMainContext *ctx;
	GMainLoop *loop;
	pthread_mutex_t lock; /* guards exited, for the stop */
	pthread_cond_t cond;
	bool exited;
	bool warned;     /* the worker's: "no bus" said once */
	int has_actions; /* the worker's: -1 not asked yet */
};

struct item {
	struct notifier *n;
	char *summary, *body, *image, *open;
	int critical;
};

static void item_free(gpointer ud)
{
	struct item *it = ud;
	free(it->summary);
	free(it->body);
	free(it->image);
	free(it->open);
	free(it);
}

/* ---- the worker thread ------------------------------------------------------------ */

static void on_open(NotifyNotification *nn, char *action, gpointer ud)
{
	(void)nn;
	(void)action;
	const char *path = ud;
	char *argv[] = {"xdg-open", (char *)path, NULL};
	GError *err = NULL;
	if (!g_spawn_async(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, &err)) {
		log_warn("notify: cannot open %s: %s", path, err ? err->message : "?");
		g_clear_error(&err);
	}
}

static void on_closed(NotifyNotification *nn, gpointer ud)
{
	(void)ud;
	g_object_unref(nn);
}

static bool server_has_actions(struct notifier *n)
{
	if (n->has_actions < 0) {
		GList *caps = notify_get_server_caps();
		n->has_actions = 0;
		for (GList *c = caps; c; c = c->next)
			if (!strcmp((const char *)c->data, "actions"))
				n->has_actions = 1;
		g_list_free_full(caps, g_free);
		if (!caps)
			n->has_actions = -1; /* no answer (no bus yet): ask again next time */
	}
	return n->has_actions > 0;
}

static gboolean show(gpointer ud)
{
	struct item *it = ud;
	struct notifier *n = it->n;
	NotifyNotification *nn = notify_notification_new(it->summary, it->body, NULL);
	notify_notification_set_app_name(nn, "sorad");
	notify_notification_set_urgency(nn, it->critical ? NOTIFY_URGENCY_CRITICAL
	                                                 : NOTIFY_URGENCY_NORMAL);
	notify_notification_set_category(nn, it->critical ? "transfer.error" : "transfer.complete");
	if (it->image)
		notify_notification_set_hint(nn, "image-path", g_variant_new_string(it->image));
	bool kept = false;
	if (it->open && server_has_actions(n)) {
		notify_notification_add_action(nn, "default", "Open", on_open, g_strdup(it->open),
		                               g_free);
		notify_notification_add_action(nn, "open", "Open", on_open, g_strdup(it->open),
		                               g_free);
		/* Kept until the server closes it, so that the action can still arrive. */
		g_signal_connect(nn, "closed", G_CALLBACK(on_closed), NULL);
		kept = true;
	}
	GError *err = NULL;
	if (!notify_notification_show(nn, &err)) {
		if (!n->warned)
			log_warn("notify: no desktop notifications (%s); carrying on without them",
			         err ? err->message : "no session bus");
		else
			log_debug("notify: not shown: %s", err ? err->message : "?");
		n->warned = true;
		n->has_actions = -1;
		g_clear_error(&err);
		if (kept)
			g_object_unref(nn); /* no "closed" will come */
		kept = true;
	} else {
		log_debug("notify: shown \"%s\"", it->summary);
	}
	if (!kept)
		g_object_unref(nn);
	return G_SOURCE_REMOVE; /* the item is freed by item_free, also if never shown */
}

static gboolean quit(gpointer ud)
{
	struct notifier *n = ud;
	g_main_loop_quit(n->loop);
	return G_SOURCE_REMOVE;
}

static void *worker(void *ud)
{
	struct notifier *n = ud;
	g_main_context_push_thread_default(n->ctx);
	if (!notify_init("sorad"))
		log_warn("notify: libnotify cannot start; carrying on without notifications");
	g_main_loop_run(n->loop);
	if (notify_is_initted())
		notify_uninit();
	g_main_context_pop_thread_default(n->ctx);
	pthread_mutex_lock(&n->lock);
	n->exited = true;
	pthread_cond_broadcast(&n->cond);
	pthread_mutex_unlock(&n->lock);
	return NULL;
}

/* ---- the loop's side ---------------------------------------------------------------- */

struct notifier *notifier_new(void)
{
	struct notifier *n = xcalloc(1, sizeof(*n));
	pthread_mutex_init(&n->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&n->cond, &ca);
	pthread_condattr_destroy(&ca);
	n->has_actions = -1;
	return n;
}

static bool start(struct notifier *n)
{
	if (n->started)
		return true;
	n->ctx = g_main_context_new();
	n->loop = g_main_loop_new(n->ctx, FALSE);
	int rc = pthread_create(&n->thread, NULL, worker, n);
	if (rc != 0) {
		log_warn("notify: cannot start the notification thread: %s", strerror(rc));
		g_main_loop_unref(n->loop);
		g_main_context_unref(n->ctx);
		n->loop = NULL;
		n->ctx = NULL;
		return false;
	}
	n->started = true;
	return true;
}

void notifier_send(struct notifier *n, const char *summary, const char *body, const char *image,
                   const char *open, int critical)
{
	if (!n || !start(n))
		return;
	struct item *it = xcalloc(1, sizeof(*it));
	it->n = n;
	it->summary = xstrdup(summary);
	it->body = xstrdup(body ? body : "");
	it->image = image ? xstrdup(image) : NULL;
	it->open = open ? xstrdup(open) : NULL;
	it->critical = critical;
	g_main_context_invoke_full(n->ctx, G_PRIORITY_DEFAULT, show, it, item_free);
}

void notifier_free(struct notifier *n)
{
	if (!n)
		return;
	if (n->started) {
		g_main_context_invoke(n->ctx, quit, n);
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += 2;
		pthread_mutex_lock(&n->lock);
		int rc = 0;
		while (!n->exited && rc != ETIMEDOUT)
			rc = pthread_cond_timedwait(&n->cond, &n->lock, &until);
		bool exited = n->exited;
		pthread_mutex_unlock(&n->lock);
		if (!exited) {
			/* Stuck in a D-Bus call: the process exit ends it. */
			log_warn("notify: the notification thread is busy; not waiting for it");
			pthread_detach(n->thread);
			return;
		}
		pthread_join(n->thread, NULL);
		g_main_loop_unref(n->loop);
		g_main_context_unref(n->ctx);
	}
	pthread_mutex_destroy(&n->lock);
	pthread_cond_destroy(&n->cond);
	free(n);
}
