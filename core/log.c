/*
 * log.c - the one level-gated logging function.  Everything but result
 * lines goes to stderr, one whole line per call.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core.h"

int llmr_log_level = LLMR_LOG_WARN;
static void (*progress_hook)(void);

void log_set_progress_hook(void (*fn)(void))
{
  progress_hook = fn;
}

static const char *level_name[] = {"error", "warning", "info", "debug"};

/* Print "llmroute: [prefix] level: message\n" on stderr. */
void log_vmsg(int level, const char *prefix, const char *fmt, va_list ap)
{
  char line[2048];
  size_t n;
  int r;

  if(level > llmr_log_level)
    return;
  if(level < 0 || level > LLMR_LOG_DEBUG)
    level = LLMR_LOG_ERROR;
  if(prefix)
    r = snprintf(line, sizeof(line), "llmroute: [%s] %s: ", prefix,
                 level_name[level]);
  else
    r = snprintf(line, sizeof(line), "llmroute: %s: ", level_name[level]);
  n = r < 0 ? 0 : (size_t)r;
  if(n < sizeof(line)) {
    r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
    n += r < 0 ? 0 : (size_t)r;
  }
  if(n > sizeof(line) - 2)
    n = sizeof(line) - 2;
  line[n++] = '\n';
  if(progress_hook)
    progress_hook(); /* a message never lands mid progress line */
  /* one write(2)-sized chunk so lines from several processes interleave
     whole (GNU parallel) */
  fwrite(line, 1, n, stderr);
  fflush(stderr);
}

void log_msg(int level, const char *prefix, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  log_vmsg(level, prefix, fmt, ap);
  va_end(ap);
}
