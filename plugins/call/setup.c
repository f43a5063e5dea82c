/*
 * setup.c - the call stage's options, its start (providers and keys read
 * from the catalog and the environment, once) and its end.
 *
 *   call timeout=60 retries=2 deadline=600 hedge_ms=0 fallbacks=4
 *        breaker=5 cooldown=30 retry_after_max=60 max_body=16777216
 *        max_tokens=0 connect_timeout=5 on_failure=fail
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "stage.h"

static const struct llmr_option options[] = {
  {"timeout", LLMR_OPT_DOUBLE, "60", 0,
   "seconds one attempt may take"},
  {"retries", LLMR_OPT_INT, "2", 0,
   "retries per deployment on transient failures (SDK default 2)"},
  {"deadline", LLMR_OPT_DOUBLE, "600", 0,
   "seconds for the whole request: retries and fallbacks (0: none)"},
  {"connect_timeout", LLMR_OPT_DOUBLE, "5", 0,
   "seconds to connect"},
  {"hedge_ms", LLMR_OPT_INT, "0", 0,
   "also send to route.hedge's model (route hedge=true: one tier up) "
   "when the call has not answered after this many ms; the first valid "
   "answer wins (0: never)"},
  {"fallbacks", LLMR_OPT_INT, "4", 0,
   "most deployments tried after the first"},
  {"breaker", LLMR_OPT_INT, "5", 0,
   "consecutive failures that cool a deployment down (0: never)"},
  {"cooldown", LLMR_OPT_DOUBLE, "30", 0,
   "seconds a failing deployment cools down"},
  {"retry_after_max", LLMR_OPT_DOUBLE, "60", 0,
   "longest server-asked wait honoured; a longer one moves on"},
  {"max_body", LLMR_OPT_INT, "16777216", 0,
   "largest answer accepted, bytes"},
  {"max_tokens", LLMR_OPT_INT, "0", 0,
   "output cap sent when a request has none (0: the model's "
   "max_output_tokens, else 4096)"},
  {"on_failure", LLMR_OPT_STRING, "fail", 0,
   "when every deployment failed: fail (an error record), or next (no "
   "response, route.call_error set: for escalate to re-route)"},
  {NULL, LLMR_OPT_STRING, NULL, 0, NULL}
};

static void call_finish(void *self);

/* Read one provider of the catalog (borrowed val) into p. */
static int provider_load(struct call_stage *st, struct provider *p,
                         const char *name, jv val)
{
  const char *format = call_str(val, "format");
  const char *base = call_str(val, "base_url");
  const char *env = call_str(val, "api_key_env");
  char var[160];
  size_t k = (size_t)snprintf(var, sizeof(var), "LLMROUTE_");
  for(const char *c = name; *c && k < sizeof(var) - 10; c++)
    var[k++] = *c == '-' ? '_' : (char)toupper((unsigned char)*c);
  snprintf(var + k, sizeof(var) - k, "_BASE_URL");
  const char *over = getenv(var);
  if(over && *over)
    base = over;
  p->name = strdup(name);
  p->fmt = call_format_find(format);
  p->base_url = strdup(base ? base : "");
  if(env && *env) {
    const char *key = getenv(env);
    p->key_env = strdup(env);
    p->key = key && *key ? strdup(key) : NULL;
  }
  const char *mt = call_str(val, "max_tokens_param");
  if(mt)
    p->flags = !strcmp(mt, "max_tokens") ? CALL_F_MAX_TOKENS : 0;
  else if(p->fmt == &call_openai && base &&
          !strstr(base, "api.openai.com") && !strstr(base, "openai.azure"))
    p->flags = CALL_F_MAX_TOKENS; /* compatible servers read max_tokens */
  double now = st->host->now();
  call_bucket_init(&p->rpm, call_num(val, "rpm", 0), now);
  call_bucket_init(&p->tpm, call_num(val, "tpm", 0), now);
  p->concurrency = call_count(call_num(val, "concurrency", 0));
  if(p->fmt == &call_replay) {
    char err[512];
    const char *file = call_str(val, "outcomes");
    p->replay = file ? replay_open(st->host, file, err, sizeof(err)) : NULL;
    if(!p->replay) {
      st->host->log(NULL, LLMR_LOG_ERROR, "provider %s: %s", name,
                    file ? err : "no outcomes file");
      return LLMR_ERR;
    }
  }
  return p->name && p->base_url ? LLMR_OK : LLMR_ENOMEM;
}


static int call_init(const struct llmr_host *host,
                     const struct llmr_config *cf, void **self)
{
  struct call_stage *st = calloc(1, sizeof(*st));
  if(!st)
    return LLMR_ENOMEM;
  st->host = host;
  st->timeout = host->opt(cf, "timeout")->d;
  st->retries = host->opt(cf, "retries")->i;
  st->deadline = host->opt(cf, "deadline")->d;
  st->connect_timeout = host->opt(cf, "connect_timeout")->d;
  st->hedge_ms = host->opt(cf, "hedge_ms")->i;
  st->fallbacks = host->opt(cf, "fallbacks")->i;
  st->breaker_after = host->opt(cf, "breaker")->i;
  st->cooldown = host->opt(cf, "cooldown")->d;
  st->retry_after_max = host->opt(cf, "retry_after_max")->d;
  st->max_body = host->opt(cf, "max_body")->i;
  st->max_tokens = host->opt(cf, "max_tokens")->i;
  const char *of = host->opt(cf, "on_failure")->str;
  st->pass_failures = of && !strcmp(of, "next");
  st->catalog = jv_null();
  const char *bad = NULL;
  if(!(st->timeout > 0))
    bad = "timeout must be > 0 seconds";
  else if(st->retries < 0 || st->retries > 20)
    bad = "retries must be 0..20";
  else if(st->deadline < 0)
    bad = "deadline must be >= 0 seconds (0: none)";
  else if(!(st->connect_timeout > 0))
    bad = "connect_timeout must be > 0 seconds";
  else if(st->hedge_ms < 0)
    bad = "hedge_ms must be >= 0";
  else if(st->fallbacks < 0 || st->fallbacks >= CALL_MAX_DEPLOYMENTS)
    bad = "fallbacks must be 0..31";
  else if(st->breaker_after < 0 || st->cooldown < 0)
    bad = "breaker and cooldown must be >= 0";
  else if(st->retry_after_max < 0)
    bad = "retry_after_max must be >= 0";
  else if(st->max_body < 1024)
    bad = "max_body must be >= 1024 bytes";
  else if(st->max_tokens < 0)
    bad = "max_tokens must be >= 0";
  else if(!of || (strcmp(of, "fail") && strcmp(of, "next")))
    bad = "on_failure must be fail or next";
  if(bad) {
    host->config_error(cf, "call: %s", bad);
    call_finish(st);
    return LLMR_ERR;
  }
  st->catalog = host->catalog();
  jv provs = call_get(st->catalog, "providers");
  if(jv_get_kind(provs) != JV_KIND_OBJECT) {
    jv_free(provs);
    host->config_error(cf, "call needs a catalog with providers: add "
                       "'set catalog=models.json' to the pipeline");
    call_finish(st);
    return LLMR_ERR;
  }
  int n = jv_object_length(jv_copy(provs));
  st->prov = calloc((size_t)n + 1, sizeof(*st->prov));
  int it = jv_object_iter(provs);
  while(st->prov && jv_object_iter_valid(provs, it)) {
    jv key = jv_object_iter_key(provs, it);
    jv val = jv_object_iter_value(provs, it);
    int rc = provider_load(st, &st->prov[st->nprov++], jv_string_value(key),
                           val);
    if(rc == LLMR_ERR)
      host->config_error(cf, "call: provider %s: cannot read its recorded "
                         "outcomes", jv_string_value(key));
    jv_free(key);
    jv_free(val);
    if(rc == LLMR_ERR) {
      jv_free(provs);
      call_finish(st);
      return LLMR_ERR;
    }
    it = jv_object_iter_next(provs, it);
  }
  jv_free(provs);
  /* breakers are handed out by pointer: size the table once */
  jv models = call_get(st->catalog, "models");
  int deps = 0;
  if(jv_get_kind(models) == JV_KIND_OBJECT) {
    it = jv_object_iter(models);
    while(jv_object_iter_valid(models, it)) {
      jv val = jv_object_iter_value(models, it);
      jv d = call_get(val, "deployments");
      if(jv_get_kind(d) == JV_KIND_ARRAY)
        deps += jv_array_length(jv_copy(d));
      jv_free(d);
      jv_free(val);
      it = jv_object_iter_next(models, it);
    }
  }
  jv_free(models);
  st->capbrk = deps + 256;
  st->brk = calloc((size_t)st->capbrk, sizeof(*st->brk));
  if(!st->prov || !st->brk) {
    call_finish(st);
    return LLMR_ENOMEM;
  }
  { /* the baseline: `set baseline=`, else the dearest tier-3 model */
    const char *b = host->setting("baseline");
    int n;
    const struct llmr_model *ms = host->models(&n);
    const struct llmr_model *dear = NULL;
    for(int i = 0; i < n; i++)
      if(ms[i].tier == 3 && (!dear || ms[i].price.input + ms[i].price.output
                             > dear->price.input + dear->price.output))
        dear = &ms[i];
    st->baseline = b && host->model(b) ? host->model(b) : dear;
  }
  st->input_margin = 1.25;
  st->rng = (unsigned)time(NULL) ^ (unsigned)(size_t)st;
  *self = st;
  return LLMR_OK;
}

static void call_finish(void *self)
{
  struct call_stage *st = self;
  if(!st)
    return;
  for(int i = 0; st->prov && i < st->nprov; i++) {
    struct provider *p = &st->prov[i];
    if(p->key) {
      memset(p->key, 0, strlen(p->key));
      free(p->key);
    }
    free(p->key_env);
    free(p->name);
    free(p->base_url);
    replay_close(p->replay);
  }
  free(st->prov);
  for(int i = 0; i < st->nbrk; i++)
    free(st->brk[i].key);
  free(st->brk);
  jv_free(st->catalog);
  free(st);
}

static const struct llmr_stage call_stage_desc = {
  LLMR_STAGE_VERSION,
  .name = "call",
  .version = "0.1.0",
  .description =
      "send each request to its deployments: retries, fallback, rate limits",
  .options = options,
  .init = call_init,
  .process = call_process,
  .finish = call_finish
};

LLMR_EXPORT const struct llmr_stage *llmr_stage_entry(unsigned host_major,
                                                     unsigned host_minor)
{
  (void)host_minor;
  if(host_major != LLMR_ABI_MAJOR)
    return NULL;
  return &call_stage_desc;
}
