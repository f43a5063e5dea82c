/*
 * openai.c - the "openai" provider format: Chat Completions, spoken by
 * OpenAI and every compatible server (vLLM, llama.cpp, Ollama, Groq,
 * Together, DeepSeek, OpenRouter).  The canonical body already is this
 * format, so the request is mostly passed through; the answer is checked
 * and completed so every field llmroute(1), RESULT LINES requires is present.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "call.h"
#include "core/lib/msgtext.h"

/* Returns a malloc'd URL: base + /chat/completions. */
static char *openai_url(const char *base, const char *model)
{
  (void)model;
  return call_join_url(base, "/chat/completions");
}

/* Borrows body.  New ref: the body to send to model. */
static jv openai_request(jv body, const char *model, unsigned flags)
{
  if(jv_get_kind(body) != JV_KIND_OBJECT)
    return jv_invalid_with_msg(jv_string("request body is not an object"));
  jv out = jv_copy(body);
  out = jv_object_set(out, jv_string("model"), jv_string(model));
  /* no streaming: one JSON answer per request */
  out = jv_object_delete(out, jv_string("stream"));
  out = jv_object_delete(out, jv_string("stream_options"));
  long cap = call_max_tokens(body, -1);
  if(cap >= 0) {
    /* OpenAI wants max_completion_tokens (o-series refuse max_tokens);
     * local servers (Ollama, llama.cpp) only read max_tokens */
    out = jv_object_delete(out, jv_string("max_tokens"));
    out = jv_object_delete(out, jv_string("max_completion_tokens"));
    out = jv_object_set(out, jv_string((flags & CALL_F_MAX_TOKENS) ?
                                       "max_tokens" :
                                       "max_completion_tokens"),
                        jv_number((double)cap));
  }
  return out;
}

/* Returns the new header list head. */
static struct curl_slist *openai_headers(struct curl_slist *h,
                                         const char *key)
{
  h = curl_slist_append(h, "Content-Type: application/json");
  h = curl_slist_append(h, "Accept: application/json");
  if(key && *key) {
    size_t n = strlen(key) + 32;
    char *line = malloc(n);
    if(line) {
      snprintf(line, n, "Authorization: Bearer %s", key);
      h = curl_slist_append(h, line);
      memset(line, 0, n);
      free(line);
    }
  }
  return h;
}

/* Borrows m.  New ref: a message with role, content and refusal. */
static jv normalise_message(jv m)
{
  jv out = jv_get_kind(m) == JV_KIND_OBJECT ? jv_copy(m) : jv_object();
  out = jv_object_set(out, jv_string("role"), jv_string("assistant"));
  jv content = call_get(m, "content");
  if(jv_get_kind(content) != JV_KIND_STRING &&
     jv_get_kind(content) != JV_KIND_NULL) {
    jv text = mt_content_text(content);
    jv_free(content);
    content = text;
  }
  out = jv_object_set(out, jv_string("content"), content);
  jv refusal = call_get(m, "refusal");
  if(jv_get_kind(refusal) != JV_KIND_STRING) {
    jv_free(refusal);
    refusal = jv_null();
  }
  out = jv_object_set(out, jv_string("refusal"), refusal);
  /* non-standard reasoning fields (vLLM, llama.cpp, DeepSeek) stay: the
   * schema allows extra properties and users may want them */
  return out;
}

/* Borrows v.  The finish reason, mapped into the schema's enum. */
static const char *finish_of(jv choice, jv message)
{
  const char *f = call_str(choice, "finish_reason");
  jv tc = call_get(message, "tool_calls");
  int tools = jv_get_kind(tc) == JV_KIND_ARRAY &&
              jv_array_length(jv_copy(tc)) > 0;
  jv_free(tc);
  if(!f)
    return tools ? "tool_calls" : "stop";
  if(!strcmp(f, "stop") || !strcmp(f, "length") ||
     !strcmp(f, "tool_calls") || !strcmp(f, "content_filter") ||
     !strcmp(f, "function_call"))
    return f;
  if(!strcmp(f, "max_tokens"))
    return "length";
  return tools ? "tool_calls" : "stop";
}

/* Consumes answer.  New ref: the chat.completion, or invalid. */
static jv openai_response(jv answer, const char *model, struct call_usage *u)
{
  memset(u, 0, sizeof(*u));
  if(jv_get_kind(answer) != JV_KIND_OBJECT) {
    jv_free(answer);
    return jv_invalid_with_msg(jv_string("answer is not a JSON object"));
  }
  jv choices = call_get(answer, "choices");
  if(jv_get_kind(choices) != JV_KIND_ARRAY ||
     jv_array_length(jv_copy(choices)) == 0) {
    jv_free(choices);
    jv_free(answer);
    return jv_invalid_with_msg(jv_string("answer has no choices"));
  }
  jv out = jv_copy(answer);
  const char *m = call_str(answer, "model");
  jv shell = call_completion(call_get(answer, "id"), m ? m : model);
  /* required fields: take the answer's when well-typed, else the shell's */
  const char *req[] = {"id", "object", "created", "model", NULL};
  for(int i = 0; req[i]; i++) {
    jv v = call_get(answer, req[i]);
    int ok = (i == 2) ? jv_get_kind(v) == JV_KIND_NUMBER :
                        jv_get_kind(v) == JV_KIND_STRING;
    if(i == 1)
      ok = 0; /* always "chat.completion" */
    jv_free(v);
    if(!ok)
      out = jv_object_set(out, jv_string(req[i]), call_get(shell, req[i]));
  }
  jv_free(shell);
  jv nc = jv_array();
  int n = jv_array_length(jv_copy(choices));
  for(int i = 0; i < n; i++) {
    jv c = jv_array_get(jv_copy(choices), i);
    jv m0 = call_get(c, "message");
    jv msg = normalise_message(m0);
    jv_free(m0);
    jv oc = jv_get_kind(c) == JV_KIND_OBJECT ? jv_copy(c) : jv_object();
    double idx = call_num(c, "index", i);
    oc = jv_object_set(oc, jv_string("index"), jv_number(idx));
    oc = jv_object_set(oc, jv_string("finish_reason"),
                       jv_string(finish_of(c, msg)));
    jv lp = call_get(c, "logprobs");
    if(jv_get_kind(lp) != JV_KIND_OBJECT) {
      jv_free(lp);
      lp = jv_null();
    }
    oc = jv_object_set(oc, jv_string("logprobs"), lp);
    oc = jv_object_set(oc, jv_string("message"), msg);
    nc = jv_array_append(nc, oc);
    jv_free(c);
  }
  jv_free(choices);
  out = jv_object_set(out, jv_string("choices"), nc);

  jv us = call_get(answer, "usage");
  u->input = call_usage_count(u, us, "prompt_tokens");
  u->output = call_usage_count(u, us, "completion_tokens");
  jv det = call_get(us, "prompt_tokens_details");
  u->cached = call_usage_count(u, det, "cached_tokens");
  jv_free(det);
  if(!u->cached) /* DeepSeek reports its cache this way */
    u->cached = call_usage_count(u, us, "prompt_cache_hit_tokens");
  if(u->cached > u->input)
    u->cached = u->input;
  if(jv_get_kind(us) == JV_KIND_OBJECT) {
    /* keep the provider's details (checked), fill the required counts */
    us = call_usage_clean(u, us);
    us = jv_object_set(us, jv_string("prompt_tokens"),
                       jv_number((double)u->input));
    us = jv_object_set(us, jv_string("completion_tokens"),
                       jv_number((double)u->output));
    us = jv_object_set(us, jv_string("total_tokens"),
                       jv_number((double)(u->input + u->output)));
    out = jv_object_set(out, jv_string("usage"), us);
  }
  else {
    jv_free(us);
    out = call_set_usage(out, u);
  }
  jv_free(answer);
  return out;
}

const struct call_format call_openai = {
  "openai", openai_url, openai_request, openai_headers, openai_response
};
