/*
 * spend.h — the one rule for whether a create (or remix) may have spent money.
 *
 * A create that may have reached the service has spent money until proven otherwise,
 * and only an explicit refusal proves that it did not:
 *
 *   SPEND_REFUSED   nothing was created: the request never left this machine (no
 *                   connection was made, nothing was sent), or the service refused it
 *                   explicitly: 400, 401, 403, 404, 413, 415 or 422 with an error body,
 *                   or 429 (with or without one);
 *   SPEND_MADE      a 2xx whose body is a usable Video (an id sorad stores);
 *   SPEND_IN_DOUBT  everything else: 5xx of any kind, 408, 409, any other status, a
 *                   timeout, a reset, a cut-off body, a 2xx whose body is not a usable
 *                   Video (HTML, no id, an id sorad will not store), a 4xx without an
 *                   error body (a proxy's page, not the service's verdict).
 *
 * A create in doubt is never sent again on a guess: the job is reconciled against
 * the service's list (reconcile.h), and when that cannot prove absence it waits in
 * state in_doubt for the user (jobs.h). Pure function, table-tested in t_spend.c.
 */
#ifndef SORAD_SPEND_H
#define SORAD_SPEND_H

#include <stdbool.h>

enum spend_outcome { SPEND_REFUSED, SPEND_MADE, SPEND_IN_DOUBT };

/* "refused", "made", "in_doubt". */
const char *spend_outcome_name(enum spend_outcome o);

/*
 * SENT: whether any byte of the request may have reached the service (false only when
 * no connection was made or nothing was sent). STATUS: the HTTP status of the answer,
 * 0 when none came. ERROR_BODY: the answer held an error object sorad could read.
 * USABLE_VIDEO: a 2xx answer whose body parsed as a Video with a storable id.
 */
enum spend_outcome spend_create_outcome(bool sent, long status, bool error_body, bool usable_video);

#endif
