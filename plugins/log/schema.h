/*
 * schema.h - creating and checking the log database's schema.
 */
#ifndef LLMR_LOG_SCHEMA_H
#define LLMR_LOG_SCHEMA_H

#include <stddef.h>

#include <sqlite3.h>

/* Is db's schema one this plugin reads?  LLMR_OK when it is (version
 * 1..LOG_SCHEMA_VERSION), LLMR_ESTATE when the file is new (no schema
 * yet), else LLMR_ERR with a one-line reason in err (errlen bytes). */
int log_schema_check(sqlite3 *db, char *err, size_t errlen);

/* Make sure db has the current schema, creating it in a new file (safe
 * against another run doing the same at the same time).  LLMR_OK, or
 * LLMR_ERR with a one-line reason in err. */
int log_schema(sqlite3 *db, char *err, size_t errlen);

#endif
