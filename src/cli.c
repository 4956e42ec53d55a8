/* cli.c — sorad's commands (see cli.h). */
#include "cli.h"
#include "proto.h"
#include "api.h"
#include "caps.h"
#include "catalog.h"
#include "conf.h"
#include "confpath.h"
#include "control.h"
#include "eta.h"
#include "fsutil.h"
#include "history.h"
#include "hmap.h"
#include "image.h"
#include "jobs.h"
#include "log.h"
#include "prompt.h"
#include "status_json.h"
#include "store.h"
#include "usage.h"
#include "utf8.h"
#include "util.h"
#include "video.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#define GUIDELINES                                                                                 \
	"Content guidelines: no real people or public figures, no copyrighted characters or "      \
	"music, no faces in reference images, and nothing unsuitable for under-18 "                \
	"audiences. Prompts that break them are refused by the service (and cost nothing)."

/* ---- what every command shares --------------------------------------------------- */

struct cmd;

struct ctx {
	const struct cmd *cmd;
	const char *conf_path;
	struct conf *conf;
	bool json, purge;
	const char *state; /* list --state */
	/* resolve: the decision, and how many were given (exactly one is allowed) */
	const char *adopt;
	bool resubmit, drop;
	int decisions;
};

typedef int cmd_fn(struct ctx *x, int argc, char **argv);

struct cmd {
	const char *name;
	cmd_fn *fn;
	const char *args;       /* after the command word, for the usage line */
	const char *help;       /* what it does, and its options */
	const char *opts;       /* short options besides c: h V */
	int min_args, max_args; /* -1: unbounded */
	bool mixed;             /* options may follow the arguments: they are job names or
	                         * ids, never text that may start with '-' (a remix prompt) */
};

static void cmd_usage(const struct cmd *c, FILE *out)
{
	fprintf(out, "usage: sorad %s [-c FILE] %s\n%s", c->name, c->args, c->help);
	fprintf(out,
	        "  -c FILE  configuration file (default: $SORAD_CONF, else ./sorad.conf, else\n"
	        "           ~/.config/sorad/sorad.conf, else the system's; -v says which)\n"
	        "  -h       this help;  -V  the version\n");
}

static int usage_error(const struct ctx *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int usage_error(const struct ctx *x, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vbfmt(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "sorad %s: %s\n", x->cmd->name, msg);
	cmd_usage(x->cmd, stderr);
	return EX_USAGE;
}

/* ---- job records, read-only ------------------------------------------------------ */

struct records {
	struct job *v;
	size_t n;
};

static void records_release(struct records *rs);

static int by_claim(const void *a, const void *b)
{
	const struct job *x = a, *y = b;
	if (x->claimed_at != y->claimed_at)
		return x->claimed_at < y->claimed_at ? -1 : 1;
	return strcmp(x->name, y->name);
}

static void records_add(struct records *rs, size_t *cap, const struct job *j)
{
	rs->v = xgrow(rs->v, cap, (rs->n + 1) * sizeof(*rs->v), 64 * sizeof(*rs->v));
	rs->v[rs->n++] = *j;
}

/* Record FILE of directory DFD into J; false when it cannot be read (a temp file, a
 * record being replaced, one the daemon will move aside). */
static bool record_read(int dfd, const char *file, struct job *j)
{
	char why[256];
	return store_record_read(dfd, file, j, why, sizeof(why)) == 0;
}

/* NAME.json's stem into STEM (a record's file name), or false for any other file. */
static bool record_stem(const char *file, char *stem, size_t n)
{
	size_t nl = strlen(file);
	if (file[0] == '.' || nl < 6 || nl - 5 >= n || strcmp(file + nl - 5, ".json") != 0)
		return false;
	memcpy(stem, file, nl - 5);
	stem[nl - 5] = '\0';
	return true;
}

/* The finished jobs' summaries (history.h), by name. */
struct summaries {
	struct records rs;
	size_t cap;
	struct hmap by_name; /* name → index into rs.v (keys: the jobs' names) */
	bool *used;
};

static bool summary_add(const struct history_line *l, void *ud)
{
	struct summaries *s = ud;
	if (l->superseded)
		return true;
	struct job j;
	job_init(&j);
	history_line_job(l, &j);
	records_add(&s->rs, &s->cap, &j);
	/* a newer line of the same job replaces an older one, which stays unused */
	hmap_put(&s->by_name, s->rs.v[s->rs.n - 1].name, hmap_index_val(s->rs.n - 1));
	return true;
}

/* Sorted by claim, with each model's typical duration here (shown without progress). */
static void records_finish(struct records *rs)
{
	if (rs->n > 1)
		qsort(rs->v, rs->n, sizeof(*rs->v), by_claim);
	struct eta e;
	eta_init(&e);
	for (size_t i = 0; i < rs->n; i++)
		eta_add(&e, &rs->v[i]);
	for (size_t i = 0; i < rs->n; i++)
		rs->v[i].typical_s = eta_typical_s(&e, rs->v[i].model);
}

/*
 * Reads every record of STATE/jobs. Never writes: a temp file of a write in progress
 * is skipped (store_load_all would delete it under the daemon's feet), and an
 * unreadable record is left for the daemon to move aside.
 *
 * With SUMMARIES, a finished job that has a line in STATE/history.tsv is that line
 * (history.h) instead of its record: what `list` and `watch` show, read from one file
 * instead of a record each. Only for showing: a summary is not a whole record, and is
 * never saved.
 */
static void records_load_as(const struct conf *c, struct records *rs, bool summaries)
{
	memset(rs, 0, sizeof(*rs));
	char dir[PATH_MAX];
	if (bfmt(dir, sizeof(dir), "%s/jobs", c->state_dir) != 0)
		return;
	DIR *dp = opendir(dir);
	if (!dp)
		return; /* nothing has run yet */
	struct summaries s = {.by_name = HMAP_INIT};
	if (summaries && history_each(c->state_dir, summary_add, &s) >= 0)
		s.used = xcalloc(s.rs.n ? s.rs.n : 1, sizeof(*s.used));
	size_t cap = 0;
	struct dirent *de;
	while ((de = readdir(dp))) {
		char stem[PROMPT_NAME_MAX + 1];
		if (!record_stem(de->d_name, stem, sizeof(stem)))
			continue;
		void *v = s.used ? hmap_get(&s.by_name, stem) : NULL;
		struct job j;
		if (v && !s.used[hmap_val_index(v)]) {
			s.used[hmap_val_index(v)] = true;
			j = s.rs.v[hmap_val_index(v)];
			job_init(&s.rs.v[hmap_val_index(v)]); /* moved */
			records_add(rs, &cap, &j);
		} else if (record_read(dirfd(dp), de->d_name, &j)) {
			records_add(rs, &cap, &j);
		}
	}
	closedir(dp);
	hmap_release(&s.by_name);
	free(s.used);
	records_release(&s.rs); /* the summaries of jobs whose record is gone */
	records_finish(rs);
}

static void records_load(const struct conf *c, struct records *rs)
{
	records_load_as(c, rs, false);
}

/* S seconds as "45s", "3m10s" or "1h02m". */
static const char *fmt_dur(long long s, char *buf, size_t n)
{
	if (s < 60)
		bfmt(buf, n, "%llds", s < 0 ? 0 : s);
	else if (s < 3600)
		bfmt(buf, n, "%lldm%02llds", s / 60, s % 60);
	else
		bfmt(buf, n, "%lldh%02lldm", s / 3600, s % 3600 / 60);
	return buf;
}

/* True for a job the service is making without saying how far it is. */
static bool progress_unknown(const struct job *j)
{
	return j->state == JOB_RUNNING && j->progress < 0;
}

/* "running 3m10s, usually 2m05s" for such a job (elapsed since it was submitted). */
static void fmt_running(const struct job *j, char *buf, size_t n)
{
	char el[32], typ[32];
	long long e = eta_elapsed_s(j, (long long)time(NULL));
	bfmt(buf, n, "running %s%s%s", e >= 0 ? fmt_dur(e, el, sizeof(el)) : "(since ?)",
	     j->typical_s > 0 ? ", usually " : "",
	     j->typical_s > 0 ? fmt_dur(j->typical_s, typ, sizeof(typ)) : "");
}

static void records_release(struct records *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->n; i++)
		job_release(&rs->v[i]);
	free(rs->v);
	rs->v = NULL;
	rs->n = 0;
}

/* The job named NAME_OR_ID, else the one whose video id it is, or NULL. */
static struct job *records_find(struct records *rs, const char *name_or_id)
{
	for (size_t i = 0; i < rs->n; i++)
		if (!strcmp(rs->v[i].name, name_or_id))
			return &rs->v[i];
	for (size_t i = 0; i < rs->n; i++)
		if (rs->v[i].video_id && !strcmp(rs->v[i].video_id, name_or_id))
			return &rs->v[i];
	return NULL;
}

/* A job in flight: its progress moves in the daemon's memory, not in its record. */
static bool moving(const struct job *j)
{
	return j->state == JOB_SUBMITTING || j->state == JOB_RUNNING || j->state == JOB_DOWNLOADING;
}

/* Overlays on RS what the daemon's "live" answer ARR says of the jobs in flight (state,
 * progress, typical duration, remote status): one lookup per entry, by name. */
static void live_apply(struct records *rs, const cJSON *arr)
{
	struct hmap by_name = HMAP_INIT; /* name -> index in rs (keys: the records' names) */
	for (size_t i = 0; i < rs->n; i++)
		hmap_put(&by_name, rs->v[i].name, hmap_index_val(i));
	const cJSON *o;
	cJSON_ArrayForEach(o, arr)
	{
		const cJSON *nm = cJSON_GetObjectItemCaseSensitive(o, "name");
		void *v = cJSON_IsString(nm) ? hmap_get(&by_name, nm->valuestring) : NULL;
		if (!v)
			continue; /* claimed after the records were read */
		struct job *j = &rs->v[hmap_val_index(v)];
		const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "state");
		int s = cJSON_IsString(st) ? job_state_parse(st->valuestring) : -1;
		if (s != JOB_SUBMITTING && s != JOB_RUNNING && s != JOB_DOWNLOADING)
			continue; /* not moving: the record says it (the answer names it) */
		j->state = (enum job_state)s;
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "progress");
		if (cJSON_IsNumber(p) && p->valuedouble >= -1 && p->valuedouble <= 100)
			j->progress = (int)p->valuedouble;
		const cJSON *ty = cJSON_GetObjectItemCaseSensitive(o, "typical_s");
		if (cJSON_IsNumber(ty))
			j->typical_s = (long long)ty->valuedouble;
		const cJSON *rst = cJSON_GetObjectItemCaseSensitive(o, "status");
		if (cJSON_IsString(rst)) {
			free(j->status);
			j->status = xstrdup(rst->valuestring);
		}
	}
	hmap_release(&by_name);
}

/*
 * Overlays on RS what only the running daemon knows (control.h, "live": the state,
 * progress and remote status of the jobs in flight). 1 when the daemon answered; 0
 * when none did, which is said on stderr (unless QUIET) when a record shows a job in
 * flight, whose progress is then as last saved.
 */
static int records_live_named(const struct ctx *x, struct records *rs, bool quiet, const char *want,
                              bool *want_live)
{
	if (want_live)
		*want_live = false;
	cJSON *req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "cmd", "live");
	if (want)
		cJSON_AddStringToObject(req, "name", want);
	char why[512];
	cJSON *a = control_call(x->conf->state_dir, req, why, sizeof(why));
	cJSON_Delete(req);
	const cJSON *arr = a ? cJSON_GetObjectItemCaseSensitive(a, "jobs") : NULL;
	if (!cJSON_IsArray(arr)) {
		bool any = false;
		for (size_t i = 0; i < rs->n && !any; i++)
			any = moving(&rs->v[i]);
		if (any && !quiet)
			fprintf(stderr,
			        "sorad %s: no daemon answered (%s): this is what the records say; "
			        "progress is as last saved\n",
			        x->cmd->name, a ? "an old daemon without live progress" : why);
		cJSON_Delete(a);
		return 0;
	}
	if (want_live)
		*want_live = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "known"));
	live_apply(rs, arr);
	cJSON_Delete(a);
	return 1;
}

static int records_live(const struct ctx *x, struct records *rs, bool quiet)
{
	return records_live_named(x, rs, quiet, NULL, NULL);
}

/*
 * Whether filter WANT (a state or an API status, status_json.h) can only match jobs not
 * finished: then the records of finished jobs need not be read at all.
 */
static bool only_unfinished(const char *want)
{
	struct job d;
	job_init(&d);
	d.state = JOB_DONE;
	bool any = status_json_matches(&d, want);
	d.state = JOB_FAILED;
	any = any || status_json_matches(&d, want);
	return !any;
}

/*
 * The records of the jobs the running daemon has not finished (its "live" answer names
 * them all), and only those: a listing of jobs in flight costs what is in flight, not
 * the history. 0, or -1 with nothing loaded when no daemon answered.
 */
static int records_load_unfinished(const struct ctx *x, struct records *rs)
{
	memset(rs, 0, sizeof(*rs));
	cJSON *req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "cmd", "live");
	char why[512], dir[PATH_MAX];
	cJSON *a = control_call(x->conf->state_dir, req, why, sizeof(why));
	cJSON_Delete(req);
	const cJSON *arr = a ? cJSON_GetObjectItemCaseSensitive(a, "jobs") : NULL;
	int dfd = -1;
	if (!cJSON_IsArray(arr) || bfmt(dir, sizeof(dir), "%s/jobs", x->conf->state_dir) != 0 ||
	    (dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		cJSON_Delete(a);
		return -1;
	}
	size_t cap = 0;
	const cJSON *o;
	cJSON_ArrayForEach(o, arr)
	{
		const cJSON *nm = cJSON_GetObjectItemCaseSensitive(o, "name");
		char file[PROMPT_NAME_MAX + 8];
		struct job j;
		/* a name that is not a file stem, or a record not committed yet: not shown */
		if (cJSON_IsString(nm) && prompt_name_ok(nm->valuestring) &&
		    bfmt(file, sizeof(file), "%s.json", nm->valuestring) == 0 &&
		    record_read(dfd, file, &j))
			records_add(rs, &cap, &j);
	}
	close(dfd);
	records_finish(rs);
	live_apply(rs, arr); /* the same answer: the daemon is asked once */
	cJSON_Delete(a);
	return 0;
}

static int unknown_job(const struct ctx *x, const char *what)
{
	fprintf(stderr,
	        "sorad %s: no job or video named '%s' in %s/jobs; 'sorad list' shows the jobs "
	        "sorad knows\n",
	        x->cmd->name, what, x->conf->state_dir);
	return EX_NOINPUT;
}

static const char *fmt_time(long long t, char *buf, size_t n)
{
	if (t < 0)
		return "-";
	time_t tt = (time_t)t;
	struct tm tm;
	localtime_r(&tt, &tm);
	if (strftime(buf, n, "%Y-%m-%d %H:%M:%S %z", &tm) == 0)
		bcopy_str(buf, n, "?");
	return buf;
}

/* ---- list ------------------------------------------------------------------------- */

static cJSON *record_object(const struct job *j)
{
	char *s = store_record_json(j);
	cJSON *o = s ? cJSON_Parse(s) : NULL;
	free(s);
	if (!o)
		o = cJSON_CreateObject();
	/* what the job has spent, by the rule every surface uses (job.h) */
	cJSON_AddNumberToObject(o, "spent_usd", job_spent_usd(j));
	return o;
}

/* Every state's name, "claimed, held, ...", into buf[n] (for messages). */
static const char *state_names(char *buf, size_t n)
{
	size_t used = 0;
	buf[0] = '\0';
	for (int s = 0; s < JOB_STATE_COUNT && used < n; s++) {
		if (bfmt(buf + used, n - used, "%s%s", s ? ", " : "",
		         job_state_name((enum job_state)s)) != 0)
			break;
		used += strlen(buf + used);
	}
	return buf;
}

/*
 * S on one line for the table: at most MAX bytes of whole UTF-8 characters, control
 * characters (a record is editable text) shown as spaces, "..." when cut. DST holds
 * at least MAX + 4 bytes.
 */
static void one_line(char *dst, size_t n, const char *s, size_t max)
{
	size_t len = strlen(s), take = len > max ? max : len;
	if (n < 4) {
		if (n)
			dst[0] = '\0';
		return;
	}
	if (take > n - 4)
		take = n - 4;
	take = utf8_valid_prefix(s, take);
	for (size_t i = 0; i < take; i++)
		dst[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i];
	dst[take] = '\0';
	if (take < len)
		bcopy_str(dst + take, n - take, "...");
}

/* The last column of `sorad list` for J. */
static void list_note(const struct job *j, char *note, size_t n)
{
	if (j->state == JOB_IN_DOUBT) {
		char reason[128];
		one_line(reason, sizeof(reason), j->error ? j->error : "no reason recorded", 100);
		if (j->resolution)
			bfmt(note, n, "decided: %s (applied when sorad starts)", j->resolution);
		else
			bfmt(note, n, "%u create%s sent: %s", j->creates,
			     j->creates == 1 ? "" : "s", reason);
	} else if (j->state == JOB_HELD && j->error_code &&
	           !strcmp(j->error_code, JOBS_HOLD_APPROVAL)) {
		bfmt(note, n, "%s: sorad approve %s", JOBS_HOLD_APPROVAL, j->name);
	} else if (j->state == JOB_HELD || j->state == JOB_FAILED) {
		bfmt(note, n, "%s%s%s", j->video_id ? j->video_id : "", j->video_id ? " " : "",
		     j->error_code ? j->error_code : "");
	} else if (progress_unknown(j)) {
		char run[96];
		fmt_running(j, run, sizeof(run));
		bfmt(note, n, "%s (%s)", j->video_id ? j->video_id : "-", run);
	} else {
		bcopy_str(note, n, j->video_id ? j->video_id : "-");
	}
}

static int cmd_list(struct ctx *x, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	/* A job state, or one of the API's statuses, as the status page and API take. */
	const char *want = x->state;
	if (want && !status_json_filter_ok(want)) {
		char names[256];
		return usage_error(x,
		                   "unknown state '%s' (states: %s; or the API's statuses: "
		                   "queued, in_progress, completed, failed)",
		                   x->state, state_names(names, sizeof(names)));
	}
	struct records rs;
	/* jobs in flight only: their records, which the daemon names; else every job, the
	 * finished ones from their summaries (history.h) unless --json wants whole records;
	 * either way with what the daemon knows of the jobs in flight */
	if (!want || !only_unfinished(want) || records_load_unfinished(x, &rs) != 0) {
		records_load_as(x->conf, &rs, !x->json);
		records_live(x, &rs, false);
	}
	if (x->json) {
		cJSON *a = cJSON_CreateArray();
		for (size_t i = 0; i < rs.n; i++)
			if (!want || status_json_matches(&rs.v[i], want))
				cJSON_AddItemToArray(a, record_object(&rs.v[i]));
		char *s = cJSON_Print(a);
		printf("%s\n", s ? s : "[]");
		free(s);
		cJSON_Delete(a);
		records_release(&rs);
		return EX_OK;
	}
	int w = 4; /* the widest name shown */
	for (size_t i = 0; i < rs.n; i++) {
		int l = (int)strlen(rs.v[i].name);
		if (l > w && (!want || status_json_matches(&rs.v[i], want)))
			w = l > 48 ? 48 : l;
	}
	printf("%-*s  %-11s  %-10s  %-9s  %4s  %4s  %7s  %s\n", w, "NAME", "STATE", "MODEL", "SIZE",
	       "SECS", "PROG", "COST", "VIDEO / NOTE");
	size_t shown = 0;
	for (size_t i = 0; i < rs.n; i++) {
		const struct job *j = &rs.v[i];
		if (want && !status_json_matches(j, want))
			continue;
		char cost[32], note[VIDEO_ID_MAX + 160], prog[16];
		bfmt(cost, sizeof(cost), "$%.2f", job_spent_usd(j));
		list_note(j, note, sizeof(note));
		/* without progress from the service: "?" here, the elapsed time in the note */
		bfmt(prog, sizeof(prog), progress_unknown(j) ? "?" : "%d%%",
		     j->progress < 0 ? 0 : j->progress);
		printf("%-*.*s  %-11s  %-10.10s  %-9.9s  %4u  %4s  %7s  %s\n", w, w, j->name,
		       job_state_name(j->state), j->model ? j->model : "-", j->size ? j->size : "-",
		       j->seconds, prog, cost, note);
		shown++;
	}
	if (shown == 0)
		printf("(no jobs%s%s)\n", x->state ? " in state " : "", x->state ? x->state : "");
	records_release(&rs);
	return EX_OK;
}

/* ---- show ------------------------------------------------------------------------- */

static const char *const out_suffixes[] = {".mp4", ".thumbnail.webp", ".spritesheet.jpg", ".json"};

/* Only the record of the job named NAME, when there is one: 0, else -1 (nothing held). */
static int records_load_one(const struct conf *c, const char *name, struct records *rs)
{
	memset(rs, 0, sizeof(*rs));
	char dir[PATH_MAX], file[PROMPT_NAME_MAX + 8];
	if (!prompt_name_ok(name) || bfmt(dir, sizeof(dir), "%s/jobs", c->state_dir) != 0 ||
	    bfmt(file, sizeof(file), "%s.json", name) != 0)
		return -1;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	struct job j;
	size_t cap = 0;
	bool found = record_read(dfd, file, &j);
	close(dfd);
	if (!found)
		return -1;
	records_add(rs, &cap, &j);
	records_finish(rs);
	return 0;
}

static int cmd_show(struct ctx *x, int argc, char **argv)
{
	(void)argc;
	struct records rs;
	/* By name: its record alone. By video id, or a job in flight with no daemon to say
	 * how long such jobs take: every record (the typical duration comes from them). */
	bool one = records_load_one(x->conf, argv[0], &rs) == 0;
	if (!one)
		records_load(x->conf, &rs);
	struct job *j = records_find(&rs, argv[0]);
	if (!j) {
		records_release(&rs);
		return unknown_job(x, argv[0]);
	}
	if (moving(j) && records_live(x, &rs, one) == 0 && one) {
		records_release(&rs);
		records_load(x->conf, &rs);
		j = records_find(&rs, argv[0]);
		if (!j) { /* gone meanwhile */
			records_release(&rs);
			return unknown_job(x, argv[0]);
		}
		records_live(x, &rs, false);
	}
	char path[PATH_MAX];
	struct stat st;
	cJSON *files = cJSON_CreateArray();
	for (size_t i = 0; i < ARRAY_LEN(out_suffixes); i++)
		if (bfmt(path, sizeof(path), "%s/%s%s", x->conf->outbox, j->name,
		         out_suffixes[i]) == 0 &&
		    stat(path, &st) == 0) {
			cJSON *f = cJSON_CreateObject();
			cJSON_AddStringToObject(f, "path", path);
			cJSON_AddNumberToObject(f, "bytes", (double)st.st_size);
			cJSON_AddItemToArray(files, f);
		}
	if (bfmt(path, sizeof(path), "%s/%s.error.txt", x->conf->failed_dir, j->name) == 0 &&
	    stat(path, &st) == 0) {
		cJSON *f = cJSON_CreateObject();
		cJSON_AddStringToObject(f, "path", path);
		cJSON_AddNumberToObject(f, "bytes", (double)st.st_size);
		cJSON_AddItemToArray(files, f);
	}
	if (x->json) {
		cJSON *o = record_object(j);
		cJSON_AddItemToObject(o, "files", files);
		char *s = cJSON_Print(o);
		printf("%s\n", s ? s : "{}");
		free(s);
		cJSON_Delete(o);
		records_release(&rs);
		return EX_OK;
	}
	char t[64];
	printf("name         %s\n", j->name);
	printf("state        %s", job_state_name(j->state));
	if (j->status && progress_unknown(j)) {
		char run[96];
		fmt_running(j, run, sizeof(run));
		printf(" (remote: %s, no progress reported; %s)", j->status, run);
	} else if (j->status) {
		printf(" (remote: %s, %d%%)", j->status, j->progress < 0 ? 0 : j->progress);
	}
	long long left = moving(j) ? status_json_remaining_s(j, (long long)time(NULL)) : -1;
	if (left > 0) {
		char d[32];
		printf(", about %s left", fmt_dur(left, d, sizeof(d)));
	}
	printf("\n");
	printf("model        %s, %s, %u s\n", j->model ? j->model : "-", j->size ? j->size : "-",
	       j->seconds);
	printf("cost         $%.2f: %u create(s) counted of %u sent, $%.2f each (estimated "
	       "from the price table)",
	       job_spent_usd(j), job_creates_counted(j), j->creates, j->cost_usd);
	if (j->reported_cost_usd >= 0)
		printf("; $%.4f reported by the service", j->reported_cost_usd);
	printf("\n");
	printf("video id     %s\n", j->video_id ? j->video_id
	                            : j->state == JOB_IN_DOUBT
	                                ? "- (unknown: the create is in doubt)"
	                                : "- (not created yet)");
	if (j->remix_of)
		printf("remix of     %s%s%s\n", j->remix_of, j->remix_video_id ? " = " : "",
		       j->remix_video_id ? j->remix_video_id : "");
	if (j->extend_of)
		printf("extends      %s%s%s\n", j->extend_of, j->extend_job_id ? " = " : "",
		       j->extend_job_id ? j->extend_job_id : "");
	printf("source       %s", job_source_file(j));
	if (j->line)
		printf(" (line %u)", j->line);
	printf("\n");
	/* Earlier failures of a retried job, one per line. */
	for (const char *h = j->history, *e; h && *h; h = *e ? e + 1 : e) {
		e = h + strcspn(h, "\n");
		printf("%s %.*s\n", h == j->history ? "earlier     " : "            ", (int)(e - h),
		       h);
	}
	if (j->reference)
		printf("reference    %s\n", j->reference);
	printf("claimed      %s\n", fmt_time(j->claimed_at, t, sizeof(t)));
	printf("submitted    %s (attempts: %u)\n", fmt_time(j->submit_at, t, sizeof(t)),
	       j->attempts);
	printf("created      %s\n", fmt_time(j->video_created_at, t, sizeof(t)));
	printf("completed    %s\n", fmt_time(j->video_completed_at, t, sizeof(t)));
	printf("finished     %s\n", fmt_time(j->finished_at, t, sizeof(t)));
	if (j->video_expires_at >= 0)
		printf("link expires %s\n", fmt_time(j->video_expires_at, t, sizeof(t)));
	if (j->finished_at >= 0 && j->claimed_at >= 0)
		printf("took         %lld s from claim to finish\n",
		       j->finished_at - j->claimed_at);
	if (j->creates || j->state == JOB_IN_DOUBT) {
		unsigned proven = (unsigned)__builtin_popcount(j->creates_void);
		printf("creates      %u sent", j->creates);
		if (proven)
			printf(", %u of them proven to have made nothing", proven);
		printf(" (%u allowed)\n", j->creates_allowed);
	}
	if (j->error || j->state == JOB_IN_DOUBT) {
		printf("%s %s\n",
		       j->state == JOB_HELD       ? "held because"
		       : j->state == JOB_IN_DOUBT ? "in doubt    "
		                                  : "error       ",
		       j->error ? j->error : "(no reason recorded)");
		if (j->error_code)
			printf("error code   %s\n", j->error_code);
	}
	if (j->state == JOB_IN_DOUBT && j->resolution)
		printf("decided      %s (applied when the daemon starts)\n", j->resolution);
	else if (j->state == JOB_IN_DOUBT)
		printf("to decide    sorad resolve %s --adopt VIDEO_ID | --resubmit | --drop\n",
		       j->name);
	printf("prompt       %s\n", j->prompt ? j->prompt : "");
	cJSON *f;
	printf("files       ");
	if (cJSON_GetArraySize(files) == 0)
		printf(" (none yet)");
	printf("\n");
	cJSON_ArrayForEach(f, files)
	{
		printf("  %s (%.0f bytes)\n", cJSON_GetObjectItem(f, "path")->valuestring,
		       cJSON_GetObjectItem(f, "bytes")->valuedouble);
	}
	cJSON_Delete(files);
	records_release(&rs);
	return EX_OK;
}

/* ---- watch ------------------------------------------------------------------------- */

/* One job's line: "fox  running  45%  about 1m10s left", with a bar on a terminal. */
static void watch_line(const struct job *j, bool bar, char *buf, size_t n)
{
	char what[160] = "", d[32];
	if (progress_unknown(j)) {
		fmt_running(j, what, sizeof(what));
	} else if (moving(j)) {
		int p = j->progress < 0 ? 0 : j->progress;
		char b[24] = "";
		if (bar) {
			int fill = p / 5;
			b[0] = '[';
			for (int i = 0; i < 20; i++)
				b[1 + i] = i < fill ? '#' : '.';
			b[21] = ']';
			b[22] = ' ';
			b[23] = '\0';
		}
		long long left = status_json_remaining_s(j, (long long)time(NULL));
		bfmt(what, sizeof(what), "%s%3d%%%s%s%s", b, p, left > 0 ? "  about " : "",
		     left > 0 ? fmt_dur(left, d, sizeof(d)) : "", left > 0 ? " left" : "");
	} else if (j->state == JOB_DONE) {
		bcopy_str(what, sizeof(what), "the set is in the outbox");
	} else if (j->state == JOB_FAILED || j->state == JOB_IN_DOUBT || j->state == JOB_HELD) {
		one_line(what, sizeof(what), j->error ? j->error : "", 120);
	}
	bfmt(buf, n, "%s  %s  %s", j->name, job_state_name(j->state), what);
}

/* Whether sorad is still working on J by itself (not done, failed, or waiting for a
 * person: held or in doubt). */
static bool in_progress(const struct job *j)
{
	return !job_state_is_final(j->state) && j->state != JOB_HELD && j->state != JOB_IN_DOUBT;
}

/* Whether the inbox holds a prompt file named NAME.txt, .json or .jsonl. */
static bool in_inbox(const struct conf *c, const char *name)
{
	static const char *const ext[] = {"txt", "json", "jsonl"};
	for (size_t i = 0; i < ARRAY_LEN(ext); i++) {
		char path[PATH_MAX];
		struct stat st;
		if (bfmt(path, sizeof(path), "%s/%s.%s", c->inbox, name, ext[i]) == 0 &&
		    lstat(path, &st) == 0)
			return true;
	}
	return false;
}

static void pause_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = ms % 1000 * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

/*
 * Follows NAME (or every job sorad is working on) live until it is done: on a
 * terminal one line redrawn with a progress bar, else a line per change. Exit: 0 done
 * (or nothing left in flight), 65 failed, 75 waiting for a person (held, in doubt),
 * 69 no daemon runs (nothing would move).
 */
static int cmd_watch(struct ctx *x, int argc, char **argv)
{
	const char *name = argc ? argv[0] : NULL;
	bool tty = isatty(STDOUT_FILENO) == 1;
	cJSON *last = cJSON_CreateObject(); /* name -> the line printed last */
	int rc = -1;
	for (unsigned round = 0; rc < 0; round++) {
		if (round)
			pause_ms(1000); /* a display's refresh, not a wait for an event */
		/* The inbox is looked at first: a file claimed after this moment has a job in
		 * the daemon's memory before its record is committed, and the live answer
		 * (asked after the records were read) names it. */
		bool queued = name && in_inbox(x->conf, name), named_live = false;
		struct records rs;
		records_load_as(x->conf, &rs, true);
		bool up = records_live_named(x, &rs, true, name, &named_live) == 1;
		size_t active = 0;
		for (size_t i = 0; i < rs.n && rc < 0; i++) {
			const struct job *j = &rs.v[i];
			if (name ? j != records_find(&rs, name) : !in_progress(j))
				continue;
			active++;
			char line[512];
			watch_line(j, tty && name, line, sizeof(line));
			const cJSON *prev = cJSON_GetObjectItemCaseSensitive(last, j->name);
			if (!prev || strcmp(cJSON_GetStringValue(prev), line) != 0) {
				if (tty && name)
					printf("\r\033[K%s", line);
				else
					printf("%s\n", line);
				fflush(stdout);
				cJSON_DeleteItemFromObjectCaseSensitive(last, j->name);
				cJSON_AddStringToObject(last, j->name, line);
			}
			if (name && !in_progress(j))
				rc = j->state == JOB_DONE     ? EX_OK
				     : j->state == JOB_FAILED ? EX_DATAERR
				                              : EX_TEMPFAIL;
		}
		if (rc < 0 && name && !active) {
			if (up && (queued || named_live)) {
				/* submitted a moment ago: the daemon claims it once it settles, and
				 * records it a moment after */
				if (!cJSON_GetObjectItemCaseSensitive(last, name)) {
					printf("%s  %s\n", name,
					       named_live ? "claimed, being recorded"
					                  : "in the inbox, not claimed yet");
					fflush(stdout);
					cJSON_AddStringToObject(last, name, "");
				}
				records_release(&rs);
				continue;
			}
			records_release(&rs);
			cJSON_Delete(last);
			return unknown_job(x, name);
		}
		if (rc < 0 && !name && !active) {
			printf("%s\n", round ? "nothing left in flight" : "nothing in flight");
			rc = EX_OK;
		}
		if (rc < 0 && !up) {
			fprintf(stderr,
			        "%ssorad watch: no sorad daemon is running for %s: nothing moves "
			        "until it starts\n",
			        tty && name ? "\n" : "", x->conf->state_dir);
			records_release(&rs);
			cJSON_Delete(last);
			return EX_UNAVAILABLE;
		}
		records_release(&rs);
	}
	if (tty && name)
		printf("\n");
	cJSON_Delete(last);
	return rc;
}

/* ---- models ------------------------------------------------------------------------- */

/* The catalog from the cache while it is fresh, else fetched (not cached: the daemon is
 * the state directory's only writer), else the stale cache with a note. */
static int cmd_models(struct ctx *x, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	char why[PATH_MAX + 256];
	struct catalog *cat = catalog_load(x->conf->state_dir, x->conf->api_base, why, sizeof(why));
	if (!cat || catalog_due(cat->fetched_at, time(NULL), CATALOG_MAX_AGE_S)) {
		char fwhy[512];
		struct catalog *fresh = catalog_fetch(x->conf, fwhy, sizeof(fwhy));
		if (fresh) {
			catalog_free(cat);
			cat = fresh;
		} else if (cat) {
			fprintf(stderr,
			        "sorad models: cannot fetch the catalog (%s); the cached one "
			        "may be out of date\n",
			        fwhy);
		} else {
			fprintf(stderr, "sorad models: cannot fetch %s/videos/models: %s\n",
			        x->conf->api_base, fwhy);
			return EX_UNAVAILABLE;
		}
	}
	if (x->json) {
		char *json = catalog_to_json(cat);
		printf("%s\n", json);
		free(json);
	} else {
		char when[64] = "an unknown time";
		struct tm tm;
		if (cat->fetched_at > 0 && localtime_r(&cat->fetched_at, &tm))
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %z", &tm);
		printf("Models of %s (fetched %s)\n\n", x->conf->api_base, when);
		catalog_print(cat, stdout);
	}
	catalog_free(cat);
	return EX_OK;
}

/* ---- usage -------------------------------------------------------------------------- */

static int cmd_usage_report(struct ctx *x, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	struct usage *u = usage_load(x->conf->state_dir);
	time_t now = time(NULL);
	long long far = (long long)now + 366LL * 86400;
	const struct {
		const char *label, *key;
		long long from;
	} periods[] = {{"today", "today", usage_day_start(now)},
	               {"this month", "month", usage_month_start(now)},
	               {"all time", "all", 0}};
	/* Every model in the table, then any other model the log mentions. */
	const char **models = xcalloc(x->conf->n_models + u->n + 1, sizeof(*models));
	size_t nm = 0;
	for (size_t i = 0; i < x->conf->n_models; i++)
		models[nm++] = x->conf->models[i].name;
	for (size_t i = 0; i < u->n; i++) {
		bool seen = false;
		for (size_t k = 0; k < nm && !seen; k++)
			seen = !strcmp(models[k], u->v[i].model);
		if (!seen)
			models[nm++] = u->v[i].model;
	}
	struct usage_sum all;
	usage_totals(u, 0, far, NULL, &all);
	cJSON *root = x->json ? cJSON_CreateObject() : NULL;
	if (!x->json) {
		printf("%-14s", "");
		for (size_t p = 0; p < ARRAY_LEN(periods); p++)
			printf("  %20s", periods[p].label);
		printf("\n");
	}
	/* The models, the total, then (text, when there is any) the total's unconfirmed
	 * part: creates sent whose outcome is not known yet, counted as spent. */
	for (size_t k = 0; k <= nm + (all.unconfirmed && !root); k++) {
		const char *m = k < nm ? models[k] : NULL;
		bool unconfirmed = k > nm;
		cJSON *mo = NULL;
		if (root) {
			mo = cJSON_CreateObject();
			cJSON_AddItemToObject(root, m ? m : "total", mo);
		} else {
			printf("%-14.14s", m ? m : unconfirmed ? "  unconfirmed" : "total");
		}
		for (size_t p = 0; p < ARRAY_LEN(periods); p++) {
			struct usage_sum sum;
			usage_totals(u, periods[p].from, far, m, &sum);
			if (mo) {
				cJSON *po = cJSON_CreateObject();
				cJSON_AddNumberToObject(po, "seconds", (double)sum.seconds);
				cJSON_AddNumberToObject(po, "cost_usd", sum.usd);
				cJSON_AddNumberToObject(po, "unconfirmed_seconds",
				                        (double)sum.unconfirmed_seconds);
				cJSON_AddNumberToObject(po, "unconfirmed_cost_usd",
				                        sum.unconfirmed_usd);
				cJSON_AddItemToObject(mo, periods[p].key, po);
			} else {
				char cell[64];
				bfmt(cell, sizeof(cell), "%llu s  $%.2f",
				     unconfirmed ? sum.unconfirmed_seconds : sum.seconds,
				     unconfirmed ? sum.unconfirmed_usd : sum.usd);
				printf("  %20s", cell);
			}
		}
		if (!root)
			printf("\n");
	}
	if (root) {
		char *s = cJSON_Print(root);
		printf("%s\n", s ? s : "{}");
		free(s);
		cJSON_Delete(root);
	} else {
		const struct conf *c = x->conf;
		if (c->daily_cap_seconds || c->daily_cap_usd > 0 || c->monthly_cap_seconds ||
		    c->monthly_cap_usd > 0)
			printf("caps: daily %u s / $%.2f, monthly %u s / $%.2f (0: none)\n",
			       c->daily_cap_seconds, c->daily_cap_usd, c->monthly_cap_seconds,
			       c->monthly_cap_usd);
		if (all.unconfirmed)
			printf("unconfirmed: %zu create(s) sent whose outcome is not known yet (in "
			       "flight, or in doubt: sorad list --state in_doubt), counted in the "
			       "total until it is\n",
			       all.unconfirmed);
		printf("(estimated from the configured price table; %zu create(s) counted "
		       "in %s)\n",
		       all.creates, u->path);
	}
	free(models);
	usage_free(u);
	return EX_OK;
}

/* ---- submit -------------------------------------------------------------------------- */

/*
 * Writes DATA[LEN] into the inbox as BASE (or BASE-2.ext, -3... when taken): a hidden
 * temp file first (the watcher ignores it), fsync'd, then renamed in without
 * replacing anything. The final name goes to final[n]. 0, or -1 with a message.
 */
/* Writes DATA into a new temp file in the inbox (made if missing); its path into TMP. */
static int inbox_temp(const struct ctx *x, const char *data, size_t len, char *tmp, size_t n)
{
	const char *inbox = x->conf->inbox;
	struct stat st;
	if (!x->conf_path && stat(inbox, &st) != 0) {
		/* No configuration file anywhere: the built-in relative inbox would be made
		 * in whatever directory this runs from, where no daemon watches. */
		fprintf(stderr,
		        "sorad %s: no configuration file (looked at %s) and no %s here; "
		        "pass -c FILE, or run where sorad.conf is\n",
		        x->cmd->name, conf_path_searched(), inbox);
		return -1;
	}
	if (mkdir_p(inbox, 0755) != 0) {
		fprintf(stderr, "sorad %s: cannot create the inbox %s: %s\n", x->cmd->name, inbox,
		        strerror(errno));
		return -1;
	}
	if (bfmt(tmp, n, "%s/.sorad-submit.XXXXXX", inbox) != 0)
		return -1;
	int fd = mkstemp(tmp);
	if (fd < 0 || write_all(fd, data, len) != 0 || fchmod(fd, 0644) != 0 || fsync(fd) != 0) {
		fprintf(stderr, "sorad %s: cannot write into the inbox %s: %s\n", x->cmd->name,
		        inbox, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		return -1;
	}
	close(fd);
	return 0;
}

/*
 * Renames temp file TMP in the inbox to BASE, or BASE's stem with -2, -3... when
 * that is taken (never replacing anything); the final path into FINAL. On failure
 * TMP is removed.
 */
static int inbox_place(const struct ctx *x, const char *tmp, const char *base, char *final,
                       size_t n)
{
	const char *inbox = x->conf->inbox;
	const char *dot = strrchr(base, '.');
	size_t stem = dot && dot != base ? (size_t)(dot - base) : strlen(base);
	for (unsigned k = 1; k < 1000; k++) {
		char name[PROMPT_NAME_MAX + 32];
		if (k == 1)
			bcopy_str(name, sizeof(name), base);
		else
			bfmt(name, sizeof(name), "%.*s-%u%s", (int)stem, base, k, base + stem);
		if (bfmt(final, n, "%s/%s", inbox, name) != 0)
			break;
		if (renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_NOREPLACE) == 0) {
			fsync_dir(inbox);
			return 0;
		}
		if (errno == EEXIST)
			continue;
		/* A filesystem without RENAME_NOREPLACE: check, then rename. */
		if ((errno == EINVAL || errno == ENOSYS) && access(final, F_OK) != 0 &&
		    rename(tmp, final) == 0) {
			fsync_dir(inbox);
			return 0;
		}
		if (errno != EINVAL && errno != ENOSYS && errno != EEXIST)
			break;
	}
	fprintf(stderr, "sorad %s: cannot move %s into the inbox: %s\n", x->cmd->name, base,
	        strerror(errno));
	unlink(tmp);
	return -1;
}

/* Puts DATA into the inbox as BASE (see inbox_place); 0 or -1 with a message. */
static int inbox_put(const struct ctx *x, const char *base, const char *data, size_t len,
                     char *final, size_t n)
{
	char tmp[PATH_MAX];
	if (inbox_temp(x, data, len, tmp, sizeof(tmp)) != 0)
		return -1;
	return inbox_place(x, tmp, base, final, n);
}

/* Reads PATH (at most max_file_size bytes) into a new buffer; NULL with a message. */
static char *read_input(const struct ctx *x, const char *path, size_t *len)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		fprintf(stderr, "sorad %s: %s: %s\n", x->cmd->name, path, strerror(errno));
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		fprintf(stderr, "sorad %s: %s is not a regular file\n", x->cmd->name, path);
		return NULL;
	}
	if (st.st_size > x->conf->max_file_size) {
		fprintf(stderr, "sorad %s: %s is %lld bytes, over max_file_size (%lld)\n",
		        x->cmd->name, path, (long long)st.st_size, x->conf->max_file_size);
		return NULL;
	}
	FILE *fp = fopen(path, "re");
	if (!fp) {
		fprintf(stderr, "sorad %s: %s: %s\n", x->cmd->name, path, strerror(errno));
		return NULL;
	}
	char *buf = xmalloc((size_t)st.st_size + 1);
	*len = fread(buf, 1, (size_t)st.st_size + 1, fp);
	fclose(fp);
	buf[*len < (size_t)st.st_size ? *len : (size_t)st.st_size] = '\0';
	return buf;
}

/*
 * Parses and validates a prompt file as the daemon will; prints every problem.
 * Returns 0 when every job in it can run.
 */
static int check_prompt(const struct ctx *x, const char *shown, enum prompt_format fmt,
                        const char *stem, const char *data, size_t len)
{
	struct prompt_file pf;
	prompt_parse(fmt, stem, data, len, x->conf, &pf);
	int bad = 0;
	for (size_t i = 0; i < pf.n; i++) {
		const char *err = prompt_check(&pf.jobs[i], x->conf) != 0 ? pf.jobs[i].error : NULL;
		if (err) {
			fprintf(stderr, "sorad %s: %s: %s\n", x->cmd->name, shown, err);
			bad++;
		}
	}
	prompt_file_release(&pf);
	return bad ? -1 : 0;
}

/* Says where the work goes next, and whether a daemon will take it. */
static void daemon_note(const struct ctx *x)
{
	int fd = control_lock(x->conf->state_dir);
	if (fd >= 0) {
		printf("note: no sorad daemon is running for %s: the inbox is processed when it "
		       "starts\n",
		       x->conf->state_dir);
		close(fd);
	}
}

/* The file name part of PATH, and the format of its extension (-1: not a prompt). */
static const char *base_of(const char *path, int *fmt, bool *image)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	const char *dot = strrchr(base, '.');
	*fmt = prompt_format_from_ext(dot ? dot + 1 : NULL);
	*image = image_ext_ok(dot ? dot + 1 : NULL);
	return base;
}

/*
 * One argument of `sorad submit`. An image pairs with one prompt (PAIR): the prompt
 * of the same stem among the arguments, else the prompt just before it; it is then
 * put into the inbox under that prompt's stem, so the daemon pairs them whatever
 * the image was called. An image a prompt names with "reference:" keeps its name.
 */
struct sub_item {
	const char *path, *base;
	int fmt; /* enum prompt_format, or -1 for an image */
	size_t stem_len;
	int pair;              /* the paired image (of a prompt) or prompt (of an image), or -1 */
	bool referenced;       /* an image named by a prompt's "reference:" */
	struct prompt_file pf; /* prompts: as the daemon will read them */
};

/* Refuses what the daemon would refuse, with the reasons; 0 or a sysexits code. */
static int submit_check(const struct ctx *x, struct sub_item *it)
{
	bool image;
	it->base = base_of(it->path, &it->fmt, &image);
	const char *dot = strrchr(it->base, '.');
	it->pair = -1;
	if (it->fmt < 0 && !image) {
		fprintf(stderr,
		        "sorad submit: %s is not a prompt file (.txt, .json or .jsonl) or a "
		        "reference image (.png, .jpg, .jpeg, .webp)\n",
		        it->path);
		return EX_DATAERR;
	}
	if (!prompt_name_ok(it->base) || dot == it->base) {
		fprintf(stderr,
		        "sorad submit: %s: the name cannot be used in the inbox (no leading '.' "
		        "or '-'); rename it\n",
		        it->path);
		return EX_DATAERR;
	}
	it->stem_len = (size_t)(dot - it->base);
	size_t len = 0;
	char *data = read_input(x, it->path, &len);
	if (!data)
		return EX_NOINPUT;
	int rc = EX_OK;
	if (it->fmt >= 0) {
		char stem[PROMPT_NAME_MAX + 1];
		bfmt(stem, sizeof(stem), "%.*s", (int)it->stem_len, it->base);
		prompt_parse((enum prompt_format)it->fmt, stem, data, len, x->conf, &it->pf);
		for (size_t i = 0; i < it->pf.n; i++) {
			if (prompt_check(&it->pf.jobs[i], x->conf) != 0) {
				fprintf(stderr, "sorad submit: %s: %s\n", it->path,
				        it->pf.jobs[i].error);
				rc = EX_DATAERR;
			}
		}
	}
	free(data);
	return rc;
}

/* A prompt that can take a paired image: one job, no reference of its own, not a remix. */
static bool can_pair(const struct sub_item *p)
{
	return p->fmt >= 0 && p->fmt != PROMPT_JSONL && p->pair < 0 && p->pf.n == 1 &&
	       !p->pf.jobs[0].reference && !p->pf.jobs[0].remix_of;
}

/* Pairs every image of V with its prompt (see struct sub_item). */
static void submit_pair(struct sub_item *v, int n)
{
	for (int i = 0; i < n; i++) {
		if (v[i].fmt >= 0)
			continue;
		for (int k = 0; k < n && !v[i].referenced; k++)
			for (size_t j = 0; v[k].fmt >= 0 && j < v[k].pf.n; j++)
				if (v[k].pf.jobs[j].reference &&
				    !strcmp(v[k].pf.jobs[j].reference, v[i].base))
					v[i].referenced = true;
		if (v[i].referenced)
			continue;
		int to = -1;
		for (int k = 0; k < n && to < 0; k++)
			if (v[k].stem_len == v[i].stem_len &&
			    !strncmp(v[k].base, v[i].base, v[i].stem_len) && can_pair(&v[k]))
				to = k;
		if (to < 0 && i > 0 && can_pair(&v[i - 1]))
			to = i - 1;
		if (to >= 0) {
			v[i].pair = to;
			v[to].pair = i;
		}
	}
}

/* Checks image IMG for job S of prompt P as the daemon will: its kind and pixels (its
 * bytes were bounded when it was read). */
static int submit_check_image(const struct sub_item *img, const struct sub_item *p,
                              const struct job_spec *s)
{
	struct image_info info;
	char why[256];
	int fd = open(img->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		fprintf(stderr, "sorad submit: %s: %s\n", img->path, strerror(errno));
		return EX_NOINPUT;
	}
	int rc = image_probe_fd(fd, &info, why, sizeof(why));
	close(fd);
	if (rc != 0) {
		fprintf(stderr, "sorad submit: %s cannot be the image of %s: %s\n", img->path,
		        p->path, why);
		return EX_DATAERR;
	}
	char size[32];
	bfmt(size, sizeof(size), "%ux%u", info.width, info.height);
	if (s->size && strcmp(size, s->size) != 0) {
		fprintf(stderr,
		        "sorad submit: %s is %s pixels but the video of %s is %s; the image must "
		        "be exactly the video's size\n",
		        img->path, size, p->path, s->size);
		return EX_DATAERR;
	}
	return EX_OK;
}

/* The inbox names STEM.* that a pair could collide with. */
static bool stem_taken(const char *inbox, const char *stem)
{
	static const char *const prompt_exts[] = {"txt", "json", "jsonl"};
	for (size_t i = 0; i < ARRAY_LEN(prompt_exts) + IMAGE_EXT_N; i++) {
		const char *ext = i < ARRAY_LEN(prompt_exts)
		                      ? prompt_exts[i]
		                      : image_ext(i - ARRAY_LEN(prompt_exts));
		char path[PATH_MAX];
		if (bfmt(path, sizeof(path), "%s/%s.%s", inbox, stem, ext) != 0 ||
		    access(path, F_OK) == 0)
			return true;
	}
	return false;
}

/* Reads PATH and writes it into a temp file in the inbox; its path into TMP, or -1. */
static int submit_temp(const struct ctx *x, const char *path, char *tmp, size_t n)
{
	size_t len = 0;
	char *data = read_input(x, path, &len);
	if (!data)
		return -1;
	int rc = inbox_temp(x, data, len, tmp, n);
	free(data);
	return rc;
}

/*
 * Puts prompt P and its image IMG into the inbox under one free stem (P's own, else
 * P-2, P-3...): the image first, then the prompt, each renamed into place without
 * replacing anything, so the daemon never sees the prompt without its image.
 */
static int submit_put_pair(const struct ctx *x, const struct sub_item *p,
                           const struct sub_item *img)
{
	const char *inbox = x->conf->inbox;
	char ptmp[PATH_MAX], itmp[PATH_MAX];
	if (submit_temp(x, img->path, itmp, sizeof(itmp)) != 0)
		return -1;
	if (submit_temp(x, p->path, ptmp, sizeof(ptmp)) != 0) {
		unlink(itmp);
		return -1;
	}
	const char *iext = img->base + img->stem_len, *pext = p->base + p->stem_len;
	for (unsigned k = 1; k < 1000; k++) {
		char stem[PROMPT_NAME_MAX + 32], ifinal[PATH_MAX], pfinal[PATH_MAX];
		if (k == 1)
			bfmt(stem, sizeof(stem), "%.*s", (int)p->stem_len, p->base);
		else
			bfmt(stem, sizeof(stem), "%.*s-%u", (int)p->stem_len, p->base, k);
		if (stem_taken(inbox, stem))
			continue;
		if (bfmt(ifinal, sizeof(ifinal), "%s/%s%s", inbox, stem, iext) != 0 ||
		    bfmt(pfinal, sizeof(pfinal), "%s/%s%s", inbox, stem, pext) != 0)
			break;
		if (renameat2(AT_FDCWD, itmp, AT_FDCWD, ifinal, RENAME_NOREPLACE) != 0) {
			if (errno == EEXIST)
				continue;
			break;
		}
		if (renameat2(AT_FDCWD, ptmp, AT_FDCWD, pfinal, RENAME_NOREPLACE) != 0) {
			int e = errno;
			/* Taken in between: the image goes back to its temp name, and on. */
			if (rename(ifinal, itmp) != 0 || e != EEXIST)
				break;
			continue;
		}
		fsync_dir(inbox);
		printf("%s -> %s (the image of %s)\n", img->path, ifinal, p->path);
		printf("%s -> %s\n", p->path, pfinal);
		return 0;
	}
	fprintf(stderr, "sorad submit: cannot move %s and its image %s into the inbox: %s\n",
	        p->path, img->path, strerror(errno));
	unlink(itmp);
	unlink(ptmp);
	return -1;
}

static int cmd_submit(struct ctx *x, int argc, char **argv)
{
	struct sub_item *v = xcalloc((size_t)argc, sizeof(*v));
	int rc = EX_OK;
	/* The daemon's cached catalog, so that submit accepts the models it accepts. */
	if (catalog_wanted(x->conf)) {
		char why[PATH_MAX + 256];
		catalog_install(
		    catalog_load(x->conf->state_dir, x->conf->api_base, why, sizeof(why)));
	}
	/* Everything is checked before anything is copied: all or nothing. */
	for (int i = 0; i < argc && rc == EX_OK; i++) {
		v[i].path = argv[i];
		rc = submit_check(x, &v[i]);
	}
	if (rc == EX_OK)
		submit_pair(v, argc);
	for (int i = 0; i < argc && rc == EX_OK; i++) {
		if (v[i].fmt < 0 && v[i].pair >= 0)
			rc = submit_check_image(&v[i], &v[v[i].pair], &v[v[i].pair].pf.jobs[0]);
		for (int k = 0; k < argc && rc == EX_OK && v[i].referenced; k++)
			for (size_t j = 0; v[k].fmt >= 0 && j < v[k].pf.n && rc == EX_OK; j++)
				if (v[k].pf.jobs[j].reference &&
				    !strcmp(v[k].pf.jobs[j].reference, v[i].base))
					rc = submit_check_image(&v[i], &v[k], &v[k].pf.jobs[j]);
	}
	if (rc == EX_DATAERR)
		fprintf(stderr,
		        "sorad submit: nothing was submitted; fix the file and try again\n");
	/* Images first, then prompts, so that a prompt finds its image when it settles. */
	for (int pass = 0; pass < 2 && rc == EX_OK; pass++) {
		for (int i = 0; i < argc && rc == EX_OK; i++) {
			const struct sub_item *it = &v[i];
			if ((pass == 0) != (it->fmt < 0))
				continue;
			if (it->pair >= 0) {
				if (it->fmt >= 0 && submit_put_pair(x, it, &v[it->pair]) != 0)
					rc = EX_CANTCREAT;
				continue; /* a pair goes in with its prompt */
			}
			char tmp[PATH_MAX], final[PATH_MAX];
			if (submit_temp(x, it->path, tmp, sizeof(tmp)) != 0 ||
			    inbox_place(x, tmp, it->base, final, sizeof(final)) != 0) {
				rc = EX_CANTCREAT;
				break;
			}
			printf("%s -> %s\n", it->path, final);
			if (it->fmt < 0 && !it->referenced)
				printf(
				    "note: no prompt given here pairs with %s: it waits in the "
				    "inbox "
				    "for a prompt of the same name (%.*s.txt) or one that names it "
				    "with 'reference: %s'\n",
				    it->path, (int)it->stem_len, it->base, it->base);
		}
	}
	for (int i = 0; i < argc; i++)
		if (v[i].fmt >= 0)
			prompt_file_release(&v[i].pf);
	free(v);
	if (rc != EX_OK)
		return rc;
	printf("%s\n", GUIDELINES);
	daemon_note(x);
	return EX_OK;
}

/* ---- remix -------------------------------------------------------------------------- */

static int cmd_remix(struct ctx *x, int argc, char **argv)
{
	(void)argc;
	const char *target = argv[0], *prompt = argv[1];
	struct records rs;
	records_load(x->conf, &rs);
	const struct job *j = records_find(&rs, target);
	char src[PROMPT_NAME_MAX + 1];
	if (j) {
		if (j->state == JOB_FAILED) {
			fprintf(stderr,
			        "sorad remix: %s failed, so there is no video to remix; see 'sorad "
			        "show %s'\n",
			        j->name, j->name);
			records_release(&rs);
			return EX_DATAERR;
		}
		bcopy_str(src, sizeof(src), j->name);
	} else if (!strncmp(target, "video_", 6) && video_id_is_safe(target)) {
		bcopy_str(src, sizeof(src), target); /* a video sorad did not make */
	} else {
		records_release(&rs);
		return unknown_job(x, target);
	}
	records_release(&rs);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "prompt", prompt);
	cJSON_AddStringToObject(o, "remix_of", src);
	char *data = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	char base[PROMPT_NAME_MAX + 32];
	bfmt(base, sizeof(base), "%.180s-remix", src);
	int rc = check_prompt(x, "remix", PROMPT_JSON, base, data, strlen(data));
	if (rc != 0) {
		free(data);
		return EX_DATAERR;
	}
	bfmt(base, sizeof(base), "%.180s-remix.json", src);
	char final[PATH_MAX];
	rc = inbox_put(x, base, data, strlen(data), final, sizeof(final));
	free(data);
	if (rc != 0)
		return EX_CANTCREAT;
	printf("remix of %s submitted as %s\n", src, final);
	printf("%s\n", GUIDELINES);
	daemon_note(x);
	return EX_OK;
}

/* ---- approve and delete: state changes --------------------------------------------- */

/*
 * Hands REQ to the running daemon, or returns -2 when none runs (*lock_fd then holds
 * the state lock for the caller to act directly). Prints the daemon's message;
 * returns a sysexits code otherwise.
 */
static int to_daemon_wait(const struct ctx *x, cJSON *req, int *lock_fd, int timeout_ms)
{
	*lock_fd = control_lock(x->conf->state_dir);
	if (*lock_fd >= 0)
		return -2;
	if (*lock_fd == -1) {
		fprintf(stderr, "sorad %s: cannot use the state directory %s: %s\n", x->cmd->name,
		        x->conf->state_dir, strerror(errno));
		return EX_CANTCREAT;
	}
	char why[512];
	cJSON *a = control_call_wait(x->conf->state_dir, req, timeout_ms, why, sizeof(why));
	if (!a) {
		fprintf(stderr, "sorad %s: a daemon holds the state lock but %s; is it stopping?\n",
		        x->cmd->name, why);
		return EX_UNAVAILABLE;
	}
	const cJSON *msg = cJSON_GetObjectItem(a, "message");
	const char *m = cJSON_IsString(msg) ? msg->valuestring : "";
	int rc = EX_OK;
	if (cJSON_IsTrue(cJSON_GetObjectItem(a, "ok"))) {
		printf("%s\n", m);
	} else {
		const cJSON *e = cJSON_GetObjectItem(a, "error");
		const char *code = cJSON_IsString(e) ? e->valuestring : "";
		fprintf(stderr, "sorad %s: %s\n", x->cmd->name, m);
		rc = !strcmp(code, "not_found")       ? EX_NOINPUT
		     : !strcmp(code, "not_final")     ? EX_TEMPFAIL
		     : !strcmp(code, "not_in_doubt")  ? EX_DATAERR
		     : !strcmp(code, "refused")       ? EX_DATAERR
		     : !strcmp(code, "busy")          ? EX_TEMPFAIL
		     : !strcmp(code, "io_error")      ? EX_IOERR
		     : !strcmp(code, "config")        ? EX_CONFIG
		     : !strcmp(code, "cannot_delete") ? EX_UNAVAILABLE
		     : !strcmp(code, "unavailable")   ? EX_UNAVAILABLE
		     : !strcmp(code, "timeout")       ? EX_UNAVAILABLE
		                                      : EX_SOFTWARE;
	}
	cJSON_Delete(a);
	return rc;
}

static int to_daemon(const struct ctx *x, cJSON *req, int *lock_fd)
{
	return to_daemon_wait(x, req, lock_fd, 30000);
}

/* With no daemon and its lock held (LOCK), the records to change in place: 0, or -1
 * (the lock released) when the state directory cannot be opened. */
static int offline_records(const struct ctx *x, int lock, struct records *rs)
{
	if (store_open(x->conf->state_dir) != 0) {
		close(lock);
		return -1;
	}
	records_load(x->conf, rs);
	return 0;
}

/* Ends an offline change: the records freed, the state lock released; returns RC. */
static int offline_done(struct records *rs, int lock, int rc)
{
	records_release(rs);
	close(lock);
	return rc;
}

/*
 * The job-control commands' first step: `{"cmd": CMD, "name": NAME, ...EXTRA}` to the
 * running daemon (EXTRA, may be NULL: "key", "value" string pairs ending with NULL).
 * Returns the daemon's answer as a sysexits code; or, with no daemon, -2 with RS loaded
 * and *LOCK held, and *J the record named NAME (NULL when WANT_ONE is false). A failure
 * to open the records or an unknown NAME is returned as its exit code, with nothing held.
 */
static int ask_daemon(const struct ctx *x, const char *cmd, const char *name,
                      const char *const *extra, bool want_one, int *lock, struct records *rs,
                      struct job **j)
{
	cJSON *req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "cmd", cmd);
	cJSON_AddStringToObject(req, "name", name);
	for (size_t i = 0; extra && extra[i] && extra[i + 1]; i += 2)
		cJSON_AddStringToObject(req, extra[i], extra[i + 1]);
	int rc = to_daemon(x, req, lock);
	cJSON_Delete(req);
	if (rc != -2)
		return rc;
	if (offline_records(x, *lock, rs) != 0)
		return EX_CANTCREAT;
	if (!want_one)
		return -2;
	*j = records_find(rs, name);
	if (!*j)
		return offline_done(rs, *lock, unknown_job(x, name));
	return -2;
}

/* With no daemon: the user's decision WORD kept in J's record (job.h, resolution), for
 * the daemon to apply when it starts; SAID is printed once it is stored. */
static int offline_resolution(const struct ctx *x, struct records *rs, int lock, struct job *j,
                              const char *word, const char *said)
{
	free(j->resolution);
	j->resolution = xstrdup(word);
	int rc = store_save(x->conf->state_dir, j) == 0 ? EX_OK : EX_IOERR;
	if (rc == EX_OK)
		printf("%s: %s\n", j->name, said);
	return offline_done(rs, lock, rc);
}

static int cmd_approve(struct ctx *x, int argc, char **argv)
{
	(void)argc;
	int lock = -1;
	struct records rs;
	int rc = ask_daemon(x, "approve", argv[0], NULL, false, &lock, &rs, NULL);
	if (rc != -2)
		return rc;
	/* No daemon: release the holds in the records; the daemon submits them at start. */
	int n = 0;
	for (size_t i = 0; i < rs.n; i++) {
		struct job *j = &rs.v[i];
		if (!jobs_approval_matches(j, argv[0]))
			continue;
		free(j->error);
		j->error = NULL;
		free(j->error_code);
		j->error_code = NULL;
		j->state = JOB_CLAIMED;
		if (store_save(x->conf->state_dir, j) != 0)
			return offline_done(&rs, lock, EX_IOERR);
		n++;
	}
	offline_done(&rs, lock, EX_OK);
	if (n == 0) {
		fprintf(stderr,
		        "sorad approve: no job named '%s' is waiting for approval; 'sorad list "
		        "--state held' shows held jobs\n",
		        argv[0]);
		return EX_NOINPUT;
	}
	printf("approved %d job(s) of %s; no daemon is running: they are submitted when "
	       "sorad starts\n",
	       n, argv[0]);
	return EX_OK;
}

/* ---- cancel and reject -------------------------------------------------------------- */

/*
 * `sorad cancel NAME` and `sorad reject NAME` (jobs.h, jobs_stop): through the daemon,
 * which holds the API key (a remote delete for a job in flight). With no daemon the
 * decision is stored in the job's record and applied when sorad starts, for a job that
 * has sent nothing (claimed, held, waiting); one in flight needs the daemon.
 */
static int stop_job(struct ctx *x, const char *name, bool reject)
{
	const char *verb = reject ? "reject" : "cancel";
	int lock = -1;
	struct records rs;
	struct job *j = NULL;
	int rc = ask_daemon(x, verb, name, NULL, true, &lock, &rs, &j);
	if (rc != -2)
		return rc;
	bool ok = reject
	              ? j->state == JOB_HELD
	              : j->state == JOB_CLAIMED || j->state == JOB_HELD || j->state == JOB_WAITING;
	if (!ok) {
		fprintf(stderr,
		        "sorad %s: %s is %s; with no daemon running only a job that has sent "
		        "nothing (%s) can be %sed; start sorad and try again\n",
		        verb, j->name, job_state_name(j->state),
		        reject ? "held" : "claimed, held or waiting", verb);
		return offline_done(&rs, lock, EX_UNAVAILABLE);
	}
	char said[PATH_MAX + 128];
	bfmt(said, sizeof(said),
	     "%sed; no daemon is running: it fails to %s when sorad starts, nothing was spent",
	     verb, x->conf->failed_dir);
	return offline_resolution(x, &rs, lock, j, verb, said);
}

/* `sorad retry NAME`: through the daemon; with none, recorded and applied at start. */
static int cmd_retry(struct ctx *x, int argc, char **argv)
{
	(void)argc;
	int lock = -1;
	struct records rs;
	struct job *j = NULL;
	int rc = ask_daemon(x, "retry", argv[0], NULL, true, &lock, &rs, &j);
	if (rc != -2)
		return rc;
	if (j->state != JOB_FAILED) {
		fprintf(stderr,
		        "sorad retry: %s is %s, not failed: only a failed job can be retried\n",
		        j->name, job_state_name(j->state));
		return offline_done(&rs, lock, EX_DATAERR);
	}
	return offline_resolution(x, &rs, lock, j, "retry",
	                          "retry recorded; no daemon is running: it runs again when sorad "
	                          "starts");
}

static int cmd_cancel(struct ctx *x, int argc, char **argv)
{
	(void)argc;
	return stop_job(x, argv[0], false);
}

static int cmd_reject(struct ctx *x, int argc, char **argv)
{
	(void)argc;
	return stop_job(x, argv[0], true);
}

/* The service has no delete (caps.h): says so, with REASON, instead of an error. */
static int cannot_delete(const char *video_id, const char *reason)
{
	fprintf(stderr,
	        "sorad delete: the service cannot delete videos (%s): video %s stays there "
	        "until the service expires it; if it can after all, set capabilities { delete "
	        "= yes } in the configuration\n",
	        reason, video_id);
	return EX_UNAVAILABLE;
}

static void on_deleted(struct api_req *req, void *ud)
{
	struct api_result *res = api_req_result(req);
	int *rc = ud;
	if (res->kind == API_OK) {
		printf("deleted video %s from the service\n", api_req_video_id(req));
		*rc = EX_OK;
	} else if (caps_refusal(res)) {
		char answer[200];
		bfmt(answer, sizeof(answer), "HTTP %ld: %.*s", res->http_status,
		     (int)strcspn(res->error.message ? res->error.message : "", "\r\n"),
		     res->error.message ? res->error.message : "");
		*rc = cannot_delete(api_req_video_id(req), answer);
	} else if (res->kind == API_NOT_FOUND) {
		printf("the service no longer has video %s (deleted or expired already)\n",
		       api_req_video_id(req));
		*rc = EX_OK;
	} else {
		fprintf(stderr, "sorad delete: the service did not delete video %s: %s (%s)\n",
		        api_req_video_id(req), api_kind_describe(res->kind),
		        res->error.message ? res->error.message : "no details");
		*rc = res->kind == API_CONFIG ? EX_CONFIG : EX_UNAVAILABLE;
	}
}

static int delete_remote(const struct ctx *x, const char *video_id)
{
	if (!x->conf->api_key && x->conf->api_key_unread) {
		fprintf(stderr,
		        "sorad delete: no daemon is running and this user cannot read the API key: "
		        "start sorad, or run as a user who can read api_key_file (%s: %s)\n",
		        x->conf->api_key_file, x->conf->api_key_unread);
		return EX_CONFIG;
	}
	if (!x->conf->api_key) {
		fprintf(stderr, "sorad delete: no daemon is running and there is no API key: "
		                "start sorad, or set api_key_file in the configuration or the "
		                "environment variable OPENAI_API_KEY\n");
		return EX_CONFIG;
	}
	struct caps caps = {0};
	caps_configure(&caps, x->conf->api_base, x->conf->api_profile, x->conf->caps);
	const struct proto *proto = proto_find(x->conf->api_protocol);
	if (proto)
		caps_set_protocol(&caps, proto->name, proto->caps);
	if (!caps_has(&caps, CAPS_DELETE)) {
		char why[300];
		return cannot_delete(video_id, caps_explain(&caps, CAPS_DELETE, why, sizeof(why)));
	}
	log_add_secret(x->conf->api_key);
	struct api_client *c = api_client_new(x->conf, NULL);
	if (!c)
		return EX_SOFTWARE;
	int rc = EX_UNAVAILABLE;
	api_delete(c, video_id, NULL, on_deleted, &rc);
	if (api_client_run(c, 120000) != 0)
		fprintf(stderr, "sorad delete: no answer from %s within 120 s\n",
		        x->conf->api_base);
	api_client_free(c);
	return rc;
}

/*
 * `sorad delete [--purge] ID|NAME`: through the daemon, which holds the API key (the
 * user of the system unit cannot read it) and answers once the service did, within
 * CONTROL_DELETE_MS; with --purge it also forgets the job in memory at once. With no
 * daemon, this command deletes with its own key, then purges under the state lock.
 */
static int cmd_delete(struct ctx *x, int argc, char **argv)
{
	(void)argc;
	const char *target = argv[0];
	cJSON *dreq = cJSON_CreateObject();
	cJSON_AddStringToObject(dreq, "cmd", "delete");
	cJSON_AddStringToObject(dreq, "name", target);
	cJSON_AddBoolToObject(dreq, "purge", x->purge);
	int dlock = -1;
	int drc = to_daemon_wait(x, dreq, &dlock, CONTROL_DELETE_MS + 10000);
	cJSON_Delete(dreq);
	if (drc != -2)
		return drc;
	close(dlock); /* no daemon: held again only for the purge, not across the DELETE */
	struct records rs;
	records_load(x->conf, &rs);
	const struct job *j = records_find(&rs, target);
	char name[PROMPT_NAME_MAX + 1] = "", video[256] = "";
	if (j) {
		if (!job_state_is_final(j->state)) {
			fprintf(
			    stderr,
			    "sorad delete: %s is still %s; wait until it is done or failed, then "
			    "delete it\n",
			    j->name, job_state_name(j->state));
			records_release(&rs);
			return EX_TEMPFAIL;
		}
		bcopy_str(name, sizeof(name), j->name);
		if (j->video_id)
			bcopy_str(video, sizeof(video), j->video_id);
	} else if (!strncmp(target, "video_", 6) && video_id_is_safe(target)) {
		bcopy_str(video, sizeof(video), target);
	} else {
		records_release(&rs);
		return unknown_job(x, target);
	}
	records_release(&rs);
	if (video[0]) {
		int rc = delete_remote(x, video);
		if (rc != EX_OK)
			return rc; /* the local copy stays while the remote one may exist */
	} else {
		printf("%s never reached the service: nothing to delete remotely\n", name);
	}
	if (!x->purge)
		return EX_OK;
	if (!name[0]) {
		printf("no job of sorad made %s: no local outputs to purge\n", video);
		return EX_OK;
	}
	cJSON *req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "cmd", "purge");
	cJSON_AddStringToObject(req, "name", name);
	int lock = -1;
	int rc = to_daemon(x, req, &lock);
	cJSON_Delete(req);
	if (rc != -2)
		return rc;
	char msg[512];
	rc = control_purge(x->conf, name, msg, sizeof(msg));
	if (rc == 0 && store_remove(x->conf->state_dir, name) != 0)
		rc = -1;
	if (rc == 0 && history_forget(x->conf->state_dir, name) != 0)
		fprintf(stderr,
		        "sorad delete: %s/%s could not be updated (see above); the daemon "
		        "repairs it when it starts\n",
		        x->conf->state_dir, HISTORY_FILE);
	close(lock);
	if (rc != 0) {
		fprintf(stderr, "sorad delete: %s\n", msg);
		return EX_IOERR;
	}
	printf("%s\n", msg);
	return EX_OK;
}

/* ---- resolve: a create in doubt ------------------------------------------------------ */

/*
 * The offline decision on record J (found in RS): checked as the daemon would check
 * it, then stored as the record's "resolution", which the daemon applies at start.
 */
static int resolve_record(const struct ctx *x, const struct records *rs, struct job *j,
                          const char *res)
{
	if (j->state != JOB_IN_DOUBT) {
		fprintf(stderr,
		        "sorad resolve: %s is %s, not in doubt: there is nothing to decide ('sorad "
		        "list --state in_doubt' shows the jobs waiting for a decision)\n",
		        j->name, job_state_name(j->state));
		return EX_DATAERR;
	}
	/* As jobs_resolve decides: another code is a decision being carried out (a drop
	 * whose failure report is still to be written). */
	if (!j->error_code || strcmp(j->error_code, JOBS_DOUBT) != 0) {
		fprintf(stderr,
		        "sorad resolve: %s is no longer waiting for a decision (%s); the daemon "
		        "finishes it when it starts\n",
		        j->name, j->error_code ? j->error_code : "no error code");
		return EX_DATAERR;
	}
	/* One video, one job: another job's video, or one another offline decision adopts. */
	for (size_t i = 0; x->adopt && i < rs->n; i++) {
		const struct job *o = &rs->v[i];
		if (o != j && ((o->video_id && !strcmp(o->video_id, x->adopt)) ||
		               (o->resolution && !strcmp(o->resolution, res)))) {
			fprintf(stderr,
			        "sorad resolve: video %s is job %s's already; one video cannot "
			        "be two jobs' result\n",
			        x->adopt, o->name);
			return EX_DATAERR;
		}
	}
	char *earlier = j->resolution;
	j->resolution = xstrdup(res);
	int saved = store_save(x->conf->state_dir, j);
	if (saved == 0 && earlier && strcmp(earlier, res) != 0)
		printf("(this replaces the earlier decision '%s')\n", earlier);
	free(earlier);
	if (saved != 0)
		return EX_IOERR;
	if (x->adopt)
		printf("decided: %s takes video %s; no daemon is running: when sorad starts it "
		       "polls and downloads that video\n",
		       j->name, x->adopt);
	else if (x->resubmit)
		printf("decided: %s is submitted again; no daemon is running: the second create "
		       "is sent when sorad starts (if the first one was made, both are paid "
		       "for)\n",
		       j->name);
	else
		printf("decided: %s is dropped; no daemon is running: when sorad starts it fails, "
		       "with its story in %s/%s.error.txt\n",
		       j->name, x->conf->failed_dir, j->name);
	return EX_OK;
}

static int cmd_resolve(struct ctx *x, int argc, char **argv)
{
	(void)argc;
	if (x->decisions != 1)
		return usage_error(x, "%s",
		                   x->decisions ? "give only one of --adopt VIDEO_ID, --resubmit "
		                                  "and --drop"
		                                : "say what to do: --adopt VIDEO_ID, --resubmit "
		                                  "or --drop");
	if (x->adopt && !video_id_is_safe(x->adopt)) {
		fprintf(stderr,
		        "sorad resolve: '%.80s' is not a video id (printable ASCII without spaces, "
		        "quotes, '/' or '\\', at most %d bytes)\n",
		        x->adopt, VIDEO_ID_MAX - 1);
		return EX_DATAERR;
	}
	/* The decision in the record's own words ("adopt:ID", "resubmit", "drop"): the
	 * daemon parses the same string from a request and from a record. */
	char res[VIDEO_ID_MAX + 16];
	if (x->adopt)
		bfmt(res, sizeof(res), "adopt:%s", x->adopt);
	else
		bcopy_str(res, sizeof(res), x->resubmit ? "resubmit" : "drop");
	const char *const extra[] = {"resolution", res, NULL};
	int lock = -1;
	struct records rs;
	struct job *j = NULL;
	int rc = ask_daemon(x, "resolve", argv[0], extra, true, &lock, &rs, &j);
	if (rc != -2)
		return rc;
	/* No daemon: the decision goes into the record; the daemon applies it at start. */
	return offline_done(&rs, lock, resolve_record(x, &rs, j, res));
}

/* ---- dispatch ----------------------------------------------------------------------- */

static const struct cmd cmds[] = {
    {"submit", cmd_submit, "FILE...",
     "  Copies prompt files (.txt, .json, .jsonl) and reference images into the inbox\n"
     "  (a temp name, then a rename), after checking them as the daemon will. An image\n"
     "  pairs with the prompt of its name, else the prompt just before it (sorad submit\n"
     "  shot.txt style.png): it goes in as shot.png, its pixel size checked.\n",
     "", 1, -1, false},
    {"list", cmd_list, "[--json] [--state STATE]",
     "  Lists every job: state, model, size, seconds, progress, cost; for a job\n"
     "  in doubt, the creates sent and why; for a held job, the command to approve it.\n"
     "  --json        the job records as a JSON array\n"
     "  --state S     only jobs in state S (claimed, held, waiting, submitting, in_doubt,\n"
     "                running, downloading, done, failed), or with the API's status S\n"
     "                (queued, in_progress, completed, failed), as the status page\n",
     "js:", 0, 0, true},
    {"show", cmd_show, "[--json] ID|NAME",
     "  Everything known about one job (by name or video id): parameters, timings,\n"
     "  cost, the creates sent, the error (for a job in doubt: why, and how to decide),\n"
     "  the files in the outbox.\n"
     "  --json        as JSON\n",
     "j", 1, 1, true},
    {"delete", cmd_delete, "[--purge] ID|NAME",
     "  Deletes the video from the service (it stays in the outbox). A running daemon\n"
     "  does it with its API key and answers when the service did (at most 120 s); with\n"
     "  none, this command needs the key itself. Not for a job still in flight (75).\n"
     "  --purge       also delete the local outputs and forget the job, once the\n"
     "                service no longer has the video\n",
     "p", 1, 1, true},
    {"remix", cmd_remix, "ID|NAME PROMPT",
     "  Submits a remix of a finished video (a job name or a video id) with a new\n"
     "  prompt, through the inbox; a job still running is waited for.\n",
     "", 2, 2, false},
    {"approve", cmd_approve, "NAME",
     "  Releases a dropped file held because its estimated cost exceeds\n"
     "  approve_over_usd (NAME: the file's name without extension, or a job name).\n",
     "", 1, 1, true},
    {"resolve", cmd_resolve, "ID|NAME (--adopt VIDEO_ID | --resubmit | --drop)",
     "  Decides what happens to a job in doubt (state in_doubt: its create may have\n"
     "  been paid for, and the service could not show whether it was). Exactly one of:\n"
     "  --adopt VIDEO_ID  that video is the job's: sorad polls and downloads it\n"
     "  --resubmit        send a second create (if the first was made, both are paid)\n"
     "  --drop            fail the job to failed/ with the story of its create\n"
     "  With no daemon running, the decision is stored in the job's record and applied\n"
     "  when sorad starts. Exit 65: the job is not in doubt, or the video id is\n"
     "  unusable or already another job's.\n",
     "a:rd", 1, 1, true},
    {"cancel", cmd_cancel, "ID|NAME",
     "  Stops a job. Held, claimed or waiting: nothing was sent, nothing is spent.\n"
     "  Running: the daemon asks the service to delete the video where it can (it may\n"
     "  still be billed) and stops tracking it. A job in doubt is decided with\n"
     "  'sorad resolve --drop'. The job fails to failed/ as cancelled. Exit 65: it\n"
     "  cannot be cancelled now (done, failed, in doubt); 75: try again in a moment.\n",
     "", 1, 1, true},
    {"reject", cmd_reject, "NAME",
     "  Refuses a job held for approval (approve_over_usd) or by a usage cap: it fails\n"
     "  to failed/ as rejected, nothing spent.\n",
     "", 1, 1, true},
    {"retry", cmd_retry, "ID|NAME",
     "  Runs a failed job again under the same name (not NAME-2): its failure goes into\n"
     "  its history ('sorad show'), its report leaves failed/, and one more create is\n"
     "  allowed (those it sent stay counted). Exit 65: the job is not failed.\n",
     "", 1, 1, true},
    {"watch", cmd_watch, "[ID|NAME]",
     "  Follows a job's progress live (a bar on a terminal, a line per change\n"
     "  otherwise) until it is done, or every job sorad is working on until none is\n"
     "  left. Exit 0 done, 65 failed, 75 waiting for you (held or in doubt), 69 no\n"
     "  daemon runs.\n",
     "", 0, 1, true},
    {"models", cmd_models, "[--json]",
     "  The service's video models (GET /videos/models): durations, sizes or\n"
     "  resolutions, aspect ratios, frame images, audio, seed, price per second. From\n"
     "  the daemon's cache while it is under an hour old, else asked of the service.\n"
     "  --json        as JSON, in the service's schema\n",
     "j", 0, 0, true},
    {"usage", cmd_usage_report, "[--json]",
     "  Seconds generated and estimated cost by model: today, this month, all time.\n"
     "  --json        as JSON\n",
     "j", 0, 0, true},
};

bool cli_is_command(const char *word)
{
	for (size_t i = 0; i < ARRAY_LEN(cmds); i++)
		if (!strcmp(cmds[i].name, word))
			return true;
	return false;
}

int cli_main(int argc, char **argv)
{
	const struct cmd *c = NULL;
	for (size_t i = 0; i < ARRAY_LEN(cmds) && !c; i++)
		if (!strcmp(cmds[i].name, argv[0]))
			c = &cmds[i];
	if (!c)
		return EX_USAGE;
	struct ctx x = {.cmd = c};
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'}, {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},      {"json", no_argument, NULL, 'j'},
	    {"state", required_argument, NULL, 's'},  {"purge", no_argument, NULL, 'p'},
	    {"adopt", required_argument, NULL, 'a'},  {"resubmit", no_argument, NULL, 'r'},
	    {"drop", no_argument, NULL, 'd'},         {NULL, 0, NULL, 0}};
	char shortopts[32];
	bfmt(shortopts, sizeof(shortopts), "%sc:hV%s", c->mixed ? "" : "+", c->opts);
	optind = 1;
	opterr = 0;
	int ch;
	while ((ch = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (ch != 'c' && ch != 'h' && ch != 'V' && ch != '?' && ch != ':' &&
		    !strchr(c->opts, ch))
			ch = '?'; /* a long option another command has */
		switch (ch) {
		case 'c':
			x.conf_path = optarg;
			break;
		case 'h':
			cmd_usage(c, stdout);
			return EX_OK;
		case 'V':
			printf("sorad %s\n", SORAD_VERSION);
			return EX_OK;
		case 'j':
			x.json = true;
			break;
		case 's':
			x.state = optarg;
			break;
		case 'p':
			x.purge = true;
			break;
		case 'a':
			x.adopt = optarg;
			x.decisions++;
			break;
		case 'r':
			x.resubmit = true;
			x.decisions++;
			break;
		case 'd':
			x.drop = true;
			x.decisions++;
			break;
		default:
			return usage_error(&x, "unknown option or missing argument '%s'",
			                   argv[optind - 1]);
		}
	}
	int nargs = argc - optind;
	if (nargs < c->min_args)
		return usage_error(&x, "%s",
		                   c->min_args == 1 && c->max_args == 1 ? "expects one argument"
		                                                        : "missing arguments");
	if (c->max_args >= 0 && nargs > c->max_args)
		return usage_error(&x, "unexpected argument '%s'", argv[optind + c->max_args]);
	/* Commands talk to people: only warnings and errors from the modules, on stderr. */
	log_open(NULL, LOG_WARNING, 0, false);
	x.conf_path = conf_path_resolve(x.conf_path);
	char err[4096];
	x.conf = conf_load_keyless(x.conf_path, err, sizeof(err));
	if (!x.conf) {
		fprintf(stderr,
		        "%s\nsorad %s: fix the configuration ('sorad check-config' shows "
		        "every problem)\n",
		        err, c->name);
		return EX_CONFIG;
	}
	int rc = c->fn(&x, nargs, argv + optind);
	catalog_install(NULL);
	conf_free(x.conf);
	log_close();
	return rc;
}
