/*
 * api_client.c — drives the real Videos API client (src/api.c) against sora-sim and
 * checks what happened on both sides (the request's result, the simulator's
 * /__sim/stats). Run by api_client.sh:
 *
 *   api_client MODE     MODE: flow | 5xx | 429 | reset | truncate | local
 *
 * Environment: SIM_URL (http://127.0.0.1:PORT), SIM_KEY (the key the sim wants),
 * TEST_DIR (scratch directory), REF_IMAGE (a 1280x720 PNG, flow mode).
 * The client runs on a small epoll + timerfd loop written like curl's
 * ephiperfifo.c, exactly as the daemon embeds it; one check uses api_client_run().
 * On a failed check it prints what was expected and what came, and exits 1.
 * The API key is never printed; the script greps the output and logs for it.
 */
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "log.h"
#include "util.h"

static const char *mode = "?";
static const char *sim_url, *sim_key, *test_dir;
static char api_base[512];

static void die(int line, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
static void die(int line, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "FAIL [api_client %s, line %d]: ", mode, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}
#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond))                                                                       \
			die(__LINE__, __VA_ARGS__);                                                \
	} while (0)

static long long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------ the event loop (ephiperfifo) */

static struct {
	int ep, tfd;
	struct api_client *c;
} L = {-1, -1, NULL};

static void loop_watch(int fd, int what, void *ud)
{
	struct epoll_event ev = {0};
	(void)ud;
	if (what == CURL_POLL_REMOVE) {
		epoll_ctl(L.ep, EPOLL_CTL_DEL, fd, NULL); /* may already be closed: fine */
		return;
	}
	ev.data.fd = fd;
	ev.events =
	    ((what & CURL_POLL_IN) ? EPOLLIN : 0u) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0u);
	if (epoll_ctl(L.ep, EPOLL_CTL_MOD, fd, &ev) < 0 && errno == ENOENT)
		epoll_ctl(L.ep, EPOLL_CTL_ADD, fd, &ev);
}

static void loop_timer(long ms, void *ud)
{
	struct itimerspec its = {0};
	(void)ud;
	if (ms == 0)
		its.it_value.tv_nsec = 1;
	else if (ms > 0) {
		its.it_value.tv_sec = ms / 1000;
		its.it_value.tv_nsec = (ms % 1000) * 1000000;
	}
	timerfd_settime(L.tfd, 0, &its, NULL);
}

static void loop_init(void)
{
	struct epoll_event ev = {.events = EPOLLIN};
	L.ep = epoll_create1(EPOLL_CLOEXEC);
	L.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	CHECK(L.ep >= 0 && L.tfd >= 0, "epoll/timerfd: %s", strerror(errno));
	ev.data.fd = L.tfd;
	epoll_ctl(L.ep, EPOLL_CTL_ADD, L.tfd, &ev);
}

/* Runs the loop until PRED(ARG) holds; fails after TIMEOUT_MS. */
static void loop_until(bool (*pred)(void *), void *arg, long timeout_ms, const char *what)
{
	long long end = mono_ms() + timeout_ms;

	while (!pred(arg)) {
		struct epoll_event evs[16];
		CHECK(mono_ms() < end, "expected %s within %ld ms, timed out", what, timeout_ms);
		int n = epoll_wait(L.ep, evs, 16, 50);
		for (int i = 0; i < n; i++) {
			if (evs[i].data.fd == L.tfd) {
				uint64_t x;
				if (read(L.tfd, &x, sizeof(x)) < 0 && errno != EAGAIN)
					die(__LINE__, "timerfd read: %s", strerror(errno));
				api_client_timeout(L.c);
				continue;
			}
			int mask = 0;
			if (evs[i].events & EPOLLIN)
				mask |= CURL_CSELECT_IN;
			if (evs[i].events & EPOLLOUT)
				mask |= CURL_CSELECT_OUT;
			if (evs[i].events & (EPOLLERR | EPOLLHUP))
				mask |= CURL_CSELECT_ERR;
			api_client_socket_action(L.c, evs[i].data.fd, mask);
		}
	}
}

static bool time_passed(void *arg)
{
	return mono_ms() >= *(long long *)arg;
}

/* Keeps the loop (and so the client) running for MS milliseconds. */
static void loop_for(long ms)
{
	long long until = mono_ms() + ms;
	loop_until(time_passed, &until, ms + 5000, "a pause");
}

/* --------------------------------------------------------- request outcomes */

struct outcome {
	bool done;
	struct api_result r; /* copied; video and list moved in */
	char message[600];
	char code[130];
};

static void on_done(struct api_req *req, void *ud)
{
	struct outcome *o = ud;
	struct api_result *res = api_req_result(req);

	CHECK(!o->done, "expected one callback per request, got a second one");
	o->done = true;
	o->r = *res;
	/* take ownership of what the client frees after the callback */
	video_init(&o->r.video);
	video_move(&o->r.video, &res->video);
	o->r.list = res->list;
	video_list_init(&res->list);
	api_error_init(&o->r.error);
	bcopy_str(o->message, sizeof(o->message), res->error.message ? res->error.message : "");
	bcopy_str(o->code, sizeof(o->code), res->error.code ? res->error.code : "");
}

static void outcome_release(struct outcome *o)
{
	video_release(&o->r.video);
	video_list_release(&o->r.list);
	memset(o, 0, sizeof(*o));
}

static bool is_done(void *arg)
{
	return ((struct outcome *)arg)->done;
}

static void wait_done(struct outcome *o, const char *what)
{
	loop_until(is_done, o, 60000, what);
}

#define EXPECT_KIND(o, want, what)                                                                 \
	CHECK((o)->r.kind == (want), "%s: expected %s, got %s (HTTP %ld, %u attempts: %s)", what,  \
	      api_kind_name(want), api_kind_name((o)->r.kind), (o)->r.http_status,                 \
	      (o)->r.attempts, (o)->message)
#define EXPECT_ATTEMPTS(o, want, what)                                                             \
	CHECK((o)->r.attempts == (want), "%s: expected %u attempt(s), got %u (%s: %s)", what,      \
	      (unsigned)(want), (o)->r.attempts, api_kind_name((o)->r.kind), (o)->message)

/* ---------------------------------------------------------------- clients */

static double zero_jitter(void *ud)
{
	(void)ud;
	return 0.0;
}

static char extra_header[] = "X-Sorad-Test: yes";

static struct api_client *client_at(const char *base, const char *key, enum auth_style style,
                                    unsigned max_retries, long base_ms, bool hooks)
{
	struct conf cf;
	struct api_loop_hooks h = {loop_watch, loop_timer, NULL};
	char *extra[] = {extra_header};

	memset(&cf, 0, sizeof(cf));
	cf.api_base = (char *)base;
	cf.api_key = (char *)key;
	cf.auth_style = style;
	cf.extra_headers = extra;
	cf.n_extra_headers = 1;
	cf.connect_timeout_ms = 2000;
	cf.request_timeout_ms = 10000;
	cf.max_retries = max_retries;
	cf.retry_base_ms = base_ms;
	cf.retry_max_ms = 2000;
	struct api_client *c = api_client_new(&cf, hooks ? &h : NULL);
	CHECK(c, "expected a client, api_client_new returned NULL");
	/* Forget the key the client registered: any leak from api.c would now reach the log
	 * unredacted, and the script's grep would catch it. */
	log_forget_secrets();
	if (hooks)
		L.c = c;
	return c;
}

static struct api_client *client(unsigned max_retries, long base_ms)
{
	return client_at(api_base, sim_key, AUTH_BEARER, max_retries, base_ms, true);
}

/* --------------------------------------------------------- simulator stats */

static size_t grow(char *p, size_t sz, size_t n, void *ud)
{
	char **buf = ud;
	size_t old = *buf ? strlen(*buf) : 0;
	*buf = xrealloc(*buf, old + sz * n + 1);
	memcpy(*buf + old, p, sz * n);
	(*buf)[old + sz * n] = '\0';
	return sz * n;
}

/* /__sim/stats as a cJSON tree (a blocking call: this is a test). */
static cJSON *sim_stats(void)
{
	char url[600], *body = NULL;
	CURL *e = curl_easy_init();
	bfmt(url, sizeof(url), "%s/__sim/stats", sim_url);
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, grow);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, &body);
	CURLcode rc = curl_easy_perform(e);
	curl_easy_cleanup(e);
	CHECK(rc == CURLE_OK && body, "expected /__sim/stats, got %s", curl_easy_strerror(rc));
	cJSON *j = cJSON_Parse(body);
	free(body);
	CHECK(j, "expected JSON from /__sim/stats");
	return j;
}

/* requests[ENDPOINT][OUTCOME] ("200", "429", "reset", "truncated"...), 0 if absent. */
static long sim_count(const char *endpoint, const char *outcome)
{
	cJSON *j = sim_stats();
	cJSON *ep = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(j, "requests"), endpoint);
	cJSON *n = cJSON_GetObjectItemCaseSensitive(ep, outcome);
	long v = cJSON_IsNumber(n) ? (long)n->valuedouble : 0;
	cJSON_Delete(j);
	return v;
}

static long sim_creates(const char *prompt)
{
	cJSON *j = sim_stats();
	cJSON *n = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(j, "creates_by_prompt"), prompt);
	long v = cJSON_IsNumber(n) ? (long)n->valuedouble : 0;
	cJSON_Delete(j);
	return v;
}

#define EP_CREATE "POST /v1/videos"
#define EP_GET "GET /v1/videos/{id}"
#define EP_CONTENT "GET /v1/videos/{id}/content"

/* ------------------------------------------------------------ small helpers */

static void print_attempts(const char *what, const struct outcome *o)
{
	printf("%s: %u attempts", what, o->r.attempts);
	for (unsigned i = 0; i < o->r.attempts && i < API_ATTEMPT_TIMES; i++) {
		const struct api_attempt *a = &o->r.attempt[i];
		printf(" [+%lld..%lld ms: HTTP %ld curl %d, server wait %ld, waits %ld]",
		       a->start_ms - o->r.attempt[0].start_ms, a->end_ms - o->r.attempt[0].start_ms,
		       a->http_status, a->curl_code, a->server_after_ms, a->wait_ms);
	}
	printf("\n");
}

static void retrieve(struct api_client *c, const char *id, struct outcome *o)
{
	memset(o, 0, sizeof(*o));
	CHECK(api_retrieve(c, id, "t", on_done, o), "expected a request");
	wait_done(o, "retrieve");
}

static int open_out(const char *name)
{
	char path[700];
	bfmt(path, sizeof(path), "%s/%s", test_dir, name);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	CHECK(fd >= 0, "expected to create %s: %s", path, strerror(errno));
	return fd;
}

static void expect_magic(int fd, const char *what, size_t off, const char *magic, size_t n)
{
	char buf[16] = "";
	CHECK(pread(fd, buf, n, (off_t)off) == (ssize_t)n && memcmp(buf, magic, n) == 0,
	      "%s: expected \"%.*s\" at byte %zu of the file", what, (int)n, magic, off);
}

static long long fd_size(int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 ? (long long)st.st_size : -1;
}

/* Creates a video and polls it to completion, honouring openai-poll-after-ms. */
static void create_and_wait(struct api_client *c, const struct api_create_params *p,
                            struct video *out, bool tolerate_lost)
{
	struct outcome o;
	int tries = 0;

	for (;;) {
		memset(&o, 0, sizeof(o));
		CHECK(api_create(c, p, "t", on_done, &o), "expected a request");
		wait_done(&o, "create");
		if (o.r.kind == API_OK)
			break;
		CHECK(tolerate_lost && ++tries < 20, "create: expected ok, got %s (HTTP %ld): %s",
		      api_kind_name(o.r.kind), o.r.http_status, o.message);
		outcome_release(&o);
	}
	CHECK(o.r.has_video && o.r.video.status == VIDEO_QUEUED,
	      "create: expected a queued video, got status %s",
	      o.r.has_video ? video_status_name(o.r.video.status) : "(no video)");
	char *id = xstrdup(o.r.video.id);
	outcome_release(&o);

	int last_progress = -1;
	for (int polls = 0;; polls++) {
		CHECK(polls < 200, "expected %s to complete", id);
		retrieve(c, id, &o);
		EXPECT_KIND(&o, API_OK, "retrieve while generating");
		CHECK(o.r.video.progress >= last_progress, "progress went back from %d to %d",
		      last_progress, o.r.video.progress);
		last_progress = o.r.video.progress;
		if (o.r.video.status == VIDEO_COMPLETED)
			break;
		CHECK(o.r.video.status == VIDEO_QUEUED || o.r.video.status == VIDEO_IN_PROGRESS,
		      "expected queued/in_progress, got %s", o.r.video.status_raw);
		CHECK(o.r.poll_after_ms > 0, "expected openai-poll-after-ms on a pending video");
		long wait = o.r.poll_after_ms;
		outcome_release(&o);
		loop_for(wait);
	}
	video_move(out, &o.r.video);
	outcome_release(&o);
	free(id);
}

/* ---------------------------------------------------------- header capture */

/* A one-shot HTTP server in a child process: accepts one connection, writes the
 * request head into PIPE_W, answers 401 with an OpenAI error body. Returns the port. */
static int capture_server(int pipe_w, pid_t *pid)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t al = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(s >= 0 && bind(s, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(s, 4) == 0 &&
	          getsockname(s, (struct sockaddr *)&a, &al) == 0,
	      "capture server: %s", strerror(errno));
	*pid = fork();
	CHECK(*pid >= 0, "fork: %s", strerror(errno));
	if (*pid == 0) {
		static const char body[] =
		    "{\"error\":{\"message\":\"nope\",\"type\":\"invalid_request_error\","
		    "\"param\":null,\"code\":\"invalid_api_key\"}}";
		char head[8192], resp[512];
		size_t n = 0;
		int k = accept(s, NULL, NULL);
		if (k < 0)
			_exit(2);
		while (n < sizeof(head) - 1) {
			ssize_t got = read(k, head + n, sizeof(head) - 1 - n);
			if (got <= 0)
				break;
			n += (size_t)got;
			head[n] = '\0';
			if (strstr(head, "\r\n\r\n"))
				break;
		}
		if (write(pipe_w, head, n) < 0)
			_exit(3);
		int m = snprintf(resp, sizeof(resp),
		                 "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\n"
		                 "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
		                 sizeof(body) - 1, body);
		if (write(k, resp, (size_t)m) < 0)
			_exit(4);
		close(k);
		_exit(0);
	}
	close(s);
	return ntohs(a.sin_port);
}

/* Sends one request with STYLE to a capture server; returns the request head. */
static char *captured_head(enum auth_style style, const char *key)
{
	int p[2];
	pid_t pid;
	char base[128], *head = xcalloc(1, 8192);
	size_t n = 0;
	struct outcome o = {0};
	int status;

	CHECK(pipe(p) == 0, "pipe: %s", strerror(errno));
	int port = capture_server(p[1], &pid);
	close(p[1]);
	bfmt(base, sizeof(base), "http://127.0.0.1:%d/v1", port);
	struct api_client *c = client_at(base, key, style, 3, 20, true);
	CHECK(api_retrieve(c, "video_hdr", "t", on_done, &o), "expected a request");
	wait_done(&o, "retrieve against the capture server");
	EXPECT_KIND(&o, API_CONFIG, "401 from the capture server");
	EXPECT_ATTEMPTS(&o, 1, "401 is never retried");
	CHECK(strcmp(o.code, "invalid_api_key") == 0, "expected code invalid_api_key, got %s",
	      o.code);
	outcome_release(&o);
	api_client_free(c);
	for (ssize_t got; n < 8191 && (got = read(p[0], head + n, 8191 - n)) > 0;)
		n += (size_t)got;
	close(p[0]);
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "capture server failed");
	return head;
}

/* Whether HEAD has the line "NAME: VALUE" (name case-insensitive, value exact). */
static bool has_header(const char *head, const char *name, const char *value)
{
	size_t nl = strlen(name);
	for (const char *p = strstr(head, "\r\n"); p; p = strstr(p + 2, "\r\n")) {
		const char *line = p + 2;
		if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
			const char *v = line + nl + 1;
			while (*v == ' ')
				v++;
			size_t vl = strlen(value);
			if (strncmp(v, value, vl) == 0 && v[vl] == '\r')
				return true;
		}
	}
	return false;
}

static void t_headers(void)
{
	const char *key = sim_key;
	char bearer[300];
	char *h;

	bfmt(bearer, sizeof(bearer), "Bearer %s", key);
	h = captured_head(AUTH_API_KEY, key);
	CHECK(strncmp(h, "GET /v1/videos/video_hdr HTTP/1.1\r\n", 35) == 0,
	      "expected the request line for /v1/videos/video_hdr, got \"%.40s\"", h);
	CHECK(has_header(h, "api-key", key), "auth_style api-key: expected an api-key header "
	                                     "carrying the key (value not shown)");
	CHECK(!strcasestr(h, "\r\nAuthorization:"),
	      "auth_style api-key: expected no Authorization");
	CHECK(has_header(h, "User-Agent", API_USER_AGENT), "expected User-Agent: %s",
	      API_USER_AGENT);
	CHECK(has_header(h, "Accept", "application/json"), "expected Accept: application/json");
	CHECK(has_header(h, "X-Sorad-Test", "yes"), "expected the configured extra header");
	free(h);

	h = captured_head(AUTH_BEARER, key);
	CHECK(has_header(h, "Authorization", bearer),
	      "auth_style bearer: expected Authorization: Bearer <key> (value not shown)");
	CHECK(!strcasestr(h, "\r\napi-key:"), "auth_style bearer: expected no api-key header");
	free(h);
	printf("headers: api-key and bearer styles, User-Agent, Accept, extra header: ok\n");
}

/* ------------------------------------------------------------------- modes */

static void t_flow(void)
{
	struct api_client *c = client(3, 50);
	struct outcome o, dl[3];
	struct video v;
	const char *ref = getenv("REF_IMAGE");
	const char *prompt = "A lighthouse at dusk, waves (api_client flow)";
	struct api_create_params p = {.prompt = prompt,
	                              .model = "sora-2",
	                              .seconds = "4",
	                              .size = "1280x720",
	                              .input_reference = ref};

	/* create with a reference image, poll to completion */
	video_init(&v);
	CHECK(ref, "REF_IMAGE not set");
	create_and_wait(c, &p, &v, false);
	CHECK(sim_creates(prompt) == 1,
	      "expected the sim to have created 1 video for the prompt, "
	      "got %ld",
	      sim_creates(prompt));
	CHECK(v.completed_at > 0 && v.expires_at > v.completed_at,
	      "expected completed_at and expires_at, got %lld %lld", v.completed_at, v.expires_at);
	printf("flow: created %s (with reference image) and it completed\n", v.id);

	/* three variants at once, streamed to files */
	static const struct {
		enum api_variant var;
		const char *file, *magic;
		size_t off;
	} vars[] = {{API_VARIANT_VIDEO, "out.mp4", "ftyp", 4},
	            {API_VARIANT_THUMBNAIL, "out.webp", "WEBP", 8},
	            {API_VARIANT_SPRITESHEET, "out.jpg", "\xff\xd8\xff", 0}};
	int fds[3];
	struct rusage ru0, ru1;
	getrusage(RUSAGE_SELF, &ru0);
	for (int i = 0; i < 3; i++) {
		memset(&dl[i], 0, sizeof(dl[i]));
		fds[i] = open_out(vars[i].file);
		CHECK(api_download(c, v.id, vars[i].var, fds[i], 0, "t", on_done, &dl[i]),
		      "expected a request");
	}
	for (int i = 0; i < 3; i++) {
		wait_done(&dl[i], "download");
		EXPECT_KIND(&dl[i], API_OK, vars[i].file);
		CHECK(dl[i].r.content_length > 0 && dl[i].r.bytes == dl[i].r.content_length &&
		          fd_size(fds[i]) == dl[i].r.bytes,
		      "%s: expected file size == bytes == Content-Length, got %lld, %lld, %lld",
		      vars[i].file, fd_size(fds[i]), dl[i].r.bytes, dl[i].r.content_length);
		expect_magic(fds[i], vars[i].file, vars[i].off, vars[i].magic,
		             strlen(vars[i].magic));
		printf("flow: %s %lld bytes\n", vars[i].file, dl[i].r.bytes);
		close(fds[i]);
	}
	getrusage(RUSAGE_SELF, &ru1);
	long grew_kb = ru1.ru_maxrss - ru0.ru_maxrss;
	CHECK(dl[0].r.bytes > 1024 * 1024 && grew_kb * 1024 < dl[0].r.bytes / 2,
	      "expected memory not to grow with the %lld-byte download, peak RSS grew %ld KiB",
	      dl[0].r.bytes, grew_kb);
	printf("flow: peak RSS grew %ld KiB while downloading %lld bytes\n", grew_kb,
	       dl[0].r.bytes);

	/* remix */
	memset(&o, 0, sizeof(o));
	CHECK(api_remix(c, v.id, "The same lighthouse at night", "t", on_done, &o), "request");
	wait_done(&o, "remix");
	EXPECT_KIND(&o, API_OK, "remix");
	CHECK(o.r.video.remixed_from_video_id && strcmp(o.r.video.remixed_from_video_id, v.id) == 0,
	      "remix: expected remixed_from_video_id %s, got %s", v.id,
	      o.r.video.remixed_from_video_id ? o.r.video.remixed_from_video_id : "(null)");
	char *remix_id = xstrdup(o.r.video.id);
	outcome_release(&o);

	/* list: both ids, paging with after= */
	struct api_list_params lp = {10, NULL, "desc"};
	memset(&o, 0, sizeof(o));
	CHECK(api_list(c, &lp, on_done, &o), "request");
	wait_done(&o, "list");
	EXPECT_KIND(&o, API_OK, "list");
	bool seen_v = false, seen_r = false;
	for (size_t i = 0; i < o.r.list.n; i++) {
		seen_v |= strcmp(o.r.list.data[i].id, v.id) == 0;
		seen_r |= strcmp(o.r.list.data[i].id, remix_id) == 0;
	}
	CHECK(seen_v && seen_r && o.r.list.n == 2, "list: expected both videos, got %zu (%d %d)",
	      o.r.list.n, seen_v, seen_r);
	outcome_release(&o);
	lp.limit = 1;
	memset(&o, 0, sizeof(o));
	api_list(c, &lp, on_done, &o);
	wait_done(&o, "list page 1");
	CHECK(o.r.kind == API_OK && o.r.list.n == 1 && o.r.list.has_more && o.r.list.last_id,
	      "list limit 1: expected one video and has_more, got %zu, %d", o.r.list.n,
	      o.r.list.has_more);
	char *after = xstrdup(o.r.list.last_id);
	outcome_release(&o);
	lp.after = after;
	memset(&o, 0, sizeof(o));
	api_list(c, &lp, on_done, &o);
	wait_done(&o, "list page 2");
	CHECK(o.r.kind == API_OK && o.r.list.n == 1 && strcmp(o.r.list.data[0].id, after) != 0,
	      "list after=%s: expected the other video", after);
	outcome_release(&o);
	free(after);
	printf("flow: remix %s, list and paging ok\n", remix_id);

	/* delete, then the video is gone: 404, one attempt */
	memset(&o, 0, sizeof(o));
	api_delete(c, remix_id, "t", on_done, &o);
	wait_done(&o, "delete");
	EXPECT_KIND(&o, API_OK, "delete");
	CHECK(o.r.deleted, "delete: expected deleted:true");
	outcome_release(&o);
	long n404 = sim_count(EP_GET, "404");
	retrieve(c, remix_id, &o);
	EXPECT_KIND(&o, API_NOT_FOUND, "retrieve after delete");
	EXPECT_ATTEMPTS(&o, 1, "404 is never retried");
	CHECK(sim_count(EP_GET, "404") == n404 + 1, "expected the sim to see exactly one 404");
	outcome_release(&o);
	free(remix_id);

	/* 400: validation and content policy, one attempt each */
	long n400 = sim_count(EP_CREATE, "400");
	struct api_create_params bad = {.prompt = "A cat",
	                                .model = "sora-2",
	                                .seconds = "4",
	                                .size = "999x999",
	                                .input_reference = NULL};
	memset(&o, 0, sizeof(o));
	api_create(c, &bad, "t", on_done, &o);
	wait_done(&o, "create with a bad size");
	EXPECT_KIND(&o, API_VALIDATION, "bad size");
	EXPECT_ATTEMPTS(&o, 1, "400 is never retried");
	CHECK(o.r.http_status == 400, "expected HTTP 400, got %ld", o.r.http_status);
	outcome_release(&o);
	struct api_create_params mod = {.prompt = "A cat [sim:moderation]",
	                                .model = "sora-2",
	                                .seconds = "4",
	                                .size = "1280x720",
	                                .input_reference = NULL};
	memset(&o, 0, sizeof(o));
	api_create(c, &mod, "t", on_done, &o);
	wait_done(&o, "create a refused prompt");
	EXPECT_KIND(&o, API_CONTENT_POLICY, "moderated prompt");
	EXPECT_ATTEMPTS(&o, 1, "content policy is never retried");
	CHECK(sim_count(EP_CREATE, "400") == n400 + 2, "expected the sim to see exactly two 400s");
	CHECK(sim_creates("A cat [sim:moderation]") == 0, "a refused prompt created a video");
	printf("flow: 400 validation and content policy (%s: %s): one attempt each\n", o.code,
	       o.message);
	outcome_release(&o);

	/* '/' is fine in an id (LiteLLM's are base64): it goes percent-encoded, as one
	 * path segment, and the server looks that id up */
	retrieve(c, "../../etc/passwd", &o);
	EXPECT_KIND(&o, API_NOT_FOUND, "an id with '/' sent encoded");
	outcome_release(&o);

	/* unsafe ids (spaces, quotes, controls) never reach the network */
	long before = sim_count(EP_GET, "404") + sim_count(EP_GET, "200");
	retrieve(c, "video_a b\"c", &o);
	EXPECT_KIND(&o, API_VALIDATION, "unsafe id");
	CHECK(o.r.http_status == 0 && sim_count(EP_GET, "404") + sim_count(EP_GET, "200") == before,
	      "an unsafe id reached the server");
	outcome_release(&o);
	api_client_free(c);

	/* 401: a wrong key, one attempt */
	long n401 = sim_count(EP_GET, "401");
	c = client_at(api_base, "sk-wrong-key-for-this-test", AUTH_BEARER, 3, 50, true);
	retrieve(c, v.id, &o);
	EXPECT_KIND(&o, API_CONFIG, "wrong key");
	EXPECT_ATTEMPTS(&o, 1, "401 is never retried");
	CHECK(sim_count(EP_GET, "401") == n401 + 1, "expected the sim to see exactly one 401");
	CHECK(!strstr(o.message, "sk-wrong-key"), "the key appeared in the error message");
	outcome_release(&o);
	api_client_free(c);
	printf("flow: 401 and 404: one attempt each, as the sim's stats confirm\n");

	/* api_client_run drives a client without loop hooks (the CLI's way) */
	c = client_at(api_base, sim_key, AUTH_BEARER, 3, 50, false);
	memset(&o, 0, sizeof(o));
	api_retrieve(c, v.id, "t", on_done, &o);
	CHECK(api_client_run(c, 20000) == 0 && o.done, "api_client_run: expected completion");
	EXPECT_KIND(&o, API_OK, "retrieve via api_client_run");
	CHECK(o.r.request_id[0], "expected an x-request-id");
	outcome_release(&o);
	api_client_free(c);

	/* cancellation: nothing is called back, nothing leaks (valgrind); the requests are
	 * attached to curl (connecting) when they are cancelled or the client is freed */
	c = client(3, 50);
	struct outcome never = {0};
	struct api_req *r1 = api_retrieve(c, v.id, "t", on_done, &never);
	int fd = open_out("cancelled.mp4");
	struct api_req *r2 = api_download(c, v.id, API_VARIANT_VIDEO, fd, 0, "t", on_done, &never);
	CHECK(api_client_pending(c) == 2, "expected 2 pending, got %u", api_client_pending(c));
	api_req_cancel(r1);
	api_req_cancel(r2);
	CHECK(api_client_pending(c) == 0, "expected nothing pending after cancel, got %u",
	      api_client_pending(c));
	api_retrieve(c, v.id, "t", on_done, &never);
	api_download(c, v.id, API_VARIANT_THUMBNAIL, fd, 0, "t", on_done, &never);
	api_client_free(c); /* with requests in flight */
	close(fd);
	CHECK(!never.done, "a cancelled request called back");
	printf("flow: cancel and free with requests in flight: no callback\n");
	video_release(&v);
}

/* Checks that each gap between attempt starts is at least the wait scheduled. */
static void check_gaps(const struct outcome *o, const char *what)
{
	for (unsigned i = 1; i < o->r.attempts && i < API_ATTEMPT_TIMES; i++) {
		long long gap = o->r.attempt[i].start_ms - o->r.attempt[i - 1].start_ms;
		long wait = o->r.attempt[i - 1].wait_ms;
		CHECK(wait >= 0 && gap >= wait - 1,
		      "%s: expected attempt %u to start >= %ld ms after the previous, got %lld",
		      what, i + 1, wait, gap);
	}
}

static void t_5xx(void)
{
	struct api_client *c = client(3, 50);
	struct outcome o;
	static const long sched[] = {50, 100, 200};

	api_client_set_jitter(c, zero_jitter, NULL);
	long before = sim_count(EP_GET, "500") + sim_count(EP_GET, "503");
	retrieve(c, "video_5xx", &o);
	print_attempts("5xx, jitter 0", &o);
	EXPECT_KIND(&o, API_TRANSIENT, "always 5xx");
	EXPECT_ATTEMPTS(&o, 4, "max_retries 3");
	CHECK(o.r.http_status == 500 || o.r.http_status == 503, "expected 500/503, got %ld",
	      o.r.http_status);
	for (int i = 0; i < 3; i++)
		CHECK(o.r.attempt[i].wait_ms == sched[i],
		      "expected backoff step %d to be %ld ms (base 50, no jitter), got %ld", i + 1,
		      sched[i], o.r.attempt[i].wait_ms);
	check_gaps(&o, "5xx");
	/* the idle time between one answer and the next attempt grows with the schedule */
	for (int i = 1; i < 4; i++) {
		long long idle = o.r.attempt[i].start_ms - o.r.attempt[i - 1].end_ms;
		CHECK(idle >= sched[i - 1] - 1,
		      "expected >= %ld ms between answer %d and attempt %d, got %lld", sched[i - 1],
		      i, i + 1, idle);
	}
	long after = sim_count(EP_GET, "500") + sim_count(EP_GET, "503");
	CHECK(after - before == 4, "expected the sim to count 4 server errors, got %ld",
	      after - before);
	outcome_release(&o);

	/* with the built-in jitter: each wait within [0.75, 1] of the step */
	api_client_set_jitter(c, NULL, NULL);
	retrieve(c, "video_5xx", &o);
	print_attempts("5xx, real jitter", &o);
	EXPECT_ATTEMPTS(&o, 4, "max_retries 3");
	for (int i = 0; i < 3; i++)
		CHECK(o.r.attempt[i].wait_ms >= sched[i] * 3 / 4 &&
		          o.r.attempt[i].wait_ms <= sched[i],
		      "expected wait %d in [%ld, %ld], got %ld", i + 1, sched[i] * 3 / 4, sched[i],
		      o.r.attempt[i].wait_ms);
	check_gaps(&o, "5xx jittered");
	outcome_release(&o);

	/* A create answered with a 5xx may have spent money (a gateway answers 5xx after
	 * its upstream created the video): never repeated, in doubt (spend.h). Here the
	 * sim's injected 5xx created nothing, but the client cannot know that. */
	const char *prompt = "A fox in the snow (api_client 5xx)";
	struct api_create_params p = {.prompt = prompt,
	                              .model = "sora-2",
	                              .seconds = "4",
	                              .size = "1280x720",
	                              .input_reference = NULL};
	memset(&o, 0, sizeof(o));
	api_create(c, &p, "t", on_done, &o);
	wait_done(&o, "create under 5xx");
	EXPECT_KIND(&o, API_TRANSIENT, "create under 5xx");
	EXPECT_ATTEMPTS(&o, 1, "a 5xx create is not repeated");
	CHECK(o.r.outcome_unknown && o.r.spend == SPEND_IN_DOUBT && sim_creates(prompt) == 0,
	      "expected the 5xx create in doubt, and no video");
	outcome_release(&o);
	api_client_free(c);
}

struct pause_probe {
	struct api_client *c;
};
static bool paused(void *arg)
{
	return api_client_paused_ms(((struct pause_probe *)arg)->c) > 0;
}

static void t_429(void)
{
	struct api_client *c = client(2, 50);
	struct outcome a, b;

	api_client_set_jitter(c, zero_jitter, NULL);
	retrieve(c, "video_429", &a);
	print_attempts("429", &a);
	EXPECT_KIND(&a, API_RATE_LIMITED, "always 429");
	EXPECT_ATTEMPTS(&a, 3, "max_retries 2");
	for (unsigned i = 0; i < 3; i++) {
		long s = a.r.attempt[i].server_after_ms;
		CHECK(a.r.attempt[i].http_status == 429 && s >= 200 && s < 500,
		      "expected a 429 with retry-after-ms in [200,500), got HTTP %ld, %ld ms",
		      a.r.attempt[i].http_status, s);
		if (i < 2)
			CHECK(a.r.attempt[i].wait_ms == s,
			      "expected the wait to be the server's %ld ms, got %ld", s,
			      a.r.attempt[i].wait_ms);
	}
	check_gaps(&a, "429");
	/* the last header the client parsed is the one the sim wrote into its message */
	char want[64];
	bfmt(want, sizeof(want), "try again in %ldms", a.r.attempt[2].server_after_ms);
	CHECK(strstr(a.message, want), "expected the message to say \"%s\", got \"%s\"", want,
	      a.message);
	outcome_release(&a);

	/* the pause holds every request, not just the one that was told to wait */
	struct pause_probe pp = {c};
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	api_retrieve(c, "video_429a", "a", on_done, &a);
	loop_until(paused, &pp, 10000, "a rate-limit pause");
	long long t0 = mono_ms();
	long left = api_client_paused_ms(c);
	api_retrieve(c, "video_429b", "b", on_done, &b);
	wait_done(&a, "request a");
	wait_done(&b, "request b");
	long long late = b.r.attempt[0].start_ms - t0;
	printf("429: pause of %ld ms held a new request back for %lld ms\n", left, late);
	CHECK(late >= left - 2,
	      "expected a request made during a %ld ms pause to wait for it, it "
	      "started after %lld ms",
	      left, late);
	outcome_release(&a);
	outcome_release(&b);
	api_client_free(c);
}

static void t_reset(void)
{
	struct api_client *c = client(2, 50);
	struct outcome o;

	long before = sim_count(EP_GET, "reset");
	retrieve(c, "video_reset", &o);
	print_attempts("reset", &o);
	EXPECT_KIND(&o, API_TRANSIENT, "connection reset");
	EXPECT_ATTEMPTS(&o, 3, "max_retries 2");
	CHECK(o.r.http_status == 0, "expected no HTTP status, got %ld", o.r.http_status);
	check_gaps(&o, "reset");
	CHECK(sim_count(EP_GET, "reset") - before == 3, "expected the sim to reset 3 times");
	outcome_release(&o);

	/* a create whose answer was lost may have created the video: not repeated */
	const char *prompt = "A heron by the river (api_client reset)";
	struct api_create_params p = {.prompt = prompt,
	                              .model = "sora-2",
	                              .seconds = "4",
	                              .size = "1280x720",
	                              .input_reference = NULL};
	memset(&o, 0, sizeof(o));
	api_create(c, &p, "t", on_done, &o);
	wait_done(&o, "create under resets");
	EXPECT_KIND(&o, API_TRANSIENT, "create under resets");
	EXPECT_ATTEMPTS(&o, 1, "a create whose answer was lost is not repeated");
	CHECK(o.r.outcome_unknown, "expected outcome_unknown on a lost create answer");
	CHECK(sim_creates(prompt) == 1, "expected exactly one video created, got %ld",
	      sim_creates(prompt));
	printf("reset: lost create answer reported as outcome unknown; the sim created 1 video\n");
	outcome_release(&o);
	api_client_free(c);
}

static bool files_equal(int a, int b)
{
	char x[65536], y[65536];
	off_t off = 0;
	for (;;) {
		ssize_t n = pread(a, x, sizeof(x), off), m = pread(b, y, sizeof(y), off);
		if (n != m || n < 0)
			return false;
		if (n == 0)
			return true;
		if (memcmp(x, y, (size_t)n) != 0)
			return false;
		off += n;
	}
}

static void t_truncate(void)
{
	struct api_client *c = client(10, 20);
	struct outcome o;
	struct video v;
	struct api_create_params p = {.prompt = "A paper boat (api_client truncate)",
	                              .model = "sora-2",
	                              .seconds = "4",
	                              .size = "1280x720",
	                              .input_reference = NULL};

	video_init(&v);
	create_and_wait(c, &p, &v, true);
	api_client_free(c);

	/* single attempts: every cut body is a failure, never a success */
	c = client(0, 20);
	long ok0 = sim_count(EP_GET, "200"), cut0 = sim_count(EP_GET, "truncated");
	int ok = 0, failed = 0;
	for (int i = 0; i < 40; i++) {
		retrieve(c, v.id, &o);
		if (o.r.kind == API_OK) {
			CHECK(strcmp(o.r.video.id, v.id) == 0 &&
			          o.r.video.status == VIDEO_COMPLETED,
			      "a success carried a wrong video");
			ok++;
		} else {
			EXPECT_KIND(&o, API_TRANSIENT, "truncated body");
			failed++;
		}
		outcome_release(&o);
	}
	long ok1 = sim_count(EP_GET, "200"), cut1 = sim_count(EP_GET, "truncated");
	printf("truncate: 40 retrieves: %d ok, %d failed; the sim cut %ld and completed %ld\n", ok,
	       failed, cut1 - cut0, ok1 - ok0);
	CHECK(failed == cut1 - cut0 && ok == ok1 - ok0,
	      "expected failures == bodies the sim cut (%ld), successes == whole answers (%ld); "
	      "got %d and %d",
	      cut1 - cut0, ok1 - ok0, failed, ok);
	CHECK(failed > 0, "expected some truncated answers at --ptruncate 0.5");
	api_client_free(c);

	/* downloads resume with Range and end byte-identical */
	c = client(30, 20);
	int fds[4];
	unsigned resumes = 0;
	for (int i = 0; i < 4; i++) {
		char name[32];
		bfmt(name, sizeof(name), "trunc%d.mp4", i);
		fds[i] = open_out(name);
		memset(&o, 0, sizeof(o));
		api_download(c, v.id, API_VARIANT_VIDEO, fds[i], 0, "t", on_done, &o);
		wait_done(&o, "download under truncation");
		EXPECT_KIND(&o, API_OK, "download under truncation");
		CHECK(o.r.bytes == o.r.content_length && fd_size(fds[i]) == o.r.bytes,
		      "expected %lld bytes in the file, got %lld (reported %lld)",
		      o.r.content_length, fd_size(fds[i]), o.r.bytes);
		expect_magic(fds[i], "resumed mp4", 4, "ftyp", 4);
		resumes += o.r.resumes;
		print_attempts("download", &o);
		outcome_release(&o);
		if (i)
			CHECK(files_equal(fds[0], fds[i]),
			      "expected download %d to equal download 1", i + 1);
	}
	for (int i = 0; i < 4; i++)
		close(fds[i]);
	printf("truncate: 4 downloads identical, %u Range resumes\n", resumes);
	CHECK(resumes > 0, "expected at least one Range resume at --ptruncate 0.5");
	api_client_free(c);
	video_release(&v);
}

/* Local failures: a full disk is not retried; unreadable/odd inputs fail early. */
static void t_local(void)
{
	struct api_client *c = client(3, 20);
	struct outcome o;
	struct video v;
	struct api_create_params p = {.prompt = "A small robot (api_client local)",
	                              .model = "sora-2",
	                              .seconds = "4",
	                              .size = "1280x720",
	                              .input_reference = NULL};

	video_init(&v);
	create_and_wait(c, &p, &v, false);

	/* a file size limit makes write() fail like a full disk would (EFBIG) */
	struct rlimit old, lim;
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = 64 * 1024;
	signal(SIGXFSZ, SIG_IGN);
	setrlimit(RLIMIT_FSIZE, &lim);
	int fd = open_out("full.mp4");
	long n0 = sim_count(EP_CONTENT, "200");
	memset(&o, 0, sizeof(o));
	api_download(c, v.id, API_VARIANT_VIDEO, fd, 0, "t", on_done, &o);
	wait_done(&o, "download onto a full disk");
	setrlimit(RLIMIT_FSIZE, &old);
	EXPECT_KIND(&o, API_LOCAL, "write failure");
	EXPECT_ATTEMPTS(&o, 1, "a local write failure is not retried");
	CHECK(sim_count(EP_CONTENT, "200") == n0 + 1, "expected one download on the sim");
	printf("local: write failure: %s\n", o.message);
	outcome_release(&o);
	close(fd);

	/* not a regular file */
	int pp[2];
	CHECK(pipe(pp) == 0, "pipe");
	memset(&o, 0, sizeof(o));
	api_download(c, v.id, API_VARIANT_VIDEO, pp[1], 0, "t", on_done, &o);
	wait_done(&o, "download into a pipe");
	EXPECT_KIND(&o, API_LOCAL, "pipe target");
	CHECK(o.r.http_status == 0, "a bad target reached the server");
	outcome_release(&o);
	close(pp[0]);
	close(pp[1]);

	/* a reference image that is not an image, and one that does not exist */
	char path[700];
	bfmt(path, sizeof(path), "%s/not-an-image.png", test_dir);
	int t = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(t >= 0 && write(t, "hello, not a png", 16) == 16, "write %s", path);
	close(t);
	struct api_create_params bad = p;
	bad.input_reference = path;
	memset(&o, 0, sizeof(o));
	api_create(c, &bad, "t", on_done, &o);
	wait_done(&o, "create with a bogus image");
	EXPECT_KIND(&o, API_VALIDATION, "bogus image");
	outcome_release(&o);
	bad.input_reference = "/nonexistent/ref.png";
	memset(&o, 0, sizeof(o));
	api_create(c, &bad, "t", on_done, &o);
	wait_done(&o, "create with a missing image");
	EXPECT_KIND(&o, API_LOCAL, "missing image");
	outcome_release(&o);
	api_client_free(c);

	/* connection refused: transient, retried; a bad scheme: config, not retried */
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t al = sizeof(a);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bind(s, (struct sockaddr *)&a, sizeof(a));
	getsockname(s, (struct sockaddr *)&a, &al);
	char base[128];
	bfmt(base, sizeof(base), "http://127.0.0.1:%d/v1", ntohs(a.sin_port));
	close(s); /* nobody listens there now */
	c = client_at(base, sim_key, AUTH_BEARER, 2, 20, true);
	retrieve(c, "video_x", &o);
	print_attempts("refused", &o);
	EXPECT_KIND(&o, API_TRANSIENT, "connection refused");
	EXPECT_ATTEMPTS(&o, 3, "refused is retried up to max_retries");
	outcome_release(&o);
	api_client_free(c);
	c = client_at("ftp://127.0.0.1/v1", sim_key, AUTH_BEARER, 2, 20, true);
	retrieve(c, "video_x", &o);
	EXPECT_KIND(&o, API_CONFIG, "ftp:// base");
	EXPECT_ATTEMPTS(&o, 1, "a config error is not retried");
	outcome_release(&o);
	api_client_free(c);
	video_release(&v);
	printf("local: full disk, pipe, bogus/missing image, refused, bad scheme: ok\n");
}

int main(int argc, char **argv)
{
	mode = argc > 1 ? argv[1] : "?";
	sim_url = getenv("SIM_URL");
	sim_key = getenv("SIM_KEY");
	test_dir = getenv("TEST_DIR");
	if (!sim_url || !sim_key || !test_dir) {
		fprintf(stderr, "usage: SIM_URL=... SIM_KEY=... TEST_DIR=... api_client MODE\n");
		return 2;
	}
	bfmt(api_base, sizeof(api_base), "%s/v1", sim_url);
	const char *logdir = getenv("TEST_LOG_DIR");
	if (log_open(logdir, LOG_DEBUG, 0, true) < 0)
		die(__LINE__, "log_open(%s): %s", logdir ? logdir : "(stderr)", strerror(errno));
	curl_global_init(CURL_GLOBAL_DEFAULT);
	loop_init();

	if (strcmp(mode, "flow") == 0) {
		t_flow();
		t_headers();
	} else if (strcmp(mode, "5xx") == 0) {
		t_5xx();
	} else if (strcmp(mode, "429") == 0) {
		t_429();
	} else if (strcmp(mode, "reset") == 0) {
		t_reset();
	} else if (strcmp(mode, "truncate") == 0) {
		t_truncate();
	} else if (strcmp(mode, "local") == 0) {
		t_local();
	} else {
		fprintf(stderr, "unknown mode %s\n", mode);
		return 2;
	}
	close(L.ep);
	close(L.tfd);
	curl_global_cleanup();
	log_close();
	printf("api_client %s: ok\n", mode);
	return 0;
}
