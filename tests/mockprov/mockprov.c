/*
 * mockprov - a loopback mock LLM provider for the llmroute tests and
 * benchmarks, on libmicrohttpd.
 *
 *   mockprov --port 0 --port-file FILE [--log FILE] [--latency-ms N]
 *            [--key KEY]
 *
 * Listens on 127.0.0.1 only (port 0: a free one), writes the port to FILE
 * once listening, runs until SIGTERM or SIGINT, then exits 0.
 *
 * Endpoints (matched on the path's end, so any base_url prefix works):
 *   POST .../chat/completions              OpenAI chat.completion
 *   POST .../messages                      Anthropic Messages
 *   POST .../models/{model}:generateContent Gemini
 *   GET  /_stats   {"requests","by_path","by_model","by_status",
 *                   "by_format","by_fault","active","max_active",
 *                   "connections_open","connections_total"}
 *   POST /_reset   clears the counters and every seq position
 * Anything else is a 404 (405 for a provider path without POST), in the
 * OpenAI error shape.  Requests are checked like the real APIs do: a JSON
 * object body, "model" (OpenAI, Anthropic), "messages" / "contents", and
 * Anthropic's "max_tokens"; a failure is a 400 in the provider's shape.
 * With --key, a request whose key (Authorization: Bearer, x-api-key,
 * x-goog-api-key or Gemini's ?key=) differs gets a 401.
 *
 * Token counts (integer division):
 *   P (prompt)     = max(1, bytes of all message texts / 4): every string
 *                    content, text part or block, Anthropic "system",
 *                    Gemini "systemInstruction" parts; directives included
 *   K (completion) = max(1, bytes of the answer text / 4); for "big": N/4
 *   C = cached_tokens, W = cache_creation_tokens, R = reasoning_tokens
 *   OpenAI:    prompt_tokens P, completion_tokens K+R, total P+K+R,
 *              prompt_tokens_details.cached_tokens C,
 *              completion_tokens_details.reasoning_tokens R
 *   Anthropic: input_tokens max(0, P-C-W), output_tokens K+R,
 *              cache_read_input_tokens C, cache_creation_input_tokens W
 *   Gemini:    promptTokenCount P, candidatesTokenCount K,
 *              thoughtsTokenCount R (when R > 0), totalTokenCount P+K+R,
 *              cachedContentTokenCount C
 * The default answer is "mock answer from <model>".
 *
 * Scripting: the first "[[mock {...}]]" found in any message text (in the
 * order system, then messages) is a JSON object of these keys:
 *   latency_ms N        wait N ms more than --latency-ms before acting
 *   status N            answer N; >= 400 is an error body in the
 *                       provider's shape built from error_type (OpenAI
 *                       error.type, Anthropic error.type, Gemini
 *                       error.status), error_code (OpenAI error.code,
 *                       Anthropic error.details.error_code), message and
 *                       param; each has a per-status default (e.g. 429:
 *                       rate_limit_exceeded / rate_limit_error /
 *                       RESOURCE_EXHAUSTED, 529: overloaded_error), and
 *                       error_code "context_length_exceeded" or
 *                       "insufficient_quota" gets the provider's wording
 *   retry_after V       "retry-after" header (number or string, verbatim)
 *   retry_after_ms V    "retry-after-ms" header
 *   x_should_retry V    "x-should-retry" header (true/false)
 *   headers {..}        more response headers
 *   ratelimit {..}      limit_requests, remaining_requests, reset_requests,
 *                       limit_tokens, remaining_tokens, reset_tokens for
 *                       the x-ratelimit-* (OpenAI) and anthropic-
 *                       ratelimit-* headers (resets: a number of seconds,
 *                       or a string sent as is)
 *   answer V            the answer text (a non-string is sent as JSON text)
 *   echo true           answer the last user message's text, directives
 *                       removed and whitespace trimmed
 *   tool_calls [{"name":..,"arguments":{..} or "text"}] (or one object)
 *                       OpenAI message.tool_calls (arguments as a JSON
 *                       string; a string is sent verbatim, valid or not),
 *                       Anthropic tool_use blocks, Gemini functionCall
 *                       parts; the text answer is dropped (OpenAI content
 *                       null) unless "answer" is given; finish_reason
 *                       defaults to tool_calls; the bytes of the calls'
 *                       JSON text count toward K
 *   finish_reason S     stop, length, content_filter, tool_calls, mapped
 *                       to end_turn/max_tokens/refusal/tool_use and
 *                       STOP/MAX_TOKENS/SAFETY/STOP; other names verbatim
 *   prompt_tokens N, completion_tokens N   override P and K
 *   cached_tokens N, cache_creation_tokens N, reasoning_tokens N
 *                       (numbers here and elsewhere are clamped to
 *                       +-2^53; use "usage" for absurd counts)
 *   usage {..}          merged over the answer's usage object (OpenAI
 *                       and Anthropic "usage", Gemini "usageMetadata")
 *                       after the counts above, values verbatim
 *                       (1e308, negative, non-numbers reach the client)
 *   seq [{..},{..}]     the k-th request (from 0) carrying the same
 *                       directive text for the same model uses seq[k],
 *                       the last one repeating; merged over the rest
 *   by_model {"m":{..},"*":{..}}  the object for the requested model (or
 *                       "*") merged over the rest; seq and by_model nest
 * $CREDENTIALS anywhere in an answer, an error message or a scripted
 * header value (retry_after, the ratelimit resets) is replaced by the
 * credentials the request carried, raw (Authorization, x-api-key,
 * x-goog-api-key, ?key=): a provider that echoes them.  The log line is
 * written before, so it stays key-free.
 * Transport faults:
 *   hang true           answer nothing until the client closes (or
 *                       hang_ms N, then close without an answer)
 *   reset true          close the connection with a TCP RST, no answer
 *   truncate true       declare the full Content-Length, send half, close
 *   truncate "json"     a complete response whose JSON is cut half-way
 *   garbage true        a non-JSON body (with invalid UTF-8) as JSON
 *   html true           a nginx "502 Bad Gateway" page as text/html
 *   trickle_ms N        send trickle_bytes (default 16) bytes every N ms
 *   big N               the answer is N bytes of 'x' (streamed)
 *   error_in_200 true   an error body (error_status, default 500, picks
 *                       the defaults) with status 200
 * The faults keep "status" when given (html + status 502: a real 502).
 *
 * --log FILE appends one JSON line per provider request, flushed, written
 * when the request is planned (before any latency):
 *   {"n","t_ms","method","path","format","model","headers","auth_ok",
 *    "body","status","fault"}
 * headers: lower-case names; authorization, x-api-key, x-goog-api-key are
 * "<redacted>".  body: the parsed JSON, or the raw text.  status: null for
 * hang and reset.  auth_ok: null without --key.  n keeps counting across
 * /_reset.  Every response carries x-mock-n: n.
 *
 * Concurrency: thread per connection (MHD_USE_THREAD_PER_CONNECTION with
 * poll).  A request's latency, hang or trickle is a wait in its own
 * connection's thread, so it never delays another request; the wait polls
 * the socket so a client that gives up ends it at once.  With 512 keep-
 * alive connections that is 512 mostly sleeping threads, which Linux
 * handles easily, and it keeps the code straight-line (no suspend/resume
 * state machine and no timer thread).  The only shared state (counters,
 * seq positions, the log) sits behind one mutex, held for microseconds.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <microhttpd.h>

#include "mockprov.h"

struct options {
  unsigned port;
  const char *port_file;
  const char *log_path;
  long latency_ms;
  const char *key;
};

/* Server-wide state.  Everything but the atomics is under lock. */
static struct {
  struct options opt;
  pthread_mutex_t lock;
  FILE *log;
  long n;                 /* requests numbered so far (never reset) */
  jv stats;               /* by_path, by_model, ... objects */
  long requests;
  jv seqs;                /* seq key -> count */
  long active, max_active;
  long conns_open, conns_total;
  struct timespec t0;
  int stopping;           /* atomic */
} srv = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* Per-request upload buffer, MHD's *con_cls. */
struct upload {
  char *buf;
  size_t len, cap;
  int too_big;
};

/* ---------------------------------------------------------------------
 * Shared state.
 */

/* Milliseconds since start. */
static long now_ms(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long)((t.tv_sec - srv.t0.tv_sec) * 1000 +
                (t.tv_nsec - srv.t0.tv_nsec) / 1000000);
}

/* 1 once SIGTERM or SIGINT arrived. */
static int stopping(void)
{
  return __atomic_load_n(&srv.stopping, __ATOMIC_RELAXED);
}

/* Caller holds the lock.  Fresh counters. */
static void stats_clear(void)
{
  jv_free(srv.stats);
  srv.stats = JV_OBJECT(jv_string("by_path"), jv_object(),
                        jv_string("by_model"), jv_object(),
                        jv_string("by_status"), jv_object(),
                        jv_string("by_format"), jv_object(),
                        jv_string("by_fault"), jv_object());
  jv_free(srv.seqs);
  srv.seqs = jv_object();
  srv.requests = 0;
  srv.max_active = srv.active;
  srv.conns_total = 0;
}

/* Caller holds the lock.  Borrows group, key.  Adds 1 to stats[group]. */
static void stats_bump(const char *group, const char *key)
{
  jv g = jv_object_get(jv_copy(srv.stats), jv_string(group));
  jv v = jv_object_get(jv_copy(g), jv_string(key));
  double c = jv_get_kind(v) == JV_KIND_NUMBER ? jv_number_value(v) : 0;
  jv_free(v);
  g = jv_object_set(g, jv_string(key), jv_number(c + 1));
  srv.stats = jv_object_set(srv.stats, jv_string(group), g);
}

/* Borrows key.  See mockprov.h. */
long mock_seq_next(const char *key)
{
  jv v;
  long k = 0;
  pthread_mutex_lock(&srv.lock);
  v = jv_object_get(jv_copy(srv.seqs), jv_string(key));
  if(jv_get_kind(v) == JV_KIND_NUMBER)
    k = (long)jv_number_value(v);
  jv_free(v);
  srv.seqs = jv_object_set(srv.seqs, jv_string(key), jv_number(k + 1));
  pthread_mutex_unlock(&srv.lock);
  return k;
}

/* A malloc'ed JSON text of the /_stats object.  jv refcounts are not
   atomic, so the shared object is only touched, and dumped, under the
   lock. */
static char *stats_text(void)
{
  jv s, t;
  char *r;
  pthread_mutex_lock(&srv.lock);
  s = jv_copy(srv.stats);
  s = jv_object_set(s, jv_string("requests"), jv_number(srv.requests));
  s = jv_object_set(s, jv_string("active"), jv_number(srv.active));
  s = jv_object_set(s, jv_string("max_active"), jv_number(srv.max_active));
  s = jv_object_set(s, jv_string("connections_open"),
                    jv_number(srv.conns_open));
  s = jv_object_set(s, jv_string("connections_total"),
                    jv_number(srv.conns_total));
  t = jv_dump_string(s, 0);
  r = strdup(jv_string_value(t));
  jv_free(t);
  pthread_mutex_unlock(&srv.lock);
  if(!r)
    abort();
  return r;
}

/* Borrows line.  Appends a line to the log and flushes it. */
static void log_line(const char *line)
{
  if(!srv.log)
    return;
  pthread_mutex_lock(&srv.lock);
  fputs(line, srv.log);
  fputc('\n', srv.log);
  fflush(srv.log);
  pthread_mutex_unlock(&srv.lock);
}

/* Borrows rq, rp.  Counts the request and logs it. */
static void record(const struct mock_request *rq, const struct mock_reply *rp,
                   jv headers)
{
  const char *fmt = mock_format_name(rq->format);
  char status[16];
  jv line, text;

  snprintf(status, sizeof(status), "%d", rp->status);
  pthread_mutex_lock(&srv.lock);
  srv.requests++;
  stats_bump("by_path", rq->path);
  if(jv_get_kind(rq->model) == JV_KIND_STRING)
    stats_bump("by_model", jv_string_value(rq->model));
  if(fmt)
    stats_bump("by_format", fmt);
  if(rp->status)
    stats_bump("by_status", status);
  if(rp->fault)
    stats_bump("by_fault", rp->fault);
  pthread_mutex_unlock(&srv.lock);

  if(!srv.log)
    return;
  line = JV_OBJECT(
    jv_string("n"), jv_number(rq->n),
    jv_string("t_ms"), jv_number(now_ms()),
    jv_string("method"), jv_string(rq->method),
    jv_string("path"), jv_string(rq->path),
    jv_string("format"), fmt ? jv_string(fmt) : jv_null(),
    jv_string("model"), jv_copy(rq->model),
    jv_string("headers"), jv_copy(headers),
    jv_string("auth_ok"), rq->auth_ok < 0 ? jv_null() : jv_bool(rq->auth_ok));
  line = jv_object_set(line, jv_string("body"),
                       jv_get_kind(rq->json) != JV_KIND_INVALID ?
                       jv_copy(rq->json) :
                       jv_string_sized(rq->body, (int)rq->body_len));
  line = jv_object_set(line, jv_string("status"),
                       rp->status ? jv_number(rp->status) : jv_null());
  line = jv_object_set(line, jv_string("fault"),
                       rp->fault ? jv_string(rp->fault) : jv_null());
  text = jv_dump_string(line, 0);
  log_line(jv_string_value(text));
  jv_free(text);
}

/* ---------------------------------------------------------------------
 * Request headers and keys.
 */

/* MHD_KeyValueIterator: adds a header to the object at cls with its name
   in lower case and secrets redacted; repeated names are joined. */
static enum MHD_Result add_header(void *cls, enum MHD_ValueKind kind,
                                  const char *key, const char *value)
{
  jv *h = cls;
  jv name = jv_string(""), old;
  size_t i;
  (void)kind;
  for(i = 0; key[i]; i++) {
    char c = (char)tolower((unsigned char)key[i]);
    name = jv_string_append_buf(name, &c, 1);
  }
  if(!strcmp(jv_string_value(name), "authorization") ||
     !strcmp(jv_string_value(name), "x-api-key") ||
     !strcmp(jv_string_value(name), "x-goog-api-key"))
    value = "<redacted>";
  old = jv_object_get(jv_copy(*h), jv_copy(name));
  if(jv_get_kind(old) == JV_KIND_STRING)
    *h = jv_object_set(*h, name,
                       jv_string_fmt("%s, %s", jv_string_value(old),
                                     value ? value : ""));
  else
    *h = jv_object_set(*h, name, jv_string(value ? value : ""));
  jv_free(old);
  return MHD_YES;
}

static char *xstrdup(const char *s);

/* Borrows c.  The credentials the request carried, raw (Authorization,
   x-api-key, x-goog-api-key, Gemini's ?key=), joined by ", "; malloc'd,
   "" when none.  For $CREDENTIALS: a provider that echoes them. */
static char *credentials(struct MHD_Connection *c)
{
  static const struct { enum MHD_ValueKind kind; const char *name; } where[] = {
    {MHD_HEADER_KIND, "authorization"}, {MHD_HEADER_KIND, "x-api-key"},
    {MHD_HEADER_KIND, "x-goog-api-key"}, {MHD_GET_ARGUMENT_KIND, "key"}};
  jv all = jv_string("");
  char *out;
  size_t i;
  for(i = 0; i < sizeof(where) / sizeof(*where); i++) {
    const char *v = MHD_lookup_connection_value(c, where[i].kind,
                                                where[i].name);
    if(!v)
      continue;
    if(jv_string_length_bytes(jv_copy(all)))
      all = jv_string_append_str(all, ", ");
    all = jv_string_append_str(all, v);
  }
  out = xstrdup(jv_string_value(all));
  jv_free(all);
  return out;
}

/* Consumes s (malloc'd).  s with every "$CREDENTIALS" replaced by cred;
   *len (may be NULL) gets the new length. */
static char *with_credentials(char *s, const char *cred, size_t *len)
{
  static const char mark[] = "$CREDENTIALS";
  jv out;
  const char *p = s, *hit;
  char *r;
  if(!s || !strstr(s, mark))
    return s;
  out = jv_string("");
  while((hit = strstr(p, mark))) {
    out = jv_string_append_buf(out, p, (int)(hit - p));
    out = jv_string_append_str(out, cred);
    p = hit + sizeof(mark) - 1;
  }
  out = jv_string_append_str(out, p);
  r = xstrdup(jv_string_value(out));
  if(len)
    *len = (size_t)jv_string_length_bytes(jv_copy(out));
  jv_free(out);
  free(s);
  return r;
}

/* Borrows c, path.  1 when the request carries --key where its provider
   expects it, 0 when not, -1 without --key. */
static int check_key(struct MHD_Connection *c, const char *path)
{
  const char *auth, *v;
  jv model;
  enum mock_format f = mock_classify(path, &model);
  jv_free(model);
  if(!srv.opt.key)
    return -1;
  auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "authorization");
  if(auth && !strncasecmp(auth, "Bearer ", 7) &&
     !strcmp(auth + 7, srv.opt.key))
    return 1;
  if(f == FMT_ANTHROPIC) {
    v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "x-api-key");
    return v && !strcmp(v, srv.opt.key);
  }
  if(f == FMT_GEMINI) {
    v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "x-goog-api-key");
    if(v && !strcmp(v, srv.opt.key))
      return 1;
    v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "key");
    return v && !strcmp(v, srv.opt.key);
  }
  return 0;
}

/* ---------------------------------------------------------------------
 * Waiting and sending.
 */

/* Waits ms milliseconds (ms < 0: for ever) in slices of at most 100 ms,
   watching socket fd (if >= 0) for the client closing it.  Returns 0
   when the time is up, 1 when the client left, -1 when the server
   stops. */
static int wait_ms(int fd, long ms)
{
  long end = now_ms() + ms;
  for(;;) {
    struct pollfd p;
    long left = ms < 0 ? 100 : end - now_ms();
    int r;
    if(stopping())
      return -1;
    if(left <= 0)
      return 0;
    if(left > 100)
      left = 100;
    p.fd = fd;
    p.events = POLLRDHUP;
    p.revents = 0;
    r = poll(&p, 1, (int)left);
    if(r > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)))
      return 1;
  }
}

/* Borrows c.  The connection's socket, or -1. */
static int conn_fd(struct MHD_Connection *c)
{
  const union MHD_ConnectionInfo *ci =
    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
  return ci ? ci->connect_fd : -1;
}

/* A body sent through a content reader: big padding, trickle, cut. */
struct stream {
  char *body;             /* owned */
  size_t body_len;
  uint64_t big_n;         /* 'x' bytes inserted at big_at */
  size_t big_at;
  uint64_t limit;         /* bytes to send before stopping */
  int cut;                /* stop with an error at limit */
  long trickle_ms, trickle_bytes;
};

/* MHD_ContentReaderCallback over struct stream. */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
  struct stream *st = cls;
  uint64_t n, i = 0;
  if(pos >= st->limit)
    return MHD_CONTENT_READER_END_WITH_ERROR;
  n = st->limit - pos;
  if(n > max)
    n = max;
  if(st->trickle_ms > 0) {
    if(n > (uint64_t)st->trickle_bytes)
      n = (uint64_t)st->trickle_bytes;
    if(wait_ms(-1, st->trickle_ms) < 0)
      return MHD_CONTENT_READER_END_WITH_ERROR;
  }
  while(i < n) {
    uint64_t o = pos + i, k;
    if(o < st->big_at) {
      k = st->big_at - o;
      if(k > n - i)
        k = n - i;
      memcpy(buf + i, st->body + o, (size_t)k);
    }
    else if(o < st->big_at + st->big_n) {
      k = st->big_at + st->big_n - o;
      if(k > n - i)
        k = n - i;
      memset(buf + i, 'x', (size_t)k);
    }
    else {
      k = n - i;
      memcpy(buf + i, st->body + (o - st->big_n), (size_t)k);
    }
    i += k;
  }
  return (ssize_t)n;
}

/* MHD_ContentReaderFreeCallback for struct stream. */
static void stream_free(void *cls)
{
  struct stream *st = cls;
  if(!st)
    return;
  free(st->body);
  free(st);
}

/* Borrows c; takes rp->body.  Queues rp's answer; MHD_NO on failure. */
static enum MHD_Result send_reply(struct MHD_Connection *c,
                                  struct mock_reply *rp)
{
  struct MHD_Response *resp;
  enum MHD_Result ok;
  if(!rp->cut && rp->trickle_ms <= 0 && !rp->big_n) {
    resp = MHD_create_response_from_buffer(rp->body_len, rp->body,
                                           MHD_RESPMEM_MUST_FREE);
    if(resp)
      rp->body = NULL;
  }
  else {
    struct stream *st = calloc(1, sizeof(*st));
    uint64_t total = rp->body_len + rp->big_n;
    if(!st)
      return MHD_NO;
    st->body = rp->body;
    st->body_len = rp->body_len;
    st->big_n = rp->big_n;
    st->big_at = rp->big_at;
    st->cut = rp->cut;
    st->limit = rp->cut ? total / 2 : total;
    st->trickle_ms = rp->trickle_ms;
    st->trickle_bytes = rp->trickle_bytes;
    resp = MHD_create_response_from_callback(total, 4096, stream_read, st,
                                             stream_free);
    if(resp)
      rp->body = NULL;
    else
      free(st);
  }
  if(!resp)
    return MHD_NO;
  MHD_add_response_header(resp, "Content-Type", rp->content_type);
  if(jv_get_kind(rp->headers) == JV_KIND_OBJECT) {
    jv_object_foreach(rp->headers, k, v) {
      MHD_add_response_header(resp, jv_string_value(k), jv_string_value(v));
      jv_free(k);
      jv_free(v);
    }
  }
  ok = MHD_queue_response(c, (unsigned)rp->status, resp);
  MHD_destroy_response(resp);
  return ok;
}

/* Borrows c.  Queues a JSON text answer with status; MHD_NO on failure. */
static enum MHD_Result send_json(struct MHD_Connection *c, int status,
                                 char *text)
{
  struct MHD_Response *resp =
    MHD_create_response_from_buffer(strlen(text), text,
                                    MHD_RESPMEM_MUST_FREE);
  enum MHD_Result ok;
  if(!resp) {
    free(text);
    return MHD_NO;
  }
  MHD_add_response_header(resp, "Content-Type", "application/json");
  ok = MHD_queue_response(c, (unsigned)status, resp);
  MHD_destroy_response(resp);
  return ok;
}

/* Borrows s.  A malloc'ed copy. */
static char *xstrdup(const char *s)
{
  char *p = strdup(s);
  if(!p)
    abort();
  return p;
}

/* ---------------------------------------------------------------------
 * Requests.
 */

/* Borrows c, path, method, up.  Plans, records and answers one provider
   request, waiting in this connection's thread. */
static enum MHD_Result provider_request(struct MHD_Connection *c,
                                        const char *path,
                                        const char *method,
                                        struct upload *up)
{
  struct mock_request rq;
  struct mock_reply rp;
  jv headers = jv_object();
  enum MHD_Result ret = MHD_NO;
  int fd = conn_fd(c);

  memset(&rq, 0, sizeof(rq));
  pthread_mutex_lock(&srv.lock);
  rq.n = ++srv.n;
  srv.active++;
  if(srv.active > srv.max_active)
    srv.max_active = srv.active;
  pthread_mutex_unlock(&srv.lock);
  rq.method = method;
  rq.path = path;
  rq.body = up->buf ? up->buf : "";
  rq.body_len = up->len;
  rq.latency_ms = srv.opt.latency_ms;
  rq.auth_ok = check_key(c, path);
  MHD_get_connection_values(c, MHD_HEADER_KIND, add_header, &headers);

  mock_plan(&rq, &rp);
  record(&rq, &rp, headers);
  if((rp.body && strstr(rp.body, "$CREDENTIALS")) ||
     strstr(rq.body, "$CREDENTIALS")) {
    /* echoed after the log line is written: the log stays key-free */
    char *cred = credentials(c);
    rp.body = with_credentials(rp.body, cred, &rp.body_len);
    if(jv_get_kind(rp.headers) == JV_KIND_OBJECT) {
      jv h = jv_object();
      jv_object_foreach(rp.headers, k, v) {
        char *t = with_credentials(xstrdup(jv_string_value(v)), cred, NULL);
        h = jv_object_set(h, k, jv_string(t));
        free(t);
        jv_free(v);
      }
      jv_free(rp.headers);
      rp.headers = h;
    }
    free(cred);
  }

  if(rp.latency_ms > 0 && wait_ms(fd, rp.latency_ms) != 0)
    goto done;
  if(rp.action == ACT_HANG) {
    wait_ms(fd, rp.hang_ms);
    goto done;
  }
  if(rp.action == ACT_RESET) {
    struct linger lg;
    lg.l_onoff = 1;
    lg.l_linger = 0;
    if(fd >= 0)
      setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    goto done;
  }
  ret = send_reply(c, &rp);

done:
  pthread_mutex_lock(&srv.lock);
  srv.active--;
  pthread_mutex_unlock(&srv.lock);
  mock_reply_free(&rp);
  jv_free(rq.json);
  jv_free(rq.model);
  jv_free(headers);
  return ret;
}

/* MHD_AccessHandlerCallback: gathers the body, then answers. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
                                  const char *url, const char *method,
                                  const char *version,
                                  const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
  struct upload *up = *con_cls;
  (void)cls;
  (void)version;
  if(!up) {
    up = calloc(1, sizeof(*up));
    if(!up)
      return MHD_NO;
    *con_cls = up;
    return MHD_YES;
  }
  if(*upload_data_size) {
    size_t n = *upload_data_size;
    *upload_data_size = 0;
    if(up->too_big || up->len + n > (size_t)MOCK_MAX_BODY) {
      up->too_big = 1;
      return MHD_YES;
    }
    if(up->len + n + 1 > up->cap) {
      size_t cap = up->cap ? up->cap : 4096;
      char *p;
      while(cap < up->len + n + 1)
        cap *= 2;
      p = realloc(up->buf, cap);
      if(!p)
        return MHD_NO;
      up->buf = p;
      up->cap = cap;
    }
    memcpy(up->buf + up->len, upload_data, n);
    up->len += n;
    up->buf[up->len] = 0;
    return MHD_YES;
  }
  if(!strcmp(url, "/_stats"))
    return send_json(c, 200, stats_text());
  if(!strcmp(url, "/_reset") && !strcmp(method, "POST")) {
    pthread_mutex_lock(&srv.lock);
    stats_clear();
    pthread_mutex_unlock(&srv.lock);
    return send_json(c, 200, xstrdup("{\"ok\":true}"));
  }
  if(up->too_big)
    return send_json(c, 413, xstrdup(
      "{\"error\":{\"message\":\"mockprov: request body over 64 MiB\","
      "\"type\":\"invalid_request_error\",\"param\":null,"
      "\"code\":\"request_too_large\"}}"));
  return provider_request(c, url, method, up);
}

/* MHD_RequestCompletedCallback: frees the upload buffer. */
static void on_completed(void *cls, struct MHD_Connection *c,
                         void **con_cls, enum MHD_RequestTerminationCode toe)
{
  struct upload *up = *con_cls;
  (void)cls;
  (void)c;
  (void)toe;
  if(!up)
    return;
  free(up->buf);
  free(up);
  *con_cls = NULL;
}

/* MHD_NotifyConnectionCallback: counts connections. */
static void on_connection(void *cls, struct MHD_Connection *c,
                          void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
  (void)cls;
  (void)c;
  (void)socket_context;
  pthread_mutex_lock(&srv.lock);
  if(toe == MHD_CONNECTION_NOTIFY_STARTED) {
    srv.conns_open++;
    srv.conns_total++;
  }
  else
    srv.conns_open--;
  pthread_mutex_unlock(&srv.lock);
}

/* MHD_LogCallback: MHD's messages on stderr, prefixed, except the
   "internal error" MHD reports whenever a scripted hang or reset, a
   client that left, or the shutdown closes a connection on purpose. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
  char msg[1024];
  (void)cls;
  vsnprintf(msg, sizeof(msg), fmt, ap);
  if(stopping() || strstr(msg, "Application reported internal error"))
    return;
  fprintf(stderr, "mockprov: %s", msg);
}

/* ---------------------------------------------------------------------
 * Start and stop.
 */

/* Borrows out.  Prints the usage text. */
static void usage(FILE *out)
{
  fprintf(out,
          "usage: mockprov --port N --port-file FILE [--log FILE]\n"
          "                [--latency-ms N] [--key KEY]\n"
          "A loopback mock of the OpenAI, Anthropic and Gemini APIs for\n"
          "tests; see the top of tests/mockprov/mockprov.c.\n");
}

/* Parses argv into *o; 0 or -1 (message printed). */
static int parse_args(int argc, char **argv, struct options *o)
{
  int i;
  for(i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    char *end;
    if(!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      exit(0);
    }
    if(!v) {
      fprintf(stderr, "mockprov: unknown option or missing value: %s\n", a);
      return -1;
    }
    i++;
    if(!strcmp(a, "--port")) {
      unsigned long p = strtoul(v, &end, 10);
      if(*end || p > 65535) {
        fprintf(stderr, "mockprov: bad --port '%s' (0-65535)\n", v);
        return -1;
      }
      o->port = (unsigned)p;
    }
    else if(!strcmp(a, "--port-file"))
      o->port_file = v;
    else if(!strcmp(a, "--log"))
      o->log_path = v;
    else if(!strcmp(a, "--key"))
      o->key = v;
    else if(!strcmp(a, "--latency-ms")) {
      o->latency_ms = strtol(v, &end, 10);
      if(*end || o->latency_ms < 0) {
        fprintf(stderr, "mockprov: bad --latency-ms '%s'\n", v);
        return -1;
      }
    }
    else {
      fprintf(stderr, "mockprov: unknown option %s (valid: --port, "
              "--port-file, --log, --latency-ms, --key)\n", a);
      return -1;
    }
  }
  return 0;
}

/* Borrows path.  Writes the port to path through a renamed temporary,
   so a reader never sees half of it; 0 or -1. */
static int write_port(const char *path, unsigned port)
{
  char tmp[4096];
  FILE *f;
  snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
  f = fopen(tmp, "w");
  if(!f)
    return -1;
  fprintf(f, "%u\n", port);
  if(fclose(f) || rename(tmp, path)) {
    unlink(tmp);
    return -1;
  }
  return 0;
}

/* Parses options, listens, waits for a signal, stops: 0, or 1 when it
   cannot listen, 2 on bad options. */
int main(int argc, char **argv)
{
  struct MHD_Daemon *d;
  const union MHD_DaemonInfo *info;
  struct sockaddr_in sa;
  struct rlimit rl;
  sigset_t sigs;
  int sig = 0;
  unsigned port;

  if(parse_args(argc, argv, &srv.opt))
    return 2;
  if(!srv.opt.port_file && !srv.opt.port) {
    fprintf(stderr, "mockprov: give --port N, or --port 0 with "
            "--port-file FILE\n");
    return 2;
  }
  /* one descriptor per connection: take what the hard limit allows */
  if(!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  signal(SIGPIPE, SIG_IGN);
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, NULL);  /* every thread inherits it */

  clock_gettime(CLOCK_MONOTONIC, &srv.t0);
  srv.stats = jv_null();
  srv.seqs = jv_null();
  stats_clear();
  if(srv.opt.log_path) {
    srv.log = fopen(srv.opt.log_path, "a");
    if(!srv.log) {
      fprintf(stderr, "mockprov: cannot open log %s: %s\n",
              srv.opt.log_path, strerror(errno));
      return 2;
    }
  }

  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)srv.opt.port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION |
                       MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG,
                       (uint16_t)srv.opt.port, NULL, NULL, on_request, NULL,
                       MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
                       MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                       MHD_OPTION_CONNECTION_LIMIT, 16384u,
                       MHD_OPTION_LISTEN_BACKLOG_SIZE, 4096u,
                       MHD_OPTION_CONNECTION_TIMEOUT, 300u,
                       MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
                       MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL,
                       MHD_OPTION_END);
  if(!d) {
    fprintf(stderr, "mockprov: cannot listen on 127.0.0.1:%u\n",
            srv.opt.port);
    return 1;
  }
  info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
  port = info ? info->port : srv.opt.port;
  if(srv.opt.port_file && write_port(srv.opt.port_file, port)) {
    fprintf(stderr, "mockprov: cannot write %s: %s\n", srv.opt.port_file,
            strerror(errno));
    MHD_stop_daemon(d);
    return 1;
  }

  while(sigwait(&sigs, &sig) != 0)
    ;
  __atomic_store_n(&srv.stopping, 1, __ATOMIC_RELAXED);
  MHD_stop_daemon(d);
  if(srv.log)
    fclose(srv.log);
  jv_free(srv.stats);
  jv_free(srv.seqs);
  return 0;
}
