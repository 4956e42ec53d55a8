/*
 * prompt.h — the inbox's file formats, turned into job specifications:
 *
 *   NAME.txt    the whole file is the prompt, or a front-matter block first
 *               ("---", "key: value" lines, "---") then the prompt;
 *   NAME.json   one job object {prompt, model, seconds, size, reference, remix_of, name};
 *
 * Beyond the Videos API, for protocols that take them (proto.h, api_protocol): a
 * last_frame image (named like reference), seed (an integer), audio (true|false), and
 * in the JSON forms an options object whose members are passed through; and extend_of
 * (a video id or an earlier job's NAME, like remix_of: the job continues that video,
 * sent as OpenRouter's previous_job_id once its source is done). A job asking for one
 * that the configured protocol cannot send fails before anything is spent.
 *   NAME.jsonl  a batch: one job object per line; line i without a name is NAME-i.
 *               At most PROMPT_BATCH_MAX lines: a batch with a job beyond that line is
 *               refused whole (one error spec naming the limit and the first line past
 *               it), so that none of it is submitted.
 *               A storyboard: "extend_of": "previous" extends the job of the line
 *               before (the spec holds that job's name); naming an earlier line's
 *               job works too (jobs.c maps it to the name the job was given). A
 *               line extending an earlier line without a model of its own takes
 *               that line's model: a continuation runs on its source's model.
 *
 * A UTF-8 byte-order mark and CRLF line ends are tolerated. Parsing is defensive:
 * the caller has already bounded the input's size; everything in it is untrusted.
 * A bad file yields one spec with an error (every problem found, one per line, with a
 * guess for a misspelt key); in a batch a bad line fails that line only.
 * Every spec, an error spec too, carries the model, size and seconds (the defaults
 * unless the file set them): a job record is made of each.
 * Validation against the model table is separate (prompt_validate), so that a job's
 * error can say exactly what the configuration allows.
 *
 * Ownership: prompt_parse fills a struct prompt_file whose specs and strings belong
 * to it; prompt_file_release frees them.
 */
#ifndef SORAD_PROMPT_H
#define SORAD_PROMPT_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"

#define PROMPT_MAX_CHARS 32000       /* the API's limit, in characters */
#define PROMPT_NAME_MAX 200          /* bytes of a job name (an output file stem) */
#define PROMPT_BATCH_MAX 10000       /* lines of one .jsonl batch: a job past it refuses the file */
#define PROMPT_SEED_MAX 4294967295LL /* the largest seed: 32 bits, what models take */
#define PROMPT_OPTIONS_MAX 16384     /* bytes of an options object as compact JSON */
#define PROMPT_EXTEND_PREVIOUS "previous" /* extend_of in a .jsonl: the line before */

enum prompt_format { PROMPT_TXT, PROMPT_JSON, PROMPT_JSONL };

struct job_spec {
	char *name;   /* output stem; never NULL */
	char *prompt; /* NULL only when error is set */
	char *model;  /* defaults applied */
	char *size;
	unsigned seconds;
	char *reference;  /* an image file name in the inbox, or NULL */
	char *remix_of;   /* a video id or an earlier job's NAME, or NULL */
	char *extend_of;  /* the same, for a continuation (never with remix_of), or NULL */
	bool model_set;   /* the file named the model (else the default, or in a batch the
	                   * model of the earlier line the job extends) */
	unsigned line;    /* 1-based line in a .jsonl batch, 0 otherwise */
	char *error;      /* plain-words reason this spec cannot run, or NULL */
	bool again;       /* `again: true`: made even when it repeats a recent job (dupes.h) */
	char *last_frame; /* an image file name in the inbox the video ends on, or NULL */
	bool has_seed;
	long long seed; /* 0..PROMPT_SEED_MAX */
	int audio;      /* 0 unset, 1 true, 2 false (api.h's enum api_audio) */
	char *options;  /* a JSON object as compact text (JSON forms only), or NULL */
};

struct prompt_file {
	struct job_spec *jobs;
	size_t n, cap;
};

/* Maps an extension ("txt", "json", "jsonl", case-insensitive) to a format; -1 if none. */
int prompt_format_from_ext(const char *ext);

/*
 * Parses DATA[LEN], the content of STEM.EXT, applying DEFAULTS for unset keys.
 * Always fills OUT with at least one spec (an error spec when the file is unusable).
 */
void prompt_parse(enum prompt_format fmt, const char *stem, const char *data, size_t len,
                  const struct conf *defaults, struct prompt_file *out);
void prompt_file_release(struct prompt_file *pf);

/*
 * Checks SPEC against the model table: the model is configured, the size and the
 * seconds are allowed for it. 0, or -1 with a plain-words reason naming what is
 * allowed, e.g. "size 1920x1080 is not available for sora-2 (allowed: 720x1280, 1280x720)".
 */
int prompt_validate(const struct job_spec *spec, const struct conf *c, char *why, size_t whylen);

/* prompt_validate's problems added to SPEC's own (one per line, every problem at once:
 * a file with a misspelt key and a size the model lacks says both). 0 when SPEC has
 * no problem at all, else -1. */
int prompt_check(struct job_spec *spec, const struct conf *c);

/*
 * A job NAME is safe as a file stem: 1..PROMPT_NAME_MAX bytes of valid UTF-8, no '/',
 * no control characters, not starting with '.' or '-', not "." or "..".
 */
bool prompt_name_ok(const char *name);

/*
 * Writes NAME-N into buf[size] (at least PROMPT_NAME_MAX + 1 bytes), NAME shortened at
 * a character boundary when needed so that the result stays a safe name: a batch's
 * line names and the "-2", "-3"... that make a name unique. NAME must be safe.
 */
void prompt_name_suffixed(char *buf, size_t size, const char *name, unsigned n);

#endif
