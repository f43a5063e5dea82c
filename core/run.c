/*
 * run.c - one run: settings, catalog, stage init, the loop, finish.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run.h"
#include "msgtext.h"

/* Find the line of a `set` key, for messages. */
static int setting_line(const char *key)
{
  int i;

  for(i = 0; i < R.pl->nsettings; i++)
    if(!strcmp(R.pl->settings[i].key, key))
      return R.pl->settings[i].line;
  return 0;
}

/* A numeric setting in [min, max]: *out stays as is when absent.  -1 on
 * a bad value (said as FILE:LINE: message). */
static int number_setting(const char *key, double min, double max,
                          double *out)
{
  const char *v = pipeline_setting(R.pl, key);
  char *end;
  double d;

  if(!v)
    return 0;
  errno = 0;
  d = strtod(v, &end);
  if(!*v || *end || errno || !isfinite(d) || d < min || d > max) {
    fprintf(stderr, "%s:%d: set %s: '%s' is not a number from %g to %g\n",
            R.pl->file, setting_line(key), key, v, min, max);
    return -1;
  }
  *out = d;
  return 0;
}

static int read_settings(const struct run_opts *ro)
{
  double hops = 8, timeout = 600, maxline = 16 * 1024 * 1024;
  double conc = 64, budget = -1;

  /* the ranges keep every value representable where it goes (an int,
     a size_t, seconds of a timer) */
  if(number_setting("max_hops", 0, 1000, &hops) ||
     number_setting("job_timeout", 0, 31536000, &timeout) ||
     number_setting("max_line", 1, 1073741824, &maxline) ||
     number_setting("concurrency", 1, 1000000, &conc) ||
     number_setting("budget", 0, 1e9, &budget))
    return -1;
  R.max_hops = (int)hops;
  R.job_timeout = timeout;
  R.max_line = (size_t)maxline;
  R.max_jobs = ro->jobs > 0 ? ro->jobs : (int)conc;
  R.budget_cap = ro->budget >= 0 ? ro->budget : budget;
  budget_init(R.budget_cap);
  return 0;
}

static int load_catalog(void)
{
  const char *path = pipeline_setting(R.pl, "catalog");
  char err[1024];

  R.catalog = jv_null();
  if(!path)
    return 0;
  if(catalog_load(path, &R.catalog, err, sizeof(err))) {
    fprintf(stderr, "%s:%d: catalog: %s\n", R.pl->file,
            setting_line("catalog"), err);
    return -1;
  }
  if(models_build(R.catalog) != LLMR_OK) {
    fprintf(stderr, "%s: out of memory\n", path);
    return -1;
  }
  return 0;
}

static int init_stages(void)
{
  int i;

  for(i = 0; i < R.pl->nstages; i++) {
    struct stage_inst *st = &R.pl->stages[i];
    int rc;

    if(!st->desc->init) {
      st->inited = 1;
      continue;
    }
    R.config_error_seen = 0;
    R.cur_stage = i;
    rc = st->desc->init(&R.host, &st->cf, &st->self);
    R.cur_stage = -1;
    if(rc != LLMR_OK) {
      if(!R.config_error_seen)
        fprintf(stderr, "%s:%d: stage %s failed to initialise (status "
                "%d)\n", st->cf.file, st->cf.line, st->cf.instance, rc);
      return -1;
    }
    st->inited = 1;
  }
  for(i = 0; i < R.pl->nstages; i++) {
    struct stage_inst *st = &R.pl->stages[i];

    if(st->desc->size >= offsetof(struct llmr_stage, done) +
                         sizeof(st->desc->done) && st->desc->done) {
      st->done = st->desc->done;
      R.ndone_hooks++;
    }
  }
  return 0;
}

static void finish_stages(void)
{
  int i;

  for(i = R.pl->nstages - 1; i >= 0; i--) {
    struct stage_inst *st = &R.pl->stages[i];

    if(st->inited && st->desc->finish) {
      R.cur_stage = i;
      st->desc->finish(st->self);
      R.cur_stage = -1;
    }
    st->inited = 0;
  }
  answer_free(); /* the checkers' stages are gone */
}

/* Jobs left when the run stops early (EPIPE): cancel and free them. */
static void drop_active(void)
{
  while(R.active) {
    struct llmr_job *j = R.active;

    R.active = j->anext;
    if(R.active)
      R.active->aprev = NULL;
    job_cancel_work(j);
    job_free(j);
  }
}

int run_pipeline_check(struct pipeline *pl, const struct run_opts *ro)
{
  int status = 0;

  memset(&R, 0, sizeof(R));
  R.pl = pl;
  R.cur_stage = -1;
  host_init(&R.host);
  if(read_settings(ro) || load_catalog() || shared_setup(pl, 0, -1))
    return 2;
  if(init_stages())
    status = 2;
  finish_stages();
  jv_free(R.catalog);
  models_free();
  if(!status)
    fprintf(stderr, "%s: OK (%d stages)\n", pl->file, pl->nstages);
  return status;
}

/* Some results had neither an answer nor an error (internal_error
 * records now): say so, and append a line to $LLMROUTE_INVARIANT_LOG
 * when it names a file (the test suite counts those as failures). */
static void invariant_broken(void)
{
  const char *path = getenv("LLMROUTE_INVARIANT_LOG");
  FILE *f;

  log_msg(LLMR_LOG_ERROR, NULL, "%lu result%s had neither an answer nor "
          "an error: written as internal_error records (a bug: please "
          "report it with the pipeline)", R.ninternal,
          R.ninternal == 1 ? "" : "s");
  if(path && *path && (f = fopen(path, "a")) != NULL) {
    fprintf(f, "%s: %lu results with neither an answer nor an error\n",
            R.pl->file, R.ninternal);
    fclose(f);
  }
}

int run_pipeline(struct pipeline *pl, const struct run_opts *ro)
{
  unsigned long nfiles;
  int status = 0, rc, i;

  memset(&R, 0, sizeof(R));
  R.pl = pl;
  R.cur_stage = -1;
  R.sigpipe_fd[0] = R.sigpipe_fd[1] = -1;
  R.nrun = pl->nstages;
  R.dry_run = ro->dry_run;
  R.output_format = ro->output_format;
  for(i = 0; ro->dry_run && i < pl->nstages; i++)
    if(!strcmp(pl->stages[i].desc->name, "call")) {
      R.nrun = i;
      break;
    }
  for(i = 0; i < R.nrun; i++)
    R.answering |= !strcmp(pl->stages[i].desc->name, "call");
  host_init(&R.host);
  if(read_settings(ro) || load_catalog())
    return 2;
  /* only a run that calls providers joins the shared run: a dry run or
     a pipeline without call spends nothing */
  if(shared_setup(pl, R.answering, R.budget_cap)) {
    jv_free(R.catalog);
    models_free();
    return 2;
  }
  if(curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    fprintf(stderr, "llmroute: cannot initialise libcurl\n");
    return 2;
  }
  R.multi = curl_multi_init();
  if(!R.multi)
    return 2;
  curl_multi_setopt(R.multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
  curl_multi_setopt(R.multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                    (long)(R.max_jobs > 4 ? R.max_jobs : 4));
  if(init_stages()) {
    finish_stages();
    status = 2;
    goto out;
  }
  for(i = 0; ro->resume && ro->resume[i]; i++)
    if(resume_load(ro->resume[i])) {
      finish_stages();
      reader_close(); /* frees the ids loaded */
      status = 2;
      goto out;
    }
  writer_init(ro->keep_order, R.max_jobs);
  reader_open(ro->files);
  progress_start(ro);
  log_msg(LLMR_LOG_INFO, NULL, "result ids llmr-%s-N", ids_run_token());
  rc = loop_run();
  drop_active();
  progress_clear();
  finish_stages();
  shared_close(); /* after the stages settled what they still held */
  nfiles = resume_files();
  reader_close();
  writer_free();
  if(ro->resume && ro->resume[0] && llmr_log_level >= LLMR_LOG_WARN) {
    /* said unless -q, even for 0: ids that never match (a changed
       input, another --custom-ids) are seen, not silently re-sent; a
       count, not a warning; one write, whole among GNU parallel's */
    char msg[160];
    int n = snprintf(msg, sizeof(msg), "llmroute: resume: %lu request%s "
                     "already done in %lu file%s, skipped\n", R.nskipped,
                     R.nskipped == 1 ? "" : "s", nfiles,
                     nfiles == 1 ? "" : "s");

    fwrite(msg, 1, (size_t)n, stderr);
  }
  if(!ro->quiet)
    progress_summary();
  if(R.ninternal)
    invariant_broken();
  if(R.write_errno)
    status = 74; /* EX_IOERR: the results could not be written */
  else if(R.interrupted)
    status = 130;
  else if(R.epipe)
    status = 141;
  else if(rc != LLMR_OK)
    status = 2;
  else
    status = R.nerrors ? 1 : 0;
out:
  shared_close();
  curl_multi_cleanup(R.multi);
  R.multi = NULL;
  free(R.heap);
  free(R.xfer_tab);
  jv_free(R.catalog);
  models_free();
  ckeys_free();
  mt_release();
  json_write_cache_free();
  progress_free();
  if(R.sigpipe_fd[0] >= 0) {
    close(R.sigpipe_fd[0]);
    close(R.sigpipe_fd[1]);
  }
  curl_global_cleanup();
  return status;
}
