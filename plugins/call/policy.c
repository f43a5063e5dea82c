/*
 * policy.c - what a failed exchange means and how long to wait: provider
 * error shapes, the official SDKs' retry rules (openai-python and
 * anthropic-sdk-python _should_retry / _calculate_retry_timeout, see
 * reference/providers.md 1.6 and 8), rate-limit reset values, and the
 * token buckets behind catalog rpm/tpm.  Pure functions.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "call.h"

/* Borrows body; e points into it. */
int call_error_parse(jv body, struct call_error *e)
{
  memset(e, 0, sizeof(*e));
  if(jv_get_kind(body) != JV_KIND_OBJECT)
    return 0;
  jv err = call_get(body, "error");
  if(jv_get_kind(err) == JV_KIND_OBJECT) {
    /* OpenAI, Anthropic, Gemini, vLLM, llama.cpp, Ollama */
    e->code = call_str(err, "code");     /* a string code only */
    e->type = call_str(err, "type");
    if(!e->type)
      e->type = call_str(err, "status"); /* Gemini RESOURCE_EXHAUSTED */
    e->message = call_str(err, "message");
    jv det = call_get(err, "details");   /* Anthropic spend limit */
    const char *dc = call_str(det, "error_code");
    if(dc)
      e->code = dc;
    jv_free(det);
    jv_free(err); /* body holds the strings */
    return 1;
  }
  if(jv_get_kind(err) == JV_KIND_STRING) {
    e->message = call_str(body, "error");
    jv_free(err);
    return 1;
  }
  jv_free(err);
  const char *obj = call_str(body, "object");
  if(obj && !strcmp(obj, "error")) { /* old vLLM / FastChat: flat */
    e->type = call_str(body, "type");
    e->code = call_str(body, "code");
    e->message = call_str(body, "message");
    return 1;
  }
  return 0;
}

/* 1 when s (may be NULL) contains needle, ignoring case. */
static int has(const char *s, const char *needle)
{
  return s && strcasestr(s, needle) != NULL;
}

/* Borrows e.  1 when the error says the prompt is too long. */
static int is_context_error(const struct call_error *e)
{
  return has(e->code, "context_length") ||
         has(e->message, "maximum context length") ||
         has(e->message, "context length") ||
         has(e->message, "context window") ||
         has(e->message, "prompt is too long") ||
         has(e->message, "input is too long") ||
         has(e->message, "exceeds the maximum number of tokens");
}

/* Borrows e.  1 when a 429 needs a person (quota, spend limit), or can
 * never pass (a request larger than the per-minute limit). */
static int is_quota_error(const struct call_error *e)
{
  return has(e->code, "insufficient_quota") ||
         has(e->type, "insufficient_quota") ||
         has(e->code, "spend_limit") || has(e->type, "billing") ||
         has(e->code, "usage_limit") ||
         has(e->message, "exceeded your current quota") ||
         has(e->message, "credit balance") ||
         has(e->message, "request too large");
}

enum call_failure call_classify(long status, int should_retry,
                                const struct call_error *e,
                                const char **code)
{
  static const struct call_error none;
  if(!e)
    e = &none;
  *code = "provider_error";
  if(status == 401 || status == 403) {
    *code = "auth_error";
    return CALL_FAIL_NEXT; /* another provider has another key */
  }
  if((status == 400 || status == 413 || status == 422) &&
     is_context_error(e)) {
    *code = "context_length_exceeded";
    return CALL_FAIL_CONTEXT;
  }
  if(status == 429) {
    *code = "rate_limited";
    if(is_quota_error(e))
      return CALL_FAIL_NEXT;
  }
  else if(status == 408 || status == 504)
    *code = "timeout";
  /* the server's own word wins over the status (SDK order) */
  if(should_retry == 1)
    return CALL_FAIL_RETRY;
  if(should_retry == 0)
    return status == 400 || status == 422 ? CALL_FAIL_STOP : CALL_FAIL_NEXT;
  if(status == 408 || status == 409 || status == 429 ||
     (status >= 500 && status != 501))
    return CALL_FAIL_RETRY;
  if(status == 400 || status == 422)
    return CALL_FAIL_STOP; /* the request is wrong wherever it goes */
  /* 404 (no such model here), 413, 501 and the rest: not here */
  return CALL_FAIL_NEXT;
}

enum call_failure call_classify_curl(CURLcode rc, const char **code)
{
  switch(rc) {
  case CURLE_OPERATION_TIMEDOUT:
    *code = "timeout";
    return CALL_FAIL_RETRY;
  case CURLE_WRITE_ERROR: /* our cap on the body size */
  case CURLE_FILESIZE_EXCEEDED:
  case CURLE_UNSUPPORTED_PROTOCOL:
  case CURLE_URL_MALFORMAT:
    *code = "provider_error";
    return CALL_FAIL_NEXT;
  default:
    /* connection refused or reset, nothing received, truncated body,
     * TLS trouble: a connection error, retried like the SDKs do */
    *code = "provider_error";
    return CALL_FAIL_RETRY;
  }
}

/* Parse a whole decimal number (fraction allowed) in s.  1 and *out on
 * success. */
static int parse_number(const char *s, double *out)
{
  char *end;
  while(*s == ' ')
    s++;
  if(!*s || !(isdigit((unsigned char)*s) || *s == '.' || *s == '-'))
    return 0;
  double d = strtod(s, &end);
  while(*end == ' ')
    end++;
  if(*end || !isfinite(d))
    return 0;
  *out = d;
  return 1;
}

/* Parse an IMF-fixdate / RFC 3339 time.  Wall-clock seconds, or -1. */
static double parse_time(const char *s)
{
  struct tm tm;
  const char *end;
  memset(&tm, 0, sizeof(tm));
  end = strptime(s, "%a, %d %b %Y %H:%M:%S", &tm); /* HTTP date, GMT */
  if(!end) {
    memset(&tm, 0, sizeof(tm));
    end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);   /* RFC 3339, Z */
    if(!end)
      return -1;
    double frac = 0;
    if(*end == '.') {
      char *e2;
      frac = strtod(end, &e2);
      end = e2;
    }
    return (double)timegm(&tm) + frac;
  }
  return (double)timegm(&tm);
}

double call_retry_after(const char *retry_after_ms, const char *retry_after,
                        double now_wall)
{
  double d;
  if(retry_after_ms && parse_number(retry_after_ms, &d) && d >= 0)
    return d / 1000.0;
  if(!retry_after)
    return -1;
  if(parse_number(retry_after, &d))
    return d >= 0 ? d : -1;
  double t = parse_time(retry_after);
  if(t < 0)
    return -1;
  d = t - now_wall;
  return d > 0 ? d : 0;
}

double call_backoff(int n, double r)
{
  if(n < 0)
    n = 0;
  if(n > 30)
    n = 30;
  double d = 0.5 * ldexp(1.0, n);
  if(d > 8.0)
    d = 8.0;
  return d * (1.0 - 0.25 * r);
}

double call_reset_seconds(const char *v, double now_wall)
{
  if(!v || !*v)
    return -1;
  double d;
  if(parse_number(v, &d))
    return d >= 0 ? d : -1;
  if(isdigit((unsigned char)v[0]) && strchr(v, '-') && strchr(v, 'T')) {
    double t = parse_time(v);
    if(t < 0)
      return -1;
    return t > now_wall ? t - now_wall : 0;
  }
  /* Go duration: [N h][N m][N s][N ms][N us][N ns], fractions allowed */
  const char *p = v;
  double total = 0;
  int any = 0;
  while(*p) {
    char *end;
    if(!(isdigit((unsigned char)*p) || *p == '.'))
      return -1;
    double n = strtod(p, &end);
    if(end == p)
      return -1;
    p = end;
    if(!strncmp(p, "ms", 2)) {
      total += n / 1e3;
      p += 2;
    }
    else if(!strncmp(p, "us", 2) || !strncmp(p, "\xc2\xb5s", 3)) {
      total += n / 1e6;
      p += p[0] == 'u' ? 2 : 3;
    }
    else if(!strncmp(p, "ns", 2)) {
      total += n / 1e9;
      p += 2;
    }
    else if(*p == 'h') {
      total += n * 3600;
      p++;
    }
    else if(*p == 'm') {
      total += n * 60;
      p++;
    }
    else if(*p == 's') {
      total += n;
      p++;
    }
    else
      return -1;
    any = 1;
  }
  return any ? total : -1;
}

/* --- token buckets ------------------------------------------------ */

void call_bucket_init(struct call_bucket *b, double per_minute, double now)
{
  b->rate = per_minute > 0 ? per_minute / 60.0 : 0;
  b->cap = per_minute > 0 ? per_minute : 0;
  b->level = b->cap;
  b->stamp = now;
}

/* Refill b up to now. */
static void bucket_refill(struct call_bucket *b, double now)
{
  if(now > b->stamp) {
    b->level += (now - b->stamp) * b->rate;
    if(b->level > b->cap)
      b->level = b->cap;
    b->stamp = now;
  }
}

double call_bucket_wait(struct call_bucket *b, double n, double now)
{
  if(b->rate <= 0)
    return 0;
  bucket_refill(b, now);
  if(n > b->cap)
    n = b->cap; /* larger than a minute's worth: wait for a full bucket */
  if(b->level >= n)
    return 0;
  return (n - b->level) / b->rate;
}

void call_bucket_take(struct call_bucket *b, double n, double now)
{
  if(b->rate <= 0)
    return;
  bucket_refill(b, now);
  if(n > b->cap)
    n = b->cap;
  b->level -= n;
  if(b->level > b->cap)
    b->level = b->cap;
}
