/* t_image.c — reference image pixel sizes from PNG, JPEG and WebP headers, hostile input. */
#include "image.h"
#include "util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/t_image.XXXXXX";

static int group_setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	char cmd[256];
	bfmt(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Writes BYTES to a fresh file and probes it. */
static int probe_bytes(const unsigned char *bytes, size_t n, struct image_info *info, char *why,
                       size_t whylen)
{
	char path[256];
	static int seq;
	assert_int_equal(bfmt(path, sizeof(path), "%s/img%d", dir, seq++), 0);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, bytes, n), (ssize_t)n);
	close(fd);
	return image_probe_path(path, info, why, whylen);
}

static void t_image_png_ihdr(void **state)
{
	(void)state;
	unsigned char png[33] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0,    13,
	                         'I',  'H', 'D', 'R', 0,    0,    0x05, 0x00, 0, 0, 0x02, 0xD0};
	struct image_info info;
	char why[128];
	assert_int_equal(probe_bytes(png, sizeof(png), &info, why, sizeof(why)), 0);
	assert_int_equal(info.type, IMAGE_PNG);
	assert_int_equal(info.width, 1280);
	assert_int_equal(info.height, 720);
	assert_string_equal(image_mime(info.type), "image/png");

	assert_int_equal(probe_bytes(png, 20, &info, why, sizeof(why)), -1);
	assert_string_equal(why, "truncated PNG header");
	png[12] = 'X';
	assert_int_equal(probe_bytes(png, sizeof(png), &info, why, sizeof(why)), -1);
	assert_string_equal(why, "PNG without an IHDR header");
}

static void t_image_jpeg_skips_metadata_segments(void **state)
{
	(void)state;
	/* SOI, APP1 (300 bytes of "EXIF"), fill bytes, DQT, SOF2 (progressive) 720x1280. */
	unsigned char j[400] = {0xFF, 0xD8, 0xFF, 0xE1, 0x01, 0x2C};
	size_t n = 4 + 300;
	j[n++] = 0xFF;
	j[n++] = 0xFF; /* fill byte */
	j[n++] = 0xDB;
	j[n++] = 0x00;
	j[n++] = 0x04;
	j[n++] = 0x00;
	j[n++] = 0x00;
	const unsigned char sof[] = {0xFF, 0xC2, 0x00, 0x11, 0x08, 0x05, 0x00, 0x02, 0xD0, 0x03};
	memcpy(j + n, sof, sizeof(sof));
	n += sizeof(sof) + 12;
	struct image_info info;
	char why[128];
	assert_int_equal(probe_bytes(j, n, &info, why, sizeof(why)), 0);
	assert_int_equal(info.type, IMAGE_JPEG);
	assert_int_equal(info.width, 720);
	assert_int_equal(info.height, 1280);
}

static void t_image_jpeg_hostile(void **state)
{
	(void)state;
	struct image_info info;
	char why[128];
	/* A segment length pointing past the end of the file. */
	const unsigned char past[] = {0xFF, 0xD8, 0xFF, 0xE0, 0xFF, 0xFF, 0, 0};
	assert_int_equal(probe_bytes(past, sizeof(past), &info, why, sizeof(why)), -1);
	assert_string_equal(why, "truncated JPEG header");
	/* A zero-length segment (would loop forever if trusted). */
	const unsigned char zero[] = {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x00, 0, 0};
	assert_int_equal(probe_bytes(zero, sizeof(zero), &info, why, sizeof(why)), -1);
	assert_string_equal(why, "corrupt JPEG header");
	/* Image data before any frame header. */
	const unsigned char sos[] = {0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x08, 0, 0, 0, 0, 0, 0};
	assert_int_equal(probe_bytes(sos, sizeof(sos), &info, why, sizeof(why)), -1);
	/* A frame header with zero width. */
	const unsigned char zw[] = {0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 0x08,
	                            0x00, 0x10, 0x00, 0x00, 0,    0,    0};
	assert_int_equal(probe_bytes(zw, sizeof(zw), &info, why, sizeof(why)), -1);
	assert_string_equal(why, "image header gives a zero width or height");
	/* Thousands of tiny segments: bounded, not slow. */
	size_t n = 2 + 4 * 5000;
	unsigned char *many = xmalloc(n);
	many[0] = 0xFF;
	many[1] = 0xD8;
	for (size_t i = 2; i + 4 <= n; i += 4) {
		many[i] = 0xFF;
		many[i + 1] = 0xFE;
		many[i + 2] = 0x00;
		many[i + 3] = 0x02;
	}
	assert_int_equal(probe_bytes(many, n, &info, why, sizeof(why)), -1);
	assert_string_equal(why, "JPEG header too long");
	free(many);
}

static void t_image_webp_all_three_chunk_kinds(void **state)
{
	(void)state;
	struct image_info info;
	char why[128];
	unsigned char w[30] = {'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'E', 'B', 'P'};
	/* Lossy: VP8 frame tag, start code, 14-bit sizes. */
	memcpy(w + 12, "VP8 ", 4);
	const unsigned char vp8[] = {0, 0, 0, 0x9d, 0x01, 0x2a, 0x00, 0x05, 0xD0, 0x02};
	memcpy(w + 20, vp8, sizeof(vp8));
	assert_int_equal(probe_bytes(w, sizeof(w), &info, why, sizeof(why)), 0);
	assert_int_equal(info.type, IMAGE_WEBP);
	assert_int_equal(info.width, 1280);
	assert_int_equal(info.height, 720);
	/* Lossless: 14 bits width-1, 14 bits height-1. */
	memset(w + 12, 0, 18);
	memcpy(w + 12, "VP8L", 4);
	unsigned bits = (1792 - 1) | (1024 - 1) << 14;
	w[20] = 0x2f;
	w[21] = bits & 0xff;
	w[22] = (bits >> 8) & 0xff;
	w[23] = (bits >> 16) & 0xff;
	w[24] = (bits >> 24) & 0xff;
	assert_int_equal(probe_bytes(w, sizeof(w), &info, why, sizeof(why)), 0);
	assert_int_equal(info.width, 1792);
	assert_int_equal(info.height, 1024);
	/* Extended: 24-bit canvas size minus one. */
	memset(w + 12, 0, 18);
	memcpy(w + 12, "VP8X", 4);
	w[24] = (1080 - 1) & 0xff;
	w[25] = (1080 - 1) >> 8;
	w[27] = (1920 - 1) & 0xff;
	w[28] = (1920 - 1) >> 8;
	assert_int_equal(probe_bytes(w, sizeof(w), &info, why, sizeof(why)), 0);
	assert_int_equal(info.width, 1080);
	assert_int_equal(info.height, 1920);
	memcpy(w + 12, "ALPH", 4);
	assert_int_equal(probe_bytes(w, sizeof(w), &info, why, sizeof(why)), -1);
}

static void t_image_rejects_non_images_and_non_files(void **state)
{
	(void)state;
	struct image_info info;
	char why[128];
	const unsigned char gif[] = "GIF89a\x01\x00\x01\x00\x00\x00\x00\x00";
	assert_int_equal(probe_bytes(gif, sizeof(gif), &info, why, sizeof(why)), -1);
	assert_string_equal(why, "not a PNG, JPEG or WebP image");
	assert_int_equal(probe_bytes(gif, 2, &info, why, sizeof(why)), -1);
	assert_string_equal(why, "too short to be an image");
	assert_int_equal(image_probe_path(dir, &info, why, sizeof(why)), -1);
	assert_string_equal(why, "it is a directory, not a regular file");
	char fifo[256];
	assert_int_equal(bfmt(fifo, sizeof(fifo), "%s/fifo", dir), 0);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(image_probe_path(fifo, &info, why, sizeof(why)), -1);
	assert_string_equal(why, "it is a named pipe (FIFO), not a regular file");
	assert_int_equal(image_probe_path("/nonexistent/x.png", &info, why, sizeof(why)), -1);
}

/* Real files from ffmpeg, in each format and in the sizes the models use. */
static void t_image_real_files_from_ffmpeg(void **state)
{
	(void)state;
	if (system("command -v ffmpeg >/dev/null 2>&1") != 0) {
		skip();
	}
	const struct {
		const char *ext;
		unsigned w, h;
		enum image_type type;
	} cases[] = {
	    {"png", 1280, 720, IMAGE_PNG},
	    {"jpg", 720, 1280, IMAGE_JPEG},
	    {"webp", 1792, 1024, IMAGE_WEBP},
	    {"jpg", 1920, 1080, IMAGE_JPEG},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		char path[256], cmd[512];
		assert_int_equal(bfmt(path, sizeof(path), "%s/real%zu.%s", dir, i, cases[i].ext),
		                 0);
		assert_int_equal(
		    bfmt(cmd, sizeof(cmd),
		         "ffmpeg -v error -y -f lavfi -i testsrc2=s=%ux%u -frames:v 1 '%s'",
		         cases[i].w, cases[i].h, path),
		    0);
		assert_int_equal(system(cmd), 0);
		struct image_info info;
		char why[128] = "";
		if (image_probe_path(path, &info, why, sizeof(why)) != 0)
			fail_msg("probing %s: %s", path, why);
		assert_int_equal(info.type, cases[i].type);
		assert_int_equal(info.width, cases[i].w);
		assert_int_equal(info.height, cases[i].h);
	}
}

/* The one list of reference image extensions: any case, no dot, nothing else. */
static void t_image_ext_list_and_any_case(void **state)
{
	(void)state;
	static const char *const yes[] = {"png", "jpg", "jpeg", "webp", "PNG", "JPEG", "WebP"};
	static const char *const no[] = {"",    "gif",  ".png",  "png ", "pn",
	                                 "txt", "json", "jpegx", "mp4"};
	for (size_t i = 0; i < sizeof(yes) / sizeof(*yes); i++)
		if (!image_ext_ok(yes[i]))
			fail_msg("expected '%s' to be an image extension", yes[i]);
	for (size_t i = 0; i < sizeof(no) / sizeof(*no); i++)
		if (image_ext_ok(no[i]))
			fail_msg("expected '%s' not to be an image extension", no[i]);
	assert_false(image_ext_ok(NULL));
	assert_string_equal(image_ext(0), "png");
	assert_string_equal(image_ext(IMAGE_EXT_N - 1), "webp");
	assert_null(image_ext(IMAGE_EXT_N));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_image_png_ihdr),
	    cmocka_unit_test(t_image_jpeg_skips_metadata_segments),
	    cmocka_unit_test(t_image_jpeg_hostile),
	    cmocka_unit_test(t_image_webp_all_three_chunk_kinds),
	    cmocka_unit_test(t_image_rejects_non_images_and_non_files),
	    cmocka_unit_test(t_image_real_files_from_ffmpeg),
	    cmocka_unit_test(t_image_ext_list_and_any_case),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
