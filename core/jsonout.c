/*
 * jsonout.c - a reusable byte buffer and a compact JSON serializer for jv.
 *
 * jq 1.6's jv_dump_string() builds its output by appending to jv strings;
 * writing straight into a buffer that is reused from line to line is
 * several times faster, and the result lines are the hot path.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "jvfast.h"

/* ---------------------------------------------------------------------
 * buf
 */
void buf_init(struct buf *b)
{
  b->p = NULL;
  b->len = b->cap = 0;
}

void buf_free(struct buf *b)
{
  if(!b)
    return;
  free(b->p);
  buf_init(b);
}

/* Make room for extra more bytes (plus a NUL).  Aborts when out of
 * memory: a filter that cannot hold one line cannot go on.  A buffer
 * with memory is always a string: p[len] is '\0' (a word of a pipeline
 * line that expands to nothing is the buffer as reserved). */
void buf_reserve(struct buf *b, size_t extra)
{
  size_t need = b->len + extra + 1;
  size_t cap;
  char *p;

  if(need <= b->cap)
    return;
  cap = b->cap ? b->cap : 256;
  while(cap < need)
    cap *= 2;
  p = realloc(b->p, cap);
  if(!p) {
    fputs("llmroute: out of memory\n", stderr);
    abort();
  }
  b->p = p;
  b->cap = cap;
  p[b->len] = '\0';
}

void buf_put(struct buf *b, const char *s, size_t n)
{
  buf_reserve(b, n);
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

void buf_puts(struct buf *b, const char *s)
{
  buf_put(b, s, strlen(s));
}

void buf_putc(struct buf *b, char c)
{
  buf_reserve(b, 1);
  b->p[b->len++] = c;
  b->p[b->len] = '\0';
}

/* The decimal digits of u, without printf. */
void buf_put_uint(struct buf *b, unsigned long long u)
{
  char tmp[24], *e = tmp + sizeof(tmp), *q = e;

  do {
    *--q = (char)('0' + u % 10);
    u /= 10;
  } while(u);
  buf_put(b, q, (size_t)(e - q));
}

/* ---------------------------------------------------------------------
 * JSON
 */
static const char hexdig[] = "0123456789abcdef";

/* 1 for bytes that need an escape inside a JSON string: controls, '"',
 * '\\' and DEL. */
static const unsigned char escaped[256] = {
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
  ['"'] = 1, ['\\'] = 1, [0x7f] = 1
};

#define needs_escape(c) escaped[(unsigned char)(c)]

void json_write_string(struct buf *b, const char *s, size_t n)
{
  size_t i = 0, run;

  buf_reserve(b, n + 2);
  b->p[b->len++] = '"';
  while(i < n) {
    run = i;
    while(run < n && !needs_escape((unsigned char)s[run]))
      run++;
    if(run > i) {
      buf_put(b, s + i, run - i);
      i = run;
      continue;
    }
    {
      unsigned char c = (unsigned char)s[i++];
      char esc[7];
      size_t el = 2;

      esc[0] = '\\';
      switch(c) {
      case '"': esc[1] = '"'; break;
      case '\\': esc[1] = '\\'; break;
      case '\n': esc[1] = 'n'; break;
      case '\r': esc[1] = 'r'; break;
      case '\t': esc[1] = 't'; break;
      case '\b': esc[1] = 'b'; break;
      case '\f': esc[1] = 'f'; break;
      default:
        esc[1] = 'u';
        esc[2] = '0';
        esc[3] = '0';
        esc[4] = hexdig[c >> 4];
        esc[5] = hexdig[c & 15];
        el = 6;
      }
      buf_put(b, esc, el);
    }
  }
  buf_putc(b, '"');
}

/* Exact powers of ten: the decimal fast path below divides or
 * multiplies by one of them, a single correctly rounded operation. */
static const double pow10[] = {
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12,
  1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};

/* What snprintf("%.15g") writes for a (finite, > 0), into out; its
 * length, or 0 when the 15 digits do not read back as a (the caller then
 * asks printf for more).  Costs and prices are such 15-digit decimals
 * nearly always, and printf with strtod is most of a result line's cost.
 *
 * m = a * 10^s rounded is the candidate; m * 10^-s is then one exact
 * operation (m < 2^53, |s| <= 22), so when it gives back a, the decimal
 * m e-s reads back as a.  Two 15-digit decimals are further apart than
 * any double's neighbours, so that decimal is the one %.15g prints. */
static size_t fast_g15(double a, char *out)
{
  char dig[16];
  int e, s, nd, i;
  size_t n = 0;
  double m, back;
  unsigned long long u;

  if(a < 1e-300 || a >= 1e300)
    return 0;
  e = (int)floor(log10(a));
  for(i = 0; i < 2; i++) { /* log10 may be off by one near a power */
    s = 14 - e;
    if(s > 22 || s < -22)
      return 0;
    m = s >= 0 ? a * pow10[s] : a / pow10[-s];
    m = floor(m + 0.5);
    if(m >= 1e15)
      e++;
    else if(m < 1e14)
      e--;
    else
      break;
  }
  if(i == 2)
    return 0;
  back = s >= 0 ? m / pow10[s] : m * pow10[-s];
  if(back != a)
    return 0;
  u = (unsigned long long)m;
  for(i = 14; i >= 0; i--) {
    dig[i] = (char)('0' + u % 10);
    u /= 10;
  }
  for(nd = 15; nd > 1 && dig[nd - 1] == '0'; nd--)
    ;
  if(e < -4 || e >= 15) { /* d.ddde-XX */
    out[n++] = dig[0];
    if(nd > 1) {
      out[n++] = '.';
      memcpy(out + n, dig + 1, (size_t)(nd - 1));
      n += (size_t)(nd - 1);
    }
    out[n++] = 'e';
    out[n++] = e < 0 ? '-' : '+';
    if(e < 0)
      e = -e;
    if(e >= 100)
      out[n++] = (char)('0' + e / 100);
    out[n++] = (char)('0' + e / 10 % 10);
    out[n++] = (char)('0' + e % 10);
  }
  else if(e < 0) { /* 0.000ddd */
    out[n++] = '0';
    out[n++] = '.';
    for(i = -1; i > e; i--)
      out[n++] = '0';
    memcpy(out + n, dig, (size_t)nd);
    n += (size_t)nd;
  }
  else { /* ddd.ddd */
    for(i = 0; i <= e; i++)
      out[n++] = i < nd ? dig[i] : '0';
    if(nd > e + 1) {
      out[n++] = '.';
      memcpy(out + n, dig + e + 1, (size_t)(nd - e - 1));
      n += (size_t)(nd - e - 1);
    }
  }
  return n;
}

/* Shortest of %.15g..%.17g that reads back as the same double. */
static void write_number(struct buf *b, double d)
{
  char tmp[40];
  int n, prec;
  size_t fn;

  if(isnan(d) || isinf(d)) {
    /* JSON has no NaN/Infinity: jq prints null and +-1.797e308 */
    if(isnan(d))
      buf_put(b, "null", 4);
    else
      buf_puts(b, d > 0 ? "1.7976931348623157e+308"
                        : "-1.7976931348623157e+308");
    return;
  }
  if(d == floor(d) && fabs(d) < 1e17) {
    /* integers, the common case (tokens, tiers, status codes): no
       printf */
    if(d < 0)
      buf_putc(b, '-');
    buf_put_uint(b, (unsigned long long)fabs(d));
    return;
  }
  fn = fast_g15(fabs(d), tmp);
  if(fn) {
    if(d < 0)
      buf_putc(b, '-');
    buf_put(b, tmp, fn);
    return;
  }
  for(prec = 15; prec <= 17; prec++) {
    n = snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
    if(prec == 17 || strtod(tmp, NULL) == d)
      break;
  }
  buf_put(b, tmp, (size_t)n);
}

/* ---------------------------------------------------------------------
 * Shared containers, written once
 *
 * A stage often puts the same container into many records: route hands
 * every request routed to a model that model's one deployments array.
 * Writing it means walking jq's object slots again each time, so the
 * text of a shared container (reference count above 1) is kept in a small
 * direct-mapped cache.  An entry holds a reference: while it lives the
 * value can be neither freed (so its address cannot be reused) nor
 * changed (jq copies a shared container before changing it), and
 * jv_identical() tells it is the same value.  Only short texts are kept.
 */
#define WCACHE_SLOTS 32
#define WCACHE_MAX_TEXT 512

static struct {
  jv v;       /* jv_invalid() when empty */
  char *text;
  size_t len;
} wcache[WCACHE_SLOTS];
static int wcache_ready;

/* Object keys the same way: most are the few strings the reader and the
 * stages share (a key's reference count above 1), so `"key":` is kept
 * per string, held by a reference as above. */
#define KCACHE_SLOTS 64
#define KCACHE_MAX_TEXT 48

static struct {
  jv k;       /* jv_invalid() when empty */
  unsigned char len;
  char text[KCACHE_MAX_TEXT];
} kcache[KCACHE_SLOTS];
static int kcache_ready;

static void write_value(struct buf *b, jv v);

void json_write_cache_free(void)
{
  int i;

  for(i = 0; wcache_ready && i < WCACHE_SLOTS; i++) {
    jv_free(wcache[i].v);
    free(wcache[i].text);
    wcache[i].text = NULL;
  }
  wcache_ready = 0;
  for(i = 0; kcache_ready && i < KCACHE_SLOTS; i++)
    jv_free(kcache[i].k);
  kcache_ready = 0;
}

/* Write `"key":` for the object key k (a string, borrowed). */
static void write_key(struct buf *b, jv k)
{
  unsigned h;
  size_t start, n = 0;
  const char *p;

  if(!kcache_ready) {
    for(h = 0; h < KCACHE_SLOTS; h++)
      kcache[h].k = jv_invalid();
    kcache_ready = 1;
  }
  h = (unsigned)(((uintptr_t)k.u.ptr >> 4) * 2654435761u) >> 26;
  if(kcache[h].k.u.ptr == k.u.ptr) { /* an empty slot's is NULL */
    buf_put(b, kcache[h].text, kcache[h].len);
    return;
  }
  p = jvf_string(k, &n);
  start = b->len;
  json_write_string(b, p, n);
  buf_putc(b, ':');
  if(b->len - start > KCACHE_MAX_TEXT || jv_get_refcnt(k) < 2)
    return; /* long, or a key of this value alone */
  jv_free(kcache[h].k);
  kcache[h].k = jv_copy(k);
  kcache[h].len = (unsigned char)(b->len - start);
  memcpy(kcache[h].text, b->p + start, b->len - start);
}

/* Write v (an array or an object, borrowed), from the cache when it is
 * there, into it when it is shared and short. */
static void write_container(struct buf *b, jv v)
{
  unsigned h;
  size_t start;
  char *text;

  if(jv_get_refcnt(v) < 2) {
    write_value(b, v);
    return;
  }
  if(!wcache_ready) {
    for(h = 0; h < WCACHE_SLOTS; h++) {
      wcache[h].v = jv_invalid();
      wcache[h].text = NULL;
    }
    wcache_ready = 1;
  }
  h = (unsigned)((((uintptr_t)v.u.ptr >> 4) ^ (unsigned)v.offset) *
                 2654435761u) % WCACHE_SLOTS;
  if(jv_identical(jv_copy(wcache[h].v), jv_copy(v))) {
    buf_put(b, wcache[h].text, wcache[h].len);
    return;
  }
  start = b->len;
  write_value(b, v);
  if(b->len - start > WCACHE_MAX_TEXT ||
     !(text = malloc(b->len - start)))
    return;
  memcpy(text, b->p + start, b->len - start);
  jv_free(wcache[h].v);
  free(wcache[h].text);
  wcache[h].v = jv_copy(v);
  wcache[h].text = text;
  wcache[h].len = b->len - start;
}

/* Borrows v. */
void json_write(struct buf *b, jv v)
{
  jv_kind k = jv_get_kind(v);

  if(k == JV_KIND_ARRAY || k == JV_KIND_OBJECT)
    write_container(b, v);
  else
    write_value(b, v);
}

/* Borrows v. */
static void write_value(struct buf *b, jv v)
{
  switch(jv_get_kind(v)) {
  case JV_KIND_INVALID:
  case JV_KIND_NULL:
    buf_put(b, "null", 4);
    break;
  case JV_KIND_TRUE:
    buf_put(b, "true", 4);
    break;
  case JV_KIND_FALSE:
    buf_put(b, "false", 5);
    break;
  case JV_KIND_NUMBER:
    write_number(b, jv_number_value(v));
    break;
  case JV_KIND_STRING: {
    size_t n = 0;
    const char *p = jvf_string(v, &n);

    json_write_string(b, p, n);
    break;
  }
  case JV_KIND_ARRAY: {
    int i, n = jv_array_length(jv_copy(v));

    buf_putc(b, '[');
    for(i = 0; i < n; i++) {
      jv e = jv_array_get(jv_copy(v), i);

      if(i)
        buf_putc(b, ',');
      json_write(b, e);
      jv_free(e);
    }
    buf_putc(b, ']');
    break;
  }
  case JV_KIND_OBJECT: {
    int i, first = 1;
    jv k, e;

    buf_putc(b, '{');
    for(i = jvf_next(v, -1, &k, &e); i >= 0; i = jvf_next(v, i, &k, &e)) {
      if(!first)
        buf_putc(b, ',');
      first = 0;
      write_key(b, k);
      json_write(b, e); /* borrowed */
    }
    buf_putc(b, '}');
    break;
  }
  }
}

/* Borrows v; the caller frees the result. */
char *json_dump(jv v)
{
  struct buf b;

  buf_init(&b);
  json_write(&b, v);
  if(!b.p)
    buf_reserve(&b, 0);
  return b.p;
}
