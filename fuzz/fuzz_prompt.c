/*
 * fuzz_prompt.c — the inbox's file formats (prompt_parse: .txt with front matter,
 * .json, .jsonl batches) and the validation that follows, with the built-in defaults.
 *
 * Input: the first byte picks the format; up to the first '\n' within the next 255
 * bytes is the file's stem (an inbox file name is untrusted too), the rest is the
 * file. Oracles: every spec has a name that is a safe file stem (it becomes
 * STATE/jobs/NAME.json and OUTBOX/NAME.*); every spec, an error spec too, has a model,
 * a size and seconds (a job record is made of each: issue 18's crash was an error spec
 * without them); a spec without an error is complete; a batch's line numbers stay
 * within PROMPT_BATCH_MAX (what a record may hold), and a batch with a job past that
 * line is refused whole, as one error spec.
 */
#include "fuzz.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include "conf.h"
#include "prompt.h"

static struct conf *defaults;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	char err[512];
	/* The seed's variables would change the defaults: same input, same run. */
	static const char *const vars[] = {
	    "OPENAI_API_KEY", "OPENAI_BASE_URL", "VIDEO_STORAGE_PATH", "MAX_POLL_TIMEOUT",
	    "DEFAULT_MODEL",  "DEFAULT_SIZE",    "DEFAULT_SECONDS",    "MAX_FILE_SIZE"};
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
	defaults = conf_load(NULL, err, sizeof(err));
	if (!defaults) {
		fprintf(stderr, "fuzz_prompt: conf_load(NULL): %s\n", err);
		abort();
	}
	return 0;
}

/* Whether a non-blank line comes after line PROMPT_BATCH_MAX (a BOM aside). */
static bool past_limit(const char *d, size_t n)
{
	if (n >= 3 && !memcmp(d, "\xEF\xBB\xBF", 3)) {
		d += 3;
		n -= 3;
	}
	unsigned long line = 1;
	for (size_t i = 0; i < n; i++) {
		if (d[i] == '\n')
			line++;
		else if (!isspace((unsigned char)d[i]) && line > PROMPT_BATCH_MAX)
			return true;
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum prompt_format fmts[] = {PROMPT_TXT, PROMPT_JSON, PROMPT_JSONL};
	char stem[256] = "fuzz";
	struct prompt_file pf;
	if (size < 1)
		return 0;
	enum prompt_format fmt = fmts[data[0] % 3];
	data++;
	size--;
	const uint8_t *nl = memchr(data, '\n', size < 256 ? size : 256);
	if (nl) {
		size_t sl = (size_t)(nl - data);
		if (memchr(data, '\0', sl))
			return 0; /* a file name has no NUL */
		memcpy(stem, data, sl);
		stem[sl] = '\0';
		size -= sl + 1;
		data = nl + 1;
	}
	prompt_parse(fmt, stem, (const char *)data, size, defaults, &pf);
	FUZZ_CHECK(pf.n >= 1, "a file yields at least one spec");
	FUZZ_CHECK(pf.n <= PROMPT_BATCH_MAX, "a file yields at most PROMPT_BATCH_MAX specs");
	if (fmt == PROMPT_JSONL && past_limit((const char *)data, size))
		FUZZ_CHECK(pf.n == 1 && pf.jobs[0].error && !pf.jobs[0].prompt,
		           "a batch with a job past the line limit is refused whole");
	for (size_t i = 0; i < pf.n; i++) {
		const struct job_spec *s = &pf.jobs[i];
		char why[512];
		FUZZ_CHECK(s->name && prompt_name_ok(s->name), "a spec's name is a safe stem");
		FUZZ_CHECK(s->model && s->size && s->seconds > 0,
		           "every spec, error or not, has its model, size and seconds");
		FUZZ_CHECK(s->line <= PROMPT_BATCH_MAX, "a line number fits a record");
		FUZZ_CHECK(pf.n == 1 || s->line > 0, "a batch of several jobs numbers its lines");
		if (s->error)
			continue;
		FUZZ_CHECK(s->prompt && s->model && s->size && s->seconds > 0,
		           "a spec without an error is complete");
		FUZZ_CHECK(!s->reference || prompt_name_ok(s->reference),
		           "a reference is a safe file name");
		(void)prompt_validate(s, defaults, why, sizeof(why));
	}
	prompt_file_release(&pf);
	return 0;
}
