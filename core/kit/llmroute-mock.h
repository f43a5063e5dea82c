/*
 * llmroute-mock.h - unit-test a stage without a runner: a mock host.
 *
 * Part of the plugin author's kit (installed beside llmroute.h; link the
 * test program with `pkg-config --libs llmroute-mock`).  It gives a
 * struct llmr_host whose job services work on mock jobs kept in plain jv
 * variables (request, route, response, error), records timers and HTTP
 * transfers instead of running them, and keeps a fake clock, so a test
 * drives the stage step by step:
 *
 *   struct mock_stage ms;
 *   const char *opts[] = {"program=.body.max_tokens = 256", NULL};
 *   if(mock_stage_load(&ms, "./mystage.so", opts))
 *     ... mock.errbuf says why (dlopen, ABI, options, init) ...
 *   job = mock_job_new("a1", jv_parse("{\"messages\":[]}"));
 *   v = mock_process(&ms, job);           LLMR_NEXT, PENDING, FAIL ...
 *   mock_advance(0.5);                    fire timers due in 0.5 s
 *   mock_http_finish(0, CURLE_OK);        end the first recorded transfer
 *   ... look at job->request, job->route, job->response, job->error,
 *       job->verdict, job->ncomplete, mock.timers, mock.https ...
 *   mock_job_free(job);
 *   mock_stage_unload(&ms);
 *
 * What is real: the services that do not depend on a run are the
 * runner's own code, linked in: the token estimator, the JSON parser, jq
 * programs, the catalog's C view (models, model, cost: set mock.catalog
 * before mock_stage_load()) and the message-text services.  What is
 * mocked: the job, timers, HTTP (recorded, finished by the test), the
 * clock (mock_advance()), the budget (mock.budget_*), settings
 * (mock_setting()) and answer checkers (the last one registered).
 *
 * Option parsing follows the runner: unknown keys, bad INT, DOUBLE and
 * BOOL values and missing REQUIRED options are refused with a message
 * in mock.errbuf; defaults are filled in; ${VAR} expands from the
 * environment; a relative PATH resolves against mock.pipeline_dir, then
 * mock.share_dir (set it to `pkg-config --variable=pipelinedir llmroute`
 * for a stage whose defaults name shipped files).
 *
 * The struct llmr_job defined here is the mock's own (the runner's is
 * private to it): a stage never sees its fields, a test reads them.
 */
#ifndef LLMROUTE_MOCK_H
#define LLMROUTE_MOCK_H

#include <stdio.h>
#include "llmroute.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MOCK_MAX_OPTS 64
#define MOCK_MAX_EVENTS 256
#define MOCK_MAX_SETTINGS 32

/* ---------------------------------------------------------------------
 * State
 */

struct llmr_job {
  char custom_id[128];
  long line;
  int hops;
  jv request, route, response, error; /* error: jv_null() until set */
  void *state;
  void (*free_state)(void *state);
  int ncomplete;              /* complete() calls, refused ones included */
  enum llmr_verdict verdict;  /* last verdict: process() or complete() */
  char goto_target[128];      /* last goto_stage() target */
};

struct mock_timer {
  struct llmr_job *job;
  double at;                  /* fake-clock time it fires */
  long ms;
  llmr_timer_fire fire;
  int live;                   /* 0 once fired or cancelled */
};

struct mock_http {
  struct llmr_job *job;
  CURL *easy;
  llmr_http_done done;
  int live;                   /* 0 once finished or cancelled */
};

/* A parsed option set: cf must stay the first member (host->opt casts). */
struct mock_config {
  struct llmr_config cf;
  const struct llmr_option *options;
  struct llmr_value values[MOCK_MAX_OPTS];
  char *strs[MOCK_MAX_OPTS];
};

struct mock_stage {
  void *dl;
  const struct llmr_stage *st;
  void *self;
  int inited;
  struct mock_config mc;
};

struct mock_state {
  double clock;               /* host->now(); mock_advance() moves it */
  void *self;                 /* instance passed to callbacks */
  const char *stage_name;     /* the "stage" of error records */
  const char *pipeline_dir;   /* relative PATH options resolve here;
                                 NULL: the current folder */
  const char *share_dir;      /* ... and, when not found there, here as
                                 the runner looks in its shipped
                                 share/llmroute/pipelines; NULL: not */
  struct mock_timer timers[MOCK_MAX_EVENTS];
  int ntimers;
  struct mock_http https[MOCK_MAX_EVENTS];
  int nhttp;
  char errbuf[1024];          /* last config error / load failure */
  int nconfig_errors;
  char lastlog[1024];
  int nlogs;
  int verbose;                /* echo log lines on stderr */
  jv catalog;                 /* host->catalog(); set it before init */
  const char *settings[MOCK_MAX_SETTINGS][2];
  int nsettings;
  int budget_on;              /* 0: every reservation fits */
  double budget_cap;
  double budget_used;
  double reserved[MOCK_MAX_EVENTS];
  long nreserved;
  llmr_answer_check checker;  /* set_answer_check(): the last one given */
  void *checker_self;
  int ncheck_asks;            /* check_answer() calls */
  llmr_request_check request_checker; /* set_request_check(): the last */
  void *request_checker_self;
  int nrequest_asks;          /* check_request() calls */
  const char *const *stages_before; /* host->stage_before(): the labels
                                 of the stages the test pretends come
                                 before the one loaded (NULL-terminated;
                                 NULL: none) */
};

/* The one mock runner of the test program. */
extern struct mock_state mock;

/* ---------------------------------------------------------------------
 * Functions
 */

/* Put a run-wide `set KEY=VALUE` (borrowed strings). */
void mock_setting(const char *key, const char *value);

/* The host table to hand to a stage's init(). */
const struct llmr_host *mock_host(void);

/* A job for custom_id with request req (consumed), normalised as the
 * runner reads input lines: a Batch line as is, a bare chat body or the
 * {"prompt"} shorthand wrapped into the Batch shape (a body without
 * messages is wrapped as it is).  Free with mock_job_free(). */
struct llmr_job *mock_job_new(const char *custom_id, jv req);

/* Drop the job's timers and transfers (no callback), free its state. */
void mock_job_leave(struct llmr_job *job);

void mock_job_free(struct llmr_job *job);

/* Borrowed C string at .a.b.c of v, or NULL ("a.b.c" path, objects only). */
const char *mock_str_at(jv v, const char *path, char *buf,
    size_t len);

/* Free the strings of a parsed option set; safe twice. */
void mock_config_free(struct mock_config *mc);

/* Parse kv ("KEY=VALUE" strings, NULL-terminated; may be NULL) against
 * the stage's option table into mc.  0, or -1 with mock.errbuf set. */
int mock_config_parse(struct mock_config *mc,
    const struct llmr_stage *st,
    const char *const *kv);

/* $BUILD/rel (BUILD from the environment, default "build"), e.g.
 * mock_build_path("lib/llmroute/jq.so"), in a static buffer reused by the
 * next call. */
const char *mock_build_path(const char *rel);

/* dlopen path, check the ABI, parse kv, init.  0, or -1 with
 * mock.errbuf saying which step failed. */
int mock_stage_load(struct mock_stage *ms, const char *path,
    const char *const *kv);

/* finish() (when init succeeded), free the options, dlclose. */
void mock_stage_unload(struct mock_stage *ms);

/* Run the stage on job as the runner would: record the verdict; a job
 * that leaves the stage (any verdict but PENDING) has its state freed. */
enum llmr_verdict mock_process(struct mock_stage *ms,
    struct llmr_job *job);

/* Move the fake clock on by seconds, firing the timers that fall due in
 * time order.  A job completed by a callback leaves the stage.  Returns
 * how many fired. */
int mock_advance(double seconds);

/* End recorded transfer i with curl result rc: call done, then clean the
 * handle up as the runner does.  0, or -1 when there is no such live
 * transfer. */
int mock_http_finish(int i, CURLcode rc);

#ifdef __cplusplus
}
#endif

#endif /* LLMROUTE_MOCK_H */
