/*
 * new_minor.c - test stage (deliberately broken): built for a newer ABI
 * minor than the runner's (LLMR_ABI_MINOR + 1).  The runner must refuse
 * it with "FILE:LINE: ..." and exit 2: it may rely on host services this
 * runner lacks.
 */
#include <stddef.h>
#include "llmroute.h"

static int nm_init(const struct llmr_host *host,
                   const struct llmr_config *cf, void **self)
{
  (void)host;
  (void)cf;
  *self = NULL;
  return LLMR_OK;
}

static enum llmr_verdict nm_process(void *self, struct llmr_job *job)
{
  (void)self;
  (void)job;
  return LLMR_NEXT;
}

static const struct llmr_stage nm_stage = {
  LLMR_ABI_MAJOR, LLMR_ABI_MINOR + 1, sizeof(struct llmr_stage),
  .name = "new_minor",
  .version = "1.0",
  .description = "test: built for a newer ABI minor",
  .init = nm_init,
  .process = nm_process
};

const struct llmr_stage *llmr_stage_entry(unsigned host_major,
                                          unsigned host_minor)
{
  (void)host_major;
  (void)host_minor;
  return &nm_stage;
}
