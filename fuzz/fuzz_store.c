/*
 * fuzz_store.c — job records read back from the state directory (store_record_parse):
 * a disk can be corrupted and a person can edit. Oracle: a record that parses is
 * written back (store_record_json) into one that parses again to the same record, so
 * that a restart never loses a job it could read once.
 */
#include "fuzz.h"

#include <string.h>

#include "job.h"
#include "prompt.h"
#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[512];
	struct job j, k;
	if (store_record_parse(&j, (const char *)data, size, why, sizeof(why)) != 0) {
		FUZZ_CHECK(why[0], "a rejected record has a reason");
		return 0;
	}
	FUZZ_CHECK(j.name && prompt_name_ok(j.name), "the name is a safe stem");
	char *once = store_record_json(&j);
	FUZZ_CHECK(once, "a parsed record serializes");
	int rc = store_record_parse(&k, once, strlen(once), why, sizeof(why));
	if (rc != 0)
		fprintf(stderr, "fuzz_store: written record does not parse back: %s\n%s\n", why,
		        once);
	FUZZ_CHECK(rc == 0, "a written record parses back");
	char *twice = store_record_json(&k);
	FUZZ_CHECK(twice && strcmp(once, twice) == 0, "the record survives a round trip");
	free(once);
	free(twice);
	job_release(&j);
	job_release(&k);
	return 0;
}
