/*
 * eval.c - `llmroute eval`: run a pipeline on recorded outcomes and say
 * what its routing kept of the baseline's quality, and at what cost.
 *
 *   llmroute eval -p PIPELINE [--catalog CAT.json] [--baseline MODEL]
 *                 [--strong MODEL] [--weak MODEL] [--router ROUTER]
 *                 [--json] [--svg FILE] [-j N] OUTCOMES.jsonl
 *
 * The pipeline runs unchanged (a child llmroute process) on the requests
 * of OUTCOMES, with --catalog in place of its own catalog; every provider
 * of that catalog must be of format replay, and each answers from
 * OUTCOMES.  The recorded scores stay here: a request's quality is the
 * score recorded for the model that gave its answer (0 for an error
 * record), its cost what its attempts cost (recorded costs).  Printed:
 *
 *   - the pipeline: quality (mean score), cost, quality as a share of
 *     the baseline's (quality_ratio), savings (1 - cost / baseline
 *     cost), errors by code, escalations, the models that answered;
 *   - every recorded model alone, the baseline (--baseline, else the
 *     pipeline's `set baseline=` when recorded, else the dearest model)
 *     and the oracle (per prompt the cheapest model with the best
 *     score);
 *   - per benchmark ("benchmark" of the lines), the same for the
 *     pipeline and the baseline;
 *   - how well route.complexity predicts that the weak model fails
 *     (AUC, per benchmark): 0.5 is chance;
 *   - with a learned router (--router, else the pipeline's `route
 *     policy=learned model=`): APGR of its prediction for the weak
 *     model as a strong/weak router (--strong, default the baseline;
 *     --weak, default the best model costing under a fifth of the
 *     strong one), beside a random router's 0.5 and route.complexity's,
 *     and the cost-quality curve of its policy as the threshold sweeps.
 *
 * --json prints one object; --svg FILE draws single models, the oracle,
 * the pipeline and the router's curve as a self-contained SVG.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core.h"
#include "outcomes.h"
#include "router.h"

struct eval_opts {
  const char *pipeline, *catalog, *baseline, *strong, *weak, *router;
  const char *svg, *outcomes, *jobs;
  int json;
};

/* What the pipeline did with one request. */
struct result {
  int model;          /* index of the model that answered, -1 none */
  double cost;        /* route.cost_usd */
  double complexity;  /* route.complexity, NAN when absent */
  int escalations, attempts;
  int first;          /* the model of the first answer (not an
                         agreement partner's), -1 none */
  char signal[32];    /* why that answer was refused (the reason up to
                         ':', "disagreement", "schema" ...), "" when kept */
  char code[48];      /* error code, "" when answered */
  int seen;
};

struct ev {
  struct eval_opts o;
  struct outcomes oc;
  struct tf_model *router;
  int *head;          /* per recorded model: its router head, -1 none */
  FILE *requests;
  struct result *res;
  char tmp[64];       /* the scratch folder */
};

/* ---------------------------------------------------------------------
 * Reading the outcomes: requests out, router predictions kept
 */

static int take_row(void *ctx, struct outcomes *o, struct orow *r,
                    jv request, char *err, size_t errlen)
{
  struct ev *e = ctx;
  struct buf b;
  int ok;

  (void)o;
  buf_init(&b);
  json_write(&b, request);
  buf_putc(&b, '\n');
  ok = fwrite(b.p, 1, b.len, e->requests) == b.len;
  buf_free(&b);
  if(!ok) {
    snprintf(err, errlen, "cannot write the requests: %s", strerror(errno));
    return -1;
  }
  if(e->router) {
    static char text[ROUTER_TEXT_MAX];
    uint32_t feats[TF_MAX_FEATS];
    double p[TF_MAX_LABELS];
    size_t total, len = router_text(request, text, sizeof(text), &total);
    size_t n = router_features(text, len, total, e->router->families,
                               e->router->bits, feats, NULL);
    unsigned k;
    tf_model_predict(e->router, feats, n, p);
    r->pred = malloc(e->router->nlabels * sizeof(float));
    if(!r->pred) {
      snprintf(err, errlen, "out of memory");
      return -1;
    }
    for(k = 0; k < e->router->nlabels; k++)
      r->pred[k] = (float)p[k];
  }
  return 0;
}

/* ---------------------------------------------------------------------
 * The pipeline's run
 */

/* The router a pipeline's `route policy=learned model=FILE` names
 * (malloc'd path), or NULL. */
static char *pipeline_router(const struct pipeline *pl)
{
  int i, j;

  for(i = 0; i < pl->nstages; i++) {
    const struct stage_inst *st = &pl->stages[i];
    const char *model = NULL;
    int learned = 0;
    for(j = 0; j < st->nopts; j++) {
      if(!strcmp(st->opts[j].key, "policy"))
        learned = !strcmp(st->opts[j].val, "learned");
      else if(!strcmp(st->opts[j].key, "model"))
        model = st->opts[j].val;
    }
    if(learned && model)
      return path_resolve(pl->dir, model);
  }
  return NULL;
}

/* The run's catalog with every replay provider answering from outcomes
 * (an absolute path), written to path.  0, or -1 (message printed): a
 * provider of another format is refused, eval never calls out. */
static int write_catalog(const char *src, const char *outcomes,
                         const char *path)
{
  jv cat, provs;
  char err[1024], *abs = realpath(outcomes, NULL);
  int it, rc = -1;
  FILE *f;
  struct buf b;

  if(!abs || catalog_load(src, &cat, err, sizeof(err))) {
    fprintf(stderr, "llmroute eval: %s\n", abs ? err : strerror(errno));
    free(abs);
    return -1;
  }
  provs = jv_object_get(jv_copy(cat), jv_string("providers"));
  for(it = jv_object_iter(provs); jv_object_iter_valid(provs, it);
      it = jv_object_iter_next(provs, it)) {
    jv k = jv_object_iter_key(provs, it), p = jv_object_iter_value(provs, it);
    jv fmt = jv_object_get(jv_copy(p), jv_string("format"));
    if(strcmp(jv_string_value(fmt), "replay")) {
      fprintf(stderr, "llmroute eval: %s: provider %s is of format %s: eval "
              "answers from recorded outcomes only (give --catalog with "
              "replay providers: `llmroute eval convert` writes one)\n",
              src, jv_string_value(k), jv_string_value(fmt));
      jv_free(k);
      jv_free(p);
      jv_free(fmt);
      goto done;
    }
    jv_free(fmt);
    jv_free(k);
    jv_free(p);
  }
  for(it = jv_object_iter(provs); jv_object_iter_valid(provs, it);
      it = jv_object_iter_next(provs, it)) {
    jv k = jv_object_iter_key(provs, it), p = jv_object_iter_value(provs, it);
    p = jv_object_set(p, jv_string("outcomes"), jv_string(abs));
    cat = jv_object_set(cat, jv_string("providers"), jv_object_set(
      jv_object_get(jv_copy(cat), jv_string("providers")), k, p));
  }
  f = fopen(path, "w");
  buf_init(&b);
  json_write(&b, cat);
  if(!f || fwrite(b.p, 1, b.len, f) != b.len || fclose(f)) {
    fprintf(stderr, "llmroute eval: %s: cannot write\n", path);
    f = NULL;
  }
  else
    rc = 0;
  buf_free(&b);
done:
  jv_free(provs);
  jv_free(cat);
  free(abs);
  return rc;
}

/* Run the pipeline over the requests in a child llmroute; results into
 * out.  0, or -1 (message printed). */
static int run_child(const struct ev *e, const char *catalog,
                     const char *requests, const char *out)
{
  char self[4096];
  const char *argv[20];
  int n = 0, status;
  ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
  pid_t pid;

  if(len <= 0) {
    fprintf(stderr, "llmroute eval: cannot find the llmroute program\n");
    return -1;
  }
  self[len] = '\0';
  argv[n++] = self;
  argv[n++] = "-q";
  argv[n++] = "-p";
  argv[n++] = e->o.pipeline;
  argv[n++] = "--catalog";
  argv[n++] = catalog;
  if(e->o.baseline) {
    argv[n++] = "--baseline";
    argv[n++] = e->o.baseline;
  }
  argv[n++] = "-j";
  argv[n++] = e->o.jobs ? e->o.jobs : "256";
  argv[n++] = requests;
  argv[n] = NULL;
  pid = fork();
  if(pid < 0) {
    fprintf(stderr, "llmroute eval: fork: %s\n", strerror(errno));
    return -1;
  }
  if(pid == 0) {
    FILE *f = freopen(out, "w", stdout);
    if(!f)
      _exit(2);
    execv(self, (char *const *)argv);
    _exit(2);
  }
  if(waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
     WEXITSTATUS(status) > 1) {
    fprintf(stderr, "llmroute eval: the pipeline run failed (%s)\n",
            WIFEXITED(status) ? "see its message above" : "killed");
    return -1;
  }
  return 0;
}

/* One result line (v consumed) into e->res. */
static void take_result(struct ev *e, jv v)
{
  jv id = json_get(v, "custom_id"), route = json_get(v, "route");
  jv err = json_get(v, "error");
  jv resp = json_get(v, "response"), atts = json_get(route, "attempts");
  long i = jv_get_kind(id) == JV_KIND_STRING
           ? strmap_get(&e->oc.row_ix, jv_string_value(id)) : -1;
  struct result *r;
  int n = jv_get_kind(atts) == JV_KIND_ARRAY
          ? jv_array_length(jv_copy(atts)) : 0;

  if(i >= 0 && !e->res[i].seen) {
    r = &e->res[i];
    r->seen = 1;
    r->model = -1;
    r->code[0] = '\0';
    r->cost = json_num(route, "cost_usd", 0);
    r->complexity = json_num(route, "complexity", NAN);
    r->escalations = (int)json_num(route, "escalations", 0);
    r->attempts = n;
    r->first = -1;
    r->signal[0] = '\0';
    for(int k = 0; k < n; k++) {
      jv a = jv_array_get(jv_copy(atts), k), ag = json_get(a, "agree");
      jv m = json_get(a, "model"), valid = json_get(a, "valid");
      jv why = json_get(a, "reason");
      if(jv_get_kind(ag) != JV_KIND_TRUE && jv_get_kind(m) == JV_KIND_STRING
         && r->first < 0) {
        r->first = (int)strmap_get(&e->oc.model_ix, jv_string_value(m));
        if(jv_get_kind(valid) == JV_KIND_FALSE &&
           jv_get_kind(why) == JV_KIND_STRING) {
          size_t l = strcspn(jv_string_value(why), ":");
          snprintf(r->signal, sizeof(r->signal), "%.*s",
                   (int)(l < sizeof(r->signal) ? l : sizeof(r->signal) - 1),
                   jv_string_value(why));
        }
      }
      jv_free(a);
      jv_free(ag);
      jv_free(m);
      jv_free(valid);
      jv_free(why);
    }
    if(jv_get_kind(err) == JV_KIND_OBJECT) {
      jv c = json_get(err, "code");
      snprintf(r->code, sizeof(r->code), "%s",
               jv_get_kind(c) == JV_KIND_STRING ? jv_string_value(c) : "?");
      jv_free(c);
    }
    else if(jv_get_kind(resp) == JV_KIND_OBJECT && n > 0) {
      jv last = jv_array_get(jv_copy(atts), n - 1);
      jv m = json_get(last, "model");
      if(jv_get_kind(m) == JV_KIND_STRING)
        r->model = (int)strmap_get(&e->oc.model_ix, jv_string_value(m));
      if(r->model < 0)
        snprintf(r->code, sizeof(r->code), "unrecorded_model");
      jv_free(m);
      jv_free(last);
    }
    else
      snprintf(r->code, sizeof(r->code), "no_answer");
  }
  jv_free(id);
  jv_free(route);
  jv_free(err);
  jv_free(resp);
  jv_free(atts);
  jv_free(v);
}

static int read_results(struct ev *e, const char *path)
{
  FILE *f = fopen(path, "r");
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;

  if(!f) {
    fprintf(stderr, "llmroute eval: %s: %s\n", path, strerror(errno));
    return -1;
  }
  while((len = getline(&line, &cap, f)) > 0)
    take_result(e, json_parse(line, (size_t)len));
  free(line);
  fclose(f);
  return 0;
}

/* ---------------------------------------------------------------------
 * Measures
 */

struct qc {
  double quality, cost;  /* mean score, total USD */
};

static double ratio(double a, double b)
{
  return b > 0 ? a / b : 0;
}

/* Model m alone over every row (unrecorded: score 0, no cost). */
static struct qc model_alone(const struct outcomes *o, int m)
{
  struct qc q = {0, 0};
  size_t i;

  for(i = 0; i < o->n; i++)
    if(!isnan(o->rows[i].score[m])) {
      q.quality += o->rows[i].score[m];
      q.cost += o->rows[i].cost[m];
    }
  q.quality /= (double)o->n;
  return q;
}

static struct qc oracle(const struct outcomes *o)
{
  struct qc q = {0, 0};
  size_t i;
  int m;

  for(i = 0; i < o->n; i++) {
    const struct orow *r = &o->rows[i];
    double best = -1, cost = 0;
    for(m = 0; m < o->nmodels; m++) {
      if(isnan(r->score[m]))
        continue;
      if(r->score[m] > best || (r->score[m] == best && r->cost[m] < cost)) {
        best = r->score[m];
        cost = r->cost[m];
      }
    }
    if(best >= 0) {
      q.quality += best;
      q.cost += cost;
    }
  }
  q.quality /= (double)o->n;
  return q;
}

/* The pipeline's quality and cost over the rows of bench (NULL: all). */
static struct qc pipeline_qc(const struct ev *e, const char *bench,
                             size_t *count)
{
  struct qc q = {0, 0};
  size_t i, n = 0;

  for(i = 0; i < e->oc.n; i++) {
    const struct orow *r = &e->oc.rows[i];
    const struct result *x = &e->res[i];
    if(bench && (!r->bench || strcmp(r->bench, bench)))
      continue;
    n++;
    q.cost += x->cost;
    if(x->model >= 0 && !isnan(r->score[x->model]))
      q.quality += r->score[x->model];
  }
  q.quality = n ? q.quality / (double)n : 0;
  *count = n;
  return q;
}

/* The same for model m alone over the rows of bench. */
static struct qc model_bench(const struct outcomes *o, int m,
                             const char *bench)
{
  struct qc q = {0, 0};
  size_t i, n = 0;

  for(i = 0; i < o->n; i++) {
    const struct orow *r = &o->rows[i];
    if(bench && (!r->bench || strcmp(r->bench, bench)))
      continue;
    n++;
    if(!isnan(r->score[m])) {
      q.quality += r->score[m];
      q.cost += r->cost[m];
    }
  }
  q.quality = n ? q.quality / (double)n : 0;
  return q;
}

/* A score and a label for AUC and APGR. */
struct scored {
  double s;
  int fail;           /* AUC: the weak model failed */
  double qs, qw;      /* APGR: strong and weak scores */
};

static int by_score(const void *a, const void *b)
{
  double x = ((const struct scored *)a)->s, y = ((const struct scored *)b)->s;

  return x < y ? -1 : x > y;
}

/* AUC of s for fail (ties count a half); NAN without both classes. */
static double auc(struct scored *v, size_t n)
{
  double pos = 0, neg = 0, sum = 0;
  size_t i = 0, j;

  qsort(v, n, sizeof(*v), by_score);
  while(i < n) { /* ranks, ties averaged */
    double rank;
    size_t tied_pos = 0;
    for(j = i; j < n && v[j].s == v[i].s; j++)
      tied_pos += (size_t)v[j].fail;
    rank = (double)(i + 1 + j) / 2.0;
    sum += rank * (double)tied_pos;
    pos += (double)tied_pos;
    neg += (double)(j - i - tied_pos);
    i = j;
  }
  if(!pos || !neg)
    return NAN;
  return (sum - pos * (pos + 1) / 2) / (pos * neg);
}

/* APGR of routing to the strong model the prompts of highest s: the
 * mean over k = 0..n strong calls of (quality - q_weak) / (q_strong -
 * q_weak).  A random order's expectation is 0.5. */
static double apgr(struct scored *v, size_t n)
{
  double qw = 0, qs = 0, q, sum = 0;
  size_t i;

  if(!n)
    return NAN;
  for(i = 0; i < n; i++) {
    qw += v[i].qw;
    qs += v[i].qs;
  }
  if(qs - qw <= 1e-12)
    return NAN;
  qsort(v, n, sizeof(*v), by_score);
  q = qw;
  sum = 0; /* k = 0: all weak, gap recovered 0 */
  for(i = n; i > 0; i--) { /* the highest scores go strong first */
    q += v[i - 1].qs - v[i - 1].qw;
    sum += (q - qw) / (qs - qw);
  }
  return sum / (double)(n + 1);
}

static void put_num(struct buf *b, double d)
{
  char s[64];

  if(isnan(d))
    buf_puts(b, "null");
  else {
    snprintf(s, sizeof(s), "%.6g", d);
    buf_puts(b, s);
  }
}

static void put_key(struct buf *b, const char *k)
{
  json_write_string(b, k, strlen(k));
  buf_putc(b, ':');
}

/* The signals that refused a first answer: for each, how many wrong
 * first answers it caught and how many right ones it refused. */
static void put_signals(const struct ev *e, struct buf *b, int json)
{
  size_t i, j, wrong = 0, right = 0;
  int k = 0;

  for(i = 0; i < e->oc.n; i++) {
    const struct result *x = &e->res[i];
    if(x->first < 0 || isnan(e->oc.rows[i].score[x->first]))
      continue;
    if(e->oc.rows[i].score[x->first] < 0.5)
      wrong++;
    else
      right++;
  }
  if(json) {
    buf_puts(b, "\"first_answers\":{\"wrong\":");
    buf_put_uint(b, wrong);
    buf_puts(b, ",\"right\":");
    buf_put_uint(b, right);
    buf_puts(b, "},\"signals\":{");
  }
  else
    printf("  first answers: %zu wrong, %zu right; refused by:", wrong,
           right);
  for(i = 0; i < e->oc.n; i++) {
    const char *sig = e->res[i].signal;
    size_t caught = 0, alarms = 0;
    if(!*sig || e->res[i].first < 0)
      continue;
    for(j = 0; j < i && strcmp(e->res[j].signal, sig); j++)
      ;
    if(j < i)
      continue; /* counted at its first */
    for(j = i; j < e->oc.n; j++) {
      const struct result *x = &e->res[j];
      if(strcmp(x->signal, sig) || x->first < 0 ||
         isnan(e->oc.rows[j].score[x->first]))
        continue;
      if(e->oc.rows[j].score[x->first] < 0.5)
        caught++;
      else
        alarms++;
    }
    if(json) {
      if(k++)
        buf_putc(b, ',');
      put_key(b, sig);
      buf_puts(b, "{\"caught\":");
      buf_put_uint(b, caught);
      buf_puts(b, ",\"false_alarms\":");
      buf_put_uint(b, alarms);
      buf_puts(b, ",\"catch_rate\":");
      put_num(b, wrong ? (double)caught / (double)wrong : NAN);
      buf_puts(b, ",\"false_alarm_rate\":");
      put_num(b, right ? (double)alarms / (double)right : NAN);
      buf_putc(b, '}');
    }
    else if(++k)
      printf(" %s (catches %.1f%% of wrong, refuses %.1f%% of right)", sig,
             wrong ? 100.0 * (double)caught / (double)wrong : 0,
             right ? 100.0 * (double)alarms / (double)right : 0);
  }
  if(json)
    buf_puts(b, "}");
  else
    printf("%s\n", k ? "" : " nothing");
}

/* The weak model by default: the most accurate one whose total cost is
 * under a fifth of the strong one's. */
static int default_weak(const struct outcomes *o, int strong)
{
  struct qc s = model_alone(o, strong);
  double best = -1;
  int m, pick = -1;

  for(m = 0; m < o->nmodels; m++) {
    struct qc q = model_alone(o, m);
    if(m != strong && q.cost < s.cost / 5 && q.quality > best) {
      best = q.quality;
      pick = m;
    }
  }
  return pick;
}

/* Benchmarks present, in first-seen order (borrowed names). */
static int benchmarks(const struct outcomes *o, const char **out, int max)
{
  size_t i;
  int n = 0, k;

  for(i = 0; i < o->n; i++) {
    const char *b = o->rows[i].bench;
    if(!b)
      continue;
    for(k = 0; k < n && strcmp(out[k], b); k++)
      ;
    if(k == n && n < max)
      out[n++] = b;
  }
  return n;
}

/* AUC of route.complexity (or, with router, 1 - the router's p of the
 * weak model) for the weak model failing, over the rows of bench. */
static double complexity_auc(const struct ev *e, int weak, const char *bench,
                             int use_router, struct scored *v)
{
  size_t i, n = 0;
  int h = use_router ? e->head[weak] : -1;

  if(use_router && h < 0)
    return NAN;
  for(i = 0; i < e->oc.n; i++) {
    const struct orow *r = &e->oc.rows[i];
    double s = use_router ? 1.0 - r->pred[h] : e->res[i].complexity;
    if((bench && (!r->bench || strcmp(r->bench, bench))) || isnan(s) ||
       isnan(r->score[weak]))
      continue;
    v[n].s = s;
    v[n].fail = r->score[weak] < 0.5;
    n++;
  }
  return auc(v, n);
}

/* APGR of a score (router: 1 - p(weak); else route.complexity). */
static double score_apgr(const struct ev *e, int strong, int weak,
                         int use_router, struct scored *v)
{
  size_t i, n = 0;
  int h = use_router ? e->head[weak] : -1;

  if(use_router && h < 0)
    return NAN;
  for(i = 0; i < e->oc.n; i++) {
    const struct orow *r = &e->oc.rows[i];
    double s = use_router ? 1.0 - r->pred[h] : e->res[i].complexity;
    if(isnan(s))
      return NAN; /* every prompt needs a score */
    v[n].s = s;
    v[n].qs = isnan(r->score[strong]) ? 0 : r->score[strong];
    v[n].qw = isnan(r->score[weak]) ? 0 : r->score[weak];
    n++;
  }
  return apgr(v, n);
}

#define CURVE_N 21

/* The router's policy offline at threshold t over the recorded models
 * it has a predictor of. */
static struct qc curve_point(const struct ev *e, const double *mcost,
                             double t)
{
  struct qc q = {0, 0};
  double p[OUTCOMES_MAX_MODELS];
  char skip[OUTCOMES_MAX_MODELS];
  size_t i;
  int m;

  for(i = 0; i < e->oc.n; i++) {
    const struct orow *r = &e->oc.rows[i];
    int pick;
    for(m = 0; m < e->oc.nmodels; m++) {
      skip[m] = (char)(e->head[m] < 0 || isnan(r->score[m]));
      p[m] = skip[m] ? 0 : r->pred[e->head[m]];
    }
    pick = router_choose(p, mcost, skip, e->oc.nmodels, t);
    if(pick >= 0) {
      q.quality += r->score[pick];
      q.cost += r->cost[pick];
    }
  }
  q.quality /= (double)e->oc.n;
  return q;
}

/* ---------------------------------------------------------------------
 * Output
 */

struct report {
  size_t n;
  struct qc pipe, base, orc;
  int base_m, strong, weak;
  double apgr_router, apgr_cx;
  struct qc curve[CURVE_N];
  int has_curve;
  const char *bench[64];
  int nbench;
};

/* {"quality","cost_usd","quality_ratio","savings"} of q against base. */
static void put_qc(struct buf *b, struct qc q, struct qc base)
{
  buf_puts(b, "{\"quality\":");
  put_num(b, q.quality);
  buf_puts(b, ",\"cost_usd\":");
  put_num(b, q.cost);
  buf_puts(b, ",\"quality_ratio\":");
  put_num(b, ratio(q.quality, base.quality));
  buf_puts(b, ",\"savings\":");
  put_num(b, 1 - ratio(q.cost, base.cost));
  buf_putc(b, '}');
}

static void print_json(const struct ev *e, const struct report *rp,
                       struct scored *tmp)
{
  struct buf b;
  size_t i;
  int m, k;

  buf_init(&b);
  buf_puts(&b, "{\"pipeline\":");
  json_write_string(&b, e->o.pipeline, strlen(e->o.pipeline));
  buf_puts(&b, ",\"requests\":");
  buf_put_uint(&b, rp->n);
  buf_puts(&b, ",\"quality\":");
  put_num(&b, rp->pipe.quality);
  buf_puts(&b, ",\"cost_usd\":");
  put_num(&b, rp->pipe.cost);
  buf_puts(&b, ",\"quality_ratio\":");
  put_num(&b, ratio(rp->pipe.quality, rp->base.quality));
  buf_puts(&b, ",\"savings\":");
  put_num(&b, 1 - ratio(rp->pipe.cost, rp->base.cost));
  buf_puts(&b, ",\"baseline\":{\"model\":");
  json_write_string(&b, e->oc.models[rp->base_m],
                    strlen(e->oc.models[rp->base_m]));
  buf_puts(&b, ",\"quality\":");
  put_num(&b, rp->base.quality);
  buf_puts(&b, ",\"cost_usd\":");
  put_num(&b, rp->base.cost);
  buf_puts(&b, "},\"oracle\":");
  put_qc(&b, rp->orc, rp->base);
  buf_puts(&b, ",\"models\":{");
  for(m = 0; m < e->oc.nmodels; m++) {
    if(m)
      buf_putc(&b, ',');
    put_key(&b, e->oc.models[m]);
    put_qc(&b, model_alone(&e->oc, m), rp->base);
  }
  buf_puts(&b, "},\"answered_by\":{");
  for(m = 0, k = 0; m < e->oc.nmodels; m++) {
    size_t c = 0;
    for(i = 0; i < e->oc.n; i++)
      c += e->res[i].model == m;
    if(!c)
      continue;
    if(k++)
      buf_putc(&b, ',');
    put_key(&b, e->oc.models[m]);
    buf_put_uint(&b, c);
  }
  buf_puts(&b, "},\"errors\":{");
  for(i = 0, k = 0; i < e->oc.n; i++) {
    size_t j, c = 0;
    const char *code = e->res[i].code;
    if(!*code)
      continue;
    for(j = 0; j < i && strcmp(e->res[j].code, code); j++)
      ;
    if(j < i)
      continue; /* counted at its first */
    for(j = i; j < e->oc.n; j++)
      c += !strcmp(e->res[j].code, code);
    if(k++)
      buf_putc(&b, ',');
    put_key(&b, code);
    buf_put_uint(&b, c);
  }
  {
    size_t esc = 0, att = 0;
    for(i = 0; i < e->oc.n; i++) {
      esc += e->res[i].escalations > 0;
      att += (size_t)e->res[i].attempts;
    }
    buf_puts(&b, "},\"escalated\":");
    buf_put_uint(&b, esc);
    buf_puts(&b, ",\"attempts\":");
    buf_put_uint(&b, att);
    buf_putc(&b, ',');
    put_signals(e, &b, 1);
  }
  buf_puts(&b, ",\"benchmarks\":{");
  for(k = 0; k < rp->nbench; k++) {
    size_t n;
    struct qc p = pipeline_qc(e, rp->bench[k], &n);
    struct qc bq = model_bench(&e->oc, rp->base_m, rp->bench[k]);
    if(k)
      buf_putc(&b, ',');
    put_key(&b, rp->bench[k]);
    buf_puts(&b, "{\"requests\":");
    buf_put_uint(&b, n);
    buf_puts(&b, ",\"pipeline\":");
    put_qc(&b, p, bq);
    buf_puts(&b, ",\"baseline\":");
    put_qc(&b, bq, bq);
    buf_puts(&b, ",\"complexity_auc\":");
    put_num(&b, rp->weak >= 0 ? complexity_auc(e, rp->weak, rp->bench[k],
                                               0, tmp) : NAN);
    buf_putc(&b, '}');
  }
  buf_puts(&b, "},\"complexity_auc\":");
  put_num(&b, rp->weak >= 0 ? complexity_auc(e, rp->weak, NULL, 0, tmp)
                            : NAN);
  buf_puts(&b, ",\"apgr\":{\"strong\":");
  json_write_string(&b, e->oc.models[rp->strong],
                    strlen(e->oc.models[rp->strong]));
  buf_puts(&b, ",\"weak\":");
  if(rp->weak >= 0)
    json_write_string(&b, e->oc.models[rp->weak],
                      strlen(e->oc.models[rp->weak]));
  else
    buf_puts(&b, "null");
  buf_puts(&b, ",\"router\":");
  put_num(&b, rp->apgr_router);
  buf_puts(&b, ",\"complexity\":");
  put_num(&b, rp->apgr_cx);
  buf_puts(&b, ",\"random\":0.5}");
  buf_puts(&b, ",\"curve\":[");
  for(k = 0; rp->has_curve && k < CURVE_N; k++) {
    if(k)
      buf_putc(&b, ',');
    buf_puts(&b, "{\"threshold\":");
    put_num(&b, k / (double)(CURVE_N - 1));
    buf_puts(&b, ",\"point\":");
    put_qc(&b, rp->curve[k], rp->base);
    buf_putc(&b, '}');
  }
  buf_puts(&b, "]}\n");
  fwrite(b.p, 1, b.len, stdout);
  buf_free(&b);
}

static void print_line(const char *name, struct qc q, struct qc base)
{
  printf("  %-36.36s %7.4f  %6.1f%%  %10.4f  %6.1f%%\n", name, q.quality,
         100 * ratio(q.quality, base.quality), q.cost,
         100 * (1 - ratio(q.cost, base.cost)));
}

static void print_table(const struct ev *e, const struct report *rp,
                        struct scored *tmp)
{
  size_t i;
  int m, k;

  printf("%s on %zu recorded prompts (baseline %s)\n", e->o.pipeline, rp->n,
         e->oc.models[rp->base_m]);
  printf("  %-36s %7s  %7s  %10s  %7s\n", "", "quality", "of base",
         "cost USD", "savings");
  print_line("pipeline", rp->pipe, rp->base);
  print_line("oracle (cheapest best model)", rp->orc, rp->base);
  for(m = 0; m < e->oc.nmodels; m++)
    print_line(e->oc.models[m], model_alone(&e->oc, m), rp->base);
  for(k = 0; k < rp->nbench; k++) {
    size_t n;
    struct qc p = pipeline_qc(e, rp->bench[k], &n);
    struct qc bq = model_bench(&e->oc, rp->base_m, rp->bench[k]);
    printf("  %s (%zu): quality %.4f (%.1f%% of base), cost %.4f (%.1f%% "
           "saved), complexity AUC %.3f\n", rp->bench[k], n, p.quality,
           100 * ratio(p.quality, bq.quality), p.cost,
           100 * (1 - ratio(p.cost, bq.cost)),
           rp->weak >= 0 ? complexity_auc(e, rp->weak, rp->bench[k], 0, tmp)
                         : NAN);
  }
  printf("  answered by:");
  for(m = 0; m < e->oc.nmodels; m++) {
    size_t c = 0;
    for(i = 0; i < e->oc.n; i++)
      c += e->res[i].model == m;
    if(c)
      printf(" %s %zu", e->oc.models[m], c);
  }
  {
    size_t esc = 0, err = 0;
    for(i = 0; i < e->oc.n; i++) {
      esc += e->res[i].escalations > 0;
      err += e->res[i].code[0] != 0;
    }
    printf("\n  escalated %zu, errors %zu\n", esc, err);
  }
  put_signals(e, NULL, 0);
  if(rp->weak >= 0)
    printf("  APGR (strong %s, weak %s): router %.3f, route.complexity "
           "%.3f, random 0.500\n", e->oc.models[rp->strong],
           e->oc.models[rp->weak], rp->apgr_router, rp->apgr_cx);
  if(rp->has_curve) {
    printf("  router policy as the threshold sweeps: threshold quality "
           "(of base) savings\n");
    for(k = 0; k < CURVE_N; k += 2)
      printf("    %.2f  %.4f (%.1f%%)  %.1f%%\n", k / (double)(CURVE_N - 1),
             rp->curve[k].quality,
             100 * ratio(rp->curve[k].quality, rp->base.quality),
             100 * (1 - ratio(rp->curve[k].cost, rp->base.cost)));
  }
}

/* Savings (x, %) against quality (y, % of the baseline's): single models
 * as points, the oracle, the pipeline, the router's curve. */
static int write_svg(const struct ev *e, const struct report *rp,
                     const char *path)
{
  FILE *f = fopen(path, "w");
  const double W = 720, H = 480, L = 70, R = 200, T = 30, B = 60;
  double ymin = 100, ymax = 100;
  int m, k;
#define X(s) (L + (s) / 100.0 * (W - L - R))
#define Y(q) (T + (ymax - (q)) / (ymax - ymin) * (H - T - B))

  if(!f) {
    fprintf(stderr, "llmroute eval: %s: %s\n", path, strerror(errno));
    return -1;
  }
  for(m = 0; m < e->oc.nmodels; m++) {
    double q = 100 * ratio(model_alone(&e->oc, m).quality,
                           rp->base.quality);
    ymin = q < ymin ? q : ymin;
    ymax = q > ymax ? q : ymax;
  }
  {
    double q = 100 * ratio(rp->orc.quality, rp->base.quality);
    ymax = q > ymax ? q : ymax;
  }
  ymin = floor(ymin / 10) * 10;
  ymax = ceil(ymax / 10) * 10;
  if(ymax <= ymin)
    ymax = ymin + 10;
  fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%g\" "
          "height=\"%g\" viewBox=\"0 0 %g %g\" font-family=\"sans-serif\" "
          "font-size=\"11\">\n<rect width=\"100%%\" height=\"100%%\" "
          "fill=\"white\"/>\n", W, H, W, H);
  fprintf(f, "<text x=\"%g\" y=\"18\" font-size=\"13\">%s: quality "
          "against savings (baseline %s)</text>\n", L, e->o.pipeline,
          e->oc.models[rp->base_m]);
  for(k = 0; k <= 10; k++) {
    double s = k * 10, q = ymin + (ymax - ymin) * k / 10;
    fprintf(f, "<line x1=\"%.1f\" y1=\"%g\" x2=\"%.1f\" y2=\"%g\" "
            "stroke=\"#eee\"/><text x=\"%.1f\" y=\"%g\" text-anchor=\""
            "middle\">%g%%</text>\n", X(s), T, X(s), H - B, X(s),
            H - B + 15, s);
    fprintf(f, "<line x1=\"%g\" y1=\"%.1f\" x2=\"%g\" y2=\"%.1f\" "
            "stroke=\"#eee\"/><text x=\"%g\" y=\"%.1f\" text-anchor=\"end\">"
            "%.0f%%</text>\n", L, Y(q), W - R, Y(q), L - 6, Y(q) + 4, q);
  }
  fprintf(f, "<text x=\"%g\" y=\"%g\" text-anchor=\"middle\">cost saved "
          "against the baseline</text>\n<text x=\"16\" y=\"%g\" "
          "transform=\"rotate(-90 16 %g)\" text-anchor=\"middle\">quality, "
          "%% of the baseline's</text>\n", (L + W - R) / 2, H - 20,
          (T + H - B) / 2, (T + H - B) / 2);
  if(rp->has_curve) {
    fprintf(f, "<polyline id=\"router\" fill=\"none\" stroke=\"#1f77b4\" "
            "stroke-width=\"2\" points=\"");
    for(k = 0; k < CURVE_N; k++)
      fprintf(f, "%.1f,%.1f ", X(100 * (1 - ratio(rp->curve[k].cost,
                                                  rp->base.cost))),
              Y(100 * ratio(rp->curve[k].quality, rp->base.quality)));
    fprintf(f, "\"/>\n<text x=\"%g\" y=\"%g\" fill=\"#1f77b4\">learned "
            "router, threshold swept</text>\n", W - R + 10, T + 10);
  }
  for(m = 0; m < e->oc.nmodels; m++) {
    struct qc q = model_alone(&e->oc, m);
    double x = X(100 * (1 - ratio(q.cost, rp->base.cost)));
    double y = Y(100 * ratio(q.quality, rp->base.quality));
    fprintf(f, "<circle class=\"model\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\" "
            "fill=\"#888\"><title>%s</title></circle><text x=\"%.1f\" "
            "y=\"%.1f\" fill=\"#555\" font-size=\"9\">%s</text>\n", x, y,
            e->oc.models[m], x + 6, y + 3, e->oc.models[m]);
  }
  fprintf(f, "<rect id=\"oracle\" x=\"%.1f\" y=\"%.1f\" width=\"8\" "
          "height=\"8\" fill=\"#2ca02c\"/><text x=\"%.1f\" y=\"%.1f\" "
          "fill=\"#2ca02c\">oracle</text>\n",
          X(100 * (1 - ratio(rp->orc.cost, rp->base.cost))) - 4,
          Y(100 * ratio(rp->orc.quality, rp->base.quality)) - 4,
          X(100 * (1 - ratio(rp->orc.cost, rp->base.cost))) + 7,
          Y(100 * ratio(rp->orc.quality, rp->base.quality)) + 4);
  fprintf(f, "<circle id=\"pipeline\" cx=\"%.1f\" cy=\"%.1f\" r=\"7\" "
          "fill=\"#d62728\"/><text x=\"%.1f\" y=\"%.1f\" fill=\"#d62728\" "
          "font-weight=\"bold\">%s: %.1f%% quality, %.1f%% saved</text>\n"
          "</svg>\n",
          X(100 * (1 - ratio(rp->pipe.cost, rp->base.cost))),
          Y(100 * ratio(rp->pipe.quality, rp->base.quality)),
          X(100 * (1 - ratio(rp->pipe.cost, rp->base.cost))) + 10,
          Y(100 * ratio(rp->pipe.quality, rp->base.quality)) - 10,
          e->o.pipeline, 100 * ratio(rp->pipe.quality, rp->base.quality),
          100 * (1 - ratio(rp->pipe.cost, rp->base.cost)));
#undef X
#undef Y
  if(fclose(f)) {
    fprintf(stderr, "llmroute eval: %s: write error\n", path);
    return -1;
  }
  return 0;
}

/* ---------------------------------------------------------------------
 * The command
 */

static void usage(FILE *f)
{
  fputs("usage: llmroute eval -p PIPELINE [--catalog CAT.json] "
        "[--baseline MODEL]\n"
        "         [--strong MODEL] [--weak MODEL] [--router ROUTER] "
        "[--json]\n"
        "         [--svg FILE] [-j N] OUTCOMES.jsonl\n"
        "       llmroute eval convert routerbench|results ...\n", f);
}

static int parse_args(int argc, char **argv, struct eval_opts *o)
{
  int i;

  memset(o, 0, sizeof(*o));
  for(i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char **slot = !strcmp(a, "-p") || !strcmp(a, "--pipeline")
                        ? &o->pipeline
                        : !strcmp(a, "--catalog") ? &o->catalog
                        : !strcmp(a, "--baseline") ? &o->baseline
                        : !strcmp(a, "--strong") ? &o->strong
                        : !strcmp(a, "--weak") ? &o->weak
                        : !strcmp(a, "--router") ? &o->router
                        : !strcmp(a, "--svg") ? &o->svg
                        : !strcmp(a, "-j") ? &o->jobs : NULL;
    if(slot) {
      if(i + 1 >= argc) {
        fprintf(stderr, "llmroute eval: %s needs a value\n", a);
        return -1;
      }
      *slot = argv[++i];
    }
    else if(!strcmp(a, "--json"))
      o->json = 1;
    else if(!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      exit(0);
    }
    else if(a[0] == '-' && a[1]) {
      fprintf(stderr, "llmroute eval: unknown option '%s'\n", a);
      return -1;
    }
    else if(o->outcomes) {
      fprintf(stderr, "llmroute eval: one OUTCOMES file\n");
      return -1;
    }
    else
      o->outcomes = a;
  }
  if(!o->outcomes) {
    usage(stderr);
    return -1;
  }
  if(!o->pipeline)
    o->pipeline = "default";
  return 0;
}

/* Remove the scratch folder and what it holds. */
static void scratch_free(struct ev *e)
{
  static const char *const files[] = {"requests.jsonl", "catalog.json",
                                      "results.jsonl", NULL};
  char p[128];
  int i;

  if(!e->tmp[0])
    return;
  for(i = 0; files[i]; i++) {
    snprintf(p, sizeof(p), "%s/%s", e->tmp, files[i]);
    unlink(p);
  }
  rmdir(e->tmp);
}

int eval_main(int argc, char **argv)
{
  struct ev e;
  struct pipeline pl;
  struct outcomes_opts oo;
  struct report rp;
  struct scored *tmp = NULL;
  double mcost[OUTCOMES_MAX_MODELS];
  char err[1024], reqp[128], catp[128], outp[128], *path = NULL;
  char *router = NULL;
  const char *catalog;
  int m, k, rc = 2, have_pl = 0;

  memset(&e, 0, sizeof(e));
  memset(&rp, 0, sizeof(rp));
  if(parse_args(argc, argv, &e.o))
    return 2;
  path = pipeline_resolve(e.o.pipeline);
  if(!path || pipeline_parse(&pl, path))
    goto done;
  have_pl = 1;
  e.o.pipeline = path;
  catalog = e.o.catalog ? e.o.catalog : pipeline_setting(&pl, "catalog");
  if(!catalog) {
    fprintf(stderr, "llmroute eval: %s names no catalog: give --catalog "
            "CAT.json\n", path);
    goto done;
  }
  if(!e.o.baseline && !e.o.catalog)
    e.o.baseline = pipeline_setting(&pl, "baseline");
  router = e.o.router ? strdup(e.o.router) : pipeline_router(&pl);
  if(router && !(e.router = router_load(router, err, sizeof(err)))) {
    fprintf(stderr, "llmroute eval: %s\n", err);
    goto done;
  }
  snprintf(e.tmp, sizeof(e.tmp), "%s/llmr-eval.XXXXXX",
           getenv("TMPDIR") ? "/tmp" : "/tmp");
  if(!mkdtemp(e.tmp)) {
    fprintf(stderr, "llmroute eval: cannot make a scratch folder: %s\n",
            strerror(errno));
    e.tmp[0] = '\0';
    goto done;
  }
  snprintf(reqp, sizeof(reqp), "%s/requests.jsonl", e.tmp);
  snprintf(catp, sizeof(catp), "%s/catalog.json", e.tmp);
  snprintf(outp, sizeof(outp), "%s/results.jsonl", e.tmp);
  e.requests = fopen(reqp, "w");
  if(!e.requests)
    goto done;
  oo.row = take_row;
  oo.ctx = &e;
  if(outcomes_load(e.o.outcomes, &e.oc, &oo, err, sizeof(err))) {
    fprintf(stderr, "llmroute eval: %s\n", err);
    goto done;
  }
  if(fclose(e.requests)) {
    e.requests = NULL;
    fprintf(stderr, "llmroute eval: %s: write error\n", reqp);
    goto done;
  }
  e.requests = NULL;
  rp.base_m = outcomes_baseline(&e.oc, e.o.baseline);
  if(rp.base_m < 0 && !e.o.catalog) /* the pipeline's: not recorded */
    rp.base_m = outcomes_baseline(&e.oc, NULL);
  if(rp.base_m < 0) {
    fprintf(stderr, "llmroute eval: baseline %s is not a recorded model\n",
            e.o.baseline);
    goto done;
  }
  if(e.o.baseline && strmap_get(&e.oc.model_ix, e.o.baseline) < 0)
    e.o.baseline = NULL; /* the pipeline's own, of another catalog */
  rp.strong = e.o.strong ? (int)strmap_get(&e.oc.model_ix, e.o.strong)
                         : rp.base_m;
  rp.weak = e.o.weak ? (int)strmap_get(&e.oc.model_ix, e.o.weak)
                     : default_weak(&e.oc, rp.strong);
  if(rp.strong < 0 || (e.o.weak && rp.weak < 0)) {
    fprintf(stderr, "llmroute eval: --strong / --weak must name recorded "
            "models\n");
    goto done;
  }
  e.res = calloc(e.oc.n, sizeof(*e.res));
  e.head = malloc(OUTCOMES_MAX_MODELS * sizeof(int));
  tmp = malloc(e.oc.n * sizeof(*tmp));
  if(!e.res || !e.head || !tmp)
    goto done;
  for(size_t i = 0; i < e.oc.n; i++) {
    e.res[i].model = -1;
    e.res[i].complexity = NAN;
    snprintf(e.res[i].code, sizeof(e.res[i].code), "no_result");
  }
  if(write_catalog(catalog, e.o.outcomes, catp) ||
     run_child(&e, catp, reqp, outp) || read_results(&e, outp))
    goto done;
  for(m = 0; m < e.oc.nmodels; m++) {
    e.head[m] = e.router ? tf_model_label(e.router, e.oc.models[m]) : -1;
    mcost[m] = outcomes_mean_cost(&e.oc, m);
  }
  rp.pipe = pipeline_qc(&e, NULL, &rp.n);
  rp.base = model_alone(&e.oc, rp.base_m);
  rp.orc = oracle(&e.oc);
  rp.nbench = benchmarks(&e.oc, rp.bench, 64);
  rp.apgr_router = rp.weak >= 0 && e.router
                   ? score_apgr(&e, rp.strong, rp.weak, 1, tmp) : NAN;
  rp.apgr_cx = rp.weak >= 0 ? score_apgr(&e, rp.strong, rp.weak, 0, tmp)
                            : NAN;
  for(m = 0; m < e.oc.nmodels && e.router; m++)
    rp.has_curve |= e.head[m] >= 0;
  for(k = 0; rp.has_curve && k < CURVE_N; k++)
    rp.curve[k] = curve_point(&e, mcost, k / (double)(CURVE_N - 1));
  if(e.o.json)
    print_json(&e, &rp, tmp);
  else
    print_table(&e, &rp, tmp);
  if(e.o.svg && write_svg(&e, &rp, e.o.svg))
    goto done;
  rc = 0;
done:
  if(e.requests)
    fclose(e.requests);
  scratch_free(&e);
  if(have_pl)
    pipeline_free(&pl);
  free(path);
  free(router);
  free(tmp);
  free(e.res);
  free(e.head);
  tf_model_free(e.router);
  outcomes_free(&e.oc);
  tf_release();
  return rc;
}
