/*
 * call.h - internal interfaces of the call stage: the provider formats
 * (openai.c, anthropic.c, gemini.c), the helpers they share (common.c)
 * and the retry and rate-limit policy (policy.c).  Not installed.
 */
#ifndef LLMR_CALL_H
#define LLMR_CALL_H

#include <stddef.h>
#include "llmroute.h"

/* Token counts of one answer, as the router accounts them.  input is the
 * whole prompt (cached tokens included), cached the part read from the
 * provider's cache, cache_write the part written to it (Anthropic). */
struct call_usage {
  long input;
  long output;
  long cached;
  long cache_write;
  double cost;   /* what the provider says the call cost (replay's
                    recorded cost), when has_cost; else the catalog's
                    prices apply */
  int has_cost;
  char impossible[128]; /* the first count the provider gave that no
                          provider could mean ("prompt_tokens -5"),
                          counted 0; "" when every count was possible */
};

/* What a provider format knows how to do.  Every function is pure: no
 * network, no host, so the unit tests call them directly. */
struct call_format {
  const char *name; /* "openai", "anthropic", "gemini" */
  /* The endpoint for model under base (no trailing slash needed).
   * malloc'd string, the caller frees it. */
  char *(*url)(const char *base, const char *model);
  /* Translate the canonical OpenAI chat body (borrowed) into this
   * format's request for model.  flags: CALL_F_*.  New ref, or
   * jv_invalid_with_msg() when the body cannot be expressed. */
  jv (*request)(jv body, const char *model, unsigned flags);
  /* Append the authentication and format headers for key (may be NULL
   * or empty: no auth header).  Returns the new list head. */
  struct curl_slist *(*headers)(struct curl_slist *h, const char *key);
  /* Normalise a 2xx answer (consumed) to a chat.completion
   * (llmroute(1), RESULT LINES),
   * filling *u.  model names the deployment asked.  New ref, or
   * jv_invalid_with_msg() when the answer is not a usable one. */
  jv (*response)(jv answer, const char *model, struct call_usage *u);
};

#define CALL_F_MAX_TOKENS 0x1u /* openai: send max_tokens, not
                                  max_completion_tokens (local servers) */

extern const struct call_format call_openai;
extern const struct call_format call_anthropic;
extern const struct call_format call_gemini;
extern const struct call_format call_replay;

/* --- replay.c: the recorded-outcomes index of a replay provider ----- */
struct replay;
/* Index the outcomes file at path.  NULL with err set on failure. */
struct replay *replay_open(const struct llmr_host *host, const char *path,
                           char *err, size_t errlen);
void replay_close(struct replay *r); /* accepts NULL */
/* The recorded answer of model for custom_id, {answer, usage, cost_usd}
 * without its score (new ref), or jv_invalid_with_msg() saying why. */
jv replay_lookup(struct replay *r, const struct llmr_host *host,
                 const char *custom_id, const char *model);

/* The format named name, or NULL. */
const struct call_format *call_format_find(const char *name);

/* --- common.c: jv helpers that never assert on untrusted input ----- */

/* Borrows obj.  New ref, or jv_null() when obj is no object or lacks
 * key. */
jv call_get(jv obj, const char *key);
/* Borrows obj.  The string value of key, or NULL; the pointer lives as
 * long as obj. */
const char *call_str(jv obj, const char *key);
/* Borrows obj.  The number value of key, or def. */
double call_num(jv obj, const char *key, double def);
/* A token count from a provider's number: 0 for negatives and NaN, at
 * most 2^53 (a cast of a larger double is undefined). */
long call_count(double d);
/* Borrows obj.  The token count obj[key] reports for an answer: 0 when
 * absent or null; a non-negative integer up to 2^53 as is; anything else
 * (negative, fractional, not finite, larger, not a number) counts 0 and,
 * the first time, is noted in u->impossible. */
long call_usage_count(struct call_usage *u, jv obj, const char *key);
/* Consumes us.  The provider's usage object with every number a possible
 * count (call_usage_count's rule; an impossible one noted in u and set to
 * 0) and only numbers and objects of them kept, two levels deep: what a
 * provider reports beside the counts llmroute reads (OpenAI's
 * *_tokens_details) passes, checked. */
jv call_usage_clean(struct call_usage *u, jv us);
/* Borrows v.  1 when v is of kind k. */
int call_is(jv v, jv_kind k);
/* Build a malloc'd "base + path" without doubling the slash. */
char *call_join_url(const char *base, const char *path);
/* Borrows body.  The output cap the body asks for (max_completion_tokens,
 * else max_tokens), or def. */
long call_max_tokens(jv body, long def);
/* A new chat.completion shell (id, object, created, model); consumes
 * id. */
jv call_completion(jv id, const char *model);
/* Set completion's usage from u; consumes completion. */
jv call_set_usage(jv completion, const struct call_usage *u);
/* Split a data: URI (borrowed) into media type and base64 payload, new
 * refs in *mime and *data.  1 on success, 0 when url is not one. */
int call_data_uri(const char *url, jv *mime, jv *data);

/* --- policy.c: errors, retries, rate-limit headers ----------------- */

/* What one failed HTTP exchange means. */
enum call_failure {
  CALL_FAIL_NONE = 0,
  CALL_FAIL_RETRY,     /* transient: retry here, then fall back */
  CALL_FAIL_NEXT,      /* permanent here; another deployment may do */
  CALL_FAIL_STOP,      /* the request itself is bad: stop */
  CALL_FAIL_CONTEXT    /* too long for this model: a larger one may do */
};

/* The error an answer carries, whichever the format.  Borrowed strings
 * point into the body given to call_error_parse(). */
struct call_error {
  const char *code;    /* error.code (when a string), or NULL */
  const char *type;    /* error.type or error.status, or NULL */
  const char *message; /* error.message, or NULL */
};

/* Borrows body.  Fill e from any provider error shape (nested error
 * object, flat {"object":"error"}, Anthropic {"type":"error"}).
 * 1 when body carried an error, else 0. */
int call_error_parse(jv body, struct call_error *e);

/* Classify an HTTP answer: status, the x-should-retry header value
 * (-1 absent, 0 false, 1 true), its error (may be NULL).  *code gets
 * the job error code (llmroute(1), RESULT LINES) to use if this is the
 * last word. */
enum call_failure call_classify(long status, int should_retry,
                                const struct call_error *e,
                                const char **code);

/* Classify a transport failure (curl result rc, not CURLE_OK). */
enum call_failure call_classify_curl(CURLcode rc, const char **code);

/* Parse a Retry-After value (delta seconds, possibly fractional, or an
 * HTTP date) at wall-clock time now_wall.  Seconds, or -1 when absent or
 * unparsable. */
double call_retry_after(const char *retry_after_ms, const char *retry_after,
                        double now_wall);

/* The SDK back-off before retry number n (0 for the first retry):
 * min(0.5 * 2^n, 8) * (1 - 0.25 * r), r in [0, 1). Seconds. */
double call_backoff(int n, double r);

/* Parse a rate-limit reset: a Go duration ("6m0s", "12ms", "1.5s"),
 * plain seconds ("20"), or an RFC 3339 time (Anthropic), relative to
 * now_wall.  Seconds from now, or -1 when unparsable. */
double call_reset_seconds(const char *v, double now_wall);

/* --- rate.c: token buckets ---------------------------------------- */

struct call_bucket {
  double rate;   /* units per second; 0: unlimited */
  double cap;    /* burst size */
  double level;  /* units available */
  double stamp;  /* when level was computed (monotonic seconds) */
};

/* Set a bucket to per_minute units a minute, full. */
void call_bucket_init(struct call_bucket *b, double per_minute, double now);
/* Seconds to wait before n units are available (0: now).  A request
 * larger than the burst waits for a full bucket.  Takes nothing. */
double call_bucket_wait(struct call_bucket *b, double n, double now);
/* Take n units (negative gives back); the level may go below zero, a
 * debt later requests wait out. */
void call_bucket_take(struct call_bucket *b, double n, double now);

#endif /* LLMR_CALL_H */
