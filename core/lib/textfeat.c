/*
 * textfeat.c - the text featurizer shared by `llmroute train` and the
 * classify stage.  See textfeat.h for the interface.
 *
 * The complexity score (tf_complexity) is a "noisy OR" of signals:
 *
 *   complexity = 1 - (1 - prior) * PRODUCT over i of (1 - w_i * s_i)
 *
 * where every s_i is a signal scaled into [0, 1] and w_i its weight:
 *
 *   signal     s_i                                        w_i
 *   length     min(1, ln(1 + words) / ln(1 + 4000))       L (below)
 *   questions  min(1, (questions - 1) / 4), 0 for <= 1    0.20
 *   steps      min(1, steps / 6)                          0.30
 *   cues       min(1, reasoning cues / 4)                 0.40
 *   code       min(1, code signs / 8)                     0.25
 *   domain     min(1, domain terms / 5)                   0.25
 *   entities   min(1, entities / 20)                      E (below)
 *
 * prior, L and E depend on the task (tf_task_weights):
 *
 *   task                              prior   L      E
 *   chat, unknown labels              0.05    0.45   0.15
 *   classification                    0.05    0.20   0.05
 *   extraction, summarization,
 *   translation                       0.10    0.20   0.05
 *   creative_generation               0.15    0.35   0.10
 *   coding, math                      0.30    0.45   0.15
 *   multi_step_reasoning              0.35    0.45   0.15
 *
 * (for the tasks that transform a pasted text, its length and names say
 * little about how hard the task is).  Since every weight is below 1 the
 * result stays in [0, 1), and it never falls when a signal grows.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include "textfeat.h"
#include "msgtext.h"
#include "jvfast.h"

#define FNV_OFFSET 2166136261u
#define FNV_PRIME 16777619u

/* Per-family seeds, so a word and a char n-gram never share an id. */
#define SEED_WORD 0x9e3779b1u
#define SEED_BIGRAM 0x85ebca6bu
#define SEED_CHAR3 0xc2b2ae35u
#define SEED_CHAR4 0x27d4eb2fu
#define SEED_SIGNAL 0x165667b1u

/* ---------------------------------------------------------------------
 * Hashing
 */

static unsigned char lower(unsigned char c)
{
  return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

/* One byte of FNV-1a. */
static uint32_t fnv_byte(uint32_t h, unsigned char c)
{
  return (h ^ c) * FNV_PRIME;
}

/* Pure. */
uint32_t tf_hash(const char *s, size_t n)
{
  uint32_t h = FNV_OFFSET;
  size_t i;
  for(i = 0; i < n; i++)
    h = fnv_byte(h, lower((unsigned char)s[i]));
  return h;
}

/* murmur3's finaliser: spreads the bits before masking.  Pure. */
static uint32_t mix(uint32_t h)
{
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

/* Pure. */
uint32_t tf_pair(uint32_t a, uint32_t b)
{
  return mix(a * 31u + mix(b ^ 0x5bd1e995u));
}

/* ---------------------------------------------------------------------
 * Which text: user and system messages, head and tail
 */

/* Frees the keys the message walker keeps (a stage's finish, the end of
 * train); the next walk makes them again. */
void tf_release(void)
{
  mt_release();
}

struct textbuf {
  char *buf;
  size_t cap;   /* usable bytes, NUL excluded */
  size_t total; /* whole text length */
  size_t pos;   /* bytes of the whole text seen so far (second pass) */
  size_t len;   /* bytes written into buf */
  int pass;     /* 0: measure, 1: copy */
};

/* Borrows p.  Pass 0 measures (and copies while the text fits); pass 1
 * copies the bytes falling in the head or tail window. */
static void emit(void *ctx, const char *p, size_t n)
{
  struct textbuf *tb = ctx;
  size_t i;
  if(tb->pass == 0) {
    /* measure, and copy while it fits: most prompts need no 2nd pass */
    if(tb->total + n <= tb->cap)
      memcpy(tb->buf + tb->total, p, n);
    tb->total += n;
    return;
  }
  /* second pass, the text is too long: copy what of p[0..n) falls in
     the head [0, TF_HEAD) and the tail [total - TF_TAIL, total), with a
     newline where the tail starts */
  if(tb->pos < TF_HEAD) {
    i = TF_HEAD - tb->pos < n ? TF_HEAD - tb->pos : n;
    memcpy(tb->buf + tb->len, p, i);
    tb->len += i;
  }
  if(tb->pos + n > tb->total - TF_TAIL) {
    size_t from = tb->total - TF_TAIL;
    i = tb->pos >= from ? 0 : from - tb->pos;
    if(tb->pos <= from)
      tb->buf[tb->len++] = '\n';
    memcpy(tb->buf + tb->len, p + i, n - i);
    tb->len += n - i;
  }
  tb->pos += n;
}

/* Borrows holder.  The text the classifier looks at: user and system
 * messages (the shared walker, msgtext.c). */
static void walk_text(struct textbuf *tb, jv holder)
{
  mt_walk(holder, LLMR_TEXT_USER | LLMR_TEXT_SYSTEM, emit, tb);
}

/* Borrows holder; writes buf.  See textfeat.h. */
size_t tf_request_text(jv holder, char *buf, size_t cap, size_t *total)
{
  struct textbuf tb;
  if(total)
    *total = 0;
  if(!buf || !cap)
    return 0;
  memset(&tb, 0, sizeof(tb));
  tb.buf = buf;
  tb.cap = cap - 1;
  walk_text(&tb, holder);
  if(tb.total <= tb.cap)
    tb.len = tb.total; /* copied by the first pass */
  else if(tb.cap >= TF_HEAD + TF_TAIL + 1) {
    tb.pass = 1;
    walk_text(&tb, holder);
  }
  /* else too small for head + tail: keep nothing */
  buf[tb.len] = '\0';
  if(total)
    *total = tb.total;
  return tb.len;
}

/* ---------------------------------------------------------------------
 * Tokens
 */

/* Byte classes, one table lookup each: ASCII letters and any byte of a
 * multi-byte character are letters; '_' and digits continue a word. */
enum { CC_ALPHA = 1, CC_DIGIT = 2, CC_SPACE = 4, CC_WORD = 8 };
static unsigned char cclass[256];
static unsigned char word_lower[256]; /* a word byte lower-cased, else 0 */
static int cclass_ready;

static void cclass_init(void)
{
  int c;
  if(cclass_ready)
    return;
  for(c = 0; c < 256; c++) {
    unsigned char k = 0;
    if((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80)
      k |= CC_ALPHA | CC_WORD;
    if(c >= '0' && c <= '9')
      k |= CC_DIGIT | CC_WORD;
    if(c == '_')
      k |= CC_WORD;
    if(c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
       c == '\v')
      k |= CC_SPACE;
    cclass[c] = k;
    word_lower[c] = (k & CC_WORD) ? lower((unsigned char)c) : 0;
  }
  cclass_ready = 1;
}

/* each 0 or 1 */
#define is_alpha(c) (cclass[(unsigned char)(c)] & CC_ALPHA)
#define is_digit(c) ((cclass[(unsigned char)(c)] & CC_DIGIT) >> 1)
#define is_space(c) ((cclass[(unsigned char)(c)] & CC_SPACE) >> 2)

/* Borrows s; writes toks.  Pure. */
size_t tf_tokenize(const char *s, size_t n, struct tf_token *toks,
                   size_t max)
{
  const unsigned char *u = (const unsigned char *)s;
  size_t i = 0, nt = 0;
  cclass_init();
  while(i < n && nt < max) {
    unsigned char c = u[i];
    size_t start = i;
    struct tf_token *t;
    if(is_space(c)) {
      i++;
      continue;
    }
    t = &toks[nt++];
    t->off = (uint32_t)start;
    t->cap = (c >= 'A' && c <= 'Z');
    if(is_alpha(c)) {
      /* tf_hash() of the word, computed while it is scanned */
      uint32_t h = FNV_OFFSET;
      unsigned char w;
      while(i < n && (w = word_lower[u[i]]) != 0) {
        h = fnv_byte(h, w); /* as tf_hash(): w is lower-cased */
        i++;
      }
      t->kind = TF_WORD;
      t->hash = h;
    }
    else if(is_digit(c)) {
      /* numbers are hashed by their count of digits (1, 2, 3, 4+) */
      static const char *const shapes[] = {"#1", "#2", "#3", "#4"};
      size_t digits = 0;
      while(i < n && (is_digit(u[i]) ||
                      ((u[i] == '.' || u[i] == ',') && i + 1 < n &&
                       is_digit(u[i + 1])))) {
        digits += is_digit(u[i]);
        i++;
      }
      t->kind = TF_NUM;
      digits = digits > 4 ? 4 : digits;
      t->hash = tf_hash(shapes[digits - 1], 2);
    }
    else {
      i++;
      if(c == '`')
        while(i < n && u[i] == '`')
          i++;
      t->kind = TF_SYM;
      t->hash = tf_hash(s + start, i - start > 3 ? 3 : i - start);
    }
    t->len = (uint16_t)(i - start > 65535 ? 65535 : i - start);
  }
  return nt;
}

/* ---------------------------------------------------------------------
 * Word classes for the signals: a small hash set built on first use
 */

enum wclass {
  WC_NONE = 0,
  WC_CUE,    /* reasoning cue */
  WC_STEP,   /* sequencing word */
  WC_CODE,   /* code keyword */
  WC_DOMAIN  /* domain term */
};

static const char *const cue_words[] = {
  "why", "explain", "prove", "proof", "derive", "justify", "analyze",
  "analyse", "analysis", "compare", "contrast", "evaluate", "reason",
  "reasoning", "tradeoff", "tradeoffs", "implications", "plan", "strategy",
  "design", "optimize", "optimise", "assess", "critique", "debug",
  "diagnose", "recommend", "prioritize", "estimate", "hypothesis",
  "consequences", "weigh", "pros", "cons", "investigate", NULL};
static const char *const step_words[] = {
  "first", "then", "next", "finally", "afterwards", "step", "steps",
  "stage", "phase", "secondly", "thirdly", "subsequently", NULL};
static const char *const code_words[] = {
  "def", "elif", "printf", "println", "const", "lambda", "async", "await",
  "std", "void", "nullptr", "struct", "impl", "fn", "func", "var", "let",
  "import", "return", "regex", "sql", "python", "javascript", "typescript",
  "rust", "golang", "java", "bash", "json", "yaml", "dockerfile", NULL};
static const char *const domain_words[] = {
  "contract", "liability", "compliance", "gdpr", "hipaa", "regulation",
  "regulatory", "kubernetes", "terraform", "latency", "throughput",
  "database", "schema", "api", "microservice", "microservices",
  "regression", "coefficient", "theorem", "lemma", "integral",
  "derivative", "eigenvalue", "probability", "clinical", "diagnosis",
  "revenue", "ebitda", "amortization", "tax", "portfolio", "encryption",
  "vulnerability", "architecture", "distributed", "concurrency",
  "algorithm", "asymptotic", "statistical", "variance", "covariance",
  "indemnification", "jurisdiction", "pharmacokinetics", "genomic",
  "quantum", "thermodynamics", "derivatives", "hedging", "audit", NULL};

#define WC_SLOTS 2048 /* mostly empty: most words are in no class */
static uint32_t wc_hash[WC_SLOTS];
static unsigned char wc_class[WC_SLOTS];
static int wc_ready;

/* Two-word cues, looked up by pair hash; their first words, so a pair is
 * only looked up after one of them. */
static const char *const pair_cues[][2] = {
  {"by", "step"}, {"root", "cause"}, {"what", "if"}};
#define NPAIRS (sizeof(pair_cues) / sizeof(pair_cues[0]))
static uint32_t pair_first[NPAIRS];

static void wc_add(uint32_t h, enum wclass c)
{
  uint32_t i = mix(h) & (WC_SLOTS - 1);
  while(wc_class[i] && wc_hash[i] != h)
    i = (i + 1) & (WC_SLOTS - 1);
  wc_hash[i] = h;
  wc_class[i] = (unsigned char)c;
}

static void wc_add_list(const char *const *w, enum wclass c)
{
  for(; *w; w++)
    wc_add(tf_hash(*w, strlen(*w)), c);
}

/* Builds the table once (the program has one thread). */
static void wc_init(void)
{
  size_t i;

  if(wc_ready)
    return;
  wc_add_list(cue_words, WC_CUE);
  wc_add_list(step_words, WC_STEP);
  wc_add_list(code_words, WC_CODE);
  wc_add_list(domain_words, WC_DOMAIN);
  for(i = 0; i < NPAIRS; i++) {
    const char *a = pair_cues[i][0], *b = pair_cues[i][1];
    pair_first[i] = tf_hash(a, strlen(a));
    wc_add(tf_pair(pair_first[i], tf_hash(b, strlen(b))), WC_CUE);
  }
  wc_ready = 1;
}

static enum wclass wc_lookup(uint32_t h)
{
  uint32_t i = mix(h) & (WC_SLOTS - 1);
  while(wc_class[i]) {
    if(wc_hash[i] == h)
      return (enum wclass)wc_class[i];
    i = (i + 1) & (WC_SLOTS - 1);
  }
  return WC_NONE;
}

/* 1 when a word of hash h starts a two-word cue. */
static int is_pair_first(uint32_t h)
{
  size_t i;

  for(i = 0; i < NPAIRS; i++)
    if(pair_first[i] == h)
      return 1;
  return 0;
}

/* ---------------------------------------------------------------------
 * Signals and complexity
 */

/* The line u[a..b), ended by a newline at b when b < n: a list item
 * ("- ", "* ", "1." or "1)" at its first non-blank byte) is a step, and
 * a line ending in ';' or '{' is a code sign. */
static void line_signals(const unsigned char *u, size_t n, size_t a,
                         size_t b, struct tf_signals *sig)
{
  size_t i = a;

  if(b < n && b > 0 && (u[b - 1] == ';' || u[b - 1] == '{'))
    sig->code++;
  while(i < b && is_space(u[i]))
    i++;
  if(i == b)
    return;
  if((u[i] == '-' || u[i] == '*') && i + 1 < n && u[i + 1] == ' ')
    sig->steps++;
  else if(is_digit(u[i])) {
    while(i < n && is_digit(u[i]))
      i++;
    if(i < n && (u[i] == '.' || u[i] == ')'))
      sig->steps++;
  }
}

/* Borrows s; adds to *sig.  See textfeat.h. */
void tf_byte_signals(const char *s, size_t n, struct tf_signals *sig,
                     int bytewise)
{
  const unsigned char *u = (const unsigned char *)s;
  size_t i = 0, line = 0;

  cclass_init();
#if defined(__SSE2__)
  /* 16 bytes a step: count the '?', visit the newlines */
  for(; !bytewise && n - i >= 16; i += 16) {
    __m128i c = _mm_loadu_si128((const __m128i *)(const void *)(u + i));
    unsigned q = (unsigned)_mm_movemask_epi8(
        _mm_cmpeq_epi8(c, _mm_set1_epi8('?')));
    unsigned nl = (unsigned)_mm_movemask_epi8(
        _mm_cmpeq_epi8(c, _mm_set1_epi8('\n')));

    for(; q; q &= q - 1)
      sig->questions++;
    for(; nl; nl &= nl - 1) {
      size_t at = i + (size_t)__builtin_ctz(nl);
      line_signals(u, n, line, at, sig);
      line = at + 1;
    }
  }
#else
  (void)bytewise;
#endif
  for(; i < n; i++) {
    if(u[i] == '?')
      sig->questions++;
    else if(u[i] == '\n') {
      line_signals(u, n, line, i, sig);
      line = i + 1;
    }
  }
  line_signals(u, n, line, n, sig);
}

/* Borrows s and toks; writes *sig. */
void tf_signals(const char *s, size_t n, const struct tf_token *toks,
                size_t ntok, size_t total, struct tf_signals *sig)
{
  const unsigned char *u = (const unsigned char *)s;
  size_t i, words = 0;
  cclass_init();
  wc_init();
  memset(sig, 0, sizeof(*sig));
  sig->bytes = total ? total : n;
  tf_byte_signals(s, n, sig, 0);
  /* token pass: words, cues, entities */
  for(i = 0; i < ntok; i++) {
    const struct tf_token *t = &toks[i];
    enum wclass wc;
    if(t->kind == TF_SYM) {
      if(t->len >= 3 && u[t->off] == '`')
        sig->code += 3;
      continue;
    }
    words++;
    if(t->kind == TF_NUM) {
      sig->entities++;
      continue;
    }
    wc = wc_lookup(t->hash);
    if(wc == WC_NONE && i > 0 && toks[i - 1].kind == TF_WORD &&
       is_pair_first(toks[i - 1].hash))
      wc = wc_lookup(tf_pair(toks[i - 1].hash, t->hash));
    if(wc == WC_CUE)
      sig->cues++;
    else if(wc == WC_STEP)
      sig->steps++;
    else if(wc == WC_CODE)
      sig->code++;
    else if(wc == WC_DOMAIN)
      sig->domain++;
    if(t->cap && i > 0) {
      const struct tf_token *p = &toks[i - 1];
      int sentence_start = 0;
      size_t j;
      if(p->kind == TF_SYM && p->len == 1 &&
         (u[p->off] == '.' || u[p->off] == '!' || u[p->off] == '?' ||
          u[p->off] == ':' || u[p->off] == '"'))
        sentence_start = 1;
      for(j = p->off + p->len; j < t->off; j++)
        if(u[j] == '\n')
          sentence_start = 1;
      if(!sentence_start)
        sig->entities++;
    }
  }
  /* scale the word count to the untruncated text */
  if(n && sig->bytes > n)
    words = (size_t)((double)words * (double)sig->bytes / (double)n);
  sig->words = (unsigned)(words > 4000000 ? 4000000 : words);
}

static double clamp01(double x)
{
  return x < 0 ? 0 : (x > 1 ? 1 : x);
}

/* Pure. */
void tf_task_weights(const char *task, struct tf_weights *w)
{
  static const struct {
    const char *task;
    struct tf_weights w;
  } table[] = {
    {"chat", {0.05, 0.45, 0.15}},
    {"classification", {0.05, 0.20, 0.05}},
    {"extraction", {0.10, 0.20, 0.05}},
    {"summarization", {0.10, 0.20, 0.05}},
    {"translation", {0.10, 0.20, 0.05}},
    {"creative_generation", {0.15, 0.35, 0.10}},
    {"coding", {0.30, 0.45, 0.15}},
    {"math", {0.30, 0.45, 0.15}},
    {"multi_step_reasoning", {0.35, 0.45, 0.15}}};
  size_t i;
  *w = table[0].w;
  for(i = 0; task && i < sizeof(table) / sizeof(table[0]); i++)
    if(!strcmp(table[i].task, task))
      *w = table[i].w;
}

/* Pure.  The formula is in the comment at the top of this file. */
double tf_complexity(const struct tf_signals *sig,
                     const struct tf_weights *w)
{
  double keep = 1.0 - clamp01(w->prior > 0.99 ? 0.99 : w->prior);
  double q = sig->questions > 1 ? (sig->questions - 1) / 4.0 : 0;
  keep *= 1 - clamp01(w->length) *
                  clamp01(log1p((double)sig->words) / log1p(4000.0));
  keep *= 1 - 0.20 * clamp01(q);
  keep *= 1 - 0.30 * clamp01(sig->steps / 6.0);
  keep *= 1 - 0.40 * clamp01(sig->cues / 4.0);
  keep *= 1 - 0.25 * clamp01(sig->code / 8.0);
  keep *= 1 - 0.25 * clamp01(sig->domain / 5.0);
  keep *= 1 - clamp01(w->entities) * clamp01(sig->entities / 20.0);
  return clamp01(1.0 - keep);
}

/* ---------------------------------------------------------------------
 * Features
 */

static uint32_t bucket(uint32_t h, uint32_t seed, uint32_t mask)
{
  return mix(h ^ seed) & mask;
}

/* Bucket of a small integer signal value.  Pure. */
static uint32_t signal_feat(uint32_t which, uint32_t level, uint32_t mask)
{
  return bucket(which * 64u + level, SEED_SIGNAL, mask);
}

static uint32_t level_of(unsigned v, unsigned cap)
{
  return v > cap ? cap : v;
}

/* Char n-grams of one word, padded with a space on both sides. */
static size_t char_grams(const char *w, size_t len, size_t gram,
                         uint32_t seed, uint32_t mask, uint32_t *out,
                         size_t max)
{
  char pad[34];
  size_t i, k, n = 0, plen;
  if(len > 30)
    len = 30;
  pad[0] = ' ';
  for(i = 0; i < len; i++)
    pad[i + 1] = (char)lower((unsigned char)w[i]);
  pad[len + 1] = ' ';
  plen = len + 2;
  for(i = 0; i + gram <= plen && n < max; i++) {
    uint32_t h = FNV_OFFSET;
    for(k = 0; k < gram; k++) {
      h ^= (unsigned char)pad[i + k];
      h *= FNV_PRIME;
    }
    out[n++] = bucket(h, seed, mask);
  }
  return n;
}

/* Borrows everything; writes out. */
size_t tf_features(const char *s, const struct tf_token *toks, size_t ntok,
                   const struct tf_signals *sig, unsigned families,
                   unsigned bits, uint32_t *out, size_t max)
{
  uint32_t mask = bits >= 32 ? 0xffffffffu : ((1u << bits) - 1);
  size_t i, n = 0;
  for(i = 0; i < ntok && n < max; i++) {
    const struct tf_token *t = &toks[i];
    if(families & TF_F_WORDS)
      out[n++] = bucket(t->hash, SEED_WORD, mask);
    if((families & TF_F_BIGRAMS) && i > 0 && n < max)
      out[n++] = bucket(tf_pair(toks[i - 1].hash, t->hash), SEED_BIGRAM,
                        mask);
    if(t->kind == TF_WORD && t->len >= 2) {
      if(families & TF_F_CHAR3)
        n += char_grams(s + t->off, t->len, 3, SEED_CHAR3, mask, out + n,
                        max - n);
      if((families & TF_F_CHAR4) && t->len >= 3)
        n += char_grams(s + t->off, t->len, 4, SEED_CHAR4, mask, out + n,
                        max - n);
    }
  }
  if((families & TF_F_SIGNALS) && sig && n + 6 <= max) {
    uint32_t lw = 0;
    unsigned w = sig->words;
    while(w > 1 && lw < 14) {
      w >>= 1;
      lw++;
    }
    out[n++] = signal_feat(1, lw, mask);
    out[n++] = signal_feat(2, level_of(sig->questions, 4), mask);
    out[n++] = signal_feat(3, level_of(sig->steps, 6), mask);
    out[n++] = signal_feat(4, level_of(sig->code, 8), mask);
    out[n++] = signal_feat(5, level_of(sig->cues, 4), mask);
    out[n++] = signal_feat(6, level_of(sig->entities / 4, 5), mask);
  }
  return n;
}

/* ---------------------------------------------------------------------
 * Family names
 */

static const struct {
  const char *name;
  unsigned bit;
} family_names[] = {{"words", TF_F_WORDS},
                    {"bigrams", TF_F_BIGRAMS},
                    {"char3", TF_F_CHAR3},
                    {"char4", TF_F_CHAR4},
                    {"signals", TF_F_SIGNALS}};
#define NFAMILIES (sizeof(family_names) / sizeof(family_names[0]))

/* Borrows s.  A TF_F_* set, or -1 on an unknown name. */
int tf_families_parse(const char *s)
{
  int set = 0;
  while(s && *s) {
    size_t len, i;
    int found = 0;
    while(*s == ',' || *s == ' ')
      s++;
    if(!*s)
      break;
    len = strcspn(s, ", ");
    for(i = 0; i < NFAMILIES; i++)
      if(strlen(family_names[i].name) == len &&
         !strncmp(family_names[i].name, s, len)) {
        set |= (int)family_names[i].bit;
        found = 1;
      }
    if(!found)
      return -1;
    s += len;
  }
  return set;
}

/* Writes buf (NUL-terminated). */
void tf_families_str(unsigned families, char *buf, size_t cap)
{
  size_t i, len = 0;
  if(!cap)
    return;
  buf[0] = '\0';
  for(i = 0; i < NFAMILIES; i++)
    if(families & family_names[i].bit) {
      int w = snprintf(buf + len, cap - len, "%s%s", len ? "," : "",
                       family_names[i].name);
      if(w < 0 || (size_t)w >= cap - len)
        return;
      len += (size_t)w;
    }
}

/* Borrows text; writes feats and *sig. */
size_t tf_text_features(const char *text, size_t len, size_t total,
                        unsigned families, unsigned bits, uint32_t *feats,
                        struct tf_signals *sig)
{
  struct tf_token toks[TF_MAX_TOKENS];
  struct tf_signals local;
  size_t ntok = tf_tokenize(text, len, toks, TF_MAX_TOKENS);
  if(!sig)
    sig = &local;
  tf_signals(text, len, toks, ntok, total, sig);
  return tf_features(text, toks, ntok, sig, families, bits, feats,
                     TF_MAX_FEATS);
}
