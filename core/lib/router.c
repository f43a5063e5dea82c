/*
 * router.c - the learned router's features, file and policy (router.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "router.h"

/* The last paragraph of text: after the last blank line that leaves a
 * non-blank rest. */
static const char *last_paragraph(const char *text, size_t len,
                                  size_t *plen)
{
  size_t i, end = len, start = 0;

  while(end && (text[end - 1] == '\n' || text[end - 1] == ' ' ||
                text[end - 1] == '\r' || text[end - 1] == '\t'))
    end--;
  for(i = end; i >= 2; i--)
    if(text[i - 1] == '\n' && text[i - 2] == '\n') {
      start = i;
      break;
    }
  *plen = end - start;
  return text + start;
}

/* A hashed shape feature "name=value" into feats[n]. */
static size_t shape(uint32_t *feats, size_t n, unsigned bits,
                    const char *name, long value)
{
  char buf[64];
  int w = snprintf(buf, sizeof(buf), "rf:%s=%ld", name, value);

  if(n < TF_MAX_FEATS && w > 0)
    feats[n++] = tf_hash(buf, (size_t)w) & ((1u << bits) - 1);
  return n;
}

size_t router_features(const char *text, size_t len, unsigned bits,
                       uint32_t *feats)
{
  struct tf_signals sig;
  size_t plen, n, i, cut = len > TF_TEXT_MAX - 8 ? TF_TEXT_MAX - 8 : len;
  const char *para = last_paragraph(text, len, &plen);
  long options = 0, paras = 0, blank = 0, lines = 0;
  int lg = 0;

  n = tf_text_features(para, plen, plen, TF_F_WORDS | TF_F_BIGRAMS, bits,
                       feats, NULL);
  /* the signal buckets of the whole text (its head: they count bytes) */
  if(n < TF_MAX_FEATS) {
    uint32_t more[TF_MAX_FEATS];
    size_t k = tf_text_features(text, cut, len, TF_F_SIGNALS, bits, more,
                                &sig), j;
    for(j = 0; j < k && n < TF_MAX_FEATS; j++)
      feats[n++] = more[j];
  }
  for(i = 0; i < plen; i++) {
    if(i == 0 || para[i - 1] == '\n') {
      lines++;
      if(i + 1 < plen && para[i] >= 'A' && para[i] <= 'H' &&
         (para[i + 1] == ')' || para[i + 1] == '.' || para[i + 1] == ':'))
        options++;
    }
    if(para[i] == '_' && (i == 0 || para[i - 1] == ' '))
      blank = 1;
  }
  for(i = 1; i < len; i++)
    paras += text[i] == '\n' && text[i - 1] == '\n';
  for(i = len; i > 1 && lg < 20; i >>= 1)
    lg++;
  n = shape(feats, n, bits, "options", options > 6 ? 6 : options);
  n = shape(feats, n, bits, "blank", blank);
  n = shape(feats, n, bits, "paragraphs", paras > 8 ? 8 : paras);
  n = shape(feats, n, bits, "lines", lines > 12 ? 12 : lines);
  n = shape(feats, n, bits, "log2len", lg);
  n = shape(feats, n, bits, "bias", 1);
  return n;
}

struct tf_model *router_load(const char *path, char *err, size_t errlen)
{
  struct tf_model *r = tf_model_load(path, err, errlen);

  if(r && strcmp(r->algo, "ovr")) {
    snprintf(err, errlen, "%s: not a router (algo %s; a router is written "
             "by `llmroute train --outcomes`)", path, r->algo);
    tf_model_free(r);
    return NULL;
  }
  return r;
}

double router_threshold(const struct tf_model *r, double q)
{
  const char *s = tf_model_meta(r, "thresholds");
  double best_q = 2, best_t = 0, top_q = -1, top_t = 0;

  while(s && *s) {
    char *end;
    double tq = strtod(s, &end), tt;
    if(end == s || *end != ':')
      break;
    tt = strtod(end + 1, &end);
    if(tq >= q - 1e-9 && tq < best_q) {
      best_q = tq;
      best_t = tt;
    }
    if(tq > top_q) {
      top_q = tq;
      top_t = tt;
    }
    s = end;
    while(*s == ' ')
      s++;
  }
  return best_q <= 1.5 ? best_t : top_t;
}

int router_tier(const struct tf_model *r, const char *name)
{
  const char *s = tf_model_meta(r, "tiers");
  size_t k = strlen(name);

  while(s && *s) {
    const char *sp = strchr(s, ' '), *colon;
    size_t len = sp ? (size_t)(sp - s) : strlen(s);
    colon = memchr(s, ':', len);
    while(colon && memchr(colon + 1, ':', len - (size_t)(colon + 1 - s)))
      colon = memchr(colon + 1, ':', len - (size_t)(colon + 1 - s));
    if(colon && (size_t)(colon - s) == k && !strncmp(s, name, k))
      return atoi(colon + 1);
    s = sp ? sp + 1 : s + len;
  }
  return 0;
}

int router_choose(const double *p, const double *cost, const char *skip,
                  int n, double t)
{
  double best = -1;
  int i, pick = -1;

  for(i = 0; i < n; i++)
    if((!skip || !skip[i]) && p[i] > best)
      best = p[i];
  if(best < 0)
    return -1;
  for(i = 0; i < n; i++) {
    if((skip && skip[i]) || p[i] < t * best)
      continue;
    if(pick < 0 || cost[i] < cost[pick] ||
       (cost[i] == cost[pick] && p[i] > p[pick]))
      pick = i;
  }
  return pick;
}
