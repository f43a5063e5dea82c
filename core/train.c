/*
 * train.c - `llmroute train`: fit the classify stage's task model.
 *
 *   llmroute train [-o MODEL] [--eval-split F] [--test FILE]...
 *                  [--algo nb|lr] [--bits N] [--features LIST]
 *                  [--alpha A] [--epochs N] [--min-count N] [--text]
 *                  FILE.jsonl...
 *
 * Each input line is a labelled example: {"prompt":"...","task":"coding"}
 * or {"messages":[...],"task":...} (also a Batch API line with "body").
 * The text is featurized exactly as the classify stage does it
 * (core/textfeat.c).  With --eval-split F (default 0.2) a fixed fraction
 * of the examples, chosen by a hash of their text (so a run is
 * reproducible and duplicates stay on one side), is held out: a model is
 * fitted on the rest and its accuracy and confusion matrix printed.  The
 * model written to MODEL is then fitted on every example.  --test FILE
 * reports that model's accuracy on other labelled files.
 *
 * Defaults: --algo lr (multinomial logistic regression, 8 epochs of SGD;
 * nb is multinomial naive Bayes with --alpha smoothing), --bits 16
 * (2^16 hash buckets: 2.4 MB of weights in memory), --min-count 2
 * (features seen once are dropped), the compact binary weight format
 * (--text writes text rows).
 *
 * Report on stdout; errors on stderr.  Exit status 0, or 2 on a usage
 * error, an unreadable file or a bad line (named as FILE:LINE).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core.h"
#include "textfeat.h"

struct example {
  uint32_t *feats;
  size_t nfeat;
  int label;     /* index into the label set, -1: not a training label */
  int held;      /* 1: in the held-out split */
};

struct exset {
  struct example *ex;
  size_t n, cap;
};

struct labelset {
  char names[TF_MAX_LABELS][TF_LABEL_MAX];
  unsigned n;
};

struct opts {
  const char *out;
  double split, alpha;
  const char *algo;
  unsigned bits, families;
  int epochs, min_count, text;
};

static void usage(FILE *f)
{
  fputs("usage: llmroute train [-o MODEL] [--eval-split F] [--test FILE]...\n"
        "         [--algo nb|lr] [--bits N] [--features LIST] [--alpha A]\n"
        "         [--epochs N] [--min-count N] [--text] FILE.jsonl...\n"
        "Each line: {\"prompt\":\"...\",\"task\":\"coding\"} or "
        "{\"messages\":[...],\"task\":...}\n"
        "Features: words,bigrams,char3,char4,signals "
        "(default words,bigrams,char4,signals)\n", f);
}

/* ---------------------------------------------------------------------
 * Reading examples
 */

static void exset_free(struct exset *s)
{
  size_t i;
  for(i = 0; i < s->n; i++)
    free(s->ex[i].feats);
  free(s->ex);
  memset(s, 0, sizeof(*s));
}

/* Index of name in ls; adds it when add is set.  -1 if absent/full. */
static int label_index(struct labelset *ls, const char *name, int add)
{
  unsigned i;
  for(i = 0; i < ls->n; i++)
    if(!strcmp(ls->names[i], name))
      return (int)i;
  if(!add || ls->n >= TF_MAX_LABELS)
    return -1;
  snprintf(ls->names[ls->n], TF_LABEL_MAX, "%s", name);
  return (int)ls->n++;
}

/* Borrows line.  Appends one example to set; 0, 1 for a blank line, or
 * -1 after printing FILE:LINE: message. */
static int read_example(const struct opts *o, struct labelset *ls,
                        int add_labels, struct exset *set,
                        const char *file, long lineno, char *line,
                        size_t len)
{
  static char text[TF_TEXT_MAX];
  uint32_t feats[TF_MAX_FEATS];
  struct example *e;
  size_t tlen, total;
  jv v, task;
  int rc = -1;
  while(len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
    line[--len] = '\0';
  if(!len || strspn(line, " \t") == len)
    return 1;
  v = json_parse(line, (size_t)len);
  if(!jv_is_valid(v)) {
    jv msg = jv_invalid_get_msg(v);
    fprintf(stderr, "llmroute train: %s:%ld: invalid JSON (%s)\n", file,
            lineno, jv_get_kind(msg) == JV_KIND_STRING ?
            jv_string_value(msg) : "parse error");
    jv_free(msg);
    return -1;
  }
  if(jv_get_kind(v) != JV_KIND_OBJECT) {
    fprintf(stderr, "llmroute train: %s:%ld: not a JSON object\n", file,
            lineno);
    goto done;
  }
  task = jv_object_get(jv_copy(v), jv_string("task"));
  if(jv_get_kind(task) != JV_KIND_STRING ||
     !jv_string_length_bytes(jv_copy(task)) ||
     jv_string_length_bytes(jv_copy(task)) >= TF_LABEL_MAX ||
     strpbrk(jv_string_value(task), " \t\n")) {
    fprintf(stderr, "llmroute train: %s:%ld: no \"task\" label (a short "
            "string without spaces)\n", file, lineno);
    jv_free(task);
    goto done;
  }
  tlen = tf_request_text(v, text, sizeof(text), &total);
  if(!tlen) {
    fprintf(stderr, "llmroute train: %s:%ld: no text (give \"prompt\" or "
            "\"messages\")\n", file, lineno);
    jv_free(task);
    goto done;
  }
  if(set->n == set->cap) {
    size_t cap = set->cap ? set->cap * 2 : 256;
    struct example *ex = realloc(set->ex, cap * sizeof(*ex));
    if(!ex) {
      fprintf(stderr, "llmroute train: out of memory\n");
      jv_free(task);
      goto done;
    }
    set->ex = ex;
    set->cap = cap;
  }
  e = &set->ex[set->n];
  e->label = label_index(ls, jv_string_value(task), add_labels);
  if(e->label < 0 && add_labels) {
    fprintf(stderr, "llmroute train: %s:%ld: more than %d labels\n", file,
            lineno, TF_MAX_LABELS);
    jv_free(task);
    goto done;
  }
  jv_free(task);
  e->nfeat = tf_text_features(text, tlen, total, o->families, o->bits,
                              feats, NULL);
  e->feats = malloc((e->nfeat ? e->nfeat : 1) * sizeof(uint32_t));
  if(!e->feats) {
    fprintf(stderr, "llmroute train: out of memory\n");
    goto done;
  }
  memcpy(e->feats, feats, e->nfeat * sizeof(uint32_t));
  e->held = (tf_hash(text, tlen) % 10000u) < (uint32_t)(o->split * 10000);
  set->n++;
  rc = 0;
done:
  jv_free(v);
  return rc;
}

/* Reads every line of file into set.  0 or -1 (message printed). */
static int read_file(const struct opts *o, struct labelset *ls,
                     int add_labels, struct exset *set, const char *file)
{
  FILE *f = strcmp(file, "-") ? fopen(file, "r") : stdin;
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  long lineno = 0;
  int rc = 0;
  if(!f) {
    fprintf(stderr, "llmroute train: %s: %s\n", file, strerror(errno));
    return -1;
  }
  while((len = getline(&line, &cap, f)) >= 0) {
    lineno++;
    if(read_example(o, ls, add_labels, set, file, lineno, line,
                    (size_t)len) < 0) {
      rc = -1;
      break;
    }
  }
  if(!rc && ferror(f)) {
    fprintf(stderr, "llmroute train: %s: read error\n", file);
    rc = -1;
  }
  free(line);
  if(f != stdin)
    fclose(f);
  return rc;
}

/* ---------------------------------------------------------------------
 * Fitting
 */

/* Multinomial naive Bayes with additive smoothing alpha; rows seen fewer
 * than min_count times fall back to the default row.  Weights are
 * centred per row (softmax does not change), which keeps the file small. */
static int fit_nb(struct tf_model *m, const struct exset *set, int use_held,
                  const struct opts *o)
{
  size_t nb = (size_t)1 << m->bits, i, j, r;
  unsigned c, nl = m->nlabels;
  double *cnt = calloc(nb, nl * sizeof(double));
  double tot[TF_MAX_LABELS] = {0}, docs[TF_MAX_LABELS] = {0}, ndocs = 0;
  if(!cnt)
    return -1;
  for(i = 0; i < set->n; i++) {
    const struct example *e = &set->ex[i];
    if(e->label < 0 || (e->held && !use_held))
      continue;
    docs[e->label]++;
    ndocs++;
    for(j = 0; j < e->nfeat; j++) {
      cnt[(size_t)e->feats[j] * nl + (size_t)e->label]++;
      tot[e->label]++;
    }
  }
  for(c = 0; c < nl; c++) {
    m->bias[c] = (float)log((docs[c] + 1) / (ndocs + nl));
    m->def[c] = (float)log(o->alpha / (tot[c] + o->alpha * (double)nb));
  }
  {
    double mean = 0;
    for(c = 0; c < nl; c++)
      mean += m->def[c];
    mean /= nl;
    for(c = 0; c < nl; c++)
      m->def[c] = (float)(m->def[c] - mean);
  }
  for(r = 0; r < nb; r++) {
    double *row = cnt + r * nl, seen = 0, mean = 0, v[TF_MAX_LABELS];
    float *w = m->w + r * nl;
    for(c = 0; c < nl; c++)
      seen += row[c];
    if(seen < (double)(o->min_count > 0 ? o->min_count : 1)) {
      memcpy(w, m->def, nl * sizeof(float));
      continue;
    }
    for(c = 0; c < nl; c++) {
      v[c] = log((row[c] + o->alpha) / (tot[c] + o->alpha * (double)nb));
      mean += v[c];
    }
    mean /= nl;
    for(c = 0; c < nl; c++)
      w[c] = (float)(v[c] - mean);
  }
  strcpy(m->algo, "nb");
  m->norm_sqrt = 0;
  free(cnt);
  return 0;
}

/* Multinomial logistic regression by plain SGD, features scaled by
 * 1/sqrt(count); a fixed shuffle seed makes it reproducible. */
static int fit_lr(struct tf_model *m, const struct exset *set, int use_held,
                  const struct opts *o)
{
  size_t *order = malloc((set->n ? set->n : 1) * sizeof(size_t));
  size_t n = 0, i, j, nb = (size_t)1 << m->bits;
  unsigned c, nl = m->nlabels;
  unsigned *seen = calloc(nb, sizeof(unsigned));
  uint32_t seed = 12345;
  int ep;
  if(!order || !seen) {
    free(order);
    free(seen);
    return -1;
  }
  for(i = 0; i < set->n; i++)
    if(set->ex[i].label >= 0 && (use_held || !set->ex[i].held)) {
      order[n++] = i;
      for(j = 0; j < set->ex[i].nfeat; j++)
        seen[set->ex[i].feats[j]]++;
    }
  memset(m->w, 0, nb * nl * sizeof(float));
  memset(m->def, 0, sizeof(m->def));
  memset(m->bias, 0, sizeof(m->bias));
  m->norm_sqrt = 1;
  for(ep = 0; ep < o->epochs; ep++) {
    double lr = 0.5 / (1.0 + ep * 0.3);
    for(i = n; i > 1; i--) { /* Fisher-Yates with an LCG */
      size_t k, t;
      seed = seed * 1103515245u + 12345u;
      k = (seed >> 8) % i;
      t = order[i - 1];
      order[i - 1] = order[k];
      order[k] = t;
    }
    for(i = 0; i < n; i++) {
      const struct example *e = &set->ex[order[i]];
      double p[TF_MAX_LABELS], scale;
      if(!e->nfeat)
        continue;
      scale = 1.0 / sqrt((double)e->nfeat);
      tf_model_predict(m, e->feats, e->nfeat, p);
      for(c = 0; c < nl; c++) {
        p[c] -= (c == (unsigned)e->label);
        m->bias[c] -= (float)(lr * 0.1 * p[c]);
      }
      for(j = 0; j < e->nfeat; j++) {
        float *w = m->w + (size_t)e->feats[j] * nl;
        if(seen[e->feats[j]] < (unsigned)o->min_count)
          continue; /* rare: left at 0, as a model without it */
        for(c = 0; c < nl; c++)
          w[c] -= (float)(lr * scale * p[c] + lr * 1e-4 * w[c]);
      }
    }
  }
  strcpy(m->algo, "lr");
  free(order);
  free(seen);
  return 0;
}

static struct tf_model *fit(const struct exset *set,
                            const struct labelset *ls, int use_held,
                            const struct opts *o)
{
  const char *names[TF_MAX_LABELS];
  struct tf_model *m;
  unsigned i;
  int rc;
  for(i = 0; i < ls->n; i++)
    names[i] = ls->names[i];
  m = tf_model_new(o->bits, o->families, ls->n, names);
  if(!m)
    return NULL;
  rc = strcmp(o->algo, "lr") ? fit_nb(m, set, use_held, o)
                             : fit_lr(m, set, use_held, o);
  if(rc) {
    tf_model_free(m);
    return NULL;
  }
  return m;
}

/* ---------------------------------------------------------------------
 * Evaluation
 */

/* Prints accuracy (and with confusion set, the matrix) of m on the
 * examples of set selected by which (1: held only, 2: all). */
static void evaluate(const struct tf_model *m, const struct labelset *ls,
                     const struct exset *set, int which, const char *title,
                     int confusion)
{
  static unsigned conf[TF_MAX_LABELS + 1][TF_MAX_LABELS];
  size_t i, n = 0, ok = 0;
  unsigned r, c;
  memset(conf, 0, sizeof(conf));
  for(i = 0; i < set->n; i++) {
    const struct example *e = &set->ex[i];
    int p;
    if(which == 1 && !e->held)
      continue;
    p = tf_model_predict(m, e->feats, e->nfeat, NULL);
    n++;
    ok += (p == e->label);
    conf[e->label < 0 ? TF_MAX_LABELS : e->label][p]++;
  }
  printf("%s: accuracy %.3f (%zu/%zu)\n", title,
         n ? (double)ok / (double)n : 0.0, ok, n);
  if(!confusion || !n)
    return;
  printf("  confusion (rows: true label, columns: predicted):\n  %-21s",
         "");
  for(c = 0; c < ls->n; c++)
    printf(" %4.4s", ls->names[c]);
  printf("  recall\n");
  for(r = 0; r <= TF_MAX_LABELS; r++) {
    unsigned rowsum = 0;
    if(r < TF_MAX_LABELS && r >= ls->n)
      continue;
    for(c = 0; c < ls->n; c++)
      rowsum += conf[r][c];
    if(!rowsum)
      continue;
    printf("  %-21s", r < TF_MAX_LABELS ? ls->names[r] : "(other label)");
    for(c = 0; c < ls->n; c++)
      printf(" %4u", conf[r][c]);
    printf("  %.2f\n", r < TF_MAX_LABELS ? conf[r][r] / (double)rowsum : 0);
  }
}

/* ---------------------------------------------------------------------
 * The command
 */

static int parse_num(const char *s, double lo, double hi, double *out)
{
  char *end;
  double v;
  errno = 0;
  v = strtod(s, &end);
  if(end == s || *end || errno || v < lo || v > hi)
    return -1;
  *out = v;
  return 0;
}

/* Borrows argv.  Exit status: 0 ok, 2 usage or input error. */
int train_main(int argc, char **argv)
{
  for(int a = 1; a < argc; a++)
    if(!strcmp(argv[a], "--outcomes"))
      return train_router_main(argc, argv);
  struct opts o = {"classifier.model", 0.2, 0.1, "lr", 16, TF_F_DEFAULT,
                   8, 2, 0};
  struct labelset ls;
  struct exset set = {NULL, 0, 0};
  const char *tests[64];
  struct tf_model *m = NULL;
  char err[512];
  int i, ntests = 0, nfiles = 0, rc = 2;
  size_t nheld = 0, k;
  memset(&ls, 0, sizeof(ls));
  for(i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    double d;
    if(!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      return 0;
    }
    if(!strcmp(a, "--text")) {
      o.text = 1;
      continue;
    }
    if(a[0] != '-' || !strcmp(a, "-")) {
      nfiles++;
      continue;
    }
    if(!v) {
      fprintf(stderr, "llmroute train: %s needs a value\n", a);
      usage(stderr);
      return 2;
    }
    i++;
    if(!strcmp(a, "-o"))
      o.out = v;
    else if(!strcmp(a, "--eval-split") && !parse_num(v, 0, 0.9, &d))
      o.split = d;
    else if(!strcmp(a, "--alpha") && !parse_num(v, 1e-6, 100, &d))
      o.alpha = d;
    else if(!strcmp(a, "--bits") && !parse_num(v, 8, 24, &d))
      o.bits = (unsigned)d;
    else if(!strcmp(a, "--epochs") && !parse_num(v, 1, 1000, &d))
      o.epochs = (int)d;
    else if(!strcmp(a, "--min-count") && !parse_num(v, 1, 1e6, &d))
      o.min_count = (int)d;
    else if(!strcmp(a, "--algo") && (!strcmp(v, "nb") || !strcmp(v, "lr")))
      o.algo = v;
    else if(!strcmp(a, "--features") && tf_families_parse(v) > 0)
      o.families = (unsigned)tf_families_parse(v);
    else if(!strcmp(a, "--test") && ntests < 64)
      tests[ntests++] = v;
    else {
      fprintf(stderr, "llmroute train: bad option or value: %s %s\n", a,
              v);
      usage(stderr);
      return 2;
    }
  }
  if(!nfiles) {
    fprintf(stderr, "llmroute train: no training files\n");
    usage(stderr);
    return 2;
  }
  for(i = 1; i < argc; i++) {
    if(argv[i][0] == '-' && strcmp(argv[i], "-")) {
      i += strcmp(argv[i], "--text") != 0;
      continue;
    }
    if(read_file(&o, &ls, 1, &set, argv[i]))
      goto done;
  }
  if(!set.n) {
    fprintf(stderr, "llmroute train: no examples in the training files\n");
    goto done;
  }
  for(k = 0; k < set.n; k++)
    nheld += set.ex[k].held;
  printf("train: %zu examples, %u labels, algo %s, 2^%u buckets\n", set.n,
         ls.n, o.algo, o.bits);
  if(o.split > 0 && nheld && nheld < set.n) {
    char title[96];
    m = fit(&set, &ls, 0, &o);
    if(!m)
      goto oom;
    snprintf(title, sizeof(title), "held-out %.0f%% (%zu examples)",
             o.split * 100, nheld);
    evaluate(m, &ls, &set, 1, title, 1);
    tf_model_free(m);
  }
  m = fit(&set, &ls, 1, &o);
  if(!m)
    goto oom;
  for(i = 0; i < ntests; i++) {
    struct exset ts = {NULL, 0, 0};
    char title[300];
    if(read_file(&o, &ls, 0, &ts, tests[i])) {
      exset_free(&ts);
      goto done;
    }
    snprintf(title, sizeof(title), "test %s", tests[i]);
    evaluate(m, &ls, &ts, 2, title, 1);
    exset_free(&ts);
  }
  if(tf_model_save(m, o.out, !o.text, err, sizeof(err))) {
    fprintf(stderr, "llmroute train: %s\n", err);
    goto done;
  }
  printf("model: %s (trained on all %zu examples)\n", o.out, set.n);
  rc = 0;
  goto done;
oom:
  fprintf(stderr, "llmroute train: out of memory\n");
done:
  tf_model_free(m);
  exset_free(&set);
  tf_release();
  return rc;
}
