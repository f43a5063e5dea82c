/*
 * drop.c - test stage: drops the job's response and goes on, as a buggy
 * stage might, so the runner's invariant (every result of a pipeline
 * that calls is an answer or an error) has something to catch.
 */
#include <stdlib.h>
#include "llmroute.h"

static const struct llmr_host *host;

static int drop_init(const struct llmr_host *h, const struct llmr_config *cf,
                     void **self)
{
  (void)cf;
  host = h;
  *self = NULL;
  return LLMR_OK;
}

static enum llmr_verdict drop_process(void *self, struct llmr_job *job)
{
  (void)self;
  host->set_response(job, jv_null());
  return LLMR_NEXT;
}

static const struct llmr_stage drop_stage = {
  LLMR_STAGE_VERSION,
  .name = "drop",
  .version = "1.0",
  .description = "drop the response (a buggy stage)",
  .options = NULL,
  .init = drop_init,
  .process = drop_process,
  .finish = NULL
};

LLMR_EXPORT const struct llmr_stage *llmr_stage_entry(unsigned major,
                                                     unsigned minor)
{
  (void)minor;
  return major == LLMR_ABI_MAJOR ? &drop_stage : NULL;
}
