/* stats.c - see stats.h. One mutex guards everything: stats are written once per
 * request and read rarely, so contention is negligible next to the HTTP work. */
#include "stats.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"
#include "videos.h"

#define MAX_OUTCOMES 24

struct outcome {
	char key[24]; /* the longest: "5xx_after_create" */
	unsigned long n;
};

struct prompt_count {
	struct prompt_count *next;
	uint64_t hash;
	char *prompt;
	unsigned long n;
};

#define PROMPT_BUCKETS 1024

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct outcome outcomes[EP_COUNT][MAX_OUTCOMES];
static struct outcome faults[MAX_OUTCOMES];
static struct outcome callbacks[MAX_OUTCOMES];
static struct prompt_count *prompts[PROMPT_BUCKETS];
static FILE *create_log; /* --log-creates */
static FILE *body_log;   /* --log-bodies */

static const char *const names[EP_COUNT] = {
    [EP_CREATE] = "POST /v1/videos",
    [EP_RETRIEVE] = "GET /v1/videos/{id}",
    [EP_CONTENT] = "GET /v1/videos/{id}/content",
    [EP_LIST] = "GET /v1/videos",
    [EP_DELETE] = "DELETE /v1/videos/{id}",
    [EP_REMIX] = "POST /v1/videos/{id}/remix",
    [EP_MODELS] = "GET /v1/videos/models",
    [EP_OTHER] = "other",
};

const char *endpoint_name(enum endpoint ep)
{
	return ep < EP_COUNT ? names[ep] : "other";
}

/* Counts KEY in a table of MAX_OUTCOMES; the caller holds the lock. */
static void count_in(struct outcome *table, const char *key)
{
	int i;

	for (i = 0; i < MAX_OUTCOMES; i++) {
		struct outcome *o = &table[i];

		if (o->key[0] == '\0') {
			/* Outcomes are short fixed strings; an overlong one is cut, not lost. */
			snprintf(o->key, sizeof(o->key), "%s", key);
		}
		if (strncmp(o->key, key, sizeof(o->key) - 1) == 0) {
			o->n++;
			break;
		}
	}
}

void stats_count(enum endpoint ep, const char *outcome)
{
	if (ep >= EP_COUNT)
		ep = EP_OTHER;
	pthread_mutex_lock(&lock);
	count_in(outcomes[ep], outcome);
	pthread_mutex_unlock(&lock);
}

void stats_count_fault(const char *kind)
{
	pthread_mutex_lock(&lock);
	count_in(faults, kind);
	pthread_mutex_unlock(&lock);
}

void stats_count_callback(const char *outcome)
{
	pthread_mutex_lock(&lock);
	count_in(callbacks, outcome);
	pthread_mutex_unlock(&lock);
}

void stats_count_create(const char *prompt)
{
	size_t len = strlen(prompt);
	uint64_t h = fnv1a64(prompt, len);
	struct prompt_count *p;

	pthread_mutex_lock(&lock);
	for (p = prompts[h % PROMPT_BUCKETS]; p; p = p->next)
		if (p->hash == h && strcmp(p->prompt, prompt) == 0)
			break;
	if (p == NULL) {
		p = xcalloc(1, sizeof(*p));
		p->hash = h;
		p->prompt = xstrdup(prompt);
		p->next = prompts[h % PROMPT_BUCKETS];
		prompts[h % PROMPT_BUCKETS] = p;
	}
	p->n++;
	if (create_log) {
		struct timespec ts;
		size_t i;

		clock_gettime(CLOCK_REALTIME, &ts);
		fprintf(create_log, "%lld%09ld ", (long long)ts.tv_sec, ts.tv_nsec);
		for (i = 0; i < len; i++)
			fputc((unsigned char)prompt[i] < 0x20 ? ' ' : prompt[i], create_log);
		fputc('\n', create_log);
		fflush(create_log);
	}
	pthread_mutex_unlock(&lock);
}

/* Opens PATH for appending as the log *DST, for the option OPT. */
static int open_log(const char *path, const char *opt, FILE **dst)
{
	FILE *f = fopen(path, "ae");

	if (f == NULL) {
		log_err("%s %s: %s", opt, path, strerror(errno));
		return -1;
	}
	pthread_mutex_lock(&lock);
	*dst = f;
	pthread_mutex_unlock(&lock);
	return 0;
}

int stats_log_creates(const char *path)
{
	return open_log(path, "--log-creates", &create_log);
}

int stats_log_bodies(const char *path)
{
	return open_log(path, "--log-bodies", &body_log);
}

void stats_log_body(const char *json)
{
	pthread_mutex_lock(&lock);
	if (body_log != NULL && json != NULL) {
		fputs(json, body_log);
		fputc('\n', body_log);
		fflush(body_log);
	}
	pthread_mutex_unlock(&lock);
}

char *stats_json(void)
{
	cJSON *root = cJSON_CreateObject(), *req = cJSON_AddObjectToObject(root, "requests");
	cJSON *cp;
	char *out;
	int ep, i;

	pthread_mutex_lock(&lock);
	for (ep = 0; ep < EP_COUNT; ep++) {
		cJSON *o;

		if (outcomes[ep][0].key[0] == '\0' && (ep == EP_OTHER || ep == EP_MODELS))
			continue;
		o = cJSON_AddObjectToObject(req, names[ep]);
		for (i = 0; i < MAX_OUTCOMES && outcomes[ep][i].key[0]; i++)
			cJSON_AddNumberToObject(o, outcomes[ep][i].key, (double)outcomes[ep][i].n);
	}
	cp = cJSON_AddObjectToObject(root, "faults");
	for (i = 0; i < MAX_OUTCOMES && faults[i].key[0]; i++)
		cJSON_AddNumberToObject(cp, faults[i].key, (double)faults[i].n);
	cp = cJSON_AddObjectToObject(root, "callbacks");
	for (i = 0; i < MAX_OUTCOMES && callbacks[i].key[0]; i++)
		cJSON_AddNumberToObject(cp, callbacks[i].key, (double)callbacks[i].n);
	cp = cJSON_AddObjectToObject(root, "creates_by_prompt");
	for (i = 0; i < PROMPT_BUCKETS; i++) {
		struct prompt_count *p;

		for (p = prompts[i]; p; p = p->next)
			cJSON_AddNumberToObject(cp, p->prompt, (double)p->n);
	}
	pthread_mutex_unlock(&lock);
	videos_detection_json(root);
	out = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	if (out == NULL) {
		fprintf(stderr, "sora-sim: fatal: out of memory printing stats\n");
		abort();
	}
	return out;
}

static void free_prompts(void)
{
	int i;

	for (i = 0; i < PROMPT_BUCKETS; i++) {
		while (prompts[i]) {
			struct prompt_count *p = prompts[i];

			prompts[i] = p->next;
			free(p->prompt);
			free(p);
		}
	}
}

void stats_reset(void)
{
	pthread_mutex_lock(&lock);
	memset(outcomes, 0, sizeof(outcomes));
	memset(faults, 0, sizeof(faults));
	memset(callbacks, 0, sizeof(callbacks));
	free_prompts();
	pthread_mutex_unlock(&lock);
}

void stats_shutdown(void)
{
	stats_reset();
	if (create_log)
		fclose(create_log);
	create_log = NULL;
}
