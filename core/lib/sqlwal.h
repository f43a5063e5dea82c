/*
 * sqlwal.h - put a SQLite file in WAL mode when several runs may open it
 * at once (the log and cache stages).
 *
 * Internal library (core/lib): shared by the two stages that link
 * SQLite; the runner never calls it, so it never links SQLite.
 */
#ifndef LLMR_SQLWAL_H
#define LLMR_SQLWAL_H

#include <sqlite3.h>

/* PRAGMA journal_mode=WAL, tried again for up to wait_ms while another
 * connection holds the file.  The pragma moves from a shared lock to the
 * exclusive one; two runs opening a new file together can each hold the
 * shared lock and want the exclusive, and SQLite answers one of them
 * SQLITE_BUSY at once, without the busy handler (which would deadlock).
 * Call it before the loop: it sleeps.  Returns SQLite's code. */
int sqlwal_enable(sqlite3 *db, long wait_ms);

#endif
