/*
 * call.c - the call stage: sends each request to its deployments over
 * the runner's curl multi handle, the way the official SDKs do (retries
 * with back-off and retry-after, x-should-retry), then falls back to the
 * next deployment and the route's fallback list, hedges when asked, and
 * records every attempt in route.attempts (llmroute(1), RESULT LINES).
 *
 *   call timeout=60 retries=2 deadline=600 hedge_ms=0 fallbacks=4 ...
 *
 * The job's way: process() asks the checks downstream whether the
 * request's own checks are sound (host->check_request: validate's; a
 * broken schema fails the job unsent), resolves the deployments, then
 * send_to() passes
 * the rate limits and the provider's concurrency (limits.c), reserves
 * the worst case against the budget and hands a transfer to host->http().
 * on_done() reads the answer: a good one completes the job, a failed one
 * retries on a host->after() timer or moves to the next deployment.
 *
 * Hedging (speculative cascade): with hedge_ms=N and a route.hedge
 * (`route hedge=true`: the cheapest model at least one tier up), a call
 * that has not answered after N ms is also sent to that model.  While
 * both are out, an answer is judged by the checks downstream
 * (host->check_answer: validate's): the first valid one is kept and the
 * other transfer cancelled (its attempt "cancelled": true, cost 0); an
 * invalid one is recorded with valid:false and its reason, and the other
 * is awaited.  When the other then answers, that answer is handed on
 * (validate and escalate judge it as usual); when it fails, the invalid
 * one is.  The answer kept is always the last of route.attempts.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "stage.h"

#define CALL_HEADER_MAX 256
#define CALL_ERROR_BODY_MAX 16384 /* an HTTP error body kept as JSON */
#define CALL_ERROR_TEXT_MAX 1024  /* else its first bytes as text */
#define CALL_DEFAULT_MAX_OUT 4096

static enum llmr_verdict advance(struct job_state *js, int from);
static void record_unfinished(struct job_state *js, const char *why);
static enum llmr_verdict send_to(struct job_state *js, int i);
static void on_done(void *self, struct llmr_job *job, CURL *easy,
                   CURLcode rc);
static void hedge_fire(void *self, struct llmr_job *job);
static void replay_fire(void *self, struct llmr_job *job);
static void cool_resume(void *self, struct llmr_job *job);
static int usable(struct job_state *js, struct deployment *d, double now);
static void finish_xfer(struct call_stage *st, struct llmr_job *job,
                        struct xfer *x, CURLcode rc, long status);

/* ------------------------------------------------------------------
 * Transfers: buffers, headers
 */

/* Every occurrence of key in the n bytes at buf becomes '*': what a
 * provider echoes back (an error message quoting the Authorization
 * header, an answer repeating it) never reaches an output. */
static void mask_key(char *buf, size_t n, const char *key)
{
  size_t k = key ? strlen(key) : 0;
  char *hit = buf, *end = buf + n;
  if(k < 8)
    return;
  while(hit < end && (hit = memmem(hit, (size_t)(end - hit), key, k))) {
    memset(hit, '*', k);
    hit += k;
  }
}

/* curl write callback: append to the transfer's buffer, up to max_body. */
static size_t on_body(char *ptr, size_t size, size_t n, void *ud)
{
  struct xfer *x = ud;
  size_t len = size * n;
  size_t max = (size_t)x->js->st->max_body;
  if(x->len + len > max) {
    x->overflow = 1;
    return 0; /* CURLE_WRITE_ERROR */
  }
  if(x->len + len + 1 > x->cap) {
    size_t cap = x->cap ? x->cap : 4096;
    while(cap < x->len + len + 1)
      cap *= 2;
    char *p = realloc(x->body, cap);
    if(!p)
      return 0;
    x->body = p;
    x->cap = cap;
  }
  memcpy(x->body + x->len, ptr, len);
  x->len += len;
  x->body[x->len] = '\0';
  return len;
}

/* The headers worth keeping, and where. */
static const struct {
  const char *name;
  size_t off;
} kept[] = {
  {"retry-after", offsetof(struct xfer, h_retry_after)},
  {"retry-after-ms", offsetof(struct xfer, h_retry_after_ms)},
  {"x-should-retry", offsetof(struct xfer, h_should_retry)},
  {"x-ratelimit-remaining-requests", offsetof(struct xfer, h_rem_req)},
  {"x-ratelimit-remaining-tokens", offsetof(struct xfer, h_rem_tok)},
  {"x-ratelimit-reset-requests", offsetof(struct xfer, h_reset_req)},
  {"x-ratelimit-reset-tokens", offsetof(struct xfer, h_reset_tok)},
  {"x-ratelimit-limit-requests", offsetof(struct xfer, h_lim_req)},
  {"x-ratelimit-limit-tokens", offsetof(struct xfer, h_lim_tok)},
  {"anthropic-ratelimit-tokens-limit", offsetof(struct xfer, h_lim_tok)},
  {"anthropic-ratelimit-requests-remaining",
   offsetof(struct xfer, h_rem_req)},
  {"anthropic-ratelimit-requests-reset", offsetof(struct xfer, h_reset_req)},
  {"anthropic-ratelimit-requests-limit", offsetof(struct xfer, h_lim_req)},
  {"anthropic-ratelimit-tokens-remaining", offsetof(struct xfer, h_rem_tok)},
  {"anthropic-ratelimit-tokens-reset", offsetof(struct xfer, h_reset_tok)},
  {"x-request-id", offsetof(struct xfer, h_request_id)},
  {"request-id", offsetof(struct xfer, h_request_id)},
  {NULL, 0}
};

/* Free the kept header values of x. */
static void headers_clear(struct xfer *x)
{
  for(int i = 0; kept[i].name; i++) {
    char **slot = (char **)((char *)x + kept[i].off);
    free(*slot);
    *slot = NULL;
  }
}

/* curl header callback: keep the values of the headers in kept[]. */
static size_t on_header(char *b, size_t size, size_t n, void *ud)
{
  struct xfer *x = ud;
  size_t len = size * n;
  if(len >= 5 && !strncmp(b, "HTTP/", 5)) { /* a new response starts */
    headers_clear(x);
    return len;
  }
  const char *colon = memchr(b, ':', len);
  if(!colon)
    return len;
  size_t nl = (size_t)(colon - b);
  for(int i = 0; kept[i].name; i++) {
    if(strlen(kept[i].name) != nl || strncasecmp(b, kept[i].name, nl))
      continue;
    const char *v = colon + 1, *end = b + len;
    while(v < end && (*v == ' ' || *v == '\t'))
      v++;
    while(end > v && (end[-1] == '\r' || end[-1] == '\n' ||
                      end[-1] == ' '))
      end--;
    size_t vl = (size_t)(end - v);
    if(vl > CALL_HEADER_MAX)
      vl = CALL_HEADER_MAX;
    char **slot = (char **)((char *)x + kept[i].off);
    free(*slot);
    *slot = strndup(v, vl);
    break;
  }
  return len;
}

/* curl's pre-request callback, before each send of the transfer,
 * libcurl's own included: a request on a reused connection that closed
 * before any answer is sent again on a fresh one (POST and all), which
 * the provider may have seen and billed.  Such a re-send is one of the
 * deployment's retries, so attempts[].retries says how many requests went
 * out; when no retry is left (or for a hedge or the agreement partner,
 * which never retry) it is refused, and the transfer fails as the
 * connection error it is. */
static int on_prereq(void *ud, char *conn_primary_ip, char *conn_local_ip,
                     int conn_primary_port, int conn_local_port)
{
  struct xfer *x = ud;
  struct job_state *js = x->js;
  struct deployment *d = &js->deps[x->dep];
  (void)conn_primary_ip;
  (void)conn_local_ip;
  (void)conn_primary_port;
  (void)conn_local_port;
  if(x->sends++ == 0)
    return CURL_PREREQFUNC_OK;
  if(x->dep != js->cur || d->hedge || d->agree ||
     d->retries >= js->st->retries) {
    x->resend_refused = 1;
    return CURL_PREREQFUNC_ABORT;
  }
  d->retries++;
  return CURL_PREREQFUNC_OK;
}

/* Free one transfer (its easy handle belongs to the runner). */
static void xfer_free(struct xfer *x)
{
  if(!x)
    return;
  curl_slist_free_all(x->hdrs);
  headers_clear(x);
  free(x->body);
  free(x);
}

/* Record the attempts the job had under way when it stopped short (cut
 * off by job_timeout or SIGINT, or the budget refusing a retry): every
 * deployment sent to and not yet recorded, so the result keeps each
 * attempt.  One still in flight is priced as reserved, as the budget
 * counts it (the provider may bill it); one waiting to retry keeps its
 * last failure. */
static void record_unfinished(struct job_state *js, const char *why)
{
  for(int i = 0; i < js->ndeps; i++) {
    struct deployment *d = &js->deps[i];
    struct xfer *x = js->xfers;
    char reason[400];
    if(!d->sent || d->recorded)
      continue;
    while(x && !(x->active && x->dep == i))
      x = x->next;
    if(x) {
      struct call_usage u;
      memset(&u, 0, sizeof(u));
      u.input = x->plan.input_tokens;
      u.output = x->plan.output_tokens;
      snprintf(reason, sizeof(reason), "%s while in flight: priced as "
               "reserved", why);
      attempt_record(js, d, &u, x->worst_usd, reason);
    }
    else {
      snprintf(reason, sizeof(reason), "%s%s%s", d->reason,
               d->reason[0] ? "; then " : "", why);
      attempt_record(js, d, NULL, 0, reason);
    }
  }
}

/* The free function given to set_state(): gives back what the job still
 * holds (queue place, concurrency slots, reservations of transfers cut
 * off, kept at their worst case), then frees it. */
static void state_free(void *p)
{
  struct job_state *js = p;
  if(!js)
    return;
  struct call_stage *st = js->st;
  if(js->pending) /* cut off: the record still gets every attempt */
    record_unfinished(js, "cut off (job_timeout or a signal)");
  limits_forget(js);
  struct xfer *x = js->xfers;
  while(x) {
    struct xfer *next = x->next;
    if(x->active) {
      limits_release(st, js->deps[x->dep].p);
      st->host->budget_settle(x->ticket, x->worst_usd);
    }
    xfer_free(x);
    x = next;
  }
  for(int i = 0; i < js->ndeps; i++) {
    jv_free(js->deps[i].provider);
    jv_free(js->deps[i].model);
    jv_free(js->deps[i].name);
    jv_free(js->deps[i].http_body);
  }
  free(js->deps);
  jv_free(js->body);
  jv_free(js->held);
  jv_free(js->first);
  free(js);
}

/* Copy msg into d's reason, with the provider's key (if it was echoed)
 * masked. */
static void set_reason(struct deployment *d, const char *msg)
{
  /* mask first, then cut: a key cut in half would leak its first half */
  char full[2048];
  size_t n;
  snprintf(full, sizeof(full), "%s", msg);
  mask_key(full, strlen(full), d->p ? d->p->key : NULL);
  /* cut by hand: snprintf "%s" of the longer buffer is a
     -Wformat-truncation error at -O1 (make test-asan) */
  n = strlen(full);
  if(n >= sizeof(d->reason))
    n = sizeof(d->reason) - 1;
  memcpy(d->reason, full, n);
  d->reason[n] = '\0';
}

/* route.http_error: the last failure's HTTP exchange, when it was an
 * HTTP error answer (status, the provider's request id, its body masked
 * and capped), so that an OpenAI Batch result line can report it as the
 * Batch API does (response.status_code and body); with code, the error
 * code it became, so a later stage's different error does not take it.
 * Without such an answer (a timeout, a refused connection) it is
 * removed. */
static void http_error_note(struct job_state *js, const char *code)
{
  const struct llmr_host *host = js->st->host;
  const struct deployment *d = js->last_code && js->last_dep >= 0 &&
                               js->last_dep < js->ndeps ?
                               &js->deps[js->last_dep] : NULL;
  jv route = host->route(js->job);
  if(jv_get_kind(route) != JV_KIND_OBJECT) {
    jv_free(route);
    route = jv_object();
  }
  if(!d || d->status < 300 || !jv_is_valid(d->http_body)) {
    host->set_route(js->job, jv_object_delete(route,
                                              jv_string("http_error")));
    return;
  }
  jv h = jv_object();
  h = jv_object_set(h, jv_string("status_code"), jv_number(d->status));
  if(d->request_id[0])
    h = jv_object_set(h, jv_string("request_id"),
                      jv_string(d->request_id));
  h = jv_object_set(h, jv_string("body"), jv_copy(d->http_body));
  h = jv_object_set(h, jv_string("code"), jv_string(code));
  host->set_route(js->job, jv_object_set(route, jv_string("http_error"), h));
}

/* Finish with the last failure as the job's error.  Returns LLMR_FAIL. */
static enum llmr_verdict fail(struct job_state *js)
{
  const struct llmr_host *host = js->st->host;
  const char *code = js->last_code ? js->last_code : "provider_error";
  const char *msg = js->last_msg[0] ? js->last_msg :
                    "no deployment could be called";
  http_error_note(js, code);
  if(js->st->pass_failures) {
    /* on_failure=next: no response, the reason in the route record, and
     * a later stage (escalate) decides */
    jv route = host->route(js->job);
    if(jv_get_kind(route) != JV_KIND_OBJECT) {
      jv_free(route);
      route = jv_object();
    }
    jv e = jv_object();
    e = jv_object_set(e, jv_string("code"), jv_string(code));
    e = jv_object_set(e, jv_string("message"), jv_string(msg));
    route = jv_object_set(route, jv_string("call_error"), e);
    host->set_route(js->job, route);
    host->set_response(js->job, jv_null());
    return LLMR_NEXT;
  }
  host->set_error(js->job, code, "%s", msg);
  return LLMR_FAIL;
}

/* Remember d's failure as the job's last word. */
static void note_failure(struct job_state *js, struct deployment *d)
{
  js->last_code = d->code ? d->code : "provider_error";
  js->last_dep = (int)(d - js->deps);
  snprintf(js->last_msg, sizeof(js->last_msg), "%s/%s: %s",
           jv_string_value(d->provider), jv_string_value(d->model),
           d->reason);
}

/* Transfers of the job still out. */
static int active_transfers(const struct job_state *js)
{
  int n = 0;
  for(const struct xfer *x = js->xfers; x; x = x->next)
    n += x->active;
  return n;
}

/* Complete the job with the answer (consumed) of deployment i: a hedge's
 * other transfer still out is recorded as cancelled (the runner cancels
 * it when the job moves on), the answer's attempt goes last, and
 * route.model and provider (and route.tier, when the hedge's answer is
 * kept) name the model that gave it. */
/* route (consumed) with baseline_cost_usd the answer's actual usage
 * (borrowed: the prompt and completion tokens the answering model
 * counted) priced on the baseline model, the pre-call estimate kept as
 * baseline_estimate_usd.  The baseline's own tokenizer may count the
 * same text 10-20% differently; the answering model's counts are used as
 * they are. */
static jv actual_baseline(struct job_state *js, jv route, jv answer)
{
  const struct llmr_model *b = js->st->baseline;
  jv u = call_get(answer, "usage");
  struct llmr_usage use;
  double usd;

  if(!b || jv_get_kind(u) != JV_KIND_OBJECT) {
    jv_free(u);
    return route;
  }
  memset(&use, 0, sizeof(use));
  use.input_tokens = call_count(call_num(u, "prompt_tokens", 0));
  use.output_tokens = call_count(call_num(u, "completion_tokens", 0));
  jv_free(u);
  usd = js->st->host->cost(&b->price, &use);
  if(!isfinite(usd))
    return route;
  {
    jv est = call_get(route, "baseline_cost_usd");
    if(jv_get_kind(est) == JV_KIND_NUMBER &&
       !jv_object_has(jv_copy(route), jv_string("baseline_estimate_usd")))
      route = jv_object_set(route, jv_string("baseline_estimate_usd"), est);
    else
      jv_free(est);
  }
  route = jv_object_set(route, jv_string("baseline_cost_usd"),
                        jv_number(floor(usd * 1e10 + 0.5) / 1e10));
  return jv_object_set(route, jv_string("baseline_basis"),
                       jv_string("actual"));
}

/* Hand the job on with verdict v, unless v is LLMR_PENDING: from a
 * callback or timer, once call_process() said LLMR_PENDING. */
static void complete(struct job_state *js, enum llmr_verdict v)
{
  if(v == LLMR_PENDING)
    return;
  js->pending = 0; /* freed from now on, it was not cut off */
  js->st->host->complete(js->job, v);
}

static void keep(struct job_state *js, int i, jv answer)
{
  const struct llmr_host *host = js->st->host;
  struct deployment *d = &js->deps[i];
  for(struct xfer *o = js->xfers; o; o = o->next) {
    struct deployment *od = &js->deps[o->dep];
    if(!o->active || o->dep == i || od->recorded)
      continue;
    attempt_record(js, od, NULL, 0,
                   "hedge: another deployment answered first");
    attempt_set(js, od, "cancelled", jv_true());
  }
  attempt_to_end(js, d);
  jv route = host->route(js->job);
  if(jv_get_kind(route) != JV_KIND_OBJECT) {
    jv_free(route);
    route = jv_object();
  }
  route = jv_object_set(route, jv_string("model"), jv_copy(d->name));
  route = jv_object_set(route, jv_string("provider"), jv_copy(d->provider));
  route = jv_object_delete(route, jv_string("http_error"));
  if(d->request_id[0]) /* for response.request_id in the result line */
    route = jv_object_set(route, jv_string("request_id"),
                          jv_string(d->request_id));
  else
    route = jv_object_delete(route, jv_string("request_id"));
  route = actual_baseline(js, route, answer);
  if(d->hedge && d->tier > 0)
    route = jv_object_set(route, jv_string("tier"), jv_number(d->tier));
  host->set_route(js->job, route);
  host->set_response(js->job, answer);
  jv_free(js->held);
  js->held = jv_invalid();
  complete(js, LLMR_NEXT);
}

/* ------------------------------------------------------------------
 * Sending
 */

/* Borrows d.  The output cap a request to d carries. */
static long output_cap(const struct job_state *js, const struct deployment *d)
{
  long def = js->st->max_tokens > 0 ? js->st->max_tokens :
             d->max_out > 0 ? (long)d->max_out : CALL_DEFAULT_MAX_OUT;
  return call_max_tokens(js->body, def);
}

enum { SENT = 0, MOVE_ON, BUDGET };

/* Deployment d could not be sent to: give back its concurrency slot and
 * its budget reservation, and record the attempt with code and why.
 * MOVE_ON. */
static int send_failed(struct job_state *js, struct deployment *d,
                       long ticket, const char *code, const char *why)
{
  limits_release(js->st, d->p);
  js->st->host->budget_settle(ticket, 0);
  set_reason(d, why);
  d->code = code;
  attempt_record(js, d, NULL, 0, d->reason);
  note_failure(js, d);
  return MOVE_ON;
}

/* The replay "transfer" to deployment i: the recorded answer, handed in
 * on a zero-delay timer as a transfer's end would be (replay.c).  SENT,
 * or MOVE_ON with the failure recorded (not_recorded). */
static int submit_replay(struct job_state *js, int i, long ticket,
                         double worst, const struct llmr_usage *plan)
{
  const struct llmr_host *host = js->st->host;
  struct deployment *d = &js->deps[i];
  jv rec = replay_lookup(d->p->replay, host, host->custom_id(js->job),
                         jv_string_value(d->model));
  struct xfer *x;
  char msg[300];

  if(!jv_is_valid(rec)) {
    jv m = jv_invalid_get_msg(rec);
    snprintf(msg, sizeof(msg), "replay: %s: %s (custom_id %s)",
             jv_string_value(d->model), jv_get_kind(m) == JV_KIND_STRING
             ? jv_string_value(m) : "?", host->custom_id(js->job));
    jv_free(m);
    return send_failed(js, d, ticket, "not_recorded", msg);
  }
  rec = jv_dump_string(rec, 0);
  x = calloc(1, sizeof(*x));
  if(x)
    x->body = strdup(jv_string_value(rec));
  if(!x || !x->body || host->after(js->job, 0, replay_fire) != LLMR_OK) {
    jv_free(rec);
    if(x)
      free(x->body);
    free(x);
    return send_failed(js, d, ticket, "provider_error",
                       "replay: out of memory");
  }
  x->len = (size_t)jv_string_length_bytes(rec);
  x->cap = x->len + 1;
  x->js = js;
  x->dep = i;
  x->ticket = ticket;
  x->worst_usd = worst;
  x->plan = *plan;
  x->t0 = host->now();
  x->next = js->xfers;
  js->xfers = x;
  x->active = 1;
  x->replayed = 1;
  return SENT;
}

/* The timer of submit_replay(): the oldest replay answer of the job
 * waiting ends as a transfer would. */
static void replay_fire(void *self, struct llmr_job *job)
{
  struct call_stage *st = self;
  struct job_state *js = st->host->state(job);
  struct xfer *x, *due = NULL;

  for(x = js ? js->xfers : NULL; x; x = x->next)
    if(x->replayed && x->active)
      due = x; /* the list is newest first */
  if(!due)
    return;
  due->replayed = 0;
  finish_xfer(st, job, due, due->body ? CURLE_OK : CURLE_OUT_OF_MEMORY,
              200);
}

/* Build the transfer to deployment i and hand it to the runner.  The
 * concurrency slot is already taken (and given back on failure).
 * SENT, MOVE_ON (this deployment failed, recorded), or BUDGET (the job's
 * error is set: budget_exceeded). */
static int submit(struct job_state *js, int i, int hedge)
{
  struct call_stage *st = js->st;
  const struct llmr_host *host = st->host;
  struct deployment *d = &js->deps[i];
  struct provider *p = d->p;
  double now = host->now();
  long cap = output_cap(js, d);
  /* the worst case: the input estimate with a margin for the
     estimator's error (the largest ratio of billed to estimated input
     seen in this run, at least 1.25), and the whole output cap */
  struct llmr_usage plan = {
    (long)ceil((double)js->est_tokens * st->input_margin), 0, 0, cap
  };
  double worst = host->cost(&d->price, &plan);
  long ticket = 0;
  int rc = host->budget_reserve(worst, &ticket);
  if(rc != LLMR_OK) {
    limits_release(st, p);
    if(hedge)
      return MOVE_ON; /* no hedge then; the first call goes on */
    if(rc == LLMR_EUNAVAIL) /* fail closed: nothing is sent unbudgeted */
      host->set_error(js->job, "shared_unavailable", "the run's shared "
                      "budget cannot be reached: %s not sent",
                      jv_string_value(d->name));
    else
      host->set_error(js->job, "budget_exceeded",
                      "the worst case of %s (%.6f USD) does not fit the "
                      "budget", jv_string_value(d->name), worst);
    return BUDGET;
  }
  d->sent = 1;
  if(p->replay)
    return submit_replay(js, i, ticket, worst, &plan);
  jv body = jv_copy(js->body);
  if(call_max_tokens(body, -1) < 0) /* make the reservation hold */
    body = jv_object_set(body, jv_string("max_completion_tokens"),
                         jv_number((double)cap));
  jv req = p->fmt->request(body, jv_string_value(d->model), p->flags);
  jv_free(body);
  struct xfer *x = calloc(1, sizeof(*x));
  char *url = p->fmt->url(p->base_url, jv_string_value(d->model));
  CURL *e = curl_easy_init();
  if(!jv_is_valid(req) || !x || !url || !e) {
    jv msg = jv_is_valid(req) ? jv_string("out of memory") :
                                jv_invalid_get_msg(jv_copy(req));
    char why[300];
    snprintf(why, sizeof(why), "%s", jv_get_kind(msg) == JV_KIND_STRING ?
             jv_string_value(msg) : "cannot build the request");
    jv_free(msg);
    jv_free(req);
    free(x);
    free(url);
    if(e)
      curl_easy_cleanup(e);
    return send_failed(js, d, ticket, "provider_error", why);
  }
  x->js = js;
  x->dep = i;
  x->ticket = ticket;
  x->worst_usd = worst;
  x->plan = plan;
  x->t0 = now;
  x->next = js->xfers;
  js->xfers = x;
  x->hdrs = p->fmt->headers(NULL, p->key);
  x->hdrs = curl_slist_append(x->hdrs, "Expect:");
  jv payload = jv_dump_string(req, 0);
  double left = st->timeout;
  if(js->deadline > 0 && js->deadline - now < left)
    left = js->deadline - now;
  if(left < 0.001)
    left = 0.001;
  curl_easy_setopt(e, CURLOPT_URL, url);
  curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE,
                   (long)jv_string_length_bytes(jv_copy(payload)));
  curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, jv_string_value(payload));
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->hdrs);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
  curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, on_prereq);
  curl_easy_setopt(e, CURLOPT_PREREQDATA, x);
  curl_easy_setopt(e, CURLOPT_PRIVATE, x);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(left * 1000));
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                   (long)(st->connect_timeout * 1000));
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(e, CURLOPT_USERAGENT, "llmroute-call/0.1");
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  /* HTTP/2 over TLS where the provider offers it (ALPN) */
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
  jv_free(payload);
  free(url);
  x->active = 1;
  if(host->http(js->job, e, on_done) != LLMR_OK) {
    x->active = 0;
    return send_failed(js, d, ticket, "provider_error",
                       "the runner refused the transfer");
  }
  return SENT;
}

/* A uniform number in [0, 1) for jitter. */
static double jitter(struct call_stage *st)
{
  return (double)(rand_r(&st->rng) % 10000) / 10000.0;
}

/* Ask the agreement partner (route.agree) beside the main call: once,
 * when its provider has room now (else the check is skipped). */
static void agree_send(struct job_state *js)
{
  struct call_stage *st = js->st;
  double now = st->host->now();
  js->agree_sent = 1;
  for(int i = 0; i < js->ndeps; i++) {
    struct deployment *d = &js->deps[i];
    if(!d->for_agree || d->started || usable(js, d, now) != 1)
      continue;
    struct provider *p = d->p;
    if(limits_wait(js, d, now) > 0 ||
       (p->concurrency > 0 && p->inflight >= p->concurrency) ||
       !limits_shared_try(js, d)) {
      st->host->log(js->job, LLMR_LOG_INFO, "agreement: %s is busy; the "
                    "answer goes unchecked", jv_string_value(d->provider));
      return;
    }
    p->inflight++;
    limits_take(js, d, now);
    d->started = 1;
    d->agree = 1;
    d->t0 = now;
    submit(js, i, 1); /* like a hedge: a budget refusal only skips it */
    return;
  }
}

/* Both halves of an agreement are in: main's answer (consumed) and the
 * partner's (consumed).  route.agreement records what each said; on a
 * disagreement the partner's attempt is marked invalid, and validate
 * refuses the main answer. */
static void agree_record(struct job_state *js, int main_dep, jv main_ans,
                         int mate_dep, jv mate_ans)
{
  const struct llmr_host *host = js->st->host;
  struct deployment *m = &js->deps[main_dep], *p = &js->deps[mate_dep];
  char ea[64], eb[64], why[300];
  int r = agree_compare(main_ans, mate_ans, ea, eb, sizeof(ea));
  jv o = jv_object(), route;
  o = jv_object_set(o, jv_string("models"), jv_array_append(
        jv_array_append(jv_array(), jv_copy(m->name)), jv_copy(p->name)));
  o = jv_object_set(o, jv_string("answers"), jv_array_append(
        jv_array_append(jv_array(), jv_string(ea)), jv_string(eb)));
  o = jv_object_set(o, jv_string("agree"), jv_bool(r != 0));
  if(r == 0) {
    snprintf(why, sizeof(why), "disagreement: %s answered %s, %s answered "
             "%s", jv_string_value(m->name), ea, jv_string_value(p->name),
             eb);
    attempt_set(js, p, "valid", jv_false());
    attempt_set(js, p, "reason", jv_string(why));
    host->log(js->job, LLMR_LOG_INFO, "%s", why);
  }
  else
    attempt_set(js, p, "valid", jv_true());
  route = host->route(js->job);
  route = jv_object_set(route, jv_string("agreement"), o);
  host->set_route(js->job, route);
  jv_free(mate_ans);
  keep(js, main_dep, main_ans);
}

/* An answer of a job with an agreement check (answer consumed): held
 * while the other half is out; then compared, or kept alone when the
 * other half failed. */
static void agree_answer(struct job_state *js, int dep, jv answer)
{
  if(active_transfers(js) && !jv_is_valid(js->first)) {
    js->first = answer;
    js->first_dep = dep;
    return;
  }
  if(jv_is_valid(js->first)) {
    jv first = js->first;
    int fd = js->first_dep;
    js->first = jv_invalid();
    if(js->deps[dep].agree)
      agree_record(js, fd, first, dep, answer);
    else
      agree_record(js, dep, answer, fd, first);
    return;
  }
  keep(js, dep, answer); /* the other half failed or was never asked */
}

/* Send to deployment i (already chosen): wait out the rate limits and
 * the provider's concurrency, then submit.  LLMR_PENDING or final. */
static enum llmr_verdict send_to(struct job_state *js, int i)
{
  struct call_stage *st = js->st;
  const struct llmr_host *host = st->host;
  struct deployment *d = &js->deps[i];
  double now = host->now();
  if(js->deadline > 0 && now >= js->deadline) {
    d->code = "timeout";
    set_reason(d, "the request's deadline passed");
    attempt_record(js, d, NULL, 0, d->reason);
    note_failure(js, d);
    return fail(js);
  }
  double w;
  if(js->paid != i + 1) {
    w = limits_reserve(js, d, now);
    js->paid = i + 1;
  }
  else /* paid for: only a pause learnt since then holds it back */
    w = limits_pause(d, now);
  if(w > 0) {
    if(js->deadline > 0 && now + w >= js->deadline) {
      d->code = "rate_limited";
      set_reason(d, "the provider's rate limit would hold the request "
                    "past its deadline");
      attempt_record(js, d, NULL, 0, d->reason);
      note_failure(js, d);
      return advance(js, i + 1);
    }
    js->waiting = 1;
    if(host->after(js->job, (long)(w * 1000) + 1, call_resume) == LLMR_OK)
      return LLMR_PENDING;
    js->waiting = 0;
  }
  if(!limits_slot(js, d->p))
    return LLMR_PENDING; /* queued: woken by limits_release() */
  js->paid = 0; /* spent on this send */
  int r = submit(js, i, 0);
  if(r == BUDGET) {
    record_unfinished(js, "the budget refused the next send");
    return LLMR_FAIL;
  }
  if(r == MOVE_ON)
    return advance(js, i + 1);
  if(js->has_agree && !js->agree_sent)
    agree_send(js);
  if(st->hedge_ms > 0 && !js->has_hedge && !js->hedge_armed) {
    js->hedge_armed = 1; /* say it once per job */
    host->log(js->job, LLMR_LOG_DEBUG, "no hedge: the route record has no "
              "route.hedge (route hedge=true names one; none for a pinned "
              "model or the top tier)");
  }
  if(st->hedge_ms > 0 && js->has_hedge && !js->hedge_armed &&
     !js->hedged && host->after(js->job, st->hedge_ms, hedge_fire) == LLMR_OK)
    js->hedge_armed = 1;
  return LLMR_PENDING;
}

/* 1 when deployment d can be sent to now (provider known, key present,
 * breaker closed, context large enough).  Otherwise 0, d's reason and
 * code set; -1 when only its breaker holds it back (it may be tried once
 * the cool-down ends). */
static int usable(struct job_state *js, struct deployment *d, double now)
{
  struct call_stage *st = js->st;
  d->code = "provider_error";
  if(!d->p) {
    set_reason(d, "no such provider in the catalog");
    return 0;
  }
  if(!d->p->fmt) {
    set_reason(d, "the provider's format is not one the call stage "
                  "speaks");
    return 0;
  }
  if(!limits_breaker_ok(st, d->brk, now)) {
    set_reason(d, "cooling down after repeated failures");
    return -1;
  }
  if(d->p->key_env && !d->p->key) {
    d->code = "auth_error";
    char msg[200];
    snprintf(msg, sizeof(msg), "no API key: the environment variable %s "
             "is not set", d->p->key_env);
    set_reason(d, msg);
    return 0;
  }
  if(d->context > 0 && (double)js->est_tokens > d->context) {
    d->code = "context_length_exceeded";
    char msg[200];
    snprintf(msg, sizeof(msg), "about %ld input tokens exceed the "
             "%.0f-token context", js->est_tokens, d->context);
    set_reason(d, msg);
    return 0;
  }
  return 1;
}

/* Go on with the first deployment from `from` not tried yet, within the
 * fallback bound.  LLMR_PENDING or final. */
static enum llmr_verdict advance(struct job_state *js, int from)
{
  struct call_stage *st = js->st;
  double wake = 0;
  int cool = -1;
  for(int i = from; i < js->ndeps; i++) {
    struct deployment *d = &js->deps[i];
    if(d->started || d->hedge_only)
      continue;
    if(js->tried > st->fallbacks)
      break;
    double now = st->host->now();
    int u = usable(js, d, now);
    if(u < 0) { /* cooling down: it may be tried when it reopens */
      double at = limits_breaker_reopen(d->brk);
      if(cool < 0 || at < wake) {
        wake = at;
        cool = i;
      }
      continue;
    }
    d->started = 1;
    if(!u) {
      if(!strcmp(d->code, "auth_error")) /* a missing key is an attempt */
        attempt_record(js, d, NULL, 0, d->reason);
      note_failure(js, d);
      continue;
    }
    js->tried++;
    js->cur = i;
    d->t0 = now;
    return send_to(js, i);
  }
  if(cool >= 0) {
    /* every deployment left is cooling down: wait for the first to
       reopen (its half-open probe) rather than fail work never sent */
    struct deployment *d = &js->deps[cool];
    double now = st->host->now();
    if(js->deadline <= 0 || wake < js->deadline) {
      js->cool_from = cool;
      js->waiting = 1;
      st->host->log(js->job, LLMR_LOG_INFO, "%s/%s is cooling down: "
                    "waiting %.1f s for it", jv_string_value(d->provider),
                    jv_string_value(d->model), wake - now);
      if(st->host->after(js->job, (long)((wake - now) * 1000) + 1,
                         cool_resume) == LLMR_OK)
        return LLMR_PENDING;
      js->waiting = 0;
    }
    d->started = 1;
    d->code = "provider_error";
    attempt_record(js, d, NULL, 0, "cooling down after repeated failures, "
                   "past the request's deadline");
    note_failure(js, d);
  }
  return fail(js);
}

/* The timer of advance() when every deployment was cooling down. */
static void cool_resume(void *self, struct llmr_job *job)
{
  struct call_stage *st = self;
  struct job_state *js = st->host->state(job);
  if(!js || !js->waiting)
    return;
  js->waiting = 0;
  complete(js, advance(js, js->cool_from));
}

/* Timer: the call has not answered in hedge_ms; send it to route.hedge's
 * model too (the cheapest one tier up).  The first valid answer wins
 * (on_done).  No hedge when none is usable or its provider is busy. */
static void hedge_fire(void *self, struct llmr_job *job)
{
  struct call_stage *st = self;
  struct job_state *js = st->host->state(job);
  if(!js || js->hedged)
    return;
  int active = 0;
  for(struct xfer *x = js->xfers; x; x = x->next)
    active += x->active;
  if(!active)
    return; /* answered or between retries: no hedge */
  double now = st->host->now();
  for(int i = 0; i < js->ndeps; i++) {
    struct deployment *d = &js->deps[i];
    if(!d->for_hedge || d->started || usable(js, d, now) != 1)
      continue;
    struct provider *p = d->p;
    if(limits_wait(js, d, now) > 0 ||
       (p->concurrency > 0 && p->inflight >= p->concurrency) ||
       !limits_shared_try(js, d))
      return; /* the provider is busy: no hedge */
    p->inflight++;
    limits_take(js, d, now);
    js->hedged = 1;
    d->started = 1;
    d->hedge = 1;
    d->t0 = now;
    if(submit(js, i, 1) == SENT) /* not a fallback: js->cur stays */
      st->host->log(job, LLMR_LOG_DEBUG, "hedging to %s/%s (tier %d)",
                    jv_string_value(d->provider), jv_string_value(d->model),
                    d->tier);
    return;
  }
}

/* Timer: a retry's back-off, a rate-limit wait or a queue wake-up ended. */
void call_resume(void *self, struct llmr_job *job)
{
  struct call_stage *st = self;
  struct job_state *js = st->host->state(job);
  if(!js || !js->waiting)
    return;
  js->waiting = 0;
  complete(js, send_to(js, js->cur));
}

/* ------------------------------------------------------------------
 * Answers
 */

/* Read a finished exchange of x into *answer (a chat.completion) and *u,
 * or into d's reason and code.  The failure kind, CALL_FAIL_NONE on
 * success. */
static enum call_failure read_answer(struct xfer *x, struct deployment *d,
                                     CURLcode rc, long status, jv *answer,
                                     struct call_usage *u)
{
  char msg[300];
  const char *code = "provider_error";
  enum call_failure kind;
  *answer = jv_invalid();
  if(rc != CURLE_OK) {
    kind = call_classify_curl(rc, &code);
    if(x->overflow)
      snprintf(msg, sizeof(msg), "answer larger than max_body (%ld bytes)",
               x->js->st->max_body);
    else if(x->resend_refused)
      snprintf(msg, sizeof(msg), "the connection closed before an answer "
               "(no retry left to send it again)");
    else
      snprintf(msg, sizeof(msg), "%s", curl_easy_strerror(rc));
    d->code = code;
    set_reason(d, msg);
    return kind;
  }
  jv a = x->len ? x->js->st->host->json_parse(x->body, x->len) :
                  jv_invalid_with_msg(jv_string("empty body"));
  struct call_error e;
  if(status >= 200 && status < 300) {
    if(!jv_is_valid(a)) {
      snprintf(msg, sizeof(msg), "HTTP %ld with a body that is not JSON "
               "(%zu bytes)", status, x->len);
      kind = CALL_FAIL_RETRY;
    }
    else if(call_error_parse(a, &e)) {
      snprintf(msg, sizeof(msg), "error inside HTTP %ld: %s", status,
               e.message ? e.message : e.type ? e.type : "unknown");
      kind = CALL_FAIL_RETRY;
    }
    else {
      *answer = d->p->fmt->response(a, jv_string_value(d->model), u);
      a = jv_null();
      if(jv_is_valid(*answer)) {
        jv_free(a);
        return CALL_FAIL_NONE;
      }
      jv m = jv_invalid_get_msg(*answer);
      *answer = jv_invalid();
      snprintf(msg, sizeof(msg), "unusable answer: %s",
               jv_get_kind(m) == JV_KIND_STRING ? jv_string_value(m) : "?");
      jv_free(m);
      kind = CALL_FAIL_RETRY;
    }
  }
  else {
    int has = jv_is_valid(a) && call_error_parse(a, &e);
    int sr = -1;
    if(x->h_should_retry)
      sr = !strcasecmp(x->h_should_retry, "true") ? 1 :
           !strcasecmp(x->h_should_retry, "false") ? 0 : -1;
    kind = call_classify(status, sr, has ? &e : NULL, &code);
    if(has)
      snprintf(msg, sizeof(msg), "HTTP %ld%s%s: %s", status,
               e.code || e.type ? " " : "",
               e.code ? e.code : e.type ? e.type : "",
               e.message ? e.message : "");
    else
      snprintf(msg, sizeof(msg), "HTTP %ld", status);
  }
  jv_free(a);
  d->code = code;
  set_reason(d, msg);
  return kind;
}

/* The counts of an answer's usage u, judged: besides what the format's
 * parser found impossible (u->impossible), a count above the model's
 * context window is one no provider could bill.  An impossible usage is
 * replaced by the reservation's plan (so the attempt costs what was
 * reserved, never a negative or absurd figure) and said in
 * u->impossible, which the attempt records as its usage_reason; the
 * answer's usage follows.  Returns the answer. */
static jv usage_judge(struct call_stage *st, struct job_state *js,
                      struct deployment *d, const struct xfer *x,
                      struct call_usage *u, jv answer)
{
  double limit = d->context > 0 ? d->context : 1e8;
  const char *what = u->input > limit ? "input" : u->output > limit ?
                     "output" : u->cached > limit ? "cached" :
                     u->cache_write > limit ? "cache write" : NULL;
  char why[96];
  if(!u->impossible[0] && !what)
    return answer;
  if(u->impossible[0])
    snprintf(why, sizeof(why), "%.60s", u->impossible);
  else
    snprintf(why, sizeof(why), "%s tokens over the %.0f-token context",
             what, limit);
  snprintf(u->impossible, sizeof(u->impossible), "impossible usage (%.60s): "
           "priced as reserved", why);
  st->host->log(js->job, LLMR_LOG_WARN, "%s/%s reported an impossible "
                "usage (%s): the attempt is priced at its reservation "
                "(%ld input, %ld output tokens)", jv_string_value(d->provider),
                jv_string_value(d->model), why, x->plan.input_tokens,
                x->plan.output_tokens);
  u->input = x->plan.input_tokens;
  u->output = x->plan.output_tokens;
  u->cached = u->cache_write = 0;
  u->has_cost = 0;
  return call_set_usage(answer, u);
}

/* An answer billed u (cost USD) against a reservation of worst: when
 * the provider billed more input than the estimate with its margin, the
 * margin grows to cover it for every reservation after this one, and an
 * overrun of the reservation is said (the budget has counted it). */
static void learn_margin(struct call_stage *st, struct job_state *js,
                         struct deployment *d, const struct call_usage *u,
                         double cost, double worst)
{
  if(js->est_tokens > 0) {
    double ratio = (double)u->input / (double)js->est_tokens;
    if(ratio > st->input_margin) /* an absurd count stops at 1000x */
      st->input_margin = ratio < 1000 ? ratio : 1000;
  }
  if(cost > worst + 1e-12)
    st->host->log(js->job, LLMR_LOG_WARN, "%s/%s billed %.6f USD against a "
                  "reservation of %.6f (input %ld tokens, estimated %ld): "
                  "the budget counts it; reservations now allow %.2fx the "
                  "input estimate", jv_string_value(d->provider),
                  jv_string_value(d->model), cost, worst, u->input,
                  js->est_tokens, st->input_margin);
}

/* Deployment d failed for good in this request: the attempt recorded,
 * and (counts) a failure for its breaker. */
static void give_up(struct job_state *js, struct deployment *d, int counts,
                    double now)
{
  if(counts)
    limits_breaker_note(js->st, d->brk, 0, now);
  attempt_record(js, d, NULL, 0, d->reason);
  note_failure(js, d);
}

/* The provider's request id (printable ASCII only, as it may reach a
 * result line) and, for an HTTP error answer, its body: the JSON object
 * when it is one and at most CALL_ERROR_BODY_MAX bytes, else its first
 * bytes as the message of an error object.  x's body is masked of the
 * key already, and cut only after that. */
static void keep_exchange(struct call_stage *st, struct deployment *d,
                          const struct xfer *x, long status)
{
  size_t n = 0;
  d->request_id[0] = '\0';
  for(const char *r = x->h_request_id; r && *r &&
      n + 1 < sizeof(d->request_id); r++)
    if(*r > ' ' && *r < 127 && *r != '"' && *r != '\\')
      d->request_id[n++] = *r;
  d->request_id[n] = '\0';
  jv_free(d->http_body);
  d->http_body = jv_invalid();
  if(status < 300)
    return;
  jv b = x->body && x->len <= CALL_ERROR_BODY_MAX ?
         st->host->json_parse(x->body, x->len) : jv_invalid();
  if(jv_get_kind(b) == JV_KIND_OBJECT) {
    d->http_body = b;
    return;
  }
  jv_free(b);
  size_t len = x->body ? x->len : 0;
  if(len > CALL_ERROR_TEXT_MAX)
    len = CALL_ERROR_TEXT_MAX;
  /* jv_string_sized replaces invalid UTF-8 (a cut character too) */
  jv e = jv_object_set(jv_object(), jv_string("message"),
                       jv_string_sized(len ? x->body : "", (int)len));
  e = jv_object_set(e, jv_string("type"), jv_string("provider_error"));
  d->http_body = jv_object_set(jv_object(), jv_string("error"), e);
}

/* The runner's callback when a transfer of the job ends. */
static void on_done(void *self, struct llmr_job *job, CURL *easy,
                    CURLcode rc)
{
  char *priv = NULL;
  long status = 0;
  curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
  if(!priv)
    return;
  if(rc == CURLE_OK)
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  finish_xfer(self, job, (struct xfer *)(void *)priv, rc, status);
}

/* Transfer x of the job ended with curl result rc and HTTP status: read
 * the answer, keep it or retry, fall back, fail. */
static void finish_xfer(struct call_stage *st, struct llmr_job *job,
                        struct xfer *x, CURLcode rc, long status)
{
  const struct llmr_host *host = st->host;
  struct job_state *js = x->js;
  struct deployment *d = &js->deps[x->dep];
  double now = host->now();
  x->active = 0;
  limits_release(st, d->p);
  if(status > 0)
    limits_learn(st, d->p, d->brk, x, status, now);
  d->status = status;
  jv answer;
  struct call_usage u;
  memset(&u, 0, sizeof(u));
  if(x->body && d->p)
    mask_key(x->body, x->len, d->p->key);
  keep_exchange(st, d, x, status);
  enum call_failure kind = read_answer(x, d, rc, status, &answer, &u);
  free(x->body); /* the answer is read: give the memory back now */
  x->body = NULL;
  x->len = x->cap = 0;

  if(kind == CALL_FAIL_NONE) {
    answer = usage_judge(st, js, d, x, &u, answer);
    double cost = attempt_cost(js->st->host, d, &u);
    learn_margin(st, js, d, &u, cost, x->worst_usd);
    host->budget_settle(x->ticket, cost);
    limits_breaker_note(st, d->brk, 1, now);
    attempt_record(js, d, &u, cost, NULL);
    if(js->agree_sent) {
      agree_answer(js, x->dep, answer);
      return;
    }
    if(active_transfers(js)) {
      /* a hedge is still out: keep this answer only if it is valid */
      char why[512];
      enum llmr_answer a = host->check_answer(job, answer, why,
                                              sizeof(why));
      if(a == LLMR_ANSWER_INVALID) {
        attempt_set(js, d, "valid", jv_false());
        attempt_set(js, d, "reason", jv_string(why));
        host->log(job, LLMR_LOG_INFO, "hedge: %s answered invalidly (%s); "
                  "waiting for the other answer", jv_string_value(d->name),
                  why);
        jv_free(js->held);
        js->held = answer;
        js->held_dep = x->dep;
        return;
      }
      if(a == LLMR_ANSWER_VALID)
        attempt_set(js, d, "valid", jv_true());
    }
    keep(js, x->dep, answer);
    return;
  }

  host->budget_settle(x->ticket, 0);
  /* the breaker counts a deployment given up (after its retries), not
     each failed attempt; nor a request that is bad anywhere */
  int counts = kind != CALL_FAIL_STOP && kind != CALL_FAIL_CONTEXT &&
               strcmp(d->code, "auth_error");
  if(active_transfers(js)) { /* the other half of a hedge or an
                                 agreement may answer */
    give_up(js, d, counts, now);
    return;
  }
  if(d->agree || jv_is_valid(js->first)) {
    /* the partner failed: the main answer stands unchecked; or the
       main flow failed after the partner answered: the partner's does */
    give_up(js, d, counts, now);
    if(jv_is_valid(js->first)) {
      jv first = js->first;
      js->first = jv_invalid();
      keep(js, js->first_dep, first);
      return;
    }
    /* both failed (the main flow waited for the partner): fall back */
    complete(js, advance(js, js->cur + 1));
    return;
  }
  if(jv_is_valid(js->held)) {
    /* the hedge's last word: hand on the invalid answer held, so
       validate and escalate proceed as without a hedge */
    give_up(js, d, counts, now);
    jv held = js->held;
    js->held = jv_invalid();
    keep(js, js->held_dep, held);
    return;
  }
  if(kind == CALL_FAIL_RETRY && x->dep == js->cur &&
     d->retries < st->retries) {
    double ra = call_retry_after(x->h_retry_after_ms, x->h_retry_after,
                                 (double)time(NULL));
    double delay = ra >= 0 ? ra : call_backoff(d->retries, jitter(st));
    if(ra <= st->retry_after_max &&
       (js->deadline <= 0 || now + delay < js->deadline)) {
      d->retries++;
      js->waiting = 1;
      host->log(job, LLMR_LOG_DEBUG, "%s/%s: %s; retry %d in %ld ms",
                jv_string_value(d->provider), jv_string_value(d->model),
                d->reason, d->retries, (long)(delay * 1000));
      if(host->after(job, (long)(delay * 1000), call_resume) == LLMR_OK)
        return;
      js->waiting = 0;
    }
  }
  give_up(js, d, counts, now);
  enum llmr_verdict v;
  if(kind == CALL_FAIL_STOP)
    v = fail(js);
  else {
    if(kind == CALL_FAIL_CONTEXT) /* only a larger context may do */
      for(int i = 0; i < js->ndeps; i++) {
        struct deployment *o = &js->deps[i];
        if(!o->started &&
           (d->context <= 0 ? jv_equal(jv_copy(o->name), jv_copy(d->name)) :
                              o->context > 0 && o->context <= d->context))
          o->started = 1;
      }
    /* the hedge is no fallback: after it, the main flow goes on */
    v = advance(js, (d->hedge || x->dep < js->cur ? js->cur : x->dep) + 1);
  }
  complete(js, v);
}

/* ------------------------------------------------------------------
 * The stage
 */

enum llmr_verdict call_process(void *self, struct llmr_job *job)
{
  struct call_stage *st = self;
  const struct llmr_host *host = st->host;
  jv req = host->request(job);
  jv body = call_get(req, "body");
  jv_free(req);
  jv msgs = call_get(body, "messages");
  int ok = jv_get_kind(msgs) == JV_KIND_ARRAY;
  jv_free(msgs);
  if(!ok) {
    jv_free(body);
    host->set_error(job, "no_messages", "the request has no messages");
    return LLMR_FAIL;
  }
  /* a check downstream that could never judge the answer (a broken
     schema or pattern in the request): refused before anything is paid */
  char why[512];
  const char *code = host->check_request(job, why, sizeof(why));
  if(code) {
    jv_free(body);
    host->set_error(job, code, "%s", why);
    return LLMR_FAIL;
  }
  struct job_state *js = calloc(1, sizeof(*js));
  if(!js) {
    jv_free(body);
    host->set_error(job, "provider_error", "out of memory");
    return LLMR_FAIL;
  }
  js->st = st;
  js->job = job;
  js->body = body;
  js->held = jv_invalid();
  js->first = jv_invalid();
  js->est_tokens = host->estimate_tokens(body);
  host->set_state(job, js, state_free);
  deploy_resolve(js);
  if(js->ndeps == 0) {
    const char *m = call_str(body, "model");
    host->set_error(job, "no_model", "no deployment for model '%s' in the "
                    "catalog", m ? m : "(none: route chose nothing)");
    return LLMR_FAIL;
  }
  if(st->deadline > 0)
    js->deadline = host->now() + st->deadline;
  enum llmr_verdict v = advance(js, 0);
  js->pending = v == LLMR_PENDING;
  return v;
}
