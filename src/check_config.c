/*
 * check_config.c — `sorad check-config`: loads a configuration as the daemon would
 * (conf.c), says what is wrong or prints a summary, and with --probe asks the service
 * what it can do (probe.h). Also the hidden `sorad conf-keys`, which prints the key
 * table (conf_keys.c) as text or as the key list of sorad.conf(5).
 */
#include "check_config.h"
#include "caps.h"
#include "conf.h"
#include "conf_keys.h"
#include "confpath.h"
#include "derive.h"
#include "probe.h"
#include "proto.h"
#include "util.h"

#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

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

/* The word of ENUM key NAME for VALUE, as the file writes it (conf_keys.c). */
static const char *word_of(const char *name, unsigned value)
{
	const struct conf_key *k = conf_key_find(name);
	for (unsigned i = 0; k && k->words && k->words[i]; i++)
		if (i == value)
			return k->words[i];
	return "?";
}

static void print_summary(const struct conf *c, const char *shown)
{
	char p[64];
	printf("%s: configuration OK\n", shown);
	printf("  api_base       %s (auth: %s, %zu extra header%s)\n", c->api_base,
	       word_of("auth_style", c->auth_style), c->n_extra_headers,
	       c->n_extra_headers == 1 ? "" : "s");
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
	       word_of("watch_mode", c->watch_mode));
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
	printf("  notify         %s (events:", c->notify ? "on" : "off");
	const struct conf_key *ev = conf_key_find("notify_events");
	for (unsigned i = 0; ev && ev->words[i]; i++)
		if (c->notify_events & (1u << i))
			printf(" %s", ev->words[i]);
	printf(")\n");
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

int check_config_main(int argc, char **argv)
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

int conf_keys_main(int argc, char **argv)
{
	if (argc == 1) {
		conf_keys_print_text(stdout);
		return EX_OK;
	}
	if (argc == 2 && !strcmp(argv[1], "--man")) {
		conf_keys_print_man(stdout);
		return EX_OK;
	}
	fprintf(stderr, "usage: sorad conf-keys [--man]\n");
	return EX_USAGE;
}
