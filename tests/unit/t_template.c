/* t_template.c — prompt templates: placeholders checked and expanded, the seed's four
 * starters built in, sorad.conf's own, and prompt files naming a template. */
#include "conf.h"
#include "prompt.h"
#include "template.h"
#include "util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

static struct conf *C;

static int group_setup(void **state)
{
	(void)state;
	char err[512];
	C = conf_load(NULL, err, sizeof(err));
	if (!C)
		return -1;
	/* A user-defined template, as sorad.conf would give it. */
	free(C->templates);
	C->templates = xcalloc(1, sizeof(*C->templates));
	C->templates[0].name = xstrdup("ad");
	C->templates[0].text = xstrdup("Slow pan over {product}, {{logo}} at the end");
	C->n_templates = 1;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	conf_free(C);
	return 0;
}

static void parse_txt(const char *text, struct prompt_file *pf)
{
	prompt_parse(PROMPT_TXT, "t", text, strlen(text), C, pf);
	assert_int_equal(pf->n, 1);
}

static void t_template_expands_and_escapes(void **state)
{
	(void)state;
	char *k[] = {"subject", "setting"}, *v[] = {"a lighthouse", "a storm"};
	char why[256];
	char *out =
	    template_expand("x", "{subject} in {setting}, {{braces}}", k, v, 2, why, sizeof(why));
	assert_non_null(out);
	assert_string_equal(out, "a lighthouse in a storm, {braces}");
	free(out);
	assert_null(template_expand("x", "{subject} at {time}", k, v, 2, why, sizeof(why)));
	assert_non_null(strstr(why, "template 'x' needs the variable 'time'"));
}

static void t_template_check_rejects_bad_placeholders(void **state)
{
	(void)state;
	char why[256];
	assert_int_equal(template_check("Wide shot of {subject}", why, sizeof(why)), 0);
	assert_int_equal(template_check("", why, sizeof(why)), -1);
	assert_int_equal(template_check("open {subject", why, sizeof(why)), -1);
	assert_int_equal(template_check("close }", why, sizeof(why)), -1);
	assert_int_equal(template_check("{Two Words}", why, sizeof(why)), -1);
	assert_int_equal(template_check("{model}", why, sizeof(why)), -1);
	assert_non_null(strstr(why, "job key"));
	size_t n;
	const struct template_def *b = template_builtins(&n);
	assert_int_equal(n, 4);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(template_check(b[i].text, why, sizeof(why)), 0);
}

static void t_template_prompt_file_expands_builtin(void **state)
{
	(void)state;
	struct prompt_file pf;
	parse_txt("---\ntemplate: cinematic\nsubject: a lighthouse\nsetting: a winter storm\n"
	          "lighting: golden hour\ncamera: slow dolly in\nseconds: 8\n---\n",
	          &pf);
	assert_null(pf.jobs[0].error);
	assert_string_equal(pf.jobs[0].prompt, "Wide shot of a lighthouse in a winter storm, "
	                                       "golden hour, slow dolly in");
	assert_int_equal(pf.jobs[0].seconds, 8);
	prompt_file_release(&pf);
	/* The text after the front matter adds to the expansion. */
	parse_txt("---\ntemplate: ad\nproduct: a red sneaker\n---\nMusic swells.\n", &pf);
	assert_null(pf.jobs[0].error);
	assert_string_equal(pf.jobs[0].prompt,
	                    "Slow pan over a red sneaker, {logo} at the end. Music swells.");
	prompt_file_release(&pf);
	/* .json: the variables are members beside "template". */
	const char *json = "{\"template\": \"text\", \"text\": \"HELLO\", \"style\": \"neon\", "
	                   "\"animation\": \"flickering on\"}";
	prompt_parse(PROMPT_JSON, "j", json, strlen(json), C, &pf);
	assert_null(pf.jobs[0].error);
	assert_string_equal(pf.jobs[0].prompt,
	                    "A video of the words 'HELLO' in neon letters, flickering on");
	prompt_file_release(&pf);
}

static void t_template_unknown_template_and_missing_variable_fail(void **state)
{
	(void)state;
	struct prompt_file pf;
	parse_txt("---\ntemplate: western\nsubject: a horse\n---\n", &pf);
	assert_non_null(pf.jobs[0].error);
	assert_non_null(strstr(pf.jobs[0].error, "unknown template 'western' (available: "
	                                         "cinematic, product, text, nature, ad)"));
	prompt_file_release(&pf);
	parse_txt("---\ntemplate: nature\nshot: aerial shot\nsubject: a waterfall\n---\n", &pf);
	assert_non_null(pf.jobs[0].error);
	assert_non_null(strstr(pf.jobs[0].error, "template 'nature' needs the variable "
	                                         "'environment'"));
	prompt_file_release(&pf);
	/* Without a template, a stray key is still the typo it always was. */
	parse_txt("---\nmodle: sora-2\n---\nA cat.\n", &pf);
	assert_non_null(pf.jobs[0].error);
	assert_non_null(strstr(pf.jobs[0].error, "line 2: unknown key 'modle'"));
	prompt_file_release(&pf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_template_expands_and_escapes),
	    cmocka_unit_test(t_template_check_rejects_bad_placeholders),
	    cmocka_unit_test(t_template_prompt_file_expands_builtin),
	    cmocka_unit_test(t_template_unknown_template_and_missing_variable_fail),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
