/*
 * schema.c - a JSON Schema (draft 2020-12) validator over jv: validation.
 * See schema.h for the keywords and the reason format; compilation is in
 * schema_compile.c, regexes, URIs and $ref resolution in schema_ref.c.
 *
 * Every function here borrows the jv values it is given unless its
 * comment says otherwise; a jv obtained with get() is a new reference
 * and is freed before returning.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema_int.h"

#define get schema_get

/* State of one schema_check() call. */
struct vctx {
  struct schema *s;
  const char *base;  /* URI of the current resource (owned by s) */
  char path[SCHEMA_PATH_LEN];
  size_t plen;
  int quiet;         /* > 0 inside anyOf/oneOf/not/if: no reason kept */
  int depth;
  long steps;        /* check() calls so far, up to SCHEMA_MAX_STEPS */
  char *reason;
  size_t rlen;
};

/* The keywords of one schema object that validation looks at, found in
 * one pass over its members (instead of a lookup per keyword). */
enum kw {
  K_id,
  K_ref,
  K_additionalItems,
  K_additionalProperties,
  K_allOf,
  K_anyOf,
  K_const,
  K_contains,
  K_dependentRequired,
  K_dependentSchemas,
  K_else,
  K_enum,
  K_exclusiveMaximum,
  K_exclusiveMinimum,
  K_if,
  K_items,
  K_maxContains,
  K_maxItems,
  K_maxLength,
  K_maxProperties,
  K_maximum,
  K_minContains,
  K_minItems,
  K_minLength,
  K_minProperties,
  K_minimum,
  K_multipleOf,
  K_not,
  K_oneOf,
  K_pattern,
  K_patternProperties,
  K_prefixItems,
  K_properties,
  K_propertyNames,
  K_required,
  K_then,
  K_type,
  K_uniqueItems,
  K_COUNT
};

static const char *const kw_names[K_COUNT] = {
  "$id", "$ref", "additionalItems", "additionalProperties", "allOf", "anyOf",
  "const", "contains", "dependentRequired", "dependentSchemas", "else",
  "enum", "exclusiveMaximum", "exclusiveMinimum", "if", "items",
  "maxContains", "maxItems", "maxLength", "maxProperties", "maximum",
  "minContains", "minItems", "minLength", "minProperties", "minimum",
  "multipleOf", "not", "oneOf", "pattern", "patternProperties",
  "prefixItems", "properties", "propertyNames", "required", "then", "type",
  "uniqueItems"
};

struct kws {
  jv v[K_COUNT];           /* valid where the bit of present is set */
  unsigned long long present;
  jv none;                 /* jv_invalid(), handed out for absent ones */
};

/* Borrows sch (an object).  Fill w with new refs of its keywords. */
static void kws_load(struct kws *w, jv sch)
{
  int i;
  w->present = 0;
  w->none = jv_invalid();
  jv_object_foreach(sch, key, val) {
    const char *name = jv_string_value(key);
    for(i = 0; i < K_COUNT; i++)
      if(name[0] == kw_names[i][0] && !strcmp(name, kw_names[i]))
        break;
    /* "$ref\u0000x" is no keyword: the compiler, which looks keys up
       whole, never checked it */
    if(i < K_COUNT &&
       (size_t)jv_string_length_bytes(jv_copy(key)) != strlen(name))
      i = K_COUNT;
    if(i < K_COUNT && !(w->present & (1ULL << i))) {
      w->v[i] = val;
      w->present |= 1ULL << i;
    }
    else
      jv_free(val);
    jv_free(key);
  }
}

/* Free the keywords kws_load() took; safe twice. */
static void kws_free(struct kws *w)
{
  int i;
  for(i = 0; i < K_COUNT; i++)
    if(w->present & (1ULL << i))
      jv_free(w->v[i]);
  w->present = 0;
}

#define KWB(k) (1ULL << (k))
#define NUMBER_KWS                                                         \
  (KWB(K_minimum) | KWB(K_maximum) | KWB(K_exclusiveMinimum) |             \
   KWB(K_exclusiveMaximum) | KWB(K_multipleOf))
#define STRING_KWS (KWB(K_minLength) | KWB(K_maxLength) | KWB(K_pattern))
#define ARRAY_KWS                                                          \
  (KWB(K_minItems) | KWB(K_maxItems) | KWB(K_prefixItems) | KWB(K_items) | \
   KWB(K_additionalItems) | KWB(K_contains) | KWB(K_uniqueItems))
#define OBJECT_KWS                                                         \
  (KWB(K_required) | KWB(K_minProperties) | KWB(K_maxProperties) |         \
   KWB(K_dependentRequired) | KWB(K_properties) |                          \
   KWB(K_patternProperties) | KWB(K_additionalProperties) |                \
   KWB(K_propertyNames) | KWB(K_dependentSchemas))
#define LOGIC_KWS                                                          \
  (KWB(K_allOf) | KWB(K_anyOf) | KWB(K_oneOf) | KWB(K_not) | KWB(K_if))

/* New ref of keyword k of w, or jv_invalid(). */
static jv kw(const struct kws *w, enum kw k)
{
  return w->present & (1ULL << k) ? jv_copy(w->v[k]) : w->none;
}

/* Shortest "%g" text of x into buf. */
static void fmt_num(double x, char *buf, size_t n)
{
  int prec;
  for(prec = 6; prec <= 17; prec++) {
    snprintf(buf, n, "%.*g", prec, x);
    if(strtod(buf, NULL) == x)
      return;
  }
}

/* Borrows v.  Compact JSON of v into buf, cut with "..." past n-1. */
static void fmt_json(jv v, char *buf, size_t n)
{
  jv s = jv_dump_string(jv_copy(v), 0);
  const char *p = jv_string_value(s);
  size_t len = strlen(p);
  if(len < n)
    memcpy(buf, p, len + 1);
  else if(n > 4) {
    memcpy(buf, p, n - 4);
    memcpy(buf + n - 4, "...", 4);
  }
  else if(n)
    buf[0] = '\0';
  jv_free(s);
}

/* ---------------------------------------------------------------------
 * Validation
 */

/* Record the first failure (unless quiet) and return 0. */
static int fail(struct vctx *c, const char *fmt, ...) LLMR_SCHEMA_PRINTF;
static int fail(struct vctx *c, const char *fmt, ...)
{
  va_list ap;
  int n;
  if(c->quiet || !c->reason || !c->rlen || c->reason[0])
    return 0;
  n = snprintf(c->reason, c->rlen, "%s: ", c->plen ? c->path : "/");
  if(n < 0 || (size_t)n >= c->rlen)
    return 0;
  va_start(ap, fmt);
  vsnprintf(c->reason + n, c->rlen - (size_t)n, fmt, ap);
  va_end(ap);
  return 0;
}

/* Append "/token" (JSON pointer escaped) to the instance path; returns
 * the previous length, for path_pop(). */
static size_t path_push(struct vctx *c, const char *tok)
{
  size_t old = c->plen, n = c->plen;
  if(n + 1 < SCHEMA_PATH_LEN)
    c->path[n++] = '/';
  for(; *tok && n + 2 < SCHEMA_PATH_LEN; tok++) {
    if(*tok == '~' || *tok == '/') {
      c->path[n++] = '~';
      c->path[n++] = *tok == '~' ? '0' : '1';
    }
    else
      c->path[n++] = *tok;
  }
  c->path[n] = '\0';
  c->plen = n;
  return old;
}

/* path_push() of an array index. */
static size_t path_push_index(struct vctx *c, int i)
{
  char num[24];
  snprintf(num, sizeof(num), "%d", i);
  return path_push(c, num);
}

/* Cut the instance path back to length old. */
static void path_pop(struct vctx *c, size_t old)
{
  c->plen = old;
  c->path[old] = '\0';
}

static int check(struct vctx *c, jv sch, jv inst);

/* Check inst against sch with "/tok" appended to the path. */
static int check_at(struct vctx *c, jv sch, jv inst, const char *tok)
{
  size_t old = path_push(c, tok);
  int ok = check(c, sch, inst);
  path_pop(c, old);
  return ok;
}

/* Check inst against sch with "/i" appended to the path. */
static int check_at_index(struct vctx *c, jv sch, jv inst, int i)
{
  size_t old = path_push_index(c, i);
  int ok = check(c, sch, inst);
  path_pop(c, old);
  return ok;
}

/* Like check() but never records a reason. */
static int probe(struct vctx *c, jv sch, jv inst)
{
  int ok;
  c->quiet++;
  ok = check(c, sch, inst);
  c->quiet--;
  return ok;
}

/* 1 when inst is of JSON Schema type name t. */
static int type_is(const char *t, jv inst)
{
  jv_kind k = jv_get_kind(inst);
  if(!strcmp(t, "integer"))
    return schema_is_integral(inst);
  if(!strcmp(t, "number"))
    return k == JV_KIND_NUMBER;
  if(!strcmp(t, "string"))
    return k == JV_KIND_STRING;
  if(!strcmp(t, "object"))
    return k == JV_KIND_OBJECT;
  if(!strcmp(t, "array"))
    return k == JV_KIND_ARRAY;
  if(!strcmp(t, "boolean"))
    return k == JV_KIND_TRUE || k == JV_KIND_FALSE;
  if(!strcmp(t, "null"))
    return k == JV_KIND_NULL;
  return 0;
}

/* Borrows type and inst.  The "type" keyword (a name or a list). */
static int check_type(struct vctx *c, jv type, jv inst)
{
  char want[128] = "";
  size_t n = 0;
  if(jv_get_kind(type) == JV_KIND_STRING) {
    if(type_is(jv_string_value(type), inst))
      return 1;
    return fail(c, "expected %s", jv_string_value(type));
  }
  if(jv_get_kind(type) != JV_KIND_ARRAY)
    return 1;
  jv_array_foreach(type, i, t) {
    int hit = jv_get_kind(t) == JV_KIND_STRING &&
              type_is(jv_string_value(t), inst);
    if(jv_get_kind(t) == JV_KIND_STRING && n < sizeof(want))
      n += (size_t)snprintf(want + n, sizeof(want) - n, "%s%s",
                            i ? " or " : "", jv_string_value(t));
    jv_free(t);
    if(hit)
      return 1;
  }
  return fail(c, "expected %s", want);
}

/* The number keywords; inst is a number. */
static int check_number(struct vctx *c, const struct kws *w, jv inst)
{
  double x = jv_number_value(inst), v;
  char a[40], b[40];
  jv k;
  k = kw(w, K_minimum);
  if(jv_get_kind(k) == JV_KIND_NUMBER && x < (v = jv_number_value(k))) {
    fmt_num(x, a, sizeof(a));
    fmt_num(v, b, sizeof(b));
    jv_free(k);
    return fail(c, "%s is less than minimum %s", a, b);
  }
  jv_free(k);
  k = kw(w, K_maximum);
  if(jv_get_kind(k) == JV_KIND_NUMBER && x > (v = jv_number_value(k))) {
    fmt_num(x, a, sizeof(a));
    fmt_num(v, b, sizeof(b));
    jv_free(k);
    return fail(c, "%s is greater than maximum %s", a, b);
  }
  jv_free(k);
  k = kw(w, K_exclusiveMinimum);
  if(jv_get_kind(k) == JV_KIND_NUMBER && x <= (v = jv_number_value(k))) {
    fmt_num(x, a, sizeof(a));
    fmt_num(v, b, sizeof(b));
    jv_free(k);
    return fail(c, "%s is not greater than exclusiveMinimum %s", a, b);
  }
  jv_free(k);
  k = kw(w, K_exclusiveMaximum);
  if(jv_get_kind(k) == JV_KIND_NUMBER && x >= (v = jv_number_value(k))) {
    fmt_num(x, a, sizeof(a));
    fmt_num(v, b, sizeof(b));
    jv_free(k);
    return fail(c, "%s is not less than exclusiveMaximum %s", a, b);
  }
  jv_free(k);
  k = kw(w, K_multipleOf);
  if(jv_get_kind(k) == JV_KIND_NUMBER && (v = jv_number_value(k)) > 0) {
    double q = x / v;
    jv_free(k);
    if(!isfinite(q) || fabs(q - nearbyint(q)) > 1e-9) {
      fmt_num(x, a, sizeof(a));
    fmt_num(v, b, sizeof(b));
      return fail(c, "%s is not a multiple of %s", a, b);
    }
  }
  else
    jv_free(k);
  return 1;
}

/* The string keywords; inst is a string. */
static int check_string(struct vctx *c, const struct kws *w, jv inst)
{
  int len = jv_string_length_codepoints(jv_copy(inst));
  jv k = kw(w, K_minLength);
  if(jv_get_kind(k) == JV_KIND_NUMBER && len < jv_number_value(k)) {
    double v = jv_number_value(k);
    jv_free(k);
    return fail(c, "expected at least %.0f characters, got %d", v, len);
  }
  jv_free(k);
  k = kw(w, K_maxLength);
  if(jv_get_kind(k) == JV_KIND_NUMBER && len > jv_number_value(k)) {
    double v = jv_number_value(k);
    jv_free(k);
    return fail(c, "expected at most %.0f characters, got %d", v, len);
  }
  jv_free(k);
  k = kw(w, K_pattern);
  if(jv_get_kind(k) == JV_KIND_STRING) {
    OnigRegex re = schema_regex(c->s, jv_string_value(k), NULL, 0);
    const char *str = jv_string_value(inst);
    if(!re || !schema_regex_search(re, str, (size_t)jv_string_length_bytes(
                                         jv_copy(inst)))) {
      char pat[96];
      snprintf(pat, sizeof(pat), "%s", jv_string_value(k));
      jv_free(k);
      return fail(c, re ? "does not match pattern \"%s\""
                        : "bad pattern \"%s\"", pat);
    }
  }
  jv_free(k);
  return 1;
}

/* The array keywords; sch is an object, inst an array. */
static int check_array(struct vctx *c, const struct kws *w, jv inst)
{
  int n = jv_array_length(jv_copy(inst)), npre = 0, i, ok = 1;
  enum kw rest_kw = K_items;
  jv k = kw(w, K_minItems);
  if(jv_get_kind(k) == JV_KIND_NUMBER && n < jv_number_value(k)) {
    double v = jv_number_value(k);
    jv_free(k);
    return fail(c, "expected at least %.0f items, got %d", v, n);
  }
  jv_free(k);
  k = kw(w, K_maxItems);
  if(jv_get_kind(k) == JV_KIND_NUMBER && n > jv_number_value(k)) {
    double v = jv_number_value(k);
    jv_free(k);
    return fail(c, "expected at most %.0f items, got %d", v, n);
  }
  jv_free(k);

  /* prefixItems; a draft 2019-09 "items" array means the same, with
   * "additionalItems" for the rest */
  k = kw(w, K_prefixItems);
  if(jv_get_kind(k) != JV_KIND_ARRAY) {
    jv_free(k);
    k = kw(w, K_items);
    if(jv_get_kind(k) == JV_KIND_ARRAY)
      rest_kw = K_additionalItems;
  }
  if(jv_get_kind(k) == JV_KIND_ARRAY) {
    npre = jv_array_length(jv_copy(k));
    for(i = 0; ok && i < npre && i < n; i++) {
      jv sub = jv_array_get(jv_copy(k), i);
      jv x = jv_array_get(jv_copy(inst), i);
      ok = check_at_index(c, sub, x, i);
      jv_free(sub);
      jv_free(x);
    }
  }
  jv_free(k);
  if(!ok)
    return 0;

  k = kw(w, rest_kw);
  if(jv_get_kind(k) == JV_KIND_FALSE && n > npre) {
    jv_free(k);
    return fail(c, "expected at most %d items (no items allowed after "
                   "prefixItems)", npre);
  }
  if(jv_get_kind(k) == JV_KIND_OBJECT) {
    for(i = npre; ok && i < n; i++) {
      jv x = jv_array_get(jv_copy(inst), i);
      ok = check_at_index(c, k, x, i);
      jv_free(x);
    }
  }
  jv_free(k);
  if(!ok)
    return 0;

  k = kw(w, K_contains);
  if(jv_is_valid(k)) {
    jv kmin = kw(w, K_minContains), kmax = kw(w, K_maxContains);
    double lo = jv_get_kind(kmin) == JV_KIND_NUMBER ? jv_number_value(kmin)
                                                    : 1;
    double hi = jv_get_kind(kmax) == JV_KIND_NUMBER ? jv_number_value(kmax)
                                                    : -1;
    int hits = 0;
    jv_free(kmin);
    jv_free(kmax);
    for(i = 0; i < n; i++) {
      jv x = jv_array_get(jv_copy(inst), i);
      hits += probe(c, k, x);
      jv_free(x);
    }
    jv_free(k);
    if(hits < lo) {
      if(lo == 1)
        return fail(c, "no item matches the contains schema");
      return fail(c, "expected at least %.0f items matching contains, "
                     "got %d", lo, hits);
    }
    if(hi >= 0 && hits > hi)
      return fail(c, "expected at most %.0f items matching contains, got %d",
                  hi, hits);
  }
  else
    jv_free(k);

  k = kw(w, K_uniqueItems);
  if(jv_get_kind(k) == JV_KIND_TRUE) {
    int j;
    for(i = 0; i < n; i++)
      for(j = i + 1; j < n; j++)
        if(jv_equal(jv_array_get(jv_copy(inst), i),
                    jv_array_get(jv_copy(inst), j))) {
          jv_free(k);
          return fail(c, "items %d and %d are equal (uniqueItems)", i, j);
        }
  }
  jv_free(k);
  return 1;
}

/* The object keywords; sch is an object, inst an object. */
static int check_object(struct vctx *c, const struct kws *w, jv inst)
{
  int n = jv_object_length(jv_copy(inst)), ok = 1;
  jv props, pp, k = kw(w, K_required);
  if(jv_get_kind(k) == JV_KIND_ARRAY) {
    jv_array_foreach(k, i, name) {
      (void)i;
      if(ok && jv_get_kind(name) == JV_KIND_STRING &&
         !jv_object_has(jv_copy(inst), jv_copy(name)))
        ok = fail(c, "missing required property \"%s\"",
                  jv_string_value(name));
      jv_free(name);
    }
  }
  jv_free(k);
  if(!ok)
    return 0;
  k = kw(w, K_minProperties);
  if(jv_get_kind(k) == JV_KIND_NUMBER && n < jv_number_value(k)) {
    double v = jv_number_value(k);
    jv_free(k);
    return fail(c, "expected at least %.0f properties, got %d", v, n);
  }
  jv_free(k);
  k = kw(w, K_maxProperties);
  if(jv_get_kind(k) == JV_KIND_NUMBER && n > jv_number_value(k)) {
    double v = jv_number_value(k);
    jv_free(k);
    return fail(c, "expected at most %.0f properties, got %d", v, n);
  }
  jv_free(k);

  k = kw(w, K_dependentRequired);
  if(jv_get_kind(k) == JV_KIND_OBJECT) {
    jv_object_foreach(k, key, names) {
      if(ok && jv_object_has(jv_copy(inst), jv_copy(key)) &&
         jv_get_kind(names) == JV_KIND_ARRAY) {
        jv_array_foreach(names, i, name) {
          (void)i;
          if(ok && jv_get_kind(name) == JV_KIND_STRING &&
             !jv_object_has(jv_copy(inst), jv_copy(name)))
            ok = fail(c, "missing property \"%s\", required when \"%s\" "
                         "is present", jv_string_value(name),
                      jv_string_value(key));
          jv_free(name);
        }
      }
      jv_free(key);
      jv_free(names);
    }
  }
  jv_free(k);
  if(!ok)
    return 0;

  props = kw(w, K_properties);
  pp = kw(w, K_patternProperties);
  k = kw(w, K_additionalProperties);
  jv_object_foreach(inst, key, val) {
    const char *name = jv_string_value(key);
    int known = 0;
    if(ok && jv_get_kind(props) == JV_KIND_OBJECT &&
       jv_object_has(jv_copy(props), jv_copy(key))) {
      jv sub = jv_object_get(jv_copy(props), jv_copy(key));
      known = 1;
      ok = check_at(c, sub, val, name);
      jv_free(sub);
    }
    if(ok && jv_get_kind(pp) == JV_KIND_OBJECT) {
      jv_object_foreach(pp, p, sub) {
        OnigRegex re = schema_regex(c->s, jv_string_value(p), NULL, 0);
        if(ok && re && schema_regex_search(re, name, strlen(name))) {
          known = 1;
          ok = check_at(c, sub, val, name);
        }
        jv_free(p);
        jv_free(sub);
      }
    }
    if(ok && !known && jv_is_valid(k)) {
      if(jv_get_kind(k) == JV_KIND_FALSE) {
        size_t old = path_push(c, name);
        ok = fail(c, "additional property not allowed");
        path_pop(c, old);
      }
      else
        ok = check_at(c, k, val, name);
    }
    jv_free(key);
    jv_free(val);
  }
  jv_free(props);
  jv_free(pp);
  jv_free(k);
  if(!ok)
    return 0;

  k = kw(w, K_propertyNames);
  if(jv_is_valid(k)) {
    jv_object_foreach(inst, key, val) {
      if(ok)
        ok = check_at(c, k, key, jv_string_value(key));
      jv_free(key);
      jv_free(val);
    }
  }
  jv_free(k);
  if(!ok)
    return 0;

  k = kw(w, K_dependentSchemas);
  if(jv_get_kind(k) == JV_KIND_OBJECT) {
    jv_object_foreach(k, key, sub) {
      if(ok && jv_object_has(jv_copy(inst), jv_copy(key)))
        ok = check(c, sub, inst);
      jv_free(key);
      jv_free(sub);
    }
  }
  jv_free(k);
  return ok;
}

/* allOf, anyOf, oneOf, not, if/then/else. */
static int check_logic(struct vctx *c, const struct kws *w, jv inst)
{
  int ok = 1;
  jv k = kw(w, K_allOf);
  if(jv_get_kind(k) == JV_KIND_ARRAY) {
    jv_array_foreach(k, i, sub) {
      (void)i;
      if(ok)
        ok = check(c, sub, inst);
      jv_free(sub);
    }
  }
  jv_free(k);
  if(!ok)
    return 0;

  k = kw(w, K_anyOf);
  if(jv_get_kind(k) == JV_KIND_ARRAY) {
    int hit = 0, n = jv_array_length(jv_copy(k));
    jv_array_foreach(k, i, sub) {
      (void)i;
      if(!hit)
        hit = probe(c, sub, inst);
      jv_free(sub);
    }
    jv_free(k);
    if(!hit)
      return fail(c, "matches none of the %d anyOf schemas", n);
  }
  else
    jv_free(k);

  k = kw(w, K_oneOf);
  if(jv_get_kind(k) == JV_KIND_ARRAY) {
    int first = -1, second = -1, n = jv_array_length(jv_copy(k));
    jv_array_foreach(k, i, sub) {
      if(second < 0 && probe(c, sub, inst)) {
        if(first < 0)
          first = i;
        else
          second = i;
      }
      jv_free(sub);
    }
    jv_free(k);
    if(first < 0)
      return fail(c, "matches none of the %d oneOf schemas", n);
    if(second >= 0)
      return fail(c, "matches oneOf schemas %d and %d (exactly one "
                     "allowed)", first, second);
  }
  else
    jv_free(k);

  k = kw(w, K_not);
  if(jv_is_valid(k) && probe(c, k, inst)) {
    jv_free(k);
    return fail(c, "must not match the \"not\" schema");
  }
  jv_free(k);

  k = kw(w, K_if);
  if(jv_is_valid(k)) {
    jv branch = kw(w, probe(c, k, inst) ? K_then : K_else);
    if(jv_is_valid(branch))
      ok = check(c, branch, inst);
    jv_free(branch);
  }
  jv_free(k);
  return ok;
}

/* Validate inst against the (sub)schema sch.  1 valid, 0 invalid. */
static int check(struct vctx *c, jv sch, jv inst)
{
  jv_kind sk = jv_get_kind(sch), ik = jv_get_kind(inst);
  struct kws kws, *w = &kws;
  const char *base;
  int ok = 1;
  jv k;
  if(sk == JV_KIND_TRUE)
    return 1;
  if(sk == JV_KIND_FALSE)
    return fail(c, "not allowed (false schema)");
  if(sk != JV_KIND_OBJECT)
    return 1;
  if(++c->steps > SCHEMA_MAX_STEPS)
    return 0; /* schema_check() says why */
  if(c->depth >= SCHEMA_MAX_DEPTH)
    return fail(c, "schema nesting deeper than %d (a $ref loop?)",
                SCHEMA_MAX_DEPTH);
  c->depth++;
  base = c->base;
  kws_load(w, sch);

  k = kw(w, K_id);
  if(jv_get_kind(k) == JV_KIND_STRING) {
    const char *uri = schema_resource_uri(c->s, sch);
    if(uri)
      c->base = uri;
  }
  jv_free(k);
  k = kw(w, K_ref);
  if(jv_get_kind(k) == JV_KIND_STRING) {
    const char *tbase = c->base;
    jv target = schema_resolve(c->s, c->base, jv_string_value(k), &tbase);
    if(!jv_is_valid(target))
      ok = fail(c, "cannot resolve $ref \"%s\"", jv_string_value(k));
    else {
      const char *here = c->base;
      c->base = tbase;
      ok = check(c, target, inst);
      c->base = here;
    }
    jv_free(target);
  }
  jv_free(k);
  if(!ok)
    goto done;

  k = kw(w, K_type);
  ok = check_type(c, k, inst);
  jv_free(k);
  if(!ok)
    goto done;

  k = kw(w, K_enum);
  if(jv_get_kind(k) == JV_KIND_ARRAY) {
    int hit = 0;
    jv_array_foreach(k, i, e) {
      (void)i;
      if(!hit)
        hit = jv_equal(jv_copy(e), jv_copy(inst));
      jv_free(e);
    }
    if(!hit) {
      char buf[120];
      fmt_json(k, buf, sizeof(buf));
      ok = fail(c, "expected one of %s", buf);
    }
  }
  jv_free(k);
  if(!ok)
    goto done;

  k = kw(w, K_const);
  if(jv_is_valid(k) && !jv_equal(jv_copy(k), jv_copy(inst))) {
    char buf[120];
    fmt_json(k, buf, sizeof(buf));
    ok = fail(c, "expected %s (const)", buf);
  }
  jv_free(k);
  if(!ok)
    goto done;

  /* only the keyword groups this schema has */
  if(ik == JV_KIND_NUMBER && (w->present & NUMBER_KWS))
    ok = check_number(c, w, inst);
  else if(ik == JV_KIND_STRING && (w->present & STRING_KWS))
    ok = check_string(c, w, inst);
  else if(ik == JV_KIND_ARRAY && (w->present & ARRAY_KWS))
    ok = check_array(c, w, inst);
  else if(ik == JV_KIND_OBJECT && (w->present & OBJECT_KWS))
    ok = check_object(c, w, inst);
  if(ok && (w->present & LOGIC_KWS))
    ok = check_logic(c, w, inst);
done:
  kws_free(w);
  c->base = base;
  c->depth--;
  return ok;
}

int schema_check(struct schema *s, jv inst, char *reason, size_t len)
{
  struct vctx c;
  int ok;
  memset(&c, 0, sizeof(c));
  c.s = s;
  c.base = s->nres ? s->res[0].uri : "";
  c.reason = reason;
  c.rlen = len;
  if(reason && len)
    reason[0] = '\0';
  ok = check(&c, s->root, inst);
  if(c.steps > SCHEMA_MAX_STEPS) {
    /* a schema that branches at every level (anyOf of two $refs to the
       next $defs entry, 40 deep) would take 2^40 steps: the answer is
       not shown valid, whatever the steps so far said */
    if(reason && len)
      snprintf(reason, len, "/: too costly to check (more than %d "
               "subschema checks)", SCHEMA_MAX_STEPS);
    return 0;
  }
  return ok;
}
