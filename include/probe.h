/*
 * probe.h — `sorad check-config --probe`: asks the configured service what it can do
 * (caps.h) without spending money, and prints a table: each capability, what the
 * service answered, and the verdict.
 *
 * What it sends, and nothing else: GET /videos?limit=1 (the list, and whether its
 * videos carry their prompt and the service sends poll hints), GET and DELETE of
 * /videos/video_sorad_probe_does_not_exist (the shape of a 404, and whether a delete
 * route exists: no video can have that id), and, when the list showed a finished
 * video, its thumbnail and spritesheet (whose bytes tell whether the service serves
 * them or answers with the MP4). Never a POST: create and remix are what cost money,
 * so remix is reported from the configuration, not probed. The API key is never
 * printed (api.h redacts it from every message).
 */
#ifndef SORAD_PROBE_H
#define SORAD_PROBE_H

#include <stdio.h>

#include "conf.h"

/* The id of the video asked about, which no service can hold (no real id looks so). */
#define PROBE_MISSING_ID "video_sorad_probe_does_not_exist"

/*
 * Probes the service of CONF and prints the table to OUT. Returns EX_OK when the
 * service answered, EX_UNAVAILABLE when it could not be reached (no HTTP answer at
 * all), EX_CONFIG when it refused the API key (401/403).
 */
int probe_main(const struct conf *conf, FILE *out);

#endif
