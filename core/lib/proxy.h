/*
 * proxy.h - the length/complexity proxies shared by validate
 * (require_tier=) and escalate mode=preempt: "this request is beyond the
 * cheap tier".  A proxy fires when any configured condition holds:
 *
 *   when_complexity=X   route.complexity (set by classify) >= X
 *   when_tokens=N       estimated input tokens >= N
 *   when_pattern=RE     the user messages hold at least when_count=N
 *   when_count=N        (default 1) matches of RE, e.g. reasoning hops
 *                       ("\b(then|therefore|next)\b") or entities
 *
 * Internal library (core/lib): two built-in stages share these options
 * and their meaning, which are policy of theirs, not a runner service.
 * Each lists PROXY_OPTIONS in its option table.
 */
#ifndef LLMR_PROXY_H
#define LLMR_PROXY_H

#include <stddef.h>
#include <oniguruma.h>
#include "llmroute.h"

struct proxy {
  double when_complexity; /* < 0: unset */
  long when_tokens;       /* <= 0: unset */
  OnigRegex when_re;      /* NULL: unset */
  long when_count;
};

#define PROXY_OPTIONS                                                      \
  {"when_complexity", LLMR_OPT_DOUBLE, NULL, 0,                            \
   "proxy: route.complexity at least this"},                               \
  {"when_tokens", LLMR_OPT_INT, NULL, 0,                                   \
   "proxy: estimated input tokens at least this"},                         \
  {"when_pattern", LLMR_OPT_STRING, NULL, 0,                               \
   "proxy: regex counted in the user messages (hops, entities)"},          \
  {"when_count", LLMR_OPT_INT, "1", 0,                                     \
   "proxy: matches of when_pattern needed"}

/* Read the when_* options of cf into p.  0, or -1 after
 * host->config_error(). */
int proxy_init(struct proxy *p, const struct llmr_host *host,
               const struct llmr_config *cf);

/* 1 when some when_* option is set. */
int proxy_configured(const struct proxy *p);

/* Borrows req and route.  1 when the proxy fires for this request, with
 * why ("complexity 0.82 >= 0.70") written to why; else 0. */
int proxy_fires(const struct proxy *p, const struct llmr_host *host,
                jv req, jv route, char *why, size_t n);

/* Free what proxy_init() allocated; safe twice. */
void proxy_free(struct proxy *p);

#endif /* LLMR_PROXY_H */
