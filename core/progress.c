/*
 * progress.c - the progress line and the end-of-run summary on stderr
 * (llmroute(1), PROGRESS).
 *
 * The writer counts every result as it is written (progress_account);
 * the loop asks for a progress line on a timer, never per line, so a
 * pass-through run pays one clock read per loop turn and two object
 * lookups per result.  On a terminal the line is redrawn in place ("\r",
 * text, clear to the end of the line), like pv; elsewhere (--progress
 * into a log file) a whole line is written every few seconds, so an
 * overnight job's stderr says how far it got.  The summary closes every
 * run but a -q one.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run.h"
#include "jvfast.h"

#define MAX_CODES 32     /* distinct error codes tallied; more: "other" */
#define SHOW_CODES 6     /* named in the summary, the most frequent first */

static struct {
  jv k_baseline, k_expected, k_code;  /* keys made once */
  int keys_made;
  struct {
    char code[48];
    unsigned long n;
  } codes[MAX_CODES];
  int ncodes;
  unsigned long other;   /* errors beyond MAX_CODES distinct codes */
  int drawn;             /* a progress line is on the terminal */
} pg;

static void keys_make(void)
{
  if(pg.keys_made)
    return;
  pg.k_baseline = jv_string("baseline_cost_usd");
  pg.k_expected = jv_string("expected_cost_usd");
  pg.k_code = jv_string("code");
  pg.keys_made = 1;
}

/* Borrows obj.  obj[key] when it is a number, else 0. */
static double num_at(jv obj, jv key)
{
  jv v = jvf_get(obj, key);
  double d = 0;

  if(jv_get_kind(v) == JV_KIND_NUMBER)
    d = jv_number_value(v);
  jvf_free(v);
  return d;
}

static void tally_code(jv error)
{
  jv c = jvf_get(error, pg.k_code);
  const char *code = jv_get_kind(c) == JV_KIND_STRING ? jv_string_value(c)
                                                      : "unknown";
  int i;

  for(i = 0; i < pg.ncodes; i++)
    if(!strcmp(pg.codes[i].code, code))
      break;
  if(i == pg.ncodes) {
    if(pg.ncodes == MAX_CODES) {
      pg.other++;
      jvf_free(c);
      return;
    }
    snprintf(pg.codes[i].code, sizeof(pg.codes[i].code), "%s", code);
    pg.ncodes++;
  }
  pg.codes[i].n++;
  jvf_free(c);
}

/* As `llmroute report` counts: an error record's attempts cost, its
 * baseline does not (nothing was delivered). */
void progress_account(jv route, jv error)
{
  keys_make();
  if(jv_get_kind(error) != JV_KIND_NULL)
    tally_code(error);
  else if(jv_get_kind(route) == JV_KIND_OBJECT) {
    R.baseline_usd += num_at(route, pg.k_baseline);
    R.expected_usd += num_at(route, pg.k_expected);
  }
}

/* ---------------------------------------------------------------------
 * The total: lines of the input, counted up front when it is made of
 * regular files (a pipe cannot be read twice).
 */

/* Non-blank lines from fd's offset off to its end, or -1.  A line of
 * spaces is counted though the reader skips it: close enough for a
 * percentage, and it keeps this one memchr() per line. */
static long count_fd(int fd, off_t off)
{
  static char buf[1 << 16];
  long n = 0;
  char prev = '\n';
  ssize_t got;

  while((got = pread(fd, buf, sizeof(buf), off)) != 0) {
    const char *p = buf, *end;

    if(got < 0) {
      if(errno == EINTR)
        continue;
      return -1;
    }
    end = buf + got;
    off += got;
    while(p < end) {
      const char *nl = memchr(p, '\n', (size_t)(end - p));

      if(!nl) {
        prev = end[-1];
        break;
      }
      /* an empty line is a '\n' right after another (or at the start) */
      if(nl > p ? 1 : prev != '\n')
        n++;
      prev = '\n';
      p = nl + 1;
    }
  }
  if(prev != '\n')
    n++; /* the last line has no newline */
  return n;
}

long progress_count(char **files)
{
  long total = 0;
  int i, stdin_only = !files || !files[0];

  for(i = 0; stdin_only || files[i]; i++) {
    int stdin_fd = stdin_only || !strcmp(files[i], "-");
    int fd = stdin_fd ? 0 : open(files[i], O_RDONLY | O_CLOEXEC);
    struct stat sb;
    long n = -1;

    if(fd < 0)
      return -1;
    if(!fstat(fd, &sb) && S_ISREG(sb.st_mode)) {
      /* stdin may be a file read from its current offset (< file) */
      off_t off = stdin_fd ? lseek(fd, 0, SEEK_CUR) : 0;

      n = off < 0 ? -1 : count_fd(fd, off);
    }
    if(!stdin_fd)
      close(fd);
    if(n < 0)
      return -1;
    total += n;
    if(stdin_only)
      break;
  }
  return total;
}

/* ---------------------------------------------------------------------
 * Formatting
 */
struct line {
  char p[512];
  size_t len;
};

static void add(struct line *l, const char *fmt, ...) LLMR_PRINTF(2, 3);

static void add(struct line *l, const char *fmt, ...)
{
  va_list ap;
  int r;

  if(l->len >= sizeof(l->p) - 1)
    return;
  va_start(ap, fmt);
  r = vsnprintf(l->p + l->len, sizeof(l->p) - l->len, fmt, ap);
  va_end(ap);
  if(r > 0)
    l->len += (size_t)r < sizeof(l->p) - l->len ? (size_t)r
                                                : sizeof(l->p) - 1 - l->len;
}

/* Dollars to the digits that matter: 2 decimals from $100, 4 from $1,
 * 6 below (a short run costs fractions of a cent). */
static void add_usd(struct line *l, double v)
{
  if(v >= 100)
    add(l, "$%.2f", v);
  else if(v >= 1)
    add(l, "$%.4f", v);
  else
    add(l, "$%.6f", v);
}

/* H:MM:SS, or M:SS under an hour, like pv. */
static void add_clock(struct line *l, double s)
{
  unsigned long t = s < 0 ? 0 : s > 1e9 ? 1000000000UL
                                        : (unsigned long)(s + 0.5);

  if(t >= 3600)
    add(l, "%lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
  else
    add(l, "%lu:%02lu", t / 60, t % 60);
}

static void add_rate(struct line *l, double rate)
{
  if(rate >= 100)
    add(l, "%.0f/s", rate);
  else
    add(l, "%.1f/s", rate);
}

/* "saved 87.6%" of a cost against its baseline (none without one). */
static void add_savings(struct line *l, double cost, double baseline)
{
  if(baseline > 0)
    add(l, ", %.1f%% saved", 100.0 * (baseline - cost) / baseline);
}

static void format_progress(struct line *l, double now)
{
  unsigned long written = R.nok + R.nerrors;
  unsigned long done = written + R.nskipped;
  double el = now - R.t0, rate = el > 0 ? written / el : 0;
  double cap = budget_cap();

  add(l, "llmroute: %lu", done);
  if(R.total >= 0 && done <= (unsigned long)R.total) {
    add(l, "/%ld", R.total);
    if(R.total > 0)
      add(l, " %.1f%%", 100.0 * (double)done / (double)R.total);
  }
  add(l, " done, ");
  add_rate(l, rate);
  if(R.total >= 0 && done <= (unsigned long)R.total) {
    add(l, ", ETA ");
    if(rate > 0)
      add_clock(l, (double)((unsigned long)R.total - done) / rate);
    else
      add(l, "?");
  }
  add(l, ", %ld in flight, %lu error%s", R.nactive, R.nerrors,
      R.nerrors == 1 ? "" : "s");
  if(R.nskipped)
    add(l, ", %lu skipped", R.nskipped);
  if(R.answering || R.cost_usd > 0) {
    add(l, ", ");
    add_usd(l, R.cost_usd);
    if(cap >= 0) {
      add(l, " of ");
      add_usd(l, cap);
    }
    if(R.baseline_usd > 0) {
      add(l, " vs ");
      add_usd(l, R.baseline_usd);
      add(l, " baseline");
    }
  }
  else if(R.expected_usd > 0 || R.baseline_usd > 0) {
    add(l, ", est. ");
    add_usd(l, R.expected_usd);
    add(l, " vs ");
    add_usd(l, R.baseline_usd);
    add(l, " baseline");
  }
  add(l, ", ");
  add_clock(l, el);
}

/* ---------------------------------------------------------------------
 * Output
 */
void progress_start(const struct run_opts *ro)
{
  R.t0 = now_seconds();
  R.total = ro->total > 0 ? ro->total : -1;
  R.progress = ro->progress == 1 || (ro->progress < 0 && isatty(2));
  if(!R.progress)
    return;
  R.progress_tty = isatty(2);
  R.progress_every = ro->progress_interval > 0 ? ro->progress_interval
                     : R.progress_tty ? 0.5 : 5;
  R.progress_next = R.t0 + R.progress_every;
  if(R.total < 0)
    R.total = progress_count(ro->files);
  log_set_progress_hook(progress_clear);
}

void progress_tick(void)
{
  struct line l = {.len = 0};
  double now = now_seconds();

  R.progress_next = now + R.progress_every;
  format_progress(&l, now);
  if(R.progress_tty) {
    struct winsize ws;

    /* one line or \r redraws on the wrapped half only */
    if(!ioctl(2, TIOCGWINSZ, &ws) && ws.ws_col > 1 &&
       l.len > (size_t)ws.ws_col - 1)
      l.len = (size_t)ws.ws_col - 1;
    fprintf(stderr, "\r%.*s\033[K", (int)l.len, l.p);
    pg.drawn = 1;
  }
  else
    fprintf(stderr, "%.*s\n", (int)l.len, l.p);
  fflush(stderr);
}

void progress_clear(void)
{
  if(!pg.drawn)
    return;
  fputs("\r\033[K", stderr);
  pg.drawn = 0;
}

void progress_summary(void)
{
  struct line l = {.len = 0};
  unsigned long written = R.nok + R.nerrors;
  double el = now_seconds() - R.t0;
  double cap = budget_cap();
  int i, shown = 0;

  progress_clear();
  add(&l, "llmroute: %lu request%s in ", written, written == 1 ? "" : "s");
  if(el < 60)
    add(&l, "%.1fs", el);
  else
    add_clock(&l, el);
  if(el > 0 && written) {
    add(&l, " (");
    add_rate(&l, written / el);
    add(&l, ")");
  }
  add(&l, ": %lu %s, %lu error%s", R.nok,
      R.answering ? "answered" : "done", R.nerrors,
      R.nerrors == 1 ? "" : "s");
  /* the most frequent codes first; ties in the order first seen */
  if(R.nerrors)
    add(&l, " (");
  while(shown < SHOW_CODES && shown < pg.ncodes) {
    int best = -1;

    for(i = 0; i < pg.ncodes; i++)
      if(pg.codes[i].n && (best < 0 || pg.codes[i].n > pg.codes[best].n))
        best = i;
    if(best < 0)
      break;
    add(&l, "%s%lu %s", shown ? ", " : "", pg.codes[best].n,
        pg.codes[best].code);
    pg.codes[best].n = 0; /* taken: the summary is the last reader */
    shown++;
  }
  {
    unsigned long rest = pg.other;

    for(i = 0; i < pg.ncodes; i++)
      rest += pg.codes[i].n;
    if(rest)
      add(&l, "%s%lu other", shown ? ", " : "", rest);
  }
  if(R.nerrors)
    add(&l, ")");
  if(R.answering || R.cost_usd > 0) {
    add(&l, "; cost ");
    add_usd(&l, R.cost_usd);
    if(R.baseline_usd > 0) {
      add(&l, " against a ");
      add_usd(&l, R.baseline_usd);
      add(&l, " baseline");
      add_savings(&l, R.cost_usd, R.baseline_usd);
    }
    if(cap >= 0) {
      add(&l, "; budget ");
      add_usd(&l, cap);
    }
  }
  else if(R.expected_usd > 0 || R.baseline_usd > 0) {
    add(&l, "; estimated cost ");
    add_usd(&l, R.expected_usd);
    add(&l, " against a ");
    add_usd(&l, R.baseline_usd);
    add(&l, " baseline");
    add_savings(&l, R.expected_usd, R.baseline_usd);
  }
  if(R.nskipped)
    add(&l, "; %lu skipped (--resume: already done)", R.nskipped);
  if(R.interrupted)
    add(&l, "; interrupted by %s",
        R.interrupted == SIGINT ? "SIGINT" : "SIGTERM");
  else if(R.write_errno)
    add(&l, "; stopped: results could not be written");
  else if(R.epipe)
    add(&l, "; stopped: stdout was closed");
  fprintf(stderr, "%.*s\n", (int)l.len, l.p);
  fflush(stderr);
}

void progress_free(void)
{
  if(pg.keys_made) {
    jv_free(pg.k_baseline);
    jv_free(pg.k_expected);
    jv_free(pg.k_code);
  }
  memset(&pg, 0, sizeof(pg));
  log_set_progress_hook(NULL);
}
