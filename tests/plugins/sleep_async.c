/*
 * sleep_async.c - test stage: hold every job on a host timer, then let it
 * go on.  Shows that the runner keeps many jobs in flight at once and that
 * -j bounds them.
 *
 *   sleep_async [ms=100]
 *
 * A request whose body holds a number "llmr_sleep_ms" waits that long
 * instead (so cases can make jobs finish out of input order).
 *
 * On completion it writes route.sleep = {"ms": ms, "inflight_max": M}:
 * M is the most jobs this instance held at once so far (a job counts from
 * process() until its timer fires or the runner cancels it).
 */
#include <stdlib.h>
#include "llmroute.h"

struct sleeper {
  const struct llmr_host *host;
  long ms;
  long inflight, inflight_max;
};

/* Per-job state: lets a cancelled job (deadline, SIGINT) leave the count. */
struct nap {
  struct sleeper *s;
  int counted;
};

static const struct llmr_option sleep_options[] = {
  {"ms", LLMR_OPT_INT, "100", 0, "milliseconds to hold each job"},
  {NULL, LLMR_OPT_STRING, NULL, 0, NULL}
};

static int sleep_init(const struct llmr_host *host,
                      const struct llmr_config *cf, void **self)
{
  struct sleeper *s;
  long long ms = host->opt(cf, "ms")->i;

  if(ms < 0) {
    host->config_error(cf, "ms must be >= 0, not %lld", ms);
    return LLMR_ERR;
  }
  s = calloc(1, sizeof(*s));
  if(!s)
    return LLMR_ENOMEM;
  s->host = host;
  s->ms = (long)ms;
  *self = s;
  return LLMR_OK;
}

static void nap_free(void *p)
{
  struct nap *n = p;

  if(!n)
    return;
  if(n->counted)
    n->s->inflight--;
  free(n);
}

static void sleep_fire(void *self, struct llmr_job *job)
{
  struct sleeper *s = self;
  struct nap *n = s->host->state(job);
  jv route, info;

  if(n && n->counted) {
    n->counted = 0;
    s->inflight--;
  }
  info = jv_object();
  info = jv_object_set(info, jv_string("ms"), jv_number((double)s->ms));
  info = jv_object_set(info, jv_string("inflight_max"),
                       jv_number((double)s->inflight_max));
  route = s->host->route(job);
  if(jv_get_kind(route) != JV_KIND_OBJECT) {
    jv_free(route);
    route = jv_object();
  }
  route = jv_object_set(route, jv_string("sleep"), info);
  s->host->set_route(job, route);
  s->host->complete(job, LLMR_NEXT);
}

/* The request's body.llmr_sleep_ms, or dflt. */
static long wait_ms(const struct llmr_host *host, struct llmr_job *job,
                    long dflt)
{
  jv req = host->request(job), body, ms;
  long out = dflt;

  body = jv_get_kind(req) == JV_KIND_OBJECT ?
         jv_object_get(jv_copy(req), jv_string("body")) : jv_null();
  ms = jv_get_kind(body) == JV_KIND_OBJECT ?
       jv_object_get(jv_copy(body), jv_string("llmr_sleep_ms")) : jv_null();
  if(jv_get_kind(ms) == JV_KIND_NUMBER && jv_number_value(ms) >= 0)
    out = (long)jv_number_value(ms);
  jv_free(ms);
  jv_free(body);
  jv_free(req);
  return out;
}

static enum llmr_verdict sleep_process(void *self, struct llmr_job *job)
{
  struct sleeper *s = self;
  struct nap *n = calloc(1, sizeof(*n));

  if(!n) {
    s->host->set_error(job, "out_of_memory", "sleep_async: no memory");
    return LLMR_FAIL;
  }
  n->s = s;
  n->counted = 1;
  s->host->set_state(job, n, nap_free);
  s->inflight++;
  if(s->inflight > s->inflight_max)
    s->inflight_max = s->inflight;
  if(s->host->after(job, wait_ms(s->host, job, s->ms), sleep_fire) !=
     LLMR_OK) {
    s->host->set_error(job, "timer_failed", "host->after() refused");
    return LLMR_FAIL;
  }
  return LLMR_PENDING;
}

static void sleep_finish(void *self)
{
  free(self);
}

static const struct llmr_stage sleep_stage = {
  LLMR_STAGE_VERSION,
  .name = "sleep_async",
  .version = "1.0",
  .description = "test: hold each job on a host timer",
  .options = sleep_options,
  .init = sleep_init,
  .process = sleep_process,
  .finish = sleep_finish
};

const struct llmr_stage *llmr_stage_entry(unsigned host_major,
                                          unsigned host_minor)
{
  (void)host_major;
  (void)host_minor;
  return &sleep_stage;
}
