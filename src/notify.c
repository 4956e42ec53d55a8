/* notify.c — desktop notifications on a worker thread (see notify.h). */
#include "notify.h"
#include "log.h"
#include "util.h"

#include <dlfcn.h>
#include <errno.h>
#include <libnotify/notify.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * libnotify and the GLib/GObject functions used with it, resolved on the first
 * notification from dlopen("libnotify.so.4"): GLib, GObject, GIO and gdk-pixbuf come
 * in through libnotify's own dependencies and dlsym on its handle finds their symbols
 * too. sorad does not link them, so a daemon without notifications never maps them
 * (about 2 MiB of RSS). The headers give the types only; every call goes through this
 * table, and a direct call would fail to link.
 */
#define NOTIFY_SYMBOLS(X)                                                                          \
	X(notify_init)                                                                             \
	X(notify_uninit)                                                                           \
	X(notify_is_initted)                                                                       \
	X(notify_get_server_caps)                                                                  \
	X(notify_notification_new)                                                                 \
	X(notify_notification_set_app_name)                                                        \
	X(notify_notification_set_urgency)                                                         \
	X(notify_notification_set_category)                                                        \
	X(notify_notification_set_hint)                                                            \
	X(notify_notification_add_action)                                                          \
	X(notify_notification_show)                                                                \
	X(g_object_unref)                                                                          \
	X(g_signal_connect_data)                                                                   \
	X(g_spawn_async)                                                                           \
	X(g_error_free)                                                                            \
	X(g_free)                                                                                  \
	X(g_list_free_full)                                                                        \
	X(g_variant_new_string)                                                                    \
	X(g_main_context_new)                                                                      \
	X(g_main_context_unref)                                                                    \
	X(g_main_context_push_thread_default)                                                      \
	X(g_main_context_pop_thread_default)                                                       \
	X(g_main_context_invoke_full)                                                              \
	X(g_main_loop_new)                                                                         \
	X(g_main_loop_run)                                                                         \
	X(g_main_loop_quit)                                                                        \
	X(g_main_loop_unref)

/* NOLINTNEXTLINE(bugprone-macro-parentheses): NAME is a declarator, not an expression */
#define NOTIFY_FIELD(name) __typeof__(name) *name;
static struct {
	NOTIFY_SYMBOLS(NOTIFY_FIELD)
} lib;

/* 0: not tried yet, 1: loaded, -1: cannot be loaded (said once; never tried again). */
static int lib_state;

/*
 * Loads the library on the loop thread, before the worker starts (pthread_create
 * orders the table's writes before the worker's reads). Never unloaded: GObject's
 * types and the D-Bus connection live until the process exits.
 */
static bool lib_load(void)
{
	if (lib_state)
		return lib_state > 0;
	lib_state = -1;
	void *h = dlopen("libnotify.so.4", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		log_warn("notifications off: cannot load libnotify.so.4: %s", dlerror());
		return false;
	}
#define NOTIFY_RESOLVE(name)                                                                       \
	lib.name = (__typeof__(lib.name))dlsym(h, #name);                                          \
	if (!lib.name) {                                                                           \
		log_warn("notifications off: cannot load libnotify.so.4: %s", dlerror());          \
		dlclose(h);                                                                        \
		return false;                                                                      \
	}
	NOTIFY_SYMBOLS(NOTIFY_RESOLVE)
#undef NOTIFY_RESOLVE
	lib_state = 1;
	log_debug("notify: libnotify.so.4 loaded");
	return true;
}

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
	if (!lib.g_spawn_async(NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, &err)) {
		log_warn("notify: cannot open %s: %s", path, err ? err->message : "?");
		if (err)
			lib.g_error_free(err);
	}
}

static void on_closed(NotifyNotification *nn, gpointer ud)
{
	(void)ud;
	lib.g_object_unref(nn);
}

static bool server_has_actions(struct notifier *n)
{
	if (n->has_actions < 0) {
		GList *caps = lib.notify_get_server_caps();
		n->has_actions = 0;
		for (GList *c = caps; c; c = c->next)
			if (!strcmp((const char *)c->data, "actions"))
				n->has_actions = 1;
		lib.g_list_free_full(caps, lib.g_free);
		if (!caps)
			n->has_actions = -1; /* no answer (no bus yet): ask again next time */
	}
	return n->has_actions > 0;
}

static gboolean show(gpointer ud)
{
	struct item *it = ud;
	struct notifier *n = it->n;
	NotifyNotification *nn = lib.notify_notification_new(it->summary, it->body, NULL);
	lib.notify_notification_set_app_name(nn, "sorad");
	lib.notify_notification_set_urgency(nn, it->critical ? NOTIFY_URGENCY_CRITICAL
	                                                     : NOTIFY_URGENCY_NORMAL);
	lib.notify_notification_set_category(nn,
	                                     it->critical ? "transfer.error" : "transfer.complete");
	if (it->image)
		lib.notify_notification_set_hint(nn, "image-path",
		                                 lib.g_variant_new_string(it->image));
	bool kept = false;
	if (it->open && server_has_actions(n)) {
		lib.notify_notification_add_action(nn, "default", "Open", on_open,
		                                   xstrdup(it->open), free);
		lib.notify_notification_add_action(nn, "open", "Open", on_open, xstrdup(it->open),
		                                   free);
		/* Kept until the server closes it, so that the action can still arrive. */
		lib.g_signal_connect_data(nn, "closed", G_CALLBACK(on_closed), NULL, NULL, 0);
		kept = true;
	}
	GError *err = NULL;
	if (!lib.notify_notification_show(nn, &err)) {
		if (!n->warned)
			log_warn("notify: no desktop notifications (%s); carrying on without them",
			         err ? err->message : "no session bus");
		else
			log_debug("notify: not shown: %s", err ? err->message : "?");
		n->warned = true;
		n->has_actions = -1;
		if (err)
			lib.g_error_free(err);
		if (kept)
			lib.g_object_unref(nn); /* no "closed" will come */
		kept = true;
	} else {
		log_debug("notify: shown \"%s\"", it->summary);
	}
	if (!kept)
		lib.g_object_unref(nn);
	return G_SOURCE_REMOVE; /* the item is freed by item_free, also if never shown */
}

static gboolean quit(gpointer ud)
{
	struct notifier *n = ud;
	lib.g_main_loop_quit(n->loop);
	return G_SOURCE_REMOVE;
}

static void *worker(void *ud)
{
	struct notifier *n = ud;
	lib.g_main_context_push_thread_default(n->ctx);
	if (!lib.notify_init("sorad"))
		log_warn("notify: libnotify cannot start; carrying on without notifications");
	lib.g_main_loop_run(n->loop);
	if (lib.notify_is_initted())
		lib.notify_uninit();
	lib.g_main_context_pop_thread_default(n->ctx);
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
	if (!lib_load())
		return false;
	n->ctx = lib.g_main_context_new();
	n->loop = lib.g_main_loop_new(n->ctx, FALSE);
	int rc = pthread_create(&n->thread, NULL, worker, n);
	if (rc != 0) {
		log_warn("notify: cannot start the notification thread: %s", strerror(rc));
		lib.g_main_loop_unref(n->loop);
		lib.g_main_context_unref(n->ctx);
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
	lib.g_main_context_invoke_full(n->ctx, G_PRIORITY_DEFAULT, show, it, item_free);
}

void notifier_free(struct notifier *n)
{
	if (!n)
		return;
	if (n->started) {
		lib.g_main_context_invoke_full(n->ctx, G_PRIORITY_DEFAULT, quit, n, NULL);
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
		lib.g_main_loop_unref(n->loop);
		lib.g_main_context_unref(n->ctx);
	}
	pthread_mutex_destroy(&n->lock);
	pthread_cond_destroy(&n->cond);
	free(n);
}
