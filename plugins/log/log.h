/*
 * log.h - what the log stage's files share: the schema version and the
 * export entry point `llmroute report` finds with dlsym().
 */
#ifndef LLMR_LOG_H
#define LLMR_LOG_H

#include <stddef.h>
#include <stdio.h>

#include "llmroute.h"

/* PRAGMA user_version of a database this plugin writes.  A later schema
 * bumps it and migrates older files in log_schema(); a file with a newer
 * version is refused (its columns may mean something else). */
#define LOG_SCHEMA_VERSION 1

/* Write the result line of every row of table requests of the database
 * db, oldest first, one per line, to out: what `llmroute report runs.db`
 * reads (the runner does not link SQLite; it dlopen()s log.so and calls
 * this).  LLMR_OK, or LLMR_ERR with a one-line reason in err (errlen
 * bytes, always NUL-terminated). */
LLMR_EXPORT int llmr_log_export(const char *db, FILE *out, char *err,
                                size_t errlen);

#endif
