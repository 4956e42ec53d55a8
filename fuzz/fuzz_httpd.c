/*
 * fuzz_httpd.c — the status endpoint's router (httpd_route.h): what httpd.c does with
 * a request once libmicrohttpd has parsed it, driven without a socket through the same
 * functions the live server calls (httpd_refuse, then httpd_route).
 *
 * Input: line 1 is the method, line 2 the request target as on the request line
 * (path and query, percent-encoded), every further line a header "Name: value". The
 * target is split and decoded as libmicrohttpd does (the raw target checked by
 * httpd_raw_target_bad, the path and each query key and value unescaped with
 * MHD_http_unescape, '+' in the query as a space); the Cookie header gives the
 * cookies. Lookups return the first match, names without case.
 *
 * The jobs are fixed, loaded once from a state directory written with store_save in
 * a temp directory: one per state, twenty finished ones for the pages of the list, a
 * done job with all its files, one whose video is a symlink to a secret outside the
 * outbox, one whose video is a directory, secrets beside and above the outbox.
 *
 * Oracles, besides ASan/UBSan (each request runs without and with a status_token,
 * and as GET and as HEAD):
 *   - the code is one the endpoint can give for that route, errors are the seed's
 *     JSON error object, every JSON body parses (cJSON);
 *   - a file is served only from /api/v1/videos/{id}/content for a done job that
 *     {id} names, and it is that job's own regular file in the outbox (the
 *     descriptor's path: a symlink to a secret would show), the bytes sent lie inside
 *     the file and Content-Range says so;
 *   - a video or list names only jobs that exist; a list page holds at most limit
 *     items, in claim order (asc) or its reverse, after the cursor, all matching
 *     the status filter, first_id/last_id those of its ends;
 *   - with a token configured, the answer is 401 unless the request carries it
 *     (Bearer or the sorad_token cookie) or asks for /, /index.html or /healthz, and
 *     otherwise the same as without a token;
 *   - HEAD answers with the code GET does (a /poll that would wait answers at once).
 */
#include "fuzz.h"

#include <cjson/cJSON.h>
#include <fcntl.h>
#include <limits.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "conf.h"
#include "httpd.h"
#include "httpd_route.h"
#include "job.h"
#include "jobs.h"
#include "loop.h"
#include "outbox.h"
#include "page.h"
#include "store.h"
#include "util.h"

#define TOKEN "fuzz-token-1234"
#define MAX_KV 64
#define N_DONE_PAGES 20

/* ---- the fixed world: a temp directory, two confs, the jobs ---------------------- */

static char root[64];
static struct conf *conf_open, *conf_token;
static struct loop *loop;
static struct jobs *jobs;
static struct httpd *router;
static struct api_stats stats;
static char outbox_real[PATH_MAX];
static bool verbose; /* FUZZ_HTTPD_VERBOSE=1: one line per request on stderr */

struct fixture {
	const char *name, *video_id, *status;
	enum job_state state;
	int progress;
};

static const struct fixture fixtures[] = {
    {"clip", "video_clip0001", "completed", JOB_DONE, 100},
    {"a", "video_a0000002", "completed", JOB_DONE, 100},
    {"link", "video_link0003", "completed", JOB_DONE, 100},
    {"dirjob", "video_dir00004", "completed", JOB_DONE, 100},
    {"slow", "video_slow0005", "in_progress", JOB_RUNNING, 40},
    {"queued1", "video_queued06", "queued", JOB_RUNNING, 0},
    {"claimed1", NULL, NULL, JOB_CLAIMED, 0},
    {"held1", NULL, NULL, JOB_HELD, 0},
    {"waiting1", NULL, NULL, JOB_WAITING, 0},
    {"sub1", NULL, NULL, JOB_SUBMITTING, 0},
    {"dl1", "video_dl000011", "completed", JOB_DOWNLOADING, 100},
    {"doomed", "video_doomed12", "failed", JOB_FAILED, 0},
    {"broken", NULL, NULL, JOB_FAILED, 0},
    {"x y é", "video_space014", "completed", JOB_DONE, 100},
    {"clip-2", "video_clip2015", "completed", JOB_DONE, 100},
};
#define N_FIXED (sizeof(fixtures) / sizeof(fixtures[0]))
#define N_JOBS (N_FIXED + N_DONE_PAGES)

static void put_file(const char *dir, const char *name, size_t size)
{
	char path[PATH_MAX];
	bfmt(path, sizeof(path), "%s/%s", dir, name);
	FILE *fp = fopen(path, "w");
	FUZZ_CHECK(fp, "the fixture files can be written");
	for (size_t i = 0; i < size; i++)
		fputc("TOPSECRET-"[i % 10], fp);
	fclose(fp);
}

static void save_job(const char *state_dir, size_t i, const struct fixture *f)
{
	char name[64], vid[64];
	struct fixture page;
	if (!f) { /* one of the finished jobs that fill the list's pages */
		bfmt(name, sizeof(name), "d%02zu", i - N_FIXED);
		bfmt(vid, sizeof(vid), "video_page%04zu", i - N_FIXED);
		page = (struct fixture){name, vid, "completed", JOB_DONE, 100};
		f = &page;
	}
	struct job j;
	job_init(&j);
	j.name = xstrdup(f->name);
	j.state = f->state;
	j.prompt = xstrdup("A paper boat in a gutter stream, \"quoted\" — ünïcode\n");
	j.model = xstrdup("sora-2");
	j.size = xstrdup("1280x720");
	j.seconds = 4;
	j.video_id = f->video_id ? xstrdup(f->video_id) : NULL;
	j.status = f->status ? xstrdup(f->status) : NULL;
	j.progress = f->progress;
	j.claimed_at = 1795442300 + (long long)i; /* claim order: the fixture order */
	j.submit_at = f->video_id ? j.claimed_at + 1 : -1;
	j.video_created_at = f->video_id ? j.claimed_at + 2 : -1;
	if (f->state == JOB_DONE)
		j.video_completed_at = j.finished_at = j.claimed_at + 60;
	if (f->state == JOB_FAILED) {
		j.error = xstrdup("It failed \"badly\".\n");
		j.error_code = xstrdup(f->video_id ? "moderation_blocked" : "invalid_input");
	}
	if (f->state == JOB_WAITING)
		j.remix_of = xstrdup("clip");
	if (f->state == JOB_HELD)
		j.error_code = xstrdup(JOBS_HOLD_CAP);
	FUZZ_CHECK(store_save(state_dir, &j) == 0, "the fixture records can be saved");
	job_release(&j);
}

static void set_str(char **field, const char *v)
{
	free(*field);
	*field = v ? xstrdup(v) : NULL;
}

static struct conf *fixture_conf(const char *token)
{
	char err[1024], dir[PATH_MAX];
	struct conf *c = conf_load(NULL, err, sizeof(err));
	FUZZ_CHECK(c, "the default configuration loads");
	bfmt(dir, sizeof(dir), "%s/inbox", root);
	set_str(&c->inbox, dir);
	bfmt(dir, sizeof(dir), "%s/outbox", root);
	set_str(&c->outbox, dir);
	bfmt(dir, sizeof(dir), "%s/outbox/failed", root);
	set_str(&c->failed_dir, dir);
	bfmt(dir, sizeof(dir), "%s/state", root);
	set_str(&c->state_dir, dir);
	set_str(&c->log_dir, NULL);
	set_str(&c->status_token, token);
	return c;
}

static void cleanup(void)
{
	httpd_free(router);
	jobs_free(jobs);
	loop_free(loop);
	conf_free(conf_open);
	conf_free(conf_token);
	if (root[0]) {
		char cmd[128];
		bfmt(cmd, sizeof(cmd), "rm -rf '%s'", root);
		if (system(cmd) != 0)
			fprintf(stderr, "fuzz_httpd: could not remove %s\n", root);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	static const char *const vars[] = {
	    "OPENAI_API_KEY",   "OPENAI_BASE_URL", "VIDEO_STORAGE_PATH",
	    "MAX_POLL_TIMEOUT", "DEFAULT_MODEL",   "DEFAULT_SIZE",
	    "DEFAULT_SECONDS",  "MAX_FILE_SIZE",   "SORAD_CONF"};
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
	bcopy_str(root, sizeof(root), "/tmp/fuzz_httpd.XXXXXX");
	FUZZ_CHECK(mkdtemp(root), "a temp directory");
	atexit(cleanup);
	char dir[PATH_MAX];
	static const char *const dirs[] = {"inbox", "outbox", "outbox/failed", "state",
	                                   "outbox/dirjob.mp4"};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		bfmt(dir, sizeof(dir), "%s/%s", root, dirs[i]);
		FUZZ_CHECK(mkdir(dir, 0700) == 0, "the fixture directories");
	}
	conf_open = fixture_conf(NULL);
	conf_token = fixture_conf(TOKEN);
	FUZZ_CHECK(store_open(conf_open->state_dir) == 0, "the state directory opens");
	for (size_t i = 0; i < N_JOBS; i++)
		save_job(conf_open->state_dir, i, i < N_FIXED ? &fixtures[i] : NULL);

	/* The outbox: clip has every file (its spritesheet empty), a only its video, link's
	 * video is a symlink to a secret, dirjob's a directory. Secrets everywhere else. */
	put_file(conf_open->outbox, "clip.mp4", 4096);
	put_file(conf_open->outbox, "clip.thumbnail.webp", 100);
	put_file(conf_open->outbox, "clip.spritesheet.jpg", 0);
	put_file(conf_open->outbox, "a.mp4", 1);
	put_file(conf_open->outbox, "x y é.mp4", 10);
	put_file(root, "secret.txt", 64);
	put_file(conf_open->state_dir, "secret.mp4", 64);
	put_file(conf_open->failed_dir, "secret.mp4", 64);
	put_file(conf_open->failed_dir, "doomed.mp4", 64);
	char target[PATH_MAX];
	bfmt(dir, sizeof(dir), "%s/link.mp4", conf_open->outbox);
	bfmt(target, sizeof(target), "%s/secret.txt", root);
	FUZZ_CHECK(symlink(target, dir) == 0, "the symlink fixture");
	FUZZ_CHECK(realpath(conf_open->outbox, outbox_real), "the outbox has a real path");

	loop = loop_new();
	FUZZ_CHECK(loop, "a loop");
	jobs = jobs_new(loop, NULL, conf_open, NULL);
	FUZZ_CHECK(jobs_load(jobs) == (int)N_JOBS, "every fixture job loads");
	router = httpd_router_new(conf_open, jobs, &stats);
	verbose = getenv("FUZZ_HTTPD_VERBOSE") != NULL;
	return 0;
}

/* ---- the request, parsed as libmicrohttpd would ------------------------------------ */

struct kv {
	const char *k, *v;
};

struct input {
	char *buf;
	const char *method, *target;
	char *path;   /* decoded */
	char *cookie; /* a copy of the Cookie header, split into cookies */
	bool raw_bad;
	struct kv args[MAX_KV], headers[MAX_KV], cookies[MAX_KV];
	size_t n_args, n_headers, n_cookies;
};

static const char *kv_find(const struct kv *v, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (!strcasecmp(v[i].k, key))
			return v[i].v;
	return NULL;
}

static const char *lookup(void *ud, enum httpd_lookup kind, const char *key)
{
	const struct input *in = ud;
	if (kind == HTTPD_HEADER)
		return kv_find(in->headers, in->n_headers, key);
	if (kind == HTTPD_ARG)
		return kv_find(in->args, in->n_args, key);
	return kv_find(in->cookies, in->n_cookies, key);
}

static char *next_line(char **p)
{
	char *s = *p;
	if (!s)
		return NULL;
	char *nl = strchr(s, '\n');
	if (nl) {
		*nl = '\0';
		*p = nl + 1;
	} else {
		*p = NULL;
	}
	size_t n = strlen(s);
	if (n && s[n - 1] == '\r')
		s[n - 1] = '\0';
	return s;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

static void parse_query(struct input *in, char *q)
{
	while (q && in->n_args < MAX_KV) {
		char *amp = strchr(q, '&');
		if (amp)
			*amp = '\0';
		for (char *p = q; *p; p++)
			if (*p == '+')
				*p = ' ';
		char *eq = strchr(q, '=');
		if (eq)
			*eq = '\0';
		MHD_http_unescape(q);
		if (eq)
			MHD_http_unescape(eq + 1);
		in->args[in->n_args++] = (struct kv){q, eq ? eq + 1 : NULL};
		q = amp ? amp + 1 : NULL;
	}
}

static void parse_cookies(struct input *in, char *c)
{
	while (c && in->n_cookies < MAX_KV) {
		char *semi = strchr(c, ';');
		if (semi)
			*semi = '\0';
		char *eq = strchr(c, '=');
		if (eq) {
			*eq = '\0';
			char *v = trim(eq + 1);
			size_t n = strlen(v);
			if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
				v[n - 1] = '\0';
				v++;
			}
			in->cookies[in->n_cookies++] = (struct kv){trim(c), v};
		}
		c = semi ? semi + 1 : NULL;
	}
}

/* Fills IN from DATA; false when there is no request line to speak of. */
static bool parse_input(struct input *in, const uint8_t *data, size_t size)
{
	memset(in, 0, sizeof(*in));
	in->buf = malloc(size * 2 + 2);
	if (!in->buf)
		return false;
	memcpy(in->buf, data, size);
	in->buf[size] = '\0';
	char *p = in->buf;
	in->method = next_line(&p);
	char *target = next_line(&p);
	if (!in->method || !target)
		return false;
	in->target = target;
	in->raw_bad = httpd_raw_target_bad(target);
	/* The path and query are split in a copy (the raw target stays for the oracles). */
	in->path = in->buf + size + 1;
	memcpy(in->path, target, strlen(target) + 1);
	char *qm = strchr(in->path, '?');
	if (qm) {
		*qm = '\0';
		parse_query(in, qm + 1);
	}
	MHD_http_unescape(in->path);
	char *line, *cookie = NULL;
	while ((line = next_line(&p)) && in->n_headers < MAX_KV) {
		char *colon = strchr(line, ':');
		if (!colon || colon == line)
			continue; /* libmicrohttpd refuses such a request before us */
		*colon = '\0';
		in->headers[in->n_headers++] = (struct kv){line, trim(colon + 1)};
		if (!cookie && !strcasecmp(line, "Cookie"))
			cookie = (char *)in->headers[in->n_headers - 1].v;
	}
	if (cookie) {
		in->cookie = xstrdup(cookie);
		parse_cookies(in, in->cookie);
	}
	return true;
}

/* ---- running one request ---------------------------------------------------------- */

static unsigned run(struct input *in, const char *method, const struct conf *c,
                    struct httpd_response *rs)
{
	httpd_set_conf(router, c);
	struct httpd_request rq = {method, in->path, in->raw_bad, lookup, in};
	httpd_response_init(rs);
	unsigned code = httpd_refuse(router, &rq, rs);
	if (code) {
		FUZZ_CHECK(rs->action == HTTPD_ANSWER && rs->code == code,
		           "a refusal is an answer");
		return code;
	}
	FUZZ_CHECK(rs->action == HTTPD_CONTINUE, "no refusal, no answer yet");
	code = httpd_route(router, &rq, rs);
	FUZZ_CHECK(rs->code == code, "the code returned is the response's");
	FUZZ_CHECK((rs->action == HTTPD_WAIT) == (code == 0), "only a wait has no code yet");
	return code;
}

static bool is_get(const char *m)
{
	return !strcmp(m, "GET");
}
static bool is_head(const char *m)
{
	return !strcmp(m, "HEAD");
}

/* The fixture job NAME_OR_ID names: its index in claim order, or -1. */
static long long fixture_index(const char *id)
{
	for (size_t i = 0; i < jobs_total(jobs); i++) {
		const struct job *j = jobs_at(jobs, i);
		if (!strcmp(j->name, id) || (j->video_id && !strcmp(j->video_id, id)))
			return (long long)i;
	}
	return -1;
}

static long long name_index(const char *name)
{
	for (size_t i = 0; i < jobs_total(jobs); i++)
		if (!strcmp(jobs_at(jobs, i)->name, name))
			return (long long)i;
	return -1;
}

enum route {
	R_BAD,
	R_PAGE,
	R_HEALTH,
	R_METRICS,
	R_EVENTS,
	R_INBOX,
	R_LIST,
	R_VIDEO,
	R_CONTENT,
	R_POLL,
	R_OTHER
};

/* The route of the decoded path, and for the video routes the job {id} names (or -1). */
static enum route route_of(const struct input *in, long long *job)
{
	static const char videos[] = "/api/v1/videos/";
	const char *u = in->path;
	*job = -1;
	if (in->raw_bad || u[0] != '/')
		return R_BAD;
	if (!strcmp(u, "/") || !strcmp(u, "/index.html"))
		return R_PAGE;
	if (!strcmp(u, "/healthz"))
		return R_HEALTH;
	if (!strcmp(u, "/metrics"))
		return R_METRICS;
	if (!strcmp(u, "/api/v1/events"))
		return R_EVENTS;
	if (!strcmp(u, "/api/v1/inbox"))
		return R_INBOX;
	if (!strcmp(u, "/api/v1/videos"))
		return R_LIST;
	if (strncmp(u, videos, sizeof(videos) - 1) != 0)
		return R_OTHER;
	/* The rest names a job or a video id, which may hold '/' (LiteLLM's ids, sent as
	 * %2F): the whole rest first, else the rest up to a last segment content or poll
	 * (httpd.c, route). A rest that names nothing is a 404, or a 400 when it cannot be
	 * an id at all. */
	const char *id = u + sizeof(videos) - 1, *slash = strrchr(id, '/');
	size_t n = strlen(id);
	enum route r = R_VIDEO;
	if (slash && (!strcmp(slash, "/content") || !strcmp(slash, "/poll")) &&
	    fixture_index(id) < 0) {
		r = !strcmp(slash, "/content") ? R_CONTENT : R_POLL;
		n = (size_t)(slash - id);
	}
	char name[VIDEO_ID_MAX + 2];
	if (n < sizeof(name)) {
		memcpy(name, id, n);
		name[n] = '\0';
		*job = fixture_index(name);
	}
	return r;
}

/* A token the endpoint must accept: Bearer, else the cookie (as the page sends it). */
static bool carries_token(const struct input *in)
{
	const char *a = lookup((void *)in, HTTPD_HEADER, "Authorization");
	if (a && !strncasecmp(a, "Bearer ", 7)) {
		a += 7;
		while (*a == ' ')
			a++;
		return !strcmp(a, TOKEN);
	}
	const char *c = lookup((void *)in, HTTPD_COOKIE, "sorad_token");
	return c && !strcmp(c, TOKEN);
}

static cJSON *json_body(const struct httpd_response *rs)
{
	const char *ct = httpd_response_header(rs, "Content-Type");
	FUZZ_CHECK(ct && !strcmp(ct, "application/json"), "a JSON body says so");
	cJSON *o = cJSON_ParseWithLength(rs->body.p, rs->body.len);
	if (!o)
		fprintf(stderr, "fuzz_httpd: body does not parse: %.*s\n", (int)rs->body.len,
		        rs->body.p ? rs->body.p : "");
	FUZZ_CHECK(cJSON_IsObject(o), "a JSON body parses to an object");
	return o;
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void check_error(const struct httpd_response *rs)
{
	cJSON *o = json_body(rs);
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "error");
	FUZZ_CHECK(jstr(e, "message") && jstr(e, "type") && jstr(e, "code"),
	           "an error is the seed's error object");
	cJSON_Delete(o);
	if (rs->code == 405)
		FUZZ_CHECK(httpd_response_header(rs, "Allow"), "a 405 says what is allowed");
	if (rs->code == 401)
		FUZZ_CHECK(httpd_response_header(rs, "WWW-Authenticate"), "a 401 names its scheme");
	FUZZ_CHECK(rs->fd < 0, "an error sends no file");
}

/* A video object for the fixture job at index I. */
static void check_video(const cJSON *v, long long i)
{
	const struct job *j = jobs_at(jobs, (size_t)i);
	FUZZ_CHECK(jstr(v, "name") && !strcmp(jstr(v, "name"), j->name), "the video asked for");
	FUZZ_CHECK(jstr(v, "object") && !strcmp(jstr(v, "object"), "video"), "a video object");
}

static void check_list(const struct input *in, const struct httpd_response *rs)
{
	cJSON *o = json_body(rs);
	FUZZ_CHECK(jstr(o, "object") && !strcmp(jstr(o, "object"), "list"), "a list object");
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(o, "data");
	FUZZ_CHECK(cJSON_IsArray(data), "a list has data");
	int n = cJSON_GetArraySize(data);
	const char *limit = lookup((void *)in, HTTPD_ARG, "limit");
	const char *order = lookup((void *)in, HTTPD_ARG, "order");
	const char *after = lookup((void *)in, HTTPD_ARG, "after");
	const char *filter = lookup((void *)in, HTTPD_ARG, "status");
	long long max = limit ? HTTPD_LIST_MAX : HTTPD_LIST_DEFAULT;
	if (limit && strlen(limit) < 4)
		max = atoi(limit) < HTTPD_LIST_MAX ? atoi(limit) : HTTPD_LIST_MAX;
	FUZZ_CHECK(n <= max, "a page holds at most limit items");
	FUZZ_CHECK(cJSON_IsBool(cJSON_GetObjectItemCaseSensitive(o, "has_more")), "has_more");
	const cJSON *total = cJSON_GetObjectItemCaseSensitive(o, "total");
	FUZZ_CHECK(cJSON_IsNumber(total) && total->valuedouble >= n &&
	               total->valuedouble <= (double)jobs_total(jobs),
	           "the total counts what matches");
	bool asc = order && !strcmp(order, "asc");
	long long prev = -1, cursor = after && *after ? fixture_index(after) : -1;
	FUZZ_CHECK(!(after && *after) || cursor >= 0, "a cursor that is not a job is refused");
	const char *first = NULL, *last = NULL;
	for (int k = 0; k < n; k++) {
		const cJSON *v = cJSON_GetArrayItem(data, k);
		const char *name = jstr(v, "name");
		long long i = name ? name_index(name) : -1;
		FUZZ_CHECK(i >= 0, "a listed video is a job");
		check_video(v, i);
		if (k)
			FUZZ_CHECK(asc ? i > prev : i < prev,
			           "the list is in (reverse) claim order");
		if (cursor >= 0)
			FUZZ_CHECK(asc ? i > cursor : i < cursor,
			           "the page starts after the cursor");
		const char *status = jstr(v, "status"), *state = jstr(v, "state");
		FUZZ_CHECK(status && state, "a listed video has a status and a state");
		if (filter && *filter)
			FUZZ_CHECK(!strcmp(status, filter) || !strcmp(state, filter),
			           "every listed video matches the filter");
		prev = i;
		if (!first)
			first = jstr(v, "id");
		last = jstr(v, "id");
	}
	const char *fid = jstr(o, "first_id"), *lid = jstr(o, "last_id");
	FUZZ_CHECK(n ? fid && lid && !strcmp(fid, first) && !strcmp(lid, last) : !fid && !lid,
	           "first_id and last_id are the page's ends");
	cJSON_Delete(o);
}

static void check_content(const struct httpd_response *rs, long long job)
{
	FUZZ_CHECK(job >= 0, "a file only for a job that exists");
	const struct job *j = jobs_at(jobs, (size_t)job);
	FUZZ_CHECK(j->state == JOB_DONE, "a file only for a done job");
	const char *cr = httpd_response_header(rs, "Content-Range");
	if (rs->code == 304) {
		FUZZ_CHECK(rs->fd < 0, "a 304 sends no file");
		return;
	}
	if (rs->code == 416) {
		char want[96];
		bfmt(want, sizeof(want), "bytes */%lld", rs->file_size);
		FUZZ_CHECK(cr && !strcmp(cr, want), "a 416 gives the file's size");
		return;
	}
	FUZZ_CHECK(rs->fd >= 0, "a 200 or 206 of content sends a file");
	char link[64], got[PATH_MAX], want[PATH_MAX];
	bfmt(link, sizeof(link), "/proc/self/fd/%d", rs->fd);
	ssize_t n = readlink(link, got, sizeof(got) - 1);
	FUZZ_CHECK(n > 0, "the descriptor has a path");
	got[n] = '\0';
	size_t ol = strlen(outbox_real);
	FUZZ_CHECK(!strncmp(got, outbox_real, ol) && got[ol] == '/' && !strchr(got + ol + 1, '/'),
	           "a file served is in the outbox");
	bool own = false;
	for (int v = 0; v < 3 && !own; v++) {
		bfmt(want, sizeof(want), "%s/%s%s", outbox_real, j->name,
		     outbox_suffix((enum api_variant)v));
		own = !strcmp(got, want);
	}
	FUZZ_CHECK(own, "the file served is the job's own");
	struct stat st;
	FUZZ_CHECK(fstat(rs->fd, &st) == 0 && S_ISREG(st.st_mode), "a regular file");
	FUZZ_CHECK(rs->file_size == (long long)st.st_size, "the size is the file's");
	FUZZ_CHECK(rs->off >= 0 && rs->len >= 0 && rs->off + rs->len <= rs->file_size,
	           "the bytes sent are inside the file");
	if (rs->code == 200) {
		FUZZ_CHECK(rs->off == 0 && rs->len == rs->file_size && !cr,
		           "a 200 is the whole file");
	} else {
		char range[96];
		bfmt(range, sizeof(range), "bytes %lld-%lld/%lld", rs->off, rs->off + rs->len - 1,
		     rs->file_size);
		FUZZ_CHECK(rs->len > 0 && cr && !strcmp(cr, range),
		           "Content-Range is what is sent");
	}
}

/* Every oracle on one answer, CODE to METHOD for IN. */
static void check(const struct input *in, const char *method, bool token,
                  const struct httpd_response *rs, unsigned code)
{
	long long job;
	enum route r = route_of(in, &job);
	bool allowed_method = is_get(method) || is_head(method);
	if (!allowed_method) {
		FUZZ_CHECK(code == 405, "a method other than GET and HEAD is refused");
		check_error(rs);
		return;
	}
	if (code == 413) {
		const char *cl = lookup((void *)in, HTTPD_HEADER, "Content-Length");
		FUZZ_CHECK((cl && strcmp(cl, "0")) ||
		               lookup((void *)in, HTTPD_HEADER, "Transfer-Encoding"),
		           "413 only for a body");
		check_error(rs);
		return;
	}
	if (code == 0) {
		FUZZ_CHECK(r == R_POLL && is_get(method) && job >= 0 &&
		               !job_state_is_final(jobs_at(jobs, (size_t)job)->state),
		           "only a GET /poll of an unfinished job waits");
		FUZZ_CHECK(rs->wait_s > 0 && rs->wait_s <= HTTPD_POLL_MAX_S &&
		               !strcmp(rs->wait_name, jobs_at(jobs, (size_t)job)->name),
		           "it waits for its job, within the limit");
		return;
	}
	FUZZ_CHECK(rs->action == (r == R_EVENTS && is_get(method) && code == 200 ? HTTPD_STREAM
	                                                                         : HTTPD_ANSWER),
	           "only GET /api/v1/events streams");
	FUZZ_CHECK(rs->fd < 0 || r == R_CONTENT, "a file only from /content");
	if (code >= 400 && code != 416)
		check_error(rs);
	if (token && r != R_BAD && r != R_PAGE && r != R_HEALTH && !carries_token(in)) {
		FUZZ_CHECK(code == 401, "without its token, 401");
		return;
	}
	FUZZ_CHECK(code != 401, "401 only without the token");
	switch (r) {
	case R_BAD:
		FUZZ_CHECK(code == 400, "a control byte in the target is a 400");
		break;
	case R_PAGE:
		FUZZ_CHECK(code == 200 || code == 304, "the page");
		FUZZ_CHECK(code == 200 ? rs->static_body && rs->static_len
		                       : !rs->static_body && !rs->body.len,
		           "the page, or nothing when unchanged");
		break;
	case R_HEALTH:
	case R_METRICS:
		FUZZ_CHECK(code == 200 && rs->body.len, "health and metrics always answer");
		if (r == R_HEALTH) {
			cJSON *o = json_body(rs);
			FUZZ_CHECK(jstr(o, "status") && !strcmp(jstr(o, "status"), "ok"),
			           "healthz ok");
			cJSON_Delete(o);
		}
		break;
	case R_EVENTS:
		FUZZ_CHECK(code == 200, "the event stream");
		break;
	case R_INBOX: {
		cJSON *o = json_body(rs);
		FUZZ_CHECK(code == 200 && cJSON_IsArray(cJSON_GetObjectItem(o, "data")),
		           "the inbox notes");
		cJSON_Delete(o);
		break;
	}
	case R_LIST:
		FUZZ_CHECK(code == 200 || code == 400, "a list or a bad parameter");
		if (code == 200)
			check_list(in, rs);
		break;
	case R_VIDEO:
	case R_POLL:
		FUZZ_CHECK(code == 200 || code == 400 || code == 404, "a video or why not");
		FUZZ_CHECK(code != 200 || job >= 0, "a video only for a job that exists");
		FUZZ_CHECK(code != 404 || job < 0, "a job that exists is found");
		if (code == 200) {
			cJSON *o = json_body(rs);
			check_video(o, job);
			cJSON_Delete(o);
		}
		break;
	case R_CONTENT:
		FUZZ_CHECK(code == 200 || code == 206 || code == 304 || code == 400 ||
		               code == 404 || code == 409 || code == 416,
		           "content or why not");
		FUZZ_CHECK(code != 409 ||
		               (job >= 0 && jobs_at(jobs, (size_t)job)->state != JOB_DONE),
		           "409 is about a job that is not done");
		if (code == 200 || code == 206 || code == 304 || code == 416)
			check_content(rs, job);
		break;
	case R_OTHER:
		FUZZ_CHECK(code == 404, "anything else is not found");
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in;
	if (size > 64 * 1024)
		return 0;
	if (!parse_input(&in, data, size)) {
		free(in.buf);
		return 0;
	}
	struct httpd_response open, tok, other;
	unsigned code = run(&in, in.method, conf_open, &open);
	if (verbose)
		fprintf(stderr, "fuzz_httpd: %s %s -> %u%s%s\n", in.method, in.path, code,
		        open.fd >= 0 ? " (file)" : "", in.raw_bad ? " (raw target bad)" : "");
	check(&in, in.method, false, &open, code);

	/* The same with a token configured: 401, or the same answer. */
	unsigned tcode = run(&in, in.method, conf_token, &tok);
	check(&in, in.method, true, &tok, tcode);
	FUZZ_CHECK(tcode == 401 || tcode == code, "the token changes nothing but a 401");
	httpd_response_release(&tok);

	/* HEAD answers as GET does; a /poll that would wait answers at once. */
	if (is_get(in.method) || is_head(in.method)) {
		const char *m = is_get(in.method) ? "HEAD" : "GET";
		unsigned ocode = run(&in, m, conf_open, &other);
		check(&in, m, false, &other, ocode);
		unsigned g = is_get(in.method) ? code : ocode, h = is_get(in.method) ? ocode : code;
		FUZZ_CHECK(h == g || (g == 0 && h == 200), "HEAD answers as GET does");
		httpd_response_release(&other);
	}
	httpd_response_release(&open);
	free(in.cookie);
	free(in.buf);
	return 0;
}
