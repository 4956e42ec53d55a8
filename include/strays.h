/*
 * strays.h — images in the inbox that no prompt took: one that arrived after its
 * prompt was taken (the job went without it), or one with no prompt at all. Each
 * gets one log line and a note, which the status page shows while the image is still
 * in the inbox; the caller sends the desktop notification with the note's text.
 * An image a job named with "reference:" (kept in the inbox for others to share) is
 * not a stray.
 * Ownership: struct strays owns its notes (at most STRAYS_MAX, the oldest dropped).
 */
#ifndef SORAD_STRAYS_H
#define SORAD_STRAYS_H

#include "jobs.h"

#include <cjson/cJSON.h>
#include <time.h>

#define STRAYS_MAX 32

struct strays;

struct strays *strays_new(void);
void strays_free(struct strays *s);

/*
 * Image NAME settled in the inbox with no prompt of its stem (watch.h). Decides with
 * JS's jobs what it is, logs it and keeps a note; returns the note's text (valid
 * until the next call), or NULL when it is a shared reference image.
 */
const char *strays_image(struct strays *s, const struct jobs *js, const char *name, time_t now);

/* Drops the note about FILE, if any: a job took it as its reference (a shared image,
 * kept in the inbox), so it is no stray. */
void strays_forget(struct strays *s, const char *file);

/* The notes whose image is still in INBOX, newest first, as a JSON array
 * [{"file","message","created_at"}]; the others are forgotten. */
cJSON *strays_json(struct strays *s, const char *inbox);

#endif
