/*
 * test_call_policy.c - the call stage's retry rules (as the official SDKs
 * have them, plus the router's own: no retry on quota 429s), retry-after
 * parsing, back-off, rate-limit resets and token buckets.
 */
#include "harness.h"
#include "../../plugins/call/common.c"
#include "../../plugins/call/openai.c"
#include "../../plugins/call/anthropic.c"
#include "../../plugins/call/gemini.c"
#include "../../plugins/call/replay.c"
#include "../../plugins/call/policy.c"

/* Classify status with the error body text (may be NULL). */
static enum call_failure classify(long status, int sr, const char *body,
                                  const char **code)
{
  struct call_error e;
  jv b = body ? jv_parse(body) : jv_null();
  int has = call_error_parse(b, &e);
  enum call_failure f = call_classify(status, sr, has ? &e : NULL, code);
  jv_free(b);
  return f;
}

static void test_classify(void)
{
  const char *code;
  static const long retry[] = {408, 409, 429, 500, 502, 503, 504, 529};
  for(size_t i = 0; i < sizeof(retry) / sizeof(retry[0]); i++) {
    char name[64];
    snprintf(name, sizeof(name), "retry %ld", retry[i]);
    CHECK(name, classify(retry[i], -1, NULL, &code) == CALL_FAIL_RETRY);
  }
  static const long no[] = {400, 401, 403, 404, 413, 422};
  for(size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
    char name[64];
    snprintf(name, sizeof(name), "no retry %ld", no[i]);
    CHECK(name, classify(no[i], -1, NULL, &code) != CALL_FAIL_RETRY);
  }
  CHECK("400 stops", classify(400, -1, NULL, &code) == CALL_FAIL_STOP);
  CHECK("401 is auth_error and moves on",
        classify(401, -1, NULL, &code) == CALL_FAIL_NEXT &&
        !strcmp(code, "auth_error"));
  CHECK("429 is rate_limited",
        classify(429, -1, NULL, &code) == CALL_FAIL_RETRY &&
        !strcmp(code, "rate_limited"));
  CHECK("insufficient_quota 429 is not retried",
        classify(429, -1, "{\"error\":{\"message\":\"You exceeded your "
                 "current quota\",\"type\":\"insufficient_quota\","
                 "\"param\":null,\"code\":\"insufficient_quota\"}}",
                 &code) == CALL_FAIL_NEXT);
  CHECK("Anthropic spend limit 429 is not retried",
        classify(429, -1, "{\"type\":\"error\",\"error\":{\"type\":"
                 "\"rate_limit_error\",\"message\":\"x\",\"details\":{"
                 "\"error_code\":\"enforced_spend_limit_reached\"}}}",
                 &code) == CALL_FAIL_NEXT);
  CHECK("request too large 429 is not retried",
        classify(429, -1, "{\"error\":{\"message\":\"Request too large for "
                 "gpt-4o\",\"type\":\"tokens\",\"code\":"
                 "\"rate_limit_exceeded\"}}", &code) == CALL_FAIL_NEXT);
  CHECK("context_length_exceeded",
        classify(400, -1, "{\"error\":{\"message\":\"This model's maximum "
                 "context length is 128000 tokens.\",\"type\":"
                 "\"invalid_request_error\",\"param\":\"messages\",\"code\":"
                 "\"context_length_exceeded\"}}", &code) ==
        CALL_FAIL_CONTEXT && !strcmp(code, "context_length_exceeded"));
  CHECK("Anthropic prompt too long",
        classify(400, -1, "{\"type\":\"error\",\"error\":{\"type\":"
                 "\"invalid_request_error\",\"message\":\"prompt is too "
                 "long: 250000 tokens > 200000 maximum\"}}", &code) ==
        CALL_FAIL_CONTEXT);
  CHECK("x-should-retry true wins over 400",
        classify(400, 1, NULL, &code) == CALL_FAIL_RETRY);
  CHECK("x-should-retry false wins over 503",
        classify(503, 0, NULL, &code) != CALL_FAIL_RETRY);
  CHECK("501 not retried", classify(501, -1, NULL, &code) == CALL_FAIL_NEXT);
  CHECK("timeout code for 408",
        classify(408, -1, NULL, &code) == CALL_FAIL_RETRY &&
        !strcmp(code, "timeout"));
  CHECK("curl timeout retried",
        call_classify_curl(CURLE_OPERATION_TIMEDOUT, &code) ==
        CALL_FAIL_RETRY && !strcmp(code, "timeout"));
  CHECK("curl reset retried",
        call_classify_curl(CURLE_RECV_ERROR, &code) == CALL_FAIL_RETRY);
  CHECK("curl truncated retried",
        call_classify_curl(CURLE_PARTIAL_FILE, &code) == CALL_FAIL_RETRY);
  CHECK("curl body cap not retried",
        call_classify_curl(CURLE_WRITE_ERROR, &code) == CALL_FAIL_NEXT);
}

static void test_error_shapes(void)
{
  struct call_error e;
  jv b = jv_parse("{\"object\":\"error\",\"message\":\"m\",\"type\":"
                  "\"BadRequestError\",\"code\":400}");
  CHECK("flat vLLM error", call_error_parse(b, &e) && e.message &&
        !strcmp(e.message, "m") && !e.code);
  jv_free(b);
  b = jv_parse("{\"error\":{\"code\":429,\"message\":\"q\",\"status\":"
               "\"RESOURCE_EXHAUSTED\"}}");
  CHECK("Gemini error", call_error_parse(b, &e) && e.type &&
        !strcmp(e.type, "RESOURCE_EXHAUSTED"));
  jv_free(b);
  b = jv_parse("{\"choices\":[]}");
  CHECK("no error", !call_error_parse(b, &e));
  jv_free(b);
}

static void test_retry_after(void)
{
  double now = 1700000000.0;
  CHECK_DBL("retry-after-ms first", call_retry_after("1500", "9", now), 1.5,
            1e-9);
  CHECK_DBL("retry-after seconds", call_retry_after(NULL, "2", now), 2,
            1e-9);
  CHECK_DBL("retry-after fraction", call_retry_after(NULL, "0.25", now),
            0.25, 1e-9);
  /* 1700000000 = Tue, 14 Nov 2023 22:13:20 GMT */
  CHECK_DBL("retry-after HTTP date",
            call_retry_after(NULL, "Tue, 14 Nov 2023 22:13:30 GMT", now), 10,
            1e-6);
  CHECK_DBL("retry-after date in the past",
            call_retry_after(NULL, "Tue, 14 Nov 2023 22:00:00 GMT", now), 0,
            1e-6);
  CHECK_DBL("retry-after junk", call_retry_after(NULL, "soon", now), -1,
            1e-9);
  CHECK_DBL("retry-after absent", call_retry_after(NULL, NULL, now), -1,
            1e-9);
}

static void test_backoff(void)
{
  CHECK_DBL("backoff 0 max", call_backoff(0, 0), 0.5, 1e-9);
  CHECK_DBL("backoff 0 jitter", call_backoff(0, 0.999), 0.5 * 0.75025,
            1e-6);
  CHECK_DBL("backoff 1", call_backoff(1, 0), 1.0, 1e-9);
  CHECK_DBL("backoff 3", call_backoff(3, 0), 4.0, 1e-9);
  CHECK_DBL("backoff capped at 8", call_backoff(10, 0), 8.0, 1e-9);
  int in_range = 1;
  for(int n = 0; n < 8; n++)
    for(double r = 0; r < 1; r += 0.1) {
      double d = call_backoff(n, r), top = n >= 4 ? 8 : 0.5 * (1 << n);
      if(d > top || d < top * 0.75)
        in_range = 0;
    }
  CHECK("backoff within 75-100% of min(0.5*2^n, 8)", in_range);
}

static void test_reset(void)
{
  double now = 1700000000.0;
  CHECK_DBL("reset 1s", call_reset_seconds("1s", now), 1, 1e-9);
  CHECK_DBL("reset 6m0s", call_reset_seconds("6m0s", now), 360, 1e-9);
  CHECK_DBL("reset 12ms", call_reset_seconds("12ms", now), 0.012, 1e-9);
  CHECK_DBL("reset 2m59.56s", call_reset_seconds("2m59.56s", now), 179.56,
            1e-6);
  CHECK_DBL("reset plain seconds", call_reset_seconds("20", now), 20, 1e-9);
  CHECK_DBL("reset RFC 3339", call_reset_seconds("2023-11-14T22:13:25Z",
                                                 now), 5, 1e-6);
  CHECK_DBL("reset junk", call_reset_seconds("later", now), -1, 1e-9);
}

static void test_bucket(void)
{
  struct call_bucket b;
  call_bucket_init(&b, 60, 100.0); /* one a second, burst 60 */
  CHECK_DBL("bucket full at start", call_bucket_wait(&b, 60, 100.0), 0,
            1e-9);
  call_bucket_take(&b, 60, 100.0);
  CHECK_DBL("bucket empty: wait one second",
            call_bucket_wait(&b, 1, 100.0), 1.0, 1e-9);
  CHECK_DBL("bucket refills", call_bucket_wait(&b, 1, 101.0), 0, 1e-9);
  CHECK_DBL("too big waits for a full bucket",
            call_bucket_wait(&b, 1000, 101.0), 59.0, 1e-9);
  call_bucket_init(&b, 0, 0);
  CHECK_DBL("no limit", call_bucket_wait(&b, 1e9, 0), 0, 1e-9);
}

int main(void)
{
  test_classify();
  test_error_shapes();
  test_retry_after();
  test_backoff();
  test_reset();
  test_bucket();
  return harness_done();
}
