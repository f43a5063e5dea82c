/*
 * price.c - the price stage: token estimate, expected and worst-case cost.
 *
 *   price [baseline=MODEL] [output=N] [outputs="task=N,..."]
 *         [candidates=true]
 *
 * For every request it writes into the route record:
 *   estimate           {input_tokens, output_tokens[, max_tokens]}: the
 *                      core's token estimate of the body, the expected
 *                      reply length (the task's typical length, or
 *                      output=N, capped by the body's max_tokens or
 *                      max_completion_tokens) and that cap when given
 *   baseline_cost_usd  the expected cost on the baseline model
 *                      (baseline=, else `set baseline=`, else the
 *                      dearest tier-3 model of the catalog)
 *   expected_cost_usd, worst_cost_usd
 *                      for a pinned body.model found in the catalog;
 *                      worst = input + (max_tokens, else the model's
 *                      max output) at list price
 *   costs              with candidates=true only: {model:[expected,
 *                      worst], ...} for every model of the catalog
 * The route stage reads estimate and picks the model.  Prices and costs
 * come from the runner (host->models(), host->cost()); the expected reply
 * length of a task is plan.h's, shared with route.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llmroute.h"

#include "core/lib/keys.h"
#include "core/lib/plan.h"

#define MAX_TASKS 32

struct task_len {
  char name[48];
  long tokens;
};

struct price {
  const struct llmr_host *host;
  const struct llmr_model *models; /* the catalog (host->models()) */
  int nmodels;
  const struct llmr_model *baseline;
  long fixed_output;               /* output=N, 0 for per task */
  struct task_len tasks[MAX_TASKS]; /* outputs= overrides */
  int ntasks;
  int candidates;
};

static const struct llmr_option price_options[] = {
  { "baseline", LLMR_OPT_STRING, NULL, 0,
    "model to price every request on for baseline_cost_usd "
    "(default: set baseline=, else the dearest tier-3 model)" },
  { "output", LLMR_OPT_INT, "0", 0,
    "expected output tokens of every reply (0: by task)" },
  { "outputs", LLMR_OPT_STRING, NULL, 0,
    "expected output tokens by task, e.g. \"coding=900,chat=200\"" },
  { "candidates", LLMR_OPT_BOOL, "false", 0,
    "write route.costs {model:[expected,worst]} for every model" },
  { NULL, 0, NULL, 0, NULL }
};

/* Round a cost to 1e-10 USD, so result lines stay short. */
static double round_usd(double usd)
{
  return (double)(long long)(usd * 1e10 + 0.5) / 1e10;
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

/* Parse "task=N,task=N" into p->tasks.  LLMR_OK or LLMR_ERR. */
static int parse_outputs(struct price *p, const char *spec,
                         const struct llmr_config *cf)
{
  const char *s = spec;

  while(*s) {
    const char *eq, *end;
    char *num_end;
    long n;
    size_t len;
    while(*s == ',' || *s == ' ')
      s++;
    if(!*s)
      break;
    end = s + strcspn(s, ",");
    eq = memchr(s, '=', (size_t)(end - s));
    len = eq ? (size_t)(eq - s) : 0;
    if(!eq || !len || len >= sizeof(p->tasks[0].name) ||
       p->ntasks == MAX_TASKS) {
      p->host->config_error(cf, "outputs: expected task=N[,task=N...], "
                            "got '%.*s'", (int)(end - s), s);
      return LLMR_ERR;
    }
    n = strtol(eq + 1, &num_end, 10);
    if(num_end == eq + 1 || num_end != end || n < 1) {
      p->host->config_error(cf, "outputs: '%.*s': N must be an integer "
                            ">= 1", (int)(end - s), s);
      return LLMR_ERR;
    }
    memcpy(p->tasks[p->ntasks].name, s, len);
    p->tasks[p->ntasks].name[len] = '\0';
    p->tasks[p->ntasks].tokens = n;
    p->ntasks++;
    s = end;
  }
  return LLMR_OK;
}

/* The baseline model: by name, or the tier-3 model dearest on a
 * 1,000-in / 1,000-out request. */
static const struct llmr_model *pick_baseline(const struct price *p,
                                              const char *name)
{
  const struct llmr_model *best = NULL;
  double best_cost = -1;
  int i, tier;

  if(name && *name)
    return p->host->model(name);
  for(tier = 3; tier >= 1 && !best; tier--)
    for(i = 0; i < p->nmodels; i++) {
      const struct llmr_model *m = &p->models[i];
      double c = plan_cost(p->host, &m->price, 1000, 1000);
      if(m->tier == tier && c > best_cost) {
        best = m;
        best_cost = c;
      }
    }
  return best;
}

/* Frees the instance (accepts NULL). */
static void price_finish(void *self)
{
  struct price *p = self;

  if(!p)
    return;
  free(p);
  keys_release();
}

/* Load the catalog view, the baseline and the options into a new
 * instance (*self, freed by price_finish).  LLMR_OK or LLMR_ERR. */
static int price_init(const struct llmr_host *host,
                      const struct llmr_config *cf, void **self)
{
  struct price *p = calloc(1, sizeof(*p));
  const struct llmr_value *v;
  const char *bname;

  if(!p)
    return LLMR_ENOMEM;
  ninstances++;
  p->host = host;
  p->models = host->models(&p->nmodels);
  if(!p->nmodels) {
    host->config_error(cf, "price needs a catalog with models "
                       "(set catalog=models.json)");
    goto fail;
  }
  v = host->opt(cf, "baseline");
  bname = v && v->str ? v->str : host->setting("baseline");
  p->baseline = pick_baseline(p, bname);
  if(!p->baseline) {
    host->config_error(cf, "baseline model '%s' is not in the catalog",
                       bname ? bname : "");
    goto fail;
  }
  v = host->opt(cf, "output");
  p->fixed_output = v ? (long)v->i : 0;
  if(p->fixed_output < 0) {
    host->config_error(cf, "output must be >= 0");
    goto fail;
  }
  v = host->opt(cf, "outputs");
  if(v && v->str && parse_outputs(p, v->str, cf) != LLMR_OK)
    goto fail;
  v = host->opt(cf, "candidates");
  p->candidates = v ? (int)v->i : 0;
  *self = p;
  return LLMR_OK;
fail:
  price_finish(p);
  return LLMR_ERR;
}

/* Expected output tokens for task. */
static long expected_output(const struct price *p, const char *task)
{
  int i;

  for(i = 0; task && i < p->ntasks; i++)
    if(!strcmp(p->tasks[i].name, task))
      return p->tasks[i].tokens;
  if(p->fixed_output > 0)
    return p->fixed_output;
  return plan_task_output(task);
}

/* The body's output cap (max_completion_tokens, else max_tokens), or 0.
 * Borrows body. */
static long max_tokens_of(jv body)
{
  double d = key_num(body, "max_completion_tokens", 0);

  if(d <= 0)
    d = key_num(body, "max_tokens", 0);
  return plan_count(d);
}

/* Worst case of one model: input + the cap, else its max output. */
static double worst_cost(const struct price *p, const struct llmr_model *m,
                         long in, long cap)
{
  return plan_cost(p->host, &m->price, in,
                   cap > 0 ? cap : m->max_output_tokens);
}

/* Writes estimate, baseline_cost_usd (and a pinned model's costs) into
 * the job's route record.  Always LLMR_NEXT. */
static enum llmr_verdict price_process(void *self, struct llmr_job *job)
{
  struct price *p = self;
  const struct llmr_host *h = p->host;
  jv req = h->request(job), body = get(req, "body");
  jv route = h->route(job), est = jv_object();
  jv task = get(route, "task"), pin = get(body, "model");
  long in, out, cap;

  if(jv_get_kind(task) != JV_KIND_STRING) {
    jv routing = get(req, "routing");
    jvf_free(task);
    task = get(routing, "task");
    jvf_free(routing);
  }
  in = h->estimate_tokens(body);
  cap = max_tokens_of(body);
  out = expected_output(p, jv_get_kind(task) == JV_KIND_STRING
                           ? jv_string_value(task) : NULL);
  if(cap > 0 && cap < out)
    out = cap;
  est = jvf_set(est, key("input_tokens"), jv_number(in));
  est = jvf_set(est, key("output_tokens"), jv_number(out));
  if(cap > 0)
    est = jvf_set(est, key("max_tokens"), jv_number(cap));
  /* take the record: with the job's reference dropped, the sets below
     change it in place instead of copying it */
  h->set_route(job, jv_null());
  if(jv_get_kind(route) != JV_KIND_OBJECT) {
    jvf_free(route);
    route = jv_object();
  }
  route = jvf_set(route, key("estimate"), est);
  route = jvf_set(route, key("baseline_cost_usd"),
                        jv_number(round_usd(plan_cost(
                          h, &p->baseline->price, in, out))));
  if(jv_get_kind(pin) == JV_KIND_STRING &&
     strcmp(jv_string_value(pin), "auto") != 0) {
    const struct llmr_model *m = h->model(jv_string_value(pin));
    if(m) {
      route = jvf_set(route, key("expected_cost_usd"),
                            jv_number(round_usd(
                              plan_cost(h, &m->price, in, out))));
      route = jvf_set(route, key("worst_cost_usd"),
                            jv_number(round_usd(worst_cost(p, m, in, cap))));
    }
  }
  if(p->candidates) {
    jv costs = jv_object();
    int i;
    for(i = 0; i < p->nmodels; i++) {
      const struct llmr_model *m = &p->models[i];
      jv pair = jv_array();
      pair = jv_array_append(pair, jv_number(round_usd(
                               plan_cost(h, &m->price, in, out))));
      pair = jv_array_append(pair, jv_number(round_usd(
                               worst_cost(p, m, in, cap))));
      costs = jvf_set(costs, jv_string(m->name), pair);
    }
    route = jvf_set(route, key("costs"), costs);
  }
  h->set_route(job, route);
  jvf_free(task);
  jvf_free(pin);
  jvf_free(body);
  jvf_free(req);
  return LLMR_NEXT;
}

static const struct llmr_stage price_stage = {
  LLMR_STAGE_VERSION,
  .name = "price",
  .version = "0.1.0",
  .description = "estimate tokens, expected/worst-case and baseline cost",
  .options = price_options,
  .init = price_init,
  .process = price_process,
  .finish = price_finish
};

LLMR_EXPORT const struct llmr_stage *llmr_stage_entry(unsigned host_major,
                                                     unsigned host_minor)
{
  (void)host_minor;
  if(host_major != LLMR_ABI_MAJOR)
    return NULL;
  return &price_stage;
}
