/*
 * reply.h - a response under construction, independent of libmicrohttpd: status,
 * content type, a few headers and a body that is either a JSON text or a range of
 * an open file. server.c turns it into an MHD response, whole or cut short.
 */
#ifndef SIM_REPLY_H
#define SIM_REPLY_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REPLY_MAX_HEADERS 8

struct reply_header {
	char name[32];
	char *value; /* owned: a Content-Disposition names ids of 5,000 characters */
};

struct reply {
	unsigned status;
	const char *content_type; /* static string */
	char *body;               /* owned (malloc), when fd < 0 */
	size_t len;
	int fd; /* owned, when >= 0: serve length bytes from offset */
	uint64_t offset, length;
	struct reply_header headers[REPLY_MAX_HEADERS];
	int nheaders;
	bool chunked;         /* sent without Content-Length (Transfer-Encoding: chunked) */
	unsigned trickle_bps; /* > 0: an endless chunked body at this many bytes/s */
};

void reply_init(struct reply *r);
/* Sets status and a JSON body; takes ownership of json and frees it. */
void reply_json(struct reply *r, unsigned status, cJSON *json);
/* Sets status and the API's error body {"error":{message,type,param,code}}; param and
 * code may be NULL (sent as null). */
void reply_error(struct reply *r, unsigned status, const char *type, const char *param,
                 const char *code, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Serves length bytes of fd from offset; takes ownership of fd. */
void reply_file(struct reply *r, unsigned status, const char *content_type, int fd, uint64_t offset,
                uint64_t length);
/* Adds a header; -1 when there is no room or it does not fit (logged). */
int reply_header(struct reply *r, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Frees what the reply still owns: the body and the headers. */
void reply_release(struct reply *r);

#endif
