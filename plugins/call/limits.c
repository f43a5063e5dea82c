/*
 * limits.c - keeping the call stage within what providers allow: token
 * buckets for catalog rpm/tpm, per-provider concurrency with a FIFO of
 * waiting jobs, pauses learnt from rate-limit headers and retry-after,
 * and a circuit breaker per deployment.  One thread: no locks.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "stage.h"

/* Borrows js and d.  Tokens one request counts against tpm: OpenAI
 * counts max(max_tokens, estimate); input + output cap is safer. */
static double request_tokens(const struct job_state *js,
                             const struct deployment *d)
{
  return (double)js->est_tokens +
         (double)call_max_tokens(js->body, (long)d->max_out);
}

double limits_pause(const struct deployment *d, double now)
{
  double until = d->p->paused_until;
  if(d->brk && d->brk->paused_until > until)
    until = d->brk->paused_until;
  return until > now ? until - now : 0;
}

/* The buckets a request to d takes from: its provider's rpm and tpm,
 * then the deployment's own (a catalog deployment's rpm/tpm: providers
 * limit per model too).  NULL where d has no breaker entry. */
static void buckets(struct deployment *d, struct call_bucket *b[4])
{
  b[0] = &d->p->rpm;
  b[1] = &d->p->tpm;
  b[2] = d->brk ? &d->brk->rpm : NULL;
  b[3] = d->brk ? &d->brk->tpm : NULL;
}

/* Borrows js and d.  Seconds to wait, 0: go. */
double limits_wait(struct job_state *js, struct deployment *d, double now)
{
  struct call_bucket *b[4];
  double wait = limits_pause(d, now), w, tokens = request_tokens(js, d);
  buckets(d, b);
  for(int i = 0; i < 4; i++) {
    if(!b[i])
      continue;
    w = call_bucket_wait(b[i], i % 2 ? tokens : 1, now);
    if(w > wait)
      wait = w;
  }
  return wait;
}

/* Borrows js and d. */
void limits_take(struct job_state *js, struct deployment *d, double now)
{
  struct call_bucket *b[4];
  double tokens = request_tokens(js, d);
  buckets(d, b);
  for(int i = 0; i < 4; i++)
    if(b[i])
      call_bucket_take(b[i], i % 2 ? tokens : 1, now);
}

/* The run's bucket for b (bucket i of buckets(): the provider's or the
 * deployment's rpm or tpm) when the run is shared (set shared=): seconds
 * to wait after taking n (with ifroom: only when there is room), or < 0
 * when it is not shared (or the runner predates ABI 1.7).  The local
 * bucket is kept as well: it also carries what the provider's headers
 * said.  Names: "PROVIDER:rpm", "PROVIDER/MODEL:rpm". */
static double shared_wait(const struct call_stage *st,
                          const struct deployment *d, int i,
                          const struct call_bucket *b, double n, int ifroom)
{
  if(!b || b->rate <= 0) /* no limit: no round trip */
    return -1;
  const struct llmr_host *h = st->host;
  char name[300];
  if(h->size < offsetof(struct llmr_host, shared_take) +
               sizeof(h->shared_take) || !h->shared_take)
    return -1;
  snprintf(name, sizeof(name), "%s:%s", i < 2 ? d->p->name : d->brk->key,
           i % 2 ? "tpm" : "rpm");
  return h->shared_take(name, n, b->rate * 60.0, ifroom);
}

int limits_shared_try(struct job_state *js, struct deployment *d)
{
  struct call_bucket *b[4];
  double tokens = request_tokens(js, d);
  buckets(d, b);
  /* a unit taken is lost when a later bucket then refuses: the shared
     buckets err on the side of sending less */
  for(int i = 0; i < 4; i++)
    if(shared_wait(js->st, d, i, b[i], i % 2 ? tokens : 1, 1) > 0)
      return 0;
  return 1;
}

/* Seconds until b's level is back to zero (0 when it is). */
static double debt_seconds(const struct call_bucket *b)
{
  if(b->rate <= 0 || b->level >= 0)
    return 0;
  return -b->level / b->rate;
}

double limits_reserve(struct job_state *js, struct deployment *d,
                      double now)
{
  struct call_bucket *b[4];
  double tokens = request_tokens(js, d), w;
  limits_take(js, d, now);
  double wait = limits_pause(d, now);
  buckets(d, b);
  for(int i = 0; i < 4; i++) {
    if(!b[i])
      continue;
    w = debt_seconds(b[i]);
    if(w > wait)
      wait = w;
    /* shared: the run's buckets hold every process to the limits */
    w = shared_wait(js->st, d, i, b[i], i % 2 ? tokens : 1, 0);
    if(w > wait)
      wait = w;
  }
  return wait;
}

int limits_slot(struct job_state *js, struct provider *p)
{
  if(js->slot == p) { /* promised when we were woken */
    js->slot = NULL;
    return 1;
  }
  if(js->slot) /* promised by another provider: hand it on */
    limits_forget(js);
  if(p->concurrency <= 0 || (p->inflight < p->concurrency &&
                             !p->wait_head)) {
    p->inflight++;
    return 1;
  }
  if(js->q_prov == p)
    return 0;
  js->q_prov = p;
  js->q_next = NULL;
  js->q_prev = p->wait_tail;
  if(p->wait_tail)
    p->wait_tail->q_next = js;
  else
    p->wait_head = js;
  p->wait_tail = js;
  return 0;
}

/* Unlink js from p's queue. */
static void dequeue(struct provider *p, struct job_state *js)
{
  if(js->q_prev)
    js->q_prev->q_next = js->q_next;
  else
    p->wait_head = js->q_next;
  if(js->q_next)
    js->q_next->q_prev = js->q_prev;
  else
    p->wait_tail = js->q_prev;
  js->q_prev = js->q_next = NULL;
  js->q_prov = NULL;
}

void limits_release(struct call_stage *st, struct provider *p)
{
  if(p->inflight > 0)
    p->inflight--;
  while(p->wait_head && (p->concurrency <= 0 ||
                         p->inflight < p->concurrency)) {
    struct job_state *next = p->wait_head;
    dequeue(p, next);
    p->inflight++; /* promised to next */
    next->slot = p;
    next->waiting = 1;
    if(st->host->after(next->job, 0, call_resume) != LLMR_OK) {
      /* cannot wake it: give the slot back, it stays stuck no more than
       * its deadline (the runner cuts it off) */
      next->slot = NULL;
      next->waiting = 0;
      p->inflight--;
      break;
    }
  }
}

void limits_forget(struct job_state *js)
{
  if(js->q_prov)
    dequeue(js->q_prov, js);
  if(js->slot) {
    struct provider *p = js->slot;
    js->slot = NULL;
    limits_release(js->st, p);
  }
}

/* Parse a whole non-negative integer header value, or -1. */
static double header_count(const char *v)
{
  if(!v || !*v)
    return -1;
  char *end;
  double d = strtod(v, &end);
  while(*end == ' ' || *end == '\r')
    end++;
  return *end || d < 0 ? -1 : d;
}

/* Follow a provider's own count: with no limit in the catalog, adopt the
 * announced limit; either way the server's remaining (less what is still
 * in flight) is the truth about what is left in the window. */
static void sync_bucket(struct call_bucket *b, int *adopted, double limit,
                        double remaining, double inflight, double now)
{
  if(limit <= 0)
    return;
  if(b->rate <= 0 || *adopted) {
    if(!*adopted || limit / 60.0 != b->rate) {
      call_bucket_init(b, limit, now);
      *adopted = 1;
    }
    if(remaining >= 0) {
      call_bucket_wait(b, 0, now); /* refill up to now */
      b->level = remaining - inflight;
    }
  }
  else if(remaining >= 0 && remaining - inflight < b->level)
    b->level = remaining - inflight;
}

void limits_learn(struct call_stage *st, struct provider *p,
                  struct breaker *b, const struct xfer *x, long status,
                  double now)
{
  double wall = (double)time(NULL);
  double pause = -1;
  if(status == 429) {
    double ra = call_retry_after(x->h_retry_after_ms, x->h_retry_after,
                                 wall);
    if(ra > st->retry_after_max)
      ra = st->retry_after_max;
    pause = ra;
  }
  if(header_count(x->h_rem_req) == 0) {
    double r = call_reset_seconds(x->h_reset_req, wall);
    if(r > pause)
      pause = r;
  }
  if(header_count(x->h_rem_tok) == 0) {
    double r = call_reset_seconds(x->h_reset_tok, wall);
    if(r > pause)
      pause = r;
  }
  if(pause > st->retry_after_max)
    pause = st->retry_after_max;
  double *until = b ? &b->paused_until : &p->paused_until;
  if(pause > 0 && now + pause > *until)
    *until = now + pause;
  sync_bucket(&p->rpm, &p->rpm_from_headers, header_count(x->h_lim_req),
              header_count(x->h_rem_req), (double)p->inflight, now);
  sync_bucket(&p->tpm, &p->tpm_from_headers, header_count(x->h_lim_tok),
              header_count(x->h_rem_tok), 0, now);
}

struct breaker *limits_breaker(struct call_stage *st, const char *prov,
                               const char *model)
{
  size_t n = strlen(prov) + strlen(model) + 2;
  char *key = malloc(n);
  if(!key)
    return NULL;
  snprintf(key, n, "%s/%s", prov, model);
  for(int i = 0; i < st->nbrk; i++)
    if(!strcmp(st->brk[i].key, key)) {
      free(key);
      return &st->brk[i];
    }
  if(st->nbrk == st->capbrk) {
    /* breakers are handed out by pointer: grow in blocks that never
     * move, so keep a fixed upper bound instead of realloc */
    free(key);
    return NULL;
  }
  struct breaker *b = &st->brk[st->nbrk++];
  b->key = key;
  b->failures = 0;
  b->open_until = 0;
  b->paused_until = 0;
  memset(&b->rpm, 0, sizeof(b->rpm)); /* rate 0: none until read */
  memset(&b->tpm, 0, sizeof(b->tpm));
  b->limits_set = 0;
  return b;
}

int limits_breaker_ok(const struct call_stage *st, const struct breaker *b,
                      double now)
{
  if(!b || st->breaker_after <= 0)
    return 1;
  /* after the cool-down one call goes through (half-open) */
  return b->open_until <= now;
}

double limits_breaker_reopen(const struct breaker *b)
{
  return b ? b->open_until : 0;
}

void limits_breaker_note(struct call_stage *st, struct breaker *b, int ok,
                         double now)
{
  if(!b || st->breaker_after <= 0)
    return;
  if(ok) {
    b->failures = 0;
    b->open_until = 0;
    return;
  }
  b->failures++;
  if(b->failures >= st->breaker_after) {
    b->open_until = now + st->cooldown;
    st->host->log(NULL, LLMR_LOG_WARN,
                  "deployment %s failed %d times in a row: cooling down "
                  "for %.0f s", b->key, b->failures, st->cooldown);
  }
}
