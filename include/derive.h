/*
 * derive.h — making a variant the service could not serve (a thumbnail, a
 * spritesheet) from the downloaded MP4 with ffmpeg, like sora-sim renders its own:
 *
 *   thumbnail    the first frame at the video's size, WebP (libwebp, quality 75);
 *   spritesheet  10 evenly spaced frames (fps = 10 / SECONDS), 128 pixels high, tiled
 *                5x2 into one JPEG;
 *   notify image the first frame, 256 pixels high, JPEG: the image of a desktop
 *                notification, which any server on a stock desktop can load.
 *
 * ffmpeg never runs on the event loop's thread and never blocks it: it is a child
 * process (posix_spawn, no shell, its arguments an array, stdin and stdout on
 * /dev/null, stderr kept for the reason of a failure, no descriptor of the daemon
 * inherited, default signal mask and dispositions), watched by the loop through a
 * pidfd, and killed after DERIVE_TIMEOUT_MS. Inputs and outputs are named with
 * ffmpeg's "file:" protocol so that no path is read as an option or a URL. Its output
 * counts only when media_check_file finds a whole file of the kind wanted.
 *
 * Ownership: a struct derive belongs to this module; the caller holds it until its
 * callback has run (it is freed right after) or until derive_cancel.
 */
#ifndef SORAD_DERIVE_H
#define SORAD_DERIVE_H

#include <stdbool.h>
#include <stddef.h>

#include "loop.h"

#define DERIVE_TIMEOUT_MS 120000L

enum derive_what { DERIVE_THUMBNAIL, DERIVE_SPRITESHEET, DERIVE_NOTIFY_IMAGE };

/*
 * The ffmpeg to run, from the configuration's SETTING: NULL looks for "ffmpeg" in
 * the PATH; "" means none (making variants is switched off); anything else is the
 * program's path. 0 with its path in BUF, or -1 with the reason in WHY ("ffmpeg is
 * not installed (not found in PATH ...)", "ffmpeg is switched off (ffmpeg = \"\")").
 */
int derive_find_ffmpeg(const char *setting, char *buf, size_t size, char *why, size_t whylen);

struct derive;

/* OK: OUT holds a whole file of the kind wanted. Otherwise WHY says what went wrong
 * (ffmpeg's exit status and its last error line, the time limit, a bad output). */
typedef void derive_done_fn(bool ok, const char *why, void *ud);

/*
 * Starts FFMPEG making WHAT from the MP4 at MP4 into OUT (replaced) for a video of
 * SECONDS seconds. CB runs once from the loop, never from inside this call. NULL
 * when the process cannot be started (logged; WHY says why).
 */
struct derive *derive_start(struct loop *l, const char *ffmpeg, enum derive_what what,
                            const char *mp4, const char *out, unsigned seconds, derive_done_fn *cb,
                            void *ud, char *why, size_t whylen);

/*
 * Stops D without its callback: ffmpeg is killed. WAIT: reap it now (at shutdown,
 * when the loop is going away); otherwise the loop reaps it when it is gone and
 * frees D then. NULL is fine.
 */
void derive_cancel(struct derive *d, bool wait);

#endif
