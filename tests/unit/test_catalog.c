/*
 * test_catalog.c - catalog_load(): a good catalog, the shipped one, the
 * base_url override, and each kind of bad entry with its message.
 * Run from the source root (tests/fixtures/catalog/good.json).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"
#include "harness.h"

#define GOOD "tests/fixtures/catalog/good.json"

static char tmpdir[] = "/tmp/llmr-catalog.XXXXXX";

/* Borrows o.  New ref to o[a][b][c] (b, c may be NULL). */
static jv at(jv o, const char *a, const char *b, const char *c)
{
  jv v = jv_object_get(jv_copy(o), jv_string(a));
  if(b && jv_get_kind(v) == JV_KIND_OBJECT)
    v = jv_object_get(v, jv_string(b));
  if(c && jv_get_kind(v) == JV_KIND_OBJECT)
    v = jv_object_get(v, jv_string(c));
  return v;
}

/* Consumes root and val.  root with root[a][b][c] = val; a NULL c sets
 * root[a][b]; an invalid val deletes the key. */
static jv set3(jv root, const char *a, const char *b, const char *c, jv val)
{
  jv la = jv_object_get(jv_copy(root), jv_string(a));
  if(!c) {
    if(jv_is_valid(val))
      la = jv_object_set(la, jv_string(b), val);
    else {
      jv_free(val);
      la = jv_object_delete(la, jv_string(b));
    }
  }
  else {
    jv lb = jv_object_get(jv_copy(la), jv_string(b));
    if(jv_is_valid(val))
      lb = jv_object_set(lb, jv_string(c), val);
    else {
      jv_free(val);
      lb = jv_object_delete(lb, jv_string(c));
    }
    la = jv_object_set(la, jv_string(b), lb);
  }
  return jv_object_set(root, jv_string(a), la);
}

/* Parse the good catalog's text (new ref). */
static jv good(void)
{
  return jv_load_file(GOOD, 0) /* an array of the file's values */;
}

static jv good_obj(void)
{
  jv arr = good();
  jv o = jv_array_get(arr, 0);
  return o;
}

/* Write text to a temp file named name; returns its path (static). */
static const char *write_tmp(const char *name, const char *text)
{
  static char path[256];
  FILE *f;

  snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
  f = fopen(path, "w");
  if(f) {
    fputs(text, f);
    fclose(f);
  }
  return path;
}

/* Load cat (consumed) from a temp file and check the error message is
 * "PATH: want". */
static void bad(const char *name, jv cat, const char *want)
{
  jv s = jv_dump_string(cat, 0);
  const char *path = write_tmp("bad.json", jv_string_value(s));
  char err[512], full[512];
  jv out;
  int rc = catalog_load(path, &out, err, sizeof(err));

  jv_free(s);
  snprintf(full, sizeof(full), "%s: %s", path, want);
  CHECK_INT(name, rc, LLMR_ERR);
  CHECK_STR(name, err, full);
  CHECK(name, jv_get_kind(out) == JV_KIND_INVALID);
  jv_free(out);
}

/* Deployment openai/big-1 with key set to val (consumed). */
static jv deployment_with(const char *key, jv val)
{
  jv d = jv_object_set(jv_object(), jv_string("provider"),
                       jv_string("openai"));

  d = jv_object_set(d, jv_string("model"), jv_string("big-1"));
  return jv_object_set(d, jv_string(key), val);
}

/* Load cat (consumed) from a temp file: it must load. */
static void loads(const char *name, jv cat)
{
  jv s = jv_dump_string(cat, 0);
  const char *path = write_tmp("good.json", jv_string_value(s));
  char err[512];
  jv out;
  int rc = catalog_load(path, &out, err, sizeof(err));

  jv_free(s);
  CHECK_INT(name, rc, LLMR_OK);
  CHECK_STR(name, err, "");
  jv_free(out);
}

static void test_good(void)
{
  char err[512];
  jv cat, v;
  int rc;

  rc = catalog_load(GOOD, &cat, err, sizeof(err));
  CHECK_INT("good loads", rc, LLMR_OK);
  CHECK_STR("good: no message", err, "");
  if(rc != LLMR_OK)
    return;
  v = at(cat, "models", "tiny", "cached_input_usd_per_mtok");
  CHECK_DBL("cached price kept", jv_number_value(v), 0.025, 1e-15);
  jv_free(v);
  v = at(cat, "models", "small", "cached_input_usd_per_mtok");
  CHECK_DBL("cached price defaults to input", jv_number_value(v), 0.2,
            1e-15);
  jv_free(v);
  v = at(cat, "providers", "my-host", "extra");
  CHECK_STR("unknown fields kept", jv_get_kind(v) == JV_KIND_STRING ?
            jv_string_value(v) : NULL, "kept");
  jv_free(v);
  v = at(cat, "providers", "my-host", "base_url");
  CHECK_STR("base_url as written", jv_string_value(v),
            "http://127.0.0.1:9/v1");
  jv_free(v);
  jv_free(cat);

  setenv("LLMROUTE_MY_HOST_BASE_URL", "http://127.0.0.1:4242/v1", 1);
  rc = catalog_load(GOOD, &cat, err, sizeof(err));
  CHECK_INT("override loads", rc, LLMR_OK);
  v = at(cat, "providers", "my-host", "base_url");
  CHECK_STR("LLMROUTE_MY_HOST_BASE_URL overrides base_url",
            jv_get_kind(v) == JV_KIND_STRING ? jv_string_value(v) : NULL,
            "http://127.0.0.1:4242/v1");
  jv_free(v);
  v = at(cat, "providers", "openai", "base_url");
  CHECK_STR("other providers untouched", jv_string_value(v),
            "https://api.openai.com/v1");
  jv_free(v);
  jv_free(cat);
  unsetenv("LLMROUTE_MY_HOST_BASE_URL");
}

/* The shipped catalog: valid, >= 20 models, the providers asked for. */
static void test_shipped(void)
{
  static const char *const providers[] = {
    "openai", "anthropic", "gemini", "deepseek", "groq", "together", NULL
  };
  char err[512];
  jv cat, models;
  int rc, i, multi = 0, it;
  int tiers[4] = { 0, 0, 0, 0 };

  rc = catalog_load("pipelines/models.json", &cat, err, sizeof(err));
  CHECK_INT("pipelines/models.json loads", rc, LLMR_OK);
  if(rc != LLMR_OK) {
    printf("# %s\n", err);
    return;
  }
  models = jv_object_get(jv_copy(cat), jv_string("models"));
  CHECK("shipped catalog: >= 20 models",
        jv_object_length(jv_copy(models)) >= 20);
  for(i = 0; providers[i]; i++) {
    jv p = at(cat, "providers", providers[i], NULL);
    char name[64];
    snprintf(name, sizeof(name), "shipped catalog has provider %s",
             providers[i]);
    CHECK(name, jv_get_kind(p) == JV_KIND_OBJECT);
    jv_free(p);
  }
  for(it = jv_object_iter(models); jv_object_iter_valid(models, it);
      it = jv_object_iter_next(models, it)) {
    jv m = jv_object_iter_value(models, it);
    jv d = jv_object_get(jv_copy(m), jv_string("deployments"));
    jv t = jv_object_get(jv_copy(m), jv_string("tier"));
    if(jv_array_length(jv_copy(d)) > 1)
      multi++;
    tiers[(int)jv_number_value(t)]++;
    jv_free(t);
    jv_free(d);
    jv_free(m);
  }
  CHECK("shipped catalog: >= 3 models on several providers", multi >= 3);
  CHECK("shipped catalog: every tier has >= 4 models",
        tiers[1] >= 4 && tiers[2] >= 4 && tiers[3] >= 4);
  jv_free(models);
  jv_free(cat);
}

static void test_bad(void)
{
  char err[512], want[512];
  jv out;
  const char *p;
  int rc;

  rc = catalog_load("/nonexistent/models.json", &out, err, sizeof(err));
  CHECK_INT("missing file fails", rc, LLMR_ERR);
  CHECK_STR("missing file message", err,
            "/nonexistent/models.json: cannot read: No such file or "
            "directory");

  p = write_tmp("broken.json", "{\"providers\": {,}");
  rc = catalog_load(p, &out, err, sizeof(err));
  snprintf(want, sizeof(want), "%s: not valid JSON", p);
  CHECK_INT("broken JSON fails", rc, LLMR_ERR);
  CHECK("broken JSON message", !strncmp(err, want, strlen(want)));

  bad("not an object", jv_array(),
      "the catalog must be an object {\"providers\":{...},\"models\":{...}}");
  bad("no providers", jv_object_delete(good_obj(), jv_string("providers")),
      "providers must be a non-empty object");
  bad("empty models", jv_object_set(good_obj(), jv_string("models"),
                                    jv_object()),
      "models must be a non-empty object");
  bad("provider not an object",
      set3(good_obj(), "providers", "gemini", NULL, jv_number(1)),
      "providers.gemini: must be an object");
  bad("unknown format",
      set3(good_obj(), "providers", "my-host", "format", jv_string("soap")),
      "providers.my-host: unknown format 'soap' (known: openai, anthropic, "
      "gemini, replay)");
  bad("format missing",
      set3(good_obj(), "providers", "openai", "format", jv_invalid()),
      "providers.openai: format must be a string (openai, anthropic, "
      "gemini or replay)");
  bad("base_url missing",
      set3(good_obj(), "providers", "openai", "base_url", jv_invalid()),
      "providers.openai: base_url must be a non-empty string");
  bad("api_key_env a number",
      set3(good_obj(), "providers", "openai", "api_key_env", jv_number(3)),
      "providers.openai: api_key_env must be a string (the name of an "
      "environment variable)");
  bad("rpm zero", set3(good_obj(), "providers", "my-host", "rpm",
                       jv_number(0)),
      "providers.my-host: rpm must be an integer from 1 to 1e9");
  bad("concurrency fractional",
      set3(good_obj(), "providers", "anthropic", "concurrency",
           jv_number(1.5)),
      "providers.anthropic: concurrency must be an integer from 1 to 1e9");
  bad("model not an object",
      set3(good_obj(), "models", "mid", NULL, jv_string("x")),
      "models.mid: must be an object");
  bad("tier 4", set3(good_obj(), "models", "tiny", "tier", jv_number(4)),
      "models.tiny: tier must be an integer 1..3");
  bad("tier 0", set3(good_obj(), "models", "tiny", "tier", jv_number(0)),
      "models.tiny: tier must be an integer 1..3");
  bad("tier 1.5", set3(good_obj(), "models", "tiny", "tier",
                       jv_number(1.5)),
      "models.tiny: tier must be an integer 1..3");
  bad("tier a string", set3(good_obj(), "models", "tiny", "tier",
                            jv_string("1")),
      "models.tiny: tier must be an integer 1..3");
  bad("an absurd price (1e308)",
      set3(good_obj(), "models", "mid", "output_usd_per_mtok",
           jv_number(1e308)),
      "models.mid: output_usd_per_mtok must be a number from 0 to 1e6");
  bad("max output above the context",
      set3(good_obj(), "models", "mid", "max_output_tokens",
           jv_number(300000)),
      "models.mid: max_output_tokens is more than context_tokens");
  bad("a file:// base_url",
      set3(good_obj(), "providers", "my-host", "base_url",
           jv_string("file:///etc/passwd")),
      "providers.my-host: base_url must be an http:// or https:// URL");
  bad("a gopher:// base_url",
      set3(good_obj(), "providers", "openai", "base_url",
           jv_string("gopher://x:70/")),
      "providers.openai: base_url must be an http:// or https:// URL");
  {
    /* a key twice in one object: a mistake, not an override */
    const char *path = write_tmp("dup.json",
      "{\"providers\":{},\"models\":{\"m\":{\"tier\":1,"
      "\"tier\":2}}}");
    char err[512];
    jv out;
    CHECK_INT("a duplicate key is refused",
              catalog_load(path, &out, err, sizeof(err)), LLMR_ERR);
    CHECK("a duplicate key: named", strstr(err, "duplicate key \"tier\"")
          != NULL);
    jv_free(out);
  }
  bad("negative input price",
      set3(good_obj(), "models", "mid", "input_usd_per_mtok",
           jv_number(-1)),
      "models.mid: input_usd_per_mtok must be a number from 0 to 1e6");
  bad("input price a string",
      set3(good_obj(), "models", "mid", "input_usd_per_mtok",
           jv_string("1.0")),
      "models.mid: input_usd_per_mtok must be a number from 0 to 1e6");
  bad("output price missing",
      set3(good_obj(), "models", "big", "output_usd_per_mtok",
           jv_invalid()),
      "models.big: output_usd_per_mtok must be a number from 0 to 1e6");
  bad("negative cached price",
      set3(good_obj(), "models", "big", "cached_input_usd_per_mtok",
           jv_number(-0.5)),
      "models.big: cached_input_usd_per_mtok must be a number from 0 to 1e6");
  bad("context 0", set3(good_obj(), "models", "big", "context_tokens",
                        jv_number(0)),
      "models.big: context_tokens must be an integer from 1 to 1e9");
  bad("max output missing",
      set3(good_obj(), "models", "big", "max_output_tokens", jv_invalid()),
      "models.big: max_output_tokens must be an integer from 1 to 1e9");
  bad("deployments empty",
      set3(good_obj(), "models", "big", "deployments", jv_array()),
      "models.big: deployments must be a non-empty array of "
      "{\"provider\":...,\"model\":...}");
  bad("deployment unknown provider",
      set3(good_obj(), "models", "big", "deployments",
           jv_array_append(jv_array(), jv_object_set(
             jv_object_set(jv_object(), jv_string("provider"),
                           jv_string("nowhere")),
             jv_string("model"), jv_string("big-1")))),
      "models.big: deployments[0]: unknown provider 'nowhere' (not in "
      "providers)");
  bad("deployment without model",
      set3(good_obj(), "models", "big", "deployments",
           jv_array_append(jv_array(), jv_object_set(
             jv_object(), jv_string("provider"), jv_string("openai")))),
      "models.big: deployments[0].model must be a non-empty string");
  bad("deployment not an object",
      set3(good_obj(), "models", "big", "deployments",
           jv_array_append(jv_array(), jv_string("openai"))),
      "models.big: deployments[0] must be an object "
      "{\"provider\":...,\"model\":...}");
  /* fuzz_catalog: a deployment's own prices went unchecked (a negative
     one made negative costs, 1e400 an infinite one) */
  {
    static const char *const keys[] = {
      "input_usd_per_mtok", "output_usd_per_mtok",
      "cached_input_usd_per_mtok", "cache_write_usd_per_mtok", NULL
    };
    static const double vals[] = {-3, 1e7, INFINITY};
    int k, v;

    for(k = 0; keys[k]; k++)
      for(v = 0; v < 3; v++) {
        char name[120], want[200];
        jv d = deployment_with(keys[k], jv_number(vals[v]));
        snprintf(name, sizeof(name), "deployment %s %g", keys[k], vals[v]);
        snprintf(want, sizeof(want), "models.big: deployments[1].%s must "
                 "be a number from 0 to 1e6", keys[k]);
        bad(name, set3(good_obj(), "models", "big", "deployments",
                       jv_array_append(jv_array_append(jv_array(),
                         jv_object_set(jv_object_set(jv_object(),
                           jv_string("provider"), jv_string("openai")),
                           jv_string("model"), jv_string("big-0"))), d)),
            want);
      }
    bad("deployment price a string",
        set3(good_obj(), "models", "big", "deployments",
             jv_array_append(jv_array(), deployment_with(
               "output_usd_per_mtok", jv_string("cheap")))),
        "models.big: deployments[0].output_usd_per_mtok must be a number "
        "from 0 to 1e6");
  }
  /* a deployment's own rate limits: whole numbers 1 to 1e9, as a
     provider's */
  {
    static const char *const keys[] = { "rpm", "tpm", NULL };
    static const double vals[] = {0, 2.5, 2e9};
    int k, v;

    for(k = 0; keys[k]; k++)
      for(v = 0; v < 3; v++) {
        char name[120], want[200];
        jv d = deployment_with(keys[k], jv_number(vals[v]));
        snprintf(name, sizeof(name), "deployment %s %g", keys[k], vals[v]);
        snprintf(want, sizeof(want), "models.big: deployments[0].%s must "
                 "be an integer from 1 to 1e9", keys[k]);
        bad(name, set3(good_obj(), "models", "big", "deployments",
                       jv_array_append(jv_array(), d)), want);
      }
    loads("deployment rpm and tpm",
          set3(good_obj(), "models", "big", "deployments",
               jv_array_append(jv_array(), jv_object_set(
                 deployment_with("rpm", jv_number(500)),
                 jv_string("tpm"), jv_number(200000)))));
  }
}

int main(void)
{
  if(!mkdtemp(tmpdir)) {
    perror("mkdtemp");
    return 1;
  }
  test_good();
  test_shipped();
  test_bad();
  {
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if(system(cmd) != 0)
      printf("# could not remove %s\n", tmpdir);
  }
  return harness_done();
}
