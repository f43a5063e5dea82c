/*
 * anthropic.c - the "anthropic" provider format: the Messages API
 * (POST /v1/messages, x-api-key, anthropic-version 2023-06-01).
 * System and developer messages move to "system", max_tokens is always
 * sent, tool calls and results become tool_use / tool_result blocks,
 * response_format json_schema becomes output_config.format.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "call.h"
#include "core/lib/msgtext.h"

#define ANTHROPIC_DEFAULT_MAX_TOKENS 4096

/* Returns a malloc'd URL: base + /v1/messages. */
static char *anthropic_url(const char *base, const char *model)
{
  (void)model;
  return call_join_url(base, "/v1/messages");
}

/* Borrows part (an OpenAI content part).  New ref: the block, or
 * jv_null() when the part has no Anthropic equivalent. */
static jv content_block(jv part)
{
  const char *type = call_str(part, "type");
  if(!type)
    return jv_null();
  if(!strcmp(type, "text")) {
    const char *t = call_str(part, "text");
    jv b = jv_object();
    b = jv_object_set(b, jv_string("type"), jv_string("text"));
    return jv_object_set(b, jv_string("text"), jv_string(t ? t : ""));
  }
  if(!strcmp(type, "image_url")) {
    jv iu = call_get(part, "image_url");
    const char *url = call_str(iu, "url");
    if(!url)
      url = call_str(part, "image_url");
    jv src = jv_object(), mime, data;
    if(call_data_uri(url, &mime, &data)) {
      src = jv_object_set(src, jv_string("type"), jv_string("base64"));
      src = jv_object_set(src, jv_string("media_type"), mime);
      src = jv_object_set(src, jv_string("data"), data);
    }
    else if(url) {
      src = jv_object_set(src, jv_string("type"), jv_string("url"));
      src = jv_object_set(src, jv_string("url"), jv_string(url));
    }
    else {
      jv_free(src);
      jv_free(iu);
      return jv_null();
    }
    jv_free(iu);
    jv b = jv_object();
    b = jv_object_set(b, jv_string("type"), jv_string("image"));
    return jv_object_set(b, jv_string("source"), src);
  }
  return jv_null();
}

/* Borrows content.  New ref: Anthropic content (string or blocks). */
static jv content_of(jv content)
{
  if(jv_get_kind(content) == JV_KIND_STRING)
    return jv_copy(content);
  jv blocks = jv_array();
  if(jv_get_kind(content) == JV_KIND_ARRAY) {
    int n = jv_array_length(jv_copy(content));
    for(int i = 0; i < n; i++) {
      jv part = jv_array_get(jv_copy(content), i);
      jv b = content_block(part);
      if(jv_get_kind(b) == JV_KIND_OBJECT)
        blocks = jv_array_append(blocks, b);
      else
        jv_free(b);
      jv_free(part);
    }
  }
  return blocks;
}

/* Consumes content.  New ref: content as an array of blocks. */
static jv as_blocks(jv content)
{
  if(jv_get_kind(content) == JV_KIND_ARRAY)
    return content;
  jv blocks = jv_array();
  if(jv_get_kind(content) == JV_KIND_STRING &&
     jv_string_length_bytes(jv_copy(content)) > 0) {
    jv b = jv_object();
    b = jv_object_set(b, jv_string("type"), jv_string("text"));
    b = jv_object_set(b, jv_string("text"), content);
    return jv_array_append(blocks, b);
  }
  jv_free(content);
  return blocks;
}

/* Consumes msgs, role and content.  Appends a message, merging it into
 * the previous one when the role repeats (the API wants alternation). */
static jv push_message(jv msgs, jv role, jv content)
{
  int n = jv_array_length(jv_copy(msgs));
  if(n > 0) {
    jv last = jv_array_get(jv_copy(msgs), n - 1);
    jv lrole = call_get(last, "role");
    if(jv_equal(jv_copy(lrole), jv_copy(role))) {
      jv merged = jv_array_concat(as_blocks(call_get(last, "content")),
                                  as_blocks(content));
      last = jv_object_set(last, jv_string("content"), merged);
      jv_free(lrole);
      jv_free(role);
      return jv_array_set(msgs, n - 1, last);
    }
    jv_free(lrole);
    jv_free(last);
  }
  jv m = jv_object();
  m = jv_object_set(m, jv_string("role"), role);
  m = jv_object_set(m, jv_string("content"), content);
  return jv_array_append(msgs, m);
}

/* Borrows m (an assistant message with tool_calls).  New ref: blocks. */
static jv assistant_blocks(jv m)
{
  jv c0 = call_get(m, "content");
  jv blocks = as_blocks(content_of(c0));
  jv_free(c0);
  jv calls = call_get(m, "tool_calls");
  int n = jv_get_kind(calls) == JV_KIND_ARRAY ?
          jv_array_length(jv_copy(calls)) : 0;
  for(int i = 0; i < n; i++) {
    jv c = jv_array_get(jv_copy(calls), i);
    jv fn = call_get(c, "function");
    const char *args = call_str(fn, "arguments");
    jv input = args ? jv_parse(args) : jv_object();
    if(jv_get_kind(input) != JV_KIND_OBJECT) {
      jv_free(input);
      input = jv_object();
    }
    const char *id = call_str(c, "id"), *name = call_str(fn, "name");
    jv b = jv_object();
    b = jv_object_set(b, jv_string("type"), jv_string("tool_use"));
    b = jv_object_set(b, jv_string("id"), jv_string(id ? id : "call"));
    b = jv_object_set(b, jv_string("name"), jv_string(name ? name : ""));
    b = jv_object_set(b, jv_string("input"), input);
    blocks = jv_array_append(blocks, b);
    jv_free(fn);
    jv_free(c);
  }
  jv_free(calls);
  return blocks;
}

/* Borrows body.  New ref: the Anthropic tools array, or jv_null(). */
static jv tools_of(jv body)
{
  jv tools = call_get(body, "tools");
  if(jv_get_kind(tools) != JV_KIND_ARRAY) {
    jv_free(tools);
    return jv_null();
  }
  jv out = jv_array();
  int n = jv_array_length(jv_copy(tools));
  for(int i = 0; i < n; i++) {
    jv t = jv_array_get(jv_copy(tools), i);
    jv fn = call_get(t, "function");
    const char *name = call_str(fn, "name");
    if(name) {
      jv o = jv_object();
      o = jv_object_set(o, jv_string("name"), jv_string(name));
      const char *d = call_str(fn, "description");
      if(d)
        o = jv_object_set(o, jv_string("description"), jv_string(d));
      jv p = call_get(fn, "parameters");
      if(jv_get_kind(p) != JV_KIND_OBJECT) {
        jv_free(p);
        p = jv_parse("{\"type\":\"object\",\"properties\":{}}");
      }
      o = jv_object_set(o, jv_string("input_schema"), p);
      out = jv_array_append(out, o);
    }
    jv_free(fn);
    jv_free(t);
  }
  jv_free(tools);
  return out;
}

/* Borrows body.  New ref: tool_choice, or jv_null(). */
static jv tool_choice_of(jv body)
{
  jv tc = call_get(body, "tool_choice");
  jv out = jv_null();
  if(jv_get_kind(tc) == JV_KIND_STRING) {
    const char *s = jv_string_value(tc);
    const char *t = !strcmp(s, "required") ? "any" :
                    !strcmp(s, "none") ? "none" : "auto";
    out = jv_object_set(jv_object(), jv_string("type"), jv_string(t));
  }
  else if(jv_get_kind(tc) == JV_KIND_OBJECT) {
    jv fn = call_get(tc, "function");
    const char *name = call_str(fn, "name");
    if(name) {
      out = jv_object_set(jv_object(), jv_string("type"), jv_string("tool"));
      out = jv_object_set(out, jv_string("name"), jv_string(name));
    }
    jv_free(fn);
  }
  jv_free(tc);
  jv ptc = call_get(body, "parallel_tool_calls");
  if(jv_get_kind(ptc) == JV_KIND_FALSE) {
    if(jv_get_kind(out) != JV_KIND_OBJECT)
      out = jv_object_set(jv_object(), jv_string("type"), jv_string("auto"));
    out = jv_object_set(out, jv_string("disable_parallel_tool_use"),
                        jv_true());
  }
  jv_free(ptc);
  return out;
}

/* Borrows body.  New ref: the Messages request for model. */
static jv anthropic_request(jv body, const char *model, unsigned flags)
{
  (void)flags;
  jv in = call_get(body, "messages");
  if(jv_get_kind(in) != JV_KIND_ARRAY) {
    jv_free(in);
    return jv_invalid_with_msg(jv_string("request has no messages"));
  }
  jv system = jv_null(), msgs = jv_array();
  int n = jv_array_length(jv_copy(in));
  for(int i = 0; i < n; i++) {
    jv m = jv_array_get(jv_copy(in), i);
    const char *role = call_str(m, "role");
    if(!role)
      role = "user";
    if(!strcmp(role, "system") || !strcmp(role, "developer")) {
      jv c = call_get(m, "content");
      jv t = mt_content_text(c);
      jv_free(c);
      jv_free(m);
      m = jv_null();
      if(jv_get_kind(t) != JV_KIND_STRING) {
        jv_free(t);
        continue;
      }
      if(jv_get_kind(system) == JV_KIND_STRING)
        system = jv_string_concat(jv_string_append_str(system, "\n\n"), t);
      else {
        jv_free(system);
        system = t;
      }
      continue;
    }
    if(!strcmp(role, "tool")) {
      const char *id = call_str(m, "tool_call_id");
      jv b = jv_object();
      b = jv_object_set(b, jv_string("type"), jv_string("tool_result"));
      b = jv_object_set(b, jv_string("tool_use_id"),
                        jv_string(id ? id : ""));
      jv c = call_get(m, "content");
      jv t = mt_content_text(c);
      jv_free(c);
      if(jv_get_kind(t) != JV_KIND_STRING) {
        jv_free(t);
        t = jv_string("");
      }
      b = jv_object_set(b, jv_string("content"), t);
      msgs = push_message(msgs, jv_string("user"),
                          jv_array_append(jv_array(), b));
    }
    else if(!strcmp(role, "assistant")) {
      jv tc = call_get(m, "tool_calls"), c = call_get(m, "content");
      jv content = jv_get_kind(tc) == JV_KIND_ARRAY ?
                   assistant_blocks(m) : content_of(c);
      jv_free(tc);
      jv_free(c);
      msgs = push_message(msgs, jv_string("assistant"), content);
    }
    else {
      jv c = call_get(m, "content");
      msgs = push_message(msgs, jv_string("user"), content_of(c));
      jv_free(c);
    }
    jv_free(m);
  }
  jv_free(in);

  jv out = jv_object();
  out = jv_object_set(out, jv_string("model"), jv_string(model));
  out = jv_object_set(out, jv_string("max_tokens"),
                      jv_number((double)call_max_tokens(
                          body, ANTHROPIC_DEFAULT_MAX_TOKENS)));
  if(jv_get_kind(system) == JV_KIND_STRING)
    out = jv_object_set(out, jv_string("system"), system);
  else
    jv_free(system);
  out = jv_object_set(out, jv_string("messages"), msgs);

  double t = call_num(body, "temperature", -1);
  if(t >= 0) /* OpenAI 0..2, Anthropic 0..1 */
    out = jv_object_set(out, jv_string("temperature"),
                        jv_number(t > 1 ? 1 : t));
  double p = call_num(body, "top_p", -1);
  if(p >= 0)
    out = jv_object_set(out, jv_string("top_p"), jv_number(p));
  jv stop = call_get(body, "stop");
  if(jv_get_kind(stop) == JV_KIND_STRING)
    out = jv_object_set(out, jv_string("stop_sequences"),
                        jv_array_append(jv_array(), stop));
  else if(jv_get_kind(stop) == JV_KIND_ARRAY)
    out = jv_object_set(out, jv_string("stop_sequences"), stop);
  else
    jv_free(stop);

  jv tools = tools_of(body);
  if(jv_get_kind(tools) == JV_KIND_ARRAY &&
     jv_array_length(jv_copy(tools)) > 0) {
    out = jv_object_set(out, jv_string("tools"), tools);
    jv tc = tool_choice_of(body);
    if(jv_get_kind(tc) == JV_KIND_OBJECT)
      out = jv_object_set(out, jv_string("tool_choice"), tc);
    else
      jv_free(tc);
  }
  else
    jv_free(tools);

  jv rf = call_get(body, "response_format");
  if(!strcmp(call_str(rf, "type") ? call_str(rf, "type") : "",
             "json_schema")) {
    jv js = call_get(rf, "json_schema");
    jv schema = call_get(js, "schema");
    if(jv_get_kind(schema) == JV_KIND_OBJECT) {
      jv fmt = jv_object();
      fmt = jv_object_set(fmt, jv_string("type"), jv_string("json_schema"));
      fmt = jv_object_set(fmt, jv_string("schema"), schema);
      out = jv_object_set(out, jv_string("output_config"),
                          jv_object_set(jv_object(), jv_string("format"),
                                        fmt));
    }
    else
      jv_free(schema);
    jv_free(js);
  }
  jv_free(rf);
  jv user = call_get(body, "user");
  if(jv_get_kind(user) == JV_KIND_STRING)
    out = jv_object_set(out, jv_string("metadata"),
                        jv_object_set(jv_object(), jv_string("user_id"),
                                      user));
  else
    jv_free(user);
  return out;
}

/* Returns the new header list head. */
static struct curl_slist *anthropic_headers(struct curl_slist *h,
                                            const char *key)
{
  h = curl_slist_append(h, "Content-Type: application/json");
  h = curl_slist_append(h, "Accept: application/json");
  h = curl_slist_append(h, "anthropic-version: 2023-06-01");
  if(key && *key) {
    size_t n = strlen(key) + 16;
    char *line = malloc(n);
    if(line) {
      snprintf(line, n, "x-api-key: %s", key);
      h = curl_slist_append(h, line);
      memset(line, 0, n);
      free(line);
    }
  }
  return h;
}

/* The chat.completion finish reason for an Anthropic stop_reason. */
static const char *anthropic_finish(const char *s)
{
  if(!s)
    return "stop";
  if(!strcmp(s, "max_tokens") || !strcmp(s, "model_context_window_exceeded"))
    return "length";
  if(!strcmp(s, "tool_use"))
    return "tool_calls";
  if(!strcmp(s, "refusal"))
    return "content_filter";
  return "stop"; /* end_turn, stop_sequence, pause_turn */
}

/* Consumes answer.  New ref: the chat.completion, or invalid. */
static jv anthropic_response(jv answer, const char *model,
                             struct call_usage *u)
{
  memset(u, 0, sizeof(*u));
  jv content = call_get(answer, "content");
  const char *type = call_str(answer, "type");
  if(jv_get_kind(content) != JV_KIND_ARRAY ||
     (type && strcmp(type, "message"))) {
    jv_free(content);
    jv_free(answer);
    return jv_invalid_with_msg(jv_string("answer is not a message"));
  }
  jv text = jv_null(), calls = jv_array();
  int n = jv_array_length(jv_copy(content));
  for(int i = 0; i < n; i++) {
    jv b = jv_array_get(jv_copy(content), i);
    const char *bt = call_str(b, "type");
    if(bt && !strcmp(bt, "text") && call_str(b, "text")) {
      if(jv_get_kind(text) == JV_KIND_STRING)
        text = jv_string_append_str(text, call_str(b, "text"));
      else
        text = jv_string(call_str(b, "text"));
    }
    else if(bt && !strcmp(bt, "tool_use")) {
      const char *id = call_str(b, "id"), *name = call_str(b, "name");
      jv input = call_get(b, "input");
      jv fn = jv_object();
      fn = jv_object_set(fn, jv_string("name"), jv_string(name ? name : ""));
      fn = jv_object_set(fn, jv_string("arguments"),
                         jv_dump_string(input, 0));
      jv c = jv_object();
      c = jv_object_set(c, jv_string("id"), jv_string(id ? id : "call"));
      c = jv_object_set(c, jv_string("type"), jv_string("function"));
      c = jv_object_set(c, jv_string("function"), fn);
      calls = jv_array_append(calls, c);
    }
    jv_free(b);
  }
  jv_free(content);

  const char *m = call_str(answer, "model");
  jv out = call_completion(call_get(answer, "id"), m ? m : model);
  const char *stop = call_str(answer, "stop_reason");
  jv msg = jv_object();
  msg = jv_object_set(msg, jv_string("role"), jv_string("assistant"));
  msg = jv_object_set(msg, jv_string("content"), text);
  int refused = stop && !strcmp(stop, "refusal");
  msg = jv_object_set(msg, jv_string("refusal"),
                      refused ? jv_string("refused") : jv_null());
  if(jv_array_length(jv_copy(calls)) > 0)
    msg = jv_object_set(msg, jv_string("tool_calls"), calls);
  else
    jv_free(calls);
  jv choice = jv_object();
  choice = jv_object_set(choice, jv_string("index"), jv_number(0));
  choice = jv_object_set(choice, jv_string("message"), msg);
  choice = jv_object_set(choice, jv_string("logprobs"), jv_null());
  choice = jv_object_set(choice, jv_string("finish_reason"),
                         jv_string(anthropic_finish(stop)));
  out = jv_object_set(out, jv_string("choices"),
                      jv_array_append(jv_array(), choice));

  /* input_tokens excludes the cache; the router's input includes it */
  jv us = call_get(answer, "usage");
  long in = call_usage_count(u, us, "input_tokens");
  u->cached = call_usage_count(u, us, "cache_read_input_tokens");
  u->cache_write = call_usage_count(u, us, "cache_creation_input_tokens");
  u->input = in + u->cached + u->cache_write;
  u->output = call_usage_count(u, us, "output_tokens");
  jv_free(us);
  out = call_set_usage(out, u);
  jv_free(answer);
  return out;
}

const struct call_format call_anthropic = {
  "anthropic", anthropic_url, anthropic_request, anthropic_headers,
  anthropic_response
};
