/*
 * fuzz_catalog.c — GET /videos/models answers as any server may send them:
 * catalog_parse, catalog_validate and catalog_model_sizes on the same bytes. Oracles:
 * the limits catalog.h promises hold for whatever is accepted (bounded counts, bounded
 * printable UTF-8 strings, unique ids, durations 1..86400), a problem text stays in
 * its buffer, and the cache's JSON reads back as the same catalog.
 */
#include "fuzz.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "utf8.h"

static void check_text(const char *s, const char *what)
{
	size_t n = strlen(s);
	FUZZ_CHECK(n > 0 && n <= CATALOG_MAX_STRING, what);
	FUZZ_CHECK(utf8_check(s, n, NULL), what);
	for (const char *p = s; *p; p++)
		FUZZ_CHECK((unsigned char)*p >= 0x20 && *p != 0x7f, what);
}

static void check_list(const struct catalog_list *l)
{
	FUZZ_CHECK(l->n <= CATALOG_MAX_VALUES, "a list is bounded");
	FUZZ_CHECK(l->stated || l->n == 0, "a list not stated is empty");
	for (size_t i = 0; i < l->n; i++)
		check_text(l->v[i], "a value is bounded printable UTF-8");
}

static void check_model(const struct catalog *cat, const struct catalog_model *m)
{
	check_text(m->id, "an id is bounded printable UTF-8");
	FUZZ_CHECK(catalog_find(cat, m->id) == m, "ids are unique");
	if (m->name)
		check_text(m->name, "a name is bounded printable UTF-8");
	FUZZ_CHECK(m->n_durations <= CATALOG_MAX_VALUES, "durations are bounded");
	for (size_t i = 0; i < m->n_durations; i++)
		FUZZ_CHECK(m->durations[i] >= 1 && m->durations[i] <= 86400, "a duration is sane");
	check_list(&m->resolutions);
	check_list(&m->aspect_ratios);
	check_list(&m->sizes);
	check_list(&m->frames);
	FUZZ_CHECK(m->n_prices <= CATALOG_MAX_VALUES, "prices are bounded");
	for (size_t i = 0; i < m->n_prices; i++) {
		check_text(m->prices[i].sku, "a SKU is bounded printable UTF-8");
		check_text(m->prices[i].usd, "a price is bounded printable UTF-8");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[512], sizes[1024];
	struct catalog *cat = catalog_parse((const char *)data, size, why, sizeof(why));
	if (!cat) {
		FUZZ_CHECK(why[0] != '\0', "a refused catalog says why");
		return 0;
	}
	FUZZ_CHECK(cat->n <= CATALOG_MAX_MODELS, "models are bounded");
	for (size_t i = 0; i < cat->n; i++) {
		const struct catalog_model *m = &cat->models[i];
		check_model(cat, m);
		catalog_model_sizes(m, sizes, sizeof(sizes));
		FUZZ_CHECK(strlen(sizes) < sizeof(sizes), "the sizes fit their buffer");
		struct catalog_request req = {.model = m->id,
		                              .seconds = 7,
		                              .size = "1000x1000",
		                              .first_frame = true,
		                              .last_frame = true,
		                              .audio = CATALOG_YES,
		                              .seed = true};
		int rc = catalog_validate(cat, &req, why, sizeof(why));
		FUZZ_CHECK(strlen(why) < sizeof(why), "the problems fit their buffer");
		FUZZ_CHECK((rc == 0) == (why[0] == '\0'), "-1 exactly when a problem is named");
	}
	/* The cache: what is written reads back as the same catalog. */
	char *json = catalog_to_json(cat);
	struct catalog *back = catalog_parse(json, strlen(json), why, sizeof(why));
	FUZZ_CHECK(back != NULL, "the cache's JSON reads back");
	char *again = catalog_to_json(back);
	FUZZ_CHECK(strcmp(json, again) == 0, "the cache's JSON reads back the same");
	free(again);
	free(json);
	catalog_free(back);
	catalog_free(cat);
	return 0;
}
