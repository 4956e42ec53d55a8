/* spend.c — whether a create may have spent money (see spend.h). */
#include "spend.h"

const char *spend_outcome_name(enum spend_outcome o)
{
	switch (o) {
	case SPEND_REFUSED:
		return "refused";
	case SPEND_MADE:
		return "made";
	case SPEND_IN_DOUBT:
		return "in_doubt";
	}
	return "?";
}

enum spend_outcome spend_create_outcome(bool sent, long status, bool error_body, bool usable_video)
{
	if (status == 0)
		return sent ? SPEND_IN_DOUBT : SPEND_REFUSED;
	if (status >= 200 && status < 300)
		return usable_video ? SPEND_MADE : SPEND_IN_DOUBT;
	switch (status) {
	case 429:
		return SPEND_REFUSED;
	case 400:
	case 401:
	case 403:
	case 404:
	case 413:
	case 415:
	case 422:
		return error_body ? SPEND_REFUSED : SPEND_IN_DOUBT;
	default:
		return SPEND_IN_DOUBT;
	}
}
