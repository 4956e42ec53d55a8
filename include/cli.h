/*
 * cli.h — sorad's commands besides running the daemon and check-config:
 *
 *   submit FILE…           copy prompt files (and reference images) into the inbox
 *   list [--json] [--state S]
 *   show ID|NAME [--json]
 *   delete ID|NAME [--purge]
 *   remix ID|NAME PROMPT
 *   approve NAME
 *   resolve ID|NAME (--adopt VIDEO_ID | --resubmit | --drop)
 *   cancel ID|NAME, reject NAME, retry ID|NAME
 *   watch [ID|NAME]
 *   usage [--json]
 *   models [--json]        the service's model catalog (catalog.h)
 *
 * The daemon stays the only writer of the state directory. Read-only commands read
 * the job records directly (records are replaced atomically, so a reader never sees
 * half of one; unlike store_load_all, the reader here never moves or deletes
 * anything). submit and remix only write into the inbox (temp name, then rename).
 * approve, resolve and delete --purge change state: with a daemon running they are
 * handed to it over the control socket (control.h); with none they take the state
 * lock themselves and act directly (resolve stores its decision in the job's record
 * as "resolution", which the daemon applies at start). Remote deletes are API calls, not state, and
 * are made by the command itself (api_client_run).
 *
 * Exit codes are sysexits.h: EX_USAGE for bad arguments, EX_NOINPUT for an unknown
 * id or file, EX_DATAERR for a file sorad would refuse or a resolve that does not fit
 * the job (not in doubt, a video id unusable or another job's), EX_CONFIG,
 * EX_UNAVAILABLE when the API or the daemon cannot be reached, EX_TEMPFAIL for "not
 * now". Options may follow a job name or id (not a remix prompt or submit's files).
 */
#ifndef SORAD_CLI_H
#define SORAD_CLI_H

#include <stdbool.h>

/* True when WORD is one of the commands above. */
bool cli_is_command(const char *word);

/* Runs the command ARGV[0] (argc >= 1). Returns a sysexits.h code. */
int cli_main(int argc, char **argv);

#endif
