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
 * the policy kept that share of the baseline's quality).
 *
 * route.complexity becomes the predicted chance that the cheapest tier
 * fails (1 - its best candidate's chance): a learned measure of
 * difficulty.  With agree=true, a request whose answer can be compared
 * (its last paragraph lists answer options "A) ..." or it asks for a
 * number, or its task is classification or math) and that is routed
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
  r->agree = (int)h->opt(cf, "agree")->i;
  r->agree_cost = h->opt(cf, "agree_cost")->d;
  if(!(r->agree_cost >= 1)) {
    h->config_error(cf, "agree_cost must be >= 1");
    return LLMR_ERR;
  }
  r->head = malloc((size_t)(r->nmodels ? r->nmodels : 1) * sizeof(int));
  if(!r->head)
    return LLMR_ERR;
  for(i = 0; i < r->nmodels; i++) {
    const struct llmr_model *m = &r->models[i];
    r->head[i] = tf_model_label(r->router, m->name);
    if(r->head[i] < 0) {
      snprintf(label, sizeof(label), "tier:%d", m->tier);
      r->head[i] = tf_model_label(r->router, label);
    }
  }
  for(i = 0; i < r->nmodels && r->head[i] < 0; i++)
    ;
  if(i == r->nmodels) {
    h->config_error(cf, "model=: the router knows none of the catalog's "
                    "models nor their tiers");
    return LLMR_ERR;
  }
  return LLMR_OK;
}

void learned_free(struct route *r)
{
  tf_model_free(r->router);
  r->router = NULL;
  free(r->head);
  r->head = NULL;
}

/* Whether the answer to text can be compared between two models: the
 * last paragraph lists options, or asks for a number or one word. */
static int comparable(const char *text, size_t len, const char *task)
{
  const char *p = text + len;
  size_t i;
  int options = 0;

  if(task && (!strcmp(task, "classification") || !strcmp(task, "math")))
    return 1;
  while(p > text && !(p - text >= 2 && p[-1] == '\n' && p[-2] == '\n'))
    p--;
  for(i = 0; p + i + 1 < text + len; i++)
    if((p + i == text || p[i - 1] == '\n') && p[i] >= 'A' && p[i] <= 'H' &&
       (p[i + 1] == ')' || p[i + 1] == '.' || p[i + 1] == ':'))
      options++;
  return options >= 2;
}

const struct llmr_model *learned_pick(struct route *r, jv req,
                                      const struct want *w, int tier,
                                      int hops, enum fit *why,
                                      double *difficulty,
                                      const struct llmr_model **partner,
                                      char *reason, size_t len)
{
  const struct llmr_host *h = r->host;
  jv text = h->request_text(req, LLMR_TEXT_USER | LLMR_TEXT_LAST);
  const char *s = jv_string_value(text);
  size_t slen = (size_t)jv_string_length_bytes(jv_copy(text));
  uint32_t feats[TF_MAX_FEATS];
  double pred[TF_MAX_LABELS], *p, *cost, cheap = -1, pbest;
  char *skip;
  int n = r->nmodels, i, pick, mate = -1, seen_context = 0, seen_cost = 0;
  int seen_tried = 0, low = 4, top = 0;
  size_t nf;

  *partner = NULL;
  *difficulty = -1;
  p = malloc((size_t)n * sizeof(double));
  cost = malloc((size_t)n * sizeof(double));
  skip = malloc((size_t)n);
  if(!p || !cost || !skip) {
    free(p);
    free(cost);
    free(skip);
    jv_free(text);
    *why = FIT_TIER;
    return NULL;
  }
  nf = router_features(s, slen, r->router->bits, feats);
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
  pick = router_choose(p, cost, skip, n, r->threshold_l);
  if(pick < 0) {
    *why = seen_cost ? FIT_COST : seen_context ? FIT_CONTEXT
           : seen_tried ? FIT_TRIED : FIT_TIER;
    goto done;
  }
  pbest = 0;
  for(i = 0; i < n; i++)
    if(!skip[i] && p[i] > pbest)
      pbest = p[i];
  if(r->agree && hops == 0 && r->models[pick].tier < top &&
     comparable(s, slen, w->task))
    for(i = 0; i < n; i++)
      if(i != pick && !skip[i] &&
         cost[i] <= r->agree_cost * cost[pick] &&
         (mate < 0 || p[i] > p[mate] ||
          (p[i] == p[mate] && cost[i] < cost[mate])))
        mate = i;
  if(mate >= 0)
    *partner = &r->models[mate];
  snprintf(reason, len, "learned: p %.2f of best %.2f (quality %.2f: "
           "threshold %.3f), tier >= %d%s%s", p[pick], pbest, r->quality,
           r->threshold_l, tier, mate >= 0 ? "; agreement with " : "",
           mate >= 0 ? r->models[mate].name : "");
done:
  free(p);
  free(cost);
  free(skip);
  jv_free(text);
  return pick >= 0 ? &r->models[pick] : NULL;
}
