/*
 * caps.h — what the configured service can do: list videos (and whether its list
 * echoes prompts), delete, remix, serve the thumbnail and spritesheet variants,
 * report progress, send poll hints (openai-poll-after-ms).
 *
 * One struct caps per service (api_base). Each capability is, in this order of
 * precedence:
 *   1. pinned by the configuration (capabilities { list = no } in sorad.conf: yes/no);
 *   2. learned from the service's answers (caps_observe, caps_learn), for
 *      CAPS_RELEARN_MS after it was last seen, then forgotten so that the service is
 *      asked again (a gateway may gain a list with a new backend);
 *   3. the default of the api_profile (openai: everything; litellm: no prompts in
 *      lists, no delete, no variants; auto: nothing assumed);
 *   4. unknown, which callers treat as "try it".
 * Above all of these, the protocol (proto.h, caps_set_protocol): what api_protocol has
 * no request for (OpenRouter's video API has no list, no delete...) is CAPS_NO whatever
 * the configuration says or a gateway seemed to show.
 * Every learned change is logged once, at info when it takes something away (or gives
 * it back), at debug otherwise; confirming what is already known logs nothing.
 *
 * Learning never decides whether a create is sent: it only saves calls that are known
 * to fail (batch polling by list, reconciliation by list) and explains refusals.
 *
 * Ownership: a struct caps is plain data, zeroed then configured by caps_configure
 * (which keeps what was learned, so a reload does not forget it). The daemon owns one
 * and lends it to each API client (api_client_set_caps); the CLI makes its own.
 * Not thread-safe: the event loop's thread only.
 */
#ifndef SORAD_CAPS_H
#define SORAD_CAPS_H

#include <stdbool.h>
#include <stddef.h>

enum caps_id {
	CAPS_LIST,         /* GET /videos answers */
	CAPS_LIST_PROMPTS, /* ...and its videos carry their prompt (reconciliation needs it) */
	CAPS_DELETE,       /* DELETE /videos/{id} */
	CAPS_REMIX,        /* POST /videos/{id}/remix */
	CAPS_THUMBNAIL,    /* GET /videos/{id}/content?variant=thumbnail is a WebP */
	CAPS_SPRITESHEET,  /* ...variant=spritesheet is a JPEG */
	CAPS_PROGRESS,     /* running videos report a progress */
	CAPS_POLL_HINTS,   /* answers carry openai-poll-after-ms */
};
#define CAPS_COUNT (CAPS_POLL_HINTS + 1)

/* A capability's value in sorad.conf. */
enum caps_setting { CAPS_SET_AUTO = 0, CAPS_SET_YES, CAPS_SET_NO };

/* api_profile in sorad.conf. */
enum caps_profile { CAPS_PROFILE_AUTO = 0, CAPS_PROFILE_OPENAI, CAPS_PROFILE_LITELLM };

enum caps_state { CAPS_UNKNOWN = 0, CAPS_YES, CAPS_NO };

/* Where a capability's current state comes from. */
enum caps_source {
	CAPS_FROM_NOTHING = 0,
	CAPS_FROM_PROFILE,
	CAPS_FROM_CONFIG,
	CAPS_FROM_LEARNED,
	CAPS_FROM_PROTOCOL, /* the api_protocol has no such thing at all */
};

/* How long a learned state holds after it was last seen (an hour). */
#define CAPS_RELEARN_MS (3600LL * 1000)

struct caps_entry {
	enum caps_state learned;   /* CAPS_UNKNOWN: nothing learned */
	long long seen_ms;         /* when it was last seen (caps clock) */
	enum caps_state announced; /* what the log last said */
	char why[240];             /* what the service answered, for logs and the probe */
};

struct caps {
	char endpoint[512]; /* the api_base it describes */
	enum caps_profile profile;
	enum caps_setting set[CAPS_COUNT];
	struct caps_entry e[CAPS_COUNT];
	char protocol[32];                 /* api_protocol, "" none set */
	enum caps_state proto[CAPS_COUNT]; /* what it settles (CAPS_UNKNOWN: nothing) */
	long long relearn_ms;              /* 0: CAPS_RELEARN_MS */
	long long (*now_ms)(void *ud);     /* NULL: CLOCK_MONOTONIC (tests inject theirs) */
	void *clock_ud;
};

/* "list", "list_prompts", "delete", "remix", "thumbnail", "spritesheet", "progress",
 * "poll_hints": the key names in sorad.conf; "?" out of range. */
const char *caps_name(enum caps_id id);
/* "auto", "openai", "litellm"; "yes"/"no"/"auto"; "yes"/"no"/"unknown". */
const char *caps_profile_name(enum caps_profile p);
const char *caps_setting_name(enum caps_setting s);
const char *caps_state_name(enum caps_state s);
/* Parsers of the same words: 0, or -1 when S is none of them. */
int caps_profile_parse(const char *s, enum caps_profile *p);
int caps_setting_parse(const char *s, enum caps_setting *v);

/* Sets the service ENDPOINT (api_base; NULL: unnamed), the profile and the configured
 * settings (SET may be NULL: all auto). What was learned is kept while the endpoint
 * stays the same, forgotten when it changes. */
void caps_configure(struct caps *c, const char *endpoint, enum caps_profile profile,
                    const enum caps_setting set[CAPS_COUNT]);

/* Sets the protocol NAME and what it settles (FACTS, CAPS_UNKNOWN where the service
 * decides; NULL: nothing). Kept until set again. */
void caps_set_protocol(struct caps *c, const char *name, const enum caps_state facts[CAPS_COUNT]);

/* The profile's default for ID, CAPS_UNKNOWN when it assumes nothing. */
enum caps_state caps_profile_default(enum caps_profile p, enum caps_id id);

/* ID's current state and where it comes from (SRC may be NULL). C NULL: unknown. */
enum caps_state caps_get(const struct caps *c, enum caps_id id, enum caps_source *src);

/* Whether ID may be used: true unless it is known not to work. C NULL: true. */
bool caps_has(const struct caps *c, enum caps_id id);

/* The service's last answer about ID ("" none), e.g. "HTTP 405: Method not allowed". */
const char *caps_why(const struct caps *c, enum caps_id id);

/* Why ID is in its current state, for a person, into BUF[N]: "learned: HTTP 405: ...",
 * "capabilities { delete = no } in the configuration", "api_profile litellm", or
 * "nothing known yet". Returns BUF. */
const char *caps_explain(const struct caps *c, enum caps_id id, char *buf, size_t n);

/* Records that the service showed ID working (CAPS_YES) or not (CAPS_NO), with WHY
 * (what it answered, may be NULL), and logs the change once. C NULL: nothing. */
void caps_learn(struct caps *c, enum caps_id id, enum caps_state st, const char *why);

struct api_result;

/*
 * Whether the failed answer RES says that the service has no such operation (rather
 * than that this one call failed): a list or delete answered 405 or 501, a 404 that
 * is not the service's own error body (a gateway without the route), or a 5xx whose
 * error says "not supported" or "not implemented" (LiteLLM). A list's 404 always
 * counts (it names no video). Such an answer will not change by retrying.
 */
bool caps_refusal(const struct api_result *res);

/* Learns from a finished request's RES (api.c calls it for every request of a client
 * with caps). Returns caps_refusal(RES). C NULL: only the latter. */
bool caps_observe(struct caps *c, const struct api_result *res);

#endif
