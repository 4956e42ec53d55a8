/*
 * main.c — sorad's entry point: parses the command word and hands over to the
 * module that implements it.
 */
#include "cli.h"
#include "conf.h"
#include "daemon.h"

#include <stdio.h>
#include <string.h>
#include <sysexits.h>

static void usage(FILE *out)
{
	fprintf(out,
		"usage: sorad [-c FILE] [-f]                 run the daemon\n"
		"       sorad submit FILE...                 copy prompt files into the inbox\n"
		"       sorad list [--json] [--state S]      list the jobs\n"
		"       sorad show [--json] ID|NAME          everything about one job\n"
		"       sorad delete [--purge] ID|NAME       delete a video (and its outputs)\n"
		"       sorad remix ID|NAME PROMPT           remix a finished video\n"
		"       sorad approve NAME                   release a file held by approve_over_usd\n"
		"       sorad resolve ID|NAME --adopt VIDEO_ID|--resubmit|--drop\n"
		"                                            decide a job in doubt\n"
		"       sorad usage [--json]                 seconds and cost by model\n"
		"       sorad check-config [-c FILE]         validate a configuration file\n"
		"       sorad --version | --help\n"
		"Every command takes -c FILE and --help.\n");
}

int main(int argc, char **argv)
{
	if (argc >= 2 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))) {
		printf("sorad %s\n", SORAD_VERSION);
		return EX_OK;
	}
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		usage(stdout);
		return EX_OK;
	}
	if (argc >= 2 && !strcmp(argv[1], "check-config"))
		return conf_check_main(argc - 1, argv + 1);
	if (argc >= 2 && cli_is_command(argv[1]))
		return cli_main(argc - 1, argv + 1);
	if (argc >= 2 && argv[1][0] != '-') {
		fprintf(stderr, "sorad: unknown command '%s'\n", argv[1]);
		usage(stderr);
		return EX_USAGE;
	}
	return daemon_main(argc, argv);
}
