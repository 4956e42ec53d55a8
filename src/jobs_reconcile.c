/*
 * jobs_reconcile.c — a create whose outcome is unknown (reconcile.h): the service's
 * list searched for its video, which is adopted; a create proven void is sent again;
 * anything else waits in doubt for the user's decision (jobs_resolve) or the
 * configured hours (in_doubt_resubmit_hours).
 */
#include "jobs_int.h"

#include "caps.h"
#include "log.h"
#include "reconcile.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

static void adopt(struct jrun *r, const struct video *v, const char *how);
static void on_list(struct api_req *req, void *ud);

/* ---- reconciliation of a create whose outcome is unknown (reconcile.h) ------------ */

/* A job in doubt that waits for the user (a dropped one is a failure in progress). */
bool jr_waiting_in_doubt(const struct job *j)
{
	return j->state == JOB_IN_DOUBT && j->error_code && !strcmp(j->error_code, JOBS_DOUBT);
}

static void clear_reconcile(struct jrun *r)
{
	free(r->list_after);
	r->list_after = NULL;
	free(r->scan);
	r->scan = NULL;
	r->list_failures = 0;
}

/* The decisions a job in doubt waits for, as the lines that end its reason. */
const char *jr_decide_help(const char *name, char *buf, size_t size)
{
	bfmt(buf, size,
	     "Nothing more is sent for this job until you decide:\n"
	     "  sorad resolve %s --adopt VIDEO_ID   if the provider's dashboard shows its video\n"
	     "  sorad resolve %s --resubmit         to create it again (a second charge if the "
	     "first was made)\n"
	     "  sorad resolve %s --drop             to give it up (its input goes to failed/)",
	     name, name, name);
	return buf;
}

/*
 * Parks R in doubt: its latest create may have spent money and nothing proves it did
 * not. WHY says why it cannot be proven. Nothing is sent until the user decides
 * (jobs_resolve) or in_doubt_resubmit_hours pass.
 */
void jr_doubt(struct jrun *r, const char *why)
{
	struct jobs *js = r->js;
	char when[64] = "an unknown time", text[4096], help[1024];
	time_t t = (time_t)r->rec.submit_at;
	struct tm tm;
	if (r->rec.submit_at >= 0 && gmtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm);
	bfmt(text, sizeof(text),
	     "The service may have made this video (and charged for it), and sorad cannot prove "
	     "that it did not. %s %u for %s (%s, %s, %u s) was sent at %s; what came back: %s. "
	     "%s%s\n\n%s",
	     r->rec.remix_video_id ? "Remix" : "Create", r->rec.creates, r->rec.name,
	     r->rec.model ? r->rec.model : "?", r->rec.size ? r->rec.size : "?", r->rec.seconds,
	     when,
	     r->rec.create_answer ? r->rec.create_answer
	                          : "nothing (sorad stopped while it was in flight)",
	     why, why[0] && why[strlen(why) - 1] != '.' ? "." : "",
	     jr_decide_help(r->rec.name, help, sizeof(help)));
	free(r->rec.error);
	r->rec.error = xstrdup(text);
	free(r->rec.error_code);
	r->rec.error_code = xstrdup(JOBS_DOUBT);
	r->rec.next_at_ms = jr_now_ms_real(); /* in doubt since: for a restart */
	r->doubt_mono = loop_now_ms();        /* ...and for in_doubt_resubmit_hours */
	clear_reconcile(r);
	jr_set_queued(r, false);
	if (r->timer)
		loop_timer_disarm(r->timer);
	log_event(LOG_WARNING, r->rec.name, NULL, "in doubt: %s", why);
	jr_set_state(r, JOB_IN_DOUBT);
	if (js->conf->in_doubt_resubmit_hours)
		jr_schedule(r, (long long)js->conf->in_doubt_resubmit_hours * 3600000LL);
	jr_pump(js);
}

static bool owned_by_other(const struct jobs *js, const struct jrun *r, const char *id)
{
	return jr_vid_owned_by_other(js, r, id);
}

static bool owned_cb(const char *id, void *ud)
{
	const struct jrun *r = ud;
	return owned_by_other(r->js, r, id);
}

void jr_reconcile(struct jrun *r)
{
	/* A list the service is known not to have, or whose videos carry no prompt, cannot
	 * prove anything (caps.h): in doubt now, not after the wait and a list call. */
	const struct caps *caps = api_client_caps(r->js->api);
	bool no_list = !caps_has(caps, CAPS_LIST);
	bool first = !r->scan || r->scan->pages == 0;
	if (first && (no_list || !caps_has(caps, CAPS_LIST_PROMPTS))) {
		char known[300], why[512];
		caps_explain(caps, no_list ? CAPS_LIST : CAPS_LIST_PROMPTS, known, sizeof(known));
		if (no_list)
			bfmt(why, sizeof(why), "The service has no list of videos to check (%s)",
			     known);
		else
			bfmt(why, sizeof(why),
			     "The service's list does not include prompts (%s), so "
			     "it cannot show whether this create made a video",
			     known);
		jr_doubt(r, why);
		return;
	}
	/* Give a create that was on the wire when the answer was lost time to land, so
	 * the list below can see it. */
	long long wait_ms = r->submit_mono + (1 + JOBS_RECONCILE_DELAY_S) * 1000LL - loop_now_ms();
	if (first && wait_ms > 0) {
		jr_schedule(r, wait_ms);
		return;
	}
	struct api_list_params p = {.limit = 100, .after = r->list_after, .order = "desc"};
	r->req = api_list(r->js->api, &p, on_list, r);
}

/* The service proved that the latest create made nothing: it may be sent again. */
static void absent(struct jrun *r)
{
	clear_reconcile(r);
	if (r->rec.creates >= JOBS_MAX_SUBMITS) {
		/* Every one of them "proven" void: a list that keeps proving absence is more
		 * likely wrong than a service that keeps failing after 5xx answers. */
		char why[256];
		bfmt(why, sizeof(why),
		     "The service's list says none of this job's %u creates made a video; after "
		     "that many, sorad stops and asks rather than trusting the list again",
		     r->rec.creates);
		jr_doubt(r, why);
		return;
	}
	jr_void_create(r, r->rec.creates);
	log_event(
	    LOG_INFO, r->rec.name, NULL,
	    "reconciled: the service has no video for this job (its list proves create %u made "
	    "none); submitting it again",
	    r->rec.creates);
	jr_requeue(r);
}

static void adopt(struct jrun *r, const struct video *v, const char *how)
{
	log_event(LOG_INFO, r->rec.name, v->id, "%s", how);
	clear_reconcile(r);
	jr_set_story(r, NULL);
	jr_take_video(r, v);
	r->rec.attempts = 0;
	jr_set_state(r, JOB_RUNNING);
	jr_start_polling(r, NULL);
}

static void on_list(struct api_req *req, void *ud)
{
	struct jrun *r = ud;
	struct api_result *res = api_req_result(req);
	r->req = NULL;
	char why[1024];
	if (res->kind != API_OK || !res->has_list) {
		const char *msg =
		    res->error.message ? res->error.message : api_kind_name(res->kind);
		if (res->kind == API_CONFIG) {
			r->js->api_blocked = true;
			log_event(LOG_WARNING, r->rec.name, NULL,
			          "cannot list videos to reconcile (%s); trying again in 30 s",
			          msg);
			jr_schedule(r, 30000);
			return;
		}
		if (reconcile_list_unsupported(res->http_status, msg)) {
			bfmt(why, sizeof(why),
			     "The service has no list of videos to check (HTTP %ld: %s)",
			     res->http_status, msg);
			jr_doubt(r, why);
			return;
		}
		/* A list that answers with something sorad cannot read will not read better
		 * later; a lost or refused one may. */
		bool may_pass = res->kind == API_TRANSIENT || res->kind == API_RATE_LIMITED;
		if (may_pass && ++r->list_failures < JOBS_RECONCILE_LIST_TRIES) {
			/* Never resubmit without an answer: try the list again later. */
			log_event(LOG_WARNING, r->rec.name, NULL,
			          "cannot list videos to reconcile (%s); trying again in %d s", msg,
			          JOBS_RECONCILE_RETRY_S);
			jr_schedule(r, JOBS_RECONCILE_RETRY_S * 1000LL);
			return;
		}
		char answer[600];
		jr_describe_answer(res, answer, sizeof(answer));
		if (may_pass)
			bfmt(why, sizeof(why),
			     "Listing the service's videos failed %u times "
			     "(last: %s)",
			     r->list_failures, answer);
		else
			bfmt(why, sizeof(why),
			     "The service's list of videos could not be used (%s)", answer);
		jr_doubt(r, why);
		return;
	}
	/* The service's times are on its own clock: the intent is placed on it with the
	 * skew its Date header shows (a clock hours behind would otherwise hide the video
	 * and make older ones look like proof of absence). */
	struct job view = r->rec;
	if (res->has_skew && view.submit_at >= 0)
		view.submit_at += res->server_skew_s;
	if (res->has_skew && (res->server_skew_s > JOBS_RECONCILE_SLACK_S ||
	                      res->server_skew_s < -JOBS_RECONCILE_SLACK_S))
		log_event(LOG_INFO, r->rec.name, NULL,
		          "the service's clock is %lld s off this machine's; matching on its clock",
		          res->server_skew_s);
	const struct video *v = NULL;
	if (!r->scan)
		r->scan = xcalloc(1, sizeof(*r->scan));
	switch (reconcile_page(r->scan, r->js->conf, &view, &res->list, JOBS_RECONCILE_SLACK_S,
	                       JOBS_RECONCILE_PAGES, owned_cb, r, &v, why, sizeof(why))) {
	case RECONCILE_ADOPT:
		adopt(r, v, "reconciled: the lost create had made this video; adopting it");
		return;
	case RECONCILE_NEXT_PAGE:
		free(r->list_after);
		r->list_after = xstrdup(res->list.last_id);
		jr_reconcile(r);
		return;
	case RECONCILE_ABSENT:
		absent(r);
		return;
	case RECONCILE_UNPROVEN:
		if (why[0] >= 'a' && why[0] <= 'z')
			why[0] = (char)(why[0] - 'a' + 'A');
		jr_doubt(r, why);
		return;
	}
}

/* ---- in doubt: the user's decision ------------------------------------------------- */

void jr_auto_resubmit(struct jrun *r)
{
	unsigned hours = r->js->conf->in_doubt_resubmit_hours;
	if (!jr_waiting_in_doubt(&r->rec) || !hours || !r->js->api)
		return;
	long long due = r->doubt_mono + (long long)hours * 3600000LL;
	long long left = due - loop_now_ms();
	if (left > 0) {
		jr_schedule(r, left);
		return;
	}
	char why[256];
	log_event(LOG_WARNING, r->rec.name, NULL,
	          "in doubt for more than %u h: resubmitting as configured "
	          "(in_doubt_resubmit_hours)",
	          hours);
	jobs_resolve(r->js, r->rec.name, JOBS_RESOLVE_RESUBMIT, NULL, why, sizeof(why));
}

int jobs_resolution_parse(const char *s, enum jobs_resolve_how *how, const char **video_id)
{
	*video_id = NULL;
	if (!s)
		return -1;
	if (!strcmp(s, "resubmit")) {
		*how = JOBS_RESOLVE_RESUBMIT;
		return 0;
	}
	if (!strcmp(s, "drop")) {
		*how = JOBS_RESOLVE_DROP;
		return 0;
	}
	if (!strncmp(s, "adopt:", 6) && video_id_is_safe(s + 6)) {
		*how = JOBS_RESOLVE_ADOPT;
		*video_id = s + 6;
		return 0;
	}
	return -1;
}

int jobs_resolve(struct jobs *js, const char *name, enum jobs_resolve_how how, const char *video_id,
                 char *why, size_t whylen)
{
	struct jrun *r = jr_by_name_or_id(js, name);
	if (!r) {
		bfmt(why, whylen, "no job is named %s", name);
		return -1;
	}
	if (!jr_waiting_in_doubt(&r->rec)) {
		bfmt(why, whylen, "job %s is not in doubt (it is %s)", r->rec.name,
		     job_state_name(r->rec.state));
		return -1;
	}
	if (how == JOBS_RESOLVE_ADOPT) {
		if (!video_id_is_safe(video_id)) {
			bfmt(why, whylen, "%s is not a video id sorad can use",
			     video_id ? video_id : "(none)");
			return -1;
		}
		if (owned_by_other(js, r, video_id)) {
			bfmt(why, whylen, "video %s belongs to another job", video_id);
			return -1;
		}
	}
	if (r->timer)
		loop_timer_disarm(r->timer);
	free(r->rec.resolution);
	r->rec.resolution = NULL;
	r->rec.next_at_ms = 0;
	r->next_mono = 0;
	switch (how) {
	case JOBS_RESOLVE_ADOPT: {
		struct video v;
		video_init(&v);
		v.id = (char *)video_id; /* borrowed: take_video copies it */
		v.status = VIDEO_QUEUED;
		jr_clear_error(r);
		adopt(r, &v, "resolved by the user: adopting this video");
		return 0;
	}
	case JOBS_RESOLVE_RESUBMIT:
		jr_clear_error(r);
		/* The create in doubt stays counted (unconfirmed): it may have been made. */
		r->rec.creates_allowed = r->rec.creates + 1;
		r->rec.attempts = 0;
		log_event(LOG_WARNING, r->rec.name, NULL,
		          "resolved: a second create is allowed (create %u may also have been "
		          "made and charged)",
		          r->rec.creates);
		jr_requeue(r);
		return 0;
	case JOBS_RESOLVE_DROP: {
		const char *story = r->rec.error ? r->rec.error : "";
		const char *para = strstr(story, "\n\n");
		char *keep = xstrdup(story);
		if (para)
			keep[para - story] = '\0';
		jr_fail_job(
		    r, JOBS_DOUBT "_dropped",
		    "Dropped by the user while in doubt. %s\n\nIf the service made the video, "
		    "it may still be in the provider's dashboard.",
		    keep);
		free(keep);
		return 0;
	}
	}
	bfmt(why, whylen, "unknown decision");
	return -1;
}
