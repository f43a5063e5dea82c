/*
 * attempts.c - route.attempts as the call stage writes it: one
 * entry per deployment tried, priced from its usage, route.cost_usd kept
 * their sum; and, for hedging, marking an entry and moving the one whose
 * answer is kept to the end (validate marks the last attempt).
 */
#include "stage.h"

/* Borrows u.  The usage as the route record counts it (struct
 * llmr_usage in llmroute.h): input_tokens uncached. */
static struct llmr_usage usage_of(const struct call_usage *u)
{
  struct llmr_usage n;
  n.cached_tokens = u->cached;
  n.cache_write_tokens = u->cache_write;
  n.input_tokens = u->input - u->cached - u->cache_write;
  if(n.input_tokens < 0)
    n.input_tokens = 0;
  n.output_tokens = u->output;
  return n;
}

/* Borrows d and u.  USD for usage u at d's prices. */
double attempt_cost(const struct llmr_host *host, const struct deployment *d,
                    const struct call_usage *u)
{
  struct llmr_usage n = usage_of(u);
  if(u->has_cost) /* the provider's own figure (replay: recorded) */
    return u->cost;
  return host->cost(&d->price, &n);
}

/* Borrows u.  The attempt's "usage" object (new ref). */
static jv usage_json(const struct llmr_usage *u)
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

/* Append the attempt on d to route.attempts and keep route.cost_usd the
 * sum over attempts.  u may be NULL (nothing used); reason may be NULL. */
void attempt_record(struct job_state *js, struct deployment *d,
                    const struct call_usage *u, double cost,
                    const char *reason)
{
  const struct llmr_host *host = js->st->host;
  static const struct call_usage zero;
  if(d->recorded)
    return;
  d->recorded = 1;
  if(!u)
    u = &zero;
  double now = host->now();
  jv a = jv_object();
  a = jv_object_set(a, jv_string("model"), jv_copy(d->name));
  a = jv_object_set(a, jv_string("provider"), jv_copy(d->provider));
  a = jv_object_set(a, jv_string("status"), jv_number((double)d->status));
  if(d->request_id[0])
    a = jv_object_set(a, jv_string("request_id"), jv_string(d->request_id));
  a = jv_object_set(a, jv_string("retries"), jv_number(d->retries));
  a = jv_object_set(a, jv_string("latency_ms"),
                    jv_number(d->t0 > 0 ? (double)(long)((now - d->t0) *
                                                         1000 + 0.5) : 0));
  struct llmr_usage nu = usage_of(u);
  a = jv_object_set(a, jv_string("usage"), usage_json(&nu));
  a = jv_object_set(a, jv_string("cost_usd"), jv_number(cost));
  if(d->hedge)
    a = jv_object_set(a, jv_string("hedge"), jv_true());
  if(d->agree)
    a = jv_object_set(a, jv_string("agree"), jv_true());
  if(reason)
    a = jv_object_set(a, jv_string("reason"), jv_string(reason));
  if(u->impossible[0])
    a = jv_object_set(a, jv_string("usage_reason"),
                      jv_string(u->impossible));

  jv route = host->route(js->job);
  if(jv_get_kind(route) != JV_KIND_OBJECT) {
    jv_free(route);
    route = jv_object();
  }
  jv list = call_get(route, "attempts");
  if(jv_get_kind(list) != JV_KIND_ARRAY) {
    jv_free(list);
    list = jv_array();
  }
  list = jv_array_append(list, a);
  double sum = 0;
  int n = jv_array_length(jv_copy(list));
  d->attempt = n;
  for(int i = 0; i < n; i++) {
    jv e = jv_array_get(jv_copy(list), i);
    sum += call_num(e, "cost_usd", 0);
    jv_free(e);
  }
  route = jv_object_set(route, jv_string("attempts"), list);
  route = jv_object_set(route, jv_string("cost_usd"), jv_number(sum));
  host->set_route(js->job, route);
}

/* Set key to val (consumed) on d's attempt in route.attempts. */
void attempt_set(struct job_state *js, struct deployment *d,
                 const char *key, jv val)
{
  const struct llmr_host *host = js->st->host;
  jv route = host->route(js->job);
  jv list = call_get(route, "attempts");
  int n = call_is(list, JV_KIND_ARRAY) ? jv_array_length(jv_copy(list)) : 0;
  if(d->attempt < 1 || d->attempt > n) {
    jv_free(val);
    jv_free(list);
    jv_free(route);
    return;
  }
  jv a = jv_array_get(jv_copy(list), d->attempt - 1);
  if(!call_is(a, JV_KIND_OBJECT)) {
    jv_free(a);
    a = jv_object();
  }
  a = jv_object_set(a, jv_string(key), val);
  list = jv_array_set(list, d->attempt - 1, a);
  route = jv_object_set(route, jv_string("attempts"), list);
  host->set_route(js->job, route);
}

/* Move d's attempt to the end of route.attempts: the answer a job keeps
 * is always its last attempt (the one validate marks). */
void attempt_to_end(struct job_state *js, struct deployment *d)
{
  const struct llmr_host *host = js->st->host;
  jv route = host->route(js->job);
  jv list = call_get(route, "attempts");
  int n = call_is(list, JV_KIND_ARRAY) ? jv_array_length(jv_copy(list)) : 0;
  int at = d->attempt;
  if(at < 1 || at >= n) { /* not recorded, or last already */
    jv_free(list);
    jv_free(route);
    return;
  }
  jv a = jv_array_get(jv_copy(list), at - 1);
  jv moved = jv_array_concat(jv_array_slice(jv_copy(list), 0, at - 1),
                             jv_array_slice(list, at, n));
  moved = jv_array_append(moved, a);
  route = jv_object_set(route, jv_string("attempts"), moved);
  host->set_route(js->job, route);
  for(int i = 0; i < js->ndeps; i++)
    if(js->deps[i].attempt > at)
      js->deps[i].attempt--;
  d->attempt = n;
}
