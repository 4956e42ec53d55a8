/* t_dupes.c — the duplicate index: keys that differ exactly when what a job asks for
 * differs (the reference image's bytes included), and the map. */
#include "dupes.h"
#include "job.h"
#include "util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void fill(struct job *j, const char *prompt, const char *model, unsigned seconds)
{
	job_init(j);
	j->prompt = xstrdup(prompt);
	j->model = xstrdup(model);
	j->size = xstrdup("1280x720");
	j->seconds = seconds;
}

static void t_keys_follow_what_is_asked(void **state)
{
	(void)state;
	struct job a, b;
	char ka[DUPES_KEY_LEN + 1], kb[DUPES_KEY_LEN + 1];
	fill(&a, "A fox.", "sora-2", 4);
	fill(&b, "A fox.", "sora-2", 4);
	dupes_key(&a, NULL, ka);
	dupes_key(&b, NULL, kb);
	assert_int_equal(strlen(ka), DUPES_KEY_LEN);
	assert_string_equal(ka, kb);
	b.seconds = 8;
	dupes_key(&b, NULL, kb);
	assert_string_not_equal(ka, kb);
	job_release(&b);
	/* fields do not run into each other: ("A fox.", "sora-2") vs ("A fox.s", "ora-2") */
	fill(&b, "A fox.s", "ora-2", 4);
	dupes_key(&b, NULL, kb);
	assert_string_not_equal(ka, kb);
	job_release(&b);
	/* the reference image's bytes count */
	char p1[] = "/tmp/t_dupes.XXXXXX";
	int fd = mkstemp(p1);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "red", 3), 3);
	close(fd);
	fill(&b, "A fox.", "sora-2", 4);
	b.reference = xstrdup("fox.png");
	a.reference = xstrdup("fox.png");
	dupes_key(&a, p1, ka);
	dupes_key(&b, p1, kb);
	assert_string_equal(ka, kb);
	FILE *f = fopen(p1, "w");
	assert_non_null(f);
	fputs("blue", f);
	fclose(f);
	dupes_key(&b, p1, kb);
	assert_string_not_equal(ka, kb);
	unlink(p1);
	job_release(&a);
	job_release(&b);

	/* What only some protocols send counts once set: another seed, sound or last frame
	 * is another video (a job without any of them hashes nothing more: its key is the
	 * one it always had). */
	fill(&a, "A fox.", "google/veo-3.1", 8);
	dupes_key(&a, NULL, ka);
	char plain[DUPES_KEY_LEN + 1];
	bcopy_str(plain, sizeof(plain), ka);
	static const struct {
		bool seed;
		long long value;
		int audio;
		const char *last, *options;
	} asks[] = {{true, 1, 0, NULL, NULL},       {true, 2, 0, NULL, NULL},
	            {false, 0, 1, NULL, NULL},      {false, 0, 2, NULL, NULL},
	            {false, 0, 0, "end.png", NULL}, {false, 0, 0, NULL, "{\"a\":1}"}};
	char seen[ARRAY_LEN(asks)][DUPES_KEY_LEN + 1];
	for (size_t i = 0; i < ARRAY_LEN(asks); i++) {
		fill(&b, "A fox.", "google/veo-3.1", 8);
		b.has_seed = asks[i].seed;
		b.seed = asks[i].value;
		b.audio = asks[i].audio;
		b.last_frame = asks[i].last ? xstrdup(asks[i].last) : NULL;
		b.options = asks[i].options ? xstrdup(asks[i].options) : NULL;
		dupes_key(&b, NULL, seen[i]);
		assert_string_not_equal(seen[i], plain);
		for (size_t k = 0; k < i; k++)
			assert_string_not_equal(seen[i], seen[k]);
		job_release(&b);
	}
	job_release(&a);
}

static void t_map(void **state)
{
	(void)state;
	struct dupes *d = dupes_new();
	char key[32], name[32];
	for (int i = 0; i < 1000; i++) { /* grows past its first size */
		bfmt(key, sizeof key, "%016x", i);
		bfmt(name, sizeof name, "job-%d", i);
		dupes_put(d, key, name, i);
	}
	long long at = -1;
	assert_string_equal(dupes_get(d, "00000000000001f3", &at), "job-499");
	assert_int_equal(at, 499);
	dupes_put(d, "00000000000001f3", "newer", 5000); /* the newest job wins */
	assert_string_equal(dupes_get(d, "00000000000001f3", &at), "newer");
	assert_int_equal(at, 5000);
	assert_null(dupes_get(d, "ffffffffffffffff", NULL));
	dupes_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_keys_follow_what_is_asked),
	    cmocka_unit_test(t_map),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
