/*
 * answer.c - answer checkers (ABI 1.2): host->set_answer_check() and
 * host->check_answer().
 *
 * A stage that judges answers (validate) registers a checker at init; a
 * stage upstream of it (call, holding the two answers of a hedge) asks
 * whether an answer would pass the checks waiting downstream, so it can
 * keep the first valid one.  The checkers live in one table in pipeline
 * order, one per stage instance, from init until finish_stages().
 */
#include <stdlib.h>
#include <string.h>

#include "run.h"

struct checker {
  int stage;                 /* index of the registering stage */
  llmr_answer_check fn;
  void *self;
};

static struct checker *checkers;
static int nchecks, capchecks;
static int checking;         /* a checker is running: no re-entry */

int answer_set_check(const struct llmr_config *cf, llmr_answer_check fn,
                     void *self)
{
  int i;

  if(!cf || !R.pl || cf->index < 0 || cf->index >= R.pl->nstages ||
     &R.pl->stages[cf->index].cf != cf)
    return LLMR_EINVAL;
  i = 0;
  while(i < nchecks && checkers[i].stage < cf->index)
    i++;
  if(i < nchecks && checkers[i].stage == cf->index) {
    if(fn) {
      checkers[i].fn = fn;
      checkers[i].self = self;
    }
    else {
      memmove(&checkers[i], &checkers[i + 1],
              (size_t)(nchecks - i - 1) * sizeof(*checkers));
      nchecks--;
    }
    return LLMR_OK;
  }
  if(!fn)
    return LLMR_OK;
  if(nchecks == capchecks) {
    int cap = capchecks ? capchecks * 2 : 4;
    struct checker *p = realloc(checkers, (size_t)cap * sizeof(*p));

    if(!p)
      return LLMR_ENOMEM;
    checkers = p;
    capchecks = cap;
  }
  /* keep the table in pipeline order */
  memmove(&checkers[i + 1], &checkers[i],
          (size_t)(nchecks - i) * sizeof(*checkers));
  checkers[i].stage = cf->index;
  checkers[i].fn = fn;
  checkers[i].self = self;
  nchecks++;
  return LLMR_OK;
}

/* Copy s into out (len bytes), truncated, NUL-terminated. */
static void put_reason(char *out, size_t len, const char *s)
{
  size_t n;

  if(!out || !len)
    return;
  n = strlen(s);
  if(n >= len)
    n = len - 1;
  memcpy(out, s, n);
  out[n] = '\0';
}

enum llmr_answer answer_check(struct llmr_job *job, jv response,
                              char *reason, size_t len)
{
  enum llmr_answer verdict = LLMR_ANSWER_VALID;
  char why[512], unknown[512] = "";
  int i, saved;

  put_reason(reason, len, "");
  if(checking) {
    put_reason(reason, len, "check_answer() called from an answer "
               "checker: not run");
    return LLMR_ANSWER_UNKNOWN;
  }
  if(!job)
    return LLMR_ANSWER_VALID;
  checking = 1;
  saved = R.cur_stage;
  for(i = 0; i < nchecks; i++) {
    enum llmr_answer a;

    if(checkers[i].stage <= job->stage)
      continue;
    why[0] = '\0';
    R.cur_stage = checkers[i].stage; /* its log lines carry its label */
    a = checkers[i].fn(checkers[i].self, job, response, why, sizeof(why));
    why[sizeof(why) - 1] = '\0';
    if(a == LLMR_ANSWER_INVALID) {
      put_reason(reason, len, why[0] ? why : "invalid");
      verdict = LLMR_ANSWER_INVALID;
      break;
    }
    if(a != LLMR_ANSWER_VALID && verdict == LLMR_ANSWER_VALID) {
      /* LLMR_ANSWER_UNKNOWN, or a value this runner does not know */
      put_reason(unknown, sizeof(unknown), why[0] ? why : "not judged");
      verdict = LLMR_ANSWER_UNKNOWN;
    }
  }
  R.cur_stage = saved;
  checking = 0;
  if(verdict == LLMR_ANSWER_UNKNOWN)
    put_reason(reason, len, unknown);
  return verdict;
}

void answer_free(void)
{
  free(checkers);
  checkers = NULL;
  nchecks = capchecks = 0;
  checking = 0;
}
