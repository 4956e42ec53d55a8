/* usage_loader.c — the usage log loaded beside the records at start (usage_loader.h). */
#include "usage_loader.h"

#include "log.h"
#include "usage.h"
#include "util.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct usage_loader {
	pthread_t thread;
	bool threaded;   /* false: the load is done in usage_loader_wait */
	char *state_dir; /* owned */
	time_t now;
	struct usage *u; /* the thread's result, read after the join */
};

static void *load_main(void *arg)
{
	struct usage_loader *ld = arg;
	ld->u = usage_load_compact(ld->state_dir, ld->now);
	return NULL;
}

struct usage_loader *usage_loader_start(const char *state_dir, time_t now)
{
	struct usage_loader *ld = xcalloc(1, sizeof(*ld));
	ld->state_dir = xstrdup(state_dir);
	ld->now = now;
	int e = pthread_create(&ld->thread, NULL, load_main, ld);
	if (e != 0)
		log_warn("usage: cannot start a thread to read the usage log (%s): it is read "
		         "after the records",
		         strerror(e));
	ld->threaded = e == 0;
	return ld;
}

struct usage *usage_loader_wait(struct usage_loader *ld)
{
	if (ld->threaded) {
		int e = pthread_join(ld->thread, NULL);
		if (e != 0) { /* EDEADLK or ESRCH: never for a thread made above and joined once */
			log_error("usage: cannot join the thread reading the usage log (%s)",
			          strerror(e));
			abort();
		}
	} else {
		load_main(ld);
	}
	struct usage *u = ld->u;
	free(ld->state_dir);
	free(ld);
	return u;
}
