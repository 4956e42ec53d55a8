/*
 * usage.h — what sorad has spent, or may have spent: every create (or remix) sorad
 * sends for a job is one key of the append-only log STATE/usage.jsonl, from the
 * moment it is sent until its outcome is known:
 *
 *   {"at":1767000000,"name":"NAME","claim":"CLAIM","create":1,"state":"sent",
 *    "model":"sora-2","size":"1280x720","seconds":4,"cost_usd":0.4}
 *   {"at":1767000000,"name":"NAME","claim":"CLAIM","create":1,"state":"created",
 *    "video_id":"video_…","model":"sora-2","size":"1280x720","seconds":4,"cost_usd":0.4}
 *
 * A create is keyed by (name, claim, create): the job's name, its claim directory
 * (the part of its source before '/': a name freed by `sorad delete --purge` and used
 * again is another job, whose creates must not replace the first one's) and K, the
 * create's number within the job (job.h, creates). The latest line of a key wins:
 *
 *   sent      the create was sent and its outcome is not known yet: the money may have
 *             been spent. It counts in the totals and the caps, as unconfirmed.
 *   created   the service made a video (video_id): counts, confirmed.
 *   void      proven to have made nothing (an explicit refusal, or a reconciliation
 *             that proved absence): counts nothing.
 *
 * "at" is this machine's clock when sorad sent the create (the job's submit_at), never
 * the service's created_at: a service clock hours off must not move spending into
 * another day. Every later line of a key repeats the first line's "at", so a create's
 * period never moves.
 *
 * Lines without "create" come from older versions: one generation keyed by its video
 * id, confirmed, "at" as they recorded it. A video counts once: a line naming a video
 * that an earlier line already counts (an old line and a new one for the same
 * video) counts nothing.
 *
 * Why a log and not the job records: `sorad delete --purge` removes a record, but what
 * was spent stays spent. A line is written with one write(2) on an O_APPEND descriptor
 * and fsync'd, so a reader (`sorad usage` while the daemon runs) sees whole lines or a
 * torn last line, which it skips; the next line written after a torn one starts on a
 * line of its own. Noting a create in the state it already has is a no-op, which lets
 * the daemon note every job change, and repair the log at start from the job records
 * (a crash between a record and its log line loses nothing).
 *
 * Periods are local time: a day starts at local midnight, a month on its first day.
 *
 * Two loads, one reader. usage_load keeps every key as a full entry (`sorad usage`, the
 * tests). usage_load_compact (the daemon) keeps full entries only for keys that are
 * "sent" (their outcome may still change, however old) or sent since the start of
 * yesterday; every other key is folded: what it counts is added to a total per
 * quarter hour and model (every local midnight is on a quarter hour, so a day's and a
 * month's totals stay exact; a bound inside a quarter hour counts all of it), and the
 * key is remembered in a compact index (coldidx.h: a 4-byte slot, its hash → the number
 * of its latest line; where every 64th line starts is kept to read a line back). A
 * slot whose tag matches is confirmed by reading that line back (a hash collision is
 * never taken for the key), so a folded key keeps its answers (usage_create_state), a
 * later line of it (at the load, or noted by the daemon) replaces what it counted, and
 * noting it as it is appends nothing. An old "sent" line waits, at the load, for its
 * key's next line (usually "created", a few hundred lines on) outside the index; one
 * never settled becomes a full entry. The index is made once, for as many lines as
 * the log's first block says it has; a log with more is read again, its lines counted.
 * The tradeoff: 4 bytes a slot at most 4/5 full (~5 MiB at 1,000,000 lines, against
 * ~370 MiB as full entries), a read of up to 64 lines per lookup of a folded key;
 * older lines are folded under their video id, so usage_has still finds them, but the
 * video of a folded create is not looked up: a second create naming it (a user
 * adopting another job's video) counts it again, an over-count, never an under-count.
 *
 * Ownership: struct usage owns its entries; usage_free releases them.
 */
#ifndef SORAD_USAGE_H
#define SORAD_USAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "conf.h"
#include "hmap.h"
#include "job.h"

#define USAGE_FILE "usage.jsonl"
#define USAGE_LINE_MAX 4096
#define USAGE_MODELS_MAX 256 /* models told apart (the log is untrusted: a model is any string) */

/* What is known of a create's outcome; the names are the log's "state" values. */
enum usage_state {
	USAGE_SENT,    /* "sent": may have spent money, unconfirmed */
	USAGE_CREATED, /* "created": a video was made */
	USAGE_VOID,    /* "void": proven to have made nothing */
};

/* One key of the log (its latest line). */
struct usage_entry {
	long long at; /* unix seconds, this machine's clock when the create was sent (older
	               * lines: what they recorded) */
	char *name, *video_id, *model, *size; /* video_id NULL: none known */
	char *claim;            /* the job's claim directory; NULL for an older line */
	unsigned create;        /* K (1...); 0 for an older line, keyed by its video id */
	enum usage_state state; /* older lines: USAGE_CREATED */
	bool dup;               /* its video is counted by another entry: it counts nothing */
	unsigned seconds;
	double cost_usd;    /* the estimate, or what the service reported (cost_reported) */
	bool cost_reported; /* cost_usd is the service's own (usage.cost, e.g. OpenRouter) */
	long long line;     /* its latest line's number in the log (from 0); -1 not known */
};

struct usage {
	char *path;            /* STATE/usage.jsonl */
	struct usage_entry *v; /* in the order their keys first appeared (the compact load:
	                        * old creates never settled after the rest) */
	size_t n, cap;
	size_t *by_at; /* the entries' indexes sorted by (at, index): a period's totals
	                * walk that period only */
	size_t n_by_at, cap_by_at;
	struct hmap videos; /* video id → index of the entry that counts it */
	struct hmap keys;   /* name → index of each create entry (claim, create told apart) */
	char **models;      /* every model named, in the order the log first names them */
	size_t n_models, cap_models;
	struct usage_cold *cold; /* usage_load_compact's folded keys (usage.c); NULL */
};

/* Loads STATE/usage.jsonl (missing: empty), every key as a full entry (v): what
 * `sorad usage` reads. Never NULL; unreadable lines are skipped. */
struct usage *usage_load(const char *state_dir);

/*
 * The daemon's load: the same log in the compact mode described above (v holds the
 * full entries only). NOW decides which keys are folded. Never NULL. The log stays
 * open (read back to confirm a folded key) until usage_free.
 */
struct usage *usage_load_compact(const char *state_dir, time_t now);

/* The models the log names, in the order it first names them (v may not hold them all:
 * use these rather than walking v). */
size_t usage_model_count(const struct usage *u);
const char *usage_model(const struct usage *u, size_t i);
void usage_free(struct usage *u);

/* True when VIDEO_ID is counted (an older line, or a create that made it). */
bool usage_has(const struct usage *u, const char *video_id);

/*
 * Older records only (a job whose record counts no create, J->creates == 0): records
 * J's generation (J must have a video id) at AT, this machine's clock, as an older
 * line keyed by its video id, unless that video is counted already. 1 recorded,
 * 0 already there, -1 (logged) when the log cannot be written (the entry is still
 * counted in memory). The line is appended now and made durable through CM (commit.h;
 * NULL: fsync at once).
 */
struct commit;
int usage_record(struct usage *u, const struct job *j, long long at, struct commit *cm);

/*
 * Notes that J's create number K (1..J->creates) is in STATE, with VIDEO_ID for
 * USAGE_CREATED (else ignored), sent at AT (this machine's clock, J->submit_at; used
 * only when the create is not noted yet: a later line repeats the first "at").
 * The latest create's video costs what the service reported (J->reported_cost_usd,
 * OpenRouter's usage.cost) once it did, else the estimate J->cost_usd; so the caps count
 * real money where the service says it.
 * Appends a line only when the state, the video or the reported cost differs from what
 * is noted, and not
 * for a create "created" whose video an older line already counts. 1 appended, 0
 * nothing to do (or K out of range), -1 (logged) when the log cannot be written (the
 * change still counts in memory; the daemon's repair at start writes it again). The
 * line is made durable through CM, as usage_record's.
 */
int usage_note_create(struct usage *u, const struct job *j, unsigned k, enum usage_state state,
                      const char *video_id, long long at, struct commit *cm);

/* The noted state of J's create K, or -1 when it is not noted. */
int usage_create_state(const struct usage *u, const struct job *j, unsigned k);

/* "sent", "created", "void". */
const char *usage_state_name(enum usage_state s);

/* What the entries of a period add up to. SECONDS and USD include the unconfirmed
 * part: creates sent whose outcome is not known yet (USAGE_SENT). */
struct usage_sum {
	unsigned long long seconds, unconfirmed_seconds;
	double usd, unconfirmed_usd;
	size_t creates, unconfirmed; /* entries counted, of which unconfirmed */
};

/* Totals of the entries with FROM <= at < TO, for MODEL (NULL: every model). */
void usage_totals(const struct usage *u, long long from, long long to, const char *model,
                  struct usage_sum *sum);

/* Local-time period boundaries around NOW: the start of its day and month, and the
 * start of the next day (the earliest moment a daily or monthly cap can lift). */
long long usage_day_start(time_t now);
long long usage_month_start(time_t now);
long long usage_next_day(time_t now);

/*
 * Whether one more generation of SECONDS costing USD may start now under C's caps,
 * given what is noted (unconfirmed creates count) and PENDING_S / PENDING_USD of
 * creates in flight that are not noted yet. 0 yes; 1 no, with the cap that stops it in
 * plain words in why[whylen].
 */
int usage_check(const struct usage *u, const struct conf *c, unsigned seconds, double usd,
                unsigned long long pending_s, double pending_usd, time_t now, char *why,
                size_t whylen);

#endif
