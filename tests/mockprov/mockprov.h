/*
 * mockprov.h - what the HTTP side (mockprov.c) and the provider shapes
 * (shape.c) of the loopback mock provider share.  The scripting
 * language itself is documented at the top of mockprov.c.
 */
#ifndef MOCKPROV_H
#define MOCKPROV_H

#include <stddef.h>
#include <stdint.h>
#include <jv.h>

/* Request bodies above this are refused with 413 (and not logged). */
#define MOCK_MAX_BODY (64L * 1024 * 1024)

enum mock_format {
  FMT_NONE,       /* not a provider endpoint: 404/405 */
  FMT_OPENAI,     /* POST .../chat/completions */
  FMT_ANTHROPIC,  /* POST .../messages */
  FMT_GEMINI      /* POST .../models/{model}:generateContent */
};

enum mock_action {
  ACT_ANSWER,     /* send an HTTP response */
  ACT_HANG,       /* send nothing until the client leaves (or hang_ms) */
  ACT_RESET       /* close the connection (RST) without a response */
};

/* One received provider request, filled by mockprov.c. */
struct mock_request {
  long n;                   /* sequence number, from 1 */
  const char *method;
  const char *path;         /* without the query string */
  const char *body;         /* NUL-terminated */
  size_t body_len;
  int auth_ok;              /* 1 / 0 against --key; -1 without --key */
  long latency_ms;          /* --latency-ms */
  /* filled by mock_plan(): */
  enum mock_format format;
  jv json;                  /* parsed body, or jv_invalid() */
  jv model;                 /* string, or null */
};

/* What to do with it, filled by mock_plan(); freed by mock_reply_free. */
struct mock_reply {
  enum mock_action action;
  int status;               /* HTTP status; 0 for hang and reset */
  const char *fault;        /* static name logged as "fault", or NULL */
  char *body;               /* malloc'ed, NUL-terminated */
  size_t body_len;
  const char *content_type; /* static */
  jv headers;               /* object: header name -> string */
  long latency_ms;          /* wait before acting */
  long hang_ms;             /* ACT_HANG: -1 until the client leaves */
  int cut;                  /* declare the full length, send half, close */
  long trickle_ms;          /* > 0: send trickle_bytes at a time */
  long trickle_bytes;
  uint64_t big_n;           /* bytes of 'x' inserted at big_at */
  size_t big_at;
};

/* Usage numbers of one answer (see the formulas in mockprov.c). */
struct mock_usage {
  long prompt;      /* P: all prompt tokens, cached ones included */
  long completion;  /* K: answer tokens */
  long cached;      /* C: part of P read from the cache */
  long cache_write; /* W: part of P written to the cache (Anthropic) */
  long reasoning;   /* R: reasoning tokens, billed as output */
};

/* --- shape.c: reading requests and planning replies --------------- */

/* Fills rq->format/json/model and rp from the request and its [[mock]]
   directive.  rq borrowed; rp's contents owned by the caller afterwards
   (mock_reply_free). */
void mock_plan(struct mock_request *rq, struct mock_reply *rp);

/* Frees what rp holds; safe to call twice. */
void mock_reply_free(struct mock_reply *rp);

/* Borrows path.  Classifies a path; sets *model to a new ref: the
   Gemini model named in the path, or null. */
enum mock_format mock_classify(const char *path, jv *model);

/* The name logged for a format ("openai", ...), or NULL. Static. */
const char *mock_format_name(enum mock_format f);

/* --- body.c: jv helpers that never assert on input ---------------- */

/* Borrows obj.  New ref, or jv_null() when absent or obj no object. */
jv mock_get(jv obj, const char *key);
/* Largest magnitude mock_get_long() returns: 2^53. */
#define MOCK_NUM_MAX 9007199254740992.0
/* Borrows obj.  The number at key, or def, clamped to +-MOCK_NUM_MAX. */
long mock_get_long(jv obj, const char *key, long def);
/* Borrows obj.  1 when key is true, a non-zero number or "true". */
int mock_get_flag(jv obj, const char *key);
/* Borrows obj.  New ref: the string at key, or jv_null(). */
jv mock_get_string(jv obj, const char *key);
/* Borrows a.  1 when a is a string equal to b. */
int mock_streq(jv a, const char *b);

/* --- body.c: answers in each provider's shape ---------------------- */

/* Borrows d.  New ref: the error body of format f for status; d may
   carry error_type, error_code, message, param.  n: request number; p:
   prompt tokens (for context-length messages). */
jv mock_error_body(enum mock_format f, int status, jv d, long n, long p);
/* Consumes model, answer; borrows finish (OpenAI name), u.  New ref:
   the chat answer of format f. */
jv mock_success_body(enum mock_format f, jv model, jv answer,
                     const char *finish, const struct mock_usage *u,
                     long n);
/* Consumes body; borrows calls.  New ref: body with the tool calls. */
jv mock_add_tool_calls(enum mock_format f, jv body, jv calls,
                       int with_text, long n);
/* Consumes h; borrows d.  h plus the rate-limit headers of format f. */
jv mock_ratelimit_headers(jv h, enum mock_format f, jv d, long p);
/* Consumes h; borrows d.  h plus retry-after, retry-after-ms,
   x-should-retry and the directive's "headers". */
jv mock_scripted_headers(jv h, jv d);

/* --- mockprov.c ----------------------------------------------------- */

/* Defined in mockprov.c: returns how many earlier requests carried the
   same key (0 for the first) and counts this one.  Borrows key. */
long mock_seq_next(const char *key);

#endif
