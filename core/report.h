/*
 * report.h - what `llmroute report` gathers from result lines, shared by
 * report.c (reading, the table, JSON, CSV and markdown) and report_html.c
 * (the page).
 */
#ifndef LLMR_REPORT_H
#define LLMR_REPORT_H

#include <stdio.h>

/* The groupings of --by, in the order they print. */
enum rep_by { BY_TASK, BY_MODEL, BY_PROVIDER, BY_TAG, BY_CODE, BY_COUNT };

/* One row: the requests of one task (model, ...) and what they spent.
 * A superseded record (its custom_id comes again later) adds its tokens
 * and cost (really spent) but no request, error, baseline or latency. */
struct rep_row {
  const char *name;             /* interned */
  long requests, errors, superseded;
  long retried, fallback, escalated, invalid, cache_hit, cache_miss;
  double tokens_in, tokens_out, cost, baseline;
  double *lat;                  /* latencies (ms), sorted once read */
  size_t nlat, latcap;
};

struct rep_table {
  struct rep_row *rows;
  size_t n, cap;
};

/* One result line, as far as the report needs it. */
struct rep_rec {
  const char *cid, *task, *model, *provider, *code; /* interned */
  size_t tag0, att0;            /* into report.tags, report.atts */
  int ntags, natts;
  int tier;                     /* route.tier, 0 when none */
  double tokens_in, tokens_out, cost, baseline, latency;
  unsigned actual:1, base_actual:1, err:1, superseded:1, has_lat:1,
           retried:1, fallback:1, escalated:1, invalid:1;
  unsigned cache:2;             /* 0 none, 1 hit, 2 miss */
};

/* One attempt of a record: the model and provider that answered it. */
struct rep_att {
  const char *model, *provider;
  double tokens_in, tokens_out, cost;
};

struct report {
  struct rep_rec *recs;
  size_t nrecs, capr;
  const char **tags;
  size_t ntags, capt;
  struct rep_att *atts;
  size_t natts, capa;
  struct rep_table by[BY_COUNT];
  struct rep_row total;
  long actual, estimated, unreadable, baseline_actual;
  long nsuperseded, superseded_lineids;
  double superseded_cost;
  long tier[4];                 /* answered at tier 1..3 ([0]: no tier) */
};

/* Exact nearest-rank percentile q (0..100) of the sorted a[n]; -1 when
 * n is 0. */
double rep_pct(const double *a, size_t n, double q);
/* Savings of r in percent; 0 with *none set when there is no baseline. */
double rep_savings(const struct rep_row *r, int *none);

/* The names of --by, indexed by enum rep_by. */
extern const char *const rep_by_name[BY_COUNT];

/* report_fmt.c: the text forms on out.  want[] (BY_COUNT flags) names
 * the groupings; kind says "actual", "estimated" or mixed. */
void print_head(FILE *out, const struct report *rp, const char *kind);
void print_table(FILE *out, const struct report *rp, int by,
                 const char *kind);
int print_json(FILE *out, const struct report *rp, const int *want,
               const char *kind);
void print_csv(FILE *out, const struct report *rp, const int *want);
void print_markdown(FILE *out, const struct report *rp, const int *want,
                    const char *kind);

/* Write the self-contained HTML page of rp to f; 0, or -1 on a write
 * error. */
int report_html(const struct report *rp, const char *kind, FILE *f);

#endif
