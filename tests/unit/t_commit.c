/* t_commit.c — the group commit: staged replacements, syncs, continuations, errors. */
#include "commit.h"
#include "loop.h"
#include "util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/t_commit.XXXXXX";

static int group_setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	char cmd[256];
	bfmt(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* The content of DIR/NAME into buf (NUL-terminated), or -1 when it does not exist. */
static int slurp(const char *name, char *buf, size_t size)
{
	char path[512];
	bfmt(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, size - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return 0;
}

static size_t count_entries(void)
{
	DIR *dp = opendir(dir);
	assert_non_null(dp);
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(dp)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(dp);
	return n;
}

/* A continuation that records its order and error. */
struct seen {
	int order[8];
	int err[8];
	int n;
};
static struct seen seen;
static int ids[8] = {0, 1, 2, 3, 4, 5, 6, 7};

static void note(void *ud, int err)
{
	seen.order[seen.n] = *(int *)ud;
	seen.err[seen.n] = err;
	seen.n++;
}

static void t_staged_replacement_appears_only_at_flush(void **state)
{
	(void)state;
	memset(&seen, 0, sizeof(seen));
	char buf[64];
	struct commit *c = commit_new(NULL);
	char apath[512];
	bfmt(apath, sizeof(apath), "%s/a.json", dir);
	assert_false(commit_staged(c, apath));
	assert_int_equal(commit_write(c, dir, "a.json", "old", 3, 0600, false), 0);
	assert_true(commit_staged(c, apath));
	assert_int_equal(slurp("a.json", buf, sizeof(buf)), -1); /* not yet visible */
	commit_then(c, note, &ids[1]);
	assert_true(commit_pending(c));
	assert_int_equal(seen.n, 0);
	assert_int_equal(commit_flush(c), 0);
	assert_false(commit_pending(c));
	assert_false(commit_staged(c, apath));
	assert_int_equal(slurp("a.json", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "old");
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.err[0], 0);
	/* Only a.json: no temp file left behind. */
	assert_int_equal(count_entries(), 1);
	struct stat st;
	char path[512];
	bfmt(path, sizeof(path), "%s/a.json", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	struct commit_stats cs;
	commit_get_stats(c, &cs);
	assert_int_equal(cs.batches, 1);
	assert_int_equal(cs.files, 1);
	assert_int_equal(cs.syncs, 2); /* the temp file and the directory */
	commit_free(c);
	unlink(path);
}

static void t_second_stage_of_a_target_wins_and_continuations_run_in_order(void **state)
{
	(void)state;
	memset(&seen, 0, sizeof(seen));
	char buf[64];
	struct commit *c = commit_new(NULL);
	assert_int_equal(commit_write(c, dir, "b.json", "first, longer content", 21, 0600, false),
	                 0);
	commit_then(c, note, &ids[1]);
	assert_int_equal(commit_write(c, dir, "b.json", "second", 6, 0600, false), 0);
	commit_then(c, note, &ids[2]);
	assert_int_equal(commit_flush(c), 0);
	assert_int_equal(slurp("b.json", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "second");
	assert_int_equal(seen.n, 2);
	assert_int_equal(seen.order[0], 1);
	assert_int_equal(seen.order[1], 2);
	struct commit_stats cs;
	commit_get_stats(c, &cs);
	assert_int_equal(cs.files, 1); /* one replacement for two stages */
	assert_int_equal(count_entries(), 1);
	commit_free(c);
	char path[512];
	bfmt(path, sizeof(path), "%s/b.json", dir);
	unlink(path);
}

/* A continuation stages the next step: it lands in the next batch, not this one. */
static struct commit *chain_c;
static void chain(void *ud, int err)
{
	note(ud, err);
	assert_int_equal(commit_write(chain_c, dir, "c2.json", "2", 1, 0600, false), 0);
	commit_then(chain_c, note, &ids[3]);
}

static void t_continuation_stages_into_the_next_batch(void **state)
{
	(void)state;
	memset(&seen, 0, sizeof(seen));
	char buf[16];
	chain_c = commit_new(NULL);
	assert_int_equal(commit_write(chain_c, dir, "c1.json", "1", 1, 0600, false), 0);
	commit_then(chain_c, chain, &ids[2]);
	assert_int_equal(commit_flush(chain_c), 0);
	assert_int_equal(seen.n, 1);
	assert_int_equal(slurp("c2.json", buf, sizeof(buf)), -1);
	assert_true(commit_pending(chain_c));
	assert_int_equal(commit_flush(chain_c), 0);
	assert_int_equal(seen.n, 2);
	assert_int_equal(seen.order[1], 3);
	assert_int_equal(slurp("c2.json", buf, sizeof(buf)), 0);
	commit_free(chain_c);
	char cmd[512];
	bfmt(cmd, sizeof(cmd), "rm -f '%s'/c1.json '%s'/c2.json", dir, dir);
	assert_int_equal(system(cmd), 0);
}

/* A path that cannot be synced withholds the batch's replacements and reports it. */
static void t_failed_sync_withholds_replacements_and_reports_the_error(void **state)
{
	(void)state;
	memset(&seen, 0, sizeof(seen));
	char buf[16], missing[512];
	bfmt(missing, sizeof(missing), "%s/no-such-file", dir);
	struct commit *c = commit_new(NULL);
	assert_int_equal(commit_sync(c, missing), 0);
	assert_int_equal(commit_write(c, dir, "d.json", "d", 1, 0600, false), 0);
	commit_then(c, note, &ids[4]);
	assert_int_equal(commit_flush(c), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.err[0], ENOENT);
	assert_int_equal(slurp("d.json", buf, sizeof(buf)), -1);
	assert_int_equal(count_entries(), 0); /* the temp file was removed too */
	commit_free(c);
}

/* A mark (livemark.h) is made before the batch's replacements appear; when it cannot be
 * made, none of them appears. */
static void t_mark_comes_first_or_nothing_appears(void **state)
{
	(void)state;
	memset(&seen, 0, sizeof(seen));
	char buf[16], mark[512], sub[512], bad[512];
	bfmt(sub, sizeof(sub), "%s/marks", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	bfmt(mark, sizeof(mark), "%s/m1", sub);
	struct commit *c = commit_new(NULL);
	assert_int_equal(commit_mark(c, mark), 0);
	assert_int_equal(commit_write(c, dir, "m.json", "m", 1, 0600, false), 0);
	commit_then(c, note, &ids[4]);
	assert_int_equal(access(mark, F_OK), -1); /* staged, not made yet */
	assert_int_equal(commit_flush(c), 0);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.err[0], 0);
	assert_int_equal(access(mark, F_OK), 0);
	assert_int_equal(slurp("m.json", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "m");
	/* A mark in a directory that does not exist: the replacement is withheld. */
	bfmt(bad, sizeof(bad), "%s/no-such-dir/m2", dir);
	assert_int_equal(commit_mark(c, bad), 0);
	assert_int_equal(commit_write(c, dir, "n.json", "n", 1, 0600, false), 0);
	commit_then(c, note, &ids[5]);
	assert_int_equal(commit_flush(c), -1);
	assert_int_equal(seen.n, 2);
	assert_int_equal(seen.err[1], ENOENT);
	assert_int_equal(slurp("n.json", buf, sizeof(buf)), -1);
	commit_free(c);
	/* Without a struct commit: made and synced at once. */
	bfmt(mark, sizeof(mark), "%s/m3", sub);
	assert_int_equal(commit_mark(NULL, mark), 0);
	assert_int_equal(access(mark, F_OK), 0);
	/* Marks are links to one inode, .mark: none costs an inode of its own. */
	struct stat s1, s3, sb;
	char base[512];
	bfmt(base, sizeof(base), "%s/.mark", sub);
	assert_int_equal(stat(mark, &s3), 0);
	assert_int_equal(stat(base, &sb), 0);
	assert_true(S_ISREG(sb.st_mode) && (sb.st_mode & 07777) == 0600 && sb.st_size == 0);
	unlink(mark);
	bfmt(mark, sizeof(mark), "%s/m1", sub);
	assert_int_equal(stat(mark, &s1), 0);
	assert_true(s1.st_ino == sb.st_ino && s3.st_ino == sb.st_ino);
	assert_int_equal((int)s1.st_nlink, 2); /* the base and m1 (m3 gone) */
	unlink(mark);
	unlink(base);
	assert_int_equal(rmdir(sub), 0);
	bfmt(mark, sizeof(mark), "%s/m.json", dir);
	unlink(mark);
	assert_int_equal(count_entries(), 0);
}

static void t_cancel_drops_the_continuations_of_one_owner(void **state)
{
	(void)state;
	memset(&seen, 0, sizeof(seen));
	struct commit *c = commit_new(NULL);
	commit_then(c, note, &ids[5]);
	commit_then(c, note, &ids[6]);
	commit_then(c, note, &ids[5]);
	commit_cancel(c, &ids[5]);
	assert_int_equal(commit_flush(c), 0);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.order[0], 6);
	commit_free(c);
}

/* Without a struct commit everything happens at once. */
static void t_null_commit_is_synchronous(void **state)
{
	(void)state;
	memset(&seen, 0, sizeof(seen));
	char buf[16];
	assert_int_equal(commit_write(NULL, dir, "e.json", "e", 1, 0600, false), 0);
	assert_int_equal(slurp("e.json", buf, sizeof(buf)), 0);
	assert_int_equal(commit_sync(NULL, dir), 0);
	commit_then(NULL, note, &ids[7]);
	assert_int_equal(seen.n, 1);
	assert_false(commit_pending(NULL));
	assert_int_equal(commit_flush(NULL), 0);
	char path[512];
	bfmt(path, sizeof(path), "%s/e.json", dir);
	unlink(path);
}

/* A large batch (fsyncs on several threads) commits every file with its content. */
static void t_large_batch_commits_every_file(void **state)
{
	(void)state;
	struct commit *c = commit_new(NULL);
	enum { N = 600 };
	for (int i = 0; i < N; i++) {
		char name[32], data[32];
		bfmt(name, sizeof(name), "f%d.json", i);
		bfmt(data, sizeof(data), "content %d", i);
		assert_int_equal(commit_write(c, dir, name, data, strlen(data), 0600, false), 0);
	}
	assert_int_equal(commit_flush(c), 0);
	assert_int_equal(count_entries(), N);
	for (int i = 0; i < N; i++) {
		char name[32], want[32], buf[32];
		bfmt(name, sizeof(name), "f%d.json", i);
		bfmt(want, sizeof(want), "content %d", i);
		assert_int_equal(slurp(name, buf, sizeof(buf)), 0);
		assert_string_equal(buf, want);
		char path[512];
		bfmt(path, sizeof(path), "%s/%s", dir, name);
		unlink(path);
	}
	struct commit_stats cs;
	commit_get_stats(c, &cs);
	assert_int_equal(cs.files, N);
	assert_int_equal(cs.syncs, N + 1);
	commit_free(c);
}

/* Freeing drops what was staged: nothing becomes visible, no temp file stays. */
static void t_free_drops_staged_work(void **state)
{
	(void)state;
	char buf[16];
	struct commit *c = commit_new(NULL);
	assert_int_equal(commit_write(c, dir, "g.json", "g", 1, 0600, false), 0);
	commit_free(c);
	assert_int_equal(slurp("g.json", buf, sizeof(buf)), -1);
	assert_int_equal(count_entries(), 0);
}

/* With a loop: the commit thread does the I/O, the continuation runs on the loop
 * thread once it is back; a target restaged while its batch is with the thread gets
 * its own temp file, and the later content wins. */
static struct loop *async_loop;
static int async_calls;
static void async_done(void *ud, int err)
{
	(void)ud;
	assert_int_equal(err, 0);
	if (++async_calls == 2)
		loop_stop(async_loop);
}

static void t_thread_commits_while_the_loop_runs(void **state)
{
	(void)state;
	char buf[32];
	async_loop = loop_new();
	assert_non_null(async_loop);
	struct commit *c = commit_new(async_loop);
	async_calls = 0;
	assert_int_equal(commit_write(c, dir, "h.json", "one", 3, 0600, false), 0);
	commit_then(c, async_done, NULL);
	assert_int_equal(commit_flush(c), 0); /* handed to the thread */
	assert_int_equal(async_calls, 0);     /* continuations only run on the loop */
	assert_true(commit_pending(c));
	assert_int_equal(commit_write(c, dir, "h.json", "two", 3, 0600, false), 0);
	commit_then(c, async_done, NULL);
	assert_int_equal(commit_flush(c), 0); /* waits for the first batch */
	assert_int_equal(loop_run(async_loop), 0);
	assert_int_equal(async_calls, 2);
	assert_false(commit_pending(c));
	assert_int_equal(slurp("h.json", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "two");
	assert_int_equal(count_entries(), 2); /* h.json, and its old inode kept as a spare */
	struct commit_stats cs;
	commit_get_stats(c, &cs);
	assert_int_equal(cs.batches, 2);
	/* commit_drain waits for the thread and commits the rest here. */
	assert_int_equal(commit_write(c, dir, "h.json", "three", 5, 0600, false), 0);
	assert_int_equal(commit_flush(c), 0);
	assert_int_equal(commit_write(c, dir, "i.json", "i", 1, 0600, false), 0);
	assert_int_equal(commit_drain(c), 0);
	assert_false(commit_pending(c));
	assert_int_equal(slurp("h.json", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "three");
	assert_int_equal(slurp("i.json", buf, sizeof(buf)), 0);
	assert_int_equal(count_entries(), 2); /* i.json is h.json's spare, reused */
	commit_free(c);
	assert_int_equal(count_entries(), 2);
	loop_free(async_loop);
	char cmd[512];
	bfmt(cmd, sizeof(cmd), "rm -f '%s'/h.json '%s'/i.json", dir, dir);
	assert_int_equal(system(cmd), 0);
}

/* A commit deferring to another (the intents' fast lane, commit_defer_to) hands no
 * batch over while the other has one pending, so that it does not share the disk with
 * it; but not for longer than COMMIT_DEFER_MS. */
static struct loop *defer_loop;
static struct commit *defer_first, *defer_c;
static int defer_step;
static long long defer_done_ms;

static void defer_first_done(void *ud, int err)
{
	(void)ud;
	assert_int_equal(err, 0);
	char buf[8];
	assert_int_equal(defer_step, 0);
	defer_step = 1;
	/* the deferred batch was not handed over while this one was with the thread */
	assert_int_equal(slurp("q.json", buf, sizeof(buf)), -1);
	assert_true(commit_pending(defer_c));
	assert_int_equal(commit_flush(defer_c), 0); /* as the daemon's idle hook: now it goes */
}

static void defer_second_done(void *ud, int err)
{
	(void)ud;
	assert_int_equal(err, 0);
	assert_true(defer_step >= 1); /* never before the first's batch */
	defer_step++;
	defer_done_ms = loop_now_ms();
	loop_stop(defer_loop);
}

static void defer_check_held(void *ud)
{
	(void)ud;
	char buf[8];
	assert_int_equal(slurp("s.json", buf, sizeof(buf)), -1); /* still held back */
	assert_int_equal(commit_flush(defer_c), 0);              /* within the cap: still */
}

static void defer_after_cap(void *ud)
{
	(void)ud;
	assert_int_equal(commit_flush(defer_c), 0); /* the first is still pending: goes anyway */
}

static void t_deferred_commit_waits_for_the_first_up_to_a_cap(void **state)
{
	(void)state;
	char buf[8];
	defer_loop = loop_new();
	assert_non_null(defer_loop);
	defer_first = commit_new(defer_loop);
	defer_c = commit_new(defer_loop);
	commit_defer_to(defer_c, defer_first);
	defer_step = 0;
	assert_int_equal(commit_write(defer_first, dir, "p.json", "p", 1, 0600, false), 0);
	commit_then(defer_first, defer_first_done, NULL);
	assert_int_equal(commit_write(defer_c, dir, "q.json", "q", 1, 0600, false), 0);
	commit_then(defer_c, defer_second_done, NULL);
	assert_int_equal(commit_flush(defer_first), 0);
	assert_int_equal(commit_flush(defer_c), 0); /* held: the first is with the thread */
	assert_int_equal(loop_run(defer_loop), 0);
	assert_int_equal(defer_step, 2);
	assert_int_equal(slurp("q.json", buf, sizeof(buf)), 0);
	/* The first keeps something staged (pending) and never commits it: the other
	 * waits COMMIT_DEFER_MS, then goes on its own. */
	assert_int_equal(commit_write(defer_first, dir, "r.json", "r", 1, 0600, false), 0);
	assert_int_equal(commit_write(defer_c, dir, "s.json", "s", 1, 0600, false), 0);
	commit_then(defer_c, defer_second_done, NULL);
	long long held_from = loop_now_ms();
	assert_int_equal(commit_flush(defer_c), 0);
	struct loop_timer *held = loop_timer_new(defer_loop, defer_check_held, NULL);
	struct loop_timer *cap = loop_timer_new(defer_loop, defer_after_cap, NULL);
	loop_timer_arm(held, COMMIT_DEFER_MS / 2);
	loop_timer_arm(cap, COMMIT_DEFER_MS + 20);
	assert_int_equal(loop_run(defer_loop), 0);
	assert_int_equal(defer_step, 3);
	assert_true(defer_done_ms - held_from >= COMMIT_DEFER_MS); /* held up to the cap */
	assert_int_equal(slurp("s.json", buf, sizeof(buf)), 0);
	assert_int_equal(slurp("r.json", buf, sizeof(buf)), -1);
	loop_timer_free(held);
	loop_timer_free(cap);
	commit_free(defer_c);
	commit_free(defer_first); /* drops r.json unwritten */
	loop_free(defer_loop);
	char cmd[512];
	bfmt(cmd, sizeof(cmd), "rm -f '%s'/p.json '%s'/q.json '%s'/s.json", dir, dir, dir);
	assert_int_equal(system(cmd), 0);
}

static ino_t inode_of(const char *name)
{
	char path[512];
	struct stat st;
	bfmt(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(stat(path, &st), 0);
	return st.st_ino;
}

/* A record that changes again is exchanged with its temp file: two inodes take turns
 * (no inode made or deleted per change); its last change is a plain rename. */
static void t_changing_target_reuses_two_inodes(void **state)
{
	(void)state;
	char buf[16], tmp[64];
	bfmt(tmp, sizeof(tmp), ".j.json.tmp.%ld", (long)getpid());
	struct commit *c = commit_new(NULL);
	assert_int_equal(commit_write(c, dir, "j.json", "v1", 2, 0600, true), 0);
	assert_int_equal(commit_flush(c), 0); /* no target yet: a rename */
	ino_t first = inode_of("j.json");
	assert_int_equal(count_entries(), 1);
	assert_int_equal(commit_write(c, dir, "j.json", "v2", 2, 0600, true), 0);
	assert_int_equal(commit_flush(c), 0);
	ino_t second = inode_of("j.json");
	assert_true(second != first);
	assert_int_equal(inode_of(tmp), first); /* the old inode waits as the temp file */
	assert_int_equal(slurp(tmp, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "v1");
	assert_int_equal(commit_write(c, dir, "j.json", "v3", 2, 0600, true), 0);
	assert_int_equal(commit_flush(c), 0);
	assert_int_equal(inode_of("j.json"), first); /* rewritten in turn */
	assert_int_equal(slurp("j.json", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "v3");
	assert_int_equal(commit_write(c, dir, "j.json", "last", 4, 0600, false), 0);
	assert_int_equal(commit_flush(c), 0);
	assert_int_equal(slurp("j.json", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "last");
	assert_int_equal(count_entries(), 2); /* the old inode, kept as a spare */
	commit_free(c);
	assert_int_equal(count_entries(), 1); /* deleted with the last commit */
	char path[512];
	bfmt(path, sizeof(path), "%s/j.json", dir);
	unlink(path);
}

/* A final write's old inode becomes the next new record's: no allocation, no
 * deletion. A spare is taken in its own directory only. */
static void t_final_write_gives_its_inode_to_the_next_record(void **state)
{
	(void)state;
	char buf[16], sub[512];
	bfmt(sub, sizeof(sub), "%s/other", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	struct commit *c = commit_new(NULL);
	assert_int_equal(commit_write(c, dir, "a.json", "a1", 2, 0600, true), 0);
	assert_int_equal(commit_flush(c), 0);
	ino_t a1 = inode_of("a.json");
	assert_int_equal(commit_write(c, dir, "a.json", "a2", 2, 0600, false), 0);
	assert_int_equal(commit_flush(c), 0);
	assert_int_equal(slurp("a.json", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "a2");
	assert_int_equal(commit_write(c, sub, "x.json", "x", 1, 0600, false), 0);
	assert_int_equal(commit_flush(c), 0);
	assert_true(inode_of("other/x.json") != a1); /* not across directories */
	assert_int_equal(commit_write(c, dir, "b.json", "b1", 2, 0644, true), 0);
	assert_int_equal(commit_flush(c), 0);
	assert_int_equal(inode_of("b.json"), a1);
	assert_int_equal(slurp("b.json", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "b1");
	struct stat st;
	char path[512];
	bfmt(path, sizeof(path), "%s/b.json", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644); /* the new mode, not the spare's */
	assert_int_equal(count_entries(), 3);       /* a.json, b.json, other: no temp file */
	commit_free(c);
	char cmd[1024];
	bfmt(cmd, sizeof(cmd), "rm -rf '%s'/a.json '%s'/b.json '%s'", dir, dir, sub);
	assert_int_equal(system(cmd), 0);
}

/* Files made by the commit (download parts): with exactly their mode, never truncated. */
static void t_create_makes_missing_files_only(void **state)
{
	(void)state;
	char path[512], buf[16];
	bfmt(path, sizeof(path), "%s/.k.mp4.part", dir);
	struct commit *c = commit_new(NULL);
	mode_t old = umask(077);
	assert_int_equal(commit_create(c, path, 0644), 0);
	assert_int_equal(slurp(".k.mp4.part", buf, sizeof(buf)), -1); /* at the commit */
	assert_int_equal(commit_flush(c), 0);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 0);
	assert_int_equal(st.st_mode & 07777, 0644); /* whatever the umask */
	umask(old);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("data", f);
	fclose(f);
	assert_int_equal(commit_create(c, path, 0644), 0);
	assert_int_equal(commit_flush(c), 0);
	assert_int_equal(slurp(".k.mp4.part", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "data");
	commit_free(c);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_staged_replacement_appears_only_at_flush),
	    cmocka_unit_test(t_second_stage_of_a_target_wins_and_continuations_run_in_order),
	    cmocka_unit_test(t_continuation_stages_into_the_next_batch),
	    cmocka_unit_test(t_failed_sync_withholds_replacements_and_reports_the_error),
	    cmocka_unit_test(t_mark_comes_first_or_nothing_appears),
	    cmocka_unit_test(t_cancel_drops_the_continuations_of_one_owner),
	    cmocka_unit_test(t_null_commit_is_synchronous),
	    cmocka_unit_test(t_large_batch_commits_every_file),
	    cmocka_unit_test(t_free_drops_staged_work),
	    cmocka_unit_test(t_thread_commits_while_the_loop_runs),
	    cmocka_unit_test(t_changing_target_reuses_two_inodes),
	    cmocka_unit_test(t_final_write_gives_its_inode_to_the_next_record),
	    cmocka_unit_test(t_create_makes_missing_files_only),
	    cmocka_unit_test(t_deferred_commit_waits_for_the_first_up_to_a_cap),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
