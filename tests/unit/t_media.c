/* t_media.c — what kind of media a file holds: magic bytes and each container's own
 * bookkeeping (MP4 boxes, RIFF size, JPEG EOI), cut-short and grown files, real files. */
#include "media.h"
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
#include <sys/mman.h>
#include <unistd.h>

/* A file holding BYTES (an anonymous memfd): its descriptor. */
static int file_of(const void *bytes, size_t n)
{
	int fd = memfd_create("t_media", MFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, bytes, n), (ssize_t)n);
	return fd;
}

/* Checks BYTES against WANT; the verdict, with FOUND and WHY filled. */
static enum media_verdict check_bytes(const void *bytes, size_t n, enum media_kind want,
                                      enum media_kind *found, char *why, size_t whylen)
{
	int fd = file_of(bytes, n);
	enum media_verdict v = media_check_fd(fd, want, found, why, whylen);
	close(fd);
	return v;
}

static void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* A small MP4: ftyp (24 bytes), moov (16), mdat (8 + DATA bytes); its length. */
static size_t make_mp4(unsigned char *buf, size_t data)
{
	memset(buf, 0, 48 + data);
	put_be32(buf, 24);
	memcpy(buf + 4, "ftypisom", 8);
	memcpy(buf + 16, "isomiso2", 8);
	put_be32(buf + 24, 16);
	memcpy(buf + 28, "moovmvhd", 8);
	put_be32(buf + 40, (uint32_t)(8 + data));
	memcpy(buf + 44, "mdat", 4);
	for (size_t i = 0; i < data; i++)
		buf[48 + i] = (unsigned char)(i * 7);
	return 48 + data;
}

/* A small lossy WebP: RIFF, its size, WEBP, a VP8 chunk of DATA bytes; its length. */
static size_t make_webp(unsigned char *buf, size_t data)
{
	memset(buf, 0, 20 + data);
	memcpy(buf, "RIFF", 4);
	uint32_t riff = (uint32_t)(12 + data);
	buf[4] = (unsigned char)riff;
	buf[5] = (unsigned char)(riff >> 8);
	memcpy(buf + 8, "WEBPVP8 ", 8);
	buf[16] = (unsigned char)data;
	return 20 + data;
}

static const unsigned char jpeg[] = {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J',  'F',
                                     'I',  'F',  0x00, 0x01, 0x02, 0x00, 0x00, 0x01,
                                     0x00, 0x01, 0x00, 0x00, 0x12, 0x34, 0xFF, 0xD9};

static void t_media_sniff_tells_each_kind_from_its_first_bytes(void **state)
{
	(void)state;
	unsigned char mp4[64], webp[64];
	make_mp4(mp4, 8);
	make_webp(webp, 8);
	assert_int_equal(media_sniff(mp4, MEDIA_SNIFF_BYTES), MEDIA_MP4);
	assert_int_equal(media_sniff(webp, MEDIA_SNIFF_BYTES), MEDIA_WEBP);
	assert_int_equal(media_sniff(jpeg, MEDIA_SNIFF_BYTES), MEDIA_JPEG);
	/* Too few bytes to tell, a RIFF that is not WebP, text, nothing. */
	assert_int_equal(media_sniff(mp4, 7), MEDIA_UNKNOWN);
	assert_int_equal(media_sniff(webp, 11), MEDIA_UNKNOWN);
	assert_int_equal(media_sniff(jpeg, 2), MEDIA_UNKNOWN);
	assert_int_equal(media_sniff("RIFF\x10\0\0\0WAVEfmt ", 16), MEDIA_UNKNOWN);
	assert_int_equal(media_sniff("{\"error\":{\"message\"", 19), MEDIA_UNKNOWN);
	assert_int_equal(media_sniff(NULL, 0), MEDIA_UNKNOWN);
	assert_string_equal(media_kind_name(MEDIA_MP4), "MP4");
	assert_string_equal(media_kind_name(MEDIA_UNKNOWN), "unknown data");
}

static void t_media_mp4_served_for_a_thumbnail_is_the_wrong_kind(void **state)
{
	(void)state;
	unsigned char mp4[128];
	size_t n = make_mp4(mp4, 64);
	char why[256] = "";
	enum media_kind found = MEDIA_UNKNOWN;
	assert_int_equal(check_bytes(mp4, n, MEDIA_WEBP, &found, why, sizeof(why)),
	                 MEDIA_WRONG_KIND);
	assert_int_equal(found, MEDIA_MP4);
	if (!strstr(why, "an MP4, not a WebP"))
		fail_msg("expected the reason to name both kinds, got \"%s\"", why);
	assert_int_equal(check_bytes(mp4, n, MEDIA_JPEG, &found, why, sizeof(why)),
	                 MEDIA_WRONG_KIND);
	assert_int_equal(check_bytes("<html>oops</html>", 17, MEDIA_MP4, &found, why, sizeof(why)),
	                 MEDIA_WRONG_KIND);
	assert_int_equal(found, MEDIA_UNKNOWN);
	assert_int_equal(check_bytes("", 0, MEDIA_JPEG, &found, why, sizeof(why)),
	                 MEDIA_WRONG_KIND);
	if (!strstr(why, "empty"))
		fail_msg("expected an empty file to be called empty, got \"%s\"", why);
}

static void t_media_mp4_boxes_must_cover_the_file_exactly(void **state)
{
	(void)state;
	unsigned char mp4[4096 + 64];
	size_t n = make_mp4(mp4, 4096);
	char why[256] = "";
	enum media_kind found;
	assert_int_equal(check_bytes(mp4, n, MEDIA_MP4, &found, why, sizeof(why)), MEDIA_OK);
	assert_int_equal(found, MEDIA_MP4);
	/* Cut short inside mdat: a body that ended early. */
	assert_int_equal(check_bytes(mp4, n - 1000, MEDIA_MP4, NULL, why, sizeof(why)),
	                 MEDIA_DAMAGED);
	if (!strstr(why, "\"mdat\""))
		fail_msg("expected the reason to name the cut box, got \"%s\"", why);
	/* Grown: a resume that came back longer than announced. */
	unsigned char grown[4096 + 64 + 16];
	memcpy(grown, mp4, n);
	memset(grown + n, 0xEF, 16);
	assert_int_equal(check_bytes(grown, n + 16, MEDIA_MP4, NULL, why, sizeof(why)),
	                 MEDIA_DAMAGED);
	/* Cut exactly between boxes, before the index: no moov. */
	unsigned char nomoov[64];
	memcpy(nomoov, mp4, 24);
	put_be32(nomoov + 24, 8);
	memcpy(nomoov + 28, "free", 4);
	assert_int_equal(check_bytes(nomoov, 32, MEDIA_MP4, NULL, why, sizeof(why)), MEDIA_DAMAGED);
	if (!strstr(why, "moov"))
		fail_msg("expected the reason to name the missing moov, got \"%s\"", why);
	/* Garbage where a box header should be. */
	unsigned char bad[4096 + 64];
	memcpy(bad, mp4, n);
	memset(bad + 40, 0x01, 8);
	assert_int_equal(check_bytes(bad, n, MEDIA_MP4, NULL, why, sizeof(why)), MEDIA_DAMAGED);
}

static void t_media_mp4_size_zero_and_64_bit_boxes(void **state)
{
	(void)state;
	unsigned char mp4[4096 + 64];
	size_t n = make_mp4(mp4, 4096);
	/* mdat with size 0: it runs to the end of the file, whatever its length. */
	put_be32(mp4 + 40, 0);
	char why[256] = "";
	assert_int_equal(check_bytes(mp4, n, MEDIA_MP4, NULL, why, sizeof(why)), MEDIA_OK);
	assert_int_equal(check_bytes(mp4, n - 100, MEDIA_MP4, NULL, why, sizeof(why)), MEDIA_OK);
	/* mdat with a 64-bit size (size field 1, then the large size). */
	unsigned char big[4096 + 64];
	make_mp4(big, 4096);
	put_be32(big + 40, 1);
	memcpy(big + 44, "mdat", 4);
	put_be32(big + 48, 0);
	put_be32(big + 52, 16 + 4088);
	assert_int_equal(check_bytes(big, 48 + 8 + 4088, MEDIA_MP4, NULL, why, sizeof(why)),
	                 MEDIA_OK);
	assert_int_equal(check_bytes(big, 48 + 8 + 4000, MEDIA_MP4, NULL, why, sizeof(why)),
	                 MEDIA_DAMAGED);
	/* A 64-bit header cut in the middle. */
	assert_int_equal(check_bytes(big, 52, MEDIA_MP4, NULL, why, sizeof(why)), MEDIA_DAMAGED);
}

static void t_media_webp_riff_size_is_the_file_size(void **state)
{
	(void)state;
	unsigned char webp[600];
	size_t n = make_webp(webp, 500);
	char why[256] = "";
	assert_int_equal(check_bytes(webp, n, MEDIA_WEBP, NULL, why, sizeof(why)), MEDIA_OK);
	assert_int_equal(check_bytes(webp, n - 10, MEDIA_WEBP, NULL, why, sizeof(why)),
	                 MEDIA_DAMAGED);
	if (!strstr(why, "says it has"))
		fail_msg("expected the sizes in the reason, got \"%s\"", why);
	assert_int_equal(check_bytes(webp, 16, MEDIA_WEBP, NULL, why, sizeof(why)), MEDIA_DAMAGED);
	memcpy(webp + 12, "ABCD", 4);
	assert_int_equal(check_bytes(webp, n, MEDIA_WEBP, NULL, why, sizeof(why)), MEDIA_DAMAGED);
}

static void t_media_jpeg_ends_with_eoi(void **state)
{
	(void)state;
	char why[256] = "";
	assert_int_equal(check_bytes(jpeg, sizeof(jpeg), MEDIA_JPEG, NULL, why, sizeof(why)),
	                 MEDIA_OK);
	/* Zero padding after EOI is tolerated, anything else is not. */
	unsigned char padded[sizeof(jpeg) + 1000];
	memcpy(padded, jpeg, sizeof(jpeg));
	memset(padded + sizeof(jpeg), 0, 1000);
	assert_int_equal(check_bytes(padded, sizeof(padded), MEDIA_JPEG, NULL, why, sizeof(why)),
	                 MEDIA_OK);
	assert_int_equal(check_bytes(jpeg, sizeof(jpeg) - 3, MEDIA_JPEG, NULL, why, sizeof(why)),
	                 MEDIA_DAMAGED);
	padded[sizeof(jpeg) + 500] = 0x41;
	assert_int_equal(check_bytes(padded, sizeof(padded), MEDIA_JPEG, NULL, why, sizeof(why)),
	                 MEDIA_DAMAGED);
	/* SOI alone: nothing after it. */
	assert_int_equal(check_bytes(jpeg, 3, MEDIA_JPEG, NULL, why, sizeof(why)), MEDIA_DAMAGED);
}

static void t_media_check_file_reports_what_cannot_be_read(void **state)
{
	(void)state;
	char why[256] = "";
	enum media_kind found = MEDIA_JPEG;
	assert_int_equal(
	    media_check_file("/nonexistent/t_media", MEDIA_MP4, &found, why, sizeof(why)),
	    MEDIA_UNREADABLE);
	assert_int_equal(found, MEDIA_UNKNOWN);
	if (!strstr(why, "/nonexistent/t_media"))
		fail_msg("expected the path in the reason, got \"%s\"", why);
	assert_int_equal(media_check_file("/", MEDIA_MP4, NULL, why, sizeof(why)),
	                 MEDIA_UNREADABLE);
}

/* What ffmpeg makes (what sora-sim serves and what sorad derives) passes. */
static void t_media_real_files_from_ffmpeg(void **state)
{
	(void)state;
	if (system("command -v ffmpeg >/dev/null 2>&1") != 0) {
		skip();
	}
	char dir[] = "/tmp/t_media.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char cmd[1024], mp4[128], webp[128], jpg[128];
	assert_int_equal(bfmt(mp4, sizeof(mp4), "%s/v.mp4", dir), 0);
	assert_int_equal(bfmt(webp, sizeof(webp), "%s/t.webp", dir), 0);
	assert_int_equal(bfmt(jpg, sizeof(jpg), "%s/s.jpg", dir), 0);
	assert_int_equal(bfmt(cmd, sizeof(cmd),
	                      "ffmpeg -v error -y -f lavfi -i testsrc2=s=320x180:r=24:d=2 -c:v "
	                      "libx264 -pix_fmt yuv420p -movflags +faststart '%s' && "
	                      "ffmpeg -v error -y -i '%s' -frames:v 1 -c:v libwebp '%s' && "
	                      "ffmpeg -v error -y -i '%s' -vf fps=fps=5,scale=-2:64,tile=5x2 "
	                      "-frames:v 1 -update 1 '%s'",
	                      mp4, mp4, webp, mp4, jpg),
	                 0);
	assert_int_equal(system(cmd), 0);
	char why[256] = "";
	const struct {
		const char *path;
		enum media_kind kind;
	} files[] = {{mp4, MEDIA_MP4}, {webp, MEDIA_WEBP}, {jpg, MEDIA_JPEG}};
	for (size_t i = 0; i < ARRAY_LEN(files); i++)
		if (media_check_file(files[i].path, files[i].kind, NULL, why, sizeof(why)) !=
		    MEDIA_OK)
			fail_msg("%s is not a whole %s: %s", files[i].path,
			         media_kind_name(files[i].kind), why);
	/* The real MP4 cut in two (a truncated download) is caught by its boxes. */
	assert_int_equal(bfmt(cmd, sizeof(cmd), "truncate -s %%50 '%s'", mp4), 0);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(media_check_file(mp4, MEDIA_MP4, NULL, why, sizeof(why)), MEDIA_DAMAGED);
	assert_int_equal(bfmt(cmd, sizeof(cmd), "rm -rf '%s'", dir), 0);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(t_media_sniff_tells_each_kind_from_its_first_bytes),
	    cmocka_unit_test(t_media_mp4_served_for_a_thumbnail_is_the_wrong_kind),
	    cmocka_unit_test(t_media_mp4_boxes_must_cover_the_file_exactly),
	    cmocka_unit_test(t_media_mp4_size_zero_and_64_bit_boxes),
	    cmocka_unit_test(t_media_webp_riff_size_is_the_file_size),
	    cmocka_unit_test(t_media_jpeg_ends_with_eoi),
	    cmocka_unit_test(t_media_check_file_reports_what_cannot_be_read),
	    cmocka_unit_test(t_media_real_files_from_ffmpeg),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
