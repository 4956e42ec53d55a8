/*
 * page.h — the status page: one self-contained HTML document (src/page.html, with its
 * CSS and JavaScript inline) compiled into the binary by CMake, so that the daemon
 * serves it without any file on disk and the page needs nothing from the network.
 */
#ifndef SORAD_PAGE_H
#define SORAD_PAGE_H

#include <stddef.h>

/* The page's bytes (static, not NUL-terminated) and their length. */
const char *page_html(size_t *len);

/* A strong ETag for the page ("\"page-HEX\""), static. */
const char *page_etag(void);

#endif
