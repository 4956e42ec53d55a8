/*
 * gateway.h - how a gateway in front of the Videos API differs from OpenAI's own
 * endpoint, so that sorad's gateway configurations can be tested end to end: the path
 * prefix (Azure OpenAI serves /openai/v1/videos), the header that carries the key
 * (Azure's api-key), the shape of video ids (a LiteLLM proxy rewrites them into long
 * base64 strings) and the model table (Azure deployment names, other models behind a
 * proxy). Set once from the command line before the server starts; read-only after.
 */
#ifndef SIM_GATEWAY_H
#define SIM_GATEWAY_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
int gateway_set_ids(const char *style, char *why, size_t n);     /* "openai" | "litellm" */
/* "NAME:SIZE,SIZE...:SECONDS,SECONDS..." (seconds may be left out: 4,8,12). The first
 * --model replaces the built-in sora-2 / sora-2-pro table. */
int gateway_add_model(const char *spec, char *why, size_t n);
void gateway_shutdown(void);

/* The rest of URL after the API prefix (e.g. "/videos/ID"), or NULL when URL is not
 * under it. The default prefix is "/v1". */
const char *gateway_api_path(const char *url);

/* The key the request carries in the configured header, or NULL; and how to send one,
 * for the 401 message. */
const char *gateway_request_key(struct MHD_Connection *c);
const char *gateway_auth_hint(void);

/* Writes the id of a new video, from the 128 random bits A and B, in the configured
 * style: "video_" + 32 hex digits, or LiteLLM's "video_" + base64 of
 * "litellm:custom_llm_provider:openai;model_id:...;video_id:video_...". */
void gateway_video_id(char *buf, size_t size, uint64_t a, uint64_t b);

/* The --model table: its size (0: the built-in table applies) and lookups. */
size_t gateway_models(const struct gateway_model **models);
const struct gateway_model *gateway_model_find(const char *name);

#endif
