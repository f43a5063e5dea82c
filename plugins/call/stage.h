/*
 * stage.h - the call stage's own state: providers (keys, rate limits,
 * concurrency queues), circuit breakers, per-job state.  Shared by
 * call.c (the job's way through deployments and retries), limits.c
 * (rate limits, queues, breakers), attempts.c (route.attempts) and
 * deploy.c (which deployments).  Not installed.
 */
#ifndef LLMR_CALL_STAGE_H
#define LLMR_CALL_STAGE_H

#include "call.h"

struct job_state;

#define CALL_MAX_DEPLOYMENTS 32 /* per job, fallbacks included */

/* One provider of the catalog. */
struct provider {
  char *name;
  const struct call_format *fmt;
  char *base_url;
  char *key;            /* from the environment; NULL when none */
  char *key_env;        /* the variable's name, for messages */
  unsigned flags;       /* CALL_F_* */
  struct call_bucket rpm, tpm;
  int rpm_from_headers; /* rpm learnt from x-ratelimit-limit-requests */
  int tpm_from_headers; /* tpm learnt from x-ratelimit-limit-tokens */
  long concurrency;     /* 0: unlimited */
  long inflight;        /* transfers running or slots promised */
  double paused_until;  /* monotonic; a pause for a deployment without
                           a breaker entry */
  struct job_state *wait_head, *wait_tail; /* FIFO over concurrency */
  struct replay *replay; /* format replay: the recorded outcomes */
};

/* What the stage keeps per deployment (provider + model) across jobs:
 * its circuit breaker, pauses, and the deployment's own rate limits. */
struct breaker {
  char *key;        /* "provider/model" */
  int failures;     /* consecutive */
  double open_until;
  double paused_until; /* 429 retry-after or remaining = 0 (monotonic):
                          providers limit per model */
  struct call_bucket rpm, tpm; /* the catalog deployment's rpm/tpm (rate
                                  0: none), besides its provider's */
  int limits_set;   /* rpm/tpm read from the catalog */
};

/* The stage instance. */
struct call_stage {
  const struct llmr_host *host;
  double timeout, connect_timeout, deadline, retry_after_max, cooldown;
  long retries, hedge_ms, fallbacks, breaker_after, max_body, max_tokens;
  int pass_failures;    /* on_failure=next */
  const struct llmr_model *baseline; /* prices route.baseline_cost_usd */
  double input_margin;  /* reservations price input estimate x this */
  jv catalog;
  struct provider *prov;
  int nprov;
  struct breaker *brk;
  int nbrk, capbrk;
  unsigned rng;
};

/* One deployment a job may try. */
struct deployment {
  struct provider *p; /* NULL: the catalog has no such provider */
  jv provider;      /* provider name (string) */
  jv model;         /* provider's model id (string) */
  jv name;          /* catalog model name (string) */
  struct llmr_price price; /* the model's, a deployment's own first */
  double context;   /* context tokens, 0 unknown */
  double max_out;   /* max output tokens, 0 unknown */
  int tier;         /* the catalog model's tier, 0 unknown */
  int for_hedge;    /* route.hedge names its model: a hedge may go here */
  int hedge_only;   /* listed for the hedge only: no fallback for the
                       main flow */
  struct breaker *brk;
  /* the attempt on this deployment */
  int started, recorded, retries;
  int sent;         /* a request went to it (its budget reserved) */
  int hedge;        /* sent as the hedge (hedge_fire) */
  int for_agree;    /* route.agree's model: the agreement partner, asked
                       once beside the main flow, never a fallback */
  int agree;        /* sent as the agreement partner */
  int attempt;      /* 1 + its index in route.attempts once recorded */
  double t0;
  long status;
  char request_id[96]; /* the provider's request-id header, or "" */
  jv http_body;     /* an HTTP error's body (masked, capped), or invalid */
  char reason[240];
  const char *code; /* job error code should this be the last word */
};

/* One HTTP exchange. */
struct xfer {
  struct job_state *js;
  struct xfer *next;   /* every transfer of the job, freed with it */
  int dep;             /* index into js->deps */
  int active;          /* handed to host->http() and not yet done */
  struct curl_slist *hdrs;
  char *body;
  size_t len, cap;
  int overflow;
  long ticket;
  double worst_usd;
  struct llmr_usage plan; /* what worst_usd prices: the input estimate
                             with its margin, the whole output cap */
  double t0;
  char *h_retry_after, *h_retry_after_ms, *h_should_retry;
  char *h_rem_req, *h_rem_tok, *h_reset_req, *h_reset_tok, *h_lim_req;
  char *h_lim_tok;
  char *h_request_id;  /* x-request-id (OpenAI) or request-id (Anthropic) */
  int replayed;        /* a replay answer waiting for its timer */
  int sends;           /* requests curl sent for it (on_prereq) */
  int resend_refused;  /* a re-send by curl itself was refused */
};

/* The job's state while it is in the call stage. */
struct job_state {
  struct call_stage *st;
  struct llmr_job *job;
  jv body;              /* the canonical request body */
  long est_tokens;      /* input estimate */
  struct deployment *deps;
  int ndeps;
  int cur;              /* the deployment the main flow is on */
  int tried;            /* deployments sent to so far */
  int waiting;          /* a resume timer is set */
  int pending;          /* the job waits on this stage (LLMR_PENDING
                           given, not yet completed): freed so, it was
                           cut off */
  int paid;             /* 1 + the deployment whose rate-limit units are
                           taken for the next send, or 0 */
  int has_hedge;        /* some deployment is for_hedge */
  int hedge_armed;       /* the hedge timer is set (without route.hedge:
                            its absence was logged) */
  int hedged;
  jv held;              /* an answer found invalid while the other half
                           of the hedge was still out, or jv_invalid() */
  int held_dep;         /* its deployment */
  int cool_from;        /* advance() resumes here after a cool-down */
  int has_agree;        /* some deployment is for_agree */
  int agree_sent;       /* the partner was asked */
  jv first;             /* with an agreement pending: the answer that
                           came first, or jv_invalid() */
  int first_dep;        /* its deployment */
  double deadline;      /* monotonic, 0: none */
  struct xfer *xfers;
  /* concurrency queue */
  struct job_state *q_prev, *q_next;
  struct provider *q_prov;  /* queued on, or NULL */
  struct provider *slot;    /* a slot promised by a wake-up, or NULL */
  const char *last_code;
  char last_msg[300];
  int last_dep;         /* the deployment of last_code, or -1 */
};

/* --- limits.c ----------------------------------------------------- */

/* Seconds the job must wait before sending to d (0: go now).  Takes
 * nothing; does not look at concurrency. */
double limits_wait(struct job_state *js, struct deployment *d, double now);
/* Take the rate-limit units of one request of js to d. */
void limits_take(struct job_state *js, struct deployment *d, double now);
/* Take them now, in debt if need be, and return the seconds until the
 * debt is paid and the provider's pause is over: jobs queue up in the
 * order they asked instead of all waking at the same moment. */
/* With set shared=: take a request's units from the run's shared
 * buckets when they have room now (hedge, agreement partner).  1 taken
 * (or not shared), 0 no room. */
int limits_shared_try(struct job_state *js, struct deployment *d);
double limits_reserve(struct job_state *js, struct deployment *d,
                      double now);
/* 1 when a concurrency slot of p is taken for js; 0 when js was queued
 * (it is woken with a resume timer when a slot frees). */
int limits_slot(struct job_state *js, struct provider *p);
/* Give back a slot of p and wake the first queued job. */
void limits_release(struct call_stage *st, struct provider *p);
/* Take js off its provider's queue and give back a promised slot. */
void limits_forget(struct job_state *js);
/* Learn from an answer's rate-limit headers (x-ratelimit-*,
 * anthropic-ratelimit-*, retry-after on 429): pauses go to the
 * deployment's breaker entry b (the provider when b is NULL), announced
 * limits and remaining counts to the provider's buckets. */
void limits_learn(struct call_stage *st, struct provider *p,
                  struct breaker *b, const struct xfer *x, long status,
                  double now);
/* Seconds d is paused for (0: not). */
double limits_pause(const struct deployment *d, double now);
/* The breaker of provider/model, created on first use. */
struct breaker *limits_breaker(struct call_stage *st, const char *prov,
                               const char *model);
/* 1 when b lets a call through now. */
int limits_breaker_ok(const struct call_stage *st, const struct breaker *b,
                      double now);
/* Record a success (ok = 1) or a failure counting towards opening: a
 * deployment given up after its retries, not each failed attempt. */
void limits_breaker_note(struct call_stage *st, struct breaker *b, int ok,
                         double now);
/* When b lets calls through again (monotonic; 0: it is closed). */
double limits_breaker_reopen(const struct breaker *b);
/* The job resumes: the timer callback shared by waits and wake-ups. */
void call_resume(void *self, struct llmr_job *job);

/* --- call.c ------------------------------------------------------- */

/* The stage's process(): resolve the job's deployments and send. */
enum llmr_verdict call_process(void *self, struct llmr_job *job);

/* --- attempts.c --------------------------------------------------- */

/* Borrows d and u.  USD for usage u at d's prices. */
double attempt_cost(const struct llmr_host *host, const struct deployment *d,
                    const struct call_usage *u);
/* Append the attempt on d (once: d->recorded) to route.attempts, note
 * its place in d->attempt, and keep route.cost_usd the sum over
 * attempts.  u may be NULL (nothing used); reason may be NULL.  An
 * attempt sent as the hedge says "hedge": true. */
void attempt_record(struct job_state *js, struct deployment *d,
                    const struct call_usage *u, double cost,
                    const char *reason);
/* Set key to val (consumed) on d's attempt; nothing when d has none. */
void attempt_set(struct job_state *js, struct deployment *d,
                 const char *key, jv val);
/* Move d's attempt to the end of route.attempts (the answer a job keeps
 * is always its last attempt, the one validate marks). */
void attempt_to_end(struct job_state *js, struct deployment *d);

/* --- deploy.c ----------------------------------------------------- */

/* Fill js->deps from the route record and the request: route.deployments
 * (ordered), else the pinned body.model or route.model with all its
 * deployments (route.provider's first); then route.fallback(s) and
 * route.candidates, the route's fallback list; then, with hedge_ms, the
 * deployments of route.hedge's model (for_hedge; hedge_only when not
 * already listed), setting js->has_hedge; and route.agree's model's
 * (for_agree, never in the main flow), setting js->has_agree. */
void deploy_resolve(struct job_state *js);

/* --- agree.c ------------------------------------------------------ */

/* The short answer of text into out ("L:B", "N:42", "T:paris", or ""
 * when it has none; see agree.c). */
void agree_extract(const char *text, char *out, size_t cap);
/* Borrows two chat.completions.  1 when their short answers agree, 0
 * when they differ, -1 when they cannot be compared; ea and eb (cap
 * bytes each) get the short answers. */
int agree_compare(jv a, jv b, char *ea, char *eb, size_t cap);

#endif /* LLMR_CALL_STAGE_H */
