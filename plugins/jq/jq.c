/*
 * jq - apply a jq program to each request.
 *
 *   jq program='.body.max_tokens = 256'
 *   jq program='.body.messages |= map(select(.role != "system"))'
 *
 * The program runs on the request object {"custom_id","method","url",
 * "body","routing"?}; its first output replaces the request.  It is
 * compiled once, at init.  A runtime error, no output, or an output that
 * is not an object with a "body" object becomes that request's error
 * record (code jq_error); the stream goes on.
 */
#include <stdlib.h>
#include <string.h>

#include <llmroute.h>

struct jq_stage {
  const struct llmr_host *host;
  struct llmr_jq *prog;
  const char *program;
};

static const struct llmr_option options[] = {
  {"program", LLMR_OPT_STRING, NULL, LLMR_OPT_REQUIRED,
   "the jq program, run on the request object"},
  {NULL, 0, NULL, 0, NULL}
};

static int jq_init(const struct llmr_host *host, const struct llmr_config *cf,
                   void **self)
{
  struct jq_stage *st = calloc(1, sizeof(*st));
  char *err = NULL;

  if(!st)
    return LLMR_ENOMEM;
  st->host = host;
  st->program = host->opt(cf, "program")->str;
  st->prog = host->jq_compile(st->program, &err);
  if(!st->prog) {
    host->config_error(cf, "program does not compile: %s",
                       err ? err : "syntax error");
    free(err);
    free(st);
    return LLMR_ERR;
  }
  *self = st;
  return LLMR_OK;
}

static enum llmr_verdict jq_process(void *self, struct llmr_job *job)
{
  struct jq_stage *st = self;
  const struct llmr_host *h = st->host;
  jv out = h->jq_run(st->prog, h->request(job));

  if(!jv_is_valid(out)) {
    jv msg = jv_invalid_get_msg(out);

    if(jv_get_kind(msg) == JV_KIND_STRING)
      h->set_error(job, "jq_error", "%s", jv_string_value(msg));
    else if(jv_get_kind(msg) == JV_KIND_NULL)
      h->set_error(job, "jq_error", "the program produced no output");
    else {
      jv text = jv_dump_string(jv_copy(msg), 0);

      h->set_error(job, "jq_error", "%s", jv_string_value(text));
      jv_free(text);
    }
    jv_free(msg);
    return LLMR_FAIL;
  }
  if(jv_get_kind(out) != JV_KIND_OBJECT) {
    h->set_error(job, "jq_error", "the program's output is a %s, not a "
                 "request object", jv_kind_name(jv_get_kind(out)));
    jv_free(out);
    return LLMR_FAIL;
  }
  {
    jv body = jv_object_get(jv_copy(out), jv_string("body"));
    int ok = jv_get_kind(body) == JV_KIND_OBJECT;

    jv_free(body);
    if(!ok) {
      h->set_error(job, "jq_error", "the program's output has no \"body\" "
                   "object");
      jv_free(out);
      return LLMR_FAIL;
    }
  }
  h->set_request(job, out);
  return LLMR_NEXT;
}

static void jq_finish(void *self)
{
  struct jq_stage *st = self;

  if(!st)
    return;
  st->host->jq_free(st->prog);
  free(st);
}

static const struct llmr_stage stage = {
  LLMR_STAGE_VERSION,
  .name = "jq",
  .version = "1.0",
  .description = "apply a jq program to each request",
  .options = options,
  .init = jq_init,
  .process = jq_process,
  .finish = jq_finish,
};

LLMR_EXPORT const struct llmr_stage *llmr_stage_entry(unsigned major,
                                                     unsigned minor)
{
  (void)major;
  (void)minor;
  return &stage;
}
