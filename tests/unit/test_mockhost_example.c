/*
 * test_mockhost_example.c - how to test one stage alone with the mock
 * host (tests/unit/mockhost.h): the built-in jq stage, then test stages
 * that use timers and complete() from tests/plugins/.
 *
 * Needs $BUILD/lib/llmroute/jq.so and the test plugins in
 * $BUILD/tests/plugins/ (BUILD from the environment, default "build").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "llmroute-mock.h"

static void test_jq_rewrites_request(void)
{
  struct mock_stage ms;
  const char *opts[] = {"program=.body.max_tokens = 256", NULL};
  struct llmr_job *job;
  char buf[256];
  int rc;

  rc = mock_stage_load(&ms, mock_build_path("lib/llmroute/jq.so"), opts);
  CHECK("jq: loads and inits", rc == 0);
  if(rc) {
    printf("  (%s)\n", mock.errbuf);
    mock_stage_unload(&ms);
    return;
  }
  CHECK_STR("jq: descriptor name", ms.st->name, "jq");
  job = mock_job_new("a1", jv_parse("{\"messages\":[{\"role\":\"user\","
                                    "\"content\":\"hi\"}]}"));
  CHECK_INT("jq: process says NEXT", mock_process(&ms, job), LLMR_NEXT);
  CHECK_STR("jq: max_tokens set",
            mock_str_at(job->request, "body.max_tokens", buf, sizeof(buf)),
            "256");
  CHECK_STR("jq: messages kept",
            mock_str_at(job->request, "body.messages", buf, sizeof(buf)),
            "[{\"content\":\"hi\",\"role\":\"user\"}]");
  CHECK_STR("jq: custom_id kept",
            mock_str_at(job->request, "custom_id", buf, sizeof(buf)), "a1");
  CHECK("jq: no error", jv_get_kind(job->error) == JV_KIND_NULL);
  mock_job_free(job);

  /* the program is compiled once: a second job sees the same rewrite */
  job = mock_job_new("a2", jv_parse("{\"messages\":[],"
                                    "\"max_tokens\":9}"));
  CHECK_INT("jq: second job NEXT", mock_process(&ms, job), LLMR_NEXT);
  CHECK_STR("jq: second job rewritten",
            mock_str_at(job->request, "body.max_tokens", buf, sizeof(buf)),
            "256");
  mock_job_free(job);
  mock_stage_unload(&ms);
}

static void test_jq_runtime_error(void)
{
  struct mock_stage ms;
  const char *opts[] = {"program=error(\"boom\")", NULL};
  struct llmr_job *job;
  char buf[256];

  if(mock_stage_load(&ms, mock_build_path("lib/llmroute/jq.so"), opts)) {
    CHECK("jq error: loads", 0);
    printf("  (%s)\n", mock.errbuf);
    mock_stage_unload(&ms);
    return;
  }
  job = mock_job_new("e1", jv_parse("{\"messages\":[]}"));
  CHECK_INT("jq error: process says FAIL", mock_process(&ms, job),
            LLMR_FAIL);
  CHECK_STR("jq error: code jq_error",
            mock_str_at(job->error, "code", buf, sizeof(buf)), "jq_error");
  CHECK("jq error: message names the error",
        mock_str_at(job->error, "message", buf, sizeof(buf)) &&
        strstr(buf, "boom"));
  mock_job_free(job);
  mock_stage_unload(&ms);
}

static void test_jq_syntax_error(void)
{
  struct mock_stage ms;
  const char *opts[] = {"program=.body |||", NULL};
  int before = mock.nconfig_errors;

  CHECK("jq syntax error: init refuses",
        mock_stage_load(&ms, mock_build_path("lib/llmroute/jq.so"),
                        opts) != 0);
  CHECK("jq syntax error: reported as FILE:LINE",
        mock.nconfig_errors > before &&
        !strncmp(mock.errbuf, "mock.pipeline:1: ", 17));
  mock_stage_unload(&ms);
}

/* The mock's option parser, on the opts test stage. */
static void test_options(void)
{
  struct mock_stage ms;
  const char *none[] = {NULL};
  const char *badint[] = {"req=x", "i=4x", NULL};
  const char *unknown[] = {"req=x", "nope=1", NULL};
  const char *good[] = {"req=${MOCKHOST_TEST_VAR}", "i=7", "b=yes",
                        "p=rules.txt", NULL};
  const char *so = mock_build_path("tests/plugins/opts.so");
  struct llmr_job *job;
  char buf[256];

  CHECK("options: missing required refused",
        mock_stage_load(&ms, so, none) != 0 &&
        strstr(mock.errbuf, "missing required option 'req'"));
  mock_stage_unload(&ms);
  CHECK("options: bad int refused",
        mock_stage_load(&ms, so, badint) != 0 &&
        strstr(mock.errbuf, "bad value '4x'"));
  mock_stage_unload(&ms);
  CHECK("options: unknown key refused",
        mock_stage_load(&ms, so, unknown) != 0 &&
        strstr(mock.errbuf, "unknown option 'nope'"));
  mock_stage_unload(&ms);

  setenv("MOCKHOST_TEST_VAR", "from-env", 1);
  mock.pipeline_dir = "/etc/llmr";
  if(mock_stage_load(&ms, so, good)) {
    CHECK("options: good set loads", 0);
    printf("  (%s)\n", mock.errbuf);
    mock_stage_unload(&ms);
    return;
  }
  job = mock_job_new("o1", jv_parse("{\"messages\":[]}"));
  CHECK_INT("options: NEXT", mock_process(&ms, job), LLMR_NEXT);
  CHECK_STR("options: ${VAR} expanded",
            mock_str_at(job->route, "opts.opts.req", buf, sizeof(buf)),
            "from-env");
  CHECK_STR("options: int", mock_str_at(job->route, "opts.opts.i", buf,
                                        sizeof(buf)), "7");
  CHECK_STR("options: bool", mock_str_at(job->route, "opts.opts.b", buf,
                                         sizeof(buf)), "true");
  CHECK_STR("options: default string",
            mock_str_at(job->route, "opts.opts.s", buf, sizeof(buf)),
            "dflt");
  CHECK_STR("options: default double",
            mock_str_at(job->route, "opts.opts.d", buf, sizeof(buf)),
            "2.5");
  CHECK_STR("options: relative path resolved",
            mock_str_at(job->route, "opts.opts.p", buf, sizeof(buf)),
            "/etc/llmr/rules.txt");
  mock_job_free(job);
  mock_stage_unload(&ms);
  mock.pipeline_dir = NULL;
}

/* Timers on the fake clock, with the sleep_async test stage. */
static void test_timers(void)
{
  struct mock_stage ms;
  const char *opts[] = {"ms=100", NULL};
  struct llmr_job *a, *b;
  char buf[256];

  if(mock_stage_load(&ms, mock_build_path("tests/plugins/sleep_async.so"),
                     opts)) {
    CHECK("timers: sleep_async loads", 0);
    printf("  (%s)\n", mock.errbuf);
    mock_stage_unload(&ms);
    return;
  }
  a = mock_job_new("t1", jv_parse("{\"messages\":[]}"));
  b = mock_job_new("t2", jv_parse("{\"messages\":[]}"));
  CHECK_INT("timers: PENDING", mock_process(&ms, a), LLMR_PENDING);
  CHECK_INT("timers: PENDING again", mock_process(&ms, b), LLMR_PENDING);
  CHECK_INT("timers: nothing due at 50 ms", mock_advance(0.05), 0);
  CHECK_INT("timers: not completed yet", a->ncomplete, 0);
  CHECK_INT("timers: both due by 110 ms", mock_advance(0.06), 2);
  CHECK_INT("timers: completed once", a->ncomplete, 1);
  CHECK_INT("timers: verdict NEXT", a->verdict, LLMR_NEXT);
  CHECK_STR("timers: two in flight at once",
            mock_str_at(b->route, "sleep.inflight_max", buf, sizeof(buf)),
            "2");
  CHECK("timers: state freed", a->state == NULL && b->state == NULL);
  mock_job_free(a);
  mock_job_free(b);
  mock_stage_unload(&ms);
}

/* A second complete() is refused with LLMR_ESTATE. */
static void test_double_complete(void)
{
  struct mock_stage ms;
  struct llmr_job *job;

  if(mock_stage_load(&ms, mock_build_path("tests/plugins/double_complete.so"),
                     NULL)) {
    CHECK("double complete: loads", 0);
    printf("  (%s)\n", mock.errbuf);
    mock_stage_unload(&ms);
    return;
  }
  job = mock_job_new("d1", jv_parse("{\"messages\":[]}"));
  CHECK_INT("double complete: PENDING", mock_process(&ms, job),
            LLMR_PENDING);
  mock_advance(1);
  CHECK_INT("double complete: called twice", job->ncomplete, 2);
  CHECK_INT("double complete: first verdict stands", job->verdict,
            LLMR_NEXT);
  mock_job_free(job);
  mock_stage_unload(&ms);
}

/* Recorded HTTP transfers, ended by the test, with the http_get stage. */
static void test_http(void)
{
  struct mock_stage ms;
  const char *opts[] = {"url=http://127.0.0.1:9/x", NULL};
  struct llmr_job *a, *b;
  char buf[256];
  int first = mock.nhttp;

  if(mock_stage_load(&ms, mock_build_path("tests/plugins/http_get.so"),
                     opts)) {
    CHECK("http: http_get loads", 0);
    printf("  (%s)\n", mock.errbuf);
    mock_stage_unload(&ms);
    return;
  }
  a = mock_job_new("h1", jv_parse("{\"messages\":[]}"));
  b = mock_job_new("h2", jv_parse("{\"messages\":[]}"));
  CHECK_INT("http: PENDING", mock_process(&ms, a), LLMR_PENDING);
  CHECK_INT("http: PENDING again", mock_process(&ms, b), LLMR_PENDING);
  CHECK_INT("http: two transfers recorded", mock.nhttp - first, 2);
  CHECK("http: handed the easy handle",
        mock.https[first].easy != NULL && mock.https[first].job == a);
  CHECK_INT("http: end the first with a connect error",
            mock_http_finish(first, CURLE_COULDNT_CONNECT), 0);
  CHECK_INT("http: its job failed", a->verdict, LLMR_FAIL);
  CHECK_STR("http: with http_error",
            mock_str_at(a->error, "code", buf, sizeof(buf)), "http_error");
  CHECK_INT("http: end the second fine", mock_http_finish(first + 1,
                                                          CURLE_OK), 0);
  CHECK_INT("http: its job goes on", b->verdict, LLMR_NEXT);
  CHECK("http: route.http recorded",
        mock_str_at(b->route, "http.status", buf, sizeof(buf)) != NULL);
  CHECK_INT("http: a finished transfer cannot end twice",
            mock_http_finish(first, CURLE_OK), -1);
  mock_job_free(a);
  mock_job_free(b);
  mock_stage_unload(&ms);
}

int main(void)
{
  test_jq_rewrites_request();
  test_jq_runtime_error();
  test_jq_syntax_error();
  test_options();
  test_timers();
  test_double_complete();
  test_http();
  return harness_done();
}
