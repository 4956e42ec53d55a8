/* reconcile.c — what a create in doubt did, from the service's list (see reconcile.h). */
#include "reconcile.h"
#include "decimal.h"
#include "util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* White space and control characters: what parsers turn into spaces or line ends. */
static bool blank(unsigned char c)
{
	return c <= 0x20 || c == 0x7f;
}

/* The next byte of S's normal form: runs of blanks are one space, none at either end.
 * *P walks S; returns 0 at the end. */
static int next_norm(const unsigned char **p)
{
	const unsigned char *s = *p;
	if (blank(*s)) {
		while (*s && blank(*s))
			s++;
		*p = s;
		return *s ? ' ' : 0;
	}
	if (!*s)
		return 0;
	*p = s + 1;
	return *s;
}

bool reconcile_prompt_equal(const char *a, const char *b)
{
	if (!a || !b)
		return false;
	const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
	while (*x && blank(*x))
		x++;
	while (*y && blank(*y))
		y++;
	for (;;) {
		int cx = next_norm(&x), cy = next_norm(&y);
		if (cx != cy)
			return false;
		if (!cx)
			return true;
	}
}

/* "-YYYY-MM-DD" exactly. */
static bool dated_suffix(const char *s)
{
	static const char shape[] = "-dddd-dd-dd";
	if (strlen(s) != sizeof(shape) - 1)
		return false;
	for (size_t i = 0; shape[i]; i++)
		if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i])
			return false;
	return true;
}

bool reconcile_model_matches(const struct conf *c, const char *sent, const char *reported)
{
	if (!sent || !reported)
		return false;
	if (!strcasecmp(sent, reported))
		return true;
	size_t n = strlen(sent);
	if (!strncasecmp(sent, reported, n) && dated_suffix(reported + n))
		return true;
	const struct model_def *m = c ? conf_model(c, sent) : NULL;
	for (size_t i = 0; m && i < m->n_aliases; i++)
		if (!strcasecmp(m->aliases[i], reported))
			return true;
	return false;
}

/* The service's seconds ("4", "4.0", 4) say the same as ours. */
static bool seconds_match(const char *reported, unsigned ours)
{
	double d;
	return decimal_real(reported, DECIMAL_EXPONENT, &d) == 0 && d == (double)ours;
}

enum reconcile_match reconcile_video_matches(const struct conf *c, const struct job *j,
                                             const struct video *v, long long slack)
{
	if (!v->id || !j->prompt || !reconcile_prompt_equal(v->prompt, j->prompt))
		return RECONCILE_NO;
	if (v->seconds && !seconds_match(v->seconds, j->seconds))
		return RECONCILE_NO;
	if (j->remix_video_id) {
		/* A remix keeps its source's model and size; the source is what tells. */
		if (!v->remixed_from_video_id ||
		    strcmp(v->remixed_from_video_id, j->remix_video_id) != 0)
			return RECONCILE_NO;
	} else {
		if (v->model && !reconcile_model_matches(c, j->model, v->model))
			return RECONCILE_NO;
		if (v->size && j->size && strcasecmp(v->size, j->size) != 0)
			return RECONCILE_NO;
	}
	/* created_at 0 is what some gateways send for "unknown". */
	if (v->created_at <= 0 || j->submit_at < 0)
		return RECONCILE_MAYBE;
	return v->created_at >= j->submit_at - slack ? RECONCILE_YES : RECONCILE_NO;
}

enum reconcile_verdict reconcile_page(struct reconcile_scan *s, const struct conf *c,
                                      const struct job *j, const struct video_list *l,
                                      long long slack, unsigned max_pages,
                                      bool (*owned)(const char *id, void *ud), void *ud,
                                      const struct video **adopt, char *why, size_t whylen)
{
	bool reached_back = false, unordered = false;
	size_t no_prompt = 0;
	*adopt = NULL;
	why[0] = '\0';
	s->pages++;
	for (size_t i = 0; i < l->n; i++) {
		const struct video *v = &l->data[i];
		if (!v->prompt)
			no_prompt++;
		if (v->created_at > 0) {
			if (s->last_created && v->created_at > s->last_created)
				unordered = true;
			s->last_created = v->created_at;
			if (j->submit_at >= 0 && v->created_at < j->submit_at - slack)
				reached_back = true;
		}
		if (owned && owned(v->id, ud))
			continue;
		enum reconcile_match m = reconcile_video_matches(c, j, v, slack);
		if (m == RECONCILE_YES) {
			*adopt = v;
			return RECONCILE_ADOPT;
		}
		if (m == RECONCILE_MAYBE && !s->maybe_id[0] && strlen(v->id) < sizeof(s->maybe_id))
			memcpy(s->maybe_id, v->id, strlen(v->id) + 1);
	}
	if (no_prompt) {
		bfmt(why, whylen,
		     "the service's list does not include prompts (%zu of %zu videos without one), "
		     "so it cannot show whether this create made a video",
		     no_prompt, l->n);
		return RECONCILE_UNPROVEN;
	}
	if (l->n_skipped) {
		bfmt(why, whylen,
		     "the service's list holds %zu video(s) that sorad cannot use (an unusable id "
		     "or shape); one of them may be this job's",
		     l->n_skipped);
		return RECONCILE_UNPROVEN;
	}
	if (unordered) {
		bfmt(why, whylen,
		     "the service's list is not in newest-first order, so it cannot "
		     "show that nothing newer exists");
		return RECONCILE_UNPROVEN;
	}
	if (s->maybe_id[0]) {
		bfmt(why, whylen,
		     "the service lists video %s with the same prompt and parameters but does not "
		     "say when it was made: it may be this job's or an older one",
		     s->maybe_id);
		return RECONCILE_UNPROVEN;
	}
	if (reached_back || !l->has_more)
		return RECONCILE_ABSENT;
	if (!l->last_id) {
		bfmt(why, whylen, "the service's list says it has more pages but gives no cursor");
		return RECONCILE_UNPROVEN;
	}
	if (s->pages >= max_pages) {
		bfmt(why, whylen,
		     "%u pages of the service's list did not reach back to the moment the create "
		     "was sent",
		     s->pages);
		return RECONCILE_UNPROVEN;
	}
	return RECONCILE_NEXT_PAGE;
}

bool reconcile_list_unsupported(long http_status, const char *error_message)
{
	if (http_status == 404 || http_status == 405 || http_status == 501)
		return true;
	if (http_status < 500 || http_status > 599 || !error_message)
		return false;
	static const char *const needles[] = {"not supported", "not implemented", "notimplemented",
	                                      "unsupported"};
	for (size_t i = 0; i < ARRAY_LEN(needles); i++)
		if (strcasestr(error_message, needles[i]))
			return true;
	return false;
}
