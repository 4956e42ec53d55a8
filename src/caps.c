/* caps.c — what the configured service can do, configured and learned (see caps.h). */
#include "caps.h"
#include "api.h"
#include "clock.h"
#include "log.h"
#include "reconcile.h"
#include "util.h"

#include <string.h>
#include <time.h>

static const struct {
	const char *name;    /* the key in sorad.conf */
	const char *can;     /* "the service can ..." */
	const char *without; /* what sorad does without it */
} defs[CAPS_COUNT] = {
    [CAPS_LIST] = {"list", "list videos",
                   "; jobs are polled one by one, and a create in doubt cannot be checked "
                   "against a list"},
    [CAPS_LIST_PROMPTS] = {"list_prompts", "echo prompts in its list",
                           "; a create in doubt cannot be proven absent, so it goes in doubt "
                           "at once"},
    [CAPS_DELETE] = {"delete", "delete videos", "; videos stay until the service expires them"},
    [CAPS_REMIX] = {"remix", "remix videos", ""},
    [CAPS_THUMBNAIL] = {"thumbnail", "serve thumbnails", ""},
    [CAPS_SPRITESHEET] = {"spritesheet", "serve spritesheets", ""},
    [CAPS_PROGRESS] = {"progress", "report progress", ""},
    [CAPS_POLL_HINTS] = {"poll_hints", "send poll hints", ""},
};

static const char *const profile_names[] = {[CAPS_PROFILE_AUTO] = "auto",
                                            [CAPS_PROFILE_OPENAI] = "openai",
                                            [CAPS_PROFILE_LITELLM] = "litellm"};
static const char *const setting_names[] = {
    [CAPS_SET_AUTO] = "auto", [CAPS_SET_YES] = "yes", [CAPS_SET_NO] = "no"};
static const char *const state_names[] = {
    [CAPS_UNKNOWN] = "unknown", [CAPS_YES] = "yes", [CAPS_NO] = "no"};

const char *caps_name(enum caps_id id)
{
	return (unsigned)id < CAPS_COUNT ? defs[id].name : "?";
}

const char *caps_profile_name(enum caps_profile p)
{
	return (unsigned)p < ARRAY_LEN(profile_names) ? profile_names[p] : "?";
}

const char *caps_setting_name(enum caps_setting s)
{
	return (unsigned)s < ARRAY_LEN(setting_names) ? setting_names[s] : "?";
}

const char *caps_state_name(enum caps_state s)
{
	return (unsigned)s < ARRAY_LEN(state_names) ? state_names[s] : "?";
}

static int word_index(const char *s, const char *const *words, size_t n)
{
	for (size_t i = 0; s && i < n; i++)
		if (!strcmp(s, words[i]))
			return (int)i;
	return -1;
}

int caps_profile_parse(const char *s, enum caps_profile *p)
{
	int i = word_index(s, profile_names, ARRAY_LEN(profile_names));
	if (i < 0)
		return -1;
	*p = (enum caps_profile)i;
	return 0;
}

int caps_setting_parse(const char *s, enum caps_setting *v)
{
	int i = word_index(s, setting_names, ARRAY_LEN(setting_names));
	if (i < 0)
		return -1;
	*v = (enum caps_setting)i;
	return 0;
}

enum caps_state caps_profile_default(enum caps_profile p, enum caps_id id)
{
	switch (p) {
	case CAPS_PROFILE_OPENAI:
		return CAPS_YES;
	case CAPS_PROFILE_LITELLM:
		/* providers.md: no prompt in LiteLLM's Video object, no DELETE route, the
		 * variant is not passed on (the MP4 comes back); a list depends on the
		 * backend, progress may be null. */
		switch (id) {
		case CAPS_LIST_PROMPTS:
		case CAPS_DELETE:
		case CAPS_THUMBNAIL:
		case CAPS_SPRITESHEET:
			return CAPS_NO;
		case CAPS_REMIX:
			return CAPS_YES;
		default:
			return CAPS_UNKNOWN;
		}
	case CAPS_PROFILE_AUTO:
		break;
	}
	return CAPS_UNKNOWN;
}

void caps_configure(struct caps *c, const char *endpoint, enum caps_profile profile,
                    const enum caps_setting set[CAPS_COUNT])
{
	if (strncmp(c->endpoint, endpoint ? endpoint : "", sizeof(c->endpoint) - 1) != 0) {
		/* Another service: nothing learned about the old one holds. */
		memset(c->e, 0, sizeof(c->e));
		(void)bcopy_str(c->endpoint, sizeof(c->endpoint), endpoint ? endpoint : "");
	}
	c->profile = profile;
	for (size_t i = 0; i < CAPS_COUNT; i++)
		c->set[i] = set ? set[i] : CAPS_SET_AUTO;
}

static long long caps_now(const struct caps *c)
{
	if (c->now_ms)
		return c->now_ms(c->clock_ud);
	return clock_mono_ms().ms;
}

static long long relearn_ms(const struct caps *c)
{
	return c->relearn_ms > 0 ? c->relearn_ms : CAPS_RELEARN_MS;
}

void caps_set_protocol(struct caps *c, const char *name, const enum caps_state facts[CAPS_COUNT])
{
	if (!c)
		return;
	(void)bcopy_str(c->protocol, sizeof(c->protocol), name ? name : "");
	for (size_t i = 0; i < CAPS_COUNT; i++)
		c->proto[i] = facts ? facts[i] : CAPS_UNKNOWN;
}

enum caps_state caps_get(const struct caps *c, enum caps_id id, enum caps_source *src)
{
	enum caps_source from = CAPS_FROM_NOTHING;
	enum caps_state st = CAPS_UNKNOWN;
	if (c && (unsigned)id < CAPS_COUNT) {
		const struct caps_entry *e = &c->e[id];
		if (c->proto[id] != CAPS_UNKNOWN) {
			st = c->proto[id];
			from = CAPS_FROM_PROTOCOL;
		} else if (c->set[id] != CAPS_SET_AUTO) {
			st = c->set[id] == CAPS_SET_YES ? CAPS_YES : CAPS_NO;
			from = CAPS_FROM_CONFIG;
		} else if (e->learned != CAPS_UNKNOWN && caps_now(c) - e->seen_ms < relearn_ms(c)) {
			st = e->learned;
			from = CAPS_FROM_LEARNED;
		} else if ((st = caps_profile_default(c->profile, id)) != CAPS_UNKNOWN) {
			from = CAPS_FROM_PROFILE;
		}
	}
	if (src)
		*src = from;
	return st;
}

bool caps_has(const struct caps *c, enum caps_id id)
{
	return caps_get(c, id, NULL) != CAPS_NO;
}

const char *caps_why(const struct caps *c, enum caps_id id)
{
	return c && (unsigned)id < CAPS_COUNT ? c->e[id].why : "";
}

const char *caps_explain(const struct caps *c, enum caps_id id, char *buf, size_t n)
{
	enum caps_source src;
	(void)caps_get(c, id, &src);
	switch (src) {
	case CAPS_FROM_CONFIG:
		(void)bfmt(buf, n, "capabilities { %s = %s } in the configuration", caps_name(id),
		           caps_setting_name(c->set[id]));
		break;
	case CAPS_FROM_LEARNED:
		(void)bfmt(buf, n, "learned: %s", c->e[id].why[0] ? c->e[id].why : "no details");
		break;
	case CAPS_FROM_PROFILE:
		(void)bfmt(buf, n, "api_profile %s", caps_profile_name(c->profile));
		break;
	case CAPS_FROM_PROTOCOL:
		(void)bfmt(buf, n, "api_protocol %s has %s", c->protocol,
		           c->proto[id] == CAPS_NO ? "no such request" : "it");
		break;
	case CAPS_FROM_NOTHING:
		(void)bcopy_str(buf, n, "nothing known yet");
		break;
	}
	return buf;
}

void caps_learn(struct caps *c, enum caps_id id, enum caps_state st, const char *why)
{
	if (!c || (unsigned)id >= CAPS_COUNT || st == CAPS_UNKNOWN)
		return;
	struct caps_entry *e = &c->e[id];
	e->learned = st;
	e->seen_ms = caps_now(c);
	if (why)
		(void)bcopy_str(e->why, sizeof(e->why), why); /* a cut answer still says enough */
	if (st == e->announced)
		return; /* known already: said once */
	enum caps_state before = e->announced;
	e->announced = st;
	const char *w = e->why[0] ? e->why : "no details";
	if (c->set[id] != CAPS_SET_AUTO) {
		log_debug("capabilities: the service answered that it %s %s (%s); %s = %s is "
		          "configured",
		          st == CAPS_YES ? "can" : "cannot", defs[id].can, w, defs[id].name,
		          caps_setting_name(c->set[id]));
	} else if (st == CAPS_NO) {
		log_info("capabilities: learned that the service cannot %s (%s)%s; asking again "
		         "after %lld min",
		         defs[id].can, w, defs[id].without, relearn_ms(c) / 60000);
	} else if (before == CAPS_NO) {
		log_info("capabilities: learned that the service can %s again (%s)", defs[id].can,
		         w);
	} else {
		log_debug("capabilities: learned that the service can %s (%s)", defs[id].can, w);
	}
}

bool caps_refusal(const struct api_result *res)
{
	if (res->kind == API_OK)
		return false;
	const char *msg = res->error.message;
	long st = res->http_status;
	switch (res->op) {
	case API_OP_LIST:
		return reconcile_list_unsupported(st, msg);
	case API_OP_DELETE:
	case API_OP_REMIX:
		/* A 404 in the service's own shape is about the video; a bare one (FastAPI's
		 * {"detail":"Not Found"}) is about the route. */
		if (st == 404)
			return !res->error.type && !res->error.code;
		return reconcile_list_unsupported(st, msg);
	default:
		return false;
	}
}

/* What the service answered, for the log: "HTTP 405: Method not allowed". */
static void answer_text(const struct api_result *res, char *buf, size_t n)
{
	const char *msg = res->error.message ? res->error.message : api_kind_name(res->kind);
	/* The first line is enough: LiteLLM's messages carry a Python traceback. */
	size_t len = strcspn(msg, "\r\n");
	(void)bfmt(buf, n, "HTTP %ld: %.*s", res->http_status, (int)(len > 160 ? 160 : len), msg);
}

/* A list's videos tell whether it echoes prompts (an empty page tells nothing). */
static void learn_from_list(struct caps *c, const struct video_list *l)
{
	size_t without = 0;
	for (size_t i = 0; i < l->n; i++)
		if (!l->data[i].prompt)
			without++;
	if (l->n == 0)
		return;
	char why[96];
	if (without) {
		(void)bfmt(why, sizeof(why), "%zu of %zu listed videos have no prompt", without,
		           l->n);
		caps_learn(c, CAPS_LIST_PROMPTS, CAPS_NO, why);
	} else {
		(void)bfmt(why, sizeof(why), "%zu listed videos with their prompts", l->n);
		caps_learn(c, CAPS_LIST_PROMPTS, CAPS_YES, why);
	}
}

static int op_cap(enum api_op op)
{
	switch (op) {
	case API_OP_LIST:
		return CAPS_LIST;
	case API_OP_DELETE:
		return CAPS_DELETE;
	case API_OP_REMIX:
		return CAPS_REMIX;
	default:
		return -1;
	}
}

bool caps_observe(struct caps *c, const struct api_result *res)
{
	bool refused = caps_refusal(res);
	int id = op_cap(res->op);
	if (!c)
		return refused;
	char why[200];
	if (res->kind == API_OK) {
		if (id >= 0) {
			(void)bfmt(why, sizeof(why), "HTTP %ld", res->http_status);
			caps_learn(c, (enum caps_id)id, CAPS_YES, why);
		}
		if (res->op == API_OP_LIST && res->has_list)
			learn_from_list(c, &res->list);
		if (res->poll_after_ms >= 0) {
			(void)bfmt(why, sizeof(why), "openai-poll-after-ms: %ld",
			           res->poll_after_ms);
			caps_learn(c, CAPS_POLL_HINTS, CAPS_YES, why);
		}
	} else if (res->op == API_OP_DELETE && res->http_status == 404 && !refused) {
		/* No such video, said in the service's own error shape: the route exists. */
		caps_learn(c, CAPS_DELETE, CAPS_YES, "HTTP 404 in the service's error shape");
	} else if (refused && id >= 0) {
		answer_text(res, why, sizeof(why));
		caps_learn(c, (enum caps_id)id, CAPS_NO, why);
	}
	return refused;
}
