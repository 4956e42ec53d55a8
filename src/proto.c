/* proto.c — the table of protocols and what they share (see proto.h). */
#include "proto.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image.h"
#include "util.h"

/* Every protocol sorad speaks: a third one is a file of its own and a line here. */
static const struct proto *const protocols[] = {&proto_openai, &proto_openrouter};

const struct proto *proto_find(const char *name)
{
	if (!name)
		return &proto_openai;
	for (size_t i = 0; i < ARRAY_LEN(protocols); i++)
		if (!strcmp(protocols[i]->name, name))
			return protocols[i];
	return NULL;
}

const char *proto_names(void)
{
	static char names[128];
	if (!names[0]) {
		size_t used = 0;
		for (size_t i = 0; i < ARRAY_LEN(protocols); i++) {
			(void)bfmt(names + used, sizeof(names) - used, "%s%s", i ? ", " : "",
			           protocols[i]->name);
			used = strlen(names);
		}
	}
	return names;
}

const char *proto_extra_name(enum proto_extra x)
{
	switch (x) {
	case PROTO_EXTRA_LAST_FRAME:
		return "last_frame";
	case PROTO_EXTRA_SEED:
		return "seed";
	case PROTO_EXTRA_AUDIO:
		return "audio";
	case PROTO_EXTRA_OPTIONS:
		return "options";
	case PROTO_EXTRA_EXTEND:
		return "extend_of";
	}
	return "?";
}

void proto_request_init(struct proto_request *r)
{
	memset(r, 0, sizeof(*r));
	r->method = "GET";
}

void proto_request_release(struct proto_request *r)
{
	free(r->path);
	free(r->json);
	for (size_t i = 0; i < r->n_parts; i++) {
		free(r->parts[i].value);
		free(r->parts[i].file);
	}
	proto_request_init(r);
}

const char *proto_path_under(const char *base, const char *url)
{
	size_t n = base ? strlen(base) : 0;

	if (!n || !url || strncmp(url, base, n) != 0 || url[n] != '/' || strstr(url + n, "/..") ||
	    strchr(url + n, '#'))
		return NULL;
	return url + n;
}

const char *proto_image_mime(const char *path, enum api_kind *kind, char *err, size_t errlen)
{
	unsigned char head[16];
	ssize_t got = -1;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		got = pread(fd, head, sizeof(head), 0);
		int e = errno;
		(void)close(fd);
		errno = e;
	}
	if (got < 0) {
		*kind = API_LOCAL;
		(void)bfmt(err, errlen, "cannot read the reference image: %s", strerror(errno));
		return NULL;
	}
	const char *mime = image_mime(image_sniff(head, (size_t)got));
	if (!mime) {
		*kind = API_VALIDATION;
		(void)bcopy_str(err, errlen, "the reference image is not a PNG, JPEG or WebP file");
	}
	return mime;
}

/* BUF[LEN] in base64 (RFC 4648, padded) after PREFIX. Caller frees. */
static char *base64_with_prefix(const char *prefix, const unsigned char *buf, size_t len)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t plen = strlen(prefix);
	char *out = xmalloc(plen + (len + 2) / 3 * 4 + 1);
	char *o = out + plen;

	memcpy(out, prefix, plen + 1); /* with its NUL, overwritten by what follows */
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)buf[i] << 16;
		if (i + 1 < len)
			v |= (unsigned)buf[i + 1] << 8;
		if (i + 2 < len)
			v |= buf[i + 2];
		*o++ = tab[(v >> 18) & 63];
		*o++ = tab[(v >> 12) & 63];
		*o++ = i + 1 < len ? tab[(v >> 6) & 63] : '=';
		*o++ = i + 2 < len ? tab[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

char *proto_image_data_url(const char *path, enum api_kind *kind, char *err, size_t errlen)
{
	const char *mime = proto_image_mime(path, kind, err, errlen);
	struct stat st;
	unsigned char *buf = NULL;
	char *url = NULL, prefix[48];
	size_t have = 0;
	int fd;

	if (!mime)
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		*kind = API_LOCAL;
		(void)bfmt(err, errlen, "cannot read the image %s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode) || st.st_size <= 0 || st.st_size > PROTO_IMAGE_MAX) {
		*kind = API_VALIDATION;
		(void)bfmt(err, errlen, "the image %s is not a file of 1 to %lld bytes", path,
		           PROTO_IMAGE_MAX);
		goto fail;
	}
	buf = xmalloc((size_t)st.st_size);
	while (have < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + have, (size_t)st.st_size - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			*kind = API_LOCAL;
			(void)bfmt(err, errlen, "cannot read the image %s: %s", path,
			           n < 0 ? strerror(errno) : "it became shorter");
			goto fail;
		}
		have += (size_t)n;
	}
	(void)bfmt(prefix, sizeof(prefix), "data:%s;base64,", mime);
	url = base64_with_prefix(prefix, buf, have);
fail:
	free(buf);
	if (fd >= 0)
		(void)close(fd);
	return url;
}
