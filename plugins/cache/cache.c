/*
 * cache.c - the cache stage: an exact-match response cache in a SQLite
 * file, placed right before call.
 *
 *   cache db=cache.db ttl=86400
 *
 * process(): the key (key.h) is the SHA-256 of the model the request
 * goes to (a pinned body.model, else route.model, as the catalog names
 * it) and the body the call stage would send.  A stored answer, still
 * fresh, that the checks downstream accept (host->check_answer(): the
 * validate stage's checks of this request, run on the stored answer) is
 * a hit: the response is set, route.cache is "hit", an attempt marked
 * "cache": "hit" with cost 0 and no usage is appended, the baseline is
 * priced on the answer's tokens, and the job is DONE: nothing after the
 * cache runs (call, validate, escalate).  Anything else is a miss:
 * route.cache is "miss" and the job goes on.
 *
 * route.cache_key is the key of the job's first lookup (an escalation
 * that comes back through the cache looks up again, under the next
 * model, and leaves it).
 *
 * done(): a job that missed and ended with an answer (no error, its last
 * attempt not refused by validate) is stored under the key of its final
 * request and the model that actually answered (route.model, which an
 * escalation or a fallback may have changed), and also under
 * route.cache_key when that differs: a re-run of a cascade then gets the
 * answer it ended with at once, not the refused cheap answer's cost
 * again.  Writes are gathered and go in one transaction every batch=
 * answers or every second, and at the end of the run; a run killed
 * before that loses only those answers from the cache.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "llmroute.h"
#include "key.h"
#include "store.h"
#include "core/lib/jget.h"

#define CACHE_VERSION "0.1.0"
#define FLUSH_SECONDS 1.0 /* write pending answers at least this often */

struct cache {
  const struct llmr_host *host;
  struct store *db;
  double ttl;
  long batch;
  const struct llmr_model *baseline; /* prices a hit's baseline */
  struct store_row *rows;            /* answers waiting to be written */
  int nrows, caprows;
  double last_flush;                 /* host->now() */
  long hits, misses, stored, lost;
  int warned_unrouted;               /* said once: no model to key on */
};

static const struct llmr_option options[] = {
  {"db", LLMR_OPT_PATH, NULL, LLMR_OPT_REQUIRED,
   "the SQLite file of answers (created when missing)"},
  {"ttl", LLMR_OPT_INT, "0", 0,
   "seconds a stored answer is served; 0: it never expires"},
  {"batch", LLMR_OPT_INT, "64", 0,
   "answers written per transaction (also every second)"},
  {"busy_ms", LLMR_OPT_INT, "2000", 0,
   "how long a write waits for another run writing the same file"},
  {NULL, LLMR_OPT_STRING, NULL, 0, NULL}
};

/* ------------------------------------------------------------------
 * Small helpers
 */

/* Borrows obj.  1 when obj[key] is the string s. */
static int json_is(jv obj, const char *key, const char *s)
{
  jv v = jget(obj, key);
  int is = jv_get_kind(v) == JV_KIND_STRING && !strcmp(jv_string_value(v), s);
  jv_free(v);
  return is;
}

/* Borrows obj.  A malloc'd copy of the string obj[key], or NULL. */
static char *json_strdup(jv obj, const char *key)
{
  jv v = jget(obj, key);
  char *s = jv_get_kind(v) == JV_KIND_STRING ?
            strdup(jv_string_value(v)) : NULL;
  jv_free(v);
  return s;
}

/* Wall-clock Unix time: stored rows outlive the run (host->now() is
 * monotonic). */
static double unix_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Borrows request and route.  The catalog name of the model the request
 * goes to (pinned body.model, else route.model), malloc'd; NULL when
 * none is chosen yet. */
static char *target_model(const struct llmr_host *h, jv request, jv route,
                          int answered)
{
  jv body = jget(request, "body");
  char *name = answered ? NULL : json_strdup(body, "model");
  const struct llmr_model *m;

  jv_free(body);
  if(name && (!*name || !strcmp(name, "auto"))) {
    free(name);
    name = NULL;
  }
  /* once answered, route.model is the model that gave the answer */
  if(!name)
    name = json_strdup(route, "model");
  if(!name)
    return NULL;
  /* one key for a model however it is named (a provider's id pins the
     same model as its catalog name) */
  m = h->model(name);
  if(m && strcmp(m->name, name)) {
    free(name);
    name = strdup(m->name);
  }
  return name;
}

/* ------------------------------------------------------------------
 * Writing
 */

static void rows_free(struct cache *c)
{
  for(int i = 0; i < c->nrows; i++)
    store_row_clear(&c->rows[i]);
  c->nrows = 0;
}

/* Write the pending answers in one transaction.  A cache is best
 * effort: answers that cannot be written are dropped with a warning. */
static void flush(struct cache *c)
{
  char err[300];

  c->last_flush = c->host->now();
  if(!c->nrows)
    return;
  if(store_put(c->db, c->rows, c->nrows, err, sizeof(err)) == 0)
    c->stored += c->nrows;
  else {
    c->lost += c->nrows;
    c->host->log(NULL, LLMR_LOG_WARN, "%d answers not cached: %s",
                 c->nrows, err);
  }
  rows_free(c);
}

/* The pending answer of key, or NULL: an answer of this run not written
 * yet is served like a stored one. */
static const struct store_row *pending(const struct cache *c,
                                       const char *key)
{
  for(int i = c->nrows - 1; i >= 0; i--)
    if(!strcmp(c->rows[i].key, key))
      return &c->rows[i];
  return NULL;
}

/* ------------------------------------------------------------------
 * A hit
 */

/* route (consumed) with route.cache_key set to key unless an earlier
 * pass of the job (before an escalation) set it: the key a re-run of
 * the request looks up first. */
static jv first_key(jv route, const char *key)
{
  jv k = jget(route, "cache_key");
  int has = jv_get_kind(k) == JV_KIND_STRING;
  jv_free(k);
  return has ? route : jv_object_set(route, jv_string("cache_key"),
                                     jv_string(key));
}

/* Borrows route and response.  route (consumed) with the hit recorded:
 * route.cache, the model that answered, an attempt marked "cache": "hit"
 * (cost 0, no usage: nothing was billed), cost_usd the sum of what this
 * job's attempts did cost, the baseline priced on the answer's tokens. */
static jv hit_route(struct cache *c, jv route, const struct store_row *row,
                    const char *key, jv response)
{
  const struct llmr_host *h = c->host;
  jv attempts = jget(route, "attempts"), a, usage;
  double cost = 0;
  int n;

  if(jv_get_kind(attempts) != JV_KIND_ARRAY) {
    jv_free(attempts);
    attempts = jv_array();
  }
  n = jv_array_length(jv_copy(attempts));
  for(int i = 0; i < n; i++) {
    jv e = jv_array_get(jv_copy(attempts), i);
    cost += jget_num(e, "cost_usd", 0);
    jv_free(e);
  }
  a = jv_object();
  a = jv_object_set(a, jv_string("model"), jv_string(row->model));
  a = jv_object_set(a, jv_string("provider"),
                    row->provider ? jv_string(row->provider) : jv_null());
  a = jv_object_set(a, jv_string("status"), jv_number(200));
  a = jv_object_set(a, jv_string("cache"), jv_string("hit"));
  a = jv_object_set(a, jv_string("cache_key"), jv_string(key));
  a = jv_object_set(a, jv_string("cached_at"),
                    jv_number((double)(long long)row->created_at));
  a = jv_object_set(a, jv_string("retries"), jv_number(0));
  a = jv_object_set(a, jv_string("latency_ms"), jv_number(0));
  a = jv_object_set(a, jv_string("cost_usd"), jv_number(0));
  attempts = jv_array_append(attempts, a);

  route = jv_object_set(route, jv_string("cache"), jv_string("hit"));
  /* the answer came from no provider request: an earlier attempt's
     request id (before an escalation) is not this answer's */
  route = jv_object_delete(route, jv_string("request_id"));
  route = first_key(route, key);
  route = jv_object_set(route, jv_string("model"), jv_string(row->model));
  route = jv_object_set(route, jv_string("provider"),
                        row->provider ? jv_string(row->provider) :
                                        jv_null());
  {
    const struct llmr_model *m = h->model(row->model);
    if(m && m->tier > 0)
      route = jv_object_set(route, jv_string("tier"), jv_number(m->tier));
  }
  route = jv_object_set(route, jv_string("attempts"), attempts);
  route = jv_object_set(route, jv_string("cost_usd"),
                        jv_number((double)(long long)(cost * 1e10 + 0.5) /
                                  1e10));
  /* what the premium model would have cost for this answer, as call
     prices it, so a hit shows its whole baseline as saved */
  usage = jget(response, "usage");
  if(c->baseline && jv_get_kind(usage) == JV_KIND_OBJECT) {
    struct llmr_usage u;
    double usd;
    memset(&u, 0, sizeof(u));
    u.input_tokens = (long)jget_num(usage, "prompt_tokens", 0);
    u.output_tokens = (long)jget_num(usage, "completion_tokens", 0);
    usd = h->cost(&c->baseline->price, &u);
    if(usd >= 0 && usd < 1e9) {
      jv est = jget(route, "baseline_cost_usd");
      if(jv_get_kind(est) == JV_KIND_NUMBER &&
         !jv_object_has(jv_copy(route), jv_string("baseline_estimate_usd")))
        route = jv_object_set(route, jv_string("baseline_estimate_usd"),
                              est);
      else
        jv_free(est);
      route = jv_object_set(route, jv_string("baseline_cost_usd"),
                            jv_number((double)(long long)(usd * 1e10 +
                                                          0.5) / 1e10));
      route = jv_object_set(route, jv_string("baseline_basis"),
                            jv_string("actual"));
    }
  }
  jv_free(usage);
  return route;
}

/* ------------------------------------------------------------------
 * The stage
 */

static enum llmr_verdict cache_process(void *self, struct llmr_job *job)
{
  struct cache *c = self;
  const struct llmr_host *h = c->host;
  jv req = h->request(job), route = h->route(job), response;
  char key[65], err[300], why[300] = "";
  char *model = target_model(h, req, route, 0);
  struct store_row got;
  const struct store_row *row = NULL;
  int found = 0;
  enum llmr_answer verdict;

  memset(&got, 0, sizeof(got));
  if(!model && !c->warned_unrouted) {
    c->warned_unrouted = 1;
    h->log(job, LLMR_LOG_WARN, "no model chosen yet (no body.model, no "
           "route.model): such requests are not cached; put the cache "
           "after route");
  }
  if(!model || cache_key(req, model, key) != 0) {
    /* nothing chosen to key on: call will say what is wrong */
    free(model);
    jv_free(req);
    jv_free(route);
    return LLMR_NEXT;
  }
  free(model);
  jv_free(req);
  if(jv_get_kind(route) != JV_KIND_OBJECT) {
    jv_free(route);
    route = jv_object();
  }
  row = pending(c, key);
  if(!row) {
    found = store_get(c->db, key, unix_now(), c->ttl, &got, err,
                      sizeof(err));
    if(found < 0)
      h->log(job, LLMR_LOG_WARN, "cache %s", err);
    if(found > 0)
      row = &got;
  }
  if(row) {
    response = h->json_parse(row->response, strlen(row->response));
    if(jv_get_kind(response) == JV_KIND_OBJECT) {
      /* the stored answer must pass this request's checks downstream
         (validate), which may differ from the run that stored it */
      jv before = jv_copy(route);
      h->set_route(job, hit_route(c, route, row, key, response));
      verdict = h->check_answer(job, response, why, sizeof(why));
      if(verdict == LLMR_ANSWER_VALID) {
        jv_free(before);
        store_row_clear(&got);
        h->set_response(job, response);
        c->hits++;
        h->log(job, LLMR_LOG_DEBUG, "hit %.12s", key);
        return LLMR_DONE;
      }
      h->log(job, LLMR_LOG_INFO, "stored answer refused (%s): calling",
             why);
      route = before;
    }
    else
      h->log(job, LLMR_LOG_WARN, "stored answer %.12s is not JSON", key);
    jv_free(response);
  }
  store_row_clear(&got);
  c->misses++;
  route = jv_object_set(route, jv_string("cache"), jv_string("miss"));
  route = first_key(route, key);
  h->set_route(job, route);
  return LLMR_NEXT;
}

/* Borrows route.  1 when the job's last attempt was refused by validate
 * (valid: false): such an answer is never stored. */
static int last_refused(jv route)
{
  jv attempts = jget(route, "attempts"), last, valid;
  int n, refused = 0;

  if(jv_get_kind(attempts) == JV_KIND_ARRAY &&
     (n = jv_array_length(jv_copy(attempts))) > 0) {
    last = jv_array_get(jv_copy(attempts), n - 1);
    valid = jget(last, "valid");
    refused = jv_get_kind(valid) == JV_KIND_FALSE;
    jv_free(valid);
    jv_free(last);
  }
  jv_free(attempts);
  return refused;
}

/* Borrows route.  The cost of the answer kept: its attempt's (the last). */
static double answer_cost(jv route)
{
  jv attempts = jget(route, "attempts"), last;
  double cost = 0;
  int n;

  if(jv_get_kind(attempts) == JV_KIND_ARRAY &&
     (n = jv_array_length(jv_copy(attempts))) > 0) {
    last = jv_array_get(jv_copy(attempts), n - 1);
    cost = jget_num(last, "cost_usd", 0);
    jv_free(last);
  }
  jv_free(attempts);
  return cost;
}

/* Queue the answer response (borrowed) of model for key; flush when
 * the batch is full or a second has passed. */
static void queue(struct cache *c, const char *key, const char *model,
                  jv route, jv response)
{
  struct store_row *r;
  jv text;
  double now;

  if(c->nrows == c->caprows) {
    int cap = c->caprows ? 2 * c->caprows : 16;
    struct store_row *p = realloc(c->rows, (size_t)cap * sizeof(*p));
    if(!p)
      return;
    c->rows = p;
    c->caprows = cap;
  }
  r = &c->rows[c->nrows];
  memset(r, 0, sizeof(*r));
  snprintf(r->key, sizeof(r->key), "%s", key);
  text = jv_dump_string(jv_copy(response), 0);
  r->model = strdup(model);
  r->provider = json_strdup(route, "provider");
  r->response = strdup(jv_string_value(text));
  jv_free(text);
  if(!r->model || !r->response) {
    store_row_clear(r);
    return;
  }
  now = unix_now();
  r->cost_usd = answer_cost(route);
  r->created_at = now;
  r->expires_at = c->ttl > 0 ? now + c->ttl : 0;
  c->nrows++;
  if(c->nrows >= c->batch || c->host->now() - c->last_flush >= FLUSH_SECONDS)
    flush(c);
}

/* Borrows route.  The key the job's last attempt was served from (a hit
 * after an escalation), or "". */
static void hit_key(jv route, char out[65])
{
  jv attempts = jget(route, "attempts"), last = jv_null(), k;
  int n;

  out[0] = '\0';
  if(jv_get_kind(attempts) == JV_KIND_ARRAY &&
     (n = jv_array_length(jv_copy(attempts))) > 0)
    last = jv_array_get(jv_copy(attempts), n - 1);
  k = jget(last, "cache_key");
  if(jv_get_kind(k) == JV_KIND_STRING)
    snprintf(out, 65, "%s", jv_string_value(k));
  jv_free(k);
  jv_free(last);
  jv_free(attempts);
}

static void cache_done(void *self, struct llmr_job *job, const char *line,
                       size_t len)
{
  struct cache *c = self;
  const struct llmr_host *h = c->host;
  jv route = h->route(job), err, req, response, first;
  char key[65], *model = NULL;
  int hit;

  (void)line;
  (void)len;
  /* only a job this stage saw, that ended with an answer validate did
     not refuse */
  first = jget(route, "cache_key");
  hit = json_is(route, "cache", "hit");
  if(jv_get_kind(first) != JV_KIND_STRING ||
     (!hit && !json_is(route, "cache", "miss")) || last_refused(route)) {
    jv_free(first);
    jv_free(route);
    return;
  }
  err = h->error(job);
  response = h->response(job);
  req = h->request(job);
  if(jv_get_kind(err) != JV_KIND_NULL ||
     jv_get_kind(response) != JV_KIND_OBJECT ||
     !(model = target_model(h, req, route, 1)))
    goto out;
  if(hit)
    hit_key(route, key);
  else if(cache_key(req, model, key) != 0)
    goto out;
  /* under the key of the model that answered ... */
  if(!hit)
    queue(c, key, model, route, response);
  /* ... and under the key the request was first looked up with, when an
     escalation or a fallback took it to another model: a re-run then
     gets the answer the pipeline ended with, without paying again for
     the attempts before it */
  if(strcmp(key, jv_string_value(first)))
    queue(c, jv_string_value(first), model, route, response);
out:
  free(model);
  jv_free(first);
  jv_free(err);
  jv_free(response);
  jv_free(req);
  jv_free(route);
}

static void cache_finish(void *self)
{
  struct cache *c = self;

  if(!c)
    return;
  if(c->db) {
    flush(c);
    store_prune(c->db, unix_now());
    c->host->log(NULL, LLMR_LOG_INFO, "%ld hits, %ld misses, %ld answers "
                 "stored%s", c->hits, c->misses, c->stored,
                 c->lost ? " (some could not be written)" : "");
  }
  rows_free(c);
  free(c->rows);
  store_close(c->db);
  free(c);
}

static int cache_init(const struct llmr_host *h, const struct llmr_config *cf,
                      void **self)
{
  struct cache *c = calloc(1, sizeof(*c));
  const char *path = h->opt(cf, "db")->str, *base;
  char err[400];
  long n;
  int nm = 0;

  if(!c)
    return LLMR_ENOMEM;
  c->host = h;
  c->ttl = (double)h->opt(cf, "ttl")->i;
  c->batch = h->opt(cf, "batch")->i;
  if(c->ttl < 0 || c->batch < 1 || h->opt(cf, "busy_ms")->i < 0) {
    h->config_error(cf, "ttl and busy_ms must be >= 0, batch >= 1");
    goto fail;
  }
  c->db = store_open(path, h->opt(cf, "busy_ms")->i, err, sizeof(err));
  if(!c->db) {
    h->config_error(cf, "db=%s: %s", path, err);
    goto fail;
  }
  n = store_prune(c->db, unix_now());
  if(n > 0)
    h->log(NULL, LLMR_LOG_DEBUG, "pruned %ld expired answers", n);
  { /* the baseline as call prices it: `set baseline=`, else the
       dearest tier-3 model */
    const struct llmr_model *ms = h->models(&nm), *dear = NULL;
    for(int i = 0; i < nm; i++)
      if(ms[i].tier == 3 && (!dear || ms[i].price.input + ms[i].price.output
                             > dear->price.input + dear->price.output))
        dear = &ms[i];
    base = h->setting("baseline");
    c->baseline = base && h->model(base) ? h->model(base) : dear;
  }
  c->last_flush = h->now();
  *self = c;
  return LLMR_OK;
fail:
  cache_finish(c);
  return LLMR_ERR;
}

static const struct llmr_stage cache_stage = {
  LLMR_STAGE_VERSION,
  .name = "cache",
  .version = CACHE_VERSION,
  .description = "serve identical requests from a SQLite response cache",
  .options = options,
  .init = cache_init,
  .process = cache_process,
  .finish = cache_finish,
  .done = cache_done
};

LLMR_EXPORT const struct llmr_stage *llmr_stage_entry(unsigned host_major,
                                                     unsigned host_minor)
{
  (void)host_minor;
  if(host_major != LLMR_ABI_MAJOR)
    return NULL;
  return &cache_stage;
}
