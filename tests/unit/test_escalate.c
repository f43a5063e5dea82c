/*
 * test_escalate.c - the escalate stage alone on the mock host
 * (tests/unit/mockhost.h): the cascade (GOTO route with the tier raised,
 * a model ladder, max exhausted -> invalid_output) and mode=preempt.
 *
 * Needs $BUILD/lib/llmroute/escalate.so (BUILD from the environment,
 * default "build").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "llmroute-mock.h"

#define STAGE_SO mock_build_path("lib/llmroute/escalate.so")

static int load(struct mock_stage *ms, const char *name,
                const char *const *kv)
{
  int rc = mock_stage_load(ms, STAGE_SO, kv);
  if(rc) {
    CHECK(name, rc == 0);
    printf("  (%s)\n", mock.errbuf);
    mock_stage_unload(ms);
  }
  return rc;
}

#define CATALOG                                                            \
  "{\"models\":{\"cheap-1\":{\"tier\":1},\"mid-2\":{\"tier\":2},"          \
  "\"top-3\":{\"tier\":3}}}"
#define REQ "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"
#define ANSWER "{\"choices\":[{\"message\":{\"content\":\"x\"}}]}"

/* A job with route route_json and, when resp, a response. */
static struct llmr_job *job_with(const char *route_json, int resp)
{
  struct llmr_job *job = mock_job_new("a1", jv_parse(REQ));
  jv_free(job->route);
  job->route = jv_parse(route_json);
  if(resp) {
    jv_free(job->response);
    job->response = jv_parse(ANSWER);
  }
  return job;
}

static const char *at(jv v, const char *path, char *buf, size_t len)
{
  const char *s = mock_str_at(v, path, buf, len);
  return s ? s : "(absent)";
}

static void test_valid_passes(void)
{
  static const char *const kv[] = {NULL};
  struct mock_stage ms;
  struct llmr_job *job;
  char buf[200];
  if(load(&ms, "valid", kv))
    return;
  job = job_with("{\"tier\":1,\"attempts\":[{\"model\":\"cheap-1\","
                 "\"valid\":true}]}", 1);
  CHECK_INT("valid: NEXT", mock_process(&ms, job), LLMR_NEXT);
  CHECK_STR("valid: no escalation", at(job->route, "escalations", buf,
                                       sizeof(buf)), "(absent)");
  mock_job_free(job);
  /* no validate before: an attempt without "valid" is accepted */
  job = job_with("{\"attempts\":[{\"model\":\"cheap-1\"}]}", 1);
  CHECK_INT("unvalidated: NEXT", mock_process(&ms, job), LLMR_NEXT);
  mock_job_free(job);
  /* nothing was called: not escalate's business */
  job = job_with("{}", 0);
  CHECK_INT("no attempts: NEXT", mock_process(&ms, job), LLMR_NEXT);
  mock_job_free(job);
  mock_stage_unload(&ms);
}

/* An invalid tier-1 answer goes back to route with min_tier 2. */
static void test_raise_tier(void)
{
  static const char *const kv[] = {"max=2", "to=route", NULL};
  struct mock_stage ms;
  struct llmr_job *job;
  char buf[400];
  if(load(&ms, "raise", kv))
    return;
  job = job_with("{\"tier\":1,\"model\":\"cheap-1\",\"attempts\":[{"
                 "\"model\":\"cheap-1\",\"valid\":false,\"reason\":"
                 "\"json: Unfinished JSON term\"}]}", 1);
  CHECK_INT("raise: GOTO", mock_process(&ms, job), LLMR_GOTO);
  CHECK_STR("raise: to route", job->goto_target, "route");
  CHECK_STR("raise: routing.min_tier 2",
            at(job->request, "routing.min_tier", buf, sizeof(buf)), "2");
  CHECK_STR("raise: route.min_tier 2",
            at(job->route, "min_tier", buf, sizeof(buf)), "2");
  CHECK_STR("raise: escalations 1",
            at(job->route, "escalations", buf, sizeof(buf)), "1");
  CHECK("raise: response cleared",
        jv_get_kind(job->response) == JV_KIND_NULL);
  CHECK_STR("raise: attempt kept",
            at(job->route, "attempts", buf, sizeof(buf)),
            "[{\"model\":\"cheap-1\",\"reason\":\"json: Unfinished JSON "
            "term\",\"valid\":false}]");
  CHECK_STR("raise: messages kept",
            at(job->request, "body.messages", buf, sizeof(buf)),
            "[{\"content\":\"hi\",\"role\":\"user\"}]");

  /* the tier-2 answer is invalid too: min_tier 3, escalations 2 */
  job->response = jv_parse(ANSWER);
  job->route = jv_object_set(
      job->route, jv_string("attempts"),
      jv_parse("[{\"model\":\"cheap-1\",\"valid\":false,\"reason\":\"a\"},"
               "{\"model\":\"mid-2\",\"valid\":false,\"reason\":"
               "\"schema: /total: expected number\"}]"));
  job->route = jv_object_set(job->route, jv_string("tier"), jv_number(2));
  CHECK_INT("raise again: GOTO", mock_process(&ms, job), LLMR_GOTO);
  CHECK_STR("raise again: min_tier 3",
            at(job->request, "routing.min_tier", buf, sizeof(buf)), "3");
  CHECK_STR("raise again: escalations 2",
            at(job->route, "escalations", buf, sizeof(buf)), "2");

  /* and the third: max=2 is used up -> invalid_output, attempts kept */
  job->response = jv_parse(ANSWER);
  job->route = jv_object_set(
      job->route, jv_string("attempts"),
      jv_parse("[{\"model\":\"cheap-1\",\"valid\":false,\"reason\":\"a\"},"
               "{\"model\":\"mid-2\",\"valid\":false,\"reason\":\"b\"},"
               "{\"model\":\"top-3\",\"valid\":false,\"reason\":"
               "\"expect: answer does not contain \\\"Paris\\\"\"}]"));
  CHECK_INT("exhausted: FAIL", mock_process(&ms, job), LLMR_FAIL);
  CHECK_STR("exhausted: code", at(job->error, "code", buf, sizeof(buf)),
            "invalid_output");
  CHECK_STR("exhausted: message", at(job->error, "message", buf,
                                     sizeof(buf)),
            "no valid answer after 3 attempts (max=2 escalations used); "
            "last: expect: answer does not contain \"Paris\"");
  CHECK_STR("exhausted: three attempts kept",
            at(job->route, "attempts", buf, sizeof(buf)),
            "[{\"model\":\"cheap-1\",\"reason\":\"a\",\"valid\":false},"
            "{\"model\":\"mid-2\",\"reason\":\"b\",\"valid\":false},"
            "{\"model\":\"top-3\",\"reason\":\"expect: answer does not "
            "contain \\\"Paris\\\"\",\"valid\":false}]");
  mock_job_free(job);
  mock_stage_unload(&ms);
}

/* The catalog's top tier stops the cascade early. */
static void test_top_tier(void)
{
  static const char *const kv[] = {"max=5", NULL};
  struct mock_stage ms;
  struct llmr_job *job;
  char buf[400];
  if(load(&ms, "top", kv))
    return;
  job = job_with("{\"tier\":3,\"attempts\":[{\"model\":\"top-3\","
                 "\"valid\":false,\"reason\":\"empty: no answer text\"}]}",
                 1);
  CHECK_INT("top tier: FAIL", mock_process(&ms, job), LLMR_FAIL);
  CHECK_STR("top tier: message", at(job->error, "message", buf,
                                    sizeof(buf)),
            "no valid answer after 1 attempt (no model above tier 3); "
            "last: empty: no answer text");
  mock_job_free(job);
  mock_stage_unload(&ms);
}

/* A hedge (call hedge_ms=) that answered invalidly too: escalate goes
 * above the hedge's tier, not to it again; a hedge that failed or was
 * cancelled does not count. */
static void test_hedged(void)
{
  static const char *const kv[] = {"max=2", NULL};
  struct mock_stage ms;
  struct llmr_job *job;
  char buf[64];
  if(load(&ms, "hedged", kv))
    return;
  job = job_with("{\"tier\":1,\"attempts\":[{\"model\":\"mid-2\","
                 "\"hedge\":true,\"valid\":false,\"reason\":\"a\"},"
                 "{\"model\":\"cheap-1\",\"valid\":false,\"reason\":"
                 "\"b\"}]}", 1);
  CHECK_INT("hedged: GOTO", mock_process(&ms, job), LLMR_GOTO);
  CHECK_STR("hedged: above the hedge's tier",
            at(job->request, "routing.min_tier", buf, sizeof(buf)), "3");
  mock_job_free(job);
  job = job_with("{\"tier\":1,\"attempts\":[{\"model\":\"mid-2\","
                 "\"hedge\":true,\"status\":500},{\"model\":"
                 "\"cheap-1\",\"valid\":false,\"reason\":\"b\"}]}", 1);
  CHECK_INT("hedge failed: GOTO", mock_process(&ms, job), LLMR_GOTO);
  CHECK_STR("hedge failed: one tier up as usual",
            at(job->request, "routing.min_tier", buf, sizeof(buf)), "2");
  mock_job_free(job);
  /* the hedge's tier is the top: nothing above it */
  job = job_with("{\"tier\":2,\"attempts\":[{\"model\":\"top-3\","
                 "\"hedge\":true,\"valid\":false,\"reason\":\"a\"},"
                 "{\"model\":\"mid-2\",\"valid\":false,\"reason\":"
                 "\"b\"}]}", 1);
  CHECK_INT("hedged top: FAIL", mock_process(&ms, job), LLMR_FAIL);
  mock_job_free(job);
  mock_stage_unload(&ms);
}

/* max=0: never escalate. */
static void test_max_zero(void)
{
  static const char *const kv[] = {"max=0", NULL};
  struct mock_stage ms;
  struct llmr_job *job;
  char buf[300];
  if(load(&ms, "max0", kv))
    return;
  job = job_with("{\"attempts\":[{\"model\":\"cheap-1\",\"valid\":false,"
                 "\"reason\":\"r\"}]}", 1);
  CHECK_INT("max=0: FAIL", mock_process(&ms, job), LLMR_FAIL);
  CHECK_STR("max=0: code", at(job->error, "code", buf, sizeof(buf)),
            "invalid_output");
  mock_job_free(job);
  mock_stage_unload(&ms);
}

/* A failed call (no response) escalates too. */
static void test_call_failed(void)
{
  static const char *const kv[] = {NULL};
  struct mock_stage ms;
  struct llmr_job *job;
  char buf[300];
  if(load(&ms, "call failed", kv))
    return;
  job = job_with("{\"tier\":1,\"attempts\":[{\"model\":\"cheap-1\","
                 "\"status\":503,\"reason\":\"provider_error\"}]}", 0);
  CHECK_INT("call failed: GOTO", mock_process(&ms, job), LLMR_GOTO);
  CHECK_STR("call failed: min_tier 2",
            at(job->request, "routing.min_tier", buf, sizeof(buf)), "2");
  mock_job_free(job);
  mock_stage_unload(&ms);
}

/* ladder=: the next untried model is pinned. */
static void test_ladder(void)
{
  static const char *const kv[] = {"ladder= cheap-1, mid-2 ,top-3",
                                   "max=5", NULL};
  struct mock_stage ms;
  struct llmr_job *job;
  char buf[300];
  if(load(&ms, "ladder", kv))
    return;
  job = job_with("{\"attempts\":[{\"model\":\"cheap-1\",\"valid\":false,"
                 "\"reason\":\"r1\"}]}", 1);
  CHECK_INT("ladder: GOTO", mock_process(&ms, job), LLMR_GOTO);
  CHECK_STR("ladder: next model pinned",
            at(job->request, "body.model", buf, sizeof(buf)), "mid-2");
  CHECK_STR("ladder: tier untouched",
            at(job->request, "routing.min_tier", buf, sizeof(buf)),
            "(absent)");
  job->response = jv_parse(ANSWER);
  job->route = jv_object_set(
      job->route, jv_string("attempts"),
      jv_parse("[{\"model\":\"cheap-1\",\"valid\":false},{\"model\":"
               "\"mid-2\",\"valid\":false},{\"model\":\"top-3\","
               "\"valid\":false,\"reason\":\"r3\"}]"));
  CHECK_INT("ladder: all tried FAIL", mock_process(&ms, job), LLMR_FAIL);
  CHECK_STR("ladder: message", at(job->error, "message", buf, sizeof(buf)),
            "no valid answer after 3 attempts (every ladder model was "
            "tried); last: r3");
  mock_job_free(job);
  mock_stage_unload(&ms);
}

/* mode=preempt raises the minimum tier before the first call. */
static void test_preempt(void)
{
  static const char *const kv[] = {"mode=preempt", "require_tier=2",
                                   "when_complexity=0.7", NULL};
  static const char *const kv_tokens[] = {"mode=preempt", "require_tier=3",
                                          "when_tokens=100", NULL};
  static const char *const kv_bad[] = {"mode=preempt", NULL};
  struct mock_stage ms;
  struct llmr_job *job;
  char buf[300], big[2000];
  if(load(&ms, "preempt", kv))
    return;
  job = job_with("{\"task\":\"math\",\"complexity\":0.82}", 0);
  CHECK_INT("preempt: NEXT", mock_process(&ms, job), LLMR_NEXT);
  CHECK_STR("preempt: routing.min_tier",
            at(job->request, "routing.min_tier", buf, sizeof(buf)), "2");
  CHECK_STR("preempt: route.min_tier",
            at(job->route, "min_tier", buf, sizeof(buf)), "2");
  CHECK_STR("preempt: why", at(job->route, "preempted", buf, sizeof(buf)),
            "complexity 0.82 >= 0.70");
  mock_job_free(job);
  job = job_with("{\"task\":\"chat\",\"complexity\":0.2}", 0);
  CHECK_INT("preempt simple: NEXT", mock_process(&ms, job), LLMR_NEXT);
  CHECK_STR("preempt simple: untouched",
            at(job->request, "routing", buf, sizeof(buf)), "(absent)");
  mock_job_free(job);
  mock_stage_unload(&ms);

  if(load(&ms, "preempt tokens", kv_tokens))
    return;
  memset(big, 'w', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  job = mock_job_new("a2", jv_object_set(
      jv_object(), jv_string("messages"),
      jv_array_append(jv_array(),
                      jv_object_set(jv_object(), jv_string("content"),
                                    jv_string(big)))));
  CHECK_INT("preempt tokens: NEXT", mock_process(&ms, job), LLMR_NEXT);
  CHECK_STR("preempt tokens: min_tier 3",
            at(job->request, "routing.min_tier", buf, sizeof(buf)), "3");
  mock_job_free(job);
  mock_stage_unload(&ms);

  {
    static const char *const kv_re[] = {
      "mode=preempt", "require_tier=2", "when_count=3",
      "when_pattern=\\b(then|next)\\b", NULL};
    static const char *const kv_badre[] = {"mode=preempt",
                                           "when_pattern=(", NULL};
    static const char *const kv_badcount[] = {
      "mode=preempt", "when_pattern=x", "when_count=0", NULL};
    if(!load(&ms, "preempt pattern", kv_re)) {
      job = mock_job_new("a3", jv_parse(
          "{\"messages\":[{\"role\":\"system\",\"content\":\"then then "
          "then\"},{\"role\":\"user\",\"content\":\"Add 2, then double "
          "it, Then square it, next halve it.\"}]}"));
      CHECK_INT("preempt pattern: NEXT", mock_process(&ms, job), LLMR_NEXT);
      CHECK_STR("preempt pattern: why",
                at(job->route, "preempted", buf, sizeof(buf)),
                "3 when_pattern matches >= 3");
      mock_job_free(job);
      job = mock_job_new("a4", jv_parse(
          "{\"messages\":[{\"role\":\"system\",\"content\":\"then then "
          "then\"},{\"role\":\"user\",\"content\":[{\"type\":\"text\","
          "\"text\":\"Add 2, then double it.\"}]}]}"));
      mock_process(&ms, job);
      CHECK_STR("preempt pattern: two hops stay cheap",
                at(job->request, "routing", buf, sizeof(buf)), "(absent)");
      mock_job_free(job);
      mock_stage_unload(&ms);
    }
    CHECK("preempt bad when_pattern refused",
          mock_stage_load(&ms, STAGE_SO,
                          kv_badre) &&
          strstr(mock.errbuf, "when_pattern: bad regex"));
    mock_stage_unload(&ms);
    CHECK("preempt when_count=0 refused",
          mock_stage_load(&ms, STAGE_SO,
                          kv_badcount) &&
          strstr(mock.errbuf, "when_count=0"));
    mock_stage_unload(&ms);
  }

  CHECK("preempt without proxy refused",
        mock_stage_load(&ms, STAGE_SO, kv_bad) &&
        strstr(mock.errbuf, "needs when_complexity"));
  mock_stage_unload(&ms);
}

/* to= must name a stage before escalate */
static void test_to_checked(void)
{
  static const char *const none[] = {NULL};
  const char *kv[] = {"to=nowhere", NULL};
  struct mock_stage ms;

  mock.stages_before = none;
  CHECK("to=nowhere refused at load",
        mock_stage_load(&ms, STAGE_SO, kv) != 0 &&
        strstr(mock.errbuf, "to=nowhere: no stage of that name") != NULL);
  mock_stage_unload(&ms);
}

int main(void)
{
  static const char *const before[] = {"route", NULL};
  mock.catalog = jv_parse(CATALOG);
  mock.stages_before = before; /* the stages before escalate */
  test_to_checked();
  mock.stages_before = before;
  test_valid_passes();
  test_raise_tier();
  test_top_tier();
  test_hedged();
  test_max_zero();
  test_call_failed();
  test_ladder();
  test_preempt();
  jv_free(mock.catalog);
  return harness_done();
}
