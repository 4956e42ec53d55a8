/*
 * usage_loader.h — STATE/usage.jsonl loaded on a thread of its own while the start
 * reads the job records (usage_load_compact's half of a long history's start, done on
 * the second CPU instead of after the records).
 *
 * The thread touches nothing but what the load makes; the loop thread takes the result
 * with usage_loader_wait before the first use of the usage log, so nothing reads the
 * log half loaded. When no thread can be made, the start waits for a load in place.
 */
#ifndef SORAD_USAGE_LOADER_H
#define SORAD_USAGE_LOADER_H

#include <time.h>

struct usage;
struct usage_loader;

/* Starts usage_load_compact(STATE_DIR, NOW) (STATE_DIR copied). Never NULL. To be
 * called with the signals the loop handles blocked: the thread inherits the mask. */
struct usage_loader *usage_loader_start(const char *state_dir, time_t now);

/* Waits for the load and returns what it made (the caller owns it; never NULL); LD is
 * freed. */
struct usage *usage_loader_wait(struct usage_loader *ld);

#endif
