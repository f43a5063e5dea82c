/*
 * sha256.h - SHA-256 (FIPS 180-4), small and self-contained: the cache
 * stage's keys and the log stage's prompt=hash.  No OpenSSL for stages
 * that only need a digest.
 *
 * Internal library (core/lib): shared by two built-in stages; not a
 * runner service, not installed.
 */
#ifndef LLMR_SHA256_H
#define LLMR_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
  uint32_t h[8];
  uint64_t len;          /* bytes hashed so far */
  unsigned char buf[64]; /* a block being filled */
  size_t fill;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t len);
void sha256_final(struct sha256 *s, unsigned char out[32]);

/* The digest of len bytes as 64 lowercase hex digits and a NUL. */
void sha256_hex(const void *data, size_t len, char out[65]);

#endif
