/*
 * export.c - llmr_log_export(): the stored result lines of a log
 * database, for `llmroute report runs.db`.  The runner links no SQLite:
 * it dlopen()s this plugin and calls the function through dlsym().
 */
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "log.h"
#include "schema.h"

LLMR_EXPORT int llmr_log_export(const char *path, FILE *out, char *err,
                                size_t errlen)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  int rc, status = LLMR_ERR;

  err[0] = '\0';
  rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
  if(rc != SQLITE_OK) {
    snprintf(err, errlen, "%s", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    goto done;
  }
  /* a run writing the file holds its lock for a few milliseconds */
  sqlite3_busy_timeout(db, 10000);
  rc = log_schema_check(db, err, errlen);
  if(rc == LLMR_ESTATE) {
    snprintf(err, errlen, "not a log database (no llmroute schema)");
    goto done;
  }
  if(rc != LLMR_OK)
    goto done;
  if(sqlite3_prepare_v2(db, "SELECT result FROM requests ORDER BY id", -1,
                        &st, NULL) != SQLITE_OK) {
    snprintf(err, errlen, "%s", sqlite3_errmsg(db));
    goto done;
  }
  while((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const unsigned char *s = sqlite3_column_text(st, 0);
    int n = sqlite3_column_bytes(st, 0);

    if(!s)
      continue;
    if(fwrite(s, 1, (size_t)n, out) != (size_t)n || putc('\n', out) == EOF) {
      snprintf(err, errlen, "write error");
      goto done;
    }
  }
  if(rc != SQLITE_DONE) {
    snprintf(err, errlen, "%s", sqlite3_errmsg(db));
    goto done;
  }
  status = LLMR_OK;

done:
  sqlite3_finalize(st);
  sqlite3_close(db);
  return status;
}
