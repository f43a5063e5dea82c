/*
 * outcomes.c - reading recorded outcomes (the format: llmroute(1),
 * RECORDED OUTCOMES; evalconv.c writes them) for `llmroute eval` and
 * `llmroute train --outcomes`.
 *
 * Per line: the custom_id (or "line-N"), the benchmark when given, and
 * per model its score in [0, 1] and recorded cost; a model a line does
 * not record has score and cost NAN there.  The request part of a line
 * (the line without "outcomes" and "benchmark") can be written out for a
 * pipeline to read, and a caller's function sees every line (the
 * trainer keeps the text, eval the router's predictions).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "outcomes.h"

void outcomes_free(struct outcomes *o)
{
  size_t i;
  int m;

  for(i = 0; i < o->n; i++) {
    free(o->rows[i].id);
    free(o->rows[i].bench);
    free(o->rows[i].score);
    free(o->rows[i].cost);
    free(o->rows[i].text);
    free(o->rows[i].pred);
  }
  free(o->rows);
  for(m = 0; m < o->nmodels; m++)
    free(o->models[m]);
  strmap_free(&o->model_ix);
  strmap_free(&o->row_ix);
  memset(o, 0, sizeof(*o));
}

/* The index of model name, added when new; -1 when full. */
static int model_index(struct outcomes *o, const char *name)
{
  long i = strmap_get(&o->model_ix, name);

  if(i >= 0)
    return (int)i;
  if(o->nmodels == OUTCOMES_MAX_MODELS)
    return -1;
  o->models[o->nmodels] = strdup(name);
  if(!o->models[o->nmodels] ||
     strmap_put(&o->model_ix, name, o->nmodels) == -2)
    return -1;
  return o->nmodels++;
}

/* One line (v consumed) into a new row.  0, or -1 with err set. */
static int add_row(struct outcomes *o, jv v, long lineno,
                   const struct outcomes_opts *opt, char *err,
                   size_t errlen)
{
  struct orow *r;
  jv id = json_get(v, "custom_id"), bench = json_get(v, "benchmark");
  jv outc = json_get(v, "outcomes");
  char gen[64];
  int it, i;

  if(jv_get_kind(outc) != JV_KIND_OBJECT || !jv_object_length(jv_copy(outc))) {
    snprintf(err, errlen, "no \"outcomes\" object (model -> {score, "
             "cost_usd, ...})");
    goto fail;
  }
  if(o->n == o->cap) {
    size_t cap = o->cap ? o->cap * 2 : 1024;
    struct orow *rows = realloc(o->rows, cap * sizeof(*rows));
    if(!rows) {
      snprintf(err, errlen, "out of memory");
      goto fail;
    }
    o->rows = rows;
    o->cap = cap;
  }
  r = &o->rows[o->n];
  memset(r, 0, sizeof(*r));
  snprintf(gen, sizeof(gen), "line-%ld", lineno);
  r->id = strdup(jv_get_kind(id) == JV_KIND_STRING ? jv_string_value(id)
                                                   : gen);
  r->bench = jv_get_kind(bench) == JV_KIND_STRING
             ? strdup(jv_string_value(bench)) : NULL;
  r->score = malloc(OUTCOMES_MAX_MODELS * sizeof(float));
  r->cost = malloc(OUTCOMES_MAX_MODELS * sizeof(float));
  if(!r->id || !r->score || !r->cost) {
    snprintf(err, errlen, "out of memory");
    goto fail_row;
  }
  for(i = 0; i < OUTCOMES_MAX_MODELS; i++)
    r->score[i] = r->cost[i] = NAN;
  for(it = jv_object_iter(outc); jv_object_iter_valid(outc, it);
      it = jv_object_iter_next(outc, it)) {
    jv k = jv_object_iter_key(outc, it), m = jv_object_iter_value(outc, it);
    int mi = model_index(o, jv_string_value(k));
    double sc = json_num(m, "score", NAN);
    double c = json_num(m, "cost_usd", NAN);
    jv_free(k);
    jv_free(m);
    if(mi < 0) {
      snprintf(err, errlen, "more than %d models", OUTCOMES_MAX_MODELS);
      goto fail_row;
    }
    if(isnan(sc) || sc < 0 || sc > 1) {
      snprintf(err, errlen, "outcomes.%s: \"score\" must be a number in "
               "[0, 1]", o->models[mi]);
      goto fail_row;
    }
    r->score[mi] = (float)sc;
    r->cost[mi] = (float)(isnan(c) || c < 0 ? 0 : c);
  }
  if(strmap_put(&o->row_ix, r->id, (long)o->n) != -1) {
    snprintf(err, errlen, "custom_id %s again (ids must be unique)", r->id);
    goto fail_row;
  }
  v = jv_object_delete(jv_object_delete(v, jv_string("outcomes")),
                       jv_string("benchmark"));
  if(jv_get_kind(id) != JV_KIND_STRING)
    v = jv_object_set(v, jv_string("custom_id"), jv_string(r->id));
  if(opt && opt->row && opt->row(opt->ctx, o, r, v, err, errlen)) {
    strmap_put(&o->row_ix, r->id, -1);
    goto fail_row;
  }
  o->n++;
  jv_free(id);
  jv_free(bench);
  jv_free(outc);
  jv_free(v);
  return 0;
fail_row:
  free(r->id);
  free(r->bench);
  free(r->score);
  free(r->cost);
  free(r->text);
  free(r->pred);
fail:
  jv_free(id);
  jv_free(bench);
  jv_free(outc);
  jv_free(v);
  return -1;
}

int outcomes_load(const char *path, struct outcomes *o,
                  const struct outcomes_opts *opt, char *err, size_t errlen)
{
  FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
  char *line = NULL, msg[512];
  size_t cap = 0;
  ssize_t len;
  long lineno = 0;
  int rc = 0;

  memset(o, 0, sizeof(*o));
  strmap_init(&o->model_ix);
  strmap_init(&o->row_ix);
  if(!f) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return -1;
  }
  while((len = getline(&line, &cap, f)) >= 0) {
    jv v;
    lineno++;
    if(strspn(line, " \t\r\n") == (size_t)len)
      continue;
    v = json_parse(line, (size_t)len);
    if(jv_get_kind(v) != JV_KIND_OBJECT) {
      snprintf(err, errlen, "%s:%ld: not a JSON object", path, lineno);
      jv_free(v);
      rc = -1;
      break;
    }
    if(add_row(o, v, lineno, opt, msg, sizeof(msg))) {
      snprintf(err, errlen, "%s:%ld: %s", path, lineno, msg);
      rc = -1;
      break;
    }
  }
  free(line);
  if(f != stdin)
    fclose(f);
  if(!rc && !o->n) {
    snprintf(err, errlen, "%s: no recorded outcomes", path);
    rc = -1;
  }
  return rc;
}

double outcomes_mean_cost(const struct outcomes *o, int m)
{
  double sum = 0;
  size_t i, n = 0;

  for(i = 0; i < o->n; i++)
    if(!isnan(o->rows[i].cost[m])) {
      sum += o->rows[i].cost[m];
      n++;
    }
  return n ? sum / (double)n : 0;
}

int outcomes_baseline(const struct outcomes *o, const char *name)
{
  double best = -1;
  int m, pick = -1;

  if(name && *name)
    return (int)strmap_get(&o->model_ix, name);
  for(m = 0; m < o->nmodels; m++) {
    double c = outcomes_mean_cost(o, m);
    if(c > best) {
      best = c;
      pick = m;
    }
  }
  return pick;
}
