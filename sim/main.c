/*
 * main.c - sora-sim: a simulator of the OpenAI Videos API (/v1/videos), faithful
 * enough for the official SDKs, with real media and seeded fault injection. This
 * file parses the command line, starts the modules, waits for SIGTERM/SIGINT and
 * shuts everything down in reverse order.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "faults.h"
#include "gateway.h"
#include "media.h"
#include "openrouter.h"
#include "routes.h"
#include "server.h"
#include "stats.h"
#include "util.h"
#include "videos.h"

#ifndef SORAD_VERSION
#define SORAD_VERSION "0.0.0"
#endif

static const char usage_text[] =
    "usage: sora-sim --listen HOST:PORT [options]\n"
    "\n"
    "A simulator of the OpenAI Videos API (POST/GET/DELETE /v1/videos...).\n"
    "\n"
    "  --listen HOST:PORT   address to listen on; port 0 picks a free port (default "
    "127.0.0.1:4010)\n"
    "  --port-file PATH     write the bound port to PATH (atomically) once listening\n"
    "  --api-key K          accept only 'Authorization: Bearer K' (default: any non-empty key)\n"
    "  --gen-ms N           creation to completion, in ms (default 3000)\n"
    "  --gen-jitter-pct N   each video's generation time is --gen-ms varied by up\n"
    "                       to N % either way, a function of the seed and creation\n"
    "                       order (0..90, default 0)\n"
    "  --progress-curve C   linear (default) or ease-in: progress is the square of\n"
    "                       the fraction of the generation time past (slow, then fast)\n"
    "  --poll-after-ms N    openai-poll-after-ms header on pending videos (default 1000)\n"
    "  --expire-s N         content expires N s after completion (default 3600)\n"
    "  --clock-offset-s N   the service's clock is N s (may be negative) off this\n"
    "                       machine's: created_at, completed_at, expires_at and the\n"
    "                       Date header are shifted by N (default 0); expiry still\n"
    "                       comes --expire-s after completion in real time\n"
    "  --seed N             seed of video ids and injected faults (default 1)\n"
    "  --p429 P             probability of an injected 429 (with retry-after) per /v1 request\n"
    "  --retry-after S      injected 429s say 'retry-after: S' (seconds, no retry-after-ms)\n"
    "                       instead of a drawn 200..500 ms\n"
    "  --p5xx P             probability of an injected 500 or 503\n"
    "  --preset P           probability of a connection reset after processing (no response)\n"
    "  --ptruncate P        probability of a response body cut short\n"
    "  --pslow P            probability of a response delayed by --slow-ms\n"
    "  --slow-ms N          delay of slow responses (default 1500)\n"
    "  --draw-prompt        draw the prompt on the video (one render per distinct prompt)\n"
    "  --media-dir DIR      keep rendered media in DIR (default: a temp dir removed at exit)\n"
    "  --ffmpeg PATH        ffmpeg to render with; 'none' serves built-in fixtures\n"
    "                       (default: ffmpeg from PATH, fixtures if there is none)\n"
    "  --threads N          HTTP threads (default 2)\n"
    "  --max-body BYTES     request body limit, larger gets 413 (default 52428800)\n"
    "  --verbose            log every request on stderr\n"
    "\nFor benchmarks:\n"
    "  --log-creates FILE   append '<CLOCK_REALTIME ns> <prompt>' per video created\n"
    "  --log-bodies FILE    append the JSON body of every OpenRouter create, one a line\n"
    "  --video-bytes N      serve every MP4 padded to N bytes (a trailing 'free' box)\n"
    "\nLooking like a gateway (see sorad's examples/gateways/):\n"
    "  --path-prefix P      serve the API under P instead of /v1 (Azure: /openai/v1)\n"
    "  --auth-header H      'authorization' (Bearer, default) or 'api-key' (Azure)\n"
    "  --id-style S         'openai' (default); 'litellm': long base64 ids as a\n"
    "                       LiteLLM proxy rewrites them; 'litellm-veo': LiteLLM's ids\n"
    "                       of Gemini Veo operations (may hold '+', '/' and '='); 'b64':\n"
    "                       base64 ids that always hold '+', '/' and '=' (percent-encode\n"
    "                       them); 'huge': ids of 5,000 letters and digits\n"
    "  --model NAME:SIZES:SECONDS  a model of the gateway, e.g. veo-3:1280x720:4,6,8;\n"
    "                       repeatable; replaces sora-2 and sora-2-pro\n"
    "  --no-prompt          Video objects have no 'prompt' (as LiteLLM's proxy)\n"
    "  --dated-models       answer model sora-2 as sora-2-2025-10-06, sora-2-pro as\n"
    "                       sora-2-pro-2025-10-06\n"
    "  --created-at-zero    answer created_at as 0\n"
    "  --list-mode M        GET /v1/videos (the list): 'ok' (default), or fails with\n"
    "                       '404', '405' (Allow: POST), '501', or 'litellm-500' (the\n"
    "                       body of LiteLLM's proxy when the backend cannot list)\n"
    "  --p5xx-after-create P  probability that a create or remix creates the video but\n"
    "                       is answered 500 (Portkey's body), 502 or 504 (HTML pages)\n"
    "  --after-create-status N  500, 502 or 504: always that one (default: seeded choice)\n"
    "  --answer-model REQ=NAME  answer 'model' NAME for videos asked for as REQ (the\n"
    "                       backend's name), e.g. veo-3=veo-3.0-generate-preview\n"
    "  --queued-status W    the status word while queued (default queued)\n"
    "  --running-status W   the status word while generating (default in_progress)\n"
    "  --no-progress        'progress' is null in every Video object\n"
    "  --sparse-videos      Video objects hold only what LiteLLM's Veo transforms fill:\n"
    "                       id, status, model (create only), error; the rest null\n"
    "  --usage              create and remix answers carry usage {duration_seconds},\n"
    "                       other answers usage null (LiteLLM)\n"
    "  --retrieve-id M      a retrieve answer's id: 'same' (default), 'empty' (\"\"),\n"
    "                       'raw' (the upstream id inside a LiteLLM id), 'reencoded'\n"
    "                       (LiteLLM's id again, model_id empty); the last two are\n"
    "                       accepted back in paths, as LiteLLM decodes ids\n"
    "  --list-passthrough   list items are the upstream's JSON (prompt kept), ids\n"
    "                       re-encoded with the item's model, first_id/last_id raw\n"
    "  --delete-mode M      DELETE: 'ok' (default), 'fastapi-405' (no route: 405\n"
    "                       {\"detail\":\"Method Not Allowed\"}, Allow: GET), 'litellm-500'\n"
    "  --remix-mode M       remix: 'ok' (default) or 'litellm-500'\n"
    "  --variant-ignored    content ignores 'variant': always the MP4, video/mp4\n"
    "  --content-disposition  content carries 'Content-Disposition: attachment;\n"
    "                       filename=video_<id>.mp4'\n"
    "  --no-ranges          content ignores Range: 200 with every byte, no Accept-Ranges\n"
    "  --range-reencode     a 206 body is read as UTF-8 text (U+FFFD for invalid bytes)\n"
    "                       and re-encoded: longer than Content-Range says, corrupt\n"
    "  --chunked W          answers without Content-Length: 'none' (default),\n"
    "                       'content' or 'all' (every /v1 answer)\n"
    "\nOpenRouter's video API instead (see sora-sim(1)):\n"
    "  --protocol P         'openai' (default: the Videos API under /v1) or 'openrouter':\n"
    "                       OpenRouter's under /api/v1 (POST /videos answered 202,\n"
    "                       GET /videos/{id}, /videos/{id}/content?index=0, and the\n"
    "                       public catalog GET /videos/models), ids gen-vid-...; applied\n"
    "                       where it stands, like --profile\n"
    "  --callback-secret-file F  sign callbacks with the secret in F (its first line):\n"
    "                       X-OpenRouter-Signature: t=<unix>,v1=<hex HMAC-SHA256 of\n"
    "                       \"<t>,<body>\">; without it callbacks go unsigned\n"
    "  --callback-repeat N  deliver each callback N times (default 1), as a retrying\n"
    "                       sender may\n"
    "\nProfiles of real gateways (bundles of the options above, applied where --profile\n"
    "stands: options after it override it; see sora-sim(1) for the sources):\n"
    "  --profile litellm-veo     LiteLLM in front of Gemini Veo: --id-style litellm-veo,\n"
    "                       models veo-3 and veo-3.1 (1280x720, 720x1280, 1920x1080,\n"
    "                       1080x1920; 4, 6, 8 s) answered as veo-3.0-generate-preview\n"
    "                       and veo-3.1-generate-preview, --queued-status processing\n"
    "                       --running-status processing --no-progress --no-prompt\n"
    "                       --sparse-videos --usage --retrieve-id reencoded --list-mode\n"
    "                       litellm-500 --delete-mode fastapi-405 --remix-mode litellm-500\n"
    "                       --variant-ignored --content-disposition --no-ranges\n"
    "                       --chunked content\n"
    "  --profile litellm-openai  LiteLLM in front of OpenAI: --id-style litellm\n"
    "                       --no-prompt --list-passthrough --usage --retrieve-id reencoded\n"
    "                       --delete-mode fastapi-405 --variant-ignored\n"
    "                       --content-disposition --no-ranges --chunked content\n"
    "  --profile portkey-pinned  Portkey 1.15.2 with its lockfile's hono: --chunked all\n"
    "                       --range-reencode\n"
    "  --help, --version\n"
    "\n"
    "Prompts containing [sim:fail] fail during generation; [sim:moderation] are\n"
    "rejected at creation; [sim:status=WORD] ends with status WORD (cancelled, expired,\n"
    "...) instead of completed, never downloadable. GET /__sim/stats shows counters,\n"
    "POST /__sim/reset clears them.\n";

struct options {
	const char *listen;
	const char *port_file;
	const char *api_key;
	const char *media_dir;
	const char *ffmpeg;
	unsigned long long gen_jitter_pct;
	bool progress_ease;
	unsigned long long gen_ms, poll_after_ms, expire_s, seed, slow_ms, threads, max_body;
	unsigned long long retry_after_s; /* 0: a drawn retry-after-ms */
	long long clock_offset_s;
	double p429, p5xx, preset, ptruncate, pslow, p5xx_after_create;
	unsigned long long after_create_status;
	struct gateway_shape shape;     /* how Video objects are shaped (gateway.h) */
	struct gateway_content content; /* how content is served (gateway.h) */
	bool draw_prompt;
	bool openrouter;                  /* --protocol openrouter */
	const char *callback_secret_file; /* --callback-secret-file */
	unsigned long long callback_repeat;
	const char *log_creates;        /* benchmarks */
	const char *log_bodies;         /* tests: OpenRouter create bodies */
	unsigned long long video_bytes; /* benchmarks */
};

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sora-sim: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'sora-sim --help'.\n");
	exit(EX_USAGE);
}

static unsigned long long parse_uint(const char *name, const char *s, unsigned long long max)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (*s == '\0' || *s == '-' || *end != '\0' || errno != 0 || v > max) {
		fprintf(stderr, "sora-sim: %s: expected an integer from 0 to %llu, got '%s'\n",
		        name, max, s);
		exit(EX_USAGE);
	}
	return v;
}

static double parse_prob(const char *name, const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || errno != 0 || !(v >= 0.0 && v <= 1.0)) {
		fprintf(stderr, "sora-sim: %s: expected a probability from 0 to 1, got '%s'\n",
		        name, s);
		exit(EX_USAGE);
	}
	return v;
}

static long long parse_int(const char *name, const char *s, long long max_abs)
{
	long long v;
	char *end;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v > max_abs || v < -max_abs) {
		fprintf(stderr, "sora-sim: %s: expected an integer from %lld to %lld, got '%s'\n",
		        name, -max_abs, max_abs, s);
		exit(EX_USAGE);
	}
	return v;
}

/* "HOST:PORT" or "[V6]:PORT" into a socket address. */
static int parse_listen(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[256], port[16];
	const char *colon;
	struct addrinfo hints, *res;
	size_t hl;
	int rc;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':')
			return -1;
		hl = (size_t)(close - s - 1);
		s++;
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return -1;
		hl = (size_t)(colon - s);
	}
	if (hl >= sizeof(host) || strlen(colon + 1) >= sizeof(port) || colon[1] == '\0')
		return -1;
	memcpy(host, s, hl);
	host[hl] = '\0';
	snprintf(port, sizeof(port), "%s", colon + 1);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
	rc = getaddrinfo(hl ? host : NULL, port, &hints, &res);
	if (rc != 0) {
		fprintf(stderr, "sora-sim: --listen %s: %s\n", s, gai_strerror(rc));
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* The options that make the simulator look like a gateway (gateway.h), in the order
 * of their O_ codes from O_PATH_PREFIX on. */
static void gateway_option(int which, const char *arg)
{
	static const char *const names[] = {"--path-prefix", "--auth-header", "--id-style",
	                                    "--model", "--list-mode"};
	char why[256];
	int rc;

	switch (which) {
	case 0:
		rc = gateway_set_prefix(arg, why, sizeof(why));
		break;
	case 1:
		rc = gateway_set_auth(arg, why, sizeof(why));
		break;
	case 2:
		rc = gateway_set_ids(arg, why, sizeof(why));
		break;
	case 3:
		rc = gateway_add_model(arg, why, sizeof(why));
		break;
	default:
		which = 4;
		rc = gateway_set_list_mode(arg, why, sizeof(why));
		break;
	}
	if (rc < 0)
		usage_error("%s: %s", names[which], why);
}

enum option_code {
	O_LISTEN = 256,
	O_PORT_FILE,
	O_GEN_MS,
	O_GEN_JITTER_PCT,
	O_PROGRESS_CURVE,
	O_API_KEY,
	O_SEED,
	O_P429,
	O_P5XX,
	O_PRESET,
	O_PTRUNCATE,
	O_PSLOW,
	O_SLOW_MS,
	O_RETRY_AFTER,
	O_POLL_AFTER,
	O_EXPIRE,
	O_CLOCK_OFFSET,
	O_DRAW,
	O_MEDIA_DIR,
	O_FFMPEG,
	O_THREADS,
	O_MAX_BODY,
	O_VERBOSE,
	O_PATH_PREFIX,
	O_AUTH_HEADER,
	O_ID_STYLE,
	O_MODEL,
	O_LIST_MODE, /* the last of the gateway_option() codes */
	O_NO_PROMPT,
	O_DATED_MODELS,
	O_CREATED_AT_ZERO,
	O_P5XX_AFTER_CREATE,
	O_AFTER_CREATE_STATUS,
	O_HELP,
	O_VERSION,
	O_LOG_CREATES,
	O_LOG_BODIES,
	O_VIDEO_BYTES,
	O_PROFILE,
	O_RUNNING_STATUS,
	O_QUEUED_STATUS,
	O_NO_PROGRESS,
	O_RETRIEVE_ID,
	O_SPARSE_VIDEOS,
	O_USAGE,
	O_LIST_PASSTHROUGH,
	O_ANSWER_MODEL,
	O_DELETE_MODE,
	O_REMIX_MODE,
	O_VARIANT_IGNORED,
	O_CONTENT_DISPOSITION,
	O_NO_RANGES,
	O_RANGE_REENCODE,
	O_CHUNKED,
	O_PROTOCOL,
	O_CALLBACK_SECRET_FILE,
	O_CALLBACK_REPEAT,
};

static const struct option longopts[] = {
    {"listen", required_argument, NULL, O_LISTEN},
    {"port-file", required_argument, NULL, O_PORT_FILE},
    {"gen-ms", required_argument, NULL, O_GEN_MS},
    {"gen-jitter-pct", required_argument, NULL, O_GEN_JITTER_PCT},
    {"progress-curve", required_argument, NULL, O_PROGRESS_CURVE},
    {"api-key", required_argument, NULL, O_API_KEY},
    {"seed", required_argument, NULL, O_SEED},
    {"p429", required_argument, NULL, O_P429},
    {"p5xx", required_argument, NULL, O_P5XX},
    {"preset", required_argument, NULL, O_PRESET},
    {"ptruncate", required_argument, NULL, O_PTRUNCATE},
    {"pslow", required_argument, NULL, O_PSLOW},
    {"slow-ms", required_argument, NULL, O_SLOW_MS},
    {"retry-after", required_argument, NULL, O_RETRY_AFTER},
    {"poll-after-ms", required_argument, NULL, O_POLL_AFTER},
    {"expire-s", required_argument, NULL, O_EXPIRE},
    {"clock-offset-s", required_argument, NULL, O_CLOCK_OFFSET},
    {"draw-prompt", no_argument, NULL, O_DRAW},
    {"media-dir", required_argument, NULL, O_MEDIA_DIR},
    {"ffmpeg", required_argument, NULL, O_FFMPEG},
    {"threads", required_argument, NULL, O_THREADS},
    {"max-body", required_argument, NULL, O_MAX_BODY},
    {"verbose", no_argument, NULL, O_VERBOSE},
    {"path-prefix", required_argument, NULL, O_PATH_PREFIX},
    {"auth-header", required_argument, NULL, O_AUTH_HEADER},
    {"id-style", required_argument, NULL, O_ID_STYLE},
    {"model", required_argument, NULL, O_MODEL},
    {"list-mode", required_argument, NULL, O_LIST_MODE},
    {"no-prompt", no_argument, NULL, O_NO_PROMPT},
    {"dated-models", no_argument, NULL, O_DATED_MODELS},
    {"created-at-zero", no_argument, NULL, O_CREATED_AT_ZERO},
    {"p5xx-after-create", required_argument, NULL, O_P5XX_AFTER_CREATE},
    {"after-create-status", required_argument, NULL, O_AFTER_CREATE_STATUS},
    {"log-creates", required_argument, NULL, O_LOG_CREATES},
    {"log-bodies", required_argument, NULL, O_LOG_BODIES},
    {"video-bytes", required_argument, NULL, O_VIDEO_BYTES},
    {"profile", required_argument, NULL, O_PROFILE},
    {"running-status", required_argument, NULL, O_RUNNING_STATUS},
    {"queued-status", required_argument, NULL, O_QUEUED_STATUS},
    {"no-progress", no_argument, NULL, O_NO_PROGRESS},
    {"retrieve-id", required_argument, NULL, O_RETRIEVE_ID},
    {"sparse-videos", no_argument, NULL, O_SPARSE_VIDEOS},
    {"usage", no_argument, NULL, O_USAGE},
    {"list-passthrough", no_argument, NULL, O_LIST_PASSTHROUGH},
    {"answer-model", required_argument, NULL, O_ANSWER_MODEL},
    {"delete-mode", required_argument, NULL, O_DELETE_MODE},
    {"remix-mode", required_argument, NULL, O_REMIX_MODE},
    {"variant-ignored", no_argument, NULL, O_VARIANT_IGNORED},
    {"content-disposition", no_argument, NULL, O_CONTENT_DISPOSITION},
    {"no-ranges", no_argument, NULL, O_NO_RANGES},
    {"range-reencode", no_argument, NULL, O_RANGE_REENCODE},
    {"chunked", required_argument, NULL, O_CHUNKED},
    {"protocol", required_argument, NULL, O_PROTOCOL},
    {"callback-secret-file", required_argument, NULL, O_CALLBACK_SECRET_FILE},
    {"callback-repeat", required_argument, NULL, O_CALLBACK_REPEAT},
    {"help", no_argument, NULL, O_HELP},
    {"version", no_argument, NULL, O_VERSION},
    {NULL, 0, NULL, 0},
};

static void apply_profile(const char *name, struct options *o);
static void status_option(const char *name, const char *arg, char *dst);

/* Applies the option C with its argument ARG (NULL for a flag), from the command line
 * or from a profile. */
static void apply_option(int c, const char *arg, struct options *o)
{
	char why[256];

	switch (c) {
	case O_LISTEN:
		o->listen = arg;
		break;
	case O_PORT_FILE:
		o->port_file = arg;
		break;
	case O_GEN_MS:
		o->gen_ms = parse_uint("--gen-ms", arg, 86400000ULL);
		break;
	case O_GEN_JITTER_PCT:
		o->gen_jitter_pct = parse_uint("--gen-jitter-pct", arg, 90);
		break;
	case O_PROGRESS_CURVE:
		if (strcmp(arg, "linear") == 0)
			o->progress_ease = false;
		else if (strcmp(arg, "ease-in") == 0)
			o->progress_ease = true;
		else
			usage_error("--progress-curve: expected linear or ease-in, got '%s'", arg);
		break;
	case O_API_KEY:
		if (*arg == '\0')
			usage_error("--api-key: the key must not be empty");
		o->api_key = arg;
		break;
	case O_SEED:
		o->seed = parse_uint("--seed", arg, ULLONG_MAX);
		break;
	case O_P429:
		o->p429 = parse_prob("--p429", arg);
		break;
	case O_P5XX:
		o->p5xx = parse_prob("--p5xx", arg);
		break;
	case O_PRESET:
		o->preset = parse_prob("--preset", arg);
		break;
	case O_PTRUNCATE:
		o->ptruncate = parse_prob("--ptruncate", arg);
		break;
	case O_PSLOW:
		o->pslow = parse_prob("--pslow", arg);
		break;
	case O_SLOW_MS:
		o->slow_ms = parse_uint("--slow-ms", arg, 600000);
		break;
	case O_RETRY_AFTER:
		o->retry_after_s = parse_uint("--retry-after", arg, 100000000);
		break;
	case O_POLL_AFTER:
		o->poll_after_ms = parse_uint("--poll-after-ms", arg, 3600000);
		break;
	case O_EXPIRE:
		o->expire_s = parse_uint("--expire-s", arg, 315360000ULL);
		break;
	case O_CLOCK_OFFSET:
		/* Ten years either way keeps every reported time positive. */
		o->clock_offset_s = parse_int("--clock-offset-s", arg, 315360000LL);
		break;
	case O_DRAW:
		o->draw_prompt = true;
		break;
	case O_MEDIA_DIR:
		o->media_dir = arg;
		break;
	case O_FFMPEG:
		o->ffmpeg = arg;
		break;
	case O_THREADS:
		o->threads = parse_uint("--threads", arg, 64);
		break;
	case O_MAX_BODY:
		o->max_body = parse_uint("--max-body", arg, 1ULL << 34);
		break;
	case O_VERBOSE:
		sim_verbose = true;
		break;
	case O_PATH_PREFIX:
	case O_AUTH_HEADER:
	case O_ID_STYLE:
	case O_MODEL:
	case O_LIST_MODE:
		gateway_option(c - O_PATH_PREFIX, arg);
		break;
	case O_NO_PROMPT:
		o->shape.no_prompt = true;
		break;
	case O_DATED_MODELS:
		o->shape.dated_models = true;
		break;
	case O_CREATED_AT_ZERO:
		o->shape.created_at_zero = true;
		break;
	case O_P5XX_AFTER_CREATE:
		o->p5xx_after_create = parse_prob("--p5xx-after-create", arg);
		break;
	case O_AFTER_CREATE_STATUS:
		o->after_create_status = parse_uint("--after-create-status", arg, 599);
		if (o->after_create_status != 500 && o->after_create_status != 502 &&
		    o->after_create_status != 504)
			usage_error("--after-create-status: expected 500, 502 or 504, got '%s'",
			            arg);
		break;
	case O_LOG_BODIES:
		o->log_bodies = arg;
		break;
	case O_LOG_CREATES:
		o->log_creates = arg;
		break;
	case O_VIDEO_BYTES:
		o->video_bytes = parse_uint("--video-bytes", arg, 1ULL << 40);
		break;
	case O_HELP:
		fputs(usage_text, stdout);
		exit(0);
	case O_VERSION:
		printf("sora-sim %s\n", SORAD_VERSION);
		exit(0);
	case O_PROFILE:
		apply_profile(arg, o);
		break;
	case O_RUNNING_STATUS:
	case O_QUEUED_STATUS:
		status_option(c == O_RUNNING_STATUS ? "--running-status" : "--queued-status", arg,
		              c == O_RUNNING_STATUS ? o->shape.running_status
		                                    : o->shape.queued_status);
		break;
	case O_NO_PROGRESS:
		o->shape.no_progress = true;
		break;
	case O_RETRIEVE_ID:
		if (gateway_parse_retrieve_id(arg, &o->shape.retrieve_id, why, sizeof(why)) < 0)
			usage_error("--retrieve-id: %s", why);
		break;
	case O_SPARSE_VIDEOS:
		o->shape.sparse = true;
		break;
	case O_USAGE:
		o->shape.usage = true;
		break;
	case O_LIST_PASSTHROUGH:
		o->shape.list_passthrough = true;
		break;
	case O_ANSWER_MODEL:
		if (gateway_add_answer_model(arg, why, sizeof(why)) < 0)
			usage_error("--answer-model: %s", why);
		break;
	case O_DELETE_MODE:
		if (gateway_set_delete_mode(arg, why, sizeof(why)) < 0)
			usage_error("--delete-mode: %s", why);
		break;
	case O_REMIX_MODE:
		if (gateway_set_remix_mode(arg, why, sizeof(why)) < 0)
			usage_error("--remix-mode: %s", why);
		break;
	case O_VARIANT_IGNORED:
		o->content.variant_ignored = true;
		break;
	case O_CONTENT_DISPOSITION:
		o->content.disposition = true;
		break;
	case O_NO_RANGES:
		o->content.no_ranges = true;
		break;
	case O_RANGE_REENCODE:
		o->content.range_reencode = true;
		break;
	case O_CHUNKED:
		if (gateway_parse_chunked(arg, &o->content.chunked, why, sizeof(why)) < 0)
			usage_error("--chunked: %s", why);
		break;
	case O_PROTOCOL:
		if (strcmp(arg, "openrouter") == 0) {
			/* OpenRouter's base URL is https://openrouter.ai/api/v1; its job ids are
			 * gen-vid-<seconds>-<letters>. Options after this one override both. */
			o->openrouter = true;
			openrouter_enable();
			gateway_option(0, "/api/v1");
			gateway_option(2, "openrouter");
		} else if (strcmp(arg, "openai") != 0 || o->openrouter) {
			usage_error(
			    "--protocol: expected 'openai' or 'openrouter' (once), got '%s'", arg);
		}
		break;
	case O_CALLBACK_SECRET_FILE:
		o->callback_secret_file = arg;
		break;
	case O_CALLBACK_REPEAT:
		o->callback_repeat = parse_uint("--callback-repeat", arg, 100);
		if (o->callback_repeat == 0)
			usage_error("--callback-repeat: must be at least 1");
		break;
	default:
		usage_error("unknown option code %d", c); /* cannot happen: the table's codes */
	}
}

/*
 * --profile NAME: a named bundle of the options above, applied where it stands on the
 * command line, so that options given after it override it. Each entry names the
 * source it copies; sim/README.md and docs/sora-sim.1 have the same table.
 */
struct profile_option {
	const char *name, *value; /* a long option without "--"; NULL value for a flag */
};

struct profile {
	const char *name;
	const struct profile_option *options;
};

/* LiteLLM's proxy in front of Gemini's Veo (litellm/proxy/video_endpoints/endpoints.py,
 * litellm/llms/gemini/videos/transformation.py, litellm/types/videos/main.py). */
static const struct profile_option litellm_veo[] = {
    {"id-style", "litellm-veo"},
    /* Veo 3's sizes (LiteLLM maps them to 16:9 or 9:16) and durations. */
    {"model", "veo-3:1280x720,720x1280,1920x1080,1080x1920:4,6,8"},
    {"model", "veo-3.1:1280x720,720x1280,1920x1080,1080x1920:4,6,8"},
    {"answer-model", "veo-3=veo-3.0-generate-preview"},
    {"answer-model", "veo-3.1=veo-3.1-generate-preview"},
    {"queued-status", "processing"}, /* "processing" if not done, from the create on */
    {"running-status", "processing"},
    {"no-progress", NULL},
    {"no-prompt", NULL},
    {"sparse-videos", NULL},
    {"usage", NULL},
    {"retrieve-id", "reencoded"},
    {"list-mode", "litellm-500"},
    {"delete-mode", "fastapi-405"},
    {"remix-mode", "litellm-500"},
    {"variant-ignored", NULL},
    {"content-disposition", NULL},
    {"no-ranges", NULL},
    {"chunked", "content"},
    {NULL, NULL},
};

/* LiteLLM's proxy in front of OpenAI's API (litellm/llms/openai/videos/transformation.py). */
static const struct profile_option litellm_openai[] = {
    {"id-style", "litellm"},
    {"no-prompt", NULL},
    {"list-passthrough", NULL},
    {"usage", NULL},
    {"retrieve-id", "reencoded"},
    {"delete-mode", "fastapi-405"},
    {"variant-ignored", NULL},
    {"content-disposition", NULL},
    {"no-ranges", NULL},
    {"chunked", "content"},
    {NULL, NULL},
};

/* The Portkey gateway 1.15.2 with its lockfile's hono pinned
 * (tests/integration/portkey_lib.sh). */
static const struct profile_option portkey_pinned[] = {
    {"chunked", "all"},
    {"range-reencode", NULL},
    {NULL, NULL},
};

static const struct profile profiles[] = {
    {"litellm-veo", litellm_veo},
    {"litellm-openai", litellm_openai},
    {"portkey-pinned", portkey_pinned},
};

static void apply_profile(const char *name, struct options *o)
{
	for (size_t i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++) {
		if (strcmp(name, profiles[i].name) != 0)
			continue;
		for (const struct profile_option *po = profiles[i].options; po->name; po++) {
			const struct option *lo = longopts;

			while (lo->name && strcmp(lo->name, po->name) != 0)
				lo++;
			if (lo->name == NULL)
				usage_error("profile %s: no option --%s", name,
				            po->name); /* a bug */
			apply_option(lo->val, po->value, o);
		}
		return;
	}
	usage_error("--profile: expected 'litellm-veo', 'litellm-openai' or 'portkey-pinned', "
	            "got '%s'",
	            name);
}

/* --running-status, --queued-status: a status word into DST (GATEWAY_STATUS_SIZE). */
static void status_option(const char *name, const char *arg, char *dst)
{
	if (!gateway_status_word_ok(arg))
		usage_error("%s: expected a word of 1 to %d letters, digits, '_' or '-', got '%s'",
		            name, GATEWAY_STATUS_SIZE - 1, arg);
	snprintf(dst, GATEWAY_STATUS_SIZE, "%s", arg);
}

static void parse_args(int argc, char **argv, struct options *o)
{
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == ':')
			usage_error("option %s needs a value", argv[optind - 1]);
		if (c == '?')
			usage_error("unknown option '%s'", argv[optind - 1]);
		apply_option(c, optarg, o);
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (o->threads == 0)
		usage_error("--threads: must be at least 1");
	if (!o->openrouter && (o->callback_secret_file || o->callback_repeat))
		usage_error(
		    "--callback-secret-file and --callback-repeat need --protocol openrouter");
	gateway_set_shape(&o->shape);
	gateway_set_content(&o->content);
}

/* The absolute path of the first executable `name` on PATH, or NULL. */
static char *find_in_path(const char *name)
{
	const char *path = getenv("PATH"), *p;
	char cand[PATH_MAX];

	if (strchr(name, '/'))
		return access(name, X_OK) == 0 ? xstrdup(name) : NULL;
	if (path == NULL)
		path = "/usr/bin:/bin";
	for (p = path;;) {
		const char *end = strchr(p, ':');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		int k = snprintf(cand, sizeof(cand), "%.*s/%s", (int)n, n ? p : ".", name);

		if (k > 0 && (size_t)k < sizeof(cand) && access(cand, X_OK) == 0)
			return xstrdup(cand);
		if (end == NULL)
			return NULL;
		p = end + 1;
	}
}

/* The signing secret of the callbacks: the first line of PATH, without its line end
 * (owned by the caller). Exits with a usage error when it is unreadable or empty. */
static char *read_secret(const char *path, size_t *len)
{
	char buf[4096];
	size_t n;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		usage_error("--callback-secret-file: %s: %s", path, strerror(errno));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	if (ferror(f)) {
		fclose(f);
		usage_error("--callback-secret-file: reading %s failed", path);
	}
	fclose(f);
	buf[n] = '\0';
	n = strcspn(buf, "\r\n");
	if (n == 0)
		usage_error("--callback-secret-file: %s: the first line is empty", path);
	*len = n;
	return xstrndup(buf, n);
}

/* Written to a temp name and renamed, so that a reader never sees a partial number. */
static int write_port_file(const char *path, unsigned port)
{
	char tmp[PATH_MAX];
	FILE *f;

	if (bsnprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) < 0)
		return -1;
	f = fopen(tmp, "w");
	if (f == NULL) {
		log_err("open %s: %s", tmp, strerror(errno));
		return -1;
	}
	fprintf(f, "%u\n", port);
	if (fclose(f) != 0 || rename(tmp, path) < 0) {
		log_err("writing %s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct options o = {
	    .listen = "127.0.0.1:4010",
	    .gen_ms = 3000,
	    .poll_after_ms = 1000,
	    .expire_s = 3600,
	    .seed = 1,
	    .slow_ms = 1500,
	    .threads = 2,
	    .max_body = 50ULL << 20,
	};
	struct server_conf sc;
	struct fault_conf fc;
	struct videos_conf vc;
	struct media_conf mc;
	struct routes_conf rc;
	char *ffmpeg = NULL, *secret = NULL;
	size_t secret_len = 0;
	sigset_t sigs;
	unsigned port;
	int sig = 0, status = EX_SOFTWARE;

	parse_args(argc, argv, &o);
	if (o.callback_secret_file)
		secret = read_secret(o.callback_secret_file, &secret_len);
	memset(&sc, 0, sizeof(sc));
	if (parse_listen(o.listen, &sc.addr, &sc.addrlen) < 0)
		usage_error("--listen: expected HOST:PORT, got '%s'", o.listen);

	/* Every thread inherits this mask; only the main thread takes the signals. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (o.ffmpeg == NULL)
		ffmpeg = find_in_path("ffmpeg");
	else if (strcmp(o.ffmpeg, "none") != 0 && *o.ffmpeg) {
		ffmpeg = find_in_path(o.ffmpeg);
		if (ffmpeg == NULL)
			usage_error("--ffmpeg: '%s' is not an executable", o.ffmpeg);
	}

	fc = (struct fault_conf){.seed = o.seed,
	                         .p429 = o.p429,
	                         .p5xx = o.p5xx,
	                         .preset = o.preset,
	                         .ptruncate = o.ptruncate,
	                         .pslow = o.pslow,
	                         .p5xx_after_create = o.p5xx_after_create,
	                         .after_create_status = (unsigned)o.after_create_status,
	                         .slow_ms = (unsigned)o.slow_ms,
	                         .retry_after_s = (unsigned)o.retry_after_s};
	faults_init(&fc);
	sim_clock_offset_ms = (int64_t)o.clock_offset_s * 1000;
	vc = (struct videos_conf){.seed = o.seed,
	                          .gen_ms = (int64_t)o.gen_ms,
	                          .expire_s = (int64_t)o.expire_s,
	                          .gen_jitter_pct = (unsigned)o.gen_jitter_pct,
	                          .progress_ease = o.progress_ease};
	videos_init(&vc);
	rc = (struct routes_conf){.api_key = o.api_key, .poll_after_ms = (unsigned)o.poll_after_ms};
	routes_init(&rc);
	mc = (struct media_conf){.dir = o.media_dir,
	                         .ffmpeg = ffmpeg,
	                         .draw_prompt = o.draw_prompt,
	                         .workers = 2,
	                         .video_bytes = o.video_bytes};
	if (o.log_bodies && stats_log_bodies(o.log_bodies) < 0)
		return 1;
	if (o.log_creates && stats_log_creates(o.log_creates) < 0)
		goto out_media;
	if (media_init(&mc) < 0)
		goto out_media;
	if (o.openrouter) {
		struct openrouter_conf oc = {.secret = secret,
		                             .secret_len = secret_len,
		                             .callback_repeat = (unsigned)o.callback_repeat};

		if (openrouter_start(&oc) < 0)
			goto out_media;
	}

	sc.threads = (unsigned)o.threads;
	sc.conn_limit = 1000;
	sc.conn_timeout_s = 60;
	sc.max_body = o.max_body;
	if (server_start(&sc, &port) < 0)
		goto out_media;
	if (o.port_file && write_port_file(o.port_file, port) < 0)
		goto out_server;
	fprintf(stderr, "sora-sim %s listening on %s (port %u), gen %llu ms, media by %s\n",
	        SORAD_VERSION, o.listen, port, o.gen_ms, ffmpeg ? ffmpeg : "built-in fixtures");
	if (o.clock_offset_s != 0)
		fprintf(stderr, "sora-sim: the service's clock is %+lld s off this machine's\n",
		        o.clock_offset_s);

	while (sigwait(&sigs, &sig) != 0 || (sig != SIGTERM && sig != SIGINT))
		;
	fprintf(stderr, "sora-sim: %s, shutting down\n", strsignal(sig));
	status = 0;
out_server:
	server_stop();
out_media:
	if (o.openrouter)
		openrouter_stop();
	media_shutdown();
	videos_shutdown();
	stats_shutdown();
	gateway_shutdown();
	free(ffmpeg);
	if (secret)
		explicit_bzero(secret, secret_len);
	free(secret);
	return status;
}
