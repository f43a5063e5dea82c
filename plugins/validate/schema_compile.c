/*
 * schema_compile.c - the JSON Schema validator's compiler: checks the
 * keywords' shapes, compiles the patterns, indexes the resources ($id)
 * and anchors, and resolves every $ref, so a broken schema is refused
 * before any instance is looked at.  Two passes over the schema: the
 * first indexes, the second checks (a $ref may point forward).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema_int.h"

#define get schema_get

struct cctx {
  struct schema *s;
  int pass;             /* 1: index $id and anchors; 2: check */
  const void **done;    /* loop search: schemas found loop-free (a set
                           of jv object identities, open addressing) */
  size_t ndone, capdone;
  const void *stack[SCHEMA_MAX_DEPTH]; /* loop search: the current chain */
  int nstack;
  const char *base;     /* URI of the current resource (owned by s) */
  char path[SCHEMA_PATH_LEN];  /* schema pointer, "#/properties/a" */
  size_t plen;
  char *err;
  size_t errlen;
};

/* Record a compile error at the current schema path; returns -1. */
static int cfail(struct cctx *c, const char *fmt, ...) LLMR_SCHEMA_PRINTF;
static int cfail(struct cctx *c, const char *fmt, ...)
{
  va_list ap;
  int n = snprintf(c->err, c->errlen, "%s: ", c->path);
  if(n < 0 || (size_t)n >= c->errlen)
    return -1;
  va_start(ap, fmt);
  vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
  va_end(ap);
  return -1;
}

/* Append "/tok" to the schema path; returns the old length. */
static size_t cpush(struct cctx *c, const char *tok)
{
  size_t old = c->plen;
  int n = snprintf(c->path + old, SCHEMA_PATH_LEN - old, "/%s", tok);
  if(n > 0)
    c->plen = old + (size_t)n < SCHEMA_PATH_LEN ? old + (size_t)n
                                             : SCHEMA_PATH_LEN - 1;
  return old;
}

/* Cut the schema path back to length old. */
static void cpop(struct cctx *c, size_t old)
{
  c->plen = old;
  c->path[old] = '\0';
}

static int compile_node(struct cctx *c, jv sch);

/* Compile sch (borrowed) under "/tok". */
static int compile_at(struct cctx *c, jv sch, const char *tok)
{
  size_t old = cpush(c, tok);
  int rc = compile_node(c, sch);
  if(!rc)
    cpop(c, old);
  return rc;
}

/* A keyword whose value is one schema. */
static int compile_sub(struct cctx *c, jv sch, const char *kw)
{
  jv k = get(sch, kw);
  int rc = jv_is_valid(k) ? compile_at(c, k, kw) : 0;
  jv_free(k);
  return rc;
}

/* A keyword whose value is a non-empty array of schemas. */
static int compile_list(struct cctx *c, jv sch, const char *kw, int nonempty)
{
  jv k = get(sch, kw);
  int rc = 0;
  if(!jv_is_valid(k))
    return 0;
  if(jv_get_kind(k) != JV_KIND_ARRAY ||
     (nonempty && !jv_array_length(jv_copy(k)))) {
    jv_free(k);
    return cfail(c, "%s must be a%s array of schemas", kw,
                 nonempty ? " non-empty" : "n");
  }
  {
    size_t old = cpush(c, kw);
    jv_array_foreach(k, i, sub) {
      char num[24];
      snprintf(num, sizeof(num), "%d", i);
      if(!rc)
        rc = compile_at(c, sub, num);
      jv_free(sub);
    }
    if(!rc)
      cpop(c, old);
  }
  jv_free(k);
  return rc;
}

/* A keyword whose value is an object of schemas; patterns: its keys are
 * regular expressions. */
static int compile_map(struct cctx *c, jv sch, const char *kw, int patterns)
{
  jv k = get(sch, kw);
  int rc = 0;
  if(!jv_is_valid(k))
    return 0;
  if(jv_get_kind(k) != JV_KIND_OBJECT) {
    jv_free(k);
    return cfail(c, "%s must be an object of schemas", kw);
  }
  {
    size_t old = cpush(c, kw);
    jv_object_foreach(k, key, sub) {
      char msg[200];
      if(!rc && patterns && c->pass == 2 &&
         !schema_regex(c->s, jv_string_value(key), msg, sizeof(msg)))
        rc = cfail(c, "%s", msg);
      if(!rc)
        rc = compile_at(c, sub, jv_string_value(key));
      jv_free(key);
      jv_free(sub);
    }
    if(!rc)
      cpop(c, old);
  }
  jv_free(k);
  return rc;
}

/* Keywords that must be a non-negative integer. */
static int compile_count(struct cctx *c, jv sch, const char *kw)
{
  jv k = get(sch, kw);
  int bad = jv_is_valid(k) &&
            (!schema_is_integral(k) || jv_number_value(k) < 0);
  jv_free(k);
  return bad ? cfail(c, "%s must be a non-negative integer", kw) : 0;
}

/* Keywords that must be a number. */
static int compile_numkw(struct cctx *c, jv sch, const char *kw)
{
  jv k = get(sch, kw);
  int bad = jv_is_valid(k) && jv_get_kind(k) != JV_KIND_NUMBER;
  jv_free(k);
  return bad ? cfail(c, "%s must be a number", kw) : 0;
}

/* Borrows t.  1 when t is one of the seven type names. */
static int type_name_ok(jv t)
{
  static const char *const names[] = {"null", "boolean", "object", "array",
                                      "number", "integer", "string", NULL};
  int i;
  if(jv_get_kind(t) != JV_KIND_STRING)
    return 0;
  for(i = 0; names[i]; i++)
    if(!strcmp(names[i], jv_string_value(t)))
      return 1;
  return 0;
}

/* Borrows sch.  The shapes of its keywords, its pattern, its $ref. */
static int compile_shapes(struct cctx *c, jv sch)
{
  static const char *const counts[] = {
    "minLength", "maxLength", "minItems", "maxItems", "minContains",
    "maxContains", "minProperties", "maxProperties", NULL};
  static const char *const nums[] = {
    "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", NULL};
  int i, bad = 0;
  jv k;
  for(i = 0; counts[i]; i++)
    if(compile_count(c, sch, counts[i]))
      return -1;
  for(i = 0; nums[i]; i++)
    if(compile_numkw(c, sch, nums[i]))
      return -1;
  k = get(sch, "multipleOf");
  bad = jv_is_valid(k) && (jv_get_kind(k) != JV_KIND_NUMBER ||
                           jv_number_value(k) <= 0);
  jv_free(k);
  if(bad)
    return cfail(c, "multipleOf must be a number greater than 0");

  k = get(sch, "type");
  if(jv_get_kind(k) == JV_KIND_ARRAY) {
    jv_array_foreach(k, j, t) {
      (void)j;
      bad |= !type_name_ok(t);
      jv_free(t);
    }
  }
  else if(jv_is_valid(k))
    bad = !type_name_ok(k);
  jv_free(k);
  if(bad)
    return cfail(c, "type must be a type name or an array of them");

  k = get(sch, "enum");
  bad = jv_is_valid(k) && jv_get_kind(k) != JV_KIND_ARRAY;
  jv_free(k);
  if(bad)
    return cfail(c, "enum must be an array");

  k = get(sch, "required");
  if(jv_get_kind(k) == JV_KIND_ARRAY) {
    jv_array_foreach(k, j, t) {
      (void)j;
      bad |= jv_get_kind(t) != JV_KIND_STRING;
      jv_free(t);
    }
  }
  else if(jv_is_valid(k))
    bad = 1;
  jv_free(k);
  if(bad)
    return cfail(c, "required must be an array of strings");

  k = get(sch, "pattern");
  if(jv_is_valid(k)) {
    char msg[200];
    if(jv_get_kind(k) != JV_KIND_STRING)
      bad = cfail(c, "pattern must be a string");
    else if(!schema_regex(c->s, jv_string_value(k), msg, sizeof(msg)))
      bad = cfail(c, "%s", msg);
  }
  jv_free(k);
  if(bad)
    return -1;

  k = get(sch, "$ref");
  if(jv_is_valid(k)) {
    const char *tbase = NULL;
    jv target;
    if(jv_get_kind(k) != JV_KIND_STRING) {
      jv_free(k);
      return cfail(c, "$ref must be a string");
    }
    target = schema_resolve(c->s, c->base, jv_string_value(k), &tbase);
    if(!jv_is_valid(target))
      bad = cfail(c, "cannot resolve $ref \"%s\" (only references "
                     "within the document are supported)",
                  jv_string_value(k));
    jv_free(target);
  }
  jv_free(k);
  return bad ? -1 : 0;
}

/* ---------------------------------------------------------------------
 * $ref loops.  The subschemas applied at the same place in the instance
 * as a schema (its $ref target, the items of allOf/anyOf/oneOf, not,
 * if/then/else, the values of dependentSchemas) form a graph; a cycle in
 * it is a check that never ends ({"$ref":"#"} at the root, or two $defs
 * referring to each other), and a chain longer than SCHEMA_MAX_DEPTH is
 * one the checker refuses.  Both are compile errors, so a request never
 * pays for an answer its schema cannot judge.  Recursion through
 * properties, items and the like is fine: each step goes one level into
 * the instance, so the compiler's own walk needs no such care.
 */

/* The identity of an object schema (the same jv however it was reached). */
static const void *node_id(jv sch)
{
  return (const void *)sch.u.ptr;
}

static size_t done_slot(const struct cctx *c, const void *id)
{
  size_t h = ((size_t)id >> 4) * (size_t)0x9E3779B97F4A7C15ull;
  size_t i = h & (c->capdone - 1);
  while(c->done[i] && c->done[i] != id)
    i = (i + 1) & (c->capdone - 1);
  return i;
}

/* Remember id as loop-free.  0, or -1 when out of memory. */
static int done_add(struct cctx *c, const void *id)
{
  if(2 * (c->ndone + 1) > c->capdone) {
    size_t cap = c->capdone ? c->capdone * 2 : 64, i;
    const void **old = c->done;
    size_t oldcap = c->capdone;
    c->done = calloc(cap, sizeof(*c->done));
    if(!c->done) {
      c->done = old;
      return -1;
    }
    c->capdone = cap;
    for(i = 0; i < oldcap; i++)
      if(old[i])
        c->done[done_slot(c, old[i])] = old[i];
    free(old);
  }
  c->done[done_slot(c, id)] = id;
  c->ndone++;
  return 0;
}

static int loop_from(struct cctx *c, jv sch, const char *base);

/* The in-place subschemas of sch under keyword kw (one, or an array or
 * object of them). */
static int loop_kw(struct cctx *c, jv sch, const char *kw, const char *base)
{
  jv k = get(sch, kw);
  int rc = 0;
  switch(jv_get_kind(k)) {
  case JV_KIND_OBJECT:
    if(strcmp(kw, "dependentSchemas")) {
      rc = loop_from(c, k, base);
      break;
    }
    jv_object_foreach(k, key, sub) {
      if(!rc)
        rc = loop_from(c, sub, base);
      jv_free(key);
      jv_free(sub);
    }
    break;
  case JV_KIND_ARRAY:
    jv_array_foreach(k, i, sub) {
      (void)i;
      if(!rc)
        rc = loop_from(c, sub, base);
      jv_free(sub);
    }
    break;
  default:
    break;
  }
  jv_free(k);
  return rc;
}

/* Borrows sch.  0 when no chain of in-place subschemas from sch comes
 * back to one on the current chain; else -1 with c->err set. */
static int loop_from(struct cctx *c, jv sch, const char *base)
{
  static const char *const inplace[] = {
    "allOf", "anyOf", "oneOf", "not", "if", "then", "else",
    "dependentSchemas", NULL};
  const void *id;
  jv ref;
  int i, rc = 0;
  if(jv_get_kind(sch) != JV_KIND_OBJECT)
    return 0;
  id = node_id(sch);
  if(c->capdone && c->done[done_slot(c, id)])
    return 0;
  for(i = 0; i < c->nstack; i++)
    if(c->stack[i] == id)
      return cfail(c, "a $ref loop: the schema refers back to itself "
                      "without going into the instance, so no check "
                      "could end");
  if(c->nstack == SCHEMA_MAX_DEPTH)
    return cfail(c, "more than %d schemas applied in a chain through "
                    "$ref, allOf, anyOf, oneOf, not or if", SCHEMA_MAX_DEPTH);
  c->stack[c->nstack++] = id;
  {
    const char *uri = schema_resource_uri(c->s, sch);
    if(uri)
      base = uri;
  }
  ref = get(sch, "$ref");
  if(jv_get_kind(ref) == JV_KIND_STRING) {
    const char *tbase = base;
    jv target = schema_resolve(c->s, base, jv_string_value(ref), &tbase);
    if(jv_is_valid(target))
      rc = loop_from(c, target, tbase);
    jv_free(target);
  }
  jv_free(ref);
  for(i = 0; !rc && inplace[i]; i++)
    rc = loop_kw(c, sch, inplace[i], base);
  c->nstack--;
  if(!rc && done_add(c, id))
    rc = cfail(c, "out of memory");
  return rc;
}

/* Pass 1: index sch's $id, $anchor and $dynamicAnchor.  Both passes:
 * move c->base into the resource sch opens.  0 or -1. */
static int index_ids(struct cctx *c, jv sch)
{
  static const char *const anchors[] = {"$anchor", "$dynamicAnchor", NULL};
  jv id = get(sch, "$id");
  int i, rc = 0;
  if(jv_get_kind(id) == JV_KIND_STRING) {
    const char *v = jv_string_value(id);
    if(v[0] == '#') { /* draft 7's plain-name fragment: an anchor */
      if(c->pass == 1)
        rc = schema_index_add(c->s, c->base, v + 1, sch);
    }
    else {
      if(c->pass == 1) {
        char uri[SCHEMA_URI_LEN];
        schema_uri_resolve(c->base, v, uri, sizeof(uri));
        uri[strcspn(uri, "#")] = '\0';
        rc = schema_index_add(c->s, uri, NULL, sch);
      }
      if(!rc && schema_resource_uri(c->s, sch))
        c->base = schema_resource_uri(c->s, sch);
    }
  }
  jv_free(id);
  for(i = 0; !rc && c->pass == 1 && anchors[i]; i++) {
    jv a = get(sch, anchors[i]);
    if(jv_get_kind(a) == JV_KIND_STRING)
      rc = schema_index_add(c->s, c->base, jv_string_value(a), sch);
    jv_free(a);
  }
  return rc ? cfail(c, "out of memory") : 0;
}

/* Check and prepare one (sub)schema.  0 or -1 with c->err set. */
static int compile_node(struct cctx *c, jv sch)
{
  static const char *const subs[] = {
    "additionalProperties", "additionalItems", "contains", "propertyNames",
    "not", "if", "then", "else", NULL};
  jv items;
  const char *base = c->base;
  int i;
  jv_kind k = jv_get_kind(sch);
  if(k == JV_KIND_TRUE || k == JV_KIND_FALSE)
    return 0;
  if(k != JV_KIND_OBJECT)
    return cfail(c, "a schema must be an object or a boolean");
  if(index_ids(c, sch))
    return -1;
  if(c->pass == 2 && (compile_shapes(c, sch) || loop_from(c, sch, c->base)))
    return -1;
  for(i = 0; subs[i]; i++)
    if(compile_sub(c, sch, subs[i]))
      return -1;
  items = get(sch, "items");
  k = jv_get_kind(items);
  jv_free(items);
  if(k == JV_KIND_ARRAY ? compile_list(c, sch, "items", 0)
                        : compile_sub(c, sch, "items"))
    return -1;
  if(compile_list(c, sch, "prefixItems", 1) ||
     compile_list(c, sch, "allOf", 1) || compile_list(c, sch, "anyOf", 1) ||
     compile_list(c, sch, "oneOf", 1))
    return -1;
  if(compile_map(c, sch, "properties", 0) ||
     compile_map(c, sch, "patternProperties", 1) ||
     compile_map(c, sch, "$defs", 0) ||
     compile_map(c, sch, "definitions", 0) ||
     compile_map(c, sch, "dependentSchemas", 0))
    return -1;
  c->base = base;
  return 0;
}

struct schema *schema_compile(jv doc, char *err, size_t errlen)
{
  struct schema *s = calloc(1, sizeof(*s));
  struct cctx c;
  char dummy[8];
  if(!s) {
    jv_free(doc);
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  s->root = doc;
  memset(&c, 0, sizeof(c));
  c.s = s;
  c.err = err ? err : dummy;
  c.errlen = err ? errlen : sizeof(dummy);
  c.base = "";
  if(jv_get_kind(doc) == JV_KIND_OBJECT) {
    /* the root is a resource even without an $id of its own */
    jv id = get(doc, "$id");
    int anon = jv_get_kind(id) != JV_KIND_STRING ||
               jv_string_value(id)[0] == '#';
    jv_free(id);
    if(anon && schema_index_add(s, "", NULL, doc)) {
      snprintf(c.err, c.errlen, "out of memory");
      schema_free(s);
      return NULL;
    }
  }
  for(c.pass = 1; c.pass <= 2; c.pass++) {
    strcpy(c.path, "#");
    c.plen = 1;
    c.base = "";
    if(compile_node(&c, doc)) {
      free(c.done);
      schema_free(s);
      return NULL;
    }
  }
  free(c.done);
  return s;
}

void schema_free(struct schema *s)
{
  size_t i;
  if(!s)
    return;
  for(i = 0; i < s->nre; i++) {
    free(s->re[i].src);
    onig_free(s->re[i].re);
  }
  free(s->re);
  for(i = 0; i < s->nres; i++) {
    free(s->res[i].uri);
    free(s->res[i].anchor);
    jv_free(s->res[i].schema);
  }
  free(s->res);
  jv_free(s->root);
  free(s);
}
