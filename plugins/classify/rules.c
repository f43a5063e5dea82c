/*
 * rules.c - parse, compile and match the classify stage's rules file.
 * The format is described in rules.h.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <oniguruma.h>
#include "rules.h"

/* Regex rules: case-insensitive for ASCII letters only (Unicode case
 * folding costs a search about 13 times as much on these alternations of
 * words); ^ and $ at every line. */
#ifdef ONIG_OPTION_IGNORECASE_IS_ASCII
#define RULE_REGEX_OPTIONS (ONIG_OPTION_IGNORECASE | \
                            ONIG_OPTION_IGNORECASE_IS_ASCII | \
                            ONIG_OPTION_NEGATE_SINGLELINE)
#else
#define RULE_REGEX_OPTIONS (ONIG_OPTION_IGNORECASE | \
                            ONIG_OPTION_NEGATE_SINGLELINE)
#endif

#define MAX_PHRASE 8     /* tokens in one keyword phrase */
#define MAX_PRIORITY 1000
#define MAX_RULES 1024

enum rule_kind { RK_KEYWORD, RK_OPENING, RK_REGEX, RK_JQ };

/* Words an opening may follow ("Please summarize", "Can you translate"). */
static const char *const courtesy[] = {
  "please", "kindly", "now", "can you", "could you", "would you",
  "will you", "help me", "i need you to", "i want you to", "i'd like you to",
  NULL};
#define NCOURTESY 11

struct rule {
  char task[TF_LABEL_MAX];
  int prio;
  int line;
  enum rule_kind kind;
  int guarded;          /* RK_REGEX: runs only when a guard phrase is seen */
  regex_t *re;          /* RK_REGEX */
  struct llmr_jq *jq;   /* RK_JQ */
};

/* One keyword phrase: its tokens' hashes.  Phrases with the same first
 * token are chained through `next` from the hash table slot. */
struct phrase {
  uint32_t tok[MAX_PHRASE];
  int ntok;
  int rule;     /* index into rules */
  int opening;  /* only as the first words of a line */
  int guard;    /* enables its regex rule instead of matching */
  int next;     /* next phrase with the same first-token slot, or -1 */
};

struct rules {
  struct rule *rule;
  size_t nrule, caprule;
  struct phrase *ph;
  size_t nph, capph;
  int *slot;          /* first-token hash -> first phrase, or -1 */
  uint32_t nslot;     /* power of two */
  int *order;         /* regex and jq rules, by priority (desc), line */
  size_t norder;
  uint32_t court[NCOURTESY][MAX_PHRASE]; /* courtesy phrases' tokens */
  int ncourt[NCOURTESY];
  const struct llmr_host *host;
};

/* ---------------------------------------------------------------------
 * Errors
 */

/* Sets *errmsg to a malloc'd "name:line: message". */
static void set_err(char **errmsg, const char *name, int line,
                    const char *fmt, ...) LLMR_PRINTF(4, 5);
static void set_err(char **errmsg, const char *name, int line,
                    const char *fmt, ...)
{
  char msg[512];
  va_list ap;
  size_t len;
  if(!errmsg)
    return;
  free(*errmsg);
  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  len = strlen(name) + strlen(msg) + 32;
  *errmsg = malloc(len);
  if(*errmsg)
    snprintf(*errmsg, len, "%s:%d: %s", name, line, msg);
}

/* ---------------------------------------------------------------------
 * Building
 */

/* Accepts NULL. */
void rules_free(struct rules *r)
{
  size_t i;
  if(!r)
    return;
  for(i = 0; i < r->nrule; i++) {
    if(r->rule[i].re)
      onig_free(r->rule[i].re);
    if(r->rule[i].jq && r->host && r->host->jq_free)
      r->host->jq_free(r->rule[i].jq);
  }
  free(r->rule);
  free(r->ph);
  free(r->slot);
  free(r->order);
  free(r);
}

size_t rules_count(const struct rules *r)
{
  return r ? r->nrule : 0;
}

static struct rule *add_rule(struct rules *r)
{
  if(r->nrule == r->caprule) {
    size_t cap = r->caprule ? r->caprule * 2 : 32;
    struct rule *p = realloc(r->rule, cap * sizeof(*p));
    if(!p)
      return NULL;
    r->rule = p;
    r->caprule = cap;
  }
  memset(&r->rule[r->nrule], 0, sizeof(struct rule));
  return &r->rule[r->nrule++];
}

/* Borrows kw.  Adds one phrase of rule ri (opening / guard flags); 0, or
 * -1 with why. */
static int add_phrase(struct rules *r, int ri, const char *kw, size_t len,
                      int opening, int guard, const char **why)
{
  struct tf_token toks[MAX_PHRASE + 1];
  size_t n = tf_tokenize(kw, len, toks, MAX_PHRASE + 1), i;
  struct phrase *p;
  if(!n) {
    *why = "empty keyword";
    return -1;
  }
  if(n > MAX_PHRASE) {
    *why = "keyword phrase longer than 8 tokens";
    return -1;
  }
  if(r->nph == r->capph) {
    size_t cap = r->capph ? r->capph * 2 : 64;
    struct phrase *np = realloc(r->ph, cap * sizeof(*np));
    if(!np) {
      *why = "out of memory";
      return -1;
    }
    r->ph = np;
    r->capph = cap;
  }
  p = &r->ph[r->nph++];
  for(i = 0; i < n; i++)
    p->tok[i] = toks[i].hash;
  p->ntok = (int)n;
  p->rule = ri;
  p->opening = opening;
  p->guard = guard;
  p->next = -1;
  return 0;
}

static uint32_t slot_of(const struct rules *r, uint32_t h)
{
  h ^= h >> 15;
  h *= 0x2c1b3c6du;
  h ^= h >> 12;
  return h & (r->nslot - 1);
}

/* Chains every phrase into the first-token table; 0 or -1 (memory). */
static int build_table(struct rules *r)
{
  size_t i;
  r->nslot = 64;
  while(r->nslot < 8 * r->nph) /* mostly empty: most words start no phrase */
    r->nslot <<= 1;
  r->slot = malloc(r->nslot * sizeof(int));
  if(!r->slot)
    return -1;
  for(i = 0; i < r->nslot; i++)
    r->slot[i] = -1;
  /* insert back to front so each chain lists phrases in file order */
  for(i = r->nph; i-- > 0;) {
    uint32_t s = slot_of(r, r->ph[i].tok[0]);
    r->ph[i].next = r->slot[s];
    r->slot[s] = (int)i;
  }
  return 0;
}

static const struct rules *sort_ctx;

static int by_priority(const void *a, const void *b)
{
  const struct rule *x = &sort_ctx->rule[*(const int *)a];
  const struct rule *y = &sort_ctx->rule[*(const int *)b];
  if(x->prio != y->prio)
    return y->prio - x->prio;
  return x->line - y->line;
}

static int build_order(struct rules *r)
{
  size_t i;
  r->order = malloc((r->nrule ? r->nrule : 1) * sizeof(int));
  if(!r->order)
    return -1;
  for(i = 0; i < r->nrule; i++)
    if(r->rule[i].kind == RK_REGEX || r->rule[i].kind == RK_JQ)
      r->order[r->norder++] = (int)i;
  sort_ctx = r;
  qsort(r->order, r->norder, sizeof(int), by_priority);
  sort_ctx = NULL;
  return 0;
}

/* Adds the comma-separated phrases of list[0..len) to rule ri; 0, or -1
 * with *why. */
static int add_list(struct rules *r, int ri, const char *list, size_t len,
                    int opening, int guard, const char **why)
{
  const char *end = list + len;
  while(list < end) {
    const char *comma = memchr(list, ',', (size_t)(end - list));
    const char *kw = list, *stop = comma ? comma : end;
    size_t n;
    while(kw < stop && (*kw == ' ' || *kw == '\t' || *kw == '"'))
      kw++;
    n = (size_t)(stop - kw);
    while(n && (kw[n - 1] == ' ' || kw[n - 1] == '\t' || kw[n - 1] == '"'))
      n--;
    if(add_phrase(r, ri, kw, n, opening, guard, why))
      return -1;
    list = comma ? comma + 1 : end;
  }
  return 0;
}

/* Compiles one rule line (NUL-terminated, comment stripped).  0, or -1
 * with *errmsg set. */
static int parse_line(struct rules *r, char *s, const char *name, int line,
                      char **errmsg)
{
  char *task, *prio, *kind, *pat, *end, *colon, *guard;
  struct rule *ru;
  long pv;
  int ri;
  task = s + strspn(s, " \t");
  end = task + strcspn(task, " \t");
  if(end == task)
    return 0;
  if(!*end) {
    set_err(errmsg, name, line, "expected 'TASK PRIORITY KIND: PATTERN'");
    return -1;
  }
  *end = '\0';
  if((size_t)(end - task) >= TF_LABEL_MAX ||
     strspn(task, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                  "0123456789_-") != (size_t)(end - task)) {
    set_err(errmsg, name, line, "bad task name '%s' (letters, digits, _ "
            "and -, at most %d bytes)", task, TF_LABEL_MAX - 1);
    return -1;
  }
  prio = end + 1 + strspn(end + 1, " \t");
  errno = 0;
  pv = strtol(prio, &end, 10);
  if(end == prio || errno || pv < 0 || pv > MAX_PRIORITY ||
     (*end != ' ' && *end != '\t')) {
    set_err(errmsg, name, line, "bad priority (an integer 0..%d after the "
            "task name)", MAX_PRIORITY);
    return -1;
  }
  kind = end + strspn(end, " \t");
  colon = strchr(kind, ':');
  if(!colon) {
    set_err(errmsg, name, line, "expected KIND: (keyword:, regex: or "
            "jq:) after the priority");
    return -1;
  }
  *colon = '\0';
  guard = strchr(kind, '[');
  if(guard) {
    char *close = strchr(guard, ']');
    if(!close || close[1]) {
      set_err(errmsg, name, line, "expected regex[WORD, ...]: PATTERN");
      return -1;
    }
    *guard++ = '\0';
    *close = '\0';
  }
  end = kind + strlen(kind);
  while(end > kind && (end[-1] == ' ' || end[-1] == '\t'))
    *--end = '\0';
  pat = colon + 1 + strspn(colon + 1, " \t");
  end = pat + strlen(pat);
  while(end > pat && (end[-1] == ' ' || end[-1] == '\t' ||
                      end[-1] == '\r' || end[-1] == '\n'))
    *--end = '\0';
  if(!*pat) {
    set_err(errmsg, name, line, "empty pattern");
    return -1;
  }
  if(r->nrule >= MAX_RULES) {
    set_err(errmsg, name, line, "more than %d rules", MAX_RULES);
    return -1;
  }
  ru = add_rule(r);
  if(!ru) {
    set_err(errmsg, name, line, "out of memory");
    return -1;
  }
  ri = (int)(r->nrule - 1);
  snprintf(ru->task, sizeof(ru->task), "%s", task);
  ru->prio = (int)pv;
  ru->line = line;
  if(guard && strcmp(kind, "regex")) {
    set_err(errmsg, name, line, "only regex rules take [guard words]");
    return -1;
  }
  if(!strcmp(kind, "keyword") || !strcmp(kind, "opening")) {
    const char *why = NULL;
    int opening = !strcmp(kind, "opening");
    ru->kind = opening ? RK_OPENING : RK_KEYWORD;
    if(add_list(r, ri, pat, strlen(pat), opening, 0, &why)) {
      set_err(errmsg, name, line, "%s in the keyword list", why);
      return -1;
    }
  }
  else if(!strcmp(kind, "regex")) {
    OnigErrorInfo einfo;
    int rc;
    ru->kind = RK_REGEX;
    if(guard) {
      const char *why = NULL;
      ru->guarded = 1;
      if(add_list(r, ri, guard, strlen(guard), 0, 1, &why)) {
        set_err(errmsg, name, line, "%s in the [guard] list", why);
        return -1;
      }
    }
    rc = onig_new(&ru->re, (const UChar *)pat, (const UChar *)end,
                  RULE_REGEX_OPTIONS, ONIG_ENCODING_UTF8, ONIG_SYNTAX_PERL,
                  &einfo);
    if(rc != ONIG_NORMAL) {
      UChar msg[ONIG_MAX_ERROR_MESSAGE_LEN];
      onig_error_code_to_str(msg, rc, &einfo);
      ru->re = NULL;
      set_err(errmsg, name, line, "bad regex: %s", (const char *)msg);
      return -1;
    }
  }
  else if(!strcmp(kind, "jq")) {
    char *jqerr = NULL;
    ru->kind = RK_JQ;
    if(!r->host || !r->host->jq_compile) {
      set_err(errmsg, name, line, "jq rules need the runner's jq support");
      return -1;
    }
    ru->jq = r->host->jq_compile(pat, &jqerr);
    if(!ru->jq) {
      set_err(errmsg, name, line, "bad jq program: %s",
              jqerr ? jqerr : "compile error");
      free(jqerr);
      return -1;
    }
    free(jqerr);
  }
  else {
    set_err(errmsg, name, line, "unknown kind '%s' (keyword, opening, "
            "regex or jq)", kind);
    return -1;
  }
  return 0;
}

/* Borrows text.  New rules or NULL with *errmsg.  See rules.h. */
struct rules *rules_parse(const char *text, const char *name,
                          const struct llmr_host *host, char **errmsg)
{
  struct rules *r = calloc(1, sizeof(*r));
  char *copy = NULL, *s, *next;
  int line = 0;
  if(errmsg)
    *errmsg = NULL;
  if(!r)
    goto oom;
  r->host = host;
  {
    int k;
    for(k = 0; k < NCOURTESY; k++) {
      struct tf_token t[MAX_PHRASE];
      size_t n = tf_tokenize(courtesy[k], strlen(courtesy[k]), t,
                             MAX_PHRASE), j;
      for(j = 0; j < n; j++)
        r->court[k][j] = t[j].hash;
      r->ncourt[k] = (int)n;
    }
  }
  copy = strdup(text);
  if(!copy)
    goto oom;
  for(s = copy; s && *s; s = next) {
    char *hash;
    next = strchr(s, '\n');
    if(next)
      *next++ = '\0';
    line++;
    /* '#' starts a comment at the start of a line or after a blank */
    for(hash = s; (hash = strchr(hash, '#')) != NULL; hash++)
      if(hash == s || hash[-1] == ' ' || hash[-1] == '\t') {
        *hash = '\0';
        break;
      }
    if(parse_line(r, s, name, line, errmsg))
      goto fail;
  }
  if(build_table(r) || build_order(r))
    goto oom;
  free(copy);
  return r;
oom:
  set_err(errmsg, name, line, "out of memory");
fail:
  free(copy);
  rules_free(r);
  return NULL;
}

/* New rules or NULL with *errmsg.  See rules.h. */
struct rules *rules_load(const char *path, const struct llmr_host *host,
                         char **errmsg)
{
  FILE *f = fopen(path, "r");
  char *buf = NULL;
  size_t len = 0, cap = 0;
  struct rules *r;
  if(errmsg)
    *errmsg = NULL;
  if(!f) {
    set_err(errmsg, path, 0, "cannot open: %s", strerror(errno));
    return NULL;
  }
  for(;;) {
    size_t got;
    if(len + 4096 + 1 > cap) {
      char *nb;
      cap = cap ? cap * 2 : 8192;
      nb = realloc(buf, cap);
      if(!nb) {
        free(buf);
        fclose(f);
        set_err(errmsg, path, 0, "out of memory");
        return NULL;
      }
      buf = nb;
    }
    got = fread(buf + len, 1, 4096, f);
    len += got;
    if(got < 4096)
      break;
  }
  if(ferror(f)) {
    free(buf);
    fclose(f);
    set_err(errmsg, path, 0, "read error");
    return NULL;
  }
  fclose(f);
  buf[len] = '\0';
  r = rules_parse(buf, path, host, errmsg);
  free(buf);
  return r;
}

/* ---------------------------------------------------------------------
 * Matching
 */

/* Is rule a better match than rule b (-1: none yet)? */
static int beats(const struct rules *r, int a, int b)
{
  if(b < 0)
    return 1;
  if(r->rule[a].prio != r->rule[b].prio)
    return r->rule[a].prio > r->rule[b].prio;
  return r->rule[a].line < r->rule[b].line;
}

/* Length of the courtesy phrase at token i, or 0. */
static size_t courtesy_at(const struct rules *r, const struct tf_token *toks,
                          size_t ntok, size_t i)
{
  int k, j;
  for(k = 0; k < NCOURTESY; k++) {
    if(i + (size_t)r->ncourt[k] > ntok)
      continue;
    for(j = 0; j < r->ncourt[k]; j++)
      if(toks[i + (size_t)j].hash != r->court[k][j])
        break;
    if(j == r->ncourt[k])
      return (size_t)j;
  }
  return 0;
}

/* Marks in opening[] the tokens where a line's words start, after up to
 * two courtesy phrases ("Could you please ..."). */
static void mark_openings(const struct rules *r, const char *text,
                          const struct tf_token *toks, size_t ntok,
                          unsigned char *opening)
{
  size_t i;
  memset(opening, 0, ntok);
  for(i = 0; i < ntok; i++) {
    int line_start = i == 0;
    size_t j, k, c;
    if(!line_start)
      for(j = toks[i - 1].off + toks[i - 1].len; j < toks[i].off; j++)
        if(text[j] == '\n')
          line_start = 1;
    if(!line_start)
      continue;
    opening[i] = 1;
    for(k = i, c = 0; c < 2 && k < ntok; c++) {
      size_t n = courtesy_at(r, toks, ntok, k);
      if(!n)
        break;
      k += n;
      if(k < ntok)
        opening[k] = 1;
    }
  }
}

/* Borrows everything.  See rules.h. */
const char *rules_match(const struct rules *r, const char *text,
                        size_t len, const struct tf_token *toks,
                        size_t ntok, jv request, int min_prio, int *prio)
{
  unsigned char opening[TF_MAX_TOKENS];
  unsigned char enabled[MAX_RULES / 8];
  int best = -1;
  size_t i, k;
  if(!r)
    return NULL;
  if(ntok > TF_MAX_TOKENS)
    ntok = TF_MAX_TOKENS;
  memset(enabled, 0, sizeof(enabled));
  mark_openings(r, text, toks, ntok, opening);
  /* keywords, openings and guards: one pass over the tokens */
  if(r->nph)
    for(i = 0; i < ntok; i++) {
      int p = r->slot[slot_of(r, toks[i].hash)];
      for(; p >= 0; p = r->ph[p].next) {
        const struct phrase *ph = &r->ph[p];
        int j;
        if(ph->tok[0] != toks[i].hash || i + (size_t)ph->ntok > ntok ||
           (ph->opening && !opening[i]) ||
           r->rule[ph->rule].prio < min_prio)
          continue;
        for(j = 1; j < ph->ntok; j++)
          if(ph->tok[j] != toks[i + (size_t)j].hash)
            break;
        if(j < ph->ntok)
          continue;
        if(ph->guard)
          enabled[ph->rule / 8] |= (unsigned char)(1u << (ph->rule % 8));
        else if(beats(r, ph->rule, best))
          best = ph->rule;
      }
    }
  /* regex and jq, by priority, while they can still win */
  for(k = 0; k < r->norder; k++) {
    int ri = r->order[k];
    const struct rule *ru = &r->rule[ri];
    if(!beats(r, ri, best) || ru->prio < min_prio)
      break; /* sorted: nothing later can win either */
    if(ru->guarded && !(enabled[ri / 8] & (1u << (ri % 8))))
      continue;
    if(ru->kind == RK_REGEX) {
      const UChar *s = (const UChar *)text, *e = s + len;
      if(onig_search(ru->re, s, e, s, e, NULL, ONIG_OPTION_NONE) >= 0)
        best = ri;
    }
    else if(ru->kind == RK_JQ && jv_get_kind(request) != JV_KIND_NULL) {
      jv out = r->host->jq_run(ru->jq, jv_copy(request));
      jv_kind kd = jv_get_kind(out);
      if(kd != JV_KIND_INVALID && kd != JV_KIND_NULL &&
         kd != JV_KIND_FALSE)
        best = ri;
      jv_free(out);
    }
    if(best == ri)
      break; /* the first match in this order is the best of the rest */
  }
  if(best < 0)
    return NULL;
  if(prio)
    *prio = r->rule[best].prio;
  return r->rule[best].task;
}
