/*
 * keys.h - interned object keys for stages on a hot path (price, route).
 * Header-only: plugins link nothing from each other, so each .so that
 * includes it gets its own copy of the table.
 *
 * jv_string() allocates and hashes on every call; the keys a stage uses
 * are made once.  key() takes string literals only (it tells them apart
 * by address).  One thread, so no lock.  Each instance's init() counts
 * itself in `ninstances`; its finish() calls keys_release().
 */
#ifndef LLMR_PLUGIN_KEYS_H
#define LLMR_PLUGIN_KEYS_H

#include "llmroute.h"

#define MAX_KEYS 64

static struct {
  const char *lit;
  jv v;
} keys[MAX_KEYS];
static int nkeys, ninstances;

/* A new ref to the interned string for the literal k. */
static jv key(const char *k)
{
  int i;

  for(i = 0; i < nkeys; i++)
    if(keys[i].lit == k)
      return jv_copy(keys[i].v);
  if(nkeys == MAX_KEYS)
    return jv_string(k);
  keys[nkeys].lit = k;
  keys[nkeys].v = jv_string(k);
  return jv_copy(keys[nkeys++].v);
}

/* Drop the interned keys when the last instance finishes. */
static void keys_release(void)
{
  if(--ninstances > 0)
    return;
  while(nkeys > 0)
    jv_free(keys[--nkeys].v);
}


#endif
