/*
 * store.c - the cache's SQLite file (schema in store.h).
 *
 * The runner has one thread and must not block, so: reads are one
 * lookup on the primary key (microseconds, the page cache warm); writes
 * are gathered by the stage and go in one transaction per batch, so a
 * run pays one fsync per batch, not per answer.  WAL mode lets several
 * runs share one file: readers never wait, a writer waits for another
 * writer's short transaction (busy timeout), and INSERT OR REPLACE makes
 * two runs storing the same key agree (the last one wins; both answers
 * were valid).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>

#include "store.h"
#include "core/lib/sqlwal.h"

struct store {
  sqlite3 *db;
  sqlite3_stmt *get, *put;
};

static const char schema[] =
  "CREATE TABLE IF NOT EXISTS cache ("
  " key TEXT PRIMARY KEY,"
  " model TEXT NOT NULL,"
  " provider TEXT,"
  " response TEXT NOT NULL,"
  " cost_usd REAL NOT NULL,"
  " created_at REAL NOT NULL,"
  " expires_at REAL NOT NULL);"
  "CREATE INDEX IF NOT EXISTS cache_expires ON cache(expires_at)"
  " WHERE expires_at > 0;";

/* The row of key unless expired (expires_at) or older than the reader's
 * ttl (?3, 0: any age). */
static const char get_sql[] =
  "SELECT model, provider, response, cost_usd, created_at, expires_at"
  " FROM cache WHERE key = ?1"
  " AND (expires_at = 0 OR expires_at > ?2)"
  " AND (?3 <= 0 OR created_at > ?2 - ?3)";

static const char put_sql[] =
  "INSERT OR REPLACE INTO cache"
  " (key, model, provider, response, cost_usd, created_at, expires_at)"
  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

/* Copy the database's last message into err. */
static void db_error(sqlite3 *db, const char *what, char *err, size_t len)
{
  snprintf(err, len, "%s: %s", what, db ? sqlite3_errmsg(db) :
           "out of memory");
}

/* The integer a one-row statement gives, or -1. */
static long long pragma_int(sqlite3 *db, const char *sql)
{
  sqlite3_stmt *st = NULL;
  long long v = -1;
  if(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
     sqlite3_step(st) == SQLITE_ROW)
    v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return v;
}

struct store *store_open(const char *path, long busy_ms, char *err,
                         size_t len)
{
  struct store *s = calloc(1, sizeof(*s));
  long long version;

  if(!s) {
    snprintf(err, len, "out of memory");
    return NULL;
  }
  if(sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
                     SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
    db_error(s->db, "cannot open", err, len);
    goto fail;
  }
  sqlite3_busy_timeout(s->db, (int)busy_ms);
  /* the first statement reads the file: a file that is not a database,
     or a folder that does not exist, shows here */
  version = pragma_int(s->db, "PRAGMA user_version");
  if(version < 0) {
    db_error(s->db, "cannot read", err, len);
    goto fail;
  }
  if(version > STORE_VERSION) {
    snprintf(err, len, "schema version %lld is newer than this stage's %d",
             version, STORE_VERSION);
    goto fail;
  }
  /* WAL: concurrent runs read while one writes.  NORMAL sync is safe in
     WAL mode (a crash may lose the last transactions, never corrupt) */
  if(sqlwal_enable(s->db, busy_ms) != SQLITE_OK ||
     sqlite3_exec(s->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL) !=
     SQLITE_OK ||
     sqlite3_exec(s->db, schema, NULL, NULL, NULL) != SQLITE_OK ||
     (version == 0 && sqlite3_exec(s->db, "PRAGMA user_version=1", NULL,
                                   NULL, NULL) != SQLITE_OK)) {
    db_error(s->db, "cannot set up", err, len);
    goto fail;
  }
  if(sqlite3_prepare_v2(s->db, get_sql, -1, &s->get, NULL) != SQLITE_OK ||
     sqlite3_prepare_v2(s->db, put_sql, -1, &s->put, NULL) != SQLITE_OK) {
    db_error(s->db, "cannot prepare", err, len);
    goto fail;
  }
  return s;
fail:
  store_close(s);
  return NULL;
}

/* A malloc'd copy of column i, or NULL when it is NULL. */
static char *column_dup(sqlite3_stmt *st, int i)
{
  const unsigned char *t = sqlite3_column_text(st, i);
  return t ? strdup((const char *)t) : NULL;
}

int store_get(struct store *s, const char *key, double now, double ttl,
              struct store_row *row, char *err, size_t len)
{
  int rc;

  memset(row, 0, sizeof(*row));
  sqlite3_reset(s->get);
  sqlite3_bind_text(s->get, 1, key, -1, SQLITE_STATIC);
  sqlite3_bind_double(s->get, 2, now);
  sqlite3_bind_double(s->get, 3, ttl);
  rc = sqlite3_step(s->get);
  if(rc == SQLITE_DONE) {
    sqlite3_reset(s->get);
    return 0;
  }
  if(rc != SQLITE_ROW) {
    db_error(s->db, "lookup", err, len);
    sqlite3_reset(s->get);
    return -1;
  }
  snprintf(row->key, sizeof(row->key), "%s", key);
  row->model = column_dup(s->get, 0);
  row->provider = column_dup(s->get, 1);
  row->response = column_dup(s->get, 2);
  row->cost_usd = sqlite3_column_double(s->get, 3);
  row->created_at = sqlite3_column_double(s->get, 4);
  row->expires_at = sqlite3_column_double(s->get, 5);
  sqlite3_reset(s->get);
  if(!row->model || !row->response) {
    store_row_clear(row);
    snprintf(err, len, "lookup: out of memory or a NULL column");
    return -1;
  }
  return 1;
}

int store_put(struct store *s, const struct store_row *rows, int n,
              char *err, size_t len)
{
  int i;

  if(n <= 0)
    return 0;
  /* IMMEDIATE: take the write lock now (waiting up to the busy
     timeout), not halfway through the batch */
  if(sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
    db_error(s->db, "begin", err, len);
    return -1;
  }
  for(i = 0; i < n; i++) {
    const struct store_row *r = &rows[i];
    sqlite3_reset(s->put);
    sqlite3_bind_text(s->put, 1, r->key, -1, SQLITE_STATIC);
    sqlite3_bind_text(s->put, 2, r->model, -1, SQLITE_STATIC);
    if(r->provider)
      sqlite3_bind_text(s->put, 3, r->provider, -1, SQLITE_STATIC);
    else
      sqlite3_bind_null(s->put, 3);
    sqlite3_bind_text(s->put, 4, r->response, -1, SQLITE_STATIC);
    sqlite3_bind_double(s->put, 5, r->cost_usd);
    sqlite3_bind_double(s->put, 6, r->created_at);
    sqlite3_bind_double(s->put, 7, r->expires_at);
    if(sqlite3_step(s->put) != SQLITE_DONE) {
      db_error(s->db, "insert", err, len);
      sqlite3_reset(s->put);
      sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
      return -1;
    }
  }
  sqlite3_reset(s->put);
  sqlite3_clear_bindings(s->put); /* the rows' strings go after this */
  if(sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
    db_error(s->db, "commit", err, len);
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
  }
  return 0;
}

long store_prune(struct store *s, double now)
{
  sqlite3_stmt *st = NULL;
  long n = -1;

  if(sqlite3_prepare_v2(s->db, "DELETE FROM cache WHERE expires_at > 0"
                        " AND expires_at <= ?1", -1, &st, NULL) ==
     SQLITE_OK) {
    sqlite3_bind_double(st, 1, now);
    if(sqlite3_step(st) == SQLITE_DONE)
      n = (long)sqlite3_changes(s->db);
  }
  sqlite3_finalize(st);
  return n;
}

void store_row_clear(struct store_row *row)
{
  free(row->model);
  free(row->provider);
  free(row->response);
  row->model = row->provider = row->response = NULL;
}

void store_close(struct store *s)
{
  if(!s)
    return;
  sqlite3_finalize(s->get);
  sqlite3_finalize(s->put);
  sqlite3_close(s->db);
  free(s);
}
