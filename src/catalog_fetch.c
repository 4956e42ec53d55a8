/*
 * catalog_fetch.c — GET API_BASE/videos/models, once, blocking (see catalog.h).
 *
 * A libcurl easy request of its own rather than api.c's multi client: the catalog is
 * asked for at start, on SIGHUP and at most hourly, and the transport (api.c) has no
 * generic GET and no blocking call for the daemon. Should it get one, this file is
 * the one call site to move onto it.
 */
#include "catalog.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct body {
	char *data;
	size_t len, cap;
	bool too_big;
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct body *b = ud;
	size_t n = size * nmemb;
	if (b->len + n > CATALOG_MAX_BYTES) {
		b->too_big = true;
		return 0; /* aborts the transfer */
	}
	b->data = xgrow(b->data, &b->cap, b->len + n + 1, 65536);
	memcpy(b->data + b->len, ptr, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

/* The service's own words from an error body {"error": {"message"}} or {"error": "..."},
 * bounded; "" when there are none. */
static void error_text(const struct body *b, char *buf, size_t size)
{
	buf[0] = '\0';
	cJSON *root = b->data ? cJSON_ParseWithLength(b->data, b->len) : NULL;
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
	const cJSON *m = cJSON_IsObject(e) ? cJSON_GetObjectItemCaseSensitive(e, "message") : e;
	if (cJSON_IsString(m) && m->valuestring)
		bfmt(buf, size, ": %.200s", m->valuestring);
	cJSON_Delete(root);
}

/* The request's headers: the key in the configured style, when there is one, and the
 * configured extra headers. NULL only for want of memory. */
static struct curl_slist *headers(const struct conf *c)
{
	struct curl_slist *h = curl_slist_append(NULL, "Accept: application/json");
	if (h && c->api_key) {
		char *auth = c->auth_style == AUTH_API_KEY
		                 ? xasprintf("api-key: %s", c->api_key)
		                 : xasprintf("Authorization: Bearer %s", c->api_key);
		struct curl_slist *n = curl_slist_append(h, auth);
		/* The key leaves no copy behind in freed memory. */
		memset(auth, 0, strlen(auth));
		free(auth);
		if (!n) {
			curl_slist_free_all(h);
			return NULL;
		}
		h = n;
	}
	for (size_t i = 0; h && i < c->n_extra_headers; i++) {
		struct curl_slist *n = curl_slist_append(h, c->extra_headers[i]);
		if (!n) {
			curl_slist_free_all(h);
			return NULL;
		}
		h = n;
	}
	return h;
}

/* Sets the easy handle's options; the first failure's code, or CURLE_OK. */
static CURLcode setup(CURL *e, const char *url, const struct conf *c, struct curl_slist *h,
                      struct body *b)
{
	CURLcode rc = CURLE_OK;
	long connect_ms = c->connect_timeout_ms > 0 ? c->connect_timeout_ms : 5000;
	if (connect_ms > CATALOG_FETCH_TIMEOUT_MS)
		connect_ms = CATALOG_FETCH_TIMEOUT_MS;
	if (!rc)
		rc = curl_easy_setopt(e, CURLOPT_URL, url);
	if (!rc)
		rc = curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	if (!rc)
		rc = curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	if (!rc)
		rc = curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	if (!rc)
		rc = curl_easy_setopt(e, CURLOPT_WRITEDATA, b);
	if (!rc)
		rc = curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	if (!rc) /* never the key to another host */
		rc = curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	if (!rc)
		rc = curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
	if (!rc)
		rc = curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, CATALOG_FETCH_TIMEOUT_MS);
	if (!rc)
		rc = curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)CATALOG_MAX_BYTES);
	if (!rc)
		rc = curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
#if LIBCURL_VERSION_NUM >= 0x075500
	if (!rc)
		rc = curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
	if (!rc)
		rc = curl_easy_setopt(e, CURLOPT_USERAGENT, "sorad/" SORAD_VERSION);
	return rc;
}

struct catalog *catalog_fetch(const struct conf *c, char *why, size_t whylen)
{
	struct catalog *cat = NULL;
	struct body b = {0};
	char url[2048];
	bfmt(why, whylen, "%s", "");
	if (bfmt(url, sizeof(url), "%s/videos/models", c->api_base) != 0) {
		bfmt(why, whylen, "%s", "the api_base is too long");
		return NULL;
	}
	CURL *e = curl_easy_init();
	struct curl_slist *h = e ? headers(c) : NULL;
	if (!e || !h) {
		bfmt(why, whylen, "%s", "cannot set up a request (out of memory)");
		goto fail;
	}
	CURLcode rc = setup(e, url, c, h, &b);
	if (rc == CURLE_OK)
		rc = curl_easy_perform(e);
	long status = 0;
	if (rc == CURLE_OK)
		rc = curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	if (b.too_big || rc == CURLE_FILESIZE_EXCEEDED) {
		bfmt(why, whylen, "the answer is larger than %u bytes", CATALOG_MAX_BYTES);
		goto fail;
	}
	if (rc != CURLE_OK) {
		bfmt(why, whylen, "%s", curl_easy_strerror(rc));
		goto fail;
	}
	if (status != 200) {
		char msg[256];
		error_text(&b, msg, sizeof(msg));
		bfmt(why, whylen, "HTTP %ld%s", status, msg);
		goto fail;
	}
	cat = catalog_parse(b.data ? b.data : "", b.len, why, whylen);
	if (cat) {
		cat->fetched_at = time(NULL);
		free(cat->api_base);
		cat->api_base = xstrdup(c->api_base);
	}
fail:
	curl_slist_free_all(h);
	if (e)
		curl_easy_cleanup(e);
	free(b.data);
	return cat;
}
