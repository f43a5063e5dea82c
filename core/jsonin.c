/*
 * jsonin.c - a JSON parser that builds jv values directly.
 *
 * The input hot path: every line is parsed once.  jq 1.6's jv_parse is a
 * token-at-a-time state machine (about half the runner's time on a
 * pass-through), and it leaks on some malformed objects, which a filter
 * fed untrusted lines cannot afford.  This one is a plain recursive
 * descent over a length-delimited buffer: RFC 8259 grammar, depth limit,
 * \u escapes with surrogate pairs, invalid UTF-8 replaced by U+FFFD (as
 * jq does), duplicate keys last-wins (as jq does).
 */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core.h"
#include "jvfast.h"

#define MAX_DEPTH 512

struct parser {
  const char *s, *p, *end;
  int depth;
  int strict;           /* a key twice in one object is an error */
  struct buf scratch;   /* unescaped string bytes */
  char err[160];
};

static jv fail(struct parser *ps, const char *what)
{
  if(!ps->err[0])
    snprintf(ps->err, sizeof(ps->err), "%s at column %ld", what,
             (long)(ps->p - ps->s) + 1);
  return jv_invalid();
}

static void skip_ws(struct parser *ps)
{
  while(ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' ||
                            *ps->p == '\n' || *ps->p == '\r'))
    ps->p++;
}

static jv parse_value(struct parser *ps);

static int hex4(const char *p, unsigned *out)
{
  unsigned v = 0;
  int i;

  for(i = 0; i < 4; i++) {
    char c = p[i];

    v <<= 4;
    if(c >= '0' && c <= '9')
      v |= (unsigned)(c - '0');
    else if(c >= 'a' && c <= 'f')
      v |= (unsigned)(c - 'a' + 10);
    else if(c >= 'A' && c <= 'F')
      v |= (unsigned)(c - 'A' + 10);
    else
      return -1;
  }
  *out = v;
  return 0;
}

static void put_utf8(struct buf *b, unsigned cp)
{
  char u[4];
  size_t n;

  if(cp < 0x80) {
    u[0] = (char)cp;
    n = 1;
  }
  else if(cp < 0x800) {
    u[0] = (char)(0xC0 | (cp >> 6));
    u[1] = (char)(0x80 | (cp & 0x3F));
    n = 2;
  }
  else if(cp < 0x10000) {
    u[0] = (char)(0xE0 | (cp >> 12));
    u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    u[2] = (char)(0x80 | (cp & 0x3F));
    n = 3;
  }
  else {
    u[0] = (char)(0xF0 | (cp >> 18));
    u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    u[3] = (char)(0x80 | (cp & 0x3F));
    n = 4;
  }
  buf_put(b, u, n);
}

/* ---------------------------------------------------------------------
 * Strings without jq's second look
 *
 * jv_string_sized() walks every byte through jq's UTF-8 decoder, one code
 * point at a time: on a line of prose that was half the cost of reading
 * it (callgrind).
 * The parser has seen every byte already, so text it knows to be valid
 * (ASCII and what put_utf8() wrote) it makes into a string itself:
 * it allocates a header and n bytes with jq's allocator, copies the
 * bytes in and fills the header (jvfast.h's struct jvf_string,
 * jq 1.6's jvp_string).  That layout is not public API, so the first
 * use probes it: a string made this way must agree with jv_string() on its
 * bytes' address, length, equality and hash.  When it does not (another
 * jq), every string goes through jv_string_sized().
 */
static int direct_ok = -1; /* -1: not probed yet */

/* n bytes (n < INT_MAX / 2) as a jv string, unchecked: allocated as
 * jq's jvp_string_new() does, without its zero fill. */
static jv direct_string(const char *s, size_t n)
{
  struct jvf_string *h = jv_mem_alloc(sizeof(*h) + n + 1);
  jv v = jv_null();

  h->refcnt = 1;
  h->hash = 0;
  h->length_hashed = (uint32_t)n << 1;
  h->alloc_length = (uint32_t)n;
  memcpy(h->data, s, n);
  h->data[n] = '\0';
  v.kind_flags = JV_KIND_STRING;
  v.u.ptr = (struct jv_refcnt *)(void *)h;
  return v;
}

static int direct_probe(void)
{
  static const char t[] = "llmroute probe 0123456789";
  size_t n = sizeof(t) - 1;
  jv e = jv_string_empty((int)n), a, b;
  const struct jvf_string *h = (const void *)e.u.ptr;
  int ok = jv_string_value(e) == (const char *)(h + 1) &&
           h->length_hashed == 0 && h->alloc_length == n &&
           jv_string_length_bytes(jvf_copy(e)) == 0;

  jvf_free(e);
  if(!ok)
    return 0;
  a = direct_string(t, n);
  b = jv_string(t);
  ok = a.kind_flags == b.kind_flags && a.pad_ == b.pad_ &&
       a.offset == b.offset && a.size == b.size &&
       jv_string_length_bytes(jvf_copy(a)) == (int)n &&
       !strcmp(jv_string_value(a), t) && jv_equal(jvf_copy(a), jvf_copy(b)) &&
       jv_string_hash(jvf_copy(a)) == jv_string_hash(jvf_copy(b));
  jvf_free(a);
  jvf_free(b);
  return ok;
}

int json_direct_strings(void)
{
  if(direct_ok < 0)
    direct_ok = direct_probe();
  return direct_ok;
}

/* A jv string of n bytes known to be valid UTF-8. */
static jv valid_string(const char *s, size_t n)
{
  if(json_direct_strings() && n < INT_MAX / 2)
    return direct_string(s, n);
  return jv_string_sized(s, (int)n);
}

/* The end of the run of string bytes from p that need no work: up to a
 * quote, a backslash, a control character or end.  ORs the bytes into
 * *high (bit 0x80 set: not ASCII).  With SSE2, 16 bytes a step. */
static const char *plain_run(const char *p, const char *end,
                             unsigned char *high)
{
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
  const __m128i space = _mm_set1_epi8(0x20), minus1 = _mm_set1_epi8(-1);

  while(end - p >= 16) {
    __m128i c = _mm_loadu_si128((const __m128i *)(const void *)p);
    /* control: 0x00-0x1F, which as signed bytes are 0 <= c < 0x20 */
    __m128i stop = _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(c, quote), _mm_cmpeq_epi8(c, bslash)),
        _mm_and_si128(_mm_cmplt_epi8(c, space), _mm_cmpgt_epi8(c, minus1)));
    unsigned s = (unsigned)_mm_movemask_epi8(stop);
    unsigned h = (unsigned)_mm_movemask_epi8(c);

    if(s) {
      unsigned n = (unsigned)__builtin_ctz(s);
      if(h & ((1u << n) - 1))
        *high |= 0x80;
      return p + n;
    }
    if(h)
      *high |= 0x80;
    p += 16;
  }
#endif
  while(p < end && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)
    *high |= (unsigned char)*p++;
  return p;
}

/* At the opening quote.  jv_string_sized() replaces bad UTF-8; bytes the
 * parser knows are valid skip that check (valid_string()). */
static jv parse_string(struct parser *ps)
{
  const char *start = ++ps->p, *q = start;
  struct buf *b = &ps->scratch;
  unsigned char high = 0; /* OR of the raw bytes: 0x80 set if not ASCII */

  /* fast path: no escapes */
  q = plain_run(q, ps->end, &high);
  if(q < ps->end && *q == '"') {
    ps->p = q + 1;
    if(!(high & 0x80))
      return valid_string(start, (size_t)(q - start));
    return jv_string_sized(start, (int)(q - start));
  }
  b->len = 0;
  buf_put(b, start, (size_t)(q - start));
  ps->p = q;
  while(ps->p < ps->end) {
    unsigned char c = (unsigned char)*ps->p;

    if(c == '"') {
      ps->p++;
      if(!(high & 0x80)) /* raw ASCII plus put_utf8()'s bytes */
        return valid_string(b->p ? b->p : "", b->len);
      return jv_string_sized(b->p ? b->p : "", (int)b->len);
    }
    if(c < 0x20)
      return fail(ps, "control character in string");
    if(c != '\\') {
      const char *r = plain_run(ps->p, ps->end, &high);

      buf_put(b, ps->p, (size_t)(r - ps->p));
      ps->p = r;
      continue;
    }
    if(ps->end - ps->p < 2)
      break;
    c = (unsigned char)ps->p[1];
    ps->p += 2;
    switch(c) {
    case '"': buf_putc(b, '"'); break;
    case '\\': buf_putc(b, '\\'); break;
    case '/': buf_putc(b, '/'); break;
    case 'b': buf_putc(b, '\b'); break;
    case 'f': buf_putc(b, '\f'); break;
    case 'n': buf_putc(b, '\n'); break;
    case 'r': buf_putc(b, '\r'); break;
    case 't': buf_putc(b, '\t'); break;
    case 'u': {
      unsigned cp, lo;

      if(ps->end - ps->p < 4 || hex4(ps->p, &cp))
        return fail(ps, "bad \\u escape");
      ps->p += 4;
      if(cp >= 0xD800 && cp < 0xDC00) {
        if(ps->end - ps->p >= 6 && ps->p[0] == '\\' && ps->p[1] == 'u' &&
           !hex4(ps->p + 2, &lo) && lo >= 0xDC00 && lo < 0xE000) {
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          ps->p += 6;
        }
        else
          cp = 0xFFFD; /* lone high surrogate */
      }
      else if(cp >= 0xDC00 && cp < 0xE000)
        cp = 0xFFFD;   /* lone low surrogate */
      put_utf8(b, cp);
      break;
    }
    default:
      ps->p--;
      return fail(ps, "bad escape in string");
    }
  }
  return fail(ps, "unfinished string");
}

static int is_digit(char c)
{
  return c >= '0' && c <= '9';
}

static jv parse_number(struct parser *ps)
{
  const char *q = ps->p;
  char tmp[64], *copy = tmp;
  size_t n;
  double d;

  if(q < ps->end && *q == '-')
    q++;
  if(q >= ps->end || !is_digit(*q))
    return fail(ps, "invalid number");
  if(*q == '0')
    q++;
  else
    while(q < ps->end && is_digit(*q))
      q++;
  if(q < ps->end && *q == '.') {
    q++;
    if(q >= ps->end || !is_digit(*q))
      return fail(ps, "invalid number");
    while(q < ps->end && is_digit(*q))
      q++;
  }
  if(q < ps->end && (*q == 'e' || *q == 'E')) {
    q++;
    if(q < ps->end && (*q == '+' || *q == '-'))
      q++;
    if(q >= ps->end || !is_digit(*q))
      return fail(ps, "invalid number");
    while(q < ps->end && is_digit(*q))
      q++;
  }
  n = (size_t)(q - ps->p);
  if(n >= sizeof(tmp)) {
    copy = malloc(n + 1);
    if(!copy)
      return fail(ps, "out of memory");
  }
  memcpy(copy, ps->p, n);
  copy[n] = '\0';
  d = strtod(copy, NULL);
  if(copy != tmp)
    free(copy);
  ps->p = q;
  return jv_number(d);
}

static int literal(struct parser *ps, const char *word, size_t n)
{
  if((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n))
    return 0;
  ps->p += n;
  return 1;
}

static jv parse_array(struct parser *ps)
{
  jv a = jv_array();

  ps->p++;
  skip_ws(ps);
  if(ps->p < ps->end && *ps->p == ']') {
    ps->p++;
    return a;
  }
  for(;;) {
    jv v = parse_value(ps);

    if(!jv_is_valid(v)) {
      jvf_free(a);
      return v;
    }
    a = jv_array_append(a, v);
    skip_ws(ps);
    if(ps->p < ps->end && *ps->p == ',') {
      ps->p++;
      continue;
    }
    if(ps->p < ps->end && *ps->p == ']') {
      ps->p++;
      return a;
    }
    jvf_free(a);
    return fail(ps, "expected ',' or ']' in array");
  }
}

/* ---------------------------------------------------------------------
 * Shared keys
 */
static const char *const ckey_names[CK_COUNT] = {
  "body", "content", "cost_usd", "custom_id", "error", "max_tokens",
  "messages", "method", "model", "name", "prompt", "role", "routing",
  "text", "tool_calls", "tools", "type", "url"
};
static jv ckeys[CK_COUNT];
static int ckeys_ready;

static void ckeys_make(void)
{
  int i;

  for(i = 0; i < CK_COUNT; i++)
    ckeys[i] = jv_string(ckey_names[i]);
  ckeys_ready = 1;
}

jv ckey(enum ckey k)
{
  if(!ckeys_ready)
    ckeys_make();
  return jvf_copy(ckeys[k]);
}

jv cget(jv obj, enum ckey k)
{
  if(!ckeys_ready)
    ckeys_make();
  return jvf_get(obj, ckeys[k]);
}

void ckeys_free(void)
{
  int i;

  if(!ckeys_ready)
    return;
  for(i = 0; i < CK_COUNT; i++)
    jvf_free(ckeys[i]);
  ckeys_ready = 0;
}

/* At a key's opening quote: the shared key when the key is one of them
 * (written without escapes), else parse_string(). */
static jv parse_key(struct parser *ps)
{
  const char *start = ps->p + 1, *q = start;
  size_t n;
  int i;

  while(q < ps->end && q - start < 12 && *q != '"' && *q != '\\')
    q++;
  if(q < ps->end && *q == '"') {
    n = (size_t)(q - start);
    if(!ckeys_ready)
      ckeys_make();
    for(i = 0; i < CK_COUNT; i++)
      if(ckey_names[i][0] == *start && strlen(ckey_names[i]) == n &&
         !memcmp(ckey_names[i], start, n)) {
        ps->p = q + 1;
        return jvf_copy(ckeys[i]);
      }
  }
  return parse_string(ps);
}

static jv parse_object(struct parser *ps)
{
  jv o = jv_object();

  ps->p++;
  skip_ws(ps);
  if(ps->p < ps->end && *ps->p == '}') {
    ps->p++;
    return o;
  }
  for(;;) {
    jv k, v;

    skip_ws(ps);
    if(ps->p >= ps->end || *ps->p != '"') {
      jvf_free(o);
      return fail(ps, "expected a string key in object");
    }
    k = parse_key(ps);
    if(!jv_is_valid(k)) {
      jvf_free(o);
      return k;
    }
    skip_ws(ps);
    if(ps->p >= ps->end || *ps->p != ':') {
      jvf_free(k);
      jvf_free(o);
      return fail(ps, "expected ':' after object key");
    }
    ps->p++;
    v = parse_value(ps);
    if(!jv_is_valid(v)) {
      jvf_free(k);
      jvf_free(o);
      return v;
    }
    if(ps->strict) {
      jv had = jvf_get(o, k);
      if(jv_is_valid(had)) {
        char what[120];
        snprintf(what, sizeof(what), "duplicate key \"%.60s\"",
                 jv_string_value(k));
        jvf_free(had);
        jvf_free(k);
        jvf_free(v);
        jvf_free(o);
        return fail(ps, what);
      }
      jvf_free(had);
    }
    o = jvf_set(o, k, v);
    skip_ws(ps);
    if(ps->p < ps->end && *ps->p == ',') {
      ps->p++;
      continue;
    }
    if(ps->p < ps->end && *ps->p == '}') {
      ps->p++;
      return o;
    }
    jvf_free(o);
    return fail(ps, "expected ',' or '}' in object");
  }
}

static jv parse_value(struct parser *ps)
{
  jv v;

  skip_ws(ps);
  if(ps->p >= ps->end)
    return fail(ps, "unexpected end of input");
  switch(*ps->p) {
  case '{':
  case '[':
    if(++ps->depth > MAX_DEPTH)
      return fail(ps, "nesting deeper than 512 levels");
    v = *ps->p == '{' ? parse_object(ps) : parse_array(ps);
    ps->depth--;
    return v;
  case '"':
    return parse_string(ps);
  case 't':
    if(literal(ps, "true", 4))
      return jv_true();
    break;
  case 'f':
    if(literal(ps, "false", 5))
      return jv_false();
    break;
  case 'n':
    if(literal(ps, "null", 4))
      return jv_null();
    break;
  default:
    if(*ps->p == '-' || is_digit(*ps->p))
      return parse_number(ps);
  }
  return fail(ps, "unexpected character");
}

static jv parse_text(const char *s, size_t len, int strict)
{
  struct parser ps;
  jv v;

  memset(&ps, 0, sizeof(ps));
  ps.strict = strict;
  ps.s = ps.p = s;
  ps.end = s + len;
  buf_init(&ps.scratch);
  v = parse_value(&ps);
  if(jv_is_valid(v)) {
    skip_ws(&ps);
    if(ps.p < ps.end) {
      jvf_free(v);
      v = fail(&ps, "unexpected data after the JSON value");
    }
  }
  buf_free(&ps.scratch);
  if(!jv_is_valid(v)) {
    jvf_free(v);
    return jv_invalid_with_msg(jv_string(ps.err[0] ? ps.err
                                                   : "invalid JSON"));
  }
  return v;
}

jv json_parse(const char *s, size_t len)
{
  return parse_text(s, len, 0);
}

jv json_parse_strict(const char *s, size_t len)
{
  return parse_text(s, len, 1);
}

jv json_get(jv obj, const char *key)
{
  jv v;

  if(jv_get_kind(obj) != JV_KIND_OBJECT)
    return jv_null();
  v = jv_object_get(jv_copy(obj), jv_string(key));
  if(jv_is_valid(v))
    return v;
  jv_free(v);
  return jv_null();
}

double json_num(jv obj, const char *key, double dflt)
{
  jv v = json_get(obj, key);
  double d = jv_get_kind(v) == JV_KIND_NUMBER ? jv_number_value(v) : dflt;

  jv_free(v);
  return isfinite(d) ? d : dflt;
}
