/*
 * jobs_download.c — finished videos: download rounds of the three variants side by
 * side into .part files, each checked by its bytes (media.h), the variants the service
 * cannot serve made from the MP4 (derive.h) or left out, every failure bounded; then
 * the finished set renamed into the outbox, NAME.json last.
 */
#include "jobs_int.h"

#include "caps.h"
#include "commit.h"
#include "deadline.h"
#include "derive.h"
#include "fsutil.h"
#include "log.h"
#include "media.h"
#include "outbox.h"
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void parts_made(struct jrun *r, int err);
static void on_parts_made(void *ud, int err);
static void download_round_over(struct jrun *r);
static void on_outputs_durable(void *ud, int err);
static void on_parts_durable(void *ud, int err);
static void on_downloaded(struct api_req *req, void *ud);

/* ---- downloads ---------------------------------------------------------------------- */

/* Forgets what the download rounds made: the next round fetches every variant. */
void jr_forget_outputs(struct jrun *r)
{
	r->have = r->unserved = r->derived = r->absent = 0;
	for (int v = 0; v < 3; v++) {
		r->vfail[v] = 0;
		free(r->vwhy[v]);
		r->vwhy[v] = NULL;
	}
}

/* Ends the job's download round: cancels what is in flight (downloads, ffmpeg),
 * closes the files. */
void jr_close_download(struct jrun *r, enum close_how how)
{
	for (int v = 0; v < 3; v++) {
		struct dl *d = &r->dl[v];
		bool partial = d->req || d->fd >= 0 || d->drv;
		if (d->req) {
			api_req_cancel(d->req);
			d->req = NULL;
		}
		if (d->drv) { /* reaped now only when stopping: the loop goes away */
			derive_cancel(d->drv, how == DL_KEEP);
			d->drv = NULL;
		}
		if (d->fd >= 0) {
			close(d->fd);
			d->fd = -1;
		}
		char part[PATH_MAX];
		if (((partial && how != DL_KEEP) || how == DL_DROP_ALL) &&
		    outbox_part_path(r->js->conf, r->rec.name, (enum api_variant)v, part,
		                     sizeof(part)) == 0) {
			unlink(part);
			r->parts_ready = r->parts_go = false;
		}
	}
	r->fetching = 0;
	if (how == DL_DROP_ALL)
		jr_forget_outputs(r);
	if (r->dl_round) {
		r->dl_round = false;
		r->js->dl_active--;
	}
}

/*
 * A round downloads the variants not in the outbox's temp files yet, side by side.
 * Each file's bytes are checked to be a whole file of its kind (media.h) before it
 * counts: a thumbnail answered with the MP4 (LiteLLM) or a 404/400 for a variant
 * means the service cannot serve it, and once the video is here sorad makes it from
 * the MP4 with ffmpeg (derive.h), or leaves it out and NAME.json says why. The set is
 * complete when the video is here and every other variant is here or left out.
 */

/* Failed downloads of a thumbnail or spritesheet in a row, the video being here,
 * after which the service is taken not to serve it (a gateway answering 500). */
#define JOBS_VARIANT_TRIES 3

static const enum media_kind variant_kind[3] = {MEDIA_MP4, MEDIA_WEBP, MEDIA_JPEG};

/* The video is here, and every other variant is here or left out. */
static bool outputs_settled(const struct jrun *r)
{
	return (r->have & 1u) && (r->have | r->absent) == 7;
}

/* The most bytes variant V of R's video may bring without a Content-Length
 * (download_max_mb, else JOBS_DL_AUTO_MB plus 2 bytes per pixel-second). */
static long long download_max_bytes(const struct jrun *r, int v)
{
	const struct conf *c = r->js->conf;
	if (c->download_max_mb > 0)
		return (long long)c->download_max_mb << 20;
	long long b = JOBS_DL_AUTO_MB << 20;
	const struct model_def *m = conf_model(c, r->rec.model);
	const struct model_size *ms = m ? conf_model_size(m, r->rec.size) : NULL;
	if (v == API_VARIANT_VIDEO && ms)
		b += 2LL * ms->width * ms->height * (r->rec.seconds ? r->rec.seconds : 20);
	return b;
}

/* Starts downloading variant V into its .part file; false when it cannot start (logged). */
static bool fetch_variant(struct jrun *r, int v)
{
	struct dl *d = &r->dl[v];
	char part[PATH_MAX];
	if (outbox_part_path(r->js->conf, r->rec.name, (enum api_variant)v, part, sizeof(part)) !=
	    0) {
		log_event(LOG_ERROR, r->rec.name, r->rec.video_id, "the output path is too long");
		return false;
	}
	mode_t mode = r->js->conf->outbox_mode;
	/* The commit thread made it (open_plain_file takes no directory lock then); it is
	 * emptied only if it has data (ext4 flushes a file truncated to nothing when it
	 * is closed). */
	off_t had;
	d->fd = open_plain_file(part, mode, &had);
	/* fchmod: outbox_mode, not the umask */
	if (d->fd >= 0 && ((had > 0 && ftruncate(d->fd, 0) != 0) || fchmod(d->fd, mode) != 0)) {
		int e = errno;
		close(d->fd);
		d->fd = -1;
		errno = e;
	}
	if (d->fd < 0) {
		log_event(LOG_ERROR, r->rec.name, r->rec.video_id,
		          "cannot create %s: %s; trying again in 30 s", part, strerror(errno));
		r->dl_local = true;
		return false;
	}
	d->req = api_download(r->js->api, r->rec.video_id, (enum api_variant)v, d->fd,
	                      download_max_bytes(r, v), r->rec.name, on_downloaded, d);
	if (!d->req) {
		close(d->fd);
		d->fd = -1;
		return false;
	}
	r->fetching++;
	return true;
}

/* The capability (caps.h) of serving variant V. */
static enum caps_id variant_cap(int v)
{
	return v == API_VARIANT_THUMBNAIL ? CAPS_THUMBNAIL : CAPS_SPRITESHEET;
}

/* The service cannot serve variant V of R's video (WHY: what it answered). FOUND,
 * when not MEDIA_UNKNOWN, is the kind of file it answered with: that holds for every
 * video, and is learned (caps.h: later jobs do not ask while it holds; logged once). */
static void variant_unserved(struct jrun *r, int v, const char *why, enum media_kind found)
{
	const char *variant = api_variant_name((enum api_variant)v);
	r->unserved |= 1u << v;
	r->vfail[v] = 0;
	free(r->vwhy[v]);
	r->vwhy[v] = xasprintf("the service does not serve the %s: %s", variant, why);
	log_event(LOG_INFO, r->rec.name, r->rec.video_id,
	          "the service cannot serve the %s (%s): sorad makes it from the video", variant,
	          why);
	if (found != MEDIA_UNKNOWN)
		caps_learn(api_client_caps(r->js->api), variant_cap(v), CAPS_NO, why);
}

/* Leaves variant V out of R's set; WHY: why sorad could not make it. */
static void leave_out(struct jrun *r, int v, const char *why)
{
	const char *variant = api_variant_name((enum api_variant)v);
	char *full = xasprintf("%s; and sorad could not make it from the video: %s",
	                       r->vwhy[v] ? r->vwhy[v] : "the service did not serve it", why);
	free(r->vwhy[v]);
	r->vwhy[v] = full;
	r->absent |= 1u << v;
	log_event(LOG_WARNING, r->rec.name, r->rec.video_id,
	          "the set goes without its %s (NAME.json says why): %s", variant, full);
}

static void on_derived(bool ok, const char *why, void *ud)
{
	struct dl *d = ud;
	struct jrun *r = d->r;
	int v = (int)(d - r->dl);
	d->drv = NULL;
	r->fetching--;
	char part[PATH_MAX];
	struct stat st;
	if (ok &&
	    outbox_part_path(r->js->conf, r->rec.name, (enum api_variant)v, part, sizeof(part)) ==
	        0 &&
	    stat(part, &st) == 0) {
		r->have |= 1u << v;
		r->derived |= 1u << v;
		r->bytes[v] = (long long)st.st_size;
		commit_sync(r->js->commit, part);
		log_event(LOG_INFO, r->rec.name, r->rec.video_id,
		          "made the %s from the video with ffmpeg (%lld bytes)",
		          api_variant_name((enum api_variant)v), r->bytes[v]);
	} else {
		leave_out(r, v, ok ? strerror(errno) : why);
	}
	if (!r->fetching)
		download_round_over(r);
}

/* Makes the variants the service cannot serve from the downloaded MP4, side by side;
 * leaves each out (with the reason) when ffmpeg cannot. True while any is made. */
static bool derive_missing(struct jrun *r)
{
	unsigned want = r->unserved & ~r->have & ~r->absent & 6u;
	if (!want)
		return false;
	const struct conf *c = r->js->conf;
	char ffmpeg[PATH_MAX], mp4[PATH_MAX], why[PATH_MAX + 128];
	bool can = derive_find_ffmpeg(c->ffmpeg, ffmpeg, sizeof(ffmpeg), why, sizeof(why)) == 0;
	if (can && outbox_part_path(c, r->rec.name, API_VARIANT_VIDEO, mp4, sizeof(mp4)) != 0) {
		bfmt(why, sizeof(why), "the output path is too long");
		can = false;
	}
	for (int v = API_VARIANT_THUMBNAIL; v <= API_VARIANT_SPRITESHEET; v++) {
		char part[PATH_MAX];
		struct dl *d = &r->dl[v];
		if (!(want & (1u << v)))
			continue;
		if (can &&
		    outbox_part_path(c, r->rec.name, (enum api_variant)v, part, sizeof(part)) == 0)
			d->drv = derive_start(
			    r->js->loop, ffmpeg,
			    v == API_VARIANT_THUMBNAIL ? DERIVE_THUMBNAIL : DERIVE_SPRITESHEET, mp4,
			    part, r->rec.seconds, on_derived, d, why, sizeof(why));
		if (d->drv)
			r->fetching++;
		else
			leave_out(r, v, why);
	}
	return r->fetching > 0;
}

/* The .part files made ahead are there (or not: the first round makes them). A job
 * that failed or was stopped meanwhile had its parts removed before they were made:
 * they go now. */
static void on_parts_premade(void *ud, int err)
{
	struct jrun *r = ud;
	r->parts_staged = false;
	if (err)
		return;
	enum job_state s = r->rec.state;
	if (s == JOB_RUNNING || (s == JOB_DOWNLOADING && !r->dl_round)) {
		r->parts_ready = true;
		return;
	}
	if (s == JOB_DOWNLOADING)
		return; /* its round made them too, and uses them */
	for (int v = 0; v < 3; v++) {
		char part[PATH_MAX];
		if (outbox_part_path(r->js->conf, r->rec.name, (enum api_variant)v, part,
		                     sizeof(part)) == 0 &&
		    unlink(part) != 0 && errno != ENOENT)
			log_event(LOG_WARNING, r->rec.name, r->rec.video_id, "cannot remove %s: %s",
			          part, strerror(errno));
	}
}

/* Stages the making of R's .part files that do not exist yet (none, or those a round
 * needs) in the main commit. */
static void stage_parts(struct jrun *r)
{
	struct jobs *js = r->js;
	for (int v = 0; v < 3; v++) {
		char part[PATH_MAX];
		if (!((r->have | r->absent) & (1u << v)) &&
		    outbox_part_path(js->conf, r->rec.name, (enum api_variant)v, part,
		                     sizeof(part)) == 0)
			commit_create(js->commit, part, js->conf->outbox_mode);
	}
}

void jr_prepare_parts(struct jrun *r)
{
	if (r->parts_staged || r->parts_ready || !r->js->commit ||
	    mkdir_p_exact(r->js->conf->outbox, conf_outbox_dir_mode(r->js->conf)) != 0)
		return; /* the round makes them, or says why it cannot */
	stage_parts(r);
	r->parts_staged = true;
	commit_then(r->js->commit, on_parts_premade, r);
}

bool jr_download_room(struct jobs *js)
{
	size_t max = js->conf->max_in_flight;
	if (max > JOBS_DOWNLOADS_MAX)
		max = JOBS_DOWNLOADS_MAX;
	return js->dl_active < max && !jr_yield_to_creates(js);
}

/* Downloads the variants not downloaded yet, side by side, once a download slot is
 * free (jr_download_room). */
void jr_start_download(struct jrun *r)
{
	struct jobs *js = r->js;
	if (!r->dl_round) {
		if (!jr_download_room(js)) {
			jr_set_queued(
			    r, true); /* pump starts it when a round ends or creates are out */
			return;
		}
		jr_set_queued(r, false);
		r->dl_round = true;
		js->dl_active++;
	}
	r->dl_expired = r->dl_local = r->dl_gone_round = false;
	if (!r->dl_deadline) { /* a record from before the window was kept */
		long long w = deadline_window_s(
		    (struct service_s){r->rec.video_expires_at}, (struct service_s){-1},
		    (struct service_s){r->rec.video_completed_at},
		    (struct service_s){r->rec.video_created_at}, DEADLINE_DEFAULT_WINDOW_S);
		r->dl_deadline = loop_now_ms() + w * 1000;
	}
	if (mkdir_p_exact(js->conf->outbox, conf_outbox_dir_mode(js->conf)) != 0) {
		log_event(LOG_ERROR, r->rec.name, r->rec.video_id,
		          "cannot create the outbox %s: %s; trying again in 30 s", js->conf->outbox,
		          strerror(errno));
		download_round_over(r);
		return;
	}
	/* A variant the service is known not to serve (configured, learned from other
	 * videos, or the api_profile's) is made from the video without asking. */
	const struct caps *caps = api_client_caps(js->api);
	for (int v = API_VARIANT_THUMBNAIL; v <= API_VARIANT_SPRITESHEET; v++) {
		char known[300];
		if (((r->have | r->absent | r->unserved) & (1u << v)) ||
		    caps_has(caps, variant_cap(v)))
			continue;
		caps_explain(caps, variant_cap(v), known, sizeof(known));
		r->unserved |= 1u << v;
		free(r->vwhy[v]);
		r->vwhy[v] = xasprintf("the service does not serve the %s (%s)",
		                       api_variant_name((enum api_variant)v), known);
	}
	/* The .part files are made by the commit thread (creating a file can cost the
	 * loop a millisecond), then filled here: made while the video was generated
	 * (jr_prepare_parts), or now. */
	if (r->parts_ready && !r->parts_staged) {
		/* At the next loop turn, not from here: a round that ends at once (nothing to
		 * fetch, the outbox unwritable) pumps the next job, which would come back
		 * here, one stack frame deeper for every job waiting. */
		if (!r->parts_go) {
			r->parts_go = true;
			jr_schedule(r, 0);
			return;
		}
		r->parts_go = r->parts_ready = false; /* this round uses them up */
		parts_made(r, 0);
		return;
	}
	stage_parts(r);
	jr_after_commit(r, on_parts_made);
}

/* The .part files exist: the downloads go. */
static void parts_made(struct jrun *r, int err)
{
	if (!r->dl_round || !r->js->api) { /* suspended meanwhile: advance starts again */
		if (r->js->api)
			jr_schedule(r, 0);
		return;
	}
	if (err) {
		log_event(LOG_ERROR, r->rec.name, r->rec.video_id,
		          "cannot create the download files in %s: %s; trying again in 30 s",
		          r->js->conf->outbox, strerror(err));
		r->dl_local = true;
	} else {
		for (int v = 0; v < 3; v++)
			if (!((r->have | r->absent | r->unserved) & (1u << v)))
				fetch_variant(r, v);
	}
	if (!r->fetching)
		download_round_over(r);
}

static void on_parts_made(void *ud, int err)
{
	struct jrun *r = ud;
	r->committing = false;
	parts_made(r, err);
}

/* After a failed round: poll_max s, doubling up to JOBS_DL_RETRY_MAX_S; after a
 * local failure JOBS_DL_LOCAL_RETRY_S. */
static long long download_retry_ms(const struct jrun *r)
{
	if (r->dl_local || !r->dl_fails)
		return JOBS_DL_LOCAL_RETRY_S * 1000LL;
	long long d = (long long)r->js->conf->poll_max * 1000;
	for (unsigned i = 1; i < r->dl_fails && d < JOBS_DL_RETRY_MAX_S * 1000LL; i++)
		d *= 2;
	return d < JOBS_DL_RETRY_MAX_S * 1000LL ? d : JOBS_DL_RETRY_MAX_S * 1000LL;
}

/*
 * A round ended without the set: whether the job gives up, with a plain reason (true:
 * it failed). Every kind of failure is bounded: the service saying it has no such
 * video (404/410) JOBS_DL_GONE_TRIES times, the link's lifetime passed (measured on
 * this machine's monotonic clock from when sorad saw the video completed), or
 * JOBS_DL_ROUNDS rounds failed in a row.
 */
static bool download_given_up(struct jrun *r)
{
	if (r->have & 1u) /* the video is here: only the others are missing (vfail bounds) */
		return false;
	if (!r->dl_local) {
		r->dl_fails++;
		r->dl_gone = r->dl_gone_round ? r->dl_gone + 1 : 0;
	}
	const char *last = r->dl_why ? r->dl_why : "no details";
	if (r->dl_gone >= JOBS_DL_GONE_TRIES) {
		jr_fail_job(
		    r, "gone",
		    "The service no longer has this video (%s, %u downloads in a row): it may "
		    "have expired or been deleted there. Drop the prompt again to make it "
		    "anew.",
		    last, r->dl_gone);
		return true;
	}
	if (r->dl_expired || (r->dl_deadline && loop_now_ms() >= r->dl_deadline)) {
		jr_fail_job(
		    r, "expired",
		    "The finished video could not be downloaded before its download link "
		    "expired (the service keeps finished videos for about an hour; sorad "
		    "counts that time from when it saw the video finish). Last failure: %s. "
		    "Drop the prompt again to make it anew.",
		    last);
		return true;
	}
	if (r->dl_fails >= JOBS_DL_ROUNDS) {
		jr_fail_job(
		    r, "download_failed",
		    "The finished video could not be downloaded: %u attempts in a row failed "
		    "(last: %s). Drop the prompt again to make it anew, or check the "
		    "network path to the service.",
		    r->dl_fails, last);
		return true;
	}
	log_event(LOG_WARNING, r->rec.name, r->rec.video_id,
	          "download round %u of %u failed (%s); trying again in %lld s", r->dl_fails,
	          JOBS_DL_ROUNDS, last, download_retry_ms(r) / 1000);
	return false;
}

/* Every download of the round has ended: on to the variants to make, the outputs, a
 * failure, or a retry. */
static void download_round_over(struct jrun *r)
{
	if ((r->have & 1u) && !r->dl_local && derive_missing(r))
		return; /* ffmpeg runs in this round's slot; on_derived ends the round */
	if (r->dl_round) {
		r->dl_round = false;
		r->js->dl_active--;
	}
	if (outputs_settled(r)) {
		/* The files' data are durable before any of them gets its final name. */
		jr_after_commit(r, on_parts_durable);
	} else if (!download_given_up(r)) {
		/* A local failure (a full disk) frees what this round wrote; the next round
		 * fetches everything. After a network failure, finished parts are kept. */
		if (r->dl_local)
			jr_close_download(r, DL_DROP_ALL);
		jr_schedule(r, download_retry_ms(r));
	}
	jr_pump(r->js);
}

/* Renames every part into place (a variant left out has none, nor an old file under
 * its name), then writes NAME.json last: the set is complete. */
static void finish_outputs(struct jrun *r)
{
	const struct conf *c = r->js->conf;
	struct outbox_file files[3];
	char owner[PATH_MAX];
	jr_claim_of(&r->rec, owner, sizeof(owner));
	for (int v = 0; v < 3; v++) {
		char part[PATH_MAX], final[PATH_MAX];
		bool out = (r->absent & (1u << v)) != 0;
		files[v].origin = out                        ? OUTBOX_MISSING
		                  : (r->derived & (1u << v)) ? OUTBOX_DERIVED
		                                             : OUTBOX_FROM_SERVICE;
		files[v].bytes = r->bytes[v];
		files[v].missing = r->vwhy[v];
		if (outbox_part_path(c, r->rec.name, (enum api_variant)v, part, sizeof(part)) !=
		        0 ||
		    outbox_final_path(c, r->rec.name, (enum api_variant)v, final, sizeof(final)) !=
		        0 ||
		    (out ? (unlink(part) != 0 && errno != ENOENT) ||
		               outbox_place(c, r->rec.name, owner, NULL, final) != 0
		         : outbox_place(c, r->rec.name, owner, part, final) != 0)) {
			if (errno == EEXIST) {
				/* Never overwrite what another writer put there; keep what was
				 * paid for, and try again until the place is free. */
				log_event(
				    LOG_ERROR, r->rec.name, r->rec.video_id,
				    "%s exists and is not this job's (another sorad sharing "
				    "the outbox, or a person, put it there): not overwriting it; "
				    "move it away and this job's file takes its place (the "
				    "download is kept; trying again every 30 s)",
				    final);
				jr_schedule(r, 30000);
				return;
			}
			log_event(LOG_ERROR, r->rec.name, r->rec.video_id,
			          "cannot %s %s: %s; downloading again in 30 s",
			          out ? "clear the place of the missing" : "move into place",
			          outbox_suffix((enum api_variant)v), strerror(errno));
			jr_forget_outputs(r);
			jr_schedule(r, 30000);
			return;
		}
	}
	r->rec.finished_at = jr_now_s();
	/* The renames are durable before NAME.json appears (commit.h orders them). */
	if (commit_sync(r->js->commit, c->outbox) != 0 ||
	    outbox_write_metadata(c, &r->rec, files, r->js->commit) != 0) {
		jr_schedule(r, 30000);
		return;
	}
	jr_after_commit(r, on_outputs_durable);
}

/* NAME.json is durable: the set is complete, and so is the job. */
static void on_outputs_durable(void *ud, int err)
{
	struct jrun *r = ud;
	const struct conf *c = r->js->conf;
	r->committing = false;
	if (err) { /* logged by the commit; advance sees what is in the outbox */
		jr_schedule(r, 30000);
		return;
	}
	log_event(LOG_INFO, r->rec.name, r->rec.video_id, "done: %s/%s.mp4 (%lld bytes)", c->outbox,
	          r->rec.name, r->bytes[0]);
	jr_set_state(r, JOB_DONE);
	jr_after_record(r, jr_on_final_durable);
	jr_wake_dependants(r); /* they can go now */
	jr_pump(r->js);
}

/* The downloaded files are durable (or not: download them again). */
static void on_parts_durable(void *ud, int err)
{
	struct jrun *r = ud;
	r->committing = false;
	if (err) {
		log_event(LOG_ERROR, r->rec.name, r->rec.video_id,
		          "cannot write the downloads to %s: %s; downloading again in 30 s",
		          r->js->conf->outbox, strerror(err));
		jr_forget_outputs(r);
		jr_schedule(r, 30000);
		return;
	}
	finish_outputs(r);
}

/*
 * A downloaded file whose bytes are not a whole file of its kind (WHY, FOUND): a
 * resumed one is fetched again whole at once, and the service asked for no more
 * ranges; another kind for a thumbnail or spritesheet means the service cannot serve
 * it; anything else is tried again with the next round. True when it is fetched again.
 */
static bool download_unusable(struct jrun *r, int v, const struct api_result *res,
                              enum media_verdict mv, enum media_kind found, const char *why)
{
	const char *variant = api_variant_name((enum api_variant)v);
	if (res->resumes > 0) { /* the next attempt asks for no range: no loop */
		api_client_forget_ranges(r->js->api, r->rec.name, why);
		log_event(LOG_WARNING, r->rec.name, r->rec.video_id,
		          "the resumed download of the %s is unusable (%s): downloading it again "
		          "whole",
		          variant, why);
		return fetch_variant(r, v);
	}
	if (mv == MEDIA_WRONG_KIND && v != API_VARIANT_VIDEO) {
		variant_unserved(r, v, why, found);
		return false;
	}
	log_event(LOG_WARNING, r->rec.name, r->rec.video_id, "the downloaded %s is unusable (%s)",
	          variant, why);
	return false;
}

static void on_downloaded(struct api_req *req, void *ud)
{
	struct dl *d = ud;
	struct jrun *r = d->r;
	int v = (int)(d - r->dl);
	struct api_result *res = api_req_result(req);
	d->req = NULL;
	r->fetching--;
	close(d->fd);
	d->fd = -1;
	char part[PATH_MAX];
	bool have_part = outbox_part_path(r->js->conf, r->rec.name, (enum api_variant)v, part,
	                                  sizeof(part)) == 0;
	enum media_kind found = MEDIA_UNKNOWN;
	enum media_verdict mv = MEDIA_OK;
	char why[PATH_MAX + 64] = "";
	if (res->kind == API_OK && have_part) /* never by its name: by its bytes */
		mv = media_check_file(part, variant_kind[v], &found, why, sizeof(why));
	const char *variant = api_variant_name((enum api_variant)v);
	/* The link's lifetime, on this machine's monotonic clock (observe_expiry). */
	bool gone = r->dl_deadline && loop_now_ms() >= r->dl_deadline;
	if (v == API_VARIANT_VIDEO && (res->kind != API_OK || mv != MEDIA_OK)) {
		char st[48] = "";
		if (res->http_status >= 300)
			bfmt(st, sizeof(st), "HTTP %ld%s: ", res->http_status,
			     res->http_status == 410   ? " Gone"
			     : res->http_status == 404 ? " Not Found"
			                               : "");
		free(r->dl_why);
		r->dl_why = xasprintf("%s %s%s", variant, st,
		                      res->kind != API_OK && res->error.message ? res->error.message
		                      : res->kind != API_OK ? api_kind_name(res->kind)
		                                            : why);
	}
	if (res->kind == API_OK && mv == MEDIA_OK) {
		r->bytes[v] = res->bytes;
		r->have |= 1u << v;
		r->vfail[v] = 0;
		if (v != API_VARIANT_VIDEO)
			caps_learn(api_client_caps(r->js->api), variant_cap(v), CAPS_YES, NULL);
		if (have_part)
			commit_sync(r->js->commit, part);
	} else if (res->kind == API_OK) {
		if (download_unusable(r, v, res, mv, found, why))
			return; /* fetched again into the same part */
		if (have_part)
			unlink(part);
	} else {
		if (have_part)
			unlink(part);
		if ((r->dl_local = res->kind == API_LOCAL))
			log_event(LOG_ERROR, r->rec.name, r->rec.video_id,
			          "cannot write the %s to %s (%s); trying again in 30 s while the "
			          "download link is valid",
			          variant, r->js->conf->outbox,
			          res->error.message ? res->error.message : "");
		else if (v != API_VARIANT_VIDEO &&
		         (res->kind == API_NOT_FOUND || res->kind == API_VALIDATION || gone ||
		          ++r->vfail[v] >= JOBS_VARIANT_TRIES))
			variant_unserved(r, v,
			                 res->error.message ? res->error.message
			                                    : api_kind_name(res->kind),
			                 MEDIA_UNKNOWN);
		else if (gone)
			r->dl_expired = true;
		else if (res->kind == API_NOT_FOUND)
			r->dl_gone_round = true; /* a few such rounds: "no longer has it" */
		else
			log_event(LOG_WARNING, r->rec.name, r->rec.video_id,
			          "downloading the %s failed (%s)", variant,
			          api_kind_name(res->kind));
	}
	if (!r->fetching)
		download_round_over(r);
}
