/*
 * keys.h - interned object keys for stages on a hot path (price, route).
 *
 * Internal library (core/lib), header-only: it sits on jvfast.h (jq
 * 1.6's private object layout), which is no API to offer plugin
 * authors.  Each .so that includes it gets its own copy of the table.
 *
 * jv_string() allocates and hashes on every call; the keys a stage uses
 * are made once.  key() takes string literals only (it tells them apart
 * by address).  One thread, so no lock.  Each instance's init() counts
 * itself in `ninstances`; its finish() calls keys_release().
 */
#ifndef LLMR_PLUGIN_KEYS_H
#define LLMR_PLUGIN_KEYS_H

#include "llmroute.h"
#include "jvfast.h"

#include <stdint.h>

#define MAX_KEYS 64
#define KEY_SLOTS 128 /* open addressing on the literal's address */

static struct {
  const char *lit;
  jv v;
} keys[KEY_SLOTS];
static int nkeys, ninstances;

/* The interned string for the literal k (borrowed), or NULL when the
 * table is full. */
static const jv *key_slot(const char *k)
{
  unsigned i = (unsigned)(((uintptr_t)k >> 3) * 2654435761u) % KEY_SLOTS;

  while(keys[i].lit && keys[i].lit != k)
    i = (i + 1) % KEY_SLOTS;
  if(keys[i].lit)
    return &keys[i].v;
  if(nkeys == MAX_KEYS)
    return NULL;
  nkeys++;
  keys[i].lit = k;
  keys[i].v = jv_string(k);
  return &keys[i].v;
}

/* A new ref to the interned string for the literal k. */
static jv key(const char *k)
{
  const jv *s = key_slot(k);

  return s ? jvf_copy(*s) : jv_string(k);
}

/* obj[k] for the literal k as a new ref; jv_invalid() when obj is no
 * object or lacks k.  Borrows obj. */
static jv key_get(jv obj, const char *k)
{
  const jv *s = key_slot(k);
  jv t, v;

  if(s)
    return jvf_get(obj, *s);
  t = jv_string(k);
  v = jvf_get(obj, t);
  jvf_free(t);
  return v;
}

/* Borrows obj.  obj[k] for the literal k as a number when it is one,
 * else dflt. */
static double key_num(jv obj, const char *k, double dflt)
{
  jv v = key_get(obj, k);
  double d = jv_get_kind(v) == JV_KIND_NUMBER ? jv_number_value(v) : dflt;

  jvf_free(v);
  return d;
}

/* Drop the interned keys when the last instance finishes. */
static void keys_release(void)
{
  int i;

  if(--ninstances > 0)
    return;
  for(i = 0; i < KEY_SLOTS; i++)
    if(keys[i].lit) {
      jvf_free(keys[i].v);
      keys[i].lit = NULL;
    }
  nkeys = 0;
}


#endif
