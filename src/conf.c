/*
 * conf.c — loading sorad.conf (libconfuse): the parse and its error report, the
 * sections (model table, templates, capabilities), the seed's environment overrides,
 * the paths, the API key and callback secret, and the checks across keys (see conf.h).
 * The keys themselves, their checks and their fill are one table: conf_keys.c.
 * `sorad check-config` is check_config.c.
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
#include "conf_keys.h"
#include "template.h"
#include "util.h"

#include <confuse.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* The row number of key NAME in conf_keys, the index of parse_ctx's arrays. */
static size_t key_index(const char *name)
{
	const struct conf_key *k = conf_key_find(name);
	return k ? (size_t)(k - conf_keys) : 0;
}

/* ---- the parse context and error collection ----------------------------------- */

struct parse_ctx {
	const char *shown; /* the file name as the user gave it, for messages */
	char *err;
	size_t errlen;
	int nerr;
	int line[CONF_KEYS_MAX];        /* where each key was set in the file, 0: not set */
	const char *env[CONF_KEYS_MAX]; /* the variable that overrode it, NULL: none */
	const cfg_opt_t *last_list;     /* see list_repeat() */
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

/* Every key's check (conf_key_check), at the line it was set on. */
static int v_key(cfg_t *cfg, cfg_opt_t *opt)
{
	struct parse_ctx *x = cur_ctx;
	const struct conf_key *k = conf_key_find(opt->name);
	char msg[600];
	if (!x || !k || opt->nvalues == 0)
		return 0;
	x->line[k - conf_keys] = cfg->line;
	if ((opt->flags & CFGF_LIST) && list_repeat(x, opt))
		return 0;
	/* the newest element of a list, else the value */
	if (conf_key_check(k, opt, opt->nvalues - 1, msg, sizeof msg))
		cfg_error(cfg, "%s", msg);
	return 0;
}

/* A key of the capabilities section (caps.h): auto, yes or no. */
static int v_cap(cfg_t *cfg, cfg_opt_t *opt)
{
	static const char *const words[] = {"auto", "yes", "no", NULL};
	char why[128];
	const char *s = opt->nvalues ? cfg_opt_getnstr(opt, 0) : NULL;
	if (cur_ctx && s && conf_check_one_of(s, words, why, sizeof why))
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
	if (conf_check_size(cfg_title(sec), why, sizeof why))
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
	if (conf_check_model_name(cfg_title(sec), why, sizeof why))
		cfg_error(cfg, "model \"%s\": name %s", cfg_title(sec), why);
	if (cfg_size(sec, "seconds") == 0)
		cfg_error(cfg, "model \"%s\": seconds must list at least one duration",
		          cfg_title(sec));
	for (unsigned i = 0; i < cfg_size(sec, "aliases"); i++)
		if (conf_check_model_name(cfg_getnstr(sec, "aliases", i), why, sizeof why))
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
	if (conf_check_model_name(cfg_title(sec), why, sizeof why))
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
	/* The keys (conf_keys.c), then the sections. */
	cfg_opt_t opts[CONF_KEYS_MAX + 4];
	size_t n = conf_keys_count;
	conf_keys_opts(opts);
	opts[n++] =
	    (cfg_opt_t)CFG_SEC("model", model_opts, CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES);
	opts[n++] = (cfg_opt_t)CFG_SEC("template", template_opts,
	                               CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES);
	opts[n++] = (cfg_opt_t)CFG_SEC("capabilities", caps_opts, CFGF_NONE);
	opts[n] = (cfg_opt_t)CFG_END();
	cfg_t *cfg = cfg_init(opts, CFGF_NONE);
	if (!cfg) {
		fprintf(stderr, "sorad: out of memory initializing libconfuse\n");
		abort();
	}
	cfg_set_error_function(cfg, on_cfg_error);
	for (size_t i = 0; i < conf_keys_count; i++)
		cfg_set_validate_func(cfg, conf_keys[i].name, v_key);
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
	(void)conf_parse_size(size, &s->width, &s->height); /* validated before */
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

/* The capabilities section (validated while parsing). */
static void caps_from_cfg(struct conf *c, cfg_t *cfg)
{
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

/* The keys (conf_keys.c), then the sections. */
static void values_from_cfg(struct conf *c, cfg_t *cfg)
{
	conf_keys_fill(c, cfg);
	caps_from_cfg(c, cfg);
	c->n_templates = cfg_size(cfg, "template");
	c->templates = xcalloc(c->n_templates + 1, sizeof *c->templates);
	for (unsigned i = 0; i < c->n_templates; i++) {
		cfg_t *ts = cfg_getnsec(cfg, "template", i);
		c->templates[i].name = xstrdup(cfg_title(ts));
		c->templates[i].text = xstrdup(cfg_getstr(ts, "text"));
	}
	models_from_cfg(c, cfg);
}

/* ---- environment overrides ---------------------------------------------------- */

/* The variable's value, or NULL when unset or empty (systemd's VAR= means unset). */
static const char *env_value(const char *var)
{
	const char *v = getenv(var);
	return v && *v ? v : NULL;
}

/* The seed's .env variables (and the SDKs' OPENAI_BASE_URL) win over the file: each
 * key's env in conf_keys, checked as the key is. */
static void apply_env(struct conf *c, struct parse_ctx *x)
{
	char msg[600];
	for (size_t i = 0; i < conf_keys_count; i++) {
		const char *v = conf_keys[i].env ? env_value(conf_keys[i].env) : NULL;
		if (!v)
			continue;
		if (conf_key_from_env(&conf_keys[i], v, c, msg, sizeof msg))
			add_err(x, conf_keys[i].env, "%s", msg);
		else
			x->env[i] = conf_keys[i].env;
	}
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
		return conf_why(why, n, "is empty");
	for (; *k; k++)
		if (*k < 0x21 || *k > 0x7e)
			return conf_why(why, n,
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
		conf_why(why, n, "is not a regular file");
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
		conf_why(why, n, "contains NUL bytes: is it really a key file?");
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
	/* An archived job is no longer recognised as a duplicate: a prompt delivered again
	 * within the window would be paid again. */
	if (c->keep_records_days && c->duplicate_skip &&
	    c->duplicate_window_days > c->keep_records_days)
		add_err(
		    x,
		    loc_key(x,
		            later_key(x, key_index("keep_records_days"),
		                      key_index("duplicate_window_days")),
		            loc, sizeof loc),
		    "keep_records_days (%u) must be at least duplicate_window_days (%u): an "
		    "archived job is no longer recognised as a duplicate, so a prompt delivered "
		    "again within the window would be paid again",
		    c->keep_records_days, c->duplicate_window_days);

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
	apply_env(c, &x);

	/* Folders from the file resolve against its directory, from the environment
	 * against the cwd, so that the daemon may chdir("/") and reload safely. */
	base = path ? conf_dir(cwd, path) : xstrdup(cwd);
	c->path = path ? path_join(cwd, path) : NULL;
	for (size_t i = 0; i < conf_keys_count; i++)
		if (conf_keys[i].flags & CONF_KEY_PATH)
			make_abs(x.env[i] ? cwd : base, (char **)((char *)c + conf_keys[i].off));
	/* Custom code: failed_dir's default follows the outbox. */
	if (!c->failed_dir)
		c->failed_dir = xasprintf("%s/failed", c->outbox);

	/* Custom code: the API paths are appended to api_base, and "v1/" would make
	 * "v1//videos". */
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
	conf_keys_release(c);
	if (c->api_key) {
		explicit_bzero(c->api_key, strlen(c->api_key));
		free(c->api_key);
	}
	if (c->callback_secret) {
		explicit_bzero(c->callback_secret, strlen(c->callback_secret));
		free(c->callback_secret);
	}
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
