/*
 * log.c - the log stage: one SQLite row per request, for questions asked
 * later with sqlite3 (what did extraction prompts cost last week, which
 * model fails most, which requests were slowest).
 *
 *   log db=FILE [prompt=true|false|hash] [batch=N] [interval_ms=MS]
 *       [sync=true|false] [busy_timeout_ms=MS]
 *
 * The stage does nothing in process(); its done() hook, called for every
 * job with its final result line (answers, errors, malformed input
 * lines), turns the line into a row of table requests (schema.c).
 *
 * Writing never holds the event loop for long: rows wait in memory and
 * are written in one transaction when batch rows are pending or
 * interval_ms has passed since the last write, and at the end.  The file
 * is in WAL mode, so readers never block writers and several runs may
 * write one file: a write transaction takes the file's one write lock
 * for the few milliseconds of its inserts.  When another run holds it,
 * a write during the run waits at most LOCK_TRY_MS and is tried again
 * later (the rows stay pending); only when 16 batches are pending, and
 * at the end, does it wait up to busy_timeout_ms.  The trade-off: a run
 * killed with SIGKILL loses its pending rows (at most one batch or one
 * interval's worth; SIGINT still writes them).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "llmroute.h"
#include "log.h"
#include "schema.h"
#include "core/lib/sha256.h"
#include "core/lib/sqlwal.h"

/* How long a write during the run waits for another run's lock. */
#define LOCK_TRY_MS 10
/* Pending batches after which a write waits for the lock, however long. */
#define MAX_PENDING_BATCHES 16

enum prompt_mode { PROMPT_TEXT, PROMPT_HASH, PROMPT_NONE };

/* The columns the stage writes, in INSERT order. */
enum col {
  C_TS, C_UNIX, C_RUN, C_PIPELINE, C_LINE, C_CUSTOM_ID, C_RESULT_ID,
  C_TASK, C_COMPLEXITY, C_TIER, C_MODEL, C_PROVIDER, C_IN, C_CACHED,
  C_OUT, C_COST, C_EXPECTED, C_BASELINE, C_LATENCY, C_ATTEMPTS, C_VALID,
  C_REVIEW, C_ERR_CODE, C_ERR_MSG, C_ERR_STAGE, C_PROMPT, C_PROMPT_SHA,
  C_RESULT, NCOL
};

static const char *const col_names[NCOL] = {
  "ts", "unix_time", "run_id", "pipeline", "line", "custom_id",
  "result_id", "task", "complexity", "tier", "model", "provider",
  "input_tokens", "cached_tokens", "output_tokens", "cost_usd",
  "expected_cost_usd", "baseline_cost_usd", "latency_ms", "attempts",
  "valid", "review", "error_code", "error_message", "error_stage",
  "prompt", "prompt_sha256", "result"
};

enum cell_kind { CELL_NULL = 0, CELL_INT, CELL_REAL, CELL_TEXT };

struct cell {
  enum cell_kind kind;
  long long i;
  double d;
  char *s; /* malloc'd, CELL_TEXT */
};

struct row {
  struct cell c[NCOL];
};

struct logst {
  const struct llmr_host *host;
  sqlite3 *db;
  sqlite3_stmt *insert;
  char *path;
  enum prompt_mode prompt;
  long batch;           /* rows per transaction */
  long interval_ms;     /* write pending rows at least this often */
  int busy_ms;          /* longest wait for the lock (end, backlog) */
  int sync;             /* sync=: PRAGMA synchronous NORMAL, else OFF */
  char run_id[64];
  char *pipeline;
  struct row *rows;     /* pending */
  size_t n, cap;
  size_t write_at;      /* write when this many rows are pending */
  double last_write;    /* host->now() of the last write (or init) */
  long written, lost;
  int warned;           /* a write error was logged */
};

static const struct llmr_option log_options[] = {
  { "db", LLMR_OPT_PATH, NULL, LLMR_OPT_REQUIRED,
    "SQLite file to append to (created with its schema when missing)" },
  { "prompt", LLMR_OPT_STRING, "true", 0,
    "store the prompt text: true, hash (its SHA-256 only) or false" },
  { "batch", LLMR_OPT_INT, "256", 0,
    "rows written per transaction" },
  { "interval_ms", LLMR_OPT_INT, "1000", 0,
    "write pending rows at least this often" },
  { "sync", LLMR_OPT_BOOL, "true", 0,
    "fsync at checkpoints (false: faster; a power loss may then damage "
    "the file)" },
  { "busy_timeout_ms", LLMR_OPT_INT, "30000", 0,
    "longest wait for another run's write lock (at the end, or with a "
    "backlog)" },
  { NULL, 0, NULL, 0, NULL }
};

/* ---------------------------------------------------------------------
 * Rows
 */

static void row_free(struct row *r)
{
  int i;

  for(i = 0; i < NCOL; i++) {
    free(r->c[i].s);
    r->c[i].s = NULL;
    r->c[i].kind = CELL_NULL;
  }
}

static void cell_text(struct cell *c, const char *s, size_t len)
{
  c->s = malloc(len + 1);
  if(!c->s)
    return; /* stays NULL: out of memory loses a field, not the row */
  memcpy(c->s, s, len);
  c->s[len] = '\0';
  c->kind = CELL_TEXT;
}

static void cell_int(struct cell *c, long long v)
{
  c->kind = CELL_INT;
  c->i = v;
}

static void cell_real(struct cell *c, double v)
{
  c->kind = CELL_REAL;
  c->d = v;
}

/* Borrows obj.  New ref, or jv_null() when absent; never asserts. */
static jv get(jv obj, const char *key)
{
  if(jv_get_kind(obj) != JV_KIND_OBJECT)
    return jv_null();
  return jv_object_get(jv_copy(obj), jv_string(key));
}

/* obj[key] (borrowed obj) into c when it is a string. */
static void set_str(struct cell *c, jv obj, const char *key)
{
  jv v = get(obj, key);

  if(jv_get_kind(v) == JV_KIND_STRING)
    cell_text(c, jv_string_value(v), (size_t)jv_string_length_bytes(
                jv_copy(v)));
  jv_free(v);
}

/* obj[key] (borrowed obj) into c when it is a number. */
static void set_num(struct cell *c, jv obj, const char *key, int integer)
{
  jv v = get(obj, key);

  if(jv_get_kind(v) == JV_KIND_NUMBER) {
    if(integer)
      cell_int(c, (long long)jv_number_value(v));
    else
      cell_real(c, jv_number_value(v));
  }
  jv_free(v);
}

/* obj[key] (borrowed obj) into c as 1/0 when it is a boolean. */
static void set_bool(struct cell *c, jv obj, const char *key)
{
  jv v = get(obj, key);

  if(jv_get_kind(v) == JV_KIND_TRUE)
    cell_int(c, 1);
  else if(jv_get_kind(v) == JV_KIND_FALSE)
    cell_int(c, 0);
  jv_free(v);
}

/* The attempts' sums: tokens, latency; the last one's validity. */
static void set_attempts(struct row *r, jv route)
{
  jv atts = get(route, "attempts"), last = jv_null();
  double in = 0, cached = 0, out = 0, lat = 0, cost = 0;
  int i, n = 0, have_lat = 0;

  if(jv_get_kind(atts) == JV_KIND_ARRAY)
    n = jv_array_length(jv_copy(atts));
  for(i = 0; i < n; i++) {
    jv a = jv_array_get(jv_copy(atts), i), u = get(a, "usage"), v;
    const char *keys[] = { "input_tokens", "cached_tokens",
                           "cache_write_tokens", "output_tokens" };
    double f[4] = { 0, 0, 0, 0 };
    int k;

    for(k = 0; k < 4; k++) {
      v = get(u, keys[k]);
      if(jv_get_kind(v) == JV_KIND_NUMBER)
        f[k] = jv_number_value(v);
      jv_free(v);
    }
    in += f[0] + f[1] + f[2];
    cached += f[1];
    out += f[3];
    v = get(a, "latency_ms");
    if(jv_get_kind(v) == JV_KIND_NUMBER) {
      lat += jv_number_value(v);
      have_lat = 1;
    }
    jv_free(v);
    v = get(a, "cost_usd");
    if(jv_get_kind(v) == JV_KIND_NUMBER)
      cost += jv_number_value(v);
    jv_free(v);
    jv_free(u);
    jv_free(last);
    last = a;
  }
  cell_int(&r->c[C_ATTEMPTS], n);
  if(n) {
    cell_int(&r->c[C_IN], (long long)in);
    cell_int(&r->c[C_CACHED], (long long)cached);
    cell_int(&r->c[C_OUT], (long long)out);
    if(have_lat)
      cell_real(&r->c[C_LATENCY], lat);
    set_bool(&r->c[C_VALID], last, "valid");
    /* the cost of the calls: route.cost_usd, else what the attempts say */
    set_num(&r->c[C_COST], route, "cost_usd", 0);
    if(r->c[C_COST].kind == CELL_NULL)
      cell_real(&r->c[C_COST], cost);
  }
  jv_free(last);
  jv_free(atts);
}

/* Now, wall clock, into the ts and unix_time cells. */
static void set_time(struct row *r)
{
  struct timespec ts;
  struct tm tm;
  char buf[40];
  time_t s;

  clock_gettime(CLOCK_REALTIME, &ts);
  s = ts.tv_sec;
  gmtime_r(&s, &tm);
  strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), ".%03ldZ",
           (long)(ts.tv_nsec / 1000000));
  cell_text(&r->c[C_TS], buf, strlen(buf));
  cell_real(&r->c[C_UNIX], (double)ts.tv_sec + ts.tv_nsec / 1e9);
}

/* The prompt (the request's message text) as the stage's mode wants. */
static void set_prompt(struct logst *st, struct row *r, struct llmr_job *job)
{
  jv req, text;
  char hex[65];

  if(st->prompt == PROMPT_NONE)
    return;
  req = st->host->request(job);
  if(jv_get_kind(req) != JV_KIND_OBJECT) {
    jv_free(req);
    return; /* a malformed line has no request */
  }
  text = st->host->request_text(req, LLMR_TEXT_ALL);
  if(jv_get_kind(text) == JV_KIND_STRING) {
    size_t len = (size_t)jv_string_length_bytes(jv_copy(text));
    const char *s = jv_string_value(text);

    sha256_hex(s, len, hex);
    cell_text(&r->c[C_PROMPT_SHA], hex, 64);
    if(st->prompt == PROMPT_TEXT)
      cell_text(&r->c[C_PROMPT], s, len);
  }
  jv_free(text);
  jv_free(req);
}

/* The result line's "id" into c.  The writer puts it first
 * ({"id":"llmr-7",...}): read from there, else parse the line. */
static void set_result_id(struct logst *st, struct cell *c,
                          const char *line, size_t len)
{
  static const char pre[] = "{\"id\":\"";
  size_t n = sizeof(pre) - 1, i;
  jv res;

  if(len > n && !memcmp(line, pre, n)) {
    for(i = n; i < len && line[i] != '"' && line[i] != '\\'; i++)
      ;
    if(i < len && line[i] == '"') {
      cell_text(c, line + n, i - n);
      return;
    }
  }
  res = st->host->json_parse(line, len);
  set_str(c, res, "id");
  jv_free(res);
}

/* Fill r from the job and its result line (line/len).  The route and the
 * error come from the job (no need to parse the line again). */
static void row_fill(struct logst *st, struct row *r, struct llmr_job *job,
                     const char *line, size_t len)
{
  jv route = st->host->route(job), err = st->host->error(job);
  const char *cid = st->host->custom_id(job);

  memset(r, 0, sizeof(*r));
  set_time(r);
  cell_text(&r->c[C_RUN], st->run_id, strlen(st->run_id));
  if(st->pipeline)
    cell_text(&r->c[C_PIPELINE], st->pipeline, strlen(st->pipeline));
  cell_int(&r->c[C_LINE], st->host->line(job));
  if(cid)
    cell_text(&r->c[C_CUSTOM_ID], cid, strlen(cid));
  set_result_id(st, &r->c[C_RESULT_ID], line, len);
  set_str(&r->c[C_TASK], route, "task");
  set_num(&r->c[C_COMPLEXITY], route, "complexity", 0);
  set_num(&r->c[C_TIER], route, "tier", 1);
  set_str(&r->c[C_MODEL], route, "model");
  set_str(&r->c[C_PROVIDER], route, "provider");
  set_num(&r->c[C_EXPECTED], route, "expected_cost_usd", 0);
  set_num(&r->c[C_BASELINE], route, "baseline_cost_usd", 0);
  set_bool(&r->c[C_REVIEW], route, "review");
  set_attempts(r, route);
  set_str(&r->c[C_ERR_CODE], err, "code");
  set_str(&r->c[C_ERR_MSG], err, "message");
  set_str(&r->c[C_ERR_STAGE], err, "stage");
  set_prompt(st, r, job);
  cell_text(&r->c[C_RESULT], line, len);
  jv_free(err);
  jv_free(route);
}

/* ---------------------------------------------------------------------
 * Writing
 */

/* Bind r to the insert statement and run it.  SQLITE_DONE on success. */
static int insert_row(struct logst *st, const struct row *r)
{
  sqlite3_stmt *s = st->insert;
  int i, rc;

  for(i = 0; i < NCOL; i++) {
    const struct cell *c = &r->c[i];
    switch(c->kind) {
    case CELL_INT:
      sqlite3_bind_int64(s, i + 1, c->i);
      break;
    case CELL_REAL:
      sqlite3_bind_double(s, i + 1, c->d);
      break;
    case CELL_TEXT:
      sqlite3_bind_text(s, i + 1, c->s, -1, SQLITE_STATIC);
      break;
    default:
      sqlite3_bind_null(s, i + 1);
    }
  }
  rc = sqlite3_step(s);
  sqlite3_reset(s);
  sqlite3_clear_bindings(s);
  return rc;
}

/* Drop the pending rows (written or lost). */
static void drop_pending(struct logst *st)
{
  size_t i;

  for(i = 0; i < st->n; i++)
    row_free(&st->rows[i]);
  st->n = 0;
}

/* Write the pending rows in one transaction, waiting at most wait_ms for
 * the write lock.  LLMR_OK (written), LLMR_ESTATE (the lock is busy: the
 * rows stay pending) or LLMR_ERR (they are lost; logged). */
static int write_pending(struct logst *st, int wait_ms)
{
  size_t i;
  int rc;

  st->last_write = st->host->now();
  if(!st->n)
    return LLMR_OK;
  sqlite3_busy_timeout(st->db, wait_ms);
  rc = sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
  if(rc == SQLITE_BUSY) {
    /* another run is writing: try again a batch or an interval later,
       not on every job */
    st->write_at = st->n + (size_t)st->batch;
    return LLMR_ESTATE;
  }
  st->write_at = (size_t)st->batch;
  if(rc != SQLITE_OK)
    goto fail;
  for(i = 0; i < st->n; i++) {
    rc = insert_row(st, &st->rows[i]);
    if(rc != SQLITE_DONE)
      goto fail;
  }
  rc = sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL);
  if(rc != SQLITE_OK)
    goto fail;
  st->written += (long)st->n;
  drop_pending(st);
  return LLMR_OK;

fail:
  if(!st->warned++)
    st->host->log(NULL, LLMR_LOG_ERROR, "%s: cannot write %zu rows: %s",
                  st->path, st->n, sqlite3_errmsg(st->db));
  if(!sqlite3_get_autocommit(st->db))
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
  st->lost += (long)st->n;
  drop_pending(st);
  return LLMR_ERR;
}

/* ---------------------------------------------------------------------
 * The stage
 */

static void log_free(struct logst *st)
{
  if(!st)
    return;
  drop_pending(st);
  free(st->rows);
  sqlite3_finalize(st->insert);
  sqlite3_close(st->db);
  free(st->path);
  free(st->pipeline);
  free(st);
}

/* The INSERT statement for every column of col_names. */
static char *insert_sql(void)
{
  size_t n = 64, off;
  char *sql;
  int i;

  for(i = 0; i < NCOL; i++)
    n += strlen(col_names[i]) + 4;
  sql = malloc(n);
  if(!sql)
    return NULL;
  off = (size_t)snprintf(sql, n, "INSERT INTO requests(");
  for(i = 0; i < NCOL; i++)
    off += (size_t)snprintf(sql + off, n - off, "%s%s", i ? "," : "",
                            col_names[i]);
  off += (size_t)snprintf(sql + off, n - off, ") VALUES(");
  for(i = 0; i < NCOL; i++)
    off += (size_t)snprintf(sql + off, n - off, "%s?", i ? "," : "");
  snprintf(sql + off, n - off, ")");
  return sql;
}

/* Open the file, switch it to WAL, make its schema; prepare the insert.
 * LLMR_OK, or LLMR_ERR with the reason in err. */
static int open_db(struct logst *st, char *err, size_t errlen)
{
  char *sql;
  int rc;

  rc = sqlite3_open_v2(st->path, &st->db, SQLITE_OPEN_READWRITE |
                       SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
  if(rc != SQLITE_OK) {
    snprintf(err, errlen, "%s", st->db ? sqlite3_errmsg(st->db)
                                       : sqlite3_errstr(rc));
    return LLMR_ERR;
  }
  /* before the loop: waiting for another run's lock here is harmless */
  sqlite3_busy_timeout(st->db, st->busy_ms);
  /* WAL: readers and one writer at a time, several runs on one file.
     synchronous=NORMAL syncs only at checkpoints (every ~4 MB of log):
     a crash of llmroute loses nothing written, a power loss at most the
     last transactions.  OFF never syncs: a crash of llmroute is still
     safe (the data is in the kernel), a power loss may damage the file */
  if(sqlwal_enable(st->db, st->busy_ms) != SQLITE_OK ||
     sqlite3_exec(st->db, st->sync ? "PRAGMA synchronous=NORMAL"
                  : "PRAGMA synchronous=OFF", NULL, NULL, NULL) !=
     SQLITE_OK) {
    snprintf(err, errlen, "%s", sqlite3_errmsg(st->db));
    return LLMR_ERR;
  }
  if(log_schema(st->db, err, errlen) != LLMR_OK)
    return LLMR_ERR;
  sql = insert_sql();
  if(!sql) {
    snprintf(err, errlen, "out of memory");
    return LLMR_ERR;
  }
  rc = sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
                          &st->insert, NULL);
  free(sql);
  if(rc != SQLITE_OK) {
    snprintf(err, errlen, "%s", sqlite3_errmsg(st->db));
    return LLMR_ERR;
  }
  return LLMR_OK;
}

static int log_init(const struct llmr_host *host,
                    const struct llmr_config *cf, void **self)
{
  struct logst *st = calloc(1, sizeof(*st));
  const char *prompt = host->opt(cf, "prompt")->str;
  char err[512], stamp[32];
  struct tm tm;
  time_t t = time(NULL);

  if(!st) {
    host->config_error(cf, "out of memory");
    return LLMR_ERR;
  }
  st->host = host;
  st->path = strdup(host->opt(cf, "db")->str);
  st->pipeline = cf->file ? strdup(cf->file) : NULL;
  st->batch = host->opt(cf, "batch")->i;
  st->interval_ms = host->opt(cf, "interval_ms")->i;
  st->busy_ms = (int)host->opt(cf, "busy_timeout_ms")->i;
  st->sync = (int)host->opt(cf, "sync")->i;
  if(!strcmp(prompt, "true"))
    st->prompt = PROMPT_TEXT;
  else if(!strcmp(prompt, "hash"))
    st->prompt = PROMPT_HASH;
  else if(!strcmp(prompt, "false"))
    st->prompt = PROMPT_NONE;
  else {
    host->config_error(cf, "log: prompt='%s': expected true, hash or "
                       "false", prompt);
    goto fail;
  }
  if(st->batch < 1 || st->interval_ms < 0 || st->busy_ms < 0 ||
     host->opt(cf, "busy_timeout_ms")->i > 86400000) {
    host->config_error(cf, "log: batch must be at least 1, interval_ms "
                       "and busy_timeout_ms 0 or more (at most a day)");
    goto fail;
  }
  if(!st->path) {
    host->config_error(cf, "out of memory");
    goto fail;
  }
  /* tells runs apart in one file: when it started (UTC) and its pid */
  gmtime_r(&t, &tm);
  strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
  snprintf(st->run_id, sizeof(st->run_id), "%s-%ld", stamp,
           (long)getpid());
  if(open_db(st, err, sizeof(err)) != LLMR_OK) {
    host->config_error(cf, "log: database %s: %s", st->path, err);
    goto fail;
  }
  st->last_write = host->now();
  st->write_at = (size_t)st->batch;
  *self = st;
  return LLMR_OK;

fail:
  log_free(st);
  return LLMR_ERR;
}

static enum llmr_verdict log_process(void *self, struct llmr_job *job)
{
  (void)self;
  (void)job;
  return LLMR_NEXT; /* the row is written when the job is done */
}

static void log_done(void *self, struct llmr_job *job, const char *line,
                     size_t len)
{
  struct logst *st = self;
  size_t backlog = (size_t)st->batch * MAX_PENDING_BATCHES;

  if(st->n == st->cap) {
    size_t cap = st->cap ? st->cap * 2 : (size_t)st->batch + 1;
    struct row *nr = realloc(st->rows, cap * sizeof(*nr));
    if(!nr) {
      st->lost++;
      return;
    }
    st->rows = nr;
    st->cap = cap;
  }
  row_fill(st, &st->rows[st->n++], job, line, len);
  if(st->n >= st->write_at ||
     (st->host->now() - st->last_write) * 1000.0 >= (double)st->interval_ms)
    write_pending(st, st->n >= backlog ? st->busy_ms : LOCK_TRY_MS);
}

static void log_finish(void *self)
{
  struct logst *st = self;

  if(!st)
    return;
  if(write_pending(st, st->busy_ms) == LLMR_ESTATE) {
    st->host->log(NULL, LLMR_LOG_ERROR, "%s: still locked by another "
                  "writer after %d ms: %zu rows not logged", st->path,
                  st->busy_ms, st->n);
    st->lost += (long)st->n;
    drop_pending(st);
  }
  if(st->lost)
    st->host->log(NULL, LLMR_LOG_ERROR, "%s: %ld of %ld rows not logged",
                  st->path, st->lost, st->lost + st->written);
  else
    st->host->log(NULL, LLMR_LOG_DEBUG, "%s: %ld rows logged (run %s)",
                  st->path, st->written, st->run_id);
  log_free(st);
}

static const struct llmr_stage log_stage = {
  LLMR_STAGE_VERSION,
  .name = "log",
  .version = "0.1.0",
  .description = "log one row per request to a SQLite file",
  .options = log_options,
  .init = log_init,
  .process = log_process,
  .finish = log_finish,
  .done = log_done
};

LLMR_EXPORT const struct llmr_stage *llmr_stage_entry(unsigned host_major,
                                                     unsigned host_minor)
{
  /* done() and host->error() came with 1.6: an older runner never calls
     done(), so nothing would be logged */
  if(host_major != LLMR_ABI_MAJOR || host_minor < 6)
    return NULL;
  return &log_stage;
}
