/*
 * deploy.c - which deployments a job of the call stage tries, in order:
 * those route chose (route.deployments), or every deployment of the
 * pinned or routed model, then the route's fallback list, then (with
 * hedge_ms=) the model route.hedge names.  Entries name a catalog model
 * or a provider's model id; both resolve to the catalog entry that
 * prices them.
 */
#include <stdlib.h>
#include <string.h>
#include "stage.h"

/* The provider named name, or NULL. */
static struct provider *provider_find(struct call_stage *st,
                                      const char *name)
{
  for(int i = 0; name && i < st->nprov; i++)
    if(!strcmp(st->prov[i].name, name))
      return &st->prov[i];
  return NULL;
}

/* Append deployment prov/model (catalog model entry `entry` named name,
 * its deployment object `dep`, both borrowed, jv_null() when unknown)
 * unless already there. */
static void add_one(struct job_state *js, const char *prov, const char *model,
                    const char *name, jv entry, jv dep)
{
  struct call_stage *st = js->st;
  if(!prov || !model || js->ndeps >= CALL_MAX_DEPLOYMENTS)
    return;
  for(int i = 0; i < js->ndeps; i++)
    if(!strcmp(jv_string_value(js->deps[i].provider), prov) &&
       !strcmp(jv_string_value(js->deps[i].model), model))
      return;
  struct deployment *nd = realloc(js->deps,
                                  (size_t)(js->ndeps + 1) * sizeof(*nd));
  if(!nd)
    return;
  js->deps = nd;
  struct deployment *d = &nd[js->ndeps++];
  memset(d, 0, sizeof(*d));
  d->p = provider_find(st, prov);
  d->provider = jv_string(prov);
  d->model = jv_string(model);
  d->name = jv_string(name ? name : model);
  d->price = llmr_price_of(entry, dep);
  d->context = call_num(entry, "context_tokens", 0);
  d->max_out = call_num(entry, "max_output_tokens", 0);
  d->tier = (int)call_num(entry, "tier", 0);
  d->brk = limits_breaker(st, prov, model);
}

/* Append the deployments of catalog model name (those of provider
 * `first` first).  0 when the catalog has no such model. */
static int add_model(struct job_state *js, const char *name,
                     const char *first)
{
  jv models = call_get(js->st->catalog, "models");
  jv entry = call_get(models, name);
  jv_free(models);
  if(jv_get_kind(entry) != JV_KIND_OBJECT) {
    jv_free(entry);
    return 0;
  }
  jv deps = call_get(entry, "deployments");
  int n = jv_get_kind(deps) == JV_KIND_ARRAY ?
          jv_array_length(jv_copy(deps)) : 0;
  for(int pass = first ? 0 : 1; pass < 2; pass++)
    for(int i = 0; i < n; i++) {
      jv dep = jv_array_get(jv_copy(deps), i);
      const char *prov = call_str(dep, "provider");
      if(prov && (pass == 1 || !strcmp(prov, first)))
        add_one(js, prov, call_str(dep, "model"), name, entry, dep);
      jv_free(dep);
    }
  jv_free(deps);
  jv_free(entry);
  return 1;
}

/* Append deployment {provider, model} as a route names it: model is a
 * catalog model name or a provider's model id. */
static void add_named(struct job_state *js, const char *prov,
                      const char *model)
{
  if(!model)
    return;
  if(!prov) {
    add_model(js, model, NULL);
    return;
  }
  jv models = call_get(js->st->catalog, "models");
  jv entry = call_get(models, model);
  const char *name = NULL;
  const char *id = model;
  jv found = jv_null();
  if(jv_get_kind(entry) == JV_KIND_OBJECT)
    name = model;
  else if(jv_get_kind(models) == JV_KIND_OBJECT) {
    /* a provider's id: find the catalog model deploying it */
    jv_free(entry);
    entry = jv_null();
    int it = jv_object_iter(models);
    while(jv_object_iter_valid(models, it) && !name) {
      jv key = jv_object_iter_key(models, it);
      jv val = jv_object_iter_value(models, it);
      jv deps = call_get(val, "deployments");
      int n = jv_get_kind(deps) == JV_KIND_ARRAY ?
              jv_array_length(jv_copy(deps)) : 0;
      for(int i = 0; i < n && !name; i++) {
        jv dep = jv_array_get(jv_copy(deps), i);
        const char *p = call_str(dep, "provider");
        const char *m = call_str(dep, "model");
        if(p && m && !strcmp(p, prov) && !strcmp(m, model)) {
          jv_free(found);
          found = jv_copy(key);
          jv_free(entry);
          entry = jv_copy(val);
          name = jv_string_value(found);
        }
        jv_free(dep);
      }
      jv_free(deps);
      jv_free(key);
      jv_free(val);
      it = jv_object_iter_next(models, it);
    }
  }
  if(name == model) {
    /* a catalog name: send the provider's id for it */
    jv deps = call_get(entry, "deployments");
    int n = jv_get_kind(deps) == JV_KIND_ARRAY ?
            jv_array_length(jv_copy(deps)) : 0;
    for(int i = 0; i < n; i++) {
      jv dep = jv_array_get(jv_copy(deps), i);
      const char *p = call_str(dep, "provider");
      if(p && !strcmp(p, prov) && call_str(dep, "model")) {
        add_one(js, prov, call_str(dep, "model"), name, entry, dep);
        id = NULL;
      }
      jv_free(dep);
    }
    jv_free(deps);
  }
  if(id)
    add_one(js, prov, id, name, entry, jv_null());
  jv_free(found);
  jv_free(entry);
  jv_free(models);
}

/* Borrows list (array of {provider, model} or model names). */
static void add_list(struct job_state *js, jv list)
{
  if(jv_get_kind(list) != JV_KIND_ARRAY)
    return;
  int n = jv_array_length(jv_copy(list));
  for(int i = 0; i < n; i++) {
    jv e = jv_array_get(jv_copy(list), i);
    if(jv_get_kind(e) == JV_KIND_STRING)
      add_model(js, jv_string_value(e), NULL);
    else if(jv_get_kind(e) == JV_KIND_ARRAY) { /* [model, cost] */
      jv m = jv_array_get(jv_copy(e), 0);
      if(jv_get_kind(m) == JV_KIND_STRING)
        add_model(js, jv_string_value(m), NULL);
      jv_free(m);
    }
    else
      add_named(js, call_str(e, "provider"), call_str(e, "model"));
    jv_free(e);
  }
}

/* Borrows route.  route.hedge {model, deployments} (route hedge=true):
 * where hedge_fire() sends the hedge.  Its deployments not listed yet are
 * added for the hedge only, so the main flow never falls back to them. */
static void add_hedge(struct job_state *js, jv route)
{
  jv h = call_get(route, "hedge");
  const char *name = call_str(h, "model");
  int from = js->ndeps;
  if(name) {
    jv list = call_get(h, "deployments");
    if(jv_get_kind(list) == JV_KIND_ARRAY &&
       jv_array_length(jv_copy(list)) > 0)
      add_list(js, list);
    else
      add_model(js, name, NULL);
    jv_free(list);
    for(int i = 0; i < js->ndeps; i++) {
      struct deployment *d = &js->deps[i];
      if(i >= from)
        d->hedge_only = 1;
      if(i >= from || !strcmp(jv_string_value(d->name), name)) {
        d->for_hedge = 1;
        js->has_hedge = 1;
      }
    }
  }
  jv_free(h);
}

void deploy_resolve(struct job_state *js)
{
  const struct llmr_host *host = js->st->host;
  jv route = host->route(js->job);
  jv list = call_get(route, "deployments");
  if(jv_get_kind(list) == JV_KIND_ARRAY &&
     jv_array_length(jv_copy(list)) > 0)
    add_list(js, list);
  else {
    const char *name = call_str(js->body, "model");
    if(!name || !strcmp(name, "auto"))
      name = call_str(route, "model");
    if(name && !add_model(js, name, call_str(route, "provider"))) {
      const char *prov = call_str(route, "provider");
      if(prov)
        add_named(js, prov, name);
      else { /* a provider's model id: every deployment of it */
        jv models = call_get(js->st->catalog, "models");
        if(jv_get_kind(models) == JV_KIND_OBJECT) {
          int it = jv_object_iter(models);
          while(jv_object_iter_valid(models, it)) {
            jv val = jv_object_iter_value(models, it);
            jv deps = call_get(val, "deployments");
            int n = jv_get_kind(deps) == JV_KIND_ARRAY ?
                    jv_array_length(jv_copy(deps)) : 0;
            for(int i = 0; i < n; i++) {
              jv dep = jv_array_get(jv_copy(deps), i);
              const char *m = call_str(dep, "model");
              if(m && !strcmp(m, name))
                add_named(js, call_str(dep, "provider"), m);
              jv_free(dep);
            }
            jv_free(deps);
            jv_free(val);
            it = jv_object_iter_next(models, it);
          }
        }
        jv_free(models);
      }
    }
  }
  jv_free(list);
  list = call_get(route, "fallback");
  add_list(js, list);
  jv_free(list);
  list = call_get(route, "fallbacks");
  add_list(js, list);
  jv_free(list);
  list = call_get(route, "candidates");
  add_list(js, list);
  jv_free(list);
  if(js->st->hedge_ms > 0)
    add_hedge(js, route);
  jv_free(route);
}

