/*
 * media.c - see media.h.
 *
 * Rendering runs ffmpeg as a child process from a small pool of worker threads, so
 * the HTTP threads never wait for it: they only look up an entry's state under a
 * mutex. A render writes temp names and renames them into place, the MP4 last, so
 * that a --media-dir kept between runs never holds a half-written set.
 */
#include "media.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixtures.h"
#include "util.h"

#define MAX_WORKERS 8

struct media {
	struct media *next;  /* all entries */
	struct media *qnext; /* render queue */
	uint64_t hash;
	char key[64]; /* file stem, e.g. "720x1280-4s" or "720x1280-4s-p<hash>" */
	unsigned w, h, seconds;
	char *text; /* what is drawn on the video */
	bool ready;
	bool fixture; /* serve the fixtures (no ffmpeg, or the render failed) */
	int64_t ready_ms;
};

static struct media_conf conf;
static char dir[PATH_MAX];
static bool dir_is_temp;
static const char *font;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static struct media *entries;
static struct media *queue_head, **queue_tail = &queue_head;
static bool stopping;
static pthread_t workers[MAX_WORKERS];
static unsigned nworkers;
static pid_t children[MAX_WORKERS]; /* running ffmpeg per worker, 0 if none */

static const char *const ext[] = {
    [VARIANT_VIDEO] = "mp4",
    [VARIANT_THUMBNAIL] = "webp",
    [VARIANT_SPRITESHEET] = "jpg",
};

int variant_parse(const char *name, enum variant *v)
{
	if (strcmp(name, "video") == 0)
		*v = VARIANT_VIDEO;
	else if (strcmp(name, "thumbnail") == 0)
		*v = VARIANT_THUMBNAIL;
	else if (strcmp(name, "spritesheet") == 0)
		*v = VARIANT_SPRITESHEET;
	else
		return -1;
	return 0;
}

const char *variant_content_type(enum variant v)
{
	switch (v) {
	case VARIANT_THUMBNAIL:
		return "image/webp";
	case VARIANT_SPRITESHEET:
		return "image/jpeg";
	default:
		return "video/mp4";
	}
}

static int path_of(char *out, size_t size, const char *stem, const char *suffix)
{
	return bsnprintf(out, size, "%s/%s%s", dir, stem, suffix);
}

static int write_file(const char *path, const void *data, size_t len)
{
	char tmp[PATH_MAX];
	const char *p = data;
	int fd;

	if (bsnprintf(tmp, sizeof(tmp), "%s.tmp", path) < 0)
		return -1;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		log_err("open %s: %s", tmp, strerror(errno));
		return -1;
	}
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			log_err("write %s: %s", tmp, strerror(errno));
			close(fd);
			unlink(tmp);
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	if (close(fd) < 0 || rename(tmp, path) < 0) {
		log_err("finishing %s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

static int write_fixtures(void)
{
	char p[PATH_MAX];

	if (path_of(p, sizeof(p), "fixture", ".mp4") < 0 ||
	    write_file(p, fixture_mp4, fixture_mp4_len) < 0 ||
	    path_of(p, sizeof(p), "fixture", ".webp") < 0 ||
	    write_file(p, fixture_webp, fixture_webp_len) < 0 ||
	    path_of(p, sizeof(p), "fixture", ".jpg") < 0 ||
	    write_file(p, fixture_jpeg, fixture_jpeg_len) < 0)
		return -1;
	return 0;
}

/* Runs argv with the media directory as working directory, so that ffmpeg's filter
 * arguments only ever name plain relative files and need no escaping. Returns 0 when
 * it exited with status 0. */
static int run(unsigned slot, const char *what, char *const argv[])
{
	sigset_t all;
	pid_t pid;
	int status;

	pthread_mutex_lock(&lock);
	if (stopping) {
		pthread_mutex_unlock(&lock);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);

		/* The parent blocks SIGTERM/SIGINT for sigwait; ffmpeg must not inherit that. */
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		if (devnull >= 0) {
			dup2(devnull, 0);
			dup2(devnull, 1);
		}
		if (chdir(dir) < 0)
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid > 0)
		children[slot] = pid;
	pthread_mutex_unlock(&lock);
	if (pid < 0) {
		log_err("fork for %s: %s", argv[0], strerror(errno));
		return -1;
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			log_err("waitpid %ld: %s", (long)pid, strerror(errno));
			status = -1;
			break;
		}
	}
	pthread_mutex_lock(&lock);
	children[slot] = 0;
	if (stopping) { /* killed by media_shutdown: not worth an error line */
		pthread_mutex_unlock(&lock);
		return -1;
	}
	pthread_mutex_unlock(&lock);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		log_err("ffmpeg failed (wait status %d) rendering %s", status, what);
		return -1;
	}
	return 0;
}

/* Appends s (n bytes) to b as valid UTF-8 on one line: control characters become
 * spaces and invalid bytes '?', because drawtext rejects invalid UTF-8. Returns
 * the number of code points written. */
static size_t append_clean(struct buf *b, const unsigned char *s, size_t n)
{
	size_t i = 0, cps = 0;

	while (i < n) {
		unsigned char c = s[i];
		size_t len = c < 0x80         ? 1
		             : (c >> 5) == 6  ? 2
		             : (c >> 4) == 14 ? 3
		             : (c >> 3) == 30 ? 4
		                              : 0;
		size_t k;

		for (k = 1; len && k < len; k++)
			if (i + k >= n || (s[i + k] & 0xc0) != 0x80)
				len = 0;
		if (len == 0) {
			buf_append(b, "?", 1);
			i++;
		} else if (len == 1 && (c < 0x20 || c == 0x7f)) {
			buf_append(b, " ", 1);
			i++;
		} else {
			buf_append(b, s + i, len);
			i += len;
		}
		cps++;
	}
	return cps;
}

/* The drawn text: the label, then with --draw-prompt the prompt wrapped at spaces to
 * fit the frame, cut with an ellipsis after as many lines as fit. */
static char *make_text(unsigned w, unsigned h, unsigned seconds, const char *prompt)
{
	struct buf b = BUF_INIT;
	char label[64];
	unsigned fs = (w < h ? w : h) / 20, per_line, max_lines, lines = 0;
	const unsigned char *p = (const unsigned char *)prompt;

	snprintf(label, sizeof(label), "sora-sim %ux%u %us", w, h, seconds);
	buf_append(&b, label, strlen(label));
	if (prompt == NULL)
		return buf_detach(&b, NULL);
	if (fs < 8)
		fs = 8;
	per_line = w * 10 / (fs * 6) > 4 ? w * 10 / (fs * 6) - 2 : 2;
	max_lines = h * 10 / (fs * 13) > 3 ? h * 10 / (fs * 13) - 3 : 1;
	while (*p && lines < max_lines) {
		size_t n = 0, cps = 0, brk = 0;

		while (*p == ' ')
			p++;
		/* Take up to per_line code points, remembering the last space to break at. */
		while (p[n] && cps < per_line) {
			if (p[n] == ' ' || p[n] == '\n')
				brk = n;
			n++;
			while ((p[n] & 0xc0) == 0x80)
				n++;
			cps++;
		}
		if (p[n] && brk > 0)
			n = brk;
		buf_append(&b, "\n", 1);
		append_clean(&b, p, n);
		p += n;
		lines++;
	}
	if (*p)
		buf_append(&b, "\xe2\x80\xa6", 3); /* … */
	return buf_detach(&b, NULL);
}

static int render(unsigned slot, struct media *m)
{
	char txt[PATH_MAX], fname[96], vf[512], size[32], src[64], fps[64];
	char out_mp4[96], out_webp[96], out_jpg[96], p_from[PATH_MAX], p_to[PATH_MAX];
	unsigned fs = (m->w < m->h ? m->w : m->h) / 20;
	int i;

	if (fs < 8)
		fs = 8;
	if (path_of(txt, sizeof(txt), m->key, ".txt") < 0 ||
	    write_file(txt, m->text, strlen(m->text)) < 0)
		return -1;
	if (bsnprintf(fname, sizeof(fname), "%s.txt", m->key) < 0 ||
	    bsnprintf(src, sizeof(src), "testsrc2=size=%ux%u:rate=24:duration=%u", m->w, m->h,
	              m->seconds) < 0 ||
	    bsnprintf(vf, sizeof(vf),
	              "drawtext=%s%s%stextfile=%s:expansion=none:fontsize=%u:fontcolor=white:"
	              "line_spacing=%u:box=1:boxcolor=black@0.6:boxborderw=%u:"
	              "x=(w-text_w)/2:y=(h-text_h)/2",
	              font ? "fontfile=" : "", font ? font : "", font ? ":" : "", fname, fs, fs / 3,
	              fs / 3) < 0 ||
	    bsnprintf(size, sizeof(size), "%ux%u", m->w, m->h) < 0 ||
	    bsnprintf(fps, sizeof(fps), "fps=fps=10/%u,scale=-2:128,tile=5x2", m->seconds) < 0 ||
	    bsnprintf(out_mp4, sizeof(out_mp4), "%s.tmp.mp4", m->key) < 0 ||
	    bsnprintf(out_webp, sizeof(out_webp), "%s.tmp.webp", m->key) < 0 ||
	    bsnprintf(out_jpg, sizeof(out_jpg), "%s.tmp.jpg", m->key) < 0)
		return -1;
	{
		char *const video[] = {(char *)conf.ffmpeg,
		                       "-nostdin",
		                       "-hide_banner",
		                       "-loglevel",
		                       "error",
		                       "-y",
		                       "-f",
		                       "lavfi",
		                       "-i",
		                       src,
		                       "-vf",
		                       vf,
		                       "-c:v",
		                       "libx264",
		                       "-preset",
		                       "ultrafast",
		                       "-crf",
		                       "30",
		                       "-pix_fmt",
		                       "yuv420p",
		                       "-movflags",
		                       "+faststart",
		                       out_mp4,
		                       NULL};
		char *const thumb[] = {(char *)conf.ffmpeg,
		                       "-nostdin",
		                       "-hide_banner",
		                       "-loglevel",
		                       "error",
		                       "-y",
		                       "-i",
		                       out_mp4,
		                       "-frames:v",
		                       "1",
		                       "-c:v",
		                       "libwebp",
		                       "-quality",
		                       "75",
		                       out_webp,
		                       NULL};
		char *const sprite[] = {(char *)conf.ffmpeg,
		                        "-nostdin",
		                        "-hide_banner",
		                        "-loglevel",
		                        "error",
		                        "-y",
		                        "-i",
		                        out_mp4,
		                        "-vf",
		                        fps,
		                        "-frames:v",
		                        "1",
		                        "-update",
		                        "1",
		                        "-q:v",
		                        "5",
		                        out_jpg,
		                        NULL};

		if (run(slot, m->key, video) < 0 || run(slot, m->key, thumb) < 0 ||
		    run(slot, m->key, sprite) < 0)
			return -1;
	}
	unlink(txt);
	/* The MP4 goes last: its presence marks a complete set for a later run. */
	for (i = 2; i >= 0; i--) {
		char suffix[16], final[16];

		snprintf(suffix, sizeof(suffix), ".tmp.%s", ext[i]);
		snprintf(final, sizeof(final), ".%s", ext[i]);
		if (path_of(p_from, sizeof(p_from), m->key, suffix) < 0 ||
		    path_of(p_to, sizeof(p_to), m->key, final) < 0)
			return -1;
		if (rename(p_from, p_to) < 0) {
			log_err("rename %s: %s", p_from, strerror(errno));
			return -1;
		}
	}
	return 0;
}

static bool cached(const struct media *m)
{
	char p[PATH_MAX];
	struct stat st;
	int i;

	for (i = 0; i < 3; i++) {
		char suffix[16];

		snprintf(suffix, sizeof(suffix), ".%s", ext[i]);
		if (path_of(p, sizeof(p), m->key, suffix) < 0 || stat(p, &st) < 0 ||
		    st.st_size == 0)
			return false;
	}
	return true;
}

static void *worker(void *arg)
{
	unsigned slot = (unsigned)(uintptr_t)arg;

	pthread_mutex_lock(&lock);
	for (;;) {
		struct media *m;
		int64_t t0;
		int rc;

		while (!stopping && queue_head == NULL)
			pthread_cond_wait(&cond, &lock);
		if (stopping)
			break;
		m = queue_head;
		queue_head = m->qnext;
		if (queue_head == NULL)
			queue_tail = &queue_head;
		pthread_mutex_unlock(&lock);

		t0 = now_mono_ms();
		rc = render(slot, m);
		pthread_mutex_lock(&lock);
		if (rc < 0 && stopping)
			break;
		if (rc < 0) {
			/* Completed must mean downloadable, so a failed render still yields
			 * media: the fixtures, with the failure in the log. */
			log_warn("render of %s failed; serving the fixtures for it", m->key);
			m->fixture = true;
		} else {
			log_info("rendered %s in %lld ms", m->key, (long long)(now_mono_ms() - t0));
		}
		m->ready = true;
		m->ready_ms = now_mono_ms();
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

static const char *find_font(void)
{
	static const char *const candidates[] = {
	    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
	    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
	    "/usr/share/fonts/TTF/DejaVuSans.ttf",
	};
	size_t i;

	for (i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++)
		if (access(candidates[i], R_OK) == 0)
			return candidates[i];
	return NULL; /* drawtext then falls back to fontconfig's default */
}

int media_init(const struct media_conf *c)
{
	unsigned i;

	conf = *c;
	if (conf.ffmpeg && conf.ffmpeg[0] == '\0')
		conf.ffmpeg = NULL;
	if (conf.dir) {
		if (mkdir(conf.dir, 0755) < 0 && errno != EEXIST) {
			log_err("mkdir %s: %s", conf.dir, strerror(errno));
			return -1;
		}
		if (realpath(conf.dir, dir) == NULL) {
			log_err("media dir %s: %s", conf.dir, strerror(errno));
			return -1;
		}
	} else {
		const char *tmp = getenv("TMPDIR");

		if (bsnprintf(dir, sizeof(dir), "%s/sora-sim-media.XXXXXX",
		              tmp && *tmp ? tmp : "/tmp") < 0)
			return -1;
		if (mkdtemp(dir) == NULL) {
			log_err("mkdtemp %s: %s", dir, strerror(errno));
			return -1;
		}
		dir_is_temp = true;
	}
	if (write_fixtures() < 0)
		return -1;
	font = find_font();
	if (conf.ffmpeg == NULL) {
		log_warn("ffmpeg not found: serving the built-in 128x72 fixtures for every video");
		return 0;
	}
	if (font == NULL)
		log_warn("DejaVuSans.ttf not found; drawtext will use fontconfig's default font");
	nworkers = conf.workers < 1 ? 1 : conf.workers > MAX_WORKERS ? MAX_WORKERS : conf.workers;
	for (i = 0; i < nworkers; i++) {
		int rc = pthread_create(&workers[i], NULL, worker, (void *)(uintptr_t)i);

		if (rc != 0) {
			log_err("pthread_create: %s", strerror(rc));
			nworkers = i;
			return -1;
		}
	}
	log_info("media in %s, rendering with %s", dir, conf.ffmpeg);
	return 0;
}

struct media *media_request(unsigned w, unsigned h, unsigned seconds, const char *prompt)
{
	const char *drawn = conf.draw_prompt ? prompt : NULL;
	char key[64];
	uint64_t ph = drawn ? fnv1a64(drawn, strlen(drawn)) : 0, hash;
	struct media *m;

	if (drawn)
		snprintf(key, sizeof(key), "%ux%u-%us-p%016llx", w, h, seconds,
		         (unsigned long long)ph);
	else
		snprintf(key, sizeof(key), "%ux%u-%us", w, h, seconds);
	hash = fnv1a64(key, strlen(key));

	pthread_mutex_lock(&lock);
	for (m = entries; m; m = m->next)
		if (m->hash == hash && strcmp(m->key, key) == 0)
			break;
	if (m == NULL) {
		m = xcalloc(1, sizeof(*m));
		memcpy(m->key, key, sizeof(key));
		m->hash = hash;
		m->w = w;
		m->h = h;
		m->seconds = seconds;
		m->next = entries;
		entries = m;
		if (conf.ffmpeg == NULL || cached(m)) {
			m->fixture = conf.ffmpeg == NULL;
			m->ready = true;
			m->ready_ms = now_mono_ms();
		} else {
			m->text = make_text(w, h, seconds, drawn);
			*queue_tail = m;
			queue_tail = &m->qnext;
			pthread_cond_signal(&cond);
		}
	}
	pthread_mutex_unlock(&lock);
	return m;
}

bool media_ready(struct media *m, int64_t *ready_ms)
{
	bool r;

	pthread_mutex_lock(&lock);
	r = m->ready;
	if (r && ready_ms)
		*ready_ms = m->ready_ms;
	pthread_mutex_unlock(&lock);
	return r;
}

/*
 * --video-bytes: the MP4 at FROM followed by one 'free' box with a 64-bit size up to
 * conf.video_bytes, written once beside it (the box's body is a hole: no disk, no
 * time). Called with the lock held, so two requests never write it at once. Returns
 * the padded file's path in OUT, or -1 (then the unpadded file is served).
 */
static int padded(const char *from, uint64_t from_size, char *out, size_t size)
{
	char tmp[PATH_MAX], chunk[65536];
	unsigned char box[16] = {0, 0, 0, 1, 'f', 'r', 'e', 'e'};
	uint64_t body = conf.video_bytes - from_size;
	struct stat st;
	int in, fd, i;
	ssize_t n;

	if (bsnprintf(out, size, "%s.%llu", from, (unsigned long long)conf.video_bytes) < 0 ||
	    bsnprintf(tmp, sizeof(tmp), "%s.tmp", out) < 0)
		return -1;
	if (stat(out, &st) == 0 && (uint64_t)st.st_size == conf.video_bytes)
		return 0;
	in = open(from, O_RDONLY | O_CLOEXEC);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (in < 0 || fd < 0)
		goto fail;
	while ((n = read(in, chunk, sizeof(chunk))) > 0)
		if (write(fd, chunk, (size_t)n) != n)
			goto fail;
	for (i = 0; i < 8; i++)
		box[8 + i] = (unsigned char)(body >> (56 - 8 * i));
	if (n < 0 || write(fd, box, sizeof(box)) != (ssize_t)sizeof(box) ||
	    ftruncate(fd, (off_t)conf.video_bytes) < 0 || close(fd) < 0 || rename(tmp, out) < 0) {
		fd = -1;
		goto fail;
	}
	close(in);
	return 0;
fail:
	log_err("padding %s to %llu bytes: %s", from, (unsigned long long)conf.video_bytes,
	        strerror(errno));
	if (fd >= 0)
		close(fd);
	if (in >= 0)
		close(in);
	unlink(tmp);
	return -1;
}

int media_open(struct media *m, enum variant v, uint64_t *size)
{
	char p[PATH_MAX], suffix[16];
	struct stat st;
	bool fixture;
	int fd;

	pthread_mutex_lock(&lock);
	fixture = m->fixture;
	pthread_mutex_unlock(&lock);
	snprintf(suffix, sizeof(suffix), ".%s", ext[v]);
	if (path_of(p, sizeof(p), fixture ? "fixture" : m->key, suffix) < 0)
		return -1;
	if (v == VARIANT_VIDEO && conf.video_bytes > 0 && stat(p, &st) == 0 &&
	    (uint64_t)st.st_size + 16 <= conf.video_bytes) {
		char big[PATH_MAX];

		pthread_mutex_lock(&lock);
		if (padded(p, (uint64_t)st.st_size, big, sizeof(big)) == 0)
			memcpy(p, big, sizeof(p));
		pthread_mutex_unlock(&lock);
	}
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		log_err("open %s: %s", p, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		log_err("fstat %s: %s", p, strerror(errno));
		close(fd);
		return -1;
	}
	*size = (uint64_t)st.st_size;
	return fd;
}

/* Removes the files of a temporary media directory: only names sora-sim makes. */
static void remove_temp_dir(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL) {
		log_err("opendir %s: %s", dir, strerror(errno));
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) < 0)
			log_warn("unlink %s/%s: %s", dir, e->d_name, strerror(errno));
	}
	closedir(d);
	if (rmdir(dir) < 0)
		log_warn("rmdir %s: %s", dir, strerror(errno));
}

void media_shutdown(void)
{
	unsigned i;

	pthread_mutex_lock(&lock);
	stopping = true;
	for (i = 0; i < MAX_WORKERS; i++)
		if (children[i] > 0)
			kill(children[i], SIGTERM);
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	for (i = 0; i < nworkers; i++)
		pthread_join(workers[i], NULL);
	nworkers = 0;
	while (entries) {
		struct media *m = entries;

		entries = m->next;
		free(m->text);
		free(m);
	}
	queue_head = NULL;
	queue_tail = &queue_head;
	if (dir_is_temp)
		remove_temp_dir();
}
