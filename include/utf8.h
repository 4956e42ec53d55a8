/* utf8.h — UTF-8 validation for untrusted text (prompts, names, API strings). */
#ifndef SORAD_UTF8_H
#define SORAD_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/*
 * True when S[LEN] is well-formed UTF-8 (no overlong forms, no surrogates, nothing
 * above U+10FFFF) without NUL bytes. When CHARS is not NULL it receives the number of
 * code points.
 */
bool utf8_check(const char *s, size_t len, size_t *chars);

/* Length in bytes of the longest prefix of S[LEN] that is whole, valid UTF-8. */
size_t utf8_valid_prefix(const char *s, size_t len);

#endif
