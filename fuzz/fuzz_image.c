/*
 * fuzz_image.c — the reference image header reader (PNG, JPEG, WebP) on a memfd, as
 * the daemon reads an inbox file: image_probe_fd, and image_sniff on the same bytes.
 * Oracles: a probed image has the type the sniffer saw and a reason when rejected.
 */
#include "fuzz.h"

#include "image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct image_info info;
	char why[256] = "";
	enum image_type t = image_sniff(data, size);
	int fd = fuzz_memfd(data, size);
	if (fd < 0)
		return 0;
	if (image_probe_fd(fd, &info, why, sizeof(why)) == 0) {
		FUZZ_CHECK(info.type != IMAGE_UNKNOWN && image_mime(info.type),
		           "a probed image has a type");
		FUZZ_CHECK(info.type == t, "the probe agrees with the sniffer");
	} else {
		FUZZ_CHECK(why[0], "a rejected image has a reason");
	}
	close(fd);
	return 0;
}
