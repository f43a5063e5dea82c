/*
 * run.h - the runner's state shared by loop.c, job.c, reader.c and
 * writer.c.  One run per process; one thread.
 */
#ifndef LLMR_RUN_H
#define LLMR_RUN_H

#include <curl/curl.h>

#include "core.h"

struct timer {
  double when;
  size_t heap_idx;
  struct llmr_job *job;
  llmr_timer_fire fire;      /* NULL: the job's deadline */
  int stage;                 /* stage index that set it */
  struct timer *jnext, *jprev;
};

struct transfer {
  CURL *easy;
  struct llmr_job *job;
  llmr_http_done done;
  int stage;
  struct transfer *jnext, *jprev;
};

enum job_phase {
  JOB_READY = 0,   /* between stages, or queued to go on */
  JOB_RUNNING,     /* inside a stage's process() */
  JOB_PENDING,     /* held by a stage until complete() */
  JOB_FINISHED
};

struct llmr_job {
  unsigned long seq;         /* 0-based order of input lines read */
  long line;                 /* input line number (1-based) */
  char *custom_id;
  jv request, route, response, error;
  int stage;                 /* index of the stage it is at */
  int hops;
  int goto_target;           /* set by goto_stage(), -1 none */
  enum job_phase phase;
  int has_verdict;           /* complete() was called */
  enum llmr_verdict verdict;
  int in_runq;
  void *state;
  void (*free_state)(void *);
  struct timer *timers;      /* this job's stage timers */
  struct transfer *transfers;
  struct timer *deadline;
  struct llmr_job *qnext;    /* run queue */
  struct llmr_job *anext, *aprev; /* active list */
};

struct runner {
  struct pipeline *pl;
  struct llmr_host host;
  jv catalog;
  int max_jobs;
  int max_hops;
  double job_timeout;        /* seconds */
  size_t max_line;
  int cur_stage;             /* stage being called, -1 core */
  int nrun;                  /* stages a job goes through: all, or with
                                --dry-run those before the first call */
  int dry_run;               /* results carry "request" */
  int output_format;         /* enum output_format */
  int answering;             /* a call stage runs: every result must be
                                an answer or an error */
  unsigned long ninternal;   /* results turned into internal_error */
  int ndone_hooks;           /* stages with a done() hook */
  int config_error_seen;

  CURLM *multi;
  struct timer **heap;
  size_t nheap, capheap;
  struct transfer **xfer_tab; /* open addressing, by easy pointer */
  size_t xfer_cap, nxfer;

  struct llmr_job *runq_head, *runq_tail;
  struct llmr_job *active;   /* every job not finished, input order */
  struct llmr_job *active_tail;
  long nactive;              /* jobs read and not yet written */

  unsigned long next_seq;
  unsigned long nerrors, nok, nskipped;
  double cost_usd;
  double budget_cap;      /* --budget or set budget=, < 0: none */
  int stop_reading;          /* EOF, signal or EPIPE */
  volatile int interrupted;
  int epipe;              /* stdout is gone (closed or failing) */
  int write_errno;        /* why, when it was no EPIPE (a full disk) */
  int sigpipe_fd[2];
  int progress;              /* progress line on stderr */

  /* progress.c */
  double t0;                 /* when the run started */
  double baseline_usd;       /* sum of route.baseline_cost_usd */
  double expected_usd;       /* sum of route.expected_cost_usd (plans) */
  long total;                /* input lines expected, -1 unknown */
  int progress_tty;          /* stderr is a terminal: redraw in place */
  double progress_every;     /* seconds between progress lines */
  double progress_next;      /* when the next one is due */
};

extern struct runner R;

/* loop.c */
double now_seconds(void);
int timer_add(struct llmr_job *job, double delay_s, llmr_timer_fire fire,
              int stage, struct timer **out);
void timer_cancel(struct timer *t);
int transfer_add(struct llmr_job *job, CURL *easy, llmr_http_done done);
void transfer_cancel(struct transfer *x);
int loop_run(void);

/* job.c */
void host_init(struct llmr_host *h);
struct llmr_job *job_new(long line);
void job_free(struct llmr_job *job);
void job_start(struct llmr_job *job);   /* queue it for its first stage */
void job_fail_now(struct llmr_job *job, const char *code,
                  const char *stage, const char *msg);
/* {"code","message","stage"}: the error object of a result line. */
jv error_record(const char *code, const char *stage, const char *msg);
void job_fail_record(struct llmr_job *job, jv error); /* consumes */
void job_cancel_work(struct llmr_job *job);
void runq_push(struct llmr_job *job);
void runq_run(void);
void job_deadline(struct llmr_job *job);

/* reader.c */
int reader_open(char **files);
int reader_fill(void);     /* make jobs from what is readable */
int reader_fd(void);       /* fd to poll, or -1 when none is needed */
int reader_more(void);     /* 1 when lines are buffered or a file is
                              readable without waiting */
void reader_mark_ready(void);
int reader_done(void);
void reader_close(void);
/* --resume PATH (a file, a folder of them, or "-": stdin): add the
 * custom_ids with a successful result; LLMR_ERR (said) when unreadable */
int resume_load(const char *path);
unsigned long resume_files(void);  /* files read by resume_load() */


/* progress.c */
void progress_start(const struct run_opts *ro); /* t0, total, the mode */
void progress_account(jv route, jv error);      /* borrows both */
void progress_tick(void);      /* a progress line (R.progress_next due) */
void progress_clear(void);     /* take the terminal line off */
void progress_summary(void);   /* the end-of-run paragraph */
void progress_free(void);
/* Non-blank lines of the input files (NULL or empty: stdin), or -1 when
 * one is not a regular file. */
long progress_count(char **files);

/* answer.c: host->set_answer_check(), host->check_answer(),
 * host->set_request_check() and host->check_request() (see llmroute.h);
 * answer_free() drops every checker (after finish()). */
int answer_set_check(const struct llmr_config *cf, llmr_answer_check fn,
                     void *self);
enum llmr_answer answer_check(struct llmr_job *job, jv response,
                              char *reason, size_t len);
int request_set_check(const struct llmr_config *cf, llmr_request_check fn,
                      void *self);
const char *request_check(struct llmr_job *job, char *reason, size_t len);
void answer_free(void);

/* writer.c */
void writer_init(int keep_order, int max_jobs);
/* batchout.c: the job's result line in a provider's batch format, with
 * '\n', appended to b; id is the result id (llmroute's "id"). */
void batch_put_openai(struct buf *b, const struct llmr_job *job,
                      const char *id);
void batch_put_anthropic(struct buf *b, const struct llmr_job *job,
                         const char *id);
void writer_put(struct llmr_job *job);   /* consumes the job */
int writer_flush(void);                  /* -1 on EPIPE / write error */
int writer_flush_paid(void);             /* the same, when a result of a
                                            paid call is waiting */
void writer_free(void);
#endif
