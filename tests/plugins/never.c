/*
 * never.c - test stage (deliberately broken): takes every job with
 * LLMR_PENDING and never completes it.  The runner's per-job deadline
 * (set job_timeout=SECONDS) must turn each into a "timeout" error record,
 * and SIGINT/SIGTERM into an "interrupted" one.
 */
#include <stddef.h>
#include "llmroute.h"

static int never_init(const struct llmr_host *host,
                      const struct llmr_config *cf, void **self)
{
  (void)host;
  (void)cf;
  *self = NULL;
  return LLMR_OK;
}

static enum llmr_verdict never_process(void *self, struct llmr_job *job)
{
  (void)self;
  (void)job;
  return LLMR_PENDING;
}

static const struct llmr_stage never_stage = {
  LLMR_STAGE_VERSION,
  .name = "never",
  .version = "1.0",
  .description = "test: never completes a job",
  .options = NULL,
  .init = never_init,
  .process = never_process,
  .finish = NULL
};

const struct llmr_stage *llmr_stage_entry(unsigned host_major,
                                          unsigned host_minor)
{
  (void)host_major;
  (void)host_minor;
  return &never_stage;
}
