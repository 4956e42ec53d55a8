/*
 * confpath.h — where sorad's configuration file is found when no -c FILE is given.
 *
 * The order (sorad(1), FILES): -c FILE, then $SORAD_CONF, then ./sorad.conf, then
 * $XDG_CONFIG_HOME/sorad/sorad.conf (~/.config when XDG_CONFIG_HOME is unset or not
 * absolute), then SYSCONFDIR/sorad/sorad.conf (/etc/sorad/sorad.conf for the prefixes
 * / and /usr, what the system unit uses). None found: the built-in defaults.
 * With --verbose, every command says on stderr which file it took and why.
 */
#ifndef SORAD_CONFPATH_H
#define SORAD_CONFPATH_H

#include <stdbool.h>

/* --verbose: conf_path_resolve() reports its choice on stderr. */
void conf_path_set_verbose(bool on);
bool conf_path_verbose(void);

/* The file to load: EXPLICIT (from -c) when not NULL, else the first of the order
 * above that exists, else NULL (built-in defaults). The result is EXPLICIT, a getenv()
 * string or a static buffer: valid until the next call, owned by no caller. */
const char *conf_path_resolve(const char *explicit_path);

/* The places looked at, in order, as one line for messages ("$SORAD_CONF,
 * ./sorad.conf, /home/u/.config/sorad/sorad.conf, /etc/sorad/sorad.conf"). */
const char *conf_path_searched(void);

#endif
