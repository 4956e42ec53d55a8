/*
 * proto.h — the protocols sorad speaks, behind one small interface. api.c is the
 * transport (libcurl multi, retries, pauses, the in-doubt rule of spend.h); a protocol
 * only maps sorad's requests to HTTP (method, path, body) and the service's answers
 * back to a struct video. Each protocol lives in its own file (proto_openai.c,
 * proto_openrouter.c) and is listed once in proto.c's table: adding a third touches
 * neither the transport nor the daemon.
 *
 * Every function here is pure: no I/O but reading the image files a create sends, no
 * logging, no global state. Untrusted answers are parsed with the limits of video.h.
 *
 * Ownership: a struct proto_request owns every string in it (proto_request_release
 * frees them); the protocol tables are static and never freed.
 */
#ifndef SORAD_PROTO_H
#define SORAD_PROTO_H

#include <stdbool.h>
#include <stddef.h>

#include "api.h"
#include "caps.h"
#include "video.h"

#define PROTO_PARTS_MAX 8                    /* fields of a multipart/form-data body */
#define PROTO_IMAGE_MAX (20LL * 1024 * 1024) /* bytes of an image sent inside a JSON body */

/* What a prompt file may ask for beyond prompt, model, seconds, size and reference: a
 * protocol that lacks one refuses a job asking for it before anything is sent. */
enum proto_extra {
	PROTO_EXTRA_LAST_FRAME = 1u << 0, /* last_frame: an image the video ends on */
	PROTO_EXTRA_SEED = 1u << 1,       /* seed: an integer */
	PROTO_EXTRA_AUDIO = 1u << 2,      /* audio: true|false */
	PROTO_EXTRA_OPTIONS = 1u << 3,    /* options: a JSON object passed through */
	PROTO_EXTRA_EXTEND = 1u << 4,     /* extend_of: continue a finished job's video */
};

/* One part of a multipart/form-data body: a text VALUE, or the file at FILE (streamed
 * by the transport, never read into memory) sent with MIME. */
struct proto_part {
	const char *name; /* static */
	char *value;      /* owned, or NULL */
	char *file;       /* owned, or NULL */
	const char *mime; /* static; with FILE */
};

/* A request as the transport sends it: METHOD base+PATH, with a JSON body (sent with
 * Content-Type: application/json), or a multipart body (N_PARTS > 0), or none. */
struct proto_request {
	const char *method; /* static: "GET", "POST", "DELETE" */
	char *path;         /* owned: "/videos", "/videos/ID/content?variant=video"... */
	char *json;         /* owned, or NULL */
	struct proto_part parts[PROTO_PARTS_MAX];
	size_t n_parts;
};

void proto_request_init(struct proto_request *r);
void proto_request_release(struct proto_request *r);

struct proto {
	const char *name; /* the api_protocol word in sorad.conf */
	/* What the protocol itself settles, whatever the service (caps.h): CAPS_NO for
	 * an operation it does not have, CAPS_UNKNOWN where the service decides. */
	enum caps_state caps[CAPS_COUNT];
	unsigned extras; /* enum proto_extra bits it can send */
	/* Builds the create request for P into OUT (initialized by the caller). On failure
	 * (an unreadable image, an argument the protocol cannot send) returns -1 with the
	 * kind (API_VALIDATION, API_LOCAL...) and a reason in ERR; nothing was sent. */
	int (*create)(const struct api_create_params *p, struct proto_request *out,
	              enum api_kind *kind, char *err, size_t errlen);
	/* The path of OP (retrieve, delete, remix, content) for the video whose id,
	 * already percent-encoded, is ESC_ID; VARIANT for content. NULL: the protocol has
	 * no such request. Caller frees. */
	char *(*video_path)(enum api_op op, const char *esc_id, enum api_variant variant);
	/* Parses a create, remix or retrieve answer JSON[LEN] into V (video_parse's
	 * contract). *POLL_URL (may be NULL) receives the URL the service says to poll the
	 * job at (caller frees), NULL when it names none. */
	int (*parse_video)(struct video *v, char **poll_url, const char *json, size_t len,
	                   bool *syntax, char *err, size_t errlen);
	/* Optional (NULL: none): the kind of a failed answer with STATUS whose error body
	 * BODY[LEN] was parsed into E, where the protocol knows better than
	 * retry_classify_http (it may fill E's code); API_OK: no opinion. */
	enum api_kind (*error_kind)(long status, struct api_error *e, const char *body, size_t len);
};

/* The protocol named NAME ("openai", "openrouter"; NULL: openai), or NULL. */
const struct proto *proto_find(const char *name);
/* The names of every protocol, ", "-separated, for messages. */
const char *proto_names(void);
/* The name of extra X ("last_frame", "seed", "audio", "options", "extend_of"). */
const char *proto_extra_name(enum proto_extra x);

/* The protocols (proto_openai.c, proto_openrouter.c). */
extern const struct proto proto_openai;
extern const struct proto proto_openrouter;

/* ---- helpers the protocols share, and the OpenRouter mapping (for tests) -------- */

/* The MIME type of the image at PATH, sniffed from its first bytes ("image/png"...).
 * NULL with the kind and reason in ERR when it cannot be read or is no image. */
const char *proto_image_mime(const char *path, enum api_kind *kind, char *err, size_t errlen);

/* The data URL of the image at PATH ("data:image/png;base64,..."), at most
 * PROTO_IMAGE_MAX bytes of image. Caller frees. NULL with kind and ERR on failure. */
char *proto_image_data_url(const char *path, enum api_kind *kind, char *err, size_t errlen);

/* The path of URL under BASE (api_base, without a trailing '/'): the part after BASE
 * when URL starts with BASE followed by '/', and holds no "/.." and no '#'; else NULL.
 * A polling_url is only followed there, so that the key is sent nowhere else. */
const char *proto_path_under(const char *base, const char *url);

/* OpenRouter's resolution and aspect ratio of a size "WxH": the shorter side with a
 * "p" ("720p", "1080p") and the ratio reduced ("16:9", "9:16", "1:1", "4:3"...).
 * -1 when SIZE is not two positive integers of at most 5 digits joined by 'x'. */
int proto_openrouter_shape(const char *size, char *res, size_t reslen, char *aspect,
                           size_t aspectlen);

/* OpenRouter's status words: pending, in_progress, completed, failed, cancelled,
 * expired (without regard to case); anything else VIDEO_UNKNOWN (still running). */
enum video_status proto_openrouter_status(const char *word);

#endif
