/*
 * route.h - the route stage's own state, shared by route.c (the stage,
 * its rule-based policies) and learned.c (policy=learned).  Not
 * installed.
 */
#ifndef LLMR_ROUTE_H
#define LLMR_ROUTE_H

#include <stdint.h>
#include "llmroute.h"
#include "core/lib/jvfast.h"
#include "core/lib/textfeat.h"

#define MAX_MAP 64
#define MAX_TRIED 16

enum policy { P_CHEAPEST, P_MAP, P_THRESHOLD, P_LEARNED };

struct map_entry {
  char task[48];
  const struct llmr_model *model; /* for the map policy */
  int tier;                       /* for tiers= */
};

struct route {
  const struct llmr_host *host;
  const struct llmr_model *models; /* the catalog (host->models()) */
  int nmodels;
  enum policy policy;
  struct map_entry map[MAX_MAP];
  int nmap;
  struct map_entry tiers[MAX_MAP];
  int ntiers;
  double hard, easy, threshold;
  int weak_tier, strong_tier;
  const struct llmr_model *weak, *strong, *baseline;
  int candidates;
  int hedge;       /* hedge=: write route.hedge */
  jv *deps;  /* per model: [{provider, model}, ...] as route writes it */
  jv *names; /* per model: its name, and its first provider */
  jv *provs;
  /* policy=learned (learned.c) */
  struct tf_model *router;   /* the learned router */
  double quality;            /* quality= target */
  double threshold_l;        /* its threshold, from the router */
  double threshold_up;       /* the threshold after an escalation */
  double threshold_unchecked; /* agree=true, no check possible */
  int *head;                 /* per catalog model: its predictor, -1 */
  double *lp, *lcost;        /* per catalog model: scratch of a pick */
  char *lskip;
  int agree;                 /* agree=: name a partner for agreement */
  double agree_cost;         /* ... costing at most this times as much */
  /* reasons written lately, by a hash of their text: a workload repeats
     a few dozen, and a jv_string() is an allocation and a UTF-8 pass */
  struct {
    uint32_t hash;
    jv text;   /* jv_invalid() when empty */
  } reasons[64];
};

struct want {
  const struct llmr_host *h; /* prices plans (host->cost()) */
  const char *task;    /* borrowed from the route record's jv */
  double complexity;   /* < 0: unknown */
  long in, out, cap;   /* estimate; cap = max_tokens or 0 */
  int min_tier;        /* from routing and route */
  double max_cost;     /* < 0: none */
  const char *tried[MAX_TRIED]; /* models that answered invalidly */
  int ntried;
};

/* Why a model is not eligible. */
enum fit { FIT_OK, FIT_TIER, FIT_TRIED, FIT_CONTEXT, FIT_COST };


/* USD of w's expected tokens on m. */
double route_expected_cost(const struct llmr_model *m, const struct want *w);
/* Whether m may serve w at tier or above, or why not. */
enum fit route_fits(const struct llmr_model *m, const struct want *w,
                    int tier);

/* --- learned.c ------------------------------------------------------ */
/* Options model=, quality=, agree=, agree_cost= into r (policy=learned).
 * LLMR_OK, or LLMR_ERR after host->config_error(). */
int learned_init(struct route *r, const struct llmr_config *cf);
void learned_free(struct route *r); /* safe twice */

/* The model the router picks for w at tier or above among the catalog's
 * (req borrowed), or NULL when none fits (*why set).  *difficulty gets
 * the predicted chance that the cheapest tier fails; *partner (may be
 * NULL) the model an agreement check asks too, or NULL; reason a line
 * for route.reason. */
const struct llmr_model *learned_pick(struct route *r, jv req,
                                      const struct want *w, int tier,
                                      int hops, enum fit *why,
                                      double *difficulty,
                                      const struct llmr_model **partner,
                                      char *reason, size_t len);

#endif /* LLMR_ROUTE_H */
