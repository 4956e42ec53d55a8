/*
 * check_config.h — the commands about the configuration itself (check_config.c).
 */
#ifndef SORAD_CHECK_CONFIG_H
#define SORAD_CHECK_CONFIG_H

/* `sorad check-config [-c FILE] [--probe]`: validates and reports (with --probe, also
 * asks the service what it can do: probe.h); returns a sysexits code. ARGV[0] is the
 * command word. */
int check_config_main(int argc, char **argv);

/* `sorad conf-keys [--man]`, not listed in the usage: every key of sorad.conf with its
 * type, default and range, or (--man) the key list of sorad.conf(5) in roff, which
 * tests/integration/conf_keys_man.sh compares with the page. Returns a sysexits code. */
int conf_keys_main(int argc, char **argv);

#endif
