/* daemon.c — the daemon's lifetime and its event loop wiring (see daemon.h). */
#include "daemon.h"
#include "api.h"
#include "callback.h"
#include "caps.h"
#include "catalog.h"
#include "commit.h"
#include "conf.h"
#include "confpath.h"
#include "control.h"
#include "fsutil.h"
#include "httpd.h"
#include "jobs.h"
#include "log.h"
#include "loop.h"
#include "notify.h"
#include "ready_note.h"
#include "outbox.h"
#include "sdnotify.h"
#include "strays.h"
#include "usage.h"
#include "usage_loader.h"
#include "util.h"
#include "watch.h"

#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

struct daemon {
	struct conf *conf;
	const char *conf_path;
	bool foreground;
	struct loop *loop;
	struct loop_timer *curl_timer;
	struct loop_timer *watchdog;
	long long watchdog_ms;
	struct api_client *api;
	struct jobs *jobs;
	struct watch *watch;
	int lock_fd;
	struct httpd *httpd;        /* the status endpoint, NULL when off */
	struct callback *callback;  /* the signed callbacks' listener, NULL when off */
	struct api_stats api_stats; /* outlives each API client, for /metrics */
	struct caps caps;           /* what the service can do; outlives each API client */
	struct control *control;    /* commands' requests (control.h) */
	struct control_target target;
	struct usage *usage;           /* the usage log and caps (usage.h): usage_of */
	struct usage_loader *usage_ld; /* ...while it loads at start (usage_loader.h) */
	struct loop_timer *cap_timer;  /* armed only while a job is held by a cap */
	bool cap_announced;            /* "cap reached" said since the last release */
	struct notifier *notifier;     /* desktop notifications (notify.h) */
	struct ready_notes *ready;     /* "Video ready" waiting for its image (ready_note.h) */
	struct strays *strays;         /* images in the inbox no prompt took (strays.h) */
	struct commit *commit;         /* the group commit of each loop turn (commit.h) */
	struct commit *intents;        /* its fast lane for intents to submit (jobs.h) */
};

/* ---- libcurl's sockets and timer, through the loop (ephiperfifo.c's shape) ---- */

static void on_curl_fd(int fd, uint32_t events, void *ud)
{
	struct daemon *d = ud;
	int bits = 0;
	if (events & EPOLLIN)
		bits |= CURL_CSELECT_IN;
	if (events & EPOLLOUT)
		bits |= CURL_CSELECT_OUT;
	if (events & (EPOLLERR | EPOLLHUP))
		bits |= CURL_CSELECT_ERR;
	api_client_socket_action(d->api, fd, bits);
}

static void curl_watch(int fd, int what, void *ud)
{
	struct daemon *d = ud;
	if (what == CURL_POLL_REMOVE) {
		loop_unwatch(d->loop, fd);
		return;
	}
	uint32_t ev = 0;
	if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
		ev |= EPOLLIN;
	if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
		ev |= EPOLLOUT;
	loop_watch(d->loop, fd, ev, on_curl_fd, d);
}

static void curl_timer(long ms, void *ud)
{
	struct daemon *d = ud;
	if (ms < 0)
		loop_timer_disarm(d->curl_timer);
	else
		loop_timer_arm(d->curl_timer, ms);
}

static void on_curl_timer(void *ud)
{
	struct daemon *d = ud;
	api_client_timeout(d->api);
}

static struct api_client *make_api(struct daemon *d)
{
	struct api_loop_hooks hooks = {.watch = curl_watch, .timer = curl_timer, .ud = d};
	struct api_client *c = api_client_new(d->conf, &hooks);
	api_client_set_stats(c, &d->api_stats);
	/* A reload applies the new settings and keeps what was learned (caps.h). */
	caps_configure(&d->caps, d->conf->api_base, d->conf->api_profile, d->conf->caps);
	api_client_set_caps(c, &d->caps);
	return c;
}

/* ---- status ------------------------------------------------------------------------ */

static void report_status(struct daemon *d)
{
	/* Jobs in doubt wait for the user: named only when there are some. */
	size_t doubt = jobs_count(d->jobs, JOB_IN_DOUBT);
	char extra[64] = "";
	if (doubt)
		bfmt(extra, sizeof(extra), ", %zu in doubt (sorad resolve)", doubt);
	sdn_send("STATUS=%zu queued, %zu in flight, %zu done, %zu failed%s",
	         jobs_count(d->jobs, JOB_CLAIMED) + jobs_count(d->jobs, JOB_WAITING),
	         jobs_count(d->jobs, JOB_SUBMITTING) + jobs_count(d->jobs, JOB_RUNNING) +
	             jobs_count(d->jobs, JOB_DOWNLOADING),
	         jobs_count(d->jobs, JOB_DONE), jobs_count(d->jobs, JOB_FAILED), extra);
}

static void on_job_change(const struct job *j, enum job_state before, void *ud)
{
	struct daemon *d = ud;
	if (j->reference) /* an image a job took is no stray, also when it stays (shared) */
		strays_forget(d->strays, j->reference);
	httpd_job_changed(d->httpd, j, before);
	if (j->state != before)
		report_status(ud);
}

/* ---- usage and caps ---------------------------------------------------------------- */

/*
 * The usage log follows J's record (usage.h): each create sent counts from the moment
 * its intent is recorded, unconfirmed ("sent"), until its outcome is known: "void"
 * when proven to have made nothing (creates_void), "created" when it is the latest
 * create and the job has its video (the create's own, or the one the user adopted);
 * an older create that made a video keeps it.
 * Called on every change of a job and for every record at start (the repair): noting
 * a create in the state it has is a no-op.
 *
 * Periods go by this machine's clock when the create was sent. The record keeps only
 * the latest create's time (submit_at), so an older create noted for the first time
 * here (after a crash lost its line) is dated at submit_at as well: a little late,
 * which may count it in today instead of yesterday, never the reverse. A create noted
 * while it was the latest keeps the time it was noted with.
 */
/* The usage log, once its load at start is over (it runs beside the records'). */
static struct usage *usage_of(struct daemon *d)
{
	if (d->usage_ld) {
		d->usage = usage_loader_wait(d->usage_ld);
		d->usage_ld = NULL;
	}
	return d->usage;
}

static void record_usage(struct daemon *d, const struct job *j)
{
	struct usage *u = usage_of(d);
	long long now = (long long)time(NULL);
	long long at = j->submit_at >= 0 ? j->submit_at : j->claimed_at >= 0 ? j->claimed_at : now;
	if (j->creates == 0) {
		/* A record from before the create count: its video, keyed by video id. */
		if (j->video_id &&
		    (j->state == JOB_RUNNING || j->state == JOB_DOWNLOADING ||
		     j->state == JOB_DONE) &&
		    !usage_has(u, j->video_id) &&
		    usage_record(u, j, j->submit_at >= 0 ? j->submit_at : now, d->commit) < 0)
			jobs_repair_at_start(d->jobs);
		return;
	}
	/* The video is the latest create's once the job is past sending it (a record may
	 * keep an older create's video while a new one is sent). */
	bool has_video = j->video_id && j->state != JOB_SUBMITTING && j->state != JOB_IN_DOUBT;
	for (unsigned k = 1; k <= j->creates && k <= JOB_CREATES_MAX; k++) {
		enum usage_state s = USAGE_SENT;
		if (j->creates_void & (1u << (k - 1)))
			s = USAGE_VOID;
		else if (k == j->creates && has_video)
			s = USAGE_CREATED;
		else if (usage_create_state(u, j, k) == USAGE_CREATED)
			continue; /* an older create that made a video stays counted with it */
		if (usage_note_create(u, j, k, s, j->video_id, at, d->commit) < 0)
			jobs_repair_at_start(
			    d->jobs); /* the next start repairs it from every record */
	}
}

/* Whether J's spending is in the usage log already: its latest create is noted, or
 * (an older record) its video is. */
static bool usage_noted(const struct usage *u, const struct job *j)
{
	return (j->creates && usage_create_state(u, j, j->creates) >= 0) ||
	       usage_has(u, j->video_id);
}

/* The next local midnight, when a daily cap lifts (a monthly one on the 1st). */
static void arm_cap_timer(struct daemon *d)
{
	time_t now = time(NULL);
	long long ms = (usage_next_day(now) - (long long)now) * 1000 + 1000;
	loop_timer_arm(d->cap_timer, ms > 1000 ? ms : 1000);
}

static bool notify_on(const struct daemon *d, unsigned event)
{
	return d->conf->notify && (d->conf->notify_events & event);
}

/* The reason in a notification: the error's first paragraph (the rest is in
 * NAME.error.txt, or on the status page), into body[n]. */
static void first_paragraph(const char *error, char *body, size_t n)
{
	const char *e = error ? error : "unknown reason";
	const char *para = strstr(e, "\n\n");
	size_t len = para ? (size_t)(para - e) : strlen(e);
	bfmt(body, n, "%.*s", (int)(len < n ? len : n - 1), e);
}

/* "Video ready" / "Video failed" when a job reaches its end; "Video in doubt" when a
 * create may have spent money and the job waits for the user (`sorad resolve`). */
static void on_job_notify(const struct job *j, enum job_state before, void *ud)
{
	struct daemon *d = ud;
	if (j->state == before)
		return;
	char summary[PATH_MAX], body[1024];
	if (j->state == JOB_DONE && notify_on(d, NOTIFY_EV_READY)) {
		char video[PATH_MAX];
		bfmt(summary, sizeof(summary), "Video ready: %s", j->name);
		bfmt(body, sizeof(body), "%s, %s, %u s", j->model, j->size, j->seconds);
		if (bfmt(video, sizeof(video), "%s/%s.mp4", d->conf->outbox, j->name))
			return;
		if (!d->ready)
			d->ready = ready_notes_new(d->loop, d->notifier);
		ready_notes_send(d->ready, d->conf, j->name, summary, body, video);
	} else if (j->state == JOB_FAILED && notify_on(d, NOTIFY_EV_FAILED)) {
		bfmt(summary, sizeof(summary), "Video failed: %s", j->name);
		first_paragraph(j->error, body, sizeof(body));
		notifier_send(d->notifier, summary, body, NULL, NULL, 1);
	} else if (j->state == JOB_IN_DOUBT && notify_on(d, NOTIFY_EV_DOUBT)) {
		bfmt(summary, sizeof(summary), "Video in doubt: %s", j->name);
		first_paragraph(j->error, body, sizeof(body));
		notifier_send(d->notifier, summary, body, NULL, NULL, 1);
	}
}

static void on_job_usage(const struct job *j, enum job_state before, void *ud)
{
	struct daemon *d = ud;
	record_usage(d, j);
	if (j->state == JOB_HELD && before != JOB_HELD && j->error_code &&
	    !strcmp(j->error_code, JOBS_HOLD_CAP)) {
		if (!loop_timer_armed(d->cap_timer))
			arm_cap_timer(d);
		if (!d->cap_announced) {
			d->cap_announced = true;
			log_warn("usage cap reached: %s; jobs are held (not failed) until the next "
			         "period or a reload with a higher cap",
			         j->error ? j->error : "");
			if (notify_on(d, NOTIFY_EV_CAP))
				notifier_send(d->notifier, "Usage cap reached",
				              j->error ? j->error : "", NULL, NULL, 0);
		}
	}
}

/* What creates in flight may cost that the usage log does not have yet (cap_gate). */
struct pending {
	const struct usage *u;
	const struct job *j; /* the job asking */
	unsigned long long s;
	double usd;
};

static void add_pending(const struct job *o, void *ud)
{
	struct pending *p = ud;
	if (o != p->j &&
	    (o->state == JOB_SUBMITTING || o->state == JOB_IN_DOUBT || o->state == JOB_RUNNING ||
	     o->state == JOB_DOWNLOADING) &&
	    !usage_noted(p->u, o)) {
		p->s += o->seconds;
		p->usd += o->cost_usd;
	}
}

/* Whether J may be submitted now: what was spent or may have been (the usage log),
 * plus creates in flight that the log does not have yet. */
static int cap_gate(const struct job *j, char *why, size_t whylen, void *ud)
{
	struct daemon *d = ud;
	struct pending p = {usage_of(d), j, 0, 0};
	jobs_each_live(d->jobs, add_pending, &p); /* finished jobs are never pending */
	return usage_check(usage_of(d), d->conf, j->seconds, j->cost_usd, p.s, p.usd, time(NULL),
	                   why, whylen);
}

static void held_by_cap(const struct job *j, void *ud)
{
	if (j->state == JOB_HELD && j->error_code && !strcmp(j->error_code, JOBS_HOLD_CAP))
		*(bool *)ud = true;
}

/* jobs_each_whole's callback at start: the usage log repaired from a record. */
static void repair_usage(const struct job *j, void *ud)
{
	record_usage(ud, j);
}

/* A new period or new caps: held jobs go while the caps allow. */
static void release_held(struct daemon *d)
{
	size_t n = jobs_release_held(d->jobs);
	if (n)
		log_info("usage: %zu held job(s) released", n);
	if (jobs_count(d->jobs, JOB_HELD) == 0 || n)
		d->cap_announced = false;
	bool still = false;
	jobs_each_live(d->jobs, held_by_cap, &still); /* held jobs are not finished */
	if (still)
		arm_cap_timer(d);
	else
		loop_timer_disarm(d->cap_timer);
}

static void on_cap_timer(void *ud)
{
	struct daemon *d = ud;
	log_info("usage: a new day; re-examining jobs held by a cap");
	release_held(d);
}

static void on_watchdog(void *ud)
{
	struct daemon *d = ud;
	sdn_send("WATCHDOG=1");
	loop_timer_arm(d->watchdog, d->watchdog_ms / 2);
}

/* ---- the inbox ---------------------------------------------------------------------- */

static void on_ready(const char *name, void *ud)
{
	struct daemon *d = ud;
	if (!watch_has_image_ext(name)) {
		catalog_refresh(d->conf, false); /* at most hourly: catalog.h */
		jobs_claim(d->jobs, name);
		return;
	}
	/* An image no prompt will take: it came after its prompt, or alone. */
	const char *msg = strays_image(d->strays, d->jobs, name, time(NULL));
	if (msg && notify_on(d, NOTIFY_EV_INBOX)) {
		char summary[NAME_MAX + 32];
		bfmt(summary, sizeof(summary), "Image not used: %s", name);
		notifier_send(d->notifier, summary, msg, NULL, NULL, 0);
	}
}

/* ---- signals -------------------------------------------------------------------------- */

static bool api_settings_differ(const struct conf *a, const struct conf *b)
{
	if (strcmp(a->api_base, b->api_base) != 0 || a->auth_style != b->auth_style ||
	    (a->api_key == NULL) != (b->api_key == NULL) ||
	    (a->api_key && strcmp(a->api_key, b->api_key) != 0) ||
	    a->connect_timeout_ms != b->connect_timeout_ms ||
	    a->request_timeout_ms != b->request_timeout_ms || a->max_retries != b->max_retries ||
	    a->retry_base_ms != b->retry_base_ms || a->retry_max_ms != b->retry_max_ms ||
	    a->n_extra_headers != b->n_extra_headers)
		return true;
	for (size_t i = 0; i < a->n_extra_headers; i++)
		if (strcmp(a->extra_headers[i], b->extra_headers[i]) != 0)
			return true;
	return false;
}

static int open_log(const struct conf *c, bool foreground)
{
	int level = log_level_parse(c->log_level);
	if (log_open(c->log_dir, level < 0 ? LOG_INFO : (enum log_level)level, c->log_keep_days,
	             foreground) != 0) {
		fprintf(stderr, "sorad: cannot write logs in %s: %s\n", c->log_dir,
		        strerror(errno));
		return -1;
	}
	if (c->api_key)
		log_add_secret(c->api_key);
	if (c->callback_secret)
		log_add_secret(c->callback_secret);
	return 0;
}

/* The status endpoint follows the configuration: a new listen address restarts it. */
static void apply_status_conf(struct daemon *d)
{
	const char *want = d->conf->listen;
	if (d->httpd && strcmp(httpd_listen(d->httpd), want) == 0) {
		httpd_set_conf(d->httpd, d->conf);
		return;
	}
	httpd_free(d->httpd);
	d->httpd = NULL;
	if (!*want)
		log_info("status: endpoint disabled");
	else if (!(d->httpd = httpd_new(d->loop, d->conf, d->jobs, &d->api_stats)))
		log_error("reload: the status endpoint is off: cannot listen on %s", want);
	httpd_set_usage(d->httpd, usage_of(d));
	httpd_set_strays(d->httpd, d->strays);
}

/* A good signed callback (callback.h): the job of VIDEO_ID goes on from its event, or
 * asks the service now (jobs_callback_event). */
static enum jobs_refresh_result on_callback(const char *video_id, const char *status,
                                            const char *data, size_t len, void *ud)
{
	(void)status; /* the event's data, parsed as an answer, decides */
	struct daemon *d = ud;
	return jobs_callback_event(d->jobs, video_id, data, len);
}

/* The callback listener follows the configuration: a new address restarts it. */
static void apply_callback_conf(struct daemon *d)
{
	const char *want = d->conf->callback_listen;
	if (d->callback && want && strcmp(callback_listen(d->callback), want) == 0) {
		callback_set_conf(d->callback, d->conf);
		return;
	}
	callback_free(d->callback);
	d->callback = NULL;
	if (!want)
		return;
	d->callback = callback_new(d->loop, d->conf, on_callback, d);
	if (!d->callback)
		log_error("reload: callbacks are off: cannot listen on %s; jobs are polled", want);
}

static void reload(struct daemon *d)
{
	sdn_send("RELOADING=1");
	char err[2048];
	struct conf *nc = conf_load(d->conf_path, err, sizeof(err));
	if (!nc) {
		log_error("reload: the configuration has errors; keeping the running one: %s", err);
		sdn_send("READY=1");
		return;
	}
	if (!nc->api_key) {
		log_error("reload: no API key in the new configuration; keeping the running one");
		conf_free(nc);
		sdn_send("READY=1");
		return;
	}
	if (strcmp(nc->state_dir, d->conf->state_dir) != 0)
		log_warn("reload: state_dir changed; it takes effect at the next start");
	if (strcmp(nc->log_dir, d->conf->log_dir) != 0 ||
	    strcmp(nc->log_level, d->conf->log_level) != 0 ||
	    nc->log_keep_days != d->conf->log_keep_days)
		open_log(nc, d->foreground);
	else if (nc->api_key)
		log_add_secret(nc->api_key);
	if (nc->callback_secret)
		log_add_secret(nc->callback_secret);
	bool new_api = api_settings_differ(d->conf, nc);
	if (watch_set_conf(d->watch, nc) != 0)
		log_error("reload: the inbox watch settings could not be applied");
	struct conf *oc = d->conf;
	d->conf = nc;
	if (new_api) {
		/* The old client goes first: it shares the loop's curl timer and fd watches
		 * with its successor, and its last callbacks would disarm the new one's. */
		jobs_suspend(d->jobs);
		api_client_free(d->api);
		d->api = make_api(d);
		if (!d->api) {
			log_error("reload: cannot set up the API client with the new settings; "
			          "keeping the running configuration");
			d->conf = oc;
			oc = nc;
			d->api = make_api(d);
		}
		if (!d->api) {
			log_error("reload: cannot set up an API client at all; stopping");
			loop_stop(d->loop);
			conf_free(oc);
			return;
		}
		jobs_set_api(d->jobs, d->api);
		jobs_set_conf(d->jobs, d->conf);
	} else {
		jobs_set_conf(d->jobs, nc);
	}
	d->target.conf = d->conf;
	apply_status_conf(d);
	apply_callback_conf(d);
	conf_free(oc);
	release_held(d);
	catalog_refresh(d->conf, true); /* before the rescan validates against it */
	watch_rescan(d->watch);
	log_info("reload: configuration reloaded from %s%s",
	         d->conf_path ? d->conf_path : "(defaults)",
	         new_api ? " (new API settings: requests in flight restarted)" : "");
	sdn_send("READY=1");
	report_status(d);
}

static void on_signal(int signo, void *ud)
{
	struct daemon *d = ud;
	switch (signo) {
	case SIGHUP:
		log_info("SIGHUP: reloading the configuration and rescanning the inbox");
		reload(d);
		break;
	case SIGUSR1:
		if (log_reopen() != 0)
			log_error("SIGUSR1: cannot reopen the log file: %s", strerror(errno));
		else
			log_info("SIGUSR1: log file reopened");
		break;
	default:
		log_info("%s: stopping", signo == SIGTERM ? "SIGTERM" : "SIGINT");
		sdn_send("STOPPING=1");
		loop_stop(d->loop);
		break;
	}
}

/* ---- start and stop -------------------------------------------------------------------- */

/* During the start, before the loop reads signals: a SIGTERM or SIGINT waiting (blocked
 * for the signalfd, so pending until then). */
static bool stop_pending(void *ud)
{
	(void)ud;
	sigset_t p;
	return sigpending(&p) == 0 &&
	       (sigismember(&p, SIGTERM) == 1 || sigismember(&p, SIGINT) == 1);
}

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: sorad [-c FILE] [-f] [-v]\n"
	        "  -c FILE  configuration file (default: $SORAD_CONF, else ./sorad.conf, else\n"
	        "           ~/.config/sorad/sorad.conf, else the system's sorad.conf)\n"
	        "  -f       foreground: also log to stderr\n"
	        "  -v       say which configuration file is used\n"
	        "sorad help lists the commands.\n");
}

/* One daemon per state directory: two would submit the same jobs twice. */
static int take_lock(struct daemon *d)
{
	char path[4096];
	if (bfmt(path, sizeof(path), "%s/sorad.lock", d->conf->state_dir) != 0)
		return -1;
	d->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (d->lock_fd < 0) {
		fprintf(stderr, "sorad: cannot open %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (flock(d->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		fprintf(stderr,
		        "sorad: another sorad is already running with the state directory %s "
		        "(%s is locked)\n",
		        d->conf->state_dir, path);
		return -1;
	}
	char pid[32];
	bfmt(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(d->lock_fd, 0) != 0 || write_all(d->lock_fd, pid, strlen(pid)) != 0)
		fprintf(stderr, "sorad: cannot write the pid to %s: %s\n", path, strerror(errno));
	return 0;
}

static int make_dirs(const struct conf *c)
{
	mode_t out = conf_outbox_dir_mode(c);
	const struct {
		const char *what, *dir;
		mode_t mode;
		bool exact; /* the outbox's mode is configuration, not the umask's */
	} dirs[] = {{"inbox", c->inbox, 0755, false},
	            {"outbox", c->outbox, out, true},
	            {"failed_dir", c->failed_dir, out, true},
	            {"state_dir", c->state_dir, 0700, false},
	            {"log_dir", c->log_dir, 0750, false}};
	for (size_t i = 0; i < ARRAY_LEN(dirs); i++) {
		if ((dirs[i].exact ? mkdir_p_exact(dirs[i].dir, dirs[i].mode)
		                   : mkdir_p(dirs[i].dir, dirs[i].mode)) != 0) {
			fprintf(stderr, "sorad: cannot create %s %s: %s\n", dirs[i].what,
			        dirs[i].dir, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* Before the loop waits: the changes of the turn go to the commit thread together. */
static int on_loop_idle(void *ud)
{
	struct daemon *d = ud;
	commit_flush(d->intents);
	commit_flush(d->commit);
	return 0; /* the commit threads wake the loop when their batch is durable */
}

static void teardown(struct daemon *d)
{
	if (d->jobs)
		jobs_suspend(d->jobs);
	/* What was staged is kept; what waited for it resumes at the next start. */
	for (int i = 0; i < 16 && (commit_pending(d->intents) || commit_pending(d->commit)); i++) {
		commit_drain(d->intents);
		commit_drain(d->commit);
	}
	httpd_free(d->httpd);
	callback_free(d->callback);
	control_free(d->control);
	ready_notes_free(d->ready);
	notifier_free(d->notifier);
	watch_free(d->watch);
	strays_free(d->strays);
	jobs_free(d->jobs);
	commit_free(d->commit);
	commit_free(d->intents);
	api_client_free(d->api);
	loop_timer_free(d->curl_timer);
	loop_timer_free(d->watchdog);
	loop_timer_free(d->cap_timer);
	usage_free(usage_of(d));
	catalog_install(NULL);
	loop_free(d->loop);
	conf_free(d->conf);
	if (d->lock_fd >= 0)
		close(d->lock_fd);
}

int daemon_main(int argc, char **argv)
{
	struct daemon d = {.lock_fd = -1};
#ifdef __GLIBC__
	/* A fixed threshold: glibc raises its own to the size of each large block freed, up
	 * to 32 MiB, and after the load's (a long history's sort) the job table's growth
	 * would then be copied within the heap, old and new side by side, instead of
	 * remapped (issue 20: the peak memory with a million finished jobs). */
	if (mallopt(M_MMAP_THRESHOLD, 256 * 1024) != 1)
		log_warn("memory: the allocator's mmap threshold could not be set");
#endif
	static const struct option longopts[] = {{"help", no_argument, NULL, 'h'},
	                                         {"config", required_argument, NULL, 'c'},
	                                         {"foreground", no_argument, NULL, 'f'},
	                                         {NULL, 0, NULL, 0}};
	int ch;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:fh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			d.conf_path = optarg;
			break;
		case 'f':
			d.foreground = true;
			break;
		case 'h':
			usage(stdout);
			return EX_OK;
		default:
			usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sorad: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return EX_USAGE;
	}
	d.conf_path = conf_path_resolve(d.conf_path);

	char err[2048];
	d.conf = conf_load(d.conf_path, err, sizeof(err));
	if (!d.conf) {
		fprintf(stderr, "%s\n", err);
		return EX_CONFIG;
	}
	if (!d.conf->api_key) {
		fprintf(stderr,
		        "sorad: no API key: set api_key_file in %s or the environment variable "
		        "OPENAI_API_KEY\n",
		        d.conf_path ? d.conf_path : "sorad.conf");
		conf_free(d.conf);
		return EX_CONFIG;
	}
	signal(SIGPIPE, SIG_IGN);
	/* Everything sorad creates is private unless said otherwise: the state (records,
	 * claimed inputs, the lock, the control socket, the usage log) and the logs. The
	 * outbox gets outbox_mode explicitly. */
	umask(077);
	int rc = EX_OK;
	if (make_dirs(d.conf) != 0 || take_lock(&d) != 0) {
		rc = EX_CANTCREAT;
		goto out;
	}
	if (open_log(d.conf, d.foreground) != 0) {
		rc = EX_CANTCREAT;
		goto out;
	}
	outbox_sweep_temps(d.conf);
	catalog_refresh(d.conf, false); /* before the first claim is validated */
	log_info("sorad %s starting: inbox %s, outbox %s, API %s", SORAD_VERSION, d.conf->inbox,
	         d.conf->outbox, d.conf->api_base);
	const char *who = conf_key_file_exposed(d.conf);
	if (who)
		log_warn("api_key_file %s is readable by %s; chmod 600 it", d.conf->api_key_file,
		         who);

	d.loop = loop_new();
	static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1};
	if (!d.loop || loop_signals(d.loop, sigs, ARRAY_LEN(sigs), on_signal, &d) != 0) {
		rc = EX_OSERR;
		goto out;
	}
	d.curl_timer = loop_timer_new(d.loop, on_curl_timer, &d);
	d.api = make_api(&d);
	if (!d.api) {
		rc = EX_SOFTWARE;
		goto out;
	}
	d.commit = commit_new(d.loop);
	loop_before_wait(d.loop, on_loop_idle, &d);
	d.jobs = jobs_new(d.loop, d.api, d.conf, d.commit);
	d.intents = commit_new(d.loop);
	jobs_set_intent_commit(d.jobs, d.intents);
	commit_defer_to(d.commit, d.intents);
	jobs_observe(d.jobs, on_job_change, &d);
	/* read beside the records (jobs_load_until below); usage_of waits for it */
	d.usage_ld = usage_loader_start(d.conf->state_dir, time(NULL));
	d.cap_timer = loop_timer_new(d.loop, on_cap_timer, &d);
	jobs_observe(d.jobs, on_job_usage, &d);
	/* After loop_signals: the worker thread inherits the blocked signal mask. */
	d.notifier = notifier_new();
	d.strays = strays_new();
	jobs_observe(d.jobs, on_job_notify, &d);
	jobs_set_gate(d.jobs, cap_gate, &d);
	int loaded = jobs_load_until(d.jobs, stop_pending, &d);
	if (loaded == -2) {
		/* asked to stop while a long history was read: nothing was started yet */
		log_info("stopping: a SIGTERM or SIGINT came during the start");
		sdn_send("STOPPING=1");
		goto out;
	}
	if (loaded < 0) {
		rc = EX_CANTCREAT;
		goto out;
	}
	/* The usage log is repaired from the records: a crash between a record counting a
	 * create (or saying where it stands) and its usage line loses nothing. */
	/* a job known by its history line finished with its record durable and its
	 * spending noted with it (and its line knows no create count) */
	jobs_each_whole(d.jobs, repair_usage, &d);
	release_held(&d);
	d.target.jobs = d.jobs;
	d.target.conf = d.conf;
	d.control = control_new(d.loop, d.conf->state_dir, control_handle, &d.target);
	if (!d.control)
		log_warn("commands cannot reach this daemon (no control socket): approve and "
		         "delete --purge will fail while it runs");
	if (*d.conf->listen) {
		d.httpd = httpd_new(d.loop, d.conf, d.jobs, &d.api_stats);
		if (!d.httpd) {
			rc = EX_UNAVAILABLE;
			goto out;
		}
		httpd_set_usage(d.httpd, usage_of(&d));
		httpd_set_strays(d.httpd, d.strays);
	}
	if (d.conf->callback_listen) {
		d.callback = callback_new(d.loop, d.conf, on_callback, &d);
		if (!d.callback) {
			rc = EX_UNAVAILABLE;
			goto out;
		}
	}
	d.watch = watch_new(d.loop, d.conf, on_ready, &d);
	if (!d.watch) {
		rc = EX_CONFIG;
		goto out;
	}
	d.watchdog_ms = sdn_watchdog_ms();
	if (d.watchdog_ms > 0) {
		d.watchdog = loop_timer_new(d.loop, on_watchdog, &d);
		loop_timer_arm(d.watchdog, d.watchdog_ms / 2);
	}
	sdn_send("READY=1");
	report_status(&d);
	log_info("ready: watching %s (%s)", d.conf->inbox,
	         watch_effective_mode(d.watch) == WATCH_POLL ? "polling" : "inotify");
	if (loop_run(d.loop) != 0)
		rc = EX_OSERR;
	log_info("stopped");
out:
	teardown(&d);
	log_close();
	return rc;
}
