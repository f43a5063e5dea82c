/*
 * double_complete.c - test stage (deliberately careless): takes the job
 * with LLMR_PENDING, and when its timer fires calls host->complete()
 * twice.  The runner must ignore the second call (and say so with
 * LLMR_ESTATE): one result line, no error.  If the second call is not
 * refused this stage logs "second complete() returned N" at error level.
 *
 *   double_complete [second=fail|next]
 */
#include <stdlib.h>
#include <string.h>
#include "llmroute.h"

struct dc {
  const struct llmr_host *host;
  int second_fail;
};

static const struct llmr_option dc_options[] = {
  {"second", LLMR_OPT_STRING, "fail", 0,
   "verdict of the second complete(): fail or next"},
  {NULL, LLMR_OPT_STRING, NULL, 0, NULL}
};

static int dc_init(const struct llmr_host *host,
                   const struct llmr_config *cf, void **self)
{
  struct dc *d = calloc(1, sizeof(*d));

  if(!d)
    return LLMR_ENOMEM;
  d->host = host;
  d->second_fail = !strcmp(host->opt(cf, "second")->str, "fail");
  *self = d;
  return LLMR_OK;
}

static void dc_fire(void *self, struct llmr_job *job)
{
  struct dc *d = self;
  int rc;

  d->host->complete(job, LLMR_NEXT);
  rc = d->host->complete(job, d->second_fail ? LLMR_FAIL : LLMR_NEXT);
  if(rc != LLMR_ESTATE)
    d->host->log(NULL, LLMR_LOG_ERROR, "second complete() returned %d",
                 rc);
}

static enum llmr_verdict dc_process(void *self, struct llmr_job *job)
{
  struct dc *d = self;

  if(d->host->after(job, 1, dc_fire) != LLMR_OK) {
    d->host->set_error(job, "timer_failed", "host->after() refused");
    return LLMR_FAIL;
  }
  return LLMR_PENDING;
}

static void dc_finish(void *self)
{
  free(self);
}

static const struct llmr_stage dc_stage = {
  LLMR_STAGE_VERSION,
  .name = "double_complete",
  .version = "1.0",
  .description = "test: completes each job twice",
  .options = dc_options,
  .init = dc_init,
  .process = dc_process,
  .finish = dc_finish,
  .done = NULL
};

const struct llmr_stage *llmr_stage_entry(unsigned host_major,
                                          unsigned host_minor)
{
  (void)host_major;
  (void)host_minor;
  return &dc_stage;
}
