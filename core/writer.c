/*
 * writer.c - result lines (llmroute(1), RESULT LINES), in completion
 * order or, with
 * --keep-order, through a reorder ring of -j slots.  Output is gathered
 * in one buffer and written whole lines at a time; every write is
 * checked, and EPIPE ends the run quietly.  A result of a paid call
 * (an answer, or attempts) reaches the kernel at the end of the loop
 * turn it finished in (writer_flush_paid), so `kill -9` loses only what
 * was in flight; plans and pass-through lines are written 64 KiB at a
 * time.
 */
#include <errno.h>
#include <stdio.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run.h"
#include "jvfast.h"

#define FLUSH_AT 65536

static struct {
  int keep_order;
  struct buf out;
  struct buf line;       /* one result, reused */
  char **ring;           /* keep-order: serialized lines by seq % size */
  size_t *ringlen;
  size_t ringsize;
  unsigned long next_write;
  int paid;              /* a result of a paid call is in out */
  jv k_request_id;       /* the key, made once: looked up every line */
} wr;

void writer_init(int keep_order, int max_jobs)
{
  memset(&wr, 0, sizeof(wr));
  wr.keep_order = keep_order;
  buf_init(&wr.out);
  buf_init(&wr.line);
  wr.k_request_id = jv_string("request_id");
  if(keep_order) {
    wr.ringsize = (size_t)max_jobs;
    wr.ring = calloc(wr.ringsize, sizeof(*wr.ring));
    wr.ringlen = calloc(wr.ringsize, sizeof(*wr.ringlen));
    if(!wr.ring || !wr.ringlen) {
      fputs("llmroute: out of memory\n", stderr);
      exit(2);
    }
  }
}

void writer_free(void)
{
  size_t i;

  for(i = 0; i < wr.ringsize; i++)
    free(wr.ring[i]);
  free(wr.ring);
  free(wr.ringlen);
  buf_free(&wr.out);
  buf_free(&wr.line);
  jv_free(wr.k_request_id);
}

int writer_flush(void)
{
  size_t off = 0;

  if(R.epipe)
    return -1;
  wr.paid = 0;
  while(off < wr.out.len) {
    ssize_t n = write(1, wr.out.p + off, wr.out.len - off);

    if(n < 0) {
      if(errno == EINTR)
        continue;
      if(errno == EAGAIN) {
        struct pollfd p = {.fd = 1, .events = POLLOUT};

        poll(&p, 1, 1000);
        continue;
      }
      if(errno != EPIPE) {
        /* a full disk, an I/O error: not the quiet end of `| head` */
        R.write_errno = errno;
        log_msg(LLMR_LOG_ERROR, NULL, "writing results: %s; stopping "
                "(results not written are lost, exit status 74)",
                strerror(errno));
      }
      R.epipe = 1;
      R.stop_reading = 1;
      return -1;
    }
    off += (size_t)n;
  }
  wr.out.len = 0;
  return 0;
}

/* The result id of the job ("llmr-N") into id. */
static void result_id(const struct llmr_job *job, char *id, size_t n)
{
  /* llmr-RUN-N: RUN unique to this process, so ids are unique across
     shards; written by hand, as this runs for every line */
  const char *run = ids_run_token();
  size_t len = strlen(run), at;
  char digits[24];
  int nd = 0;
  unsigned long v = job->seq + 1;

  do
    digits[nd++] = (char)('0' + v % 10);
  while((v /= 10) && nd < (int)sizeof(digits));
  if(5 + len + 1 + (size_t)nd + 1 > n) { /* cannot happen: 64 bytes */
    snprintf(id, n, "llmr-%lu", job->seq + 1);
    return;
  }
  memcpy(id, "llmr-", 5);
  memcpy(id + 5, run, len);
  at = 5 + len;
  id[at++] = '-';
  while(nd)
    id[at++] = digits[--nd];
  id[at] = '\0';
}

/* Serialize the job's result line (with '\n') into wr.line. */
static void format_result(struct llmr_job *job)
{
  char id[64];
  jv rid;

  wr.line.len = 0;
  result_id(job, id, sizeof(id));
  if(R.output_format == OUTPUT_OPENAI) {
    batch_put_openai(&wr.line, job, id);
    return;
  }
  if(R.output_format == OUTPUT_ANTHROPIC) {
    batch_put_anthropic(&wr.line, job, id);
    return;
  }
  buf_puts(&wr.line, "{\"id\":\"");
  buf_puts(&wr.line, id);
  buf_puts(&wr.line, "\",\"custom_id\":");
  json_write_string(&wr.line, job->custom_id, strlen(job->custom_id));
  buf_puts(&wr.line, ",\"response\":");
  if(jv_get_kind(job->response) == JV_KIND_NULL ||
     jv_get_kind(job->error) != JV_KIND_NULL)
    buf_put(&wr.line, "null", 4);
  else {
    buf_puts(&wr.line, "{\"status_code\":200,");
    rid = jvf_get(job->route, wr.k_request_id); /* the provider's */
    if(jv_get_kind(rid) == JV_KIND_STRING) {
      buf_puts(&wr.line, "\"request_id\":");
      json_write(&wr.line, rid);
      buf_putc(&wr.line, ',');
    }
    jvf_free(rid);
    buf_puts(&wr.line, "\"body\":");
    json_write(&wr.line, job->response);
    buf_putc(&wr.line, '}');
  }
  buf_puts(&wr.line, ",\"error\":");
  json_write(&wr.line, job->error);
  buf_puts(&wr.line, ",\"route\":");
  json_write(&wr.line, job->route);
  if(R.dry_run) {
    buf_puts(&wr.line, ",\"request\":");
    json_write(&wr.line, job->request);
  }
  buf_put(&wr.line, "}\n", 2);
}

static void account(struct llmr_job *job)
{
  jv c, a;

  if(jv_get_kind(job->error) != JV_KIND_NULL ||
     (R.output_format != OUTPUT_LLMROUTE &&
      jv_get_kind(job->response) == JV_KIND_NULL)) /* not_sent there */
    R.nerrors++;
  else
    R.nok++;
  c = cget(job->route, CK_COST_USD);
  if(jv_get_kind(c) == JV_KIND_NUMBER)
    R.cost_usd += jv_number_value(c);
  jv_free(c);
  progress_account(job->route, job->error);
  if(jv_get_kind(job->response) == JV_KIND_OBJECT)
    wr.paid = 1;
  else {
    a = json_get(job->route, "attempts");
    wr.paid |= jv_get_kind(a) == JV_KIND_ARRAY;
    jv_free(a);
  }
}

int writer_flush_paid(void)
{
  return wr.paid ? writer_flush() : 0;
}

/* Every stage's done() hook (ABI 1.6), in pipeline order, with the line
 * as it will be written; each hook's log lines carry its label. */
static void notify_done(struct llmr_job *job)
{
  int i, saved = R.cur_stage;

  for(i = 0; i < R.pl->nstages; i++) {
    const struct stage_inst *st = &R.pl->stages[i];

    if(!st->done)
      continue;
    R.cur_stage = i;
    st->done(st->self, job, wr.line.p, wr.line.len - 1);
  }
  R.cur_stage = saved;
}

void writer_put(struct llmr_job *job)
{
  if(jv_get_kind(job->route) != JV_KIND_OBJECT) {
    jv_free(job->route);
    job->route = jv_object();
  }
  account(job);
  format_result(job);
  if(R.ndone_hooks)
    notify_done(job);
  if(!wr.keep_order || job->seq == wr.next_write) {
    buf_put(&wr.out, wr.line.p, wr.line.len);
    R.nactive--;
    wr.next_write++;
    job_free(job);
    /* release what was waiting behind it */
    while(wr.keep_order) {
      size_t slot = wr.next_write % wr.ringsize;

      if(!wr.ring[slot])
        break;
      buf_put(&wr.out, wr.ring[slot], wr.ringlen[slot]);
      free(wr.ring[slot]);
      wr.ring[slot] = NULL;
      R.nactive--;
      wr.next_write++;
    }
  }
  else {
    size_t slot = job->seq % wr.ringsize;

    wr.ring[slot] = malloc(wr.line.len);
    if(!wr.ring[slot]) {
      fputs("llmroute: out of memory\n", stderr);
      exit(2);
    }
    memcpy(wr.ring[slot], wr.line.p, wr.line.len);
    wr.ringlen[slot] = wr.line.len;
    job_free(job);
  }
  if(wr.out.len >= FLUSH_AT)
    writer_flush();
}
