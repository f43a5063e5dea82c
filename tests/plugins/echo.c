/*
 * echo.c - test stage: answer every request with a minimal chat.completion
 * whose message content is the JSON text (keys sorted) of the request body
 * as this stage sees it.  The same request object is also put, parsed, in
 * the response body as "llmr_echo", so cases can match it as JSON.
 *
 *   echo [what=body|request] [verdict=next|done]
 */
#include <stdlib.h>
#include <string.h>
#include "llmroute.h"

struct echo {
  const struct llmr_host *host;
  int whole;  /* echo the whole request, not only the body */
  int done;   /* return LLMR_DONE instead of LLMR_NEXT */
};

static const struct llmr_option echo_options[] = {
  {"what", LLMR_OPT_STRING, "body", 0, "body or request: what to echo"},
  {"verdict", LLMR_OPT_STRING, "next", 0, "next or done"},
  {NULL, LLMR_OPT_STRING, NULL, 0, NULL}
};

static int echo_init(const struct llmr_host *host,
                     const struct llmr_config *cf, void **self)
{
  struct echo *e;
  const char *what = host->opt(cf, "what")->str;
  const char *verdict = host->opt(cf, "verdict")->str;

  if(strcmp(what, "body") && strcmp(what, "request")) {
    host->config_error(cf, "what must be body or request, not '%s'", what);
    return LLMR_ERR;
  }
  if(strcmp(verdict, "next") && strcmp(verdict, "done")) {
    host->config_error(cf, "verdict must be next or done, not '%s'",
                       verdict);
    return LLMR_ERR;
  }
  e = calloc(1, sizeof(*e));
  if(!e)
    return LLMR_ENOMEM;
  e->host = host;
  e->whole = !strcmp(what, "request");
  e->done = !strcmp(verdict, "done");
  *self = e;
  return LLMR_OK;
}

static enum llmr_verdict echo_process(void *self, struct llmr_job *job)
{
  struct echo *e = self;
  jv req = e->host->request(job);
  jv what, model, msg, choice, usage, body;
  jv text;

  if(e->whole)
    what = jv_copy(req);
  else if(jv_get_kind(req) == JV_KIND_OBJECT)
    what = jv_object_get(jv_copy(req), jv_string("body"));
  else
    what = jv_null();
  if(!jv_is_valid(what))
    what = jv_null();
  text = jv_dump_string(jv_copy(what), JV_PRINT_SORTED);

  model = jv_string("echo");
  if(jv_get_kind(req) == JV_KIND_OBJECT) {
    jv b = jv_object_get(jv_copy(req), jv_string("body"));
    if(jv_get_kind(b) == JV_KIND_OBJECT) {
      jv m = jv_object_get(jv_copy(b), jv_string("model"));
      if(jv_get_kind(m) == JV_KIND_STRING) {
        jv_free(model);
        model = m;
      }
      else
        jv_free(m);
    }
    jv_free(b);
  }

  msg = jv_object();
  msg = jv_object_set(msg, jv_string("role"), jv_string("assistant"));
  msg = jv_object_set(msg, jv_string("content"), text);
  choice = jv_object();
  choice = jv_object_set(choice, jv_string("index"), jv_number(0));
  choice = jv_object_set(choice, jv_string("message"), msg);
  choice = jv_object_set(choice, jv_string("finish_reason"),
                         jv_string("stop"));
  choice = jv_object_set(choice, jv_string("logprobs"), jv_null());
  usage = jv_object();
  usage = jv_object_set(usage, jv_string("prompt_tokens"), jv_number(0));
  usage = jv_object_set(usage, jv_string("completion_tokens"),
                        jv_number(0));
  usage = jv_object_set(usage, jv_string("total_tokens"), jv_number(0));
  body = jv_object();
  body = jv_object_set(body, jv_string("id"), jv_string("chatcmpl-echo"));
  body = jv_object_set(body, jv_string("object"),
                       jv_string("chat.completion"));
  body = jv_object_set(body, jv_string("created"), jv_number(0));
  body = jv_object_set(body, jv_string("model"), model);
  body = jv_object_set(body, jv_string("choices"),
                       jv_array_append(jv_array(), choice));
  body = jv_object_set(body, jv_string("usage"), usage);
  body = jv_object_set(body, jv_string("llmr_echo"), what);
  jv_free(req);
  e->host->set_response(job, body);
  return e->done ? LLMR_DONE : LLMR_NEXT;
}

static void echo_finish(void *self)
{
  free(self);
}

static const struct llmr_stage echo_stage = {
  LLMR_STAGE_VERSION,
  .name = "echo",
  .version = "1.0",
  .description = "test: answer with the request body as JSON text",
  .options = echo_options,
  .init = echo_init,
  .process = echo_process,
  .finish = echo_finish
};

const struct llmr_stage *llmr_stage_entry(unsigned host_major,
                                          unsigned host_minor)
{
  (void)host_major;
  (void)host_minor;
  return &echo_stage;
}
