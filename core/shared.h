/*
 * shared.h - what the runner asks of a shared-state module: one budget
 * and one set of rate-limit buckets for every process of a run, kept in
 * a server all of them reach (set shared=URL run=NAME).  The runner
 * dlopens the module only when shared= is given, so it never links the
 * server's client library itself; plugins/shared_redis/ is the Redis
 * one.  Every call is synchronous with a short timeout; after the first
 * failure the module says "lost" and the runner stops asking.
 */
#ifndef LLMR_SHARED_H
#define LLMR_SHARED_H

#include <stddef.h>

#define LLMR_SHARED_VERSION 1

struct llmr_shared_ops {
  unsigned version; /* LLMR_SHARED_VERSION */
  size_t size;      /* sizeof(struct llmr_shared_ops) */

  /* Connect to url for run `run`.  ttl: seconds a process's lease lives
   * without a heartbeat; timeout: seconds any one command may take.
   * budget: this process's budget in USD (< 0: none given); the first
   * process of the run stores it, a later one must give the same or
   * none.  NULL and a message in err on failure. */
  void *(*open)(const char *url, const char *run, double ttl,
                double timeout, double budget, char *err, size_t errlen);

  /* Reserve usd: 0 and *gen (the lease generation the reservation is
   * held under, handed back to settle()), 1 when it does not fit the
   * run's budget, -1 when the server is unavailable. */
  int (*reserve)(void *h, double usd, long *gen);

  /* Replace a reservation of `reserved` USD held under gen with the
   * actual cost.  0, or -1 when the server is unavailable. */
  int (*settle)(void *h, long gen, double reserved, double actual);

  /* Take n units from the run's token bucket `bucket` (per_minute units
   * a minute, holding at most a minute's worth).  ifroom: take only when
   * the bucket holds n now.  Seconds to wait before sending (0: go now;
   * with ifroom, > 0 means nothing was taken), or < 0 when the server is
   * unavailable. */
  double (*take)(void *h, const char *bucket, double n, double per_minute,
                 int ifroom);

  /* Refresh the lease.  0, or -1 when the server is unavailable. */
  int (*heartbeat)(void *h);

  /* What the run has spent so far (settled costs, all processes), or
   * < 0 when unknown. */
  double (*spent)(void *h);

  /* Why the last call failed ("" when none). */
  const char *(*error)(void *h);

  /* Give back this process's lease and disconnect. */
  void (*close)(void *h);
};

/* The module's one exported symbol. */
typedef const struct llmr_shared_ops *(*llmr_shared_entry_fn)(void);
#define LLMR_SHARED_ENTRY "llmr_shared_entry"

#endif
