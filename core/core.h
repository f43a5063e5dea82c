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

/* --- catalog.c ----------------------------------------------------- */
/* Load and validate a catalog file (SPEC §7).  On success *out is the
 * catalog object and LLMR_OK is returned; on failure a message naming the
 * file and the bad entry is written to err and LLMR_ERR returned. */
int catalog_load(const char *path, jv *out, char *err, size_t errlen);

/* --- tokens.c ------------------------------------------------------ */
/* The one token estimator: input tokens of a chat body (borrows). */
long tokens_estimate(jv body);
/* Tokens of one text (the estimator's building block). */
long tokens_text(const char *s, size_t len);

/* --- budget.c ------------------------------------------------------ */
void budget_init(double cap_usd);   /* cap < 0: no budget */
int budget_reserve(double usd, long *ticket);
void budget_settle(long ticket, double actual_usd);
double budget_spent(void);           /* settled + reserved */

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
/* Append v (borrowed) as compact JSON. */
void json_write(struct buf *b, jv v);
/* Append a JSON string literal. */
void json_write_string(struct buf *b, const char *s, size_t n);
/* Compact JSON of v (borrowed) as a malloc'd NUL-terminated string. */
char *json_dump(jv v);

/* --- subcommands (report.c, train.c) ------------------------------- */
int report_main(int argc, char **argv);
int train_main(int argc, char **argv);

#endif /* LLMR_CORE_H */
