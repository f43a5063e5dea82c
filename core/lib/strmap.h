/*
 * strmap.h - a map from strings to numbers (open addressing, FNV-1a),
 * for indexes of many keys: custom_ids of recorded outcomes (eval, the
 * replay provider), model names.
 *
 * Internal library (core/lib): a plain data structure the runner and the
 * built-in stages share; nothing a plugin author needs from the runner.
 */
#ifndef LLMR_STRMAP_H
#define LLMR_STRMAP_H

#include <stddef.h>

struct strmap {
  char **keys;     /* copies, NULL for an empty slot */
  long *vals;
  size_t cap, n;   /* cap is a power of two */
};

/* An empty map; nothing allocated until the first put. */
void strmap_init(struct strmap *m);
/* Frees the keys and the tables; the map is empty again. */
void strmap_free(struct strmap *m);
/* The value of key, or -1 when absent. */
long strmap_get(const struct strmap *m, const char *key);
/* Set key (copied) to val (>= 0).  The value it had, -1 when new, or -2
 * when out of memory. */
long strmap_put(struct strmap *m, const char *key, long val);

#endif /* LLMR_STRMAP_H */
