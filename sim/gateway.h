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

/* What a retrieve answer carries as "id": --retrieve-id. */
enum gateway_retrieve_id {
	RETRIEVE_ID_SAME,      /* the id the create returned */
	RETRIEVE_ID_EMPTY,     /* "" */
	RETRIEVE_ID_RAW,       /* the upstream's own id, inside a LiteLLM id */
	RETRIEVE_ID_REENCODED, /* the upstream id encoded again by LiteLLM, model_id empty */
};

/* What DELETE /v1/videos/{id} answers: --delete-mode. */
enum gateway_delete_mode {
	DELETE_OK,          /* deletes */
	DELETE_FASTAPI_405, /* no DELETE route: FastAPI's {"detail":"Method Not Allowed"} */
	DELETE_LITELLM_500, /* LiteLLM's 500 when the backend cannot delete */
};

/* What POST /v1/videos/{id}/remix answers: --remix-mode. */
enum gateway_remix_mode {
	REMIX_OK,
	REMIX_LITELLM_500, /* LiteLLM's 500 when the backend cannot remix */
};

/* Which answers come without Content-Length (Transfer-Encoding: chunked): --chunked. */
enum gateway_chunked { CHUNKED_NONE, CHUNKED_CONTENT, CHUNKED_ALL };

#define GATEWAY_STATUS_SIZE 32 /* a status word and its NUL */

/* How every Video object in an answer (create, retrieve, list, remix) is reshaped. */
struct gateway_shape {
	bool no_prompt;        /* --no-prompt: no "prompt" key, as LiteLLM's proxy */
	bool dated_models;     /* --dated-models: "sora-2" answered as "sora-2-2025-10-06" */
	bool created_at_zero;  /* --created-at-zero: "created_at": 0 */
	bool no_progress;      /* --no-progress: "progress": null */
	bool sparse;           /* --sparse-videos: only what LiteLLM's Veo transforms fill */
	bool usage;            /* --usage: {"duration_seconds": N} on create and remix */
	bool list_passthrough; /* --list-passthrough: list items as the upstream's JSON */
	enum gateway_retrieve_id retrieve_id;     /* --retrieve-id */
	char queued_status[GATEWAY_STATUS_SIZE];  /* --queued-status; "" is "queued" */
	char running_status[GATEWAY_STATUS_SIZE]; /* --running-status; "" is "in_progress" */
};

/* How GET /v1/videos/{id}/content is served. */
struct gateway_content {
	bool variant_ignored; /* --variant-ignored: every variant is the MP4, video/mp4 */
	bool disposition;     /* --content-disposition: attachment; filename=video_<id>.mp4 */
	bool no_ranges;       /* --no-ranges: Range is ignored, 200 with every byte */
	bool range_reencode;  /* --range-reencode: a 206 body read as UTF-8 text */
	enum gateway_chunked chunked; /* --chunked */
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
/* "ok" | "fastapi-405" | "litellm-500" */
int gateway_set_delete_mode(const char *mode, char *why, size_t n);
/* "ok" | "litellm-500" */
int gateway_set_remix_mode(const char *mode, char *why, size_t n);
/* Parse into *out: "same" | "empty" | "raw" | "reencoded"; "none" | "content" | "all". */
int gateway_parse_retrieve_id(const char *s, enum gateway_retrieve_id *out, char *why, size_t n);
int gateway_parse_chunked(const char *s, enum gateway_chunked *out, char *why, size_t n);
/* Whether S may be a status word: 1 to 31 letters, digits, '_' or '-'. */
bool gateway_status_word_ok(const char *s);
/* "REQUESTED=ANSWERED": a video asked for as model REQUESTED is answered with model
 * ANSWERED (the backend's name for it); repeatable, the last one for a name wins. */
int gateway_add_answer_model(const char *spec, char *why, size_t n);
void gateway_set_shape(const struct gateway_shape *shape);
void gateway_set_content(const struct gateway_content *content);
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
 * video_id:video_..." (never a '/'); LiteLLM's id of a Gemini Veo operation,
 * "litellm:custom_llm_provider:gemini;model_id:MODEL;video_id:models/MODEL/operations/
 * ..." in base64 (may hold '+', '/' and '='), MODEL being the answered name of the
 * requested MODEL; "video_" + standard base64 that always holds '+', '/' and '='; or
 * GATEWAY_HUGE_ID_LEN letters and digits. ID_SIZE must be at least GATEWAY_ID_SIZE. RAW
 * gets the upstream's own id: the one inside a LiteLLM id, else the id itself. */
void gateway_video_id(char *id, size_t id_size, char *raw, size_t raw_size, uint64_t a, uint64_t b,
                      const char *model);

/* LiteLLM's encoding of the upstream id RAW with MODEL_ID in its model_id slot (the
 * provider is the --id-style's: gemini for litellm-veo, else openai), as
 * litellm/types/videos/utils.py encode_video_id_with_provider writes it. */
void gateway_litellm_encode(const char *raw, const char *model_id, char *out, size_t size);
/* The upstream id inside the LiteLLM id ID (its '=' padding may be missing, as the
 * proxy allows), or -1 when ID is not one. */
int gateway_litellm_decode(const char *id, char *raw, size_t size);

/* The --list-mode, the Video object's --no-prompt/--dated-models/--created-at-zero,
 * and the model name to answer for a model that was asked for (a static string, or
 * MODEL itself). */
enum gateway_list_mode gateway_list_mode(void);
enum gateway_delete_mode gateway_delete_mode(void);
enum gateway_remix_mode gateway_remix_mode(void);
const struct gateway_shape *gateway_shape(void);
const struct gateway_content *gateway_content(void);
const char *gateway_answer_model(const char *model);

/* The --model table: its size (0: the built-in table applies) and lookups. */
size_t gateway_models(const struct gateway_model **models);
const struct gateway_model *gateway_model_find(const char *name);

#endif
