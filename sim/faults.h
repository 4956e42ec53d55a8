/*
 * faults.h - seeded fault injection. Every /v1 request draws one fault (or none)
 * from a deterministic PRNG, so a given --seed and request order always give the
 * same faults: tests and benchmarks can be replayed.
 */
#ifndef SIM_FAULTS_H
#define SIM_FAULTS_H

#include <stdbool.h>
#include <stdint.h>

enum fault_kind {
	FAULT_NONE,
	FAULT_429, /* rate limited: nothing is processed */
	FAULT_5XX, /* 500 or 503: nothing is processed */
	/* create or remix only: the video is created, but a gateway answers 500, 502 or
	 * 504 instead of the Video object (unless the request was refused: then the
	 * refusal passes, as through a real gateway, and no fault is counted) */
	FAULT_5XX_AFTER_CREATE,
	FAULT_RESET,    /* processed, then the connection is reset with no response */
	FAULT_TRUNCATE, /* processed, full Content-Length announced, body cut short */
	FAULT_SLOW,     /* processed, response delayed by slow_ms */
};

struct fault_conf {
	uint64_t seed;
	double p429, p5xx, preset, ptruncate, pslow;
	double p5xx_after_create;     /* drawn for creates and remixes only */
	unsigned after_create_status; /* 500, 502 or 504; 0: a seeded choice of the three */
	unsigned slow_ms;
	unsigned retry_after_s; /* --retry-after: the 429s' retry-after; 0: drawn ms */
};

struct fault {
	enum fault_kind kind;
	unsigned status;         /* 429, 500 or 503; 500, 502 or 504 after a create */
	unsigned retry_after_ms; /* for 429: 200..500 */
	unsigned retry_after_s;  /* for 429 with --retry-after: "retry-after: S" only */
	unsigned delay_ms;       /* for FAULT_SLOW */
};

void faults_init(const struct fault_conf *conf);
/* Draws the fault for one request; creates tells whether it is a create or a remix,
 * the only requests that can draw FAULT_5XX_AFTER_CREATE. Thread-safe. */
void faults_draw(struct fault *out, bool creates);
const char *fault_name(enum fault_kind k);

#endif
