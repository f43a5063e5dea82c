/*
 * stage.c - a llmroute stage, to start from (`llmroute-stage(7)`).
 *
 * It does what most stages do: read an option, look at each request's
 * text, write what it found into the route record, and pass the job on.
 * Rename it, keep the shape.  Build and test with `make test`.
 *
 *   mystage min_words=3        in a pipeline (./stage.so by path, or
 *                              `mystage` with its folder on
 *                              LLMROUTE_PLUGIN_PATH)
 */
#include <stdlib.h>
#include <string.h>
#include <llmroute.h>

struct stage {                 /* one per pipeline line naming the stage */
  const struct llmr_host *host;
  long long min_words;
};

static const struct llmr_option options[] = {
  {"min_words", LLMR_OPT_INT, "3", 0,
   "requests whose last user message has fewer words are marked short"},
  {NULL, LLMR_OPT_STRING, NULL, 0, NULL}
};

/* Words of s: runs of bytes that are not blanks. */
static long count_words(const char *s)
{
  long n = 0;
  int in = 0;

  for(; *s; s++) {
    int blank = *s == ' ' || *s == '\n' || *s == '\t' || *s == '\r';
    if(!blank && !in)
      n++;
    in = !blank;
  }
  return n;
}

static int stage_init(const struct llmr_host *host,
                      const struct llmr_config *cf, void **self)
{
  struct stage *st;
  long long min = host->opt(cf, "min_words")->i;

  if(min < 0) {
    host->config_error(cf, "min_words must be >= 0");
    return LLMR_ERR;             /* the run stops before reading input */
  }
  st = calloc(1, sizeof(*st));
  if(!st)
    return LLMR_ENOMEM;
  st->host = host;
  st->min_words = min;
  *self = st;
  return LLMR_OK;
}

static enum llmr_verdict stage_process(void *self, struct llmr_job *job)
{
  struct stage *st = self;
  const struct llmr_host *h = st->host;
  jv req = h->request(job);                              /* new ref */
  jv text = h->request_text(req, LLMR_TEXT_USER | LLMR_TEXT_LAST);
  long words = count_words(jv_string_value(text));
  jv route = h->route(job);                              /* new ref */

  route = jv_object_set(route, jv_string("words"), jv_number(words));
  if(words < st->min_words)
    route = jv_object_set(route, jv_string("short"), jv_true());
  h->set_route(job, route);                              /* consumed */
  jv_free(text);
  jv_free(req);
  return LLMR_NEXT;
}

static void stage_finish(void *self)
{
  free(self);
}

static const struct llmr_stage descriptor = {
  LLMR_STAGE_VERSION,
  .name = "mystage",
  .version = "0.1.0",
  .description = "count the words of the last user message",
  .options = options,
  .init = stage_init,
  .process = stage_process,
  .finish = stage_finish
};

LLMR_EXPORT const struct llmr_stage *llmr_stage_entry(unsigned host_major,
                                                     unsigned host_minor)
{
  (void)host_minor;
  return host_major == LLMR_ABI_MAJOR ? &descriptor : NULL;
}
