/*
 * mockhost.c - the mock host of llmroute-mock.h (the plugin author's
 * kit), after collectd's src/daemon/plugin_mock.c.  Built into
 * libllmroute-mock.a with the runner's run-independent services.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llmroute-mock.h"
#include "core.h"
#include "msgtext.h"

struct mock_state mock;

/* Put a run-wide `set KEY=VALUE` (borrowed strings). */
void mock_setting(const char *key, const char *value)
{
  if(mock.nsettings < MOCK_MAX_SETTINGS) {
    mock.settings[mock.nsettings][0] = key;
    mock.settings[mock.nsettings][1] = value;
    mock.nsettings++;
  }
}

/* ---------------------------------------------------------------------
 * Host services
 */

static void mock_vlog(struct llmr_job *job, int level, const char *fmt,
                      va_list ap)
{
  vsnprintf(mock.lastlog, sizeof(mock.lastlog), fmt, ap);
  mock.nlogs++;
  if(mock.verbose)
    fprintf(stderr, "mock log %d [%s] %s: %s\n", level,
            mock.stage_name ? mock.stage_name : "?",
            job ? job->custom_id : "-", mock.lastlog);
}

static void mock_log(struct llmr_job *job, int level, const char *fmt, ...)
    LLMR_PRINTF(3, 4);
static void mock_log(struct llmr_job *job, int level, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  mock_vlog(job, level, fmt, ap);
  va_end(ap);
}

static void mock_config_error(const struct llmr_config *cf,
                              const char *fmt, ...) LLMR_PRINTF(2, 3);
static void mock_config_error(const struct llmr_config *cf,
                              const char *fmt, ...)
{
  va_list ap;
  int n = snprintf(mock.errbuf, sizeof(mock.errbuf), "%s:%d: ",
                   cf && cf->file ? cf->file : "?", cf ? cf->line : 0);

  if(n < 0 || (size_t)n >= sizeof(mock.errbuf))
    n = 0;
  va_start(ap, fmt);
  vsnprintf(mock.errbuf + n, sizeof(mock.errbuf) - (size_t)n, fmt, ap);
  va_end(ap);
  mock.nconfig_errors++;
}

static const struct llmr_value *mock_opt(const struct llmr_config *cf,
                                         const char *name)
{
  const struct mock_config *mc = (const struct mock_config *)cf;
  int i;

  if(!mc || !mc->options)
    return NULL;
  for(i = 0; mc->options[i].name; i++)
    if(!strcmp(mc->options[i].name, name))
      return &mc->values[i];
  return NULL;
}

static const char *mock_setting_get(const char *key)
{
  int i;

  for(i = 0; i < mock.nsettings; i++)
    if(!strcmp(mock.settings[i][0], key))
      return mock.settings[i][1];
  return NULL;
}

static jv mock_catalog(void)
{
  if(!jv_is_valid(mock.catalog))
    return jv_null();
  return jv_copy(mock.catalog);
}

static const char *mock_custom_id(const struct llmr_job *job)
{
  return job->custom_id;
}

static long mock_line(const struct llmr_job *job)
{
  return job->line;
}

static int mock_hops(const struct llmr_job *job)
{
  return job->hops;
}

static jv mock_request(const struct llmr_job *job)
{
  return jv_copy(job->request);
}

static void mock_set_request(struct llmr_job *job, jv req)
{
  jv_free(job->request);
  job->request = req;
}

static jv mock_route(const struct llmr_job *job)
{
  return jv_copy(job->route);
}

static void mock_set_route(struct llmr_job *job, jv route)
{
  jv_free(job->route);
  job->route = route;
}

static jv mock_response(const struct llmr_job *job)
{
  return jv_copy(job->response);
}

static void mock_set_response(struct llmr_job *job, jv body)
{
  jv_free(job->response);
  job->response = body;
}

static void mock_set_error(struct llmr_job *job, const char *code,
                           const char *fmt, ...) LLMR_PRINTF(3, 4);
static void mock_set_error(struct llmr_job *job, const char *code,
                           const char *fmt, ...)
{
  char msg[1024];
  va_list ap;
  jv e = jv_object();

  va_start(ap, fmt);
  vsnprintf(msg, sizeof(msg), fmt, ap);
  va_end(ap);
  e = jv_object_set(e, jv_string("code"), jv_string(code ? code : "?"));
  e = jv_object_set(e, jv_string("message"), jv_string(msg));
  e = jv_object_set(e, jv_string("stage"),
                    jv_string(mock.stage_name ? mock.stage_name : "?"));
  jv_free(job->error);
  job->error = e;
}

static jv mock_error(const struct llmr_job *job)
{
  return jv_copy(job->error);
}

static void *mock_state_get(const struct llmr_job *job)
{
  return job->state;
}

static void mock_set_state(struct llmr_job *job, void *state,
                           void (*free_state)(void *))
{
  if(job->state && job->free_state && job->state != state)
    job->free_state(job->state);
  job->state = state;
  job->free_state = free_state;
}

static int mock_goto_stage(struct llmr_job *job, const char *stage,
                           const char *reason)
{
  (void)reason;
  if(!stage || !*stage)
    return LLMR_EINVAL;
  snprintf(job->goto_target, sizeof(job->goto_target), "%s", stage);
  return LLMR_OK;
}

static int mock_complete(struct llmr_job *job, enum llmr_verdict verdict)
{
  job->ncomplete++;
  if(job->ncomplete > 1) {
    mock_log(job, LLMR_LOG_ERROR, "complete() called again: ignored");
    return LLMR_ESTATE;
  }
  if(verdict == LLMR_PENDING)
    return LLMR_EINVAL;
  job->verdict = verdict;
  return LLMR_OK;
}

static int mock_http(struct llmr_job *job, CURL *easy, llmr_http_done done)
{
  struct mock_http *h;

  if(mock.nhttp == MOCK_MAX_EVENTS) {
    curl_easy_cleanup(easy);
    return LLMR_ENOMEM;
  }
  h = &mock.https[mock.nhttp++];
  h->job = job;
  h->easy = easy;
  h->done = done;
  h->live = 1;
  return LLMR_OK;
}

static int mock_after(struct llmr_job *job, long ms, llmr_timer_fire fire)
{
  struct mock_timer *t;

  if(ms < 0)
    return LLMR_EINVAL;
  if(mock.ntimers == MOCK_MAX_EVENTS)
    return LLMR_ENOMEM;
  t = &mock.timers[mock.ntimers++];
  t->job = job;
  t->ms = ms;
  t->at = mock.clock + (double)ms / 1000.0;
  t->fire = fire;
  t->live = 1;
  return LLMR_OK;
}

static double mock_now(void)
{
  return mock.clock;
}

/* One checker (the stage under test's); a NULL check removes it. */
static int mock_set_answer_check(const struct llmr_config *cf,
                                 llmr_answer_check check, void *self)
{
  if(!cf)
    return LLMR_EINVAL;
  mock.checker = check;
  mock.checker_self = check ? self : NULL;
  return LLMR_OK;
}

/* Runs the registered checker, if any (set mock.checker by hand to
 * play a validate stage downstream of the stage under test). */
static enum llmr_answer mock_check_answer(struct llmr_job *job, jv response,
                                          char *reason, size_t len)
{
  enum llmr_answer a;

  mock.ncheck_asks++;
  if(reason && len)
    reason[0] = '\0';
  if(!mock.checker)
    return LLMR_ANSWER_VALID;
  if(!reason || !len) {
    char tmp[512] = "";
    return mock.checker(mock.checker_self, job, response, tmp, sizeof(tmp));
  }
  a = mock.checker(mock.checker_self, job, response, reason, len);
  reason[len - 1] = '\0';
  return a;
}

/* One request checker (the stage under test's); a NULL check removes
 * it. */
static int mock_set_request_check(const struct llmr_config *cf,
                                  llmr_request_check check, void *self)
{
  if(!cf)
    return LLMR_EINVAL;
  mock.request_checker = check;
  mock.request_checker_self = check ? self : NULL;
  return LLMR_OK;
}

/* Runs the registered request checker, if any (set
 * mock.request_checker by hand to play a validate stage downstream). */
static const char *mock_check_request(struct llmr_job *job, char *reason,
                                      size_t len)
{
  char tmp[512] = "";
  const char *code;

  mock.nrequest_asks++;
  if(reason && len)
    reason[0] = '\0';
  if(!mock.request_checker)
    return NULL;
  code = mock.request_checker(mock.request_checker_self, job, tmp,
                              sizeof(tmp));
  tmp[sizeof(tmp) - 1] = '\0';
  if(code && reason && len)
    snprintf(reason, len, "%s", tmp);
  return code;
}

static int mock_budget_reserve(double usd, long *ticket)
{
  if(mock.nreserved == MOCK_MAX_EVENTS)
    return LLMR_ENOMEM;
  if(mock.budget_on && mock.budget_used + usd > mock.budget_cap)
    return LLMR_EBUDGET;
  mock.budget_used += usd;
  mock.reserved[mock.nreserved] = usd;
  *ticket = mock.nreserved++;
  return LLMR_OK;
}

static void mock_budget_settle(long ticket, double actual_usd)
{
  if(ticket < 0 || ticket >= mock.nreserved)
    return;
  mock.budget_used += actual_usd - mock.reserved[ticket];
  mock.reserved[ticket] = actual_usd;
}

/* The mock runs one stage: the stages before it are the labels the test
 * put in mock.stages_before (NULL-terminated), and the stage itself. */
static int mock_stage_before(const struct llmr_config *cf, const char *stage)
{
  int i;

  if(cf && stage && cf->instance && !strcmp(cf->instance, stage))
    return 1;
  for(i = 0; stage && mock.stages_before && mock.stages_before[i]; i++)
    if(!strcmp(mock.stages_before[i], stage))
      return 1;
  return 0;
}

/* The catalog's C view, rebuilt when mock.catalog is another value
 * than the one it was built from. */
static jv built_from;
static int built;

static void mock_models_sync(void)
{
  if(built && jv_identical(jv_copy(built_from), jv_copy(mock.catalog)))
    return;
  if(built)
    jv_free(built_from);
  built_from = jv_copy(mock.catalog);
  built = 1;
  models_build(mock.catalog);
}

/* A unit test runs one process: no run is shared, use local buckets. */
static double mock_shared_take(const char *bucket, double n,
                               double per_minute, int ifroom)
{
  (void)bucket;
  (void)n;
  (void)per_minute;
  (void)ifroom;
  return -1;
}

static const struct llmr_host mock_host_table = {
  LLMR_ABI_MAJOR, LLMR_ABI_MINOR, sizeof(struct llmr_host),
  mock_log, mock_config_error, mock_opt, mock_setting_get, mock_catalog,
  mock_custom_id, mock_line, mock_hops,
  mock_request, mock_set_request, mock_route, mock_set_route,
  mock_response, mock_set_response, mock_set_error,
  mock_state_get, mock_set_state, mock_goto_stage, mock_complete,
  mock_http, mock_after, mock_now,
  /* from here on, the runner's own code (linked in) */
  tokens_estimate, mock_budget_reserve, mock_budget_settle,
  jqutil_compile, jqutil_run, jqutil_free,
  json_parse,
  mock_set_answer_check, mock_check_answer,
  models_all, models_find, usage_cost,
  mt_text, mt_content_text, mt_set_message_text, mt_map_text,
  mock_stage_before,
  mock_set_request_check, mock_check_request,
  json_parse_strict,
  mock_error,
  mock_shared_take
};

/* The host table to hand to a stage's init(). */
const struct llmr_host *mock_host(void)
{
  return &mock_host_table;
}

/* ---------------------------------------------------------------------
 * Jobs
 */

/* A job for custom_id with request req (consumed; a bare chat body is
 * wrapped into the Batch shape).  Free with mock_job_free(). */
struct llmr_job *mock_job_new(const char *custom_id, jv req)
{
  struct llmr_job *job = calloc(1, sizeof(*job));
  static long lines;

  if(!job) {
    jv_free(req);
    return NULL;
  }
  snprintf(job->custom_id, sizeof(job->custom_id), "%s",
           custom_id ? custom_id : "a1");
  job->line = ++lines;
  if(jv_get_kind(req) == JV_KIND_OBJECT) {
    /* the shapes the runner reads, normalised by its own reader */
    char *cid = NULL;
    int kept;
    jv n = request_normalise(jv_copy(req), &cid, &kept);
    free(cid);
    if(jv_is_valid(n)) {
      jv_free(req);
      req = jv_object_set(n, jv_string("custom_id"),
                          jv_string(job->custom_id));
    }
    else
      jv_free(n);
  }
  if(jv_get_kind(req) == JV_KIND_OBJECT &&
     !jv_object_has(jv_copy(req), jv_string("body"))) {
    /* a body the reader refuses (no messages): wrapped as it is */
    jv r = jv_object();
    r = jv_object_set(r, jv_string("custom_id"), jv_string(job->custom_id));
    r = jv_object_set(r, jv_string("method"), jv_string("POST"));
    r = jv_object_set(r, jv_string("url"),
                      jv_string("/v1/chat/completions"));
    r = jv_object_set(r, jv_string("body"), req);
    req = r;
  }
  job->request = req;
  job->route = jv_object();
  job->response = jv_null();
  job->error = jv_null();
  return job;
}

/* Drop the job's timers and transfers (no callback), free its state. */
void mock_job_leave(struct llmr_job *job)
{
  int i;

  for(i = 0; i < mock.ntimers; i++)
    if(mock.timers[i].job == job)
      mock.timers[i].live = 0;
  for(i = 0; i < mock.nhttp; i++)
    if(mock.https[i].job == job && mock.https[i].live) {
      mock.https[i].live = 0;
      curl_easy_cleanup(mock.https[i].easy);
      mock.https[i].easy = NULL;
    }
  if(job->state && job->free_state)
    job->free_state(job->state);
  job->state = NULL;
  job->free_state = NULL;
}

void mock_job_free(struct llmr_job *job)
{
  if(!job)
    return;
  mock_job_leave(job);
  jv_free(job->request);
  jv_free(job->route);
  jv_free(job->response);
  jv_free(job->error);
  free(job);
}

/* Borrowed C string at .a.b.c of v, or NULL ("a.b.c" path, objects only). */
const char *mock_str_at(jv v, const char *path, char *buf,
                                 size_t len)
{
  char key[128];
  const char *p = path, *dot;
  jv cur = jv_copy(v);

  while(*p) {
    size_t n;
    dot = strchr(p, '.');
    n = dot ? (size_t)(dot - p) : strlen(p);
    if(n >= sizeof(key) || jv_get_kind(cur) != JV_KIND_OBJECT) {
      jv_free(cur);
      return NULL;
    }
    memcpy(key, p, n);
    key[n] = 0;
    cur = jv_object_get(cur, jv_string(key));
    if(!jv_is_valid(cur)) {
      jv_free(cur);
      return NULL;
    }
    p = dot ? dot + 1 : p + n;
  }
  if(jv_get_kind(cur) == JV_KIND_STRING)
    snprintf(buf, len, "%s", jv_string_value(cur));
  else {
    jv s = jv_dump_string(jv_copy(cur), JV_PRINT_SORTED);
    snprintf(buf, len, "%s", jv_string_value(s));
    jv_free(s);
  }
  jv_free(cur);
  return buf;
}

/* ---------------------------------------------------------------------
 * Options
 */

/* Text with ${VAR} expanded from the environment; malloc'd. */
static char *mock_expand(const char *s)
{
  size_t cap = strlen(s) + 1, len = 0;
  char *out = malloc(cap);

  while(out && *s) {
    const char *add = s;
    size_t n = 1;
    char name[128];
    if(s[0] == '$' && s[1] == '{' && strchr(s, '}')) {
      const char *end = strchr(s, '}');
      size_t k = (size_t)(end - s - 2);
      if(k < sizeof(name)) {
        memcpy(name, s + 2, k);
        name[k] = 0;
        add = getenv(name) ? getenv(name) : "";
        n = strlen(add);
        s = end + 1;
      }
      else
        s++;
    }
    else
      s++;
    if(len + n + 1 > cap) {
      char *t;
      cap = (len + n + 1) * 2;
      t = realloc(out, cap);
      if(!t) {
        free(out);
        return NULL;
      }
      out = t;
    }
    memcpy(out + len, add, n);
    len += n;
  }
  if(out)
    out[len] = 0;
  return out;
}

static int mock_parse_bool(const char *s, long long *v)
{
  static const char *const yes[] = {"true", "yes", "on", "1", NULL};
  static const char *const no[] = {"false", "no", "off", "0", NULL};
  int i;

  for(i = 0; yes[i]; i++)
    if(!strcmp(s, yes[i])) {
      *v = 1;
      return 0;
    }
  for(i = 0; no[i]; i++)
    if(!strcmp(s, no[i])) {
      *v = 0;
      return 0;
    }
  return -1;
}

/* Free the strings of a parsed option set; safe twice. */
void mock_config_free(struct mock_config *mc)
{
  int i;

  for(i = 0; i < MOCK_MAX_OPTS; i++) {
    free(mc->strs[i]);
    mc->strs[i] = NULL;
  }
}

/* Parse kv ("KEY=VALUE" strings, NULL-terminated; may be NULL) against
 * the stage's option table into mc.  0, or -1 with mock.errbuf set. */
int mock_config_parse(struct mock_config *mc,
                               const struct llmr_stage *st,
                               const char *const *kv)
{
  const struct llmr_option *o = st->options;
  int i, n = 0;

  memset(mc, 0, sizeof(*mc));
  mc->options = o;
  mc->cf.file = "mock.pipeline";
  mc->cf.line = 1;
  mc->cf.name = st->name;
  mc->cf.instance = st->name;
  mc->cf.index = 0;
  mc->cf.values = mc->values;
  mock.errbuf[0] = 0;
  while(o && o[n].name)
    n++;
  if(n > MOCK_MAX_OPTS) {
    snprintf(mock.errbuf, sizeof(mock.errbuf), "too many options");
    return -1;
  }
  for(i = 0; kv && kv[i]; i++) {
    const char *eq = strchr(kv[i], '=');
    size_t klen = eq ? (size_t)(eq - kv[i]) : strlen(kv[i]);
    int k;
    for(k = 0; k < n; k++)
      if(strlen(o[k].name) == klen && !strncmp(o[k].name, kv[i], klen))
        break;
    if(k == n || !eq) {
      snprintf(mock.errbuf, sizeof(mock.errbuf),
               "unknown option '%.*s' for stage %s", (int)klen, kv[i],
               st->name);
      mock_config_free(mc);
      return -1;
    }
    free(mc->strs[k]);
    mc->strs[k] = mock_expand(eq + 1);
    mc->values[k].set = 1;
  }
  for(i = 0; i < n; i++) {
    struct llmr_value *v = &mc->values[i];
    char *end = NULL;
    if(!mc->strs[i] && (o[i].flags & LLMR_OPT_REQUIRED)) {
      snprintf(mock.errbuf, sizeof(mock.errbuf),
               "missing required option '%s' for stage %s", o[i].name,
               st->name);
      mock_config_free(mc);
      return -1;
    }
    if(!mc->strs[i] && o[i].def)
      mc->strs[i] = strdup(o[i].def);
    if(!mc->strs[i])
      continue;
    if(o[i].type == LLMR_OPT_PATH) {
      char *p = path_resolve_in(mock.pipeline_dir ? mock.pipeline_dir : ".",
                                mock.share_dir, mc->strs[i]);
      free(mc->strs[i]);
      mc->strs[i] = p;
    }
    v->str = mc->strs[i];
    errno = 0;
    if(o[i].type == LLMR_OPT_INT) {
      v->i = strtoll(v->str, &end, 10);
      v->d = (double)v->i;
      if(!*v->str || *end || errno)
        goto bad;
    }
    else if(o[i].type == LLMR_OPT_DOUBLE) {
      v->d = strtod(v->str, &end);
      if(!*v->str || *end || errno)
        goto bad;
    }
    else if(o[i].type == LLMR_OPT_BOOL) {
      if(mock_parse_bool(v->str, &v->i))
        goto bad;
    }
    continue;
bad:
    snprintf(mock.errbuf, sizeof(mock.errbuf),
             "bad value '%s' for option '%s' of stage %s", v->str,
             o[i].name, st->name);
    mock_config_free(mc);
    return -1;
  }
  return 0;
}

/* ---------------------------------------------------------------------
 * Loading a stage
 */


/* $BUILD/rel (BUILD from the environment, default "build"), e.g.
 * mock_build_path("lib/llmroute/jq.so"), in a static buffer reused by the
 * next call. */
const char *mock_build_path(const char *rel)
{
  static char path[1024];
  const char *build = getenv("BUILD");

  snprintf(path, sizeof(path), "%s/%s", build && *build ? build : "build",
           rel);
  return path;
}
/* dlopen path, check the ABI, parse kv, init.  0, or -1 with
 * mock.errbuf saying which step failed. */
int mock_stage_load(struct mock_stage *ms, const char *path,
                             const char *const *kv)
{
  const struct llmr_stage *(*entry)(unsigned, unsigned);

  memset(ms, 0, sizeof(*ms));
  ms->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if(!ms->dl) {
    snprintf(mock.errbuf, sizeof(mock.errbuf), "dlopen: %s", dlerror());
    return -1;
  }
  *(void **)&entry = dlsym(ms->dl, "llmr_stage_entry");
  if(!entry) {
    snprintf(mock.errbuf, sizeof(mock.errbuf), "no llmr_stage_entry");
    return -1;
  }
  ms->st = entry(LLMR_ABI_MAJOR, LLMR_ABI_MINOR);
  if(!ms->st || ms->st->abi_major != LLMR_ABI_MAJOR ||
     ms->st->abi_minor > LLMR_ABI_MINOR || !ms->st->process) {
    snprintf(mock.errbuf, sizeof(mock.errbuf), "ABI mismatch or no stage");
    return -1;
  }
  if(mock_config_parse(&ms->mc, ms->st, kv))
    return -1;
  mock_models_sync();
  mock.stage_name = ms->st->name;
  if(ms->st->init &&
     ms->st->init(mock_host(), &ms->mc.cf, &ms->self) != LLMR_OK) {
    if(!mock.errbuf[0])
      snprintf(mock.errbuf, sizeof(mock.errbuf), "init failed");
    return -1;
  }
  ms->inited = 1;
  mock.self = ms->self;
  return 0;
}

/* finish() (when init succeeded), free the options, dlclose. */
void mock_stage_unload(struct mock_stage *ms)
{
  if(ms->inited && ms->st->finish)
    ms->st->finish(ms->self);
  ms->inited = 0;
  if(mock.checker_self == ms->self) { /* its checker goes with it */
    mock.checker = NULL;
    mock.checker_self = NULL;
  }
  mock_config_free(&ms->mc);
  if(ms->dl)
    dlclose(ms->dl);
  ms->dl = NULL;
}

/* Run the stage on job as the runner would: record the verdict; a job
 * that leaves the stage (any verdict but PENDING) has its state freed. */
enum llmr_verdict mock_process(struct mock_stage *ms,
                                        struct llmr_job *job)
{
  enum llmr_verdict v;

  mock.self = ms->self;
  mock.stage_name = ms->st->name;
  v = ms->st->process(ms->self, job);
  job->verdict = v;
  if(v != LLMR_PENDING)
    mock_job_leave(job);
  return v;
}

/* Move the fake clock on by seconds, firing the timers that fall due in
 * time order.  A job completed by a callback leaves the stage.  Returns
 * how many fired. */
int mock_advance(double seconds)
{
  double until = mock.clock + seconds;
  int fired = 0;

  for(;;) {
    int i, best = -1;
    for(i = 0; i < mock.ntimers; i++)
      if(mock.timers[i].live && mock.timers[i].at <= until &&
         (best < 0 || mock.timers[i].at < mock.timers[best].at))
        best = i;
    if(best < 0)
      break;
    mock.timers[best].live = 0;
    if(mock.timers[best].at > mock.clock)
      mock.clock = mock.timers[best].at;
    mock.timers[best].fire(mock.self, mock.timers[best].job);
    fired++;
    if(mock.timers[best].job->ncomplete)
      mock_job_leave(mock.timers[best].job);
  }
  mock.clock = until;
  return fired;
}

/* End recorded transfer i with curl result rc: call done, then clean the
 * handle up as the runner does.  0, or -1 when there is no such live
 * transfer. */
int mock_http_finish(int i, CURLcode rc)
{
  struct mock_http *h;

  if(i < 0 || i >= mock.nhttp || !mock.https[i].live)
    return -1;
  h = &mock.https[i];
  h->live = 0;
  h->done(mock.self, h->job, h->easy, rc);
  curl_easy_cleanup(h->easy);
  h->easy = NULL;
  if(h->job->ncomplete)
    mock_job_leave(h->job);
  return 0;
}

