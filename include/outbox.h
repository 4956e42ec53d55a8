/*
 * outbox.h — what users see of a finished job:
 *
 *   OUTBOX/NAME.mp4, NAME.thumbnail.webp, NAME.spritesheet.jpg, and NAME.json last
 *   (the final Video object, the prompt and parameters, timings, estimated cost): the
 *   .json's presence means the set is complete. A thumbnail or spritesheet that the
 *   service could not serve and sorad could not make (no ffmpeg) is left out, and
 *   NAME.json says so and why.
 *   FAILED/NAME.error.txt (what went wrong, in plain words, and what to do) beside
 *   the job's original input files.
 *
 * Assets are downloaded into hidden temp names in the outbox (".NAME.mp4.part", so
 * nothing half-written is ever visible under a final name) and renamed into place.
 */
#ifndef SORAD_OUTBOX_H
#define SORAD_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "job.h"
#include "variant.h"

/* The final file name suffix of a variant: ".mp4", ".thumbnail.webp", ".spritesheet.jpg". */
const char *outbox_suffix(enum api_variant v);

/* True when NAME is already used by an output set or a failure report. A reservation
 * (below) is for outbox_reserve to judge: it may be this very claim's, from before a crash. */
bool outbox_name_taken(const struct conf *c, const char *name);

/*
 * Names are reserved on disk, not only in memory: two daemons sharing one outbox (two
 * machines syncing one folder, or two state directories) must never both make NAME.
 * outbox_reserve creates OUTBOX/.NAME.reserved exclusively, holding the state
 * directory and OWNER (the claim): 0 reserved (or reserved already by this same
 * owner, a claim redone after a crash), 1 taken by someone else (pick another name),
 * -1 (errno) it cannot be written (the claim goes on with the in-memory check only).
 * outbox_release removes it when the job has ended (its set or failure report now
 * holds the name).
 */
int outbox_reserve(const struct conf *c, const char *name, const char *owner);
void outbox_release(const struct conf *c, const char *name);

/* Reservations take their files from a pool made ahead through CM, as many as one
 * burst of claims takes (spares.h), and give them back when released; what the pool
 * holds at exit is removed by outbox_spares_clear (after the commits are drained),
 * what a crash leaves by the next start's outbox_sweep_temps. */
struct commit;
void outbox_spares_fill(const struct conf *c, struct commit *cm);
void outbox_spares_clear(void);

/* Paths of the temp and final file of variant V for job NAME; 0 or -1. */
int outbox_part_path(const struct conf *c, const char *name, enum api_variant v, char *buf,
                     size_t size);
int outbox_final_path(const struct conf *c, const char *name, enum api_variant v, char *buf,
                      size_t size);

/*
 * Moves PART to FINAL (an output of job NAME, whose reservation OWNER holds) without
 * ever replacing a file someone else put there: renameat2(RENAME_NOREPLACE); a FINAL
 * already there is replaced only when NAME's reservation is OWNER's and it holds the
 * same bytes as PART (this job's own earlier try, before a crash). 0, or -1 with
 * errno (EEXIST: taken by someone else, e.g. a daemon on another machine syncing the
 * same outbox whose reservation had not arrived yet; PART is kept).
 * With PART NULL (a variant the set leaves out), nothing is removed: 0.
 */
int outbox_place(const struct conf *c, const char *name, const char *owner, const char *part,
                 const char *final);

/* True when OUTBOX/NAME.json exists: the set is complete. */
bool outbox_is_complete(const struct conf *c, const char *name);

/* Where an output came from, as NAME.json tells it. */
enum outbox_origin {
	OUTBOX_FROM_SERVICE, /* downloaded, its bytes checked to be of its kind */
	OUTBOX_DERIVED,      /* made by sorad from the MP4 with ffmpeg (derive.h) */
	OUTBOX_MISSING,      /* neither: the set has no such file */
};

struct outbox_file {
	enum outbox_origin origin;
	long long bytes;     /* its size, when not missing */
	const char *missing; /* OUTBOX_MISSING: why, in plain words */
};

/*
 * Writes OUTBOX/NAME.json for J atomically; call after every asset is in place.
 * FILES tells each variant's origin and size. In NAME.json each of "files" is
 * {"file", "bytes", "source": "service" | "derived"}, or null for a missing variant
 * (never the video), with the reason in "missing": {"thumbnail": "..."} ("missing"
 * is always there, {} when nothing is). 0, or -1 with errno set (logged).
 */
struct commit;
int outbox_write_metadata(const struct conf *c, const struct job *j,
                          const struct outbox_file files[3], struct commit *cm);

/*
 * Removes what a crash in the middle of an atomic write left in the outbox and
 * failed_dir: hidden temp files ".NAME.tmp.PID" whose PID no longer runs (the write
 * is redone after the restart under the new PID, so they would pile up). Called at
 * start, under the state lock. Download parts (.NAME.*.part) are kept: they resume.
 */
void outbox_sweep_temps(const struct conf *c);

/*
 * Writes FAILED/NAME.error.txt for the failed job J, and puts its inputs beside it:
 * INPUT_PATH (the original prompt file, moved when MOVE_INPUT, i.e. the job is the
 * only one of its file; for one line of a batch FAILED/NAME.jsonl gets that job
 * alone), and IMAGE_PATH (may be NULL; copied). 0, or -1 (logged).
 */
int outbox_write_failure(const struct conf *c, const struct job *j, const char *input_path,
                         bool move_input, const char *image_path);

/*
 * Removes what outbox_write_failure put in FAILED for job NAME (a retry starts it
 * again): NAME.error.txt, NAME.txt|json|jsonl and NAME's image (image.h's
 * extensions, lower case). Files already gone are fine; any other failure is logged
 * as a warning of NAME's ("retry: cannot remove PATH: why") and the rest go on.
 */
void outbox_remove_failure(const struct conf *c, const char *name);

#endif
