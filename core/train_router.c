/*
 * train_router.c - `llmroute train --outcomes`: fit the learned router
 * (core/lib/router.h) on recorded outcomes.
 *
 *   llmroute train --outcomes FILE -o ROUTER [--catalog CAT.json]
 *                  [--baseline MODEL] [--folds K] [--epochs N]
 *                  [--rate R] [--l2 L] [--bits B]
 *
 * For every recorded model, a logistic regression predicts from the
 * prompt's features (router_features(): words and word pairs of the
 * last paragraph of the last user message, signal buckets, shape) the
 * score that model gets on it (scores in [0, 1] are soft labels).  With
 * --catalog, whose tiers the recorded models have, "tier:N" predicts the
 * score of the best recorded model of tier N, for catalogs of other
 * models.  SGD (N epochs, default 3, learning rate R 0.2, L2 penalty L
 * 1e-3, 2^B hash buckets, B default 16), features scaled by
 * 1/sqrt(count).
 *
 * The thresholds: K-fold cross-validation on the training file only
 * (default 5 folds, split by a hash of custom_id): every prompt gets the
 * predictions of a router that never saw it; the policy (router.h) is
 * run on them for thresholds T from 0 to 1, and for each quality target
 * Q from 0.50 to 1.00 the smallest T whose cross-validated quality is at
 * least Q times the baseline's is written into the router.  The table
 * printed shows what each target cost and kept in cross-validation.  The
 * router itself is then fitted on every prompt.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "outcomes.h"
#include "router.h"

struct rt_opts {
  const char *outcomes, *out, *catalog, *baseline;
  int folds, epochs;
  double rate, l2;
  unsigned bits, families;
};

/* A prompt's features (router_features()), kept by the row function. */
struct feats {
  uint32_t *v;
  size_t n;
};

struct trainer {
  struct rt_opts o;
  struct outcomes oc;
  struct feats *f;          /* per row */
  size_t nf, capf;
  int nheads;
  char heads[OUTCOMES_MAX_MODELS + 3][TF_LABEL_MAX];
  int head_model[OUTCOMES_MAX_MODELS + 3]; /* recorded model whose score
                                              a head predicts */
  int tier[OUTCOMES_MAX_MODELS];           /* 0: unknown */
};

static int keep_features(void *ctx, struct outcomes *o, struct orow *r,
                         jv request, char *err, size_t errlen)
{
  struct trainer *t = ctx;
  static char text[ROUTER_TEXT_MAX];
  uint32_t buf[TF_MAX_FEATS];
  size_t n, total, len = router_text(request, text, sizeof(text), &total);

  (void)o;
  (void)r;
  if(!len) {
    snprintf(err, errlen, "no user message text");
    return -1;
  }
  n = router_features(text, len, total, t->o.families, t->o.bits, buf,
                      NULL);
  if(t->nf == t->capf) {
    size_t cap = t->capf ? t->capf * 2 : 1024;
    struct feats *f = realloc(t->f, cap * sizeof(*f));
    if(!f) {
      snprintf(err, errlen, "out of memory");
      return -1;
    }
    t->f = f;
    t->capf = cap;
  }
  t->f[t->nf].v = malloc((n ? n : 1) * sizeof(uint32_t));
  if(!t->f[t->nf].v) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  memcpy(t->f[t->nf].v, buf, n * sizeof(uint32_t));
  t->f[t->nf].n = n;
  t->nf++;
  return 0;
}

/* ---------------------------------------------------------------------
 * Logistic regression, one head
 */

struct head {
  float *w;   /* 2^bits */
  double b;
};

static double sigmoid(double z)
{
  return z >= 0 ? 1.0 / (1.0 + exp(-z)) : exp(z) / (1.0 + exp(z));
}

static double score_of(const struct head *h, const struct feats *f)
{
  double z = 0;
  size_t i;

  for(i = 0; i < f->n; i++)
    z += h->w[f->v[i]];
  return h->b + (f->n ? z / sqrt((double)f->n) : 0);
}

/* Fit h on the rows with use[i] set whose model m has a score. */
static void fit_head(const struct trainer *t, struct head *h, int m,
                     const char *use)
{
  size_t n = t->oc.n, i, k, *order = malloc(n * sizeof(size_t));
  unsigned long rng = 88172645463325252ul;
  int e;

  memset(h->w, 0, ((size_t)1 << t->o.bits) * sizeof(float));
  h->b = 0;
  if(!order)
    return;
  for(i = 0; i < n; i++)
    order[i] = i;
  for(e = 0; e < t->o.epochs; e++) {
    double lr = t->o.rate / (1.0 + e);
    for(i = n; i > 1; i--) { /* a fixed shuffle: the fit is repeatable */
      size_t j;
      rng ^= rng << 13;
      rng ^= rng >> 7;
      rng ^= rng << 17;
      j = (size_t)(rng % i);
      k = order[i - 1];
      order[i - 1] = order[j];
      order[j] = k;
    }
    for(k = 0; k < n; k++) {
      const struct feats *f;
      double y, g, s;
      i = order[k];
      y = t->oc.rows[i].score[m];
      if((use && !use[i]) || isnan(y))
        continue;
      f = &t->f[i];
      g = sigmoid(score_of(h, f)) - y;
      s = f->n ? 1.0 / sqrt((double)f->n) : 0;
      h->b -= lr * g;
      for(size_t j = 0; j < f->n; j++) {
        float *w = &h->w[f->v[j]];
        *w -= (float)(lr * (g * s + t->o.l2 * *w));
      }
    }
  }
  free(order);
}

/* ---------------------------------------------------------------------
 * Heads, cross-validation, thresholds
 */

/* Tiers of the recorded models from a catalog (borrowed path). */
static int read_tiers(struct trainer *t, const char *path)
{
  jv cat, models;
  char err[1024];
  int m;

  if(catalog_load(path, &cat, err, sizeof(err))) {
    fprintf(stderr, "llmroute train: %s\n", err);
    return -1;
  }
  models = jv_object_get(cat, jv_string("models"));
  for(m = 0; m < t->oc.nmodels; m++) {
    jv e = jv_object_get(jv_copy(models), jv_string(t->oc.models[m]));
    jv tier = jv_get_kind(e) == JV_KIND_OBJECT
              ? jv_object_get(jv_copy(e), jv_string("tier")) : jv_null();
    t->tier[m] = jv_get_kind(tier) == JV_KIND_NUMBER
                 ? (int)jv_number_value(tier) : 0;
    jv_free(tier);
    jv_free(e);
  }
  jv_free(models);
  return 0;
}

/* Mean recorded score of model m over the rows (use: those set). */
static double mean_score(const struct trainer *t, int m, const char *use)
{
  double s = 0;
  size_t i, n = 0;

  for(i = 0; i < t->oc.n; i++)
    if((!use || use[i]) && !isnan(t->oc.rows[i].score[m])) {
      s += t->oc.rows[i].score[m];
      n++;
    }
  return n ? s / (double)n : 0;
}

/* One head per recorded model, then "tier:N" for the best of each tier
 * the catalog gives. */
static int make_heads(struct trainer *t)
{
  int m, tier;

  for(m = 0; m < t->oc.nmodels; m++) {
    if(strlen(t->oc.models[m]) >= TF_LABEL_MAX ||
       strchr(t->oc.models[m], ' ')) {
      fprintf(stderr, "llmroute train: model name '%s' is longer than %d "
              "bytes or has a blank\n", t->oc.models[m], TF_LABEL_MAX - 1);
      return -1;
    }
    snprintf(t->heads[t->nheads], TF_LABEL_MAX, "%s", t->oc.models[m]);
    t->head_model[t->nheads++] = m;
  }
  for(tier = 1; tier <= 3; tier++) {
    int best = -1;
    double bs = -1;
    for(m = 0; m < t->oc.nmodels; m++) {
      double s = t->tier[m] == tier ? mean_score(t, m, NULL) : -1;
      if(s > bs) {
        bs = s;
        best = m;
      }
    }
    if(best < 0)
      continue;
    if(t->nheads == TF_MAX_LABELS) {
      fprintf(stderr, "llmroute train: more than %d predictors\n",
              TF_MAX_LABELS);
      return -1;
    }
    snprintf(t->heads[t->nheads], TF_LABEL_MAX, "tier:%d", tier);
    t->head_model[t->nheads++] = best;
  }
  return 0;
}

#define NT 401 /* thresholds 0, 0.0025, ..., 1 */

/* Cross-validated predictions of every model head: oof[row * nm + m]. */
static int cross_validate(struct trainer *t, float *oof)
{
  size_t n = t->oc.n, i;
  int nm = t->oc.nmodels, fold, m;
  char *use = malloc(n);
  struct head h;

  h.w = malloc(((size_t)1 << t->o.bits) * sizeof(float));
  if(!use || !h.w) {
    free(use);
    free(h.w);
    return -1;
  }
  for(fold = 0; fold < t->o.folds; fold++) {
    for(i = 0; i < n; i++)
      use[i] = (int)(tf_hash(t->oc.rows[i].id, strlen(t->oc.rows[i].id)) %
                     (uint32_t)t->o.folds) != fold;
    for(m = 0; m < nm; m++) {
      fit_head(t, &h, m, use);
      for(i = 0; i < n; i++)
        if(!use[i])
          oof[i * (size_t)nm + (size_t)m] = (float)sigmoid(score_of(&h,
                                                             &t->f[i]));
    }
  }
  free(use);
  free(h.w);
  return 0;
}

/* Quality (mean score) and cost of the policy at threshold thr over the
 * rows, on predictions pred (rows x nm). */
static void policy_run(const struct trainer *t, const float *pred,
                       const double *mcost, double thr, double *quality,
                       double *cost)
{
  int nm = t->oc.nmodels, m;
  double p[OUTCOMES_MAX_MODELS];
  char skip[OUTCOMES_MAX_MODELS];
  size_t i;

  *quality = *cost = 0;
  for(i = 0; i < t->oc.n; i++) {
    const struct orow *r = &t->oc.rows[i];
    int pick;
    for(m = 0; m < nm; m++) {
      p[m] = pred[i * (size_t)nm + (size_t)m];
      skip[m] = (char)isnan(r->score[m]);
    }
    pick = router_choose(p, mcost, skip, nm, thr);
    if(pick >= 0) {
      *quality += r->score[pick];
      *cost += r->cost[pick];
    }
  }
  *quality /= (double)t->oc.n;
}

/* Thresholds for targets 0.50 ... 1.00 into the router's meta line, and
 * the cross-validated table on stdout. */
static int thresholds(struct trainer *t, const float *oof, int base,
                      struct tf_model *r)
{
  double mcost[OUTCOMES_MAX_MODELS], q[NT], c[NT], bq = 0, bc = 0;
  char line[TF_META_MAX];
  size_t len = 0, i;
  int m, k, qi;

  for(m = 0; m < t->oc.nmodels; m++)
    mcost[m] = outcomes_mean_cost(&t->oc, m);
  for(i = 0; i < t->oc.n; i++)
    if(!isnan(t->oc.rows[i].score[base])) {
      bq += t->oc.rows[i].score[base];
      bc += t->oc.rows[i].cost[base];
    }
  bq /= (double)t->oc.n;
  for(k = 0; k < NT; k++)
    policy_run(t, oof, mcost, k / (double)(NT - 1), &q[k], &c[k]);
  printf("cross-validated (%d folds), baseline %s: quality %.4f, cost "
         "%.4f USD\n  target  threshold  quality  of baseline  cost USD  "
         "savings\n", t->o.folds, t->oc.models[base], bq, bc);
  line[0] = '\0';
  for(qi = 50; qi <= 100; qi++) {
    double target = qi / 100.0;
    int pick = NT - 1;
    for(k = 0; k < NT; k++)
      if(bq > 0 && q[k] / bq >= target - 1e-12) {
        pick = k;
        break;
      }
    printf("  %.2f    %.4f     %.4f   %.1f%%       %.4f    %.1f%%\n",
           target, pick / (double)(NT - 1), q[pick],
           bq > 0 ? 100 * q[pick] / bq : 0, c[pick],
           bc > 0 ? 100 * (1 - c[pick] / bc) : 0);
    len += (size_t)snprintf(line + len, sizeof(line) - len, "%s%.2f:%.4f",
                            len ? " " : "", target,
                            pick / (double)(NT - 1));
    if(len >= sizeof(line))
      return -1;
  }
  return tf_model_set_meta(r, "thresholds", line);
}

/* ---------------------------------------------------------------------
 * The command
 */

static int parse_args(int argc, char **argv, struct rt_opts *o)
{
  int i;

  memset(o, 0, sizeof(*o));
  o->folds = 5;
  o->epochs = 3;
  o->rate = 0.2;
  o->l2 = 1e-3;
  o->bits = ROUTER_BITS;
  o->families = ROUTER_FAMILIES;
  for(i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    char *end = NULL;
    if(!v) {
      fprintf(stderr, "llmroute train: %s needs a value\n", a);
      return -1;
    }
    i++;
    errno = 0;
    if(!strcmp(a, "--outcomes"))
      o->outcomes = v;
    else if(!strcmp(a, "-o"))
      o->out = v;
    else if(!strcmp(a, "--catalog"))
      o->catalog = v;
    else if(!strcmp(a, "--baseline"))
      o->baseline = v;
    else if(!strcmp(a, "--folds"))
      o->folds = (int)strtol(v, &end, 10);
    else if(!strcmp(a, "--epochs"))
      o->epochs = (int)strtol(v, &end, 10);
    else if(!strcmp(a, "--rate"))
      o->rate = strtod(v, &end);
    else if(!strcmp(a, "--l2"))
      o->l2 = strtod(v, &end);
    else if(!strcmp(a, "--bits"))
      o->bits = (unsigned)strtoul(v, &end, 10);
    else if(!strcmp(a, "--features")) {
      int f = tf_families_parse(v);
      if(f <= 0 || (f & (TF_F_CHAR3 | TF_F_CHAR4))) {
        fprintf(stderr, "llmroute train: --features: words, bigrams, "
                "signals\n");
        return -1;
      }
      o->families = (unsigned)f;
    }
    else {
      fprintf(stderr, "llmroute train: unknown option '%s' with "
              "--outcomes\n", a);
      return -1;
    }
    if(end && (*end || end == v || errno)) {
      fprintf(stderr, "llmroute train: %s: bad number '%s'\n", a, v);
      return -1;
    }
  }
  if(!o->outcomes || !o->out || o->folds < 2 || o->folds > 20 ||
     o->epochs < 1 || o->epochs > 100 || !(o->rate > 0) || o->l2 < 0 ||
     o->bits < 8 || o->bits > 22) {
    fprintf(stderr, "usage: llmroute train --outcomes FILE -o ROUTER "
            "[--catalog CAT.json] [--baseline MODEL] [--folds 2..20] "
            "[--epochs 1..100] [--rate R>0] [--l2 L>=0] [--bits 8..22] "
            "[--features words,bigrams,signals]\n");
    return -1;
  }
  return 0;
}

int train_router_main(int argc, char **argv)
{
  struct trainer t;
  struct outcomes_opts oo;
  struct tf_model *r = NULL;
  const char *labels[TF_MAX_LABELS];
  float *oof = NULL;
  struct head h;
  char err[1024], tiers[TF_META_MAX], note[256];
  size_t i, tl = 0, nb;
  int base, k, rc = 2;

  memset(&t, 0, sizeof(t));
  h.w = NULL;
  if(parse_args(argc, argv, &t.o))
    return 2;
  oo.row = keep_features;
  oo.ctx = &t;
  if(outcomes_load(t.o.outcomes, &t.oc, &oo, err, sizeof(err))) {
    fprintf(stderr, "llmroute train: %s\n", err);
    goto done;
  }
  if(t.o.catalog && read_tiers(&t, t.o.catalog))
    goto done;
  base = outcomes_baseline(&t.oc, t.o.baseline);
  if(base < 0) {
    fprintf(stderr, "llmroute train: baseline '%s' is not a recorded "
            "model\n", t.o.baseline);
    goto done;
  }
  if(make_heads(&t))
    goto done;
  printf("%zu prompts, %d models, %d predictors\n", t.oc.n, t.oc.nmodels,
         t.nheads);
  oof = malloc(t.oc.n * (size_t)t.oc.nmodels * sizeof(float));
  for(k = 0; k < t.nheads; k++)
    labels[k] = t.heads[k];
  r = tf_model_new(t.o.bits, t.o.families, (unsigned)t.nheads, labels);
  nb = (size_t)1 << t.o.bits;
  h.w = malloc(nb * sizeof(float));
  if(!oof || !r || !h.w || cross_validate(&t, oof)) {
    fprintf(stderr, "llmroute train: out of memory\n");
    goto done;
  }
  snprintf(r->algo, sizeof(r->algo), "ovr");
  r->norm_sqrt = 1;
  tiers[0] = '\0';
  for(k = 0; k < t.oc.nmodels; k++)
    if(t.tier[k])
      tl += (size_t)snprintf(tiers + tl, sizeof(tiers) - tl, "%s%s:%d",
                             tl ? " " : "", t.oc.models[k], t.tier[k]);
  snprintf(note, sizeof(note), "%zu prompts, %d folds, %d epochs, rate "
           "%g, l2 %g", t.oc.n, t.o.folds, t.o.epochs, t.o.rate, t.o.l2);
  if(tf_model_set_meta(r, "baseline", t.oc.models[base]) ||
     (tl && (tl >= sizeof(tiers) || tf_model_set_meta(r, "tiers", tiers))) ||
     tf_model_set_meta(r, "trained", note) ||
     thresholds(&t, oof, base, r)) {
    fprintf(stderr, "llmroute train: the router's notes do not fit\n");
    goto done;
  }
  for(k = 0; k < t.nheads; k++) {
    fit_head(&t, &h, t.head_model[k], NULL);
    r->bias[k] = (float)h.b;
    for(i = 0; i < nb; i++)
      r->w[i * (size_t)t.nheads + (size_t)k] = h.w[i];
  }
  if(tf_model_save(r, t.o.out, 1, err, sizeof(err))) {
    fprintf(stderr, "llmroute train: %s\n", err);
    goto done;
  }
  printf("router written to %s\n", t.o.out);
  rc = 0;
done:
  for(i = 0; i < t.nf; i++)
    free(t.f[i].v);
  free(t.f);
  free(oof);
  free(h.w);
  tf_model_free(r);
  outcomes_free(&t.oc);
  tf_release();
  return rc;
}
