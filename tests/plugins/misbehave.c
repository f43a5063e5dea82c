/*
 * misbehave.c - test stage (deliberately wrong): breaks the stage rules
 * in one way chosen by mode=, so cases can check that the runner turns
 * each into an error record (or ignores it) instead of crashing or
 * losing the line.
 *
 *   misbehave mode=verdict      process() returns an unknown verdict
 *             mode=fail_silent  LLMR_FAIL without host->set_error()
 *             mode=goto_unset   LLMR_GOTO without host->goto_stage()
 *             mode=bad_request  set_request() with a number
 *             mode=bad_route    set_route() with a string
 *             mode=bad_after    after() with a negative delay and no fire
 *             mode=bad_complete complete(job, LLMR_PENDING) from a timer
 */
#include <stdlib.h>
#include <string.h>
#include "llmroute.h"

enum mode {
  M_VERDICT, M_FAIL_SILENT, M_GOTO_UNSET, M_BAD_REQUEST, M_BAD_ROUTE,
  M_BAD_AFTER, M_BAD_COMPLETE
};

static const char *const mode_names[] = {
  "verdict", "fail_silent", "goto_unset", "bad_request", "bad_route",
  "bad_after", "bad_complete", NULL
};

struct misbehave {
  const struct llmr_host *host;
  enum mode mode;
};

static const struct llmr_option mb_options[] = {
  {"mode", LLMR_OPT_STRING, NULL, LLMR_OPT_REQUIRED, "what to get wrong"},
  {NULL, LLMR_OPT_STRING, NULL, 0, NULL}
};

static int mb_init(const struct llmr_host *host,
                   const struct llmr_config *cf, void **self)
{
  struct misbehave *m;
  const char *mode = host->opt(cf, "mode")->str;
  int i;

  for(i = 0; mode_names[i]; i++)
    if(!strcmp(mode, mode_names[i]))
      break;
  if(!mode_names[i]) {
    host->config_error(cf, "unknown mode '%s'", mode);
    return LLMR_ERR;
  }
  m = calloc(1, sizeof(*m));
  if(!m)
    return LLMR_ENOMEM;
  m->host = host;
  m->mode = (enum mode)i;
  *self = m;
  return LLMR_OK;
}

static void mb_fire(void *self, struct llmr_job *job)
{
  struct misbehave *m = self;

  /* refused: PENDING is no verdict for complete(); then do it right */
  if(m->host->complete(job, LLMR_PENDING) == LLMR_OK)
    m->host->log(job, LLMR_LOG_ERROR, "complete(PENDING) was accepted");
  m->host->complete(job, LLMR_NEXT);
}

static enum llmr_verdict mb_process(void *self, struct llmr_job *job)
{
  struct misbehave *m = self;

  switch(m->mode) {
  case M_VERDICT:
    return (enum llmr_verdict)42;
  case M_FAIL_SILENT:
    return LLMR_FAIL;
  case M_GOTO_UNSET:
    return LLMR_GOTO;
  case M_BAD_REQUEST:
    m->host->set_request(job, jv_number(3));
    return LLMR_NEXT;
  case M_BAD_ROUTE:
    m->host->set_route(job, jv_string("not an object"));
    return LLMR_NEXT;
  case M_BAD_AFTER:
    if(m->host->after(job, -5, NULL) == LLMR_OK)
      m->host->log(job, LLMR_LOG_ERROR, "after(-5, NULL) was accepted");
    return LLMR_NEXT;
  case M_BAD_COMPLETE:
    if(m->host->after(job, 1, mb_fire) != LLMR_OK)
      return LLMR_NEXT;
    return LLMR_PENDING;
  }
  return LLMR_NEXT;
}

static void mb_finish(void *self)
{
  free(self);
}

static const struct llmr_stage mb_stage = {
  LLMR_STAGE_VERSION,
  .name = "misbehave",
  .version = "1.0",
  .description = "test: breaks one stage rule",
  .options = mb_options,
  .init = mb_init,
  .process = mb_process,
  .finish = mb_finish
};

const struct llmr_stage *llmr_stage_entry(unsigned host_major,
                                          unsigned host_minor)
{
  (void)host_major;
  (void)host_minor;
  return &mb_stage;
}
