/*
 * escalate.c - the escalate stage: the calibrated cascade.
 *
 * mode=cascade (the default), placed after call and validate:
 *   A job whose last attempt is valid goes on (NEXT).  When the answer
 *   was found invalid (route.attempts[-1].valid == false), or the call
 *   failed for good (no response), escalate:
 *     - with ladder=a,b,c: the first ladder model no attempt has used yet
 *       is pinned as the request's body.model;
 *     - without: the tier of the model that answered plus one becomes the
 *       minimum tier (request routing.min_tier and route.min_tier), which
 *       the route stage honours; when a hedge (call hedge_ms=) also
 *       answered invalidly, above the hedge's tier too, so that tier is
 *       not tried twice;
 *   clears the response, counts route.escalations and GOTOs `to` (route).
 *   Every attempt and its reason stay in route.attempts.  After max=
 *   escalations, or when there is nothing higher to go to, the job fails
 *   with "invalid_output" naming the last reason.
 *
 * mode=preempt, placed before route (after classify):
 *   When the request is clearly beyond the cheap tier (a when_* proxy of
 *   plugins/validate/proxy.h fires: route.complexity >= when_complexity,
 *   estimated input tokens >= when_tokens, or when_count matches of
 *   when_pattern in the user messages), raise the minimum tier to
 *   require_tier before the first call, record why in route.preempted,
 *   and go on.  The cheap call is skipped, not wasted.
 *
 *   escalate mode=preempt require_tier=2 when_complexity=0.7
 *   escalate mode=preempt require_tier=3 when_tokens=20000
 *   escalate mode=preempt require_tier=2 when_count=3
 *            when_pattern='\b(then|after that|therefore|finally)\b'
 *   (single quotes: a double-quoted value takes backslash escapes)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llmroute.h"
#include "core/lib/proxy.h"
#include "core/lib/jget.h"

#define ESCALATE_VERSION "0.1.0"
#define MAX_LADDER 32

enum mode { MODE_CASCADE = 0, MODE_PREEMPT };

struct escalate {
  const struct llmr_host *host;
  enum mode mode;
  long max;
  char *to;
  char *ladder_buf;            /* ladder= split in place */
  const char *ladder[MAX_LADDER];
  int nladder;
  long require_tier;
  struct proxy proxy;          /* when_* (mode=preempt) */
  jv catalog;
};

static const struct llmr_option options[] = {
  {"mode", LLMR_OPT_STRING, "cascade", 0,
   "cascade (after validate) or preempt (before route)"},
  {"max", LLMR_OPT_INT, "2", 0, "escalations at most per request"},
  {"to", LLMR_OPT_STRING, "route", 0, "stage an escalation goes back to"},
  {"ladder", LLMR_OPT_STRING, NULL, 0,
   "comma-separated models to try in order instead of raising the tier"},
  {"require_tier", LLMR_OPT_INT, "2", 0,
   "preempt: the minimum tier when a when_* proxy fires"},
  PROXY_OPTIONS,
  {NULL, LLMR_OPT_STRING, NULL, 0, NULL}
};

/* Borrows catalog.  The tier of model name, or 0 when unknown. */
static long model_tier(jv catalog, const char *name)
{
  jv models = jget(catalog, "models"), m = jget(models, name);
  long tier = (long)jget_num(m, "tier", 0);
  jv_free(models);
  jv_free(m);
  return tier;
}

/* Borrows catalog.  The highest tier of any model, or 0 (no catalog). */
static long top_tier(jv catalog)
{
  jv models = jget(catalog, "models");
  long top = 0;
  if(jv_get_kind(models) == JV_KIND_OBJECT) {
    jv_object_foreach(models, k, m) {
      long t = (long)jget_num(m, "tier", 0);
      if(t > top)
        top = t;
      jv_free(k);
      jv_free(m);
    }
  }
  jv_free(models);
  return top;
}

/* Consumes req.  Returns it with routing.min_tier raised to tier. */
static jv raise_min_tier(jv req, long tier)
{
  jv routing = jget(req, "routing");
  if(jv_get_kind(routing) != JV_KIND_OBJECT) {
    jv_free(routing);
    routing = jv_object();
  }
  if(jget_num(routing, "min_tier", 0) < tier)
    routing = jv_object_set(routing, jv_string("min_tier"),
                            jv_number((double)tier));
  return jv_object_set(req, jv_string("routing"), routing);
}

/* Borrows route.  New ref of the last attempt, or jv_null(). */
static jv last_attempt(jv route, int *count)
{
  jv attempts = jget(route, "attempts"), last = jv_null();
  int n = 0;
  if(jv_get_kind(attempts) == JV_KIND_ARRAY) {
    n = jv_array_length(jv_copy(attempts));
    if(n > 0) {
      jv_free(last);
      last = jv_array_get(jv_copy(attempts), n - 1);
    }
  }
  jv_free(attempts);
  if(count)
    *count = n;
  return last;
}

/* Borrows route.  1 when some attempt used model name. */
static int tried(jv route, const char *name)
{
  jv attempts = jget(route, "attempts");
  int hit = 0;
  if(jv_get_kind(attempts) == JV_KIND_ARRAY) {
    jv_array_foreach(attempts, i, a) {
      jv m = jget(a, "model");
      (void)i;
      if(jv_get_kind(m) == JV_KIND_STRING && !strcmp(jv_string_value(m), name))
        hit = 1;
      jv_free(m);
      jv_free(a);
    }
  }
  jv_free(attempts);
  return hit;
}

/* Borrows route.  The highest tier of the attempts that a hedge sent
 * (call hedge_ms=: "hedge": true) and that were found invalid, or 0. */
static long hedged_tier(jv catalog, jv route)
{
  jv attempts = jget(route, "attempts");
  long top = 0;
  if(jv_get_kind(attempts) == JV_KIND_ARRAY) {
    jv_array_foreach(attempts, i, a) {
      jv hedge = jget(a, "hedge"), valid = jget(a, "valid");
      jv m = jget(a, "model");
      (void)i;
      if(jv_get_kind(hedge) == JV_KIND_TRUE &&
         jv_get_kind(valid) == JV_KIND_FALSE &&
         jv_get_kind(m) == JV_KIND_STRING) {
        long t = model_tier(catalog, jv_string_value(m));
        if(t > top)
          top = t;
      }
      jv_free(hedge);
      jv_free(valid);
      jv_free(m);
      jv_free(a);
    }
  }
  jv_free(attempts);
  return top;
}

/* ---------------------------------------------------------------------
 * mode=preempt
 */

static enum llmr_verdict preempt(struct escalate *e, struct llmr_job *job)
{
  const struct llmr_host *h = e->host;
  jv route = h->route(job), req = h->request(job);
  char why[96] = "";
  if(jget_num(route, "min_tier", 0) >= e->require_tier ||
     !proxy_fires(&e->proxy, h, req, route, why, sizeof(why))) {
    jv_free(route);
    jv_free(req);
    return LLMR_NEXT;
  }
  h->log(job, LLMR_LOG_DEBUG, "preempt: %s, min tier %ld", why,
         e->require_tier);
  h->set_request(job, raise_min_tier(req, e->require_tier));
  route = jv_object_set(route, jv_string("min_tier"),
                        jv_number((double)e->require_tier));
  route = jv_object_set(route, jv_string("preempted"), jv_string(why));
  h->set_route(job, route);
  return LLMR_NEXT;
}

/* ---------------------------------------------------------------------
 * mode=cascade
 */

/* Fail the job; consumes route (stored as is).  The code is the call's
 * own (route.call_error, left by `call on_failure=next`) when the last
 * call failed for good, so auth_error or rate_limited still show;
 * invalid_output when the last answer failed its checks. */
static enum llmr_verdict give_up(struct escalate *e, struct llmr_job *job,
                                 jv route, int attempts, const char *why,
                                 const char *reason)
{
  jv ce = jget(route, "call_error");
  jv code = jget(ce, "code");

  if(jv_get_kind(code) == JV_KIND_STRING) {
    jv msg = jget(ce, "message");

    e->host->set_error(job, jv_string_value(code),
                       "no answer after %d attempt%s (%s); last: %s",
                       attempts, attempts == 1 ? "" : "s", why,
                       jv_get_kind(msg) == JV_KIND_STRING
                           ? jv_string_value(msg) : reason);
    jv_free(msg);
  }
  else
    e->host->set_error(job, "invalid_output",
                       "no valid answer after %d attempt%s (%s); last: %s",
                       attempts, attempts == 1 ? "" : "s", why, reason);
  jv_free(code);
  jv_free(ce);
  e->host->set_route(job, route);
  return LLMR_FAIL;
}

/* mode=cascade: pass a valid answer, else escalate or give up. */
static enum llmr_verdict cascade(struct escalate *e, struct llmr_job *job)
{
  const struct llmr_host *h = e->host;
  jv resp = h->response(job), route = h->route(job), last, lreason, model;
  jv req;
  int n, have_resp = jv_get_kind(resp) != JV_KIND_NULL && jv_is_valid(resp);
  long esc, tier = 0, hedged;
  char reason[400], why[120], next_desc[160];
  const char *next_model = NULL;

  jv_free(resp);
  last = last_attempt(route, &n);
  if(have_resp) {
    jv valid = jget(last, "valid");
    int bad = jv_get_kind(valid) == JV_KIND_FALSE;
    jv_free(valid);
    if(!bad) {
      jv_free(last);
      jv_free(route);
      return LLMR_NEXT;
    }
  }
  else if(!n) {
    jv ce = jget(route, "call_error");
    int failed = jv_get_kind(ce) == JV_KIND_OBJECT;
    jv_free(ce);
    if(!failed) {
      /* nothing was called and nothing failed (a plan): not ours */
      jv_free(last);
      jv_free(route);
      return LLMR_NEXT;
    }
    /* the call failed without an attempt (no usable deployment): as any
       failed call, escalate it or give up with the call's error */
  }
  lreason = jget(last, "reason");
  if(jv_get_kind(lreason) != JV_KIND_STRING) {
    jv ce = jget(route, "call_error");
    jv_free(lreason);
    lreason = jget(ce, "message");
    jv_free(ce);
  }
  snprintf(reason, sizeof(reason), "%s",
           jv_get_kind(lreason) == JV_KIND_STRING ? jv_string_value(lreason)
           : have_resp ? "invalid answer" : "the call failed");
  jv_free(lreason);
  model = jget(last, "model");
  if(jv_get_kind(model) == JV_KIND_STRING)
    tier = model_tier(e->catalog, jv_string_value(model));
  jv_free(model);
  jv_free(last);
  if(!tier)
    tier = (long)jget_num(route, "tier", 0);
  hedged = hedged_tier(e->catalog, route);
  if(hedged > tier)
    tier = hedged;

  esc = (long)jget_num(route, "escalations", 0);
  if(esc >= e->max) {
    snprintf(why, sizeof(why), "max=%ld escalation%s used", e->max,
             e->max == 1 ? "" : "s");
    return give_up(e, job, route, n, why, reason);
  }

  req = h->request(job);
  if(e->nladder) {
    int i;
    for(i = 0; i < e->nladder && !next_model; i++)
      if(!tried(route, e->ladder[i]))
        next_model = e->ladder[i];
    if(!next_model) {
      jv_free(req);
      return give_up(e, job, route, n, "every ladder model was tried",
                     reason);
    }
    {
      jv body = jget(req, "body");
      if(jv_get_kind(body) != JV_KIND_OBJECT) {
        jv_free(body);
        body = jv_object();
      }
      body = jv_object_set(body, jv_string("model"), jv_string(next_model));
      req = jv_object_set(req, jv_string("body"), body);
    }
    snprintf(next_desc, sizeof(next_desc), "model %.120s", next_model);
  }
  else {
    long want = (tier > 0 ? tier : 1) + 1;
    long top = top_tier(e->catalog);
    long have = (long)jget_num(route, "min_tier", 0);
    if(have >= want)
      want = have + 1;
    if(top && want > top) {
      jv_free(req);
      snprintf(why, sizeof(why), "no model above tier %ld", want - 1);
      return give_up(e, job, route, n, why, reason);
    }
    req = raise_min_tier(req, want);
    route = jv_object_set(route, jv_string("min_tier"),
                          jv_number((double)want));
    snprintf(next_desc, sizeof(next_desc), "tier %ld", want);
  }

  route = jv_object_set(route, jv_string("escalations"),
                        jv_number((double)(esc + 1)));
  /* the failure is in route.attempts; the next call starts clean */
  route = jv_object_delete(route, jv_string("call_error"));
  if(h->goto_stage(job, e->to, reason) != LLMR_OK) {
    jv_free(req);
    snprintf(why, sizeof(why), "no stage '%.40s' before escalate to go "
             "back to", e->to);
    return give_up(e, job, route, n, why, reason);
  }
  h->log(job, LLMR_LOG_INFO, "escalating to %s: %s", next_desc, reason);
  h->set_request(job, req);
  h->set_route(job, route);
  h->set_response(job, jv_null());
  return LLMR_GOTO;
}

/* ---------------------------------------------------------------------
 * The stage
 */

static enum llmr_verdict escalate_process(void *self, struct llmr_job *job)
{
  struct escalate *e = self;
  return e->mode == MODE_PREEMPT ? preempt(e, job) : cascade(e, job);
}

/* Free the stage instance (also after a failed init); accepts NULL. */
static void escalate_finish(void *self)
{
  struct escalate *e = self;
  if(!e)
    return;
  free(e->to);
  free(e->ladder_buf);
  proxy_free(&e->proxy);
  jv_free(e->catalog);
  free(e);
}

/* Split ladder= at commas (spaces trimmed) into e->ladder. */
static int parse_ladder(struct escalate *e, const char *src)
{
  char *p, *tok, *save = NULL;
  e->ladder_buf = strdup(src);
  if(!e->ladder_buf)
    return -1;
  for(p = e->ladder_buf; (tok = strtok_r(p, ",", &save)) != NULL; p = NULL) {
    char *end;
    while(*tok == ' ' || *tok == '\t')
      tok++;
    end = tok + strlen(tok);
    while(end > tok && (end[-1] == ' ' || end[-1] == '\t'))
      *--end = '\0';
    if(!*tok)
      continue;
    if(e->nladder == MAX_LADDER)
      return -1;
    e->ladder[e->nladder++] = tok;
  }
  return 0;
}

/* Read and check the options. */
static int escalate_init(const struct llmr_host *host,
                         const struct llmr_config *cf, void **self)
{
  struct escalate *e = calloc(1, sizeof(*e));
  const struct llmr_value *o;
  if(!e) {
    host->config_error(cf, "out of memory");
    return LLMR_ERR;
  }
  e->host = host;
  e->catalog = host->catalog();
  o = host->opt(cf, "mode");
  if(!o || !o->str || !strcmp(o->str, "cascade"))
    e->mode = MODE_CASCADE;
  else if(!strcmp(o->str, "preempt"))
    e->mode = MODE_PREEMPT;
  else {
    host->config_error(cf, "mode=%s: expected cascade or preempt", o->str);
    goto fail;
  }
  o = host->opt(cf, "max");
  e->max = o ? (long)o->i : 2;
  if(e->max < 0) {
    host->config_error(cf, "max=%lld: expected 0 or more", o->i);
    goto fail;
  }
  o = host->opt(cf, "to");
  e->to = strdup(o && o->str ? o->str : "route");
  if(!e->to) {
    host->config_error(cf, "out of memory");
    goto fail;
  }
  if(e->mode == MODE_CASCADE && e->max > 0 &&
     host->abi_minor >= 4 && !host->stage_before(cf, e->to)) {
    host->config_error(cf, "to=%s: no stage of that name comes before "
                       "escalate, so an escalation could never go back "
                       "(name an earlier stage, e.g. to=route)", e->to);
    goto fail;
  }
  o = host->opt(cf, "ladder");
  if(o && o->str && *o->str && parse_ladder(e, o->str)) {
    host->config_error(cf, "ladder: at most %d models", MAX_LADDER);
    goto fail;
  }
  o = host->opt(cf, "require_tier");
  e->require_tier = o ? (long)o->i : 2;
  if(proxy_init(&e->proxy, host, cf))
    goto fail;
  if(e->mode == MODE_PREEMPT && !proxy_configured(&e->proxy)) {
    host->config_error(cf, "mode=preempt needs when_complexity=, "
                           "when_tokens= or when_pattern=");
    goto fail;
  }
  *self = e;
  return LLMR_OK;
fail:
  escalate_finish(e);
  return LLMR_ERR;
}

static const struct llmr_stage escalate_stage = {
  LLMR_STAGE_VERSION,
  .name = "escalate",
  .version = ESCALATE_VERSION,
  .description =
      "escalate an invalid answer or a failed call to a higher tier",
  .options = options,
  .init = escalate_init,
  .process = escalate_process,
  .finish = escalate_finish
};

LLMR_EXPORT const struct llmr_stage *llmr_stage_entry(unsigned host_major,
                                                     unsigned host_minor)
{
  (void)host_minor;
  if(host_major != LLMR_ABI_MAJOR)
    return NULL;
  return &escalate_stage;
}
