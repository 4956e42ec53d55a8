/*
 * fuzz_conf.c — the configuration parser (conf_load: libconfuse, the key checks, the
 * model table, cross checks). The input is the file, read through /proc/self/fd of a
 * memfd so that conf_load runs exactly as for a path given with -c.
 * Oracle: a configuration that loads is usable (folders absolute, model table sane).
 */
#include "fuzz.h"

#include <string.h>

#include "conf.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	static const char *const vars[] = {
	    "OPENAI_API_KEY",   "OPENAI_BASE_URL", "VIDEO_STORAGE_PATH",
	    "MAX_POLL_TIMEOUT", "DEFAULT_MODEL",   "DEFAULT_SIZE",
	    "DEFAULT_SECONDS",  "MAX_FILE_SIZE",   "SORAD_CONF"};
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], err[2048];
	int fd = fuzz_memfd(data, size);
	if (fd < 0)
		return 0;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	struct conf *c = conf_load(path, err, sizeof(err));
	if (c) {
		FUZZ_CHECK(c->inbox && c->inbox[0] == '/' && c->outbox && c->outbox[0] == '/' &&
		               c->state_dir && c->state_dir[0] == '/',
		           "folders are absolute");
		FUZZ_CHECK(c->n_models > 0 && conf_model(c, c->default_model),
		           "the default model is in the table");
		for (size_t i = 0; i < c->n_models; i++) {
			const struct model_def *m = &c->models[i];
			for (size_t k = 0; k < m->n_sizes; k++)
				(void)conf_estimate_cost(c, m->name, m->sizes[k].size,
				                         m->n_seconds ? m->seconds[0] : 4);
		}
		conf_free(c);
	} else {
		FUZZ_CHECK(err[0], "a rejected file has a reason");
	}
	close(fd);
	return 0;
}
