/*
 * body.c - the answers of mockprov in each provider's own shape: error
 * bodies, chat answers with usage, tool calls, and the response headers
 * (rate limits, retry hints).  shape.c decides what to answer; this file
 * only writes it.  Also the small jv helpers both use.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mockprov.h"

/* ---------------------------------------------------------------------
 * Small jv helpers: never assert on input.
 */

/* Borrows obj.  New ref, or jv_null() when absent or obj no object. */
jv mock_get(jv obj, const char *key)
{
  jv v;
  if(jv_get_kind(obj) != JV_KIND_OBJECT)
    return jv_null();
  v = jv_object_get(jv_copy(obj), jv_string(key));
  if(jv_get_kind(v) == JV_KIND_INVALID) {
    jv_free(v);
    return jv_null();
  }
  return v;
}

/* Borrows obj.  The number at key, or def; clamped to +-2^53 (a
   directive's 1e308 must not overflow the conversion to long, nor the
   sums of counts built from it). */
long mock_get_long(jv obj, const char *key, long def)
{
  jv v = mock_get(obj, key);
  long r = def;
  if(jv_get_kind(v) == JV_KIND_NUMBER) {
    double d = jv_number_value(v);
    if(d != d)
      r = def;
    else if(d > MOCK_NUM_MAX)
      r = (long)MOCK_NUM_MAX;
    else if(d < -MOCK_NUM_MAX)
      r = -(long)MOCK_NUM_MAX;
    else
      r = (long)d;
  }
  jv_free(v);
  return r;
}

/* Borrows obj.  1 when key is true, a non-zero number or "true". */
int mock_get_flag(jv obj, const char *key)
{
  jv v = mock_get(obj, key);
  int r = 0;
  if(jv_get_kind(v) == JV_KIND_TRUE)
    r = 1;
  else if(jv_get_kind(v) == JV_KIND_NUMBER)
    r = jv_number_value(v) != 0;
  else if(jv_get_kind(v) == JV_KIND_STRING)
    r = !strcmp(jv_string_value(v), "true");
  jv_free(v);
  return r;
}

/* Borrows obj.  New ref: the string at key, or jv_null(). */
jv mock_get_string(jv obj, const char *key)
{
  jv v = mock_get(obj, key);
  if(jv_get_kind(v) == JV_KIND_STRING)
    return v;
  jv_free(v);
  return jv_null();
}

/* Borrows v.  New ref: v as header text (strings as they are, numbers
   and booleans in JSON), or jv_null() for anything else. */
static jv header_text(jv v)
{
  switch(jv_get_kind(v)) {
  case JV_KIND_STRING:
    return jv_copy(v);
  case JV_KIND_NUMBER:
  case JV_KIND_TRUE:
  case JV_KIND_FALSE:
    return jv_dump_string(jv_copy(v), 0);
  default:
    return jv_null();
  }
}

/* Borrows a, b.  1 when the string jv a equals C string b. */
int mock_streq(jv a, const char *b)
{
  return jv_get_kind(a) == JV_KIND_STRING && !strcmp(jv_string_value(a), b);
}

/* ---------------------------------------------------------------------
 * Error bodies, each provider in its own shape.
 */

/* Default OpenAI error type for a status.  Static string. */
static const char *openai_type(int status)
{
  if(status == 429)
    return "requests";
  if(status >= 500)
    return "server_error";
  return "invalid_request_error";
}

/* Default OpenAI error code for a status, or NULL.  Static string. */
static const char *openai_code(int status)
{
  switch(status) {
  case 401:
    return "invalid_api_key";
  case 404:
    return "model_not_found";
  case 429:
    return "rate_limit_exceeded";
  default:
    return NULL;
  }
}

/* Default Anthropic error type for a status.  Static string. */
static const char *anthropic_type(int status)
{
  switch(status) {
  case 401:
    return "authentication_error";
  case 402:
    return "billing_error";
  case 403:
    return "permission_error";
  case 404:
    return "not_found_error";
  case 413:
    return "request_too_large";
  case 429:
    return "rate_limit_error";
  case 504:
    return "timeout_error";
  case 529:
    return "overloaded_error";
  default:
    return status >= 500 ? "api_error" : "invalid_request_error";
  }
}

/* Default Gemini error status for an HTTP status.  Static string. */
static const char *gemini_status(int status)
{
  switch(status) {
  case 400:
    return "INVALID_ARGUMENT";
  case 401:
    return "UNAUTHENTICATED";
  case 403:
    return "PERMISSION_DENIED";
  case 404:
    return "NOT_FOUND";
  case 429:
    return "RESOURCE_EXHAUSTED";
  case 503:
    return "UNAVAILABLE";
  case 504:
    return "DEADLINE_EXCEEDED";
  default:
    return status >= 500 ? "INTERNAL" : "FAILED_PRECONDITION";
  }
}

/* Borrows code.  New ref: the message a provider gives for code, status
   and a prompt of p tokens in format f, or null. */
static jv known_message(enum mock_format f, jv code, int status, long p)
{
  if(mock_streq(code, "context_length_exceeded")) {
    if(f == FMT_ANTHROPIC)
      return jv_string_fmt("prompt is too long: %ld tokens > 200000 "
                           "maximum", p + 200000);
    if(f == FMT_GEMINI)
      return jv_string_fmt("The input token count (%ld) exceeds the "
                           "maximum number of tokens allowed (1048576).",
                           p + 1048576);
    return jv_string_fmt("This model's maximum context length is 128000 "
                         "tokens. However, your messages resulted in %ld "
                         "tokens. Please reduce the length of the "
                         "messages.", p + 128000);
  }
  if(mock_streq(code, "insufficient_quota"))
    return jv_string("You exceeded your current quota, please check your "
                     "plan and billing details.");
  if(status == 529)
    return jv_string("Overloaded");
  if(status == 429)
    return jv_string("Rate limit reached (mockprov). Please try again "
                     "later.");
  return jv_null();
}

/* Borrows d.  New ref: the error body of format f for status; d may
   carry error_type, error_code, message, param.  n: request number; p:
   prompt tokens (for context-length messages). */
jv mock_error_body(enum mock_format f, int status, jv d, long n, long p)
{
  jv type = mock_get_string(d, "error_type");
  jv code = mock_get_string(d, "error_code");
  jv msg = mock_get_string(d, "message");
  jv param = mock_get(d, "param");
  jv body;

  if(jv_get_kind(msg) == JV_KIND_NULL) {
    jv_free(msg);
    msg = known_message(f, code, status, p);
  }
  if(jv_get_kind(msg) == JV_KIND_NULL) {
    jv_free(msg);
    msg = jv_string_fmt("mockprov: scripted error %d", status);
  }
  if(f == FMT_ANTHROPIC) {
    jv err;
    if(jv_get_kind(type) == JV_KIND_NULL) {
      jv_free(type);
      type = jv_string(anthropic_type(status));
    }
    err = JV_OBJECT(jv_string("type"), type, jv_string("message"), msg);
    if(jv_get_kind(code) == JV_KIND_STRING)
      err = jv_object_set(err, jv_string("details"),
                          JV_OBJECT(jv_string("error_code"), code));
    else
      jv_free(code);
    body = JV_OBJECT(jv_string("type"), jv_string("error"),
                     jv_string("error"), err,
                     jv_string("request_id"),
                     jv_string_fmt("req_mock_%ld", n));
    jv_free(param);
    return body;
  }
  if(f == FMT_GEMINI) {
    if(jv_get_kind(type) == JV_KIND_NULL) {
      jv_free(type);
      type = jv_string(gemini_status(status));
    }
    body = JV_OBJECT(jv_string("error"),
                     JV_OBJECT(jv_string("code"), jv_number(status),
                               jv_string("message"), msg,
                               jv_string("status"), type));
    jv_free(code);
    jv_free(param);
    return body;
  }
  /* OpenAI, and any unknown endpoint */
  if(jv_get_kind(code) == JV_KIND_NULL && openai_code(status)) {
    jv_free(code);
    code = jv_string(openai_code(status));
  }
  if(jv_get_kind(type) == JV_KIND_NULL) {
    jv_free(type);
    type = mock_streq(code, "insufficient_quota") ?
           jv_string("insufficient_quota") : jv_string(openai_type(status));
  }
  if(jv_get_kind(param) == JV_KIND_NULL &&
     mock_streq(code, "context_length_exceeded")) {
    jv_free(param);
    param = jv_string("messages");
  }
  return JV_OBJECT(jv_string("error"),
                   JV_OBJECT(jv_string("message"), msg,
                             jv_string("type"), type,
                             jv_string("param"), param,
                             jv_string("code"), code));
}

/* ---------------------------------------------------------------------
 * Success bodies.
 */

/* Borrows reason.  The stop reason of format f for the OpenAI-named
   finish reason (stop, length, content_filter, tool_calls); any other
   name is passed through.  Static or borrowed string. */
static const char *map_finish(enum mock_format f, const char *reason)
{
  static const char *const names[][3] = {
    /* openai        anthropic        gemini */
    { "stop",           "end_turn",   "STOP" },
    { "length",         "max_tokens", "MAX_TOKENS" },
    { "content_filter", "refusal",    "SAFETY" },
    { "tool_calls",     "tool_use",   "STOP" },
  };
  size_t i;
  for(i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    if(!strcmp(reason, names[i][0]))
      return names[i][f == FMT_ANTHROPIC ? 1 : f == FMT_GEMINI ? 2 : 0];
  }
  return reason;
}

/* Consumes answer, model.  New ref: the success body of format f. */
jv mock_success_body(enum mock_format f, jv model, jv answer,
                       const char *finish, const struct mock_usage *u, long n)
{
  long out = u->completion + u->reasoning;
  if(f == FMT_ANTHROPIC) {
    long in = u->prompt - u->cached - u->cache_write;
    return JV_OBJECT(
      jv_string("id"), jv_string_fmt("msg_mock_%ld", n),
      jv_string("type"), jv_string("message"),
      jv_string("role"), jv_string("assistant"),
      jv_string("model"), model,
      jv_string("content"), JV_ARRAY(JV_OBJECT(
        jv_string("type"), jv_string("text"),
        jv_string("text"), answer)),
      jv_string("stop_reason"), jv_string(map_finish(f, finish)),
      jv_string("stop_sequence"), jv_null(),
      jv_string("usage"), JV_OBJECT(
        jv_string("input_tokens"), jv_number(in > 0 ? in : 0),
        jv_string("output_tokens"), jv_number(out),
        jv_string("cache_read_input_tokens"), jv_number(u->cached),
        jv_string("cache_creation_input_tokens"),
        jv_number(u->cache_write)));
  }
  if(f == FMT_GEMINI) {
    jv meta = JV_OBJECT(
      jv_string("promptTokenCount"), jv_number(u->prompt),
      jv_string("candidatesTokenCount"), jv_number(u->completion),
      jv_string("totalTokenCount"), jv_number(u->prompt + out),
      jv_string("cachedContentTokenCount"), jv_number(u->cached));
    if(u->reasoning)
      meta = jv_object_set(meta, jv_string("thoughtsTokenCount"),
                           jv_number(u->reasoning));
    return JV_OBJECT(
      jv_string("candidates"), JV_ARRAY(JV_OBJECT(
        jv_string("content"), JV_OBJECT(
          jv_string("role"), jv_string("model"),
          jv_string("parts"), JV_ARRAY(JV_OBJECT(
            jv_string("text"), answer))),
        jv_string("finishReason"), jv_string(map_finish(f, finish)),
        jv_string("index"), jv_number(0))),
      jv_string("usageMetadata"), meta,
      jv_string("modelVersion"), model,
      jv_string("responseId"), jv_string_fmt("mock-%ld", n));
  }
  return JV_OBJECT(
    jv_string("id"), jv_string_fmt("chatcmpl-mock-%ld", n),
    jv_string("object"), jv_string("chat.completion"),
    jv_string("created"), jv_number((double)time(NULL)),
    jv_string("model"), model,
    jv_string("choices"), JV_ARRAY(JV_OBJECT(
      jv_string("index"), jv_number(0),
      jv_string("message"), JV_OBJECT(
        jv_string("role"), jv_string("assistant"),
        jv_string("content"), answer,
        jv_string("refusal"), jv_null()),
      jv_string("logprobs"), jv_null(),
      jv_string("finish_reason"), jv_string(map_finish(f, finish)))),
    jv_string("usage"), JV_OBJECT(
      jv_string("prompt_tokens"), jv_number(u->prompt),
      jv_string("completion_tokens"), jv_number(out),
      jv_string("total_tokens"), jv_number(u->prompt + out),
      jv_string("prompt_tokens_details"), JV_OBJECT(
        jv_string("cached_tokens"), jv_number(u->cached)),
      jv_string("completion_tokens_details"), JV_OBJECT(
        jv_string("reasoning_tokens"), jv_number(u->reasoning))));
}

/* Borrows call.  New ref: a tool call's arguments as a JSON text (a
   string is kept verbatim, so it may be invalid JSON on purpose). */
static jv tool_args_text(jv call)
{
  jv a = mock_get(call, "arguments");
  if(jv_get_kind(a) == JV_KIND_STRING)
    return a;
  if(jv_get_kind(a) == JV_KIND_NULL) {
    jv_free(a);
    return jv_string("{}");
  }
  return jv_dump_string(a, 0);
}

/* Borrows call.  New ref: a tool call's arguments as an object (a string
   that is no JSON object becomes {"_raw": string}). */
static jv tool_args_object(jv call)
{
  jv a = mock_get(call, "arguments");
  if(jv_get_kind(a) == JV_KIND_STRING) {
    jv p = jv_parse(jv_string_value(a));
    if(jv_get_kind(p) == JV_KIND_OBJECT) {
      jv_free(a);
      return p;
    }
    jv_free(p);
    return JV_OBJECT(jv_string("_raw"), a);
  }
  if(jv_get_kind(a) == JV_KIND_OBJECT)
    return a;
  jv_free(a);
  return jv_object();
}

/* Consumes body; borrows calls (array of {"name","arguments"}).  New ref:
   body with the tool calls in format f's shape; with_text: keep the text
   answer beside them (else OpenAI content is null and the Anthropic and
   Gemini text parts are dropped). */
jv mock_add_tool_calls(enum mock_format f, jv body, jv calls,
                         int with_text, long n)
{
  jv list = with_text ? jv_null() : jv_array();
  jv path;
  if(f == FMT_ANTHROPIC)
    path = JV_ARRAY(jv_string("content"));
  else if(f == FMT_GEMINI)
    path = JV_ARRAY(jv_string("candidates"), jv_number(0),
                    jv_string("content"), jv_string("parts"));
  else
    path = JV_ARRAY(jv_string("choices"), jv_number(0),
                    jv_string("message"), jv_string("tool_calls"));
  if(f == FMT_OPENAI || with_text) {
    jv_free(list);
    list = f == FMT_OPENAI ? jv_array() : jv_getpath(jv_copy(body),
                                                     jv_copy(path));
  }
  jv_array_foreach(calls, i, call) {
    jv name = mock_get_string(call, "name");
    if(jv_get_kind(name) != JV_KIND_STRING) {
      jv_free(name);
      name = jv_string("mock_tool");
    }
    if(f == FMT_ANTHROPIC)
      list = jv_array_append(list, JV_OBJECT(
        jv_string("type"), jv_string("tool_use"),
        jv_string("id"), jv_string_fmt("toolu_mock_%ld_%d", n, i),
        jv_string("name"), name,
        jv_string("input"), tool_args_object(call)));
    else if(f == FMT_GEMINI)
      list = jv_array_append(list, JV_OBJECT(
        jv_string("functionCall"), JV_OBJECT(
          jv_string("name"), name,
          jv_string("args"), tool_args_object(call))));
    else
      list = jv_array_append(list, JV_OBJECT(
        jv_string("id"), jv_string_fmt("call_mock_%ld_%d", n, i),
        jv_string("type"), jv_string("function"),
        jv_string("function"), JV_OBJECT(
          jv_string("name"), name,
          jv_string("arguments"), tool_args_text(call))));
    jv_free(call);
  }
  body = jv_setpath(body, path, list);
  if(f == FMT_OPENAI && !with_text)
    body = jv_setpath(body, JV_ARRAY(jv_string("choices"), jv_number(0),
                                     jv_string("message"),
                                     jv_string("content")), jv_null());
  return body;
}

/* ---------------------------------------------------------------------
 * Headers.
 */

/* Borrows v.  New ref: a reset value for format f: strings as given,
   a number of seconds as "Ns" (OpenAI) or an RFC 3339 time (Anthropic). */
static jv reset_value(enum mock_format f, jv v, double def_s)
{
  double s = def_s;
  char buf[64];
  time_t t;
  struct tm tm;
  if(jv_get_kind(v) == JV_KIND_STRING)
    return jv_copy(v);
  if(jv_get_kind(v) == JV_KIND_NUMBER)
    s = jv_number_value(v);
  if(f == FMT_OPENAI)
    return s < 1 ? jv_string_fmt("%ldms", (long)(s * 1000 + 0.5)) :
           jv_string_fmt("%gs", s);
  t = time(NULL) + (time_t)(s + 0.999);
  gmtime_r(&t, &tm);
  strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return jv_string(buf);
}

/* Consumes h; borrows d.  The rate-limit headers of format f, from the
   directive's "ratelimit" object or the defaults. */
jv mock_ratelimit_headers(jv h, enum mock_format f, jv d, long p)
{
  jv rl = mock_get(d, "ratelimit");
  long lr = mock_get_long(rl, "limit_requests", 10000);
  long rr = mock_get_long(rl, "remaining_requests", lr - 1);
  long lt = mock_get_long(rl, "limit_tokens", 10000000);
  long rt = mock_get_long(rl, "remaining_tokens", lt - p);
  jv resr = mock_get(rl, "reset_requests");
  jv rest = mock_get(rl, "reset_tokens");
  if(f == FMT_OPENAI) {
    h = jv_object_set(h, jv_string("x-ratelimit-limit-requests"),
                      jv_string_fmt("%ld", lr));
    h = jv_object_set(h, jv_string("x-ratelimit-remaining-requests"),
                      jv_string_fmt("%ld", rr));
    h = jv_object_set(h, jv_string("x-ratelimit-reset-requests"),
                      reset_value(f, resr, 0.006));
    h = jv_object_set(h, jv_string("x-ratelimit-limit-tokens"),
                      jv_string_fmt("%ld", lt));
    h = jv_object_set(h, jv_string("x-ratelimit-remaining-tokens"),
                      jv_string_fmt("%ld", rt));
    h = jv_object_set(h, jv_string("x-ratelimit-reset-tokens"),
                      reset_value(f, rest, 0.006));
  }
  else if(f == FMT_ANTHROPIC) {
    static const char *const kinds[] = { "tokens", "input-tokens",
                                         "output-tokens" };
    size_t i;
    h = jv_object_set(h, jv_string("anthropic-ratelimit-requests-limit"),
                      jv_string_fmt("%ld", lr));
    h = jv_object_set(h,
                      jv_string("anthropic-ratelimit-requests-remaining"),
                      jv_string_fmt("%ld", rr));
    h = jv_object_set(h, jv_string("anthropic-ratelimit-requests-reset"),
                      reset_value(f, resr, 1));
    for(i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
      h = jv_object_set(h, jv_string_fmt("anthropic-ratelimit-%s-limit",
                                         kinds[i]),
                        jv_string_fmt("%ld", lt));
      h = jv_object_set(h,
                        jv_string_fmt("anthropic-ratelimit-%s-remaining",
                                      kinds[i]),
                        jv_string_fmt("%ld", rt));
      h = jv_object_set(h, jv_string_fmt("anthropic-ratelimit-%s-reset",
                                         kinds[i]),
                        reset_value(f, rest, 1));
    }
  }
  jv_free(resr);
  jv_free(rest);
  jv_free(rl);
  return h;
}

/* Consumes h; borrows d.  Adds retry-after, retry-after-ms,
   x-should-retry and the directive's "headers" object. */
jv mock_scripted_headers(jv h, jv d)
{
  static const char *const keys[][2] = {
    { "retry_after", "retry-after" },
    { "retry_after_ms", "retry-after-ms" },
    { "x_should_retry", "x-should-retry" },
  };
  size_t i;
  jv extra;
  for(i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
    jv v = mock_get(d, keys[i][0]);
    jv t = header_text(v);
    if(jv_get_kind(t) == JV_KIND_STRING)
      h = jv_object_set(h, jv_string(keys[i][1]), t);
    else
      jv_free(t);
    jv_free(v);
  }
  extra = mock_get(d, "headers");
  if(jv_get_kind(extra) == JV_KIND_OBJECT) {
    jv_object_foreach(extra, k, v) {
      jv t = header_text(v);
      if(jv_get_kind(t) == JV_KIND_STRING)
        h = jv_object_set(h, k, t);
      else {
        jv_free(k);
        jv_free(t);
      }
      jv_free(v);
    }
  }
  jv_free(extra);
  return h;
}
