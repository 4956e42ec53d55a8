/* reply.c - see reply.h. */
#include "reply.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

void reply_init(struct reply *r)
{
	memset(r, 0, sizeof(*r));
	r->fd = -1;
	r->status = 500;
	r->content_type = "application/json";
}

static void drop_body(struct reply *r)
{
	free(r->body);
	r->body = NULL;
	r->len = 0;
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
}

void reply_json(struct reply *r, unsigned status, cJSON *json)
{
	drop_body(r);
	r->status = status;
	r->content_type = "application/json";
	r->body = cJSON_PrintUnformatted(json);
	cJSON_Delete(json);
	if (r->body == NULL) {
		fprintf(stderr, "sora-sim: fatal: out of memory printing JSON\n");
		abort();
	}
	r->len = strlen(r->body);
}

void reply_error(struct reply *r, unsigned status, const char *type, const char *param,
                 const char *code, const char *fmt, ...)
{
	cJSON *root = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(root, "error");
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap); /* a long message is cut, which is harmless */
	va_end(ap);
	cJSON_AddStringToObject(e, "message", msg);
	cJSON_AddStringToObject(e, "type", type);
	if (param)
		cJSON_AddStringToObject(e, "param", param);
	else
		cJSON_AddNullToObject(e, "param");
	if (code)
		cJSON_AddStringToObject(e, "code", code);
	else
		cJSON_AddNullToObject(e, "code");
	reply_json(r, status, root);
}

void reply_file(struct reply *r, unsigned status, const char *content_type, int fd, uint64_t offset,
                uint64_t length)
{
	drop_body(r);
	r->status = status;
	r->content_type = content_type;
	r->fd = fd;
	r->offset = offset;
	r->length = length;
}

int reply_header(struct reply *r, const char *name, const char *fmt, ...)
{
	struct reply_header *h;
	va_list ap, ap2;
	int n;

	if (r->nheaders == REPLY_MAX_HEADERS) {
		log_err("no room for header %s", name);
		return -1;
	}
	h = &r->headers[r->nheaders];
	if (bsnprintf(h->name, sizeof(h->name), "%s", name) < 0)
		return -1;
	va_start(ap, fmt);
	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		va_end(ap2);
		log_err("header %s: cannot format its value", name);
		return -1;
	}
	h->value = xmalloc((size_t)n + 1);
	vsnprintf(h->value, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	r->nheaders++;
	return 0;
}

void reply_release(struct reply *r)
{
	drop_body(r);
	for (int i = 0; i < r->nheaders; i++)
		free(r->headers[i].value);
	r->nheaders = 0;
}
