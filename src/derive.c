/* derive.c — variants made from the MP4 by an ffmpeg child process (see derive.h). */
#include "derive.h"
#include "log.h"
#include "media.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* The end of ffmpeg's stderr kept for the reason of a failure. */
#define ERR_KEEP 400

struct derive {
	struct loop *loop;
	struct loop_timer *timer; /* the time limit */
	pid_t pid;
	int pidfd; /* readable once ffmpeg has exited */
	int errfd; /* the read end of its stderr, or -1 once at its end */
	enum derive_what what;
	char *out;
	derive_done_fn *cb; /* NULL: cancelled, reap and free only */
	void *ud;
	bool timed_out;
	char err[ERR_KEEP + 1];
	size_t err_len;
};

static bool runnable(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* Looks for NAME in the directories of the PATH: 0 with its path in BUF, or -1. */
static int search_path(const char *name, char *buf, size_t size)
{
	const char *path = getenv("PATH");
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (const char *p = path; *p;) {
		const char *colon = strchr(p, ':');
		size_t n = colon ? (size_t)(colon - p) : strlen(p);
		/* An empty entry would be the working directory: never run from there. */
		if (n > 0 && p[0] == '/' && bfmt(buf, size, "%.*s/%s", (int)n, p, name) == 0 &&
		    runnable(buf))
			return 0;
		p += n + (colon != NULL);
	}
	return -1;
}

int derive_find_ffmpeg(const char *setting, char *buf, size_t size, char *why, size_t whylen)
{
	if (setting && !setting[0]) {
		bfmt(why, whylen, "making variants locally is switched off (ffmpeg = \"\")");
		return -1;
	}
	const char *name = setting ? setting : "ffmpeg";
	if (strchr(name, '/')) {
		if (runnable(name) && bcopy_str(buf, size, name) == 0)
			return 0;
		bfmt(why, whylen, "ffmpeg %s cannot be run: %s", name,
		     access(name, X_OK) != 0 ? strerror(errno) : "not a regular file");
		return -1;
	}
	if (search_path(name, buf, size) == 0)
		return 0;
	bfmt(why, whylen, "ffmpeg is not installed (no %s in the PATH)", name);
	return -1;
}

/* Keeps the end of what ffmpeg writes to stderr; unwatches it at its end. */
static void drain_stderr(struct derive *d)
{
	while (d->errfd >= 0) {
		char buf[1024];
		ssize_t n = read(d->errfd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			loop_unwatch(d->loop, d->errfd);
			close(d->errfd);
			d->errfd = -1;
			return;
		}
		size_t k = (size_t)n;
		if (k >= ERR_KEEP) {
			memcpy(d->err, buf + k - ERR_KEEP, ERR_KEEP);
			d->err_len = ERR_KEEP;
		} else {
			if (d->err_len + k > ERR_KEEP) {
				size_t drop = d->err_len + k - ERR_KEEP;
				memmove(d->err, d->err + drop, d->err_len - drop);
				d->err_len -= drop;
			}
			memcpy(d->err + d->err_len, buf, k);
			d->err_len += k;
		}
	}
}

static void on_stderr(int fd, uint32_t events, void *ud)
{
	(void)fd;
	(void)events;
	drain_stderr(ud);
}

static void derive_free(struct derive *d)
{
	if (d->errfd >= 0) {
		loop_unwatch(d->loop, d->errfd);
		close(d->errfd);
	}
	if (d->pidfd >= 0) {
		loop_unwatch(d->loop, d->pidfd);
		close(d->pidfd);
	}
	loop_timer_free(d->timer);
	free(d->out);
	free(d);
}

/* The last non-empty line ffmpeg wrote to stderr, cleaned for a log line. */
static void last_line(struct derive *d, char *buf, size_t size)
{
	d->err[d->err_len] = '\0';
	char *s = d->err;
	size_t n = strlen(s);
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
		s[--n] = '\0';
	char *nl = strrchr(s, '\n');
	const char *line = nl ? nl + 1 : s;
	size_t i = 0;
	for (; line[i] && i + 1 < size; i++)
		buf[i] = (unsigned char)line[i] < 0x20 ? ' ' : line[i];
	buf[i] = '\0';
}

/* ffmpeg has exited: reap it, judge its output, report. */
static void on_exit_event(int fd, uint32_t events, void *ud)
{
	(void)fd;
	(void)events;
	struct derive *d = ud;
	int status = 0;
	pid_t got;
	while ((got = waitpid(d->pid, &status, WNOHANG)) < 0 && errno == EINTR)
		;
	if (got == 0)
		return; /* not gone yet (a spurious wake) */
	if (!d->cb) {   /* cancelled: only the reaping was left to do */
		derive_free(d);
		return;
	}
	drain_stderr(d);
	char why[768] = "", line[ERR_KEEP + 1] = "";
	bool ok = false;
	last_line(d, line, sizeof(line));
	if (got < 0) {
		bfmt(why, sizeof(why), "cannot learn how ffmpeg ended: %s", strerror(errno));
	} else if (d->timed_out) {
		bfmt(why, sizeof(why), "ffmpeg took longer than %ld s and was stopped",
		     DERIVE_TIMEOUT_MS / 1000);
	} else if (WIFSIGNALED(status)) {
		bfmt(why, sizeof(why), "ffmpeg was killed by signal %d", WTERMSIG(status));
	} else if (WEXITSTATUS(status) != 0) {
		bfmt(why, sizeof(why), "ffmpeg failed (exit status %d)%s%s", WEXITSTATUS(status),
		     line[0] ? ": " : "", line);
	} else {
		char bad[256] = "";
		enum media_kind want = d->what == DERIVE_THUMBNAIL ? MEDIA_WEBP : MEDIA_JPEG;
		/* DERIVE_SPRITESHEET and DERIVE_NOTIFY_IMAGE are JPEG */
		ok = media_check_file(d->out, want, NULL, bad, sizeof(bad)) == MEDIA_OK;
		if (!ok)
			bfmt(why, sizeof(why), "ffmpeg's output is not a whole %s: %s",
			     media_kind_name(want), bad);
	}
	derive_done_fn *cb = d->cb;
	void *cb_ud = d->ud;
	derive_free(d);
	cb(ok, why, cb_ud);
}

static void on_timeout(void *ud)
{
	struct derive *d = ud;
	d->timed_out = true;
	if (kill(d->pid, SIGKILL) != 0)
		log_warn("derive: cannot stop ffmpeg (pid %ld): %s", (long)d->pid, strerror(errno));
}

/* Starts ARGV with stdin and stdout on /dev/null, stderr into ERRW, nothing else of
 * ours, default signal mask and SIGPIPE. 0, or an errno value. */
static int spawn(pid_t *pid, char *const argv[], int errw)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dfl;
	int rc = posix_spawn_file_actions_init(&fa);
	if (rc != 0)
		return rc;
	rc = posix_spawnattr_init(&at);
	if (rc != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return rc;
	}
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE); /* the daemon ignores it; ffmpeg should not */
	if ((rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)) == 0 &&
	    (rc = posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0)) == 0 &&
	    (rc = posix_spawn_file_actions_adddup2(&fa, errw, 2)) == 0 &&
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
	    (rc = posix_spawn_file_actions_addclosefrom_np(&fa, 3)) == 0 &&
#endif
	    (rc = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)) ==
	        0 &&
	    (rc = posix_spawnattr_setsigmask(&at, &none)) == 0 &&
	    (rc = posix_spawnattr_setsigdefault(&at, &dfl)) == 0)
		rc = posix_spawn(pid, argv[0], &fa, &at, argv, environ);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	return rc;
}

struct derive *derive_start(struct loop *l, const char *ffmpeg, enum derive_what what,
                            const char *mp4, const char *out, unsigned seconds, derive_done_fn *cb,
                            void *ud, char *why, size_t whylen)
{
	char in_url[PATH_MAX + 8], out_url[PATH_MAX + 8], vf[96];
	if (bfmt(in_url, sizeof(in_url), "file:%s", mp4) != 0 ||
	    bfmt(out_url, sizeof(out_url), "file:%s", out) != 0 ||
	    bfmt(vf, sizeof(vf), "fps=fps=10/%u,scale=-2:128,tile=5x2", seconds ? seconds : 4) !=
	        0) {
		bfmt(why, whylen, "the file names are too long");
		return NULL;
	}
	/* As sim/media.c renders them: the first frame; 10 frames tiled 5x2. */
	char *thumb[] = {(char *)ffmpeg,
	                 "-nostdin",
	                 "-hide_banner",
	                 "-nostats",
	                 "-loglevel",
	                 "error",
	                 "-y",
	                 "-i",
	                 in_url,
	                 "-frames:v",
	                 "1",
	                 "-c:v",
	                 "libwebp",
	                 "-quality",
	                 "75",
	                 "-f",
	                 "webp",
	                 out_url,
	                 NULL};
	char *sheet[] = {
	    (char *)ffmpeg, "-nostdin", "-hide_banner", "-nostats", "-loglevel", "error", "-y",
	    "-i",           in_url,     "-vf",          vf,         "-frames:v", "1",     "-c:v",
	    "mjpeg",        "-pix_fmt", "yuvj420p",     "-q:v",     "5",         "-f",    "mjpeg",
	    out_url,        NULL};
	/* The first frame, 256 pixels high, JPEG: what every notification server on a
	 * stock desktop can load (gdk-pixbuf reads WebP only with an extra loader). */
	char *still[] = {(char *)ffmpeg,
	                 "-nostdin",
	                 "-hide_banner",
	                 "-nostats",
	                 "-loglevel",
	                 "error",
	                 "-y",
	                 "-i",
	                 in_url,
	                 "-vf",
	                 "scale=-2:256",
	                 "-frames:v",
	                 "1",
	                 "-c:v",
	                 "mjpeg",
	                 "-pix_fmt",
	                 "yuvj420p",
	                 "-q:v",
	                 "4",
	                 "-f",
	                 "mjpeg",
	                 out_url,
	                 NULL};
	int p[2];
	if (pipe2(p, O_CLOEXEC) != 0) {
		bfmt(why, whylen, "cannot make a pipe for ffmpeg: %s", strerror(errno));
		return NULL;
	}
	pid_t pid;
	int rc = spawn(&pid,
	               what == DERIVE_THUMBNAIL     ? thumb
	               : what == DERIVE_SPRITESHEET ? sheet
	                                            : still,
	               p[1]);
	close(p[1]);
	if (rc != 0) {
		close(p[0]);
		bfmt(why, whylen, "cannot start %s: %s", ffmpeg, strerror(rc));
		return NULL;
	}
	struct derive *d = xcalloc(1, sizeof(*d));
	d->loop = l;
	d->pid = pid;
	d->errfd = p[0];
	d->what = what;
	d->out = xstrdup(out);
	d->cb = cb;
	d->ud = ud;
	d->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (d->pidfd < 0 || fcntl(p[0], F_SETFL, O_NONBLOCK) != 0 ||
	    loop_watch(l, d->pidfd, EPOLLIN, on_exit_event, d) != 0 ||
	    loop_watch(l, d->errfd, EPOLLIN, on_stderr, d) != 0) {
		bfmt(why, whylen, "cannot watch ffmpeg (pid %ld): %s", (long)pid, strerror(errno));
		d->cb = NULL;
		derive_cancel(d, true);
		return NULL;
	}
	d->timer = loop_timer_new(l, on_timeout, d);
	loop_timer_arm(d->timer, DERIVE_TIMEOUT_MS);
	log_debug("derive: ffmpeg (pid %ld) making %s", (long)pid, out);
	return d;
}

void derive_cancel(struct derive *d, bool wait)
{
	if (!d)
		return;
	d->cb = NULL;
	if (kill(d->pid, SIGKILL) != 0 && errno != ESRCH)
		log_warn("derive: cannot stop ffmpeg (pid %ld): %s", (long)d->pid, strerror(errno));
	if (!wait && d->pidfd >= 0) {
		loop_timer_disarm(d->timer);
		return; /* on_exit_event reaps it and frees D */
	}
	int status;
	while (waitpid(d->pid, &status, 0) < 0 && errno == EINTR)
		;
	derive_free(d);
}
