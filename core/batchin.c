/*
 * batchin.c - the providers' batch input lines (llmroute(1), INPUT
 * LINES): an Anthropic Message Batches request
 * {"custom_id","params":{...}} becomes the chat-completion body every
 * stage reads, and an OpenAI Batch line's "url" is checked against what
 * llmroute serves.  A field with no chat-completion equivalent is refused
 * by name, never dropped: an answer to a request that lost its
 * top_k or its thinking budget would not be the answer asked for.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

#define SERVED "/v1/chat/completions"

/* What failed, as "code: message" in an invalid jv (request_normalise's
 * convention).  Consumes nothing. */
static jv refuse(const char *fmt, const char *a, const char *b)
{
  char msg[400];

  snprintf(msg, sizeof(msg), fmt, a ? a : "", b ? b : "");
  return jv_invalid_with_msg(jv_string(msg));
}

static const char *str_of(jv v)
{
  return jv_get_kind(v) == JV_KIND_STRING ? jv_string_value(v) : NULL;
}

/* ---------------------------------------------------------------------
 * OpenAI Batch lines: "url" and "method"
 */
jv batch_check_endpoint(jv in)
{
  /* on every line: the shared keys, no key string made per lookup */
  jv url = cget(in, CK_URL), method = cget(in, CK_METHOD);
  jv r = jv_true();
  const char *u = str_of(url), *m = str_of(method);

  if(jv_is_valid(url) && jv_get_kind(url) != JV_KIND_NULL && !u)
    r = refuse("invalid_request: \"url\" must be a string (%s%s)", SERVED,
               NULL);
  else if(u && strcmp(u, SERVED))
    r = refuse("unsupported_endpoint: \"%.200s\" is not served: llmroute "
               "serves only %s", u, SERVED);
  else if(jv_is_valid(method) && jv_get_kind(method) != JV_KIND_NULL &&
          (!m || strcmp(m, "POST")))
    r = refuse("invalid_request: \"method\" must be \"POST\"%s%s", NULL,
               NULL);
  jv_free(url);
  jv_free(method);
  return r;
}

/* ---------------------------------------------------------------------
 * Anthropic Message Batches: params -> chat-completion body
 */
struct conv {
  char where[96]; /* the path of the value being read, for messages */
};

/* An image block's source (borrowed) as an image_url part, or the
 * refusal. */
static jv image_part(jv src, const char *where)
{
  jv t = json_get(src, "type"), url;
  const char *ty = str_of(t);

  if(ty && !strcmp(ty, "base64")) {
    jv mt = json_get(src, "media_type"), data = json_get(src, "data");

    if(jv_get_kind(mt) != JV_KIND_STRING ||
       jv_get_kind(data) != JV_KIND_STRING) {
      jv_free(mt);
      jv_free(data);
      url = refuse("invalid_request: %s.source: a base64 image needs "
                   "\"media_type\" and \"data\" strings%s", where, NULL);
    }
    else {
      url = jv_string_fmt("data:%s;base64,", jv_string_value(mt));
      url = jv_string_concat(url, data);
      jv_free(mt);
    }
  }
  else if(ty && !strcmp(ty, "url")) {
    url = json_get(src, "url");
    if(jv_get_kind(url) != JV_KIND_STRING) {
      jv_free(url);
      url = refuse("invalid_request: %s.source: a url image needs a "
                   "\"url\" string%s", where, NULL);
    }
  }
  else
    url = refuse("invalid_request: %s.source: only \"base64\" and \"url\" "
                 "image sources can be sent%s", where, NULL);
  jv_free(t);
  if(!jv_is_valid(url))
    return url;
  return jv_object_set(
      jv_object_set(jv_object(), jv_string("type"), jv_string("image_url")),
      jv_string("image_url"),
      jv_object_set(jv_object(), jv_string("url"), url));
}

/* The text of a tool_result's content (a string or text blocks).
 * Borrows c. */
static jv tool_result_text(jv c, const char *where)
{
  jv out;
  int i, n;

  if(jv_get_kind(c) == JV_KIND_NULL)
    return jv_string("");
  if(jv_get_kind(c) == JV_KIND_STRING)
    return jv_copy(c);
  if(jv_get_kind(c) != JV_KIND_ARRAY)
    return refuse("invalid_request: %s.content must be a string or text "
                  "blocks%s", where, NULL);
  out = jv_string("");
  n = jv_array_length(jv_copy(c));
  for(i = 0; i < n; i++) {
    jv b = jv_array_get(jv_copy(c), i);
    jv t = json_get(b, "type"), text = json_get(b, "text");

    if(jv_get_kind(t) != JV_KIND_STRING ||
       strcmp(jv_string_value(t), "text") ||
       jv_get_kind(text) != JV_KIND_STRING) {
      jv_free(t);
      jv_free(text);
      jv_free(b);
      jv_free(out);
      return refuse("invalid_request: %s.content: only text blocks can be "
                    "sent in a tool_result%s", where, NULL);
    }
    if(i)
      out = jv_string_append_str(out, "\n");
    out = jv_string_concat(out, text);
    jv_free(t);
    jv_free(b);
  }
  return out;
}

/* Append the chat messages of one Anthropic message m (borrowed) to
 * *msgs: tool results become "tool" messages (first, as they answer the
 * assistant turn before), tool_use blocks the assistant's tool_calls,
 * text and images content parts.  jv_true() or the refusal. */
static jv convert_message(jv m, int index, jv *msgs)
{
  char where[80], bw[112];
  jv role = json_get(m, "role"), content = json_get(m, "content");
  jv parts = jv_array(), calls = jv_array(), r = jv_true();
  const char *ro = str_of(role);
  int assistant, i, n;

  snprintf(where, sizeof(where), "params.messages[%d]", index);
  if(jv_get_kind(m) != JV_KIND_OBJECT)
    r = refuse("invalid_request: %s must be an object%s", where, NULL);
  else if(!ro || (strcmp(ro, "user") && strcmp(ro, "assistant")))
    r = refuse("invalid_request: %s.role must be \"user\" or \"assistant\" "
               "(the system prompt goes in params.system)%s", where, NULL);
  if(!jv_is_valid(r))
    goto out;
  assistant = !strcmp(ro, "assistant");
  if(jv_get_kind(content) == JV_KIND_STRING) {
    jv msg = jv_object_set(jv_object(), jv_string("role"), jv_copy(role));

    *msgs = jv_array_append(*msgs, jv_object_set(msg, jv_string("content"),
                                                 jv_copy(content)));
    goto out;
  }
  if(jv_get_kind(content) != JV_KIND_ARRAY) {
    r = refuse("invalid_request: %s.content must be a string or an array "
               "of blocks%s", where, NULL);
    goto out;
  }
  n = jv_array_length(jv_copy(content));
  for(i = 0; i < n && jv_is_valid(r); i++) {
    jv b = jv_array_get(jv_copy(content), i);
    jv tv = json_get(b, "type");
    const char *t = str_of(tv);

    snprintf(bw, sizeof(bw), "%s.content[%d]", where, i);
    if(!t)
      r = refuse("invalid_request: %s has no \"type\"%s", bw, NULL);
    else if(!strcmp(t, "text")) {
      jv text = json_get(b, "text");

      if(jv_get_kind(text) != JV_KIND_STRING) {
        jv_free(text);
        r = refuse("invalid_request: %s.text must be a string%s", bw, NULL);
      }
      else
        parts = jv_array_append(parts, jv_object_set(
            jv_object_set(jv_object(), jv_string("type"), jv_string("text")),
            jv_string("text"), text));
    }
    else if(!strcmp(t, "image") && !assistant) {
      jv src = json_get(b, "source");
      jv p = image_part(src, bw);

      jv_free(src);
      if(jv_is_valid(p))
        parts = jv_array_append(parts, p);
      else
        r = p;
    }
    else if(!strcmp(t, "tool_use") && assistant) {
      jv id = json_get(b, "id"), name = json_get(b, "name");
      jv input = json_get(b, "input"), fn;

      if(jv_get_kind(id) != JV_KIND_STRING ||
         jv_get_kind(name) != JV_KIND_STRING) {
        jv_free(id);
        jv_free(name);
        r = refuse("invalid_request: %s: a tool_use needs \"id\" and "
                   "\"name\" strings%s", bw, NULL);
      }
      else {
        /* OpenAI carries a tool call's arguments as JSON text */
        char *args = jv_get_kind(input) == JV_KIND_OBJECT ?
                     json_dump(input) : NULL;

        fn = jv_object_set(jv_object(), jv_string("name"), name);
        fn = jv_object_set(fn, jv_string("arguments"),
                           jv_string(args ? args : "{}"));
        free(args);
        calls = jv_array_append(calls, jv_object_set(jv_object_set(
            jv_object_set(jv_object(), jv_string("id"), id),
            jv_string("type"), jv_string("function")),
            jv_string("function"), fn));
      }
      jv_free(input);
    }
    else if(!strcmp(t, "tool_result") && !assistant) {
      jv id = json_get(b, "tool_use_id"), c = json_get(b, "content");
      jv text = tool_result_text(c, bw);

      jv_free(c);
      if(jv_get_kind(id) != JV_KIND_STRING) {
        jv_free(id);
        jv_free(text);
        r = refuse("invalid_request: %s: a tool_result needs a "
                   "\"tool_use_id\" string%s", bw, NULL);
      }
      else if(!jv_is_valid(text)) {
        jv_free(id);
        r = text;
      }
      else {
        jv tm = jv_object_set(jv_object(), jv_string("role"),
                              jv_string("tool"));

        tm = jv_object_set(tm, jv_string("tool_call_id"), id);
        *msgs = jv_array_append(*msgs, jv_object_set(tm,
                                                     jv_string("content"),
                                                     text));
      }
    }
    else
      r = refuse("invalid_request: %s: a \"%.40s\" block cannot be sent "
                 "(llmroute sends text, image, tool_use and tool_result "
                 "blocks)", bw, t);
    jv_free(tv);
    jv_free(b);
  }
  if(!jv_is_valid(r))
    goto out;
  if(jv_array_length(jv_copy(parts)) > 0 ||
     jv_array_length(jv_copy(calls)) > 0) {
    jv msg = jv_object_set(jv_object(), jv_string("role"), jv_copy(role));

    if(assistant && jv_array_length(jv_copy(calls)) > 0) {
      /* an assistant turn with tool calls: its text as one string */
      jv text = jv_null();

      n = jv_array_length(jv_copy(parts));
      for(i = 0; i < n; i++) {
        jv p = jv_array_get(jv_copy(parts), i);
        jv pt = json_get(p, "text");

        text = jv_get_kind(text) == JV_KIND_NULL ? pt :
               jv_string_concat(jv_string_append_str(text, "\n"), pt);
        jv_free(p);
      }
      msg = jv_object_set(msg, jv_string("content"), text);
      msg = jv_object_set(msg, jv_string("tool_calls"), jv_copy(calls));
    }
    else
      msg = jv_object_set(msg, jv_string("content"), jv_copy(parts));
    *msgs = jv_array_append(*msgs, msg);
  }
out:
  jv_free(role);
  jv_free(content);
  jv_free(parts);
  jv_free(calls);
  return r;
}

/* params.system (borrowed): a string, or text blocks, as the first
 * message; jv_null() when absent; or the refusal. */
static jv system_message(jv sys)
{
  jv parts;
  int i, n;

  if(jv_get_kind(sys) == JV_KIND_NULL)
    return jv_null();
  if(jv_get_kind(sys) == JV_KIND_STRING)
    return jv_object_set(
        jv_object_set(jv_object(), jv_string("role"), jv_string("system")),
        jv_string("content"), jv_copy(sys));
  if(jv_get_kind(sys) != JV_KIND_ARRAY)
    return refuse("invalid_request: params.system must be a string or text "
                  "blocks%s%s", NULL, NULL);
  parts = jv_array();
  n = jv_array_length(jv_copy(sys));
  for(i = 0; i < n; i++) {
    jv b = jv_array_get(jv_copy(sys), i);
    jv t = json_get(b, "type"), text = json_get(b, "text");
    int ok = jv_get_kind(t) == JV_KIND_STRING &&
             !strcmp(jv_string_value(t), "text") &&
             jv_get_kind(text) == JV_KIND_STRING;

    jv_free(t);
    jv_free(b);
    if(!ok) {
      char w[40];

      jv_free(text);
      jv_free(parts);
      snprintf(w, sizeof(w), "%d", i);
      return refuse("invalid_request: params.system[%s]: only text blocks "
                    "can be sent%s", w, NULL);
    }
    /* cache_control is a price hint with no chat-completion field */
    parts = jv_array_append(parts, jv_object_set(
        jv_object_set(jv_object(), jv_string("type"), jv_string("text")),
        jv_string("text"), text));
  }
  return jv_object_set(
      jv_object_set(jv_object(), jv_string("role"), jv_string("system")),
      jv_string("content"), parts);
}

/* params.tools (borrowed) as function tools, or the refusal. */
static jv convert_tools(jv tools)
{
  jv out = jv_array();
  int i, n;

  if(jv_get_kind(tools) != JV_KIND_ARRAY)
    return refuse("invalid_request: params.tools must be an array%s%s",
                  NULL, NULL);
  n = jv_array_length(jv_copy(tools));
  for(i = 0; i < n; i++) {
    jv t = jv_array_get(jv_copy(tools), i);
    jv name = json_get(t, "name"), desc = json_get(t, "description");
    jv schema = json_get(t, "input_schema"), type = json_get(t, "type");
    jv fn;
    char w[24];

    snprintf(w, sizeof(w), "%d", i);
    if(jv_get_kind(type) == JV_KIND_STRING &&
       strcmp(jv_string_value(type), "custom")) {
      /* a server tool (web search, code execution...) runs at
         Anthropic: no other provider has it */
      jv r = refuse("invalid_request: params.tools[%s]: the server tool "
                    "\"%.60s\" cannot be sent (only client tools with an "
                    "input_schema)", w, jv_string_value(type));

      jv_free(t); jv_free(name); jv_free(desc); jv_free(schema);
      jv_free(type); jv_free(out);
      return r;
    }
    if(jv_get_kind(name) != JV_KIND_STRING ||
       jv_get_kind(schema) != JV_KIND_OBJECT) {
      jv_free(t); jv_free(name); jv_free(desc); jv_free(schema);
      jv_free(type); jv_free(out);
      return refuse("invalid_request: params.tools[%s] needs a \"name\" "
                    "string and an \"input_schema\" object%s", w, NULL);
    }
    fn = jv_object_set(jv_object(), jv_string("name"), name);
    if(jv_get_kind(desc) == JV_KIND_STRING)
      fn = jv_object_set(fn, jv_string("description"), desc);
    else
      jv_free(desc);
    fn = jv_object_set(fn, jv_string("parameters"), schema);
    out = jv_array_append(out, jv_object_set(
        jv_object_set(jv_object(), jv_string("type"), jv_string("function")),
        jv_string("function"), fn));
    jv_free(type);
    jv_free(t);
  }
  return out;
}

/* params.tool_choice (borrowed) into body (consumed), or the refusal. */
static jv convert_tool_choice(jv tc, jv body)
{
  jv t = json_get(tc, "type"), name = json_get(tc, "name");
  jv dp = json_get(tc, "disable_parallel_tool_use");
  const char *ty = str_of(t);
  jv choice = jv_invalid();

  if(ty && !strcmp(ty, "auto"))
    choice = jv_string("auto");
  else if(ty && !strcmp(ty, "any"))
    choice = jv_string("required");
  else if(ty && !strcmp(ty, "none"))
    choice = jv_string("none");
  else if(ty && !strcmp(ty, "tool") && jv_get_kind(name) == JV_KIND_STRING)
    choice = jv_object_set(
        jv_object_set(jv_object(), jv_string("type"), jv_string("function")),
        jv_string("function"),
        jv_object_set(jv_object(), jv_string("name"), jv_copy(name)));
  jv_free(t);
  jv_free(name);
  if(!jv_is_valid(choice)) {
    jv_free(dp);
    jv_free(body);
    return refuse("invalid_request: params.tool_choice must be {\"type\": "
                  "\"auto\"|\"any\"|\"none\"} or {\"type\":\"tool\","
                  "\"name\":...}%s%s", NULL, NULL);
  }
  body = jv_object_set(body, jv_string("tool_choice"), choice);
  if(jv_get_kind(dp) == JV_KIND_TRUE)
    body = jv_object_set(body, jv_string("parallel_tool_calls"),
                         jv_false());
  jv_free(dp);
  return body;
}

/* params.output_config (borrowed): a JSON schema format becomes
 * response_format, an effort reasoning_effort.  body consumed. */
static jv convert_output_config(jv oc, jv body)
{
  jv fmt = json_get(oc, "format"), effort = json_get(oc, "effort");
  jv ft = json_get(fmt, "type"), schema = json_get(fmt, "schema");
  const char *e = str_of(effort);
  jv r = body;

  if(jv_get_kind(oc) != JV_KIND_OBJECT)
    r = refuse("invalid_request: params.output_config must be an "
               "object%s%s", NULL, NULL);
  else if(jv_get_kind(fmt) != JV_KIND_NULL &&
          (jv_get_kind(ft) != JV_KIND_STRING ||
           strcmp(jv_string_value(ft), "json_schema") ||
           jv_get_kind(schema) != JV_KIND_OBJECT))
    r = refuse("invalid_request: params.output_config.format must be "
               "{\"type\":\"json_schema\",\"schema\":{...}}%s%s", NULL, NULL);
  else if(jv_get_kind(effort) != JV_KIND_NULL &&
          (!e || (strcmp(e, "low") && strcmp(e, "medium") &&
                  strcmp(e, "high"))))
    r = refuse("invalid_request: params.output_config.effort \"%.20s\" "
               "cannot be sent (low, medium or high)%s", e ? e : "?", NULL);
  if(!jv_is_valid(r)) {
    jv_free(body);
    goto out;
  }
  if(jv_get_kind(schema) == JV_KIND_OBJECT) {
    jv js = jv_object_set(jv_object(), jv_string("name"),
                          jv_string("output"));

    js = jv_object_set(js, jv_string("schema"), jv_copy(schema));
    js = jv_object_set(js, jv_string("strict"), jv_true());
    r = jv_object_set(r, jv_string("response_format"), jv_object_set(
        jv_object_set(jv_object(), jv_string("type"),
                      jv_string("json_schema")),
        jv_string("json_schema"), js));
  }
  if(e)
    r = jv_object_set(r, jv_string("reasoning_effort"), jv_copy(effort));
out:
  jv_free(fmt);
  jv_free(effort);
  jv_free(ft);
  jv_free(schema);
  return r;
}

/* The params keys llmroute converts, and those it refuses with a reason.
 * Anything else is refused as unknown. */
static const char *const known[] = {
  "model", "max_tokens", "messages", "system", "temperature", "top_p",
  "stop_sequences", "metadata", "stream", "tools", "tool_choice",
  "output_config", NULL
};
static const struct {
  const char *key, *why;
} refused[] = {
  {"top_k", "chat completions have no top_k"},
  {"thinking", "extended thinking has no chat-completion form"},
  {"container", "containers exist only at Anthropic"},
  {"mcp_servers", "MCP servers are called by Anthropic's API itself"},
  {"context_management", "context management exists only at Anthropic"},
  {"service_tier", "a service tier is chosen per provider, not per line"},
  {NULL, NULL}
};

jv batch_from_anthropic(jv params)
{
  jv keys, body, v, msgs, sys;
  int i, n, k;

  if(jv_get_kind(params) != JV_KIND_OBJECT) {
    jv_free(params);
    return refuse("invalid_request: \"params\" (an Anthropic Message "
                  "Batches request) must be an object%s%s", NULL, NULL);
  }
  keys = jv_keys(jv_copy(params));
  n = jv_array_length(jv_copy(keys));
  for(i = 0; i < n; i++) {
    jv key = jv_array_get(jv_copy(keys), i);
    const char *s = jv_string_value(key);
    jv r = jv_true();

    for(k = 0; refused[k].key; k++)
      if(!strcmp(s, refused[k].key))
        r = refuse("invalid_request: params.%s cannot be sent: %s", s,
                   refused[k].why);
    for(k = 0; jv_is_valid(r) && known[k] && strcmp(s, known[k]); k++)
      ;
    if(jv_is_valid(r) && !known[k])
      r = refuse("invalid_request: params.%.60s is not a Messages API field "
                 "llmroute knows%s", s, NULL);
    jv_free(key);
    if(!jv_is_valid(r)) {
      jv_free(keys);
      jv_free(params);
      return r;
    }
  }
  jv_free(keys);

  v = json_get(params, "stream");
  k = jv_get_kind(v) == JV_KIND_TRUE;
  jv_free(v);
  if(k) {
    jv_free(params);
    return refuse("invalid_request: params.stream: a batch line's answer "
                  "is one result line, not a stream%s%s", NULL, NULL);
  }
  msgs = jv_array();
  sys = json_get(params, "system");
  v = system_message(sys);
  jv_free(sys);
  if(!jv_is_valid(v)) {
    jv_free(msgs);
    jv_free(params);
    return v;
  }
  if(jv_get_kind(v) == JV_KIND_OBJECT)
    msgs = jv_array_append(msgs, v);
  else
    jv_free(v);
  v = json_get(params, "messages");
  if(jv_get_kind(v) != JV_KIND_ARRAY || jv_array_length(jv_copy(v)) == 0) {
    jv_free(v);
    jv_free(msgs);
    jv_free(params);
    return refuse("no_messages: params.messages must be a non-empty "
                  "array%s%s", NULL, NULL);
  }
  n = jv_array_length(jv_copy(v));
  for(i = 0; i < n; i++) {
    jv m = jv_array_get(jv_copy(v), i);
    jv r = convert_message(m, i, &msgs);

    jv_free(m);
    if(!jv_is_valid(r)) {
      jv_free(v);
      jv_free(msgs);
      jv_free(params);
      return r;
    }
  }
  jv_free(v);

  body = jv_object();
  v = json_get(params, "model");
  if(jv_get_kind(v) != JV_KIND_NULL)
    body = jv_object_set(body, jv_string("model"), v);
  else
    jv_free(v);
  body = jv_object_set(body, jv_string("messages"), msgs);
  {
    static const char *const same[] = {"max_tokens", "temperature", "top_p",
                                       NULL};

    for(k = 0; same[k]; k++) {
      v = json_get(params, same[k]);
      if(jv_get_kind(v) != JV_KIND_NULL)
        body = jv_object_set(body, jv_string(same[k]), v);
      else
        jv_free(v);
    }
  }
  v = json_get(params, "stop_sequences");
  if(jv_get_kind(v) != JV_KIND_NULL)
    body = jv_object_set(body, jv_string("stop"), v);
  else
    jv_free(v);
  v = json_get(params, "metadata");
  {
    jv uid = json_get(v, "user_id");

    if(jv_get_kind(uid) == JV_KIND_STRING)
      body = jv_object_set(body, jv_string("user"), uid);
    else
      jv_free(uid);
  }
  jv_free(v);
  v = json_get(params, "tools");
  if(jv_get_kind(v) != JV_KIND_NULL) {
    jv t = convert_tools(v);

    if(!jv_is_valid(t)) {
      jv_free(v);
      jv_free(body);
      jv_free(params);
      return t;
    }
    body = jv_object_set(body, jv_string("tools"), t);
  }
  jv_free(v);
  v = json_get(params, "tool_choice");
  if(jv_get_kind(v) != JV_KIND_NULL)
    body = convert_tool_choice(v, body);
  jv_free(v);
  v = json_get(params, "output_config");
  if(jv_is_valid(body) && jv_get_kind(v) != JV_KIND_NULL)
    body = convert_output_config(v, body);
  jv_free(v);
  jv_free(params);
  return body;
}
