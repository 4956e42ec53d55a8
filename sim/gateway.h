/*
 * gateway.h - how a gateway in front of the Videos API differs from OpenAI's own
 * endpoint, so that sorad's gateway configurations can be tested end to end: the path
 * prefix (Azure OpenAI serves /openai/v1/videos), the header that carries the key
 * (Azure's api-key), the shape of video ids (a LiteLLM proxy rewrites them into long
 * base64 strings, or huge ones) and the model table (Azure deployment names, other
 * models behind a proxy); and how a gateway reshapes the Video object (no prompt, dated
 * model names, created_at 0) and refuses the list. Set once from the command line
 * before the server starts; read-only after.
 */
#ifndef SIM_GATEWAY_H
#define SIM_GATEWAY_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Room for the id of any --id-style plus the NUL: "huge" ids are 5,000 characters. */
#define GATEWAY_ID_SIZE 5008
#define GATEWAY_HUGE_ID_LEN 5000

/* What GET /v1/videos (the list, not retrieve) answers: --list-mode. */
enum gateway_list_mode {
	LIST_OK,          /* the list */
	LIST_404,         /* no such route */
	LIST_405,         /* the route exists for POST only */
	LIST_501,         /* not implemented */
	LIST_LITELLM_500, /* LiteLLM's proxy in front of a backend without a list */
};

/* How every Video object in an answer (create, retrieve, list, remix) is reshaped. */
struct gateway_shape {
	bool no_prompt;       /* --no-prompt: no "prompt" key, as LiteLLM's proxy */
	bool dated_models;    /* --dated-models: "sora-2" answered as "sora-2-2025-10-06" */
	bool created_at_zero; /* --created-at-zero: "created_at": 0 */
};

/* One model of a --model table. The strings belong to the gateway module. */
struct gateway_model {
	const char *name;
	const char *const *sizes; /* "1280x720", ... */
	size_t n_sizes;
	const char *const *seconds; /* "4", "8", ... */
	size_t n_seconds;
};

/* Command-line setters: 0, or -1 with a message in why. */
int gateway_set_prefix(const char *prefix, char *why, size_t n); /* "/openai/v1" */
int gateway_set_auth(const char *header, char *why, size_t n);   /* "authorization" | "api-key" */
/* "openai" | "litellm" | "b64" | "huge" */
int gateway_set_ids(const char *style, char *why, size_t n);
/* "ok" | "404" | "405" | "501" | "litellm-500" */
int gateway_set_list_mode(const char *mode, char *why, size_t n);
void gateway_set_shape(const struct gateway_shape *shape);
/* "NAME:SIZE,SIZE...:SECONDS,SECONDS..." (seconds may be left out: 4,8,12). The first
 * --model replaces the built-in sora-2 / sora-2-pro table. */
int gateway_add_model(const char *spec, char *why, size_t n);
void gateway_shutdown(void);

/* The rest of URL after the API prefix (e.g. "/videos/ID"), or NULL when URL is not
 * under it. The default prefix is "/v1". */
const char *gateway_api_path(const char *url);
/* The API prefix itself, for messages: "/v1", "/openai/v1", or "" at the root. */
const char *gateway_prefix(void);

/* The key the request carries in the configured header, or NULL; and how to send one,
 * for the 401 message. */
const char *gateway_request_key(struct MHD_Connection *c);
const char *gateway_auth_hint(void);

/* Writes the id of a new video, from the 128 random bits A and B (distinct bits give
 * distinct ids in every style), in the configured style: "video_" + 32 hex digits;
 * LiteLLM's "video_" + base64 of "litellm:custom_llm_provider:openai;model_id:...;
 * video_id:video_..." (never a '/'); "video_" + standard base64 that always holds '+',
 * '/' and '='; or GATEWAY_HUGE_ID_LEN letters and digits. SIZE must be at least
 * GATEWAY_ID_SIZE. */
void gateway_video_id(char *buf, size_t size, uint64_t a, uint64_t b);

/* The --list-mode, the Video object's --no-prompt/--dated-models/--created-at-zero,
 * and the model name to answer for a model that was asked for (a static string, or
 * MODEL itself). */
enum gateway_list_mode gateway_list_mode(void);
const struct gateway_shape *gateway_shape(void);
const char *gateway_answer_model(const char *model);

/* The --model table: its size (0: the built-in table applies) and lookups. */
size_t gateway_models(const struct gateway_model **models);
const struct gateway_model *gateway_model_find(const char *name);

#endif
