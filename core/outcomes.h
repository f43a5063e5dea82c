/*
 * outcomes.h - recorded outcomes in memory (outcomes.c), for `llmroute
 * eval` and `llmroute train --outcomes`.  Internal to the runner.
 */
#ifndef LLMR_OUTCOMES_H
#define LLMR_OUTCOMES_H

#include <stdio.h>
#include <jv.h>
#include "strmap.h"

#define OUTCOMES_MAX_MODELS 64

struct orow {
  char *id;        /* custom_id */
  char *bench;     /* "benchmark", or NULL */
  float *score;    /* per model: score in [0, 1], NAN when not recorded */
  float *cost;     /* per model: recorded USD, NAN when not recorded */
  char *text;      /* set by a row function that keeps it, else NULL */
  float *pred;     /* set by a row function that predicts, else NULL */
};

struct outcomes {
  char *models[OUTCOMES_MAX_MODELS];
  int nmodels;
  struct strmap model_ix;  /* name -> index */
  struct orow *rows;
  size_t n, cap;
  struct strmap row_ix;    /* custom_id -> row */
};

struct outcomes_opts {
  /* Called for every row read with the line's request part (borrowed:
   * the line without "outcomes" and "benchmark", its custom_id set).
   * 0, or -1 with a message in err (the load stops). */
  int (*row)(void *ctx, struct outcomes *o, struct orow *r, jv request,
             char *err, size_t errlen);
  void *ctx;
};

/* Read path ("-": stdin) into o.  0, or -1 with "path:LINE: message" in
 * err (o holds what was read; free it either way). */
int outcomes_load(const char *path, struct outcomes *o,
                  const struct outcomes_opts *opt, char *err, size_t errlen);
void outcomes_free(struct outcomes *o);

/* Mean recorded cost of model m over the rows that record it. */
double outcomes_mean_cost(const struct outcomes *o, int m);
/* The baseline: model name (-1 when not recorded), or without a name
 * the model dearest on average. */
int outcomes_baseline(const struct outcomes *o, const char *name);

#endif /* LLMR_OUTCOMES_H */
