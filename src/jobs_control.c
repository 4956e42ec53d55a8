/*
 * jobs_control.c — the user's commands on jobs (cli.c, control.c): approve and the
 * release of cap holds, cancel/reject, retry, delete at the service, forget; and the
 * decisions recorded while no daemon ran, applied at start.
 */
#include "jobs_int.h"

#include "caps.h"
#include "commit.h"
#include "dupes.h"
#include "fsutil.h"
#include "inbox.h"
#include "log.h"
#include "outbox.h"
#include "refresh.h"
#include "store.h"
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- holds, approvals, forgetting -------------------------------------------------- */

/* A user's delete of a video at the service, waiting for its answer (jobs_delete). */
struct jdelete {
	struct jobs *js;
	struct api_req *req;
	char *video_id, *job;
	jobs_deleted_fn *done;
	void *ud;
	struct jdelete *next;
};

static bool held_for(const struct jrun *r, const char *code)
{
	return r->rec.state == JOB_HELD && r->rec.error_code && !strcmp(r->rec.error_code, code);
}

/* Decisions `sorad resolve` recorded while no daemon ran (job.h, resolution). */
void jr_apply_resolutions(struct jobs *js)
{
	for (size_t i = 0; i < js->n; i++) {
		struct jrun *r = jr_at(js, i); /* a cold job is finished: none of these */
		if (!r)
			continue;
		if (!r->rec.resolution)
			continue;
		enum jobs_resolve_how how;
		const char *id;
		char why[512];
		char *res = r->rec.resolution;
		r->rec.resolution = NULL;
		if (!strcmp(res, "retry")) { /* `sorad retry` while sorad was down */
			if (jobs_retry(js, r->rec.name, why, sizeof(why)) != 0) {
				log_event(LOG_WARNING, r->rec.name, NULL,
				          "ignoring the retry recorded while sorad was down: %s",
				          why);
				jr_stage(js->commit, r);
			}
			free(res);
			continue;
		}
		if (!strcmp(res, "cancel") || !strcmp(res, "reject")) {
			/* `sorad cancel` / `sorad reject` while sorad was down */
			if (jobs_stop(js, r->rec.name, res[0] == 'c' ? JOBS_CANCEL : JOBS_REJECT,
			              why, sizeof(why)) != 0) {
				log_event(LOG_WARNING, r->rec.name, NULL,
				          "ignoring the %s recorded while sorad was down: %s", res,
				          why);
				jr_stage(js->commit, r);
			}
			free(res);
			continue;
		}
		if (jobs_resolution_parse(res, &how, &id) != 0) {
			log_event(LOG_ERROR, r->rec.name, NULL,
			          "ignoring a recorded decision sorad cannot read");
			jr_stage(js->commit, r);
		} else if (jobs_resolve(js, r->rec.name, how, id, why, sizeof(why)) != 0) {
			log_event(LOG_WARNING, r->rec.name, NULL,
			          "ignoring the decision recorded by sorad resolve: %s", why);
			jr_stage(js->commit, r);
		} else {
			log_event(
			    LOG_INFO, r->rec.name, NULL,
			    "applied the decision recorded by sorad resolve while sorad was down");
		}
		free(res);
	}
}

static bool held_for_caps(const struct jrun *r, const void *ud)
{
	(void)ud;
	return held_for(r, JOBS_HOLD_CAP);
}

size_t jobs_release_held(struct jobs *js)
{
	size_t released = 0, n;
	struct jrun **v = jr_in_claim_order(js->live.v, js->live.n, held_for_caps, NULL, &n);
	for (size_t i = 0; i < n; i++) {
		struct jrun *r = v[i];
		char why[512];
		if (js->gate && js->gate(&r->rec, why, sizeof(why), js->gate_ud) != 0)
			break; /* oldest first: later jobs wait behind it */
		log_event(LOG_INFO, r->rec.name, NULL, "released: the usage caps allow it now");
		jr_unhold_job(r);
		released++;
	}
	free(v);
	return released;
}

bool jobs_approval_matches(const struct job *j, const char *name)
{
	if (j->state != JOB_HELD || !j->error_code ||
	    strcmp(j->error_code, JOBS_HOLD_APPROVAL) != 0)
		return false;
	if (!strcmp(j->name, name))
		return true;
	/* The dropped file's stem names every job of it ("batch" for batch.jsonl). */
	const char *file = job_source_file(j);
	size_t n = strlen(name);
	return !strncmp(file, name, n) && file[n] == '.' && !strchr(file + n + 1, '.');
}

static bool approval_of(const struct jrun *r, const void *name)
{
	return jobs_approval_matches(&r->rec, name);
}

int jobs_approve(struct jobs *js, const char *name)
{
	size_t n;
	struct jrun **v = jr_in_claim_order(js->live.v, js->live.n, approval_of, name, &n);
	for (size_t i = 0; i < n; i++) {
		log_event(LOG_INFO, v[i]->rec.name, NULL, "approved");
		jr_unhold_job(v[i]);
	}
	free(v);
	return (int)n;
}

static void on_cancel_deleted(struct api_req *req, void *ud)
{
	struct api_result *res = api_req_result(req);
	char *name = ud;
	if (res->kind == API_OK || res->kind == API_NOT_FOUND)
		log_event(LOG_INFO, name, NULL, "cancelled: the service %s the video",
		          res->kind == API_OK ? "deleted" : "no longer has");
	else
		log_event(LOG_WARNING, name, NULL,
		          "cancelled, but the service did not delete the video (%s); it may "
		          "still be made and billed",
		          api_kind_describe(res->kind));
	free(name);
}

int jobs_stop(struct jobs *js, const char *name, enum jobs_stop_how how, char *msg, size_t n)
{
	struct jrun *r = jr_by_name_or_id(js, name);
	if (!r) {
		bfmt(msg, n, "no job is named %s", name);
		return -1;
	}
	const char *jn = r->rec.name;
	enum job_state s = r->rec.state;
	if (r->committing && !job_state_is_final(s)) {
		bfmt(msg, n, "%s is being saved; try again in a moment", jn);
		return -2;
	}
	if (how == JOBS_REJECT) {
		if (s != JOB_HELD) {
			bfmt(msg, n, "%s is %s, not held; 'sorad cancel %s' stops a job in flight",
			     jn, job_state_name(s), jn);
			return -1;
		}
		jr_fail_job(r, "rejected",
		            "Rejected by the user while it was held (%s). Nothing was sent to the "
		            "service and nothing was spent.",
		            r->rec.error ? r->rec.error : "held");
		bfmt(msg, n, "%s rejected: nothing was spent; its input is in %s", jn,
		     js->conf->failed_dir);
		return 0;
	}
	switch (s) {
	case JOB_CLAIMED:
	case JOB_HELD:
	case JOB_WAITING:
		jr_set_queued(r, false);
		jr_fail_job(
		    r, "cancelled",
		    "Cancelled by the user before anything was sent to the service: nothing "
		    "was spent.");
		bfmt(msg, n, "%s cancelled: nothing was spent; its input is in %s", jn,
		     js->conf->failed_dir);
		return 0;
	case JOB_SUBMITTING:
		bfmt(msg, n, "%s is being submitted right now; try again in a moment", jn);
		return -2;
	case JOB_IN_DOUBT:
		bfmt(msg, n,
		     "%s is in doubt: 'sorad resolve %s --drop' fails it (its create may have "
		     "been charged)",
		     jn, jn);
		return -1;
	case JOB_DONE:
	case JOB_FAILED:
		bfmt(msg, n, "%s is %s already; nothing runs", jn, job_state_name(s));
		return -1;
	case JOB_RUNNING:
	case JOB_DOWNLOADING:
		break;
	}
	/* In flight at the service: stop tracking; ask the service to delete it. */
	if (r->req) {
		api_req_cancel(r->req);
		r->req = NULL;
	}
	refresh_untrack(js->refresh, r, r->rec.video_id);
	bool del = r->rec.video_id && js->api && caps_has(api_client_caps(js->api), CAPS_DELETE) &&
	           s == JOB_RUNNING;
	if (del && !api_delete(js->api, r->rec.video_id, jn, on_cancel_deleted, xstrdup(jn)))
		del = false;
	jr_fail_job(
	    r, "cancelled", "Cancelled by the user while the service was %s it (video %s). %s",
	    s == JOB_RUNNING ? "making" : "serving", r->rec.video_id ? r->rec.video_id : "?",
	    del ? "sorad asked the service to delete it; the generation may still be billed."
	    : s == JOB_DOWNLOADING
	        ? "The video was made: it is billed, and stays on the service until it expires."
	        : "The service cannot delete videos: it may still finish, and be billed.");
	bfmt(msg, n, "%s cancelled: %s", jn,
	     del ? "sorad asked the service to delete the video; it may still be billed"
	     : s == JOB_DOWNLOADING ? "the video was made and is billed"
	                            : "sorad stopped tracking it; the video may still be billed");
	return 0;
}

int jobs_retry(struct jobs *js, const char *name, char *msg, size_t n)
{
	struct jrun *r = jr_by_name_or_id(js, name);
	if (!r) {
		bfmt(msg, n, "no job is named %s", name);
		return -1;
	}
	if (jr_full(r) != 0) {
		bfmt(msg, n, "%s's record cannot be read (see the daemon's log)", r->rec.name);
		return -1;
	}
	struct job *j = &r->rec;
	if (j->state != JOB_FAILED || r->committing) {
		bfmt(msg, n, "%s is %s, not failed: only a failed job can be retried", j->name,
		     job_state_name(j->state));
		return -1;
	}
	if (j->creates + 1 >= JOB_CREATES_MAX) {
		bfmt(msg, n, "%s has sent %u creates already; drop it again as a new job", j->name,
		     j->creates);
		return -1;
	}
	const struct conf *c = js->conf;
	char id[128];
	jr_claim_of(j, id, sizeof(id));
	if (j->reference) { /* the image must be in the claim again */
		char in_claim[PATH_MAX], in_failed[PATH_MAX];
		const char *dot = strrchr(j->reference, '.');
		struct stat st;
		if (!id[0] ||
		    inbox_claim_path(c, id, j->reference, in_claim, sizeof(in_claim)) != 0 ||
		    bfmt(in_failed, sizeof(in_failed), "%s/%s%s", c->failed_dir, j->name,
		         dot ? dot : "") != 0) {
			bfmt(msg, n, "%s's reference image cannot be found; drop it again",
			     j->name);
			return -1;
		}
		if (stat(in_claim, &st) != 0) {
			char dir[PATH_MAX];
			bcopy_str(dir, sizeof(dir), in_claim);
			char *slash = strrchr(dir, '/');
			if (slash)
				*slash = '\0';
			if (mkdir_p(dir, 0700) != 0 || copy_file(in_failed, in_claim, 0600) != 0) {
				bfmt(msg, n,
				     "%s's reference image %s is no longer there (%s); drop the "
				     "prompt "
				     "and its image again",
				     j->name, j->reference, strerror(errno));
				return -1;
			}
		}
	}
	/* The failure, archived in the record; its report leaves failed/. */
	char when[32] = "?", line[256];
	time_t t = (time_t)(j->finished_at >= 0 ? j->finished_at : jr_now_s());
	struct tm tm;
	if (localtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
	jr_first_line(j->error, line, sizeof(line));
	char *h = xasprintf("%s%s%s %s: %s", j->history ? j->history : "", j->history ? "\n" : "",
	                    when, j->error_code ? j->error_code : "failed", line);
	free(j->history);
	j->history = h;
	outbox_remove_failure(c, j->name);
	/* A new start, keeping what was spent: every create sent stays counted. */
	jr_set_vid(r, NULL);
	char **fields[] = {&j->video_id,      &j->status,     &j->error, &j->error_code,
	                   &j->create_answer, &j->resolution, &j->usage};
	for (size_t i = 0; i < ARRAY_LEN(fields); i++) {
		free(*fields[i]); /* cppcheck-suppress shadowVariable ; false positive (2.10) */
		*fields[i] = NULL;
	}
	j->progress = 0;
	j->video_created_at = j->video_completed_at = j->video_expires_at = -1;
	j->submit_at = j->finished_at = -1;
	j->dl_window_s = j->dl_seen_at = -1;
	j->next_at_ms = 0;
	j->attempts = 0;
	j->reported_cost_usd = -1;
	j->creates_allowed = j->creates + 1;
	if (outbox_reserve(c, j->name, id) < 0)
		log_event(LOG_DEBUG, j->name, NULL, "retry: the name is not reserved on disk: %s",
		          strerror(errno));
	if (j->dup_key)
		dupes_put(js->dupes, j->dup_key, j->name, j->claimed_at);
	log_event(LOG_INFO, j->name, NULL, "retried by the user (earlier: %s)", line);
	jr_requeue(r);
	bfmt(msg, n,
	     "%s is queued again under the same name; its earlier failure is in its history "
	     "('sorad show %s')",
	     j->name, j->name);
	return 0;
}

/* Takes D out of its list, tells its caller (OK, CODE, MSG) and frees it. */
static void delete_finish(struct jdelete *d, bool ok, const char *code, const char *msg)
{
	for (struct jdelete **p = &d->js->deletes; *p; p = &(*p)->next)
		if (*p == d) {
			*p = d->next;
			break;
		}
	d->done(ok, code, msg, d->ud);
	free(d->video_id);
	free(d->job);
	free(d);
}

/* The sentence of the CLI's cannot_delete (cli.c, offline), without its prefix. */
static void cannot_delete_msg(char *msg, size_t n, const char *video_id, const char *reason)
{
	bfmt(msg, n,
	     "the service cannot delete videos (%s): video %s stays there until the service "
	     "expires it; if it can after all, set capabilities { delete = yes } in the "
	     "configuration",
	     reason, video_id);
}

static void on_user_deleted(struct api_req *req, void *ud)
{
	struct jdelete *d = ud;
	struct api_result *res = api_req_result(req);
	char msg[1024];
	d->req = NULL; /* freed when this returns */
	if (res->kind == API_OK || res->kind == API_NOT_FOUND) {
		log_event(LOG_INFO, d->job, d->video_id, "sorad delete: the service %s the video",
		          res->kind == API_OK ? "deleted" : "no longer has");
		if (res->kind == API_OK)
			bfmt(msg, sizeof(msg), "deleted video %s from the service", d->video_id);
		else
			bfmt(msg, sizeof(msg),
			     "the service no longer has video %s (deleted or expired already)",
			     d->video_id);
		delete_finish(d, true, NULL, msg);
		return;
	}
	const char *em = res->error.message ? res->error.message : "";
	if (caps_refusal(res)) {
		char answer[200];
		bfmt(answer, sizeof(answer), "HTTP %ld: %.*s", res->http_status,
		     (int)strcspn(em, "\r\n"), em);
		cannot_delete_msg(msg, sizeof(msg), d->video_id, answer);
		log_event(LOG_WARNING, d->job, d->video_id, "sorad delete: %s", msg);
		delete_finish(d, false, "cannot_delete", msg);
		return;
	}
	bfmt(msg, sizeof(msg), "the service did not delete video %s: %s (%s)", d->video_id,
	     api_kind_describe(res->kind), *em ? em : "no details");
	log_event(LOG_WARNING, d->job, d->video_id, "sorad delete: %s", msg);
	delete_finish(d, false, res->kind == API_CONFIG ? "config" : "unavailable", msg);
}

int jobs_delete(struct jobs *js, const char *video_id, const char *job, jobs_deleted_fn *done,
                void *ud, const char **code, char *msg, size_t n)
{
	if (!js->api) {
		*code = "busy";
		bfmt(msg, n,
		     "the daemon is setting up its API client again; try again in a moment");
		return -1;
	}
	const struct caps *caps = api_client_caps(js->api);
	if (caps && !caps_has(caps, CAPS_DELETE)) {
		char why[300];
		*code = "cannot_delete";
		cannot_delete_msg(msg, n, video_id,
		                  caps_explain(caps, CAPS_DELETE, why, sizeof(why)));
		return -1;
	}
	struct jdelete *d = xcalloc(1, sizeof(*d));
	d->js = js;
	d->video_id = xstrdup(video_id);
	d->job = job ? xstrdup(job) : NULL;
	d->done = done;
	d->ud = ud;
	d->next = js->deletes;
	js->deletes = d;
	log_event(LOG_INFO, job, video_id, "sorad delete: asking the service to delete the video");
	d->req = api_delete(js->api, video_id, job, on_user_deleted, d);
	return 0;
}

/* The deletes still waiting lose their client (a reload, shutdown): answered now. */
void jr_deletes_abandon(struct jobs *js)
{
	while (js->deletes) {
		struct jdelete *d = js->deletes;
		js->deletes = d->next; /* out of the list before delete_finish frees it */
		if (d->req)
			api_req_cancel(d->req);
		d->req = NULL;
		delete_finish(d, false, "unavailable",
		              "the daemon stopped or changed its API settings before the service "
		              "answered the delete; try again");
	}
}

static bool is_job(const struct jrun *r, const void *which)
{
	return r == which;
}

int jobs_forget(struct jobs *js, const char *name)
{
	struct jrun *r = jr_by_name(js, name);
	if (!r || !job_state_is_final(r->rec.state))
		return -1;
	/* A change of this job still staged would bring the record back after the
	 * removal: commit it first. */
	commit_drain(js->intents);
	commit_drain(js->commit);
	if (store_remove(js->conf->state_dir, r->rec.name) != 0)
		return -1;
	log_event(LOG_INFO, r->rec.name, r->rec.video_id, "forgotten: record and outputs purged");
	jr_remove_jobs(js, is_job, r);
	return 0;
}
