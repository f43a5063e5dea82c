/*
 * catalog.c - load and validate the model catalog (llmroute(1), CATALOG).
 *
 *   {"providers":{NAME:{"format","base_url","api_key_env",
 *                       "rpm","tpm","concurrency"}, ...},
 *    "models":{NAME:{"tier","input_usd_per_mtok","output_usd_per_mtok",
 *                    "cached_input_usd_per_mtok","context_tokens",
 *                    "max_output_tokens",
 *                    "deployments":[{"provider","model",
 *                                    "rpm","tpm"}, ...]}, ...}}
 *
 * Tiers: 1 = cheap and fast (extraction, classification, short chat),
 * 2 = capable mid-range (most coding, summarising, writing),
 * 3 = premium frontier (hard reasoning, long multi-step work).
 *
 * Unknown extra fields are kept and ignored, so a stage can read its own.
 * The first problem found is reported, naming the file and the entry:
 *   "models.json: models.gpt-5-mini: input_usd_per_mtok must be a
 *    number >= 0".
 * Before validation "${VAR}" and "${VAR:-default}" in a provider's
 * base_url and in a deployment's model expand from the environment (as
 * in pipeline files), so one catalog serves whatever a local server
 * calls its models.
 * After validation LLMROUTE_<PROVIDER>_BASE_URL overrides base_url, and a
 * model without cached_input_usd_per_mtok gets its input price there.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core.h"

#define MAX_CATALOG_BYTES (64L * 1024 * 1024)

/* Provider formats the call stage speaks. */
static const char *const known_formats[] = {
  "openai", "anthropic", "gemini", "replay", NULL
};

/* Write "PATH: message" into err.  Returns LLMR_ERR. */
static int fail(char *err, size_t errlen, const char *path,
                const char *fmt, ...) LLMR_PRINTF(4, 5);
/* (the definition) */
static int fail(char *err, size_t errlen, const char *path,
                const char *fmt, ...)
{
  va_list ap;
  int n;

  if(!err || !errlen)
    return LLMR_ERR;
  n = snprintf(err, errlen, "%s: ", path);
  if(n < 0 || (size_t)n >= errlen)
    return LLMR_ERR;
  va_start(ap, fmt);
  vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
  va_end(ap);
  return LLMR_ERR;
}

/* Read a whole file into a malloc'd NUL-terminated buffer; NULL and errno
 * on failure. */
static char *read_file(const char *path, size_t *lenp)
{
  FILE *f = fopen(path, "rb");
  char *buf = NULL, *nb;
  size_t len = 0, cap = 0, got;

  if(!f)
    return NULL;
  for(;;) {
    if(cap - len < 4096) {
      cap = cap ? cap * 2 : 65536;
      if(cap > (size_t)MAX_CATALOG_BYTES) {
        errno = EFBIG;
        goto fail;
      }
      nb = realloc(buf, cap + 1);
      if(!nb)
        goto fail;
      buf = nb;
    }
    got = fread(buf + len, 1, cap - len, f);
    len += got;
    if(got == 0)
      break;
  }
  if(ferror(f))
    goto fail;
  fclose(f);
  buf[len] = '\0';
  *lenp = len;
  return buf;
fail:
  free(buf);
  fclose(f);
  return NULL;
}

/* 1 when v (borrowed) is a number >= min (and integral when want_int). */
static int is_num(jv v, double min, int want_int)
{
  double d;

  if(jv_get_kind(v) != JV_KIND_NUMBER)
    return 0;
  d = jv_number_value(v);
  if(d != d || d < min || isinf(d))
    return 0;
  if(want_int && floor(d) != d)
    return 0;
  return 1;
}

/* 1 when obj[key] is a non-empty string. */
static int has_string(jv obj, const char *key)
{
  jv v = json_get(obj, key);
  int ok = jv_get_kind(v) == JV_KIND_STRING &&
           jv_string_length_bytes(jv_copy(v)) > 0;
  jv_free(v);
  return ok;
}

/* Check one provider entry (borrows p). */
static int check_provider(const char *path, const char *name, jv p,
                          char *err, size_t errlen)
{
  jv v;
  int i, known = 0, replay;
  static const char *const limits[] = { "rpm", "tpm", "concurrency", NULL };

  if(jv_get_kind(p) != JV_KIND_OBJECT)
    return fail(err, errlen, path, "providers.%s: must be an object", name);
  v = json_get(p, "format");
  if(jv_get_kind(v) != JV_KIND_STRING) {
    jv_free(v);
    return fail(err, errlen, path,
                "providers.%s: format must be a string "
                "(openai, anthropic, gemini or replay)", name);
  }
  for(i = 0; known_formats[i]; i++)
    if(!strcmp(jv_string_value(v), known_formats[i]))
      known = 1;
  if(!known) {
    fail(err, errlen, path,
         "providers.%s: unknown format '%s' (known: openai, anthropic, "
         "gemini, replay)", name, jv_string_value(v));
    jv_free(v);
    return LLMR_ERR;
  }
  replay = !strcmp(jv_string_value(v), "replay");
  jv_free(v);
  if(replay && !has_string(p, "outcomes"))
    return fail(err, errlen, path,
                "providers.%s: a replay provider needs \"outcomes\", the "
                "recorded-outcomes file it answers from", name);
  if(!replay && !has_string(p, "base_url"))
    return fail(err, errlen, path,
                "providers.%s: base_url must be a non-empty string", name);
  if(!replay) {
    v = json_get(p, "base_url");
    i = !strncasecmp(jv_string_value(v), "http://", 7) ||
        !strncasecmp(jv_string_value(v), "https://", 8);
    jv_free(v);
    if(!i)
      return fail(err, errlen, path, "providers.%s: base_url must be an "
                  "http:// or https:// URL", name);
  }
  v = json_get(p, "api_key_env");
  if(jv_get_kind(v) != JV_KIND_NULL && jv_get_kind(v) != JV_KIND_STRING) {
    jv_free(v);
    return fail(err, errlen, path,
                "providers.%s: api_key_env must be a string "
                "(the name of an environment variable)", name);
  }
  jv_free(v);
  for(i = 0; limits[i]; i++) {
    v = json_get(p, limits[i]);
    if(jv_get_kind(v) != JV_KIND_NULL &&
       (!is_num(v, 1, 1) || jv_number_value(v) > 1e9)) {
      jv_free(v);
      return fail(err, errlen, path,
                  "providers.%s: %s must be an integer from 1 to 1e9", name,
                  limits[i]);
    }
    jv_free(v);
  }
  return LLMR_OK;
}

/* Check one deployment (borrows d and providers). */
static int check_deployment(const char *path, const char *name, int i,
                            jv d, jv providers, char *err, size_t errlen)
{
  static const char *const prices[] = {
    "input_usd_per_mtok", "output_usd_per_mtok", "cached_input_usd_per_mtok",
    "cache_write_usd_per_mtok", NULL
  };
  static const char *const limits[] = { "rpm", "tpm", NULL };
  jv prov, p;
  int k;

  if(jv_get_kind(d) != JV_KIND_OBJECT)
    return fail(err, errlen, path,
                "models.%s: deployments[%d] must be an object "
                "{\"provider\":...,\"model\":...}", name, i);
  if(!has_string(d, "provider"))
    return fail(err, errlen, path,
                "models.%s: deployments[%d].provider must be a "
                "non-empty string", name, i);
  if(!has_string(d, "model"))
    return fail(err, errlen, path,
                "models.%s: deployments[%d].model must be a "
                "non-empty string", name, i);
  /* a deployment's own prices: the same bounds as the model's */
  for(k = 0; prices[k]; k++) {
    jv v = json_get(d, prices[k]);
    int bad = jv_get_kind(v) != JV_KIND_NULL &&
              (!is_num(v, 0, 0) || jv_number_value(v) > 1e6);
    jv_free(v);
    if(bad)
      return fail(err, errlen, path, "models.%s: deployments[%d].%s must "
                  "be a number from 0 to 1e6", name, i, prices[k]);
  }
  /* a deployment's own rate limits (providers limit per model too) */
  for(k = 0; limits[k]; k++) {
    jv v = json_get(d, limits[k]);
    int bad = jv_get_kind(v) != JV_KIND_NULL &&
              (!is_num(v, 1, 1) || jv_number_value(v) > 1e9);
    jv_free(v);
    if(bad)
      return fail(err, errlen, path, "models.%s: deployments[%d].%s must "
                  "be an integer from 1 to 1e9", name, i, limits[k]);
  }
  prov = json_get(d, "provider");
  p = json_get(providers, jv_string_value(prov));
  if(jv_get_kind(p) != JV_KIND_OBJECT) {
    fail(err, errlen, path,
         "models.%s: deployments[%d]: unknown provider '%s' "
         "(not in providers)", name, i, jv_string_value(prov));
    jv_free(p);
    jv_free(prov);
    return LLMR_ERR;
  }
  jv_free(p);
  jv_free(prov);
  return LLMR_OK;
}

/* Check one model entry (borrows m and providers). */
static int check_model(const char *path, const char *name, jv m,
                       jv providers, char *err, size_t errlen)
{
  /* the upper bounds keep costs and token sums far from overflow: no
     model costs a million dollars per million tokens, nor holds more
     than a billion tokens */
  static const struct {
    const char *key;
    int required, integer;
    double min, max;
    const char *what;
  } fields[] = {
    { "tier", 1, 1, 1, 3, "an integer 1..3" },
    { "input_usd_per_mtok", 1, 0, 0, 1e6, "a number from 0 to 1e6" },
    { "output_usd_per_mtok", 1, 0, 0, 1e6, "a number from 0 to 1e6" },
    { "cached_input_usd_per_mtok", 0, 0, 0, 1e6, "a number from 0 to 1e6" },
    { "cache_write_usd_per_mtok", 0, 0, 0, 1e6, "a number from 0 to 1e6" },
    { "context_tokens", 1, 1, 1, 1e9, "an integer from 1 to 1e9" },
    { "max_output_tokens", 1, 1, 1, 1e9, "an integer from 1 to 1e9" },
    { NULL, 0, 0, 0, 0, NULL }
  };
  jv v, deps;
  int i, n;

  if(jv_get_kind(m) != JV_KIND_OBJECT)
    return fail(err, errlen, path, "models.%s: must be an object", name);
  for(i = 0; fields[i].key; i++) {
    v = json_get(m, fields[i].key);
    if(jv_get_kind(v) == JV_KIND_NULL && !fields[i].required) {
      jv_free(v);
      continue;
    }
    if(!is_num(v, fields[i].min, fields[i].integer) ||
       jv_number_value(v) > fields[i].max) {
      jv_free(v);
      return fail(err, errlen, path, "models.%s: %s must be %s", name,
                  fields[i].key, fields[i].what);
    }
    jv_free(v);
  }
  if(json_num(m, "max_output_tokens", 0) > json_num(m, "context_tokens", 0))
    return fail(err, errlen, path, "models.%s: max_output_tokens is more "
                "than context_tokens", name);
  deps = json_get(m, "deployments");
  if(jv_get_kind(deps) != JV_KIND_ARRAY ||
     jv_array_length(jv_copy(deps)) == 0) {
    jv_free(deps);
    return fail(err, errlen, path,
                "models.%s: deployments must be a non-empty array of "
                "{\"provider\":...,\"model\":...}", name);
  }
  n = jv_array_length(jv_copy(deps));
  for(i = 0; i < n; i++) {
    jv d = jv_array_get(jv_copy(deps), i);
    int rc = check_deployment(path, name, i, d, providers, err, errlen);
    jv_free(d);
    if(rc != LLMR_OK) {
      jv_free(deps);
      return rc;
    }
  }
  jv_free(deps);
  return LLMR_OK;
}

/* Validate a parsed catalog (borrows cat). */
static int validate(const char *path, jv cat, char *err, size_t errlen)
{
  jv providers, models;
  int rc = LLMR_OK, it;

  if(jv_get_kind(cat) != JV_KIND_OBJECT)
    return fail(err, errlen, path,
                "the catalog must be an object "
                "{\"providers\":{...},\"models\":{...}}");
  providers = json_get(cat, "providers");
  models = json_get(cat, "models");
  if(jv_get_kind(providers) != JV_KIND_OBJECT ||
     jv_object_length(jv_copy(providers)) == 0) {
    rc = fail(err, errlen, path, "providers must be a non-empty object");
    goto done;
  }
  if(jv_get_kind(models) != JV_KIND_OBJECT ||
     jv_object_length(jv_copy(models)) == 0) {
    rc = fail(err, errlen, path, "models must be a non-empty object");
    goto done;
  }
  for(it = jv_object_iter(providers); jv_object_iter_valid(providers, it);
      it = jv_object_iter_next(providers, it)) {
    jv k = jv_object_iter_key(providers, it);
    jv p = jv_object_iter_value(providers, it);
    rc = check_provider(path, jv_string_value(k), p, err, errlen);
    jv_free(k);
    jv_free(p);
    if(rc != LLMR_OK)
      goto done;
  }
  for(it = jv_object_iter(models); jv_object_iter_valid(models, it);
      it = jv_object_iter_next(models, it)) {
    jv k = jv_object_iter_key(models, it);
    jv m = jv_object_iter_value(models, it);
    if(jv_string_length_bytes(jv_copy(k)) == 0)
      rc = fail(err, errlen, path, "models: a model name is empty");
    else
      rc = check_model(path, jv_string_value(k), m, providers, err,
                       errlen);
    jv_free(k);
    jv_free(m);
    if(rc != LLMR_OK)
      goto done;
  }
done:
  jv_free(providers);
  jv_free(models);
  return rc;
}

/* The environment variable overriding provider name's base_url, in buf:
 * LLMROUTE_<NAME>_BASE_URL, upper-cased, '-' and '.' as '_'. */
static void env_name(const char *name, char *buf, size_t len)
{
  size_t i, o;

  o = (size_t)snprintf(buf, len, "LLMROUTE_");
  for(i = 0; name[i] && o + 10 < len; i++) {
    unsigned char c = (unsigned char)name[i];
    buf[o++] = isalnum(c) ? (char)toupper(c) : '_';
  }
  snprintf(buf + o, len - o, "_BASE_URL");
}

/* A replay provider's outcomes path resolved against the catalog's
 * folder (borrows path; consumes p).  jv_invalid() with err set when the
 * file cannot be read. */
static jv resolve_outcomes(const char *path, const char *name, jv p,
                           char *err, size_t errlen)
{
  jv o = jv_object_get(jv_copy(p), jv_string("outcomes"));
  const char *f = jv_string_value(o), *slash = strrchr(path, '/');
  char *full = NULL;

  if(f[0] != '/' && slash) {
    size_t n = (size_t)(slash - path) + strlen(f) + 2;
    full = malloc(n);
    if(full)
      snprintf(full, n, "%.*s/%s", (int)(slash - path), path, f);
  }
  if(access(full ? full : f, R_OK)) {
    fail(err, errlen, path, "providers.%s: outcomes %s: %s", name,
         full ? full : f, strerror(errno));
    free(full);
    jv_free(o);
    jv_free(p);
    return jv_invalid();
  }
  if(full)
    p = jv_object_set(p, jv_string("outcomes"), jv_string(full));
  free(full);
  jv_free(o);
  return p;
}

/* Resolve every replay provider's outcomes (consumes cat). */
static jv resolve_replays(const char *path, jv cat, char *err,
                          size_t errlen)
{
  jv providers = jv_object_get(jv_copy(cat), jv_string("providers"));
  jv keys = jv_keys(jv_copy(providers));
  int i, n = jv_array_length(jv_copy(keys));

  for(i = 0; i < n; i++) {
    jv k = jv_array_get(jv_copy(keys), i);
    jv p = jv_object_get(jv_copy(providers), jv_copy(k));
    jv f = jv_object_get(jv_copy(p), jv_string("format"));
    int replay = !strcmp(jv_string_value(f), "replay");
    jv_free(f);
    if(replay) {
      p = resolve_outcomes(path, jv_string_value(k), p, err, errlen);
      if(!jv_is_valid(p)) {
        jv_free(k);
        jv_free(keys);
        jv_free(providers);
        jv_free(cat);
        return jv_invalid();
      }
      providers = jv_object_set(providers, jv_copy(k), p);
    }
    else
      jv_free(p);
    jv_free(k);
  }
  jv_free(keys);
  return jv_object_set(cat, jv_string("providers"), providers);
}

/* Apply overrides and defaults to a valid catalog (consumes cat). */
static jv apply_defaults(jv cat)
{
  jv providers = jv_object_get(jv_copy(cat), jv_string("providers"));
  jv models = jv_object_get(jv_copy(cat), jv_string("models"));
  jv keys;
  int i, n;
  char var[256];

  keys = jv_keys(jv_copy(providers));
  n = jv_array_length(jv_copy(keys));
  for(i = 0; i < n; i++) {
    jv k = jv_array_get(jv_copy(keys), i);
    const char *url;
    env_name(jv_string_value(k), var, sizeof(var));
    url = getenv(var);
    if(url && *url) {
      jv p = jv_object_get(jv_copy(providers), jv_copy(k));
      p = jv_object_set(p, jv_string("base_url"), jv_string(url));
      providers = jv_object_set(providers, jv_copy(k), p);
    }
    jv_free(k);
  }
  jv_free(keys);

  keys = jv_keys(jv_copy(models));
  n = jv_array_length(jv_copy(keys));
  for(i = 0; i < n; i++) {
    jv k = jv_array_get(jv_copy(keys), i);
    jv m = jv_object_get(jv_copy(models), jv_copy(k));
    jv c = jv_object_get(jv_copy(m), jv_string("cached_input_usd_per_mtok"));
    if(jv_get_kind(c) != JV_KIND_NUMBER) {
      jv in = jv_object_get(jv_copy(m), jv_string("input_usd_per_mtok"));
      m = jv_object_set(m, jv_string("cached_input_usd_per_mtok"), in);
      models = jv_object_set(models, jv_copy(k), m);
    }
    else
      jv_free(m);
    jv_free(c);
    jv_free(k);
  }
  jv_free(keys);
  cat = jv_object_set(cat, jv_string("providers"), providers);
  cat = jv_object_set(cat, jv_string("models"), models);
  return cat;
}

/* obj[key] with its ${VAR}s expanded, when it is a string holding one
 * (consumes obj).  jv_invalid() and "path: where.key: message" in err
 * when a variable is not set. */
static jv expand_field(jv obj, const char *key, const char *path,
                       const char *where, char *err, size_t errlen)
{
  jv v = json_get(obj, key);
  struct buf b;
  char msg[256];

  if(jv_get_kind(v) != JV_KIND_STRING || !strstr(jv_string_value(v), "${")) {
    jv_free(v);
    return obj;
  }
  buf_init(&b);
  if(env_expand(jv_string_value(v), &b, msg, sizeof(msg))) {
    fail(err, errlen, path, "%s.%s: %s", where, key, msg);
    obj = (jv_free(obj), jv_invalid());
  }
  else
    obj = jv_object_set(obj, jv_string(key), jv_string_sized(b.p,
                                                              (int)b.len));
  buf_free(&b);
  jv_free(v);
  return obj;
}

/* ${VAR} in providers.*.base_url and models.*.deployments[].model
 * (consumes cat).  Other shapes are left for validate() to refuse. */
static jv expand_env(const char *path, jv cat, char *err, size_t errlen)
{
  jv providers = json_get(cat, "providers"), models = json_get(cat,
                                                               "models");
  jv keys;
  int i, j, n, nd;
  char where[256];

  if(jv_get_kind(providers) == JV_KIND_OBJECT) {
    keys = jv_keys(jv_copy(providers));
    n = jv_array_length(jv_copy(keys));
    for(i = 0; i < n && jv_is_valid(cat); i++) {
      jv k = jv_array_get(jv_copy(keys), i);
      jv p = jv_object_get(jv_copy(providers), jv_copy(k));

      snprintf(where, sizeof(where), "providers.%s", jv_string_value(k));
      if(jv_get_kind(p) == JV_KIND_OBJECT) {
        p = expand_field(p, "base_url", path, where, err, errlen);
        if(!jv_is_valid(p))
          cat = (jv_free(cat), jv_invalid());
        else
          providers = jv_object_set(providers, jv_copy(k), jv_copy(p));
      }
      jv_free(p);
      jv_free(k);
    }
    jv_free(keys);
  }
  if(jv_get_kind(models) == JV_KIND_OBJECT && jv_is_valid(cat)) {
    keys = jv_keys(jv_copy(models));
    n = jv_array_length(jv_copy(keys));
    for(i = 0; i < n && jv_is_valid(cat); i++) {
      jv k = jv_array_get(jv_copy(keys), i);
      jv m = jv_object_get(jv_copy(models), jv_copy(k));
      jv d = json_get(m, "deployments");

      if(jv_get_kind(d) == JV_KIND_ARRAY) {
        nd = jv_array_length(jv_copy(d));
        for(j = 0; j < nd && jv_is_valid(cat); j++) {
          jv e = jv_array_get(jv_copy(d), j);

          snprintf(where, sizeof(where), "models.%s.deployments[%d]",
                   jv_string_value(k), j);
          if(jv_get_kind(e) == JV_KIND_OBJECT) {
            e = expand_field(e, "model", path, where, err, errlen);
            if(!jv_is_valid(e))
              cat = (jv_free(cat), jv_invalid());
            else
              d = jv_array_set(d, j, jv_copy(e));
          }
          jv_free(e);
        }
        if(jv_is_valid(cat) && jv_get_kind(m) == JV_KIND_OBJECT) {
          m = jv_object_set(m, jv_string("deployments"), jv_copy(d));
          models = jv_object_set(models, jv_copy(k), jv_copy(m));
        }
      }
      jv_free(d);
      jv_free(m);
      jv_free(k);
    }
    jv_free(keys);
  }
  if(!jv_is_valid(cat)) {
    jv_free(providers);
    jv_free(models);
    return cat;
  }
  if(jv_get_kind(providers) == JV_KIND_OBJECT)
    cat = jv_object_set(cat, jv_string("providers"), providers);
  else
    jv_free(providers);
  if(jv_get_kind(models) == JV_KIND_OBJECT)
    cat = jv_object_set(cat, jv_string("models"), models);
  else
    jv_free(models);
  return cat;
}

/* Load and validate the catalog at path.  LLMR_OK and *out (a new ref),
 * or LLMR_ERR and a message naming the file and the entry in err. */
int catalog_load(const char *path, jv *out, char *err, size_t errlen)
{
  char *text;
  size_t len = 0;
  jv cat;

  *out = jv_invalid();
  if(err && errlen)
    err[0] = '\0';
  text = read_file(path, &len);
  if(!text)
    return fail(err, errlen, path, "cannot read: %s", strerror(errno));
  cat = json_parse_strict(text, (size_t)len);
  free(text);
  if(!jv_is_valid(cat)) {
    jv msg = jv_invalid_get_msg(cat);
    fail(err, errlen, path, "not valid JSON: %s",
         jv_get_kind(msg) == JV_KIND_STRING ? jv_string_value(msg) : "?");
    jv_free(msg);
    return LLMR_ERR;
  }
  cat = expand_env(path, cat, err, errlen);
  if(!jv_is_valid(cat))
    return LLMR_ERR;
  if(validate(path, cat, err, errlen) != LLMR_OK) {
    jv_free(cat);
    return LLMR_ERR;
  }
  cat = resolve_replays(path, cat, err, errlen);
  if(!jv_is_valid(cat))
    return LLMR_ERR;
  *out = apply_defaults(cat);
  return LLMR_OK;
}
