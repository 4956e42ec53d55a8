/* metrics.c — Prometheus text for /metrics (see metrics.h). */
#include "metrics.h"

#include "pollplan.h"
#include "util.h"

#include <limits.h>
#include <stdbool.h>
#include <string.h>

/* A number macro as its digits, for help texts. */
#define STR_(x) #x
#define STR(x) STR_(x)

/* Per-model sums over the jobs; models beyond MAX_MODELS are summed under "other". */
#define MAX_MODELS 16

struct model_sum {
	const char *model;
	unsigned long long seconds;
};

static void help(struct jbuf *b, const char *name, const char *type, const char *text)
{
	jbuf_addf(b, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

/* A label value: backslash, double quote and line feed escaped, as the format asks. */
static void label(struct jbuf *b, const char *s)
{
	for (const char *p = s; *p; p++) {
		if (*p == '\\' || *p == '"')
			jbuf_add(b, "\\", 1);
		if (*p == '\n')
			jbuf_add(b, "\\n", 2);
		else
			jbuf_add(b, p, 1);
	}
}

/* NAME's _bucket, _sum and _count lines from H. */
static void hist(struct jbuf *b, const char *name, const struct pollplan_hist *h)
{
	unsigned long long cum = 0;
	for (size_t i = 0; i < POLLPLAN_BUCKETS; i++) {
		cum += h->count[i];
		jbuf_addf(b, "%s_bucket{le=\"%g\"} %llu\n", name, pollplan_bucket_le[i], cum);
	}
	jbuf_addf(b, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %.3f\n%s_count %llu\n", name, h->n, name,
	          h->sum, name, h->n);
}

static struct model_sum *model_slot(struct model_sum *m, size_t *n, const char *model)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp(m[i].model, model))
			return &m[i];
	if (*n == MAX_MODELS)
		return &m[MAX_MODELS - 1];
	m[*n].model = *n == MAX_MODELS - 1 ? "other" : model;
	return &m[(*n)++];
}

static void add_doubt(const struct job *j, void *ud)
{
	if (j->state == JOB_IN_DOUBT) /* creates proven void are not in doubt */
		*(unsigned long long *)ud += job_creates_counted(j);
}

void metrics_write(struct jbuf *b, const struct jobs *js, const struct api_stats *stats)
{
	/* What the jobs keep as they change, and the jobs in flight: nothing here walks
	 * the finished jobs. */
	struct model_sum models[MAX_MODELS] = {{0}};
	size_t n_models = 0, rejected = jobs_rejected(js);
	unsigned long long creates_in_doubt = 0;
	jobs_each_live(js, add_doubt, &creates_in_doubt);
	for (size_t i = 0, n = jobs_generated_models(js); i < n; i++) {
		const char *model;
		unsigned long long secs = jobs_generated(js, i, &model);
		if (secs)
			model_slot(models, &n_models, model)->seconds += secs;
	}

	help(b, "sorad_up", "gauge", "1 while the daemon runs.");
	jbuf_adds(b, "sorad_up 1\n");
	help(b, "sorad_build_info", "gauge", "The running version.");
	jbuf_addf(b, "sorad_build_info{version=\"%s\"} 1\n", SORAD_VERSION);

	/* The state machine's own counters (what throttles claims), not a recount: a
	 * counter that drifted shows here. */
	help(b, "sorad_jobs", "gauge", "Jobs in the state directory by local state.");
	for (int s = 0; s < JOB_STATE_COUNT; s++)
		jbuf_addf(b, "sorad_jobs{state=\"%s\"} %zu\n", job_state_name((enum job_state)s),
		          jobs_count(js, (enum job_state)s));

	help(b, "sorad_downloads_active", "gauge",
	     "Jobs downloading their finished video now (at most max_in_flight, and " STR(
	         JOBS_DOWNLOADS_MAX) ").");
	jbuf_addf(b, "sorad_downloads_active %zu\n", jobs_downloading(js));

	help(b, "sorad_creates_in_doubt", "gauge",
	     "Creates sent by jobs in doubt and not proven to have made nothing: each may "
	     "have been paid for; 'sorad resolve' decides.");
	jbuf_addf(b, "sorad_creates_in_doubt %llu\n", creates_in_doubt);

	help(b, "sorad_generated_seconds_total", "counter",
	     "Seconds of video generated (completed jobs) by model.");
	for (size_t i = 0; i < n_models; i++) {
		jbuf_adds(b, "sorad_generated_seconds_total{model=\"");
		label(b, models[i].model);
		jbuf_addf(b, "\"} %llu\n", models[i].seconds);
	}

	help(b, "sorad_inbox_rejected_files", "gauge",
	     "Inbox files (or batch lines) rejected as invalid input, kept in failed/.");
	jbuf_addf(b, "sorad_inbox_rejected_files %zu\n", rejected);

	const struct pollplan_stats *ps = jobs_poll_stats(js);
	help(b, "sorad_poll_detect_delay_seconds", "histogram",
	     "From a video's finish on the service to sorad seeing it completed, estimated "
	     "between the last poll that saw it running and the one that saw it done "
	     "(narrowed by the service's created_at/completed_at), since the daemon started.");
	hist(b, "sorad_poll_detect_delay_seconds", &ps->detect);
	help(b, "sorad_poll_prediction_error_seconds", "histogram",
	     "|predicted finish - finish| of the last prediction sorad polled by (pollplan.h).");
	hist(b, "sorad_poll_prediction_error_seconds", &ps->error);
	help(b, "sorad_poll_predictions_total", "counter",
	     "Completions by how the last prediction fared: early, late, or none made.");
	jbuf_addf(b, "sorad_poll_predictions_total{outcome=\"early\"} %llu\n", ps->early);
	jbuf_addf(b, "sorad_poll_predictions_total{outcome=\"late\"} %llu\n", ps->late);
	jbuf_addf(b, "sorad_poll_predictions_total{outcome=\"none\"} %llu\n", ps->unpredicted);

	if (!stats)
		return;
	help(b, "sorad_api_requests_total", "counter",
	     "Video API requests (attempts) by endpoint and HTTP status (0: no answer).");
	for (size_t i = 0; i < stats->n_calls; i++)
		jbuf_addf(b, "sorad_api_requests_total{endpoint=\"%s\",status=\"%ld\"} %llu\n",
		          api_op_name(stats->calls[i].op), stats->calls[i].status,
		          stats->calls[i].n);
	help(b, "sorad_api_retries_total", "counter",
	     "Video API attempts repeated after a transient failure or a 429.");
	jbuf_addf(b, "sorad_api_retries_total %llu\n", stats->retries);
	help(b, "sorad_api_downloaded_bytes_total", "counter",
	     "Bytes of video, thumbnail and spritesheet downloaded.");
	jbuf_addf(b, "sorad_api_downloaded_bytes_total %llu\n", stats->bytes_downloaded);
}

void metrics_write_usage(struct jbuf *b, const struct usage *u)
{
	if (!u)
		return;
	/* The models in the order the log first names them, as `sorad usage` lists them. */
	const char *models[MAX_MODELS];
	size_t n = 0;
	for (size_t i = 0; i < usage_model_count(u); i++) {
		const char *m = usage_model(u, i) ? usage_model(u, i) : "";
		bool seen = false;
		for (size_t k = 0; k < n && !seen; k++)
			seen = !strcmp(models[k], m);
		if (!seen && n < MAX_MODELS)
			models[n++] = m;
	}
	help(b, "sorad_estimated_cost_usd_total", "counter",
	     "Estimated cost in US dollars of every create that made a video or may have "
	     "(sent, outcome unknown), by model: the usage log, as 'sorad usage' shows it "
	     "for all time.");
	struct usage_sum s;
	for (size_t i = 0; i < n; i++) {
		usage_totals(u, 0, LLONG_MAX, models[i], &s);
		jbuf_adds(b, "sorad_estimated_cost_usd_total{model=\"");
		label(b, models[i]);
		jbuf_addf(b, "\"} %.4f\n", s.usd);
	}
	help(b, "sorad_unconfirmed_cost_usd", "gauge",
	     "The part of sorad_estimated_cost_usd_total whose creates' outcome is not known "
	     "yet (in flight, or in doubt).");
	usage_totals(u, 0, LLONG_MAX, NULL, &s);
	jbuf_addf(b, "sorad_unconfirmed_cost_usd %.4f\n", s.unconfirmed_usd);
	help(b, "sorad_creates_counted_total", "counter",
	     "Creates that made a video or may have (refusals proven to cost nothing are "
	     "not counted).");
	jbuf_addf(b, "sorad_creates_counted_total %zu\n", s.creates);
}
