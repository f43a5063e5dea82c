/*
 * batchout.c - result lines in the providers' own batch formats
 * (--output-format; llmroute(1), RESULT LINES): the OpenAI Batch API's
 * output line, and the Anthropic Message Batches results line.  Both
 * carry only the keys the providers document, so code written for their
 * batch results reads llmroute's unchanged; llmroute's route record is in
 * the default format (and a log stage) only.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "run.h"

/* Borrows v.  The string at key, or NULL. */
static const char *str_at(jv v, const char *key, jv *hold)
{
  *hold = json_get(v, key);
  return jv_get_kind(*hold) == JV_KIND_STRING ? jv_string_value(*hold) : NULL;
}

/* Without an answer or an error the pipeline only planned the request
 * (no call stage): a provider format has no such line, so it is an
 * error of its own. */
#define NOT_SENT_CODE "not_sent"
#define NOT_SENT_MSG "the pipeline planned the request and sent nothing " \
                     "(no call stage)"

/* Borrows job.  The error's code and message (held in *hc and *hm). */
static void error_text(const struct llmr_job *job, const char **code,
                       const char **msg, jv *hc, jv *hm)
{
  *code = str_at(job->error, "code", hc);
  *msg = str_at(job->error, "message", hm);
  if(jv_get_kind(job->error) == JV_KIND_NULL) {
    *code = NOT_SENT_CODE;
    *msg = NOT_SENT_MSG;
  }
  if(!*code)
    *code = "error";
  if(!*msg)
    *msg = "";
}

/* The provider's HTTP error behind the job's error, when the call stage
 * kept one (route.http_error) for this very error code: a new ref, or
 * jv_null(). */
static jv http_error_of(const struct llmr_job *job)
{
  jv h = json_get(job->route, "http_error"), hc, ec;
  const char *hcode = str_at(h, "code", &hc);
  const char *ecode = str_at(job->error, "code", &ec);
  int same = hcode && ecode && !strcmp(hcode, ecode);
  jv st = json_get(h, "status_code"), body = json_get(h, "body");

  if(!same || jv_get_kind(st) != JV_KIND_NUMBER ||
     jv_get_kind(body) != JV_KIND_OBJECT) {
    jv_free(h);
    h = jv_null();
  }
  jv_free(hc);
  jv_free(ec);
  jv_free(st);
  jv_free(body);
  return h;
}

/* The request id of the answer: the provider's, else one made from the
 * result id (the Batch API always gives one). */
static void put_request_id(struct buf *b, const struct llmr_job *job,
                           jv http, const char *id)
{
  jv hold;
  const char *rid = str_at(jv_get_kind(http) == JV_KIND_OBJECT ?
                           http : job->route, "request_id", &hold);

  if(rid)
    json_write_string(b, rid, strlen(rid));
  else {
    buf_puts(b, "\"req_");
    buf_puts(b, id); /* a result id: [A-Za-z0-9_-] */
    buf_putc(b, '"');
  }
  jv_free(hold);
}

/* Borrows job.  The error message, with the llmroute code first (the
 * provider formats have no field for it). */
static void put_coded_message(struct buf *b, const struct llmr_job *job)
{
  jv hc, hm;
  const char *code, *msg;
  struct buf t;

  error_text(job, &code, &msg, &hc, &hm);
  buf_init(&t);
  buf_puts(&t, code);
  buf_puts(&t, ": ");
  buf_puts(&t, msg);
  json_write_string(b, t.p, t.len);
  buf_free(&t);
  jv_free(hc);
  jv_free(hm);
}

/* ---------------------------------------------------------------------
 * OpenAI Batch: {"id","custom_id","response":{"status_code","request_id",
 * "body"},"error"}.  A provider's HTTP error is its status code and body
 * in "response" with "error" null, as the Batch API reports it; a failure
 * that never reached a provider is "error" {"code","message"}.
 */
void batch_put_openai(struct buf *b, const struct llmr_job *job,
                      const char *id)
{
  int failed = jv_get_kind(job->error) != JV_KIND_NULL ||
               jv_get_kind(job->response) == JV_KIND_NULL;
  jv http = failed ? http_error_of(job) : jv_null();

  buf_puts(b, "{\"id\":\"batch_req_");
  buf_puts(b, id);
  buf_puts(b, "\",\"custom_id\":");
  json_write_string(b, job->custom_id, strlen(job->custom_id));
  buf_puts(b, ",\"response\":");
  if(!failed || jv_get_kind(http) == JV_KIND_OBJECT) {
    jv st = json_get(http, "status_code"), body = json_get(http, "body");

    buf_puts(b, "{\"status_code\":");
    buf_put_uint(b, failed ? (unsigned long long)jv_number_value(st) : 200);
    buf_puts(b, ",\"request_id\":");
    put_request_id(b, job, http, id);
    buf_puts(b, ",\"body\":");
    json_write(b, failed ? body : job->response);
    buf_puts(b, "},\"error\":null}\n");
    jv_free(st);
    jv_free(body);
  }
  else {
    jv hc, hm;
    const char *code, *msg;

    error_text(job, &code, &msg, &hc, &hm);
    buf_puts(b, "null,\"error\":{\"code\":");
    json_write_string(b, code, strlen(code));
    buf_puts(b, ",\"message\":");
    json_write_string(b, msg, strlen(msg));
    buf_puts(b, "}}\n");
    jv_free(hc);
    jv_free(hm);
  }
  jv_free(http);
}

/* ---------------------------------------------------------------------
 * Anthropic Message Batches: {"custom_id","result":{"type":"succeeded",
 * "message":{...}}}, or "errored" with an error response, or "expired"
 * (the job's deadline) or "canceled" (interrupted).
 */

/* The Anthropic error type for an llmroute error code (and the
 * provider's status, 0 if none). */
static const char *anthropic_type(const char *code, long status)
{
  static const struct {
    const char *code, *type;
  } map[] = {
    {"auth_error", "authentication_error"},
    {"rate_limited", "rate_limit_error"},
    {"timeout", "timeout_error"},
    {"budget_exceeded", "billing_error"},
    {"provider_error", "api_error"},
    {"invalid_output", "api_error"},
    {"internal_error", "api_error"},
    {"stage_error", "api_error"},
    {NULL, NULL}
  };
  int i;

  switch(status) {
  case 401: return "authentication_error";
  case 402: return "billing_error";
  case 403: return "permission_error";
  case 404: return "not_found_error";
  case 413: return "request_too_large";
  case 429: return "rate_limit_error";
  case 529: return "overloaded_error";
  default: break;
  }
  for(i = 0; code && map[i].code; i++)
    if(!strcmp(code, map[i].code))
      return map[i].type;
  return status >= 500 ? "api_error" : "invalid_request_error";
}

static void put_text_block(struct buf *b, jv text)
{
  buf_puts(b, "{\"type\":\"text\",\"text\":");
  json_write(b, text);
  buf_putc(b, '}');
}

/* The content blocks of a chat.completion message (borrowed). */
static void put_content(struct buf *b, jv msg)
{
  jv content = json_get(msg, "content"), calls = json_get(msg, "tool_calls");
  int n = 0, i, k;

  buf_putc(b, '[');
  if(jv_get_kind(content) == JV_KIND_STRING &&
     jv_string_length_bytes(jv_copy(content)) > 0) {
    put_text_block(b, content);
    n++;
  }
  else if(jv_get_kind(content) == JV_KIND_ARRAY) {
    k = jv_array_length(jv_copy(content));
    for(i = 0; i < k; i++) {
      jv p = jv_array_get(jv_copy(content), i), t = json_get(p, "text");

      if(jv_get_kind(t) == JV_KIND_STRING) {
        if(n++)
          buf_putc(b, ',');
        put_text_block(b, t);
      }
      jv_free(t);
      jv_free(p);
    }
  }
  k = jv_get_kind(calls) == JV_KIND_ARRAY ? jv_array_length(jv_copy(calls))
                                          : 0;
  for(i = 0; i < k; i++) {
    jv c = jv_array_get(jv_copy(calls), i), fn = json_get(c, "function");
    jv hid, hname, hargs, input = jv_invalid();
    const char *cid = str_at(c, "id", &hid);
    const char *name = str_at(fn, "name", &hname);
    const char *args = str_at(fn, "arguments", &hargs);

    /* Anthropic's input is an object, OpenAI's arguments its JSON text */
    if(args)
      input = json_parse(args, strlen(args));
    if(n++)
      buf_putc(b, ',');
    buf_puts(b, "{\"type\":\"tool_use\",\"id\":");
    json_write_string(b, cid ? cid : "", strlen(cid ? cid : ""));
    buf_puts(b, ",\"name\":");
    json_write_string(b, name ? name : "", strlen(name ? name : ""));
    buf_puts(b, ",\"input\":");
    if(jv_get_kind(input) == JV_KIND_OBJECT)
      json_write(b, input);
    else
      buf_puts(b, "{}");
    buf_putc(b, '}');
    jv_free(input);
    jv_free(hid);
    jv_free(hname);
    jv_free(hargs);
    jv_free(fn);
    jv_free(c);
  }
  buf_putc(b, ']');
  jv_free(content);
  jv_free(calls);
}

static const char *stop_reason(const char *finish)
{
  if(!finish || !strcmp(finish, "stop"))
    return "end_turn";
  if(!strcmp(finish, "length"))
    return "max_tokens";
  if(!strcmp(finish, "tool_calls") || !strcmp(finish, "function_call"))
    return "tool_use";
  if(!strcmp(finish, "content_filter"))
    return "refusal";
  return "end_turn";
}

static double count_at(jv obj, const char *key)
{
  double d = json_num(obj, key, 0);

  return d > 0 && d < 1e15 ? floor(d) : 0;
}

/* The Anthropic Message of a chat.completion (borrowed). */
static void put_message(struct buf *b, jv body, const char *id)
{
  jv choices = json_get(body, "choices"), c0, msg, usage, details;
  jv hid, hmodel, hfin;
  const char *bid = str_at(body, "id", &hid);
  const char *model = str_at(body, "model", &hmodel);
  const char *fin;
  double in, out, cached;

  c0 = jv_get_kind(choices) == JV_KIND_ARRAY &&
       jv_array_length(jv_copy(choices)) > 0 ?
       jv_array_get(jv_copy(choices), 0) : jv_null();
  msg = json_get(c0, "message");
  fin = str_at(c0, "finish_reason", &hfin);
  usage = json_get(body, "usage");
  details = json_get(usage, "prompt_tokens_details");
  /* OpenAI's prompt_tokens counts cached tokens; Anthropic's
     input_tokens does not (they are cache_read_input_tokens) */
  cached = count_at(details, "cached_tokens");
  in = count_at(usage, "prompt_tokens");
  in = in > cached ? in - cached : 0;
  out = count_at(usage, "completion_tokens");

  buf_puts(b, "{\"id\":");
  if(bid && !strncmp(bid, "msg_", 4))
    json_write_string(b, bid, strlen(bid));
  else {
    buf_puts(b, "\"msg_");
    buf_puts(b, id);
    buf_putc(b, '"');
  }
  buf_puts(b, ",\"type\":\"message\",\"role\":\"assistant\",\"model\":");
  json_write_string(b, model ? model : "", strlen(model ? model : ""));
  buf_puts(b, ",\"content\":");
  put_content(b, msg);
  buf_puts(b, ",\"stop_reason\":\"");
  buf_puts(b, stop_reason(fin));
  buf_puts(b, "\",\"stop_sequence\":null,\"usage\":{\"input_tokens\":");
  buf_put_uint(b, (unsigned long long)in);
  buf_puts(b, ",\"output_tokens\":");
  buf_put_uint(b, (unsigned long long)out);
  buf_puts(b, ",\"cache_creation_input_tokens\":0,"
              "\"cache_read_input_tokens\":");
  buf_put_uint(b, (unsigned long long)cached);
  buf_puts(b, "}}");
  jv_free(hid);
  jv_free(hmodel);
  jv_free(hfin);
  jv_free(details);
  jv_free(usage);
  jv_free(msg);
  jv_free(c0);
  jv_free(choices);
}

/* Consumes obj.  obj[key] or jv_null(). */
static jv take_key(jv obj, const char *key)
{
  jv v = json_get(obj, key);

  jv_free(obj);
  return v;
}

void batch_put_anthropic(struct buf *b, const struct llmr_job *job,
                         const char *id)
{
  int failed = jv_get_kind(job->error) != JV_KIND_NULL ||
               jv_get_kind(job->response) == JV_KIND_NULL;

  buf_puts(b, "{\"custom_id\":");
  json_write_string(b, job->custom_id, strlen(job->custom_id));
  buf_puts(b, ",\"result\":");
  if(!failed) {
    buf_puts(b, "{\"type\":\"succeeded\",\"message\":");
    put_message(b, job->response, id);
    buf_puts(b, "}}\n");
    return;
  }
  {
    jv hc, hs, http = http_error_of(job);
    const char *code, *msg;
    jv st = json_get(http, "status_code"), perr, ptype;
    long status = jv_get_kind(st) == JV_KIND_NUMBER ?
                  (long)jv_number_value(st) : 0;
    const char *type;

    error_text(job, &code, &msg, &hc, &hs);
    type = anthropic_type(code, status);

    /* an Anthropic provider's own error type says it best */
    perr = json_get(http, "body");
    perr = take_key(perr, "error");
    ptype = json_get(perr, "type");
    if(jv_get_kind(ptype) == JV_KIND_STRING &&
       strstr(jv_string_value(ptype), "_error"))
      type = jv_string_value(ptype);
    if(code && !strcmp(code, "interrupted"))
      buf_puts(b, "{\"type\":\"canceled\"}}\n");
    else if(code && !strcmp(code, "timeout") && msg &&
            strstr(msg, "job_timeout="))
      /* the run's own deadline for a request: not an error of the
         request, as a batch's expiry is not */
      buf_puts(b, "{\"type\":\"expired\"}}\n");
    else {
      buf_puts(b, "{\"type\":\"errored\",\"error\":{\"type\":\"error\","
                  "\"error\":{\"type\":");
      /* the provider's words: written as a JSON string, whatever they are */
      json_write_string(b, type, strlen(type));
      buf_puts(b, ",\"message\":");
      put_coded_message(b, job);
      buf_puts(b, "}}}}\n");
    }
    jv_free(ptype);
    jv_free(perr);
    jv_free(st);
    jv_free(http);
    jv_free(hc);
    jv_free(hs);
  }
}
