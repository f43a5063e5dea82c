/*
 * proxy.c - the length/complexity proxies (see proxy.h).
 */
#include <stdio.h>
#include <string.h>

#include "proxy.h"

int proxy_init(struct proxy *p, const struct llmr_host *host,
               const struct llmr_config *cf)
{
  const struct llmr_value *o;
  memset(p, 0, sizeof(*p));
  o = host->opt(cf, "when_complexity");
  p->when_complexity = o && o->str ? o->d : -1;
  o = host->opt(cf, "when_tokens");
  p->when_tokens = o && o->str ? (long)o->i : 0;
  o = host->opt(cf, "when_count");
  p->when_count = o && o->str ? (long)o->i : 1;
  if(p->when_count < 1) {
    host->config_error(cf, "when_count=%ld: expected 1 or more",
                       p->when_count);
    return -1;
  }
  o = host->opt(cf, "when_pattern");
  if(o && o->str && *o->str) {
    OnigErrorInfo einfo;
    int rc = onig_new(&p->when_re, (const OnigUChar *)o->str,
                      (const OnigUChar *)o->str + strlen(o->str),
                      ONIG_OPTION_IGNORECASE, ONIG_ENCODING_UTF8,
                      ONIG_SYNTAX_PERL_NG, &einfo);
    if(rc != ONIG_NORMAL) {
      OnigUChar msg[ONIG_MAX_ERROR_MESSAGE_LEN];
      onig_error_code_to_str(msg, rc, &einfo);
      p->when_re = NULL;
      host->config_error(cf, "when_pattern: bad regex \"%s\": %s", o->str,
                         (char *)msg);
      return -1;
    }
  }
  return 0;
}

int proxy_configured(const struct proxy *p)
{
  return p->when_complexity >= 0 || p->when_tokens > 0 || p->when_re;
}

/* Matches of re in the n bytes at s (non-overlapping, at most max). */
static long count_matches(OnigRegex re, const char *s, size_t n, long max)
{
  const OnigUChar *b = (const OnigUChar *)s, *e = b + n, *at = b;
  OnigRegion *reg = onig_region_new();
  long hits = 0;
  if(!reg)
    return 0;
  while(at <= e && hits < max &&
        onig_search(re, b, e, at, e, reg, ONIG_OPTION_NONE) >= 0) {
    hits++;
    /* go on after the match; past an empty match by one byte */
    at = b + (reg->end[0] > reg->beg[0] ? reg->end[0] : reg->end[0] + 1);
    onig_region_clear(reg);
  }
  onig_region_free(reg, 1);
  return hits;
}

/* Borrows req.  Matches of p->when_re in the text of the user messages
 * (host->request_text()), stopping at p->when_count. */
static long count_in_request(const struct proxy *p,
                             const struct llmr_host *host, jv req)
{
  jv text = host->request_text(req, LLMR_TEXT_USER);
  long hits = 0;

  if(jv_get_kind(text) == JV_KIND_STRING)
    hits = count_matches(p->when_re, jv_string_value(text),
                         (size_t)jv_string_length_bytes(jv_copy(text)),
                         p->when_count);
  jv_free(text);
  return hits;
}

int proxy_fires(const struct proxy *p, const struct llmr_host *host,
                jv req, jv route, char *why, size_t n)
{
  if(p->when_complexity >= 0 && jv_get_kind(route) == JV_KIND_OBJECT) {
    jv c = jv_object_get(jv_copy(route), jv_string("complexity"));
    int hit = jv_get_kind(c) == JV_KIND_NUMBER &&
              jv_number_value(c) >= p->when_complexity;
    if(hit)
      snprintf(why, n, "complexity %.2f >= %.2f", jv_number_value(c),
               p->when_complexity);
    jv_free(c);
    if(hit)
      return 1;
  }
  if(p->when_tokens > 0 && jv_get_kind(req) == JV_KIND_OBJECT) {
    jv body = jv_object_get(jv_copy(req), jv_string("body"));
    long t = jv_get_kind(body) == JV_KIND_OBJECT
                 ? host->estimate_tokens(body) : 0;
    jv_free(body);
    if(t >= p->when_tokens) {
      snprintf(why, n, "%ld input tokens >= %ld", t, p->when_tokens);
      return 1;
    }
  }
  if(p->when_re) {
    long hits = count_in_request(p, host, req);
    if(hits >= p->when_count) {
      snprintf(why, n, "%ld when_pattern match%s >= %ld", hits,
               hits == 1 ? "" : "es", p->when_count);
      return 1;
    }
  }
  return 0;
}

void proxy_free(struct proxy *p)
{
  if(p->when_re)
    onig_free(p->when_re);
  p->when_re = NULL;
}
