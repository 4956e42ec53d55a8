/*
 * conf.c — sorad.conf (libconfuse), the seed's environment overrides, the API key,
 * the model table, and `sorad check-config` (see conf.h).
 *
 * How errors get their line numbers: libconfuse knows the line only while it parses,
 * so every key has a validate callback that checks the value on the spot and reports
 * through cfg_error(), and the error function (on_cfg_error) turns each report into
 * "FILE:LINE: message". The callbacks report and return 0 so that parsing goes on and
 * one run shows every bad value; libconfuse's own syntax errors stop the parse.
 * Checks that need the whole file (poll_initial against poll_max, default_model
 * against the model table) run afterwards and name the line each key was set on,
 * remembered by the callbacks, or the environment variable that set it.
 *
 * This module runs before logging exists: it reports only through the err buffer.
 */
#include "conf.h"
#include "confpath.h"
#include "decimal.h"
#include "derive.h"
#include "probe.h"
#include "proto.h"
#include "template.h"
#include "util.h"

#include <confuse.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#define DEF_API_BASE "https://api.openai.com/v1"
#define KEY_FILE_MAX 4096       /* an API key is ~200 bytes; anything bigger is the wrong file */
#define CONF_FILE_MAX (1 << 20) /* a configuration is a few KiB */
#define CAPS_VARIANTS_KEY "variants" /* capabilities: thumbnail and spritesheet at once */

/* The built-in model table (videos-api.md §5 and §11), used when the file has none. */
static const unsigned builtin_seconds[] = {4, 8, 12, 16, 20};
static const struct {
	const char *model, *size;
	double price;
} builtin_sizes[] = {
    {"sora-2", "720x1280", 0.10},      {"sora-2", "1280x720", 0.10},
    {"sora-2-pro", "720x1280", 0.30},  {"sora-2-pro", "1280x720", 0.30},
    {"sora-2-pro", "1024x1792", 0.50}, {"sora-2-pro", "1792x1024", 0.50},
    {"sora-2-pro", "1080x1920", 0.70}, {"sora-2-pro", "1920x1080", 0.70},
};

/* ---- value checks, shared by the file and the environment ---------------------- */

/* Each check returns 0 when S is acceptable, else -1 with the reason in why. */
typedef int (*strcheck_fn)(const char *s, char *why, size_t n);

static int why_set(char *why, size_t n, const char *reason)
{
	/* Reasons are short literals; a cut one would still be readable. */
	(void)bcopy_str(why, n, reason);
	return -1;
}

static int check_nonempty(const char *s, char *why, size_t n)
{
	return *s ? 0 : why_set(why, n, "must not be empty");
}

static int check_one_of(const char *s, const char *const *allowed, char *why, size_t n)
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
		return why_set(why, n, "must be an octal mode such as 0644 (at most 0777)");
	if ((m & 0600) != 0600)
		return why_set(why, n, "must let the owner read and write (0600 at least)");
	return 0;
}

static const char *const auth_names[] = {"bearer", "api-key", NULL};
static const char *const watch_names[] = {"auto", "inotify", "poll", NULL};
static const char *const level_names[] = {"debug", "info", "warning", "error", NULL};

static int check_auth(const char *s, char *why, size_t n)
{
	return check_one_of(s, auth_names, why, n);
}

static int check_watch(const char *s, char *why, size_t n)
{
	return check_one_of(s, watch_names, why, n);
}

static int check_duplicate(const char *s, char *why, size_t n)
{
	static const char *const names[] = {"skip", "allow", NULL};
	return check_one_of(s, names, why, n);
}

/* model_catalog (catalog.h). */
static const char *const catalog_names[] = {"auto", "yes", "no", NULL};

static int check_catalog(const char *s, char *why, size_t n)
{
	return check_one_of(s, catalog_names, why, n);
}

static int check_level(const char *s, char *why, size_t n)
{
	return check_one_of(s, level_names, why, n);
}

static const char *const profile_names[] = {"auto", "openai", "litellm", NULL};

static int check_protocol(const char *s, char *why, size_t n)
{
	if (proto_find(s))
		return 0;
	(void)bfmt(why, n, "must be one of %s", proto_names());
	return -1;
}

static int check_profile(const char *s, char *why, size_t n)
{
	return check_one_of(s, profile_names, why, n);
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
		return why_set(why, n, "must start with http:// or https://");
	if (!*rest || *rest == '/')
		return why_set(why, n, "has no host name");
	if (!is_plain_word(rest) || strpbrk(rest, "?#"))
		return why_set(why, n,
		               "must be a plain URL (no spaces, quotes, query or fragment)");
	return 0;
}

/* Model names are free (gateways have their own), but must travel in a form field. */
static int check_model_name(const char *s, char *why, size_t n)
{
	if (!*s)
		return why_set(why, n, "must not be empty");
	if (strlen(s) > 128 || !is_plain_word(s))
		return why_set(why, n,
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

static int parse_size(const char *s, unsigned *w, unsigned *h)
{
	const char *x = strchr(s, 'x');
	if (!x)
		return -1;
	/* 65535 is far above any video size and keeps width*height inside 32 bits. */
	if (parse_dim(s, (size_t)(x - s), 65535, w) || parse_dim(x + 1, strlen(x + 1), 65535, h))
		return -1;
	return 0;
}

static int check_size(const char *s, char *why, size_t n)
{
	unsigned w, h;
	if (parse_size(s, &w, &h))
		return why_set(why, n, "must be WIDTHxHEIGHT in pixels, e.g. \"1280x720\"");
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
		return why_set(why, n,
		               "must be \"Name: value\" with a name made of letters, digits "
		               "and -_.!#$%&'*+^`|~");
	/* CR or LF would let a value inject further headers into every request. */
	for (p++; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t')
			return why_set(why, n,
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
			return why_set(why, n,
			               "must be HOST:PORT, with an IPv6 address in brackets as "
			               "in \"[::1]:4444\"");
		for (const char *p = s + 1; p < end; p++)
			if (!strchr("0123456789abcdefABCDEF:.%", *p) && !(*p >= 'a' && *p <= 'z') &&
			    !(*p >= 'A' && *p <= 'Z'))
				return why_set(why, n, "has an invalid IPv6 address");
		port = end + 2;
	} else {
		const char *colon = strrchr(s, ':');
		if (!colon || colon == s)
			return why_set(
			    why, n, "must be HOST:PORT, e.g. \"127.0.0.1:4444\" (empty disables)");
		for (const char *p = s; p < colon; p++)
			if (!is_tchar(*p) || strchr("!#$%&'*+^`|~", *p))
				return why_set(
				    why, n,
				    "has an invalid host (IPv6 goes in brackets: \"[::1]:4444\")");
		port = colon + 1;
	}
	unsigned v;
	if (strcmp(port, "0") != 0 && parse_dim(port, strlen(port), 65535, &v))
		return why_set(why, n, "needs a port between 1 and 65535 (0: any free port)");
	return 0;
}

/* callback_url: empty (none), else a URL (https:// for OpenRouter; http:// is for a
 * loopback simulator and for tests). */
static int check_callback_url(const char *s, char *why, size_t n)
{
	return *s ? check_url(s, why, n) : 0;
}

static const char *const event_names[] = {"ready", "failed", "cap", "doubt", "inbox", NULL};

static int check_event(const char *s, char *why, size_t n)
{
	return check_one_of(s, event_names, why, n);
}

static int check_token(const char *s, char *why, size_t n)
{
	if (*s && !is_plain_word(s))
		return why_set(why, n, "must not contain spaces, quotes or control characters");
	return 0;
}

/* ---- the keys ----------------------------------------------------------------- */

struct keydef {
	const char *name;
	cfg_type_t type;
	bool secret;       /* never echo the value in a message */
	long min, max;     /* CFGT_INT */
	strcheck_fn check; /* CFGT_STR, applied to each element of a list */
};

/* Every key of struct conf; the order only matters for readability. */
static const struct keydef keydefs[] = {
    {"api_base", CFGT_STR, false, 0, 0, check_url},
    {"api_profile", CFGT_STR, false, 0, 0, check_profile},
    {"api_protocol", CFGT_STR, false, 0, 0, check_protocol},
    {"api_key_file", CFGT_STR, false, 0, 0, check_nonempty},
    {"auth_style", CFGT_STR, false, 0, 0, check_auth},
    {"extra_headers", CFGT_STR, true, 0, 0, check_header},
    {"connect_timeout_ms", CFGT_INT, false, 1, INT_MAX, NULL},
    {"request_timeout_ms", CFGT_INT, false, 1, INT_MAX, NULL},
    {"max_retries", CFGT_INT, false, 0, 100, NULL},
    {"retry_base_ms", CFGT_INT, false, 1, INT_MAX, NULL},
    {"retry_max_ms", CFGT_INT, false, 1, INT_MAX, NULL},
    {"retry_after_max_s", CFGT_INT, false, 1, 86400, NULL},
    {"download_timeout_s", CFGT_INT, false, 1, INT_MAX, NULL},
    {"download_max_mb", CFGT_INT, false, 0, 1048576, NULL},
    {"inbox", CFGT_STR, false, 0, 0, check_nonempty},
    {"outbox", CFGT_STR, false, 0, 0, check_nonempty},
    {"failed_dir", CFGT_STR, false, 0, 0, check_nonempty},
    {"outbox_mode", CFGT_STR, false, 0, 0, check_mode},
    {"ffmpeg", CFGT_STR, false, 0, 0, NULL},
    {"state_dir", CFGT_STR, false, 0, 0, check_nonempty},
    {"log_dir", CFGT_STR, false, 0, 0, check_nonempty},
    {"default_model", CFGT_STR, false, 0, 0, check_model_name},
    {"default_size", CFGT_STR, false, 0, 0, check_size},
    {"default_seconds", CFGT_INT, false, 1, INT_MAX, NULL},
    {"max_in_flight", CFGT_INT, false, 1, INT_MAX, NULL},
    {"poll_initial", CFGT_INT, false, 1, INT_MAX, NULL},
    {"poll_max", CFGT_INT, false, 1, INT_MAX, NULL},
    {"job_timeout", CFGT_INT, false, 1, INT_MAX, NULL},
    {"max_file_size", CFGT_INT, false, 1, LONG_MAX, NULL},
    {"settle_ms", CFGT_INT, false, 0, INT_MAX, NULL},
    {"pair_wait_s", CFGT_INT, false, 0, 86400, NULL},
    {"watch_mode", CFGT_STR, false, 0, 0, check_watch},
    {"listen", CFGT_STR, false, 0, 0, check_listen},
    {"status_token", CFGT_STR, true, 0, 0, check_token},
    {"callback_listen", CFGT_STR, false, 0, 0, check_listen},
    {"callback_url", CFGT_STR, false, 0, 0, check_callback_url},
    {"callback_secret_file", CFGT_STR, false, 0, 0, check_nonempty},
    {"notify", CFGT_BOOL, false, 0, 0, NULL},
    {"notify_events", CFGT_STR, false, 0, 0, check_event},
    {"log_level", CFGT_STR, false, 0, 0, check_level},
    {"log_keep_days", CFGT_INT, false, 0, INT_MAX, NULL},
    {"daily_cap_usd", CFGT_FLOAT, false, 0, 0, NULL},
    {"monthly_cap_usd", CFGT_FLOAT, false, 0, 0, NULL},
    {"daily_cap_seconds", CFGT_INT, false, 0, INT_MAX, NULL},
    {"monthly_cap_seconds", CFGT_INT, false, 0, INT_MAX, NULL},
    {"approve_over_usd", CFGT_FLOAT, false, 0, 0, NULL},
    {"in_doubt_resubmit_hours", CFGT_INT, false, 0, 24 * 365, NULL},
    {"duplicate_policy", CFGT_STR, false, 0, 0, check_duplicate},
    {"duplicate_window_days", CFGT_INT, false, 0, 3650, NULL},
    {"model_catalog", CFGT_STR, false, 0, 0, check_catalog},
};
#define NKEYS ARRAY_LEN(keydefs)

static const struct keydef *keydef_find(const char *name)
{
	for (size_t i = 0; i < NKEYS; i++)
		if (!strcmp(keydefs[i].name, name))
			return &keydefs[i];
	return NULL;
}

static size_t key_index(const char *name)
{
	const struct keydef *k = keydef_find(name);
	return k ? (size_t)(k - keydefs) : 0;
}

/* ---- the parse context and error collection ----------------------------------- */

struct parse_ctx {
	const char *shown; /* the file name as the user gave it, for messages */
	char *err;
	size_t errlen;
	int nerr;
	int line[NKEYS];            /* where each key was set in the file, 0: not set */
	const char *env[NKEYS];     /* the variable that overrode it, NULL: none */
	const cfg_opt_t *last_list; /* see list_repeat() */
	unsigned last_nvalues;
};

/*
 * libconfuse's callbacks get no user pointer, so the context of the one parse in
 * progress is reached through this variable (set only around cfg_parse_fp).
 */
static _Thread_local struct parse_ctx *cur_ctx;

/* Whether text holds line as one of its whole lines. */
static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && (p[n] == '\0' || p[n] == '\n'))
			return true;
	return false;
}

/* Appends "LOC: message" as a new line of the err buffer, once. */
__attribute__((format(printf, 3, 0))) static void add_errv(struct parse_ctx *x, const char *loc,
                                                           const char *fmt, va_list ap)
{
	char body[512], msg[800];
	/* A cut message is still worth showing, so truncation is not an error here. */
	(void)vbfmt(body, sizeof body, fmt, ap);
	(void)bfmt(msg, sizeof msg, "%s: %s", loc, body);
	if (has_line(x->err, msg))
		return; /* the same report twice counts once */
	x->nerr++;
	size_t used = strlen(x->err);
	if (used + 1 < x->errlen)
		(void)bfmt(x->err + used, x->errlen - used, "%s%s", used ? "\n" : "", msg);
}

__attribute__((format(printf, 3, 4))) static void add_err(struct parse_ctx *x, const char *loc,
                                                          const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	add_errv(x, loc, fmt, ap);
	va_end(ap);
}

/* "FILE:LINE", or "FILE" when the line is unknown. */
static const char *loc_line(const struct parse_ctx *x, int line, char *buf, size_t n)
{
	if (line > 0)
		(void)bfmt(buf, n, "%s:%d", x->shown, line);
	else
		(void)bcopy_str(buf, n, x->shown);
	return buf;
}

/* Where the value of key K came from: its environment variable, else its line. */
static const char *loc_key(const struct parse_ctx *x, size_t k, char *buf, size_t n)
{
	if (x->env[k]) {
		(void)bcopy_str(buf, n, x->env[k]);
		return buf;
	}
	return loc_line(x, x->line[k], buf, n);
}

/* The later-set of two keys, the one a cross-check error should point at. */
static size_t later_key(const struct parse_ctx *x, size_t a, size_t b)
{
	if (x->env[b])
		return b;
	if (x->env[a])
		return a;
	return x->line[a] > x->line[b] ? a : b;
}

__attribute__((format(printf, 2, 0))) static void on_cfg_error(cfg_t *cfg, const char *fmt,
                                                               va_list ap)
{
	struct parse_ctx *x = cur_ctx;
	char loc[PATH_MAX + 32];
	if (!x)
		return;
	add_errv(x, loc_line(x, cfg ? cfg->line : 0, loc, sizeof loc), fmt, ap);
}

/*
 * libconfuse validates a list after each element and once more at its end; the last
 * call repeats the one before. Checking only the newest element, and skipping the
 * repeat, reports each bad element once, at its own line.
 */
static bool list_repeat(struct parse_ctx *x, const cfg_opt_t *opt)
{
	bool repeat = x->last_list == opt && x->last_nvalues == opt->nvalues;
	x->last_list = opt;
	x->last_nvalues = opt->nvalues;
	return repeat;
}

static int v_key(cfg_t *cfg, cfg_opt_t *opt)
{
	struct parse_ctx *x = cur_ctx;
	const struct keydef *k = keydef_find(opt->name);
	char why[256];
	if (!x || !k || opt->nvalues == 0)
		return 0;
	x->line[k - keydefs] = cfg->line;
	if ((opt->flags & CFGF_LIST) && list_repeat(x, opt))
		return 0;
	unsigned i = opt->nvalues - 1; /* the newest element of a list, else the value */

	if (k->type == CFGT_INT) {
		long v = cfg_opt_getnint(opt, i);
		if (v >= k->min && v <= k->max)
			return 0;
		if (k->max < INT_MAX)
			cfg_error(cfg, "%s = %ld: must be between %ld and %ld", k->name, v, k->min,
			          k->max);
		else if (k->min == 0)
			cfg_error(cfg, "%s = %ld: must not be negative", k->name, v);
		else
			cfg_error(cfg, "%s = %ld: must be at least %ld", k->name, v, k->min);
	} else if (k->type == CFGT_FLOAT) {
		double v = cfg_opt_getnfloat(opt, i);
		if (!isfinite(v) || v < 0)
			cfg_error(cfg, "%s = %g: must be a number not below 0 (0 turns it off)",
			          k->name, v);
	} else if (k->type == CFGT_STR && k->check) {
		const char *s = cfg_opt_getnstr(opt, i);
		if (s && k->check(s, why, sizeof why)) {
			if (k->secret && (opt->flags & CFGF_LIST))
				cfg_error(cfg, "%s, entry %u: %s", k->name, i + 1, why);
			else if (k->secret)
				cfg_error(cfg, "%s: %s", k->name, why);
			else
				cfg_error(cfg, "%s = \"%s\": %s", k->name, s, why);
		}
	}
	return 0;
}

/* A key of the capabilities section (caps.h): auto, yes or no. */
static int v_cap(cfg_t *cfg, cfg_opt_t *opt)
{
	static const char *const words[] = {"auto", "yes", "no", NULL};
	char why[128];
	const char *s = opt->nvalues ? cfg_opt_getnstr(opt, 0) : NULL;
	if (cur_ctx && s && check_one_of(s, words, why, sizeof why))
		cfg_error(cfg, "capabilities: %s = \"%s\": %s", opt->name, s, why);
	return 0;
}

static int v_seconds(cfg_t *cfg, cfg_opt_t *opt)
{
	struct parse_ctx *x = cur_ctx;
	if (!x || opt->nvalues == 0 || list_repeat(x, opt))
		return 0;
	long v = cfg_opt_getnint(opt, opt->nvalues - 1);
	if (v <= 0 || v > INT_MAX)
		cfg_error(cfg, "seconds: %ld is not a positive number of seconds", v);
	return 0;
}

static int v_price(cfg_t *cfg, cfg_opt_t *opt)
{
	double v = opt->nvalues ? cfg_opt_getnfloat(opt, 0) : 0;
	if (cur_ctx && (!isfinite(v) || v < 0))
		cfg_error(cfg, "price = %g: must be dollars per second, not below 0", v);
	return 0;
}

/* Called at the closing brace of a size section: its line is where we report. */
static int v_size_sec(cfg_t *cfg, cfg_opt_t *opt)
{
	cfg_t *sec = opt->nvalues ? cfg_opt_getnsec(opt, opt->nvalues - 1) : NULL;
	char why[256];
	if (!cur_ctx || !sec)
		return 0;
	if (check_size(cfg_title(sec), why, sizeof why))
		cfg_error(cfg, "size \"%s\": %s", cfg_title(sec), why);
	if (cfg_size(sec, "price") == 0)
		cfg_error(cfg, "size \"%s\": needs a price, e.g. size \"%s\" { price = 0.10 }",
		          cfg_title(sec), cfg_title(sec));
	return 0;
}

/* Called at the closing brace of a model section. */
static int v_model_sec(cfg_t *cfg, cfg_opt_t *opt)
{
	cfg_t *sec = opt->nvalues ? cfg_opt_getnsec(opt, opt->nvalues - 1) : NULL;
	char why[256];
	if (!cur_ctx || !sec)
		return 0;
	if (check_model_name(cfg_title(sec), why, sizeof why))
		cfg_error(cfg, "model \"%s\": name %s", cfg_title(sec), why);
	if (cfg_size(sec, "seconds") == 0)
		cfg_error(cfg, "model \"%s\": seconds must list at least one duration",
		          cfg_title(sec));
	for (unsigned i = 0; i < cfg_size(sec, "aliases"); i++)
		if (check_model_name(cfg_getnstr(sec, "aliases", i), why, sizeof why))
			cfg_error(cfg, "model \"%s\": alias \"%s\" %s", cfg_title(sec),
			          cfg_getnstr(sec, "aliases", i), why);
	if (cfg_size(sec, "size") == 0)
		cfg_error(cfg,
		          "model \"%s\": needs at least one size section, e.g. "
		          "size \"1280x720\" { price = 0.10 }",
		          cfg_title(sec));
	return 0;
}

/* Called at the closing brace of a template section. */
static int v_template_sec(cfg_t *cfg, cfg_opt_t *opt)
{
	cfg_t *sec = opt->nvalues ? cfg_opt_getnsec(opt, opt->nvalues - 1) : NULL;
	char why[256];
	if (!cur_ctx || !sec)
		return 0;
	if (check_model_name(cfg_title(sec), why, sizeof why))
		cfg_error(cfg, "template \"%s\": name %s", cfg_title(sec), why);
	const char *text = cfg_getstr(sec, "text");
	if (!text)
		cfg_error(cfg,
		          "template \"%s\": needs a text, e.g. text = \"Wide shot of {subject}\"",
		          cfg_title(sec));
	else if (template_check(text, why, sizeof why))
		cfg_error(cfg, "template \"%s\": %s", cfg_title(sec), why);
	return 0;
}

/*
 * Blanks out comments (hash, double-slash and C-style ones), keeping every newline and
 * leaving quoted strings alone. libconfuse 3.3 counts a comment's line two or three times, which
 * would make every later error point at the wrong line, and rejects a comment inside
 * a list (upstream issue #150); what it never sees it cannot miscount.
 */
/* Past a quoted string starting at S[I] (a quote): the index after its closing quote. */
static size_t skip_quoted(const char *s, size_t len, size_t i)
{
	char q = s[i];
	for (i++; i < len && s[i] != q; i++)
		if (s[i] == '\\' && i + 1 < len)
			i++;
	return i < len ? i + 1 : len;
}

/* Past a value starting at S[I]: to the end of its line, a list's braces included. */
static size_t skip_value(const char *s, size_t len, size_t i)
{
	int depth = 0;
	while (i < len && (depth > 0 || s[i] != '\n')) {
		if (s[i] == '"' || s[i] == '\'') {
			i = skip_quoted(s, len, i);
			continue;
		}
		if (s[i] == '{' || s[i] == '(')
			depth++;
		else if ((s[i] == '}' || s[i] == ')') && depth > 0)
			depth--;
		else if (s[i] == '}')
			break; /* the end of the section the value is in */
		i++;
	}
	return i;
}

static size_t line_of(const char *s, size_t i)
{
	size_t line = 1;
	for (size_t k = 0; k < i; k++)
		line += s[k] == '\n';
	return line;
}

/* Blanks S[FROM, TO), keeping its line ends so that later lines keep their numbers. */
static void blank_range(char *s, size_t from, size_t to)
{
	for (size_t k = from; k < to; k++)
		if (s[k] != '\n')
			s[k] = ' ';
}

static const cfg_opt_t *opt_named(const cfg_opt_t *opts, const char *name, size_t n)
{
	for (; opts && opts->name; opts++)
		if (strlen(opts->name) == n && !strncmp(opts->name, name, n))
			return opts;
	return NULL;
}

/*
 * libconfuse stops at the first key it does not know, which would hide every later
 * mistake. So unknown keys (and sections) are found first, against the options
 * themselves, level by level: each is reported at its line, with "did you mean" for
 * a near miss, and blanked, so that the parse goes on and one run shows everything.
 * Text that is not a key or a section is left for libconfuse to judge.
 */
static void blank_unknown_keys(char *s, size_t len, const cfg_opt_t *root, struct parse_ctx *x)
{
	const cfg_opt_t *stack[8] = {root};
	size_t top = 0, i = 0;
	while (i < len) {
		char ch = s[i];
		if (ch == '}') {
			if (top > 0)
				top--;
			i++;
			continue;
		}
		if (!(ch == '_' || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z'))) {
			i = ch == '"' || ch == '\'' ? skip_quoted(s, len, i) : i + 1;
			continue;
		}
		size_t start = i;
		while (i < len && (s[i] == '_' || s[i] == '-' || (s[i] >= 'a' && s[i] <= 'z') ||
		                   (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
			i++;
		size_t n = i - start, k = i;
		while (k < len && (s[k] == ' ' || s[k] == '\t'))
			k++;
		const cfg_opt_t *o = opt_named(stack[top], s + start, n);
		if (k < len && s[k] == '=') { /* key = value */
			size_t end = skip_value(s, len, k + 1);
			if (!o) {
				char name[64], loc[PATH_MAX + 32];
				bfmt(name, sizeof name, "%.*s", (int)(n < 63 ? n : 63), s + start);
				const char *names[128];
				size_t nn = 0;
				for (const cfg_opt_t *p = stack[top]; p && p->name && nn < 128; p++)
					if (p->type != CFGT_SEC)
						names[nn++] = p->name;
				const char *like = closest_word(name, names, nn);
				add_err(x, loc_line(x, (int)line_of(s, start), loc, sizeof loc),
				        "no such option '%s'%s%s%s", name,
				        like ? " (did you mean '" : "", like ? like : "",
				        like ? "'?)" : "");
				blank_range(s, start, end);
			}
			i = end;
			continue;
		}
		/* NAME ["title"] { ... }: a section */
		if (k < len && (s[k] == '"' || s[k] == '\'')) {
			k = skip_quoted(s, len, k);
			while (k < len && (s[k] == ' ' || s[k] == '\t' || s[k] == '\n'))
				k++;
		} else {
			while (k < len && (s[k] == ' ' || s[k] == '\t' || s[k] == '\n'))
				k++;
		}
		if (k < len && s[k] == '{') {
			if (o && o->type == CFGT_SEC && top + 1 < ARRAY_LEN(stack)) {
				stack[++top] = o->subopts;
				i = k + 1;
				continue;
			}
			if (!o) {
				/* an unknown section: reported, and blanked to its closing brace */
				size_t end = skip_value(s, len, k);
				char name[64], loc[PATH_MAX + 32];
				bfmt(name, sizeof name, "%.*s", (int)(n < 63 ? n : 63), s + start);
				add_err(x, loc_line(x, (int)line_of(s, start), loc, sizeof loc),
				        "no such section '%s'", name);
				blank_range(s, start, end);
				i = end;
				continue;
			}
		}
		/* something else (a value of a list, a syntax error): libconfuse judges */
	}
}

static void blank_comments(char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		char ch = s[i];
		if (ch == '"' || ch == '\'') {
			for (i++; i < len && s[i] != ch; i++)
				if (s[i] == '\\' && i + 1 < len)
					i++; /* an escaped quote does not end the string */
			i++;
		} else if (ch == '#' || (ch == '/' && i + 1 < len && s[i + 1] == '/')) {
			for (; i < len && s[i] != '\n'; i++)
				s[i] = ' ';
		} else if (ch == '/' && i + 1 < len && s[i + 1] == '*') {
			s[i] = s[i + 1] = ' ';
			for (i += 2; i < len && !(s[i] == '*' && i + 1 < len && s[i + 1] == '/');
			     i++)
				if (s[i] != '\n')
					s[i] = ' ';
			if (i < len)
				s[i] = s[i + 1] = ' ';
			i += 2;
		} else {
			i++;
		}
	}
}

/* Reads the whole config file into a new buffer; -1 with the reason in why. */
static int slurp(FILE *fp, char **out, size_t *outlen, char *why, size_t n)
{
	size_t cap = 8192, len = 0;
	char *buf = xmalloc(cap);
	for (;;) {
		size_t r = fread(buf + len, 1, cap - len, fp);
		len += r;
		if (r == 0) {
			if (ferror(fp)) {
				(void)bcopy_str(why, n, strerror(errno));
				free(buf);
				return -1;
			}
			break;
		}
		if (len == cap) {
			if (cap >= CONF_FILE_MAX) {
				(void)bfmt(why, n, "is larger than %d bytes", CONF_FILE_MAX);
				free(buf);
				return -1;
			}
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
	}
	*out = buf;
	*outlen = len;
	return 0;
}

static cfg_t *new_cfg(void)
{
	/* libconfuse copies these arrays in cfg_init, so they can live on the stack. */
	cfg_opt_t size_opts[] = {
	    CFG_FLOAT("price", 0, CFGF_NODEFAULT),
	    CFG_END(),
	};
	cfg_opt_t model_opts[] = {
	    CFG_INT_LIST("seconds", "{4, 8, 12, 16, 20}", CFGF_NONE),
	    CFG_STR_LIST("aliases", NULL, CFGF_NONE),
	    CFG_SEC("size", size_opts, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
	    CFG_END(),
	};
	cfg_opt_t template_opts[] = {
	    CFG_STR("text", NULL, CFGF_NODEFAULT),
	    CFG_END(),
	};
	/* One key per capability (caps_name), and "variants" for thumbnail and
	 * spritesheet together. */
	cfg_opt_t caps_opts[CAPS_COUNT + 2];
	for (size_t i = 0; i < CAPS_COUNT; i++)
		caps_opts[i] = (cfg_opt_t)CFG_STR(caps_name((enum caps_id)i), "auto", CFGF_NONE);
	caps_opts[CAPS_COUNT] = (cfg_opt_t)CFG_STR(CAPS_VARIANTS_KEY, "auto", CFGF_NONE);
	caps_opts[CAPS_COUNT + 1] = (cfg_opt_t)CFG_END();
	cfg_opt_t opts[] = {
	    CFG_STR("api_base", DEF_API_BASE, CFGF_NONE),
	    CFG_STR("api_profile", "auto", CFGF_NONE),
	    CFG_STR("api_protocol", "openai", CFGF_NONE),
	    CFG_STR("api_key_file", NULL, CFGF_NODEFAULT),
	    CFG_STR("auth_style", "bearer", CFGF_NONE),
	    CFG_STR_LIST("extra_headers", NULL, CFGF_NONE),
	    CFG_INT("connect_timeout_ms", 5000, CFGF_NONE),
	    CFG_INT("request_timeout_ms", 60000, CFGF_NONE),
	    CFG_INT("max_retries", 3, CFGF_NONE),
	    CFG_INT("retry_base_ms", 500, CFGF_NONE),
	    CFG_INT("retry_max_ms", 8000, CFGF_NONE),
	    CFG_INT("retry_after_max_s", 600, CFGF_NONE),
	    CFG_INT("download_timeout_s", 1800, CFGF_NONE),
	    CFG_INT("download_max_mb", 0, CFGF_NONE),
	    CFG_STR("inbox", "inbox", CFGF_NONE),
	    CFG_STR("outbox", "videos", CFGF_NONE),
	    CFG_STR("failed_dir", NULL, CFGF_NODEFAULT),
	    CFG_STR("ffmpeg", NULL, CFGF_NODEFAULT),
	    CFG_STR("outbox_mode", "0644", CFGF_NONE),
	    CFG_STR("state_dir", "state", CFGF_NONE),
	    CFG_STR("log_dir", "logs", CFGF_NONE),
	    CFG_STR("default_model", "sora-2", CFGF_NONE),
	    CFG_STR("default_size", "1280x720", CFGF_NONE),
	    CFG_INT("default_seconds", 4, CFGF_NONE),
	    CFG_INT("max_in_flight", 8, CFGF_NONE),
	    CFG_INT("poll_initial", 2, CFGF_NONE),
	    CFG_INT("poll_max", 10, CFGF_NONE),
	    CFG_INT("job_timeout", 600, CFGF_NONE),
	    CFG_INT("max_file_size", 10485760, CFGF_NONE),
	    CFG_INT("settle_ms", 500, CFGF_NONE),
	    CFG_INT("pair_wait_s", 300, CFGF_NONE),
	    CFG_STR("watch_mode", "auto", CFGF_NONE),
	    CFG_STR("listen", "127.0.0.1:4444", CFGF_NONE),
	    CFG_STR("status_token", NULL, CFGF_NODEFAULT),
	    CFG_STR("callback_listen", "", CFGF_NONE),
	    CFG_STR("callback_url", "", CFGF_NONE),
	    CFG_STR("callback_secret_file", NULL, CFGF_NODEFAULT),
	    CFG_BOOL("notify", cfg_true, CFGF_NONE),
	    CFG_STR_LIST("notify_events", "{ready, failed, cap, doubt, inbox}", CFGF_NONE),
	    CFG_STR("log_level", "info", CFGF_NONE),
	    CFG_INT("log_keep_days", 14, CFGF_NONE),
	    CFG_FLOAT("daily_cap_usd", 0, CFGF_NONE),
	    CFG_FLOAT("monthly_cap_usd", 0, CFGF_NONE),
	    CFG_INT("daily_cap_seconds", 0, CFGF_NONE),
	    CFG_INT("monthly_cap_seconds", 0, CFGF_NONE),
	    CFG_FLOAT("approve_over_usd", 0, CFGF_NONE),
	    CFG_INT("in_doubt_resubmit_hours", 0, CFGF_NONE),
	    CFG_STR("duplicate_policy", "skip", CFGF_NONE),
	    CFG_INT("duplicate_window_days", 7, CFGF_NONE),
	    CFG_STR("model_catalog", "auto", CFGF_NONE),
	    CFG_SEC("model", model_opts, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
	    CFG_SEC("template", template_opts, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
	    CFG_SEC("capabilities", caps_opts, CFGF_NONE),
	    CFG_END(),
	};
	cfg_t *cfg = cfg_init(opts, CFGF_NONE);
	if (!cfg) {
		fprintf(stderr, "sorad: out of memory initializing libconfuse\n");
		abort();
	}
	cfg_set_error_function(cfg, on_cfg_error);
	for (size_t i = 0; i < NKEYS; i++)
		cfg_set_validate_func(cfg, keydefs[i].name, v_key);
	cfg_set_validate_func(cfg, "model", v_model_sec);
	cfg_set_validate_func(cfg, "model|seconds", v_seconds);
	cfg_set_validate_func(cfg, "model|size", v_size_sec);
	cfg_set_validate_func(cfg, "model|size|price", v_price);
	cfg_set_validate_func(cfg, "template", v_template_sec);
	for (size_t i = 0; i <= CAPS_COUNT; i++) {
		char path[64];
		(void)bfmt(path, sizeof path, "capabilities|%s", caps_opts[i].name);
		cfg_set_validate_func(cfg, path, v_cap);
	}
	return cfg;
}

/* ---- building struct conf ----------------------------------------------------- */

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static struct model_def *model_add(struct conf *c, const char *name)
{
	c->models = xrealloc(c->models, (c->n_models + 1) * sizeof *c->models);
	struct model_def *m = &c->models[c->n_models++];
	memset(m, 0, sizeof *m);
	m->name = xstrdup(name);
	return m;
}

static void size_add(struct model_def *m, const char *size, double price)
{
	m->sizes = xrealloc(m->sizes, (m->n_sizes + 1) * sizeof *m->sizes);
	struct model_size *s = &m->sizes[m->n_sizes++];
	s->size = xstrdup(size);
	s->width = s->height = 0;
	(void)parse_size(size, &s->width, &s->height); /* validated before */
	s->price_per_second = price;
}

static void models_builtin(struct conf *c)
{
	for (size_t i = 0; i < ARRAY_LEN(builtin_sizes); i++) {
		struct model_def *m = c->n_models ? &c->models[c->n_models - 1] : NULL;
		/* The table lists each model's sizes together. */
		if (!m || strcmp(m->name, builtin_sizes[i].model) != 0) {
			m = model_add(c, builtin_sizes[i].model);
			m->n_seconds = ARRAY_LEN(builtin_seconds);
			m->seconds = xmalloc(sizeof builtin_seconds);
			memcpy(m->seconds, builtin_seconds, sizeof builtin_seconds);
		}
		size_add(m, builtin_sizes[i].size, builtin_sizes[i].price);
	}
}

/* Any model section replaces the built-in table, so a gateway needs no rebuild. */
static void models_from_cfg(struct conf *c, cfg_t *cfg)
{
	unsigned n = cfg_size(cfg, "model");
	if (n == 0) {
		models_builtin(c);
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		cfg_t *ms = cfg_getnsec(cfg, "model", i);
		struct model_def *m = model_add(c, cfg_title(ms));
		m->n_seconds = cfg_size(ms, "seconds");
		m->seconds = xcalloc(m->n_seconds, sizeof *m->seconds);
		for (size_t j = 0; j < m->n_seconds; j++)
			m->seconds[j] = (unsigned)cfg_getnint(ms, "seconds", (unsigned)j);
		m->n_aliases = cfg_size(ms, "aliases");
		m->aliases = xcalloc(m->n_aliases ? m->n_aliases : 1, sizeof *m->aliases);
		for (size_t j = 0; j < m->n_aliases; j++)
			m->aliases[j] = xstrdup(cfg_getnstr(ms, "aliases", (unsigned)j));
		for (unsigned j = 0; j < cfg_size(ms, "size"); j++) {
			cfg_t *ss = cfg_getnsec(ms, "size", j);
			size_add(m, cfg_title(ss), cfg_getfloat(ss, "price"));
		}
	}
}

static char *getstr(cfg_t *cfg, const char *name)
{
	return dup_or_null(cfg_getstr(cfg, name));
}

static unsigned getuint(cfg_t *cfg, const char *name)
{
	return (unsigned)cfg_getint(cfg, name); /* range checked by v_key */
}

/* api_profile and the capabilities section (validated while parsing). */
static void caps_from_cfg(struct conf *c, cfg_t *cfg)
{
	if (caps_profile_parse(cfg_getstr(cfg, "api_profile"), &c->api_profile))
		c->api_profile = CAPS_PROFILE_AUTO;
	cfg_t *sec = cfg_getsec(cfg, "capabilities");
	enum caps_setting variants = CAPS_SET_AUTO;
	if (sec && caps_setting_parse(cfg_getstr(sec, CAPS_VARIANTS_KEY), &variants))
		variants = CAPS_SET_AUTO;
	for (size_t i = 0; i < CAPS_COUNT; i++) {
		enum caps_setting v = CAPS_SET_AUTO;
		if (sec && caps_setting_parse(cfg_getstr(sec, caps_name((enum caps_id)i)), &v))
			v = CAPS_SET_AUTO;
		/* "variants" speaks for both, unless one is set by its own key. */
		if (v == CAPS_SET_AUTO && (i == CAPS_THUMBNAIL || i == CAPS_SPRITESHEET))
			v = variants;
		c->caps[i] = v;
	}
}

static void values_from_cfg(struct conf *c, cfg_t *cfg)
{
	c->api_base = getstr(cfg, "api_base");
	c->api_protocol = getstr(cfg, "api_protocol");
	caps_from_cfg(c, cfg);
	c->api_key_file = getstr(cfg, "api_key_file");
	c->auth_style =
	    strcmp(cfg_getstr(cfg, "auth_style"), "api-key") ? AUTH_BEARER : AUTH_API_KEY;
	c->n_extra_headers = cfg_size(cfg, "extra_headers");
	c->extra_headers = xcalloc(c->n_extra_headers + 1, sizeof *c->extra_headers);
	for (size_t i = 0; i < c->n_extra_headers; i++)
		c->extra_headers[i] = xstrdup(cfg_getnstr(cfg, "extra_headers", (unsigned)i));
	c->connect_timeout_ms = cfg_getint(cfg, "connect_timeout_ms");
	c->request_timeout_ms = cfg_getint(cfg, "request_timeout_ms");
	c->max_retries = getuint(cfg, "max_retries");
	c->retry_base_ms = cfg_getint(cfg, "retry_base_ms");
	c->retry_max_ms = cfg_getint(cfg, "retry_max_ms");
	c->retry_after_max_s = getuint(cfg, "retry_after_max_s");
	c->download_timeout_s = getuint(cfg, "download_timeout_s");
	c->download_max_mb = getuint(cfg, "download_max_mb");
	c->inbox = getstr(cfg, "inbox");
	c->outbox = getstr(cfg, "outbox");
	c->failed_dir = getstr(cfg, "failed_dir");
	c->ffmpeg = getstr(cfg, "ffmpeg");
	c->outbox_mode = (mode_t)strtoul(cfg_getstr(cfg, "outbox_mode"), NULL, 8); /* checked */
	c->state_dir = getstr(cfg, "state_dir");
	c->log_dir = getstr(cfg, "log_dir");
	c->default_model = getstr(cfg, "default_model");
	c->default_size = getstr(cfg, "default_size");
	c->default_seconds = getuint(cfg, "default_seconds");
	c->max_in_flight = getuint(cfg, "max_in_flight");
	c->poll_initial = getuint(cfg, "poll_initial");
	c->poll_max = getuint(cfg, "poll_max");
	c->job_timeout = getuint(cfg, "job_timeout");
	c->max_file_size = cfg_getint(cfg, "max_file_size");
	c->settle_ms = getuint(cfg, "settle_ms");
	c->pair_wait_s = getuint(cfg, "pair_wait_s");
	const char *wm = cfg_getstr(cfg, "watch_mode");
	c->watch_mode = !strcmp(wm, "inotify") ? WATCH_INOTIFY
	                : !strcmp(wm, "poll")  ? WATCH_POLL
	                                       : WATCH_AUTO;
	c->listen = getstr(cfg, "listen");
	const char *tok = cfg_getstr(cfg, "status_token");
	c->status_token = tok && *tok ? xstrdup(tok) : NULL; /* "" means no token */
	const char *cbl = cfg_getstr(cfg, "callback_listen"),
	           *cbu = cfg_getstr(cfg, "callback_url");
	c->callback_listen = cbl && *cbl ? xstrdup(cbl) : NULL; /* "": callbacks off */
	c->callback_url = cbu && *cbu ? xstrdup(cbu) : NULL;
	c->callback_secret_file = getstr(cfg, "callback_secret_file");
	c->notify = cfg_getbool(cfg, "notify") == cfg_true;
	c->notify_events = 0;
	for (unsigned i = 0; i < cfg_size(cfg, "notify_events"); i++)
		for (unsigned e = 0; event_names[e]; e++)
			if (!strcmp(cfg_getnstr(cfg, "notify_events", i), event_names[e]))
				c->notify_events |= 1u << e;
	c->n_templates = cfg_size(cfg, "template");
	c->templates = xcalloc(c->n_templates + 1, sizeof *c->templates);
	for (unsigned i = 0; i < c->n_templates; i++) {
		cfg_t *ts = cfg_getnsec(cfg, "template", i);
		c->templates[i].name = xstrdup(cfg_title(ts));
		c->templates[i].text = xstrdup(cfg_getstr(ts, "text"));
	}
	c->log_level = getstr(cfg, "log_level");
	c->log_keep_days = getuint(cfg, "log_keep_days");
	c->daily_cap_usd = cfg_getfloat(cfg, "daily_cap_usd");
	c->monthly_cap_usd = cfg_getfloat(cfg, "monthly_cap_usd");
	c->daily_cap_seconds = getuint(cfg, "daily_cap_seconds");
	c->monthly_cap_seconds = getuint(cfg, "monthly_cap_seconds");
	c->approve_over_usd = cfg_getfloat(cfg, "approve_over_usd");
	c->in_doubt_resubmit_hours = getuint(cfg, "in_doubt_resubmit_hours");
	c->duplicate_skip = strcmp(cfg_getstr(cfg, "duplicate_policy"), "allow") != 0;
	c->duplicate_window_days = getuint(cfg, "duplicate_window_days");
	const char *mc = cfg_getstr(cfg, "model_catalog");
	c->model_catalog = !strcmp(mc, "yes")  ? CONF_CATALOG_YES
	                   : !strcmp(mc, "no") ? CONF_CATALOG_NO
	                                       : CONF_CATALOG_AUTO;
	models_from_cfg(c, cfg);
}

/* ---- environment overrides ---------------------------------------------------- */

/* The variable's value, or NULL when unset or empty (systemd's VAR= means unset). */
static const char *env_value(const char *var)
{
	const char *v = getenv(var);
	return v && *v ? v : NULL;
}

static int parse_env_num(const char *s, long long min, long long max, long long *out)
{
	unsigned long long v;
	if (max < 0 || decimal_uint(s, (unsigned long long)max, &v) != 0 || (long long)v < min)
		return -1;
	*out = (long long)v;
	return 0;
}

/* Applies string override VAR to *field (key K) after CHECK; 1 when applied. */
static int env_str(struct parse_ctx *x, const char *var, size_t k, strcheck_fn check, char **field)
{
	const char *v = env_value(var);
	char why[256];
	if (!v)
		return 0;
	if (check && check(v, why, sizeof why)) {
		add_err(x, var, "\"%s\" %s", v, why);
		return 0;
	}
	free(*field);
	*field = xstrdup(v);
	x->env[k] = var;
	return 1;
}

static long long env_num(struct parse_ctx *x, const char *var, size_t k, long long max,
                         long long cur)
{
	const char *v = env_value(var);
	long long n;
	if (!v)
		return cur;
	if (parse_env_num(v, 1, max, &n)) {
		add_err(x, var, "\"%s\" is not a whole number between 1 and %lld", v, max);
		return cur;
	}
	x->env[k] = var;
	return n;
}

/* The seed's .env variables (and the SDKs' OPENAI_BASE_URL) win over the file. */
static void apply_env(struct conf *c, struct parse_ctx *x, bool *outbox_from_env)
{
	env_str(x, "OPENAI_BASE_URL", key_index("api_base"), check_url, &c->api_base);
	*outbox_from_env = env_str(x, "VIDEO_STORAGE_PATH", key_index("outbox"), NULL, &c->outbox);
	c->job_timeout = (unsigned)env_num(x, "MAX_POLL_TIMEOUT", key_index("job_timeout"), INT_MAX,
	                                   c->job_timeout);
	env_str(x, "DEFAULT_MODEL", key_index("default_model"), check_model_name,
	        &c->default_model);
	env_str(x, "DEFAULT_SIZE", key_index("default_size"), check_size, &c->default_size);
	c->default_seconds = (unsigned)env_num(x, "DEFAULT_SECONDS", key_index("default_seconds"),
	                                       INT_MAX, c->default_seconds);
	c->max_file_size =
	    env_num(x, "MAX_FILE_SIZE", key_index("max_file_size"), LONG_MAX, c->max_file_size);
}

/* ---- paths -------------------------------------------------------------------- */

/* Joins BASE and P (P wins when absolute) and drops "." parts, empty parts and a
 * trailing slash. ".." stays: resolving it lexically is wrong across symlinks. */
static char *path_join(const char *base, const char *p)
{
	char *joined = p[0] == '/' ? xstrdup(p) : xasprintf("%s/%s", base, p);
	char *out = xmalloc(strlen(joined) + 2);
	size_t o = 0;
	const char *s = joined;
	while (*s) {
		while (*s == '/')
			s++;
		const char *e = strchr(s, '/');
		size_t len = e ? (size_t)(e - s) : strlen(s);
		if (len && !(len == 1 && s[0] == '.')) {
			out[o++] = '/';
			memcpy(out + o, s, len);
			o += len;
		}
		s += len;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	free(joined);
	return out;
}

static char *cwd_dup(void)
{
	char buf[PATH_MAX];
	if (!getcwd(buf, sizeof buf))
		return NULL;
	return xstrdup(buf);
}

/* The directory holding config file PATH, absolute, without resolving symlinks. */
static char *conf_dir(const char *cwd, const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return xstrdup(cwd);
	char *dir = slash == path ? xstrdup("/") : xstrndup(path, (size_t)(slash - path));
	char *abs = path_join(cwd, dir);
	free(dir);
	return abs;
}

static void make_abs(const char *base, char **p)
{
	if (!*p)
		return;
	char *abs = path_join(base, *p);
	free(*p);
	*p = abs;
}

/* ---- the API key -------------------------------------------------------------- */

/* Trims whitespace at both ends in place; returns the start. */
static char *trim(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = '\0';
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* A key travels in a header: it must be one visible word, or it could inject headers. */
static int check_key(const char *k, char *why, size_t n)
{
	if (!*k)
		return why_set(why, n, "is empty");
	for (; *k; k++)
		if (*k < 0x21 || *k > 0x7e)
			return why_set(why, n,
			               "contains spaces or control characters inside the key");
	return 0;
}

static int read_key_file(const char *path, char **key, char *why, size_t n)
{
	char buf[KEY_FILE_MAX + 2];
	int rc = -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	size_t got = 0;
	if (fd < 0) {
		(void)bcopy_str(why, n, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		why_set(why, n, "is not a regular file");
		goto out;
	}
	/* Read one byte more than allowed so that an oversized file is noticed. */
	while (got < KEY_FILE_MAX + 1) {
		ssize_t r = read(fd, buf + got, KEY_FILE_MAX + 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			(void)bcopy_str(why, n, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	if (got > KEY_FILE_MAX) {
		(void)bfmt(why, n, "is larger than %d bytes: is it really a key file?",
		           KEY_FILE_MAX);
		goto out;
	}
	if (memchr(buf, '\0', got)) {
		why_set(why, n, "contains NUL bytes: is it really a key file?");
		goto out;
	}
	buf[got] = '\0';
	char *k = trim(buf);
	if (check_key(k, why, n))
		goto out;
	*key = xstrdup(k);
	rc = 0;
out:
	explicit_bzero(buf, sizeof buf);
	close(fd);
	return rc;
}

/* api_key_file when set (an explicit file wins), else OPENAI_API_KEY; none is fine.
 * KEYLESS: an api_key_file that cannot be read leaves the reason in api_key_unread. */
static void load_key(struct conf *c, struct parse_ctx *x, bool keyless)
{
	char why[256];
	if (c->api_key_file) {
		if (read_key_file(c->api_key_file, &c->api_key, why, sizeof why) == 0)
			return;
		if (keyless) {
			c->api_key_unread = xstrdup(why);
		} else {
			char loc[PATH_MAX + 32];
			add_err(x, loc_key(x, key_index("api_key_file"), loc, sizeof loc),
			        "api_key_file %s: %s", c->api_key_file, why);
		}
		return;
	}
	const char *v = env_value("OPENAI_API_KEY");
	if (!v)
		return;
	char *copy = xstrdup(v);
	char *k = trim(copy);
	if (check_key(k, why, sizeof why))
		add_err(x, "OPENAI_API_KEY", "%s", why); /* never the value */
	else
		c->api_key = xstrdup(k);
	explicit_bzero(copy, strlen(copy));
	free(copy);
}

/* callback_url, only with api_protocol = openrouter; callback_secret_file, needed by
 * callback_listen (a callback is never taken unsigned). A secret every local user can
 * read signs nothing: refused. KEYLESS (the commands): not read, the daemon holds it. */
static void load_callback_secret(struct conf *c, struct parse_ctx *x, bool keyless)
{
	char why[256], loc[PATH_MAX + 32];
	struct stat st;
	/* Only OpenRouter's creates carry a callback_url (proto_openrouter.c). */
	if (c->callback_url && (!c->api_protocol || strcmp(c->api_protocol, "openrouter") != 0))
		add_err(
		    x, loc_key(x, key_index("callback_url"), loc, sizeof loc),
		    "callback_url is sent only with api_protocol = \"openrouter\" (OpenRouter's "
		    "signed callbacks); with api_protocol = \"%s\" no create carries it: set "
		    "api_protocol = \"openrouter\" or remove callback_url",
		    c->api_protocol ? c->api_protocol : "openai");
	if (!c->callback_listen) {
		if (c->callback_url)
			add_err(x, loc_key(x, key_index("callback_url"), loc, sizeof loc),
			        "callback_url needs callback_listen: the address its reverse proxy "
			        "forwards to");
		return;
	}
	loc_key(x, key_index("callback_listen"), loc, sizeof loc);
	if (!c->callback_secret_file) {
		add_err(x, loc,
		        "callback_listen needs callback_secret_file: sorad accepts only "
		        "signed callbacks");
		return;
	}
	if (keyless)
		return;
	loc_key(x, key_index("callback_secret_file"), loc, sizeof loc);
	if (stat(c->callback_secret_file, &st) == 0 && (st.st_mode & S_IROTH)) {
		add_err(x, loc, "callback_secret_file %s is readable by everyone; chmod 600 it",
		        c->callback_secret_file);
		return;
	}
	if (read_key_file(c->callback_secret_file, &c->callback_secret, why, sizeof why) != 0)
		add_err(x, loc, "callback_secret_file %s: %s", c->callback_secret_file, why);
}

/* ---- checks across keys ------------------------------------------------------- */

static void cross_checks(const struct conf *c, struct parse_ctx *x)
{
	char loc[PATH_MAX + 32];
	size_t pi = key_index("poll_initial"), pm = key_index("poll_max");
	size_t rb = key_index("retry_base_ms"), rm = key_index("retry_max_ms");
	size_t dm = key_index("default_model"), ds = key_index("default_size");
	size_t dsec = key_index("default_seconds");

	if (c->poll_initial > c->poll_max)
		add_err(x, loc_key(x, later_key(x, pi, pm), loc, sizeof loc),
		        "poll_initial (%u s) must not exceed poll_max (%u s)", c->poll_initial,
		        c->poll_max);
	if (c->retry_base_ms > c->retry_max_ms)
		add_err(x, loc_key(x, later_key(x, rb, rm), loc, sizeof loc),
		        "retry_base_ms (%ld) must not exceed retry_max_ms (%ld)", c->retry_base_ms,
		        c->retry_max_ms);

	const struct model_def *m = conf_model(c, c->default_model);
	if (!m) {
		char names[512] = "";
		size_t used = 0;
		for (size_t i = 0; i < c->n_models && used < sizeof names; i++) {
			if (bfmt(names + used, sizeof names - used, "%s%s", i ? ", " : "",
			         c->models[i].name))
				break;
			used += strlen(names + used);
		}
		add_err(x, loc_key(x, dm, loc, sizeof loc),
		        "default_model \"%s\" is not in the model table (configured: %s)",
		        c->default_model, names);
		return;
	}
	if (!conf_model_size(m, c->default_size))
		add_err(x, loc_key(x, later_key(x, dm, ds), loc, sizeof loc),
		        "default_size \"%s\" is not a size of model \"%s\"", c->default_size,
		        m->name);
	if (!conf_model_allows_seconds(m, c->default_seconds))
		add_err(x, loc_key(x, later_key(x, dm, dsec), loc, sizeof loc),
		        "default_seconds %u is not a duration of model \"%s\"", c->default_seconds,
		        m->name);
}

/* ---- the public interface ----------------------------------------------------- */

static struct conf *load(const char *path, char *err, size_t errlen, bool keyless)
{
	char scratch[1];
	struct parse_ctx x;
	struct conf *c = NULL;
	cfg_t *cfg = new_cfg();
	char *cwd = NULL, *base = NULL;
	bool outbox_env = false;

	if (!err || !errlen) {
		err = scratch;
		errlen = sizeof scratch;
	}
	err[0] = '\0';
	memset(&x, 0, sizeof x);
	x.shown = path ? path : "(built-in defaults)";
	x.err = err;
	x.errlen = errlen;

	cwd = cwd_dup();
	if (!cwd) {
		add_err(&x, x.shown, "cannot get the current directory: %s", strerror(errno));
		goto fail;
	}
	if (path) {
		struct stat st;
		FILE *fp = fopen(path, "re");
		if (!fp) {
			add_err(&x, path, "cannot open: %s", strerror(errno));
			goto fail;
		}
		if (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode)) {
			fclose(fp);
			add_err(&x, path, "is a directory, not a configuration file");
			goto fail;
		}
		char *text = NULL, why[256];
		size_t len = 0;
		int rc = slurp(fp, &text, &len, why, sizeof why);
		fclose(fp);
		if (rc) {
			add_err(&x, path, "cannot read: %s", why);
			goto fail;
		}
		blank_comments(text, len);
		blank_unknown_keys(text, len, cfg->opts, &x);
		FILE *mem = len ? fmemopen(text, len, "r") : NULL;
		if (len && !mem) {
			free(text);
			add_err(&x, path, "cannot read: %s", strerror(errno));
			goto fail;
		}
		if (mem) {
			cur_ctx = &x;
			rc = cfg_parse_fp(cfg, mem);
			cur_ctx = NULL;
			fclose(mem);
		}
		free(text);
		if (rc != CFG_SUCCESS && x.nerr == 0)
			add_err(&x, path, "cannot parse");
		if (x.nerr)
			goto fail;
	}

	c = xcalloc(1, sizeof *c);
	values_from_cfg(c, cfg);
	cfg_free(cfg);
	cfg = NULL;
	apply_env(c, &x, &outbox_env);

	/* Folders from the file resolve against its directory, from the environment
	 * against the cwd, so that the daemon may chdir("/") and reload safely. */
	base = path ? conf_dir(cwd, path) : xstrdup(cwd);
	c->path = path ? path_join(cwd, path) : NULL;
	make_abs(base, &c->inbox);
	make_abs(outbox_env ? cwd : base, &c->outbox);
	if (c->failed_dir)
		make_abs(base, &c->failed_dir);
	else
		c->failed_dir = xasprintf("%s/failed", c->outbox);
	make_abs(base, &c->state_dir);
	make_abs(base, &c->log_dir);
	make_abs(base, &c->api_key_file);
	make_abs(base, &c->callback_secret_file);

	/* The API paths are appended to api_base: "v1/" would make "v1//videos". */
	for (size_t n = strlen(c->api_base); n > 8 && c->api_base[n - 1] == '/'; n--)
		c->api_base[n - 1] = '\0';

	load_key(c, &x, keyless);
	load_callback_secret(c, &x, keyless);
	if (x.nerr == 0)
		cross_checks(c, &x);
	if (x.nerr)
		goto fail;
	free(cwd);
	free(base);
	return c;
fail:
	if (cfg)
		cfg_free(cfg);
	conf_free(c);
	free(cwd);
	free(base);
	return NULL;
}

struct conf *conf_load(const char *path, char *err, size_t errlen)
{
	return load(path, err, errlen, false);
}

struct conf *conf_load_keyless(const char *path, char *err, size_t errlen)
{
	return load(path, err, errlen, true);
}

void conf_free(struct conf *c)
{
	if (!c)
		return;
	free(c->path);
	free(c->api_key_unread);
	free(c->api_base);
	free(c->api_protocol);
	free(c->api_key_file);
	if (c->api_key) {
		explicit_bzero(c->api_key, strlen(c->api_key));
		free(c->api_key);
	}
	for (size_t i = 0; i < c->n_extra_headers; i++)
		free(c->extra_headers[i]);
	free(c->extra_headers);
	free(c->inbox);
	free(c->outbox);
	free(c->failed_dir);
	free(c->ffmpeg);
	free(c->state_dir);
	free(c->log_dir);
	free(c->default_model);
	free(c->default_size);
	free(c->listen);
	free(c->status_token);
	free(c->callback_listen);
	free(c->callback_url);
	free(c->callback_secret_file);
	if (c->callback_secret) {
		explicit_bzero(c->callback_secret, strlen(c->callback_secret));
		free(c->callback_secret);
	}
	free(c->log_level);
	for (size_t i = 0; i < c->n_models; i++) {
		struct model_def *m = &c->models[i];
		free(m->name);
		free(m->seconds);
		for (size_t j = 0; j < m->n_aliases; j++)
			free(m->aliases[j]);
		free(m->aliases);
		for (size_t j = 0; j < m->n_sizes; j++)
			free(m->sizes[j].size);
		free(m->sizes);
	}
	free(c->models);
	for (size_t i = 0; i < c->n_templates; i++) {
		free(c->templates[i].name);
		free(c->templates[i].text);
	}
	free(c->templates);
	free(c);
}

const struct model_def *conf_model(const struct conf *c, const char *model)
{
	if (!c || !model)
		return NULL;
	for (size_t i = 0; i < c->n_models; i++)
		if (!strcmp(c->models[i].name, model))
			return &c->models[i];
	return NULL;
}

const struct model_size *conf_model_size(const struct model_def *m, const char *size)
{
	if (!m || !size)
		return NULL;
	for (size_t i = 0; i < m->n_sizes; i++)
		if (!strcmp(m->sizes[i].size, size))
			return &m->sizes[i];
	return NULL;
}

bool conf_model_allows_seconds(const struct model_def *m, unsigned seconds)
{
	if (!m)
		return false;
	for (size_t i = 0; i < m->n_seconds; i++)
		if (m->seconds[i] == seconds)
			return true;
	return false;
}

double conf_estimate_cost(const struct conf *c, const char *model, const char *size,
                          unsigned seconds)
{
	const struct model_size *s = conf_model_size(conf_model(c, model), size);
	return s ? s->price_per_second * seconds : -1.0;
}

/* ---- sorad check-config ------------------------------------------------------- */

static void check_usage(FILE *out)
{
	fprintf(out,
	        "usage: sorad check-config [-c FILE] [--probe]\n"
	        "  Validates FILE (default: $SORAD_CONF, else ./sorad.conf, else\n"
	        "  ~/.config/sorad/sorad.conf, else the system's sorad.conf, else the built-in\n"
	        "  defaults) with the environment overrides applied, and prints a summary.\n"
	        "  --probe  also asks the service what it can do (a list of one video, a\n"
	        "           lookup and a delete of a video that does not exist; never a\n"
	        "           create, nothing is spent) and prints a table.\n"
	        "  Exit status: 0 valid (and, with --probe, the service answered), 78\n"
	        "  configuration error (or the service refused the key), 69 the service\n"
	        "  could not be reached, 64 usage error.\n");
}

/* Prices with at least two decimals, more only when they matter ($0.125/s). */
static const char *fmt_price(double v, char *buf, size_t n)
{
	if (bfmt(buf, n, "%.6f", v))
		return "?";
	char *dot = strchr(buf, '.');
	if (dot) {
		char *end = buf + strlen(buf) - 1;
		while (end > dot + 2 && *end == '0')
			*end-- = '\0';
	}
	return buf;
}

static const char *const auth_label[] = {[AUTH_BEARER] = "bearer", [AUTH_API_KEY] = "api-key"};
static const char *const watch_label[] = {
    [WATCH_AUTO] = "auto", [WATCH_INOTIFY] = "inotify", [WATCH_POLL] = "poll"};

static void print_summary(const struct conf *c, const char *shown)
{
	char p[64];
	printf("%s: configuration OK\n", shown);
	printf("  api_base       %s (auth: %s, %zu extra header%s)\n", c->api_base,
	       auth_label[c->auth_style], c->n_extra_headers, c->n_extra_headers == 1 ? "" : "s");
	printf("  api_protocol   %s\n", c->api_protocol ? c->api_protocol : "openai");
	if (c->api_key && c->api_key_file)
		printf("  api key        found (api_key_file %s)\n", c->api_key_file);
	else if (c->api_key)
		printf("  api key        found (OPENAI_API_KEY)\n");
	else
		printf(
		    "  api key        none: set api_key_file or OPENAI_API_KEY before running\n");
	printf("  inbox          %s\n", c->inbox);
	printf("  outbox         %s\n", c->outbox);
	printf("  failed_dir     %s\n", c->failed_dir);
	printf("  outbox_mode    %04o (directories %04o)\n", (unsigned)c->outbox_mode,
	       (unsigned)conf_outbox_dir_mode(c));
	char ffmpeg[PATH_MAX], no_ffmpeg[PATH_MAX + 64];
	if (derive_find_ffmpeg(c->ffmpeg, ffmpeg, sizeof(ffmpeg), no_ffmpeg, sizeof(no_ffmpeg)) ==
	    0)
		printf("  ffmpeg         %s (makes the variants a service cannot serve)\n", ffmpeg);
	else
		printf("  ffmpeg         none: %s\n", no_ffmpeg);
	printf("  state_dir      %s\n", c->state_dir);
	printf("  log_dir        %s (level %s, kept %u days)\n", c->log_dir, c->log_level,
	       c->log_keep_days);
	printf("  defaults       %s, %s, %u s\n", c->default_model, c->default_size,
	       c->default_seconds);
	printf("  jobs           %u in flight, poll %u..%u s, timeout %u s, watch %s\n",
	       c->max_in_flight, c->poll_initial, c->poll_max, c->job_timeout,
	       watch_label[c->watch_mode]);
	printf("  limits         retry-after honoured up to %u s, a download %u s%s\n",
	       c->retry_after_max_s, c->download_timeout_s,
	       c->download_max_mb ? "" : " (size from each job's video)");
	if (c->download_max_mb)
		printf("                 and %u MiB without a Content-Length\n",
		       c->download_max_mb);
	printf("  listen         %s%s\n", *c->listen ? c->listen : "(disabled)",
	       c->status_token ? " (token required)" : "");
	if (c->callback_listen)
		printf("  callbacks      signed, on %s for %s\n", c->callback_listen,
		       c->callback_url ? c->callback_url : "(the workspace's default URL)");
	printf("  notify         %s (events:%s%s%s%s)\n", c->notify ? "on" : "off",
	       (c->notify_events & NOTIFY_EV_READY) ? " ready" : "",
	       (c->notify_events & NOTIFY_EV_FAILED) ? " failed" : "",
	       (c->notify_events & NOTIFY_EV_CAP) ? " cap" : "",
	       (c->notify_events & NOTIFY_EV_DOUBT) ? " doubt" : "");
	if (c->in_doubt_resubmit_hours)
		printf("  in doubt       resubmitted automatically after %u h\n",
		       c->in_doubt_resubmit_hours);
	else
		printf(
		    "  in doubt       waits for `sorad resolve` (never resubmitted on its own)\n");
	printf("  capabilities   api_profile %s:", caps_profile_name(c->api_profile));
	const struct proto *proto = proto_find(c->api_protocol);
	for (size_t i = 0; i < CAPS_COUNT; i++) {
		enum caps_state d = caps_profile_default(c->api_profile, (enum caps_id)i);
		if (proto && proto->caps[i] != CAPS_UNKNOWN)
			printf("%s %s %s (api_protocol)", i ? "," : "", caps_name((enum caps_id)i),
			       caps_state_name(proto->caps[i]));
		else if (c->caps[i] != CAPS_SET_AUTO)
			printf("%s %s %s (set)", i ? "," : "", caps_name((enum caps_id)i),
			       caps_setting_name(c->caps[i]));
		else if (d != CAPS_UNKNOWN)
			printf("%s %s %s", i ? "," : "", caps_name((enum caps_id)i),
			       caps_state_name(d));
		else
			printf("%s %s auto", i ? "," : "", caps_name((enum caps_id)i));
	}
	printf("\n");
	printf("  templates      cinematic, product, text, nature (built in)");
	for (size_t i = 0; i < c->n_templates; i++)
		printf(", %s", c->templates[i].name);
	printf("\n");
	printf("  models\n");
	for (size_t i = 0; i < c->n_models; i++) {
		const struct model_def *m = &c->models[i];
		printf("    %s: seconds", m->name);
		for (size_t j = 0; j < m->n_seconds; j++)
			printf("%s%u", j ? "," : " ", m->seconds[j]);
		for (size_t j = 0; j < m->n_aliases; j++)
			printf("%s%s", j ? ", " : "; aliases ", m->aliases[j]);
		printf(";");
		for (size_t j = 0; j < m->n_sizes; j++)
			printf("%s %s $%s/s", j ? "," : "", m->sizes[j].size,
			       fmt_price(m->sizes[j].price_per_second, p, sizeof p));
		printf("\n");
	}
}

int conf_check_main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"probe", no_argument, NULL, 'p'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	const char *path = NULL;
	bool probe = false;
	int ch;
	char err[4096];

	optind = 1; /* argv[0] is "check-config"; getopt may have run before */
	opterr = 0; /* our own messages name the command */
	while ((ch = getopt_long(argc, argv, "c:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'p':
			probe = true;
			break;
		case 'h':
			check_usage(stdout);
			return EX_OK;
		case 'V':
			printf("sorad %s\n", SORAD_VERSION);
			return EX_OK;
		default:
			if (optopt)
				fprintf(stderr,
				        "sorad check-config: unknown option or missing argument "
				        "'-%c'\n",
				        optopt);
			else
				fprintf(stderr, "sorad check-config: unknown option '%s'\n",
				        argv[optind - 1]);
			check_usage(stderr);
			return EX_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sorad check-config: unexpected argument '%s'\n", argv[optind]);
		check_usage(stderr);
		return EX_USAGE;
	}
	path = conf_path_resolve(path);
	char shown_buf[4200];
	if (!path)
		bfmt(shown_buf, sizeof(shown_buf), "built-in defaults (none of %s exists)",
		     conf_path_searched());
	const char *shown = path ? path : shown_buf;

	struct conf *c = conf_load(path, err, sizeof err);
	if (!c) {
		fprintf(stderr, "%s\n", err);
		return EX_CONFIG;
	}
	const char *who = conf_key_file_exposed(c);
	if (who)
		fprintf(stderr, "%s: warning: api_key_file %s is readable by %s; chmod 600 it\n",
		        path ? path : "sorad", c->api_key_file, who);
	print_summary(c, shown);
	int rc = probe ? probe_main(c, stdout) : EX_OK;
	conf_free(c);
	return rc;
}

mode_t conf_outbox_dir_mode(const struct conf *c)
{
	/* Whoever may read a file may also list and enter its directory. */
	mode_t m = c->outbox_mode & 0777;
	return m | (m & 0444) >> 2;
}

const char *conf_key_file_exposed(const struct conf *c)
{
	struct stat st;
	if (!c->api_key_file || stat(c->api_key_file, &st) != 0 ||
	    !(st.st_mode & (S_IRGRP | S_IROTH)))
		return NULL;
	return (st.st_mode & S_IROTH) ? "everyone" : "its group";
}
