/*
 * answer.h - the body of the three provider-answer harnesses
 * (fuzz_answer_openai.c, fuzz_answer_anthropic.c, fuzz_answer_gemini.c):
 * what the call stage does with a provider's answer body (call.c,
 * read_answer): json_parse, the error shapes (policy.c:
 * call_error_parse, call_classify), then the format's answer parser,
 * which normalises it to a chat.completion.  The plugin's files are
 * included as the unit tests include them; nothing reaches the network.
 *
 * A harness defines FUZZ_FORMAT (call_openai, ...) and includes this.
 * An answer the parser takes is a chat.completion: object
 * "chat.completion", string id and model, a non-empty choices array of
 * objects with a message of role "assistant" and a known finish_reason,
 * and usage counts that are whole, non-negative and add up.
 */
#include <math.h>

#include "core.h"
#include "fuzz.h"
#include "../../plugins/call/common.c"
#include "../../plugins/call/policy.c"
#include "../../plugins/call/openai.c"
#include "../../plugins/call/anthropic.c"
#include "../../plugins/call/gemini.c"
#include "../../plugins/call/replay.c"

static const char *const finishes[] = {
  "stop", "length", "tool_calls", "content_filter", "function_call", NULL
};

static void check_completion(jv c, const struct call_usage *u)
{
  jv v, choices, us;
  int i, n;

  FUZZ_CHECK(jv_get_kind(c) == JV_KIND_OBJECT);
  v = call_get(c, "object");
  FUZZ_CHECK(jv_get_kind(v) == JV_KIND_STRING &&
             !strcmp(jv_string_value(v), "chat.completion"));
  jv_free(v);
  FUZZ_CHECK(call_str(c, "id") && call_str(c, "model"));
  choices = call_get(c, "choices");
  FUZZ_CHECK(jv_get_kind(choices) == JV_KIND_ARRAY);
  n = jv_array_length(jv_copy(choices));
  FUZZ_CHECK(n > 0);
  for(i = 0; i < n; i++) {
    jv ch = jv_array_get(jv_copy(choices), i), msg;
    const char *f = call_str(ch, "finish_reason");
    int k;

    FUZZ_CHECK(jv_get_kind(ch) == JV_KIND_OBJECT && f);
    for(k = 0; finishes[k] && strcmp(finishes[k], f); k++)
      ;
    FUZZ_CHECK(finishes[k] != NULL);
    msg = call_get(ch, "message");
    FUZZ_CHECK(jv_get_kind(msg) == JV_KIND_OBJECT);
    FUZZ_CHECK(call_str(msg, "role") &&
               !strcmp(call_str(msg, "role"), "assistant"));
    jv_free(msg);
    jv_free(ch);
  }
  jv_free(choices);
  FUZZ_CHECK(u->input >= 0 && u->output >= 0 && u->cached >= 0 &&
             u->cache_write >= 0);
  FUZZ_CHECK(u->cached <= u->input);
  us = call_get(c, "usage");
  FUZZ_CHECK(jv_get_kind(us) == JV_KIND_OBJECT);
  FUZZ_CHECK(call_num(us, "prompt_tokens", -1) == (double)u->input);
  FUZZ_CHECK(call_num(us, "completion_tokens", -1) == (double)u->output);
  FUZZ_CHECK(call_num(us, "total_tokens", -1) ==
             (double)(u->input + u->output));
  jv_free(us);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  srand(1);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  jv a = json_parse((const char *)data, size), c;
  struct call_error e;
  struct call_usage u;
  const char *code = NULL;
  static const long statuses[] = {400, 401, 408, 413, 422, 429, 500, 503};
  size_t i;

  if(!jv_is_valid(a)) {
    jv_free(a);
    return 0;
  }
  /* an error body, as it would be read under any status */
  if(call_error_parse(a, &e))
    for(i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
      enum call_failure k = call_classify(statuses[i], -1, &e, &code);
      FUZZ_CHECK(k != CALL_FAIL_NONE && code != NULL);
    }
  /* a 2xx answer */
  memset(&u, 0x5a, sizeof(u));
  c = FUZZ_FORMAT.response(a, "fuzz-model", &u);
  if(jv_is_valid(c))
    check_completion(c, &u);
  else {
    jv msg = jv_invalid_get_msg(jv_copy(c));
    FUZZ_CHECK(jv_get_kind(msg) == JV_KIND_STRING);
    jv_free(msg);
  }
  jv_free(c);
  return 0;
}
