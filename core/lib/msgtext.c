/*
 * msgtext.c - the text of a request's messages (see msgtext.h).
 */
#include <stdlib.h>
#include <string.h>

#include "msgtext.h"
#include "jvfast.h"

/* The keys looked up, made once (one thread) and kept: a lookup then
 * costs a reference count, not an allocation. */
enum { K_BODY, K_MESSAGES, K_PROMPT, K_ROLE, K_CONTENT, K_TEXT, K_TYPE,
       NKEYS };
static jv keys[NKEYS];
static int keys_ready;

void mt_release(void)
{
  int i;

  if(!keys_ready)
    return;
  for(i = 0; i < NKEYS; i++)
    jvf_free(keys[i]);
  keys_ready = 0;
}

/* Borrows obj.  New ref of obj[key], or jv_invalid() when obj is no
 * object or lacks key. */
static jv field(jv obj, int key)
{
  static const char *const names[NKEYS] = {"body", "messages", "prompt",
                                           "role", "content", "text",
                                           "type"};
  if(!keys_ready) {
    int i;
    for(i = 0; i < NKEYS; i++)
      keys[i] = jv_string(names[i]);
    keys_ready = 1;
  }
  return jvf_get(obj, keys[key]);
}

/* Borrows msg.  Its role as an LLMR_TEXT_* bit: a message without a
 * role string (and any role not named here) counts as user. */
static unsigned role_bit(jv msg)
{
  jv role = field(msg, K_ROLE);
  unsigned bit = LLMR_TEXT_USER;

  if(jv_get_kind(role) == JV_KIND_STRING) {
    const char *r = jv_string_value(role);
    if(!strcmp(r, "system") || !strcmp(r, "developer"))
      bit = LLMR_TEXT_SYSTEM;
    else if(!strcmp(r, "assistant"))
      bit = LLMR_TEXT_ASSISTANT;
    else if(!strcmp(r, "tool") || !strcmp(r, "function"))
      bit = LLMR_TEXT_TOOL;
  }
  jvf_free(role);
  return bit;
}

/* Borrows part.  1 when part is a text part: an object with a string
 * "text" and a "type" that is "text" or absent. */
static int is_text_part(jv part, jv *text)
{
  jv type, t = field(part, K_TEXT);
  int ok = jv_get_kind(t) == JV_KIND_STRING;

  if(ok) {
    type = field(part, K_TYPE);
    ok = !jv_is_valid(type) || (jv_get_kind(type) == JV_KIND_STRING &&
                                !strcmp(jv_string_value(type), "text"));
    jvf_free(type);
  }
  if(ok && text)
    *text = t;
  else
    jvf_free(t);
  return ok;
}

/* Borrows holder.  New ref of its messages array (body.messages, else
 * messages), or jv_invalid(). */
static jv messages_of(jv holder)
{
  jv body = field(holder, K_BODY), msgs;

  if(jv_get_kind(body) == JV_KIND_OBJECT)
    msgs = field(body, K_MESSAGES);
  else
    msgs = field(holder, K_MESSAGES);
  jvf_free(body);
  if(jv_get_kind(msgs) != JV_KIND_ARRAY) {
    jvf_free(msgs);
    return jv_invalid();
  }
  return msgs;
}

/* ---------------------------------------------------------------------
 * Reading
 */

struct walk {
  mt_emit_fn emit;
  void *ctx;
  int pieces;
};

static void piece(struct walk *w, jv s)
{
  if(w->pieces++)
    w->emit(w->ctx, "\n", 1);
  w->emit(w->ctx, jv_string_value(s),
          (size_t)jv_string_length_bytes(jvf_copy(s)));
}

/* Borrows content: a string or an array of parts. */
static void walk_content(struct walk *w, jv content)
{
  jv_kind k = jv_get_kind(content);

  if(k == JV_KIND_STRING)
    piece(w, content);
  else if(k == JV_KIND_ARRAY) {
    int i, n = jv_array_length(jvf_copy(content));
    for(i = 0; i < n; i++) {
      jv part = jv_array_get(jvf_copy(content), i), text;
      if(is_text_part(part, &text)) {
        piece(w, text);
        jvf_free(text);
      }
      jvf_free(part);
    }
  }
}

/* Borrows msgs (an array).  Index of the last message whose role is in
 * which, or -1. */
static int last_of(jv msgs, int n, unsigned which)
{
  int i;

  for(i = n - 1; i >= 0; i--) {
    jv m = jv_array_get(jvf_copy(msgs), i);
    unsigned bit = role_bit(m);
    jvf_free(m);
    if(bit & which)
      return i;
  }
  return -1;
}

int mt_walk(jv holder, unsigned which, mt_emit_fn emit, void *ctx)
{
  struct walk w;
  jv msgs = messages_of(holder), prompt;
  int chosen = 0;

  w.emit = emit;
  w.ctx = ctx;
  w.pieces = 0;
  if(jv_is_valid(msgs)) {
    int i, n = jv_array_length(jvf_copy(msgs));
    int from = 0, to = n;
    if(which & LLMR_TEXT_LAST) {
      from = last_of(msgs, n, which);
      to = from + 1;
    }
    for(i = from < 0 ? n : from; i < to; i++) {
      jv m = jv_array_get(jvf_copy(msgs), i);
      if(role_bit(m) & which) {
        jv content = field(m, K_CONTENT);
        walk_content(&w, content);
        jvf_free(content);
        chosen = 1;
      }
      jvf_free(m);
    }
  }
  jvf_free(msgs);
  if((which & LLMR_TEXT_USER) && !((which & LLMR_TEXT_LAST) && chosen)) {
    prompt = field(holder, K_PROMPT);
    walk_content(&w, prompt);
    jvf_free(prompt);
  }
  return w.pieces;
}

/* A growing byte buffer for mt_text(). */
struct join {
  char *p;
  size_t len, cap;
  int oom;
};

static void join_emit(void *ctx, const char *s, size_t n)
{
  struct join *j = ctx;

  if(j->oom)
    return;
  if(j->len + n + 1 > j->cap) {
    size_t cap = j->cap ? j->cap : 256;
    char *p;
    while(cap < j->len + n + 1)
      cap *= 2;
    p = realloc(j->p, cap);
    if(!p) {
      j->oom = 1;
      return;
    }
    j->p = p;
    j->cap = cap;
  }
  memcpy(j->p + j->len, s, n);
  j->len += n;
}

jv mt_text(jv holder, unsigned which)
{
  struct join j;
  jv out;

  memset(&j, 0, sizeof(j));
  mt_walk(holder, which, join_emit, &j);
  out = j.oom ? jv_invalid_with_msg(jv_string("out of memory"))
              : jv_string_sized(j.p ? j.p : "", (int)j.len);
  free(j.p);
  return out;
}

jv mt_content_text(jv content)
{
  struct join j;
  struct walk w;
  jv out;

  memset(&j, 0, sizeof(j));
  w.emit = join_emit;
  w.ctx = &j;
  w.pieces = 0;
  walk_content(&w, content);
  if(!w.pieces || j.oom)
    out = jv_null();
  else
    out = jv_string_sized(j.p ? j.p : "", (int)j.len);
  free(j.p);
  return out;
}

/* ---------------------------------------------------------------------
 * Rewriting (jq's API: not on a hot path, and it copies on write)
 */

/* Consumes content.  Each piece of its text replaced by fn(ctx, piece). */
static jv map_content(jv content, llmr_text_fn fn, void *ctx)
{
  jv_kind k = jv_get_kind(content);

  if(k == JV_KIND_STRING) {
    jv r = fn(ctx, jv_copy(content));
    if(jv_get_kind(r) == JV_KIND_STRING) {
      jv_free(content);
      return r;
    }
    jv_free(r);
    return content;
  }
  if(k == JV_KIND_ARRAY) {
    int i, n = jv_array_length(jv_copy(content));
    for(i = 0; i < n; i++) {
      jv part = jv_array_get(jv_copy(content), i), text, r;
      if(!is_text_part(part, &text)) {
        jv_free(part);
        continue;
      }
      r = fn(ctx, text);
      if(jv_get_kind(r) == JV_KIND_STRING)
        content = jv_array_set(content, i,
                               jv_object_set(part, jv_string("text"), r));
      else {
        jv_free(r);
        jv_free(part);
      }
    }
  }
  return content;
}

/* Consumes holder.  The messages array set back where messages_of()
 * found it. */
static jv put_messages(jv holder, jv msgs)
{
  jv body = jv_object_get(jv_copy(holder), jv_string("body"));

  if(jv_get_kind(body) == JV_KIND_OBJECT) {
    body = jv_object_set(body, jv_string("messages"), msgs);
    return jv_object_set(holder, jv_string("body"), body);
  }
  jv_free(body);
  return jv_object_set(holder, jv_string("messages"), msgs);
}

jv mt_map_text(jv request, unsigned which, llmr_text_fn fn, void *ctx)
{
  jv msgs = messages_of(request);
  int chosen = 0;

  if(!fn || jv_get_kind(request) != JV_KIND_OBJECT) {
    jv_free(msgs);
    return request;
  }
  if(jv_is_valid(msgs)) {
    int i, n = jv_array_length(jv_copy(msgs));
    int from = 0, to = n;
    if(which & LLMR_TEXT_LAST) {
      from = last_of(msgs, n, which);
      to = from + 1;
    }
    for(i = from < 0 ? n : from; i < to; i++) {
      jv m = jv_array_get(jv_copy(msgs), i);
      if(jv_get_kind(m) == JV_KIND_OBJECT && (role_bit(m) & which) &&
         jv_object_has(jv_copy(m), jv_string("content"))) {
        jv c = jv_object_get(jv_copy(m), jv_string("content"));
        m = jv_object_set(m, jv_string("content"), map_content(c, fn, ctx));
        msgs = jv_array_set(msgs, i, m);
        chosen = 1;
      }
      else
        jv_free(m);
    }
    if(chosen)
      request = put_messages(request, msgs);
    else
      jv_free(msgs);
  }
  else
    jv_free(msgs);
  if((which & LLMR_TEXT_USER) && !((which & LLMR_TEXT_LAST) && chosen) &&
     jv_object_has(jv_copy(request), jv_string("prompt"))) {
    jv p = jv_object_get(jv_copy(request), jv_string("prompt"));
    request = jv_object_set(request, jv_string("prompt"),
                            map_content(p, fn, ctx));
  }
  return request;
}

/* Consumes content and text.  See set_message_text in llmroute.h. */
static jv replace_content(jv content, jv text)
{
  jv out;
  int i, n, placed = 0;

  if(jv_get_kind(content) != JV_KIND_ARRAY) {
    jv_free(content);
    return text;
  }
  out = jv_array();
  n = jv_array_length(jv_copy(content));
  for(i = 0; i < n; i++) {
    jv part = jv_array_get(jv_copy(content), i);
    if(!is_text_part(part, NULL))
      out = jv_array_append(out, part);
    else if(!placed) {
      out = jv_array_append(out, jv_object_set(part, jv_string("text"),
                                               jv_copy(text)));
      placed = 1;
    }
    else
      jv_free(part);
  }
  jv_free(content);
  if(!placed) {
    jv p = jv_object();
    p = jv_object_set(p, jv_string("type"), jv_string("text"));
    out = jv_array_append(out, jv_object_set(p, jv_string("text"),
                                             jv_copy(text)));
  }
  jv_free(text);
  return out;
}

jv mt_set_message_text(jv request, int index, jv text)
{
  jv msgs, m;
  int n;

  if(jv_get_kind(text) != JV_KIND_STRING) {
    jv_free(text);
    jv_free(request);
    return jv_invalid_with_msg(jv_string("the text is not a string"));
  }
  msgs = messages_of(request);
  if(!jv_is_valid(msgs)) {
    jv_free(msgs);
    if(jv_get_kind(request) == JV_KIND_OBJECT && (index == 0 || index == -1)
       && jv_object_has(jv_copy(request), jv_string("prompt")))
      return jv_object_set(request, jv_string("prompt"), text);
    jv_free(text);
    jv_free(request);
    return jv_invalid_with_msg(jv_string("the request has no messages"));
  }
  n = jv_array_length(jv_copy(msgs));
  if(index < 0)
    index += n;
  if(index < 0 || index >= n) {
    jv_free(msgs);
    jv_free(text);
    jv_free(request);
    return jv_invalid_with_msg(jv_string("no such message"));
  }
  m = jv_array_get(jv_copy(msgs), index);
  if(jv_get_kind(m) != JV_KIND_OBJECT) {
    jv_free(m);
    jv_free(msgs);
    jv_free(text);
    jv_free(request);
    return jv_invalid_with_msg(jv_string("the message is not an object"));
  }
  m = jv_object_set(m, jv_string("content"),
                    replace_content(jv_object_get(jv_copy(m),
                                                  jv_string("content")),
                                    text));
  msgs = jv_array_set(msgs, index, m);
  return put_messages(request, msgs);
}
