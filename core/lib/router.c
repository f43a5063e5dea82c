/*
 * router.c - the learned router's features, file and policy (router.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "router.h"
#include "msgtext.h"

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

/* A hashed shape feature "name=value" (value 0..99) into feats[n]. */
static size_t shape(uint32_t *feats, size_t n, unsigned bits,
                    const char *name, long value)
{
  char buf[48];
  size_t k = strlen(name);

  if(n >= TF_MAX_FEATS || k + 6 > sizeof(buf))
    return n;
  memcpy(buf, "rf:", 3);
  memcpy(buf + 3, name, k);
  k += 3;
  buf[k++] = '=';
  if(value >= 10)
    buf[k++] = (char)('0' + value / 10 % 10);
  buf[k++] = (char)('0' + value % 10);
  feats[n++] = tf_hash(buf, k) & ((1u << bits) - 1);
  return n;
}

size_t router_features(const char *text, size_t len, size_t total,
                       unsigned families, unsigned bits, uint32_t *feats,
                       int *options)
{
  struct tf_token toks[TF_MAX_TOKENS];
  struct tf_signals sig;
  size_t plen, n, i, ntok;
  const char *para = last_paragraph(text, len, &plen);
  long opts = 0, paras = 0, blank = 0, lines = 0;
  int lg = 0;

  /* words, pairs and signals of the last paragraph, where a few-shot
     prompt's question is; the whole text's length and shape below */
  ntok = tf_tokenize(para, plen, toks, TF_MAX_TOKENS);
  if(families & TF_F_SIGNALS)
    tf_signals(para, plen, toks, ntok, plen, &sig);
  n = tf_features(para, toks, ntok, &sig, families, bits, feats,
                  TF_MAX_FEATS);
  for(i = 0; i < plen; i++) { /* each line's start */
    const char *nl;
    lines++;
    if(i + 1 < plen && para[i] >= 'A' && para[i] <= 'H' &&
       (para[i + 1] == ')' || para[i + 1] == '.' || para[i + 1] == ':'))
      opts++;
    nl = memchr(para + i, '\n', plen - i);
    if(!nl)
      break;
    i = (size_t)(nl - para);
  }
  for(i = 0; i < plen && !blank; i++) { /* a fill-in blank " _" */
    const char *u = memchr(para + i, '_', plen - i);
    if(!u)
      break;
    i = (size_t)(u - para);
    blank = i == 0 || para[i - 1] == ' ';
  }
  for(i = 0; i + 1 < len; i++) { /* blank lines */
    const char *nl = memchr(text + i, '\n', len - i - 1);
    if(!nl)
      break;
    i = (size_t)(nl - text);
    paras += text[i + 1] == '\n';
  }
  for(i = total ? total : len; i > 1 && lg < 20; i >>= 1)
    lg++;
  if(options)
    *options = (int)opts;
  n = shape(feats, n, bits, "options", opts > 6 ? 6 : opts);
  n = shape(feats, n, bits, "blank", blank);
  n = shape(feats, n, bits, "paragraphs", paras > 8 ? 8 : paras);
  n = shape(feats, n, bits, "lines", lines > 12 ? 12 : lines);
  n = shape(feats, n, bits, "log2len", lg);
  n = shape(feats, n, bits, "bias", 1);
  return n;
}

/* The tail of the last user message into buf (router.h). */
struct tail {
  char *buf;
  size_t cap, total, pos, len;
  int pass;
};

static void tail_emit(void *ctx, const char *p, size_t n)
{
  struct tail *t = ctx;
  size_t from, skip;

  if(!t->pass) { /* measure, and copy while it fits */
    if(t->total + n <= t->cap)
      memcpy(t->buf + t->total, p, n);
    t->total += n;
    return;
  }
  from = t->total - t->cap; /* the window [from, total) */
  if(t->pos + n > from) {
    skip = t->pos >= from ? 0 : from - t->pos;
    memcpy(t->buf + t->len, p + skip, n - skip);
    t->len += n - skip;
  }
  t->pos += n;
}

size_t router_text(jv request, char *buf, size_t cap, size_t *total)
{
  struct tail t;

  memset(&t, 0, sizeof(t));
  t.buf = buf;
  t.cap = cap - 1;
  mt_walk(request, LLMR_TEXT_USER | LLMR_TEXT_LAST, tail_emit, &t);
  if(t.total <= t.cap)
    t.len = t.total;
  else {
    t.pass = 1;
    mt_walk(request, LLMR_TEXT_USER | LLMR_TEXT_LAST, tail_emit, &t);
  }
  buf[t.len] = '\0';
  *total = t.total;
  return t.len;
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
