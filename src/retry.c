/* retry.c — error classification and the retry/backoff schedule (see retry.h). */
#include "retry.h"
#include "decimal.h"

#include <curl/curl.h>
#include <math.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

static const struct {
	const char *name;
	const char *words;
} kinds[API_KIND_COUNT] = {
    [API_OK] = {"ok", "The request succeeded."},
    [API_CONFIG] = {"config",
                    "The video service refused sorad's credentials or could not be reached "
                    "at the configured address: check api_base, the API key and the network "
                    "or TLS setup."},
    [API_VALIDATION] = {"validation",
                        "The video service rejected the request as invalid: check the model, "
                        "size, duration, prompt and reference image."},
    [API_CONTENT_POLICY] = {"content_policy",
                            "Your prompt contains restricted content. Please avoid copyrighted "
                            "characters, real people, or inappropriate content."},
    [API_NOT_FOUND] = {"not_found", "The video service does not know this video: it may have been "
                                    "deleted or may have expired."},
    [API_RATE_LIMITED] = {"rate_limited", "Too many requests. Please wait a moment and try again."},
    [API_TRANSIENT] = {"transient",
                       "The connection to the video service was lost or the service had a "
                       "temporary problem; sorad retries such errors on its own."},
    [API_LOCAL] = {"local", "sorad could not read or write a file on this machine (disk full, I/O "
                            "error or missing file): free space or fix the file and try again."},
    [API_FATAL] = {"fatal", "The video service answered in a way sorad does not understand; the "
                            "request was not retried."},
};

const char *api_kind_name(enum api_kind kind)
{
	if ((unsigned)kind >= API_KIND_COUNT)
		return "?";
	return kinds[kind].name;
}

const char *api_kind_describe(enum api_kind kind)
{
	if ((unsigned)kind >= API_KIND_COUNT)
		return "An unknown error happened.";
	return kinds[kind].words;
}

bool api_code_is_content_policy(const char *code)
{
	static const char *const needles[] = {"moderation", "content_policy", "safety"};

	if (!code)
		return false;
	for (size_t i = 0; i < sizeof(needles) / sizeof(needles[0]); i++)
		if (strcasestr(code, needles[i]))
			return true;
	return false;
}

enum api_kind retry_classify_http(long status, const char *error_code)
{
	if (status >= 200 && status < 300)
		return API_OK;
	switch (status) {
	case 401:
	case 403:
		return API_CONFIG;
	case 400:
	case 422:
		return api_code_is_content_policy(error_code) ? API_CONTENT_POLICY : API_VALIDATION;
	case 404:
	case 410: /* Gone: the same verdict, for good */
		return API_NOT_FOUND;
	case 429:
		return API_RATE_LIMITED;
	case 408:
	case 409:
		return API_TRANSIENT;
	default:
		break;
	}
	if (status >= 500 && status < 600)
		return API_TRANSIENT;
	return API_FATAL;
}

enum api_kind retry_classify_curl(int curl_code)
{
	switch ((CURLcode)curl_code) {
	case CURLE_OK:
		return API_OK;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CLIENTCERT:
	case CURLE_USE_SSL_FAILED:
	case CURLE_LOGIN_DENIED:
		return API_CONFIG;
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_HTTP3:
	case CURLE_QUIC_CONNECT_ERROR:
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_SEND_FAIL_REWIND:
	case CURLE_RANGE_ERROR:
		return API_TRANSIENT;
	case CURLE_READ_ERROR:
	case CURLE_WRITE_ERROR:
		return API_LOCAL;
	default:
		return API_FATAL;
	}
}

int retry_parse_should_retry(const char *value)
{
	if (!value)
		return -1;
	if (strcasecmp(value, "true") == 0)
		return 1;
	if (strcasecmp(value, "false") == 0)
		return 0;
	return -1;
}

/* A non-negative decimal "123" or "1.5" with optional surrounding blanks
 * (decimal.h: the process locale cannot change the decimal point); -1 otherwise. */
static double parse_decimal(const char *s)
{
	double v;
	return decimal_real(s, DECIMAL_BLANKS, &v) == 0 ? v : -1;
}

/* One day: a longer delay is treated as "no retry" anyway; the cap keeps the result
 * inside a long on every platform. */
#define RETRY_AFTER_CAP_MS (24L * 3600 * 1000)

static long clamp_ms(double ms)
{
	if (!(ms > 0))
		return -1;
	if (ms >= (double)RETRY_AFTER_CAP_MS)
		return RETRY_AFTER_CAP_MS;
	long v = (long)ms; /* rounded up, without libm's ceil */
	if ((double)v < ms)
		v++;
	return v > 0 ? v : -1;
}

long retry_after_ms(const char *retry_after_ms_hdr, const char *retry_after_hdr, time_t now)
{
	if (retry_after_ms_hdr) {
		double ms = parse_decimal(retry_after_ms_hdr);
		if (ms >= 0)
			return clamp_ms(ms);
	}
	if (retry_after_hdr) {
		double s = parse_decimal(retry_after_hdr);
		if (s >= 0)
			return clamp_ms(s * 1000.0);
		time_t when = curl_getdate(retry_after_hdr, NULL);
		if (when != (time_t)-1)
			return clamp_ms(difftime(when, now) * 1000.0);
	}
	return -1;
}

long retry_after_bound_ms(long after_ms, long max_ms)
{
	if (after_ms <= 0)
		return -1;
	return max_ms > 0 && after_ms > max_ms ? max_ms : after_ms;
}

long retry_backoff_ms(unsigned n, long base_ms, long max_ms, double jitter)
{
	if (base_ms < 0)
		base_ms = 0;
	if (max_ms < 0)
		max_ms = 0;
	if (!(jitter >= 0)) /* also NaN */
		jitter = 0;
	if (jitter > 1)
		jitter = 1;
	double d = (double)base_ms * (double)(1ULL << (n > 62 ? 62 : n));
	if (d > (double)max_ms)
		d = (double)max_ms;
	d *= 1.0 - 0.25 * jitter;
	return d > 0 ? (long)d : 0;
}

long retry_delay_ms(long after_ms, unsigned n, long base_ms, long max_ms, double jitter)
{
	if (after_ms > 0 && after_ms <= RETRY_AFTER_MAX_MS)
		return after_ms;
	return retry_backoff_ms(n, base_ms, max_ms, jitter);
}

bool retry_should(enum api_kind kind, int should_retry, long after_ms, unsigned retries_taken,
                  unsigned max_retries)
{
	if (retries_taken >= max_retries)
		return false;
	if (kind == API_OK || kind == API_LOCAL)
		return false;
	if (after_ms > RETRY_AFTER_MAX_MS)
		return false;
	if (should_retry == 1)
		return true;
	if (should_retry == 0)
		return false;
	return kind == API_TRANSIENT || kind == API_RATE_LIMITED;
}
