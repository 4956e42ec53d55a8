/* history.c — STATE/history.tsv, the finished jobs' summary lines (see history.h). */
#include "history.h"

#include "decimal.h"
#include "fsutil.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define HEADER_START "# sorad history "
#define HEADER                                                                                     \
	HEADER_START                                                                               \
	"2: FLAG NAME VIDEO_ID MODEL SIZE SECONDS PROGRESS CLAIMED_AT SUBMIT_AT "                  \
	"FINISHED_AT VIDEO_CREATED_AT VIDEO_COMPLETED_AT SPENT_MICRO_USD ERROR_CODE DUP_KEY "      \
	"SOURCE LINE REFERENCE NOTE\n"
#define FIELDS 19
#define TRUST_FILE "history.trust"
#define CHUNK (64 * 1024)
#define TEXT_MAX 512 /* bytes of one text field before escaping */

struct history {
	int fd;          /* -1 once a write failed */
	long long size;  /* where the next line goes */
	char path[4096]; /* removed when a write fails */
};

/* ---- one line ----------------------------------------------------------------------- */

/* A line being written: bounded, never overflows (a field that would is cut). */
struct out {
	char b[HISTORY_LINE_MAX];
	size_t n;
};

static void put_c(struct out *o, char c)
{
	if (o->n + 1 < sizeof(o->b))
		o->b[o->n++] = c;
}

/* S escaped, at most MAX bytes of it (cut at a character boundary), then a tab unless
 * LAST. */
static void put_text(struct out *o, const char *s, size_t max, bool last)
{
	size_t len = s ? strlen(s) : 0;
	if (len > max) {
		len = max;
		while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
			len--; /* not inside a UTF-8 sequence */
	}
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '\t' || c == '\n' || c == '\\') {
			put_c(o, '\\');
			put_c(o, c == '\t' ? 't' : c == '\n' ? 'n' : '\\');
		} else if ((unsigned char)c < 0x20 || c == 0x7f) {
			put_c(o, ' ');
		} else {
			put_c(o, c);
		}
	}
	if (!last)
		put_c(o, '\t');
}

/* N, or nothing for an unknown (negative) one, then a tab. */
static void put_num(struct out *o, long long n)
{
	char d[24];
	if (n >= 0 && bfmt(d, sizeof(d), "%lld", n) == 0)
		put_text(o, d, sizeof(d), false);
	else
		put_c(o, '\t');
}

/* J's line into O, newline included. */
static void format_line(const struct job *j, struct out *o)
{
	o->n = 0;
	put_c(o, j->state == JOB_DONE ? 'D' : 'F');
	put_c(o, '\t');
	put_text(o, j->name, TEXT_MAX, false);
	put_text(o, j->video_id, TEXT_MAX, false);
	put_text(o, j->model, 128, false);
	put_text(o, j->size, 32, false);
	put_num(o, j->seconds);
	put_num(o, j->progress);
	put_num(o, j->claimed_at);
	put_num(o, j->submit_at);
	put_num(o, j->finished_at);
	put_num(o, j->video_created_at);
	put_num(o, j->video_completed_at);
	double spent = job_spent_usd(j) * 1e6;
	put_num(o, isfinite(spent) && spent >= 0 && spent < 1e15 ? llround(spent) : -1);
	put_text(o, j->error_code, 128, false);
	put_text(o, j->dup_key, 64, false);
	put_text(o, j->source, TEXT_MAX, false);
	put_num(o, j->line ? (long long)j->line : -1);
	put_text(o, j->reference, TEXT_MAX, false);
	put_text(o, j->error, HISTORY_NOTE_MAX, true); /* the note: the error's start */
	/* room for the newline is always kept by put_c's bound */
	o->b[o->n++] = '\n';
}

unsigned long long history_digest(const struct job *j)
{
	struct out *o = xmalloc(sizeof(*o));
	format_line(j, o);
	unsigned long long d = hash_mem(o->b, o->n - 1); /* without the newline */
	free(o);
	return d;
}

/* Undoes put_text's escapes in place; false for a stray backslash. */
static bool unescape(char *s)
{
	char *w = strchr(s, '\\'); /* most fields have no escape: nothing to move */
	if (!w)
		return true;
	for (const char *r = w; *r; r++) {
		if (*r != '\\') {
			*w++ = *r;
			continue;
		}
		r++;
		if (*r == 't')
			*w++ = '\t';
		else if (*r == 'n')
			*w++ = '\n';
		else if (*r == '\\')
			*w++ = '\\';
		else
			return false;
	}
	*w = '\0';
	return true;
}

/*
 * Splits LINE (LEN bytes, NUL-terminated there) at its tabs, each made a NUL, into F;
 * the number of fields (FIELDS + 1 when there are more than FIELDS), or 0 when LINE
 * holds a NUL (never one of ours: put_text writes no control character). *ESC tells
 * whether a backslash (an escape) is in it. This is the start's hot loop: 16 bytes at
 * a time where SSE2 is there, a byte at a time elsewhere.
 */
static size_t split_fields(char *line, size_t len, char **f, bool *esc)
{
	size_t n = 1, i = 0;
	f[0] = line;
	*esc = false;
#if defined(__SSE2__)
	const __m128i tab = _mm_set1_epi8('\t'), bsl = _mm_set1_epi8('\\');
	const __m128i nul = _mm_setzero_si128();
	for (; i + 16 <= len; i += 16) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(line + i));
		unsigned t = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, tab));
		unsigned o = (unsigned)_mm_movemask_epi8(
		    _mm_or_si128(_mm_cmpeq_epi8(v, bsl), _mm_cmpeq_epi8(v, nul)));
		if (o) {
			if ((unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, nul)))
				return 0;
			*esc = true;
		}
		for (; t; t &= t - 1) {
			if (n == FIELDS)
				return FIELDS + 1;
			char *p = line + i + (unsigned)__builtin_ctz(t);
			*p = '\0';
			f[n++] = p + 1;
		}
	}
#endif
	for (; i < len; i++) {
		char c = line[i];
		if (c == '\t') {
			if (n == FIELDS)
				return FIELDS + 1;
			line[i] = '\0';
			f[n++] = line + i + 1;
		} else if (c == '\\') {
			*esc = true;
		} else if (c == '\0') {
			return 0;
		}
	}
	return n;
}

/* The digest of LINE (LEN bytes, at most HISTORY_LINE_MAX) as it was written, once
 * split_fields made its tabs NULs (it holds no other NUL). */
static unsigned long long split_digest(const char *line, size_t len)
{
	char tmp[HISTORY_LINE_MAX];
	size_t n = len < sizeof(tmp) ? len : sizeof(tmp);
	// cppcheck-suppress knownConditionTrueFalse ; false positive (2.10): N is the line's
	for (size_t i = 0; i < n; i++)
		tmp[i] = line[i] ? line[i] : '\t';
	return hash_mem(tmp, n);
}

/* A field of LEN bytes as a number up to MAX; empty: -1 (unknown). */
static bool parse_num(const char *s, size_t len, unsigned long long max, long long *out)
{
	unsigned long long v;
	if (len == 0) {
		*out = -1;
		return true;
	}
	if (decimal_uint_n(s, len, max, &v) != 0)
		return false;
	*out = (long long)v;
	return true;
}

/*
 * LINE (LEN bytes, NUL-terminated there, newline removed) into L; false when it is not
 * a line of ours. L's digest is left to history_line_digest, from the line as long as
 * it lives (the walk's): the parse only turned its tabs into NULs, unless it had an
 * escape, when the digest is taken first.
 */
static bool parse_line(char *line, size_t len, struct history_line *l)
{
	unsigned long long d = 0;
	bool esc;
	char *f[FIELDS];
	if (split_fields(line, len, f, &esc) != FIELDS || !f[0][0] || f[0][1])
		return false;
	if (esc) { /* the unescapes below move bytes: the digest of the line as it was */
		d = split_digest(line, len);
		for (size_t i = 1; i < FIELDS; i++)
			if (!unescape(f[i]))
				return false;
	}
	switch (f[0][0]) {
	case 'D':
		l->state = JOB_DONE;
		l->superseded = false;
		break;
	case 'F':
		l->state = JOB_FAILED;
		l->superseded = false;
		break;
	case 'x':
		l->state = JOB_FAILED; /* no longer says */
		l->superseded = true;
		break;
	default:
		return false;
	}
	/* the length of field I, of the numbers (no escape in them: unescape left their
	 * bytes where they were, or refused the line) */
#define FLEN(i) ((size_t)(f[(i) + 1] - f[i]) - 1)
	long long secs, prog, spent, lno;
	const unsigned long long big = (unsigned long long)1 << 62;
	if (!*f[1] || !parse_num(f[5], FLEN(5), 100000, &secs) ||
	    !parse_num(f[6], FLEN(6), 100, &prog) ||
	    !parse_num(f[7], FLEN(7), big, &l->claimed_at) ||
	    !parse_num(f[8], FLEN(8), big, &l->submit_at) ||
	    !parse_num(f[9], FLEN(9), big, &l->finished_at) ||
	    !parse_num(f[10], FLEN(10), big, &l->video_created_at) ||
	    !parse_num(f[11], FLEN(11), big, &l->video_completed_at) ||
	    !parse_num(f[12], FLEN(12), big, &spent) || !parse_num(f[16], FLEN(16), 1000000, &lno))
		return false;
#undef FLEN
	l->line = lno < 0 ? 0 : (unsigned)lno;
	l->name = f[1];
	l->video_id = f[2];
	l->model = f[3];
	l->size = f[4];
	l->seconds = secs < 0 ? 0 : (unsigned)secs;
	l->progress = (int)prog;
	l->spent_micro_usd = spent < 0 ? 0 : spent;
	l->error_code = f[13];
	l->dup_key = f[14];
	l->source = f[15];
	l->reference = f[17];
	l->note = f[18];
	l->raw_ = esc ? NULL : line;
	l->raw_len_ = len;
	l->digest_ = d;
	return true;
}

unsigned long long history_line_digest(const struct history_line *l)
{
	return l->raw_ ? split_digest(l->raw_, l->raw_len_) : l->digest_;
}

/* ---- reading ------------------------------------------------------------------------ */

/* FN for each complete line of FD (from its start); the number of lines, or -1. */
static long long walk_fd(int fd, history_fn *fn, void *ud)
{
	char *buf = xmalloc(CHUNK);
	char *line = xmalloc(HISTORY_LINE_MAX + 1);
	size_t ln = 0;
	bool skipping = false, go = true;
	long long off = 0, start = 0, lines = 0;
	int err = 0;
	while (go) {
		ssize_t got = pread(fd, buf, CHUNK, off);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			lines = -1;
			err = errno;
			break;
		}
		if (got == 0)
			break; /* a last line without its newline is being written: left out */
		for (ssize_t i = 0; i < got && go; i++) {
			/* the rest of this line in BUF, up to its newline if there is one */
			char *p = buf + i, *nl = memchr(p, '\n', (size_t)(got - i));
			size_t seg = nl ? (size_t)(nl - p) : (size_t)(got - i);
			char *text = line; /* the whole line, once its newline is seen */
			if (ln == 0 && nl) {
				text = p; /* all of it in BUF: read there, not copied */
				ln = seg;
				if (seg > HISTORY_LINE_MAX)
					skipping = true; /* too long to be ours */
			} else if (ln + seg <= HISTORY_LINE_MAX) {
				memcpy(line + ln, p, seg);
				ln += seg;
			} else {
				skipping = true;
			}
			i += (ssize_t)seg;
			if (!nl)
				break;
			if (!skipping) {
				text[ln] = '\0';
				if (start == 0 &&
				    !strncmp(text, HEADER_START, strlen(HEADER_START)) &&
				    (ln + 1 != strlen(HEADER) || memcmp(text, HEADER, ln) != 0)) {
					lines = -1; /* another version's file: not ours to read */
					err = EPROTO;
					go = false;
					break;
				}
				struct history_line l;
				if (ln > 0 && text[0] != '#' && parse_line(text, ln, &l)) {
					l.off = start;
					lines++;
					go = fn(&l, ud);
				}
			}
			ln = 0;
			skipping = false;
			start = off + i + 1;
		}
		off += got;
	}
	free(line);
	free(buf);
	if (err)
		errno = err;
	return lines;
}

long long history_line_at(int fd, long long off, char *buf, size_t size)
{
	if (off <= 0 || size < 2) {
		errno = EINVAL;
		return -1;
	}
	ssize_t got;
	do
		got = pread(fd, buf, size, (off_t)off);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		return -1;
	char *nl = memchr(buf, '\n', (size_t)got);
	if (!nl) {
		errno = EPROTO; /* torn, or longer than ours */
		return -1;
	}
	return (long long)(nl - buf) + 1;
}

int history_read_at(int fd, long long off, history_fn *fn, void *ud)
{
	char *buf = xmalloc(HISTORY_LINE_MAX + 1);
	long long n = history_line_at(fd, off, buf, HISTORY_LINE_MAX);
	struct history_line l;
	int rc = -1;
	if (n > 0) {
		buf[n - 1] = '\0';
		if (buf[0] != '#' && parse_line(buf, (size_t)n - 1, &l)) {
			l.off = off;
			fn(&l, ud);
			rc = 0;
		} else {
			errno = EPROTO;
		}
	}
	free(buf);
	return rc;
}

long long history_each(const char *state_dir, history_fn *fn, void *ud)
{
	char path[4096];
	if (bfmt(path, sizeof(path), "%s/%s", state_dir, HISTORY_FILE) != 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	long long n = walk_fd(fd, fn, ud);
	int e = errno;
	close(fd);
	errno = e;
	return n;
}

static char *dup_or_null(const char *s)
{
	return s && *s ? xstrdup(s) : NULL;
}

void history_line_job(const struct history_line *l, struct job *j)
{
	j->state = l->state;
	j->name = xstrdup(l->name);
	j->video_id = dup_or_null(l->video_id);
	j->model = dup_or_null(l->model);
	j->size = dup_or_null(l->size);
	j->seconds = l->seconds;
	j->progress = l->progress;
	j->claimed_at = l->claimed_at;
	j->submit_at = l->submit_at;
	j->finished_at = l->finished_at;
	j->video_created_at = l->video_created_at;
	j->video_completed_at = l->video_completed_at;
	/* what was spent, as one counted create of that cost (job_spent_usd) */
	j->cost_usd = (double)l->spent_micro_usd / 1e6;
	j->creates = j->creates_allowed = 1;
	j->error_code = dup_or_null(l->error_code);
	j->dup_key = dup_or_null(l->dup_key);
	j->source = dup_or_null(l->source);
	j->line = l->line;
	j->reference = dup_or_null(l->reference);
	j->error = dup_or_null(l->note);
}

/* ---- writing ------------------------------------------------------------------------ */

/* A write failed: the file goes (the commands read the records instead), and H stops. */
static void broken(struct history *h, const char *what)
{
	log_warn("history: cannot %s %s (%s): it is removed, and made again from the records "
	         "at the next start; until then the commands read every record",
	         what, h->path, strerror(errno));
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
	if (unlink(h->path) != 0 && errno != ENOENT)
		log_warn("history: cannot remove %s (%s): the commands may show stale finished "
		         "jobs until the next start",
		         h->path, strerror(errno));
}

static int pwrite_all(int fd, const char *p, size_t n, long long off)
{
	while (n > 0) {
		ssize_t w = pwrite(fd, p, n, (off_t)off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return -1;
		}
		p += w;
		n -= (size_t)w;
		off += w;
	}
	return 0;
}

/* Cuts a last line left without its newline (a crash during an append). */
static int cut_torn_tail(struct history *h)
{
	if (h->size == 0)
		return 0;
	char *buf = xmalloc(CHUNK);
	long long end = h->size, keep = 0;
	bool found = false;
	while (end > 0 && !found) {
		long long from = end > CHUNK ? end - CHUNK : 0;
		ssize_t got = pread(h->fd, buf, (size_t)(end - from), (off_t)from);
		if (got < 0 && errno == EINTR)
			continue;
		if (got != end - from) {
			free(buf);
			if (got >= 0)
				errno = EIO;
			return -1;
		}
		for (long long i = got - 1; i >= 0 && !found; i--)
			if (buf[i] == '\n') {
				keep = from + i + 1;
				found = true;
			}
		if (found && keep == h->size) {
			free(buf);
			return 0; /* ends with a newline: whole */
		}
		end = from;
	}
	free(buf);
	log_warn("history: %s ended inside a line (%lld bytes cut): a crash during an append",
	         h->path, h->size - keep);
	if (ftruncate(h->fd, (off_t)keep) != 0)
		return -1;
	h->size = keep;
	return 0;
}

/* Whether H's file starts with this version's header. */
static bool ours(struct history *h)
{
	char head[sizeof(HEADER)];
	size_t want = strlen(HEADER);
	ssize_t got;
	do
		got = pread(h->fd, head, want, 0);
	while (got < 0 && errno == EINTR);
	return got == (ssize_t)want && memcmp(head, HEADER, want) == 0;
}

bool history_current(const char *state_dir)
{
	struct history h = {.fd = -1};
	if (bfmt(h.path, sizeof(h.path), "%s/%s", state_dir, HISTORY_FILE) != 0)
		return false;
	h.fd = open(h.path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (h.fd < 0)
		return false;
	struct stat st;
	bool ok = fstat(h.fd, &st) == 0 && S_ISREG(st.st_mode) && ours(&h);
	close(h.fd);
	return ok;
}

struct history *history_open(const char *state_dir)
{
	struct history *h = xcalloc(1, sizeof(*h));
	h->fd = -1;
	if (bfmt(h->path, sizeof(h->path), "%s/%s", state_dir, HISTORY_FILE) != 0) {
		log_warn("history: the state directory's path is too long");
		free(h);
		return NULL;
	}
	h->fd = open(h->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
	struct stat st;
	if (h->fd < 0 || fstat(h->fd, &st) != 0) {
		log_warn("history: cannot open %s (%s)", h->path, strerror(errno));
		if (h->fd >= 0)
			close(h->fd);
		free(h);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		log_warn("history: %s is not a regular file: no history kept", h->path);
		close(h->fd);
		free(h);
		return NULL;
	}
	h->size = st.st_size;
	if (h->size > 0 && !ours(h)) {
		log_info("history: %s is of another format: made again from the records", h->path);
		if (ftruncate(h->fd, 0) != 0) {
			broken(h, "empty");
			free(h);
			return NULL;
		}
		h->size = 0;
	}
	if (cut_torn_tail(h) != 0) {
		broken(h, "repair");
		free(h);
		return NULL;
	}
	if (h->size == 0) {
		if (pwrite_all(h->fd, HEADER, strlen(HEADER), 0) != 0) {
			broken(h, "write");
			free(h);
			return NULL;
		}
		h->size = (long long)strlen(HEADER);
	}
	return h;
}

void history_close(struct history *h)
{
	if (!h)
		return;
	if (h->fd >= 0 && close(h->fd) != 0)
		log_warn("history: closing %s: %s", h->path, strerror(errno));
	free(h);
}

bool history_ok(const struct history *h)
{
	return h && h->fd >= 0;
}

long long history_append(struct history *h, const struct job *j, unsigned long long *digest)
{
	if (!history_ok(h) || !job_state_is_final(j->state))
		return -1;
	struct out *o = xmalloc(sizeof(*o));
	format_line(j, o);
	if (digest)
		*digest = hash_mem(o->b, o->n - 1); /* as history_digest: without the newline */
	long long off = h->size;
	if (pwrite_all(h->fd, o->b, o->n, off) != 0) {
		free(o);
		broken(h, "append to");
		return -1;
	}
	h->size += (long long)o->n;
	free(o);
	return off;
}

long long history_append_line(struct history *h, const char *line, size_t n)
{
	if (!history_ok(h))
		return -1;
	if (n < 2 || line[n - 1] != '\n' || memchr(line, '\n', n - 1)) {
		errno = EINVAL;
		return -1;
	}
	long long off = h->size;
	if (pwrite_all(h->fd, line, n, off) != 0) {
		broken(h, "append to");
		return -1;
	}
	h->size += (long long)n;
	return off;
}

int history_reader(const struct history *h)
{
	if (!history_ok(h)) {
		errno = EBADF;
		return -1;
	}
	return fcntl(h->fd, F_DUPFD_CLOEXEC, 3);
}

int history_supersede(struct history *h, long long off)
{
	if (!history_ok(h))
		return -1;
	if (off < 0 || off >= h->size)
		return 0;
	if (pwrite_all(h->fd, "x", 1, off) != 0) {
		broken(h, "mark a line in");
		return -1;
	}
	return 0;
}

long long history_walk(struct history *h, history_fn *fn, void *ud)
{
	return history_ok(h) ? walk_fd(h->fd, fn, ud) : -1;
}

struct forget {
	const char *name;
	struct history *h;
	int rc;
};

static bool forget_one(const struct history_line *l, void *ud)
{
	struct forget *f = ud;
	if (!l->superseded && !strcmp(l->name, f->name) && history_supersede(f->h, l->off) != 0)
		f->rc = -1;
	return f->rc == 0;
}

int history_forget(const char *state_dir, const char *name)
{
	char path[4096];
	if (bfmt(path, sizeof(path), "%s/%s", state_dir, HISTORY_FILE) != 0)
		return -1;
	struct stat st;
	if (lstat(path, &st) != 0 && errno == ENOENT)
		return 0;
	struct history *h = history_open(state_dir);
	if (!h) {
		if (unlink(path) != 0 && errno != ENOENT)
			return -1;
		return 0; /* no history: nothing to show stale */
	}
	long pid;
	bool was_clean = history_trusted(state_dir, &pid) && !pid; /* before the change */
	struct forget f = {name, h, 0};
	if (history_walk(h, forget_one, &f) < 0 && history_ok(h)) {
		broken(h, "read");
		f.rc = -1;
	}
	if (f.rc == 0 && history_ok(h) && fdatasync(h->fd) != 0) /* survives a power loss */
		f.rc = -1;
	if (was_clean && f.rc == 0) /* still whole: the next start may trust it */
		history_trust_set(h, state_dir, true);
	else if (was_clean)
		history_trust_drop(state_dir);
	history_close(h);
	return f.rc;
}

/* ---- whether a start may trust the file ---------------------------------------------- */

/* This boot's id (/proc/sys/kernel/random/boot_id) into BUF; 0 or -1. */
static int boot_id(char *buf, size_t n)
{
	int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t got = read(fd, buf, n - 1);
	close(fd);
	if (got <= 0)
		return -1;
	buf[got] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return buf[0] ? 0 : -1;
}

static int trust_path(char *buf, size_t n, const char *state_dir)
{
	return bfmt(buf, n, "%s/%s", state_dir, TRUST_FILE);
}

/* "clean SIZE SEC NSEC": what the file was when the daemon stopped (a change since, by
 * hand, is not trusted). */
static bool clean_matches(const char *state_dir, const char *got)
{
	long long v[3];
	const char *p = got + strlen("clean");
	for (int i = 0; i < 3; i++) {
		char *end;
		if (*p != ' ' || p[1] < '0' || p[1] > '9')
			return false;
		errno = 0;
		v[i] = strtoll(p + 1, &end, 10);
		if (errno)
			return false;
		p = end;
	}
	if (strcmp(p, "\n") != 0)
		return false;
	long long size = v[0], sec = v[1], nsec = v[2];
	char path[4096];
	struct stat st;
	return bfmt(path, sizeof(path), "%s/%s", state_dir, HISTORY_FILE) == 0 &&
	       lstat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == size &&
	       st.st_mtim.tv_sec == sec && st.st_mtim.tv_nsec == nsec;
}

bool history_trusted(const char *state_dir, long *pid)
{
	char path[4096], got[160] = "", boot[64], want[80];
	*pid = 0;
	if (trust_path(path, sizeof(path), state_dir) != 0)
		return false;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, got, sizeof(got) - 1);
	close(fd);
	if (n <= 0)
		return false;
	got[n] = '\0';
	if (!strncmp(got, "clean ", 6))
		return clean_matches(state_dir, got);
	/* "boot ID PID": this boot's, from a daemon that did not stop cleanly */
	if (boot_id(boot, sizeof(boot)) != 0 || bfmt(want, sizeof(want), "boot %s ", boot) != 0 ||
	    strncmp(got, want, strlen(want)) != 0)
		return false;
	char *end;
	long p = strtol(got + strlen(want), &end, 10);
	if (p <= 0 || *end != '\n')
		return false;
	*pid = p;
	return true;
}

int history_trust_set(struct history *h, const char *state_dir, bool clean)
{
	char line[120], boot[64];
	if (!history_ok(h))
		return -1;
	if (clean) {
		struct stat st;
		if (fdatasync(h->fd) != 0 || fstat(h->fd, &st) != 0) {
			log_warn("history: cannot sync %s: %s", h->path, strerror(errno));
			return -1;
		}
		bfmt(line, sizeof(line), "clean %lld %lld %ld\n", (long long)st.st_size,
		     (long long)st.st_mtim.tv_sec, (long)st.st_mtim.tv_nsec);
	} else if (boot_id(boot, sizeof(boot)) != 0 ||
	           bfmt(line, sizeof(line), "boot %s %ld\n", boot, (long)getpid()) != 0) {
		return -1;
	}
	if (atomic_write_file(state_dir, TRUST_FILE, line, strlen(line), 0600) != 0) {
		log_warn("history: cannot write %s/%s: %s", state_dir, TRUST_FILE, strerror(errno));
		return -1;
	}
	return 0;
}

void history_trust_drop(const char *state_dir)
{
	char path[4096];
	if (trust_path(path, sizeof(path), state_dir) == 0 && unlink(path) != 0 && errno != ENOENT)
		log_warn("history: cannot remove %s: %s", path, strerror(errno));
}
