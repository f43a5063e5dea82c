/*
 * sha256.h - SHA-256 (FIPS 180-4) for the log stage's prompt=hash: a
 * prompt is stored as its digest only.  Small and dependency-free, so the
 * plugin links nothing but SQLite.
 */
#ifndef LLMR_LOG_SHA256_H
#define LLMR_LOG_SHA256_H

#include <stddef.h>

/* The digest of len bytes at data as 64 lowercase hex digits and a NUL
 * in hex[65]. */
void log_sha256_hex(const void *data, size_t len, char hex[65]);

#endif
