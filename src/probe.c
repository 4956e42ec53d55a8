/* probe.c — `sorad check-config --probe` (see probe.h). */
#include "probe.h"
#include "api.h"
#include "caps.h"
#include "log.h"
#include "media.h"
#include "proto.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#define PROBE_TIMEOUT_MS 60000L /* the whole probe: every request runs at once */
#define ANSWER_MAX 28           /* characters of a message shown in the table */

struct probe;

/* One request's answer, as the table shows it. */
struct answer {
	struct probe *p; /* whose answer (the request's callback data) */
	bool done;
	enum api_kind kind;
	long status;
	bool refusal;   /* caps_refusal: the service has no such operation */
	bool own_shape; /* the error body was the service's {"error":{"type"...}} */
	char text[160]; /* "HTTP 404: No video..." or the transport's failure */
};

struct probe {
	struct api_client *api;
	struct answer list, missing, del, variant[2], listed;
	size_t n_listed;
	bool listed_prompt;
	char listed_id[VIDEO_ID_MAX];
	int fd[2];       /* the variants' downloads (unlinked temporary files) */
	long poll_after; /* the largest openai-poll-after-ms seen, -1 none */
};

static void keep_answer(struct probe *p, struct answer *a, const struct api_result *res)
{
	a->done = true;
	a->kind = res->kind;
	a->status = res->http_status;
	a->refusal = caps_refusal(res);
	a->own_shape = res->error.type != NULL;
	if (res->poll_after_ms > p->poll_after)
		p->poll_after = res->poll_after_ms;
	const char *msg = res->error.message ? res->error.message : api_kind_name(res->kind);
	size_t len = strcspn(msg, "\r\n"); /* LiteLLM's tracebacks: the first line tells */
	const char *more = "";
	if (len > ANSWER_MAX) {
		len = ANSWER_MAX;
		while (len && ((unsigned char)msg[len] & 0xC0) == 0x80)
			len--; /* not inside a UTF-8 sequence */
		more = "...";
	}
	if (res->kind == API_OK)
		(void)bfmt(a->text, sizeof(a->text), "HTTP %ld", res->http_status);
	else if (res->http_status)
		(void)bfmt(a->text, sizeof(a->text), "HTTP %ld: %.*s%s", res->http_status, (int)len,
		           msg, more);
	else
		(void)bfmt(a->text, sizeof(a->text), "no answer: %.*s%s", (int)len, msg, more);
}

static void on_answer(struct api_req *req, void *ud)
{
	struct answer *a = ud;
	keep_answer(a->p, a, api_req_result(req));
}

/* An unlinked temporary file for a variant's bytes; -1 (said on stderr) if none. */
static int temp_file(void)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	if (bfmt(path, sizeof(path), "%s/sorad-probe-XXXXXX", dir && *dir ? dir : "/tmp"))
		return -1;
	int fd = mkstemp(path);
	if (fd < 0) {
		fprintf(stderr, "sorad check-config: cannot make a temporary file in %s: %s\n",
		        dir && *dir ? dir : "/tmp", strerror(errno));
		return -1;
	}
	if (unlink(path) != 0)
		fprintf(stderr, "sorad check-config: cannot remove %s: %s\n", path,
		        strerror(errno));
	return fd;
}

static void start_variants(struct probe *p)
{
	static const enum api_variant v[2] = {API_VARIANT_THUMBNAIL, API_VARIANT_SPRITESHEET};
	for (size_t i = 0; i < 2; i++) {
		p->fd[i] = temp_file();
		if (p->fd[i] < 0)
			continue;
		if (!api_download(p->api, p->listed_id, v[i], p->fd[i], 0, NULL, on_answer,
		                  &p->variant[i]))
			fprintf(stderr, "sorad check-config: cannot start the %s download\n",
			        api_variant_name(v[i]));
	}
}

static void on_list(struct api_req *req, void *ud)
{
	struct probe *p = ud;
	const struct api_result *res = api_req_result(req);
	keep_answer(p, &p->list, res);
	if (res->kind != API_OK || !res->has_list || res->list.n == 0)
		return;
	const struct video *v = &res->list.data[0];
	p->n_listed = res->list.n;
	p->listed_prompt = v->prompt != NULL;
	if (!v->id || bcopy_str(p->listed_id, sizeof(p->listed_id), v->id))
		return;
	/* Its own answer may carry a poll hint (sent while a video runs). */
	if (!api_retrieve(p->api, p->listed_id, NULL, on_answer, &p->listed))
		fprintf(stderr, "sorad check-config: cannot start the retrieve\n");
	if (v->status == VIDEO_COMPLETED)
		start_variants(p);
}

/* ---- the verdicts -------------------------------------------------------------- */

/* "yes (api_profile openai)", "no (set in the configuration)", "learned while running". */
static const char *configured(const struct conf *c, enum caps_id id, char *buf, size_t n)
{
	enum caps_state d = caps_profile_default(c->api_profile, id);
	const struct proto *p = proto_find(c->api_protocol);
	if (p && p->caps[id] != CAPS_UNKNOWN)
		(void)bfmt(buf, n, "%s (api_protocol %s)", caps_state_name(p->caps[id]), p->name);
	else if (c->caps[id] != CAPS_SET_AUTO)
		(void)bfmt(buf, n, "%s (set in the configuration)", caps_setting_name(c->caps[id]));
	else if (d != CAPS_UNKNOWN)
		(void)bfmt(buf, n, "%s (api_profile %s)", caps_state_name(d),
		           caps_profile_name(c->api_profile));
	else
		(void)bcopy_str(buf, n, "auto: learned while running");
	return buf;
}

/* The probe's verdict ST, and the configuration's when it pins something else. */
static const char *verdict(const struct conf *c, enum caps_id id, enum caps_state st, char *buf,
                           size_t n)
{
	const struct proto *p = proto_find(c->api_protocol);
	if (p && p->caps[id] != CAPS_UNKNOWN)
		return configured(c, id, buf, n); /* the protocol has no such request at all */
	if (c->caps[id] != CAPS_SET_AUTO &&
	    (st == CAPS_UNKNOWN || (st == CAPS_YES) != (c->caps[id] == CAPS_SET_YES)))
		(void)bfmt(buf, n, "%s (set in the configuration: %s)", caps_state_name(st),
		           caps_setting_name(c->caps[id]));
	else
		(void)bcopy_str(buf, n, caps_state_name(st));
	return buf;
}

static void row(FILE *out, const char *what, const char *answered, const char *v)
{
	fprintf(out, "  %-13s %-66s %s\n", what, answered, v);
}

/* What the file's first bytes are (media.h), or NULL when nothing sorad knows. */
static const char *file_kind(int fd)
{
	unsigned char b[MEDIA_SNIFF_BYTES];
	ssize_t n = pread(fd, b, sizeof(b), 0);
	enum media_kind k = n > 0 ? media_sniff(b, (size_t)n) : MEDIA_UNKNOWN;
	return k == MEDIA_UNKNOWN ? NULL : media_kind_name(k);
}

static void variant_row(FILE *out, const struct conf *c, const struct probe *p, size_t i)
{
	static const enum caps_id ids[2] = {CAPS_THUMBNAIL, CAPS_SPRITESHEET};
	static const char *const want[2] = {"WebP", "JPEG"};
	const struct answer *a = &p->variant[i];
	char said[200], v[160];
	enum caps_state st = CAPS_UNKNOWN;
	if (!a->done) {
		row(out, caps_name(ids[i]),
		    p->list.kind == API_OK ? "not probed: the list showed no finished video"
		                           : "not probed: no list to find a finished video",
		    configured(c, ids[i], v, sizeof(v)));
		return;
	}
	if (a->kind == API_OK) {
		const char *k = file_kind(p->fd[i]);
		(void)bfmt(said, sizeof(said), "%s: %s", a->text, k ? k : "unrecognized bytes");
		st = k && !strcmp(k, want[i]) ? CAPS_YES : CAPS_NO;
	} else {
		(void)bcopy_str(said, sizeof(said), a->text);
		st = a->status == 400 || a->status == 404 || a->refusal ? CAPS_NO : CAPS_UNKNOWN;
	}
	row(out, caps_name(ids[i]), said, verdict(c, ids[i], st, v, sizeof(v)));
}

static void print_table(FILE *out, const struct conf *c, const struct probe *p)
{
	char said[256], v[160];
	enum caps_state st;

	fprintf(out,
	        "probe of %s (nothing was created; {missing} is %s, which no service "
	        "holds)\n",
	        c->api_base, PROBE_MISSING_ID);
	row(out, "capability", "what the service answered", "verdict");

	const struct answer *l = &p->list;
	st = l->kind == API_OK ? CAPS_YES : l->refusal ? CAPS_NO : CAPS_UNKNOWN;
	(void)bfmt(said, sizeof(said), "GET /videos?limit=1: %s", l->text);
	row(out, "list", said, verdict(c, CAPS_LIST, st, v, sizeof(v)));

	if (l->kind != API_OK) {
		(void)bcopy_str(said, sizeof(said), "no list to read");
		st = CAPS_UNKNOWN;
	} else if (p->n_listed == 0) {
		(void)bcopy_str(said, sizeof(said), "the list is empty: nothing to read");
		st = CAPS_UNKNOWN;
	} else {
		(void)bcopy_str(said, sizeof(said),
		                p->listed_prompt ? "the listed video carries its prompt"
		                                 : "the listed video has no prompt");
		st = p->listed_prompt ? CAPS_YES : CAPS_NO;
	}
	row(out, "list_prompts", said, verdict(c, CAPS_LIST_PROMPTS, st, v, sizeof(v)));

	const struct answer *d = &p->del;
	if (d->status == 404 && !d->refusal)
		st = CAPS_YES; /* the route exists: it says there is no such video */
	else
		st = d->refusal ? CAPS_NO : CAPS_UNKNOWN;
	(void)bfmt(said, sizeof(said), "DELETE /videos/{missing}: %s", d->text);
	row(out, "delete", said, verdict(c, CAPS_DELETE, st, v, sizeof(v)));

	row(out, "remix", "not probed: only a POST would tell, and a POST may cost money",
	    configured(c, CAPS_REMIX, v, sizeof(v)));
	variant_row(out, c, p, 0);
	variant_row(out, c, p, 1);
	row(out, "progress", "not probed: only a running video tells",
	    configured(c, CAPS_PROGRESS, v, sizeof(v)));

	if (p->poll_after >= 0) {
		(void)bfmt(said, sizeof(said), "openai-poll-after-ms: %ld", p->poll_after);
		row(out, "poll_hints", said, verdict(c, CAPS_POLL_HINTS, CAPS_YES, v, sizeof(v)));
	} else {
		row(out, "poll_hints", "none on these answers (sent while a video runs)",
		    configured(c, CAPS_POLL_HINTS, v, sizeof(v)));
	}

	const struct answer *m = &p->missing;
	(void)bfmt(said, sizeof(said), "GET /videos/{missing}: %s", m->text);
	const char *shape = "unexpected (a missing video should be 404)";
	if (m->status == 404)
		shape = m->own_shape ? "ok (the service's own error body)"
		                     : "a gateway's error body (no error type)";
	row(out, "errors", said, shape);
}

/* The table's exit status: unreachable, key refused, or answered. */
static int probe_status(const struct conf *c, const struct probe *p, FILE *out)
{
	const struct answer *all[] = {&p->list, &p->missing, &p->del};
	bool answered = false;
	for (size_t i = 0; i < ARRAY_LEN(all); i++)
		answered = answered || all[i]->status != 0;
	if (!answered) {
		fprintf(out, "the service at %s could not be reached (%s)\n", c->api_base,
		        p->list.done ? p->list.text : "no answer within 60 s");
		return EX_UNAVAILABLE;
	}
	for (size_t i = 0; i < ARRAY_LEN(all); i++)
		if (all[i]->status == 401 || all[i]->status == 403) {
			fprintf(out,
			        "the service refused the API key (%s): check api_key_file or "
			        "OPENAI_API_KEY\n",
			        all[i]->text);
			return EX_CONFIG;
		}
	return EX_OK;
}

int probe_main(const struct conf *conf, FILE *out)
{
	/* The probe reports in its table; the client's own lines would only repeat it. */
	log_open(NULL, LOG_ERROR, 0, false);
	struct conf once = *conf; /* borrowed fields: api_client_new copies what it keeps */
	once.max_retries = 0;     /* one question each: a probe should not linger */
	struct probe p = {.poll_after = -1, .fd = {-1, -1}};
	struct answer *slots[] = {&p.list,       &p.missing,    &p.del,
	                          &p.variant[0], &p.variant[1], &p.listed};
	for (size_t i = 0; i < ARRAY_LEN(slots); i++)
		slots[i]->p = &p;
	p.api = api_client_new(&once, NULL);
	if (!p.api) {
		fprintf(stderr, "sorad check-config: cannot set up the API client\n");
		log_close();
		return EX_SOFTWARE;
	}
	fprintf(out, "\n");
	if (!conf->api_key)
		fprintf(out, "(no API key configured: probing without one)\n");
	struct api_list_params lp = {.limit = 1, .order = "desc"};
	if (!api_list(p.api, &lp, on_list, &p))
		fprintf(stderr, "sorad check-config: cannot start the list call\n");
	if (!api_retrieve(p.api, PROBE_MISSING_ID, NULL, on_answer, &p.missing) ||
	    !api_delete(p.api, PROBE_MISSING_ID, NULL, on_answer, &p.del))
		fprintf(stderr, "sorad check-config: cannot start the lookups\n");
	if (api_client_run(p.api, PROBE_TIMEOUT_MS) != 0)
		fprintf(stderr, "sorad check-config: some answers did not come within %ld s\n",
		        PROBE_TIMEOUT_MS / 1000);
	api_client_free(p.api); /* what is still pending is cancelled, shown unanswered */
	print_table(out, conf, &p);
	int rc = probe_status(conf, &p, out);
	for (size_t i = 0; i < 2; i++)
		if (p.fd[i] >= 0)
			close(p.fd[i]);
	log_close();
	return rc;
}
