/*
 * plan.h - what the price and route stages share of a request's cost
 * plan: the expected reply length of a task, token counts read from JSON
 * numbers, and the cost of a plan through host->cost().
 *
 * Internal library (core/lib), header-only: these are the built-in
 * stages' own defaults, not a service of the runner.  A third-party
 * stage prices a plan with host->cost() and its own expectations.
 */
#ifndef LLMR_PLAN_H
#define LLMR_PLAN_H

#include <string.h>
#include "llmroute.h"

/* Expected output tokens of a reply by task, when the request's
 * max_tokens does not say less: rough medians of answers to such
 * prompts (a label is a few tokens, a program or a proof hundreds). */
static inline long plan_task_output(const char *task)
{
  static const struct {
    const char *task;
    long tokens;
  } t[] = {
    { "classification", 20 }, { "extraction", 150 },
    { "summarization", 250 }, { "translation", 300 }, { "chat", 250 },
    { "creative_generation", 600 }, { "coding", 700 }, { "math", 500 },
    { "multi_step_reasoning", 800 }, { "knowledge_qa", 30 },
    { "commonsense", 30 }, { NULL, 0 }
  };
  int i;

  for(i = 0; task && t[i].task; i++)
    if(!strcmp(task, t[i].task))
      return t[i].tokens;
  return 350; /* other */
}

/* A token count from a JSON number: 0 for negatives, NaN and fractions
 * below 1; at most PLAN_MAX_COUNT (a cast of a huge double is
 * undefined). */
#define PLAN_MAX_COUNT 1e12
static inline long plan_count(double d)
{
  if(!(d > 0))
    return 0;
  return d > PLAN_MAX_COUNT ? (long)PLAN_MAX_COUNT : (long)d;
}

/* USD of a plan: in prompt tokens (uncached) and out completion tokens
 * at prices p. */
static inline double plan_cost(const struct llmr_host *h,
                               const struct llmr_price *p, long in,
                               long out)
{
  struct llmr_usage u;

  memset(&u, 0, sizeof(u));
  u.input_tokens = in;
  u.output_tokens = out;
  return h->cost(p, &u);
}

#endif /* LLMR_PLAN_H */
