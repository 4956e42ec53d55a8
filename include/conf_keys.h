/*
 * conf_keys.h — the one table of sorad.conf's keys (src/conf_keys.c) and what is made
 * from it: the libconfuse options, the checks and their messages (check-config's and
 * the daemon's), the environment overrides, the fill of struct conf, the release of
 * its strings, and the key list of sorad.conf(5) (`sorad conf-keys --man`).
 *
 * A key is one row: adding one is a row in conf_keys.c, its field in struct conf
 * (conf.h), and the man page's key list regenerated (HACKING.md). The sections (model,
 * size, template, capabilities) are structure rather than keys and stay in conf.c.
 *
 * Private to the configuration modules (conf.c, check_config.c) and their tests.
 */
#ifndef SORAD_CONF_KEYS_H
#define SORAD_CONF_KEYS_H

#include <confuse.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct conf;

/* How a key is written in the file and where its value lands in struct conf. */
enum conf_key_type {
	CONF_KEY_STR,    /* a string, into char * (NULL: unset) */
	CONF_KEY_INT,    /* a whole number in [min, max], into long */
	CONF_KEY_UINT,   /* a whole number in [min, max] (min >= 0), into unsigned */
	CONF_KEY_LLONG,  /* a whole number in [min, max], into long long */
	CONF_KEY_DOUBLE, /* a number, finite and not below 0, into double */
	CONF_KEY_BOOL,   /* true or false, into bool */
	CONF_KEY_ENUM,   /* one of words[], its index into an int-sized enum */
	CONF_KEY_FLAGS,  /* a list of words[], bit i for words[i], into unsigned */
	CONF_KEY_LIST,   /* a list of strings, into char ** (NULL-ended) and a size_t count */
	CONF_KEY_MODE,   /* an octal file mode written as a string, into mode_t */
};

/* Flags of a key. */
#define CONF_KEY_SECRET 1u     /* never echo its value in a message; wiped when freed */
#define CONF_KEY_EMPTY_NULL 2u /* CONF_KEY_STR: "" is stored as NULL (turned off) */
/* CONF_KEY_STR: a file or folder; a relative one resolves against the directory of the
 * configuration file (against the current directory when set from the environment). */
#define CONF_KEY_PATH 4u

/* Checks string S; 0 when acceptable, else -1 with the reason in why. */
typedef int (*conf_check_fn)(const char *s, char *why, size_t n);

/* The order of the fields is how a row reads (name, type, default first): the 8 bytes
 * of padding a row do not matter. */
struct conf_key { /* NOLINT(clang-analyzer-optin.performance.Padding): see above */
	const char *name;
	enum conf_key_type type;
	/* The default as it would be written in the file without quotes: "8", "0.5",
	 * "true", "auto", "{ready, failed}" for a list; NULL: unset. */
	const char *def;
	long long min, max; /* the integer types */
	/* ENUM and FLAGS, or a STR kept as the word itself (log_level): the allowed
	 * words, NULL-ended, in the order of the enum's values or the flags' bits. */
	const char *const *words;
	conf_check_fn check; /* STR and LIST (each element): the value's check */
	size_t off, size;    /* offsetof(struct conf, its field), and its size */
	size_t count_off;    /* LIST: offsetof the size_t element count */
	/* Instead of off, for a key whose value needs custom code (name the key in the
	 * function's comment); conf_keys_release() skips it, so what it allocates
	 * conf_free() frees by name. */
	void (*fill)(struct conf *c, cfg_t *cfg);
	const char *env;  /* the environment variable that overrides it */
	unsigned flags;   /* CONF_KEY_SECRET, CONF_KEY_EMPTY_NULL, CONF_KEY_PATH */
	const char *help; /* one line for the man page's key list */
};

/* At least conf_keys_count (checked when conf_keys.c compiles): the size of the
 * arrays that conf.c keeps per key. */
#define CONF_KEYS_MAX 96

extern const struct conf_key conf_keys[];
extern const size_t conf_keys_count;

/* The row of NAME, NULL when no key has that name. */
const struct conf_key *conf_key_find(const char *name);

/* Writes one libconfuse option per key into opts[0 .. conf_keys_count). */
void conf_keys_opts(cfg_opt_t *opts);

/* Checks element I of OPT (key K) just parsed; 0 when fine, else -1 with the whole
 * message ("max_retries = 101: must be between 0 and 100") in msg. */
int conf_key_check(const struct conf_key *k, cfg_opt_t *opt, unsigned i, char *msg, size_t n);

/* Applies V, the value of K's environment variable, to C; 0 when applied, else -1
 * with the message (without the variable's name) in msg and C unchanged. */
int conf_key_from_env(const struct conf_key *k, const char *v, struct conf *c, char *msg, size_t n);

/* Fills every key's field of C from the parsed CFG (values checked while parsing). */
void conf_keys_fill(struct conf *c, cfg_t *cfg);

/* Frees every key's string and list of C (secrets wiped first); the fields are left
 * dangling: conf_free() frees C next. */
void conf_keys_release(struct conf *c);

/* The key list of sorad.conf(5), in roff: the block between the page's "BEGIN KEYS"
 * and "END KEYS" comments (tests/integration/conf_keys_man.sh compares them). */
void conf_keys_print_man(FILE *out);
/* The same list as plain text, one key a line. */
void conf_keys_print_text(FILE *out);

/* Value checks shared with conf.c's sections. */
int conf_why(char *why, size_t n, const char *reason); /* copies reason, returns -1 */
int conf_check_one_of(const char *s, const char *const *allowed, char *why, size_t n);
int conf_check_size(const char *s, char *why, size_t n);       /* "1280x720" */
int conf_check_model_name(const char *s, char *why, size_t n); /* a form-safe word */
int conf_parse_size(const char *s, unsigned *w, unsigned *h);

#endif
