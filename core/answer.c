/*
 * answer.c - answer checkers (ABI 1.2: host->set_answer_check() and
 * host->check_answer()) and request checkers (ABI 1.5:
 * host->set_request_check() and host->check_request()).
 *
 * A stage that judges answers (validate) registers checkers at init; a
 * stage upstream of it asks whether an answer would pass the checks
 * waiting downstream (call, holding the two answers of a hedge, keeps
 * the first valid one), or whether the checks the request carries are
 * sound at all (call, before paying for an answer).  The checkers live
 * in one table in pipeline order, one entry per stage instance, from
 * init until finish_stages().
 */
#include <stdlib.h>
#include <string.h>

#include "run.h"

struct checker {
  int stage;                 /* index of the registering stage */
  llmr_answer_check fn;      /* either may be NULL */
  void *self;
  llmr_request_check rfn;
  void *rself;
};

static struct checker *checkers;
static int nchecks, capchecks;
static int checking;         /* a checker is running: no re-entry */

/* The entry of the stage of cf, created when make (NULL when cf is not a
 * stage of this pipeline, or out of memory: *rc says which). */
static struct checker *entry_for(const struct llmr_config *cf, int make,
                                 int *rc)
{
  int i;

  *rc = LLMR_OK;
  if(!cf || !R.pl || cf->index < 0 || cf->index >= R.pl->nstages ||
     &R.pl->stages[cf->index].cf != cf) {
    *rc = LLMR_EINVAL;
    return NULL;
  }
  i = 0;
  while(i < nchecks && checkers[i].stage < cf->index)
    i++;
  if(i < nchecks && checkers[i].stage == cf->index)
    return &checkers[i];
  if(!make)
    return NULL;
  if(nchecks == capchecks) {
    int cap = capchecks ? capchecks * 2 : 4;
    struct checker *p = realloc(checkers, (size_t)cap * sizeof(*p));

    if(!p) {
      *rc = LLMR_ENOMEM;
      return NULL;
    }
    checkers = p;
    capchecks = cap;
  }
  /* keep the table in pipeline order */
  memmove(&checkers[i + 1], &checkers[i],
          (size_t)(nchecks - i) * sizeof(*checkers));
  memset(&checkers[i], 0, sizeof(*checkers));
  checkers[i].stage = cf->index;
  nchecks++;
  return &checkers[i];
}

/* Drop e when it holds no checker any more. */
static void entry_trim(struct checker *e)
{
  if(e->fn || e->rfn)
    return;
  memmove(e, e + 1, (size_t)(checkers + nchecks - e - 1) * sizeof(*e));
  nchecks--;
}

int answer_set_check(const struct llmr_config *cf, llmr_answer_check fn,
                     void *self)
{
  int rc;
  struct checker *e = entry_for(cf, fn != NULL, &rc);

  if(e) {
    e->fn = fn;
    e->self = fn ? self : NULL;
    entry_trim(e);
  }
  return rc;
}

int request_set_check(const struct llmr_config *cf, llmr_request_check fn,
                      void *self)
{
  int rc;
  struct checker *e = entry_for(cf, fn != NULL, &rc);

  if(e) {
    e->rfn = fn;
    e->rself = fn ? self : NULL;
    entry_trim(e);
  }
  return rc;
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

    if(checkers[i].stage <= job->stage || !checkers[i].fn)
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

const char *request_check(struct llmr_job *job, char *reason, size_t len)
{
  const char *code = NULL;
  char why[512];
  int i, saved;

  put_reason(reason, len, "");
  if(checking || !job)
    return NULL;
  checking = 1;
  saved = R.cur_stage;
  for(i = 0; i < nchecks && !code; i++) {
    if(checkers[i].stage <= job->stage || !checkers[i].rfn)
      continue;
    why[0] = '\0';
    R.cur_stage = checkers[i].stage; /* its log lines carry its label */
    code = checkers[i].rfn(checkers[i].rself, job, why, sizeof(why));
    why[sizeof(why) - 1] = '\0';
    if(code)
      put_reason(reason, len, why[0] ? why : "the request's checks are "
                 "broken");
  }
  R.cur_stage = saved;
  checking = 0;
  return code;
}

void answer_free(void)
{
  free(checkers);
  checkers = NULL;
  nchecks = capchecks = 0;
  checking = 0;
}
