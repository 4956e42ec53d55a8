/* status_json.c — jobs as the status endpoint's JSON (see status_json.h). */
#include "status_json.h"
#include "api.h"
#include "eta.h"
#include "outbox.h"
#include "util.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jbuf_release(struct jbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

void jbuf_reset(struct jbuf *b)
{
	b->len = 0;
	if (b->p)
		b->p[0] = '\0';
}

char *jbuf_take(struct jbuf *b, size_t *len)
{
	char *p = b->p ? b->p : xstrdup("");
	if (len)
		*len = b->len;
	b->p = NULL;
	b->len = b->cap = 0;
	return p;
}

static void grow(struct jbuf *b, size_t more)
{
	b->p = xgrow(b->p, &b->cap, b->len + more + 1, 1024);
}

void jbuf_add(struct jbuf *b, const char *s, size_t n)
{
	grow(b, n);
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void jbuf_adds(struct jbuf *b, const char *s)
{
	jbuf_add(b, s, strlen(s));
}

void jbuf_addf(struct jbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n <= 0)
		return;
	grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void jbuf_add_int(struct jbuf *b, long long v)
{
	char tmp[24];
	size_t i = sizeof(tmp);
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	do {
		tmp[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		tmp[--i] = '-';
	jbuf_add(b, tmp + i, sizeof(tmp) - i);
}

void jbuf_add_jstr(struct jbuf *b, const char *s)
{
	if (!s) {
		jbuf_add(b, "null", 4);
		return;
	}
	jbuf_add(b, "\"", 1);
	jbuf_add_escaped(b, s);
	jbuf_add(b, "\"", 1);
}

void jbuf_add_escaped(struct jbuf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	grow(b, strlen(s));
	const char *run = s; /* bytes copied as they are, in one go */
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p >= 0x20 && *p != '"' && *p != '\\')
			continue;
		jbuf_add(b, run, (size_t)((const char *)p - run));
		char esc[7] = {'\\', 0};
		size_t k = 2;
		switch (*p) {
		case '"':
			esc[1] = '"';
			break;
		case '\\':
			esc[1] = '\\';
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\t':
			esc[1] = 't';
			break;
		default:
			/* NOLINTNEXTLINE(bugprone-not-null-terminated-result): 6 bytes, no NUL */
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[*p >> 4];
			esc[5] = hex[*p & 15];
			k = 6;
			break;
		}
		jbuf_add(b, esc, k);
		run = (const char *)p + 1;
	}
	jbuf_adds(b, run);
}

void jbuf_add_urlenc(struct jbuf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.' || *p == '~') {
			jbuf_add(b, (const char *)p, 1);
		} else {
			char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
			jbuf_add(b, e, 3);
		}
	}
}

const char *status_json_status(const struct job *j)
{
	switch (j->state) {
	case JOB_RUNNING:
		return j->status && !strcmp(j->status, "in_progress") ? "in_progress" : "queued";
	case JOB_DOWNLOADING:
		return "in_progress";
	case JOB_DONE:
		return "completed";
	case JOB_FAILED:
		return "failed";
	case JOB_CLAIMED:
	case JOB_HELD:
	case JOB_WAITING:
	case JOB_SUBMITTING:
	case JOB_IN_DOUBT: /* waits for the user: nothing runs that sorad knows of */
		return "queued";
	}
	return "queued";
}

bool status_json_filter_ok(const char *f)
{
	static const char *const seed[] = {"queued", "in_progress", "completed", "failed"};
	for (size_t i = 0; i < sizeof(seed) / sizeof(seed[0]); i++)
		if (!strcmp(f, seed[i]))
			return true;
	return job_state_parse(f) >= 0;
}

bool status_json_matches(const struct job *j, const char *f)
{
	return !strcmp(status_json_status(j), f) || !strcmp(job_state_name(j->state), f);
}

const char *status_json_id(const struct job *j)
{
	return j->video_id ? j->video_id : j->name;
}

static void add_key(struct jbuf *b, const char *key)
{
	jbuf_add(b, ",\"", 2);
	jbuf_adds(b, key);
	jbuf_add(b, "\":", 2);
}

static void add_str(struct jbuf *b, const char *key, const char *s)
{
	add_key(b, key);
	jbuf_add_jstr(b, s);
}

/* T, or null for the "unknown" value -1. */
static void add_num_or_null(struct jbuf *b, long long t)
{
	if (t >= 0)
		jbuf_add_int(b, t);
	else
		jbuf_add(b, "null", 4);
}

static void add_time(struct jbuf *b, const char *key, long long t)
{
	add_key(b, key);
	add_num_or_null(b, t);
}

/* True while the service is making the job's video (the clock that elapsed counts). */
static bool generating(const struct job *j)
{
	return j->state == JOB_RUNNING;
}

/* Seconds left, from the rate so far, or (without progress) from how long this
 * model's jobs have taken here; -1 when there is nothing to go on. */
long long status_json_remaining_s(const struct job *j, long long now)
{
	if (generating(j) && j->progress < 0) {
		long long el = eta_elapsed_s(j, now);
		return j->typical_s > 0 && el >= 0 && el < j->typical_s ? j->typical_s - el : -1;
	}
	if ((j->state != JOB_RUNNING && j->state != JOB_DOWNLOADING) || j->progress <= 0 ||
	    j->progress >= 100)
		return j->state == JOB_DOWNLOADING ? 0 : -1;
	long long el = eta_elapsed_s(j, now); /* this machine's clock, not the service's */
	if (el <= 0)
		return -1;
	return el * (100 - j->progress) / j->progress;
}

/* "KEY":USD with 4 decimals, without printf (or libm): rounded half away from zero; a
 * value no price table gives (beyond 10^11 dollars, NaN) shows as 0. */
static void add_usd(struct jbuf *b, const char *key, double usd)
{
	add_key(b, key);
	double units = usd * 10000;
	long long cents =
	    units < 1e15 && units > -1e15 ? (long long)(units + (units < 0 ? -0.5 : 0.5)) : 0;
	if (cents < 0) {
		jbuf_add(b, "-", 1);
		cents = -cents;
	}
	jbuf_add_int(b, cents / 10000);
	char frac[6] = {'.',
	                (char)('0' + cents / 1000 % 10),
	                (char)('0' + cents / 100 % 10),
	                (char)('0' + cents / 10 % 10),
	                (char)('0' + cents % 10),
	                0};
	jbuf_add(b, frac, 5);
}

void status_json_video(struct jbuf *b, const struct job *j, long long now,
                       const long long *file_bytes)
{
	jbuf_adds(b, "{\"id\":");
	jbuf_add_jstr(b, status_json_id(j));
	add_str(b, "object", "video");
	add_str(b, "status", status_json_status(j));
	add_str(b, "model", j->model);
	add_key(b, "progress"); /* a number, as in the protocol: 0 when unknown */
	jbuf_add_int(b, j->state == JOB_DONE ? 100 : j->progress < 0 ? 0 : j->progress);
	/* The job's creation in sorad (its claim), on this machine's clock: the order of
	 * the list, whatever the service's clock says (its time is timings.created_at). */
	add_time(b, "created_at", j->claimed_at);
	add_time(b, "completed_at", j->video_completed_at);
	add_time(b, "expires_at", j->video_expires_at);
	add_str(b, "size", j->size);
	add_key(b, "seconds");
	jbuf_add(b, "\"", 1);
	jbuf_add_int(b, j->seconds);
	jbuf_add(b, "\"", 1);
	add_str(b, "prompt", j->prompt);
	add_str(b, "remixed_from_video_id", j->remix_video_id);
	add_key(b, "error");
	if (j->state == JOB_FAILED) {
		jbuf_adds(b, "{\"message\":");
		jbuf_add_jstr(b, j->error ? j->error : "The job failed.");
		add_str(b, "type", j->error_code ? j->error_code : "failed");
		add_str(b, "code", j->error_code);
		jbuf_add(b, "}", 1);
	} else if (j->state == JOB_IN_DOUBT) {
		jbuf_adds(b, "{\"message\":");
		jbuf_add_jstr(b, j->error
		                     ? j->error
		                     : "A create may have been paid for and the service "
		                       "cannot show whether it was: decide with sorad resolve.");
		add_str(b, "type", "in_doubt");
		add_str(b, "code", j->error_code ? j->error_code : "in_doubt");
		jbuf_add(b, "}", 1);
	} else if (j->state == JOB_HELD) {
		/* Why it waits: approval_required (sorad approve) or usage_cap. */
		jbuf_adds(b, "{\"message\":");
		jbuf_add_jstr(b, j->error ? j->error : "Held before submission.");
		add_str(b, "type", "held");
		add_str(b, "code", j->error_code ? j->error_code : "held");
		jbuf_add(b, "}", 1);
	} else {
		jbuf_add(b, "null", 4);
	}

	/* Local fields. */
	add_str(b, "name", j->name);
	add_str(b, "state", job_state_name(j->state));
	add_str(b, "video_id", j->video_id);
	add_str(b, "source", job_source_file(j));
	add_str(b, "remix_of", j->remix_of);
	if (j->extend_of) { /* only for a continuation: other answers keep their shape */
		add_str(b, "extend_of", j->extend_of);
		add_str(b, "previous_job_id", j->extend_job_id);
	}
	add_key(b, "creates");
	jbuf_add_int(b, j->creates);
	add_str(b, "resolution", j->resolution);
	add_usd(b, "estimated_cost_usd", j->cost_usd); /* one generation, the price table */
	add_usd(b, "spent_usd", job_spent_usd(j));     /* the creates counted (job.h) */
	add_key(b, "reported_cost_usd");
	if (j->reported_cost_usd >= 0)
		jbuf_addf(b, "%.4f", j->reported_cost_usd);
	else
		jbuf_add(b, "null", 4);
	add_key(b, "usage"); /* JSON text that cJSON printed (video.c, store.c) */
	jbuf_adds(b, j->usage ? j->usage : "null");
	long long left = status_json_remaining_s(j, now);
	add_time(b, "estimated_seconds_remaining", left);
	add_key(b, "progress_known");
	jbuf_adds(b, j->progress >= 0 || !generating(j) ? "true" : "false");
	add_time(b, "elapsed_seconds", generating(j) ? eta_elapsed_s(j, now) : -1);
	add_time(b, "typical_seconds", j->typical_s);
	add_key(b, "timings");
	jbuf_adds(b, "{\"claimed_at\":");
	add_num_or_null(b, j->claimed_at);
	add_time(b, "submitted_at", j->submit_at);
	add_time(b, "created_at", j->video_created_at);
	add_time(b, "completed_at", j->video_completed_at);
	add_time(b, "finished_at", j->finished_at);
	jbuf_add(b, "}", 1);
	add_key(b, "files");
	if (j->state != JOB_DONE) {
		jbuf_add(b, "null", 4);
	} else {
		jbuf_add(b, "{", 1);
		for (int v = API_VARIANT_VIDEO; v <= API_VARIANT_SPRITESHEET; v++) {
			if (v != API_VARIANT_VIDEO)
				jbuf_add(b, ",", 1);
			jbuf_add_jstr(b, api_variant_name((enum api_variant)v));
			if (file_bytes && file_bytes[v] < 0 && v != API_VARIANT_VIDEO) {
				/* left out of the set (NAME.json's "missing" says why) */
				jbuf_adds(b, ":null");
				continue;
			}
			jbuf_adds(b, ":{\"name\":\"");
			jbuf_add_escaped(b, j->name);
			jbuf_adds(b, outbox_suffix((enum api_variant)v));
			jbuf_adds(b, "\",\"url\":\"/api/v1/videos/");
			jbuf_add_urlenc(b, j->name);
			jbuf_adds(b, "/content?variant=");
			jbuf_adds(b, api_variant_name((enum api_variant)v));
			jbuf_add(b, "\"", 1);
			if (file_bytes) {
				add_time(b, "bytes", file_bytes[v]);
			}
			jbuf_add(b, "}", 1);
		}
		jbuf_add(b, "}", 1);
	}
	jbuf_add(b, "}", 1);
}

void status_json_error_param(struct jbuf *b, const char *message, const char *type,
                             const char *param, const char *code)
{
	jbuf_adds(b, "{\"error\":{\"message\":");
	jbuf_add_jstr(b, message);
	add_str(b, "type", type);
	add_str(b, "param", param);
	add_str(b, "code", code);
	jbuf_add(b, "}}", 2);
}

void status_json_error(struct jbuf *b, const char *message, const char *type, const char *code)
{
	status_json_error_param(b, message, type, NULL, code);
}
