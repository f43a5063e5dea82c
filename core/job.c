/*
 * job.c - a job's way through the stages, and the host services the
 * stages reach the runner through.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"
#include "jvfast.h"
#include "msgtext.h"

struct runner R;

static struct stage_inst *stage_at(int i)
{
  return &R.pl->stages[i];
}

/* ---------------------------------------------------------------------
 * Lifecycle
 */
struct llmr_job *job_new(long line)
{
  struct llmr_job *job = calloc(1, sizeof(*job));

  if(!job)
    return NULL;
  job->seq = R.next_seq++;
  job->line = line;
  job->request = jv_null();
  job->route = jvf_object(16); /* the audit's route has 12 fields */
  job->response = jv_null();
  job->error = jv_null();
  job->goto_target = -1;
  /* append: the active list stays in input order */
  job->aprev = R.active_tail;
  if(R.active_tail)
    R.active_tail->anext = job;
  else
    R.active = job;
  R.active_tail = job;
  R.nactive++;
  return job;
}

void job_free(struct llmr_job *job)
{
  if(!job)
    return;
  jvf_free(job->request);
  jvf_free(job->route);
  jvf_free(job->response);
  jvf_free(job->error);
  free(job->custom_id);
  free(job);
}

/* Free the stage's per-job state and cancel its transfers and timers. */
static void leave_stage(struct llmr_job *job)
{
  while(job->transfers)
    transfer_cancel(job->transfers);
  while(job->timers)
    timer_cancel(job->timers);
  if(job->free_state && job->state) {
    int saved = R.cur_stage;

    R.cur_stage = job->stage;
    job->free_state(job->state);
    R.cur_stage = saved;
  }
  job->state = NULL;
  job->free_state = NULL;
}

void job_cancel_work(struct llmr_job *job)
{
  leave_stage(job);
  if(job->deadline)
    timer_cancel(job->deadline);
}

/* The job is done: unlink it from the active list and hand it to the
 * writer (which frees it). */
static void job_finish(struct llmr_job *job)
{
  job_cancel_work(job);
  job->phase = JOB_FINISHED;
  if(R.answering && jv_get_kind(job->response) == JV_KIND_NULL &&
     jv_get_kind(job->error) == JV_KIND_NULL) {
    /* every result of a pipeline that calls is an answer or an error:
       a stage let this one through with neither (a bug of the stage's or
       of ours), so say so instead of writing a silent null */
    const char *last = R.pl->stages[job->stage < R.pl->nstages ? job->stage
                                    : R.pl->nstages - 1].cf.instance;
    char msg[256];
    snprintf(msg, sizeof(msg), "the pipeline finished the request with "
             "neither an answer nor an error (last stage %s)", last);
    job->error = error_record("internal_error", last, msg);
    R.ninternal++;
  }
  if(job->aprev)
    job->aprev->anext = job->anext;
  else
    R.active = job->anext;
  if(job->anext)
    job->anext->aprev = job->aprev;
  else
    R.active_tail = job->aprev;
  writer_put(job);
}

jv error_record(const char *code, const char *stage, const char *msg)
{
  jv e = jv_object();

  e = jv_object_set(e, jv_string("code"), jv_string(code));
  e = jv_object_set(e, jv_string("message"), jv_string(msg));
  e = jv_object_set(e, jv_string("stage"), jv_string(stage));
  return e;
}

void job_fail_now(struct llmr_job *job, const char *code, const char *stage,
                  const char *msg)
{
  jvf_free(job->error);
  job->error = error_record(code, stage, msg);
  jvf_free(job->response);
  job->response = jv_null();
  job_finish(job);
}

void job_fail_record(struct llmr_job *job, jv error)
{
  jvf_free(job->error);
  job->error = error;
  jvf_free(job->response);
  job->response = jv_null();
  job_finish(job);
}

void job_start(struct llmr_job *job)
{
  if(R.job_timeout > 0)
    timer_add(job, R.job_timeout, NULL, -1, &job->deadline);
  runq_push(job);
}

void job_deadline(struct llmr_job *job)
{
  char msg[256];
  const char *inst;

  job->deadline = NULL;
  if(job->phase != JOB_PENDING || job->has_verdict)
    return; /* it is moving on anyway */
  inst = stage_at(job->stage)->cf.instance;
  snprintf(msg, sizeof(msg), "stage %s did not complete the request "
           "within job_timeout=%gs", inst, R.job_timeout);
  job_fail_now(job, "timeout", inst, msg);
}

/* ---------------------------------------------------------------------
 * The run queue: jobs ready to go on
 */
void runq_push(struct llmr_job *job)
{
  if(job->in_runq)
    return;
  job->in_runq = 1;
  job->qnext = NULL;
  if(R.runq_tail)
    R.runq_tail->qnext = job;
  else
    R.runq_head = job;
  R.runq_tail = job;
}

/* Act on a verdict; 1 when the job goes on to another stage. */
static int apply_verdict(struct llmr_job *job, enum llmr_verdict v)
{
  const char *inst = stage_at(job->stage)->cf.instance;
  char msg[256];

  switch(v) {
  case LLMR_NEXT:
    leave_stage(job);
    job->stage++;
    if(job->stage >= R.nrun) {
      job_finish(job);
      return 0;
    }
    return 1;
  case LLMR_DONE:
    job_finish(job);
    return 0;
  case LLMR_FAIL:
    if(jv_get_kind(job->error) != JV_KIND_OBJECT) {
      jvf_free(job->error);
      job->error = error_record("stage_error", inst,
                                "the stage failed without saying why");
    }
    jvf_free(job->response);
    job->response = jv_null();
    job_finish(job);
    return 0;
  case LLMR_GOTO:
    if(job->goto_target < 0 || job->goto_target > job->stage) {
      snprintf(msg, sizeof(msg), "stage %s returned GOTO without a valid "
               "host->goto_stage()", inst);
      job_fail_now(job, "stage_error", inst, msg);
      return 0;
    }
    if(++job->hops > R.max_hops) {
      snprintf(msg, sizeof(msg), "more than max_hops=%d GOTOs (last by "
               "%s to %s): an escalation loop", R.max_hops, inst,
               stage_at(job->goto_target)->cf.instance);
      job_fail_now(job, "goto_loop", inst, msg);
      return 0;
    }
    leave_stage(job);
    job->stage = job->goto_target;
    job->goto_target = -1;
    return 1;
  case LLMR_PENDING:
  default:
    snprintf(msg, sizeof(msg), "stage %s returned an unknown verdict %d",
             inst, (int)v);
    job_fail_now(job, "stage_error", inst, msg);
    return 0;
  }
}

static void h_log(struct llmr_job *job, int level, const char *fmt, ...)
    LLMR_PRINTF(3, 4);

static void h_log_stale(struct llmr_job *job)
{
  h_log(job, LLMR_LOG_WARN, "complete() called inside process() that "
        "did not return LLMR_PENDING: ignored");
}

/* Run the job through stages until one holds it or it finishes. */
static void advance(struct llmr_job *job)
{
  if(job->has_verdict) {
    job->has_verdict = 0;
    job->phase = JOB_READY;
    if(!apply_verdict(job, job->verdict))
      return;
  }
  for(;;) {
    struct stage_inst *st = stage_at(job->stage);
    enum llmr_verdict v;

    if(job->stage >= R.nrun) { /* --dry-run with call first */
      job_finish(job);
      return;
    }
    job->phase = JOB_RUNNING;
    R.cur_stage = job->stage;
    v = st->desc->process(st->self, job);
    R.cur_stage = -1;
    if(v == LLMR_PENDING) {
      if(!job->has_verdict) {
        job->phase = JOB_PENDING;
        return;
      }
      v = job->verdict; /* completed from inside process() */
      job->has_verdict = 0;
    }
    else if(job->has_verdict) {
      h_log_stale(job);
      job->has_verdict = 0;
    }
    job->phase = JOB_READY;
    if(!apply_verdict(job, v))
      return;
  }
}

void runq_run(void)
{
  while(R.runq_head && !R.epipe) {
    struct llmr_job *job = R.runq_head;

    R.runq_head = job->qnext;
    if(!R.runq_head)
      R.runq_tail = NULL;
    job->in_runq = 0;
    advance(job);
  }
}

/* ---------------------------------------------------------------------
 * Host services
 */
static const char *cur_label(void)
{
  return R.cur_stage >= 0 ? stage_at(R.cur_stage)->cf.instance : NULL;
}

static void h_log(struct llmr_job *job, int level, const char *fmt, ...)
{
  va_list ap;
  char prefix[300];
  const char *label = cur_label();

  if(level > llmr_log_level)
    return;
  if(job && job->custom_id)
    snprintf(prefix, sizeof(prefix), "%s %s", label ? label : "core",
             job->custom_id);
  else
    snprintf(prefix, sizeof(prefix), "%s", label ? label : "core");
  va_start(ap, fmt);
  log_vmsg(level, prefix, fmt, ap);
  va_end(ap);
}

static void h_config_error(const struct llmr_config *cf, const char *fmt,
                           ...)
{
  va_list ap;

  fprintf(stderr, "%s:%d: %s: ", cf->file, cf->line,
          cf->instance ? cf->instance : cf->name);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  R.config_error_seen = 1;
}

static const struct llmr_value *h_opt(const struct llmr_config *cf,
                                      const char *name)
{
  const struct llmr_stage *d = stage_at(cf->index)->desc;
  int i;

  for(i = 0; d->options && d->options[i].name; i++)
    if(!strcmp(d->options[i].name, name))
      return &cf->values[i];
  return NULL;
}

static const char *h_setting(const char *key)
{
  return pipeline_setting(R.pl, key);
}

static jv h_catalog(void)
{
  return jvf_copy(R.catalog);
}

static const char *h_custom_id(const struct llmr_job *job)
{
  return job->custom_id;
}

static long h_line(const struct llmr_job *job)
{
  return job->line;
}

static int h_hops(const struct llmr_job *job)
{
  return job->hops;
}

static jv h_request(const struct llmr_job *job)
{
  return jvf_copy(job->request);
}

static void h_set_request(struct llmr_job *job, jv req)
{
  if(jv_get_kind(req) != JV_KIND_OBJECT) {
    h_log(job, LLMR_LOG_ERROR, "set_request() with a %s, not an object: "
          "ignored", jv_kind_name(jv_get_kind(req)));
    jvf_free(req);
    return;
  }
  jvf_free(job->request);
  job->request = req;
}

static jv h_route(const struct llmr_job *job)
{
  return jvf_copy(job->route);
}

static void h_set_route(struct llmr_job *job, jv route)
{
  jvf_free(job->route);
  job->route = route;
}

static jv h_response(const struct llmr_job *job)
{
  return jvf_copy(job->response);
}

static void h_set_response(struct llmr_job *job, jv body)
{
  jvf_free(job->response);
  if(!jv_is_valid(body)) { /* an invalid value clears, like jv_null() */
    jvf_free(body);
    body = jv_null();
  }
  job->response = body;
}

static void h_set_error(struct llmr_job *job, const char *code,
                        const char *fmt, ...)
{
  char msg[1024];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  jvf_free(job->error);
  job->error = error_record(code && *code ? code : "stage_error",
                            stage_at(job->stage)->cf.instance, msg);
}

static jv h_error(const struct llmr_job *job)
{
  return jv_copy(job->error);
}

static void *h_state(const struct llmr_job *job)
{
  return job->state;
}

static void h_set_state(struct llmr_job *job, void *state,
                        void (*free_state)(void *))
{
  if(job->state && job->free_state && job->state != state)
    job->free_state(job->state);
  job->state = state;
  job->free_state = free_state;
}

static int h_goto_stage(struct llmr_job *job, const char *stage,
                        const char *reason)
{
  int i;

  for(i = 0; i <= job->stage && i < R.pl->nstages; i++)
    if(!strcmp(stage_at(i)->cf.instance, stage)) {
      job->goto_target = i;
      h_log(job, LLMR_LOG_DEBUG, "goto %s: %s", stage,
            reason ? reason : "");
      return LLMR_OK;
    }
  return LLMR_EINVAL;
}

static int h_stage_before(const struct llmr_config *cf, const char *stage)
{
  int i;

  for(i = 0; cf && stage && i <= cf->index && i < R.pl->nstages; i++)
    if(!strcmp(stage_at(i)->cf.instance, stage))
      return 1;
  return 0;
}

static int h_complete(struct llmr_job *job, enum llmr_verdict v)
{
  if(v == LLMR_PENDING || job->has_verdict ||
     (job->phase != JOB_PENDING && job->phase != JOB_RUNNING)) {
    h_log(job, LLMR_LOG_WARN, "complete() called on a job the stage does "
          "not hold (twice?): ignored");
    return LLMR_ESTATE;
  }
  job->has_verdict = 1;
  job->verdict = v;
  if(job->phase == JOB_PENDING)
    runq_push(job);
  return LLMR_OK;
}

static int h_http(struct llmr_job *job, CURL *easy, llmr_http_done done)
{
  if(!easy || !done || job->phase == JOB_FINISHED || job->has_verdict) {
    if(easy)
      curl_easy_cleanup(easy);
    return LLMR_EINVAL;
  }
  return transfer_add(job, easy, done);
}

static int h_after(struct llmr_job *job, long ms, llmr_timer_fire fire)
{
  if(!fire || ms < 0 || job->phase == JOB_FINISHED || job->has_verdict)
    return LLMR_EINVAL;
  return timer_add(job, (double)ms / 1000.0, fire, job->stage, NULL);
}

static long h_estimate_tokens(jv body)
{
  return tokens_estimate(body);
}

void host_init(struct llmr_host *h)
{
  memset(h, 0, sizeof(*h));
  h->abi_major = LLMR_ABI_MAJOR;
  h->abi_minor = LLMR_ABI_MINOR;
  h->size = sizeof(*h);
  h->log = h_log;
  h->config_error = h_config_error;
  h->opt = h_opt;
  h->setting = h_setting;
  h->catalog = h_catalog;
  h->custom_id = h_custom_id;
  h->line = h_line;
  h->hops = h_hops;
  h->request = h_request;
  h->set_request = h_set_request;
  h->route = h_route;
  h->set_route = h_set_route;
  h->response = h_response;
  h->set_response = h_set_response;
  h->set_error = h_set_error;
  h->state = h_state;
  h->set_state = h_set_state;
  h->goto_stage = h_goto_stage;
  h->complete = h_complete;
  h->http = h_http;
  h->after = h_after;
  h->now = now_seconds;
  h->estimate_tokens = h_estimate_tokens;
  h->budget_reserve = budget_reserve;
  h->budget_settle = budget_settle;
  h->jq_compile = jqutil_compile;
  h->jq_run = jqutil_run;
  h->jq_free = jqutil_free;
  h->json_parse = json_parse;
  h->set_answer_check = answer_set_check;
  h->check_answer = answer_check;
  h->models = models_all;
  h->model = models_find;
  h->cost = usage_cost;
  h->request_text = mt_text;
  h->content_text = mt_content_text;
  h->set_message_text = mt_set_message_text;
  h->map_text = mt_map_text;
  h->stage_before = h_stage_before;
  h->set_request_check = request_set_check;
  h->check_request = request_check;
  h->json_parse_strict = json_parse_strict;
  h->error = h_error;
  h->shared_take = shared_take;
}
