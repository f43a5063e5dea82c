/*
 * test_validate.c - the validate stage alone on the mock host
 * (tests/unit/mockhost.h): each check, what it records on the last
 * attempt, and deterministic review sampling.
 *
 * Needs $BUILD/lib/llmroute/validate.so (BUILD from the environment,
 * default "build").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "harness.h"
#include "llmroute-mock.h"

#define STAGE_SO mock_build_path("lib/llmroute/validate.so")

/* Load validate with options kv; 0 on success (else a FAIL is printed). */
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

/* A chat.completion body answering text with finish_reason finish. */
static jv completion(const char *text, const char *finish)
{
  jv msg = jv_object_set(jv_object(), jv_string("role"),
                         jv_string("assistant"));
  jv choice = jv_object();
  msg = jv_object_set(msg, jv_string("content"),
                      text ? jv_string(text) : jv_null());
  choice = jv_object_set(choice, jv_string("index"), jv_number(0));
  choice = jv_object_set(choice, jv_string("message"), msg);
  choice = jv_object_set(choice, jv_string("finish_reason"),
                         jv_string(finish ? finish : "stop"));
  return jv_object_set(
      jv_object_set(jv_object(), jv_string("object"),
                    jv_string("chat.completion")),
      jv_string("choices"), jv_array_append(jv_array(), choice));
}

/* A job whose request is req_json (a Batch line or a bare body), with
 * one attempt by model on tier 1 and the answer text. */
static struct llmr_job *answered(const char *req_json, const char *text,
                                 const char *finish)
{
  struct llmr_job *job = mock_job_new("a1", jv_parse(req_json));
  jv att = jv_object_set(jv_object(), jv_string("model"),
                         jv_string("cheap-1"));
  att = jv_object_set(att, jv_string("status"), jv_number(200));
  jv_free(job->route);
  job->route = jv_object_set(
      jv_object_set(jv_object(), jv_string("tier"), jv_number(1)),
      jv_string("attempts"), jv_array_append(jv_array(), att));
  job->response = completion(text, finish);
  return job;
}

/* The last attempt's field as text ("true", "null", the reason ...). */
static const char *last(struct llmr_job *job, const char *key, char *buf,
                        size_t len)
{
  jv a = jv_object_get(jv_copy(job->route), jv_string("attempts"));
  int n = jv_get_kind(a) == JV_KIND_ARRAY ? jv_array_length(jv_copy(a)) : 0;
  jv at = n ? jv_array_get(a, n - 1) : (jv_free(a), jv_null());
  const char *r = mock_str_at(at, key, buf, len);
  jv_free(at);
  return r;
}

/* Run validate (options kv) on one answer; check valid and reason. */
static void expect_answer(const char *name, const char *const *kv,
                          const char *req, const char *text,
                          const char *finish, const char *valid,
                          const char *reason)
{
  struct mock_stage ms;
  struct llmr_job *job;
  char buf[600], nm[200];
  if(load(&ms, name, kv))
    return;
  job = answered(req, text, finish);
  snprintf(nm, sizeof(nm), "%s: NEXT", name);
  CHECK_INT(nm, mock_process(&ms, job), LLMR_NEXT);
  snprintf(nm, sizeof(nm), "%s: valid", name);
  CHECK_STR(nm, last(job, "valid", buf, sizeof(buf)), valid);
  snprintf(nm, sizeof(nm), "%s: reason", name);
  if(reason)
    CHECK_STR(nm, last(job, "reason", buf, sizeof(buf)), reason);
  else /* invalid, with some reason */
    CHECK(nm, strcmp(last(job, "reason", buf, sizeof(buf)), "null"));
  mock_job_free(job);
  mock_stage_unload(&ms);
}

#define MSGS "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]"
#define JSON_OBJ "{" MSGS ",\"response_format\":{\"type\":\"json_object\"}}"

static void test_checks(void)
{
  static const char *const none[] = {NULL};
  static const char *const nojson[] = {"json=false", NULL};
  static const char *const forcejson[] = {"json=true", NULL};
  static const char *const check[] = {
    "check=.choices[0].message.content | length < 10", NULL};
  static const char *const norefusal[] = {"refusal=", NULL};
  static const char *const myrefusal[] = {"refusal=^nope", NULL};

  expect_answer("plain ok", none, "{" MSGS "}", "Paris.", NULL, "true",
                "null");
  expect_answer("invalid json", none, JSON_OBJ, "{\"total\": 12,", NULL,
                "false", NULL);
  expect_answer("json ok", none, JSON_OBJ, " {\"total\": 12} ", NULL,
                "true", "null");
  expect_answer("json=false", nojson, JSON_OBJ, "not json", NULL, "true",
                "null");
  expect_answer("json=true", forcejson, "{" MSGS "}", "not json", NULL,
                "false", NULL);
  expect_answer("truncated", none, "{" MSGS "}", "The answer is", "length",
                "false", "truncated: finish_reason length");
  expect_answer("empty", none, "{" MSGS "}", "  \n", NULL, "false",
                "empty: no answer text");
  expect_answer("null content", none, "{" MSGS "}", NULL, NULL, "false",
                "empty: no answer text");
  expect_answer("refusal default", none, "{" MSGS "}",
                "I'm sorry, but I can't help with that.", NULL, "false",
                "refusal: \"I'm sorry, but I can't\"");
  expect_answer("refusal curly", none, "{" MSGS "}",
                "I\u2019m sorry, but I can\u2019t do that.", NULL, "false",
                "refusal: \"I\u2019m sorry, but I can\u2019t\"");
  expect_answer("not a refusal", none, "{" MSGS "}",
                "I can't help but notice the total is 12.", NULL, "true",
                "null");
  expect_answer("refusal case", none, "{" MSGS "}",
                "i cannot assist with this request", NULL, "false",
                "refusal: \"i cannot assist with\"");
  expect_answer("refusal off", norefusal, "{" MSGS "}",
                "I cannot help with that.", NULL, "true", "null");
  expect_answer("refusal custom", myrefusal, "{" MSGS "}", "Nope.", NULL,
                "false", "refusal: \"Nope\"");
  expect_answer("schema response_format", none,
                "{" MSGS ",\"response_format\":{\"type\":\"json_schema\","
                "\"json_schema\":{\"name\":\"inv\",\"schema\":{\"type\":"
                "\"object\",\"properties\":{\"total\":{\"type\":"
                "\"number\"}},\"required\":[\"total\"]}}}}",
                "{\"total\":\"12.50\"}", NULL, "false",
                "schema: /total: expected number");
  expect_answer("schema routing ok", none,
                "{\"body\":{" MSGS "},\"routing\":{\"schema\":{\"type\":"
                "\"array\",\"items\":{\"type\":\"integer\"}}}}",
                "[1,2,3]", NULL, "true", "null");
  expect_answer("schema routing bad", none,
                "{\"body\":{" MSGS "},\"routing\":{\"schema\":{\"type\":"
                "\"array\",\"items\":{\"type\":\"integer\"}}}}",
                "[1,2,\"3\"]", NULL, "false",
                "schema: /2: expected integer");
  expect_answer("schema needs json", none,
                "{\"body\":{" MSGS "},\"routing\":{\"schema\":{}}}",
                "sure: [1]", NULL, "false", NULL);
  expect_answer("expect ok", none,
                "{\"body\":{" MSGS "},\"routing\":{\"expect\":\"Paris\"}}",
                "It is Paris.", NULL, "true", "null");
  expect_answer("expect miss", none,
                "{\"body\":{" MSGS "},\"routing\":{\"expect\":\"Paris\"}}",
                "It is Lyon.", NULL, "false",
                "expect: answer does not contain \"Paris\"");
  expect_answer("expect regex", none,
                "{\"body\":{" MSGS "},\"routing\":{\"expect\":"
                "\"re:\\\\b4[0-9]\\\\b\"}}", "About 42 of them.", NULL,
                "true", "null");
  expect_answer("expect regex miss", none,
                "{\"body\":{" MSGS "},\"routing\":{\"expect\":"
                "\"re:^[0-9]+$\"}}", "42 items", NULL, "false",
                "expect: answer does not match /^[0-9]+$/");
  expect_answer("expect list", none,
                "{\"body\":{" MSGS "},\"routing\":{\"expect\":[\"a\","
                "\"z\"]}}", "abc", NULL, "false",
                "expect: answer does not contain \"z\"");
  expect_answer("check ok", check, "{" MSGS "}", "short", NULL, "true",
                "null");
  expect_answer("check false", check, "{" MSGS "}", "a much longer answer",
                NULL, "false",
                "check: .choices[0].message.content | length < 10 is not "
                "true");
}

/* The invalid-JSON reason names the parse error. */
static void test_json_reason(void)
{
  static const char *const none[] = {NULL};
  struct mock_stage ms;
  struct llmr_job *job;
  char buf[600];
  if(load(&ms, "json reason", none))
    return;
  job = answered(JSON_OBJ, "{\"a\":1,}", NULL);
  mock_process(&ms, job);
  CHECK("json reason: parser's message",
        !strncmp(last(job, "reason", buf, sizeof(buf)), "json: ", 6) &&
        strlen(buf) > 10);
  mock_job_free(job);
  job = answered(JSON_OBJ, "```json\n{\"a\":1}\n```", NULL);
  mock_process(&ms, job);
  CHECK_STR("json reason: fence", last(job, "reason", buf, sizeof(buf)),
            "json: wrapped in a ``` code fence");
  mock_job_free(job);
  mock_stage_unload(&ms);
}

/* No response (the call failed): nothing is recorded. */
static void test_no_response(void)
{
  static const char *const none[] = {NULL};
  struct mock_stage ms;
  struct llmr_job *job;
  jv before;
  if(load(&ms, "no response", none))
    return;
  job = answered("{" MSGS "}", "x", NULL);
  jv_free(job->response);
  job->response = jv_null();
  before = jv_copy(job->route);
  CHECK_INT("no response: NEXT", mock_process(&ms, job), LLMR_NEXT);
  CHECK("no response: route untouched", jv_equal(before, jv_copy(job->route)));
  mock_job_free(job);
  mock_stage_unload(&ms);
}

/* No attempts array: one is created. */
static void test_creates_attempt(void)
{
  static const char *const none[] = {NULL};
  struct mock_stage ms;
  struct llmr_job *job;
  char buf[200];
  if(load(&ms, "creates attempt", none))
    return;
  job = mock_job_new("a1", jv_parse("{" MSGS "}"));
  job->response = completion("", NULL);
  CHECK_INT("creates attempt: NEXT", mock_process(&ms, job), LLMR_NEXT);
  CHECK_STR("creates attempt: one",
            mock_str_at(job->route, "attempts", buf, sizeof(buf)),
            "[{\"model\":null,\"reason\":\"empty: no answer text\","
            "\"valid\":false}]");
  mock_job_free(job);
  mock_stage_unload(&ms);
}

/* A schema in the request that is no schema fails the job. */
static void test_bad_request_schema(void)
{
  static const char *const none[] = {NULL};
  struct mock_stage ms;
  struct llmr_job *job;
  char buf[400];
  if(load(&ms, "bad schema", none))
    return;
  job = answered("{\"body\":{" MSGS "},\"routing\":{\"schema\":{\"type\":"
                 "\"decimal\"}}}", "1", NULL);
  CHECK_INT("bad schema: FAIL", mock_process(&ms, job), LLMR_FAIL);
  CHECK_STR("bad schema: code",
            mock_str_at(job->error, "code", buf, sizeof(buf)),
            "invalid_schema");
  CHECK_STR("bad schema: message",
            mock_str_at(job->error, "message", buf, sizeof(buf)),
            "routing.schema is not a valid schema: #: type must be a type "
            "name or an array of them");
  mock_job_free(job);
  mock_stage_unload(&ms);
}

/* The request checker validate registers (ABI 1.5): the checks the
 * request carries, judged before any answer exists. */
static void test_request_checker(void)
{
  static const char *const none[] = {NULL};
  static const struct {
    const char *name, *routing, *extra, *code, *reason;
  } cases[] = {
    {"sound", "{\"schema\":{\"type\":\"object\"},\"expect\":\"re:^a\"}", "",
     NULL, ""},
    {"no checks", "{}", "", NULL, ""},
    {"bad schema", "{\"schema\":{\"type\":\"decimal\"}}", "",
     "invalid_schema", "routing.schema is not a valid schema: #: type"},
    {"ref loop", "{\"schema\":{\"$ref\":\"#\"}}", "", "invalid_schema",
     "routing.schema is not a valid schema: #: a $ref loop"},
    {"bad pattern after a good one", "{\"expect\":[\"re:a\",\"b\",\"re:(\"]}",
     "", "invalid_schema", "routing.expect: "},
    {"expect not strings", "{\"expect\":[1]}", "", "invalid_schema",
     "routing.expect must be a string or an array of strings"},
    {"response_format schema", "{}",
     ",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":"
     "{\"schema\":{\"required\":\"a\"}}}", "invalid_schema",
     "response_format.json_schema.schema is not a valid schema: #: required"},
  };
  struct mock_stage ms;
  size_t i;
  if(load(&ms, "request checker", none))
    return;
  CHECK("request checker: registered", mock.request_checker != NULL);
  for(i = 0; mock.request_checker && i < sizeof(cases) / sizeof(*cases);
      i++) {
    char req[1024], why[512] = "", name[200];
    struct llmr_job *job;
    const char *code;
    snprintf(req, sizeof(req), "{\"body\":{" MSGS "%s},\"routing\":%s}",
             cases[i].extra, cases[i].routing);
    job = mock_job_new("r1", jv_parse(req));
    code = mock.request_checker(mock.request_checker_self, job, why,
                                sizeof(why));
    snprintf(name, sizeof(name), "request checker: %s: code", cases[i].name);
    CHECK_STR(name, code ? code : "(none)",
              cases[i].code ? cases[i].code : "(none)");
    snprintf(name, sizeof(name), "request checker: %s: reason",
             cases[i].name);
    if(strncmp(why, cases[i].reason, strlen(cases[i].reason)) ||
       (!cases[i].code && why[0]))
      CHECK_STR(name, why, cases[i].reason);
    else
      CHECK(name, 1);
    CHECK("request checker: the job untouched",
          jv_get_kind(job->error) == JV_KIND_NULL ||
          !jv_is_valid(job->error));
    mock_job_free(job);
  }
  mock_stage_unload(&ms);
}

/* The answer checker validate registers (ABI 1.2): the same checks,
 * asked through host->check_answer(), with nothing written to the job. */
static void test_answer_checker(void)
{
  static const char *const none[] = {NULL};
  const struct llmr_host *h = mock_host();
  struct mock_stage ms;
  struct llmr_job *job;
  char why[64];
  jv before, bad, good;
  if(load(&ms, "checker", none))
    return;
  CHECK("checker: registered at init", mock.checker != NULL &&
        mock.checker_self == ms.self);
  job = answered("{\"body\":{" MSGS ",\"response_format\":{\"type\":"
                 "\"json_object\"}}}", "not json", NULL);
  before = jv_copy(job->route);
  bad = jv_copy(job->response);
  good = completion("{\"total\": 3}", NULL);
  CHECK_INT("checker: invalid JSON refused",
            h->check_answer(job, bad, why, sizeof(why)),
            LLMR_ANSWER_INVALID);
  CHECK("checker: reason is validate's",
        !strncmp(why, "json: ", 6));
  CHECK_INT("checker: valid JSON passes",
            h->check_answer(job, good, why, sizeof(why)), LLMR_ANSWER_VALID);
  CHECK_STR("checker: no reason when valid", why, "");
  CHECK_INT("checker: truncated reason stays terminated",
            h->check_answer(job, bad, why, 8), LLMR_ANSWER_INVALID);
  CHECK_INT("checker: truncated to the buffer", (long)strlen(why), 7);
  CHECK("checker: route untouched", jv_equal(jv_copy(before),
                                             jv_copy(job->route)));
  CHECK("checker: response untouched", jv_equal(jv_copy(bad),
                                                jv_copy(job->response)));
  CHECK_INT("checker: no answer is not judged",
            h->check_answer(job, jv_null(), why, sizeof(why)),
            LLMR_ANSWER_UNKNOWN);
  jv_free(before);
  jv_free(bad);
  jv_free(good);
  mock_job_free(job);
  /* a broken request schema: the checker cannot judge; the stage fails
     the job when it gets there (test_bad_request_schema) */
  job = answered("{\"body\":{" MSGS "},\"routing\":{\"schema\":{\"type\":"
                 "\"decimal\"}}}", "1", NULL);
  good = jv_copy(job->response);
  CHECK_INT("checker: bad request schema is unknown",
            h->check_answer(job, good, why, sizeof(why)),
            LLMR_ANSWER_UNKNOWN);
  jv_free(good);
  mock_job_free(job);
  mock_stage_unload(&ms);
  CHECK("checker: gone with the stage", mock.checker == NULL);
}

/* schema= file option, and its errors at init. */
static void test_schema_file(void)
{
  const char *tmp = getenv("TMPDIR");
  char dir[512], path[600], opt[700];
  const char *kv[] = {opt, NULL};
  struct mock_stage ms;
  struct llmr_job *job;
  char buf[600];
  FILE *f;
  snprintf(dir, sizeof(dir), "%s/llmr-validate-XXXXXX",
           tmp && *tmp ? tmp : "/tmp");
  if(!mkdtemp(dir)) {
    CHECK("schema file: temp dir", 0);
    return;
  }
  snprintf(path, sizeof(path), "%s/s.json", dir);
  f = fopen(path, "w");
  if(f) {
    fputs("{\"type\":\"object\",\"required\":[\"id\"]}\n", f);
    fclose(f);
  }
  snprintf(opt, sizeof(opt), "schema=%s", path);
  if(!load(&ms, "schema file", kv)) {
    job = answered("{" MSGS "}", "{\"name\":1}", NULL);
    mock_process(&ms, job);
    CHECK_STR("schema file: reason", last(job, "reason", buf, sizeof(buf)),
              "schema: /: missing required property \"id\"");
    mock_job_free(job);
    mock_stage_unload(&ms);
  }
  f = fopen(path, "w");
  if(f) {
    fputs("{\"minimum\":\"x\"}", f);
    fclose(f);
  }
  CHECK("schema file: bad schema refused",
        mock_stage_load(&ms, STAGE_SO, kv) != 0 &&
        strstr(mock.errbuf, "minimum must be a number"));
  mock_stage_unload(&ms);
  f = fopen(path, "w");
  if(f) { /* a second "type": a mistake, not an override */
    fputs("{\"type\":\"object\",\"required\":[\"id\"],\"type\":\"array\"}", f);
    fclose(f);
  }
  CHECK("schema file: a key given twice refused",
        mock_stage_load(&ms, STAGE_SO, kv) != 0 &&
        strstr(mock.errbuf, "type"));
  if(!strstr(mock.errbuf, "type"))
    printf("  (%s)\n", mock.errbuf);
  mock_stage_unload(&ms);
  f = fopen(path, "w");
  if(f) {
    fputs("{\"type\":\"object\"} {\"type\":\"array\"}", f);
    fclose(f);
  }
  CHECK("schema file: two values refused",
        mock_stage_load(&ms, STAGE_SO, kv) != 0);
  mock_stage_unload(&ms);
  unlink(path);
  snprintf(opt, sizeof(opt), "schema=%s/missing.json", dir);
  CHECK("schema file: missing file refused",
        mock_stage_load(&ms, STAGE_SO, kv) != 0 &&
        strstr(mock.errbuf, "missing.json"));
  mock_stage_unload(&ms);
  rmdir(dir);
}

/* check= whose program fails at run time, and the fixture schema file. */
static void test_check_error_and_fixture(void)
{
  static const char *const kv[] = {
    "check=.choices[0].message.content | tonumber > 1", NULL};
  static const char *const fx[] = {
    "schema=tests/fixtures/schema/invoice.json", NULL};
  struct mock_stage ms;
  struct llmr_job *job;
  char buf[600];
  if(!load(&ms, "check error", kv)) {
    job = answered("{" MSGS "}", "abc", NULL);
    mock_process(&ms, job);
    CHECK("check error: reason",
          !strncmp(last(job, "reason", buf, sizeof(buf)), "check: error: ",
                   14));
    mock_job_free(job);
    mock_stage_unload(&ms);
  }
  if(!load(&ms, "fixture schema", fx)) {
    job = answered("{" MSGS "}", "{\"vendor\":\"A\",\"date\":\"2026-01-02\","
                   "\"currency\":\"EUR\",\"lines\":[{\"description\":"
                   "\"x\",\"qty\":1,\"unit_price\":\"2\"}],\"total\":2}",
                   NULL);
    mock_process(&ms, job);
    CHECK_STR("fixture schema: reason", last(job, "reason", buf,
                                             sizeof(buf)),
              "schema: /lines/0/unit_price: expected number");
    mock_job_free(job);
    mock_stage_unload(&ms);
  }
}

static void test_bad_options(void)
{
  static const char *const bad[][3] = {
    {"json=maybe", NULL, NULL},
    {"check=.choices[", NULL, NULL},
    {"refusal=(", NULL, NULL},
    {"require_tier=2", NULL, NULL},
    {"sample=1.5", NULL, NULL},
  };
  static const char *const want[] = {
    "json=maybe", "check=", "bad regex", "require_tier needs", "sample=1.5"};
  size_t i;
  for(i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    struct mock_stage ms;
    char name[100];
    int rc = mock_stage_load(&ms, STAGE_SO,
                             bad[i]);
    snprintf(name, sizeof(name), "bad option refused: %s", bad[i][0]);
    CHECK(name, rc != 0 && strstr(mock.errbuf, want[i]));
    mock_stage_unload(&ms);
  }
}

/* require_tier: a complex request answered on tier 1 is invalid. */
static void test_require_tier(void)
{
  static const char *const kv[] = {"require_tier=2", "when_complexity=0.7",
                                   NULL};
  struct mock_stage ms;
  struct llmr_job *job;
  char buf[300];
  mock.catalog = jv_parse("{\"models\":{\"cheap-1\":{\"tier\":1},"
                          "\"mid-2\":{\"tier\":2}}}");
  if(load(&ms, "require_tier", kv)) {
    jv_free(mock.catalog);
    mock.catalog = jv_invalid();
    return;
  }
  job = answered("{" MSGS "}", "42", NULL);
  job->route = jv_object_set(job->route, jv_string("complexity"),
                             jv_number(0.9));
  mock_process(&ms, job);
  CHECK_STR("require_tier: complex on tier 1",
            last(job, "reason", buf, sizeof(buf)),
            "tier: complexity 0.90 >= 0.70 needs tier >= 2, got tier 1");
  mock_job_free(job);

  job = answered("{" MSGS "}", "42", NULL);
  job->route = jv_object_set(job->route, jv_string("complexity"),
                             jv_number(0.3));
  mock_process(&ms, job);
  CHECK_STR("require_tier: simple on tier 1",
            last(job, "valid", buf, sizeof(buf)), "true");
  mock_job_free(job);

  job = answered("{" MSGS "}", "42", NULL);
  job->route = jv_object_set(job->route, jv_string("complexity"),
                             jv_number(0.9));
  job->route = jv_object_set(
      job->route, jv_string("attempts"),
      jv_parse("[{\"model\":\"cheap-1\",\"valid\":false},"
               "{\"model\":\"mid-2\"}]"));
  mock_process(&ms, job);
  CHECK_STR("require_tier: complex on tier 2",
            last(job, "valid", buf, sizeof(buf)), "true");
  mock_job_free(job);
  mock_stage_unload(&ms);

  {
    static const char *const kv_re[] = {
      "require_tier=2", "when_pattern=[0-9]+", "when_count=2", NULL};
    if(!load(&ms, "require_tier pattern", kv_re)) {
      job = answered("{\"messages\":[{\"role\":\"user\",\"content\":"
                     "\"What is 17 times 23?\"}]}", "391", NULL);
      mock_process(&ms, job);
      CHECK_STR("require_tier: two numbers on tier 1",
                last(job, "reason", buf, sizeof(buf)),
                "tier: 2 when_pattern matches >= 2 needs tier >= 2, got "
                "tier 1");
      mock_job_free(job);
      job = answered("{\"messages\":[{\"role\":\"user\",\"content\":"
                     "\"What is 17 squared?\"}]}", "289", NULL);
      mock_process(&ms, job);
      CHECK_STR("require_tier: one number on tier 1",
                last(job, "valid", buf, sizeof(buf)), "true");
      mock_job_free(job);
      mock_stage_unload(&ms);
    }
  }
  jv_free(mock.catalog);
  mock.catalog = jv_invalid();
}

/* Sampled review: about the rate, and the same ids on every run. */
static int count_reviews(struct mock_stage *ms, int n, unsigned char *mark)
{
  int i, hits = 0;
  for(i = 0; i < n; i++) {
    struct llmr_job *job;
    char id[32];
    jv r;
    snprintf(id, sizeof(id), "req-%d", i);
    job = answered("{" MSGS "}", "ok", NULL);
    snprintf(job->custom_id, sizeof(job->custom_id), "%s", id);
    mock_process(ms, job);
    r = jv_object_get(jv_copy(job->route), jv_string("review"));
    mark[i] = jv_get_kind(r) == JV_KIND_TRUE;
    hits += mark[i];
    jv_free(r);
    mock_job_free(job);
  }
  return hits;
}

static void test_sampling(void)
{
  static const char *const kv[] = {"sample=0.03", NULL};
  static const char *const off[] = {NULL};
  static unsigned char a[10000], b[10000];
  struct mock_stage ms;
  int hits, again;
  if(load(&ms, "sample", kv))
    return;
  hits = count_reviews(&ms, 10000, a);
  mock_stage_unload(&ms);
  if(load(&ms, "sample again", kv))
    return;
  again = count_reviews(&ms, 10000, b);
  mock_stage_unload(&ms);
  printf("  (sample=0.03: %d of 10000 marked)\n", hits);
  CHECK("sample: within 2%..4%", hits >= 200 && hits <= 400);
  CHECK_INT("sample: same count on a second run", again, hits);
  CHECK("sample: same ids on a second run", !memcmp(a, b, sizeof(a)));
  if(load(&ms, "sample off", off))
    return;
  CHECK_INT("sample: off marks none", count_reviews(&ms, 1000, a), 0);
  mock_stage_unload(&ms);
}

int main(void)
{
  mock.catalog = jv_invalid();
  test_checks();
  test_json_reason();
  test_no_response();
  test_creates_attempt();
  test_bad_request_schema();
  test_request_checker();
  test_answer_checker();
  test_schema_file();
  test_check_error_and_fixture();
  test_bad_options();
  test_require_tier();
  test_sampling();
  return harness_done();
}
