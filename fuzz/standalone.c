/*
 * standalone.c — a main() for the fuzz harnesses when they are not linked with
 * libFuzzer (-DSORAD_FUZZ_STANDALONE=ON): AFL++ (afl-fuzz ... -- fuzz_prompt @@), or
 * replaying inputs with any compiler. Each argument is a file, or a directory whose
 * regular files are run in turn; no argument reads one input from stdin.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional in a harness: a weak reference is NULL when it is not defined. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int run_stream(FILE *fp, const char *name)
{
	size_t cap = 4096, len = 0;
	uint8_t *buf = malloc(cap);
	if (!buf)
		return -1;
	for (;;) {
		if (len == cap) {
			uint8_t *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				return -1;
			}
			buf = nb;
			cap *= 2;
		}
		size_t got = fread(buf + len, 1, cap - len, fp);
		if (got == 0)
			break;
		len += got;
	}
	if (ferror(fp)) {
		fprintf(stderr, "fuzz: cannot read %s\n", name);
		free(buf);
		return -1;
	}
	/* A private copy of exactly LEN bytes, so that ASan sees reads past the end. */
	uint8_t *exact = malloc(len ? len : 1);
	if (!exact) {
		free(buf);
		return -1;
	}
	memcpy(exact, buf, len);
	free(buf);
	LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	return 0;
}

static int run_file(const char *path)
{
	FILE *fp = fopen(path, "rb");
	if (!fp) {
		perror(path);
		return -1;
	}
	int rc = run_stream(fp, path);
	fclose(fp);
	return rc;
}

static int run_path(const char *path, unsigned *n)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		perror(path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		(*n)++;
		return run_file(path);
	}
	DIR *d = opendir(path);
	if (!d) {
		perror(path);
		return -1;
	}
	int rc = 0;
	const struct dirent *de;
	while ((de = readdir(d))) {
		char sub[4096];
		struct stat sst;
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name) >= (int)sizeof(sub) ||
		    stat(sub, &sst) != 0 || !S_ISREG(sst.st_mode))
			continue;
		(*n)++;
		if (run_file(sub) != 0)
			rc = -1;
	}
	closedir(d);
	return rc;
}

int main(int argc, char **argv)
{
	unsigned n = 0;
	int rc = 0;
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	if (argc < 2)
		return run_stream(stdin, "stdin") == 0 ? 0 : 1;
	for (int i = 1; i < argc; i++)
		if (run_path(argv[i], &n) != 0)
			rc = 1;
	fprintf(stderr, "fuzz: %u inputs run\n", n);
	return rc;
}
