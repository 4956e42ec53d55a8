/*
 * media.h - the rendered content of videos: an H.264 MP4, a WebP thumbnail of the
 * first frame and a JPEG spritesheet, made by ffmpeg in worker threads and cached
 * in the media directory by (size, seconds), and also by prompt with --draw-prompt,
 * so that a thousand jobs cost one render per distinct key. Without ffmpeg the
 * compiled-in fixtures are served instead.
 */
#ifndef SIM_MEDIA_H
#define SIM_MEDIA_H

#include <stdbool.h>
#include <stdint.h>

enum variant { VARIANT_VIDEO, VARIANT_THUMBNAIL, VARIANT_SPRITESHEET };

struct media_conf {
	const char *dir;      /* NULL: a temporary directory, removed at shutdown */
	const char *ffmpeg;   /* path of ffmpeg, NULL or "" for fixtures only */
	bool draw_prompt;     /* draw the prompt too; renders are then per prompt */
	unsigned workers;     /* render threads */
	uint64_t video_bytes; /* serve MP4s padded to this size (0: as rendered), for
	                       * benchmarks of big downloads: a trailing 64-bit 'free'
	                       * box, sparse on disk, keeps the file a valid MP4 */
};

/* A cache entry. Entries live until media_shutdown; callers keep bare pointers. */
struct media;

/* Creates the media directory, writes the fixtures, starts the workers. */
int media_init(const struct media_conf *conf);
/* Stops the workers (killing a running ffmpeg), frees every entry and removes a
 * temporary media directory. */
void media_shutdown(void);

/* Returns the entry for this size, duration and prompt, queueing its render if it
 * is new. Never blocks on rendering. */
struct media *media_request(unsigned width, unsigned height, unsigned seconds, const char *prompt);

/* True once all three files exist; *ready_ms (monotonic) is when that happened. */
bool media_ready(struct media *m, int64_t *ready_ms);

/* Opens one file of a ready entry read-only; returns the fd (the caller closes it)
 * and its size, or -1 after logging. */
int media_open(struct media *m, enum variant v, uint64_t *size);

/* "video" -> VARIANT_VIDEO...; returns -1 for an unknown name. */
int variant_parse(const char *name, enum variant *v);
const char *variant_content_type(enum variant v);

#endif
