/* control.c — the daemon's control socket, and the client side of it (see control.h). */
#include "control.h"
#include "conf.h"
#include "eta.h"
#include "fsutil.h"
#include "jobs.h"
#include "log.h"
#include "status_json.h"
#include "util.h"
#include "video.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct control_conn {
	struct control *ctl;
	int fd;
	struct loop_timer *timer;
	char buf[CONTROL_LINE_MAX];
	size_t len;
	char *out; /* the answer line still being sent, or NULL */
	size_t out_len, out_off;
	struct control_reply *later; /* the handler answers later (control_defer), or NULL */
	bool asked;                  /* the request was read: what comes after is ignored */
};

/* An answer owed to a connection: the connection may be closed before it is given
 * (the client gave up, the deadline passed, shutdown), then cn is NULL. */
struct control_reply {
	struct control_conn *cn;
};

struct control {
	struct loop *loop;
	int fd;
	char *path;
	control_fn *fn;
	void *ud;
	struct control_conn *conns[CONTROL_MAX_CONNS];
};

static int socket_path(const char *state_dir, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (bfmt(sa->sun_path, sizeof(sa->sun_path), "%s/%s", state_dir, CONTROL_SOCKET) != 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static void conn_close(struct control_conn *cn)
{
	struct control *c = cn->ctl;
	if (cn->later)
		cn->later->cn = NULL;
	for (size_t i = 0; i < CONTROL_MAX_CONNS; i++)
		if (c->conns[i] == cn)
			c->conns[i] = NULL;
	loop_unwatch(c->loop, cn->fd);
	close(cn->fd);
	loop_timer_free(cn->timer);
	free(cn->out);
	free(cn);
}

/* Sends what is left of the answer without blocking; 1 when all of it is sent (or the
 * client is gone: logged), 0 when the socket is full and the rest waits. */
static int conn_flush(struct control_conn *cn)
{
	while (cn->out_off < cn->out_len) {
		ssize_t n = send(cn->fd, cn->out + cn->out_off, cn->out_len - cn->out_off,
		                 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n < 0) {
			log_warn("control: cannot answer a request: %s", strerror(errno));
			return 1;
		}
		cn->out_off += (size_t)n;
	}
	return 1;
}

static void on_conn_writable(int fd, uint32_t events, void *ud)
{
	struct control_conn *cn = ud;
	(void)fd;
	(void)events;
	if (conn_flush(cn))
		conn_close(cn);
}

/* Sends ANSWER as one line and closes; an answer larger than the socket buffer (the
 * live progress of many jobs) is sent as the client reads it, within the timeout. */
static void conn_answer(struct control_conn *cn, const cJSON *answer)
{
	char *s = cJSON_PrintUnformatted(answer);
	if (!s) {
		conn_close(cn);
		return;
	}
	cn->out = xasprintf("%s\n", s);
	free(s);
	cn->out_len = strlen(cn->out);
	cn->out_off = 0;
	if (conn_flush(cn)) {
		conn_close(cn);
		return;
	}
	loop_unwatch(cn->ctl->loop, cn->fd);
	if (loop_watch(cn->ctl->loop, cn->fd, EPOLLOUT, on_conn_writable, cn) != 0) {
		log_warn("control: cannot wait to send an answer of %zu bytes", cn->out_len);
		conn_close(cn);
		return;
	}
	loop_timer_arm(cn->timer, CONTROL_TIMEOUT_MS);
}

static void answer_error(struct control_conn *cn, const char *code, const char *msg)
{
	cJSON *a = cJSON_CreateObject();
	cJSON_AddBoolToObject(a, "ok", false);
	cJSON_AddStringToObject(a, "error", code);
	cJSON_AddStringToObject(a, "message", msg);
	conn_answer(cn, a);
	cJSON_Delete(a);
}

static void on_conn_timeout(void *ud)
{
	struct control_conn *cn = ud;
	if (cn->later) {
		cn->later->cn = NULL;
		cn->later = NULL;
		log_warn("control: no answer to give within the deadline; the client is told so");
		answer_error(cn, "timeout",
		             "no answer came in time (see the daemon's log); what was asked may "
		             "still happen");
		return;
	}
	log_warn("control: a client sent no complete request within %d ms; closed",
	         CONTROL_TIMEOUT_MS);
	conn_close(cn);
}

static void on_conn(int fd, uint32_t events, void *ud)
{
	struct control_conn *cn = ud;
	(void)events;
	if (cn->asked) { /* waiting for a later answer: only a hangup matters */
		char junk[256];
		ssize_t n = recv(fd, junk, sizeof(junk), MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			conn_close(cn); /* the client gave up waiting */
		return;
	}
	ssize_t n = recv(fd, cn->buf + cn->len, sizeof(cn->buf) - 1 - cn->len, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(cn); /* the client went away before finishing its request */
		return;
	}
	cn->len += (size_t)n;
	char *nl = memchr(cn->buf, '\n', cn->len);
	if (!nl) {
		if (cn->len == sizeof(cn->buf) - 1)
			answer_error(cn, "too_large", "the request is longer than the limit");
		return;
	}
	*nl = '\0';
	cJSON *req = cJSON_Parse(cn->buf);
	if (!cJSON_IsObject(req)) {
		cJSON_Delete(req);
		answer_error(cn, "bad_request", "the request is not a JSON object");
		return;
	}
	cJSON *a = cJSON_CreateObject();
	cn->asked = true;
	cn->ctl->fn(req, a, cn, cn->ctl->ud);
	cJSON_Delete(req);
	if (!cn->later)
		conn_answer(cn, a);
	cJSON_Delete(a);
}

struct control_reply *control_defer(struct control_conn *cn, int deadline_ms)
{
	if (cn->later)
		return NULL;
	cn->later = xcalloc(1, sizeof(*cn->later));
	cn->later->cn = cn;
	loop_timer_arm(cn->timer, deadline_ms);
	return cn->later;
}

void control_reply(struct control_reply *r, const cJSON *answer)
{
	if (!r)
		return;
	struct control_conn *cn = r->cn;
	free(r);
	if (!cn)
		return; /* nobody waits for it any more */
	cn->later = NULL;
	conn_answer(cn, answer);
}

static void on_accept(int fd, uint32_t events, void *ud)
{
	struct control *c = ud;
	(void)events;
	for (;;) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				log_warn("control: accept: %s", strerror(errno));
			return;
		}
		size_t slot = CONTROL_MAX_CONNS;
		for (size_t i = 0; i < CONTROL_MAX_CONNS && slot == CONTROL_MAX_CONNS; i++)
			if (!c->conns[i])
				slot = i;
		struct control_conn *cn = xcalloc(1, sizeof(*cn));
		cn->ctl = c;
		cn->fd = cfd;
		cn->timer = loop_timer_new(c->loop, on_conn_timeout, cn);
		if (slot == CONTROL_MAX_CONNS ||
		    loop_watch(c->loop, cfd, EPOLLIN, on_conn, cn) != 0) {
			answer_error(cn, "busy",
			             "the daemon is busy with other commands; try again");
			continue;
		}
		c->conns[slot] = cn;
		loop_timer_arm(cn->timer, CONTROL_TIMEOUT_MS);
	}
}

struct control *control_new(struct loop *l, const char *state_dir, control_fn *fn, void *ud)
{
	struct sockaddr_un sa;
	if (socket_path(state_dir, &sa) != 0) {
		log_error("control: the socket path under %s is too long", state_dir);
		return NULL;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		log_error("control: socket: %s", strerror(errno));
		return NULL;
	}
	/* We hold the state lock, so a socket left here belongs to a dead daemon. */
	unlink(sa.sun_path);
	mode_t old = umask(0177);
	int rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc != 0 || chmod(sa.sun_path, 0600) != 0 || listen(fd, 16) != 0) {
		log_error("control: cannot listen on %s: %s", sa.sun_path, strerror(errno));
		close(fd);
		return NULL;
	}
	struct control *c = xcalloc(1, sizeof(*c));
	c->loop = l;
	c->fd = fd;
	c->path = xstrdup(sa.sun_path);
	c->fn = fn;
	c->ud = ud;
	if (loop_watch(l, fd, EPOLLIN, on_accept, c) != 0) {
		control_free(c);
		return NULL;
	}
	return c;
}

void control_free(struct control *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < CONTROL_MAX_CONNS; i++)
		if (c->conns[i])
			conn_close(c->conns[i]);
	loop_unwatch(c->loop, c->fd);
	close(c->fd);
	unlink(c->path);
	free(c->path);
	free(c);
}

/* ---- the client side ------------------------------------------------------------ */

cJSON *control_call(const char *state_dir, const cJSON *request, char *why, size_t whylen)
{
	return control_call_wait(state_dir, request, 30000, why, whylen);
}

cJSON *control_call_wait(const char *state_dir, const cJSON *request, int timeout_ms, char *why,
                         size_t whylen)
{
	struct sockaddr_un sa;
	if (socket_path(state_dir, &sa) != 0) {
		bfmt(why, whylen, "the control socket path under %s is too long", state_dir);
		return NULL;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		bfmt(why, whylen, "cannot reach the daemon at %s: %s", sa.sun_path,
		     strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	char *s = cJSON_PrintUnformatted(request);
	char *line = xasprintf("%s\n", s ? s : "{}");
	free(s);
	int rc = write_all(fd, line, strlen(line));
	free(line);
	if (rc != 0) {
		bfmt(why, whylen, "cannot send the request to the daemon: %s", strerror(errno));
		close(fd);
		return NULL;
	}
	/* The answer: one line, grown as it comes, up to CONTROL_ANSWER_MAX. */
	size_t cap = CONTROL_LINE_MAX, len = 0;
	char *buf = xmalloc(cap);
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int pr = poll(&p, 1, timeout_ms);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0) {
			bfmt(why, whylen, "the daemon did not answer within %d s",
			     timeout_ms / 1000);
			close(fd);
			free(buf);
			return NULL;
		}
		if (len == cap - 1 && cap < CONTROL_ANSWER_MAX) {
			cap = cap * 2 > CONTROL_ANSWER_MAX ? CONTROL_ANSWER_MAX : cap * 2;
			buf = xrealloc(buf, cap);
		}
		ssize_t n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		bool nl = memchr(buf + len, '\n', (size_t)n) != NULL;
		len += (size_t)n;
		if (nl || len == CONTROL_ANSWER_MAX - 1)
			break;
	}
	close(fd);
	buf[len] = '\0';
	cJSON *a = cJSON_Parse(buf);
	free(buf);
	if (!cJSON_IsObject(a)) {
		cJSON_Delete(a);
		bfmt(why, whylen, "the daemon's answer was cut short or garbled");
		return NULL;
	}
	return a;
}

int control_lock(const char *state_dir)
{
	char path[4096];
	if (mkdir_p(state_dir, 0700) != 0)
		return -1;
	if (bfmt(path, sizeof(path), "%s/sorad.lock", state_dir) != 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		close(fd);
		if (e == EWOULDBLOCK)
			return -2;
		errno = e;
		return -1;
	}
	return fd;
}

/* ---- the requests ------------------------------------------------------------------ */

int control_purge(const struct conf *c, const char *name, char *msg, size_t msglen)
{
	static const char *const suffixes[] = {".json", ".mp4", ".thumbnail.webp",
	                                       ".spritesheet.jpg"};
	char path[PATH_MAX];
	int removed = 0;
	for (size_t i = 0; i <= ARRAY_LEN(suffixes); i++) {
		int rc = i < ARRAY_LEN(suffixes)
		             ? bfmt(path, sizeof(path), "%s/%s%s", c->outbox, name, suffixes[i])
		             : bfmt(path, sizeof(path), "%s/%s.error.txt", c->failed_dir, name);
		if (rc != 0)
			continue;
		if (unlink(path) == 0) {
			removed++;
		} else if (errno != ENOENT) {
			bfmt(msg, msglen, "cannot remove %s: %s", path, strerror(errno));
			return -1;
		}
	}
	fsync_dir(c->outbox);
	bfmt(msg, msglen, "purged %s: %d local file(s) removed, job forgotten", name, removed);
	return 0;
}

static void answer(cJSON *a, bool ok, const char *code, const char *msg)
{
	cJSON_AddBoolToObject(a, "ok", ok);
	if (code)
		cJSON_AddStringToObject(a, "error", code);
	cJSON_AddStringToObject(a, "message", msg);
}

/*
 * "resolve" {name, resolution}: the user's decision on a job in doubt, in the words a
 * record stores it ("adopt:VIDEO_ID", "resubmit", "drop"). The job is found by name
 * or video id; jobs_resolve applies the decision and logs it.
 */
static void handle_resolve(struct control_target *d, const char *name, const cJSON *req, cJSON *a)
{
	const cJSON *res = cJSON_GetObjectItemCaseSensitive(req, "resolution");
	enum jobs_resolve_how how;
	const char *vid = NULL;
	char msg[1024];
	if (!cJSON_IsString(res) || jobs_resolution_parse(res->valuestring, &how, &vid) != 0) {
		answer(a, false, "bad_request",
		       "a resolve request needs \"resolution\": \"adopt:VIDEO_ID\", "
		       "\"resubmit\" or \"drop\"");
		return;
	}
	if (how == JOBS_RESOLVE_ADOPT && !video_id_is_safe(vid)) {
		answer(a, false, "refused", "the video id to adopt is not a usable video id");
		return;
	}
	const struct job *j = jobs_find(d->jobs, name);
	if (!j) {
		bfmt(msg, sizeof(msg), "no job or video named '%s'", name);
		answer(a, false, "not_found", msg);
		return;
	}
	if (j->state != JOB_IN_DOUBT) {
		bfmt(msg, sizeof(msg),
		     "%s is %s, not in doubt: there is nothing to decide ('sorad list --state "
		     "in_doubt' shows the jobs waiting for a decision)",
		     j->name, job_state_name(j->state));
		answer(a, false, "not_in_doubt", msg);
		return;
	}
	char jn[PATH_MAX], why[512];
	bcopy_str(jn, sizeof(jn), j->name);
	log_event(LOG_INFO, jn, how == JOBS_RESOLVE_ADOPT ? vid : NULL,
	          "sorad resolve over the control socket: %s", res->valuestring);
	if (jobs_resolve(d->jobs, jn, how, vid, why, sizeof(why)) != 0) {
		bfmt(msg, sizeof(msg), "%s: %s", jn, why);
		answer(a, false, "refused", msg);
		return;
	}
	switch (how) {
	case JOBS_RESOLVE_ADOPT:
		bfmt(msg, sizeof(msg), "%s takes video %s: sorad polls and downloads it", jn, vid);
		break;
	case JOBS_RESOLVE_RESUBMIT:
		bfmt(msg, sizeof(msg),
		     "%s is submitted again at your request (if its first create was made, both "
		     "are paid for)",
		     jn);
		break;
	case JOBS_RESOLVE_DROP:
		bfmt(msg, sizeof(msg), "%s dropped: it fails, with its story in %s/%s.error.txt",
		     jn, d->conf->failed_dir, jn);
		break;
	}
	answer(a, true, NULL, msg);
}

/* "purge" NAME: removes the final job's outputs and forgets it. NULL with what was done
 * in msg[n], or the error code with why not. */
static const char *purge_job(struct control_target *d, const char *name, char *msg, size_t n)
{
	const struct job *j = jobs_whole(d->jobs, jobs_find(d->jobs, name));
	if (!j) {
		bfmt(msg, n, "no job named '%s'", name);
		return "not_found";
	}
	if (!job_state_is_final(j->state)) {
		bfmt(msg, n, "%s is still %s; wait until it is done or failed", name,
		     job_state_name(j->state));
		return "not_final";
	}
	char jn[PATH_MAX];
	bcopy_str(jn, sizeof(jn), j->name);
	if (control_purge(d->conf, jn, msg, n) != 0 || jobs_forget(d->jobs, jn) != 0) {
		if (!msg[0] || strncmp(msg, "cannot", 6) != 0)
			bfmt(msg, n, "%s: its record cannot be removed (see the daemon's log)", jn);
		return "io_error";
	}
	log_event(LOG_INFO, jn, NULL, "purged on request: %s", msg);
	return NULL;
}

/* A "delete" waiting for the service's answer. */
struct pending_delete {
	struct control_reply *reply;
	struct control_target *d;
	char name[PATH_MAX]; /* the job's, "" for a video no job of sorad made */
	char video[256];
	bool purge;
};

/* The delete's second half: with purge, the local outputs go and the job is forgotten,
 * once the remote copy is gone (the local copy stays while the remote one may exist). */
static void delete_then_purge(struct control_target *d, const char *name, const char *video,
                              bool purge, const char *done, cJSON *a)
{
	char msg[2048], pmsg[1024];
	if (!purge) {
		answer(a, true, NULL, done);
		return;
	}
	if (!name[0]) {
		bfmt(msg, sizeof(msg), "%s\nno job of sorad made %s: no local outputs to purge",
		     done, video);
		answer(a, true, NULL, msg);
		return;
	}
	const char *code = purge_job(d, name, pmsg, sizeof(pmsg));
	bfmt(msg, sizeof(msg), "%s%s%s", done, code ? ", but " : "\n", pmsg);
	answer(a, !code, code, msg);
}

static void on_delete_done(bool ok, const char *code, const char *msg, void *ud)
{
	struct pending_delete *p = ud;
	cJSON *a = cJSON_CreateObject();
	if (ok)
		delete_then_purge(p->d, p->name, p->video, p->purge, msg, a);
	else
		answer(a, false, code, msg);
	control_reply(p->reply, a);
	cJSON_Delete(a);
	free(p);
}

/*
 * "delete" {name, purge}: `sorad delete` with the daemon's key. NAME is a job's name or
 * video id, or the id of a video no job of sorad made. The job must be final; a job
 * that never reached the service has nothing to delete remotely. The answer waits for
 * the service's (control_defer), at most CONTROL_DELETE_MS.
 */
static void handle_delete(struct control_target *d, const char *target, bool purge,
                          struct control_conn *conn, cJSON *a)
{
	char msg[1024];
	struct pending_delete *p = xcalloc(1, sizeof(*p));
	p->d = d;
	p->purge = purge;
	const struct job *j = jobs_whole(d->jobs, jobs_find(d->jobs, target));
	if (j) {
		if (!job_state_is_final(j->state)) {
			bfmt(msg, sizeof(msg),
			     "%s is still %s; wait until it is done or failed, then delete it",
			     j->name, job_state_name(j->state));
			answer(a, false, "not_final", msg);
			free(p);
			return;
		}
		bcopy_str(p->name, sizeof(p->name), j->name);
		if (j->video_id)
			bcopy_str(p->video, sizeof(p->video), j->video_id);
	} else if (!strncmp(target, "video_", 6) && video_id_is_safe(target)) {
		bcopy_str(p->video, sizeof(p->video), target);
	} else {
		bfmt(msg, sizeof(msg),
		     "no job or video named '%s' in %s/jobs; 'sorad list' shows the jobs sorad "
		     "knows",
		     target, d->conf->state_dir);
		answer(a, false, "not_found", msg);
		free(p);
		return;
	}
	if (!p->video[0]) {
		bfmt(msg, sizeof(msg), "%s never reached the service: nothing to delete remotely",
		     p->name);
		delete_then_purge(d, p->name, "", purge, msg, a);
		free(p);
		return;
	}
	/* Its callback never runs before this returns (api.h): the reply is set in time. */
	const char *code = "busy";
	if (jobs_delete(d->jobs, p->video, p->name[0] ? p->name : NULL, on_delete_done, p, &code,
	                msg, sizeof(msg)) != 0) {
		answer(a, false, code, msg);
		free(p);
		return;
	}
	p->reply = control_defer(conn, CONTROL_DELETE_MS);
}

/* "live": every job not finished, with what the records do not hold for those in flight
 * (their progress moves in memory only: writing a record per poll would cost a sync
 * each); the commands read those jobs' records only, when that is all they show. With
 * "name", also
 * whether the daemon knows that job ("known"), which a job claimed a moment ago has
 * before its record is committed. */
struct live_walk {
	cJSON *arr;
	long long now;
};

static void live_one(const struct job *j, void *ud)
{
	struct live_walk *w = ud;
	if (!w->arr)
		return;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", j->name);
	cJSON_AddStringToObject(o, "state", job_state_name(j->state));
	if (j->status)
		cJSON_AddStringToObject(o, "status", j->status);
	cJSON_AddNumberToObject(o, "progress", j->progress);
	cJSON_AddNumberToObject(o, "elapsed_s", (double)eta_elapsed_s(j, w->now));
	cJSON_AddNumberToObject(o, "typical_s", (double)j->typical_s);
	cJSON_AddNumberToObject(o, "left_s", (double)status_json_remaining_s(j, w->now));
	cJSON_AddItemToArray(w->arr, o);
}

static void handle_live(const struct control_target *d, const char *name, cJSON *a)
{
	if (name)
		cJSON_AddBoolToObject(a, "known", jobs_find(d->jobs, name) != NULL);
	struct live_walk w = {cJSON_AddArrayToObject(a, "jobs"), (long long)time(NULL)};
	jobs_each_live(d->jobs, live_one, &w); /* not the finished ones */
	answer(a, true, NULL, "live");
}

void control_handle(const cJSON *req, cJSON *a, struct control_conn *conn, void *ud)
{
	struct control_target *d = ud;
	const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(req, "cmd");
	const cJSON *nm = cJSON_GetObjectItemCaseSensitive(req, "name");
	const char *name = cJSON_IsString(nm) ? nm->valuestring : NULL;
	char msg[1024];
	if (cJSON_IsString(cmd) && !strcmp(cmd->valuestring, "live")) {
		handle_live(d, name, a);
		return;
	}
	if (!cJSON_IsString(cmd) || !name || !*name) {
		answer(a, false, "bad_request", "a request needs \"cmd\" and \"name\"");
		return;
	}
	if (!strcmp(cmd->valuestring, "approve")) {
		int n = jobs_approve(d->jobs, name);
		if (n == 0) {
			bfmt(msg, sizeof(msg),
			     "no job named '%s' is waiting for approval; 'sorad list --state held' "
			     "shows held jobs",
			     name);
			answer(a, false, "not_found", msg);
			return;
		}
		bfmt(msg, sizeof(msg), "approved %d job(s) of %s", n, name);
		answer(a, true, NULL, msg);
		return;
	}
	if (!strcmp(cmd->valuestring, "purge")) {
		const char *code = purge_job(d, name, msg, sizeof(msg));
		answer(a, !code, code, msg);
		return;
	}
	if (!strcmp(cmd->valuestring, "delete")) {
		handle_delete(d, name, cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "purge")),
		              conn, a);
		return;
	}
	if (!strcmp(cmd->valuestring, "resolve")) {
		handle_resolve(d, name, req, a);
		return;
	}
	if (!strcmp(cmd->valuestring, "retry")) {
		if (jobs_retry(d->jobs, name, msg, sizeof(msg)) == 0)
			answer(a, true, NULL, msg);
		else
			answer(a, false,
			       strstr(msg, "no job is named") == msg ? "not_found" : "refused",
			       msg);
		return;
	}
	if (!strcmp(cmd->valuestring, "cancel") || !strcmp(cmd->valuestring, "reject")) {
		int rc =
		    jobs_stop(d->jobs, name, cmd->valuestring[0] == 'c' ? JOBS_CANCEL : JOBS_REJECT,
		              msg, sizeof(msg));
		if (rc == 0)
			answer(a, true, NULL, msg);
		else
			answer(a, false,
			       rc == -2                                ? "busy"
			       : strstr(msg, "no job is named") == msg ? "not_found"
			                                               : "refused",
			       msg);
		return;
	}
	bfmt(msg, sizeof(msg),
	     "unknown command '%.40s' (known: approve, purge, delete, resolve, cancel, reject, "
	     "retry, live)",
	     cmd->valuestring);
	answer(a, false, "bad_request", msg);
}
