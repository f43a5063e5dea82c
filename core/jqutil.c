/*
 * jqutil.c - compile a jq program once, run it per job.
 */
#include <stdlib.h>
#include <string.h>

#include <jq.h>

#include "core.h"

struct llmr_jq {
  jq_state *jq;
};

struct compile_errors {
  struct buf msg;
};

/* jq's error callback: collect the compiler's messages (consumes msg). */
static void collect_error(void *data, jv msg)
{
  struct compile_errors *ce = data;

  msg = jq_format_error(msg);
  if(jv_get_kind(msg) == JV_KIND_STRING) {
    if(ce->msg.len)
      buf_puts(&ce->msg, "; ");
    buf_puts(&ce->msg, jv_string_value(msg));
  }
  jv_free(msg);
}

/* Discard runtime messages (errors come back from jq_next). */
static void drop_error(void *data, jv msg)
{
  (void)data;
  jv_free(msg);
}

struct llmr_jq *jqutil_compile(const char *program, char **errmsg)
{
  struct llmr_jq *q;
  struct compile_errors ce;

  *errmsg = NULL;
  q = calloc(1, sizeof(*q));
  if(!q || !(q->jq = jq_init())) {
    free(q);
    *errmsg = strdup("out of memory");
    return NULL;
  }
  buf_init(&ce.msg);
  jq_set_error_cb(q->jq, collect_error, &ce);
  if(!jq_compile(q->jq, program)) {
    if(!ce.msg.len)
      buf_puts(&ce.msg, "cannot compile jq program");
    *errmsg = ce.msg.p;
    jq_teardown(&q->jq);
    free(q);
    return NULL;
  }
  buf_free(&ce.msg);
  jq_set_error_cb(q->jq, drop_error, NULL);
  return q;
}

/* Consumes input.  First output (new ref), or invalid: with the error
 * message on a runtime error, without one when there was no output. */
jv jqutil_run(struct llmr_jq *q, jv input)
{
  jv out;

  jq_start(q->jq, input, 0);
  out = jq_next(q->jq);
  if(!jv_is_valid(out) && !jv_invalid_has_msg(jv_copy(out))) {
    jv_free(out);
    if(jq_halted(q->jq)) {
      jv m = jq_get_error_message(q->jq);

      if(jv_get_kind(m) == JV_KIND_STRING)
        return jv_invalid_with_msg(m);
      jv_free(m);
      return jv_invalid_with_msg(jv_string("jq program halted"));
    }
    return jv_invalid();
  }
  return out;
}

void jqutil_free(struct llmr_jq *q)
{
  if(!q)
    return;
  if(q->jq)
    jq_teardown(&q->jq);
  free(q);
}
