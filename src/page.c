/* page.c — the compiled-in status page (see page.h). */
#include "page.h"
#include "util.h"

#include <stdint.h>

/* Written by CMake from src/page.html (CMakeLists.txt). */
extern const unsigned char sorad_page_html[];
extern const size_t sorad_page_html_len;

const char *page_html(size_t *len)
{
	*len = sorad_page_html_len;
	return (const char *)sorad_page_html;
}

const char *page_etag(void)
{
	static char etag[32];
	if (!etag[0]) {
		uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a over the page */
		for (size_t i = 0; i < sorad_page_html_len; i++)
			h = (h ^ sorad_page_html[i]) * 0x100000001b3ULL;
		bfmt(etag, sizeof(etag), "\"page-%016llx\"", (unsigned long long)h);
	}
	return etag;
}
