/*
 * metrics.h — the status endpoint's /metrics in the Prometheus text format (0.0.4):
 * jobs by local state, API calls by endpoint and HTTP status, retries, bytes
 * downloaded, jobs downloading now, seconds generated and estimated cost by model,
 * inbox files rejected, and the creates of jobs in doubt (sorad_creates_in_doubt:
 * money that may have been spent without a video sorad knows of, until `sorad
 * resolve` decides).
 *
 * Job figures are computed from the jobs themselves (the state directory is the truth,
 * so they survive restarts); money comes from the usage log (usage.h), the same
 * figures `sorad usage` shows, so a job purged since still counts; API figures come from the
 * daemon's struct api_stats, which survives reloads but starts at zero with the process, as
 * counters do.
 */
#ifndef SORAD_METRICS_H
#define SORAD_METRICS_H

#include "api.h"
#include "jobs.h"
#include "status_json.h"
#include "usage.h"

/* Appends the metrics text to B. STATS may be NULL (no API figures). */
void metrics_write(struct jbuf *b, const struct jobs *js, const struct api_stats *stats);

/* Appends the money figures from the usage log (usage.h): the estimated cost by model
 * exactly as `sorad usage` totals it for all time, its unconfirmed part, and the
 * creates counted. Nothing when U is NULL. */
void metrics_write_usage(struct jbuf *b, const struct usage *u);

#endif
