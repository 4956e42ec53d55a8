/* prompt.c — inbox file formats into job specifications (see prompt.h). */
#include "prompt.h"
#include "catalog.h"
#include "decimal.h"
#include "image.h"
#include "proto.h"
#include "template.h"
#include "utf8.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define KNOWN_KEYS                                                                                 \
	"prompt, model, seconds, size, reference, remix_of, extend_of, name, template, again, "    \
	"last_frame, seed, audio, options"
#define SECONDS_MAX 3600

/* Which keys a job set explicitly, so a remix can refuse what it would ignore; and a
 * template with its variables (every other key), expanded once all keys are read. */
struct explicit
{
	bool model, size, seconds;
	char *tmpl;      /* template: NAME */
	char **vk, **vv; /* variables */
	size_t nv;
	char *unknown_err; /* the first unknown key: an error unless a template uses it */
};

static void explicit_release(struct explicit *ex)
{
	for (size_t i = 0; i < ex->nv; i++) {
		free(ex->vk[i]);
		free(ex->vv[i]);
	}
	free(ex->vk);
	free(ex->vv);
	free(ex->tmpl);
	free(ex->unknown_err);
	memset(ex, 0, sizeof(*ex));
}

/* A key that could be a template variable: lowercase letters, digits, '_'. */
static bool var_name_ok(const char *k)
{
	size_t n = strlen(k);
	if (n == 0 || n > 64)
		return false;
	for (; *k; k++)
		if (!((*k >= 'a' && *k <= 'z') || (*k >= '0' && *k <= '9') || *k == '_'))
			return false;
	return true;
}

int prompt_format_from_ext(const char *ext)
{
	if (!ext)
		return -1;
	if (!strcasecmp(ext, "txt"))
		return PROMPT_TXT;
	if (!strcasecmp(ext, "json"))
		return PROMPT_JSON;
	if (!strcasecmp(ext, "jsonl"))
		return PROMPT_JSONL;
	return -1;
}

bool prompt_name_ok(const char *name)
{
	size_t len = name ? strlen(name) : 0;
	if (len == 0 || len > PROMPT_NAME_MAX || name[0] == '.' || name[0] == '-')
		return false;
	if (!utf8_check(name, len, NULL))
		return false;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '/' || *p == '\\')
			return false;
	return true;
}

void prompt_name_suffixed(char *buf, size_t size, const char *name, unsigned n)
{
	char suffix[16];
	bfmt(suffix, sizeof(suffix), "-%u", n);
	size_t keep = strlen(name), sl = strlen(suffix);
	/* A longer name would be refused when its record is read back after a restart. */
	if (keep + sl > PROMPT_NAME_MAX)
		keep = utf8_valid_prefix(name, PROMPT_NAME_MAX - sl);
	bfmt(buf, size, "%.*s%s", (int)keep, name, suffix);
}

/* A copy of STEM usable as a job name: unsafe bytes become '_'. Caller frees. */
static char *sanitize_name(const char *stem)
{
	size_t len = strnlen(stem, PROMPT_NAME_MAX);
	len = utf8_valid_prefix(stem, len);
	char *s = xstrndup(stem, len);
	for (unsigned char *p = (unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '/' || *p == '\\')
			*p = '_';
	if (s[0] == '.' || s[0] == '-')
		s[0] = '_';
	if (!s[0]) {
		free(s);
		s = xstrdup("unnamed");
	}
	return s;
}

/*
 * The one place a spec is made: it starts with its name, its line and the configured
 * defaults, so that no spec, error or not, ever lacks a model, a size or seconds (a
 * record is made of every spec, errors included). Keys read later replace them.
 */
static struct job_spec *add_spec(struct prompt_file *pf, const struct conf *d, const char *name,
                                 unsigned line)
{
	if (pf->n == pf->cap) { /* doubling: a batch of 10,000 is not 10,000 copies */
		pf->cap = pf->cap ? pf->cap * 2 : 1;
		pf->jobs = xrealloc(pf->jobs, pf->cap * sizeof(*pf->jobs));
	}
	struct job_spec *s = &pf->jobs[pf->n++];
	memset(s, 0, sizeof(*s));
	s->name = xstrdup(name);
	s->line = line;
	s->model = xstrdup(d->default_model);
	s->size = xstrdup(d->default_size);
	s->seconds = d->default_seconds;
	return s;
}

static void spec_error(struct job_spec *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Every problem of a spec is reported at once, one per line, up to SPEC_ERRORS_MAX
 * (the rest counted), so that a file is fixed in one round, not one per mistake. */
#define SPEC_ERRORS_MAX 8

static void append_error(char **error, const char *msg)
{
	if (!*error) {
		*error = xstrdup(msg);
		return;
	}
	size_t lines = 1;
	for (const char *p = *error; (p = strchr(p, '\n')); p++)
		lines++;
	if (lines > SPEC_ERRORS_MAX)
		return;
	char *both = lines == SPEC_ERRORS_MAX ? xasprintf("%s\n(and more)", *error)
	                                      : xasprintf("%s\n%s", *error, msg);
	free(*error);
	*error = both;
}

static void spec_error(struct job_spec *s, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vbfmt(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	append_error(&s->error, buf);
}

/* The known key KEY is probably a typo of, or NULL. */
static const char *known_key_like(const char *key)
{
	static const char *const known[] = {
	    "prompt",   "model", "seconds",    "size", "reference", "remix_of", "name",
	    "template", "again", "last_frame", "seed", "audio",     "options",  "extend_of"};
	return closest_word(key, known, ARRAY_LEN(known));
}

static void set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = xstrdup(v);
}

/* Parses "8", "8s" or " 8 " as seconds; -1 when not a sensible duration. */
static long parse_seconds(const char *v)
{
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (end == v || errno || n <= 0 || n > SECONDS_MAX)
		return -1;
	if (*end == 's')
		end++;
	while (isspace((unsigned char)*end))
		end++;
	return *end ? -1 : n;
}

/* A seed: decimal digits only, 0..PROMPT_SEED_MAX; -1 otherwise. */
static long long parse_seed(const char *v)
{
	unsigned long long n;
	return decimal_uint(v, PROMPT_SEED_MAX, &n) == 0 ? (long long)n : -1;
}

/* A reference must name a plain image file beside the prompt in the inbox. */
static bool reference_ok(const char *ref)
{
	if (!prompt_name_ok(ref))
		return false;
	const char *dot = strrchr(ref, '.');
	return dot && image_ext_ok(dot + 1);
}

/* Applies KEY = VALUE (both NUL-terminated text) to S; WHERE prefixes errors. */
static void apply_key(struct job_spec *s, struct explicit *ex, const char *key, const char *value,
                      const char *where)
{
	if (!strcmp(key, "prompt")) {
		set_str(&s->prompt, value);
	} else if (!strcmp(key, "model")) {
		if (!*value)
			spec_error(s, "%s'model' is empty", where);
		set_str(&s->model, value);
		ex->model = true;
	} else if (!strcmp(key, "size")) {
		set_str(&s->size, value);
		ex->size = true;
	} else if (!strcmp(key, "seconds")) {
		long n = parse_seconds(value);
		if (n < 0)
			spec_error(s, "%s'seconds' must be a whole number of seconds, not '%.40s'",
			           where, value);
		else
			s->seconds = (unsigned)n;
		ex->seconds = true;
	} else if (!strcmp(key, "reference") || !strcmp(key, "last_frame")) {
		if (!reference_ok(value))
			spec_error(s,
			           "%s'%s' must name a .png, .jpg, .jpeg or .webp file in "
			           "the inbox (no folders), not '%.80s'",
			           where, key, value);
		set_str(key[0] == 'r' ? &s->reference : &s->last_frame, value);
	} else if (!strcmp(key, "seed")) {
		long long n = parse_seed(value);
		if (n < 0)
			spec_error(s, "%s'seed' must be a whole number from 0 to %lld, not '%.40s'",
			           where, PROMPT_SEED_MAX, value);
		s->has_seed = n >= 0;
		s->seed = n >= 0 ? n : 0;
	} else if (!strcmp(key, "audio")) {
		if (!strcmp(value, "true") || !strcmp(value, "yes"))
			s->audio = 1;
		else if (!strcmp(value, "false") || !strcmp(value, "no"))
			s->audio = 2;
		else
			spec_error(s, "%s'audio' must be true or false, not '%.40s'", where, value);
	} else if (!strcmp(key, "options")) {
		spec_error(s, "%s'options' is a JSON object: use a .json or .jsonl prompt file",
		           where);
	} else if (!strcmp(key, "remix_of") || !strcmp(key, "extend_of")) {
		if (!prompt_name_ok(value) || strchr(value, ' '))
			spec_error(s, "%s'%s' must be a video id or a job name, not '%.80s'", where,
			           key, value);
		set_str(key[0] == 'r' ? &s->remix_of : &s->extend_of, value);
	} else if (!strcmp(key, "name")) {
		if (!prompt_name_ok(value))
			spec_error(s,
			           "%s'name' '%.80s' cannot be used as a file name (no '/', no "
			           "leading '.' or '-', at most %d bytes)",
			           where, value, PROMPT_NAME_MAX);
		else
			set_str(&s->name, value);
	} else if (!strcmp(key, "again")) {
		if (!strcmp(value, "true") || !strcmp(value, "yes"))
			s->again = true;
		else if (strcmp(value, "false") != 0 && strcmp(value, "no") != 0)
			spec_error(s, "%s'again' must be true or false, not '%.40s'", where, value);
	} else if (!strcmp(key, "template")) {
		if (!var_name_ok(value) && !prompt_name_ok(value))
			spec_error(s, "%s'template' must name a template, not '%.80s'", where,
			           value);
		free(ex->tmpl);
		ex->tmpl = xstrdup(value);
	} else if (var_name_ok(key)) {
		/* A variable if the file names a template (it may come later), else a typo. */
		for (size_t i = 0; i < ex->nv; i++) {
			if (!strcmp(ex->vk[i], key)) {
				set_str(&ex->vv[i], value);
				return;
			}
		}
		ex->vk = xrealloc(ex->vk, (ex->nv + 1) * sizeof(*ex->vk));
		ex->vv = xrealloc(ex->vv, (ex->nv + 1) * sizeof(*ex->vv));
		ex->vk[ex->nv] = xstrdup(key);
		ex->vv[ex->nv++] = xstrdup(value);
		const char *like = known_key_like(key);
		char *msg = xasprintf("%sunknown key '%.40s' (%s%s%sknown keys: " KNOWN_KEYS
		                      "; other keys are variables of a template)",
		                      where, key, like ? "did you mean '" : "", like ? like : "",
		                      like ? "'? " : "");
		append_error(&ex->unknown_err, msg);
		free(msg);
	} else {
		const char *like = known_key_like(key);
		spec_error(s, "%sunknown key '%.40s' (%s%s%sknown keys: " KNOWN_KEYS ")", where,
		           key, like ? "did you mean '" : "", like ? like : "", like ? "'? " : "");
	}
}

/* The template named NAME: sorad.conf's first (it may redefine a starter), then the
 * built-in starters; NULL when neither has it (the names available in LIST). */
static const char *find_template(const struct conf *c, const char *name, char *list, size_t n)
{
	for (size_t i = 0; c && i < c->n_templates; i++)
		if (!strcmp(c->templates[i].name, name))
			return c->templates[i].text;
	size_t nb;
	const struct template_def *b = template_builtins(&nb);
	for (size_t i = 0; i < nb; i++)
		if (!strcmp(b[i].name, name))
			return b[i].text;
	list[0] = '\0';
	for (size_t i = 0; i < nb; i++) {
		size_t used = strlen(list);
		bfmt(list + used, n - used, "%s%s", used ? ", " : "", b[i].name);
	}
	for (size_t i = 0; c && i < c->n_templates; i++) {
		size_t used = strlen(list);
		bfmt(list + used, n - used, ", %s", c->templates[i].name);
	}
	return NULL;
}

/* With a template: the prompt is its expansion, then the file's own text if any. */
static void apply_template(struct job_spec *s, struct explicit *ex, const struct conf *d)
{
	if (!ex->tmpl) {
		if (ex->unknown_err)
			spec_error(s, "%s", ex->unknown_err);
		return;
	}
	char list[512], why[512];
	const char *text = find_template(d, ex->tmpl, list, sizeof(list));
	if (!text) {
		spec_error(s, "unknown template '%.80s' (available: %s)", ex->tmpl, list);
		return;
	}
	char *out = template_expand(ex->tmpl, text, ex->vk, ex->vv, ex->nv, why, sizeof(why));
	if (!out) {
		spec_error(s, "%s", why);
		return;
	}
	size_t extra = s->prompt ? strspn(s->prompt, " \t\r\n") : 0;
	if (s->prompt && s->prompt[extra]) {
		char *both = xasprintf("%s. %s", out, s->prompt + extra);
		free(out);
		out = both;
	}
	free(s->prompt);
	s->prompt = out;
}

/* Checks the prompt text and the combination of keys (the defaults are in already). */
static void finish_spec(struct job_spec *s, struct explicit *ex, const struct conf *d)
{
	apply_template(s, ex, d);
	if (!s->prompt) {
		if (!s->error) /* a file that could not be read has no prompt: said already */
			spec_error(s, "there is no prompt");
	} else {
		/* Surrounding blank lines and spaces are not part of the prompt. */
		char *p = s->prompt;
		size_t len = strlen(p);
		while (len && isspace((unsigned char)p[len - 1]))
			p[--len] = '\0';
		size_t skip = strspn(p, " \t\r\n");
		memmove(p, p + skip, len - skip + 1);
		len -= skip;
		size_t chars = 0;
		if (len == 0)
			spec_error(s, "the prompt is empty");
		else if (!utf8_check(p, len, &chars))
			spec_error(s, "the prompt is not valid UTF-8 text");
		else if (chars > PROMPT_MAX_CHARS)
			spec_error(s, "the prompt has %zu characters; the limit is %d", chars,
			           PROMPT_MAX_CHARS);
	}
	if (s->remix_of) {
		if (s->reference)
			spec_error(s, "'remix_of' and 'reference' cannot be combined: a remix "
			              "starts from its source video");
		if (ex->model || ex->size || ex->seconds)
			spec_error(s, "a remix keeps the model, size and seconds of its source "
			              "video: remove 'model', 'size' and 'seconds'");
	}
	s->model_set = ex->model;
	if (s->extend_of && s->remix_of)
		spec_error(s, "'extend_of' and 'remix_of' cannot be combined: a job either "
		              "continues a video (extend_of) or remakes one (remix_of)");
	if (s->extend_of && !strcmp(s->extend_of, s->name))
		spec_error(s, "'extend_of' names this job itself (%.80s)", s->name);
	explicit_release(ex);
}

/* Splits off the next line of [*p, end): returns its length without "\n" or "\r\n". */
static size_t next_line(const char **p, const char *end, const char **line)
{
	*line = *p;
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	const char *stop = nl ? nl : end;
	*p = nl ? nl + 1 : end;
	size_t len = (size_t)(stop - *line);
	if (len && (*line)[len - 1] == '\r')
		len--;
	return len;
}

static bool is_fence(const char *line, size_t len)
{
	while (len && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	return len == 3 && !memcmp(line, "---", 3);
}

static void parse_txt(struct job_spec *s, struct explicit *ex, const char *data, size_t len)
{
	const char *p = data, *end = data + len, *line;
	size_t ll = next_line(&p, end, &line);
	if (!is_fence(line, ll)) {
		s->prompt = xstrndup(data, len);
		return;
	}
	/* An unclosed block is the mistake to report, not its first odd line. */
	bool closed = false;
	for (const char *q = p, *l; q < end && !closed;) {
		size_t n = next_line(&q, end, &l);
		closed = is_fence(l, n);
	}
	if (!closed) {
		spec_error(s, "the front matter opened by '---' on line 1 is never closed by a "
		              "second '---' line");
		return;
	}
	for (unsigned lineno = 2;; lineno++) {
		ll = next_line(&p, end, &line);
		if (is_fence(line, ll))
			break;
		char where[32];
		bfmt(where, sizeof(where), "line %u: ", lineno);
		char buf[1024];
		if (ll >= sizeof(buf)) {
			spec_error(s, "%sfront-matter line too long", where);
			continue;
		}
		memcpy(buf, line, ll);
		buf[ll] = '\0';
		char *k = buf + strspn(buf, " \t");
		if (!*k || *k == '#')
			continue;
		char *colon = strchr(k, ':');
		if (!colon) {
			spec_error(s, "%sexpected 'key: value' in the front matter, got '%.60s'",
			           where, k);
			continue;
		}
		char *ke = colon;
		while (ke > k && (ke[-1] == ' ' || ke[-1] == '\t'))
			ke--;
		*ke = '\0';
		char *v = colon + 1;
		v += strspn(v, " \t");
		size_t vl = strlen(v);
		while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
			v[--vl] = '\0';
		if (vl >= 2 && (v[0] == '"' || v[0] == '\'') && v[vl - 1] == v[0]) {
			v[vl - 1] = '\0';
			v++;
		}
		for (char *c = k; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		if (!strcmp(k, "prompt")) {
			spec_error(s,
			           "%sthe prompt goes after the closing '---', not in a "
			           "'prompt:' key",
			           where);
			continue;
		}
		apply_key(s, ex, k, v, where);
	}
	s->prompt = xstrndup(p, (size_t)(end - p));
}

/* The options object M, kept as compact JSON text for the create's body. */
static void set_options(struct job_spec *s, const cJSON *m, const char *where)
{
	if (cJSON_IsNull(m))
		return;
	char *text = cJSON_IsObject(m) ? cJSON_PrintUnformatted(m) : NULL;
	if (!text || strlen(text) > PROMPT_OPTIONS_MAX) {
		spec_error(s, "%s'options' must be a JSON object of at most %d bytes", where,
		           PROMPT_OPTIONS_MAX);
	} else {
		free(s->options);
		s->options = xstrdup(text);
	}
	if (text)
		cJSON_free(text);
}

/* Applies the members of a JSON job object. */
static void parse_object(struct job_spec *s, struct explicit *ex, const cJSON *obj,
                         const char *where)
{
	if (!cJSON_IsObject(obj)) {
		spec_error(s, "%sexpected a JSON object with a \"prompt\"", where);
		return;
	}
	for (const cJSON *m = obj->child; m; m = m->next) {
		const char *k = m->string ? m->string : "";
		if (k[0] == '_')
			continue; /* "_comment" and friends */
		char num[32];
		const char *v;
		if (!strcmp(k, "options")) {
			set_options(s, m, where);
			continue;
		}
		if (cJSON_IsString(m)) {
			v = m->valuestring;
		} else if (cJSON_IsNumber(m) && !strcmp(k, "seconds")) {
			double d = m->valuedouble;
			/* Range first: converting a double outside long's range is undefined. */
			if (!(d >= 1 && d <= SECONDS_MAX) || d != (double)(long)d) {
				spec_error(s, "%s'seconds' must be a whole number of seconds",
				           where);
				continue;
			}
			bfmt(num, sizeof(num), "%ld", (long)d);
			v = num;
		} else if (cJSON_IsBool(m) && (!strcmp(k, "again") || !strcmp(k, "audio"))) {
			v = cJSON_IsTrue(m) ? "true" : "false";
		} else if (cJSON_IsNumber(m) && !strcmp(k, "seed")) {
			double d = m->valuedouble;
			if (!(d >= 0 && d <= (double)PROMPT_SEED_MAX) ||
			    d != (double)(long long)d) {
				spec_error(s, "%s'seed' must be a whole number from 0 to %lld",
				           where, PROMPT_SEED_MAX);
				continue;
			}
			bfmt(num, sizeof(num), "%lld", (long long)d);
			v = num;

		} else if (cJSON_IsNull(m)) {
			continue; /* null means "use the default" */
		} else {
			spec_error(s, "%s\"%.40s\" must be a string", where, k);
			continue;
		}
		apply_key(s, ex, k, v, where);
	}
}

/* Whether valid JSON text DATA[LEN] holds the escape \u0000 in a string: cJSON
 * decodes it into a NUL byte, and every string ends there ("A fox\u0000 walking"
 * would be sent, and paid for, as "A fox"). */
static bool has_nul_escape(const char *data, size_t len)
{
	bool in_string = false;
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '"') {
			in_string = !in_string;
		} else if (in_string && data[i] == '\\' && i + 1 < len) {
			if (data[i + 1] == 'u' && i + 5 < len && !memcmp(data + i + 2, "0000", 4))
				return true;
			i++; /* the escaped character */
		}
	}
	return false;
}

/* Parses one JSON object from DATA[LEN]; NULL with *err set when it is not JSON. */
static cJSON *parse_json(const char *data, size_t len, const char **err)
{
	const char *end = NULL;
	cJSON *j = cJSON_ParseWithLengthOpts(data, len, &end, false);
	if (!j) {
		*err = "is not valid JSON";
		return NULL;
	}
	if (has_nul_escape(data, len)) {
		cJSON_Delete(j);
		*err = "holds a NUL character (\\u0000) in a string; the text after it would be "
		       "lost, so it is refused";
		return NULL;
	}
	for (const char *p = end; p && p < data + len; p++) {
		if (!isspace((unsigned char)*p)) {
			cJSON_Delete(j);
			*err = "has text after the JSON object";
			return NULL;
		}
	}
	return j;
}

static bool blank(const char *line, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!isspace((unsigned char)line[i]))
			return false;
	return true;
}

/*
 * A batch whose jobs go on past line PROMPT_BATCH_MAX is refused whole, with one spec
 * (named after the file) saying so: the file goes to failed/ intact, nothing of it is
 * submitted, and the user splits it. Running the first lines and failing the rest
 * would spend money on part of a file the user may not have meant to drop whole, and
 * leave them to work out which lines ran. Blank lines after the last job do not count.
 * True when OUT now holds that spec.
 */
static bool batch_over_limit(const char *base, const char *data, size_t len, const struct conf *d,
                             struct prompt_file *out)
{
	const char *p = data, *end = data + len, *line;
	unsigned long lineno = 0, jobs = 0, first_beyond = 0;
	while (p < end) {
		size_t ll = next_line(&p, end, &line);
		lineno++;
		if (blank(line, ll))
			continue;
		jobs++;
		if (lineno > PROMPT_BATCH_MAX && !first_beyond)
			first_beyond = lineno;
	}
	if (!first_beyond)
		return false;
	struct job_spec *s = add_spec(out, d, base, 0);
	spec_error(s,
	           "the batch has %lu jobs and goes on past line %d, the most one .jsonl file "
	           "may have (line %lu is the first beyond it), so none of its jobs was "
	           "submitted; split it into files of at most %d lines",
	           jobs, PROMPT_BATCH_MAX, first_beyond, PROMPT_BATCH_MAX);
	return true;
}

/*
 * A storyboard: in a batch, "extend_of": "previous" is the job of the line before (the
 * one just added before S), named as that line will be named. The first job of a
 * batch has no line before it.
 */
static void link_previous(struct prompt_file *pf, struct job_spec *s, const char *where)
{
	if (!s->extend_of || strcmp(s->extend_of, PROMPT_EXTEND_PREVIOUS) != 0)
		return;
	if (pf->n < 2) {
		spec_error(s,
		           "%s'extend_of: %s' on the batch's first job: there is no line "
		           "before it to extend",
		           where, PROMPT_EXTEND_PREVIOUS);
		return;
	}
	set_str(&s->extend_of, pf->jobs[pf->n - 2].name);
}

/* A continuation runs on its source's model: a batch line extending an earlier line
 * (the nearest of that name) without naming a model takes that line's. */
static void inherit_model(struct prompt_file *pf, struct job_spec *s)
{
	if (!s->extend_of || s->model_set)
		return;
	for (size_t k = pf->n - 1; k-- > 0;) {
		if (!strcmp(pf->jobs[k].name, s->extend_of)) {
			set_str(&s->model, pf->jobs[k].model);
			return;
		}
	}
}

void prompt_parse(enum prompt_format fmt, const char *stem, const char *data, size_t len,
                  const struct conf *defaults, struct prompt_file *out)
{
	memset(out, 0, sizeof(*out));
	char *base = sanitize_name(stem);
	if (len >= 3 && !memcmp(data, "\xEF\xBB\xBF", 3)) {
		data += 3;
		len -= 3;
	}
	bool binary = memchr(data, '\0', len) != NULL;

	if (fmt == PROMPT_TXT || fmt == PROMPT_JSON) {
		struct job_spec *s = add_spec(out, defaults, base, 0);
		struct explicit ex = {0};
		if (binary) {
			spec_error(s, "the file contains binary data, not text");
		} else if (fmt == PROMPT_TXT) {
			parse_txt(s, &ex, data, len);
		} else {
			const char *err = NULL;
			cJSON *j = parse_json(data, len, &err);
			if (!j)
				spec_error(s, "the file %s", err);
			else
				parse_object(s, &ex, j, "");
			cJSON_Delete(j);
		}
		if (s->extend_of && !strcmp(s->extend_of, PROMPT_EXTEND_PREVIOUS))
			spec_error(s,
			           "'extend_of: %s' means the line before in a .jsonl storyboard; "
			           "in a file of its own, name the job or video it extends",
			           PROMPT_EXTEND_PREVIOUS);
		finish_spec(s, &ex, defaults);
		free(base);
		return;
	}

	/* A batch: one job object per line; blank lines are skipped but counted. A job
	 * past the line limit refuses the whole file before anything is parsed. */
	if (batch_over_limit(base, data, len, defaults, out)) {
		free(base);
		return;
	}
	const char *p = data, *end = data + len, *line;
	unsigned lineno = 0;
	while (p < end) {
		size_t ll = next_line(&p, end, &line);
		lineno++;
		if (blank(line, ll))
			continue;
		struct explicit ex = {0};
		char name[PROMPT_NAME_MAX + 32], where[32];
		prompt_name_suffixed(name, sizeof(name), base, lineno);
		bfmt(where, sizeof(where), "line %u: ", lineno);
		struct job_spec *s = add_spec(out, defaults, name, lineno);
		if (memchr(line, '\0', ll)) {
			spec_error(s, "%sbinary data, not a JSON object", where);
		} else {
			const char *err = NULL;
			cJSON *j = parse_json(line, ll, &err);
			if (!j)
				spec_error(s, "%sthe line %s", where, err);
			else
				parse_object(s, &ex, j, where);
			cJSON_Delete(j);
		}
		link_previous(out, s, where);
		finish_spec(s, &ex, defaults);
		inherit_model(out, s);
	}
	if (out->n == 0) {
		struct job_spec *s = add_spec(out, defaults, base, 0);
		spec_error(s, "the batch file has no jobs in it");
		finish_spec(s, &(struct explicit){0}, defaults);
	}
	free(base);
}

void prompt_file_release(struct prompt_file *pf)
{
	for (size_t i = 0; i < pf->n; i++) {
		struct job_spec *s = &pf->jobs[i];
		free(s->name);
		free(s->prompt);
		free(s->model);
		free(s->size);
		free(s->reference);
		free(s->remix_of);
		free(s->extend_of);
		free(s->error);
		free(s->last_frame);
		free(s->options);
	}
	free(pf->jobs);
	pf->jobs = NULL;
	pf->n = pf->cap = 0;
}

/* Appends ", ITEM" (or ITEM first) to the list being built in BUF[SIZE]. */
static void join(char *buf, size_t size, const char *item)
{
	size_t used = strlen(buf);
	if (used < size)
		bfmt(buf + used, size - used, "%s%s", used ? ", " : "", item);
}

int prompt_validate(const struct job_spec *s, const struct conf *c, char *why, size_t whylen)
{
	char allowed[512] = "";
	const struct model_def *m = conf_model(c, s->model);
	/* A model the table lacks is checked against the service's catalog, when the
	 * daemon has one (catalog.h): the table wins for the models it names. */
	const struct catalog *cat = catalog_current();
	if (!m && catalog_find(cat, s->model))
		return catalog_validate_spec(cat, s, why, whylen);
	if (!m) {
		for (size_t i = 0; i < c->n_models; i++)
			join(allowed, sizeof(allowed), c->models[i].name);
		for (size_t i = 0; cat && i < cat->n; i++)
			join(allowed, sizeof(allowed), cat->models[i].id);
		bfmt(why, whylen, "model '%s' is not configured (available: %s)", s->model,
		     allowed);
		return -1;
	}
	/* Both the size and the seconds, so that one round fixes both. */
	int rc = 0;
	why[0] = '\0';
	if (!conf_model_size(m, s->size)) {
		for (size_t i = 0; i < m->n_sizes; i++)
			join(allowed, sizeof(allowed), m->sizes[i].size);
		bfmt(why, whylen, "size %s is not available for %s (allowed: %s)", s->size,
		     s->model, allowed);
		rc = -1;
	}
	if (!conf_model_allows_seconds(m, s->seconds)) {
		allowed[0] = '\0';
		for (size_t i = 0; i < m->n_seconds; i++) {
			char num[16];
			bfmt(num, sizeof(num), "%u", m->seconds[i]);
			join(allowed, sizeof(allowed), num);
		}
		size_t used = strlen(why);
		if (used < whylen)
			bfmt(why + used, whylen - used,
			     "%s%u seconds is not available for %s (allowed: %s)", used ? "\n" : "",
			     s->seconds, s->model, allowed);
		rc = -1;
	}
	return rc;
}

/* The keys beyond the Videos API that the configured protocol cannot send. */
static void check_extras(struct job_spec *s, const struct conf *c)
{
	const struct proto *p = proto_find(c ? c->api_protocol : NULL);
	const struct {
		bool asked;
		enum proto_extra x;
	} extras[] = {{s->last_frame != NULL, PROTO_EXTRA_LAST_FRAME},
	              {s->has_seed, PROTO_EXTRA_SEED},
	              {s->audio != 0, PROTO_EXTRA_AUDIO},
	              {s->options != NULL, PROTO_EXTRA_OPTIONS},
	              {s->extend_of != NULL, PROTO_EXTRA_EXTEND}};
	for (size_t i = 0; p && i < ARRAY_LEN(extras); i++) {
		if (!extras[i].asked || (p->extras & extras[i].x))
			continue;
		char why[384];
		bfmt(why, sizeof(why),
		     "'%s' cannot be sent with api_protocol %s (only with a "
		     "protocol that takes it, such as openrouter)%s",
		     proto_extra_name(extras[i].x), p->name,
		     extras[i].x != PROTO_EXTRA_EXTEND || s->remix_of
		         ? ""
		         : ": the Videos API remixes a finished video but does not continue it; to "
		           "make a new video from one, use remix_of instead");
		append_error(&s->error, why);
	}
}

int prompt_check(struct job_spec *s, const struct conf *c)
{
	char why[1024];
	if (s->model && s->size && prompt_validate(s, c, why, sizeof(why)) != 0)
		append_error(&s->error, why);
	check_extras(s, c);
	return s->error ? -1 : 0;
}
