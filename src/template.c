/* template.c — prompt templates (see template.h). */
#include "template.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* The seed's "Built-in Prompt Templates", with its [placeholders] as {variables}. */
static const struct template_def builtins[] = {
    {"cinematic", "Wide shot of {subject} in {setting}, {lighting}, {camera}"},
    {"product", "Close-up of {product} on {surface}, {lighting}, soft focus background"},
    {"text", "A video of the words '{text}' in {style} letters, {animation}"},
    {"nature", "{shot} of {subject} in {environment}, {weather}"},
};

static const char *const reserved[] = {"prompt",    "model",    "seconds", "size",
                                       "reference", "remix_of", "name",    "template"};

const struct template_def *template_builtins(size_t *n_out)
{
	*n_out = ARRAY_LEN(builtins);
	return builtins;
}

bool template_reserved(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(reserved); i++)
		if (!strcmp(reserved[i], name))
			return true;
	return false;
}

static bool var_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/*
 * Walks TEXT: calls LIT for literal runs and VAR for each placeholder. Returns 0, or
 * -1 with the problem in why (unbalanced or bad placeholder).
 */
struct walk {
	void (*lit)(struct walk *w, const char *s, size_t n);
	int (*var)(struct walk *w, const char *name, size_t n);
	char *why;
	size_t whylen;
};

static int walk(const char *text, struct walk *w)
{
	const char *p = text;
	while (*p) {
		if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
			if (w->lit)
				w->lit(w, p, 1);
			p += 2;
			continue;
		}
		if (*p == '}') {
			bfmt(w->why, w->whylen, "a '}' without its '{' (write '}}' for a brace)");
			return -1;
		}
		if (*p != '{') {
			size_t n = strcspn(p, "{}");
			if (w->lit)
				w->lit(w, p, n);
			p += n;
			continue;
		}
		const char *end = strchr(p + 1, '}');
		size_t n = end ? (size_t)(end - p - 1) : 0;
		bool ok = end && n > 0 && n <= 64;
		for (size_t i = 0; ok && i < n; i++)
			ok = var_char(p[1 + i]);
		if (!ok) {
			bfmt(w->why, w->whylen,
			     "'%.20s' is not a placeholder: write {name} with lowercase letters, "
			     "digits and '_' (or '{{' for a brace)",
			     p);
			return -1;
		}
		if (w->var && w->var(w, p + 1, n) != 0)
			return -1;
		p = end + 1;
	}
	return 0;
}

static int check_var(struct walk *w, const char *name, size_t n)
{
	char v[80];
	bfmt(v, sizeof(v), "%.*s", (int)n, name);
	if (template_reserved(v)) {
		bfmt(w->why, w->whylen, "{%s} is a job key, not a variable: choose another name",
		     v);
		return -1;
	}
	return 0;
}

int template_check(const char *text, char *why, size_t whylen)
{
	if (!text || !*text) {
		bfmt(why, whylen, "the template text is empty");
		return -1;
	}
	struct walk w = {.var = check_var, .why = why, .whylen = whylen};
	return walk(text, &w);
}

struct expansion {
	struct walk w;
	const char *name;
	char *const *keys, *const *values;
	size_t n;
	char *out;
	size_t len, cap;
};

static void append(struct expansion *e, const char *s, size_t n)
{
	if (e->len + n + 1 > e->cap) {
		e->cap = (e->len + n + 1) * 2;
		e->out = xrealloc(e->out, e->cap);
	}
	memcpy(e->out + e->len, s, n);
	e->len += n;
	e->out[e->len] = '\0';
}

static void on_lit(struct walk *w, const char *s, size_t n)
{
	append((struct expansion *)w, s, n);
}

static int on_var(struct walk *w, const char *name, size_t n)
{
	struct expansion *e = (struct expansion *)w;
	for (size_t i = 0; i < e->n; i++) {
		if (strlen(e->keys[i]) == n && !memcmp(e->keys[i], name, n)) {
			append(e, e->values[i], strlen(e->values[i]));
			return 0;
		}
	}
	bfmt(w->why, w->whylen,
	     "template '%s' needs the variable '%.*s': add a line '%.*s: ...' to the front "
	     "matter",
	     e->name, (int)n, name, (int)n, name);
	return -1;
}

char *template_expand(const char *name, const char *text, char *const *keys, char *const *values,
                      size_t n, char *why, size_t whylen)
{
	struct expansion e = {.w = {.lit = on_lit, .var = on_var, .why = why, .whylen = whylen},
	                      .name = name,
	                      .keys = keys,
	                      .values = values,
	                      .n = n};
	append(&e, "", 0);
	if (walk(text, &e.w) != 0) {
		free(e.out);
		return NULL;
	}
	return e.out;
}
