/*
 * models.c - the catalog as C structs (struct llmr_model, llmroute.h),
 * built once when the catalog is loaded and served to the stages by
 * host->models() and host->model(); usage costs (host->cost()).
 *
 * The catalog was validated by catalog.c: every model has a tier, list
 * prices and at least one deployment naming a known provider.
 */
#include <stdlib.h>
#include <string.h>

#include "core.h"

static struct llmr_model *models;
static struct llmr_deployment *deps;
static int nmodels, ndeps;

/* Borrows obj.  obj[key] as a number when it is one, else dflt. */
static double num(jv obj, const char *key, double dflt)
{
  jv v;
  double d = dflt;

  if(jv_get_kind(obj) != JV_KIND_OBJECT)
    return dflt;
  v = jv_object_get(jv_copy(obj), jv_string(key));
  if(jv_get_kind(v) == JV_KIND_NUMBER)
    d = jv_number_value(v);
  jv_free(v);
  return d;
}

/* Borrows obj.  A malloc'd copy of the string obj[key], or of dflt. */
static char *str(jv obj, const char *key, const char *dflt)
{
  jv v = jv_get_kind(obj) == JV_KIND_OBJECT
         ? jv_object_get(jv_copy(obj), jv_string(key)) : jv_null();
  char *s = strdup(jv_get_kind(v) == JV_KIND_STRING ? jv_string_value(v)
                                                    : dflt);
  jv_free(v);
  return s;
}

/* A whole count from a catalog number: 0 when absent or negative. */
static long count(jv obj, const char *key)
{
  double d = num(obj, key, 0);

  return d > 0 && d < 1e15 ? (long)d : 0;
}

/* List prices of a model entry (borrowed). */
static struct llmr_price list_price(jv m)
{
  struct llmr_price p;

  p.input = num(m, "input_usd_per_mtok", 0.0);
  p.output = num(m, "output_usd_per_mtok", 0.0);
  p.cached = num(m, "cached_input_usd_per_mtok", p.input);
  p.cache_write = num(m, "cache_write_usd_per_mtok", p.input * 1.25);
  return p;
}

/* A deployment's prices (dep borrowed) over the model's p: an input
 * price of its own also sets the cached and cache-write prices unless
 * the deployment gives those too. */
static struct llmr_price deployment_price(struct llmr_price p, jv dep)
{
  double in = num(dep, "input_usd_per_mtok", -1.0);

  if(in >= 0) {
    p.input = in;
    p.cached = in;
    p.cache_write = in * 1.25;
  }
  p.output = num(dep, "output_usd_per_mtok", p.output);
  p.cached = num(dep, "cached_input_usd_per_mtok", p.cached);
  p.cache_write = num(dep, "cache_write_usd_per_mtok", p.cache_write);
  return p;
}

void models_free(void)
{
  int i;

  for(i = 0; i < nmodels; i++) {
    free((char *)models[i].name);
    jv_free(models[i].entry);
  }
  for(i = 0; i < ndeps; i++) {
    free((char *)deps[i].provider);
    free((char *)deps[i].model);
    free((char *)deps[i].format);
    jv_free(deps[i].entry);
  }
  free(models);
  free(deps);
  models = NULL;
  deps = NULL;
  nmodels = ndeps = 0;
}

/* Borrows catalog.  Fills deps[ndeps..] with the deployments of model
 * entry m. */
static int add_deployments(jv catalog, jv m, struct llmr_model *out,
                           const struct llmr_price *p)
{
  jv list = jv_object_get(jv_copy(m), jv_string("deployments"));
  jv providers = jv_object_get(jv_copy(catalog), jv_string("providers"));
  int i, n = jv_get_kind(list) == JV_KIND_ARRAY
             ? jv_array_length(jv_copy(list)) : 0;
  int rc = LLMR_OK;

  out->deployments = &deps[ndeps];
  out->ndeployments = 0;
  for(i = 0; i < n && rc == LLMR_OK; i++) {
    struct llmr_deployment *d = &deps[ndeps];
    jv dj = jv_array_get(jv_copy(list), i), prov;
    d->entry = dj;
    d->provider = str(dj, "provider", "");
    d->model = str(dj, "model", out->name);
    prov = d->provider && jv_get_kind(providers) == JV_KIND_OBJECT
           ? jv_object_get(jv_copy(providers), jv_string(d->provider))
           : jv_null();
    d->format = str(prov, "format", "openai");
    jv_free(prov);
    d->price = deployment_price(*p, dj);
    ndeps++;
    out->ndeployments++;
    if(!d->provider || !d->model || !d->format)
      rc = LLMR_ENOMEM;
  }
  jv_free(list);
  jv_free(providers);
  return rc;
}

/* Number of deployments in the whole catalog (borrowed). */
static int count_deployments(jv ms)
{
  int it, n = 0;

  for(it = jv_object_iter(ms); jv_object_iter_valid(ms, it);
      it = jv_object_iter_next(ms, it)) {
    jv m = jv_object_iter_value(ms, it);
    jv l = jv_object_get(m, jv_string("deployments"));
    if(jv_get_kind(l) == JV_KIND_ARRAY)
      n += jv_array_length(jv_copy(l));
    jv_free(l);
  }
  return n;
}

int models_build(jv catalog)
{
  jv ms;
  int it, n, nd, rc = LLMR_OK;

  models_free();
  if(jv_get_kind(catalog) != JV_KIND_OBJECT)
    return LLMR_OK;
  ms = jv_object_get(jv_copy(catalog), jv_string("models"));
  if(jv_get_kind(ms) != JV_KIND_OBJECT) {
    jv_free(ms);
    return LLMR_OK;
  }
  n = jv_object_length(jv_copy(ms));
  nd = count_deployments(ms);
  models = calloc(n > 0 ? (size_t)n : 1, sizeof(*models));
  deps = calloc(nd > 0 ? (size_t)nd : 1, sizeof(*deps));
  if(!models || !deps) {
    jv_free(ms);
    models_free();
    return LLMR_ENOMEM;
  }
  for(it = jv_object_iter(ms); rc == LLMR_OK && jv_object_iter_valid(ms, it)
      && nmodels < n; it = jv_object_iter_next(ms, it)) {
    struct llmr_model *m = &models[nmodels++];
    jv k = jv_object_iter_key(ms, it);
    m->entry = jv_object_iter_value(ms, it);
    m->name = strdup(jv_string_value(k));
    jv_free(k);
    m->tier = (int)num(m->entry, "tier", 1);
    m->price = list_price(m->entry);
    m->context_tokens = count(m->entry, "context_tokens");
    m->max_output_tokens = count(m->entry, "max_output_tokens");
    rc = m->name ? add_deployments(catalog, m->entry, m, &m->price)
                 : LLMR_ENOMEM;
  }
  jv_free(ms);
  if(rc != LLMR_OK)
    models_free();
  return rc;
}

const struct llmr_model *models_all(int *n)
{
  if(n)
    *n = nmodels;
  return nmodels ? models : NULL;
}

const struct llmr_model *models_find(const char *name)
{
  int i, j;

  if(!name)
    return NULL;
  for(i = 0; i < nmodels; i++)
    if(!strcmp(models[i].name, name))
      return &models[i];
  for(i = 0; i < nmodels; i++)
    for(j = 0; j < models[i].ndeployments; j++)
      if(!strcmp(models[i].deployments[j].model, name))
        return &models[i];
  return NULL;
}

double usage_cost(const struct llmr_price *p, const struct llmr_usage *u)
{
  if(!p || !u)
    return 0.0;
  return ((double)u->input_tokens * p->input +
          (double)u->cached_tokens * p->cached +
          (double)u->cache_write_tokens * p->cache_write +
          (double)u->output_tokens * p->output) / 1e6;
}
