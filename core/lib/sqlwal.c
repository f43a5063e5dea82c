/*
 * sqlwal.c - WAL mode for a SQLite file that several runs share.
 */
#include <time.h>

#include "sqlwal.h"

int sqlwal_enable(sqlite3 *db, long wait_ms)
{
  const struct timespec pause = { 0, 10 * 1000000L };
  long waited = 0;
  int rc;

  while((rc = sqlite3_exec(db, "PRAGMA journal_mode=WAL", NULL, NULL,
                           NULL)) == SQLITE_BUSY && waited < wait_ms) {
    nanosleep(&pause, NULL);
    waited += 10;
  }
  return rc;
}
