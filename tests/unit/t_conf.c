/* t_conf.c — sorad.conf parsing, defaults, validation with line numbers, environment
 * overrides, the API key, the model table and cost estimates. */
#include "conf.h"
#include "confpath.h"
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
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/t_conf.XXXXXX";
static char cwd[PATH_MAX];

static const char *const env_vars[] = {
    "OPENAI_API_KEY", "OPENAI_BASE_URL", "VIDEO_STORAGE_PATH", "MAX_POLL_TIMEOUT", "DEFAULT_MODEL",
    "DEFAULT_SIZE",   "DEFAULT_SECONDS", "MAX_FILE_SIZE",      "SORAD_CONF",
};

static int group_setup(void **state)
{
	(void)state;
	if (!getcwd(cwd, sizeof cwd))
		return -1;
	return mkdtemp(dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	char cmd[256];
	if (bfmt(cmd, sizeof cmd, "rm -rf '%s'", dir))
		return -1;
	return system(cmd) == 0 ? 0 : -1;
}

/* Every test starts from a clean environment: the developer's own key must not leak in. */
static int clean_env(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(env_vars); i++)
		unsetenv(env_vars[i]);
	return 0;
}

/* Writes TEXT to DIR/NAME (creating DIR/sub when NAME contains it); returns the path. */
static const char *write_file(const char *name, const char *text)
{
	static char path[PATH_MAX];
	char sub[PATH_MAX];
	assert_int_equal(bfmt(sub, sizeof sub, "%s/sub", dir), 0);
	mkdir(sub, 0700);
	assert_int_equal(bfmt(path, sizeof path, "%s/%s", dir, name), 0);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	return path;
}

static struct conf *load_ok(const char *path)
{
	char err[4096];
	struct conf *c = conf_load(path, err, sizeof err);
	if (!c)
		fail_msg("expected %s to load, got: %s", path ? path : "(defaults)", err);
	return c;
}

/* Loads TEXT from conf file NAME and expects an error containing "NAME:WANT". */
static void expect_error_in(const char *name, const char *text, const char *want)
{
	char err[4096], full[512];
	const char *path = write_file(name, text);
	struct conf *c = conf_load(path, err, sizeof err);
	if (c) {
		conf_free(c);
		fail_msg("expected an error \"%s\" for:\n%s\nbut the file loaded", want, text);
	}
	assert_int_equal(bfmt(full, sizeof full, "%s:%s", path, want), 0);
	if (!strstr(err, full))
		fail_msg("expected the error to contain \"%s\"\nfor:\n%s\ngot: %s", full, text,
		         err);
}

static void expect_error(const char *text, const char *want)
{
	expect_error_in("bad.conf", text, want);
}

static void assert_path(const char *got, const char *base, const char *rel)
{
	char want[PATH_MAX];
	assert_int_equal(bfmt(want, sizeof want, "%s/%s", base, rel), 0);
	assert_string_equal(got, want);
}

static void t_conf_defaults_without_file(void **state)
{
	(void)state;
	struct conf *c = load_ok(NULL);
	assert_null(c->path);
	assert_string_equal(c->api_base, "https://api.openai.com/v1");
	assert_null(c->api_key_file);
	assert_null(c->api_key);
	assert_int_equal(c->auth_style, AUTH_BEARER);
	assert_int_equal(c->n_extra_headers, 0);
	assert_int_equal(c->connect_timeout_ms, 5000);
	assert_int_equal(c->request_timeout_ms, 60000);
	assert_int_equal(c->max_retries, 3);
	assert_int_equal(c->retry_base_ms, 500);
	assert_int_equal(c->retry_max_ms, 8000);
	assert_path(c->inbox, cwd, "inbox");
	assert_path(c->outbox, cwd, "videos");
	assert_path(c->failed_dir, cwd, "videos/failed");
	assert_path(c->state_dir, cwd, "state");
	assert_path(c->log_dir, cwd, "logs");
	assert_string_equal(c->default_model, "sora-2");
	assert_string_equal(c->default_size, "1280x720");
	assert_int_equal(c->default_seconds, 4);
	assert_int_equal(c->max_in_flight, 8);
	assert_int_equal(c->poll_initial, 2);
	assert_int_equal(c->poll_max, 10);
	assert_int_equal(c->job_timeout, 600);
	assert_int_equal(c->retry_after_max_s, 600);
	assert_int_equal(c->download_timeout_s, 1800);
	assert_int_equal(c->download_max_mb, 0);
	assert_int_equal(c->max_file_size, 10485760);
	assert_int_equal(c->settle_ms, 500);
	assert_int_equal(c->outbox_mode, 0644);
	assert_int_equal(conf_outbox_dir_mode(c), 0755);
	assert_int_equal(c->watch_mode, WATCH_AUTO);
	assert_string_equal(c->listen, "127.0.0.1:4444");
	assert_null(c->status_token);
	assert_true(c->notify);
	assert_string_equal(c->log_level, "info");
	assert_int_equal(c->log_keep_days, 14);
	assert_true(c->daily_cap_usd == 0 && c->monthly_cap_usd == 0);
	assert_int_equal(c->daily_cap_seconds, 0);
	assert_int_equal(c->monthly_cap_seconds, 0);
	assert_true(c->approve_over_usd == 0);

	assert_int_equal(c->n_models, 2);
	const struct model_def *m = conf_model(c, "sora-2");
	assert_non_null(m);
	assert_int_equal(m->n_sizes, 2);
	assert_int_equal(m->n_seconds, 5);
	assert_true(conf_model_allows_seconds(m, 20));
	assert_false(conf_model_allows_seconds(m, 10));
	assert_null(conf_model_size(m, "1920x1080"));
	const struct model_size *s = conf_model_size(m, "720x1280");
	assert_non_null(s);
	assert_int_equal(s->width, 720);
	assert_int_equal(s->height, 1280);
	m = conf_model(c, "sora-2-pro");
	assert_non_null(m);
	assert_int_equal(m->n_sizes, 6);
	assert_true(conf_model_size(m, "1792x1024")->price_per_second == 0.50);
	assert_true(conf_model_size(m, "1080x1920")->price_per_second == 0.70);
	conf_free(c);
}

/* The shipped sorad.conf must describe exactly the built-in defaults. */
static void t_conf_shipped_file_equals_builtin_defaults(void **state)
{
	(void)state;
	const char *src = getenv("SORAD_SOURCE_DIR");
	char path[PATH_MAX];
	if (!src)
		skip();
	assert_int_equal(bfmt(path, sizeof path, "%s/sorad.conf", src), 0);
	struct conf *f = load_ok(path), *d = load_ok(NULL);
	assert_string_equal(f->api_base, d->api_base);
	assert_path(f->inbox, src, "inbox");
	assert_path(f->failed_dir, src, "videos/failed");
	assert_int_equal(f->n_extra_headers, 0);
	assert_int_equal(f->poll_max, d->poll_max);
	assert_int_equal(f->max_file_size, d->max_file_size);
	assert_int_equal(f->outbox_mode, d->outbox_mode);
	assert_string_equal(f->listen, d->listen);
	assert_int_equal(f->n_models, d->n_models);
	for (size_t i = 0; i < d->n_models; i++) {
		const struct model_def *a = &f->models[i], *b = &d->models[i];
		assert_string_equal(a->name, b->name);
		assert_int_equal(a->n_seconds, b->n_seconds);
		assert_memory_equal(a->seconds, b->seconds, b->n_seconds * sizeof *b->seconds);
		assert_int_equal(a->n_sizes, b->n_sizes);
		for (size_t j = 0; j < b->n_sizes; j++) {
			assert_string_equal(a->sizes[j].size, b->sizes[j].size);
			assert_true(a->sizes[j].price_per_second == b->sizes[j].price_per_second);
		}
	}
	conf_free(f);
	conf_free(d);
}

static void t_conf_full_file_overrides_every_key(void **state)
{
	(void)state;
	write_file("key", "sk-test-0123456789\n");
	const char *path = write_file(
	    "full.conf", "api_base = \"http://127.0.0.1:9/v1/\"\n"
	                 "api_key_file = \"key\"\n"
	                 "auth_style = \"api-key\"\n"
	                 "extra_headers = {\"X-One: 1\", \"OpenAI-Project: proj_x\", \"Expect:\"}\n"
	                 "connect_timeout_ms = 100\n"
	                 "request_timeout_ms = 200\n"
	                 "max_retries = 0\n"
	                 "retry_base_ms = 10\n"
	                 "retry_max_ms = 20\n"
	                 "inbox = \"/srv/in\"\n"
	                 "outbox = \"/srv/out\"\n"
	                 "failed_dir = \"/srv/bad\"\n"
	                 "state_dir = \"/srv/state\"\n"
	                 "log_dir = \"/srv/log\"\n"
	                 "default_model = \"sora-2-pro\"\n"
	                 "default_size = \"1920x1080\"\n"
	                 "default_seconds = 12\n"
	                 "max_in_flight = 2\n"
	                 "poll_initial = 1\n"
	                 "poll_max = 30\n"
	                 "job_timeout = 900\n"
	                 "max_file_size = 1024\n"
	                 "settle_ms = 0\n"
	                 "watch_mode = \"poll\"\n"
	                 "listen = \"[::1]:8080\"\n"
	                 "status_token = \"tok\"\n"
	                 "notify = false\n"
	                 "log_level = \"debug\"\n"
	                 "log_keep_days = 3\n"
	                 "daily_cap_usd = 5.5\n"
	                 "monthly_cap_usd = 50\n"
	                 "daily_cap_seconds = 60\n"
	                 "monthly_cap_seconds = 600\n"
	                 "approve_over_usd = 2.25\n");
	struct conf *c = load_ok(path);
	assert_string_equal(c->path, path);
	assert_string_equal(c->api_base, "http://127.0.0.1:9/v1"); /* trailing slash dropped */
	assert_path(c->api_key_file, dir, "key");
	assert_string_equal(c->api_key, "sk-test-0123456789");
	assert_int_equal(c->auth_style, AUTH_API_KEY);
	assert_int_equal(c->n_extra_headers, 3);
	assert_string_equal(c->extra_headers[1], "OpenAI-Project: proj_x");
	assert_string_equal(c->extra_headers[2], "Expect:");
	assert_int_equal(c->connect_timeout_ms, 100);
	assert_int_equal(c->request_timeout_ms, 200);
	assert_int_equal(c->max_retries, 0);
	assert_int_equal(c->retry_base_ms, 10);
	assert_int_equal(c->retry_max_ms, 20);
	assert_string_equal(c->inbox, "/srv/in");
	assert_string_equal(c->outbox, "/srv/out");
	assert_string_equal(c->failed_dir, "/srv/bad");
	assert_string_equal(c->state_dir, "/srv/state");
	assert_string_equal(c->log_dir, "/srv/log");
	assert_string_equal(c->default_model, "sora-2-pro");
	assert_string_equal(c->default_size, "1920x1080");
	assert_int_equal(c->default_seconds, 12);
	assert_int_equal(c->max_in_flight, 2);
	assert_int_equal(c->poll_initial, 1);
	assert_int_equal(c->poll_max, 30);
	assert_int_equal(c->job_timeout, 900);
	assert_int_equal(c->max_file_size, 1024);
	assert_int_equal(c->settle_ms, 0);
	assert_int_equal(c->watch_mode, WATCH_POLL);
	assert_string_equal(c->listen, "[::1]:8080");
	assert_string_equal(c->status_token, "tok");
	assert_false(c->notify);
	assert_string_equal(c->log_level, "debug");
	assert_int_equal(c->log_keep_days, 3);
	assert_true(c->daily_cap_usd == 5.5);
	assert_true(c->monthly_cap_usd == 50);
	assert_int_equal(c->daily_cap_seconds, 60);
	assert_int_equal(c->monthly_cap_seconds, 600);
	assert_true(c->approve_over_usd == 2.25);
	assert_int_equal(c->n_models, 2); /* no model section: built-ins */
	conf_free(c);
}

static void t_conf_unknown_key_names_its_line(void **state)
{
	(void)state;
	expect_error("inbox = \"in\"\n\n# comment\nfrobnicate = 3\n",
	             "4: no such option 'frobnicate'");
	expect_error("model \"m\" {\n  size \"1x1\" { price = 1 }\n  colour = \"red\"\n}\n",
	             "3: no such option 'colour'");
}

/* libconfuse 3.3 alone miscounts lines after comments and rejects them in lists. */
static void t_conf_comments_keep_line_numbers(void **state)
{
	(void)state;
	expect_error("# one\n# two\n// three\n/* four\n   five */\nfrobnicate = 1\n",
	             "6: no such option 'frobnicate'");
	expect_error("inbox = \"in\" # trailing\n\nlisten = \"x\"\n", "3: listen = \"x\"");
	expect_error("extra_headers = {\n  \"X-A: 1\", # first\n  # \"X-B: 2\",\n  \"bad\"\n}\n",
	             "4: extra_headers, entry 2");

	/* '#' and '//' inside quotes are text, not comments */
	const char *path = write_file(
	    "hash.conf", "extra_headers = {\"X-Tag: a#b//c\", # why\n \"X-Q: \\\"#\\\"\"}\n"
	                 "status_token = 'to#ken'\n/* */ api_base = \"http://h/v1\" // gateway\n");
	struct conf *c = load_ok(path);
	assert_int_equal(c->n_extra_headers, 2);
	assert_string_equal(c->extra_headers[0], "X-Tag: a#b//c");
	assert_string_equal(c->extra_headers[1], "X-Q: \"#\"");
	assert_string_equal(c->status_token, "to#ken");
	assert_string_equal(c->api_base, "http://h/v1");
	conf_free(c);
}

static void t_conf_wrong_type_names_its_line(void **state)
{
	(void)state;
	expect_error("\nmax_in_flight = many\n",
	             "2: invalid integer value for option 'max_in_flight'");
	expect_error("notify = true\nnotify = perhaps\n",
	             "2: invalid boolean value for option 'notify'");
	expect_error("\n\n\ndaily_cap_usd = lots\n", "4: invalid floating point value");
}

static void t_conf_bad_enum_names_its_line(void **state)
{
	(void)state;
	expect_error("\nauth_style = \"basic\"\n",
	             "2: auth_style = \"basic\": must be \"bearer\" or \"api-key\"");
	expect_error("watch_mode = \"fanotify\"\n", "1: watch_mode = \"fanotify\": must be");
	expect_error("\n\nlog_level = \"verbose\"\n",
	             "3: log_level = \"verbose\": must be \"debug\", \"info\"");
}

static void t_conf_bad_numbers_name_their_line(void **state)
{
	(void)state;
	expect_error("max_in_flight = 0\n", "1: max_in_flight = 0: must be at least 1");
	expect_error("\nsettle_ms = -1\n", "2: settle_ms = -1: must not be negative");
	expect_error("\nmax_retries = 1000\n", "2: max_retries = 1000: must be between 0 and 100");
	expect_error("approve_over_usd = -0.5\n", "1: approve_over_usd = -0.5: must be");
}

static void t_conf_outbox_mode_is_octal_and_keeps_owner_rw(void **state)
{
	(void)state;
	struct conf *c = load_ok(write_file("mode.conf", "outbox_mode = 0640\n"));
	assert_int_equal(c->outbox_mode, 0640);
	assert_int_equal(conf_outbox_dir_mode(c), 0750);
	conf_free(c);
	c = load_ok(write_file("mode.conf", "outbox_mode = \"600\"\n"));
	assert_int_equal(c->outbox_mode, 0600);
	assert_int_equal(conf_outbox_dir_mode(c), 0700);
	conf_free(c);
	expect_error("\noutbox_mode = 0648\n", "2: outbox_mode = \"0648\": must be an octal mode");
	expect_error("outbox_mode = 04755\n", "1: outbox_mode = \"04755\": must be an octal mode");
	expect_error("outbox_mode = \"-644\"\n",
	             "1: outbox_mode = \"-644\": must be an octal mode");
	expect_error("outbox_mode = 0444\n", "1: outbox_mode = \"0444\": must let the owner read");
}

static void t_conf_poll_initial_above_poll_max_names_the_later_line(void **state)
{
	(void)state;
	expect_error("poll_max = 4\n\npoll_initial = 8\n",
	             "3: poll_initial (8 s) must not exceed poll_max (4 s)");
	expect_error("poll_initial = 30\n",
	             "1: poll_initial (30 s) must not exceed poll_max (10 s)");
	expect_error("retry_base_ms = 9000\n",
	             "1: retry_base_ms (9000) must not exceed retry_max_ms");
}

static void t_conf_bad_listen_names_its_line(void **state)
{
	(void)state;
	expect_error("\nlisten = \"4444\"\n", "2: listen = \"4444\": must be HOST:PORT");
	expect_error("listen = \"127.0.0.1:04\"\n", "1: listen = \"127.0.0.1:04\": needs a port");
	expect_error("listen = \"127.0.0.1:65536\"\n",
	             "1: listen = \"127.0.0.1:65536\": needs a port");
	expect_error("listen = \"::1:4444\"\n", "1: listen = \"::1:4444\": has an invalid host");
	expect_error("listen = \"[::1]\"\n", "1: listen = \"[::1]\": must be HOST:PORT");
	expect_error("listen = \"localhost:http\"\n",
	             "1: listen = \"localhost:http\": needs a port");
}

static void t_conf_good_listen_forms_load(void **state)
{
	(void)state;
	const char *good[] = {"", "[::1]:4444", "0.0.0.0:80", "localhost:65535",
	                      "[fe80::1%eth0]:1"};
	char text[128];
	for (size_t i = 0; i < ARRAY_LEN(good); i++) {
		assert_int_equal(bfmt(text, sizeof text, "listen = \"%s\"\n", good[i]), 0);
		struct conf *c = load_ok(write_file("listen.conf", text));
		assert_string_equal(c->listen, good[i]);
		conf_free(c);
	}
}

static void t_conf_bad_api_base_names_its_line(void **state)
{
	(void)state;
	expect_error("\n\napi_base = \"ftp://example.com\"\n",
	             "3: api_base = \"ftp://example.com\": must start with http:// or https://");
	expect_error("api_base = \"https://\"\n", "1: api_base = \"https://\": has no host name");
	expect_error("api_base = \"https://a b/v1\"\n",
	             "1: api_base = \"https://a b/v1\": must be a plain URL");
}

static void t_conf_bad_extra_header_names_line_and_entry(void **state)
{
	(void)state;
	expect_error("extra_headers = {\"X-Ok: 1\",\n  \"No colon here\"}\n",
	             "2: extra_headers, entry 2: must be \"Name: value\"");
	/* libconfuse turns \r\n inside quotes into real line breaks: header injection. */
	expect_error("extra_headers = {\"X-A: b\\r\\nX-Injected: 1\"}\n",
	             "1: extra_headers, entry 1: value must not contain line breaks");
	expect_error("extra_headers = {\"Bad Name: 1\"}\n", "1: extra_headers, entry 1: must be");
}

static void t_conf_header_values_are_not_echoed(void **state)
{
	(void)state;
	char err[1024];
	const char *path =
	    write_file("secret.conf", "extra_headers = {\"x-litellm-api-key sk-hidden\"}\n");
	assert_null(conf_load(path, err, sizeof err));
	assert_null(strstr(err, "sk-hidden"));
}

static void t_conf_default_size_not_allowed_for_model_names_its_line(void **state)
{
	(void)state;
	expect_error("\ndefault_size = \"1920x1080\"\n",
	             "2: default_size \"1920x1080\" is not a size of model \"sora-2\"");
	expect_error("default_model = \"sora-3\"\n",
	             "1: default_model \"sora-3\" is not in the model table (configured: sora-2, "
	             "sora-2-pro)");
	expect_error("\n\ndefault_seconds = 10\n",
	             "3: default_seconds 10 is not a duration of model \"sora-2\"");
	expect_error("default_size = \"big\"\n", "1: default_size = \"big\": must be WIDTHxHEIGHT");
}

static void t_conf_bad_model_sections_name_their_line(void **state)
{
	(void)state;
	expect_error("model \"m\" {\n  size \"1280x\" { price = 1 }\n}\n",
	             "2: size \"1280x\": must be WIDTHxHEIGHT");
	expect_error("model \"m\" {\n  size \"0x720\" { price = 1 }\n}\n",
	             "2: size \"0x720\": must be WIDTHxHEIGHT");
	expect_error("model \"m\" {\n  size \"1x1\" {\n    price = -0.1\n  }\n}\n",
	             "3: price = -0.1: must be dollars per second, not below 0");
	expect_error("model \"m\" {\n\n  size \"1x1\" { }\n}\n", "3: size \"1x1\": needs a price");
	expect_error("model \"m\" {\n  seconds = {4,\n    0}\n  size \"1x1\" { price = 1 }\n}\n",
	             "3: seconds: 0 is not a positive number of seconds");
	expect_error("model \"m\" {\n  seconds = {}\n  size \"1x1\" { price = 1 }\n}\n",
	             "4: model \"m\": seconds must list at least one duration");
	expect_error("\nmodel \"empty\" {\n}\n",
	             "3: model \"empty\": needs at least one size section");
	expect_error("model \"a b\" {\n  size \"1x1\" { price = 1 }\n}\n",
	             "3: model \"a b\": name must not contain spaces");
	expect_error(
	    "model \"m\" {\n  size \"1x1\" { price = 1 }\n  size \"1x1\" { price = 2 }\n}\n",
	    "3: found duplicate title '1x1'");
	expect_error("model \"m\" {\n  size \"1x1\" { price = cheap }\n}\n",
	             "2: invalid floating point value for option 'price'");
}

static void t_conf_reports_every_bad_value_in_one_run(void **state)
{
	(void)state;
	char err[4096];
	const char *path =
	    write_file("many.conf", "max_in_flight = 0\nwatch_mode = \"x\"\nlisten = \"nope\"\n");
	assert_null(conf_load(path, err, sizeof err));
	assert_non_null(strstr(err, ":1: max_in_flight"));
	assert_non_null(strstr(err, ":2: watch_mode"));
	assert_non_null(strstr(err, ":3: listen"));
}

static void t_conf_custom_model_table_replaces_builtins(void **state)
{
	(void)state;
	const char *path = write_file("models.conf", "default_model = \"veo-3\"\n"
	                                             "default_size = \"1920x1080\"\n"
	                                             "default_seconds = 8\n"
	                                             "model \"veo-3\" {\n"
	                                             "  seconds = {8}\n"
	                                             "  size \"1920x1080\" { price = 0.75 }\n"
	                                             "  size \"1080x1920\" { price = 0.125 }\n"
	                                             "}\n"
	                                             "model \"openai/sora-2\" {\n"
	                                             "  size \"1280x720\" { price = 0 }\n"
	                                             "}\n");
	struct conf *c = load_ok(path);
	assert_int_equal(c->n_models, 2);
	assert_null(conf_model(c, "sora-2"));
	assert_null(conf_model(c, "sora-2-pro"));
	const struct model_def *m = conf_model(c, "veo-3");
	assert_non_null(m);
	assert_int_equal(m->n_seconds, 1);
	assert_true(conf_model_allows_seconds(m, 8));
	assert_false(conf_model_allows_seconds(m, 4));
	assert_int_equal(conf_model_size(m, "1080x1920")->height, 1920);
	/* a model without seconds gets the usual durations */
	m = conf_model(c, "openai/sora-2");
	assert_non_null(m);
	assert_int_equal(m->n_seconds, 5);
	assert_true(conf_model_allows_seconds(m, 16));
	assert_true(conf_estimate_cost(c, "openai/sora-2", "1280x720", 4) == 0);
	conf_free(c);

	/* with a custom table the built-in default_model no longer exists */
	expect_error("model \"veo-3\" {\n  size \"1x1\" { price = 1 }\n}\n",
	             " default_model \"sora-2\" is not in the model table (configured: veo-3)");
}

static void t_conf_cost_estimates(void **state)
{
	(void)state;
	struct conf *c = load_ok(NULL);
	assert_true(conf_estimate_cost(c, "sora-2", "1280x720", 4) > 0.3999 &&
	            conf_estimate_cost(c, "sora-2", "1280x720", 4) < 0.4001);
	assert_true(conf_estimate_cost(c, "sora-2-pro", "1792x1024", 12) > 5.999 &&
	            conf_estimate_cost(c, "sora-2-pro", "1792x1024", 12) < 6.001);
	assert_true(conf_estimate_cost(c, "sora-2-pro", "1920x1080", 20) > 13.999 &&
	            conf_estimate_cost(c, "sora-2-pro", "1920x1080", 20) < 14.001);
	assert_true(conf_estimate_cost(c, "sora-2", "1920x1080", 4) < 0);
	assert_true(conf_estimate_cost(c, "sora-9", "1280x720", 4) < 0);
	assert_true(conf_estimate_cost(c, NULL, "1280x720", 4) < 0);
	assert_null(conf_model(NULL, "sora-2"));
	assert_null(conf_model_size(NULL, "1280x720"));
	assert_false(conf_model_allows_seconds(NULL, 4));
	conf_free(c);
}

static void t_conf_env_overrides_apply_after_file(void **state)
{
	(void)state;
	const char *path =
	    write_file("env.conf", "outbox = \"/srv/out\"\njob_timeout = 100\nmax_file_size = 5\n");
	setenv("OPENAI_BASE_URL", "http://127.0.0.1:4000/v1", 1);
	setenv("VIDEO_STORAGE_PATH", "rel/videos", 1);
	setenv("MAX_POLL_TIMEOUT", "300", 1);
	setenv("DEFAULT_MODEL", "sora-2-pro", 1);
	setenv("DEFAULT_SIZE", "1024x1792", 1);
	setenv("DEFAULT_SECONDS", "16", 1);
	setenv("MAX_FILE_SIZE", "2048", 1);
	setenv("OPENAI_API_KEY", "  sk-from-env\n", 1);
	struct conf *c = load_ok(path);
	assert_string_equal(c->api_base, "http://127.0.0.1:4000/v1");
	assert_path(c->outbox, cwd, "rel/videos"); /* the environment's paths: the cwd */
	assert_path(c->failed_dir, cwd, "rel/videos/failed");
	assert_int_equal(c->job_timeout, 300);
	assert_string_equal(c->default_model, "sora-2-pro");
	assert_string_equal(c->default_size, "1024x1792");
	assert_int_equal(c->default_seconds, 16);
	assert_int_equal(c->max_file_size, 2048);
	assert_string_equal(c->api_key, "sk-from-env");
	conf_free(c);

	/* empty means unset, as with systemd's Environment=VAR= */
	clean_env(NULL);
	setenv("DEFAULT_MODEL", "", 1);
	c = load_ok(NULL);
	assert_string_equal(c->default_model, "sora-2");
	conf_free(c);
}

static void expect_env_error(const char *var, const char *value, const char *want)
{
	char err[2048];
	clean_env(NULL);
	setenv(var, value, 1);
	struct conf *c = conf_load(NULL, err, sizeof err);
	if (c) {
		conf_free(c);
		fail_msg("expected %s=%s to be rejected", var, value);
	}
	if (strncmp(err, var, strlen(var)) || !strstr(err, want))
		fail_msg("expected an error naming %s and saying \"%s\", got: %s", var, want, err);
	unsetenv(var);
}

static void t_conf_malformed_env_override_names_the_variable(void **state)
{
	(void)state;
	expect_env_error("MAX_POLL_TIMEOUT", "ten", "is not a whole number");
	expect_env_error("MAX_POLL_TIMEOUT", "0", "is not a whole number between 1");
	expect_env_error("DEFAULT_SECONDS", "-4", "is not a whole number");
	expect_env_error("MAX_FILE_SIZE", "10MB", "is not a whole number");
	expect_env_error("MAX_FILE_SIZE", "99999999999999999999999", "is not a whole number");
	expect_env_error("DEFAULT_SIZE", "1280*720", "must be WIDTHxHEIGHT");
	expect_env_error("DEFAULT_MODEL", "sora 2", "must not contain spaces");
	expect_env_error("OPENAI_BASE_URL", "api.openai.com", "must start with http://");
	/* a value valid alone but not for the model table names the variable too */
	expect_env_error("DEFAULT_SIZE", "1920x1080", "default_size \"1920x1080\" is not a size");
	expect_env_error("DEFAULT_MODEL", "veo-3",
	                 "default_model \"veo-3\" is not in the model table");
	expect_env_error("DEFAULT_SECONDS", "10", "default_seconds 10 is not a duration");
}

static void t_conf_relative_paths_resolve_against_config_dir(void **state)
{
	(void)state;
	char sub[PATH_MAX];
	const char *path = write_file(
	    "sub/rel.conf", "inbox = \"drop\"\noutbox = \"./out/\"\nstate_dir = \"../state\"\n"
	                    "log_dir = \"/var/log/sorad\"\nfailed_dir = \"out//failed\"\n");
	assert_int_equal(bfmt(sub, sizeof sub, "%s/sub", dir), 0);
	struct conf *c = load_ok(path);
	assert_path(c->inbox, sub, "drop");
	assert_path(c->outbox, sub, "out");
	assert_path(c->failed_dir, sub, "out/failed");
	assert_path(c->state_dir, sub, "../state");
	assert_string_equal(c->log_dir, "/var/log/sorad");
	conf_free(c);

	/* a config path given relative to the cwd works the same */
	assert_int_equal(chdir(dir), 0);
	c = load_ok("sub/rel.conf");
	assert_path(c->inbox, sub, "drop");
	assert_path(c->path, sub, "rel.conf");
	conf_free(c);
	assert_int_equal(chdir(cwd), 0);
}

/* libconfuse expands ${VAR} and ${VAR:-default} inside double quotes: systemd's
 * $CREDENTIALS_DIRECTORY can hold the key file. */
static void t_conf_expands_environment_references_in_strings(void **state)
{
	(void)state;
	setenv("T_CONF_CRED", "/run/credentials/sorad.service", 1);
	const char *path = write_file(
	    "envref.conf",
	    "api_key_file = \"${T_CONF_CRED}/nokey\"\nlog_dir = \"${T_CONF_UNSET:-/var/log/x}\"\n");
	char err[1024];
	assert_null(conf_load(path, err, sizeof err));
	assert_non_null(
	    strstr(err, "api_key_file /run/credentials/sorad.service/nokey: No such file"));
	unsetenv("T_CONF_CRED");
	path = write_file("envref.conf", "log_dir = \"${T_CONF_UNSET:-/var/log/x}\"\n");
	struct conf *c = load_ok(path);
	assert_string_equal(c->log_dir, "/var/log/x");
	conf_free(c);
}

static void t_conf_api_key_file_is_read_trimmed_and_wins_over_env(void **state)
{
	(void)state;
	write_file("sub/api-key", "  sk-file-key \r\n\n");
	const char *path = write_file("sub/key.conf", "api_key_file = \"api-key\"\n");
	setenv("OPENAI_API_KEY", "sk-env-key", 1);
	struct conf *c = load_ok(path);
	assert_string_equal(c->api_key, "sk-file-key");
	conf_free(c);
}

static void t_conf_missing_key_is_not_an_error(void **state)
{
	(void)state;
	struct conf *c = load_ok(NULL);
	assert_null(c->api_key);
	conf_free(c);
}

static void t_conf_bad_api_key_file_names_file_and_line(void **state)
{
	(void)state;
	char want[PATH_MAX + 64];
	assert_int_equal(bfmt(want, sizeof want, "3: api_key_file %s/sub/nokey: No such file", dir),
	                 0);
	expect_error_in("sub/k1.conf", "\n\napi_key_file = \"nokey\"\n", want);
	write_file("sub/empty-key", "\n  \n");
	assert_int_equal(bfmt(want, sizeof want, "1: api_key_file %s/sub/empty-key: is empty", dir),
	                 0);
	expect_error_in("sub/k2.conf", "api_key_file = \"empty-key\"\n", want);
	write_file("sub/two-words", "sk-one sk-two\n");
	assert_int_equal(
	    bfmt(want, sizeof want, "1: api_key_file %s/sub/two-words: contains spaces", dir), 0);
	expect_error_in("sub/k3.conf", "api_key_file = \"two-words\"\n", want);
	assert_int_equal(
	    bfmt(want, sizeof want, "1: api_key_file %s/sub: is not a regular file", dir), 0);
	expect_error_in("sub/k4.conf", "api_key_file = \".\"\n", want);

	char big[5000];
	memset(big, 'k', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	write_file("sub/big-key", big);
	assert_int_equal(bfmt(want, sizeof want,
	                      "1: api_key_file %s/sub/big-key: is larger than 4096 bytes", dir),
	                 0);
	expect_error_in("sub/k5.conf", "api_key_file = \"big-key\"\n", want);
}

/* The commands' loading: a key file this user cannot read is no error, and says why. */
static void t_conf_keyless_load_tolerates_an_unreadable_key_file(void **state)
{
	(void)state;
	const char *path = write_file("sub/kl.conf", "api_key_file = \"nokey\"\n");
	char err[1024];
	struct conf *c = conf_load(path, err, sizeof err);
	assert_null(c); /* the daemon and check-config insist */
	c = conf_load_keyless(path, err, sizeof err);
	assert_non_null(c);
	assert_null(c->api_key);
	assert_non_null(strstr(c->api_key_unread, "No such file"));
	conf_free(c);
	write_file("sub/api-key", "sk-file-key\n");
	path = write_file("sub/kl2.conf", "api_key_file = \"api-key\"\n");
	c = conf_load_keyless(path, err, sizeof err);
	assert_non_null(c);
	assert_string_equal(c->api_key, "sk-file-key");
	assert_null(c->api_key_unread);
	conf_free(c);
}

static void t_conf_bad_env_key_is_reported_without_its_value(void **state)
{
	(void)state;
	char err[1024];
	setenv("OPENAI_API_KEY", "sk-half one", 1);
	assert_null(conf_load(NULL, err, sizeof err));
	assert_non_null(strstr(err, "OPENAI_API_KEY"));
	assert_null(strstr(err, "sk-half"));
}

static void t_conf_missing_or_unreadable_file_is_an_error(void **state)
{
	(void)state;
	char err[1024];
	assert_null(conf_load("/nonexistent/sorad.conf", err, sizeof err));
	assert_string_equal(err, "/nonexistent/sorad.conf: cannot open: No such file or directory");
	assert_null(conf_load(dir, err, sizeof err));
	assert_non_null(strstr(err, "is a directory"));
	/* a NULL or empty err buffer is allowed */
	assert_null(conf_load("/nonexistent/sorad.conf", NULL, 0));
	expect_error("inbox = \"unterminated\n\n", "3: premature end of file");
}

/* The discovery order of confpath.h: -c, $SORAD_CONF, ./sorad.conf, the XDG user file
 * (~/.config when XDG_CONFIG_HOME is unset or relative), the system file. */
static void t_conf_path_discovery_order(void **state)
{
	(void)state;
	char xdg[PATH_MAX], home[PATH_MAX], want[PATH_MAX + 64];
	assert_int_equal(chdir(dir), 0);
	unlink("sorad.conf");
	bfmt(xdg, sizeof xdg, "%s/xdg", dir);
	bfmt(home, sizeof home, "%s/home", dir);
	assert_int_equal(mkdir(xdg, 0700), 0);
	assert_int_equal(mkdir(home, 0700), 0);
	unsetenv("SORAD_CONF");
	char *old_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
	setenv("XDG_CONFIG_HOME", xdg, 1);
	setenv("HOME", home, 1);
	/* nothing anywhere: the system file if this machine has one, else the defaults */
	const char *sys = conf_path_resolve(NULL);
	if (sys)
		assert_non_null(strstr(sys, "/sorad/sorad.conf"));
	assert_non_null(strstr(conf_path_searched(), "/xdg/sorad/sorad.conf"));
	/* ~/.config is used when XDG_CONFIG_HOME is relative */
	setenv("XDG_CONFIG_HOME", "relative", 1);
	bfmt(want, sizeof want, "%s/.config", home);
	assert_int_equal(mkdir(want, 0700), 0);
	bfmt(want, sizeof want, "%s/.config/sorad", home);
	assert_int_equal(mkdir(want, 0700), 0);
	bfmt(want, sizeof want, "%s/.config/sorad/sorad.conf", home);
	write_file("home/.config/sorad/sorad.conf", "");
	assert_string_equal(conf_path_resolve(NULL), want);
	/* XDG_CONFIG_HOME wins over ~/.config */
	setenv("XDG_CONFIG_HOME", xdg, 1);
	bfmt(want, sizeof want, "%s/sorad", xdg);
	assert_int_equal(mkdir(want, 0700), 0);
	bfmt(want, sizeof want, "%s/sorad/sorad.conf", xdg);
	write_file("xdg/sorad/sorad.conf", "");
	assert_string_equal(conf_path_resolve(NULL), want);
	/* ./sorad.conf wins over the user's file */
	write_file("sorad.conf", "");
	assert_string_equal(conf_path_resolve(NULL), "sorad.conf");
	/* $SORAD_CONF wins over ./sorad.conf (empty means unset, as systemd's VAR=) */
	setenv("SORAD_CONF", "", 1);
	assert_string_equal(conf_path_resolve(NULL), "sorad.conf");
	setenv("SORAD_CONF", "/etc/sorad/sorad.conf", 1);
	assert_string_equal(conf_path_resolve(NULL), "/etc/sorad/sorad.conf");
	/* and -c over everything */
	assert_string_equal(conf_path_resolve("mine.conf"), "mine.conf");
	unsetenv("SORAD_CONF");
	unsetenv("XDG_CONFIG_HOME");
	if (old_home)
		setenv("HOME", old_home, 1);
	else
		unsetenv("HOME");
	free(old_home);
	unlink("sorad.conf");
	assert_int_equal(chdir(cwd), 0);
}

/* Templates and notify_events: loaded, and their mistakes named at their lines. */
static void t_conf_templates_and_notify_events(void **state)
{
	(void)state;
	struct conf *d = load_ok(NULL);
	assert_int_equal(d->n_templates, 0);
	assert_int_equal(d->notify_events, NOTIFY_EV_READY | NOTIFY_EV_FAILED | NOTIFY_EV_CAP |
	                                       NOTIFY_EV_DOUBT | NOTIFY_EV_INBOX);
	conf_free(d);
	const char *path =
	    write_file("tmpl.conf", "notify_events = {failed}\n"
	                            "template \"ad\" {\n  text = \"Slow pan over {product}\"\n}\n");
	struct conf *c = load_ok(path);
	assert_int_equal(c->notify_events, NOTIFY_EV_FAILED);
	assert_int_equal(c->n_templates, 1);
	assert_string_equal(c->templates[0].name, "ad");
	assert_string_equal(c->templates[0].text, "Slow pan over {product}");
	conf_free(c);
	expect_error("\nnotify_events = {ready, done}\n",
	             "2: notify_events = \"done\": must be \"ready\", \"failed\", \"cap\", "
	             "\"doubt\" or \"inbox\"");
	expect_error("\n\ntemplate \"x\" {\n  text = \"Shot of {Subject}\"\n}\n",
	             "5: template \"x\": '{Subject}' is not a placeholder");
	expect_error("template \"x\" {\n}\n", "2: template \"x\": needs a text");
	expect_error("template \"x\" {\n  text = \"A {size} shot\"\n}\n",
	             "3: template \"x\": {size} is a job key");
}

#define T(f) cmocka_unit_test_setup(f, clean_env)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(t_conf_defaults_without_file),
	    T(t_conf_templates_and_notify_events),
	    T(t_conf_shipped_file_equals_builtin_defaults),
	    T(t_conf_full_file_overrides_every_key),
	    T(t_conf_unknown_key_names_its_line),
	    T(t_conf_comments_keep_line_numbers),
	    T(t_conf_wrong_type_names_its_line),
	    T(t_conf_bad_enum_names_its_line),
	    T(t_conf_bad_numbers_name_their_line),
	    T(t_conf_outbox_mode_is_octal_and_keeps_owner_rw),
	    T(t_conf_poll_initial_above_poll_max_names_the_later_line),
	    T(t_conf_bad_listen_names_its_line),
	    T(t_conf_good_listen_forms_load),
	    T(t_conf_bad_api_base_names_its_line),
	    T(t_conf_bad_extra_header_names_line_and_entry),
	    T(t_conf_header_values_are_not_echoed),
	    T(t_conf_default_size_not_allowed_for_model_names_its_line),
	    T(t_conf_bad_model_sections_name_their_line),
	    T(t_conf_reports_every_bad_value_in_one_run),
	    T(t_conf_custom_model_table_replaces_builtins),
	    T(t_conf_cost_estimates),
	    T(t_conf_env_overrides_apply_after_file),
	    T(t_conf_malformed_env_override_names_the_variable),
	    T(t_conf_relative_paths_resolve_against_config_dir),
	    T(t_conf_expands_environment_references_in_strings),
	    T(t_conf_api_key_file_is_read_trimmed_and_wins_over_env),
	    T(t_conf_missing_key_is_not_an_error),
	    T(t_conf_bad_api_key_file_names_file_and_line),
	    T(t_conf_keyless_load_tolerates_an_unreadable_key_file),
	    T(t_conf_bad_env_key_is_reported_without_its_value),
	    T(t_conf_missing_or_unreadable_file_is_an_error),
	    T(t_conf_path_discovery_order),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
