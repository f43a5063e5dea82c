/*
 * schema_int.h - internals shared by schema.c (validation),
 * schema_compile.c (compilation) and schema_ref.c (regular expressions,
 * URIs, $ref resolution).  Not part of the validate stage's interface.
 */
#ifndef LLMR_SCHEMA_INT_H
#define LLMR_SCHEMA_INT_H

#include <stddef.h>
#include <jv.h>
#include <oniguruma.h>

#include "schema.h"

#if defined(__GNUC__)
#define LLMR_SCHEMA_PRINTF __attribute__((format(printf, 2, 3)))
#else
#define LLMR_SCHEMA_PRINTF
#endif

#define SCHEMA_MAX_DEPTH 128  /* nested schemas (through $ref) per check */
#define SCHEMA_MAX_STEPS 200000 /* subschema checks per schema_check() */
#define SCHEMA_PATH_LEN 512   /* instance and schema pointer buffers */
#define SCHEMA_URI_LEN 512    /* a resolved URI */

struct schema_regex {
  char *src;
  OnigRegex re;
};

/* A schema resource (the root, or a subschema with $id) by its absolute
 * URI (no fragment), or an $anchor by its resource's URI and name. */
struct schema_res {
  char *uri;
  char *anchor;   /* NULL for a resource */
  jv schema;
};

struct schema {
  jv root;
  struct schema_regex *re;
  size_t nre, cap;
  struct schema_res *res;
  size_t nres, rescap;
};

/* Borrows obj.  New ref of obj[key], or jv_invalid() when obj is not an
 * object or has no such key; never asserts. */
jv schema_get(jv obj, const char *key);

/* Borrows v.  1 when v is a number with no fractional part. */
int schema_is_integral(jv v);

/* The compiled pattern src, cached in s; NULL with a message in err (err
 * may be NULL). */
OnigRegex schema_regex(struct schema *s, const char *src, char *err,
                       size_t errlen);

/* 1 when re finds a match anywhere in the n bytes at str. */
int schema_regex_search(OnigRegex re, const char *str, size_t n);

/* Resolve URI reference ref against base into out (RFC 3986, without dot
 * segment removal).  The fragment is kept. */
void schema_uri_resolve(const char *base, const char *ref, char *out,
                        size_t n);

/* Record a resource (anchor NULL) or an anchor; borrows sch.  0 or -1
 * (out of memory). */
int schema_index_add(struct schema *s, const char *uri, const char *anchor,
                     jv sch);

/* Borrows sch.  The URI of the resource whose schema is sch itself (the
 * same jv), or NULL. */
const char *schema_resource_uri(struct schema *s, jv sch);

/* New ref of the schema that ref (a $ref value) names, seen from base;
 * *target_base is the URI of the resource it is in (owned by s).
 * jv_invalid() when there is none. */
jv schema_resolve(struct schema *s, const char *base, const char *ref,
                  const char **target_base);

#endif /* LLMR_SCHEMA_INT_H */
