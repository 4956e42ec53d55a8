/* routes.c - see routes.h. Error bodies and messages follow the real API's style. */
#include "routes.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "gateway.h"
#include "image.h"
#include "media.h"
#include "openrouter.h"
#include "util.h"
#include "videos.h"

#define PROMPT_MAX_CHARS 32000

static struct routes_conf conf;

static const char *const models[] = {"sora-2", "sora-2-pro"};
static const char *const seconds_values[] = {"4", "8", "12", "16", "20"};
static const char *const sizes_pro[] = {
    "720x1280", "1280x720", "1024x1792", "1792x1024", "1080x1920", "1920x1080",
};
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define SIZES_SORA2 2 /* sora-2 accepts the first two of sizes_pro */

void routes_init(const struct routes_conf *c)
{
	conf = *c;
}

/* ------------------------------------------------------------------ routing */

static void set_route(struct route *rt, enum route_kind kind, enum endpoint ep)
{
	rt->kind = kind;
	rt->ep = ep;
	rt->has_body = kind == RT_CREATE || kind == RT_REMIX;
}

static void bad_method(struct route *rt, const char *allow)
{
	set_route(rt, RT_BAD_METHOD, EP_OTHER);
	rt->allow = allow;
}

void route_match(const char *method, const char *url, struct route *rt)
{
	bool get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;
	bool del = strcmp(method, "DELETE") == 0;
	const char *rest, *slash;
	size_t idlen;

	memset(rt, 0, sizeof(*rt));
	snprintf(rt->method, sizeof(rt->method), "%s", method);
	snprintf(rt->path, sizeof(rt->path), "%s", url); /* only for messages: a cut is fine */
	set_route(rt, RT_NOT_FOUND, EP_OTHER);

	if (strcmp(url, "/__sim/stats") == 0) {
		if (get)
			set_route(rt, RT_SIM_STATS, EP_OTHER);
		else
			bad_method(rt, "GET");
		return;
	}
	if (strcmp(url, "/__sim/reset") == 0) {
		if (post)
			set_route(rt, RT_SIM_RESET, EP_OTHER);
		else
			bad_method(rt, "POST");
		return;
	}
	url = gateway_api_path(url); /* "/v1/videos..." is "/videos..." */
	if (url == NULL)
		return;
	rt->api = true;
	if (openrouter_enabled()) {
		openrouter_route_match(method, url, rt);
		return;
	}
	if (strcmp(url, "/videos") == 0) {
		if (get)
			set_route(rt, RT_LIST, EP_LIST);
		else if (post)
			set_route(rt, RT_CREATE, EP_CREATE);
		else
			bad_method(rt, "GET, POST");
		return;
	}
	if (strncmp(url, "/videos/", 8) != 0)
		return;
	rest = url + 8;
	slash = strchr(rest, '/');
	idlen = slash ? (size_t)(slash - rest) : strlen(rest);
	if (idlen == 0)
		return;
	if (idlen < sizeof(rt->id)) {
		memcpy(rt->id, rest, idlen);
		rt->id[idlen] = '\0';
		/* A '/' of the id came as %2F and is still encoded (server.c): the path is
		 * split, now the segment can be decoded whole. */
		url_unescape_rest(rt->id);
	} /* else: no video has such an id; "" makes every lookup a 404 */
	if (slash == NULL) {
		if (get)
			set_route(rt, RT_RETRIEVE, EP_RETRIEVE);
		else if (del)
			set_route(rt, RT_DELETE, EP_DELETE);
		else
			bad_method(rt, "GET, DELETE");
	} else if (strcmp(slash, "/content") == 0) {
		if (get)
			set_route(rt, RT_CONTENT, EP_CONTENT);
		else
			bad_method(rt, "GET");
	} else if (strcmp(slash, "/remix") == 0) {
		if (post)
			set_route(rt, RT_REMIX, EP_REMIX);
		else
			bad_method(rt, "POST");
	}
}

/* ------------------------------------------------------------ common replies */

int routes_auth(struct MHD_Connection *c, struct reply *r)
{
	const char *key = gateway_request_key(c);

	if (openrouter_enabled())
		return openrouter_auth(c, conf.api_key, r);
	if (key && *key && (conf.api_key == NULL || strcmp(key, conf.api_key) == 0))
		return 0;
	/* The key itself is never echoed: it would end up in client logs. */
	reply_error(r, 401, "invalid_request_error", NULL, "invalid_api_key",
	            "Incorrect API key provided%s%s%s. You can find your API key at "
	            "https://platform.openai.com/account/api-keys.",
	            key && *key ? "" : " (none was sent: use '",
	            key && *key ? "" : gateway_auth_hint(), key && *key ? "" : "')");
	return -1;
}

void routes_fault_reply(const struct fault *f, struct reply *r)
{
	if (openrouter_enabled()) {
		openrouter_fault_reply(f, r);
	} else if (f->kind == FAULT_429) {
		unsigned ms = f->retry_after_s ? f->retry_after_s * 1000u : f->retry_after_ms;

		if (f->retry_after_s > 4000000)
			ms = 4000000000u; /* the header still says S; this text only needs a number
			                   */
		reply_error(r, 429, "requests", NULL, "rate_limit_exceeded",
		            "Rate limit reached for requests per min (RPM): Limit 25, Used 25, "
		            "Requested 1. Please try again in %ums. (injected by sora-sim --p429)",
		            ms);
		if (f->retry_after_s) { /* --retry-after: the seconds header alone */
			reply_header(r, "retry-after", "%u", f->retry_after_s);
		} else {
			reply_header(r, "retry-after", "1");
			reply_header(r, "retry-after-ms", "%u", f->retry_after_ms);
		}
		reply_header(r, "x-ratelimit-limit-requests", "25");
		reply_header(r, "x-ratelimit-remaining-requests", "0");
		reply_header(r, "x-ratelimit-reset-requests", "%ums", ms);
	} else if (f->status == 503) {
		reply_error(
		    r, 503, "server_error", NULL, NULL,
		    "The server is overloaded or not ready yet. (injected by sora-sim --p5xx)");
	} else {
		reply_error(
		    r, 500, "server_error", NULL, NULL,
		    "The server had an error while processing your request. Sorry about that! "
		    "(injected by sora-sim --p5xx)");
	}
}

void routes_too_large(struct reply *r, unsigned long long limit)
{
	if (openrouter_enabled()) {
		openrouter_too_large(r, limit);
		return;
	}
	reply_error(r, 413, "invalid_request_error", NULL, "request_too_large",
	            "Request body too large: the limit is %llu bytes.", limit);
}

/* What gateways answer instead of the Video object when they lost the upstream's
 * answer, the video being created all the same. */
void routes_after_create_reply(const struct fault *f, struct reply *r)
{
	static const char portkey[] =
	    "{\"status\":\"failure\",\"message\":\"Something went wrong\"}";
	/* nginx's own error pages, as a load balancer in front of a gateway sends them. */
	static const char bad_gateway[] =
	    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n"
	    "<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n"
	    "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
	static const char timeout[] =
	    "<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n"
	    "<body>\r\n<center><h1>504 Gateway Time-out</h1></center>\r\n"
	    "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
	const char *body;

	reply_release(r);
	reply_init(r);
	r->status = f->status;
	if (f->status == 502) {
		body = bad_gateway;
		r->content_type = "text/html";
	} else if (f->status == 504) {
		body = timeout;
		r->content_type = "text/html";
	} else if (openrouter_enabled()) {
		openrouter_after_create_reply(r);
		return;
	} else {
		/* The Portkey gateway's answer to every 2xx it fails to pass on (issue 1389). */
		body = portkey;
		r->status = 500;
	}
	r->body = xstrdup(body);
	r->len = strlen(body);
}

static void not_found(struct reply *r, const char *id)
{
	reply_error(r, 404, "invalid_request_error", NULL, "video_not_found",
	            "Video with id '%.128s' not found.", id);
}

/* "'a', 'b', and 'c'" or "'a' and 'b'", as the API's messages list values. */
static void join_values(char *out, size_t size, const char *const *v, size_t n)
{
	size_t i, used = 0;

	out[0] = '\0';
	for (i = 0; i < n && used < size; i++) {
		const char *sep = i == 0 ? "" : i + 1 < n ? ", " : n == 2 ? " and " : ", and ";
		int k = snprintf(out + used, size - used, "%s'%s'", sep, v[i]);

		if (k < 0)
			break;
		used += (size_t)k;
	}
}

static int check_enum(struct reply *r, const char *param, const char *value, const char *const *v,
                      size_t n)
{
	char supported[256];
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(value, v[i]) == 0)
			return 0;
	join_values(supported, sizeof(supported), v, n);
	reply_error(r, 400, "invalid_request_error", param, "invalid_value",
	            "Invalid value: '%.64s'. Supported values are: %s.", value, supported);
	return -1;
}

static int check_prompt(const struct form *f, struct reply *r, const char **prompt)
{
	const struct buf *p = form_get(f, FIELD_PROMPT);
	size_t chars;

	if (p == NULL) {
		reply_error(r, 400, "invalid_request_error", "prompt", "missing_required_parameter",
		            "Missing required parameter: 'prompt'.");
		return -1;
	}
	chars = utf8_chars(p->data, p->len);
	if (chars == 0 || strlen(p->data) != p->len) {
		reply_error(
		    r, 400, "invalid_request_error", "prompt", "string_below_min_length",
		    "Invalid 'prompt': string too short. Expected a string with minimum length 1, "
		    "but got an empty string instead.");
		return -1;
	}
	if (chars > PROMPT_MAX_CHARS) {
		reply_error(
		    r, 400, "invalid_request_error", "prompt", "string_above_max_length",
		    "Invalid 'prompt': string too long. Expected a string with maximum length %d, "
		    "but got a string with length %zu instead.",
		    PROMPT_MAX_CHARS, chars);
		return -1;
	}
	*prompt = p->data;
	return 0;
}

/* Content moderation runs after validation, like the real service's. */
static int check_moderation(const char *prompt, struct reply *r)
{
	if (strstr(prompt, "[sim:moderation]") == NULL)
		return 0;
	reply_error(r, 400, "invalid_request_error", "prompt", "moderation_blocked",
	            "Your request was blocked by our moderation system.");
	return -1;
}

/* "[sim:status=WORD]": the video ends WORD (cancelled, expired, ...) instead of
 * completed. A malformed hook is refused, so that a typo in a test is not silently
 * ignored. */
int routes_status_hook(const char *prompt, char *word)
{
	static const char hook[] = "[sim:status=";
	const char *p = strstr(prompt, hook), *end;
	size_t len;

	word[0] = '\0';
	if (p == NULL)
		return 0;
	p += sizeof(hook) - 1;
	end = strchr(p, ']');
	len = end ? (size_t)(end - p) : 0;
	if (len > 0 && len < GATEWAY_STATUS_SIZE) {
		memcpy(word, p, len);
		word[len] = '\0';
		if (gateway_status_word_ok(word))
			return 0;
	}
	word[0] = '\0';
	return -1;
}

static int check_status_hook(const char *prompt, char *word, struct reply *r)
{
	if (routes_status_hook(prompt, word) == 0)
		return 0;
	reply_error(r, 400, "invalid_request_error", "prompt", "invalid_value",
	            "sora-sim: [sim:status=WORD] needs a WORD of 1 to %d letters, digits, '_' "
	            "or '-'.",
	            GATEWAY_STATUS_SIZE - 1);
	return -1;
}

static int check_image(const unsigned char *p, size_t n, unsigned w, unsigned h, const char *param,
                       struct reply *r)
{
	enum image_type t;
	unsigned iw = 0, ih = 0;

	if (image_probe(p, n, &t, &iw, &ih) < 0) {
		reply_error(
		    r, 400, "invalid_request_error", param, "invalid_image_format",
		    "Invalid file '%s': unsupported or corrupt image. Supported formats are "
		    "'image/jpeg', 'image/png', and 'image/webp'.",
		    param);
		return -1;
	}
	if (iw != w || ih != h) {
		reply_error(
		    r, 400, "invalid_request_error", param, "invalid_value",
		    "Inpaint image must match the requested width and height (got a %ux%u %s, "
		    "expected %ux%u).",
		    iw, ih, image_type_name(t), w, h);
		return -1;
	}
	return 0;
}

static int check_reference(const struct form *f, unsigned w, unsigned h, struct reply *r)
{
	const struct buf *file = form_get(f, FIELD_REF_FILE);
	const struct buf *url = form_get(f, FIELD_REF_URL);
	const struct buf *file_id = form_get(f, FIELD_REF_FILE_ID);

	if (file)
		return check_image((const unsigned char *)file->data, file->len, w, h,
		                   "input_reference", r);
	if (url && file_id) {
		reply_error(
		    r, 400, "invalid_request_error", "input_reference", "invalid_value",
		    "Invalid 'input_reference': provide exactly one of 'image_url' and 'file_id'.");
		return -1;
	}
	if (url && strncmp(url->data, "data:", 5) == 0) {
		const char *comma = strchr(url->data, ',');
		struct buf img = BUF_INIT;
		int rc;

		if (comma == NULL || strstr(url->data, ";base64") == NULL ||
		    base64_decode(comma + 1, &img) < 0) {
			buf_release(&img);
			reply_error(r, 400, "invalid_request_error", "input_reference.image_url",
			            "invalid_value",
			            "Invalid 'input_reference.image_url': expected a URL or "
			            "a base64 data URL.");
			return -1;
		}
		rc = check_image((const unsigned char *)img.data, img.len, w, h,
		                 "input_reference.image_url", r);
		buf_release(&img);
		return rc;
	}
	if (url && strncmp(url->data, "https://", 8) != 0 &&
	    strncmp(url->data, "http://", 7) != 0) {
		reply_error(r, 400, "invalid_request_error", "input_reference.image_url",
		            "invalid_value",
		            "Invalid 'input_reference.image_url': expected a URL or a "
		            "base64 data URL.");
		return -1;
	}
	if (file_id && file_id->len == 0) {
		reply_error(r, 400, "invalid_request_error", "input_reference.file_id",
		            "invalid_value", "Invalid 'input_reference.file_id': empty string.");
		return -1;
	}
	/* A remote URL or a file id cannot be fetched here: accepted unverified. */
	return 0;
}

/*
 * The body of LiteLLM's proxy when the backend cannot list, delete or remix. The
 * provider's transform_video_{list,delete,remix}_request raises NotImplementedError
 * (here Gemini's, in litellm/llms/gemini/videos/transformation.py, e.g. "Video list is
 * not supported by Google Veo. Use the operations endpoint directly if you need to list
 * operations."); litellm/videos/main.py (avideo_list, ...) hands it to exception_type
 * with model="", whose fallback in litellm/litellm_core_utils/exception_mapping_utils.py
 * raises APIConnectionError(message="{}\n{}".format(str(original_exception),
 * traceback.format_exc())); litellm/exceptions.py prefixes "litellm.APIConnectionError: "
 * and sets status_code 500; _handle_llm_api_exception in
 * litellm/proxy/common_request_processing.py turns it into ProxyException(type=None,
 * param=None, code=500), whose to_dict (litellm/proxy/_types.py) makes code the string
 * "500", sent as {"error": {...}} with status 500. The traceback is abbreviated: the
 * real one names the proxy's install paths and line numbers.
 */
struct litellm_refusal {
	const char *api_fn;       /* in litellm/videos/main.py */
	const char *handler_fn;   /* in litellm/llms/custom_httpx/llm_http_handler.py */
	const char *transform_fn; /* in litellm/llms/gemini/videos/transformation.py */
	const char *message;      /* what it raises */
};

static const struct litellm_refusal veo_list = {
    "avideo_list", "async_video_list_handler", "transform_video_list_request",
    "Video list is not supported by Google Veo. Use the operations endpoint directly if you "
    "need to list operations."};
static const struct litellm_refusal veo_delete = {
    "avideo_delete", "async_video_delete_handler", "transform_video_delete_request",
    "Video delete is not supported by Google Veo. Videos are automatically cleaned up by "
    "Google."};
static const struct litellm_refusal veo_remix = {
    "avideo_remix", "async_video_remix_handler", "transform_video_remix_request",
    "Video remix is not supported by Google Veo. Please use video_generation() to create new "
    "videos."};

static void litellm_refusal(struct reply *r, const struct litellm_refusal *f)
{
	static const char site[] = "/usr/lib/python3.13/site-packages/litellm";
	char msg[2048];
	cJSON *root, *e;

	if (bsnprintf(msg, sizeof(msg),
	              "litellm.APIConnectionError: %s\n"
	              "Traceback (most recent call last):\n"
	              "  File \"%s/videos/main.py\", in %s\n"
	              "    response = await init_response\n"
	              "  File \"%s/llms/custom_httpx/llm_http_handler.py\", in %s\n"
	              "    url, params = video_provider_config.%s(\n"
	              "  File \"%s/llms/gemini/videos/transformation.py\", in %s\n"
	              "    raise NotImplementedError(\n"
	              "NotImplementedError: %s\n",
	              f->message, site, f->api_fn, site, f->handler_fn, f->transform_fn, site,
	              f->transform_fn, f->message) < 0) {
		reply_error(r, 500, "server_error", NULL, NULL, "%s", f->message);
		return;
	}
	root = cJSON_CreateObject();
	e = cJSON_AddObjectToObject(root, "error");
	cJSON_AddStringToObject(e, "message", msg);
	cJSON_AddNullToObject(e, "type");
	cJSON_AddNullToObject(e, "param");
	cJSON_AddStringToObject(e, "code", "500");
	reply_json(r, 500, root);
}

/* ---------------------------------------------------------------- endpoints */

static void created(struct video_spec *spec, struct reply *r)
{
	cJSON *j = videos_create(spec);

	stats_count_create(spec->prompt);
	reply_json(r, 200, j);
}

static bool has_gateway_models(void)
{
	const struct gateway_model *m;

	return gateway_models(&m) > 0;
}

/* With --model, the model table is the gateway's: deployment names, other models. */
static int check_gateway_model(struct reply *r, const struct buf *model, const struct buf *seconds,
                               const struct buf *size)
{
	const struct gateway_model *all, *m;
	size_t n = gateway_models(&all);

	if (n == 0)
		return 0;
	m = gateway_model_find(model ? model->data : "sora-2");
	if (m == NULL) {
		const char *names[16];
		size_t i;

		for (i = 0; i < n && i < NELEM(names); i++)
			names[i] = all[i].name;
		return check_enum(r, "model", model ? model->data : "sora-2", names, i);
	}
	if (check_enum(r, "seconds", seconds ? seconds->data : "4", m->seconds, m->n_seconds) < 0)
		return -1;
	return check_enum(r, "size", size ? size->data : "720x1280", m->sizes, m->n_sizes);
}

static void create(struct form *f, struct reply *r)
{
	struct video_spec spec;
	const struct buf *model, *seconds, *size;
	const char *prompt;

	memset(&spec, 0, sizeof(spec));
	if (form_finish(f, r) < 0 || check_prompt(f, r, &prompt) < 0)
		return;
	model = form_get(f, FIELD_MODEL);
	seconds = form_get(f, FIELD_SECONDS);
	size = form_get(f, FIELD_SIZE);
	snprintf(spec.model, sizeof(spec.model), "%s", model ? model->data : "sora-2");
	snprintf(spec.seconds, sizeof(spec.seconds), "%s", seconds ? seconds->data : "4");
	snprintf(spec.size, sizeof(spec.size), "%s", size ? size->data : "720x1280");
	/* The checks use the full values: the copies above may be cut. */
	if (check_gateway_model(r, model, seconds, size) < 0)
		return;
	if (!has_gateway_models() &&
	    (check_enum(r, "model", model ? model->data : "sora-2", models, NELEM(models)) < 0 ||
	     check_enum(r, "seconds", seconds ? seconds->data : "4", seconds_values,
	                NELEM(seconds_values)) < 0 ||
	     check_enum(r, "size", size ? size->data : "720x1280", sizes_pro,
	                strcmp(spec.model, "sora-2") == 0 ? SIZES_SORA2 : NELEM(sizes_pro)) < 0))
		return;
	/* NOLINTNEXTLINE(cert-err34-c): both were just checked against their tables */
	if (sscanf(spec.size, "%ux%u", &spec.width, &spec.height) != 2 ||
	    sscanf(spec.seconds, "%u", &spec.secs) != 1) { /* NOLINT(cert-err34-c) */
		reply_error(r, 500, "server_error", NULL, NULL, "Internal error parsing size.");
		return;
	}
	if (check_reference(f, spec.width, spec.height, r) < 0 || check_moderation(prompt, r) < 0 ||
	    check_status_hook(prompt, spec.status_word, r) < 0)
		return;
	spec.prompt = prompt;
	created(&spec, r);
}

static void remix(const char *id, struct form *f, struct reply *r)
{
	struct video_spec spec;
	char word[GATEWAY_STATUS_SIZE];
	const char *prompt;

	memset(&spec, 0, sizeof(spec));
	if (form_finish(f, r) < 0 || check_prompt(f, r, &prompt) < 0 ||
	    check_moderation(prompt, r) < 0 || check_status_hook(prompt, word, r) < 0)
		return;
	if (gateway_remix_mode() == REMIX_LITELLM_500) {
		litellm_refusal(r, &veo_remix);
		return;
	}
	switch (videos_remix_source(id, &spec)) {
	case VIDEO_OK:
		spec.prompt = prompt;
		snprintf(spec.status_word, sizeof(spec.status_word), "%s", word);
		created(&spec, r);
		return;
	case VIDEO_NOT_READY:
		reply_error(
		    r, 400, "invalid_request_error", NULL, "video_not_completed",
		    "Video '%.128s' is not completed; only a completed video can be remixed.", id);
		return;
	default:
		not_found(r, id);
	}
}

static void retrieve(const char *id, struct reply *r)
{
	bool pending = false;
	cJSON *j = videos_retrieve(id, &pending);

	if (j == NULL) {
		not_found(r, id);
		return;
	}
	reply_json(r, 200, j);
	if (pending)
		reply_header(r, "openai-poll-after-ms", "%u", conf.poll_after_ms);
}

static void delete (const char *id, struct reply *r)
{
	cJSON *j;

	if (gateway_delete_mode() == DELETE_FASTAPI_405) {
		/* LiteLLM's proxy has no DELETE route for videos
		 * (litellm/proxy/video_endpoints/endpoints.py): the path matches only
		 * GET /v1/videos/{video_id}, so Starlette raises HTTPException(405,
		 * headers={"Allow": "GET"}) and FastAPI's default handler answers
		 * {"detail": "Method Not Allowed"}. */
		cJSON *body = cJSON_CreateObject();

		cJSON_AddStringToObject(body, "detail", "Method Not Allowed");
		reply_json(r, 405, body);
		reply_header(r, "Allow", "GET");
		return;
	}
	if (gateway_delete_mode() == DELETE_LITELLM_500) {
		litellm_refusal(r, &veo_delete);
		return;
	}
	if (videos_delete(id) < 0) {
		not_found(r, id);
		return;
	}
	j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "id", id);
	cJSON_AddStringToObject(j, "object", "video.deleted");
	cJSON_AddBoolToObject(j, "deleted", 1);
	reply_json(r, 200, j);
}

/* --list-mode: a gateway that cannot list. Returns 1 with the refusal in *r, or 0. */
static int list_refused(struct reply *r)
{
	switch (gateway_list_mode()) {
	case LIST_404:
		reply_error(r, 404, "invalid_request_error", NULL, NULL,
		            "Invalid URL (GET %s/videos)", gateway_prefix());
		return 1;
	case LIST_405:
		reply_error(r, 405, "invalid_request_error", NULL, NULL,
		            "Method not allowed (GET %s/videos). Allowed: POST.", gateway_prefix());
		reply_header(r, "Allow", "POST");
		return 1;
	case LIST_501:
		reply_error(r, 501, "invalid_request_error", NULL, NULL,
		            "Listing videos is not implemented by this gateway (GET %s/videos).",
		            gateway_prefix());
		return 1;
	case LIST_LITELLM_500:
		litellm_refusal(r, &veo_list);
		return 1;
	default:
		return 0;
	}
}

static const char *query(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
}

static void list(struct MHD_Connection *c, struct reply *r)
{
	const char *limit_s = query(c, "limit"), *after = query(c, "after");
	const char *order = query(c, "order");
	static const char *const orders[] = {"asc", "desc"};
	char cursor[VIDEO_ID_SIZE];
	long limit = 20;
	cJSON *j;

	if (list_refused(r))
		return;
	if (limit_s && *limit_s) {
		char *end;

		errno = 0;
		limit = strtol(limit_s, &end, 10);
		if (*end != '\0' || errno != 0) {
			reply_error(
			    r, 400, "invalid_request_error", "limit", "invalid_type",
			    "Invalid type for 'limit': expected an integer, but got a string "
			    "instead.");
			return;
		}
		if (limit < 0 || limit > 100) {
			reply_error(
			    r, 400, "invalid_request_error", "limit",
			    limit < 0 ? "integer_below_min_value" : "integer_above_max_value",
			    "Invalid 'limit': integer %s value. Expected a value %s, but got %ld "
			    "instead.",
			    limit < 0 ? "below minimum" : "above maximum",
			    limit < 0 ? ">= 0" : "<= 100", limit);
			return;
		}
	}
	if (order && *order && check_enum(r, "order", order, orders, 2) < 0)
		return;
	if (after && *after) {
		/* The cursor's '/' and '%' are still encoded (server.c); an overlong one
		 * names no video. */
		if (bsnprintf(cursor, sizeof(cursor), "%s", after) < 0)
			cursor[0] = '\0';
		url_unescape_rest(cursor);
		after = cursor;
	}
	j = videos_list((unsigned)limit, after, order && strcmp(order, "asc") == 0);
	if (j == NULL) {
		reply_error(r, 400, "invalid_request_error", "after", "invalid_value",
		            "Invalid 'after': no video with id '%.128s'.", after);
		return;
	}
	reply_json(r, 200, j);
}

/* Parses a single "bytes=a-b", "bytes=a-" or "bytes=-n" range against size.
 * Returns 1 with [*start, *end] set, 0 to ignore the header (malformed or several
 * ranges: RFC 9110 allows serving the whole content), -1 if unsatisfiable. */
static int parse_range(const char *h, uint64_t size, uint64_t *start, uint64_t *end)
{
	unsigned long long a, b;
	char *e;

	if (strncmp(h, "bytes=", 6) != 0 || strchr(h, ',') != NULL)
		return 0;
	h += 6;
	if (*h == '-') {
		errno = 0;
		b = strtoull(h + 1, &e, 10);
		if (e == h + 1 || *e != '\0' || errno != 0)
			return 0;
		if (b == 0 || size == 0)
			return -1;
		*start = b >= size ? 0 : size - b;
		*end = size - 1;
		return 1;
	}
	if (*h < '0' || *h > '9')
		return 0;
	errno = 0;
	a = strtoull(h, &e, 10);
	if (*e != '-' || errno != 0)
		return 0;
	h = e + 1;
	if (*h == '\0') {
		b = size ? size - 1 : 0;
	} else {
		if (*h < '0' || *h > '9')
			return 0;
		b = strtoull(h, &e, 10);
		if (*e != '\0' || errno != 0 || b < a)
			return 0;
	}
	if (a >= size)
		return -1;
	*start = a;
	*end = b >= size ? size - 1 : b;
	return 1;
}

/*
 * --range-reencode: the body of a 206 as the pinned Portkey gateway sends it (see
 * tests/integration/portkey_lib.sh): read as UTF-8 text, every invalid byte sequence
 * replaced by U+FFFD, and encoded back, while Content-Range still announces the range.
 * The reply's fd range becomes a buffer. -1 when the range cannot be read.
 */
static int reencode_range(struct reply *r)
{
	struct buf raw = BUF_INIT, text = BUF_INIT;
	char chunk[65536];
	uint64_t done = 0;

	while (done < r->length) {
		size_t want =
		    r->length - done < sizeof(chunk) ? (size_t)(r->length - done) : sizeof(chunk);
		ssize_t got = pread(r->fd, chunk, want, (off_t)(r->offset + done));

		if (got <= 0) {
			log_err("reading a range to re-encode: %s",
			        got < 0 ? strerror(errno) : "EOF");
			buf_release(&raw);
			return -1;
		}
		buf_append(&raw, chunk, (size_t)got);
		done += (uint64_t)got;
	}
	utf8_reencode_lossy((const unsigned char *)raw.data, raw.len, &text);
	buf_release(&raw);
	close(r->fd);
	r->fd = -1;
	r->len = text.len;
	r->body = buf_detach(&text, NULL);
	return 0;
}

/*
 * What LiteLLM's proxy does with content (litellm/proxy/video_endpoints/endpoints.py,
 * video_content): it passes on only the video id (litellm/videos/main.py builds
 * {"video_id": video_id}; no variant, no Range), and answers
 * Response(content=video_bytes, media_type="video/mp4", headers={"Content-Disposition":
 * f"attachment; filename=video_{video_id}.mp4"}): every variant is the MP4, typed
 * video/mp4, and a Range header gets every byte with 200.
 */
static void gateway_content_headers(const char *id, enum variant *v, const char **range,
                                    struct reply *r)
{
	const struct gateway_content *gc = gateway_content();

	if (gc->variant_ignored)
		*v = VARIANT_VIDEO;
	if (gc->no_ranges)
		*range = NULL;
	if (gc->disposition)
		reply_header(r, "Content-Disposition", "attachment; filename=video_%s.mp4", id);
	if (gc->chunked != CHUNKED_NONE)
		r->chunked = true;
}

static void serve(const char *id, struct media *m, enum variant v, unsigned trickle_bps,
                  struct MHD_Connection *c, struct reply *r);

static void content(const char *id, struct MHD_Connection *c, struct reply *r)
{
	const char *vname = query(c, "variant");
	static const char *const variants[] = {"video", "thumbnail", "spritesheet"};
	const struct gateway_content *gc = gateway_content();
	enum variant v = VARIANT_VIDEO;
	struct media *m = NULL;
	struct content_hooks hooks = {0};

	/* A gateway that drops the variant does not check it either. */
	if (!gc->variant_ignored && vname && *vname && variant_parse(vname, &v) < 0) {
		check_enum(r, "variant", vname, variants, NELEM(variants));
		return;
	}
	switch (videos_content(id, &m, &hooks)) {
	case VIDEO_OK:
		break;
	case VIDEO_NOT_READY:
		reply_error(
		    r, 404, "invalid_request_error", NULL, "video_not_ready",
		    "Video '%.128s' is not completed yet; its content can be downloaded once its "
		    "status is 'completed'.",
		    id);
		return;
	case VIDEO_EXPIRED:
		reply_error(r, 404, "invalid_request_error", NULL, "video_expired",
		            "The content of video '%.128s' has expired.", id);
		return;
	default:
		not_found(r, id);
		return;
	}
	if (hooks.fail_now) { /* [sim:content-fails=N] */
		reply_error(r, 500, "server_error", NULL, NULL,
		            "The server had an error while processing your request (asked for by "
		            "the prompt's [sim:content-fails]).");
		return;
	}
	if (hooks.status) { /* [sim:content-status=N] */
		reply_error(r, hooks.status, "invalid_request_error", NULL,
		            hooks.status == 410 ? "video_gone" : "content_unavailable",
		            "The content of video '%.128s' is not available (HTTP %u, asked for "
		            "by the prompt's [sim:content-status]).",
		            id, hooks.status);
		return;
	}
	serve(id, m, v, hooks.trickle_bps, c, r);
}

void routes_serve_video(const char *id, struct media *m, unsigned trickle_bps,
                        struct MHD_Connection *c, struct reply *r)
{
	serve(id, m, VARIANT_VIDEO, trickle_bps, c, r);
}

/* The media M of video ID as variant V: whole, or the Range the request asks for; with
 * TRICKLE_BPS set, a whole answer is sent endlessly at that rate ([sim:trickle=N]). */
static void serve(const char *id, struct media *m, enum variant v, unsigned trickle_bps,
                  struct MHD_Connection *c, struct reply *r)
{
	const char *range = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_RANGE);
	const struct gateway_content *gc = gateway_content();
	uint64_t size, start, end;
	int fd, rr = 0;

	gateway_content_headers(id, &v, &range, r);
	fd = media_open(m, v, &size);
	if (fd < 0) {
		reply_error(r, 500, "server_error", NULL, NULL,
		            "The content of video '%.128s' could not be read.", id);
		return;
	}
	if (range)
		rr = parse_range(range, size, &start, &end);
	if (rr < 0) {
		close(fd);
		reply_error(r, 416, "invalid_request_error", NULL, "range_not_satisfiable",
		            "Requested range not satisfiable: %.64s (the content has %llu bytes).",
		            range, (unsigned long long)size);
		reply_header(r, "Content-Range", "bytes */%llu", (unsigned long long)size);
		reply_header(r, "Accept-Ranges", "bytes");
		return;
	}
	if (rr > 0) {
		reply_file(r, 206, variant_content_type(v), fd, start, end - start + 1);
		reply_header(r, "Content-Range", "bytes %llu-%llu/%llu", (unsigned long long)start,
		             (unsigned long long)end, (unsigned long long)size);
		if (gc->range_reencode && reencode_range(r) < 0) {
			reply_error(r, 500, "server_error", NULL, NULL,
			            "The content of video '%.128s' could not be read.", id);
			return;
		}
	} else {
		reply_file(r, 200, variant_content_type(v), fd, 0, size);
		if (trickle_bps) { /* [sim:trickle=N]: endless, chunked, N bytes/s */
			r->trickle_bps = trickle_bps;
			r->chunked = true;
			return; /* no Accept-Ranges: there is no end to resume from */
		}
	}
	/* LiteLLM's Response() does not advertise ranges; a server that serves them does. */
	if (!gc->no_ranges)
		reply_header(r, "Accept-Ranges", "bytes");
}

static void sim_reset(struct reply *r)
{
	cJSON *j = cJSON_CreateObject();

	stats_reset();
	cJSON_AddBoolToObject(j, "ok", 1);
	reply_json(r, 200, j);
}

void routes_handle(const struct route *rt, struct MHD_Connection *c, struct form *form,
                   struct reply *r)
{
	if (rt->api && openrouter_enabled()) {
		openrouter_handle(rt, c, form, r);
		return;
	}
	switch (rt->kind) {
	case RT_CREATE:
		create(form, r);
		break;
	case RT_LIST:
		list(c, r);
		break;
	case RT_RETRIEVE:
		retrieve(rt->id, r);
		break;
	case RT_DELETE:
		delete (rt->id, r);
		break;
	case RT_CONTENT:
		content(rt->id, c, r);
		break;
	case RT_REMIX:
		remix(rt->id, form, r);
		break;
	case RT_SIM_STATS:
		reply_init(r);
		r->status = 200;
		r->body = stats_json();
		r->len = strlen(r->body);
		break;
	case RT_SIM_RESET:
		sim_reset(r);
		break;
	case RT_BAD_METHOD:
		reply_error(r, 405, "invalid_request_error", NULL, "method_not_allowed",
		            "Method not allowed (%s %.200s). Allowed: %s.", rt->method, rt->path,
		            rt->allow);
		reply_header(r, "Allow", "%s", rt->allow);
		break;
	default:
		reply_error(r, 404, "invalid_request_error", NULL, "unknown_url",
		            "Invalid URL (%s %.200s)", rt->method, rt->path);
	}
}
