/*
 * shape.c - the provider side of mockprov: reads a request in the
 * OpenAI, Anthropic or Gemini shape, finds its [[mock {...}]] directive,
 * resolves by_model and seq, and plans the reply (status, headers, body,
 * fault).  No I/O here; mockprov.c sends what this file plans.  The
 * directive keys and the token formulas are documented in mockprov.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <time.h>

#include "mockprov.h"

#define BIG_MARK "@@mockprov-big@@"

/* Usage numbers of one answer. */
struct usage {
  long prompt;      /* P: all prompt tokens, cached ones included */
  long completion;  /* K: answer tokens */
  long cached;      /* C: part of P read from the cache */
  long cache_write; /* W: part of P written to the cache (Anthropic) */
  long reasoning;   /* R: reasoning tokens, billed as output */
};

/* ---------------------------------------------------------------------
 * Small jv helpers: never assert on input.
 */

/* Borrows obj.  New ref, or jv_null() when absent or obj no object. */
static jv json_get(jv obj, const char *key)
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

/* Borrows obj.  The number at key, or def. */
static long get_long(jv obj, const char *key, long def)
{
  jv v = json_get(obj, key);
  long r = def;
  if(jv_get_kind(v) == JV_KIND_NUMBER)
    r = (long)jv_number_value(v);
  jv_free(v);
  return r;
}

/* Borrows obj.  1 when key is true, a non-zero number or "true". */
static int get_flag(jv obj, const char *key)
{
  jv v = json_get(obj, key);
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
static jv get_string(jv obj, const char *key)
{
  jv v = json_get(obj, key);
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
static int jv_streq(jv a, const char *b)
{
  return jv_get_kind(a) == JV_KIND_STRING && !strcmp(jv_string_value(a), b);
}

/* Borrows s.  A malloc'ed NUL-terminated copy of a jv string; *len set. */
static char *jv_strdup(jv s, size_t *len)
{
  size_t n = (size_t)jv_string_length_bytes(jv_copy(s));
  char *p = malloc(n + 1);
  if(!p)
    abort();
  memcpy(p, jv_string_value(s), n);
  p[n] = 0;
  *len = n;
  return p;
}

/* ---------------------------------------------------------------------
 * Endpoints.
 */

/* Borrows s, suffix.  1 when s ends with suffix. */
static int ends_with(const char *s, const char *suffix)
{
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && !memcmp(s + a - b, suffix, b);
}

enum mock_format mock_classify(const char *path, jv *model)
{
  const char *m, *colon;
  *model = jv_null();
  if(ends_with(path, "/chat/completions"))
    return FMT_OPENAI;
  if(ends_with(path, "/messages"))
    return FMT_ANTHROPIC;
  if(ends_with(path, ":generateContent")) {
    m = strstr(path, "/models/");
    if(!m)
      return FMT_NONE;
    while(strstr(m + 1, "/models/"))
      m = strstr(m + 1, "/models/");
    m += strlen("/models/");
    colon = strrchr(path, ':');
    if(colon <= m)
      return FMT_NONE;
    *model = jv_string_sized(m, (int)(colon - m));
    return FMT_GEMINI;
  }
  return FMT_NONE;
}

const char *mock_format_name(enum mock_format f)
{
  switch(f) {
  case FMT_OPENAI:
    return "openai";
  case FMT_ANTHROPIC:
    return "anthropic";
  case FMT_GEMINI:
    return "gemini";
  default:
    return NULL;
  }
}

/* ---------------------------------------------------------------------
 * Message texts: [{"role":..,"text":..}, ...] in request order.
 */

/* Consumes content; borrows role.  Appends the texts of a string content
   or of the text parts / blocks of an array content to *texts, each as
   {"role","msg","text"} (msg: index of the message, -1 for system). */
static void add_content(jv *texts, const char *role, int msg, jv content)
{
  if(jv_get_kind(content) == JV_KIND_STRING) {
    *texts = jv_array_append(*texts,
      JV_OBJECT(jv_string("role"), jv_string(role),
                jv_string("msg"), jv_number(msg),
                jv_string("text"), content));
    return;
  }
  if(jv_get_kind(content) == JV_KIND_ARRAY) {
    jv_array_foreach(content, i, part) {
      jv t = get_string(part, "text");
      if(jv_get_kind(t) == JV_KIND_STRING)
        add_content(texts, role, msg, t);
      else
        jv_free(t);
      jv_free(part);
    }
  }
  jv_free(content);
}

/* Borrows body.  New ref: the message texts of a request of format f
   (system prompts first, as role "system"). */
static jv collect_texts(jv body, enum mock_format f)
{
  jv texts = jv_array();
  jv list, sys;
  const char *list_key = f == FMT_GEMINI ? "contents" : "messages";
  const char *part_key = f == FMT_GEMINI ? "parts" : "content";

  if(f == FMT_ANTHROPIC)
    add_content(&texts, "system", -1, json_get(body, "system"));
  if(f == FMT_GEMINI) {
    sys = json_get(body, "systemInstruction");
    if(jv_get_kind(sys) == JV_KIND_NULL) {
      jv_free(sys);
      sys = json_get(body, "system_instruction");
    }
    add_content(&texts, "system", -1, json_get(sys, "parts"));
    jv_free(sys);
  }
  list = json_get(body, list_key);
  if(jv_get_kind(list) == JV_KIND_ARRAY) {
    jv_array_foreach(list, i, msg) {
      jv role = get_string(msg, "role");
      add_content(&texts,
                  jv_get_kind(role) == JV_KIND_STRING ?
                  jv_string_value(role) : "user", i,
                  json_get(msg, part_key));
      jv_free(role);
      jv_free(msg);
    }
  }
  jv_free(list);
  return texts;
}

/* Borrows texts.  Total bytes of all texts. */
static long text_bytes(jv texts)
{
  long n = 0;
  jv_array_foreach(texts, i, t) {
    n += jv_string_length_bytes(jv_object_get(t, jv_string("text")));
  }
  return n;
}

/* ---------------------------------------------------------------------
 * Directives: [[mock {...}]] anywhere in a message text.
 */

/* Borrows s.  Length of the balanced JSON object starting at s[0] == '{'
   (strings and escapes skipped), or 0 when it never closes. */
static size_t object_span(const char *s)
{
  size_t i;
  int depth = 0, in_str = 0;
  for(i = 0; s[i]; i++) {
    char c = s[i];
    if(in_str) {
      if(c == '\\' && s[i + 1])
        i++;
      else if(c == '"')
        in_str = 0;
      continue;
    }
    if(c == '"')
      in_str = 1;
    else if(c == '{' || c == '[')
      depth++;
    else if(c == '}' || c == ']') {
      if(--depth == 0)
        return i + 1;
    }
  }
  return 0;
}

/* Borrows s.  Finds the first "[[mock {...}]]" in s: returns its start
   or NULL; *obj and *len give the JSON object, *end the byte after
   "]]".
   A "[[mock" not followed by a closed object sets *len 0. */
static const char *find_directive(const char *s, const char **obj,
                                  size_t *len, const char **end)
{
  const char *p = strstr(s, "[[mock");
  const char *q;
  if(!p)
    return NULL;
  q = p + 6;
  while(*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
    q++;
  *obj = q;
  *len = *q == '{' ? object_span(q) : 0;
  if(!*len) {
    *end = q;
    return p;
  }
  q += *len;
  while(*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
    q++;
  if(q[0] != ']' || q[1] != ']') {
    *len = 0;
    *end = q;
    return p;
  }
  *end = q + 2;
  return p;
}

/* Borrows texts.  New ref: the first directive's JSON text as a jv
   string, jv_null() when there is none, jv_invalid_with_msg when one is
   malformed. */
static jv directive_text(jv texts)
{
  jv found = jv_null();
  jv_array_foreach(texts, i, t) {
    jv s = jv_object_get(t, jv_string("text"));
    const char *obj, *end;
    size_t len;
    if(jv_get_kind(found) == JV_KIND_NULL &&
       find_directive(jv_string_value(s), &obj, &len, &end)) {
      if(len)
        found = jv_string_sized(obj, (int)len);
      else
        found = jv_invalid_with_msg(jv_string(
          "[[mock must be followed by a JSON object and ]]"));
    }
    jv_free(s);
  }
  return found;
}

/* Borrows s.  New ref: s without its directives, whitespace trimmed. */
static jv strip_directives(const char *s)
{
  jv out = jv_string("");
  const char *at, *obj, *end;
  size_t len;
  while((at = find_directive(s, &obj, &len, &end)) != NULL) {
    out = jv_string_append_buf(out, s, (int)(at - s));
    s = end;
  }
  out = jv_string_append_str(out, s);
  {
    const char *b = jv_string_value(out);
    int n = jv_string_length_bytes(jv_copy(out));
    int lo = 0, hi = n;
    jv r;
    while(lo < hi && isspace((unsigned char)b[lo]))
      lo++;
    while(hi > lo && isspace((unsigned char)b[hi - 1]))
      hi--;
    r = jv_string_sized(b + lo, hi - lo);
    jv_free(out);
    return r;
  }
}

/* Borrows texts.  New ref: the last user message's text (its parts
   joined), directives removed. */
static jv last_user_text(jv texts)
{
  double last = -2;
  jv joined = jv_string("");
  jv r;
  jv_array_foreach(texts, i, t) {
    jv role = json_get(t, "role");
    jv msg = json_get(t, "msg");
    if(jv_streq(role, "user") && jv_get_kind(msg) == JV_KIND_NUMBER)
      last = jv_number_value(msg);
    jv_free(role);
    jv_free(msg);
    jv_free(t);
  }
  jv_array_foreach(texts, i, t) {
    jv msg = json_get(t, "msg");
    if(jv_get_kind(msg) == JV_KIND_NUMBER && jv_number_value(msg) == last)
      joined = jv_string_concat(joined, json_get(t, "text"));
    jv_free(msg);
    jv_free(t);
  }
  r = strip_directives(jv_string_value(joined));
  jv_free(joined);
  return r;
}

/* Consumes d; borrows dtext, model.  New ref: d with by_model and seq
   resolved (nested ones too, up to 4 levels). */
static jv resolve(jv d, const char *dtext, const char *model)
{
  int depth;
  for(depth = 0; depth < 4; depth++) {
    jv bm = json_get(d, "by_model");
    jv seq = json_get(d, "seq");
    int done = 1;
    if(jv_get_kind(bm) == JV_KIND_OBJECT) {
      jv sel = json_get(bm, model);
      if(jv_get_kind(sel) != JV_KIND_OBJECT) {
        jv_free(sel);
        sel = json_get(bm, "*");
      }
      if(jv_get_kind(sel) != JV_KIND_OBJECT) {
        jv_free(sel);
        sel = jv_object();
      }
      d = jv_object_delete(d, jv_string("by_model"));
      d = jv_object_merge(d, sel);
      done = 0;
    }
    else if(jv_get_kind(seq) == JV_KIND_ARRAY &&
            jv_array_length(jv_copy(seq)) > 0) {
      int len = jv_array_length(jv_copy(seq));
      char *key;
      size_t klen = strlen(dtext) + strlen(model) + 16;
      long k;
      jv step;
      key = malloc(klen);
      if(!key)
        abort();
      snprintf(key, klen, "%s\x1f%s\x1f%d", dtext, model, depth);
      k = mock_seq_next(key);
      free(key);
      step = jv_array_get(jv_copy(seq), k < len ? (int)k : len - 1);
      if(jv_get_kind(step) != JV_KIND_OBJECT) {
        jv_free(step);
        step = jv_object();
      }
      d = jv_object_delete(d, jv_string("seq"));
      d = jv_object_merge(d, step);
      done = 0;
    }
    jv_free(bm);
    jv_free(seq);
    if(done)
      break;
  }
  return d;
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
  if(jv_streq(code, "context_length_exceeded")) {
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
  if(jv_streq(code, "insufficient_quota"))
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
static jv error_body(enum mock_format f, int status, jv d, long n, long p)
{
  jv type = get_string(d, "error_type");
  jv code = get_string(d, "error_code");
  jv msg = get_string(d, "message");
  jv param = json_get(d, "param");
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
    type = jv_streq(code, "insufficient_quota") ?
           jv_string("insufficient_quota") : jv_string(openai_type(status));
  }
  if(jv_get_kind(param) == JV_KIND_NULL &&
     jv_streq(code, "context_length_exceeded")) {
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
static jv success_body(enum mock_format f, jv model, jv answer,
                       const char *finish, const struct usage *u, long n)
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
  jv a = json_get(call, "arguments");
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
  jv a = json_get(call, "arguments");
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
static jv add_tool_calls(enum mock_format f, jv body, jv calls,
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
    jv name = get_string(call, "name");
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
static jv ratelimit_headers(jv h, enum mock_format f, jv d, long p)
{
  jv rl = json_get(d, "ratelimit");
  long lr = get_long(rl, "limit_requests", 10000);
  long rr = get_long(rl, "remaining_requests", lr - 1);
  long lt = get_long(rl, "limit_tokens", 10000000);
  long rt = get_long(rl, "remaining_tokens", lt - p);
  jv resr = json_get(rl, "reset_requests");
  jv rest = json_get(rl, "reset_tokens");
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
static jv scripted_headers(jv h, jv d)
{
  static const char *const keys[][2] = {
    { "retry_after", "retry-after" },
    { "retry_after_ms", "retry-after-ms" },
    { "x_should_retry", "x-should-retry" },
  };
  size_t i;
  jv extra;
  for(i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
    jv v = json_get(d, keys[i][0]);
    jv t = header_text(v);
    if(jv_get_kind(t) == JV_KIND_STRING)
      h = jv_object_set(h, jv_string(keys[i][1]), t);
    else
      jv_free(t);
    jv_free(v);
  }
  extra = json_get(d, "headers");
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

/* ---------------------------------------------------------------------
 * The plan.
 */

/* Consumes body.  Sets rp's body to its compact JSON text. */
static void set_json_body(struct mock_reply *rp, jv body)
{
  jv s = jv_dump_string(body, 0);
  free(rp->body);
  rp->body = jv_strdup(s, &rp->body_len);
  rp->content_type = "application/json";
  jv_free(s);
}

/* Borrows s, type (static).  Sets rp's body to a copy of the bytes of
   s (which need not be UTF-8). */
static void set_text_body(struct mock_reply *rp, const char *s,
                          const char *type)
{
  free(rp->body);
  rp->body = strdup(s);
  if(!rp->body)
    abort();
  rp->body_len = strlen(s);
  rp->content_type = type;
}

/* Borrows rq, d.  Plans an error reply of status in rq's format. */
static void plan_error(const struct mock_request *rq, struct mock_reply *rp,
                       int status, jv d, long p)
{
  rp->status = status;
  set_json_body(rp, error_body(rq->format, status, d, rq->n, p));
}

/* Borrows rq.  Checks the request's required fields; a message or
   jv_null() when it is fine. */
static jv check_request(const struct mock_request *rq)
{
  jv j = rq->json;
  jv v;
  jv_kind k;
  if(jv_get_kind(j) != JV_KIND_OBJECT)
    return jv_string("mockprov: the body is not a JSON object");
  if(rq->format != FMT_GEMINI && jv_get_kind(rq->model) != JV_KIND_STRING)
    return jv_string("model: Field required");
  v = json_get(j, rq->format == FMT_GEMINI ? "contents" : "messages");
  k = jv_get_kind(v);
  jv_free(v);
  if(k != JV_KIND_ARRAY)
    return jv_string(rq->format == FMT_GEMINI ?
                     "contents: Field required" :
                     "messages: Field required");
  if(rq->format == FMT_ANTHROPIC) {
    v = json_get(j, "max_tokens");
    k = jv_get_kind(v);
    jv_free(v);
    if(k != JV_KIND_NUMBER)
      return jv_string("max_tokens: Field required");
  }
  return jv_null();
}

/* Borrows rq, d.  Fills rp's fault fields from the transport-fault keys
   of d (garbage, html, error_in_200, truncate, trickle_ms). */
static void plan_faults(const struct mock_request *rq, struct mock_reply *rp,
                        jv d, long p)
{
  jv trunc = json_get(d, "truncate");
  if(get_flag(d, "garbage")) {
    rp->fault = "garbage";
    set_text_body(rp, "<<mockprov garbage \xff\xfe not json {{{ \"ch",
                  "application/json");
  }
  else if(get_flag(d, "html")) {
    rp->fault = "html";
    set_text_body(rp, "<html><head><title>502 Bad Gateway</title></head>"
                  "<body><center><h1>502 Bad Gateway</h1></center><hr>"
                  "<center>nginx</center></body></html>\n", "text/html");
  }
  else if(get_flag(d, "error_in_200")) {
    rp->fault = "error_in_200";
    set_json_body(rp, error_body(rq->format,
                                 (int)get_long(d, "error_status", 500), d,
                                 rq->n, p));
  }
  if(jv_streq(trunc, "json")) {
    rp->fault = "truncate";
    rp->body_len /= 2;
    rp->body[rp->body_len] = 0;
  }
  else if(jv_get_kind(trunc) == JV_KIND_TRUE || jv_streq(trunc, "length")) {
    rp->fault = "truncate";
    rp->cut = 1;
  }
  jv_free(trunc);
  rp->trickle_ms = get_long(d, "trickle_ms", 0);
  if(rp->trickle_ms > 0) {
    rp->trickle_bytes = get_long(d, "trickle_bytes", 16);
    if(rp->trickle_bytes < 1)
      rp->trickle_bytes = 1;
    if(!rp->fault)
      rp->fault = "trickle";
  }
}

/* Borrows d.  New ref: the answer text. */
static jv plan_answer(const struct mock_request *rq, jv d, jv texts)
{
  jv a = json_get(d, "answer");
  if(jv_get_kind(a) == JV_KIND_STRING)
    return a;
  if(jv_get_kind(a) != JV_KIND_NULL)
    return jv_dump_string(a, 0);
  jv_free(a);
  if(get_flag(d, "echo"))
    return last_user_text(texts);
  return jv_string_fmt("mock answer from %s",
                       jv_get_kind(rq->model) == JV_KIND_STRING ?
                       jv_string_value(rq->model) : "?");
}

void mock_plan(struct mock_request *rq, struct mock_reply *rp)
{
  jv texts = jv_array(), dtext = jv_null(), d = jv_object(), problem;
  jv answer, body;
  struct usage u;
  long big, k, answer_bytes;
  const char *finish;

  memset(rp, 0, sizeof(*rp));
  rp->action = ACT_ANSWER;
  rp->headers = jv_object();
  rp->latency_ms = rq->latency_ms;
  rp->status = 200;
  rp->content_type = "application/json";
  rq->format = mock_classify(rq->path, &rq->model);
  rq->json = jv_parse_sized(rq->body, (int)rq->body_len);
  if(rq->format != FMT_GEMINI && jv_get_kind(rq->json) == JV_KIND_OBJECT) {
    jv_free(rq->model);
    rq->model = get_string(rq->json, "model");
  }
  rp->headers = jv_object_set(rp->headers, jv_string("x-mock-n"),
                              jv_string_fmt("%ld", rq->n));
  rp->headers = jv_object_set(rp->headers,
                              jv_string(rq->format == FMT_ANTHROPIC ?
                                        "request-id" : "x-request-id"),
                              jv_string_fmt("req_mock_%ld", rq->n));

  if(rq->format == FMT_NONE) {
    jv msg = JV_OBJECT(jv_string("message"),
                       jv_string_fmt("mockprov: no endpoint %s %s",
                                     rq->method, rq->path),
                       jv_string("error_code"), jv_string("unknown_url"));
    plan_error(rq, rp, 404, msg, 1);
    jv_free(msg);
    goto done;
  }
  if(strcmp(rq->method, "POST")) {
    jv msg = JV_OBJECT(jv_string("message"),
                       jv_string("mockprov: use POST"));
    plan_error(rq, rp, 405, msg, 1);
    jv_free(msg);
    goto done;
  }
  if(rq->auth_ok == 0) {
    jv msg = JV_OBJECT(jv_string("message"),
                       jv_string("mockprov: wrong or missing API key"));
    plan_error(rq, rp, 401, msg, 1);
    jv_free(msg);
    goto done;
  }
  problem = check_request(rq);
  if(jv_get_kind(problem) == JV_KIND_STRING) {
    jv msg = JV_OBJECT(jv_string("message"), problem);
    plan_error(rq, rp, 400, msg, 1);
    jv_free(msg);
    goto done;
  }
  jv_free(problem);

  jv_free(texts);
  texts = collect_texts(rq->json, rq->format);
  u.prompt = text_bytes(texts) / 4;
  if(u.prompt < 1)
    u.prompt = 1;
  jv_free(dtext);
  dtext = directive_text(texts);
  if(jv_get_kind(dtext) == JV_KIND_STRING) {
    jv parsed = jv_parse(jv_string_value(dtext));
    if(jv_get_kind(parsed) != JV_KIND_OBJECT) {
      jv why = jv_get_kind(parsed) == JV_KIND_INVALID ?
               jv_invalid_get_msg(parsed) : (jv_free(parsed), jv_null());
      jv msg = JV_OBJECT(jv_string("message"),
                         jv_string_fmt("mockprov: bad directive: %s",
                                       jv_get_kind(why) == JV_KIND_STRING ?
                                       jv_string_value(why) :
                                       "not an object"));
      jv_free(why);
      rp->fault = "bad_directive";
      plan_error(rq, rp, 400, msg, u.prompt);
      jv_free(msg);
      goto done;
    }
    jv_free(d);
    d = resolve(parsed, jv_string_value(dtext),
                jv_get_kind(rq->model) == JV_KIND_STRING ?
                jv_string_value(rq->model) : "");
  }
  else if(jv_get_kind(dtext) == JV_KIND_INVALID) {
    jv why = jv_invalid_get_msg(dtext);
    jv msg = JV_OBJECT(jv_string("message"),
                       jv_string_fmt("mockprov: bad directive: %s",
                                     jv_string_value(why)));
    dtext = jv_null();
    jv_free(why);
    rp->fault = "bad_directive";
    plan_error(rq, rp, 400, msg, u.prompt);
    jv_free(msg);
    goto done;
  }

  rp->latency_ms += get_long(d, "latency_ms", 0);
  rp->headers = ratelimit_headers(rp->headers, rq->format, d, u.prompt);
  rp->headers = scripted_headers(rp->headers, d);
  rp->status = (int)get_long(d, "status", 200);
  if(rp->status < 100 || rp->status > 999)
    rp->status = 200;
  if(get_flag(d, "reset")) {
    rp->action = ACT_RESET;
    rp->fault = "reset";
    rp->status = 0;
    goto done;
  }
  if(get_flag(d, "hang")) {
    rp->action = ACT_HANG;
    rp->fault = "hang";
    rp->status = 0;
    rp->hang_ms = get_long(d, "hang_ms", -1);
    goto done;
  }

  u.prompt = get_long(d, "prompt_tokens", u.prompt);
  u.cached = get_long(d, "cached_tokens", 0);
  u.cache_write = get_long(d, "cache_creation_tokens", 0);
  u.reasoning = get_long(d, "reasoning_tokens", 0);
  if(rp->status >= 400) {
    plan_error(rq, rp, rp->status, d, u.prompt);
  }
  else {
    jv tools = json_get(d, "tool_calls");
    jv has_answer = json_get(d, "answer");
    int with_text = jv_get_kind(has_answer) != JV_KIND_NULL;
    jv_free(has_answer);
    if(jv_get_kind(tools) == JV_KIND_OBJECT)
      tools = JV_ARRAY(tools);
    if(jv_get_kind(tools) != JV_KIND_ARRAY ||
       !jv_array_length(jv_copy(tools))) {
      jv_free(tools);
      tools = jv_null();
    }
    big = get_long(d, "big", 0);
    answer = big > 0 ? jv_string(BIG_MARK) :
             jv_get_kind(tools) == JV_KIND_ARRAY && !with_text ?
             jv_string("") : plan_answer(rq, d, texts);
    answer_bytes = big > 0 ? big : jv_string_length_bytes(jv_copy(answer));
    if(jv_get_kind(tools) == JV_KIND_ARRAY)
      answer_bytes += jv_string_length_bytes(jv_dump_string(jv_copy(tools),
                                                            0));
    k = answer_bytes / 4;
    u.completion = get_long(d, "completion_tokens", k < 1 ? 1 : k);
    {
      jv fin = get_string(d, "finish_reason");
      finish = jv_get_kind(fin) == JV_KIND_STRING ? jv_string_value(fin) :
               jv_get_kind(tools) == JV_KIND_ARRAY ? "tool_calls" : "stop";
      body = success_body(rq->format, jv_copy(rq->model), answer,
                          finish, &u, rq->n);
      jv_free(fin);
    }
    if(jv_get_kind(tools) == JV_KIND_ARRAY)
      body = add_tool_calls(rq->format, body, tools, with_text, rq->n);
    jv_free(tools);
    set_json_body(rp, body);
    if(big > 0) {
      char *at = strstr(rp->body, BIG_MARK);
      size_t ml = strlen(BIG_MARK);
      rp->fault = "big";
      rp->big_n = (uint64_t)big;
      rp->big_at = (size_t)(at - rp->body);
      memmove(at, at + ml, rp->body_len - rp->big_at - ml + 1);
      rp->body_len -= ml;
    }
  }
  plan_faults(rq, rp, d, u.prompt);

done:
  jv_free(texts);
  jv_free(dtext);
  jv_free(d);
}

void mock_reply_free(struct mock_reply *rp)
{
  if(!rp)
    return;
  free(rp->body);
  rp->body = NULL;
  if(jv_is_valid(rp->headers))
    jv_free(rp->headers);
  rp->headers = jv_invalid();
}
