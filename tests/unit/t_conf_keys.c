/* t_conf_keys.c — the key table (conf_keys.c): its rows are well formed, every default
 * passes its own key's check and lands in struct conf as written, and the man page's
 * key list is safe roff with one entry per key. */
#include "conf.h"
#include "conf_keys.h"
#include "util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

static size_t type_size(enum conf_key_type t)
{
	switch (t) {
	case CONF_KEY_STR:
		return sizeof(char *);
	case CONF_KEY_INT:
		return sizeof(long);
	case CONF_KEY_UINT:
	case CONF_KEY_FLAGS:
		return sizeof(unsigned);
	case CONF_KEY_LLONG:
		return sizeof(long long);
	case CONF_KEY_DOUBLE:
		return sizeof(double);
	case CONF_KEY_BOOL:
		return sizeof(bool);
	case CONF_KEY_ENUM:
		return sizeof(int);
	case CONF_KEY_LIST:
		return sizeof(char **);
	case CONF_KEY_MODE:
		return sizeof(mode_t);
	}
	return 0;
}

static bool is_int(enum conf_key_type t)
{
	return t == CONF_KEY_INT || t == CONF_KEY_UINT || t == CONF_KEY_LLONG;
}

/* Names unique, help one short line, the field the size of the type, ranges sane. */
static void t_conf_keys_rows_are_well_formed(void **state)
{
	(void)state;
	assert_true(conf_keys_count > 40);
	assert_true(conf_keys_count <= CONF_KEYS_MAX);
	for (size_t i = 0; i < conf_keys_count; i++) {
		const struct conf_key *k = &conf_keys[i];
		print_message("key %s\n", k->name);
		assert_ptr_equal(conf_key_find(k->name), k);
		assert_non_null(k->help);
		assert_true(k->help[0] != '\0' && strlen(k->help) <= 100);
		assert_null(strchr(k->help, '\n'));
		if (!k->fill)
			assert_int_equal(k->size, type_size(k->type));
		if (k->type == CONF_KEY_ENUM || k->type == CONF_KEY_FLAGS)
			assert_non_null(k->words);
		if (k->type == CONF_KEY_FLAGS) {
			size_t n = 0;
			while (k->words[n])
				n++;
			assert_true(n <= 32); /* one bit each in an unsigned */
		}
		if (is_int(k->type)) {
			assert_true(k->min <= k->max);
			assert_non_null(k->def);
		}
		if (k->type == CONF_KEY_UINT)
			assert_true(k->min >= 0 && k->max <= UINT_MAX);
		if (k->type == CONF_KEY_INT)
			assert_true(k->min >= LONG_MIN && k->max <= LONG_MAX);
		if (k->type == CONF_KEY_INT || k->type == CONF_KEY_UINT ||
		    k->type == CONF_KEY_LLONG)
			assert_true(k->max <= LONG_MAX); /* libconfuse reads a long */
		if (k->env) /* conf_key_from_env takes strings and whole numbers */
			assert_true(k->type == CONF_KEY_STR || is_int(k->type));
		if (k->type == CONF_KEY_LIST)
			assert_true(k->count_off != 0);
		if (k->flags & (CONF_KEY_PATH | CONF_KEY_EMPTY_NULL))
			assert_int_equal(k->type, CONF_KEY_STR);
	}
	assert_null(conf_key_find("no_such_key"));
}

/* Each default, read by libconfuse from the table's options, passes its key's check. */
static void t_conf_keys_defaults_pass_their_own_checks(void **state)
{
	(void)state;
	cfg_opt_t opts[CONF_KEYS_MAX + 1];
	conf_keys_opts(opts);
	opts[conf_keys_count] = (cfg_opt_t)CFG_END();
	cfg_t *cfg = cfg_init(opts, CFGF_NONE);
	assert_non_null(cfg);
	char msg[600];
	for (size_t i = 0; i < conf_keys_count; i++) {
		const struct conf_key *k = &conf_keys[i];
		cfg_opt_t *opt = cfg_getopt(cfg, k->name);
		assert_non_null(opt);
		for (unsigned j = 0; j < opt->nvalues; j++) {
			msg[0] = '\0';
			if (conf_key_check(k, opt, j, msg, sizeof msg))
				fail_msg("default of %s fails its check: %s", k->name, msg);
		}
	}
	cfg_free(cfg);
}

/* A configuration of defaults only has every field as the table says. */
static void t_conf_keys_defaults_land_in_struct_conf(void **state)
{
	(void)state;
	static const char *const env[] = {
	    "OPENAI_BASE_URL", "VIDEO_STORAGE_PATH", "MAX_POLL_TIMEOUT", "DEFAULT_MODEL",
	    "DEFAULT_SIZE",    "DEFAULT_SECONDS",    "MAX_FILE_SIZE"};
	for (size_t i = 0; i < ARRAY_LEN(env); i++)
		unsetenv(env[i]);
	char err[1024];
	struct conf *c = conf_load_keyless(NULL, err, sizeof err);
	assert_non_null(c);
	for (size_t i = 0; i < conf_keys_count; i++) {
		const struct conf_key *k = &conf_keys[i];
		const char *f = (const char *)c + k->off;
		print_message("key %s\n", k->name);
		if (k->fill)
			continue;
		switch (k->type) {
		case CONF_KEY_INT:
			assert_int_equal(*(const long *)f, strtoll(k->def, NULL, 10));
			break;
		case CONF_KEY_UINT:
			assert_int_equal(*(const unsigned *)f, strtoll(k->def, NULL, 10));
			break;
		case CONF_KEY_LLONG:
			assert_int_equal(*(const long long *)f, strtoll(k->def, NULL, 10));
			break;
		case CONF_KEY_DOUBLE:
			assert_true(*(const double *)f == strtod(k->def, NULL));
			break;
		case CONF_KEY_BOOL:
			assert_int_equal(*(const bool *)f, !strcmp(k->def, "true"));
			break;
		case CONF_KEY_MODE:
			assert_int_equal(*(const mode_t *)f, strtoul(k->def, NULL, 8));
			break;
		case CONF_KEY_ENUM:
			assert_string_equal(k->words[*(const int *)f], k->def);
			break;
		case CONF_KEY_FLAGS: /* every default is all the words */
			for (unsigned b = 0; k->words[b]; b++)
				assert_true(*(const unsigned *)f & (1u << b));
			break;
		case CONF_KEY_LIST:
			assert_null(k->def);
			assert_int_equal(*(const size_t *)((const char *)c + k->count_off), 0);
			assert_non_null(*(char *const *)f);
			break;
		case CONF_KEY_STR: {
			const char *s = *(char *const *)f;
			if (!k->def || (!k->def[0] && (k->flags & CONF_KEY_EMPTY_NULL))) {
				/* failed_dir gets OUTBOX/failed when unset */
				if (strcmp(k->name, "failed_dir") != 0)
					assert_null(s);
				break;
			}
			/* Folders are made absolute: the default is the end of the path. */
			assert_non_null(s);
			size_t n = strlen(s), d = strlen(k->def);
			assert_true(n >= d);
			assert_string_equal(s + n - d, k->def);
			break;
		}
		}
	}
	assert_true(c->duplicate_skip); /* duplicate_policy = "skip", its custom fill */
	conf_free(c);
}

/* The man page's list: one .B line per key, hyphens and quotes escaped, and no text
 * line that roff would take for a request. */
static void t_conf_keys_man_list_is_safe_roff(void **state)
{
	(void)state;
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	assert_non_null(out);
	conf_keys_print_man(out);
	assert_int_equal(fclose(out), 0);
	size_t entries = 0;
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		if (!strncmp(line, ".B ", 3))
			entries++;
		else if (line[0] == '.' || line[0] == '\'')
			assert_string_equal(line, ".TP");
		assert_null(strchr(line, '"'));
		for (char *p = line; (p = strchr(p, '-')) != NULL; p++)
			assert_true(p > line && p[-1] == '\\');
	}
	assert_int_equal(entries, conf_keys_count);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_conf_keys_rows_are_well_formed),
	    cmocka_unit_test(t_conf_keys_defaults_pass_their_own_checks),
	    cmocka_unit_test(t_conf_keys_defaults_land_in_struct_conf),
	    cmocka_unit_test(t_conf_keys_man_list_is_safe_roff),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
