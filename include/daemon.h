/*
 * daemon.h — `sorad [-c FILE] [-f]`: runs the daemon. Loads the configuration,
 * takes the state directory's lock (one daemon per state directory), opens the log,
 * and runs the event loop that ties the inbox watcher, the job state machine and the
 * API client together, until SIGTERM or SIGINT. SIGHUP reloads the configuration and
 * rescans the inbox; SIGUSR1 reopens the log file.
 */
#ifndef SORAD_DAEMON_H
#define SORAD_DAEMON_H

/* ARGV[0] is "sorad". Returns a sysexits.h code. */
int daemon_main(int argc, char **argv);

#endif
