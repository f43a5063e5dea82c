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

/* Fills rq->format/json/model and rp from the request and its [[mock]]
   directive.  rq borrowed; rp's contents owned by the caller afterwards
   (mock_reply_free). */
void mock_plan(struct mock_request *rq, struct mock_reply *rp);

/* Frees what rp holds; safe to call twice. */
void mock_reply_free(struct mock_reply *rp);

/* Classifies a path; *model (consumed jv set to a new ref) gets the
   Gemini model from the path or null.  Borrows path. */
enum mock_format mock_classify(const char *path, jv *model);

/* The name logged for a format ("openai", ...), or NULL. Static. */
const char *mock_format_name(enum mock_format f);

/* Defined in mockprov.c: returns how many earlier requests carried the
   same key (0 for the first) and counts this one.  Borrows key. */
long mock_seq_next(const char *key);

#endif
