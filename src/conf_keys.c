/*
 * conf_keys.c — every key of sorad.conf in one table, and the code that makes from it
 * the libconfuse options, the checks with their messages, the environment overrides,
 * the fill of struct conf and the man page's key list (see conf_keys.h).
 *
 * A table of rows rather than an X-macro file: each row reads as a record with named
 * fields (designated initializers), optional fields stay out of the row, clang-format
 * and the debugger see plain C, and the model is redis's standardConfig table. The
 * price is that the libconfuse options are built at run time (conf_keys_opts), once
 * per load, from the rows.
 *
 * This module runs before logging exists: it reports only through its buffers.
 */
#include "conf_keys.h"
#include "conf.h"
#include "decimal.h"
#include "proto.h"
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- value checks ------------------------------------------------------------- */

int conf_why(char *why, size_t n, const char *reason)
{
	/* Reasons are short literals; a cut one would still be readable. */
	(void)bcopy_str(why, n, reason);
	return -1;
}

static int check_nonempty(const char *s, char *why, size_t n)
{
	return *s ? 0 : conf_why(why, n, "must not be empty");
}

int conf_check_one_of(const char *s, const char *const *allowed, char *why, size_t n)
{
	size_t used = 0;
	for (size_t i = 0; allowed[i]; i++)
		if (!strcmp(s, allowed[i]))
			return 0;
	/* Lists the choices so that the message says how to fix it. */
	why[0] = '\0';
	for (size_t i = 0; allowed[i] && used < n; i++) {
		if (bfmt(why + used, n - used, "%s\"%s\"",
		         i ? (allowed[i + 1] ? ", " : " or ") : "must be ", allowed[i]))
			break;
		used += strlen(why + used);
	}
	return -1;
}

/* An octal file mode for the outbox: at most 0777, and the owner (sorad) may read and
 * write, since it resumes downloads and replaces metadata in place. */
static int check_mode(const char *s, char *why, size_t n)
{
	char *end;
	errno = 0;
	unsigned long m = strtoul(s, &end, 8);
	if (!*s || *end || errno || s[0] == '-' || s[0] == '+' || m > 0777)
		return conf_why(why, n, "must be an octal mode such as 0644 (at most 0777)");
	if ((m & 0600) != 0600)
		return conf_why(why, n, "must let the owner read and write (0600 at least)");
	return 0;
}

static int check_protocol(const char *s, char *why, size_t n)
{
	if (proto_find(s))
		return 0;
	(void)bfmt(why, n, "must be one of %s", proto_names());
	return -1;
}

/* Visible ASCII without quotes or backslash: safe in a header, a form field, a log. */
static bool is_plain_word(const char *s)
{
	for (; *s; s++)
		if (*s < 0x21 || *s > 0x7e || *s == '"' || *s == '\\')
			return false;
	return true;
}

static int check_url(const char *s, char *why, size_t n)
{
	const char *rest;
	if (!strncasecmp(s, "https://", 8))
		rest = s + 8;
	else if (!strncasecmp(s, "http://", 7))
		rest = s + 7;
	else
		return conf_why(why, n, "must start with http:// or https://");
	if (!*rest || *rest == '/')
		return conf_why(why, n, "has no host name");
	if (!is_plain_word(rest) || strpbrk(rest, "?#"))
		return conf_why(why, n,
		                "must be a plain URL (no spaces, quotes, query or fragment)");
	return 0;
}

/* Model names are free (gateways have their own), but must travel in a form field. */
int conf_check_model_name(const char *s, char *why, size_t n)
{
	if (!*s)
		return conf_why(why, n, "must not be empty");
	if (strlen(s) > 128 || !is_plain_word(s))
		return conf_why(why, n,
		                "must not contain spaces, quotes or control characters, "
		                "nor be longer than 128 characters");
	return 0;
}

/* Parses a positive decimal without sign or leading zero, at most max. */
static int parse_dim(const char *s, size_t len, unsigned max, unsigned *out)
{
	unsigned long long v;
	if (len == 0 || s[0] == '0' || decimal_uint_n(s, len, max, &v) != 0)
		return -1;
	*out = (unsigned)v;
	return 0;
}

int conf_parse_size(const char *s, unsigned *w, unsigned *h)
{
	const char *x = strchr(s, 'x');
	if (!x)
		return -1;
	/* 65535 is far above any video size and keeps width*height inside 32 bits. */
	if (parse_dim(s, (size_t)(x - s), 65535, w) || parse_dim(x + 1, strlen(x + 1), 65535, h))
		return -1;
	return 0;
}

int conf_check_size(const char *s, char *why, size_t n)
{
	unsigned w, h;
	if (conf_parse_size(s, &w, &h))
		return conf_why(why, n, "must be WIDTHxHEIGHT in pixels, e.g. \"1280x720\"");
	return 0;
}

/* RFC 9110 token characters, the only ones allowed in a header name. */
static bool is_tchar(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

static int check_header(const char *s, char *why, size_t n)
{
	const char *p = s;
	while (is_tchar(*p))
		p++;
	if (p == s || *p != ':')
		return conf_why(why, n,
		                "must be \"Name: value\" with a name made of letters, digits "
		                "and -_.!#$%&'*+^`|~");
	/* CR or LF would let a value inject further headers into every request. */
	for (p++; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t')
			return conf_why(why, n,
			                "value must not contain line breaks or control characters");
	return 0;
}

static int check_listen(const char *s, char *why, size_t n)
{
	const char *port;
	if (!*s)
		return 0; /* empty disables the status endpoint */
	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (!end || end == s + 1 || end[1] != ':')
			return conf_why(why, n,
			                "must be HOST:PORT, with an IPv6 address in brackets as "
			                "in \"[::1]:4444\"");
		for (const char *p = s + 1; p < end; p++)
			if (!strchr("0123456789abcdefABCDEF:.%", *p) && !(*p >= 'a' && *p <= 'z') &&
			    !(*p >= 'A' && *p <= 'Z'))
				return conf_why(why, n, "has an invalid IPv6 address");
		port = end + 2;
	} else {
		const char *colon = strrchr(s, ':');
		if (!colon || colon == s)
			return conf_why(
			    why, n, "must be HOST:PORT, e.g. \"127.0.0.1:4444\" (empty disables)");
		for (const char *p = s; p < colon; p++)
			if (!is_tchar(*p) || strchr("!#$%&'*+^`|~", *p))
				return conf_why(
				    why, n,
				    "has an invalid host (IPv6 goes in brackets: \"[::1]:4444\")");
		port = colon + 1;
	}
	unsigned v;
	if (strcmp(port, "0") != 0 && parse_dim(port, strlen(port), 65535, &v))
		return conf_why(why, n, "needs a port between 1 and 65535 (0: any free port)");
	return 0;
}

/* callback_url: empty (none), else a URL (https:// for OpenRouter; http:// is for a
 * loopback simulator and for tests). */
static int check_callback_url(const char *s, char *why, size_t n)
{
	return *s ? check_url(s, why, n) : 0;
}

static int check_token(const char *s, char *why, size_t n)
{
	if (*s && !is_plain_word(s))
		return conf_why(why, n, "must not contain spaces, quotes or control characters");
	return 0;
}

/* ---- the table ---------------------------------------------------------------- */

/* The words of the ENUM and FLAGS keys, in the order of their enum's values or bits. */
static const char *const auth_words[] = {"bearer", "api-key", NULL}; /* enum auth_style */
static const char *const watch_words[] = {"auto", "inotify", "poll", NULL};
static const char *const level_words[] = {"debug", "info", "warning", "error", NULL};
static const char *const profile_words[] = {"auto", "openai", "litellm", NULL}; /* caps.h */
static const char *const catalog_words[] = {"auto", "yes", "no", NULL};         /* CONF_CATALOG_ */
static const char *const duplicate_words[] = {"skip", "allow", NULL};
static const char *const event_words[] = {"ready", "failed", "cap", "doubt", "inbox", NULL};

/* Custom code, the one key that needs it: duplicate_policy is the bool duplicate_skip. */
static void fill_duplicate_policy(struct conf *c, cfg_t *cfg)
{
	c->duplicate_skip = strcmp(cfg_getstr(cfg, "duplicate_policy"), "allow") != 0;
}

/* The field a key lands in, and (CONF_KEY_LIST) its count. */
#define FIELD(f) .off = offsetof(struct conf, f), .size = sizeof(((struct conf *)0)->f)
#define COUNT(f) .count_off = offsetof(struct conf, f)
#define ANY_INT .min = 0, .max = INT_MAX /* not negative */
#define POS_INT .min = 1, .max = INT_MAX /* at least 1 */

/* Every key of sorad.conf, in the order of the man page's list. */
const struct conf_key conf_keys[] = {
    /* The API and how to reach it. */
    {"api_base", CONF_KEY_STR, "https://api.openai.com/v1", .check = check_url, FIELD(api_base),
     .env = "OPENAI_BASE_URL", .help = "Base URL of the Videos API server; /videos is appended."},
    {"api_profile", CONF_KEY_ENUM, "auto", .words = profile_words, FIELD(api_profile),
     .help = "What the service is assumed to be able to do before it says otherwise."},
    {"api_protocol", CONF_KEY_STR, "openai", .check = check_protocol, FIELD(api_protocol),
     .help = "The protocol the service speaks: \"openai\" (the Videos API) or \"openrouter\"."},
    {"api_key_file", CONF_KEY_STR, NULL, .check = check_nonempty, FIELD(api_key_file),
     .flags = CONF_KEY_PATH,
     .help = "A file holding the API key; unset: OPENAI_API_KEY from the environment."},
    {"auth_style", CONF_KEY_ENUM, "bearer", .words = auth_words, FIELD(auth_style),
     .help = "How the key is sent: \"Authorization: Bearer\", or an api-key header (Azure)."},
    {"extra_headers", CONF_KEY_LIST, NULL, .check = check_header, FIELD(extra_headers),
     COUNT(n_extra_headers), .flags = CONF_KEY_SECRET,
     .help = "Headers sent with every request, each \"Name: value\"; kept secret."},
    {"connect_timeout_ms", CONF_KEY_INT, "5000", POS_INT, FIELD(connect_timeout_ms),
     .help = "Time allowed to connect, in milliseconds."},
    {"request_timeout_ms", CONF_KEY_INT, "60000", POS_INT, FIELD(request_timeout_ms),
     .help = "Time allowed for a whole JSON request, in milliseconds."},
    {"max_retries", CONF_KEY_UINT, "3", .min = 0, .max = 100, FIELD(max_retries),
     .help = "Retries of one request after network errors, 429 and 5xx answers."},
    {"retry_base_ms", CONF_KEY_INT, "500", POS_INT, FIELD(retry_base_ms),
     .help = "The first backoff delay, in milliseconds (doubled per attempt, jittered)."},
    {"retry_max_ms", CONF_KEY_INT, "8000", POS_INT, FIELD(retry_max_ms),
     .help = "The backoff ceiling, in milliseconds; a longer retry-after still wins."},
    {"retry_after_max_s", CONF_KEY_UINT, "600", .min = 1, .max = 86400, FIELD(retry_after_max_s),
     .help = "The longest wait a server's retry-after may ask for that is honoured, in seconds."},
    {"download_timeout_s", CONF_KEY_UINT, "1800", POS_INT, FIELD(download_timeout_s),
     .help = "The whole time one download attempt may take, in seconds."},
    {"download_max_mb", CONF_KEY_UINT, "0", .min = 0, .max = 1048576, FIELD(download_max_mb),
     .help = "The most a download without Content-Length may write, in MiB; 0: from the job."},

    /* Folders (relative ones resolve against the file's directory). */
    {"inbox", CONF_KEY_STR, "inbox", .check = check_nonempty, FIELD(inbox), .flags = CONF_KEY_PATH,
     .help = "Where prompt files are dropped."},
    {"outbox", CONF_KEY_STR, "videos", .check = check_nonempty, FIELD(outbox),
     .env = "VIDEO_STORAGE_PATH", .flags = CONF_KEY_PATH,
     .help = "Where finished videos, their variants and metadata appear."},
    {"failed_dir", CONF_KEY_STR, NULL, .check = check_nonempty, FIELD(failed_dir),
     .flags = CONF_KEY_PATH, .help = "Where the inputs of failed jobs go; unset: OUTBOX/failed."},
    {"outbox_mode", CONF_KEY_MODE, "0644", FIELD(outbox_mode),
     .help = "Permissions of the files written to the outbox and failed_dir, in octal."},
    {"ffmpeg", CONF_KEY_STR, NULL, FIELD(ffmpeg),
     .help = "The program that makes variants a service cannot serve; \"\": none."},
    {"state_dir", CONF_KEY_STR, "state", .check = check_nonempty, FIELD(state_dir),
     .flags = CONF_KEY_PATH, .help = "The crash-safe job state; only the daemon writes here."},
    {"log_dir", CONF_KEY_STR, "logs", .check = check_nonempty, FIELD(log_dir),
     .flags = CONF_KEY_PATH, .help = "Where the hour-based log files go."},

    /* Job defaults and limits. */
    {"default_model", CONF_KEY_STR, "sora-2", .check = conf_check_model_name, FIELD(default_model),
     .env = "DEFAULT_MODEL",
     .help = "The model of a job that does not say; it must be in the model table."},
    {"default_size", CONF_KEY_STR, "1280x720", .check = conf_check_size, FIELD(default_size),
     .env = "DEFAULT_SIZE",
     .help = "The size of a job that does not say; it must be a size of default_model."},
    {"default_seconds", CONF_KEY_UINT, "4", POS_INT, FIELD(default_seconds),
     .env = "DEFAULT_SECONDS",
     .help = "The duration of a job that does not say; it must be one of default_model's."},
    {"max_in_flight", CONF_KEY_UINT, "8", POS_INT, FIELD(max_in_flight),
     .help = "Generations in flight at most."},
    {"poll_initial", CONF_KEY_UINT, "2", POS_INT, FIELD(poll_initial),
     .help = "The first status poll interval, in seconds; it doubles up to poll_max."},
    {"poll_max", CONF_KEY_UINT, "10", POS_INT, FIELD(poll_max),
     .help = "The longest status poll interval, in seconds."},
    {"job_timeout", CONF_KEY_UINT, "600", POS_INT, FIELD(job_timeout), .env = "MAX_POLL_TIMEOUT",
     .help = "A job still unfinished this many seconds after submission fails."},
    {"max_file_size", CONF_KEY_LLONG, "10485760", .min = 1, .max = LONG_MAX, FIELD(max_file_size),
     .env = "MAX_FILE_SIZE",
     .help = "The largest inbox file or reference image accepted, in bytes."},
    {"settle_ms", CONF_KEY_UINT, "500", ANY_INT, FIELD(settle_ms),
     .help = "Milliseconds a new inbox file must stay quiet before it is taken."},
    {"pair_wait_s", CONF_KEY_UINT, "300", .min = 0, .max = 86400, FIELD(pair_wait_s),
     .help = "Seconds a settled prompt waits for its image still arriving."},
    {"watch_mode", CONF_KEY_ENUM, "auto", .words = watch_words, FIELD(watch_mode),
     .help = "How the inbox is watched; auto polls where inotify is blind."},

    /* Status endpoint, notifications, logging. */
    {"listen", CONF_KEY_STR, "127.0.0.1:4444", .check = check_listen, FIELD(listen),
     .help = "Address of the read-only status page and API; \"\" disables it."},
    {"status_token", CONF_KEY_STR, NULL, .check = check_token, FIELD(status_token),
     .flags = CONF_KEY_SECRET | CONF_KEY_EMPTY_NULL,
     .help = "A token the status endpoint requires; unset or \"\": none."},
    {"callback_listen", CONF_KEY_STR, "", .check = check_listen, FIELD(callback_listen),
     .flags = CONF_KEY_EMPTY_NULL,
     .help = "Address of the signed callback listener; \"\": callbacks off."},
    {"callback_url", CONF_KEY_STR, "", .check = check_callback_url, FIELD(callback_url),
     .flags = CONF_KEY_EMPTY_NULL,
     .help = "The public URL sent with each create (OpenRouter only); \"\": none."},
    {"callback_secret_file", CONF_KEY_STR, NULL, .check = check_nonempty,
     FIELD(callback_secret_file), .flags = CONF_KEY_PATH,
     .help = "A file holding the callbacks' signing secret; callback_listen needs it."},
    {"notify", CONF_KEY_BOOL, "true", FIELD(notify), .help = "Desktop notifications (libnotify)."},
    {"notify_events", CONF_KEY_FLAGS, "{ready, failed, cap, doubt, inbox}", .words = event_words,
     FIELD(notify_events), .help = "Which events notify."},
    {"log_level", CONF_KEY_STR, "info", .words = level_words, FIELD(log_level),
     .help = "The least important messages logged."},
    {"log_keep_days", CONF_KEY_UINT, "14", ANY_INT, FIELD(log_keep_days),
     .help = "Log files older than this many days are deleted; 0 keeps them."},

    /* Usage caps and approval. */
    {"daily_cap_usd", CONF_KEY_DOUBLE, "0", FIELD(daily_cap_usd),
     .help = "Estimated dollars per day past which jobs are held; 0: no cap."},
    {"monthly_cap_usd", CONF_KEY_DOUBLE, "0", FIELD(monthly_cap_usd),
     .help = "Estimated dollars per month past which jobs are held; 0: no cap."},
    {"daily_cap_seconds", CONF_KEY_UINT, "0", ANY_INT, FIELD(daily_cap_seconds),
     .help = "Seconds of video per day past which jobs are held; 0: no cap."},
    {"monthly_cap_seconds", CONF_KEY_UINT, "0", ANY_INT, FIELD(monthly_cap_seconds),
     .help = "Seconds of video per month past which jobs are held; 0: no cap."},
    {"approve_over_usd", CONF_KEY_DOUBLE, "0", FIELD(approve_over_usd),
     .help = "A dropped file estimated above this many dollars waits for sorad approve."},
    {"in_doubt_resubmit_hours", CONF_KEY_UINT, "0", .min = 0, .max = 24 * 365,
     FIELD(in_doubt_resubmit_hours),
     .help = "Hours after which a job in doubt is resubmitted on its own; 0: never."},
    {"duplicate_policy", CONF_KEY_ENUM, "skip", .words = duplicate_words,
     .fill = fill_duplicate_policy,
     .help = "Whether a prompt delivered within duplicate_window_days is made again."},
    {"duplicate_window_days", CONF_KEY_UINT, "7", .min = 0, .max = 3650,
     FIELD(duplicate_window_days),
     .help = "How far back a delivery counts as the same job, in days; 0: never."},
    {"keep_records_days", CONF_KEY_UINT, "0", .min = 0, .max = 36500, FIELD(keep_records_days),
     .help = "Finished jobs older than this many days: records to STATE/archive/; 0 keeps them."},
    {"model_catalog", CONF_KEY_ENUM, "auto", .words = catalog_words, FIELD(model_catalog),
     .help = "Whether the daemon reads the service's model catalog."},
};
const size_t conf_keys_count = ARRAY_LEN(conf_keys);
_Static_assert(ARRAY_LEN(conf_keys) <= CONF_KEYS_MAX, "raise CONF_KEYS_MAX in conf_keys.h");

/* ---- what is made from it ----------------------------------------------------- */

const struct conf_key *conf_key_find(const char *name)
{
	for (size_t i = 0; i < conf_keys_count; i++)
		if (!strcmp(conf_keys[i].name, name))
			return &conf_keys[i];
	return NULL;
}

static bool is_int_type(enum conf_key_type t)
{
	return t == CONF_KEY_INT || t == CONF_KEY_UINT || t == CONF_KEY_LLONG;
}

void conf_keys_opts(cfg_opt_t *opts)
{
	for (size_t i = 0; i < conf_keys_count; i++) {
		const struct conf_key *k = &conf_keys[i];
		/* libconfuse reads a list's default as text and keeps its own copy. */
		char *def_text = (char *)k->def;
		switch (k->type) {
		case CONF_KEY_INT:
		case CONF_KEY_UINT:
		case CONF_KEY_LLONG:
			opts[i] = (cfg_opt_t)CFG_INT(k->name, strtol(k->def, NULL, 10), CFGF_NONE);
			break;
		case CONF_KEY_DOUBLE:
			opts[i] = (cfg_opt_t)CFG_FLOAT(k->name, strtod(k->def, NULL), CFGF_NONE);
			break;
		case CONF_KEY_BOOL:
			opts[i] = (cfg_opt_t)CFG_BOOL(
			    k->name, strcmp(k->def, "true") ? cfg_false : cfg_true, CFGF_NONE);
			break;
		case CONF_KEY_FLAGS:
		case CONF_KEY_LIST:
			opts[i] = (cfg_opt_t)CFG_STR_LIST(k->name, def_text, CFGF_NONE);
			break;
		case CONF_KEY_STR:
		case CONF_KEY_ENUM:
		case CONF_KEY_MODE:
		default:
			opts[i] = (cfg_opt_t)CFG_STR(k->name, k->def,
			                             k->def ? CFGF_NONE : CFGF_NODEFAULT);
			break;
		}
	}
}

/* The reason string S is not a value of K, in why; 0 when it is. */
static int check_str(const struct conf_key *k, const char *s, char *why, size_t n)
{
	if (k->type == CONF_KEY_MODE)
		return check_mode(s, why, n);
	if (k->check)
		return k->check(s, why, n);
	if (k->words)
		return conf_check_one_of(s, k->words, why, n);
	return 0;
}

/* An integer outside K's range, said as the range. */
static void int_range_msg(const struct conf_key *k, long long v, char *msg, size_t n)
{
	if (k->max < INT_MAX)
		(void)bfmt(msg, n, "%s = %lld: must be between %lld and %lld", k->name, v, k->min,
		           k->max);
	else if (k->min == 0)
		(void)bfmt(msg, n, "%s = %lld: must not be negative", k->name, v);
	else
		(void)bfmt(msg, n, "%s = %lld: must be at least %lld", k->name, v, k->min);
}

int conf_key_check(const struct conf_key *k, cfg_opt_t *opt, unsigned i, char *msg, size_t n)
{
	char why[256];
	if (is_int_type(k->type)) {
		long long v = cfg_opt_getnint(opt, i);
		if (v >= k->min && v <= k->max)
			return 0;
		int_range_msg(k, v, msg, n);
		return -1;
	}
	if (k->type == CONF_KEY_DOUBLE) {
		double v = cfg_opt_getnfloat(opt, i);
		if (isfinite(v) && v >= 0)
			return 0;
		(void)bfmt(msg, n, "%s = %g: must be a number not below 0 (0 turns it off)",
		           k->name, v);
		return -1;
	}
	if (k->type == CONF_KEY_BOOL)
		return 0; /* libconfuse itself refuses what is not a boolean */
	const char *s = cfg_opt_getnstr(opt, i);
	if (!s || check_str(k, s, why, sizeof why) == 0)
		return 0;
	if ((k->flags & CONF_KEY_SECRET) && (opt->flags & CFGF_LIST))
		(void)bfmt(msg, n, "%s, entry %u: %s", k->name, i + 1, why);
	else if (k->flags & CONF_KEY_SECRET)
		(void)bfmt(msg, n, "%s: %s", k->name, why);
	else
		(void)bfmt(msg, n, "%s = \"%s\": %s", k->name, s, why);
	return -1;
}

static void *field(struct conf *c, const struct conf_key *k)
{
	return (char *)c + k->off;
}

static void store_int(struct conf *c, const struct conf_key *k, long long v)
{
	void *f = field(c, k);
	if (k->type == CONF_KEY_INT)
		*(long *)f = (long)v;
	else if (k->type == CONF_KEY_UINT)
		*(unsigned *)f = (unsigned)v;
	else
		*(long long *)f = v;
}

/* A whole number from the environment: digits only, in [min, max]. */
static int parse_env_num(const char *s, long long min, long long max, long long *out)
{
	unsigned long long v;
	if (max < 0 || decimal_uint(s, (unsigned long long)max, &v) != 0 || (long long)v < min)
		return -1;
	*out = (long long)v;
	return 0;
}

int conf_key_from_env(const struct conf_key *k, const char *v, struct conf *c, char *msg, size_t n)
{
	char why[256];
	if (is_int_type(k->type)) {
		long long num;
		if (parse_env_num(v, k->min, k->max, &num)) {
			(void)bfmt(msg, n, "\"%s\" is not a whole number between %lld and %lld", v,
			           k->min, k->max);
			return -1;
		}
		store_int(c, k, num);
		return 0;
	}
	if (k->type != CONF_KEY_STR) {
		(void)bfmt(msg, n, "cannot set %s", k->name); /* no such row: t_conf checks */
		return -1;
	}
	if (check_str(k, v, why, sizeof why)) {
		(void)bfmt(msg, n, "\"%s\" %s", v, why);
		return -1;
	}
	char **f = field(c, k);
	free(*f);
	*f = xstrdup(v);
	return 0;
}

/* The index of word S in WORDS; 0 (the first) when it is none, as checked before. */
static unsigned word_index(const char *const *words, const char *s)
{
	for (unsigned i = 0; s && words[i]; i++)
		if (!strcmp(words[i], s))
			return i;
	return 0;
}

static void fill_one(struct conf *c, cfg_t *cfg, const struct conf_key *k)
{
	void *f = field(c, k);
	const char *s;
	switch (k->type) {
	case CONF_KEY_INT:
	case CONF_KEY_UINT:
	case CONF_KEY_LLONG:
		store_int(c, k, cfg_getint(cfg, k->name)); /* range checked while parsing */
		break;
	case CONF_KEY_DOUBLE:
		*(double *)f = cfg_getfloat(cfg, k->name);
		break;
	case CONF_KEY_BOOL:
		*(bool *)f = cfg_getbool(cfg, k->name) == cfg_true;
		break;
	case CONF_KEY_ENUM:
		*(int *)f = (int)word_index(k->words, cfg_getstr(cfg, k->name));
		break;
	case CONF_KEY_FLAGS:
		*(unsigned *)f = 0;
		for (unsigned i = 0; i < cfg_size(cfg, k->name); i++)
			*(unsigned *)f |= 1u << word_index(k->words, cfg_getnstr(cfg, k->name, i));
		break;
	case CONF_KEY_LIST: {
		size_t n = cfg_size(cfg, k->name);
		char **list = xcalloc(n + 1, sizeof *list);
		for (size_t i = 0; i < n; i++)
			list[i] = xstrdup(cfg_getnstr(cfg, k->name, (unsigned)i));
		*(char ***)f = list;
		*(size_t *)((char *)c + k->count_off) = n;
		break;
	}
	case CONF_KEY_MODE:
		*(mode_t *)f = (mode_t)strtoul(cfg_getstr(cfg, k->name), NULL, 8); /* checked */
		break;
	case CONF_KEY_STR:
	default:
		s = cfg_getstr(cfg, k->name);
		if (s && !*s && (k->flags & CONF_KEY_EMPTY_NULL))
			s = NULL;
		*(char **)f = s ? xstrdup(s) : NULL;
		break;
	}
}

void conf_keys_fill(struct conf *c, cfg_t *cfg)
{
	for (size_t i = 0; i < conf_keys_count; i++) {
		if (conf_keys[i].fill)
			conf_keys[i].fill(c, cfg);
		else
			fill_one(c, cfg, &conf_keys[i]);
	}
}

static void free_str(char *s, bool secret)
{
	if (s && secret)
		explicit_bzero(s, strlen(s));
	free(s);
}

void conf_keys_release(struct conf *c)
{
	for (size_t i = 0; i < conf_keys_count; i++) {
		const struct conf_key *k = &conf_keys[i];
		bool secret = k->flags & CONF_KEY_SECRET;
		if (k->fill)
			continue;
		if (k->type == CONF_KEY_STR) {
			free_str(*(char **)field(c, k), secret);
		} else if (k->type == CONF_KEY_LIST) {
			char **list = *(char ***)field(c, k);
			size_t n = *(size_t *)((char *)c + k->count_off);
			for (size_t j = 0; list && j < n; j++)
				free_str(list[j], secret);
			free(list);
		}
	}
}

/* ---- the man page's key list -------------------------------------------------- */

/* Writes S as roff text: hyphens, backslashes and quotes escaped, and a leading
 * dot or apostrophe (a request) guarded. */
static void put_roff(FILE *out, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", out);
	for (; *s; s++) {
		if (*s == '-')
			fputs("\\-", out);
		else if (*s == '\\')
			fputs("\\e", out);
		else if (*s == '"')
			fputs("\\(dq", out);
		else
			fputc(*s, out);
	}
}

static const char *type_word(const struct conf_key *k)
{
	switch (k->type) {
	case CONF_KEY_INT:
	case CONF_KEY_UINT:
	case CONF_KEY_LLONG:
		return "integer";
	case CONF_KEY_DOUBLE:
		return "number";
	case CONF_KEY_BOOL:
		return "boolean";
	case CONF_KEY_FLAGS:
	case CONF_KEY_LIST:
		return "list";
	case CONF_KEY_MODE:
		return "octal mode";
	case CONF_KEY_ENUM:
	case CONF_KEY_STR:
	default:
		return (k->flags & CONF_KEY_PATH) ? "path" : "string";
	}
}

/* The default as written in the file: strings quoted, "unset" when none. */
static void default_text(const struct conf_key *k, char *buf, size_t n)
{
	bool quoted =
	    k->type == CONF_KEY_STR || k->type == CONF_KEY_ENUM || k->type == CONF_KEY_MODE;
	if (!k->def)
		(void)bcopy_str(buf, n, k->type == CONF_KEY_LIST ? "{}" : "unset");
	else
		(void)bfmt(buf, n, quoted ? "\"%s\"" : "%s", k->def);
}

/* What values K takes beyond its type: a range, or the words. */
static void range_text(const struct conf_key *k, char *buf, size_t n)
{
	buf[0] = '\0';
	if (is_int_type(k->type)) {
		if (k->max < INT_MAX)
			(void)bfmt(buf, n, "%lld to %lld", k->min, k->max);
		else if (k->min == 0)
			(void)bcopy_str(buf, n, "not negative");
		else
			(void)bfmt(buf, n, "at least %lld", k->min);
	} else if (k->type == CONF_KEY_DOUBLE) {
		(void)bcopy_str(buf, n, "not below 0");
	} else if (k->words) {
		size_t used = 0;
		for (size_t i = 0; k->words[i] && used < n; i++) {
			if (bfmt(buf + used, n - used, "%s\"%s\"",
			         i ? (k->words[i + 1] ? ", " : " or ") : "", k->words[i]))
				break;
			used += strlen(buf + used);
		}
	}
}

void conf_keys_print_man(FILE *out)
{
	char def[128], range[160];
	for (size_t i = 0; i < conf_keys_count; i++) {
		const struct conf_key *k = &conf_keys[i];
		default_text(k, def, sizeof def);
		range_text(k, range, sizeof range);
		fprintf(out, ".TP\n.B %s\n", k->name);
		put_roff(out, type_word(k));
		if (*range) {
			fputs(k->type == CONF_KEY_FLAGS ? " of " : ": ", out);
			put_roff(out, range);
		}
		fputs("; default ", out);
		put_roff(out, def);
		if (k->env) {
			fputs("; environment \\fB", out);
			put_roff(out, k->env);
			fputs("\\fP", out);
		}
		fputs(".\n", out);
		put_roff(out, k->help);
		fputc('\n', out);
	}
}

void conf_keys_print_text(FILE *out)
{
	char def[128], range[160];
	for (size_t i = 0; i < conf_keys_count; i++) {
		const struct conf_key *k = &conf_keys[i];
		default_text(k, def, sizeof def);
		range_text(k, range, sizeof range);
		fprintf(out, "%-24s %-10s %-26s %s%s%s\n", k->name, type_word(k), def, range,
		        k->env ? (*range ? "; env " : "env ") : "", k->env ? k->env : "");
	}
}
