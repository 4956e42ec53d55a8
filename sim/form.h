/*
 * form.h - the body of a create or remix request, in any of the encodings the API
 * accepts: multipart/form-data (files and bracket-encoded nested fields such as
 * input_reference[image_url]), application/x-www-form-urlencoded, or a JSON object.
 * The body is fed in as it arrives; form_finish reports a malformed body as the
 * API's 400 error.
 */
#ifndef SIM_FORM_H
#define SIM_FORM_H

#include <microhttpd.h>
#include <stddef.h>

#include "reply.h"
#include "util.h"

enum form_field {
	FIELD_PROMPT,
	FIELD_MODEL,
	FIELD_SECONDS,
	FIELD_SIZE,
	FIELD_REF_FILE,    /* multipart file part input_reference: the image bytes */
	FIELD_REF_URL,     /* input_reference[image_url] or {"input_reference":{"image_url"}} */
	FIELD_REF_FILE_ID, /* input_reference[file_id] */
	FIELD_COUNT
};

struct form;

/* Starts parsing the body of a request on c according to its Content-Type. */
struct form *form_new(struct MHD_Connection *c);
void form_feed(struct form *f, const char *data, size_t n);
/* After the whole body: 0, or -1 with a 400 error in *err. */
int form_finish(struct form *f, struct reply *err);
/* A field's value (NUL-terminated, possibly binary for FIELD_REF_FILE), or NULL when
 * absent. Valid until form_free. */
const struct buf *form_get(const struct form *f, enum form_field id);
/* The body as it came, when it was not a form (JSON, none or another type): the
 * OpenRouter mode parses its JSON itself. NULL for multipart and urlencoded bodies. */
const struct buf *form_raw(const struct form *f);
void form_free(struct form *f);

#endif
