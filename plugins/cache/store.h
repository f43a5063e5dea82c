/*
 * store.h - the cache stage's SQLite file: one table, written in
 * batches, read with one indexed lookup per request.  Not installed.
 *
 * The schema (sqlite3 FILE .schema shows it):
 *
 *   CREATE TABLE cache (
 *     key        TEXT PRIMARY KEY, -- SHA-256 (hex) of model and body
 *     model      TEXT NOT NULL,    -- the catalog model that answered
 *     provider   TEXT,             -- the provider it answered on
 *     response   TEXT NOT NULL,    -- the chat.completion body (JSON)
 *     cost_usd   REAL NOT NULL,    -- what that answer cost when paid
 *     created_at REAL NOT NULL,    -- Unix time it was stored
 *     expires_at REAL NOT NULL     -- Unix time it expires; 0: never
 *   );
 *   CREATE INDEX cache_expires ON cache(expires_at) WHERE expires_at > 0;
 *
 * PRAGMA user_version is 1.  The file is in WAL mode, so runs sharing it
 * read while another writes; writers wait for each other up to the
 * busy timeout.
 */
#ifndef LLMR_CACHE_STORE_H
#define LLMR_CACHE_STORE_H

#include <stddef.h>

#define STORE_VERSION 1

struct store;

/* One answer as stored. */
struct store_row {
  char key[65];
  char *model, *provider, *response; /* malloc'd; provider may be NULL */
  double cost_usd, created_at, expires_at;
};

/* Open (or create) the file at path.  NULL and a message in err (len
 * bytes) when it cannot be opened, is not a database, or has a newer
 * schema.  busy_ms: how long a write waits for another run's. */
struct store *store_open(const char *path, long busy_ms, char *err,
                         size_t len);

/* The answer of key still usable at Unix time now with a reader's ttl
 * (seconds, 0: any age): 1 and *row filled (free with store_row_clear),
 * 0 when there is none, -1 on an error (message in err). */
int store_get(struct store *s, const char *key, double now, double ttl,
              struct store_row *row, char *err, size_t len);

/* Write rows in one transaction (INSERT OR REPLACE).  0, or -1 with a
 * message in err (nothing written). */
int store_put(struct store *s, const struct store_row *rows, int n,
              char *err, size_t len);

/* Delete the rows expired at now; how many, or -1. */
long store_prune(struct store *s, double now);

void store_row_clear(struct store_row *row);
void store_close(struct store *s); /* accepts NULL */

#endif
