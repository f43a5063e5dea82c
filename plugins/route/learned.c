/*
 * learned.c - route policy=learned: the router `llmroute train
 * --outcomes` fitted on recorded outcomes picks the model.
 *
 *   route policy=learned model=router.model quality=0.95 [agree=true]
 *         [agree_cost=2]
 *
 * For the request's last user message the router predicts, for every
 * catalog model that fits (tier, context, max_cost_usd, not tried), its
 * chance of answering well: its own predictor when the router was
 * trained on that model, else the predictor of its tier ("tier:N": the
 * best recorded model of that tier), so a router trained on recorded
 * models serves a catalog of others by tier.  A model whose chance is at
 * least T times the best candidate's is acceptable, and the cheapest
 * acceptable one (expected cost) wins; T is the threshold the router
 * holds for quality= (chosen at training by cross-validation so that
 * the policy kept that share of the baseline's quality).  A request
 * routed again after an escalation (its answer was found wrong) uses the
 * threshold of escalated_quality= instead (default 1: the model most
 * likely to answer well); with agree=true, a request no agreement can
 * check uses that of unchecked_quality= (default: quality=).
 *
 * route.complexity becomes the predicted chance that the cheapest tier
 * fails (1 - its best candidate's chance): a learned measure of
 * difficulty.  With agree=true, a request whose answer can be compared
 * (its last paragraph lists answer options "A) ...", or its task is
 * classification, math, knowledge_qa or commonsense) and that is routed
 * below the top tier on its first pass also names a partner in
 * route.agree: the most likely candidate, other than the one chosen,
 * costing at most agree_cost times as much.  The call stage asks both;
 * validate refuses an answer the two models disagree on, and escalate
 * goes up a tier.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route.h"
#include "core/lib/router.h"

int learned_init(struct route *r, const struct llmr_config *cf)
{
  const struct llmr_host *h = r->host;
  const struct llmr_value *v = h->opt(cf, "model");
  char err[1024], label[64];
  int i;

  if(!v || !v->str) {
    h->config_error(cf, "policy=learned needs model=ROUTER (written by "
                    "`llmroute train --outcomes`)");
    return LLMR_ERR;
  }
  r->router = router_load(v->str, err, sizeof(err));
  if(!r->router) {
    h->config_error(cf, "model=: %s", err);
    return LLMR_ERR;
  }
  r->quality = h->opt(cf, "quality")->d;
  if(!(r->quality > 0 && r->quality <= 1)) {
    h->config_error(cf, "quality must be in (0, 1]: the share of the "
                    "baseline's quality to keep");
    return LLMR_ERR;
  }
  r->threshold_l = router_threshold(r->router, r->quality);
  v = h->opt(cf, "unchecked_quality");
  if(v->str && !(v->d > 0 && v->d <= 1)) {
    h->config_error(cf, "unchecked_quality must be in (0, 1]");
    return LLMR_ERR;
  }
  r->threshold_unchecked = v->str ? router_threshold(r->router, v->d)
                                  : r->threshold_l;
  v = h->opt(cf, "escalated_quality");
  if(!(v->d > 0 && v->d <= 1)) {
    h->config_error(cf, "escalated_quality must be in (0, 1]");
    return LLMR_ERR;
  }
  r->threshold_up = router_threshold(r->router, v->d);
  r->agree = (int)h->opt(cf, "agree")->i;
  r->agree_cost = h->opt(cf, "agree_cost")->d;
  if(!(r->agree_cost >= 1)) {
    h->config_error(cf, "agree_cost must be >= 1");
    return LLMR_ERR;
  }
  r->head = malloc((size_t)(r->nmodels ? r->nmodels : 1) * sizeof(int));
  r->lp = malloc((size_t)(r->nmodels ? r->nmodels : 1) * sizeof(double));
  r->lcost = malloc((size_t)(r->nmodels ? r->nmodels : 1) * sizeof(double));
  r->lskip = malloc((size_t)(r->nmodels ? r->nmodels : 1));
  if(!r->head || !r->lp || !r->lcost || !r->lskip)
    return LLMR_ERR;
  for(i = 0; i < r->nmodels; i++) {
    const struct llmr_model *m = &r->models[i];
    r->head[i] = tf_model_label(r->router, m->name);
    if(r->head[i] < 0) {
      snprintf(label, sizeof(label), "tier:%d", m->tier);
      r->head[i] = tf_model_label(r->router, label);
    }
  }
  { /* keep only the predictors the catalog uses */
    int used[TF_MAX_LABELS], map[TF_MAX_LABELS], n = 0, k;
    struct tf_model *sub;
    for(k = 0; k < TF_MAX_LABELS; k++)
      map[k] = -1;
    for(i = 0; i < r->nmodels; i++)
      if(r->head[i] >= 0 && map[r->head[i]] < 0) {
        map[r->head[i]] = n;
        used[n++] = r->head[i];
      }
    if(!n) {
      h->config_error(cf, "model=: the router knows none of the catalog's "
                      "models nor their tiers");
      return LLMR_ERR;
    }
    sub = tf_model_subset(r->router, used, (unsigned)n);
    if(!sub)
      return LLMR_ERR;
    tf_model_free(r->router);
    r->router = sub;
    for(i = 0; i < r->nmodels; i++)
      r->head[i] = r->head[i] >= 0 ? map[r->head[i]] : -1;
  }
  return LLMR_OK;
}

void learned_free(struct route *r)
{
  tf_model_free(r->router);
  r->router = NULL;
  free(r->head);
  free(r->lp);
  free(r->lcost);
  free(r->lskip);
  r->head = NULL;
  r->lp = r->lcost = NULL;
  r->lskip = NULL;
}

/* Whether the answer can be compared between two models: the last
 * paragraph lists answer options, or the task's answer is a label or a
 * number. */
static int comparable(int options, const char *task)
{
  static const char *const short_answer[] = {
    "classification", "math", "knowledge_qa", "commonsense", NULL
  };
  int i;

  for(i = 0; task && short_answer[i]; i++)
    if(!strcmp(task, short_answer[i]))
      return 1;
  return options >= 2;
}

/* For an answer no check will see: the likeliest candidate costing at
 * most a fifth of the likeliest one overall, when its chance is at least
 * t times that one's; else the likeliest overall. */
static int likeliest_cheap(const double *p, const double *cost,
                           const char *skip, int n, double t)
{
  int i, best = -1, pick = -1;

  for(i = 0; i < n; i++)
    if(!skip[i] && (best < 0 || p[i] > p[best] ||
                    (p[i] == p[best] && cost[i] < cost[best])))
      best = i;
  if(best < 0)
    return -1;
  for(i = 0; i < n; i++)
    if(!skip[i] && cost[i] <= cost[best] / 5 &&
       (pick < 0 || p[i] > p[pick] ||
        (p[i] == p[pick] && cost[i] < cost[pick])))
      pick = i;
  return pick >= 0 && p[pick] >= t * p[best] ? pick : best;
}

const struct llmr_model *learned_pick(struct route *r, jv req,
                                      const struct want *w, int tier,
                                      int hops, enum fit *why,
                                      double *difficulty,
                                      const struct llmr_model **partner,
                                      char *reason, size_t len)
{
  static char text[ROUTER_TEXT_MAX]; /* one thread */
  size_t total, slen = router_text(req, text, sizeof(text), &total);
  uint32_t feats[TF_MAX_FEATS];
  double pred[TF_MAX_LABELS], *p = r->lp, *cost = r->lcost, cheap = -1;
  double pbest;
  char *skip = r->lskip;
  int n = r->nmodels, i, pick, mate = -1, seen_context = 0, seen_cost = 0;
  int seen_tried = 0, low = 4, top = 0, check, options;
  double t;
  size_t nf;

  *partner = NULL;
  *difficulty = -1;
  nf = router_features(text, slen, total, r->router->families,
                      r->router->bits, feats, &options);
  tf_model_predict(r->router, feats, nf, pred);
  for(i = 0; i < n; i++) {
    const struct llmr_model *m = &r->models[i];
    enum fit f = route_fits(m, w, tier);
    if(m->tier > top)
      top = m->tier;
    seen_context |= f == FIT_CONTEXT;
    seen_cost |= f == FIT_COST;
    seen_tried |= f == FIT_TRIED;
    skip[i] = (char)(f != FIT_OK || r->head[i] < 0);
    p[i] = r->head[i] >= 0 ? pred[r->head[i]] : 0;
    cost[i] = route_expected_cost(m, w);
    if(!skip[i] && m->tier < low)
      low = m->tier;
  }
  for(i = 0; i < n; i++) /* the cheapest tier's best chance */
    if(!skip[i] && r->models[i].tier == low && p[i] > cheap)
      cheap = p[i];
  if(cheap >= 0)
    *difficulty = 1 - cheap;
  /* an escalation follows evidence that the cheap answer was wrong: go
     to the most likely model, not the cheapest acceptable one; an answer
     no agreement can check needs a surer choice */
  check = r->agree && hops == 0 && comparable(options, w->task);
  t = hops > 0 ? r->threshold_up : check || !r->agree ? r->threshold_l
      : r->threshold_unchecked;
  if(!check && r->agree && hops == 0)
    pick = likeliest_cheap(p, cost, skip, n, t);
  else
    pick = router_choose(p, cost, skip, n, t);
  if(pick < 0) {
    *why = seen_cost ? FIT_COST : seen_context ? FIT_CONTEXT
           : seen_tried ? FIT_TRIED : FIT_TIER;
    goto done;
  }
  pbest = 0;
  for(i = 0; i < n; i++)
    if(!skip[i] && p[i] > pbest)
      pbest = p[i];
  if(check && r->models[pick].tier < top)
    for(i = 0; i < n; i++)
      if(i != pick && !skip[i] &&
         cost[i] <= r->agree_cost * cost[pick] &&
         (mate < 0 || p[i] > p[mate] ||
          (p[i] == p[mate] && cost[i] < cost[mate])))
        mate = i;
  if(mate >= 0)
    *partner = &r->models[mate];
  /* whole percents: formatting a double costs more than the routing */
  snprintf(reason, len, "learned: p %d%% of best %d%% (threshold %d%%%s), "
           "tier >= %d%s%s", (int)(p[pick] * 100 + 0.5),
           (int)(pbest * 100 + 0.5), (int)(t * 100 + 0.5),
           hops > 0 ? ", escalated" : check ? "" : ", unchecked", tier,
           mate >= 0 ? "; agreement with " : "",
           mate >= 0 ? r->models[mate].name : "");
done:
  return pick >= 0 ? &r->models[pick] : NULL;
}
