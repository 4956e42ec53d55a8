/* strays.c — images in the inbox that no prompt took (see strays.h). */
#include "strays.h"
#include "job.h"
#include "log.h"
#include "util.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

struct note {
	char *file, *message;
	time_t at;
};

struct strays {
	struct note notes[STRAYS_MAX]; /* oldest first */
	size_t n;
};

struct strays *strays_new(void)
{
	return xcalloc(1, sizeof(struct strays));
}

static void note_clear(struct note *nt)
{
	free(nt->file);
	free(nt->message);
	memset(nt, 0, sizeof(*nt));
}

void strays_free(struct strays *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		note_clear(&s->notes[i]);
	free(s);
}

static void drop_at(struct strays *s, size_t i)
{
	note_clear(&s->notes[i]);
	memmove(&s->notes[i], &s->notes[i + 1], (s->n - i - 1) * sizeof(s->notes[0]));
	s->n--;
	memset(&s->notes[s->n], 0, sizeof(s->notes[0]));
}

void strays_forget(struct strays *s, const char *file)
{
	for (size_t i = 0; s && i < s->n; i++) {
		if (!strcmp(s->notes[i].file, file)) {
			drop_at(s, i);
			return;
		}
	}
}

/* Keeps MESSAGE (taken) about FILE as the newest note, replacing an older one. */
static const char *keep(struct strays *s, const char *file, char *message, time_t now)
{
	for (size_t i = 0; i < s->n; i++) {
		if (!strcmp(s->notes[i].file, file)) {
			drop_at(s, i);
			break;
		}
	}
	if (s->n == STRAYS_MAX)
		drop_at(s, 0);
	struct note *nt = &s->notes[s->n++];
	nt->file = xstrdup(file);
	nt->message = message;
	nt->at = now;
	return message;
}

/* The file name part of a job's source ("CLAIM/FILE"). */
static const char *source_file(const struct job *j)
{
	const char *slash = j->source ? strrchr(j->source, '/') : NULL;
	return slash ? slash + 1 : j->source;
}

/* FILE's stem is STEM (LEN bytes) and its extension a prompt's. */
static bool prompt_of_stem(const char *file, const char *stem, size_t len)
{
	return file && !strncmp(file, stem, len) && file[len] == '.' &&
	       (!strcasecmp(file + len + 1, "txt") || !strcasecmp(file + len + 1, "json"));
}

/* The latest job made from a prompt file of stem STEM: named STEM, STEM-2, ... */
static const struct job *job_of_stem(const struct jobs *js, const char *stem, size_t len)
{
	const struct job *found = NULL;
	for (unsigned k = 1; k <= 1000; k++) {
		char name[NAME_MAX + 16];
		if (k == 1)
			bfmt(name, sizeof(name), "%.*s", (int)len, stem);
		else
			bfmt(name, sizeof(name), "%.*s-%u", (int)len, stem, k);
		const struct job *j = jobs_find(js, name);
		if (!j)
			break;
		if (prompt_of_stem(source_file(j), stem, len))
			found = j;
	}
	return found;
}

const char *strays_image(struct strays *s, const struct jobs *js, const char *name, time_t now)
{
	const char *dot = strrchr(name, '.');
	size_t len = dot ? (size_t)(dot - name) : strlen(name);
	const struct job *j = job_of_stem(js, name, len);
	char *msg;
	if (j && !j->reference) {
		msg = xasprintf("%s arrived after %s was taken: job %s was sent without an image. "
		                "The image stays in the inbox; to make the video with it, drop %s "
		                "again.",
		                name, source_file(j), j->name, source_file(j));
		log_warn("inbox: %s", msg);
	} else if (j) {
		msg = xasprintf("%s arrived after %s was taken with another image (job %s); it "
		                "stays in the inbox, unused.",
		                name, source_file(j), j->name);
		log_warn("inbox: %s", msg);
	} else if (jobs_name_a_reference(js, name)) { /* a shared image, kept in the inbox */
		log_info("inbox: %s is a reference image kept for the prompts that name it", name);
		strays_forget(s, name);
		return NULL;
	} else {
		msg =
		    xasprintf("%s has no prompt: it waits in the inbox for %.*s.txt (or .json), or "
		              "a prompt that names it with 'reference: %s'.",
		              name, (int)len, name, name);
		log_info("inbox: %s", msg);
	}
	return keep(s, name, msg, now);
}

cJSON *strays_json(struct strays *s, const char *inbox)
{
	int dfd = open(inbox, O_PATH | O_DIRECTORY | O_CLOEXEC);
	cJSON *a = cJSON_CreateArray();
	for (size_t i = s->n; i-- > 0;) {
		struct stat st;
		/* Gone (taken by a prompt, moved away) or the inbox unreadable: forgotten. */
		if (dfd < 0 || fstatat(dfd, s->notes[i].file, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			drop_at(s, i);
			continue;
		}
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "file", s->notes[i].file);
		cJSON_AddStringToObject(o, "message", s->notes[i].message);
		cJSON_AddNumberToObject(o, "created_at", (double)s->notes[i].at);
		cJSON_AddItemToArray(a, o);
	}
	if (dfd >= 0)
		close(dfd);
	return a;
}
