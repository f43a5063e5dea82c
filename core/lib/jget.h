/*
 * jget.h - reading one member of a JSON object that may not be one: the
 * lookups built-in stages make on route records, answers and requests
 * written by others, where a missing or mistyped member is normal.
 *
 * Internal library (core/lib): a convenience over jq's jv API that three
 * built-in stages share; header-only, nothing a plugin author needs.
 */
#ifndef LLMR_JGET_H
#define LLMR_JGET_H

#include <jv.h>

/* Borrows obj.  New ref of obj[key]; jv_null() when absent or when obj is
 * not an object; never asserts. */
static inline jv jget(jv obj, const char *key)
{
  jv v;

  if(jv_get_kind(obj) != JV_KIND_OBJECT)
    return jv_null();
  v = jv_object_get(jv_copy(obj), jv_string(key));
  return jv_is_valid(v) ? v : (jv_free(v), jv_null());
}

/* Borrows obj.  obj[key] as a number, or def. */
static inline double jget_num(jv obj, const char *key, double def)
{
  jv v = jget(obj, key);
  double d = jv_get_kind(v) == JV_KIND_NUMBER ? jv_number_value(v) : def;

  jv_free(v);
  return d;
}

#endif
