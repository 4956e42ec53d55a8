/*
 * main.c — sorad's entry point: parses the command word and hands over to the
 * module that implements it.
 */
#include "check_config.h"
#include "cli.h"
#include "conf.h"
#include "confpath.h"
#include "daemon.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: sorad [-c FILE] [-f]                 run the daemon\n"
	    "       sorad submit FILE...                 copy prompt files into the inbox\n"
	    "       sorad list [--json] [--state S]      list the jobs\n"
	    "       sorad show [--json] ID|NAME          everything about one job\n"
	    "       sorad delete [--purge] ID|NAME       delete a video (and its outputs)\n"
	    "       sorad remix ID|NAME PROMPT           remix a finished video\n"
	    "       sorad approve NAME                   release a file held by approve_over_usd\n"
	    "       sorad reject NAME                    refuse a held job (nothing spent)\n"
	    "       sorad cancel ID|NAME                 stop a job (queued, held or running)\n"
	    "       sorad retry ID|NAME                  run a failed job again, same name\n"
	    "       sorad resolve ID|NAME --adopt VIDEO_ID|--resubmit|--drop\n"
	    "                                            decide a job in doubt\n"
	    "       sorad watch [ID|NAME]                follow progress live until done\n"
	    "       sorad usage [--json]                 seconds and cost by model\n"
	    "       sorad models [--json]                the service's model catalog\n"
	    "       sorad check-config [-c FILE]         validate a configuration file\n"
	    "       sorad help [COMMAND]                 this, or one command's options\n"
	    "       sorad --version | --help\n"
	    "Every command takes -c FILE, -v (--verbose: which configuration file is used)\n"
	    "and --help, before or after the command word. Without -c: $SORAD_CONF, else\n"
	    "./sorad.conf, else ~/.config/sorad/sorad.conf, else the system's sorad.conf.\n");
}

/* Drops -v/--verbose wherever it is (up to a "--") and turns on conf_path's report. */
static int take_verbose(int argc, char **argv)
{
	int out = 1;
	bool rest = false;
	for (int i = 1; i < argc; i++) {
		if (!rest && !strcmp(argv[i], "--"))
			rest = true;
		if (!rest && (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose"))) {
			conf_path_set_verbose(true);
			continue;
		}
		argv[out++] = argv[i];
	}
	argv[out] = NULL;
	return out;
}

/* Global options may come before the command word (`sorad -c FILE list`): moves the
 * first word that is neither an option nor the value of -c/--config to argv[1], the
 * options before it after it. Returns that word's new index (1), or 0 when there is
 * none (the daemon). */
static int command_first(int argc, char **argv)
{
	int at = 0;
	for (int i = 1; i < argc && !at; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--"))
			break;
		if (a[0] != '-' || a[1] == '\0')
			at = i;
		else if (!strcmp(a, "-c") || !strcmp(a, "--config"))
			i++;
	}
	if (at <= 1)
		return at;
	char *word = argv[at];
	memmove(argv + 2, argv + 1, (size_t)(at - 1) * sizeof(*argv));
	argv[1] = word;
	return 1;
}

/* `sorad help [COMMAND]`. */
static int help(int argc, char **argv)
{
	if (argc < 2) {
		usage(stdout);
		return EX_OK;
	}
	if (argc > 2) {
		fprintf(stderr, "sorad help: expects at most one command\n");
		return EX_USAGE;
	}
	char *args[] = {argv[1], "--help", NULL};
	if (!strcmp(argv[1], "check-config"))
		return check_config_main(2, args);
	if (cli_is_command(argv[1]))
		return cli_main(2, args);
	if (!strcmp(argv[1], "run") || !strcmp(argv[1], "daemon")) {
		usage(stdout);
		return EX_OK;
	}
	fprintf(stderr, "sorad help: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EX_USAGE;
}

int main(int argc, char **argv)
{
	argc = take_verbose(argc, argv);
	if (command_first(argc, argv) == 1) {
		if (!strcmp(argv[1], "help"))
			return help(argc - 1, argv + 1);
		if (!strcmp(argv[1], "check-config"))
			return check_config_main(argc - 1, argv + 1);
		if (!strcmp(argv[1], "conf-keys")) /* hidden: the man page's key list */
			return conf_keys_main(argc - 1, argv + 1);
		if (cli_is_command(argv[1]))
			return cli_main(argc - 1, argv + 1);
		fprintf(stderr, "sorad: unknown command '%s' ('sorad help' lists them)\n", argv[1]);
		usage(stderr);
		return EX_USAGE;
	}
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (!strcmp(argv[i], "--version") || !strcmp(argv[i], "-V")) {
			printf("sorad %s\n", SORAD_VERSION);
			return EX_OK;
		}
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return EX_OK;
		}
	}
	return daemon_main(argc, argv);
}
