/*
 * fuzz_catalog.c - the catalog loader (core/catalog.c: catalog_load:
 * strict JSON, every field checked, replay outcomes resolved, defaults
 * applied) and its C view (core/models.c: models_build, models_find,
 * usage_cost).
 *
 * The input is the catalog file, read from an in-memory file.  A
 * catalog that loads has a C view where every model is found by its
 * name, every deployment has a provider, a model and a format, and
 * every price, a model's or a deployment's own, is within what the
 * catalog allows (0 to 1e6 USD per million tokens; a cache write
 * defaults to 1.25 x input), so costs stay finite and never negative;
 * one that does not load gives a message naming the file.
 */
#include <math.h>

#include "core.h"
#include "fuzz.h"

/* A price the catalog allows. */
static int price_ok(const struct llmr_price *p)
{
  const double max = 1.25e6;

  return p->input >= 0 && p->input <= max && p->output >= 0 &&
         p->output <= max && p->cached >= 0 && p->cached <= max &&
         p->cache_write >= 0 && p->cache_write <= max;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  /* a base_url override for the provider named "fuzz" */
  setenv("LLMROUTE_FUZZ_BASE_URL", "http://127.0.0.1:9/v1", 1);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *path = fuzz_file_set(data, size);
  char err[1024];
  jv cat;
  int rc = catalog_load(path, &cat, err, sizeof(err));

  if(rc != LLMR_OK) {
    FUZZ_CHECK(!jv_is_valid(cat));
    FUZZ_CHECK(!strncmp(err, path, strlen(path)));
    jv_free(cat);
    return 0;
  }
  FUZZ_CHECK(jv_get_kind(cat) == JV_KIND_OBJECT);
  FUZZ_CHECK(models_build(cat) == LLMR_OK);
  {
    int n = 0, i, j;
    const struct llmr_model *all = models_all(&n);
    struct llmr_usage u = {1000, 500, 200, 100};

    FUZZ_CHECK(n > 0 && all != NULL);
    for(i = 0; i < n; i++) {
      const struct llmr_model *m = &all[i];

      FUZZ_CHECK(m->name && m->tier >= 1 && m->tier <= 3);
      FUZZ_CHECK(models_find(m->name) != NULL);
      FUZZ_CHECK(m->ndeployments > 0);
      FUZZ_CHECK(price_ok(&m->price));
      FUZZ_CHECK(isfinite(usage_cost(&m->price, &u)));
      for(j = 0; j < m->ndeployments; j++) {
        const struct llmr_deployment *d = &m->deployments[j];

        FUZZ_CHECK(d->provider && *d->provider && d->model && d->format);
        FUZZ_CHECK(price_ok(&d->price));
        FUZZ_CHECK(isfinite(usage_cost(&d->price, &u)));
      }
    }
  }
  models_free();
  jv_free(cat);
  return 0;
}
