/*
 * core.h - internal interfaces between the runner's source files.
 * Not installed; plugins see only llmroute.h.
 */
#ifndef LLMR_CORE_H
#define LLMR_CORE_H

#include <stddef.h>
#include <stdio.h>
#include "llmroute.h"

#ifndef LLMR_VERSION
#define LLMR_VERSION "0.0.0"
#endif

/* --- log.c --------------------------------------------------------- */
extern int llmr_log_level;   /* LLMR_LOG_WARN by default; -v raises it */
/* One line on stderr: "llmroute: [prefix] message". prefix may be NULL. */
void log_msg(int level, const char *prefix, const char *fmt, ...)
    LLMR_PRINTF(3, 4);
void log_vmsg(int level, const char *prefix, const char *fmt, va_list ap);
/* fn is called before a message is written (the progress line clears
 * itself off the terminal); NULL: none. */
void log_set_progress_hook(void (*fn)(void));

/* --- catalog.c ----------------------------------------------------- */
/* Load and validate a catalog file (format: llmroute(1), CATALOG).  On
 * success *out is the
 * catalog object and LLMR_OK is returned; on failure a message naming the
 * file and the bad entry is written to err and LLMR_ERR returned. */
int catalog_load(const char *path, jv *out, char *err, size_t errlen);

/* --- models.c ------------------------------------------------------ */
/* The C view of a loaded catalog (borrowed) for host->models() and
 * host->model(); LLMR_OK, or LLMR_ENOMEM (nothing built).  A catalog
 * that is not an object builds an empty view. */
int models_build(jv catalog);
void models_free(void); /* safe twice */
const struct llmr_model *models_all(int *n);
const struct llmr_model *models_find(const char *name);
/* host->cost(): USD of usage u at prices p. */
double usage_cost(const struct llmr_price *p, const struct llmr_usage *u);

/* --- tokens.c ------------------------------------------------------ */
/* The one token estimator: input tokens of a chat body (borrows). */
long tokens_estimate(jv body);
/* Tokens of one text (the estimator's building block). */
long tokens_text(const char *s, size_t len);
/* The same, a byte at a time (what tokens_text() does for non-ASCII
 * text; tests compare the two). */
long tokens_text_scalar(const char *s, size_t len);

/* --- pipeline.c: ${VAR} and ${VAR:-default} in text ---------------- */
struct buf;
/* Append in, its ${VAR} and ${VAR:-default} expanded from the
 * environment, to out.  0, or -1 with a message in err (an unset
 * variable without a default, a bad name). */
int env_expand(const char *in, struct buf *out, char *err, size_t errlen);

/* --- budget.c ------------------------------------------------------ */
void budget_init(double cap_usd);   /* cap < 0: no budget */
int budget_reserve(double usd, long *ticket);
void budget_settle(long ticket, double actual_usd);
double budget_cap(void);            /* the cap, < 0 when none */

/* --- shared.c: the budget and rate limits of a run of many processes - */
struct pipeline;
/* Read shared=, run=, shared_ttl=, shared_timeout= (pipeline settings,
 * else LLMROUTE_SHARED ...); with connect, load the module and join the
 * run with this process's budget (< 0: none).  0, or -1 said on stderr
 * (a configuration error: exit 2).  Without shared= nothing happens. */
int shared_setup(const struct pipeline *pl, int connect, double budget);
int shared_active(void);
/* 0 reserved (gen for settle), 1 over the run's budget, -1 lost. */
int shared_reserve(double usd, long *gen);
void shared_settle(long gen, double reserved, double actual);
/* host->shared_take (ABI 1.7). */
double shared_take(const char *bucket, double n, double per_minute,
                   int ifroom);
void shared_tick(void);   /* each loop turn: the lease's heartbeat */
void shared_close(void);

/* --- jqutil.c ------------------------------------------------------ */
struct llmr_jq *jqutil_compile(const char *program, char **errmsg);
jv jqutil_run(struct llmr_jq *jq, jv input);
void jqutil_free(struct llmr_jq *jq);

/* --- jsonout.c ----------------------------------------------------- */
/* A growable byte buffer, reused across lines. */
struct buf {
  char *p;
  size_t len, cap;
};
void buf_init(struct buf *b);
void buf_free(struct buf *b);
void buf_reserve(struct buf *b, size_t extra);
void buf_put(struct buf *b, const char *s, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_put_uint(struct buf *b, unsigned long long u);
/* Append v (borrowed) as compact JSON. */
void json_write(struct buf *b, jv v);
/* Append a JSON string literal. */
void json_write_string(struct buf *b, const char *s, size_t n);
/* Compact JSON of v (borrowed) as a malloc'd NUL-terminated string. */
char *json_dump(jv v);
/* Drop the texts json_write() keeps of shared containers (at exit). */
void json_write_cache_free(void);

/* --- jsonin.c ------------------------------------------------------ */
/* Parse one JSON text of len bytes (need not be NUL-terminated).  The
 * value, or jv_invalid_with_msg("what at column N"). */
jv json_parse(const char *s, size_t len);
/* The same, refusing a key given twice in one object (files a person
 * writes: a second "input_usd_per_mtok" is a mistake, not an override). */
jv json_parse_strict(const char *s, size_t len);
/* 1 when json_parse() makes strings of valid bytes itself, skipping jq's
 * UTF-8 re-check (the layout probe in jsonin.c passed on this jq). */
int json_direct_strings(void);

/* Object keys of requests, made once and shared: jv_string() allocates,
 * checks the bytes and later hashes them on every call, and these are
 * set and looked up on every line.  json_parse() hands out these same
 * strings for keys of an input line that match one. */
enum ckey {
  CK_BODY, CK_CONTENT, CK_COST_USD, CK_CUSTOM_ID, CK_ERROR, CK_MAX_TOKENS,
  CK_MESSAGES, CK_METHOD, CK_MODEL, CK_NAME, CK_PROMPT, CK_ROLE,
  CK_ROUTING, CK_TEXT, CK_TOOL_CALLS, CK_TOOLS, CK_TYPE, CK_URL,
  CK_COUNT
};
jv ckey(enum ckey k);  /* a new ref */
void ckeys_free(void); /* at exit; the next ckey() makes them again */
/* obj[k] as a new ref; jv_invalid() when obj is no object or lacks k.
 * Borrows obj (jvfast.h: no copies of obj or the key). */
jv cget(jv obj, enum ckey k);
/* Borrows obj.  obj[key] as a new ref; jv_null() when obj is no object
 * or lacks key.  Never asserts (for subcommands reading files). */
jv json_get(jv obj, const char *key);
/* Borrows obj.  obj[key] as a number when it is a finite one, else
 * dflt. */
double json_num(jv obj, const char *key, double dflt);

/* --- reader.c ----------------------------------------------------- */
/* Normalise a parsed input object (consumed) into the OpenAI Batch
 * shape: a Batch line as is, a bare chat body or {"prompt"} wrapped.
 * Returns the request, or jv_invalid_with_msg("code: message");
 * *custom_id gets its custom_id's text (malloc'd) or NULL; *id_kept is 1
 * when the request holds its custom_id as a string already. */
jv request_normalise(jv in, char **custom_id, int *id_kept);
/* batchin.c: an OpenAI Batch line's "url" and "method" (in borrowed):
 * jv_true() when served, else invalid with "code: message". */
jv batch_check_endpoint(jv in);
/* batchin.c: Anthropic Message Batches params (consumed) as a
 * chat-completion body, or invalid with "code: message". */
jv batch_from_anthropic(jv params);

/* --- ids.c --------------------------------------------------------- */
const char *ids_run_token(void);   /* the RUN of llmr-RUN-N */
/* "content" (NULL: the default) or "line"; -1 for anything else */
int ids_set_scheme(const char *scheme);
/* The custom_id of a line without one (malloc'd; NULL: out of memory):
 * h-HASH of its bytes, #2, #3... on repeats; line-N with the "line"
 * scheme or when the bytes are gone (line NULL) */
char *ids_custom_id(const char *line, size_t len, long lineno);
void ids_free(void);

/* --- subcommands (report.c, train.c) ------------------------------- */
int report_main(int argc, char **argv);
int train_main(int argc, char **argv);
int train_router_main(int argc, char **argv); /* train --outcomes */
int eval_main(int argc, char **argv);
int eval_convert_main(int argc, char **argv);

/* --- pipeline.c / loader.c --------------------------------------- */
struct kv {
  char *key, *val;
  int line;
};

struct stage_inst {
  const struct llmr_stage *desc;
  void *dl;                 /* dlopen handle */
  void *self;               /* what init() stored */
  int inited;
  /* its done() hook once init() succeeded (ABI 1.6; NULL: none) */
  void (*done)(void *self, struct llmr_job *job, const char *line,
               size_t len);
  char *path;               /* the .so loaded */
  struct llmr_config cf;    /* file, line, name, instance, index, values */
  struct llmr_value *values;
  struct kv *opts;          /* KEY=VALUE as written (after expansion) */
  int nopts;
};

struct pipeline {
  char *file;               /* as given */
  char *dir;                /* its folder, for relative paths */
  struct kv *settings;
  int nsettings;
  struct stage_inst *stages;
  int nstages;
};

/* Where the runner's tree is: <prefix>/bin/llmroute -> <prefix>. */
const char *runner_prefix(void);
/* A path written in a pipeline file (malloc'd): an absolute one as is; a
 * relative one against dir (the pipeline's folder) when that file
 * exists, else the shipped <prefix>/share/llmroute/pipelines/VAL when
 * that exists, else dir/VAL (so a message names it). */
char *path_resolve(const char *dir, const char *val);
/* The same with the shipped folder named (NULL: none). */
char *path_resolve_in(const char *dir, const char *shipped,
                      const char *val);
/* Resolve a -p argument to a file path (malloc'd). */
char *pipeline_resolve(const char *arg);
/* Parse the file; errors printed as FILE:LINE: message.  LLMR_OK/ERR. */
int pipeline_parse(struct pipeline *pl, const char *path);
/* Load every stage's plugin, check ABI and options (no init). */
int pipeline_load(struct pipeline *pl);
void pipeline_free(struct pipeline *pl);
const char *pipeline_setting(const struct pipeline *pl, const char *key);
/* Set a run-wide setting as if written with `set` (val NULL: remove
 * it), for command-line options (--catalog, --baseline). */
int pipeline_override(struct pipeline *pl, const char *key, const char *val);
/* Load one plugin file and check its ABI; message in err. */
int loader_open(const char *path, void **dl, const struct llmr_stage **desc,
                char *err, size_t errlen);
/* Find NAME.so on $LLMROUTE_PLUGIN_PATH, then <prefix>/lib/llmroute. */
char *loader_find(const char *name);
/* Check and parse st->opts against the stage's option table. */
int options_apply(struct stage_inst *st, const char *dir, char *err,
                  size_t errlen);
void options_print(const struct llmr_stage *desc, FILE *out);

/* --- reportdb.c (report input files) -------------------------------- */
/* fopen(path, "r") for `llmroute report`, except that a SQLite file (a
 * log stage's database) opens as the result lines it stores, read
 * through log.so.  NULL with errno set, or with a message printed and
 * errno EINVAL, when it cannot be read. */
FILE *report_open(const char *path);

/* --- run.c (event loop, jobs, host services) ----------------------- */
struct run_opts {
  int jobs;                 /* -j */
  int keep_order;
  double budget;            /* < 0: none */
  int progress;             /* 1 on, 0 off, -1 auto (stderr is a tty) */
  double progress_interval; /* seconds between progress lines, 0: 0.5 on
                               a terminal, else 5 */
  long total;               /* --total: requests expected, 0 unknown */
  int quiet;                /* -q: no end-of-run summary */
  char **resume;            /* --resume PATH..., NULL-terminated */
  const char *custom_ids;   /* --custom-ids SCHEME (NULL: default) */
  int output_format;        /* --output-format */
  int dry_run;              /* --dry-run: stop before the first call
                               stage; results carry the request */
  char **files;             /* NULL-terminated; NULL or empty: stdin */
};
/* --output-format: llmroute's result line (the OpenAI Batch output line
 * with route), or a provider's batch result line exactly */
enum output_format {
  OUTPUT_LLMROUTE = 0,
  OUTPUT_OPENAI,
  OUTPUT_ANTHROPIC
};
/* Initialise the stages, run every input line through them, finish.
 * Returns the exit status (0, 1, 2 or 130). */
int run_pipeline(struct pipeline *pl, const struct run_opts *ro);
/* Settings, catalog and stage init only; 0 or 2. */
int run_pipeline_check(struct pipeline *pl, const struct run_opts *ro);

#endif /* LLMR_CORE_H */
