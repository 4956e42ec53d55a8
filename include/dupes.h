/*
 * dupes.h — recognising a prompt file delivered again: sync tools re-deliver (rclone
 * copy run twice, Syncthing's "Revert Local Changes"), and each delivery would be a
 * new paid job.
 *
 * A job's key is a 64-bit FNV-1a hash, as 16 hex digits, of what it would ask the
 * service for: the prompt, model, size, seconds, remix source, and the reference
 * image's name and bytes. It is stored in the job's record (dup_key), so the index is
 * rebuilt from the records at start and survives restarts. The index maps a key to
 * the newest job with it (name and claim time): O(1) per lookup and insert.
 *
 * The daemon's policy (sorad.conf duplicate_policy, duplicate_window_days; jobs.c):
 * a new job whose key belongs to a job done or in flight (not failed) claimed within
 * the window is not submitted, unless its file says `again: true`.
 *
 * Ownership: struct dupes owns its keys and names.
 */
#ifndef SORAD_DUPES_H
#define SORAD_DUPES_H

#include "job.h"

#define DUPES_KEY_LEN 16

/* J's key into key[DUPES_KEY_LEN + 1]; REFERENCE_PATH (may be NULL) is where the
 * reference image can be read now (its bytes count, up to 64 MiB; an unreadable one
 * counts by its name only). */
void dupes_key(const struct job *j, const char *reference_path, char *key);

struct dupes;
struct dupes *dupes_new(void);
void dupes_free(struct dupes *d);

/* KEY now names the job NAME claimed at AT (unix seconds), replacing what it named. */
void dupes_put(struct dupes *d, const char *key, const char *name, long long at);

/* The job KEY names (its claim time in *AT), or NULL. */
const char *dupes_get(const struct dupes *d, const char *key, long long *at);

#endif
