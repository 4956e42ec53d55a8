/*
 * hmac.h - SHA-256 and HMAC-SHA256 (FIPS 180-4, RFC 2104), for the signatures of the
 * OpenRouter mode's callbacks. Self-contained so that sora-sim links no crypto library;
 * the tests check every signature with Node's crypto, independently of this code.
 */
#ifndef SIM_HMAC_H
#define SIM_HMAC_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32

struct sha256 {
	uint32_t h[8];
	uint64_t total; /* bytes hashed so far */
	unsigned char block[64];
	size_t used; /* bytes in block */
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *p, size_t n);
void sha256_final(struct sha256 *s, unsigned char out[SHA256_LEN]);

/* HMAC-SHA256 of the concatenation of the N_PARTS parts (each PARTS[i] of LENS[i] bytes)
 * under KEY, so that a signed payload need not be copied together first. */
void hmac_sha256(const void *key, size_t key_len, const void *const *parts, const size_t *lens,
                 size_t n_parts, unsigned char out[SHA256_LEN]);

/* Lower-case hex of N bytes into OUT, which holds at least 2 * N + 1 bytes. */
void hex_encode(const unsigned char *p, size_t n, char *out);

#endif
