/*
 * metrics.h — the status endpoint's /metrics in the Prometheus text format (0.0.4):
 * jobs by local state, API calls by endpoint and HTTP status, retries, bytes
 * downloaded, seconds generated and estimated cost by model, inbox files rejected,
 * and the creates of jobs in doubt (sorad_creates_in_doubt: money that may have been
 * spent without a video sorad knows of, until `sorad resolve` decides).
 *
 * Job figures are computed from the jobs themselves (the state directory is the truth,
 * so they survive restarts); API figures come from the daemon's struct api_stats,
 * which survives reloads but starts at zero with the process, as counters do.
 */
#ifndef SORAD_METRICS_H
#define SORAD_METRICS_H

#include "api.h"
#include "jobs.h"
#include "status_json.h"

/* Appends the metrics text to B. STATS may be NULL (no API figures). */
void metrics_write(struct jbuf *b, const struct jobs *js, const struct api_stats *stats);

#endif
