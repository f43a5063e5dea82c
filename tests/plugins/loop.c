/*
 * loop.c - test stage: send every job back to an earlier stage with
 * LLMR_GOTO.  Without times= it loops forever, so the runner's hop limit
 * (set max_hops=N) must end it with a "goto_loop" error record.
 *
 *   loop to=STAGE [times=N]
 *
 * times=N (N > 0): go back only while the job has taken fewer than N
 * GOTOs, then go on; route.loop_hops records the hops seen.
 * When `to` names no earlier stage the job fails with "bad_goto".
 */
#include <stdlib.h>
#include "llmroute.h"

struct loop {
  const struct llmr_host *host;
  const char *to;
  long long times;
};

static const struct llmr_option loop_options[] = {
  {"to", LLMR_OPT_STRING, NULL, LLMR_OPT_REQUIRED,
   "instance label of the earlier stage to re-enter"},
  {"times", LLMR_OPT_INT, "0", 0, "GOTOs before going on (0: forever)"},
  {NULL, LLMR_OPT_STRING, NULL, 0, NULL}
};

static int loop_init(const struct llmr_host *host,
                     const struct llmr_config *cf, void **self)
{
  struct loop *l = calloc(1, sizeof(*l));

  if(!l)
    return LLMR_ENOMEM;
  l->host = host;
  l->to = host->opt(cf, "to")->str;
  l->times = host->opt(cf, "times")->i;
  *self = l;
  return LLMR_OK;
}

static enum llmr_verdict loop_process(void *self, struct llmr_job *job)
{
  struct loop *l = self;
  int hops = l->host->hops(job);
  jv route;

  if(l->times > 0 && hops >= l->times) {
    route = l->host->route(job);
    if(jv_get_kind(route) != JV_KIND_OBJECT) {
      jv_free(route);
      route = jv_object();
    }
    route = jv_object_set(route, jv_string("loop_hops"),
                          jv_number(hops));
    l->host->set_route(job, route);
    return LLMR_NEXT;
  }
  if(l->host->goto_stage(job, l->to, "loop test stage") != LLMR_OK) {
    l->host->set_error(job, "bad_goto", "no earlier stage '%s'", l->to);
    return LLMR_FAIL;
  }
  return LLMR_GOTO;
}

static void loop_finish(void *self)
{
  free(self);
}

static const struct llmr_stage loop_stage = {
  LLMR_STAGE_VERSION,
  .name = "loop",
  .version = "1.0",
  .description = "test: GOTO an earlier stage",
  .options = loop_options,
  .init = loop_init,
  .process = loop_process,
  .finish = loop_finish
};

const struct llmr_stage *llmr_stage_entry(unsigned host_major,
                                          unsigned host_minor)
{
  (void)host_major;
  (void)host_minor;
  return &loop_stage;
}
