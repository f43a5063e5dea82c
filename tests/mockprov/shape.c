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

/* ---------------------------------------------------------------------
 * Endpoints.
 */

/* Borrows s, suffix.  1 when s ends with suffix. */
static int ends_with(const char *s, const char *suffix)
{
  size_t a = strlen(s), b = strlen(suffix);
  return a >= b && !memcmp(s + a - b, suffix, b);
}

/* Borrows path.  See mockprov.h. */
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

/* Static result.  See mockprov.h. */
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
      jv t = mock_get_string(part, "text");
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
    add_content(&texts, "system", -1, mock_get(body, "system"));
  if(f == FMT_GEMINI) {
    sys = mock_get(body, "systemInstruction");
    if(jv_get_kind(sys) == JV_KIND_NULL) {
      jv_free(sys);
      sys = mock_get(body, "system_instruction");
    }
    add_content(&texts, "system", -1, mock_get(sys, "parts"));
    jv_free(sys);
  }
  list = mock_get(body, list_key);
  if(jv_get_kind(list) == JV_KIND_ARRAY) {
    jv_array_foreach(list, i, msg) {
      jv role = mock_get_string(msg, "role");
      add_content(&texts,
                  jv_get_kind(role) == JV_KIND_STRING ?
                  jv_string_value(role) : "user", i,
                  mock_get(msg, part_key));
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
    jv role = mock_get(t, "role");
    jv msg = mock_get(t, "msg");
    if(mock_streq(role, "user") && jv_get_kind(msg) == JV_KIND_NUMBER)
      last = jv_number_value(msg);
    jv_free(role);
    jv_free(msg);
    jv_free(t);
  }
  jv_array_foreach(texts, i, t) {
    jv msg = mock_get(t, "msg");
    if(jv_get_kind(msg) == JV_KIND_NUMBER && jv_number_value(msg) == last)
      joined = jv_string_concat(joined, mock_get(t, "text"));
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
    jv bm = mock_get(d, "by_model");
    jv seq = mock_get(d, "seq");
    int done = 1;
    if(jv_get_kind(bm) == JV_KIND_OBJECT) {
      jv sel = mock_get(bm, model);
      if(jv_get_kind(sel) != JV_KIND_OBJECT) {
        jv_free(sel);
        sel = mock_get(bm, "*");
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
 * The plan.
 */

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
  set_json_body(rp, mock_error_body(rq->format, status, d, rq->n, p));
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
  v = mock_get(j, rq->format == FMT_GEMINI ? "contents" : "messages");
  k = jv_get_kind(v);
  jv_free(v);
  if(k != JV_KIND_ARRAY)
    return jv_string(rq->format == FMT_GEMINI ?
                     "contents: Field required" :
                     "messages: Field required");
  if(rq->format == FMT_ANTHROPIC) {
    v = mock_get(j, "max_tokens");
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
  jv trunc = mock_get(d, "truncate");
  if(mock_get_flag(d, "garbage")) {
    rp->fault = "garbage";
    set_text_body(rp, "<<mockprov garbage \xff\xfe not json {{{ \"ch",
                  "application/json");
  }
  else if(mock_get_flag(d, "html")) {
    rp->fault = "html";
    set_text_body(rp, "<html><head><title>502 Bad Gateway</title></head>"
                  "<body><center><h1>502 Bad Gateway</h1></center><hr>"
                  "<center>nginx</center></body></html>\n", "text/html");
  }
  else if(mock_get_flag(d, "error_in_200")) {
    rp->fault = "error_in_200";
    set_json_body(rp, mock_error_body(rq->format,
                                 (int)mock_get_long(d, "error_status", 500), d,
                                 rq->n, p));
  }
  if(mock_streq(trunc, "json")) {
    rp->fault = "truncate";
    rp->body_len /= 2;
    rp->body[rp->body_len] = 0;
  }
  else if(jv_get_kind(trunc) == JV_KIND_TRUE || mock_streq(trunc, "length")) {
    rp->fault = "truncate";
    rp->cut = 1;
  }
  jv_free(trunc);
  rp->trickle_ms = mock_get_long(d, "trickle_ms", 0);
  if(rp->trickle_ms > 0) {
    rp->trickle_bytes = mock_get_long(d, "trickle_bytes", 16);
    if(rp->trickle_bytes < 1)
      rp->trickle_bytes = 1;
    if(!rp->fault)
      rp->fault = "trickle";
  }
}

/* Consumes body; borrows d.  body with the directive's "usage" object
   merged over its usage object (OpenAI and Anthropic "usage", Gemini
   "usageMetadata"), the values as given: absurd counts reach the client
   unchanged. */
static jv override_usage(enum mock_format f, jv body, jv d)
{
  jv over = mock_get(d, "usage"), cur;
  const char *key = f == FMT_GEMINI ? "usageMetadata" : "usage";
  if(jv_get_kind(over) != JV_KIND_OBJECT ||
     jv_get_kind(body) != JV_KIND_OBJECT) {
    jv_free(over);
    return body;
  }
  cur = mock_get(body, key);
  if(jv_get_kind(cur) != JV_KIND_OBJECT) {
    jv_free(cur);
    cur = jv_object();
  }
  return jv_object_set(body, jv_string(key), jv_object_merge(cur, over));
}

/* Borrows d.  New ref: the answer text. */
static jv plan_answer(const struct mock_request *rq, jv d, jv texts)
{
  jv a = mock_get(d, "answer");
  if(jv_get_kind(a) == JV_KIND_STRING)
    return a;
  if(jv_get_kind(a) != JV_KIND_NULL)
    return jv_dump_string(a, 0);
  jv_free(a);
  if(mock_get_flag(d, "echo"))
    return last_user_text(texts);
  return jv_string_fmt("mock answer from %s",
                       jv_get_kind(rq->model) == JV_KIND_STRING ?
                       jv_string_value(rq->model) : "?");
}

/* Fills rq's parsed fields and rp.  See mockprov.h. */
void mock_plan(struct mock_request *rq, struct mock_reply *rp)
{
  jv texts = jv_array(), dtext = jv_null(), d = jv_object(), problem;
  jv answer, body;
  struct mock_usage u;
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
    rq->model = mock_get_string(rq->json, "model");
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

  rp->latency_ms += mock_get_long(d, "latency_ms", 0);
  rp->headers = mock_ratelimit_headers(rp->headers, rq->format, d, u.prompt);
  rp->headers = mock_scripted_headers(rp->headers, d);
  rp->status = (int)mock_get_long(d, "status", 200);
  if(rp->status < 100 || rp->status > 999)
    rp->status = 200;
  if(mock_get_flag(d, "reset")) {
    rp->action = ACT_RESET;
    rp->fault = "reset";
    rp->status = 0;
    goto done;
  }
  if(mock_get_flag(d, "hang")) {
    rp->action = ACT_HANG;
    rp->fault = "hang";
    rp->status = 0;
    rp->hang_ms = mock_get_long(d, "hang_ms", -1);
    goto done;
  }

  u.prompt = mock_get_long(d, "prompt_tokens", u.prompt);
  u.cached = mock_get_long(d, "cached_tokens", 0);
  u.cache_write = mock_get_long(d, "cache_creation_tokens", 0);
  u.reasoning = mock_get_long(d, "reasoning_tokens", 0);
  if(rp->status >= 400) {
    plan_error(rq, rp, rp->status, d, u.prompt);
  }
  else {
    jv tools = mock_get(d, "tool_calls");
    jv has_answer = mock_get(d, "answer");
    int with_text = jv_get_kind(has_answer) != JV_KIND_NULL;
    jv_free(has_answer);
    if(jv_get_kind(tools) == JV_KIND_OBJECT)
      tools = JV_ARRAY(tools);
    if(jv_get_kind(tools) != JV_KIND_ARRAY ||
       !jv_array_length(jv_copy(tools))) {
      jv_free(tools);
      tools = jv_null();
    }
    big = mock_get_long(d, "big", 0);
    answer = big > 0 ? jv_string(BIG_MARK) :
             jv_get_kind(tools) == JV_KIND_ARRAY && !with_text ?
             jv_string("") : plan_answer(rq, d, texts);
    answer_bytes = big > 0 ? big : jv_string_length_bytes(jv_copy(answer));
    if(jv_get_kind(tools) == JV_KIND_ARRAY)
      answer_bytes += jv_string_length_bytes(jv_dump_string(jv_copy(tools),
                                                            0));
    k = answer_bytes / 4;
    u.completion = mock_get_long(d, "completion_tokens", k < 1 ? 1 : k);
    {
      jv fin = mock_get_string(d, "finish_reason");
      finish = jv_get_kind(fin) == JV_KIND_STRING ? jv_string_value(fin) :
               jv_get_kind(tools) == JV_KIND_ARRAY ? "tool_calls" : "stop";
      body = mock_success_body(rq->format, jv_copy(rq->model), answer,
                          finish, &u, rq->n);
      jv_free(fin);
    }
    if(jv_get_kind(tools) == JV_KIND_ARRAY)
      body = mock_add_tool_calls(rq->format, body, tools, with_text, rq->n);
    jv_free(tools);
    body = override_usage(rq->format, body, d);
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

/* Frees what rp holds; NULL and a second call are fine. */
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
