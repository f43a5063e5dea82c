/*
 * test_route.c - the price and route stages alone on the mock host, and
 * the runner's cost formula and catalog view as stages see them.
 *
 * Catalog: tests/fixtures/catalog/good.json (run from the source root).
 * Stages: $BUILD/lib/llmroute/{price,route}.so (BUILD from the
 * environment, default "build").  Prices are USD per Mtok:
 *   tiny      t1  0.1 / 0.4   ctx 16000    max out 4096
 *   small     t1  0.2 / 0.8   ctx 128000   max out 16384 (2 deployments)
 *   mid-cheap t2  0.5 / 1.0   ctx 32000    max out 8000
 *   mid       t2  1.0 / 4.0   ctx 200000   max out 64000
 *   big-long  t3  2.0 / 12.0  ctx 1000000  max out 65536
 *   big       t3  5.0 / 25.0  ctx 200000   max out 64000
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "harness.h"
#include "llmroute-mock.h"

static char sopath[1024];

static const char *plugin(const char *name)
{
  const char *build = getenv("BUILD");

  snprintf(sopath, sizeof(sopath), "%s/lib/llmroute/%s.so",
           build && *build ? build : "build", name);
  return sopath;
}

/* Borrows v.  The number at a dotted path, or -1. */
static double num_at(jv v, const char *path)
{
  char buf[256];
  const char *s = mock_str_at(v, path, buf, sizeof(buf));

  return s ? atof(s) : -1.0;
}

static const char *str_at(jv v, const char *path)
{
  static char buf[1024];

  return mock_str_at(v, path, buf, sizeof(buf));
}

/* A job with a body and a route record made of JSON text. */
static struct llmr_job *job_with(const char *req, const char *route)
{
  struct llmr_job *job = mock_job_new("t1", jv_parse(req));

  if(route) {
    jv_free(job->route);
    job->route = jv_parse(route);
  }
  return job;
}

#define BODY "{\"body\":{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]"

/* Run the loaded route stage on one job; returns it (caller frees). */
static struct llmr_job *route_one(struct mock_stage *ms, const char *req,
                                  const char *route)
{
  struct llmr_job *job = job_with(req, route);

  mock_process(ms, job);
  return job;
}

/* Load a stage with options; a failed load is a failed check. */
static int load(struct mock_stage *ms, const char *name, const char **opts)
{
  int rc;

  mock.stage_name = name;
  rc = mock_stage_load(ms, plugin(name), opts);
  if(rc)
    printf("# load %s: %s\n", name, mock.errbuf);
  return rc;
}

/* ---------------------------------------------------------------------
 * host->cost() and the catalog's C view (host->models(), host->model())
 */
static void test_cost_formulas(void)
{
  const struct llmr_host *h = mock_host();
  const struct llmr_model *m;
  struct llmr_price p;
  struct llmr_usage u;
  int n;

  p.input = 3;
  p.output = 15;
  p.cached = 0.3;
  p.cache_write = 3.75;
  u.input_tokens = 600;
  u.cached_tokens = 400;
  u.cache_write_tokens = 100;
  u.output_tokens = 200;
  CHECK_DBL("cost: every kind of token at its price", h->cost(&p, &u),
            (600 * 3.0 + 400 * 0.3 + 100 * 3.75 + 200 * 15.0) / 1e6, 1e-12);
  CHECK_DBL("cost: 0.005295 USD", h->cost(&p, &u), 0.005295, 1e-12);
  CHECK_DBL("cost: no usage is free", h->cost(&p, NULL), 0.0, 0);

  jv_free(mock.catalog);
  if(catalog_load("tests/fixtures/catalog/good.json", &mock.catalog,
                  mock.errbuf, sizeof(mock.errbuf)) != LLMR_OK ||
     models_build(mock.catalog) != LLMR_OK) {
    CHECK("fixture catalog loads", 0);
    return;
  }
  CHECK("models: the catalog's six", h->models(&n) != NULL && n == 6);
  m = h->model("small");
  CHECK("model: by catalog key", m && !strcmp(m->name, "small"));
  if(!m || m->ndeployments < 2) {
    CHECK("model: small has two deployments", 0);
    return;
  }
  CHECK("model: by a deployment's model name",
        h->model(m->deployments[0].model) == m);
  CHECK("model: unknown is NULL", h->model("no-such-model") == NULL);
  CHECK_INT("model: tier", m->tier, 1);
  CHECK_INT("model: context", m->context_tokens, 128000);
  CHECK_DBL("model price", m->price.input, 0.2, 1e-15);
  CHECK_DBL("cache write defaults to 1.25 x input", m->price.cache_write,
            0.25, 1e-15);
  p = m->deployments[1].price;
  CHECK_DBL("deployment input price", p.input, 0.3, 1e-15);
  CHECK_DBL("deployment output price", p.output, 0.9, 1e-15);
  CHECK_DBL("deployment cached price follows its input", p.cached, 0.3,
            1e-15);
  CHECK_STR("deployment format from its provider",
            m->deployments[1].format, "openai");
  memset(&u, 0, sizeof(u));
  u.input_tokens = 1000;
  u.output_tokens = 100;
  CHECK_DBL("plan cost", h->cost(&p, &u), (1000 * 0.3 + 100 * 0.9) / 1e6,
            1e-12);
}

/* ---------------------------------------------------------------------
 * price
 */
static void test_price(void)
{
  struct mock_stage ms;
  struct llmr_job *job;
  const char *opts[] = { NULL };
  const char *opts2[] = { "outputs=extraction=99", "output=500",
                          "candidates=true", NULL };
  const char *bad[] = { "baseline=nope", NULL };
  long in, in0;
  jv body;

  body = jv_parse("{\"messages\":[]}");
  in0 = mock_host()->estimate_tokens(body); /* an empty chat's priming */
  jv_free(body);
  if(load(&ms, "price", opts)) {
    CHECK("price: loads", 0);
    return;
  }
  job = job_with(BODY ",\"max_tokens\":5000}}", "{\"task\":\"extraction\"}");
  body = jv_object_get(jv_copy(job->request), jv_string("body"));
  in = mock_host()->estimate_tokens(body);
  jv_free(body);
  CHECK_INT("price: NEXT", mock_process(&ms, job), LLMR_NEXT);
  CHECK_DBL("price: input estimate from the host",
            num_at(job->route, "estimate.input_tokens"), (double)in, 0);
  CHECK_DBL("price: extraction expects 150 output tokens",
            num_at(job->route, "estimate.output_tokens"), 150, 0);
  CHECK_DBL("price: max_tokens recorded",
            num_at(job->route, "estimate.max_tokens"), 5000, 0);
  CHECK_DBL("price: baseline = dearest tier 3 (big)",
            num_at(job->route, "baseline_cost_usd"),
            (in * 5.0 + 150 * 25.0) / 1e6, 1e-10);
  CHECK("price: no costs unless asked",
        !jv_object_has(jv_copy(job->route), jv_string("costs")));
  mock_job_free(job);

  job = job_with("{\"body\":{\"model\":\"mid\",\"max_tokens\":40,"
                 "\"messages\":[]},\"routing\":{\"task\":\"coding\"}}", NULL);
  mock_process(&ms, job);
  CHECK_DBL("price: max_tokens caps the expected output",
            num_at(job->route, "estimate.output_tokens"), 40, 0);
  CHECK_DBL("price: pinned expected cost",
            num_at(job->route, "expected_cost_usd"),
            (in0 * 1.0 + 40 * 4.0) / 1e6, 1e-10);
  CHECK_DBL("price: pinned worst case uses max_tokens",
            num_at(job->route, "worst_cost_usd"),
            (in0 * 1.0 + 40 * 4.0) / 1e6, 1e-10);
  mock_job_free(job);

  job = job_with("{\"body\":{\"model\":\"mid\",\"messages\":[]}}", NULL);
  mock_process(&ms, job);
  CHECK_DBL("price: worst case without max_tokens = model max output",
            num_at(job->route, "worst_cost_usd"),
            (in0 * 1.0 + 64000 * 4.0) / 1e6, 1e-10);
  CHECK_DBL("price: no task expects 350",
            num_at(job->route, "estimate.output_tokens"), 350, 0);
  mock_job_free(job);
  mock_stage_unload(&ms);

  if(load(&ms, "price", opts2)) {
    CHECK("price: loads with options", 0);
    return;
  }
  job = job_with(BODY "}}", "{\"task\":\"extraction\"}");
  mock_process(&ms, job);
  CHECK_DBL("price: outputs= per task",
            num_at(job->route, "estimate.output_tokens"), 99, 0);
  CHECK("price: candidates lists every model",
        jv_object_length(jv_object_get(jv_copy(job->route),
                                       jv_string("costs"))) == 6);
  mock_job_free(job);
  job = job_with(BODY "}}", "{\"task\":\"chat\"}");
  mock_process(&ms, job);
  CHECK_DBL("price: output= for the other tasks",
            num_at(job->route, "estimate.output_tokens"), 500, 0);
  mock_job_free(job);
  mock_stage_unload(&ms);

  mock.stage_name = "price";
  CHECK("price: unknown baseline refused",
        mock_stage_load(&ms, plugin("price"), bad) != 0 &&
        strstr(mock.errbuf, "baseline model 'nope' is not in the catalog"));
  mock_stage_unload(&ms);
  mock_setting("baseline", "mid");
  if(!load(&ms, "price", opts)) {
    job = job_with("{\"body\":{\"messages\":[]}}",
                   "{\"task\":\"classification\"}");
    mock_process(&ms, job);
    CHECK_DBL("price: set baseline= is used",
              num_at(job->route, "baseline_cost_usd"),
              (in0 * 1.0 + 20 * 4.0) / 1e6, 1e-10);
    mock_job_free(job);
  }
  mock_stage_unload(&ms);
  mock.nsettings = 0;
}

/* ---------------------------------------------------------------------
 * route
 */
#define EST(in, out) "\"estimate\":{\"input_tokens\":" #in \
                     ",\"output_tokens\":" #out "}"

static void test_cheapest_capable(void)
{
  struct mock_stage ms;
  struct llmr_job *job;
  const char *opts[] = { NULL };

  if(load(&ms, "route", opts)) {
    CHECK("route: loads", 0);
    return;
  }
  job = route_one(&ms, BODY "}}", "{\"task\":\"extraction\","
                  "\"complexity\":0.5," EST(1000, 150) "}");
  CHECK_INT("cc: NEXT", job->verdict, LLMR_NEXT);
  CHECK_STR("cc: extraction -> tiny", str_at(job->route, "model"), "tiny");
  CHECK_STR("cc: provider", str_at(job->route, "provider"), "openai");
  CHECK_DBL("cc: tier", num_at(job->route, "tier"), 1, 0);
  CHECK_STR("cc: deployments", str_at(job->route, "deployments"),
            "[{\"model\":\"tiny-2025\",\"provider\":\"openai\"}]");
  CHECK_DBL("cc: expected cost", num_at(job->route, "expected_cost_usd"),
            (1000 * 0.1 + 150 * 0.4) / 1e6, 1e-12);
  CHECK_DBL("cc: worst case = input + max output",
            num_at(job->route, "worst_cost_usd"),
            (1000 * 0.1 + 4096 * 0.4) / 1e6, 1e-10);
  CHECK_DBL("cc: baseline (big) when price did not run",
            num_at(job->route, "baseline_cost_usd"),
            (1000 * 5.0 + 150 * 25.0) / 1e6, 1e-12);
  CHECK("cc: reason says why",
        strstr(str_at(job->route, "reason"), "cheapest-capable") != NULL);
  mock_job_free(job);

  job = route_one(&ms, BODY "}}", "{\"task\":\"coding\",\"complexity\":0.5,"
                  EST(1000, 700) "}");
  CHECK_STR("cc: coding -> tier 2, mid-cheap",
            str_at(job->route, "model"), "mid-cheap");
  mock_job_free(job);
  job = route_one(&ms, BODY "}}", "{\"task\":\"coding\",\"complexity\":0.9,"
                  EST(1000, 700) "}");
  CHECK_STR("cc: hard coding -> tier 3, big-long",
            str_at(job->route, "model"), "big-long");
  mock_job_free(job);
  job = route_one(&ms, BODY "}}", "{\"task\":\"coding\",\"complexity\":0.1,"
                  EST(1000, 700) "}");
  CHECK_STR("cc: easy coding -> tier 1, tiny", str_at(job->route, "model"),
            "tiny");
  mock_job_free(job);
  job = route_one(&ms, BODY "}}", "{\"task\":\"extraction\","
                  EST(20000, 150) "}");
  CHECK_STR("cc: too long for tiny -> small", str_at(job->route, "model"),
            "small");
  CHECK_STR("cc: first deployment's provider",
            str_at(job->route, "provider"), "my-host");
  CHECK("cc: both deployments listed",
        jv_array_length(jv_object_get(jv_copy(job->route),
                                      jv_string("deployments"))) == 2);
  mock_job_free(job);
  job = route_one(&ms, BODY ",\"max_tokens\":20000}}",
                  "{\"task\":\"extraction\"," EST(1000, 150) "}");
  CHECK_STR("cc: max_tokens over small's max output -> mid",
            str_at(job->route, "model"), "mid");
  mock_job_free(job);
  job = route_one(&ms, BODY ",\"max_completion_tokens\":3000}}",
                  "{\"task\":\"extraction\"," EST(14000, 150) "}");
  CHECK_STR("cc: estimate + max_completion_tokens over tiny's window",
            str_at(job->route, "model"), "small");
  mock_job_free(job);
  job = route_one(&ms, BODY "}}", "{\"task\":\"chat\","
                  EST(2000000, 150) "}");
  CHECK_INT("cc: nothing holds 2M tokens: FAIL", job->verdict, LLMR_FAIL);
  CHECK_STR("cc: context_length_exceeded", str_at(job->error, "code"),
            "context_length_exceeded");
  mock_job_free(job);
  job = route_one(&ms, BODY "},\"routing\":{\"min_tier\":3}}",
                  "{\"task\":\"chat\"," EST(1000, 150) "}");
  CHECK_STR("cc: routing.min_tier 3", str_at(job->route, "model"),
            "big-long");
  mock_job_free(job);
  job = route_one(&ms, BODY ",\"max_tokens\":1e300}}",
                  "{\"task\":\"chat\"," EST(1000, 150) "}");
  CHECK_STR("cc: an absurd max_tokens is context_length_exceeded",
            str_at(job->error, "code"), "context_length_exceeded");
  mock_job_free(job);
  job = route_one(&ms, BODY ",\"max_tokens\":-7}}",
                  "{\"task\":\"chat\"," EST(1000, 150) "}");
  CHECK_STR("cc: a negative max_tokens is ignored",
            str_at(job->route, "model"), "tiny");
  mock_job_free(job);
  job = route_one(&ms, BODY "}}", "{\"task\":\"chat\",\"min_tier\":2,"
                  EST(1000, 150) ",\"attempts\":[{\"model\":\"mid-cheap\","
                  "\"valid\":false},{\"model\":\"tiny\",\"valid\":true}]}");
  CHECK_STR("cc: escalated to tier 2, skipping the invalid answer",
            str_at(job->route, "model"), "mid");
  mock_job_free(job);
  job = route_one(&ms, BODY "},\"routing\":{\"min_tier\":3}}",
                  "{\"task\":\"chat\"," EST(1000, 150) ",\"attempts\":["
                  "{\"model\":\"big-long\",\"valid\":false},"
                  "{\"model\":\"big\",\"valid\":false}]}");
  CHECK_STR("cc: every tier-3 model answered invalidly: no_model",
            str_at(job->error, "code"), "no_model");
  mock_job_free(job);
  job = route_one(&ms, BODY "},\"routing\":{\"max_cost_usd\":0.001}}",
                  "{\"task\":\"coding\",\"complexity\":0.9,"
                  EST(1000, 700) "}");
  CHECK_STR("cc: max_cost_usd below every tier-3 model: no_model",
            str_at(job->error, "code"), "no_model");
  CHECK("cc: the message names max_cost_usd",
        strstr(str_at(job->error, "message"), "max_cost_usd") != NULL);
  mock_job_free(job);
  job = route_one(&ms, BODY "},\"routing\":{\"max_cost_usd\":0.0002}}",
                  "{\"task\":\"chat\"," EST(1000, 150) "}");
  CHECK_STR("cc: max_cost_usd that fits", str_at(job->route, "model"),
            "tiny");
  mock_job_free(job);
  job = route_one(&ms, BODY "},\"routing\":{\"task\":\"math\"}}", NULL);
  CHECK_STR("cc: routing.task without a price stage: tier 2",
            str_at(job->route, "model"), "mid-cheap");
  CHECK("cc: writes an estimate when price did not",
        num_at(job->route, "estimate.input_tokens") > 0);
  mock_job_free(job);

  /* pinned */
  job = route_one(&ms, "{\"body\":{\"model\":\"big\",\"messages\":[]}}",
                  "{\"task\":\"chat\"," EST(1000, 150) "}");
  CHECK_STR("pinned: big", str_at(job->route, "model"), "big");
  CHECK_STR("pinned: reason", str_at(job->route, "reason"),
            "pinned: body.model");
  mock_job_free(job);
  job = route_one(&ms, "{\"body\":{\"model\":\"small-b\",\"messages\":[]}}",
                  "{\"task\":\"chat\"," EST(1000, 150) "}");
  CHECK_STR("pinned by a deployment's model name",
            str_at(job->route, "model"), "small");
  mock_job_free(job);
  job = route_one(&ms, "{\"body\":{\"model\":\"auto\",\"messages\":[]}}",
                  "{\"task\":\"chat\"," EST(1000, 150) "}");
  CHECK_STR("auto is routed", str_at(job->route, "model"), "tiny");
  mock_job_free(job);
  job = route_one(&ms, "{\"body\":{\"model\":\"gpt-9\",\"messages\":[]}}",
                  "{\"task\":\"chat\"," EST(1000, 150) "}");
  CHECK_INT("pinned unknown: FAIL", job->verdict, LLMR_FAIL);
  CHECK_STR("pinned unknown: no_model", str_at(job->error, "code"),
            "no_model");
  CHECK_STR("pinned unknown: message", str_at(job->error, "message"),
            "model 'gpt-9' is not in the catalog");
  mock_job_free(job);
  job = route_one(&ms, "{\"body\":{\"model\":\"tiny\",\"messages\":[]}}",
                  "{\"task\":\"chat\"," EST(20000, 150) "}");
  CHECK_STR("pinned too small: context_length_exceeded",
            str_at(job->error, "code"), "context_length_exceeded");
  mock_job_free(job);
  mock_stage_unload(&ms);
}

static void test_map_threshold(void)
{
  struct mock_stage ms;
  struct llmr_job *job;
  const char *map[] = { "policy=map", "map=extraction=mid, coding=big",
                        "candidates=2", NULL };
  const char *badmap[] = { "policy=map", "map=coding=nonexistent", NULL };
  const char *nomap[] = { "policy=map", NULL };
  const char *badpol[] = { "policy=random", NULL };
  const char *thr[] = { "policy=threshold", "threshold=0.6", NULL };
  const char *thr2[] = { "policy=threshold", "strong=mid", NULL };
  const char *tiers[] = { "tiers=chat=3", NULL };

  if(!load(&ms, "route", map)) {
    job = route_one(&ms, BODY "}}", "{\"task\":\"extraction\","
                    EST(1000, 150) "}");
    CHECK_STR("map: extraction -> mid", str_at(job->route, "model"), "mid");
    CHECK_STR("map: reason", str_at(job->route, "reason"),
              "map: extraction -> mid");
    CHECK_STR("map: two runner-ups", str_at(job->route, "candidates"),
              "[[\"tiny\",0.00016],[\"small\",0.00032]]");
    mock_job_free(job);
    job = route_one(&ms, BODY "}}", "{\"task\":\"chat\"," EST(1000, 150)
                    "}");
    CHECK_STR("map: unmapped task -> cheapest", str_at(job->route, "model"),
              "tiny");
    mock_job_free(job);
    job = route_one(&ms, BODY "},\"routing\":{\"min_tier\":3}}",
                    "{\"task\":\"extraction\"," EST(1000, 150) "}");
    CHECK_STR("map: mapped model below min_tier -> cheapest tier 3",
              str_at(job->route, "model"), "big-long");
    mock_job_free(job);
  }
  else
    CHECK("map: loads", 0);
  mock_stage_unload(&ms);

  mock.stage_name = "route";
  CHECK("map: unknown model refused",
        mock_stage_load(&ms, plugin("route"), badmap) != 0 &&
        strstr(mock.errbuf, "model 'nonexistent' (for task 'coding') is "
               "not in the catalog"));
  mock_stage_unload(&ms);
  CHECK("map: policy=map without a map refused",
        mock_stage_load(&ms, plugin("route"), nomap) != 0);
  mock_stage_unload(&ms);
  CHECK("unknown policy refused",
        mock_stage_load(&ms, plugin("route"), badpol) != 0 &&
        strstr(mock.errbuf, "unknown policy 'random'"));
  mock_stage_unload(&ms);

  if(!load(&ms, "route", thr)) {
    job = route_one(&ms, BODY "}}", "{\"task\":\"chat\",\"complexity\":0.7,"
                    EST(1000, 150) "}");
    CHECK_STR("threshold: hard -> strong tier 3",
              str_at(job->route, "model"), "big-long");
    mock_job_free(job);
    job = route_one(&ms, BODY "}}", "{\"task\":\"coding\","
                    "\"complexity\":0.3," EST(1000, 150) "}");
    CHECK_STR("threshold: easy -> weak tier 1", str_at(job->route, "model"),
              "tiny");
    mock_job_free(job);
  }
  mock_stage_unload(&ms);
  if(!load(&ms, "route", thr2)) {
    job = route_one(&ms, BODY "}}", "{\"task\":\"chat\",\"complexity\":0.9,"
                    EST(1000, 150) "}");
    CHECK_STR("threshold: strong=mid", str_at(job->route, "model"), "mid");
    mock_job_free(job);
  }
  mock_stage_unload(&ms);
  if(!load(&ms, "route", tiers)) {
    job = route_one(&ms, BODY "}}", "{\"task\":\"chat\",\"complexity\":0.5,"
                    EST(1000, 150) "}");
    CHECK_STR("tiers=chat=3", str_at(job->route, "model"), "big-long");
    mock_job_free(job);
  }
  mock_stage_unload(&ms);
}

/* hedge=true: route.hedge is the cheapest eligible model at least one
 * tier above the chosen one, for call hedge_ms=. */
static void test_hedge(void)
{
  struct mock_stage ms;
  struct llmr_job *job;
  const char *on[] = { "hedge=true", NULL };
  const char *off[] = { NULL };

  if(load(&ms, "route", off)) {
    CHECK("hedge: loads", 0);
    return;
  }
  job = route_one(&ms, BODY "}}", "{\"task\":\"extraction\","
                  "\"complexity\":0.5," EST(1000, 150) "}");
  CHECK("hedge: off by default", str_at(job->route, "hedge") == NULL);
  mock_job_free(job);
  mock_stage_unload(&ms);

  if(load(&ms, "route", on)) {
    CHECK("hedge: loads with hedge=true", 0);
    return;
  }
  job = route_one(&ms, BODY "}}", "{\"task\":\"extraction\","
                  "\"complexity\":0.5," EST(1000, 150) "}");
  CHECK_STR("hedge: tier 1 tiny chosen", str_at(job->route, "model"),
            "tiny");
  CHECK_STR("hedge: the cheapest of tier 2", str_at(job->route,
                                                    "hedge.model"),
            "mid-cheap");
  CHECK_DBL("hedge: its tier", num_at(job->route, "hedge.tier"), 2, 0);
  CHECK_STR("hedge: its deployments",
            str_at(job->route, "hedge.deployments"),
            "[{\"model\":\"mid-cheap\",\"provider\":\"my-host\"}]");
  CHECK_DBL("hedge: its expected cost",
            num_at(job->route, "hedge.expected_cost_usd"),
            (1000 * 0.5 + 150 * 1.0) / 1e6, 1e-12);
  mock_job_free(job);

  /* context: mid-cheap's 32000 tokens do not hold 40000 -> mid */
  job = route_one(&ms, BODY "}}", "{\"task\":\"extraction\","
                  "\"complexity\":0.5," EST(40000, 150) "}");
  CHECK_STR("hedge: context -> small", str_at(job->route, "model"),
            "small");
  CHECK_STR("hedge: context -> mid", str_at(job->route, "hedge.model"),
            "mid");
  mock_job_free(job);

  /* max_cost_usd: tier 2 costs too much -> no hedge */
  job = route_one(&ms, BODY "},\"routing\":{\"max_cost_usd\":0.0003}}",
                  "{\"task\":\"extraction\",\"complexity\":0.5,"
                  EST(1000, 150) "}");
  CHECK_STR("hedge: cost cap keeps tiny", str_at(job->route, "model"),
            "tiny");
  CHECK("hedge: none within max_cost_usd",
        str_at(job->route, "hedge") == NULL);
  mock_job_free(job);

  /* a model that answered invalidly is not a hedge */
  job = route_one(&ms, BODY "}}", "{\"task\":\"extraction\","
                  "\"complexity\":0.5," EST(1000, 150) ",\"attempts\":["
                  "{\"model\":\"mid-cheap\",\"valid\":false}]}");
  CHECK_STR("hedge: skips a tried model", str_at(job->route, "hedge.model"),
            "mid");
  mock_job_free(job);

  /* top tier: no higher tier, and a stale hedge is removed */
  job = route_one(&ms, BODY "}}", "{\"task\":\"coding\","
                  "\"complexity\":0.9," EST(1000, 700) ",\"hedge\":"
                  "{\"model\":\"mid\",\"tier\":2}}");
  CHECK_STR("hedge: tier 3 chosen", str_at(job->route, "model"),
            "big-long");
  CHECK("hedge: none above tier 3", str_at(job->route, "hedge") == NULL);
  mock_job_free(job);

  /* pinned: fallbacks only to the same model (llmroute(1), INPUT LINES), so no hedge */
  job = route_one(&ms, "{\"body\":{\"model\":\"tiny\",\"messages\":"
                  "[{\"role\":\"user\",\"content\":\"x\"}]}}",
                  "{\"task\":\"extraction\"," EST(1000, 150) "}");
  CHECK_STR("hedge: pinned model", str_at(job->route, "model"), "tiny");
  CHECK("hedge: none for a pinned model",
        str_at(job->route, "hedge") == NULL);
  mock_job_free(job);
  mock_stage_unload(&ms);
}

int main(void)
{
  char err[512];

  if(catalog_load("tests/fixtures/catalog/good.json", &mock.catalog, err,
                  sizeof(err)) != LLMR_OK) {
    printf("FAIL: fixture catalog: %s\n", err);
    return 1;
  }
  test_cost_formulas();
  test_price();
  test_cheapest_capable();
  test_map_threshold();
  test_hedge();
  jv_free(mock.catalog);
  return harness_done();
}
