/*
 * log.h — sorad's log: hour-based files LOG_DIR/sorad-YYYY-MM-DD-HH.log that roll
 * over at the hour while running, one line per event carrying the job and video ids,
 * mirrored to stderr in foreground mode, old files pruned after a number of days.
 * A redaction guard replaces any registered secret (the API key) before a line is
 * written anywhere.
 *
 * Line format:  2026-11-23T14:05:09.123Z LEVEL [job=NAME video=ID] message
 * (the bracket is omitted when neither id is given).
 */
#ifndef SORAD_LOG_H
#define SORAD_LOG_H

#include <stdbool.h>
#include <time.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERROR };

/* Parses "debug", "info", "warning"/"warn", "error"; -1 on anything else. */
int log_level_parse(const char *s);

/*
 * Starts logging into DIR (created if missing; NULL: stderr only) at LEVEL,
 * keeping files for KEEP_DAYS days (0: keep forever). MIRROR copies lines to stderr.
 * Returns 0, or -1 with errno set when DIR cannot be used.
 */
int log_open(const char *dir, enum log_level level, unsigned keep_days, bool mirror);
void log_close(void);

/* Reopens the current file (SIGUSR1, after an external rotation). */
int log_reopen(void);

/* Deletes sorad-*.log files older than keep_days; returns how many were removed. */
int log_prune(void);

/*
 * Registers a secret that must never be written: every occurrence in a line is
 * replaced by "[REDACTED]". Secrets shorter than 4 bytes are ignored. The string is
 * copied; log_forget_secrets() drops them all.
 */
void log_add_secret(const char *secret);
void log_forget_secrets(void);

/* Test hook: the clock used for timestamps and file names (NULL: the real clock). */
void log_set_clock(void (*now)(struct timespec *ts));

/* The file name for time T (UTC): "sorad-YYYY-MM-DD-HH.log" into buf; 0 or -1. */
int log_file_name(time_t t, char *buf, size_t size);

/* Writes one event. JOB and VIDEO may be NULL. */
void log_event(enum log_level level, const char *job, const char *video, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#define log_debug(...) log_event(LOG_DEBUG, NULL, NULL, __VA_ARGS__)
#define log_info(...) log_event(LOG_INFO, NULL, NULL, __VA_ARGS__)
#define log_warn(...) log_event(LOG_WARNING, NULL, NULL, __VA_ARGS__)
#define log_error(...) log_event(LOG_ERROR, NULL, NULL, __VA_ARGS__)

#endif
