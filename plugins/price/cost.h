/*
 * cost.h - list-price cost of a request, header-only, shared by stages.
 *
 * Plugins link nothing from each other, so this file is all static inline
 * functions: price, route and call include it by relative path
 * (#include "../price/cost.h") and compute costs the same way.
 *
 * Normalised usage (what an attempt's "usage" holds in the result line):
 *
 *   input_tokens        prompt tokens billed at the input price (uncached)
 *   cached_tokens       prompt tokens read from the provider's cache
 *   cache_write_tokens  prompt tokens written to the cache (Anthropic);
 *                       written only when non-zero
 *   output_tokens       completion tokens, reasoning/thinking included
 *
 * From each provider's own usage (../shared/reference/providers.md §5.4):
 *   openai    prompt_tokens includes prompt_tokens_details.cached_tokens:
 *             input = prompt_tokens - cached; output = completion_tokens
 *   anthropic input_tokens excludes cache reads and writes: input =
 *             input_tokens, cached = cache_read_input_tokens, cache_write
 *             = cache_creation_input_tokens; output = output_tokens
 *   gemini    promptTokenCount includes cachedContentTokenCount; output =
 *             candidatesTokenCount + thoughtsTokenCount
 *
 * cost = (input * in + cached * cached_in + cache_write * write
 *         + output * out) / 1e6, prices in USD per million tokens.  A
 * deployment may carry its own prices (its host charges differently);
 * missing fields fall back to the model's.  cache_write_usd_per_mtok
 * defaults to 1.25 x input (Anthropic's 5-minute cache write).  Prices
 * above 200k input tokens (Gemini Pro, Sonnet 4.x) are not modelled.
 */
#ifndef LLMR_COST_H
#define LLMR_COST_H

#include <stdlib.h>
#include <string.h>
#include <jv.h>
#include "jvfast.h"

/* How cost.h makes an object key from a string literal: a stage may
 * define LLMR_COST_KEY before including this file to reuse interned keys
 * (every key cost.h passes is a literal). */
#ifndef LLMR_COST_KEY
#define LLMR_COST_KEY(k) jv_string(k)
#endif
/* ... and how it looks one up: obj[k] as a new ref (obj borrowed) */
#ifndef LLMR_COST_GET
#define LLMR_COST_GET(obj, k) jv_object_get(jvf_copy(obj), LLMR_COST_KEY(k))
#endif

struct llmr_price {
  double input, output, cached, cache_write; /* USD per Mtok */
};

struct llmr_usage {
  long input_tokens, cached_tokens, cache_write_tokens, output_tokens;
};

/* Borrows obj.  obj[name] as a number when it is one, else dflt. */
static inline double llmr_cost_num(jv obj, const char *name, double dflt)
{
  jv v;
  double d = dflt;

  if(jv_get_kind(obj) != JV_KIND_OBJECT)
    return dflt;
  v = LLMR_COST_GET(obj, name);
  if(jv_get_kind(v) == JV_KIND_NUMBER)
    d = jv_number_value(v);
  jvf_free(v);
  return d;
}

/* Prices of a catalog model entry (borrowed), overridden by those of a
 * deployment (borrowed; jv_null() for none). */
static inline struct llmr_price llmr_price_of(jv model, jv deployment)
{
  struct llmr_price p;

  p.input = llmr_cost_num(model, "input_usd_per_mtok", 0.0);
  p.output = llmr_cost_num(model, "output_usd_per_mtok", 0.0);
  p.cached = llmr_cost_num(model, "cached_input_usd_per_mtok", p.input);
  p.cache_write = llmr_cost_num(model, "cache_write_usd_per_mtok",
                                p.input * 1.25);
  if(jv_get_kind(deployment) == JV_KIND_OBJECT) {
    double in = llmr_cost_num(deployment, "input_usd_per_mtok", -1.0);
    if(in >= 0) {
      p.input = in;
      p.cached = in;
      p.cache_write = in * 1.25;
    }
    p.output = llmr_cost_num(deployment, "output_usd_per_mtok", p.output);
    p.cached = llmr_cost_num(deployment, "cached_input_usd_per_mtok",
                             p.cached);
    p.cache_write = llmr_cost_num(deployment, "cache_write_usd_per_mtok",
                                  p.cache_write);
  }
  return p;
}

/* USD of normalised usage at prices p. */
static inline double llmr_cost(const struct llmr_price *p,
                               const struct llmr_usage *u)
{
  return ((double)u->input_tokens * p->input +
          (double)u->cached_tokens * p->cached +
          (double)u->cache_write_tokens * p->cache_write +
          (double)u->output_tokens * p->output) / 1e6;
}

/* USD of a plan: in uncached input tokens and out output tokens. */
static inline double llmr_cost_plan(const struct llmr_price *p, long in,
                                    long out)
{
  return ((double)in * p->input + (double)out * p->output) / 1e6;
}

/* A token count from a JSON number: 0 for negatives, NaN and fractions
 * below 1; at most LLMR_MAX_COUNT (a cast of a huge double is undefined). */
#define LLMR_MAX_COUNT 1e12
static inline long llmr_count(double d)
{
  if(!(d > 0))
    return 0;
  return d > LLMR_MAX_COUNT ? (long)LLMR_MAX_COUNT : (long)d;
}

/* Borrows obj.  obj[name] as a whole number >= 0, else 0. */
static inline long llmr_cost_count(jv obj, const char *name)
{
  return llmr_count(llmr_cost_num(obj, name, 0.0));
}

/* OpenAI chat usage (borrowed): prompt_tokens includes cached ones. */
static inline struct llmr_usage llmr_usage_openai(jv usage)
{
  struct llmr_usage u;
  long prompt = llmr_cost_count(usage, "prompt_tokens");
  jv det = jv_get_kind(usage) == JV_KIND_OBJECT
           ? LLMR_COST_GET(usage, "prompt_tokens_details")
           : jv_null();

  memset(&u, 0, sizeof(u));
  u.cached_tokens = llmr_cost_count(det, "cached_tokens");
  if(u.cached_tokens > prompt)
    u.cached_tokens = prompt;
  u.input_tokens = prompt - u.cached_tokens;
  u.output_tokens = llmr_cost_count(usage, "completion_tokens");
  jvf_free(det);
  return u;
}

/* Anthropic usage (borrowed): input_tokens excludes cache reads and
 * writes. */
static inline struct llmr_usage llmr_usage_anthropic(jv usage)
{
  struct llmr_usage u;

  u.input_tokens = llmr_cost_count(usage, "input_tokens");
  u.cached_tokens = llmr_cost_count(usage, "cache_read_input_tokens");
  u.cache_write_tokens = llmr_cost_count(usage,
                                         "cache_creation_input_tokens");
  u.output_tokens = llmr_cost_count(usage, "output_tokens");
  return u;
}

/* Gemini usageMetadata (borrowed): promptTokenCount includes
 * cachedContentTokenCount; thoughts are billed as output. */
static inline struct llmr_usage llmr_usage_gemini(jv meta)
{
  struct llmr_usage u;
  long prompt = llmr_cost_count(meta, "promptTokenCount");

  memset(&u, 0, sizeof(u));
  u.cached_tokens = llmr_cost_count(meta, "cachedContentTokenCount");
  if(u.cached_tokens > prompt)
    u.cached_tokens = prompt;
  u.input_tokens = prompt - u.cached_tokens;
  u.output_tokens = llmr_cost_count(meta, "candidatesTokenCount") +
                    llmr_cost_count(meta, "thoughtsTokenCount");
  return u;
}

/* A provider's usage (borrowed) by catalog format ("openai",
 * "anthropic", "gemini"); unknown formats read as openai. */
static inline struct llmr_usage llmr_usage_from(const char *format,
                                                jv usage)
{
  if(format && !strcmp(format, "anthropic"))
    return llmr_usage_anthropic(usage);
  if(format && !strcmp(format, "gemini"))
    return llmr_usage_gemini(usage);
  return llmr_usage_openai(usage);
}

/* Normalised usage as the result line's object (new ref). */
static inline jv llmr_usage_json(const struct llmr_usage *u)
{
  jv o = jv_object();

  o = jv_object_set(o, jv_string("input_tokens"),
                    jv_number((double)u->input_tokens));
  o = jv_object_set(o, jv_string("output_tokens"),
                    jv_number((double)u->output_tokens));
  o = jv_object_set(o, jv_string("cached_tokens"),
                    jv_number((double)u->cached_tokens));
  if(u->cache_write_tokens)
    o = jv_object_set(o, jv_string("cache_write_tokens"),
                      jv_number((double)u->cache_write_tokens));
  return o;
}

/* Normalised usage read back from the result line's object (borrowed). */
static inline struct llmr_usage llmr_usage_parse(jv o)
{
  struct llmr_usage u;

  u.input_tokens = llmr_cost_count(o, "input_tokens");
  u.cached_tokens = llmr_cost_count(o, "cached_tokens");
  u.cache_write_tokens = llmr_cost_count(o, "cache_write_tokens");
  u.output_tokens = llmr_cost_count(o, "output_tokens");
  return u;
}

/* ---------------------------------------------------------------------
 * A read-only C view of the catalog's models, built once at init, so a
 * stage does not walk jv objects per request.
 */
struct llmr_model {
  char *name;
  int tier;
  struct llmr_price price;
  long context_tokens, max_output_tokens;
  jv entry;        /* the catalog entry (owned ref) */
  jv deployments;  /* [{provider, model}, ...] as written (owned ref) */
  char *provider;  /* first deployment's provider */
  char *deployed;  /* first deployment's model name */
};

struct llmr_models {
  struct llmr_model *v;
  int n;
};

/* Frees what llmr_models_load() built (safe twice). */
static inline void llmr_models_free(struct llmr_models *ms)
{
  int i;

  for(i = 0; ms->v && i < ms->n; i++) {
    free(ms->v[i].name);
    free(ms->v[i].provider);
    free(ms->v[i].deployed);
    jvf_free(ms->v[i].entry);
    jvf_free(ms->v[i].deployments);
  }
  free(ms->v);
  ms->v = NULL;
  ms->n = 0;
}

/* Borrows obj.  A malloc'd copy of the string obj[key], or of dflt. */
static inline char *llmr_cost_strdup(jv obj, const char *key,
                                     const char *dflt)
{
  jv v = jv_get_kind(obj) == JV_KIND_OBJECT
         ? jv_object_get(jvf_copy(obj), jv_string(key)) : jv_null();
  char *s = strdup(jv_get_kind(v) == JV_KIND_STRING ? jv_string_value(v)
                                                    : dflt);
  jvf_free(v);
  return s;
}

/* Build the view of catalog (borrowed; validated by the core), models in
 * catalog order.  0, or -1 when out of memory or there is no model. */
static inline int llmr_models_load(jv catalog, struct llmr_models *ms)
{
  jv models;
  int it, i = 0, n;

  ms->v = NULL;
  ms->n = 0;
  if(jv_get_kind(catalog) != JV_KIND_OBJECT)
    return -1;
  models = jv_object_get(jvf_copy(catalog), jv_string("models"));
  if(jv_get_kind(models) != JV_KIND_OBJECT) {
    jvf_free(models);
    return -1;
  }
  n = jv_object_length(jvf_copy(models));
  ms->v = calloc(n > 0 ? (size_t)n : 1, sizeof(*ms->v));
  if(!ms->v || n <= 0) {
    jvf_free(models);
    free(ms->v);
    ms->v = NULL;
    return -1;
  }
  for(it = jv_object_iter(models); jv_object_iter_valid(models, it) &&
      i < n; it = jv_object_iter_next(models, it), i++) {
    struct llmr_model *m = &ms->v[i];
    jv k = jv_object_iter_key(models, it);
    jv first;
    m->entry = jv_object_iter_value(models, it);
    m->deployments = jv_object_get(jvf_copy(m->entry),
                                   jv_string("deployments"));
    m->name = strdup(jv_string_value(k));
    jvf_free(k);
    m->tier = (int)llmr_cost_num(m->entry, "tier", 1);
    m->price = llmr_price_of(m->entry, jv_null());
    m->context_tokens = llmr_cost_count(m->entry, "context_tokens");
    m->max_output_tokens = llmr_cost_count(m->entry, "max_output_tokens");
    first = jv_get_kind(m->deployments) == JV_KIND_ARRAY &&
            jv_array_length(jvf_copy(m->deployments)) > 0
            ? jv_array_get(jvf_copy(m->deployments), 0) : jv_null();
    m->provider = llmr_cost_strdup(first, "provider", "");
    m->deployed = llmr_cost_strdup(first, "model", m->name ? m->name : "");
    jvf_free(first);
    ms->n = i + 1;
    if(!m->name || !m->provider || !m->deployed) {
      jvf_free(models);
      llmr_models_free(ms);
      return -1;
    }
  }
  jvf_free(models);
  return 0;
}

/* The model called name (catalog key, or the model name of one of its
 * deployments), or NULL. */
static inline const struct llmr_model *
llmr_models_find(const struct llmr_models *ms, const char *name)
{
  int i, j, n;

  for(i = 0; i < ms->n; i++)
    if(!strcmp(ms->v[i].name, name))
      return &ms->v[i];
  for(i = 0; i < ms->n; i++) {
    n = jv_get_kind(ms->v[i].deployments) == JV_KIND_ARRAY
        ? jv_array_length(jvf_copy(ms->v[i].deployments)) : 0;
    for(j = 0; j < n; j++) {
      jv d = jv_array_get(jvf_copy(ms->v[i].deployments), j);
      jv mn = jv_get_kind(d) == JV_KIND_OBJECT
              ? jv_object_get(jvf_copy(d), jv_string("model")) : jv_null();
      int hit = jv_get_kind(mn) == JV_KIND_STRING &&
                !strcmp(jv_string_value(mn), name);
      jvf_free(mn);
      jvf_free(d);
      if(hit)
        return &ms->v[i];
    }
  }
  return NULL;
}

/* ---------------------------------------------------------------------
 * Expected output tokens of a reply by task, when the request's
 * max_tokens does not say less: rough medians of answers to such
 * prompts (a label is a few tokens, a program or a proof hundreds).
 */
static inline long llmr_task_output(const char *task)
{
  static const struct {
    const char *task;
    long tokens;
  } t[] = {
    { "classification", 20 }, { "extraction", 150 },
    { "summarization", 250 }, { "translation", 300 }, { "chat", 250 },
    { "creative_generation", 600 }, { "coding", 700 }, { "math", 500 },
    { "multi_step_reasoning", 800 }, { NULL, 0 }
  };
  int i;

  for(i = 0; task && t[i].task; i++)
    if(!strcmp(task, t[i].task))
      return t[i].tokens;
  return 350; /* other */
}

#endif /* LLMR_COST_H */
