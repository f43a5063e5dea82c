/*
 * route.c - the route stage: pick the model (and its deployments).
 *
 *   route [policy=cheapest-capable|map|threshold|learned]
 *         [map="task=model,..."]
 *         [map_file=FILE] [tiers="task=N,..."] [hard=0.7] [easy=0.25]
 *         [threshold=0.5] [weak_tier=1] [strong_tier=3] [weak=MODEL]
 *         [strong=MODEL] [candidates=N] [hedge=false]
 *
 * Policies:
 *   cheapest-capable  the tier a request needs is its task's tier
 *                     (tiers=, defaults below), one more when complexity
 *                     >= hard, one less when <= easy; the cheapest model
 *                     (expected cost) at that tier or above wins
 *   map               task -> model (map= or map_file= lines task=model);
 *                     a task without an entry, or whose model does not
 *                     fit, falls back to cheapest-capable
 *   threshold         complexity >= threshold -> strong (model or
 *                     cheapest at strong_tier), else weak
 *   learned           model=ROUTER quality=Q [agree=true]: the router
 *                     of `llmroute train --outcomes` picks (learned.c)
 * Always: a pinned body.model (not "auto") is used as is; the tier is at
 * least routing.min_tier and route.min_tier (raised by escalate); models
 * whose attempts answered invalidly (route.attempts[].valid == false) are
 * skipped; a model must hold the estimate plus max_tokens (or the
 * expected output) in its context and max_tokens in its max output; with
 * routing.max_cost_usd its expected cost must not exceed it.  Nothing
 * fits: error no_model, or context_length_exceeded when only the context
 * windows were too small.
 *
 * Writes route.{tier, model, provider, deployments, reason,
 * expected_cost_usd, worst_cost_usd} (and baseline_cost_usd and estimate
 * when no price stage ran before), candidates=N adds the N next-cheapest
 * as route.candidates [[model, expected_cost], ...].  hedge=true adds
 * route.hedge {model, tier, deployments, expected_cost_usd}: the cheapest
 * eligible model at least one tier above the chosen one (same context,
 * max_cost_usd and tried rules), where `call hedge_ms=` sends a hedge;
 * absent when there is none (top tier, nothing fits, or a pinned model).
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llmroute.h"

#include "core/lib/keys.h"
#include "core/lib/plan.h"
#include "route.h"

static const struct llmr_option route_options[] = {
  { "policy", LLMR_OPT_STRING, "cheapest-capable", 0,
    "cheapest-capable, map, threshold or learned" },
  { "map", LLMR_OPT_STRING, NULL, 0,
    "task=model pairs for policy=map, e.g. \"coding=gpt-5,chat=gpt-5-nano\"" },
  { "map_file", LLMR_OPT_PATH, NULL, 0,
    "a file of task=model lines for policy=map (# comments)" },
  { "tiers", LLMR_OPT_STRING, NULL, 0,
    "the tier each task needs, e.g. \"coding=2,extraction=1\"" },
  { "hard", LLMR_OPT_DOUBLE, "0.7", 0,
    "complexity at or above which a task needs one tier more" },
  { "easy", LLMR_OPT_DOUBLE, "0.25", 0,
    "complexity at or below which a task needs one tier less" },
  { "threshold", LLMR_OPT_DOUBLE, "0.5", 0,
    "policy=threshold: complexity at or above which the strong side wins" },
  { "weak_tier", LLMR_OPT_INT, "1", 0, "policy=threshold: weak tier" },
  { "strong_tier", LLMR_OPT_INT, "3", 0, "policy=threshold: strong tier" },
  { "weak", LLMR_OPT_STRING, NULL, 0,
    "policy=threshold: the weak model (default: cheapest at weak_tier)" },
  { "strong", LLMR_OPT_STRING, NULL, 0,
    "policy=threshold: the strong model (default: cheapest at "
    "strong_tier)" },
  { "candidates", LLMR_OPT_INT, "0", 0,
    "list this many runner-up models in route.candidates" },
  { "hedge", LLMR_OPT_BOOL, "false", 0,
    "write route.hedge, the cheapest model at least one tier up, for "
    "call hedge_ms=" },
  { "model", LLMR_OPT_PATH, NULL, 0,
    "policy=learned: the router from `llmroute train --outcomes`" },
  { "quality", LLMR_OPT_DOUBLE, "0.95", 0,
    "policy=learned: the share of the baseline's quality to keep" },
  { "unchecked_quality", LLMR_OPT_DOUBLE, NULL, 0,
    "policy=learned agree=true: the quality target of a request no "
    "agreement can check (default: quality=)" },
  { "escalated_quality", LLMR_OPT_DOUBLE, "1", 0,
    "policy=learned: the quality target once a request was escalated" },
  { "agree", LLMR_OPT_BOOL, "false", 0,
    "policy=learned: name a second model in route.agree for answers that "
    "can be compared (options, numbers); disagreement escalates" },
  { "agree_cost", LLMR_OPT_DOUBLE, "2", 0,
    "policy=learned: the partner costs at most this times the chosen" },
  { NULL, 0, NULL, 0, NULL }
};

/* The tier each task needs by default (cheapest-capable). */
static int default_tier(const char *task)
{
  static const char *const tier2[] = {
    "coding", "math", "multi_step_reasoning", "creative_generation", NULL
  };
  int i;

  for(i = 0; task && tier2[i]; i++)
    if(!strcmp(task, tier2[i]))
      return 2;
  return 1;
}

/* Borrows obj.  New ref to obj[key], or jv_null(); never asserts. */
static jv get(jv obj, const char *k)
{
  jv v;

  v = key_get(obj, k);
  if(jv_is_valid(v))
    return v;
  jvf_free(v);
  return jv_null();
}

/* Round a cost to 1e-10 USD, so result lines stay short. */
static double round_usd(double usd)
{
  return (double)(long long)(usd * 1e10 + 0.5) / 1e10;
}

/* ----------------------------------------------------------------------
 * Configuration
 */

/* Add one "task=value" pair (len bytes at s) to the map (as_tier 0) or
 * to the tiers (as_tier 1).  LLMR_OK or LLMR_ERR (reported). */
static int add_pair(struct route *r, const struct llmr_config *cf,
                    const char *what, const char *s, size_t len,
                    int as_tier)
{
  const char *eq = memchr(s, '=', len);
  struct map_entry *e;
  size_t tl, vl;
  char val[128];

  while(len && isspace((unsigned char)s[len - 1]))
    len--;
  eq = memchr(s, '=', len);
  tl = eq ? (size_t)(eq - s) : 0;
  while(tl && isspace((unsigned char)s[tl - 1]))
    tl--;
  if(!eq || !tl || tl >= sizeof(e->task)) {
    r->host->config_error(cf, "%s: expected task=%s, got '%.*s'", what,
                          as_tier ? "N" : "model", (int)len, s);
    return LLMR_ERR;
  }
  eq++;
  while(eq < s + len && isspace((unsigned char)*eq))
    eq++;
  vl = (size_t)(s + len - eq);
  if(!vl || vl >= sizeof(val)) {
    r->host->config_error(cf, "%s: '%.*s' has no value", what, (int)len, s);
    return LLMR_ERR;
  }
  memcpy(val, eq, vl);
  val[vl] = '\0';
  if(as_tier ? r->ntiers == MAX_MAP : r->nmap == MAX_MAP) {
    r->host->config_error(cf, "%s: more than %d entries", what, MAX_MAP);
    return LLMR_ERR;
  }
  e = as_tier ? &r->tiers[r->ntiers] : &r->map[r->nmap];
  memset(e, 0, sizeof(*e));
  memcpy(e->task, s, tl);
  e->task[tl] = '\0';
  if(as_tier) {
    if(strlen(val) != 1 || val[0] < '1' || val[0] > '3') {
      r->host->config_error(cf, "%s: tier of '%s' must be 1, 2 or 3",
                            what, e->task);
      return LLMR_ERR;
    }
    e->tier = val[0] - '0';
    r->ntiers++;
    return LLMR_OK;
  }
  e->model = r->host->model(val);
  if(!e->model) {
    r->host->config_error(cf, "%s: model '%s' (for task '%s') is not in "
                          "the catalog", what, val, e->task);
    return LLMR_ERR;
  }
  r->nmap++;
  return LLMR_OK;
}

/* Parse "task=v,task=v". */
static int parse_pairs(struct route *r, const struct llmr_config *cf,
                       const char *what, const char *spec, int as_tier)
{
  const char *s = spec;

  while(*s) {
    size_t n;
    while(*s == ',' || isspace((unsigned char)*s))
      s++;
    if(!*s)
      break;
    n = strcspn(s, ",");
    if(add_pair(r, cf, what, s, n, as_tier) != LLMR_OK)
      return LLMR_ERR;
    s += n;
  }
  return LLMR_OK;
}

/* Read task=model lines from a file. */
static int read_map_file(struct route *r, const struct llmr_config *cf,
                         const char *path)
{
  FILE *f = fopen(path, "r");
  char line[512];
  int rc = LLMR_OK;

  if(!f) {
    r->host->config_error(cf, "map_file: cannot read %s", path);
    return LLMR_ERR;
  }
  while(rc == LLMR_OK && fgets(line, sizeof(line), f)) {
    char *s = line, *hash = strchr(line, '#');
    size_t n;
    if(hash)
      *hash = '\0';
    while(isspace((unsigned char)*s))
      s++;
    n = strlen(s);
    while(n && isspace((unsigned char)s[n - 1]))
      n--;
    if(n)
      rc = add_pair(r, cf, path, s, n, 0);
  }
  fclose(f);
  return rc;
}

/* Build r->deps: each model's deployments reduced to {provider, model},
 * the form route.deployments takes. */
static int build_deployments(struct route *r)
{
  int i, j;

  r->deps = calloc((size_t)r->nmodels, sizeof(jv));
  r->names = calloc((size_t)r->nmodels, sizeof(jv));
  r->provs = calloc((size_t)r->nmodels, sizeof(jv));
  if(!r->deps || !r->names || !r->provs)
    return LLMR_ENOMEM;
  for(i = 0; i < r->nmodels; i++) {
    const struct llmr_model *m = &r->models[i];
    jv deps = jv_array();
    for(j = 0; j < m->ndeployments; j++) {
      jv o = jv_object();
      o = jvf_set(o, key("provider"), jv_string(m->deployments[j].provider));
      o = jvf_set(o, key("model"), jv_string(m->deployments[j].model));
      deps = jv_array_append(deps, o);
    }
    r->deps[i] = deps;
    r->names[i] = jv_string(m->name);
    r->provs[i] = jv_string(m->deployments[0].provider);
  }
  return LLMR_OK;
}

/* Frees the instance (accepts NULL). */
static void route_finish(void *self)
{
  struct route *r = self;
  int i;

  if(!r)
    return;
  for(i = 0; r->deps && r->names && r->provs && i < r->nmodels; i++) {
    jvf_free(r->deps[i]);
    jvf_free(r->names[i]);
    jvf_free(r->provs[i]);
  }
  free(r->deps);
  free(r->names);
  free(r->provs);
  for(i = 0; i < 64; i++)
    jvf_free(r->reasons[i].text);
  keys_release();
  learned_free(r);
  free(r);
}

/* The model named by option `name`, or NULL when unset; *bad set when it
 * names no catalog model. */
static const struct llmr_model *opt_model(struct route *r,
                                          const struct llmr_config *cf,
                                          const char *name, int *bad)
{
  const struct llmr_value *v = r->host->opt(cf, name);
  const struct llmr_model *m;

  if(!v || !v->str || !*v->str)
    return NULL;
  m = r->host->model(v->str);
  if(!m) {
    r->host->config_error(cf, "%s: model '%s' is not in the catalog", name,
                          v->str);
    *bad = 1;
  }
  return m;
}

/* Load the catalog view, the policy and its options into a new instance
 * (*self, freed by route_finish).  LLMR_OK or LLMR_ERR. */
static int route_init(const struct llmr_host *host,
                      const struct llmr_config *cf, void **self)
{
  struct route *r = calloc(1, sizeof(*r));
  const struct llmr_value *v;
  const char *pol, *bname;
  int bad = 0, i;

  if(!r)
    return LLMR_ENOMEM;
  ninstances++;
  r->host = host;
  r->models = host->models(&r->nmodels);
  if(!r->nmodels) {
    host->config_error(cf, "route needs a catalog with models "
                       "(set catalog=models.json)");
    goto fail;
  }
  if(build_deployments(r) != LLMR_OK)
    goto fail;
  v = host->opt(cf, "policy");
  pol = v && v->str ? v->str : "cheapest-capable";
  if(!strcmp(pol, "cheapest-capable"))
    r->policy = P_CHEAPEST;
  else if(!strcmp(pol, "map"))
    r->policy = P_MAP;
  else if(!strcmp(pol, "threshold"))
    r->policy = P_THRESHOLD;
  else if(!strcmp(pol, "learned"))
    r->policy = P_LEARNED;
  else {
    host->config_error(cf, "unknown policy '%s' (valid: cheapest-capable, "
                       "map, threshold, learned)", pol);
    goto fail;
  }
  if(r->policy == P_LEARNED && learned_init(r, cf) != LLMR_OK)
    goto fail;
  v = host->opt(cf, "map");
  if(v && v->str && parse_pairs(r, cf, "map", v->str, 0) != LLMR_OK)
    goto fail;
  v = host->opt(cf, "map_file");
  if(v && v->str && read_map_file(r, cf, v->str) != LLMR_OK)
    goto fail;
  if(r->policy == P_MAP && !r->nmap) {
    host->config_error(cf, "policy=map needs map=\"task=model,...\" or "
                       "map_file=FILE");
    goto fail;
  }
  v = host->opt(cf, "tiers");
  if(v && v->str && parse_pairs(r, cf, "tiers", v->str, 1) != LLMR_OK)
    goto fail;
  r->hard = host->opt(cf, "hard")->d;
  r->easy = host->opt(cf, "easy")->d;
  r->threshold = host->opt(cf, "threshold")->d;
  r->weak_tier = (int)host->opt(cf, "weak_tier")->i;
  r->strong_tier = (int)host->opt(cf, "strong_tier")->i;
  r->candidates = (int)host->opt(cf, "candidates")->i;
  r->hedge = (int)host->opt(cf, "hedge")->i;
  if(r->weak_tier < 1 || r->weak_tier > 3 || r->strong_tier < 1 ||
     r->strong_tier > 3) {
    host->config_error(cf, "weak_tier and strong_tier must be 1, 2 or 3");
    goto fail;
  }
  if(r->candidates < 0 || r->candidates > 8) {
    host->config_error(cf, "candidates must be 0..8");
    goto fail;
  }
  r->weak = opt_model(r, cf, "weak", &bad);
  r->strong = opt_model(r, cf, "strong", &bad);
  if(bad)
    goto fail;
  bname = host->setting("baseline");
  r->baseline = bname ? r->host->model(bname) : NULL;
  if(bname && !r->baseline) {
    host->config_error(cf, "baseline model '%s' is not in the catalog",
                       bname);
    goto fail;
  }
  if(!r->baseline) {
    double best = -1;
    for(i = 0; i < r->nmodels; i++) {
      double c = plan_cost(r->host, &r->models[i].price, 1000, 1000);
      if(r->models[i].tier == 3 && c > best) {
        best = c;
        r->baseline = &r->models[i];
      }
    }
    if(!r->baseline)
      r->baseline = &r->models[0];
  }
  *self = r;
  return LLMR_OK;
fail:
  route_finish(r);
  return LLMR_ERR;
}

/* ----------------------------------------------------------------------
 * Per request
 */

/* USD of w's expected tokens on m. */
double route_expected_cost(const struct llmr_model *m, const struct want *w)
{
  return plan_cost(w->h, &m->price, w->in, w->out);
}

/* Whether m may serve w at tier or above, or why not. */
enum fit route_fits(const struct llmr_model *m, const struct want *w,
                    int tier)
{
  int i;

  if(m->tier < tier)
    return FIT_TIER;
  for(i = 0; i < w->ntried; i++)
    if(!strcmp(w->tried[i], m->name))
      return FIT_TRIED;
  if(w->in + (w->cap > 0 ? w->cap : w->out) > m->context_tokens ||
     (w->cap > 0 && w->cap > m->max_output_tokens))
    return FIT_CONTEXT;
  if(w->max_cost >= 0 && route_expected_cost(m, w) > w->max_cost)
    return FIT_COST;
  return FIT_OK;
}

/* The cheapest eligible model at tier or above; NULL when none, with
 * *why the most telling reason. */
static const struct llmr_model *cheapest(const struct route *r,
                                         const struct want *w, int tier,
                                         enum fit *why)
{
  const struct llmr_model *best = NULL;
  double best_cost = 0;
  int i, seen_context = 0, seen_cost = 0, seen_tier = 0;

  for(i = 0; i < r->nmodels; i++) {
    const struct llmr_model *m = &r->models[i];
    enum fit f = route_fits(m, w, tier);
    double c;
    if(f == FIT_CONTEXT)
      seen_context = 1;
    else if(f == FIT_COST)
      seen_cost = 1;
    else if(f != FIT_TIER)
      seen_tier = 1;
    if(f != FIT_OK)
      continue;
    c = route_expected_cost(m, w);
    if(!best || c < best_cost || (c == best_cost && m->tier < best->tier)) {
      best = m;
      best_cost = c;
    }
  }
  if(!best)
    *why = seen_cost ? FIT_COST : seen_context ? FIT_CONTEXT
           : seen_tier ? FIT_TRIED : FIT_TIER;
  return best;
}

/* The tier cheapest-capable wants for w. */
static int needed_tier(const struct route *r, const struct want *w)
{
  int i, tier = -1;

  for(i = 0; w->task && i < r->ntiers; i++)
    if(!strcmp(r->tiers[i].task, w->task))
      tier = r->tiers[i].tier;
  if(tier < 0)
    tier = default_tier(w->task);
  if(w->complexity >= 0 && w->complexity >= r->hard)
    tier++;
  else if(w->complexity >= 0 && w->complexity <= r->easy)
    tier--;
  if(tier < 1)
    tier = 1;
  if(tier > 3)
    tier = 3;
  return tier;
}

/* Fill w from the request and the route record (both borrowed). */
static void read_want(const struct llmr_host *h, struct llmr_job *job,
                      jv body, jv routing, jv route, struct want *w)
{
  jv v, est, attempts;
  double d;
  int i, n;

  memset(w, 0, sizeof(*w));
  w->h = h;
  v = get(route, "task");
  w->task = jv_get_kind(v) == JV_KIND_STRING ? jv_string_value(v) : NULL;
  jvf_free(v); /* the route record keeps the string alive */
  if(!w->task) {
    v = get(routing, "task");
    w->task = jv_get_kind(v) == JV_KIND_STRING ? jv_string_value(v) : NULL;
    jvf_free(v);
  }
  w->complexity = key_num(route, "complexity", -1);
  w->cap = plan_count(key_num(body, "max_completion_tokens", 0));
  if(w->cap <= 0)
    w->cap = plan_count(key_num(body, "max_tokens", 0));
  if(w->cap < 0)
    w->cap = 0;
  est = get(route, "estimate");
  if(jv_get_kind(est) == JV_KIND_OBJECT) {
    w->in = plan_count(key_num(est, "input_tokens", 0));
    w->out = plan_count(key_num(est, "output_tokens", 0));
  }
  else {
    w->in = h->estimate_tokens(body);
    w->out = plan_task_output(w->task);
    if(w->cap > 0 && w->cap < w->out)
      w->out = w->cap;
  }
  jvf_free(est);
  w->min_tier = 1;
  d = key_num(routing, "min_tier", 1);
  if(d > w->min_tier)
    w->min_tier = d > 3 ? 3 : (int)d;
  d = key_num(route, "min_tier", 1);
  if(d > w->min_tier)
    w->min_tier = d > 3 ? 3 : (int)d;
  w->max_cost = key_num(routing, "max_cost_usd", -1);
  attempts = get(route, "attempts");
  n = jv_get_kind(attempts) == JV_KIND_ARRAY
      ? jv_array_length(jvf_copy(attempts)) : 0;
  for(i = 0; i < n && w->ntried < MAX_TRIED; i++) {
    jv a = jv_array_get(jvf_copy(attempts), i);
    jv valid = get(a, "valid"), model = get(a, "model");
    if(jv_get_kind(valid) == JV_KIND_FALSE &&
       jv_get_kind(model) == JV_KIND_STRING)
      w->tried[w->ntried++] = jv_string_value(model);
    jvf_free(valid);
    jvf_free(model);  /* the route record keeps the string alive */
    jvf_free(a);
  }
  jvf_free(attempts);
  (void)job;
}

/* Set the error for a request nothing fits; returns LLMR_FAIL. */
static enum llmr_verdict no_fit(const struct llmr_host *h,
                                struct llmr_job *job, const struct want *w,
                                int tier, enum fit why)
{
  if(why == FIT_CONTEXT)
    h->set_error(job, "context_length_exceeded",
                 "no model of tier >= %d holds ~%ld input + %ld output "
                 "tokens", tier, w->in, w->cap > 0 ? w->cap : w->out);
  else if(why == FIT_COST)
    h->set_error(job, "no_model",
                 "no model of tier >= %d fits routing.max_cost_usd %g "
                 "(~%ld input + %ld output tokens)", tier, w->max_cost,
                 w->in, w->out);
  else if(why == FIT_TRIED)
    h->set_error(job, "no_model",
                 "every model of tier >= %d was tried and answered "
                 "invalidly", tier);
  else
    h->set_error(job, "no_model", "the catalog has no model of tier >= %d",
                 tier);
  return LLMR_FAIL;
}

/* The reason text as a jv string, from r->reasons when it is there. */
static jv reason_string(struct route *r, const char *text)
{
  uint32_t h = 2166136261u;
  const unsigned char *p;
  unsigned slot;

  for(p = (const unsigned char *)text; *p; p++)
    h = (h ^ *p) * 16777619u;
  slot = h % 64;
  if(r->reasons[slot].hash != h || !jv_is_valid(r->reasons[slot].text) ||
     strcmp(jv_string_value(r->reasons[slot].text), text)) {
    jvf_free(r->reasons[slot].text);
    r->reasons[slot].hash = h;
    r->reasons[slot].text = jv_string(text);
  }
  return jvf_copy(r->reasons[slot].text);
}

/* Write the decision into route (consumed); returns the new record. */
static jv decide(struct route *r, jv route,
                 const struct llmr_model *m, const struct want *w,
                 const char *reason)
{
  long worst_out = w->cap > 0 ? w->cap : m->max_output_tokens;
  jv est;

  route = jvf_set(route, key("tier"), jv_number(m->tier));
  route = jvf_set(route, key("model"),
                        jvf_copy(r->names[m - r->models]));
  route = jvf_set(route, key("provider"),
                        jvf_copy(r->provs[m - r->models]));
  route = jvf_set(route, key("deployments"),
                        jvf_copy(r->deps[m - r->models]));
  route = jvf_set(route, key("reason"), reason_string(r, reason));
  route = jvf_set(route, key("expected_cost_usd"),
                        jv_number(round_usd(route_expected_cost(m, w))));
  route = jvf_set(route, key("worst_cost_usd"),
                        jv_number(round_usd(plan_cost(
                          r->host, &m->price, w->in, worst_out))));
  est = get(route, "estimate");
  if(jv_get_kind(est) != JV_KIND_OBJECT) {
    jvf_free(est);
    est = jv_object();
    est = jvf_set(est, key("input_tokens"), jv_number(w->in));
    est = jvf_set(est, key("output_tokens"), jv_number(w->out));
    route = jvf_set(route, key("estimate"), est);
  }
  else
    jvf_free(est);
  if(key_num(route, "baseline_cost_usd", -1) < 0)
    route = jvf_set(route, key("baseline_cost_usd"),
                          jv_number(round_usd(plan_cost(
                            r->host, &r->baseline->price, w->in,
                            w->out))));
  return route;
}

/* Up to r->candidates other eligible models, cheapest first, as
 * [[model, expected_cost], ...] (new ref). */
static jv runner_ups(const struct route *r, const struct want *w,
                     int tier, const struct llmr_model *chosen)
{
  jv out = jv_array();
  const struct llmr_model *last = NULL;
  double lc = 0;
  int k;

  for(k = 0; k < r->candidates; k++) {
    const struct llmr_model *next = NULL;
    double nc = 0;
    int i;
    for(i = 0; i < r->nmodels; i++) {
      const struct llmr_model *m = &r->models[i];
      double c = route_expected_cost(m, w);
      if(m == chosen || route_fits(m, w, tier) != FIT_OK)
        continue;
      /* strictly after `last` in (cost, catalog order) */
      if(last && (c < lc || (c == lc && m <= last)))
        continue;
      if(!next || c < nc) {
        next = m;
        nc = c;
      }
    }
    if(!next)
      break;
    out = jv_array_append(out, jv_array_append(
      jv_array_append(jv_array(), jvf_copy(r->names[next - r->models])),
      jv_number(round_usd(nc))));
    last = next;
    lc = nc;
  }
  return out;
}

/* hedge=true: route.hedge, the cheapest eligible model at least one
 * tier above m, for `call hedge_ms=`; removed when there is none or m is
 * NULL (pinned).  Consumes route; returns the new record. */
static jv hedge_candidate(const struct route *r, jv route,
                          const struct llmr_model *m, const struct want *w)
{
  const struct llmr_model *h = NULL;
  enum fit why;
  jv o;

  if(m)
    h = cheapest(r, w, m->tier + 1, &why);
  if(!h)
    return jv_object_delete(route, key("hedge"));
  o = jvf_set(jv_object(), key("model"),
                    jvf_copy(r->names[h - r->models]));
  o = jvf_set(o, key("tier"), jv_number(h->tier));
  o = jvf_set(o, key("deployments"), jvf_copy(r->deps[h - r->models]));
  o = jvf_set(o, key("expected_cost_usd"),
                    jv_number(round_usd(route_expected_cost(h, w))));
  return jvf_set(route, key("hedge"), o);
}

/* Picks the model for the job and writes the decision into its route
 * record.  LLMR_NEXT, or LLMR_FAIL with no_model or
 * context_length_exceeded. */
static enum llmr_verdict route_process(void *self, struct llmr_job *job)
{
  struct route *r = self;
  const struct llmr_host *h = r->host;
  jv req = h->request(job), body = get(req, "body");
  jv routing = get(req, "routing"), route = h->route(job);
  jv pin = get(body, "model");
  const struct llmr_model *m = NULL, *partner = NULL;
  enum llmr_verdict verdict = LLMR_NEXT;
  enum fit why = FIT_TIER;
  struct want w;
  char reason[200];
  int tier, pinned = 0;

  /* take the record: with the job's reference dropped, the sets below
     change it in place instead of copying it */
  h->set_route(job, jv_null());
  if(jv_get_kind(route) != JV_KIND_OBJECT) {
    jvf_free(route);
    route = jv_object();
  }
  read_want(h, job, body, routing, route, &w);

  if(jv_get_kind(pin) == JV_KIND_STRING && jv_string_value(pin)[0] &&
     strcmp(jv_string_value(pin), "auto") != 0) {
    /* pinned: that model or an error */
    m = h->model(jv_string_value(pin));
    if(!m) {
      h->set_error(job, "no_model", "model '%s' is not in the catalog",
                   jv_string_value(pin));
      verdict = LLMR_FAIL;
      goto done;
    }
    why = route_fits(m, &w, 1);
    if(why == FIT_CONTEXT) {
      h->set_error(job, "context_length_exceeded",
                   "%s holds %ld tokens (max output %ld); the request "
                   "needs ~%ld input + %ld output", m->name,
                   m->context_tokens, m->max_output_tokens, w.in,
                   w.cap > 0 ? w.cap : w.out);
      verdict = LLMR_FAIL;
      goto done;
    }
    if(why == FIT_COST) {
      h->set_error(job, "no_model", "%s: expected cost %.6f USD exceeds "
                   "routing.max_cost_usd %g", m->name,
                   route_expected_cost(m, &w),
                   w.max_cost);
      verdict = LLMR_FAIL;
      goto done;
    }
    tier = m->tier;
    pinned = 1;
    snprintf(reason, sizeof(reason), "pinned: body.model");
  }
  else if(r->policy == P_MAP) {
    int i;
    const struct llmr_model *target = NULL;
    for(i = 0; w.task && i < r->nmap; i++)
      if(!strcmp(r->map[i].task, w.task))
        target = r->map[i].model;
    tier = w.min_tier;
    if(target && route_fits(target, &w, tier) == FIT_OK) {
      m = target;
      snprintf(reason, sizeof(reason), "map: %s -> %s", w.task, m->name);
    }
    else {
      if(target && target->tier > tier)
        tier = target->tier;
      m = cheapest(r, &w, tier, &why);
      snprintf(reason, sizeof(reason), "map: %s %s; cheapest at tier >= %d",
               w.task ? w.task : "(no task)",
               target ? "model does not fit" : "not mapped", tier);
    }
  }
  else if(r->policy == P_LEARNED) {
    double difficulty;
    tier = w.min_tier;
    m = learned_pick(r, req, &w, tier, h->hops(job), &why, &difficulty,
                     &partner, reason, sizeof(reason));
    if(difficulty >= 0)
      route = jvf_set(route, key("complexity"),
                      jv_number(floor(difficulty * 1e4 + 0.5) / 1e4));
  }
  else if(r->policy == P_THRESHOLD) {
    int strong = w.complexity >= r->threshold;
    const struct llmr_model *fixed = strong ? r->strong : r->weak;
    tier = strong ? r->strong_tier : r->weak_tier;
    if(fixed) {
      tier = fixed->tier;
    }
    if(tier < w.min_tier)
      tier = w.min_tier;
    if(fixed && route_fits(fixed, &w, tier) == FIT_OK)
      m = fixed;
    else
      m = cheapest(r, &w, tier, &why);
    snprintf(reason, sizeof(reason),
             "threshold: complexity %.2f %s %.2f -> %s, tier >= %d",
             w.complexity < 0 ? 0.0 : w.complexity, strong ? ">=" : "<",
             r->threshold, strong ? "strong" : "weak", tier);
  }
  else {
    tier = needed_tier(r, &w);
    if(tier < w.min_tier)
      tier = w.min_tier;
    m = cheapest(r, &w, tier, &why);
    /* no %f here: formatting a double costs more than the routing */
    snprintf(reason, sizeof(reason), "cheapest-capable: %s%s -> tier >= %d",
             w.task ? w.task : "other",
             w.complexity < 0 ? "" : w.complexity >= r->hard ? " (hard)"
             : w.complexity <= r->easy ? " (easy)" : "", tier);
  }
  if(!m) {
    verdict = no_fit(h, job, &w, tier, why);
    goto done;
  }
  route = decide(r, route, m, &w, reason);
  if(r->candidates > 0)
    route = jvf_set(route, key("candidates"),
                          runner_ups(r, &w, tier, m));
  if(r->hedge)
    route = hedge_candidate(r, route, pinned ? NULL : m, &w);
  if(partner) {
    jv o = jvf_set(jv_object(), key("model"),
                   jvf_copy(r->names[partner - r->models]));
    o = jvf_set(o, key("tier"), jv_number(partner->tier));
    o = jvf_set(o, key("deployments"),
                jvf_copy(r->deps[partner - r->models]));
    route = jvf_set(route, key("agree"), o);
  }
  else if(r->policy == P_LEARNED)
    route = jv_object_delete(route, key("agree"));
done:
  /* w's strings point into route and req: set the record only now */
  h->set_route(job, route);
  jvf_free(pin);
  jvf_free(body);
  jvf_free(routing);
  jvf_free(req);
  return verdict;
}

static const struct llmr_stage route_stage = {
  LLMR_STAGE_VERSION,
  .name = "route",
  .version = "0.1.0",
  .description = "choose the model: cheapest-capable, map or threshold",
  .options = route_options,
  .init = route_init,
  .process = route_process,
  .finish = route_finish
};

LLMR_EXPORT const struct llmr_stage *llmr_stage_entry(unsigned host_major,
                                                     unsigned host_minor)
{
  (void)host_minor;
  if(host_major != LLMR_ABI_MAJOR)
    return NULL;
  return &route_stage;
}
