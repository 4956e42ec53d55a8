/* faults.c - see faults.h. */
#include "faults.h"

#include <pthread.h>

#include "util.h"

static struct fault_conf conf;
static uint64_t state;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

void faults_init(const struct fault_conf *c)
{
	conf = *c;
	/* A distinct stream from the one naming videos, so ids do not depend on faults. */
	state = c->seed ^ 0x6a09e667f3bcc908ULL;
}

/* Uniform in [0,1) from the top 53 bits; the caller holds the lock. */
static double uniform(void)
{
	return (double)(splitmix64(&state) >> 11) * (1.0 / 9007199254740992.0);
}

void faults_draw(struct fault *out, bool creates)
{
	out->kind = FAULT_NONE;
	out->status = 0;
	out->retry_after_ms = 0;
	out->retry_after_s = 0;
	out->delay_ms = 0;
	/* Without any fault configured, skip the lock: the benchmark path stays uncontended. */
	if (conf.p429 <= 0 && conf.p5xx <= 0 && conf.preset <= 0 && conf.ptruncate <= 0 &&
	    conf.pslow <= 0 && conf.p5xx_after_create <= 0)
		return;
	pthread_mutex_lock(&lock);
	/* One draw per configured kind, always in the same order: first hit wins. */
	if (conf.p429 > 0 && uniform() < conf.p429) {
		out->kind = FAULT_429;
		out->status = 429;
		out->retry_after_ms = 200 + (unsigned)(uniform() * 300);
		out->retry_after_s = conf.retry_after_s;
	} else if (conf.p5xx > 0 && uniform() < conf.p5xx) {
		out->kind = FAULT_5XX;
		out->status = uniform() < 0.5 ? 500 : 503;
	} else if (creates && conf.p5xx_after_create > 0 && uniform() < conf.p5xx_after_create) {
		/* The status is drawn even when pinned, so that pinning it changes no
		 * other fault of the run. */
		double u = uniform();

		out->kind = FAULT_5XX_AFTER_CREATE;
		out->status = u < 1.0 / 3 ? 500 : u < 2.0 / 3 ? 502 : 504;
		if (conf.after_create_status)
			out->status = conf.after_create_status;
	} else if (conf.preset > 0 && uniform() < conf.preset) {
		out->kind = FAULT_RESET;
	} else if (conf.ptruncate > 0 && uniform() < conf.ptruncate) {
		out->kind = FAULT_TRUNCATE;
	} else if (conf.pslow > 0 && uniform() < conf.pslow) {
		out->kind = FAULT_SLOW;
		out->delay_ms = conf.slow_ms;
	}
	pthread_mutex_unlock(&lock);
}

const char *fault_name(enum fault_kind k)
{
	switch (k) {
	case FAULT_429:
		return "429";
	case FAULT_5XX:
		return "5xx";
	case FAULT_5XX_AFTER_CREATE:
		return "5xx_after_create";
	case FAULT_RESET:
		return "reset";
	case FAULT_TRUNCATE:
		return "truncated";
	case FAULT_SLOW:
		return "slow";
	default:
		return "none";
	}
}
