/*
 * ready_note.h — the "Video ready" notification with a still of the video.
 *
 * The outbox's thumbnail is WebP, which the notification servers of a stock Debian
 * desktop cannot show (gdk-pixbuf reads WebP only with webp-pixbuf-loader). So the
 * image of a notification is a JPEG still of the first frame, made by ffmpeg
 * (derive.h, off the loop) into STATE/notify/NAME.jpg, and the notification is sent
 * when it is there; without ffmpeg, or when it fails, it is sent without an image
 * (said in the debug log). The newest READY_NOTE_KEEP stills are kept (a server may
 * load the image late); older ones are removed.
 *
 * Ownership: struct ready_notes owns the notifications waiting for their still; the
 * loop and the notifier are borrowed and must outlive it.
 */
#ifndef SORAD_READY_NOTE_H
#define SORAD_READY_NOTE_H

#include "conf.h"
#include "loop.h"
#include "notify.h"

#define READY_NOTE_KEEP 32

struct ready_notes;

struct ready_notes *ready_notes_new(struct loop *l, struct notifier *n);

/* Queues "SUMMARY / BODY" for job NAME, whose video is MP4 (also the "Open" action),
 * with a still as its image when one can be made. Never blocks. */
void ready_notes_send(struct ready_notes *rn, const struct conf *c, const char *name,
                      const char *summary, const char *body, const char *mp4);

/* Cancels the stills being made and sends their notifications without an image
 * (before the notifier is freed). NULL is fine. */
void ready_notes_free(struct ready_notes *rn);

#endif
