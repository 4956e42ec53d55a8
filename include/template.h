/*
 * template.h — prompt templates: text with {variable} placeholders that a prompt file
 * fills from its front matter ("template: cinematic" plus "subject: a lighthouse").
 *
 * The seed's four starters are built in (cinematic, product, text, nature); sorad.conf
 * may define more, or redefine these, with  template "name" { text = "..." }.
 * A variable name is lowercase letters, digits and '_' (front-matter keys are
 * lowercased), and may not be one of the job keys (model, size, ...). "{{" and "}}"
 * stand for literal braces.
 */
#ifndef SORAD_TEMPLATE_H
#define SORAD_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

struct template_def {
	const char *name;
	const char *text;
};

/* The built-in starters, N_OUT of them. */
const struct template_def *template_builtins(size_t *n_out);

/* True when NAME is a job key of prompt files, and so cannot be a variable. */
bool template_reserved(const char *name);

/* Checks TEXT's placeholders: 0, or -1 with the problem in why[whylen]. */
int template_check(const char *text, char *why, size_t whylen);

/*
 * Expands TEXT with N variables KEYS[i] = VALUES[i]. Returns a new string (caller
 * frees), or NULL with the first missing variable named in why[whylen], e.g.
 * "template 'cinematic' needs 'setting': add a line 'setting: ...' to the front matter".
 * NAME is the template's name, for that message.
 */
char *template_expand(const char *name, const char *text, char *const *keys, char *const *values,
                      size_t n, char *why, size_t whylen);

#endif
