/*
 * schema.c - the log database's schema: created on first use, its
 * version checked (PRAGMA user_version) so a later llmroute can migrate an
 * older file and an older one refuses a newer file.
 *
 * The CREATE statements below are the documented schema (README, Run
 * log; llmroute(1), RUN LOG); SQLite keeps their text, comments included,
 * so `sqlite3 runs.db .schema` shows it with what each column means.
 */
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "log.h"
#include "schema.h"

static const char schema_sql[] =
  "CREATE TABLE IF NOT EXISTS requests(\n"
  "  id INTEGER PRIMARY KEY,   -- row number, in insertion order\n"
  "  ts TEXT NOT NULL,         -- when the result was final, ISO-8601 UTC\n"
  "                            -- with ms: 2026-12-03T19:40:00.123Z\n"
  "  unix_time REAL NOT NULL,  -- the same instant, seconds since 1970\n"
  "  run_id TEXT NOT NULL,     -- one per llmroute run: start time and pid\n"
  "  pipeline TEXT,            -- the pipeline file of that run\n"
  "  line INTEGER,             -- input line number, 1-based\n"
  "  custom_id TEXT,           -- the request's custom_id\n"
  "  result_id TEXT,           -- the result line's id\n"
  "  task TEXT,                -- route.task\n"
  "  complexity REAL,          -- route.complexity, 0..1\n"
  "  tier INTEGER,             -- route.tier of the final model\n"
  "  model TEXT,               -- route.model: the final model\n"
  "  provider TEXT,            -- route.provider\n"
  "  input_tokens INTEGER,     -- prompt tokens of all attempts, cached\n"
  "                            -- ones included\n"
  "  cached_tokens INTEGER,    -- of which read from the provider's cache\n"
  "  output_tokens INTEGER,    -- completion tokens of all attempts\n"
  "  cost_usd REAL,            -- what the calls cost (route.cost_usd);\n"
  "                            -- NULL when no call was made (audit plans)\n"
  "  expected_cost_usd REAL,   -- the pre-call estimate\n"
  "  baseline_cost_usd REAL,   -- the same request on the baseline model\n"
  "  latency_ms REAL,          -- provider time: sum of the attempts'\n"
  "  attempts INTEGER,         -- provider calls made (route.attempts)\n"
  "  valid INTEGER,            -- last attempt's answer passed validate:\n"
  "                            -- 1, 0, NULL when not judged\n"
  "  review INTEGER,           -- route.review: sampled for human review\n"
  "  error_code TEXT,          -- NULL for an answer\n"
  "  error_message TEXT,\n"
  "  error_stage TEXT,         -- the stage (or input) that failed it\n"
  "  prompt TEXT,              -- the messages' text; NULL with\n"
  "                            -- prompt=hash or prompt=false\n"
  "  prompt_sha256 TEXT,       -- hex SHA-256 of that text; NULL with\n"
  "                            -- prompt=false\n"
  "  result TEXT NOT NULL      -- the whole result line (JSON)\n"
  ");\n"
  "CREATE INDEX IF NOT EXISTS requests_ts ON requests(unix_time);\n"
  "CREATE INDEX IF NOT EXISTS requests_run ON requests(run_id);\n"
  "CREATE INDEX IF NOT EXISTS requests_task ON requests(task, unix_time);\n"
  "CREATE INDEX IF NOT EXISTS requests_model ON requests(model, unix_time);\n"
  "CREATE INDEX IF NOT EXISTS requests_error ON requests(error_code)\n"
  "  WHERE error_code IS NOT NULL;\n"
  "CREATE INDEX IF NOT EXISTS requests_custom_id ON requests(custom_id);\n";

/* The database's user_version into *v.  SQLITE_OK or an error code. */
static int user_version(sqlite3 *db, int *v)
{
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);

  *v = 0;
  if(rc == SQLITE_OK) {
    rc = sqlite3_step(st);
    if(rc == SQLITE_ROW) {
      *v = sqlite3_column_int(st, 0);
      rc = SQLITE_OK;
    }
  }
  sqlite3_finalize(st);
  return rc;
}

/* 1 when db has a table called requests. */
static int has_requests(sqlite3 *db)
{
  sqlite3_stmt *st = NULL;
  int found = 0;

  if(sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE "
                        "type='table' AND name='requests'", -1, &st,
                        NULL) == SQLITE_OK)
    found = sqlite3_step(st) == SQLITE_ROW;
  sqlite3_finalize(st);
  return found;
}

int log_schema_check(sqlite3 *db, char *err, size_t errlen)
{
  int v, rc = user_version(db, &v);

  if(rc != SQLITE_OK) {
    snprintf(err, errlen, "%s", sqlite3_errmsg(db));
    return LLMR_ERR;
  }
  if(v > LOG_SCHEMA_VERSION) {
    snprintf(err, errlen, "written by a newer llmroute (log schema %d, "
             "this one knows %d): upgrade llmroute", v, LOG_SCHEMA_VERSION);
    return LLMR_ERR;
  }
  if(v == 0 && has_requests(db)) {
    snprintf(err, errlen, "has a table 'requests' that the log stage did "
             "not make (user_version 0): name another file");
    return LLMR_ERR;
  }
  return v == 0 ? LLMR_ESTATE : LLMR_OK;
}

int log_schema(sqlite3 *db, char *err, size_t errlen)
{
  char sql[64];
  int rc = log_schema_check(db, err, errlen);

  if(rc != LLMR_ESTATE)
    return rc;
  /* a new file: create it in one write transaction, then check again,
     as another run may have created it between our look and our lock */
  if(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
    snprintf(err, errlen, "%s", sqlite3_errmsg(db));
    return LLMR_ERR;
  }
  rc = log_schema_check(db, err, errlen);
  if(rc == LLMR_ESTATE) {
    snprintf(sql, sizeof(sql), "PRAGMA user_version=%d",
             LOG_SCHEMA_VERSION);
    if(sqlite3_exec(db, schema_sql, NULL, NULL, NULL) != SQLITE_OK ||
       sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
      snprintf(err, errlen, "cannot create the schema: %s",
               sqlite3_errmsg(db));
      rc = LLMR_ERR;
    }
    else
      rc = LLMR_OK;
  }
  if(rc == LLMR_OK &&
     sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
    snprintf(err, errlen, "%s", sqlite3_errmsg(db));
    rc = LLMR_ERR;
  }
  if(rc != LLMR_OK)
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
  return rc;
}
