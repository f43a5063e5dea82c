/*
 * llmroute.h - the stage plugin ABI of llmroute.
 *
 * This is the only header a plugin author needs.  A stage is a shared
 * object that exports one function, llmr_stage_entry(), returning a
 * constant descriptor (struct llmr_stage).  The runner loads it with
 * dlopen(RTLD_NOW | RTLD_LOCAL), checks the ABI version, validates the
 * options written in the pipeline file against the stage's option table,
 * calls init() once, then process() for every request that reaches the
 * stage.  A plugin links nothing from the runner: it reaches the runner
 * only through the struct llmr_host table handed to init().
 *
 * Build a plugin (see README.md, "Writing a stage"):
 *
 *   cc -fPIC -shared -fvisibility=hidden $(pkg-config --cflags llmroute) \
 *      -o hello.so hello.c $(pkg-config --libs llmroute)
 *
 * Conventions (as in jq): a function taking a jv consumes it; a function
 * returning a jv gives a new reference the caller must free; "borrows"
 * means the argument is only looked at.  Strings returned as const char *
 * belong to the runner and live as long as the object they describe.
 *
 * Threading: the runner has one thread and one event loop.  Every call
 * into a plugin (init, process, finish, HTTP and timer callbacks) happens
 * on that thread, never from inside a libcurl callback, so a stage needs
 * no locks.  Nothing a stage does may block: wait with host->after(),
 * talk to the network with host->http().
 *
 * Versioning: LLMR_ABI_MAJOR changes when an existing field changes
 * meaning; the runner refuses a plugin whose major differs.  New fields
 * are only ever appended to struct llmr_stage and struct llmr_host, and
 * LLMR_ABI_MINOR grows with them.  A plugin built against a newer minor
 * than the runner's is refused.  Both structs carry their size, so each
 * side knows which fields the other has.
 */
#ifndef LLMROUTE_H
#define LLMROUTE_H

#include <stddef.h>
#include <jv.h>
#include <curl/curl.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LLMR_ABI_MAJOR 1
#define LLMR_ABI_MINOR 7

#if defined(__GNUC__)
#define LLMR_EXPORT __attribute__((visibility("default")))
#define LLMR_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define LLMR_EXPORT
#define LLMR_PRINTF(f, a)
#endif

/* ---------------------------------------------------------------------
 * Status codes: 0 is success, negative is failure.
 */
enum llmr_status {
  LLMR_OK = 0,
  LLMR_ERR = -1,       /* generic failure */
  LLMR_ENOMEM = -2,    /* out of memory */
  LLMR_EINVAL = -3,    /* bad argument (unknown stage name, bad delay) */
  LLMR_EBUDGET = -4,   /* the reservation does not fit the run's budget */
  LLMR_ESTATE = -5,    /* not allowed now (job already completed ...) */
  LLMR_EUNAVAIL = -6   /* ABI 1.7: the run's shared state (set shared=)
                          cannot be reached: nothing is reserved, and a
                          stage must not spend (fail closed) */
};

/* ---------------------------------------------------------------------
 * Verdicts: what process() (or complete()) says about a job.
 */
enum llmr_verdict {
  LLMR_NEXT = 0, /* go on to the next stage (the end: write the result) */
  LLMR_PENDING,  /* the stage keeps the job; it calls host->complete()
                    later, exactly once, from an HTTP or timer callback */
  LLMR_GOTO,     /* re-enter an earlier stage named by host->goto_stage()
                    (escalation); the runner counts hops against a hard
                    limit and turns a loop into an error record */
  LLMR_DONE,     /* finish now with the current response: skip the rest */
  LLMR_FAIL      /* finish now with the error set by host->set_error() */
};

/* Log levels for host->log(). */
enum llmr_level {
  LLMR_LOG_ERROR = 0,
  LLMR_LOG_WARN,
  LLMR_LOG_INFO,
  LLMR_LOG_DEBUG
};

/* ---------------------------------------------------------------------
 * Options.  A stage declares its options in a table ended by an entry
 * whose name is NULL.  The runner checks every KEY=VALUE written in the
 * pipeline file against it before init(): unknown keys are refused (the
 * message lists the valid ones), values are parsed by type, missing
 * REQUIRED options are refused, defaults are filled in.
 */
enum llmr_opt_type {
  LLMR_OPT_STRING = 0, /* any text */
  LLMR_OPT_INT,        /* a decimal integer (long long) */
  LLMR_OPT_DOUBLE,     /* a decimal number */
  LLMR_OPT_BOOL,       /* true/false, yes/no, on/off, 1/0 */
  LLMR_OPT_PATH        /* a file path; a relative one is resolved against
                          the pipeline file's folder */
};

#define LLMR_OPT_REQUIRED 0x1u /* must be given (def is then ignored) */
#define LLMR_OPT_SECRET 0x2u   /* never echoed in messages or logs */

struct llmr_option {
  const char *name;        /* NULL ends the table */
  enum llmr_opt_type type;
  const char *def;         /* default as text, or NULL for "unset" */
  unsigned flags;          /* LLMR_OPT_* flags */
  const char *help;        /* one line, shown by `llmroute --help-stage` */
};

/* One parsed option value.  str is NULL when the option is unset and has
 * no default; then set is 0 and the numbers are 0. */
struct llmr_value {
  const char *str; /* text after ${VAR} expansion; a PATH is resolved */
  long long i;     /* INT and BOOL (0/1) */
  double d;        /* INT and DOUBLE */
  int set;         /* 1 when written in the pipeline file */
};

/* What init() gets about its own line of the pipeline file.  Owned by
 * the runner, valid until finish() returns. */
struct llmr_config {
  const char *file;   /* the pipeline file */
  int line;           /* its line declaring this stage */
  const char *name;   /* stage name as written, e.g. "call" */
  const char *instance; /* unique label: "call", or "call#2" for the
                           second instance of the same stage */
  int index;          /* position in the pipeline, 0-based */
  const struct llmr_value *values; /* one per option, in table order */
};

/* ---------------------------------------------------------------------
 * Opaque runner objects.
 */
struct llmr_job; /* one input line on its way through the pipeline */
struct llmr_jq;  /* a compiled jq program (host->jq_compile) */

/* Called by the runner when a transfer handed to host->http() ends,
 * whatever the outcome (rc is curl's result: CURLE_OK says the HTTP
 * exchange completed, whatever its status code).  self is the stage
 * instance that submitted it.  The runner removes the handle from its
 * multi handle before the call and runs curl_easy_cleanup() on it after
 * the callback returns: the stage frees only what it allocated itself
 * (header lists, buffers), best from its job state's free function. */
typedef void (*llmr_http_done)(void *self, struct llmr_job *job,
                               CURL *easy, CURLcode rc);

/* Called by the runner when a timer set with host->after() fires. */
typedef void (*llmr_timer_fire)(void *self, struct llmr_job *job);

/* Since ABI 1.2.  What an answer checker says about an answer. */
enum llmr_answer {
  LLMR_ANSWER_VALID = 0, /* it passes (also: no checker to ask) */
  LLMR_ANSWER_INVALID,   /* it fails a check; the reason says which */
  LLMR_ANSWER_UNKNOWN    /* it cannot be judged (say, the request's own
                            schema is broken); the reason says why.  The
                            asker treats it as valid: the checking stage
                            reports the problem when the job reaches it */
};

/* Since ABI 1.2.  An answer checker, registered by a stage with
 * host->set_answer_check() and run by host->check_answer() on behalf of
 * another stage.  self is what the registering stage gave; job is the job
 * being asked about, with its request and route record as they stand
 * (the attempt that produced the answer is the last of route.attempts);
 * response is the candidate chat.completion body (borrowed: do not free
 * it).  On LLMR_ANSWER_INVALID or LLMR_ANSWER_UNKNOWN, write a one-line
 * reason into reason (len bytes, len >= 1, owned by the asker, "" on
 * entry; truncate, never overflow).  A checker only looks: it must not
 * change the job (no set_*, complete, goto_stage, http or after) and must
 * not block; it may log. */
typedef enum llmr_answer (*llmr_answer_check)(void *self,
                                              struct llmr_job *job,
                                              jv response, char *reason,
                                              size_t len);

/* Since ABI 1.5.  A request checker, registered by a stage with
 * host->set_request_check() and run by host->check_request() on behalf of
 * a stage about to pay for an answer (call, before its first send).  It
 * judges the checks the request itself carries (validate: the schema of
 * response_format and routing.schema, the routing.expect patterns), so a
 * request whose checks are broken is refused before any money is spent
 * on an answer nothing could judge.  self is what the registering stage
 * gave; job is the job being asked about, its request as it stands.
 * Returns NULL when the request's checks are sound; else the error code
 * the job should fail with (a static string such as "invalid_schema")
 * and a one-line reason in reason (len bytes, len >= 1, owned by the
 * asker, "" on entry; truncate, never overflow).  The same rules as an
 * answer checker: it only looks, must not block, may log. */
typedef const char *(*llmr_request_check)(void *self, struct llmr_job *job,
                                          char *reason, size_t len);

/* ---------------------------------------------------------------------
 * Since ABI 1.3.  The catalog as C structs, built by the runner once when
 * it loads the catalog (so a stage never walks the catalog's JSON per
 * request), and normalised usage.
 *
 * Prices are USD per million tokens.  A deployment may carry its own
 * prices (its host charges differently); the fields it leaves out are the
 * model's.  cached is the price of prompt tokens read from the provider's
 * cache (the input price when the catalog gives none); cache_write that
 * of prompt tokens written to it (1.25 x input unless given: Anthropic's
 * five-minute cache write).
 */
struct llmr_price {
  double input, output, cached, cache_write;
};

/* Usage of one call, the same for every provider (what an attempt's
 * "usage" holds in the result line):
 *   input_tokens        prompt tokens billed at the input price (uncached)
 *   cached_tokens       prompt tokens read from the provider's cache
 *   cache_write_tokens  prompt tokens written to the cache (Anthropic)
 *   output_tokens       completion tokens, reasoning/thinking included
 * OpenAI's prompt_tokens and Gemini's promptTokenCount include the cached
 * tokens (input = prompt - cached); Anthropic's input_tokens excludes
 * cache reads and writes.  The call stage does this for every answer. */
struct llmr_usage {
  long input_tokens, cached_tokens, cache_write_tokens, output_tokens;
};

/* One entry of a model's "deployments": where it can be called. */
struct llmr_deployment {
  const char *provider;    /* a key of the catalog's "providers" */
  const char *model;       /* the provider's name for the model */
  const char *format;      /* that provider's wire format: "openai",
                              "anthropic", "gemini", "replay" ... */
  struct llmr_price price; /* the deployment's prices over the model's */
  jv entry;                /* the deployment object as written (borrowed:
                              jv_copy() it to keep it) */
};

/* One entry of the catalog's "models". */
struct llmr_model {
  const char *name;        /* its key in "models" */
  int tier;                /* 1 cheap, 2 mid-range, 3 premium */
  struct llmr_price price; /* list prices */
  long context_tokens;     /* 0 when the catalog does not say */
  long max_output_tokens;  /* 0 when the catalog does not say */
  const struct llmr_deployment *deployments; /* at least one */
  int ndeployments;
  jv entry;                /* the model object as written (borrowed), for
                              fields of a stage's own */
};

/* Since ABI 1.3.  Which messages host->request_text() and
 * host->map_text() look at: a set of roles, optionally only the last
 * message among them.  "developer" counts as system; a message without
 * a role, and the {"prompt":"..."} shorthand, as user. */
#define LLMR_TEXT_SYSTEM 0x1u
#define LLMR_TEXT_USER 0x2u
#define LLMR_TEXT_ASSISTANT 0x4u
#define LLMR_TEXT_TOOL 0x8u
#define LLMR_TEXT_ALL 0xfu
#define LLMR_TEXT_LAST 0x100u /* only the last message of those roles */

/* Since ABI 1.3.  A text rewriter for host->map_text(): takes one piece
 * of text (a jv string, consumed) and returns its replacement (a jv
 * string; anything else keeps the original text). */
typedef jv (*llmr_text_fn)(void *ctx, jv text);

/* ---------------------------------------------------------------------
 * Host services, handed to init().  Valid until finish() returns.
 *
 * The job.  Each job holds:
 *   - the request: the input line normalised to the OpenAI Batch shape,
 *       {"custom_id":"a1","method":"POST","url":"/v1/chat/completions",
 *        "body":{"messages":[...], ...}, "routing":{...}}
 *     ("routing" only when the input had one; "body.model" may be absent
 *     or "auto" when the pipeline should choose);
 *   - the route record: an object written to the result line as "route"
 *     (task, complexity, tier, model, provider, attempts, cost_usd,
 *     baseline_cost_usd, review ...), {} at the start;
 *   - the response: the chat.completion body, null until a stage sets it;
 *   - the error: set by set_error(), written when the job fails.
 *
 * Asynchronous work, the curl way: a stage builds a curl easy handle,
 * hands it to http() and returns LLMR_PENDING.  When the transfer ends
 * the runner calls the done callback; the stage reads the answer, records
 * it and calls complete() exactly once.  complete() never re-enters the
 * pipeline: the job moves on from the event loop after the callback
 * returns.  When a job completes (or is cut off by its deadline or by
 * SIGINT), every transfer and timer it still has is cancelled without a
 * callback and its state is freed with the free function given to
 * set_state().  So a stage may run two transfers for one job (hedging)
 * and keep the first answer that check_answer() finds valid.
 */
struct llmr_host {
  unsigned abi_major, abi_minor; /* the runner's LLMR_ABI_* */
  size_t size;                   /* sizeof(struct llmr_host) there */

  /* --- messages -------------------------------------------------- */

  /* Level-gated line on stderr, prefixed "[instance]" and, with a job,
   * its custom_id.  job may be NULL.  Never print secrets. */
  void (*log)(struct llmr_job *job, int level, const char *fmt, ...)
      LLMR_PRINTF(3, 4);

  /* For init(): report a configuration error as "FILE:LINE: message"
   * (the stage's line of the pipeline file), then return LLMR_ERR. */
  void (*config_error)(const struct llmr_config *cf, const char *fmt, ...)
      LLMR_PRINTF(2, 3);

  /* --- configuration --------------------------------------------- */

  /* Borrowed value of option `name` of this stage; NULL only when the
   * stage's table has no such option (a programming error). */
  const struct llmr_value *(*opt)(const struct llmr_config *cf,
                                  const char *name);

  /* Value of a run-wide `set KEY=VALUE` (after ${VAR} expansion; catalog
   * and other *path* settings are resolved), or NULL. */
  const char *(*setting)(const char *key);

  /* The model catalog named by `set catalog=` (its format: llmroute(1),
   * CATALOG), validated and loaded once:
   * {"providers":{...},"models":{...}}.  New reference; jv_null() when
   * the pipeline names no catalog.  host->models() has it as C. */
  jv (*catalog)(void);

  /* --- the job --------------------------------------------------- */

  const char *(*custom_id)(const struct llmr_job *job);
  long (*line)(const struct llmr_job *job); /* input line number, 1-based */
  int (*hops)(const struct llmr_job *job);  /* GOTOs taken so far */

  jv (*request)(const struct llmr_job *job);         /* new ref */
  void (*set_request)(struct llmr_job *job, jv req);  /* consumes */
  jv (*route)(const struct llmr_job *job);           /* new ref */
  void (*set_route)(struct llmr_job *job, jv route);  /* consumes */
  jv (*response)(const struct llmr_job *job);        /* new ref */
  void (*set_response)(struct llmr_job *job, jv body); /* consumes;
                                                  jv_null() clears it */

  /* Set the job's error record {"code","message","stage"}; the stage is
   * filled in by the runner.  Then return (or complete with) LLMR_FAIL.
   * code is one of the codes of llmroute(1), RESULT LINES, or a new
   * snake_case word. */
  void (*set_error)(struct llmr_job *job, const char *code,
                    const char *fmt, ...) LLMR_PRINTF(3, 4);

  /* Per-job state of the calling stage.  free_state (may be NULL) is
   * called once, when the job leaves the stage or is cancelled.  A job
   * cut off (job_timeout, SIGINT) has its state freed before its record
   * is written, after its transfers and timers are cancelled: the free
   * function may still note in the route record (route()/set_route())
   * what the stage had under way, as call records its unfinished
   * attempts. */
  void *(*state)(const struct llmr_job *job);
  void (*set_state)(struct llmr_job *job, void *state,
                    void (*free_state)(void *state));

  /* Choose the stage a LLMR_GOTO verdict re-enters: the first stage whose
   * instance label is `stage` ("route", "call#2") at or before the
   * current one.  reason is logged at debug level.  LLMR_OK, or
   * LLMR_EINVAL when no such earlier stage exists. */
  int (*goto_stage)(struct llmr_job *job, const char *stage,
                    const char *reason);

  /* Finish a job the stage holds after returning LLMR_PENDING.  Any
   * verdict but LLMR_PENDING.  Exactly once; a second call is ignored
   * and logged.  Returns LLMR_OK or LLMR_ESTATE. */
  int (*complete)(struct llmr_job *job, enum llmr_verdict verdict);

  /* --- asynchronous work ----------------------------------------- */

  /* Run an HTTP transfer on the runner's curl multi handle (connection
   * reuse, HTTP/2 multiplexing).  The runner takes the handle: it must
   * not be touched again except inside `done`.  LLMR_OK, or an error
   * (the handle is then cleaned up and `done` is never called). */
  int (*http)(struct llmr_job *job, CURL *easy, llmr_http_done done);

  /* Call fire() after ms milliseconds (0: on the next loop turn). */
  int (*after)(struct llmr_job *job, long ms, llmr_timer_fire fire);

  /* Monotonic clock, seconds. */
  double (*now)(void);

  /* --- shared services ------------------------------------------- */

  /* The one token estimator: input tokens of a chat body (borrows). */
  long (*estimate_tokens)(jv body);

  /* Reserve usd against the run's --budget.  LLMR_OK and a ticket, or
   * LLMR_EBUDGET when it does not fit (nothing is reserved).  Without a
   * budget every reservation fits.  With set shared= the budget is the
   * whole run's, across its processes, and a lost server gives
   * LLMR_EUNAVAIL (since ABI 1.7): do not send then. */
  int (*budget_reserve)(double usd, long *ticket);
  /* Replace a reservation with what was actually spent (0 to release). */
  void (*budget_settle)(long ticket, double actual_usd);

  /* Compile a jq program once (at init).  NULL and *errmsg (malloc'd,
   * free() it) on a syntax error. */
  struct llmr_jq *(*jq_compile)(const char *program, char **errmsg);
  /* Run it on input (consumed).  The first output as a new ref; the
   * program's error as jv_invalid_with_msg(); jv_invalid() without a
   * message when it produced no output. */
  jv (*jq_run)(struct llmr_jq *jq, jv input);
  void (*jq_free)(struct llmr_jq *jq); /* accepts NULL */

  /* --- since ABI 1.1 --------------------------------------------- */

  /* Parse len bytes of JSON text (need not be NUL-terminated): the value
   * as a new ref, or jv_invalid_with_msg("what at column N").  Faster
   * than jq 1.6's jv_parse_sized() and leak-free on malformed input: use
   * it for anything a provider or a model wrote. */
  jv (*json_parse)(const char *text, size_t len);

  /* --- since ABI 1.2 --------------------------------------------- */

  /* Answer checkers: a stage that judges answers (validate) registers
   * one, so a stage upstream of it (call, choosing between the two
   * answers of a hedge) can ask before the job gets there.
   *
   * set_answer_check(): register check for the stage of cf (call it
   * from init(); cf is the config init() got).  One checker per stage
   * instance: a second call replaces the first, a NULL check removes it.
   * self is handed back to check (the stage's instance; it must stay
   * valid until finish()).  LLMR_OK, or LLMR_EINVAL when cf is not a
   * stage of this run's pipeline. */
  int (*set_answer_check)(const struct llmr_config *cf,
                          llmr_answer_check check, void *self);

  /* check_answer(): would response (a chat.completion body, borrowed)
   * pass the checks registered by the stages after the job's current
   * one?  Runs them in pipeline order: LLMR_ANSWER_INVALID from the
   * first that refuses it, else LLMR_ANSWER_UNKNOWN when one could not
   * judge it, else LLMR_ANSWER_VALID (also when no stage downstream has
   * a checker: every answer counts as valid).  reason (len bytes, owned
   * by the caller; may be NULL when len is 0) gets the checker's reason,
   * "" when valid; it is always NUL-terminated.  Record the attempt that
   * produced the answer (route.attempts) before asking: checkers may
   * look at it.  Nothing is written to the job: the checking stage still
   * runs when the job reaches it.  Called from a checker, it returns
   * LLMR_ANSWER_UNKNOWN without running anything. */
  enum llmr_answer (*check_answer)(struct llmr_job *job, jv response,
                                   char *reason, size_t len);

  /* --- since ABI 1.3 --------------------------------------------- */

  /* The catalog's models in catalog order (borrowed, valid until
   * finish()); *n gets how many (0, and NULL returned, when the pipeline
   * names no catalog). */
  const struct llmr_model *(*models)(int *n);

  /* The model called name: a catalog key, else the provider-side model
   * name of one of its deployments.  Borrowed; NULL when there is none. */
  const struct llmr_model *(*model)(const char *name);

  /* USD of usage u at prices p (both borrowed; NULL counts as zero):
   *   (input * p.input + cached * p.cached + cache_write * p.cache_write
   *    + output * p.output) / 1e6
   * The cost of a plan of `in` prompt and `out` completion tokens is
   * that of {in, 0, 0, out}. */
  double (*cost)(const struct llmr_price *p, const struct llmr_usage *u);

  /* Message text.  Each takes a request in any of its shapes: the job's
   * request ({"body":{"messages":[...]}}), a bare chat body
   * ({"messages":[...]}) or the {"prompt":"..."} shorthand.  A message's
   * content is a string or an array of parts; its text is the string, or
   * the "text" of its parts of type "text" (or without a type). */

  /* The text of the messages chosen by which (LLMR_TEXT_*), pieces
   * joined by "\n", as a new jv string ("" when there is none).  Borrows
   * request; never asserts on a bad shape.  Example: the last user
   * message, request_text(req, LLMR_TEXT_USER | LLMR_TEXT_LAST). */
  jv (*request_text)(jv request, unsigned which);

  /* The text of one message's content (borrowed): a new jv string, or
   * jv_null() when it holds no text. */
  jv (*content_text)(jv content);

  /* Replace the text of message `index` of request (0-based; negative
   * counts from the end: -1 is the last message) by text (a jv string).
   * String content becomes text; in an array of parts the first text
   * part gets text and the other text parts go, other parts (images,
   * audio) stay.  Consumes request and text; returns the new request, or
   * jv_invalid_with_msg() saying why (no such message, text not a
   * string), request then freed. */
  jv (*set_message_text)(jv request, int index, jv text);

  /* Rewrite every piece of text of the messages chosen by which: each
   * string content, each text part's "text" (and the "prompt" of the
   * shorthand) is replaced by fn(ctx, piece).  Consumes request; returns
   * the new request (the same shape; untouched when nothing matched).
   * A redaction stage is one call:
   *   req = host->map_text(req, LLMR_TEXT_ALL, redact, self); */
  jv (*map_text)(jv request, unsigned which, llmr_text_fn fn, void *ctx);

  /* --- since ABI 1.4 --------------------------------------------- */

  /* For init(): 1 when a stage whose instance label is `stage` ("route",
   * "call#2") comes at or before the stage of cf in this pipeline (where
   * goto_stage() could send a job), else 0.  A stage that GOTOs a stage
   * named in its options checks it here, so a wrong name stops the run
   * before any input is read. */
  int (*stage_before)(const struct llmr_config *cf, const char *stage);

  /* --- since ABI 1.5 --------------------------------------------- */

  /* Request checkers: a stage whose checks the request carries
   * (validate) registers one, so a stage that pays for answers (call)
   * refuses a request with broken checks before sending it.
   *
   * set_request_check(): register check for the stage of cf (from
   * init(); cf is the config init() got).  One per stage instance: a
   * second call replaces the first, a NULL check removes it.  LLMR_OK,
   * or LLMR_EINVAL when cf is not a stage of this run's pipeline. */
  int (*set_request_check)(const struct llmr_config *cf,
                           llmr_request_check check, void *self);

  /* check_request(): are the checks the job's request carries, for the
   * stages after the job's current one, sound?  Runs their checkers in
   * pipeline order and returns NULL when all are (also when none is
   * registered), else the first one's error code with its reason in
   * reason (len bytes, owned by the caller; may be NULL when len is 0;
   * always NUL-terminated).  Nothing is written to the job: fail it
   * yourself, e.g.
   *   const char *code = host->check_request(job, why, sizeof(why));
   *   if(code) { host->set_error(job, code, "%s", why); return LLMR_FAIL; }
   * Called from a checker, it returns NULL without running anything. */
  const char *(*check_request)(struct llmr_job *job, char *reason,
                               size_t len);

  /* json_parse() for files a person writes (a schema, a table): the same,
   * but a key given twice in one object is refused (jv_invalid_with_msg
   * naming it): a second "type" is a mistake, not an override. */
  jv (*json_parse_strict)(const char *s, size_t len);

  /* ABI 1.6.  The job's error record ({"code","message","stage",...}), or
   * jv_null() when it has none (new ref).  Meant for a done() hook: an
   * error set by any stage, or by the runner (bad input line, deadline,
   * budget), is there. */
  jv (*error)(const struct llmr_job *job);

  /* --- since ABI 1.7 --------------------------------------------- */

  /* A token bucket shared by every process of the run (set shared=
   * run=NAME): take n units from the bucket named `bucket` (any string;
   * the call stage uses "PROVIDER:rpm" and "PROVIDER:tpm") that refills
   * per_minute units a minute and holds at most per_minute.  Returns the
   * seconds to wait before sending: 0 to go now; > 0 the units are taken
   * and the bucket owes them, so wait that long (a queue in time shared
   * by all processes).  With ifroom, units are taken only when the bucket
   * holds n now, else nothing is taken and the wait is returned.  < 0
   * when the run is not shared or its server is lost: use a local
   * bucket.  Blocks for one round trip to the server (well under a
   * millisecond on loopback; at most set shared_timeout=). */
  double (*shared_take)(const char *bucket, double n, double per_minute,
                        int ifroom);

  /* new fields are only ever appended here */
};

/* ---------------------------------------------------------------------
 * The stage descriptor returned by llmr_stage_entry().  Fill the first
 * three fields with LLMR_STAGE_VERSION.
 */
struct llmr_stage {
  unsigned abi_major, abi_minor; /* LLMR_ABI_* the plugin was built with */
  size_t size;                   /* sizeof(struct llmr_stage) */

  const char *name;        /* e.g. "call" */
  const char *version;     /* the plugin's own version */
  const char *description; /* one line */
  const struct llmr_option *options; /* NULL or a table ended by {NULL} */

  /* Once, before any input is read.  Store what you need from host (it
   * stays valid) in *self.  Return LLMR_OK, or report the problem with
   * host->config_error() and return LLMR_ERR: the run stops, exit 2. */
  int (*init)(const struct llmr_host *host, const struct llmr_config *cf,
              void **self);

  /* For every job reaching the stage.  Must not block. */
  enum llmr_verdict (*process)(void *self, struct llmr_job *job);

  /* Once at the end, after every job is written (may be NULL). */
  void (*finish)(void *self);

  /* ABI 1.6 (may be NULL).  Once for every job whose result is final,
   * just before its result line is written: for every stage of the
   * pipeline whether or not the job reached it (a malformed input line,
   * a job cut off by its deadline, an answer taken from a cache: all
   * pass here), in pipeline order.  line/len is the result line exactly
   * as it will be written, without its '\n' (in the --output-format
   * asked for: the provider formats carry no route; the getters below
   * give it whatever the format).  The getters (request,
   * route, response, error, custom_id, line) still work; per-job state
   * is already freed (state() is NULL), and set_* and complete() must
   * not be called.  Must not block; a log or a cache writes here. */
  void (*done)(void *self, struct llmr_job *job, const char *line,
               size_t len);

  /* new fields are only ever appended here */
};

#define LLMR_STAGE_VERSION                                                 \
  LLMR_ABI_MAJOR, LLMR_ABI_MINOR, sizeof(struct llmr_stage)

/* The one symbol a plugin exports.  The runner passes its own ABI
 * version; return NULL to refuse to load. */
LLMR_EXPORT const struct llmr_stage *llmr_stage_entry(unsigned host_major,
                                                     unsigned host_minor);

#ifdef __cplusplus
}
#endif

#endif /* LLMROUTE_H */
