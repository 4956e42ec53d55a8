/* confpath.c — where the configuration file is found (see confpath.h). */
#include "confpath.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef SORAD_SYSCONFDIR
#define SORAD_SYSCONFDIR "/etc"
#endif

static bool verbose;
static char user_path[4096];
static char searched[4096 + 256];

void conf_path_set_verbose(bool on)
{
	verbose = on;
}

bool conf_path_verbose(void)
{
	return verbose;
}

/* $XDG_CONFIG_HOME/sorad/sorad.conf, else ~/.config/sorad/sorad.conf; "" when neither
 * XDG_CONFIG_HOME nor HOME is an absolute path (the XDG rule: a relative value is
 * ignored). */
static const char *user_conf(void)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");
	user_path[0] = '\0';
	if (xdg && xdg[0] == '/')
		bfmt(user_path, sizeof(user_path), "%s/sorad/sorad.conf", xdg);
	else if (home && home[0] == '/')
		bfmt(user_path, sizeof(user_path), "%s/.config/sorad/sorad.conf", home);
	return user_path;
}

static const char *system_conf(void)
{
	return SORAD_SYSCONFDIR "/sorad/sorad.conf";
}

/* A candidate is taken when it exists; one that exists but cannot be read is still
 * taken, so that conf_load says why instead of sorad silently falling back. */
static bool exists(const char *path)
{
	struct stat st;
	if (stat(path, &st) == 0)
		return true;
	if (errno != ENOENT && errno != ENOTDIR && verbose)
		fprintf(stderr, "sorad: %s: %s\n", path, strerror(errno));
	return errno != ENOENT && errno != ENOTDIR;
}

const char *conf_path_searched(void)
{
	const char *u = user_conf();
	bfmt(searched, sizeof(searched), "$SORAD_CONF, ./sorad.conf, %s%s%s", u, u[0] ? ", " : "",
	     system_conf());
	return searched;
}

static const char *report(const char *path, const char *why)
{
	if (verbose) {
		if (path)
			fprintf(stderr, "sorad: configuration %s (%s)\n", path, why);
		else
			fprintf(stderr,
			        "sorad: no configuration file (looked at %s): built-in defaults\n",
			        conf_path_searched());
	}
	return path;
}

const char *conf_path_resolve(const char *explicit_path)
{
	if (explicit_path)
		return report(explicit_path, "-c");
	const char *env = getenv("SORAD_CONF");
	if (env && env[0])
		return report(env, "$SORAD_CONF");
	if (exists("sorad.conf"))
		return report("sorad.conf", "in the current directory");
	const char *u = user_conf();
	if (u[0] && exists(u))
		return report(u, "the user's configuration");
	if (exists(system_conf()))
		return report(system_conf(), "the system configuration");
	return report(NULL, NULL);
}
