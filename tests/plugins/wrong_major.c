/*
 * wrong_major.c - test stage (deliberately broken): its descriptor claims
 * ABI major LLMR_ABI_MAJOR + 1, so the runner must refuse to load it with
 * "FILE:LINE: ..." and exit 2 before reading any input.
 */
#include <stddef.h>
#include "llmroute.h"

static int wm_init(const struct llmr_host *host,
                   const struct llmr_config *cf, void **self)
{
  (void)host;
  (void)cf;
  *self = NULL;
  return LLMR_OK;
}

static enum llmr_verdict wm_process(void *self, struct llmr_job *job)
{
  (void)self;
  (void)job;
  return LLMR_NEXT;
}

static const struct llmr_stage wm_stage = {
  LLMR_ABI_MAJOR + 1, LLMR_ABI_MINOR, sizeof(struct llmr_stage),
  .name = "wrong_major",
  .version = "1.0",
  .description = "test: built for a future ABI major",
  .init = wm_init,
  .process = wm_process
};

const struct llmr_stage *llmr_stage_entry(unsigned host_major,
                                          unsigned host_minor)
{
  (void)host_major;
  (void)host_minor;
  return &wm_stage;
}
