/*
 * jobs_archive.c — retention (keep_records_days): a finished job whose record is older
 * than that leaves the state directory and memory. Its record is appended to
 * STATE/archive/YYYY-MM.jsonl first (store_archive), synced, and only then removed; its
 * outputs, in the outbox or failed/, are never touched. A chunk per loop turn, so a
 * first pass over a long history does not hold the loop; then a pass an hour.
 */
#include "jobs_int.h"

#include "log.h"
#include "store.h"
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#define ARCHIVE_CHUNK 256                /* records per loop turn */
#define ARCHIVE_EVERY_MS (3600LL * 1000) /* between passes */

/* R is finished for good, older than CUTOFF (unix s), and nothing is under way for it. */
static bool archivable(const struct jrun *r, long long cutoff)
{
	const struct job *j = &r->rec;
	long long at = j->finished_at >= 0 ? j->finished_at : j->claimed_at;
	return job_state_is_final(j->state) && at >= 0 && at < cutoff && !r->req && !r->fetching &&
	       !r->committing && !(r->timer && loop_timer_armed(r->timer)) &&
	       !store_staged(r->js->commit, r->js->conf->state_dir, j->name);
}

/* Whether job NAME has no record any more (not merely an unreadable one). */
static bool record_gone(const struct jobs *js, const char *name)
{
	char path[PATH_MAX];
	struct stat st;
	return bfmt(path, sizeof(path), "%s/jobs/%s.json", js->conf->state_dir, name) == 0 &&
	       lstat(path, &st) != 0 && errno == ENOENT;
}

static bool marked(const struct jrun *r, const void *ud)
{
	(void)ud;
	return r->archived;
}

static void on_archive_timer(void *ud)
{
	struct jobs *js = ud;
	unsigned days = js->conf->keep_records_days;
	if (!days)
		return; /* kept forever; a reload that sets it arms the timer again */
	long long cutoff = (long long)time(NULL) - (long long)days * 86400;
	const struct job *pick[ARCHIVE_CHUNK];
	struct jrun *run[ARCHIVE_CHUNK];
	bool ok[ARCHIVE_CHUNK];
	size_t n = 0;
	bool more = false;
	size_t gone = 0;
	size_t i = js->archive_at < js->n ? js->archive_at : 0;
	for (; i < js->n; i++) {
		if (n == ARCHIVE_CHUNK) {
			more = true;
			break;
		}
		/* a cold job (jobs_cold.c) is thawed only when its line says it is old */
		if (jr_slot_cold(js->slot[i]) && jr_cold_time(js, i) >= cutoff)
			continue;
		struct jrun *r = jr_thaw(js, i);
		if (!r || !archivable(r, cutoff))
			continue;
		/* the archive keeps the whole record, never a history line standing in for it */
		if (jr_full(r) != 0) {
			if (record_gone(js, r->rec.name)) {
				r->archived = true; /* archived before a crash: its line goes too */
				gone++;
			}
			continue;
		}
		run[n] = r;
		pick[n++] = &r->rec;
	}
	js->archive_at = more ? i : 0; /* the next chunk goes on from there */
	size_t done = n ? store_archive(js->conf->state_dir, pick, n, ok) : 0;
	for (size_t k = 0; k < n; k++)
		run[k]->archived = ok[k];
	if (done)
		log_info("retention: %zu finished job(s) older than %u day(s) moved to %s/archive/",
		         done, days, js->conf->state_dir);
	if (done || gone)
		jr_remove_jobs(js, marked, NULL);
	/* the next chunk at once while this one went well, else in an hour */
	loop_timer_arm(js->archive_timer, more && done == n ? 0 : ARCHIVE_EVERY_MS);
}

void jr_archive_start(struct jobs *js)
{
	if (!js->archive_timer)
		js->archive_timer = loop_timer_new(js->loop, on_archive_timer, js);
	if (js->conf->keep_records_days)
		loop_timer_arm(js->archive_timer, 0);
	else
		loop_timer_disarm(js->archive_timer);
}
