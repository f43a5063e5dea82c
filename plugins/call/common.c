/*
 * common.c - jv helpers shared by the provider formats of the call stage.
 * Every helper checks kinds first: provider answers are untrusted, and
 * jq's kind-specific calls assert.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "call.h"

/* Borrows obj.  New ref, or jv_null() when absent; never asserts. */
jv call_get(jv obj, const char *key)
{
  if(jv_get_kind(obj) != JV_KIND_OBJECT)
    return jv_null();
  jv v = jv_object_get(jv_copy(obj), jv_string(key));
  if(!jv_is_valid(v)) {
    jv_free(v);
    return jv_null();
  }
  return v;
}

/* Borrows obj.  Pointer into obj's string value of key, or NULL. */
const char *call_str(jv obj, const char *key)
{
  jv v = call_get(obj, key);
  const char *s = NULL;
  if(jv_get_kind(v) == JV_KIND_STRING)
    s = jv_string_value(v);
  /* obj still holds a reference, so the string outlives v */
  jv_free(v);
  return s;
}

/* Borrows obj.  Number value of key, or def. */
double call_num(jv obj, const char *key, double def)
{
  jv v = call_get(obj, key);
  double d = def;
  if(jv_get_kind(v) == JV_KIND_NUMBER)
    d = jv_number_value(v);
  jv_free(v);
  return d;
}

long call_count(double d)
{
  if(!(d > 0))
    return 0;
  return d > 9007199254740992.0 ? 9007199254740992L : (long)d;
}

/* The first impossible count, noted once. */
static void note_impossible(struct call_usage *u, const char *key, jv v)
{
  if(u->impossible[0])
    return;
  if(jv_get_kind(v) == JV_KIND_NUMBER)
    snprintf(u->impossible, sizeof(u->impossible), "%.40s %.6g", key,
             jv_number_value(v));
  else
    snprintf(u->impossible, sizeof(u->impossible), "%.40s is a%s %s", key,
             jv_get_kind(v) == JV_KIND_ARRAY || jv_get_kind(v) ==
             JV_KIND_OBJECT ? "n" : "", jv_kind_name(jv_get_kind(v)));
}

/* Borrows v.  1 when v is a possible token count. */
static int possible_count(jv v)
{
  double d;
  if(jv_get_kind(v) != JV_KIND_NUMBER)
    return 0;
  d = jv_number_value(v);
  return d >= 0 && d < 9007199254740992.0 && d == floor(d);
}

long call_usage_count(struct call_usage *u, jv obj, const char *key)
{
  jv v = call_get(obj, key);
  long n = 0;
  if(possible_count(v))
    n = (long)jv_number_value(v);
  else if(jv_get_kind(v) != JV_KIND_NULL && jv_is_valid(v))
    note_impossible(u, key, v);
  jv_free(v);
  return n;
}

/* Consumes obj.  call_usage_clean at depth. */
static jv clean_counts(struct call_usage *u, jv obj, int depth)
{
  jv out = jv_object();
  jv_object_foreach(obj, k, v) {
    jv_kind kind = jv_get_kind(v);
    if(kind == JV_KIND_NUMBER) {
      if(!possible_count(v)) {
        note_impossible(u, jv_string_value(k), v);
        jv_free(v);
        v = jv_number(0);
      }
      out = jv_object_set(out, k, v);
    }
    else if(kind == JV_KIND_OBJECT && depth < 2)
      out = jv_object_set(out, k, clean_counts(u, v, depth + 1));
    else {
      jv_free(k);
      jv_free(v);
    }
  }
  jv_free(obj);
  return out;
}

jv call_usage_clean(struct call_usage *u, jv us)
{
  if(jv_get_kind(us) != JV_KIND_OBJECT) {
    jv_free(us);
    return jv_object();
  }
  return clean_counts(u, us, 1);
}

/* Borrows v. */
int call_is(jv v, jv_kind k)
{
  return jv_get_kind(v) == k;
}

/* Returns a malloc'd string base + path; NULL on out of memory. */
char *call_join_url(const char *base, const char *path)
{
  size_t bl = strlen(base), pl = strlen(path);
  while(bl && base[bl - 1] == '/')
    bl--;
  char *u = malloc(bl + pl + 2);
  if(!u)
    return NULL;
  memcpy(u, base, bl);
  if(path[0] != '/')
    u[bl++] = '/';
  memcpy(u + bl, path, pl + 1);
  return u;
}

/* Borrows body. */
long call_max_tokens(jv body, long def)
{
  double d = call_num(body, "max_completion_tokens", -1);
  if(d < 0)
    d = call_num(body, "max_tokens", -1);
  if(d < 0)
    return def;
  return (long)d;
}

/* Consumes id.  New ref: the chat.completion shell. */
jv call_completion(jv id, const char *model)
{
  jv c = jv_object();
  if(jv_get_kind(id) != JV_KIND_STRING) {
    jv_free(id);
    id = jv_string_fmt("chatcmpl-llmr%lx%04x", (unsigned long)time(NULL),
                       (unsigned)(rand() & 0xffff));
  }
  c = jv_object_set(c, jv_string("id"), id);
  c = jv_object_set(c, jv_string("object"), jv_string("chat.completion"));
  c = jv_object_set(c, jv_string("created"), jv_number((double)time(NULL)));
  c = jv_object_set(c, jv_string("model"), jv_string(model ? model : ""));
  return c;
}

/* Consumes completion; borrows u. */
jv call_set_usage(jv completion, const struct call_usage *u)
{
  jv us = jv_object();
  us = jv_object_set(us, jv_string("prompt_tokens"),
                     jv_number((double)u->input));
  us = jv_object_set(us, jv_string("completion_tokens"),
                     jv_number((double)u->output));
  us = jv_object_set(us, jv_string("total_tokens"),
                     jv_number((double)(u->input + u->output)));
  jv det = jv_object();
  det = jv_object_set(det, jv_string("cached_tokens"),
                      jv_number((double)u->cached));
  us = jv_object_set(us, jv_string("prompt_tokens_details"), det);
  return jv_object_set(completion, jv_string("usage"), us);
}

/* Borrows url.  New refs in *mime and *data on success (returns 1). */
int call_data_uri(const char *url, jv *mime, jv *data)
{
  if(!url || strncmp(url, "data:", 5))
    return 0;
  const char *comma = strchr(url, ',');
  const char *semi = strstr(url, ";base64");
  if(!comma || !semi || semi > comma)
    return 0;
  *mime = jv_string_sized(url + 5, (int)(semi - (url + 5)));
  *data = jv_string(comma + 1);
  return 1;
}

/* The format named name, or NULL. */
const struct call_format *call_format_find(const char *name)
{
  if(!name)
    return NULL;
  if(!strcmp(name, "openai"))
    return &call_openai;
  if(!strcmp(name, "anthropic"))
    return &call_anthropic;
  if(!strcmp(name, "gemini"))
    return &call_gemini;
  if(!strcmp(name, "replay"))
    return &call_replay;
  return NULL;
}
