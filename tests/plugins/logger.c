/*
 * logger.c - test stage: log a line through host->log for every job (and
 * one without a job at init), so cases can check the prefix, the level
 * gate and that logs go to stderr only.
 *
 *   logger [level=1] [text="hello from logger"]
 *
 * level: 0 error, 1 warn, 2 info, 3 debug.
 */
#include <stdlib.h>
#include "llmroute.h"

struct logger {
  const struct llmr_host *host;
  int level;
  const char *text;
};

static const struct llmr_option logger_options[] = {
  {"level", LLMR_OPT_INT, "1", 0, "0 error, 1 warn, 2 info, 3 debug"},
  {"text", LLMR_OPT_STRING, "hello from logger", 0, "what to log"},
  {NULL, LLMR_OPT_STRING, NULL, 0, NULL}
};

static int logger_init(const struct llmr_host *host,
                       const struct llmr_config *cf, void **self)
{
  struct logger *l = calloc(1, sizeof(*l));

  if(!l)
    return LLMR_ENOMEM;
  l->host = host;
  l->level = (int)host->opt(cf, "level")->i;
  l->text = host->opt(cf, "text")->str;
  host->log(NULL, l->level, "init: %s", l->text);
  *self = l;
  return LLMR_OK;
}

static enum llmr_verdict logger_process(void *self, struct llmr_job *job)
{
  struct logger *l = self;

  l->host->log(job, l->level, "job: %s", l->text);
  return LLMR_NEXT;
}

static void logger_finish(void *self)
{
  free(self);
}

static const struct llmr_stage logger_stage = {
  LLMR_STAGE_VERSION,
  .name = "logger",
  .version = "1.0",
  .description = "test: log a line for every job",
  .options = logger_options,
  .init = logger_init,
  .process = logger_process,
  .finish = logger_finish
};

const struct llmr_stage *llmr_stage_entry(unsigned host_major,
                                          unsigned host_minor)
{
  (void)host_major;
  (void)host_minor;
  return &logger_stage;
}
