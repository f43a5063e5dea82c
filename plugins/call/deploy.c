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

/* Append deployment prov/model of catalog model m (NULL when the
 * catalog has none) whose catalog entry is dd (NULL when it lists none:
 * the model's list prices), unless already there. */
static void add_one(struct job_state *js, const char *prov, const char *model,
                    const struct llmr_model *m,
                    const struct llmr_deployment *dd)
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
  d->http_body = jv_invalid();
  d->p = provider_find(st, prov);
  d->provider = jv_string(prov);
  d->model = jv_string(model);
  d->name = jv_string(m ? m->name : model);
  if(dd)
    d->price = dd->price;
  else if(m)
    d->price = m->price;
  if(m) {
    d->context = (double)m->context_tokens;
    d->max_out = (double)m->max_output_tokens;
    d->tier = m->tier;
  }
  d->brk = limits_breaker(st, prov, model);
  if(d->brk && !d->brk->limits_set && dd) {
    /* the deployment's own rpm/tpm, read once from its catalog entry */
    double now = st->host->now();
    call_bucket_init(&d->brk->rpm, call_num(dd->entry, "rpm", 0), now);
    call_bucket_init(&d->brk->tpm, call_num(dd->entry, "tpm", 0), now);
    d->brk->limits_set = 1;
  }
}

/* The catalog model whose key is name, or NULL. */
static const struct llmr_model *model_by_key(struct call_stage *st,
                                             const char *name)
{
  int n;
  const struct llmr_model *ms = st->host->models(&n);
  for(int i = 0; name && i < n; i++)
    if(!strcmp(ms[i].name, name))
      return &ms[i];
  return NULL;
}

/* Append the deployments of catalog model name (those of provider
 * `first` first).  0 when the catalog has no such model. */
static int add_model(struct job_state *js, const char *name,
                     const char *first)
{
  const struct llmr_model *m = model_by_key(js->st, name);
  if(!m)
    return 0;
  for(int pass = first ? 0 : 1; pass < 2; pass++)
    for(int i = 0; i < m->ndeployments; i++) {
      const struct llmr_deployment *dd = &m->deployments[i];
      if(pass == 1 || !strcmp(dd->provider, first))
        add_one(js, dd->provider, dd->model, m, dd);
    }
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
  const struct llmr_model *m = model_by_key(js->st, model);
  if(m) {
    /* a catalog name: send the provider's id for it */
    int added = 0;
    for(int i = 0; i < m->ndeployments; i++)
      if(!strcmp(m->deployments[i].provider, prov)) {
        add_one(js, prov, m->deployments[i].model, m, &m->deployments[i]);
        added = 1;
      }
    if(!added)
      add_one(js, prov, model, m, NULL);
    return;
  }
  /* a provider's id: find the catalog model deploying it */
  int n;
  const struct llmr_model *ms = js->st->host->models(&n);
  for(int i = 0; i < n; i++)
    for(int j = 0; j < ms[i].ndeployments; j++) {
      const struct llmr_deployment *dd = &ms[i].deployments[j];
      if(!strcmp(dd->provider, prov) && !strcmp(dd->model, model)) {
        add_one(js, prov, model, &ms[i], dd);
        return;
      }
    }
  add_one(js, prov, model, NULL, NULL);
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

/* Borrows spec ({model, deployments}, route.hedge or route.agree).
 * Append the deployments it lists (else every one of its model) and
 * return its model's name (a pointer into spec), or NULL when it names
 * none. */
static const char *add_side_model(struct job_state *js, jv spec)
{
  const char *name = call_str(spec, "model");
  if(!name)
    return NULL;
  jv list = call_get(spec, "deployments");
  if(jv_get_kind(list) == JV_KIND_ARRAY && jv_array_length(jv_copy(list)) > 0)
    add_list(js, list);
  else
    add_model(js, name, NULL);
  jv_free(list);
  return name;
}

/* Borrows route.  route.hedge {model, deployments} (route hedge=true):
 * where hedge_fire() sends the hedge.  Its deployments not listed yet are
 * added for the hedge only, so the main flow never falls back to them. */
static void add_hedge(struct job_state *js, jv route)
{
  jv h = call_get(route, "hedge");
  int from = js->ndeps;
  const char *name = add_side_model(js, h);
  for(int i = 0; name && i < js->ndeps; i++) {
    struct deployment *d = &js->deps[i];
    if(i >= from)
      d->hedge_only = 1;
    if(i >= from || !strcmp(jv_string_value(d->name), name)) {
      d->for_hedge = 1;
      js->has_hedge = 1;
    }
  }
  jv_free(h);
}

/* Borrows route.  route.agree {model, deployments} (route policy=learned
 * agree=true): the partner of an agreement check, asked beside the main
 * flow and never a fallback for it. */
static void add_agree(struct job_state *js, jv route)
{
  jv a = call_get(route, "agree");
  int from = js->ndeps;
  if(add_side_model(js, a))
    for(int i = from; i < js->ndeps; i++) {
      js->deps[i].for_agree = 1;
      js->deps[i].hedge_only = 1; /* not in the main flow */
      js->has_agree = 1;
    }
  jv_free(a);
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
        int n;
        const struct llmr_model *ms = host->models(&n);
        for(int i = 0; i < n; i++)
          for(int j = 0; j < ms[i].ndeployments; j++)
            if(!strcmp(ms[i].deployments[j].model, name))
              add_one(js, ms[i].deployments[j].provider, name, &ms[i],
                      &ms[i].deployments[j]);
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
  add_agree(js, route); /* an agreement check and a hedge exclude */
  if(js->st->hedge_ms > 0 && !js->has_agree) /* each other */
    add_hedge(js, route);
  jv_free(route);
}

