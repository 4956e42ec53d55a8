/*
 * jobs_submit.c — the create, where money is spent: the intent (state submitting,
 * creates + 1) made durable before the request exists, the bound on creates checked
 * where the request is made, and the answer: running, reconciled (in doubt), retried
 * or failed.
 */
#include "jobs_int.h"

#include "caps.h"
#include "catalog.h"
#include "inbox.h"
#include "log.h"
#include "util.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

static void send_create(struct jrun *r);
static void on_created(struct api_req *req, void *ud);

/* ---- submission ------------------------------------------------------------------ */

/* The intent to submit is durable: the create may go. */
static void on_intent_durable(void *ud, int err)
{
	struct jrun *r = ud;
	r->committing = false;
	if (err) {
		log_event(LOG_ERROR, r->rec.name, NULL,
		          "cannot record the intent to submit (%s); trying again in 30 s",
		          strerror(err));
		r->rec.creates--; /* never sent: it is not counted (the next intent counts it) */
		jr_set_state(r, JOB_CLAIMED);
		jr_schedule(r, 30000);
		return;
	}
	if (!r->js->api)
		return; /* suspended: jobs_set_api resumes it from its record (reconciling) */
	send_create(r);
}

/*
 * The group commit an intent to submit goes through. The main one carries a turn's
 * bulk (records of jobs moving on, downloads, usage lines) and can take a while on a
 * slow disk; an intent goes through the second, small one unless the job's record
 * still has an older change in the main one (a record never overtakes an older
 * change), which is also always the case for a job claimed in this batch: all the
 * records of its claim are there, and they must be durable before any of its creates.
 */
static struct commit *intent_commit(const struct jrun *r)
{
	const struct jobs *js = r->js;
	return jr_record_commit(js, r->rec.name, js->intents ? js->intents : js->commit);
}

/*
 * Money. A job may send a create only while creates < creates_allowed (job.h); the
 * allowance grows only when a create is proven to have made nothing (void_create) or
 * the user said --resubmit. create_allowed() is asked where the request is made
 * (send_create) as well as where the intent is recorded (submit).
 */
static bool create_allowed(const struct job *j)
{
	return j->creates < j->creates_allowed && j->creates < JOB_CREATES_MAX;
}

/* Create number K of R (from 1) made nothing: it costs nothing, and one more may go. */
void jr_void_create(struct jrun *r, unsigned k)
{
	if (k >= 1 && k <= JOB_CREATES_MAX)
		r->rec.creates_void |= 1u << (k - 1);
	if (r->rec.creates_allowed < r->rec.creates + 1)
		r->rec.creates_allowed = r->rec.creates + 1;
}

/* What the latest create got back (job.h, create_answer); saved with the next change. */
void jr_set_story(struct jrun *r, const char *story)
{
	free(r->rec.create_answer);
	r->rec.create_answer = story ? xstrdup(story) : NULL;
}

/* What a create got back, in plain words, for the story of a job in doubt. */
void jr_describe_answer(const struct api_result *res, char *buf, size_t size)
{
	const char *msg = res->error.message ? res->error.message : "";
	if (res->http_status >= 200 && res->http_status < 300)
		bfmt(buf, size, "HTTP %ld with an answer sorad cannot use (%s)", res->http_status,
		     *msg ? msg : "no usable video");
	else if (res->http_status > 0 && !strncmp(msg, "HTTP ", 5))
		bfmt(buf, size, "%s", msg); /* api.c said "HTTP N: the body" already */
	else if (res->http_status > 0)
		bfmt(buf, size, "HTTP %ld%s%s", res->http_status, *msg ? ": " : "", msg);
	else
		bfmt(buf, size, "no answer (%s)", *msg ? msg : curl_easy_strerror(res->curl_code));
}

void jr_submit(struct jrun *r)
{
	const struct caps *caps = api_client_caps(r->js->api);
	if (r->rec.remix_video_id && !caps_has(caps, CAPS_REMIX)) {
		/* Known not to work (configured, or a "not supported" answer): nothing is sent. */
		char known[300];
		caps_explain(caps, CAPS_REMIX, known, sizeof(known));
		jr_fail_job(
		    r, "remix_unsupported",
		    "The service cannot remix videos (%s). Nothing was sent and nothing was "
		    "spent.\n\nTo make this video, drop it as a new prompt (without remix_of).",
		    known);
		return;
	}
	if (!create_allowed(&r->rec)) {
		/* Every path that allows another create raised the allowance first. */
		log_event(LOG_ERROR, r->rec.name, NULL,
		          "refusing to send create %u: only %u allowed for this job",
		          r->rec.creates + 1, r->rec.creates_allowed);
		jr_doubt(r, "sorad's own bound on creates per job stopped a further create");
		return;
	}
	r->rec.submit_at = jr_now_s();
	r->submit_mono = loop_now_ms();
	r->rec.attempts++;
	r->rec.creates++; /* counted durably, with the intent, before the request exists */
	jr_set_story(r, NULL);
	/* The intent is durable before the request can reach the server. */
	struct commit *cm = intent_commit(r);
	if (jr_set_state_in(r, JOB_SUBMITTING, cm) != 0) {
		r->rec.creates--;
		jr_set_state(r, JOB_CLAIMED);
		jr_schedule(r, 30000);
		return;
	}
	jr_after_commit_in(r, cm, on_intent_durable);
}

static void send_create(struct jrun *r)
{
	struct jobs *js = r->js;
	/* The bound, where the request is made: this create was counted (creates) when
	 * its intent was recorded, and must be within the allowance. */
	if (r->rec.state != JOB_SUBMITTING || r->rec.creates == 0 ||
	    r->rec.creates > r->rec.creates_allowed) {
		log_event(LOG_ERROR, r->rec.name, NULL,
		          "refusing to send a create: %u sent of %u allowed, state %s",
		          r->rec.creates, r->rec.creates_allowed, job_state_name(r->rec.state));
		jr_doubt(r, "sorad's own bound on creates per job stopped a further create");
		return;
	}
	if (r->rec.remix_video_id) {
		r->req = api_remix(js->api, r->rec.remix_video_id, r->rec.prompt, r->rec.name,
		                   on_created, r);
		return;
	}
	char secs[16], ref[PATH_MAX] = "", last[PATH_MAX] = "", id[128];
	bfmt(secs, sizeof(secs), "%u", r->rec.seconds);
	jr_claim_of(&r->rec, id, sizeof(id));
	if (r->rec.reference)
		inbox_claim_path(js->conf, id, r->rec.reference, ref, sizeof(ref));
	if (r->rec.last_frame)
		inbox_claim_path(js->conf, id, r->rec.last_frame, last, sizeof(last));
	struct api_create_params p = {
	    .prompt = r->rec.prompt,
	    .model = r->rec.model,
	    .seconds = secs,
	    .size = r->rec.size,
	    .size_as_is = catalog_takes_size(catalog_current(), r->rec.model, r->rec.size),
	    .input_reference = ref[0] ? ref : NULL,
	    .last_frame = last[0] ? last : NULL,
	    .has_seed = r->rec.has_seed,
	    .seed = r->rec.seed,
	    .audio = (enum api_audio)r->rec.audio,
	    .options_json = r->rec.options,
	    .callback_url = js->conf->callback_url,
	    .previous_job_id = r->rec.extend_job_id};
	r->req = api_create(js->api, &p, r->rec.name, on_created, r);
}

/* Back to the queue for a later attempt, or failed once attempts are used up. */
static void retry_later(struct jrun *r, const struct api_result *res, const char *doing)
{
	if (r->rec.attempts >= JOBS_MAX_SUBMITS) {
		jr_fail_from_api(r, res, doing);
		return;
	}
	long long delay = jr_claimed_backoff_ms(r->rec.attempts);
	/* the server's retry-after, bounded by retry_after_max_s (api.c) */
	if (res->retry_after_ms > delay)
		delay = res->retry_after_ms;
	r->next_mono = loop_now_ms() + delay;
	r->rec.next_at_ms = jr_now_ms_real() + delay; /* for a restart (clocks_from_record) */
	jr_set_state(r, JOB_CLAIMED);
	log_event(LOG_WARNING, r->rec.name, NULL, "%s failed (%s); trying again in %lld s", doing,
	          api_kind_name(res->kind), delay / 1000);
	jr_schedule(r, delay);
	jr_pump(r->js);
}

static void on_created(struct api_req *req, void *ud)
{
	struct jrun *r = ud;
	struct api_result *res = api_req_result(req);
	r->req = NULL;
	const char *doing = r->rec.remix_video_id ? "remixing" : "submitting";
	if (res->kind == API_OK && res->has_video && res->spend == SPEND_MADE) {
		jr_set_story(r, NULL);
		jr_take_video(r, &res->video);
		r->rec.attempts = 0;
		jr_set_state(r, JOB_RUNNING);
		log_event(LOG_INFO, r->rec.name, r->rec.video_id, "created (%s, %s, %u s)",
		          r->rec.model, r->rec.size, r->rec.seconds);
		jr_start_polling(r, res);
		return;
	}
	if (res->spend != SPEND_REFUSED) {
		/* The service may have made the video: find it before sending anything again. */
		char story[1024];
		jr_describe_answer(res, story, sizeof(story));
		jr_set_story(r, story);
		jr_set_state(r, JOB_SUBMITTING); /* the story survives a restart */
		log_event(LOG_WARNING, r->rec.name, NULL,
		          "the create may have made a video (%s); reconciling before anything is "
		          "sent again",
		          story);
		jr_reconcile(r);
		return;
	}
	/* An explicit refusal, or nothing was sent: this create made nothing. */
	jr_set_story(r, NULL);
	jr_void_create(r, r->rec.creates);
	switch (res->kind) {
	case API_CONFIG:
		log_event(LOG_ERROR, r->rec.name, NULL,
		          "the API refused sorad's credentials or address (HTTP %ld): %s. "
		          "Submissions are paused until the configuration is fixed and reloaded "
		          "(SIGHUP)",
		          res->http_status, api_kind_describe(res->kind));
		r->js->api_blocked = true;
		jr_set_state(r, JOB_CLAIMED);
		jr_set_queued(r, true); /* resumes after the reload */
		return;
	case API_RATE_LIMITED:
	case API_TRANSIENT:
		retry_later(r, res, doing);
		return;
	default:
		jr_fail_from_api(r, res, doing);
		return;
	}
}
