/*
 * strmap.c - a map from strings to numbers (see strmap.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "strmap.h"

static uint64_t hash(const char *s)
{
  uint64_t h = 1469598103934665603ull;

  for(; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

void strmap_init(struct strmap *m)
{
  memset(m, 0, sizeof(*m));
}

void strmap_free(struct strmap *m)
{
  size_t i;

  for(i = 0; i < m->cap; i++)
    free(m->keys[i]);
  free(m->keys);
  free(m->vals);
  strmap_init(m);
}

/* The slot of key, or of the empty slot where it would go. */
static size_t slot(const struct strmap *m, const char *key)
{
  size_t i = (size_t)hash(key) & (m->cap - 1);

  while(m->keys[i] && strcmp(m->keys[i], key))
    i = (i + 1) & (m->cap - 1);
  return i;
}

long strmap_get(const struct strmap *m, const char *key)
{
  size_t i;

  if(!m->cap)
    return -1;
  i = slot(m, key);
  return m->keys[i] ? m->vals[i] : -1;
}

static int grow(struct strmap *m)
{
  struct strmap g;
  size_t i;

  g.cap = m->cap ? m->cap * 2 : 64;
  g.n = m->n;
  g.keys = calloc(g.cap, sizeof(*g.keys));
  g.vals = calloc(g.cap, sizeof(*g.vals));
  if(!g.keys || !g.vals) {
    free(g.keys);
    free(g.vals);
    return -1;
  }
  for(i = 0; i < m->cap; i++)
    if(m->keys[i]) {
      size_t j = slot(&g, m->keys[i]);
      g.keys[j] = m->keys[i];
      g.vals[j] = m->vals[i];
    }
  free(m->keys);
  free(m->vals);
  *m = g;
  return 0;
}

long strmap_put(struct strmap *m, const char *key, long val)
{
  size_t i;
  long old;

  if((m->n + 1) * 4 > m->cap * 3 && grow(m))
    return -2;
  i = slot(m, key);
  if(m->keys[i]) {
    old = m->vals[i];
    m->vals[i] = val;
    return old;
  }
  m->keys[i] = strdup(key);
  if(!m->keys[i])
    return -2;
  m->vals[i] = val;
  m->n++;
  return -1;
}
