/*
 * router.h - the learned router: per-model predictors of success from a
 * prompt's features, trained by `llmroute train --outcomes` on recorded
 * outcomes, and the policy that picks a model from them.  Shared by the
 * trainer (core/train_router.c), the route stage (policy=learned) and
 * `llmroute eval` (the cost-quality curve and APGR), so all three see
 * the same features, predictions and choices.
 *
 * Internal library (core/lib): the model file and its features are the
 * built-in router's own format, not an interface for plugin authors.
 *
 * The file is a textfeat model (textfeat.h) with algo "ovr": one binary
 * logistic predictor per label.  Labels are the recorded models' names
 * and "tier:N" (a predictor of the best recorded model of tier N, which
 * serves catalog models the router has no predictor of: by tier).  Meta
 * lines:
 *   baseline NAME              the model quality is measured against
 *   thresholds Q:T Q:T ...     for a quality target Q (share of the
 *                              baseline's quality), the threshold T the
 *                              policy needs, chosen by cross-validation
 *                              on the training outcomes only
 *   tiers NAME:N ...           the recorded models' tiers
 *   trained N prompts, K folds: cv quality/cost notes (for people)
 *
 * The policy: a model m is acceptable when its predicted success p(m) is
 * at least T times the best predicted success among the candidates; the
 * cheapest acceptable candidate wins (a candidate whose p is the best is
 * always acceptable, so there is always a choice).
 */
#ifndef LLMR_ROUTER_H
#define LLMR_ROUTER_H

#include <stddef.h>
#include <stdint.h>
#include <jv.h>
#include "textfeat.h"

#define ROUTER_BITS 16
#define ROUTER_FAMILIES (TF_F_WORDS | TF_F_BIGRAMS)
/* (the families a router file names are the ones its features use) */

/* The text a router looks at: the last user message of request
 * (borrowed; any request shape), its last cap - 1 bytes at most, into
 * buf (NUL-terminated).  Returns the bytes written; *total gets the
 * whole message's length.  No allocation. */
#define ROUTER_TEXT_MAX 4096
size_t router_text(jv request, char *buf, size_t cap, size_t *total);

/* Features of that text (len bytes of a message of total bytes): words,
 * word pairs and signal buckets of its last paragraph (after the last
 * blank line: the question of a few-shot prompt), and a few shape
 * features of the whole (answer options, a fill-in blank, the number of
 * examples, the length).  Writes at most TF_MAX_FEATS ids in
 * [0, 2^bits) into feats and returns the count; *options (may be NULL)
 * gets the answer options the last paragraph lists.  Pure. */
size_t router_features(const char *text, size_t len, size_t total,
                       unsigned families, unsigned bits, uint32_t *feats,
                       int *options);

/* A loaded router (a tf_model with algo ovr), or NULL with the reason in
 * err ("path:LINE: message"). */
struct tf_model *router_load(const char *path, char *err, size_t errlen);

/* The threshold for quality target q (the table entry with the smallest
 * Q >= q; the largest T when q is above the table; 0 without a table). */
double router_threshold(const struct tf_model *r, double q);

/* The tier the meta line "tiers" gives model name, or 0. */
int router_tier(const struct tf_model *r, const char *name);

/* The policy over n candidates with predicted success p[i] and cost
 * cost[i] (skip[i] set: not eligible; skip may be NULL): the index
 * chosen at threshold t, or -1 when none is eligible. */
int router_choose(const double *p, const double *cost, const char *skip,
                  int n, double t);

#endif /* LLMR_ROUTER_H */
