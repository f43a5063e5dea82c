/*
 * report.c - `llmroute report [--format F] [--by B] [--html FILE] [FILE...]`:
 * summarise result lines.
 *
 * Reads result lines (llmroute(1), RESULT LINES) from the FILEs, or
 * stdin when none or "-", and prints per task and per model (or what
 * --by names): requests, errors, tokens in and out, cost, baseline cost,
 * savings and latency percentiles, then the totals, the retry, fallback,
 * escalation and validation-failure rates, errors by code, cache hits and
 * the tiers that answered.
 *
 * A line is "actual" when a call was made (route.attempts is non-empty or
 * a response is present): its cost is route.cost_usd (else the sum of the
 * attempts' cost_usd) and its tokens the attempts' usage; per model (and
 * per provider) each attempt counts on the model that answered it, the
 * request itself on its final model.  Otherwise it is an audit plan,
 * "estimated": route.expected_cost_usd and route.estimate
 * {input_tokens, output_tokens}.  The titles say which.
 * The baseline cost of an answered line is what its actual tokens cost on
 * the baseline model (route.baseline_basis "actual", written by call),
 * else the pre-call estimate; the header says how many lines are which.
 * An error line counts as a request and an error; what its attempts
 * spent counts as cost, its baseline does not (nothing was delivered).
 *
 * A custom_id seen again later (a resumed run appends its results after
 * the interrupted ones) is one request: the last record decides it.  The
 * earlier, superseded records add no request, error or latency, but what
 * they spent was spent: it stays in the cost, and the report says how
 * much of it they hold.  --all counts every record instead.
 * Rows are sorted by name, so the output is deterministic.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "report.h"


/* --- interned strings ------------------------------------------------------
 * Names repeat on every line (a task, a model); one copy each, compared
 * by pointer.  Each entry also holds the index of the last record with
 * that custom_id, which is how a superseded record is found. */

struct strtab {
  char **keys;
  size_t *last;
  size_t n, cap;
};

static struct strtab names, cids;

static uint64_t hash_str(const char *s, size_t len)
{
  uint64_t h = 1469598103934665603ULL;
  size_t i;

  for(i = 0; i < len; i++)
    h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
  return h;
}

static int strtab_grow(struct strtab *t)
{
  size_t cap = t->cap ? t->cap * 2 : 256, i;
  char **keys = calloc(cap, sizeof(*keys));
  size_t *last = calloc(cap, sizeof(*last));

  if(!keys || !last) {
    free(keys);
    free(last);
    return -1;
  }
  for(i = 0; i < t->cap; i++) {
    size_t j;
    if(!t->keys[i])
      continue;
    j = hash_str(t->keys[i], strlen(t->keys[i])) & (cap - 1);
    while(keys[j])
      j = (j + 1) & (cap - 1);
    keys[j] = t->keys[i];
    last[j] = t->last[i];
  }
  free(t->keys);
  free(t->last);
  t->keys = keys;
  t->last = last;
  t->cap = cap;
  return 0;
}

/* The one copy of s[0..len) in t, added when new (*slot: its entry);
 * NULL when out of memory. */
static const char *intern(struct strtab *t, const char *s, size_t len,
                          size_t *slot)
{
  size_t j;

  if(2 * (t->n + 1) > t->cap && strtab_grow(t) < 0)
    return NULL;
  j = hash_str(s, len) & (t->cap - 1);
  while(t->keys[j]) {
    if(!strncmp(t->keys[j], s, len) && t->keys[j][len] == '\0')
      break;
    j = (j + 1) & (t->cap - 1);
  }
  if(!t->keys[j]) {
    char *k = malloc(len + 1);
    if(!k)
      return NULL;
    memcpy(k, s, len);
    k[len] = '\0';
    t->keys[j] = k;
    t->last[j] = SIZE_MAX;
    t->n++;
  }
  if(slot)
    *slot = j;
  return t->keys[j];
}

static void strtab_free(struct strtab *t)
{
  size_t i;

  for(i = 0; i < t->cap; i++)
    free(t->keys[i]);
  free(t->keys);
  free(t->last);
  memset(t, 0, sizeof(*t));
}

/* The interned string v (borrowed), or dflt interned. */
static const char *name_of(jv v, const char *dflt)
{
  if(jv_get_kind(v) == JV_KIND_STRING)
    return intern(&names, jv_string_value(v),
                  (size_t)jv_string_length_bytes(jv_copy(v)), NULL);
  return intern(&names, dflt, strlen(dflt), NULL);
}

/* The interned string obj[key] (borrowed obj), or dflt. */
static const char *field_name(jv obj, const char *key, const char *dflt)
{
  jv v = json_get(obj, key);
  const char *s = name_of(v, dflt);

  jv_free(v);
  return s;
}

/* --- reading ----------------------------------------------------------- */

#define GROW(p, n, cap, init)                                             \
  ((n) < (cap) ? 0 : grow_array((void **)&(p), &(cap), sizeof(*(p)), init))

static int grow_array(void **p, size_t *cap, size_t size, size_t init)
{
  size_t nc = *cap ? *cap * 2 : init;
  void *np = realloc(*p, nc * size);

  if(!np)
    return -1;
  *p = np;
  *cap = nc;
  return 0;
}

/* 1 when v (borrowed) is true. */
static int is_true(jv v)
{
  return jv_get_kind(v) == JV_KIND_TRUE;
}

/* Read route.attempts (borrowed) into rp->atts for r. */
static int read_attempts(struct report *rp, struct rep_rec *r, jv attempts)
{
  int i, n = jv_array_length(jv_copy(attempts));
  double sum = 0;

  r->att0 = rp->natts;
  for(i = 0; i < n; i++) {
    jv a = jv_array_get(jv_copy(attempts), i);
    jv u = json_get(a, "usage"), hedge = json_get(a, "hedge");
    jv valid = json_get(a, "valid");
    struct rep_att *at;
    double status = json_num(a, "status", 0);

    if(GROW(rp->atts, rp->natts, rp->capa, 256) < 0) {
      jv_free(a), jv_free(u), jv_free(hedge), jv_free(valid);
      return LLMR_ENOMEM;
    }
    at = &rp->atts[rp->natts++];
    at->tokens_in = json_num(u, "input_tokens", 0) +
                    json_num(u, "cached_tokens", 0) +
                    json_num(u, "cache_write_tokens", 0);
    at->tokens_out = json_num(u, "output_tokens", 0);
    at->cost = json_num(a, "cost_usd", 0);
    at->model = field_name(a, "model", "(none)");
    at->provider = field_name(a, "provider", "(none)");
    if(!at->model || !at->provider) {
      jv_free(a), jv_free(u), jv_free(hedge), jv_free(valid);
      return LLMR_ENOMEM;
    }
    r->tokens_in += at->tokens_in;
    r->tokens_out += at->tokens_out;
    sum += at->cost;
    if(json_num(a, "retries", 0) > 0)
      r->retried = 1;
    if(jv_get_kind(valid) == JV_KIND_FALSE)
      r->invalid = 1;
    /* a hedge runs alongside the call it hedges: its time is not added;
       a call that failed and was followed by another is a fallback */
    if(!is_true(hedge)) {
      double ms = json_num(a, "latency_ms", -1);
      if(ms >= 0) {
        r->latency += ms;
        r->has_lat = 1;
      }
      if(i + 1 < n && (status < 200 || status > 299))
        r->fallback = 1;
    }
    jv_free(a), jv_free(u), jv_free(hedge), jv_free(valid);
  }
  r->natts = n;
  r->cost = sum;
  return LLMR_OK;
}

/* Account one parsed result line (consumed). */
static int read_record(struct report *rp, jv line)
{
  jv route, attempts, resp, err, v;
  struct rep_rec *r;
  size_t slot;
  int rc = LLMR_OK, n = 0;

  if(jv_get_kind(line) != JV_KIND_OBJECT) {
    jv_free(line);
    rp->unreadable++;
    return LLMR_OK;
  }
  if(GROW(rp->recs, rp->nrecs, rp->capr, 1024) < 0) {
    jv_free(line);
    return LLMR_ENOMEM;
  }
  r = &rp->recs[rp->nrecs];
  memset(r, 0, sizeof(*r));
  route = json_get(line, "route");
  attempts = json_get(route, "attempts");
  resp = json_get(line, "response");
  err = json_get(line, "error");
  if(jv_get_kind(attempts) == JV_KIND_ARRAY)
    n = jv_array_length(jv_copy(attempts));
  r->actual = n > 0 || jv_get_kind(resp) == JV_KIND_OBJECT;
  r->err = jv_get_kind(err) != JV_KIND_NULL;
  r->code = r->err ? field_name(err, "code", "(unknown)")
                   : field_name(jv_null(), "", "(ok)");
  r->task = field_name(route, "task", "(none)");
  r->model = field_name(route, "model", "(none)");
  r->provider = field_name(route, "provider", "(none)");
  v = json_get(line, "custom_id");
  r->cid = jv_get_kind(v) == JV_KIND_STRING
           ? intern(&cids, jv_string_value(v),
                    (size_t)jv_string_length_bytes(jv_copy(v)), &slot)
           : NULL;
  jv_free(v);
  if(!r->code || !r->task || !r->model || !r->provider) {
    rc = LLMR_ENOMEM;
    goto out;
  }
  if(r->cid) {
    /* the last record of a custom_id decides the request */
    if(cids.last[slot] != SIZE_MAX) {
      struct rep_rec *old = &rp->recs[cids.last[slot]];
      old->superseded = 1;
      rp->nsuperseded++;
      rp->superseded_lineids += !strncmp(r->cid, "line-", 5);
      rp->superseded_cost += old->cost;
    }
    cids.last[slot] = rp->nrecs;
  }
  r->tier = (int)json_num(route, "tier", 0);
  r->escalated = json_num(route, "escalations", 0) > 0;
  v = json_get(route, "cache");
  if(jv_get_kind(v) == JV_KIND_STRING)
    r->cache = !strcmp(jv_string_value(v), "hit") ? 1
               : !strcmp(jv_string_value(v), "miss") ? 2 : 0;
  jv_free(v);
  v = json_get(route, "tags");
  if(jv_get_kind(v) == JV_KIND_STRING)
    v = jv_array_append(jv_array(), v);
  r->tag0 = rp->ntags;
  if(jv_get_kind(v) == JV_KIND_ARRAY) {
    int i, nt = jv_array_length(jv_copy(v));
    for(i = 0; i < nt; i++) {
      jv t = jv_array_get(jv_copy(v), i);
      if(jv_get_kind(t) == JV_KIND_STRING) {
        const char *s = name_of(t, "");
        if(!s || GROW(rp->tags, rp->ntags, rp->capt, 256) < 0) {
          jv_free(t);
          jv_free(v);
          rc = LLMR_ENOMEM;
          goto out;
        }
        rp->tags[rp->ntags++] = s;
        r->ntags++;
      }
      jv_free(t);
    }
  }
  jv_free(v);
  if(r->actual) {
    jv c = json_get(route, "cost_usd");
    if(n > 0 && (rc = read_attempts(rp, r, attempts)) != LLMR_OK) {
      jv_free(c);
      goto out;
    }
    if(jv_get_kind(c) == JV_KIND_NUMBER)
      r->cost = jv_number_value(c);
    jv_free(c);
    rp->actual++;
  }
  else {
    jv est = json_get(route, "estimate");
    if(!r->err) {
      r->tokens_in = json_num(est, "input_tokens", 0);
      r->tokens_out = json_num(est, "output_tokens", 0);
      r->cost = json_num(route, "expected_cost_usd", 0);
    }
    jv_free(est);
    rp->estimated++;
  }
  if(!r->err) {
    jv basis = json_get(route, "baseline_basis");
    r->baseline = json_num(route, "baseline_cost_usd", 0);
    r->base_actual = jv_get_kind(basis) == JV_KIND_STRING &&
                     !strcmp(jv_string_value(basis), "actual");
    jv_free(basis);
  }
  rp->nrecs++;
out:
  jv_free(route);
  jv_free(attempts);
  jv_free(resp);
  jv_free(err);
  jv_free(line);
  return rc;
}

/* The end of the JSON value at p (after leading blanks), or NULL when it
 * is cut short.  Brackets are only counted, not checked: json_parse()
 * checks what is kept. */
static const char *skip_value(const char *p, const char *end)
{
  int depth = 0;

  while(p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
    p++;
  if(p == end)
    return NULL;
  if(*p != '{' && *p != '[' && *p != '"') {
    while(p < end && *p != ',' && *p != '}' && *p != ']' && *p != ' ')
      p++;
    return p;
  }
  for(; p < end; p++) {
    if(*p == '"') {
      /* to the next quote not escaped: an odd run of backslashes
         before it escapes it */
      for(;;) {
        const char *q = memchr(p + 1, '"', (size_t)(end - p - 1)), *b;
        if(!q)
          return NULL;
        for(b = q; b[-1] == '\\'; b--)
          ;
        p = q;
        if(!((q - b) & 1))
          break;
      }
      if(!depth)
        return p + 1;
    }
    else if(*p == '{' || *p == '[')
      depth++;
    else if((*p == '}' || *p == ']') && --depth == 0)
      return p + 1;
  }
  return NULL;
}

/* The line as an object of the keys the report reads, "response" only
 * as {} or null: the answer body is most of a result line's bytes, and
 * not parsing it halves the time.  jv_invalid() when the line is no
 * plain object; the caller then parses it whole for the message. */
static jv parse_result(const char *s, size_t len)
{
  const char *p = s, *end = s + len, *k, *v;
  jv o = jv_object();

  while(p < end && *p == ' ')
    p++;
  if(p == end || *p++ != '{')
    goto bad;
  for(;;) {
    while(p < end && (*p == ' ' || *p == ','))
      p++;
    if(p < end && *p == '}') {
      for(p++; p < end && *p == ' '; p++)
        ;
      if(p == end)
        return o;
      goto bad;
    }
    k = p;
    if(p == end || *p != '"' || !(p = skip_value(p, end)))
      goto bad;
    while(p < end && *p == ' ')
      p++;
    if(p == end || *p++ != ':')
      goto bad;
    v = p;
    if(!(p = skip_value(p, end)))
      goto bad;
    while(v < p && *v == ' ')
      v++;
    if(!strncmp(k, "\"response\"", 10))
      o = jv_object_set(o, jv_string("response"),
                        *v == '{' ? jv_object() : jv_null());
    else if(!strncmp(k, "\"route\"", 7) || !strncmp(k, "\"error\"", 7) ||
            !strncmp(k, "\"custom_id\"", 11)) {
      jv val = json_parse(v, (size_t)(p - v));
      if(!jv_is_valid(val)) {
        jv_free(val);
        goto bad;
      }
      o = jv_object_set(o, jv_string(k[1] == 'r' ? "route" : k[1] == 'e'
                                     ? "error" : "custom_id"), val);
    }
  }
bad:
  jv_free(o);
  return jv_invalid();
}

/* Read result lines from f (named name in messages) into rp. */
static int read_file(struct report *rp, FILE *f, const char *name)
{
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  long lineno = 0;
  int rc = LLMR_OK;

  while((len = getline(&line, &cap, f)) >= 0) {
    jv v;
    size_t k = (size_t)len;
    lineno++;
    while(k && (line[k - 1] == '\n' || line[k - 1] == '\r' ||
                line[k - 1] == ' '))
      k--;
    if(!k)
      continue;
    line[k] = '\0';
    v = parse_result(line, k);
    if(!jv_is_valid(v))
      v = json_parse(line, (size_t)k);
    if(!jv_is_valid(v)) {
      jv_free(v);
      if(rp->unreadable++ < 5)
        fprintf(stderr, "llmroute: report: %s:%ld: not a JSON line, "
                "skipped\n", name, lineno);
      continue;
    }
    rc = read_record(rp, v);
    if(rc != LLMR_OK)
      break;
  }
  free(line);
  if(ferror(f)) {
    fprintf(stderr, "llmroute: report: %s: read error: %s\n", name,
            strerror(errno));
    return LLMR_ERR;
  }
  return rc;
}

/* The result lines of one input, path "-" for stdin: a stream to read
 * and close with report_close_input().  NULL (with a message) when it
 * cannot be opened.  Every input is opened here, so another kind of
 * input becomes one more branch that yields result lines. */
/* stdin for "-"; a file of result lines or a log stage's SQLite file
 * (reportdb.c), or NULL after saying why on stderr. */
static FILE *report_open_input(const char *path)
{
  return strcmp(path, "-") ? report_open(path) : stdin;
}

static void report_close_input(FILE *f)
{
  if(f && f != stdin)
    fclose(f);
}

/* --- adding up ----------------------------------------------------------- */

/* The row called name (interned) in t, created when missing; NULL when
 * out of memory. */
static struct rep_row *table_row(struct rep_table *t, const char *name)
{
  size_t i;
  struct rep_row *r;

  for(i = 0; i < t->n; i++)
    if(t->rows[i].name == name)
      return &t->rows[i];
  if(GROW(t->rows, t->n, t->cap, 16) < 0)
    return NULL;
  r = &t->rows[t->n++];
  memset(r, 0, sizeof(*r));
  r->name = name;
  return r;
}

/* Add record rec to row: tokens and cost as given (what it spent there),
 * the request itself only when it is not superseded. */
static int row_put(struct rep_row *row, const struct rep_rec *rec,
                   double tin, double tout, double cost, int request)
{
  row->tokens_in += tin;
  row->tokens_out += tout;
  row->cost += cost;
  if(!request)
    return LLMR_OK;
  if(rec->superseded) {
    row->superseded++;
    return LLMR_OK;
  }
  row->requests++;
  row->errors += rec->err;
  row->baseline += rec->baseline;
  row->retried += rec->retried;
  row->fallback += rec->fallback;
  row->escalated += rec->escalated;
  row->invalid += rec->invalid;
  row->cache_hit += rec->cache == 1;
  row->cache_miss += rec->cache == 2;
  if(rec->has_lat) {
    if(GROW(row->lat, row->nlat, row->latcap, 16) < 0)
      return LLMR_ENOMEM;
    row->lat[row->nlat++] = rec->latency;
  }
  return LLMR_OK;
}

/* Add rec to the row called name of t. */
static int table_put(struct rep_table *t, const char *name,
                     const struct rep_rec *rec)
{
  struct rep_row *row = table_row(t, name);

  if(!row)
    return LLMR_ENOMEM;
  return row_put(row, rec, rec->tokens_in, rec->tokens_out, rec->cost, 1);
}

/* Per model or provider (which 0 or 1): each attempt on its own, the
 * request and what the attempts do not show on the final one. */
static int table_put_attempts(struct report *rp, struct rep_table *t,
                              const struct rep_rec *rec, int which)
{
  struct rep_row *row;
  double sum = 0, tin = rec->tokens_in, tout = rec->tokens_out;
  int i;

  for(i = 0; i < rec->natts; i++) {
    const struct rep_att *a = &rp->atts[rec->att0 + i];
    row = table_row(t, which ? a->provider : a->model);
    if(!row)
      return LLMR_ENOMEM;
    row_put(row, rec, a->tokens_in, a->tokens_out, a->cost, 0);
    sum += a->cost;
    tin = tout = 0;
  }
  row = table_row(t, which ? rec->provider : rec->model);
  if(!row)
    return LLMR_ENOMEM;
  return row_put(row, rec, tin, tout, rec->cost - sum, 1);
}

static int dbl_cmp(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;

  return x < y ? -1 : x > y;
}

static int row_cmp(const void *a, const void *b)
{
  return strcmp(((const struct rep_row *)a)->name,
                ((const struct rep_row *)b)->name);
}

static void row_sort(struct rep_row *r)
{
  if(r->nlat > 1)
    qsort(r->lat, r->nlat, sizeof(*r->lat), dbl_cmp);
}

/* Every record into the totals and every grouping. */
static int add_up(struct report *rp)
{
  size_t i, k;
  int rc = LLMR_OK;
  const char *none = intern(&names, "(none)", 6, NULL);

  if(!none)
    return LLMR_ENOMEM;
  rp->total.name = "total";
  for(i = 0; i < rp->nrecs && rc == LLMR_OK; i++) {
    const struct rep_rec *r = &rp->recs[i];
    int t;

    rc = row_put(&rp->total, r, r->tokens_in, r->tokens_out, r->cost, 1);
    if(rc == LLMR_OK)
      rc = table_put(&rp->by[BY_TASK], r->task, r);
    if(rc == LLMR_OK)
      rc = table_put(&rp->by[BY_CODE], r->code, r);
    if(rc == LLMR_OK)
      rc = table_put_attempts(rp, &rp->by[BY_MODEL], r, 0);
    if(rc == LLMR_OK)
      rc = table_put_attempts(rp, &rp->by[BY_PROVIDER], r, 1);
    /* a request with two tags is a request of each */
    if(rc == LLMR_OK && !r->ntags)
      rc = table_put(&rp->by[BY_TAG], none, r);
    for(t = 0; rc == LLMR_OK && t < r->ntags; t++)
      rc = table_put(&rp->by[BY_TAG], rp->tags[r->tag0 + t], r);
    if(!r->superseded) {
      rp->baseline_actual += r->base_actual;
      /* an audit plan's tier was planned, not answered at */
      if(!r->err && r->actual)
        rp->tier[r->tier >= 1 && r->tier <= 3 ? r->tier : 0]++;
    }
  }
  row_sort(&rp->total);
  for(k = 0; k < BY_COUNT; k++) {
    struct rep_table *t = &rp->by[k];
    if(t->n > 1)
      qsort(t->rows, t->n, sizeof(*t->rows), row_cmp);
    for(i = 0; i < t->n; i++)
      row_sort(&t->rows[i]);
  }
  return rc;
}

static void report_free(struct report *rp)
{
  size_t k, i;

  for(k = 0; k < BY_COUNT; k++) {
    for(i = 0; i < rp->by[k].n; i++)
      free(rp->by[k].rows[i].lat);
    free(rp->by[k].rows);
  }
  free(rp->total.lat);
  free(rp->recs);
  free(rp->tags);
  free(rp->atts);
  strtab_free(&names);
  strtab_free(&cids);
}

double rep_pct(const double *a, size_t n, double q)
{
  size_t k;

  if(!n)
    return -1;
  k = (size_t)ceil(q / 100.0 * (double)n);
  return a[k ? k - 1 : 0];
}

double rep_savings(const struct rep_row *r, int *none)
{
  *none = !(r->baseline > 0);
  return *none ? 0 : 100.0 * (r->baseline - r->cost) / r->baseline;
}

/* --- the command --------------------------------------------------------- */

static void usage(FILE *f)
{
  fprintf(f,
    "usage: llmroute report [--format table|json|csv|markdown] [--json]\n"
    "                       [--by task|model|provider|tag|code]... "
    "[--all]\n"
    "                       [--html FILE] [FILE...]\n"
    "Summarise llmroute result lines (stdin when no FILE) per task and "
    "per model\n(or per --by, repeatable or comma-separated): requests, "
    "errors, tokens, cost,\nbaseline cost, savings, latency p50/p95/p99; "
    "retry, fallback, escalation and\nvalidation-failure counts, errors "
    "by code, cache hits, tiers that answered.\nA custom_id seen again "
    "(a resumed run) is one request, its last record\ndecides; --all "
    "counts every record.  --html FILE also writes a self-contained\n"
    "page (stdout then stays empty unless --format or --json is given).\n");
}

/* Set want[] from a --by value ("task,model"); -1 on an unknown name. */
static int parse_by(const char *s, int *want)
{
  while(*s) {
    size_t len = strcspn(s, ","), k;
    for(k = 0; k < BY_COUNT; k++)
      if(strlen(rep_by_name[k]) == len && !strncmp(s, rep_by_name[k], len))
        break;
    if(k == BY_COUNT)
      return -1;
    want[k] = 1;
    s += len;
    if(*s == ',')
      s++;
  }
  return 0;
}

/* `llmroute report ...`; argv[0] is "report".  Exit status: 0, 1 when a
 * file could not be read or written, 2 on a usage error. */
int report_main(int argc, char **argv)
{
  static struct report rp;
  const char *kind, *format = NULL, *html = NULL;
  const char *files[argc + 1];
  int want[BY_COUNT] = {0}, any_by = 0, all = 0;
  int i, nfiles = 0, status = 0, rc = LLMR_OK;
  FILE *out = stdout;

  memset(&rp, 0, sizeof(rp));
  for(i = 1; i < argc; i++) {
    const char *a = argv[i];
    if(!strcmp(a, "--json"))
      format = "json";
    else if(!strcmp(a, "--all"))
      all = 1;
    else if(!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      return 0;
    }
    else if(!strcmp(a, "--format") || !strcmp(a, "--by") ||
            !strcmp(a, "--html")) {
      if(i + 1 >= argc) {
        fprintf(stderr, "llmroute: report: %s needs a value\n", a);
        return 2;
      }
      i++;
      if(a[2] == 'f') {
        format = argv[i];
        if(strcmp(format, "table") && strcmp(format, "json") &&
           strcmp(format, "csv") && strcmp(format, "markdown")) {
          fprintf(stderr, "llmroute: report: --format '%s': table, json, "
                  "csv or markdown\n", format);
          return 2;
        }
      }
      else if(a[2] == 'b') {
        any_by = 1;
        if(parse_by(argv[i], want) < 0) {
          fprintf(stderr, "llmroute: report: --by '%s': task, model, "
                  "provider, tag or code\n", argv[i]);
          return 2;
        }
      }
      else
        html = argv[i];
    }
    else if(a[0] == '-' && a[1]) {
      fprintf(stderr, "llmroute: report: unknown option '%s'\n", a);
      usage(stderr);
      return 2;
    }
    else
      files[nfiles++] = a;
  }
  if(!any_by)
    want[BY_TASK] = want[BY_MODEL] = 1;
  if(!nfiles)
    files[nfiles++] = "-";
  for(i = 0; i < nfiles && rc != LLMR_ENOMEM; i++) {
    FILE *f = report_open_input(files[i]);
    if(!f) {
      status = 1;
      continue;
    }
    rc = read_file(&rp, f, f == stdin ? "(stdin)" : files[i]);
    if(rc != LLMR_OK)
      status = 1;
    report_close_input(f);
  }
  if(all) {
    size_t k;
    for(k = 0; k < rp.nrecs; k++)
      rp.recs[k].superseded = 0;
    rp.nsuperseded = 0;
    rp.superseded_cost = 0;
  }
  else if(rp.superseded_lineids)
    /* "line-N" is made from the line number: two runs of different
       inputs without custom_ids share them */
    fprintf(stderr, "llmroute: report: %ld superseded records have "
            "generated ids (line-N); if the files are runs of different "
            "inputs, --all counts every record\n", rp.superseded_lineids);
  if(rc != LLMR_ENOMEM)
    rc = add_up(&rp);

  kind = rp.actual && rp.estimated ? "mixed actual and estimated"
         : rp.actual ? "actual" : "estimated";
  if(rc == LLMR_ENOMEM)
    ;
  else if(!format && html)
    ;
  else if(!format || !strcmp(format, "table")) {
    int k;
    print_head(out, &rp, kind);
    for(k = 0; k < BY_COUNT; k++)
      if(want[k])
        print_table(out, &rp, k, kind);
  }
  else if(!strcmp(format, "json"))
    print_json(out, &rp, want, kind);
  else if(!strcmp(format, "csv"))
    print_csv(out, &rp, want);
  else
    print_markdown(out, &rp, want, kind);
  if(rc != LLMR_ENOMEM && html) {
    FILE *h = fopen(html, "w");
    int bad = !h || report_html(&rp, kind, h) < 0;
    if((h && fclose(h) != 0) || bad) {
      fprintf(stderr, "llmroute: report: %s: %s\n", html, strerror(errno));
      status = 1;
    }
  }
  report_free(&rp);
  if(fflush(out) != 0 || ferror(out)) {
    fprintf(stderr, "llmroute: report: write error: %s\n", strerror(errno));
    return 1;
  }
  if(rc == LLMR_ENOMEM) {
    fprintf(stderr, "llmroute: report: out of memory\n");
    return 1;
  }
  return status;
}
