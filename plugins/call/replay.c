/*
 * replay.c - the "replay" provider format: answers from a recorded-
 * outcomes file instead of HTTP (llmroute(1), RECORDED OUTCOMES), so a
 * pipeline runs unchanged on recorded outcomes (`llmroute eval`).
 *
 *   "providers":{"replay":{"format":"replay","outcomes":"out.jsonl"}}
 *
 * The file is indexed once (custom_id -> the line's offset); a call to
 * deployment model M for a job reads that line again and answers with
 * what M answered there, its recorded usage and its recorded cost (which
 * the attempt is charged, not a price from the catalog).  The recorded
 * score is dropped as the line is read: no stage ever sees it.  A
 * (custom_id, model) pair the file does not record is a failure of code
 * "not_recorded"; the call moves on to the next deployment as for any
 * other failure.
 *
 * Everything else of the call stage (budget reservation, rate limits,
 * fallbacks, hedging, answer checks, escalation after it) runs as with
 * HTTP: the answer is handed in on a zero-delay timer, as a transfer's
 * end would be.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "call.h"
#include "core/lib/strmap.h"

struct replay {
  FILE *f;
  char *path;
  struct strmap ids;   /* custom_id -> byte offset of its line */
  char *line;
  size_t cap;
};

void replay_close(struct replay *r)
{
  if(!r)
    return;
  if(r->f)
    fclose(r->f);
  strmap_free(&r->ids);
  free(r->path);
  free(r->line);
  free(r);
}

/* The custom_id of a line: read from the front when the line starts
 * with it (as the converters write it), else by parsing the line. */
static int line_id(const struct llmr_host *host, const char *line,
                   size_t len, char *id, size_t cap)
{
  static const char lead[] = "{\"custom_id\":\"";
  const char *p, *e;
  jv v, s;

  if(!strncmp(line, lead, sizeof(lead) - 1)) {
    p = line + sizeof(lead) - 1;
    e = p;
    while(e < line + len && *e != '"' && *e != '\\')
      e++;
    if(e < line + len && *e == '"' && (size_t)(e - p) < cap) {
      memcpy(id, p, (size_t)(e - p));
      id[e - p] = '\0';
      return 0;
    }
  }
  v = host->json_parse(line, len);
  s = jv_get_kind(v) == JV_KIND_OBJECT
      ? jv_object_get(jv_copy(v), jv_string("custom_id")) : jv_null();
  jv_free(v);
  if(jv_get_kind(s) != JV_KIND_STRING ||
     (size_t)jv_string_length_bytes(jv_copy(s)) >= cap) {
    jv_free(s);
    return -1;
  }
  snprintf(id, cap, "%s", jv_string_value(s));
  jv_free(s);
  return 0;
}

struct replay *replay_open(const struct llmr_host *host, const char *path,
                           char *err, size_t errlen)
{
  struct replay *r = calloc(1, sizeof(*r));
  ssize_t len;
  long off = 0, lineno = 0;
  char id[1024];

  if(!r) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  strmap_init(&r->ids);
  r->path = strdup(path);
  r->f = fopen(path, "r");
  if(!r->f || !r->path) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    replay_close(r);
    return NULL;
  }
  while((len = getline(&r->line, &r->cap, r->f)) >= 0) {
    lineno++;
    if(strspn(r->line, " \t\r\n") != (size_t)len) {
      if(line_id(host, r->line, (size_t)len, id, sizeof(id))) /* line-N */
        snprintf(id, sizeof(id), "line-%ld", lineno);
      if(strmap_put(&r->ids, id, off) == -2) {
        snprintf(err, errlen, "%s: out of memory", path);
        replay_close(r);
        return NULL;
      }
    }
    off += (long)len;
  }
  return r;
}

jv replay_lookup(struct replay *r, const struct llmr_host *host,
                 const char *custom_id, const char *model)
{
  long off = custom_id ? strmap_get(&r->ids, custom_id) : -1;
  ssize_t len;
  jv v, o;

  if(off < 0)
    return jv_invalid_with_msg(jv_string("no recorded outcomes for this "
                                         "custom_id"));
  if(fseek(r->f, off, SEEK_SET) ||
     (len = getline(&r->line, &r->cap, r->f)) < 0)
    return jv_invalid_with_msg(jv_string("cannot read the outcomes file"));
  v = host->json_parse(r->line, (size_t)len);
  o = jv_get_kind(v) == JV_KIND_OBJECT
      ? jv_object_get(jv_copy(v), jv_string("outcomes")) : jv_null();
  jv_free(v);
  v = jv_get_kind(o) == JV_KIND_OBJECT
      ? jv_object_get(o, jv_string(model)) : (jv_free(o), jv_null());
  if(jv_get_kind(v) != JV_KIND_OBJECT) {
    jv_free(v);
    return jv_invalid_with_msg(jv_string("not recorded for this model"));
  }
  return jv_object_delete(v, jv_string("score")); /* never seen */
}

/* ------------------------------------------------------------------
 * The format: a recorded answer {answer, usage, cost_usd} as a
 * chat.completion
 */

static char *replay_url(const char *base, const char *model)
{
  (void)base;
  (void)model;
  return strdup("replay:");
}

static jv replay_request(jv body, const char *model, unsigned flags)
{
  (void)model;
  (void)flags;
  return jv_copy(body);
}

static struct curl_slist *replay_headers(struct curl_slist *h,
                                         const char *key)
{
  (void)key;
  return h;
}

static jv replay_response(jv rec, const char *model, struct call_usage *u)
{
  jv ans = call_get(rec, "answer"), us = call_get(rec, "usage"), out, msg;
  jv choice;
  double cost = call_num(rec, "cost_usd", -1);

  if(jv_get_kind(ans) != JV_KIND_STRING) {
    jv_free(ans);
    jv_free(us);
    jv_free(rec);
    return jv_invalid_with_msg(jv_string("the recorded answer is not a "
                                         "string"));
  }
  memset(u, 0, sizeof(*u));
  u->input = call_usage_count(u, us, "input_tokens");
  u->cached = call_usage_count(u, us, "cached_tokens");
  u->input += u->cached;
  u->output = call_usage_count(u, us, "output_tokens");
  u->has_cost = cost >= 0 && cost < 1e6;
  u->cost = u->has_cost ? cost : 0;
  msg = jv_object_set(jv_object(), jv_string("role"), jv_string("assistant"));
  msg = jv_object_set(msg, jv_string("content"), ans);
  msg = jv_object_set(msg, jv_string("refusal"), jv_null());
  choice = jv_object_set(jv_object(), jv_string("index"), jv_number(0));
  choice = jv_object_set(choice, jv_string("message"), msg);
  choice = jv_object_set(choice, jv_string("logprobs"), jv_null());
  choice = jv_object_set(choice, jv_string("finish_reason"),
                         jv_string("stop"));
  out = call_completion(jv_string("replay"), model);
  out = jv_object_set(out, jv_string("choices"),
                      jv_array_append(jv_array(), choice));
  out = call_set_usage(out, u);
  jv_free(us);
  jv_free(rec);
  return out;
}

const struct call_format call_replay = {
  "replay", replay_url, replay_request, replay_headers, replay_response
};
