/*
 * hmac.h - SHA-256 and HMAC-SHA256 (FIPS 180-4, RFC 2104): sora-sim signs the callbacks
 * of its OpenRouter mode with it, and sorad verifies signed callbacks (callback.h) with
 * it. The one file both binaries share (sim/CMakeLists.txt), because it is truly common
 * and self-contained: neither links a crypto library for it. Its correctness is checked
 * against RFC 4231's vectors (tests/unit/t_callback.c), and the signatures it makes
 * against Node's crypto and openssl(1), independently of this code.
 */
#ifndef SORAD_HMAC_H
#define SORAD_HMAC_H

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

/* 1 when the N bytes at A and B are equal, else 0, in a time that depends on N only
 * (never on where they differ): for comparing a MAC a client sent with the one
 * expected, so that the time taken tells an attacker nothing about the right one. */
int ct_memeq(const void *a, const void *b, size_t n);

#endif
