/*
 * spares.h — empty files or directories made ahead, to be renamed into place.
 *
 * Making an inode can cost the loop thread a millisecond where inode allocation is
 * slow (ext4 without a journal skips every inode deleted in the last 30 s, one by one),
 * and each deletion makes the next allocation slower. A pool made on the commit thread
 * (spares_fill) turns a mkdir or an O_CREAT on the loop into a rename, and a removal
 * into a rename back (spares_keep): the inode is used again. Used for the claim
 * directories (inbox.c) and the outputs' name reservations (outbox.c).
 *
 * A spare is named DIR/PREFIX<n>SUFFIX, the caller choosing PREFIX and SUFFIX so that
 * what is left after a crash is found and removed (the next start's sweep). Loop
 * thread only; a NULL pool has none (spares_fill, _take and _keep do nothing).
 *
 * Sizes: a burst takes up to LOW at once (max_in_flight claims), and gives them back
 * as its jobs end, later. The pool holds up to twice LOW, is made that full ahead (the
 * first fill, at start), and made full again only when it falls below LOW / 2: a wave
 * of claims then never waits behind a batch of new inodes made beside its intents.
 * They are made 32 per commit batch, each batch joining the pool as it lands.
 * spares_size changes LOW (a reload).
 */
#ifndef SORAD_SPARES_H
#define SORAD_SPARES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct commit;
struct spares;

/* A pool in DIR; MODE as commit_create's (S_IFDIR | 0700: directories). Never NULL. */
struct spares *spares_new(const char *dir, const char *prefix, const char *suffix, mode_t mode,
                          size_t low);
/* Removes the spares kept (not those still being made: drain the commit first). */
void spares_free(struct spares *s);

void spares_size(struct spares *s, size_t low);

/* *POOL when it is in DIR (sized LOW), else a new one there (an older one freed: the
 * tests use many state directories in one process). */
struct spares *spares_at(struct spares **pool, const char *dir, const char *prefix,
                         const char *suffix, mode_t mode, size_t low);

/* How many to make ahead for a daemon with MAX_IN_FLIGHT: what one burst takes, from
 * 32 to 1,024 (each costs an inode, and a directory a block). */
size_t spares_low(unsigned max_in_flight);

/* When fewer than LOW / 2 are kept, stages the making of more through CM, up to twice
 * LOW (one batch at a time); NULL CM: nothing. */
void spares_fill(struct spares *s, struct commit *cm);

/* Renames a spare to PATH: true, or false with errno ENOENT when none is left, EXDEV
 * when PATH is on another file system (the spares stay). */
bool spares_take(struct spares *s, const char *path);

/* Renames PATH (emptied by the caller, or to be written over: a file's user checks
 * it, spares_take does not) into the pool: true, or false when the pool is full or
 * the rename failed (PATH is still there). */
bool spares_keep(struct spares *s, const char *path);

/* How many are kept now (tests). */
size_t spares_count(const struct spares *s);

#endif
