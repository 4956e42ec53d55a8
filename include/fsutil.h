/*
 * fsutil.h — the filesystem operations sorad's durability rests on, in one place:
 * creating directory trees, and replacing a file atomically (write a temp file in
 * the same directory, fsync it, rename it over the target, fsync the directory), so
 * that a crash at any instant leaves either the old content or the new, never a mix.
 */
#ifndef SORAD_FSUTIL_H
#define SORAD_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

/* Creates DIR and its missing parents with MODE (less the umask); 0, or -1 with errno
 * set. Existing directories are left as they are. */
int mkdir_p(const char *dir, mode_t mode);
/* The same, but the directories it creates get exactly MODE whatever the umask: for
 * the outbox, whose mode is configuration (outbox_mode). */
int mkdir_p_exact(const char *dir, mode_t mode);

/* fsync()s the directory DIR, making renames and creations inside it durable. */
int fsync_dir(const char *dir);

/*
 * Atomically replaces DIR/NAME with LEN bytes of DATA, created with exactly MODE
 * (whatever the umask).
 * The temp file is DIR/.NAME.tmp.PID; it is removed on failure.
 * Returns 0, or -1 with errno set (ENOSPC and EIO reach the caller unchanged).
 */
int atomic_write_file(const char *dir, const char *name, const void *data, size_t len, mode_t mode);

/*
 * Opens PATH for writing as a plain file of its own: an existing regular file with
 * one link as it is (its size in *SIZE unless SIZE is NULL; not truncated), else a
 * new one with MODE (under the umask; size 0). A hard link, a FIFO or anything else in its place is
 * unlinked and replaced, never written through; a symlink is refused (ELOOP). The
 * descriptor, or -1 with errno set.
 */
int open_plain_file(const char *path, mode_t mode, off_t *size);

/* Writes LEN bytes of DATA to PATH (created or truncated, not followed if a symlink)
 * with exactly MODE and fsyncs it: the temp-file half of an atomic replacement. 0, or
 * -1 with errno set (PATH removed again). */
int write_file_synced(const char *path, const void *data, size_t len, mode_t mode);

/*
 * Copies the regular file SRC (not followed if a symlink) to DST, created or
 * truncated with exactly MODE (whatever the umask) and fsync()ed; DST is removed again on failure.
 * 0, or -1 with errno set.
 */
int copy_file(const char *src, const char *dst, mode_t mode);

/* Writes all LEN bytes to FD, retrying short writes and EINTR; 0 or -1 with errno. */
int write_all(int fd, const void *data, size_t len);

#endif
