/*
 * t_watch.c — the inbox watcher on a real inotify in a temporary inbox, driven by the
 * real loop: what is delivered, when, and how often. Nothing sleeps: every wait runs
 * the loop until the expected deliveries came or a loop-timer deadline passed.
 */
#include "conf.h"
#include "log.h"
#include "loop.h"
#include "util.h"
#include "watch.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define DEADLINE_MS 5000

struct ctx {
	struct loop *l;
	struct conf *c;
	struct watch *w;
	char root[64];
	char inbox[PATH_MAX];
	char **names;  /* deliveries in order */
	long long *at; /* loop_now_ms() of each */
	size_t n, cap;
	size_t want; /* loop_stop once n reaches it */
	struct loop_timer *deadline;
	bool timed_out;
	/* Optional: runs on every delivery (e.g. claims the file as inbox.c would). */
	void (*hook)(struct ctx *x, const char *name);
	/* Poll test: the file grown by a timer and its size at delivery. */
	struct loop_timer *grow;
	long long grow_until, grown_at;
	int grow_fd; /* an image kept open while written (write_image_slowly) */
	off_t size_at_delivery;
};

static void on_ready(const char *name, void *ud)
{
	struct ctx *x = ud;
	if (x->n == x->cap) {
		x->cap = x->cap ? 2 * x->cap : 64;
		x->names = xrealloc(x->names, x->cap * sizeof(*x->names));
		x->at = xrealloc(x->at, x->cap * sizeof(*x->at));
	}
	x->names[x->n] = xstrdup(name);
	x->at[x->n] = loop_now_ms();
	x->n++;
	if (x->hook)
		x->hook(x, name);
	if (x->n >= x->want)
		loop_stop(x->l);
}

static void on_deadline(void *ud)
{
	struct ctx *x = ud;
	x->timed_out = true;
	loop_stop(x->l);
}

/* Runs the loop until WANT deliveries in all arrived (true) or MS passed (false). */
static bool run_until(struct ctx *x, size_t want, long long ms)
{
	x->want = want;
	x->timed_out = false;
	if (x->n >= want)
		return true;
	loop_timer_arm(x->deadline, ms);
	assert_int_equal(loop_run(x->l), 0);
	loop_timer_disarm(x->deadline);
	return !x->timed_out;
}

/* Runs the loop for MS of loop time, whatever is delivered meanwhile. */
static void run_for(struct ctx *x, long long ms)
{
	(void)run_until(x, SIZE_MAX, ms);
}

static void expect_deliveries(struct ctx *x, size_t want, long long ms)
{
	if (!run_until(x, want, ms))
		fail_msg("expected %zu deliveries within %lld ms, got %zu", want, ms, x->n);
}

static size_t count(const struct ctx *x, const char *name)
{
	size_t k = 0;
	for (size_t i = 0; i < x->n; i++)
		k += !strcmp(x->names[i], name);
	return k;
}

/* Fails unless the deliveries are exactly NAMES (NULL-terminated), each once, any order. */
static void expect_exactly(const struct ctx *x, const char *const *names)
{
	size_t n = 0;
	for (; names[n]; n++)
		if (count(x, names[n]) != 1)
			fail_msg(
			    "expected \"%s\" delivered once, got %zu times (of %zu deliveries)",
			    names[n], count(x, names[n]), x->n);
	if (x->n != n) {
		for (size_t i = 0; i < x->n; i++)
			print_message("delivered: \"%s\"\n", x->names[i]);
		fail_msg("expected %zu deliveries, got %zu", n, x->n);
	}
}

static void path_in(char *buf, size_t size, const char *dir, const char *name)
{
	assert_int_equal(bfmt(buf, size, "%s/%s", dir, name), 0);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char p[PATH_MAX];
	path_in(p, sizeof(p), dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(close(fd), 0);
}

static void move(const char *from_dir, const char *from, const char *to_dir, const char *to)
{
	char a[PATH_MAX], b[PATH_MAX];
	path_in(a, sizeof(a), from_dir, from);
	path_in(b, sizeof(b), to_dir, to);
	assert_int_equal(rename(a, b), 0);
}

static struct ctx *setup_ctx(unsigned settle_ms, enum watch_mode mode)
{
	struct ctx *x = xcalloc(1, sizeof(*x));
	memcpy(x->root, "/tmp/t_watch.XXXXXX", sizeof("/tmp/t_watch.XXXXXX"));
	assert_non_null(mkdtemp(x->root));
	path_in(x->inbox, sizeof(x->inbox), x->root, "inbox");
	assert_int_equal(mkdir(x->inbox, 0755), 0);
	char err[256];
	x->c = conf_load(NULL, err, sizeof(err));
	if (!x->c)
		fail_msg("conf_load(NULL): %s", err);
	free(x->c->inbox);
	x->c->inbox = xstrdup(x->inbox);
	x->c->settle_ms = settle_ms;
	x->c->watch_mode = mode;
	x->l = loop_new();
	assert_non_null(x->l);
	x->deadline = loop_timer_new(x->l, on_deadline, x);
	return x;
}

static void start(struct ctx *x)
{
	x->w = watch_new(x->l, x->c, on_ready, x);
	assert_non_null(x->w);
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void teardown_ctx(struct ctx *x)
{
	watch_free(x->w);
	loop_timer_free(x->deadline);
	loop_timer_free(x->grow);
	assert_int_equal(loop_timers_armed(x->l), 0);
	loop_free(x->l);
	conf_free(x->c);
	assert_int_equal(nftw(x->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
	for (size_t i = 0; i < x->n; i++)
		free(x->names[i]);
	free(x->names);
	free(x->at);
	free(x);
}

/* ---- the pure rules */

static void t_watch_ignores_hidden_editor_and_sync_temp_names(void **state)
{
	(void)state;
	static const struct {
		const char *name;
		bool ignored;
	} cases[] = {
	    {"", true},
	    {".", true},
	    {"..", true},
	    {".hidden.txt", true},
	    {".cat.txt.Xa81Zq", true},        /* rsync */
	    {".syncthing.cat.txt.tmp", true}, /* Syncthing (hidden form) */
	    {"~syncthing~cat.txt.tmp", true}, /* Syncthing (Windows form) */
	    {"~syncthing~cat.txt", true},
	    {"cat.txt~", true}, /* backup */
	    {"cat.txt.tmp", true},
	    {"cat.TMP", true},
	    {"cat.txt.temp", true},
	    {"cat.txt.part", true}, /* Firefox, wget */
	    {"cat.txt.partial", true},
	    {"cat.txt.filepart", true}, /* WinSCP */
	    {"cat.txt.swp", true},
	    {"cat.txt.swo", true},
	    {"cat.txt.swx", true},
	    {".cat.txt.swp", true},       /* vim's usual swap name */
	    {"cat.txt.crdownload", true}, /* Chrome */
	    {"cat.txt.download", true},   /* Safari */
	    {"cat.txt.opdownload", true}, /* Opera */
	    {"cat.txt.crswap", true},
	    {"cat.txt.!qB", true},     /* qBittorrent */
	    {"cat.txt.!ut", true},     /* uTorrent */
	    {"cat.txt.!sync", true},   /* Resilio */
	    {"#cat.txt#", true},       /* emacs auto-save */
	    {".#cat.txt", true},       /* emacs lock */
	    {"4913", true},            /* vim's write probe */
	    {"~$cat.docx", true},      /* Office owner file */
	    {".~lock.cat.txt#", true}, /* LibreOffice */
	    {"cat.txt.kate-swp", true},
	    {"a/b.txt", true}, /* not a name */
	    {"cat.txt", false},
	    {"cat.json", false},
	    {"Cat Video.JSONL", false},
	    {"cat.png", false},
	    {"ünïcødé kätze.txt", false},
	    {"bad\xff\xfe.txt", false}, /* not UTF-8: the claimer decides */
	    {"new\nline.txt", false},
	    {"#cat.txt", false}, /* only #…# is emacs */
	    {"cat#.txt", false},
	    {"4913.txt", false},
	    {"49130", false},
	    {"~cat.txt", false},
	    {"cat~.txt", false},
	    {"tmp.txt", false},
	    {"part", false},
	    {"#", false},
	    {"cat.tmp.txt", false}, /* renamed from a temp name: final */
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++)
		if (watch_is_ignored(cases[i].name) != cases[i].ignored)
			fail_msg("watch_is_ignored(\"%s\"): expected %s", cases[i].name,
			         cases[i].ignored ? "true" : "false");
	assert_true(watch_is_ignored(NULL));

	static const struct {
		const char *name;
		bool prompt, image;
	} exts[] = {
	    {"a.txt", true, false},       {"a.TXT", true, false},     {"a.json", true, false},
	    {"a.JsonL", true, false},     {"a.b.jsonl", true, false}, {"a.png", false, true},
	    {"a.JPG", false, true},       {"a.jpeg", false, true},    {"a.WebP", false, true},
	    {"a.gif", false, false},      {"a.txt.png", false, true}, {".txt", false, false},
	    {".png", false, false},       {"txt", false, false},      {"a.", false, false},
	    {"a.json.bak", false, false},
	};
	for (size_t i = 0; i < ARRAY_LEN(exts); i++) {
		if (watch_has_prompt_ext(exts[i].name) != exts[i].prompt)
			fail_msg("watch_has_prompt_ext(\"%s\"): expected %d", exts[i].name,
			         exts[i].prompt);
		if (watch_has_image_ext(exts[i].name) != exts[i].image)
			fail_msg("watch_has_image_ext(\"%s\"): expected %d", exts[i].name,
			         exts[i].image);
	}
}

/* The final names of the temp names sync tools, rsync and browsers write under. */
static void t_watch_temp_targets(void **state)
{
	(void)state;
	static const struct {
		const char *name, *target; /* NULL: not a temp name with a final name */
	} cases[] = {
	    {".syncthing.shot.png.tmp", "shot.png"},
	    {"~syncthing~shot.png.tmp", "shot.png"},
	    {".syncthing.my shot.JPG.tmp", "my shot.JPG"},
	    {".unison.shot.png.3d1f2a9c5b.unison.tmp", "shot.png"},
	    {".shot.png.a1B2c3", "shot.png"},          /* rsync */
	    {"shot.png.8f3a2b1c.partial", "shot.png"}, /* rclone */
	    {"shot.png.partial", "shot.png"},
	    {"shot.png.crdownload", "shot.png"},
	    {"shot.png.part", "shot.png"},
	    {"shot.webp.download", "shot.webp"},
	    {"shot.jpeg.filepart", "shot.jpeg"},
	    {"shot.png.tmp", "shot.png"},
	    {"shot.txt.tmp", "shot.txt"},
	    {".shot.png.abc", NULL},              /* not six characters */
	    {".syncthing..hidden.png.tmp", NULL}, /* a hidden final name */
	    {".syncthing..tmp", NULL},
	    {"shot.png", NULL},
	    {".tmp", NULL},
	    {"a/b.png.part", NULL},
	};
	char out[256];
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		bool got = watch_temp_target(cases[i].name, out, sizeof(out));
		if (got != (cases[i].target != NULL))
			fail_msg("watch_temp_target(\"%s\"): expected %s", cases[i].name,
			         cases[i].target ? cases[i].target : "none");
		if (got && strcmp(out, cases[i].target) != 0)
			fail_msg("watch_temp_target(\"%s\") = \"%s\", expected \"%s\"",
			         cases[i].name, out, cases[i].target);
	}
	assert_false(watch_temp_target(NULL, out, sizeof(out)));
	assert_false(watch_temp_target(".syncthing.shot.png.tmp", out, 4)); /* too small */
}

static void t_watch_polls_on_network_and_fuse_file_systems(void **state)
{
	(void)state;
	static const struct {
		unsigned long magic;
		const char *name;
	} cases[] = {
	    {0x6969, "NFS"},
	    {0x517B, "SMB"},
	    {0xFF534D42, "CIFS"},
	    {0xFE534D42, "SMB2"},
	    {0x65735546, "FUSE"},
	    {0x01021997, "9p"},
	    {0x00C36400, "Ceph"},
	    {0xEF53, NULL} /* ext4 */,
	    {0x01021994, NULL} /* tmpfs */,
	    {0x9123683E, NULL} /* btrfs */,
	    {0x58465342, NULL} /* xfs */,
	    {0x794C7630, NULL} /* overlayfs */,
	    {(unsigned long)(long)(int32_t)0xFF534D42, "CIFS"}, /* sign-extended f_type */
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		const char *got = watch_fs_needs_polling(cases[i].magic);
		if (cases[i].name ? !got || strcmp(got, cases[i].name) : got != NULL)
			fail_msg("watch_fs_needs_polling(0x%lx): expected %s, got %s",
			         cases[i].magic, cases[i].name ? cases[i].name : "NULL",
			         got ? got : "NULL");
	}
}

/* ---- inotify */

static void t_watch_delivers_file_after_close_write(void **state)
{
	(void)state;
	struct ctx *x = setup_ctx(50, WATCH_AUTO);
	start(x);
	assert_int_equal(watch_effective_mode(x->w), WATCH_INOTIFY);
	run_for(x, 10);
	long long t0 = loop_now_ms();
	write_file(x->inbox, "a.txt", "a cat on a skateboard\n");
	write_file(x->inbox, "notes.md", "not a prompt\n");
	expect_deliveries(x, 1, DEADLINE_MS);
	assert_string_equal(x->names[0], "a.txt");
	if (x->at[0] - t0 < 50)
		fail_msg("delivered %lld ms after the write, before the 50 ms settle",
		         x->at[0] - t0);
	run_for(x, 150);
	expect_exactly(x, (const char *const[]){"a.txt", NULL});
	teardown_ctx(x);
}

static void t_watch_delivers_file_moved_in(void **state)
{
	(void)state;
	struct ctx *x = setup_ctx(50, WATCH_AUTO);
	char staging[PATH_MAX];
	path_in(staging, sizeof(staging), x->root, "staging");
	assert_int_equal(mkdir(staging, 0755), 0);
	start(x);
	run_for(x, 10);
	/* Written elsewhere, renamed in (the README's advice). */
	write_file(staging, "b.txt", "b\n");
	move(staging, "b.txt", x->inbox, "b.txt");
	/* An editor's temp name in the inbox, renamed to the final name. */
	write_file(x->inbox, "a.txt.tmp", "a\n");
	move(x->inbox, "a.txt.tmp", x->inbox, "a.txt");
	/* rsync's hidden temp name. */
	write_file(x->inbox, ".c.json.Qx81zA", "{\"prompt\":\"c\"}\n");
	move(x->inbox, ".c.json.Qx81zA", x->inbox, "c.json");
	expect_deliveries(x, 3, DEADLINE_MS);
	run_for(x, 150);
	expect_exactly(x, (const char *const[]){"a.txt", "b.txt", "c.json", NULL});
	teardown_ctx(x);
}

static void t_watch_does_not_deliver_while_still_open(void **state)
{
	(void)state;
	struct ctx *x = setup_ctx(100, WATCH_INOTIFY);
	start(x);
	run_for(x, 10);
	assert_true(watch_test_scans(x->w) >= 1); /* the start scan is behind us */
	char p[PATH_MAX];
	path_in(p, sizeof(p), x->inbox, "slow.txt");
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "half a prompt", 13), 13);
	long long t0 = loop_now_ms();
	run_for(x, 300);
	if (x->n != 0)
		fail_msg("\"%s\" delivered while its writer still had it open", x->names[0]);
	assert_true(loop_now_ms() - t0 >= 300);
	assert_int_equal(write(fd, ", the other half\n", 17), 17);
	assert_int_equal(close(fd), 0);
	expect_deliveries(x, 1, DEADLINE_MS);
	expect_exactly(x, (const char *const[]){"slow.txt", NULL});
	teardown_ctx(x);
}

static void write_image_later(void *ud)
{
	struct ctx *x = ud;
	write_file(x->inbox, "cat.png", "\x89PNG not really");
	x->grown_at = loop_now_ms();
}

/* A copy in progress: 4 KiB every 20 ms into cat.png, kept open, closed at the end. */
static void write_image_slowly(void *ud)
{
	struct ctx *x = ud;
	static const char chunk[4096];
	assert_int_equal(write(x->grow_fd, chunk, sizeof(chunk)), (ssize_t)sizeof(chunk));
	x->grown_at = loop_now_ms();
	if (x->grown_at < x->grow_until) {
		loop_timer_arm(x->grow, 20);
		return;
	}
	assert_int_equal(close(x->grow_fd), 0);
	x->grow_fd = -1;
}

/* Regression (tests/integration/daemon_writers.sh): the prompt was claimed after the
 * settle time although its image was still being written, so half an image went out. */
static void t_watch_prompt_waits_for_an_image_still_being_written(void **state)
{
	(void)state;
	struct ctx *x = setup_ctx(100, WATCH_INOTIFY);
	start(x);
	run_for(x, 10);
	char p[PATH_MAX];
	path_in(p, sizeof(p), x->inbox, "cat.png");
	x->grow_fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(x->grow_fd >= 0);
	write_file(x->inbox, "cat.txt", "a cat\n");
	x->grow = loop_timer_new(x->l, write_image_slowly, x);
	x->grow_until = loop_now_ms() + 600;
	loop_timer_arm(x->grow, 20);
	expect_deliveries(x, 1, DEADLINE_MS);
	assert_string_equal(x->names[0], "cat.txt");
	if (x->grow_fd >= 0)
		fail_msg("cat.txt delivered while cat.png was still open for writing");
	if (x->at[0] - x->grown_at < 100)
		fail_msg("prompt delivered %lld ms after its image was closed; expected >= 100 ms",
		         x->at[0] - x->grown_at);
	teardown_ctx(x);
}

/* The writer stalls for many settle periods with the image open (a loaded machine, a
 * slow link): the prompt still waits until the image is closed (flake hunt:
 * daemon_writers claimed big.txt while big.png was open). */
static void t_watch_prompt_waits_while_its_image_writer_stalls(void **state)
{
	(void)state;
	struct ctx *x = setup_ctx(100, WATCH_INOTIFY);
	start(x);
	run_for(x, 10);
	char p[PATH_MAX];
	path_in(p, sizeof(p), x->inbox, "owl.png");
	x->grow_fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(x->grow_fd >= 0);
	assert_int_equal(write(x->grow_fd, "\x89PNG", 4), 4);
	write_file(x->inbox, "owl.txt", "an owl\n");
	run_for(x, 800); /* eight settle periods without a write */
	assert_int_equal(x->n, 0);
	x->grow = loop_timer_new(x->l, write_image_slowly, x);
	x->grow_until = loop_now_ms(); /* one more write, then the close */
	loop_timer_arm(x->grow, 0);
	expect_deliveries(x, 1, DEADLINE_MS);
	expect_exactly(x, (const char *const[]){"owl.txt", NULL}); /* the image goes with it */
	if (x->grow_fd >= 0 || x->at[0] < x->grown_at)
		fail_msg("owl.txt delivered before owl.png was closed");
	teardown_ctx(x);
}

static void t_watch_settle_pairs_prompt_and_image(void **state)
{
	(void)state;
	struct ctx *x = setup_ctx(200, WATCH_AUTO);
	start(x);
	run_for(x, 10);
	x->grow = loop_timer_new(x->l, write_image_later, x);
	long long t0 = loop_now_ms();
	write_file(x->inbox, "cat.txt", "a cat\n");
	loop_timer_arm(x->grow, 50);
	expect_deliveries(x, 1, DEADLINE_MS);
	assert_string_equal(x->names[0], "cat.txt");
	assert_true(x->grown_at > 0);
	if (x->at[0] - x->grown_at < 200)
		fail_msg("prompt delivered %lld ms after its image landed; expected >= 200 ms",
		         x->at[0] - x->grown_at);
	assert_true(x->at[0] - t0 >= 250);
	run_for(x, 300);
	expect_exactly(x, (const char *const[]){"cat.txt", NULL});
	teardown_ctx(x);
}

static void t_watch_rescan_at_start_picks_up_existing_files(void **state)
{
	(void)state;
	struct ctx *x = setup_ctx(50, WATCH_AUTO);
	write_file(x->inbox, "a.txt", "a\n");
	write_file(x->inbox, "b.json", "{}\n");
	write_file(x->inbox, "c.JSONL", "{}\n");
	write_file(x->inbox, "a.png", "img");
	write_file(x->inbox, ".hidden.txt", "no\n");
	write_file(x->inbox, "e.txt~", "no\n");
	write_file(x->inbox, "f.md", "no\n");
	start(x);
	assert_int_equal(x->n, 0); /* never from inside watch_new */
	expect_deliveries(x, 3, DEADLINE_MS);
	run_for(x, 150);
	expect_exactly(x, (const char *const[]){"a.txt", "b.json", "c.JSONL", NULL});
	teardown_ctx(x);
}

/* A hard link adds a name with IN_CREATE only: no event the watcher listens to. */
static void link_in(struct ctx *x, const char *name)
{
	write_file(x->root, name, "linked\n");
	char a[PATH_MAX], b[PATH_MAX];
	path_in(a, sizeof(a), x->root, name);
	path_in(b, sizeof(b), x->inbox, name);
	assert_int_equal(link(a, b), 0);
}

static void t_watch_rescan_on_request(void **state)
{
	(void)state;
	struct ctx *x = setup_ctx(0, WATCH_AUTO);
	start(x);
	run_for(x, 10);
	link_in(x, "h.txt");
	run_for(x, 150);
	assert_int_equal(x->n, 0);
	unsigned long scans = watch_test_scans(x->w);
	watch_rescan(x->w);
	assert_int_equal(x->n, 0); /* settle 0: the next iteration, not synchronously */
	expect_deliveries(x, 1, DEADLINE_MS);
	assert_true(watch_test_scans(x->w) > scans);
	/* A rescan delivers what is still there again: the claimer left it. */
	watch_rescan(x->w);
	expect_deliveries(x, 2, DEADLINE_MS);
	assert_int_equal(count(x, "h.txt"), 2);
	teardown_ctx(x);
}

static void t_watch_fifo_directory_device_never_block(void **state)
{
	(void)state;
	struct ctx *x = setup_ctx(50, WATCH_AUTO);
	char p[PATH_MAX];
	path_in(p, sizeof(p), x->inbox, "x.txt");
	assert_int_equal(mkfifo(p, 0644), 0);
	path_in(p, sizeof(p), x->inbox, "y.txt");
	assert_int_equal(mkdir(p, 0755), 0);
	path_in(p, sizeof(p), x->inbox, "z.txt");
	assert_int_equal(symlink("/etc/passwd", p), 0);
	path_in(p, sizeof(p), x->inbox, "loop.json");
	assert_int_equal(symlink("loop.json", p), 0); /* a symlink to itself */
	path_in(p, sizeof(p), x->inbox, "n.txt");
	bool have_dev = mknod(p, S_IFCHR | 0644, makedev(1, 3)) == 0; /* /dev/null */
	write_file(x->inbox, "ok.txt", "fine\n");
	start(x);
	expect_deliveries(x, have_dev ? 6 : 5, DEADLINE_MS);
	/* A FIFO moved in while running (IN_MOVED_TO) is a candidate too. */
	path_in(p, sizeof(p), x->root, "w.txt");
	assert_int_equal(mkfifo(p, 0644), 0);
	move(x->root, "w.txt", x->inbox, "w.txt");
	expect_deliveries(x, have_dev ? 7 : 6, DEADLINE_MS);
	run_for(x, 150);
	if (have_dev)
		expect_exactly(x, (const char *const[]){"x.txt", "y.txt", "z.txt", "loop.json",
		                                        "n.txt", "ok.txt", "w.txt", NULL});
	else
		expect_exactly(x, (const char *const[]){"x.txt", "y.txt", "z.txt", "loop.json",
		                                        "ok.txt", "w.txt", NULL});
	teardown_ctx(x);
}

static void t_watch_overflow_triggers_rescan(void **state)
{
	(void)state;
	struct ctx *x = setup_ctx(50, WATCH_AUTO);
	start(x);
	run_for(x, 10);
	link_in(x, "o.txt"); /* as if its event had been lost in the overflow */
	run_for(x, 150);
	assert_int_equal(x->n, 0);
	unsigned long scans = watch_test_scans(x->w);
	watch_test_inject(x->w, IN_Q_OVERFLOW);
	expect_deliveries(x, 1, DEADLINE_MS);
	expect_exactly(x, (const char *const[]){"o.txt", NULL});
	assert_true(watch_test_scans(x->w) > scans);
	teardown_ctx(x);
}

static void claim(struct ctx *x, const char *name)
{
	char p[PATH_MAX];
	path_in(p, sizeof(p), x->inbox, name);
	assert_int_equal(unlink(p), 0);
}

static void t_watch_lost_watch_rescans(void **state)
{
	(void)state;
	struct ctx *x = setup_ctx(50, WATCH_AUTO);
	char away[PATH_MAX];
	path_in(away, sizeof(away), x->root, "away");
	start(x);
	run_for(x, 10);
	x->hook = claim;

	/* Moved away, written to, moved back: the rescan after re-watching finds it. */
	assert_int_equal(rename(x->inbox, away), 0);
	write_file(away, "a.txt", "a\n");
	assert_int_equal(rename(away, x->inbox), 0);
	expect_deliveries(x, 1, DEADLINE_MS);

	/* Deleted: the watcher waits for the inbox (one retry timer), then rescans. */
	assert_int_equal(rmdir(x->inbox), 0);
	run_for(x, 100);
	assert_int_equal(loop_timers_armed(x->l), 1);
	assert_int_equal(mkdir(x->inbox, 0755), 0);
	write_file(x->inbox, "b.txt", "b\n");
	expect_deliveries(x, 2, DEADLINE_MS);

	/* Watched again: events work, nothing is delivered twice, and it goes idle. */
	write_file(x->inbox, "c.txt", "c\n");
	expect_deliveries(x, 3, DEADLINE_MS);
	run_for(x, 150);
	expect_exactly(x, (const char *const[]){"a.txt", "b.txt", "c.txt", NULL});
	assert_int_equal(loop_timers_armed(x->l), 0);
	teardown_ctx(x);
}

static void t_watch_idle_has_no_timer_armed(void **state)
{
	(void)state;
	struct ctx *x = setup_ctx(30, WATCH_INOTIFY);
	start(x);
	run_for(x, 10);
	assert_int_equal(loop_timers_armed(x->l), 0);
	write_file(x->inbox, "a.txt", "a\n");
	write_file(x->inbox, "a.png", "img");
	expect_deliveries(x, 1, DEADLINE_MS);
	assert_int_equal(watch_pending(x->w), 0);
	if (loop_timers_armed(x->l) != 0)
		fail_msg("%zu timers armed after the last delivery; expected none",
		         loop_timers_armed(x->l));
	teardown_ctx(x);
}

static void t_watch_delivers_again_after_claim(void **state)
{
	(void)state;
	struct ctx *x = setup_ctx(30, WATCH_AUTO);
	x->hook = claim;
	start(x);
	run_for(x, 10);
	write_file(x->inbox, "again.txt", "one\n");
	expect_deliveries(x, 1, DEADLINE_MS);
	write_file(x->inbox, "again.txt", "two\n");
	expect_deliveries(x, 2, DEADLINE_MS);
	run_for(x, 100);
	assert_int_equal(count(x, "again.txt"), 2);
	assert_int_equal(x->n, 2);
	teardown_ctx(x);
}

static void t_watch_delivers_odd_names(void **state)
{
	(void)state;
	struct ctx *x = setup_ctx(30, WATCH_AUTO);
	char longest[NAME_MAX + 1];
	memset(longest, 'l', NAME_MAX - 4);
	memcpy(longest + NAME_MAX - 4, ".txt", 5);
	write_file(x->inbox, "with space.txt", "s\n"); /* found by the start scan */
	start(x);
	run_for(x, 10);
	write_file(x->inbox, "ünïcødé kätze.txt", "u\n");
	write_file(x->inbox, "bad\xff\xfe.txt", "b\n");
	write_file(x->inbox, "new\nline.txt", "n\n");
	write_file(x->inbox, longest, "l\n");
	expect_deliveries(x, 5, DEADLINE_MS);
	run_for(x, 100);
	expect_exactly(x, (const char *const[]){"with space.txt", "ünïcødé kätze.txt",
	                                        "bad\xff\xfe.txt", "new\nline.txt", longest, NULL});
	teardown_ctx(x);
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Each of N names f00000.txt… delivered exactly TIMES times. */
static void expect_each(struct ctx *x, size_t n, size_t times)
{
	assert_int_equal(x->n, n * times);
	qsort(x->names, x->n, sizeof(*x->names), cmp_name);
	for (size_t i = 0; i < n; i++) {
		char want[32];
		bfmt(want, sizeof(want), "f%05zu.txt", i);
		for (size_t k = 0; k < times; k++)
			if (strcmp(x->names[i * times + k], want) != 0)
				fail_msg("expected \"%s\" delivered %zu times; found \"%s\"", want,
				         times, x->names[i * times + k]);
	}
}

static void t_watch_many_files(void **state)
{
	(void)state;
	enum { N = 2000 };
	struct ctx *x = setup_ctx(50, WATCH_AUTO);
	start(x);
	run_for(x, 10);
	for (size_t i = 0; i < N; i++) {
		char name[32];
		bfmt(name, sizeof(name), "f%05zu.txt", i);
		write_file(x->inbox, name, "p\n");
	}
	expect_deliveries(x, N, 4 * DEADLINE_MS);
	run_for(x, 150);
	expect_each(x, N, 1);
	/* A rescan of them all: each once more, no duplicates from the table. */
	watch_rescan(x->w);
	expect_deliveries(x, 2 * N, 4 * DEADLINE_MS);
	run_for(x, 150);
	expect_each(x, N, 2);
	assert_int_equal(watch_pending(x->w), 0);
	teardown_ctx(x);
}

/* A big inbox at start: every entry delivered exactly once, none twice. Creating the
 * entries is most of this test's cost: 10,000 took over 60 s under stress-ng on two
 * cores (the flake hunt); speed at scale is bench/'s to measure, not a unit test's. */
static void t_watch_scans_a_big_inbox_once_each(void **state)
{
	(void)state;
	enum { N = 2000 };
	struct ctx *x = setup_ctx(20, WATCH_AUTO);
	for (size_t i = 0; i < N; i++) {
		char name[32];
		bfmt(name, sizeof(name), "f%05zu.txt", i);
		write_file(x->inbox, name, "p\n");
	}
	start(x);
	expect_deliveries(x, N, 6 * DEADLINE_MS);
	run_for(x, 100);
	expect_each(x, N, 1);
	teardown_ctx(x);
}

/* ---- polling */

static void grow_file(void *ud)
{
	struct ctx *x = ud;
	char p[PATH_MAX];
	path_in(p, sizeof(p), x->inbox, "grow.txt");
	int fd = open(p, O_WRONLY | O_APPEND | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "more ", 5), 5);
	assert_int_equal(close(fd), 0);
	x->grown_at = loop_now_ms();
	if (x->grown_at < x->grow_until)
		loop_timer_arm(x->grow, 200);
}

static void note_size(struct ctx *x, const char *name)
{
	char p[PATH_MAX];
	struct stat st;
	path_in(p, sizeof(p), x->inbox, name);
	x->size_at_delivery = lstat(p, &st) == 0 ? st.st_size : -1;
}

static void t_watch_poll_mode_delivers_stable_files_only(void **state)
{
	(void)state;
	struct ctx *x = setup_ctx(100, WATCH_POLL);
	x->hook = note_size;
	start(x);
	assert_int_equal(watch_effective_mode(x->w), WATCH_POLL);
	write_file(x->inbox, "grow.txt", "start ");
	x->grow = loop_timer_new(x->l, grow_file, x);
	x->grow_until = loop_now_ms() + 2500;
	loop_timer_arm(x->grow, 200);
	expect_deliveries(x, 1, 4 * DEADLINE_MS);
	assert_string_equal(x->names[0], "grow.txt");
	assert_false(loop_timer_armed(x->grow));
	if (x->at[0] < x->grown_at + 100)
		fail_msg("delivered %lld ms after the last write; expected the file to be "
		         "stable for at least the 100 ms settle",
		         x->at[0] - x->grown_at);
	struct stat st;
	char p[PATH_MAX];
	path_in(p, sizeof(p), x->inbox, "grow.txt");
	assert_int_equal(lstat(p, &st), 0);
	assert_int_equal(x->size_at_delivery, st.st_size);
	/* Left in the inbox, unchanged: not delivered again at the next scans. */
	run_for(x, 2200);
	assert_int_equal(x->n, 1);
	/* Claimed and dropped again: delivered again. */
	claim(x, "grow.txt");
	write_file(x->inbox, "grow.txt", "again\n");
	expect_deliveries(x, 2, 2 * DEADLINE_MS);
	assert_int_equal(count(x, "grow.txt"), 2);
	teardown_ctx(x);
}

static void t_watch_auto_polls_when_inotify_is_unavailable(void **state)
{
	(void)state;
	struct ctx *x = setup_ctx(50, WATCH_AUTO);
	write_file(x->inbox, "p.txt", "p\n");
	/* No descriptor left for an inotify instance: inotify_init1 fails with EMFILE. */
	int lowest = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(lowest >= 0);
	assert_int_equal(close(lowest), 0);
	struct rlimit old, lim;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	lim = old;
	lim.rlim_cur = (rlim_t)lowest;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &lim), 0);
	x->c->watch_mode = WATCH_INOTIFY;
	struct watch *forced = watch_new(x->l, x->c, on_ready, x);
	x->c->watch_mode = WATCH_AUTO;
	x->w = watch_new(x->l, x->c, on_ready, x);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	assert_null(forced); /* watch_mode = inotify: an error, not a silent fallback */
	assert_non_null(x->w);
	assert_int_equal(watch_effective_mode(x->w), WATCH_POLL);
	expect_deliveries(x, 1, 2 * DEADLINE_MS);
	expect_exactly(x, (const char *const[]){"p.txt", NULL});
	teardown_ctx(x);
}

static void t_watch_reload_moves_to_new_inbox(void **state)
{
	(void)state;
	struct ctx *x = setup_ctx(30, WATCH_AUTO);
	char other[PATH_MAX];
	path_in(other, sizeof(other), x->root, "other");
	assert_int_equal(mkdir(other, 0755), 0);
	write_file(other, "waiting.txt", "w\n");
	start(x);
	run_for(x, 10);
	free(x->c->inbox);
	x->c->inbox = xstrdup(other);
	assert_int_equal(watch_set_conf(x->w, x->c), 0);
	expect_deliveries(x, 1, DEADLINE_MS);
	write_file(x->inbox, "old.txt", "o\n"); /* the old inbox is no longer watched */
	write_file(other, "new.txt", "n\n");
	expect_deliveries(x, 2, DEADLINE_MS);
	run_for(x, 100);
	expect_exactly(x, (const char *const[]){"waiting.txt", "new.txt", NULL});
	teardown_ctx(x);
}

int main(void)
{
	/* The watcher's warnings are expected in several tests; keep the output readable. */
	(void)log_open(NULL, LOG_ERROR, 0, false);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_watch_ignores_hidden_editor_and_sync_temp_names),
	    cmocka_unit_test(t_watch_polls_on_network_and_fuse_file_systems),
	    cmocka_unit_test(t_watch_delivers_file_after_close_write),
	    cmocka_unit_test(t_watch_delivers_file_moved_in),
	    cmocka_unit_test(t_watch_does_not_deliver_while_still_open),
	    cmocka_unit_test(t_watch_settle_pairs_prompt_and_image),
	    cmocka_unit_test(t_watch_rescan_at_start_picks_up_existing_files),
	    cmocka_unit_test(t_watch_rescan_on_request),
	    cmocka_unit_test(t_watch_fifo_directory_device_never_block),
	    cmocka_unit_test(t_watch_overflow_triggers_rescan),
	    cmocka_unit_test(t_watch_lost_watch_rescans),
	    cmocka_unit_test(t_watch_idle_has_no_timer_armed),
	    cmocka_unit_test(t_watch_delivers_again_after_claim),
	    cmocka_unit_test(t_watch_delivers_odd_names),
	    cmocka_unit_test(t_watch_many_files),
	    cmocka_unit_test(t_watch_scans_a_big_inbox_once_each),
	    cmocka_unit_test(t_watch_prompt_waits_for_an_image_still_being_written),
	    cmocka_unit_test(t_watch_prompt_waits_while_its_image_writer_stalls),
	    cmocka_unit_test(t_watch_poll_mode_delivers_stable_files_only),
	    cmocka_unit_test(t_watch_temp_targets),
	    cmocka_unit_test(t_watch_auto_polls_when_inotify_is_unavailable),
	    cmocka_unit_test(t_watch_reload_moves_to_new_inbox),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	log_close();
	return rc;
}
