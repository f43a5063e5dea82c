/*
 * gemini.c - the "gemini" provider format: generateContent
 * (POST /v1beta/models/{model}:generateContent, x-goog-api-key).
 * Roles become user/model, system and developer messages become
 * systemInstruction, sampling goes to generationConfig, tools to
 * functionDeclarations.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "call.h"
#include "core/lib/msgtext.h"

#define GEMINI_URL_MAX 2048

/* Returns a malloc'd URL: base + /v1beta/models/MODEL:generateContent. */
static char *gemini_url(const char *base, const char *model)
{
  char path[GEMINI_URL_MAX];
  /* model names are [a-z0-9.-] and may carry a "models/" prefix */
  if(!strncmp(model, "models/", 7))
    model += 7;
  int n = snprintf(path, sizeof(path), "/v1beta/models/%s:generateContent",
                   model);
  if(n < 0 || (size_t)n >= sizeof(path))
    return NULL;
  return call_join_url(base, path);
}

/* Borrows part.  New ref: a Gemini part, or jv_null(). */
static jv part_of(jv part)
{
  const char *type = call_str(part, "type");
  if(!type)
    return jv_null();
  if(!strcmp(type, "text")) {
    const char *t = call_str(part, "text");
    return jv_object_set(jv_object(), jv_string("text"),
                         jv_string(t ? t : ""));
  }
  if(!strcmp(type, "image_url")) {
    jv iu = call_get(part, "image_url");
    const char *url = call_str(iu, "url");
    jv mime, data, out = jv_null();
    if(call_data_uri(url, &mime, &data)) {
      jv d = jv_object();
      d = jv_object_set(d, jv_string("mimeType"), mime);
      d = jv_object_set(d, jv_string("data"), data);
      out = jv_object_set(jv_object(), jv_string("inlineData"), d);
    }
    else if(url) {
      jv d = jv_object_set(jv_object(), jv_string("fileUri"),
                           jv_string(url));
      out = jv_object_set(jv_object(), jv_string("fileData"), d);
    }
    jv_free(iu);
    return out;
  }
  return jv_null();
}

/* Borrows content.  New ref: an array of parts. */
static jv parts_of(jv content)
{
  jv parts = jv_array();
  if(jv_get_kind(content) == JV_KIND_STRING)
    return jv_array_append(parts, jv_object_set(jv_object(),
                                                jv_string("text"),
                                                jv_copy(content)));
  if(jv_get_kind(content) != JV_KIND_ARRAY)
    return parts;
  int n = jv_array_length(jv_copy(content));
  for(int i = 0; i < n; i++) {
    jv p = jv_array_get(jv_copy(content), i);
    jv g = part_of(p);
    if(jv_get_kind(g) == JV_KIND_OBJECT)
      parts = jv_array_append(parts, g);
    else
      jv_free(g);
    jv_free(p);
  }
  return parts;
}

/* Borrows msgs.  The function name of tool call id, or "" (the pointer
 * lives as long as msgs). */
static const char *tool_name(jv msgs, const char *id)
{
  int n = jv_array_length(jv_copy(msgs));
  const char *found = "";
  for(int i = 0; i < n && id; i++) {
    jv m = jv_array_get(jv_copy(msgs), i);
    jv calls = call_get(m, "tool_calls");
    int k = jv_get_kind(calls) == JV_KIND_ARRAY ?
            jv_array_length(jv_copy(calls)) : 0;
    for(int j = 0; j < k; j++) {
      jv c = jv_array_get(jv_copy(calls), j);
      const char *cid = call_str(c, "id");
      if(cid && !strcmp(cid, id)) {
        jv fn = call_get(c, "function");
        const char *name = call_str(fn, "name");
        if(name)
          found = name; /* msgs keeps it alive */
        jv_free(fn);
      }
      jv_free(c);
    }
    jv_free(calls);
    jv_free(m);
  }
  return found;
}

/* Consumes contents, role and parts.  Appends a turn, merging repeats. */
static jv push_turn(jv contents, const char *role, jv parts)
{
  int n = jv_array_length(jv_copy(contents));
  if(n > 0) {
    jv last = jv_array_get(jv_copy(contents), n - 1);
    const char *lr = call_str(last, "role");
    if(lr && !strcmp(lr, role)) {
      jv lp = call_get(last, "parts");
      if(jv_get_kind(lp) != JV_KIND_ARRAY) {
        jv_free(lp);
        lp = jv_array();
      }
      last = jv_object_set(last, jv_string("parts"),
                           jv_array_concat(lp, parts));
      return jv_array_set(contents, n - 1, last);
    }
    jv_free(last);
  }
  jv t = jv_object();
  t = jv_object_set(t, jv_string("role"), jv_string(role));
  t = jv_object_set(t, jv_string("parts"), parts);
  return jv_array_append(contents, t);
}

/* Borrows m, an assistant message.  New ref: its parts. */
static jv assistant_parts(jv m)
{
  jv c = call_get(m, "content");
  jv parts = parts_of(c);
  jv_free(c);
  jv calls = call_get(m, "tool_calls");
  int n = jv_get_kind(calls) == JV_KIND_ARRAY ?
          jv_array_length(jv_copy(calls)) : 0;
  for(int i = 0; i < n; i++) {
    jv tc = jv_array_get(jv_copy(calls), i);
    jv fn = call_get(tc, "function");
    const char *name = call_str(fn, "name");
    const char *args = call_str(fn, "arguments");
    jv a = args ? jv_parse(args) : jv_object();
    if(jv_get_kind(a) != JV_KIND_OBJECT) {
      jv_free(a);
      a = jv_object();
    }
    jv f = jv_object();
    f = jv_object_set(f, jv_string("name"), jv_string(name ? name : ""));
    f = jv_object_set(f, jv_string("args"), a);
    parts = jv_array_append(parts, jv_object_set(jv_object(),
                                                 jv_string("functionCall"),
                                                 f));
    jv_free(fn);
    jv_free(tc);
  }
  jv_free(calls);
  return parts;
}

/* Borrows body.  New ref: generationConfig (maybe empty). */
static jv generation_config(jv body)
{
  jv g = jv_object();
  double t = call_num(body, "temperature", -1);
  if(t >= 0)
    g = jv_object_set(g, jv_string("temperature"), jv_number(t));
  double p = call_num(body, "top_p", -1);
  if(p >= 0)
    g = jv_object_set(g, jv_string("topP"), jv_number(p));
  long cap = call_max_tokens(body, -1);
  if(cap >= 0)
    g = jv_object_set(g, jv_string("maxOutputTokens"),
                      jv_number((double)cap));
  double n = call_num(body, "n", -1);
  if(n > 1)
    g = jv_object_set(g, jv_string("candidateCount"), jv_number(n));
  double seed = call_num(body, "seed", -1);
  if(seed >= 0)
    g = jv_object_set(g, jv_string("seed"), jv_number(seed));
  jv stop = call_get(body, "stop");
  if(jv_get_kind(stop) == JV_KIND_STRING)
    g = jv_object_set(g, jv_string("stopSequences"),
                      jv_array_append(jv_array(), stop));
  else if(jv_get_kind(stop) == JV_KIND_ARRAY)
    g = jv_object_set(g, jv_string("stopSequences"), stop);
  else
    jv_free(stop);
  jv rf = call_get(body, "response_format");
  const char *rt = call_str(rf, "type");
  if(rt && (!strcmp(rt, "json_object") || !strcmp(rt, "json_schema"))) {
    g = jv_object_set(g, jv_string("responseMimeType"),
                      jv_string("application/json"));
    jv js = call_get(rf, "json_schema");
    jv schema = call_get(js, "schema");
    if(jv_get_kind(schema) == JV_KIND_OBJECT)
      g = jv_object_set(g, jv_string("responseJsonSchema"), schema);
    else
      jv_free(schema);
    jv_free(js);
  }
  jv_free(rf);
  return g;
}

/* Borrows body.  Sets tools and toolConfig on out (consumed). */
static jv add_tools(jv out, jv body)
{
  jv tools = call_get(body, "tools");
  int n = jv_get_kind(tools) == JV_KIND_ARRAY ?
          jv_array_length(jv_copy(tools)) : 0;
  jv decls = jv_array();
  for(int i = 0; i < n; i++) {
    jv t = jv_array_get(jv_copy(tools), i);
    jv fn = call_get(t, "function");
    const char *name = call_str(fn, "name");
    if(name) {
      jv d = jv_object_set(jv_object(), jv_string("name"), jv_string(name));
      const char *desc = call_str(fn, "description");
      if(desc)
        d = jv_object_set(d, jv_string("description"), jv_string(desc));
      jv p = call_get(fn, "parameters");
      if(jv_get_kind(p) == JV_KIND_OBJECT)
        d = jv_object_set(d, jv_string("parametersJsonSchema"), p);
      else
        jv_free(p);
      decls = jv_array_append(decls, d);
    }
    jv_free(fn);
    jv_free(t);
  }
  jv_free(tools);
  if(jv_array_length(jv_copy(decls)) == 0) {
    jv_free(decls);
    return out;
  }
  out = jv_object_set(out, jv_string("tools"),
                      jv_array_append(jv_array(),
                                      jv_object_set(jv_object(),
                                        jv_string("functionDeclarations"),
                                        decls)));
  jv tc = call_get(body, "tool_choice");
  jv fcc = jv_null();
  if(jv_get_kind(tc) == JV_KIND_STRING) {
    const char *s = jv_string_value(tc);
    const char *mode = !strcmp(s, "required") ? "ANY" :
                       !strcmp(s, "none") ? "NONE" : "AUTO";
    fcc = jv_object_set(jv_object(), jv_string("mode"), jv_string(mode));
  }
  else if(jv_get_kind(tc) == JV_KIND_OBJECT) {
    jv fn = call_get(tc, "function");
    const char *name = call_str(fn, "name");
    if(name) {
      fcc = jv_object_set(jv_object(), jv_string("mode"), jv_string("ANY"));
      fcc = jv_object_set(fcc, jv_string("allowedFunctionNames"),
                          jv_array_append(jv_array(), jv_string(name)));
    }
    jv_free(fn);
  }
  jv_free(tc);
  if(jv_get_kind(fcc) == JV_KIND_OBJECT)
    out = jv_object_set(out, jv_string("toolConfig"),
                        jv_object_set(jv_object(),
                                      jv_string("functionCallingConfig"),
                                      fcc));
  else
    jv_free(fcc);
  return out;
}

/* Borrows body.  New ref: the generateContent request. */
static jv gemini_request(jv body, const char *model, unsigned flags)
{
  (void)model;
  (void)flags;
  jv in = call_get(body, "messages");
  if(jv_get_kind(in) != JV_KIND_ARRAY) {
    jv_free(in);
    return jv_invalid_with_msg(jv_string("request has no messages"));
  }
  jv sys = jv_array(), contents = jv_array();
  int n = jv_array_length(jv_copy(in));
  for(int i = 0; i < n; i++) {
    jv m = jv_array_get(jv_copy(in), i);
    const char *role = call_str(m, "role");
    jv c = call_get(m, "content");
    if(!role)
      role = "user";
    if(!strcmp(role, "system") || !strcmp(role, "developer"))
      sys = jv_array_concat(sys, parts_of(c));
    else if(!strcmp(role, "assistant"))
      contents = push_turn(contents, "model", assistant_parts(m));
    else if(!strcmp(role, "tool")) {
      jv t = mt_content_text(c);
      if(jv_get_kind(t) != JV_KIND_STRING) {
        jv_free(t);
        t = jv_string("");
      }
      jv fr = jv_object();
      fr = jv_object_set(fr, jv_string("name"),
                         jv_string(tool_name(in, call_str(m,
                                                          "tool_call_id"))));
      fr = jv_object_set(fr, jv_string("response"),
                         jv_object_set(jv_object(), jv_string("content"), t));
      contents = push_turn(contents, "user",
                           jv_array_append(jv_array(),
                             jv_object_set(jv_object(),
                                           jv_string("functionResponse"),
                                           fr)));
    }
    else
      contents = push_turn(contents, "user", parts_of(c));
    jv_free(c);
    jv_free(m);
  }
  jv_free(in);
  jv out = jv_object();
  if(jv_array_length(jv_copy(sys)) > 0)
    out = jv_object_set(out, jv_string("systemInstruction"),
                        jv_object_set(jv_object(), jv_string("parts"), sys));
  else
    jv_free(sys);
  out = jv_object_set(out, jv_string("contents"), contents);
  jv g = generation_config(body);
  if(jv_object_length(jv_copy(g)) > 0)
    out = jv_object_set(out, jv_string("generationConfig"), g);
  else
    jv_free(g);
  return add_tools(out, body);
}

/* Returns the new header list head. */
static struct curl_slist *gemini_headers(struct curl_slist *h,
                                         const char *key)
{
  h = curl_slist_append(h, "Content-Type: application/json");
  h = curl_slist_append(h, "Accept: application/json");
  if(key && *key) {
    size_t n = strlen(key) + 20;
    char *line = malloc(n);
    if(line) {
      snprintf(line, n, "x-goog-api-key: %s", key);
      h = curl_slist_append(h, line);
      memset(line, 0, n);
      free(line);
    }
  }
  return h;
}

/* The chat.completion finish reason for a Gemini finishReason. */
static const char *gemini_finish(const char *f, int tools)
{
  if(!f)
    return tools ? "tool_calls" : "stop";
  if(!strcmp(f, "MAX_TOKENS"))
    return "length";
  if(!strcmp(f, "SAFETY") || !strcmp(f, "RECITATION") ||
     !strcmp(f, "BLOCKLIST") || !strcmp(f, "PROHIBITED_CONTENT") ||
     !strcmp(f, "SPII") || !strcmp(f, "IMAGE_SAFETY") ||
     !strcmp(f, "LANGUAGE"))
    return "content_filter";
  return tools ? "tool_calls" : "stop";
}

/* Borrows cand.  New ref: the choice for candidate number i. */
static jv choice_of(jv cand, int i)
{
  jv content = call_get(cand, "content");
  jv parts = call_get(content, "parts");
  jv text = jv_null(), calls = jv_array();
  int n = jv_get_kind(parts) == JV_KIND_ARRAY ?
          jv_array_length(jv_copy(parts)) : 0;
  for(int k = 0; k < n; k++) {
    jv p = jv_array_get(jv_copy(parts), k);
    jv thought = call_get(p, "thought");
    const char *t = call_str(p, "text");
    jv fc = call_get(p, "functionCall");
    if(t && jv_get_kind(thought) != JV_KIND_TRUE) {
      if(jv_get_kind(text) == JV_KIND_STRING)
        text = jv_string_append_str(text, t);
      else
        text = jv_string(t);
    }
    else if(jv_get_kind(fc) == JV_KIND_OBJECT) {
      const char *name = call_str(fc, "name");
      const char *id = call_str(fc, "id");
      jv args = call_get(fc, "args");
      if(jv_get_kind(args) != JV_KIND_OBJECT) {
        jv_free(args);
        args = jv_object();
      }
      jv f = jv_object();
      f = jv_object_set(f, jv_string("name"), jv_string(name ? name : ""));
      f = jv_object_set(f, jv_string("arguments"), jv_dump_string(args, 0));
      jv c = jv_object();
      c = jv_object_set(c, jv_string("id"),
                        id ? jv_string(id) :
                             jv_string_fmt("call_%d_%d", i, k));
      c = jv_object_set(c, jv_string("type"), jv_string("function"));
      c = jv_object_set(c, jv_string("function"), f);
      calls = jv_array_append(calls, c);
    }
    jv_free(fc);
    jv_free(thought);
    jv_free(p);
  }
  jv_free(parts);
  jv_free(content);
  int tools = jv_array_length(jv_copy(calls)) > 0;
  jv msg = jv_object();
  msg = jv_object_set(msg, jv_string("role"), jv_string("assistant"));
  msg = jv_object_set(msg, jv_string("content"), text);
  msg = jv_object_set(msg, jv_string("refusal"), jv_null());
  if(tools)
    msg = jv_object_set(msg, jv_string("tool_calls"), calls);
  else
    jv_free(calls);
  jv ch = jv_object();
  ch = jv_object_set(ch, jv_string("index"),
                     jv_number(call_num(cand, "index", i)));
  ch = jv_object_set(ch, jv_string("message"), msg);
  ch = jv_object_set(ch, jv_string("logprobs"), jv_null());
  ch = jv_object_set(ch, jv_string("finish_reason"),
                     jv_string(gemini_finish(call_str(cand, "finishReason"),
                                             tools)));
  return ch;
}

/* Consumes answer.  New ref: the chat.completion, or invalid. */
static jv gemini_response(jv answer, const char *model, struct call_usage *u)
{
  memset(u, 0, sizeof(*u));
  if(jv_get_kind(answer) != JV_KIND_OBJECT) {
    jv_free(answer);
    return jv_invalid_with_msg(jv_string("answer is not a JSON object"));
  }
  jv cands = call_get(answer, "candidates");
  jv pf = call_get(answer, "promptFeedback");
  int nc = jv_get_kind(cands) == JV_KIND_ARRAY ?
           jv_array_length(jv_copy(cands)) : 0;
  int blocked = call_str(pf, "blockReason") != NULL;
  jv_free(pf);
  if(nc == 0 && !blocked) {
    jv_free(cands);
    jv_free(answer);
    return jv_invalid_with_msg(jv_string("answer has no candidates"));
  }
  const char *mv = call_str(answer, "modelVersion");
  jv out = call_completion(call_get(answer, "responseId"), mv ? mv : model);
  jv choices = jv_array();
  for(int i = 0; i < nc; i++) {
    jv c = jv_array_get(jv_copy(cands), i);
    choices = jv_array_append(choices, choice_of(c, i));
    jv_free(c);
  }
  if(nc == 0) { /* the prompt itself was blocked */
    jv msg = jv_object();
    msg = jv_object_set(msg, jv_string("role"), jv_string("assistant"));
    msg = jv_object_set(msg, jv_string("content"), jv_null());
    msg = jv_object_set(msg, jv_string("refusal"), jv_string("blocked"));
    jv ch = jv_object();
    ch = jv_object_set(ch, jv_string("index"), jv_number(0));
    ch = jv_object_set(ch, jv_string("message"), msg);
    ch = jv_object_set(ch, jv_string("logprobs"), jv_null());
    ch = jv_object_set(ch, jv_string("finish_reason"),
                       jv_string("content_filter"));
    choices = jv_array_append(choices, ch);
  }
  jv_free(cands);
  out = jv_object_set(out, jv_string("choices"), choices);
  jv um = call_get(answer, "usageMetadata");
  u->input = call_usage_count(u, um, "promptTokenCount");
  u->cached = call_usage_count(u, um, "cachedContentTokenCount");
  u->output = call_usage_count(u, um, "candidatesTokenCount");
  u->output += call_usage_count(u, um, "thoughtsTokenCount");
  if(u->cached > u->input)
    u->cached = u->input;
  jv_free(um);
  out = call_set_usage(out, u);
  jv_free(answer);
  return out;
}

const struct call_format call_gemini = {
  "gemini", gemini_url, gemini_request, gemini_headers, gemini_response
};
