/* form.c - see form.h. */
#include "form.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum body_kind { BODY_NONE, BODY_FORM, BODY_JSON, BODY_OTHER };

struct form {
	enum body_kind kind;
	struct MHD_PostProcessor *pp;
	struct buf raw; /* JSON or unsupported bodies */
	bool present[FIELD_COUNT];
	struct buf value[FIELD_COUNT];
	bool pp_failed;
	char content_type[96];
};

static const char *const field_names[FIELD_COUNT] = {
    [FIELD_PROMPT] = "prompt",
    [FIELD_MODEL] = "model",
    [FIELD_SECONDS] = "seconds",
    [FIELD_SIZE] = "size",
    [FIELD_REF_FILE] = "input_reference",
    [FIELD_REF_URL] = "input_reference[image_url]",
    [FIELD_REF_FILE_ID] = "input_reference[file_id]",
};

/* Multipart and urlencoded fields arrive in pieces: off is 0 on the first piece of a
 * field, so a repeated field replaces the earlier value (last one wins). Unknown
 * fields are ignored, as clients may send optional parameters we do not model. */
static enum MHD_Result on_field(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *filename, const char *content_type,
                                const char *transfer_encoding, const char *data, uint64_t off,
                                size_t size)
{
	struct form *f = cls;
	int i;

	(void)kind;
	(void)filename;
	(void)content_type;
	(void)transfer_encoding;
	for (i = 0; i < FIELD_COUNT; i++) {
		if (strcmp(key, field_names[i]) != 0)
			continue;
		if (off == 0)
			buf_reset(&f->value[i]);
		f->present[i] = true;
		buf_append(&f->value[i], data, size);
		break;
	}
	return MHD_YES;
}

struct form *form_new(struct MHD_Connection *c)
{
	struct form *f = xcalloc(1, sizeof(*f));
	const char *ct =
	    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);

	snprintf(f->content_type, sizeof(f->content_type), "%s", ct ? ct : "");
	if (ct == NULL || *ct == '\0') {
		f->kind = BODY_NONE; /* JSON is tried if a body comes anyway */
	} else if (strncasecmp(ct, "multipart/form-data", 19) == 0 ||
	           strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0) {
		f->kind = BODY_FORM;
		f->pp = MHD_create_post_processor(c, 64 * 1024, on_field, f);
		if (f->pp == NULL)
			f->pp_failed = true; /* e.g. multipart without a boundary */
	} else if (strncasecmp(ct, "application/json", 16) == 0) {
		f->kind = BODY_JSON;
	} else {
		f->kind = BODY_OTHER;
	}
	return f;
}

void form_feed(struct form *f, const char *data, size_t n)
{
	if (f->kind == BODY_FORM) {
		if (f->pp && !f->pp_failed && MHD_post_process(f->pp, data, n) != MHD_YES)
			f->pp_failed = true;
	} else {
		buf_append(&f->raw, data, n);
	}
}

static void set_field(struct form *f, enum form_field id, const char *s)
{
	f->present[id] = true;
	buf_reset(&f->value[id]);
	buf_append(&f->value[id], s, strlen(s));
}

static const char *json_type_name(const cJSON *j)
{
	if (cJSON_IsNumber(j))
		return "a number";
	if (cJSON_IsBool(j))
		return "a boolean";
	if (cJSON_IsArray(j))
		return "an array";
	if (cJSON_IsObject(j))
		return "an object";
	return "a value of another type";
}

/* Copies a JSON string member into a field. null counts as absent. */
static int json_string(struct form *f, const cJSON *obj, const char *name, enum form_field id,
                       struct reply *err)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (j == NULL || cJSON_IsNull(j))
		return 0;
	if (!cJSON_IsString(j)) {
		reply_error(err, 400, "invalid_request_error", name, "invalid_type",
		            "Invalid type for '%s': expected a string, but got %s instead.", name,
		            json_type_name(j));
		return -1;
	}
	set_field(f, id, j->valuestring);
	return 0;
}

static int parse_json(struct form *f, struct reply *err)
{
	cJSON *root = cJSON_ParseWithLength(f->raw.data ? f->raw.data : "", f->raw.len);
	const cJSON *ref;
	int rc = -1;

	if (root == NULL || !cJSON_IsObject(root)) {
		reply_error(
		    err, 400, "invalid_request_error", NULL, NULL,
		    "We could not parse the JSON body of your request. (HINT: This likely means "
		    "you aren't using your HTTP library correctly. The OpenAI API expects a JSON "
		    "payload, but what was sent was not valid JSON.)");
		goto done;
	}
	if (json_string(f, root, "prompt", FIELD_PROMPT, err) < 0 ||
	    json_string(f, root, "model", FIELD_MODEL, err) < 0 ||
	    json_string(f, root, "seconds", FIELD_SECONDS, err) < 0 ||
	    json_string(f, root, "size", FIELD_SIZE, err) < 0)
		goto done;
	ref = cJSON_GetObjectItemCaseSensitive(root, "input_reference");
	if (ref && !cJSON_IsNull(ref)) {
		if (!cJSON_IsObject(ref)) {
			reply_error(err, 400, "invalid_request_error", "input_reference",
			            "invalid_type",
			            "Invalid type for 'input_reference': expected an object "
			            "with 'image_url' or 'file_id', but got %s instead.",
			            json_type_name(ref));
			goto done;
		}
		if (json_string(f, ref, "image_url", FIELD_REF_URL, err) < 0 ||
		    json_string(f, ref, "file_id", FIELD_REF_FILE_ID, err) < 0)
			goto done;
		if (!f->present[FIELD_REF_URL] && !f->present[FIELD_REF_FILE_ID]) {
			reply_error(err, 400, "invalid_request_error", "input_reference",
			            "missing_required_parameter",
			            "Missing required parameter: 'input_reference.image_url' or "
			            "'input_reference.file_id'.");
			goto done;
		}
	}
	rc = 0;
done:
	cJSON_Delete(root);
	return rc;
}

int form_finish(struct form *f, struct reply *err)
{
	switch (f->kind) {
	case BODY_FORM:
		if (f->pp && MHD_destroy_post_processor(f->pp) != MHD_YES)
			f->pp_failed = true;
		f->pp = NULL;
		if (f->pp_failed) {
			reply_error(err, 400, "invalid_request_error", NULL, NULL,
			            "Could not parse the multipart form body (Content-Type: %s).",
			            f->content_type);
			return -1;
		}
		return 0;
	case BODY_NONE:
		return f->raw.len == 0 ? 0 : parse_json(f, err);
	case BODY_JSON:
		return parse_json(f, err);
	default:
		if (f->raw.len == 0)
			return 0;
		reply_error(err, 400, "invalid_request_error", NULL, NULL,
		            "Invalid Content-Type header (%s), expected multipart/form-data or "
		            "application/json.",
		            f->content_type);
		return -1;
	}
}

const struct buf *form_get(const struct form *f, enum form_field id)
{
	/* A present field always has data: buf_append allocates even for 0 bytes. */
	return f->present[id] ? &f->value[id] : NULL;
}

const struct buf *form_raw(const struct form *f)
{
	return f->kind == BODY_FORM ? NULL : &f->raw;
}

void form_free(struct form *f)
{
	int i;

	if (f == NULL)
		return;
	if (f->pp)
		MHD_destroy_post_processor(f->pp);
	buf_release(&f->raw);
	for (i = 0; i < FIELD_COUNT; i++)
		buf_release(&f->value[i]);
	free(f);
}
