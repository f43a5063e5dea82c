/*
 * fail.c - test stage: fail jobs with a chosen error.
 *
 *   fail [code=test_failure] [message="failed on purpose"] [match=TEXT]
 *
 * With match=, only jobs whose custom_id contains TEXT fail; the others
 * go on.
 */
#include <stdlib.h>
#include <string.h>
#include "llmroute.h"

struct fail {
  const struct llmr_host *host;
  const char *code, *message, *match;
};

static const struct llmr_option fail_options[] = {
  {"code", LLMR_OPT_STRING, "test_failure", 0, "error code"},
  {"message", LLMR_OPT_STRING, "failed on purpose", 0, "error message"},
  {"match", LLMR_OPT_STRING, NULL, 0,
   "fail only custom_ids containing this"},
  {NULL, LLMR_OPT_STRING, NULL, 0, NULL}
};

static int fail_init(const struct llmr_host *host,
                     const struct llmr_config *cf, void **self)
{
  struct fail *f = calloc(1, sizeof(*f));

  if(!f)
    return LLMR_ENOMEM;
  f->host = host;
  f->code = host->opt(cf, "code")->str;
  f->message = host->opt(cf, "message")->str;
  f->match = host->opt(cf, "match")->str;
  *self = f;
  return LLMR_OK;
}

static enum llmr_verdict fail_process(void *self, struct llmr_job *job)
{
  struct fail *f = self;

  if(f->match) {
    const char *id = f->host->custom_id(job);
    if(!id || !strstr(id, f->match))
      return LLMR_NEXT;
  }
  f->host->set_error(job, f->code, "%s", f->message);
  return LLMR_FAIL;
}

static void fail_finish(void *self)
{
  free(self);
}

static const struct llmr_stage fail_stage = {
  LLMR_STAGE_VERSION,
  .name = "fail",
  .version = "1.0",
  .description = "test: fail jobs with a chosen error",
  .options = fail_options,
  .init = fail_init,
  .process = fail_process,
  .finish = fail_finish
};

const struct llmr_stage *llmr_stage_entry(unsigned host_major,
                                          unsigned host_minor)
{
  (void)host_major;
  (void)host_minor;
  return &fail_stage;
}
