/*
 * jobs_poll.c — running videos: polls aimed at each video's predicted finish
 * (pollplan.h), list calls that answer for many (refresh.h), and signed callbacks that
 * make polling the fallback; a video seen ended goes on to its download or failure.
 */
#include "jobs_int.h"

#include "caps.h"
#include "deadline.h"
#include "log.h"
#include "pollplan.h"
#include "proto.h"
#include "refresh.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static void on_retrieved(struct api_req *req, void *ud);
static void polled(struct jrun *r, const struct video *v, long poll_after_ms);
static long long callback_pace(const struct jrun *r, long long wait_ms);
static void callback_missed(struct jrun *r, const struct video *v);

/* ---- polling ----------------------------------------------------------------------- */

/* The observed duration of jobs like R's (pollplan.h), -1 none. */
static long long typical_ms(const struct jrun *r)
{
	char key[POLLPLAN_KEY_MAX];
	pollplan_key(key, sizeof(key), r->rec.model, r->rec.size, r->rec.seconds);
	return pollplan_typical_ms(&r->js->durations, key);
}

void jr_start_polling(struct jrun *r, const struct api_result *res)
{
	r->poll_ms = (long long)r->js->conf->poll_initial * 1000;
	pollplan_start(&r->pp, loop_now_ms());
	jr_prepare_parts(r);
	jr_schedule(r,
	            callback_pace(r, pollplan_wait(&r->pp, loop_now_ms(), r->poll_ms,
	                                           res ? res->poll_after_ms : -1, typical_ms(r))));
}

void jr_poll_job(struct jrun *r)
{
	const struct conf *c = r->js->conf;
	if (r->rec.submit_at >= 0 &&
	    loop_now_ms() - r->submit_mono > (long long)c->job_timeout * 1000) {
		jr_fail_job(
		    r, "timeout",
		    "The video was not ready %u seconds after it was submitted (job_timeout), "
		    "so sorad stopped waiting. It may still finish on the service: its id is "
		    "%s. Raise job_timeout for long or busy generations.",
		    c->job_timeout, r->rec.video_id);
		return;
	}
	/* Many jobs in flight: a list call answers for many of them (refresh.h). */
	if (r->js->in_flight >= REFRESH_MIN_JOBS &&
	    refresh_due(r->js->refresh, r, r->rec.video_id, r->rec.video_created_at,
	                r->pp.predicted_ms > r->pp.start_ms
	                    ? (long)pollplan_grid_ms(r->pp.predicted_ms - r->pp.start_ms)
	                    : 0))
		return;
	r->req = api_retrieve(r->js->api, r->rec.video_id, r->rec.name, on_retrieved, r);
}

static void on_retrieved(struct api_req *req, void *ud)
{
	struct jrun *r = ud;
	struct api_result *res = api_req_result(req);
	r->req = NULL;
	const struct conf *c = r->js->conf;
	if (res->kind != API_OK || !res->has_video) {
		r->by_callback = false; /* the next poll is its own (callback_missed) */
		if (res->kind == API_NOT_FOUND) {
			jr_fail_from_api(r, res, "checking the video's progress");
			return;
		}
		if (res->kind == API_CONFIG)
			r->js->api_blocked = true;
		jr_schedule(r, (long long)c->poll_max * 1000);
		return;
	}
	polled(r, &res->video, res->poll_after_ms);
}

/* A list call showed the job's video (refresh.h). */
void jr_on_refresh_seen(void *job, const struct video *v, long poll_after_ms, void *ud)
{
	(void)ud;
	struct jrun *r = job;
	if (!r->req && r->rec.state == JOB_RUNNING)
		polled(r, v, poll_after_ms);
}

/* A due job the list did not show: it retrieves its video itself. */
void jr_on_refresh_miss(void *job, void *ud)
{
	(void)ud;
	struct jrun *r = job;
	if (!r->req && r->rec.state == JOB_RUNNING && r->js->api) {
		log_event(LOG_DEBUG, r->rec.name, r->rec.video_id,
		          "not in the listed videos: retrieving it by itself");
		r->req = api_retrieve(r->js->api, r->rec.video_id, r->rec.name, on_retrieved, r);
	}
}

/* A status word sorad does not know: the job goes on as running (job_timeout bounds
 * it), and each such word is logged once in the daemon's lifetime. */
static void odd_status(struct jrun *r, const struct video *v)
{
	struct jobs *js = r->js;
	const char *w = v->status_raw ? v->status_raw : "(unreadable)";
	for (size_t i = 0; i < js->n_odd_status; i++)
		if (!strcmp(js->odd_status[i], w))
			return;
	if (js->n_odd_status == ARRAY_LEN(js->odd_status))
		return; /* that many odd words: the first ones said enough */
	bcopy_str(js->odd_status[js->n_odd_status++], sizeof(js->odd_status[0]), w);
	log_event(LOG_WARNING, r->rec.name, r->rec.video_id,
	          "the service says status \"%s\", which sorad does not know: treating it as "
	          "still running (until job_timeout); not logged again",
	          w);
}

/*
 * The video V was just seen completed: how long its download link lives, on the
 * service's clock (the latest Date header) when sorad has it, else against the
 * video's own times (deadline.h), becomes a monotonic deadline from now; the window
 * and the wall time are recorded for a restart. The local wall clock is never
 * compared with expires_at.
 */
static void observe_expiry(struct jrun *r, const struct video *v)
{
	long long skew = 0;
	bool has = api_client_server_skew(r->js->api, &skew);
	/* the service's clock now: ours plus the skew its Date header showed */
	struct service_s server_now = {has ? jr_now_s() + skew : -1};
	long long w = deadline_window_s(
	    (struct service_s){v->expires_at}, server_now, (struct service_s){v->completed_at},
	    (struct service_s){v->created_at}, DEADLINE_DEFAULT_WINDOW_S);
	r->rec.dl_window_s = w;
	r->rec.dl_seen_at = jr_now_s();
	r->dl_deadline = loop_now_ms() + w * 1000;
	r->dl_fails = r->dl_gone = 0;
	log_event(LOG_DEBUG, r->rec.name, r->rec.video_id,
	          "download link valid for %lld s from now (%s)", w,
	          v->expires_at <= 0 ? "no expires_at: the default"
	          : has              ? "expires_at on the service's clock, from its Date header"
	                             : "expires_at counted from the video's own times");
}

/* R's video V was just seen completed: what the prediction cost, into the durations
 * observed, /metrics and the debug log (pollplan.h). */
static void plan_completed(struct jrun *r, const struct video *v)
{
	struct jobs *js = r->js;
	long long service_s = v->created_at > 0 && v->completed_at >= v->created_at
	                          ? v->completed_at - v->created_at
	                          : -1;
	struct pollplan_outcome o;
	if (!pollplan_completed(&r->pp, loop_now_ms(), service_s, &o))
		return;
	char key[POLLPLAN_KEY_MAX];
	pollplan_key(key, sizeof(key), r->rec.model, r->rec.size, r->rec.seconds);
	pollplan_learn(&js->durations, key, o.duration_ms);
	pollplan_count(&js->poll_stats, &o);
	if (o.predicted)
		log_event(LOG_DEBUG, r->rec.name, r->rec.video_id,
		          "completed after about %.2f s; predicted %.2f s (error %+.2f s); seen "
		          "%.2f s after finishing (at most %.2f s)",
		          (double)o.duration_ms / 1000,
		          (double)(r->pp.predicted_ms - r->pp.start_ms) / 1000,
		          (double)o.error_ms / 1000, (double)o.detect_ms / 1000,
		          (double)(loop_now_ms() - r->pp.open_ms) / 1000);
	else
		log_event(
		    LOG_DEBUG, r->rec.name, r->rec.video_id,
		    "completed after about %.2f s; no prediction; seen %.2f s after finishing "
		    "(at most %.2f s)",
		    (double)o.duration_ms / 1000, (double)o.detect_ms / 1000,
		    (double)(loop_now_ms() - r->pp.open_ms) / 1000);
}

/* The video's latest state V, from a retrieve or a list: on to the download, the
 * failure, or the next poll. */
static void polled(struct jrun *r, const struct video *v, long poll_after_ms)
{
	const struct conf *c = r->js->conf;
	int before = r->rec.progress;
	callback_missed(r, v);
	jr_take_video(r, v);
	/* Polling began in an earlier run: from when this machine recorded the create (the
	 * service's created_at is on its clock, which may be hours off ours). */
	if (!r->pp.start_ms)
		pollplan_resume(
		    &r->pp, loop_now_ms(),
		    r->rec.submit_at >= 0
		        ? deadline_elapsed_ms(wall_ms_of((struct wall_s){r->rec.submit_at}),
		                              (struct wall_ms){jr_now_ms_real()}, POLLPLAN_MAX_MS)
		        : -1);
	switch (v->status) {
	case VIDEO_COMPLETED:
		if (r->timer) /* a list showed it finished before its own poll came due */
			loop_timer_disarm(r->timer);
		plan_completed(r, v);
		r->rec.progress = 100;
		r->have = 0;
		observe_expiry(r, v);
		jr_set_state(r, JOB_DOWNLOADING);
		jr_start_download(r);
		jr_pump(r->js); /* its generation slot is free */
		return;
	case VIDEO_FAILED: {
		bool policy = api_code_is_content_policy(v->error_code);
		const char *m = v->error_message;
		if (policy)
			jr_fail_job(r, v->error_code, "%s\n\nWhat the service said: %s",
			            api_kind_describe(API_CONTENT_POLICY), m ? m : "(no details)");
		else
			jr_fail_job(
			    r, v->error_code ? v->error_code : "generation_failed",
			    "Video generation failed. Please try again with a different prompt."
			    "\n\nWhat the service said: %s",
			    m ? m : "(no details)");
		return;
	}
	case VIDEO_CANCELLED:
		jr_fail_job(r, "cancelled",
		            "The service cancelled the job, so no video was made. To try again, "
		            "drop the prompt into the inbox again.\n\nWhat the service said: %s",
		            v->error_message ? v->error_message : "(no details)");
		return;
	case VIDEO_EXPIRED:
		jr_fail_job(r, "expired",
		            "The video expired before it was downloaded: the service no longer "
		            "keeps it. To make it again, drop the prompt into the inbox again.%s%s",
		            v->error_message ? "\n\nWhat the service said: " : "",
		            v->error_message ? v->error_message : "");
		return;
	case VIDEO_UNKNOWN:
		odd_status(r, v);
		break;
	case VIDEO_QUEUED:
	case VIDEO_IN_PROGRESS:
		break;
	}
	if (r->rec.progress != before)
		jr_notify_observers(r->js, &r->rec, r->rec.state);
	/* The seed's schedule is the cap; the wait aims at the predicted finish. */
	long long delay = r->poll_ms ? r->poll_ms * 2 : (long long)c->poll_initial * 1000;
	if (delay > (long long)c->poll_max * 1000)
		delay = (long long)c->poll_max * 1000;
	r->poll_ms = delay;
	const struct caps *caps = api_client_caps(r->js->api);
	bool progress = caps_get(caps, CAPS_PROGRESS, NULL) != CAPS_NO;
	pollplan_running(&r->pp, loop_now_ms(), progress ? v->progress : -1);
	jr_schedule(r, callback_pace(r, pollplan_wait(&r->pp, loop_now_ms(), delay, poll_after_ms,
	                                              typical_ms(r))));
}

/* Whether C's creates carry a callback_url (proto_openrouter.c) to a listener of
 * sorad's: then callbacks are expected from the first job on (jobs.h). */
bool jr_callbacks_expected(const struct conf *c)
{
	return c && c->callback_url && c->callback_listen;
}

void jr_expect_callbacks(struct jobs *js)
{
	js->callbacks_live = true;
	log_info("callbacks: each create carries callback_url, so running jobs are polled "
	         "every %d s at most, as the fallback, until a poll finds a video ended that no "
	         "callback announced",
	         JOBS_CALLBACK_POLL_S);
}

/* ---- a refresh asked from outside (signed callbacks) ------------------------------ */

/* The wait before R's next poll: WAIT_MS, or JOBS_CALLBACK_POLL_S while callbacks
 * arrive, so that polling is only the fallback. */
static long long callback_pace(const struct jrun *r, long long wait_ms)
{
	long long fallback = JOBS_CALLBACK_POLL_S * 1000LL;
	return r->js->callbacks_live && wait_ms < fallback ? fallback : wait_ms;
}

/* A poll of R answered V: an end that no callback announced means callbacks are not
 * (or no longer) arriving, so polling goes back to its own pace until one does. */
static void callback_missed(struct jrun *r, const struct video *v)
{
	bool nudged = r->by_callback;
	r->by_callback = false;
	if (nudged || !r->js->callbacks_live || r->rec.state != JOB_RUNNING ||
	    v->status == VIDEO_QUEUED || v->status == VIDEO_IN_PROGRESS ||
	    v->status == VIDEO_UNKNOWN)
		return;
	r->js->callbacks_live = false;
	log_event(LOG_WARNING, r->rec.name, r->rec.video_id,
	          "a poll found the video ended before any callback said so: callbacks may "
	          "not be arriving (check the reverse proxy and callback_url); polling at the "
	          "usual pace again until one does");
}

static struct jrun *by_video_id(const struct jobs *js, const char *video_id)
{
	return jr_by_vid(js, video_id);
}

/* A callback event's "data" DATA[LEN] parsed into V by the protocol's own parser: 0,
 * or -1 (V released) when it is unreadable. */
static int event_video(const struct jobs *js, const char *data, size_t len, struct video *v)
{
	video_init(v);
	const struct proto *pr = proto_find(js->conf->api_protocol);
	char *poll_url = NULL, err[256];
	bool syntax = false;
	int rc =
	    pr && data ? pr->parse_video(v, &poll_url, data, len, &syntax, err, sizeof(err)) : -1;
	free(poll_url);
	if (rc != 0)
		video_release(v);
	return rc != 0 ? -1 : 0;
}

enum jobs_refresh_result jobs_callback_event(struct jobs *js, const char *video_id,
                                             const char *data, size_t len)
{
	struct jrun *r = by_video_id(js, video_id);
	if (!r || r->rec.state != JOB_RUNNING || r->req || r->committing || !js->api ||
	    js->api_blocked)
		return jobs_refresh_now(js, video_id);
	struct video v;
	if (event_video(js, data, len, &v) != 0)
		return jobs_refresh_now(js, video_id);
	bool ended = v.status == VIDEO_COMPLETED || v.status == VIDEO_FAILED ||
	             v.status == VIDEO_CANCELLED || v.status == VIDEO_EXPIRED;
	if (!ended || !v.id || strcmp(v.id, video_id) != 0) {
		video_release(&v);
		return jobs_refresh_now(js, video_id);
	}
	if (!js->callbacks_live)
		log_info("callbacks arrive: running jobs are polled every %d s at most, as the "
		         "fallback",
		         JOBS_CALLBACK_POLL_S);
	js->callbacks_live = true;
	if (r->timer) /* polled() schedules what comes next */
		loop_timer_disarm(r->timer);
	log_event(LOG_DEBUG, r->rec.name, r->rec.video_id,
	          "callback: the signed event says %s; taken as the service's answer, no "
	          "retrieve",
	          video_status_name(v.status));
	r->by_callback = true;
	polled(r, &v, -1);
	video_release(&v);
	return JOBS_REFRESH_APPLIED;
}

enum jobs_refresh_result jobs_refresh_now(struct jobs *js, const char *video_id)
{
	struct jrun *r = by_video_id(js, video_id);
	if (!r)
		return JOBS_REFRESH_UNKNOWN;
	if (!js->callbacks_live)
		log_info("callbacks arrive: running jobs are polled every %d s at most, as the "
		         "fallback",
		         JOBS_CALLBACK_POLL_S);
	js->callbacks_live = true;
	if (r->rec.state != JOB_RUNNING)
		return JOBS_REFRESH_NOT_RUNNING;
	if (r->req || r->committing || !js->api || js->api_blocked)
		return JOBS_REFRESH_PENDING;
	if (r->timer) /* this retrieve is the poll; polled() schedules the next */
		loop_timer_disarm(r->timer);
	log_event(LOG_DEBUG, r->rec.name, r->rec.video_id,
	          "callback: retrieving the video now instead of at its next poll");
	r->by_callback = true;
	r->req = api_retrieve(js->api, r->rec.video_id, r->rec.name, on_retrieved, r);
	return JOBS_REFRESH_STARTED;
}
