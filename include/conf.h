/*
 * conf.h — sorad's configuration: sorad.conf parsed with libconfuse, the seed's
 * environment variables applied on top, and the model table (models, the sizes and
 * durations each allows, price per second by size) that validation and cost
 * estimates use. Nothing about the provider is hard-coded outside the defaults here.
 *
 * Ownership: conf_load() returns a struct conf that the caller frees with conf_free();
 * every string and array inside belongs to it.
 */
#ifndef SORAD_CONF_H
#define SORAD_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "caps.h"

enum auth_style {
	AUTH_BEARER,  /* Authorization: Bearer KEY (OpenAI, LiteLLM) */
	AUTH_API_KEY, /* api-key: KEY (Azure OpenAI) */
};

enum watch_mode { WATCH_AUTO, WATCH_INOTIFY, WATCH_POLL };

/* One size a model allows, with its price in dollars per second of output. */
struct model_size {
	char *size; /* "1280x720" */
	unsigned width, height;
	double price_per_second;
};

struct model_def {
	char *name;        /* "sora-2" */
	unsigned *seconds; /* allowed durations, e.g. {4, 8, 12, 16, 20} */
	size_t n_seconds;
	struct model_size *sizes;
	size_t n_sizes;
	char **aliases; /* other names the service may report for it (a dated snapshot
	                 * such as "sora-2-2025-10-06" always matches: reconcile.h) */
	size_t n_aliases;
};

/* A user-defined prompt template (template.h): template "NAME" { text = "..." }. */
struct conf_template {
	char *name;
	char *text;
};

/* Which events make a desktop notification (notify_events). */
enum notify_event {
	NOTIFY_EV_READY = 1 << 0,  /* "ready": a video is in the outbox */
	NOTIFY_EV_FAILED = 1 << 1, /* "failed": a job failed */
	NOTIFY_EV_CAP = 1 << 2,    /* "cap": a usage cap holds jobs */
	NOTIFY_EV_DOUBT = 1 << 3,  /* "doubt": a create may have spent money, unproven */
	NOTIFY_EV_INBOX = 1 << 4,  /* "inbox": an image came after its prompt, or alone */
};

struct conf {
	char *path; /* the file loaded, or NULL when built from defaults only */

	/* The API and how to reach it. */
	char *api_base;       /* "https://api.openai.com/v1", never a trailing slash */
	char *api_protocol;   /* "openai" (default) or "openrouter": proto.h's names */
	char *api_key_file;   /* NULL: use OPENAI_API_KEY from the environment */
	char *api_key;        /* the secret itself, loaded by conf_load; never logged */
	char *api_key_unread; /* conf_load_keyless: why api_key_file could not be read */
	enum auth_style auth_style;
	char **extra_headers; /* "Name: value" lines sent with every request */
	size_t n_extra_headers;
	long connect_timeout_ms;
	long request_timeout_ms;     /* whole JSON request; downloads use low-speed limits */
	unsigned max_retries;        /* per request, for transient errors and 429 */
	long retry_base_ms;          /* first backoff delay (doubles per attempt, jittered) */
	long retry_max_ms;           /* backoff ceiling; a longer retry-after still wins */
	unsigned retry_after_max_s;  /* the longest server-asked wait (retry-after) honoured:
	                              * the client pause and a job's next try wait at most this */
	unsigned download_timeout_s; /* one download attempt's whole time, then retried */
	unsigned download_max_mb;    /* the most one download may write; 0: from the job's
	                              * size and seconds (jobs.h) */

	/* Folders. Relative paths are resolved against the config file's directory. */
	char *inbox;
	char *outbox;
	char *failed_dir; /* default: OUTBOX/failed */
	char *ffmpeg;     /* makes the variants a service cannot serve (derive.h): NULL "ffmpeg"
	                   * from the PATH, "" none, else its path */
	/* Permissions of what sorad writes to the outbox and failed_dir (files; their
	 * directories add x where r is set), whatever the umask: 0644 by default. The state
	 * directory stays private (0700/0600) under the daemon's umask 077. */
	mode_t outbox_mode;
	char *state_dir;
	char *log_dir;

	/* Job defaults and limits. */
	char *default_model;
	char *default_size;
	unsigned default_seconds;
	unsigned max_in_flight;
	unsigned poll_initial;   /* seconds */
	unsigned poll_max;       /* seconds */
	unsigned job_timeout;    /* seconds */
	unsigned pair_wait_s;    /* a prompt waits this long for its image still arriving */
	long long max_file_size; /* bytes, inbox files and reference images */
	unsigned settle_ms;
	enum watch_mode watch_mode;

	/* Status endpoint, notifications, logging. */
	char *listen;       /* "127.0.0.1:4444"; empty disables */
	char *status_token; /* NULL: no token required */
	bool notify;
	unsigned notify_events; /* enum notify_event bits; default all */
	char *log_level;        /* "debug", "info", "warning", "error" */
	unsigned log_keep_days;

	/* Signed completion callbacks (callback.h); off while callback_listen is NULL. */
	char *callback_listen;      /* "127.0.0.1:8788": where the reverse proxy forwards */
	char *callback_url;         /* the public URL sent with each create; NULL: none */
	char *callback_secret_file; /* required with callback_listen */
	char *callback_secret;      /* its content, loaded by conf_load; never logged */

	/* Usage caps (0: no cap) and the approval threshold for one dropped file. */
	double daily_cap_usd;
	double monthly_cap_usd;
	unsigned daily_cap_seconds;
	unsigned monthly_cap_seconds;
	double approve_over_usd;
	/* A job in doubt (jobs.h) is resubmitted on its own after this many hours;
	 * 0 (the default): never, it waits for `sorad resolve`. */
	unsigned in_doubt_resubmit_hours;
	bool duplicate_skip;            /* duplicate_policy = skip (dupes.h) */
	unsigned duplicate_window_days; /* 0: duplicates are never skipped */
	/* Finished jobs' records older than this many days move into STATE/archive/ (store.h,
	 * jobs_archive.c); 0 (the default): kept forever. */
	unsigned keep_records_days;
	/* model_catalog: use the service's GET /videos/models (catalog.h). */
	enum { CONF_CATALOG_AUTO, CONF_CATALOG_YES, CONF_CATALOG_NO } model_catalog;

	/* What the service can do (caps.h): api_profile's defaults, and the keys of the
	 * capabilities section that pin one (auto: learned from its answers). */
	enum caps_profile api_profile;
	enum caps_setting caps[CAPS_COUNT];

	struct model_def *models;
	size_t n_models;

	struct conf_template *templates; /* user-defined; built-ins are in template.c */
	size_t n_templates;
};

/*
 * Loads PATH (or only the defaults when PATH is NULL), applies the environment
 * overrides, and reads the API key (api_key_file, else OPENAI_API_KEY; a missing key
 * is not an error here: commands that need it check).
 * On error returns NULL and writes a message naming the file and line into err.
 */
struct conf *conf_load(const char *path, char *err, size_t errlen);
/* The same for the commands, which need no key when the daemon runs (it holds it): an
 * api_key_file this user cannot read (the system unit's, root's) is no error; api_key
 * stays NULL and api_key_unread says why (never the key's content). */
struct conf *conf_load_keyless(const char *path, char *err, size_t errlen);
void conf_free(struct conf *c);

/* Model table lookups. NULL / false when the model or value is not configured. */
const struct model_def *conf_model(const struct conf *c, const char *model);
const struct model_size *conf_model_size(const struct model_def *m, const char *size);
bool conf_model_allows_seconds(const struct model_def *m, unsigned seconds);

/* Who besides its owner may read api_key_file: "everyone", "its group", or NULL (no
 * one, or no key file). check-config and the daemon's start warn about it. */
const char *conf_key_file_exposed(const struct conf *c);

/* The mode of directories sorad creates in the outbox: outbox_mode plus x where r is
 * set (0644 gives 0755, 0640 gives 0750). */
mode_t conf_outbox_dir_mode(const struct conf *c);

/* Estimated cost in dollars of one generation; negative when not in the table. */
double conf_estimate_cost(const struct conf *c, const char *model, const char *size,
                          unsigned seconds);

#endif
