/*
 * casecheck.c - run data-driven pipeline cases (tests/cases/NAME.case) through
 * the runner and compare its result lines with the expected ones as JSON
 * (after jq's tests/jq.test).
 *
 *   casecheck [-b BUILD] [-v] FILE.case [NAME-SUBSTRING]
 *
 * A case file is a list of cases.  A case starts with "=== name" and holds
 * sections, each started by "--- kind" on a line of its own:
 *
 *   === jq rewrites the body
 *   --- pipeline            the pipeline file (written to a temp folder)
 *   jq program='.body.max_tokens = 256'
 *   echo
 *   --- args                extra command-line words (' and " quote)
 *   -j 4 --keep-order
 *   --- env                 KEY=VALUE lines for the runner's environment
 *   --- input               input lines, verbatim (blank lines kept)
 *   {"prompt":"hi"}
 *   --- output              expected result lines, one JSON value a line
 *   {"custom_id":"line-1","error":null}
 *   --- exit                expected exit status (default 0; "*": any,
 *   0                       but a death by signal still fails)
 *   --- stderr              lines that must each appear in stderr
 *   --- stderr-not          lines that must not appear in stderr
 *   --- ordered             (empty) match result lines in order
 *
 * Lines starting with '#' are comments, except inside pipeline and input
 * sections, which are verbatim: so a comment that follows a case must
 * come after one of its other sections.  Trailing blank lines of a
 * section are dropped.  Without an output section stdout must
 * be empty.  With a pipeline section, "-p FILE" comes before the args.
 *
 * Matching: an expected value is a subset of the actual one.  Objects:
 * every key given must match, recursively; arrays: same length, matched
 * element-wise; "*" matches any value; "~text" matches a string holding
 * text; "<absent>" as a key's value means the key must be missing.
 * Result lines are matched in order when the args hold --keep-order or
 * the case has an ordered section, else by custom_id (or, without one,
 * by the first unused line matching).
 * The runner must print as many lines as expected, each valid JSON.
 *
 * The runner runs with BUILD (absolute), CASE_TMP (the case's temp
 * folder, also the pipeline's folder) and CASE_DIR (the case file's
 * folder) in its environment, LLMROUTE_PLUGIN_PATH=$BUILD/tests/plugins,
 * from the current folder.  ${BUILD}, ${CASE_TMP} and ${CASE_DIR} are
 * replaced in the args, env and output sections; the pipeline text is
 * left to the runner's own ${VAR} expansion.
 *
 * Each case prints "PASS: FILE: name" or "FAIL: FILE: name: why".  Exit
 * status: 0 when every case passed, 1 otherwise, 2 on a usage error.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <jv.h>

#define CASE_TIMEOUT_S 60
#define MAX_ARGS 64

/* A growable string. */
struct str {
  char *p;
  size_t len, cap;
};

enum sect {
  S_NONE = 0, S_PIPELINE, S_ARGS, S_ENV, S_INPUT, S_OUTPUT, S_EXIT,
  S_STDERR, S_STDERR_NOT, S_ORDERED, S_COUNT
};

static const char *const sect_names[S_COUNT] = {
  "", "pipeline", "args", "env", "input", "output", "exit", "stderr",
  "stderr-not", "ordered"
};

struct tcase {
  char name[256];
  int line;                 /* of the "===" line */
  struct str sect[S_COUNT];
  int has[S_COUNT];
};

static const char *build_dir;   /* absolute */
static const char *case_dir;    /* absolute */
static const char *case_file;   /* as given, for messages */
static int verbose;

/* ---------------------------------------------------------------------
 * Small helpers
 */

static void str_put(struct str *s, const char *p, size_t n)
{
  if(s->len + n + 1 > s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 256;
    while(cap < s->len + n + 1)
      cap *= 2;
    s->p = realloc(s->p, cap);
    if(!s->p) {
      fprintf(stderr, "casecheck: out of memory\n");
      exit(2);
    }
    s->cap = cap;
  }
  memcpy(s->p + s->len, p, n);
  s->len += n;
  s->p[s->len] = 0;
}

static void str_puts(struct str *s, const char *p)
{
  str_put(s, p, strlen(p));
}

static void str_free(struct str *s)
{
  free(s->p);
  s->p = NULL;
  s->len = s->cap = 0;
}

static const char *str_c(const struct str *s)
{
  return s->p ? s->p : "";
}

/* Drop trailing newlines (the blank lines that end a section). */
static void str_trim_end(struct str *s)
{
  while(s->len && s->p[s->len - 1] == '\n')
    s->p[--s->len] = 0;
}

/* Whole file as a NUL-terminated malloc'd string, or NULL. */
/* dir + "/" + name into out; exits on an over-long path. */
static void path_join(char *out, size_t n, const char *dir,
                      const char *name)
{
  int r = snprintf(out, n, "%s/%s", dir, name);

  if(r < 0 || (size_t)r >= n) {
    fprintf(stderr, "casecheck: path too long: %s/%s\n", dir, name);
    exit(2);
  }
}

static char *read_file(const char *path, size_t *lenp)
{
  FILE *f = fopen(path, "rb");
  struct str s = {NULL, 0, 0};
  char buf[65536];
  size_t n;

  if(!f)
    return NULL;
  while((n = fread(buf, 1, sizeof(buf), f)) > 0)
    str_put(&s, buf, n);
  fclose(f);
  if(!s.p)
    str_put(&s, "", 0);
  if(lenp)
    *lenp = s.len;
  return s.p;
}

static int write_file(const char *path, const char *text, size_t len)
{
  FILE *f = fopen(path, "wb");

  if(!f)
    return -1;
  if(len && fwrite(text, 1, len, f) != len) {
    fclose(f);
    return -1;
  }
  return fclose(f);
}

/* Replace ${BUILD}, ${CASE_TMP} and ${CASE_DIR} in text; malloc'd. */
static char *expand(const char *text, const char *tmp)
{
  struct str out = {NULL, 0, 0};
  const char *p = text;

  str_put(&out, "", 0);
  while(*p) {
    if(!strncmp(p, "${BUILD}", 8)) {
      str_puts(&out, build_dir);
      p += 8;
    }
    else if(!strncmp(p, "${CASE_TMP}", 11)) {
      str_puts(&out, tmp);
      p += 11;
    }
    else if(!strncmp(p, "${CASE_DIR}", 11)) {
      str_puts(&out, case_dir);
      p += 11;
    }
    else
      str_put(&out, p++, 1);
  }
  return out.p;
}

/* Split a command line into words with ' and " quoting (backslash escapes
 * inside double quotes and outside quotes).  Words point into buf, which
 * is modified.  Returns the count or -1. */
static int split_words(char *buf, char **argv, int max)
{
  int n = 0;
  char *r = buf, *w;

  for(;;) {
    while(*r == ' ' || *r == '\t' || *r == '\n')
      r++;
    if(!*r)
      return n;
    if(n == max)
      return -1;
    argv[n++] = w = r;
    while(*r && *r != ' ' && *r != '\t' && *r != '\n') {
      if(*r == '\'') {
        r++;
        while(*r && *r != '\'')
          *w++ = *r++;
        if(!*r)
          return -1;
        r++;
      }
      else if(*r == '"') {
        r++;
        while(*r && *r != '"') {
          if(*r == '\\' && (r[1] == '"' || r[1] == '\\'))
            r++;
          *w++ = *r++;
        }
        if(!*r)
          return -1;
        r++;
      }
      else {
        if(*r == '\\' && r[1])
          r++;
        *w++ = *r++;
      }
    }
    if(*r)
      r++;
    *w = 0;
  }
}

/* ---------------------------------------------------------------------
 * JSON matching
 */

/* Short text of a value for messages; malloc'd. */
static char *show(jv v)
{
  jv s = jv_dump_string(jv_copy(v), 0);
  const char *c = jv_string_value(s);
  size_t n = strlen(c);
  char *out = malloc(n > 300 ? 304 : n + 1);

  if(out) {
    if(n > 300) {
      memcpy(out, c, 300);
      strcpy(out + 300, "...");
    }
    else
      memcpy(out, c, n + 1);
  }
  jv_free(s);
  return out;
}

/* Borrows both.  1 when exp matches act; else 0 and why holds the path
 * and values of the first difference. */
static int match(jv exp, jv act, const char *path, struct str *why)
{
  jv_kind ek = jv_get_kind(exp), ak = jv_get_kind(act);

  if(ek == JV_KIND_STRING) {
    const char *e = jv_string_value(exp);
    if(!strcmp(e, "*"))
      return 1;
    if(e[0] == '~') {
      if(ak == JV_KIND_STRING && strstr(jv_string_value(act), e + 1))
        return 1;
      goto differ;
    }
  }
  if(ek == JV_KIND_OBJECT) {
    int it;
    if(ak != JV_KIND_OBJECT)
      goto differ;
    for(it = jv_object_iter(exp); jv_object_iter_valid(exp, it);
        it = jv_object_iter_next(exp, it)) {
      jv k = jv_object_iter_key(exp, it);
      jv ev = jv_object_iter_value(exp, it);
      jv av = jv_object_get(jv_copy(act), jv_copy(k));
      char sub[1024];
      int ok;
      snprintf(sub, sizeof(sub), "%s.%s", path, jv_string_value(k));
      if(jv_get_kind(ev) == JV_KIND_STRING &&
         !strcmp(jv_string_value(ev), "<absent>"))
        ok = !jv_is_valid(av);
      else if(!jv_is_valid(av)) {
        str_puts(why, sub);
        str_puts(why, ": missing");
        ok = 0;
      }
      else
        ok = match(ev, av, sub, why);
      if(!ok && jv_get_kind(ev) == JV_KIND_STRING &&
         !strcmp(jv_string_value(ev), "<absent>")) {
        char *a = show(av);
        str_puts(why, sub);
        str_puts(why, ": should be absent, is ");
        str_puts(why, a ? a : "?");
        free(a);
      }
      jv_free(k);
      jv_free(ev);
      jv_free(av);
      if(!ok)
        return 0;
    }
    return 1;
  }
  if(ek == JV_KIND_ARRAY) {
    int i, n;
    if(ak != JV_KIND_ARRAY)
      goto differ;
    n = jv_array_length(jv_copy(exp));
    if(n != jv_array_length(jv_copy(act))) {
      char m[64];
      snprintf(m, sizeof(m), "%d", n);
      str_puts(why, path);
      str_puts(why, ": array length differs (want ");
      str_puts(why, m);
      snprintf(m, sizeof(m), ", got %d)", jv_array_length(jv_copy(act)));
      str_puts(why, m);
      return 0;
    }
    for(i = 0; i < n; i++) {
      jv ev = jv_array_get(jv_copy(exp), i);
      jv av = jv_array_get(jv_copy(act), i);
      char sub[1024];
      int ok;
      snprintf(sub, sizeof(sub), "%s[%d]", path, i);
      ok = match(ev, av, sub, why);
      jv_free(ev);
      jv_free(av);
      if(!ok)
        return 0;
    }
    return 1;
  }
  if(ek == JV_KIND_NUMBER && ak == JV_KIND_NUMBER) {
    double e = jv_number_value(exp), a = jv_number_value(act);
    if(e == a || fabs(e - a) <= 1e-9 * fmax(fabs(e), fabs(a)))
      return 1;
    goto differ;
  }
  if(jv_equal(jv_copy(exp), jv_copy(act)))
    return 1;
differ:
  {
    char *e = show(exp), *a = show(act);
    str_puts(why, *path ? path : ".");
    str_puts(why, ": want ");
    str_puts(why, e ? e : "?");
    str_puts(why, ", got ");
    str_puts(why, a ? a : "?");
    free(e);
    free(a);
  }
  return 0;
}

/* custom_id of a result or expected line as a borrowed C string, or
 * NULL when it has none (or a pattern). */
static const char *line_id(jv v, jv *hold)
{
  jv id;

  *hold = jv_null();
  if(jv_get_kind(v) != JV_KIND_OBJECT)
    return NULL;
  id = jv_object_get(jv_copy(v), jv_string("custom_id"));
  if(jv_get_kind(id) != JV_KIND_STRING) {
    jv_free(id);
    return NULL;
  }
  *hold = id;
  if(!strcmp(jv_string_value(id), "*") || jv_string_value(id)[0] == '~')
    return NULL;
  return jv_string_value(id);
}

/* Parse text into an array of values, one a non-blank line.  Returns
 * the array, or an invalid with the failing line's number in *bad. */
static jv parse_lines(const char *text, int *bad, int skip_blank)
{
  jv arr = jv_array();
  const char *p = text;
  int n = 0;

  while(*p) {
    const char *nl = strchr(p, '\n');
    size_t len = nl ? (size_t)(nl - p) : strlen(p);
    char *line = malloc(len + 1);
    jv v;
    size_t i;
    int blank = 1;

    n++;
    memcpy(line, p, len);
    line[len] = 0;
    for(i = 0; i < len; i++)
      if(line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
        blank = 0;
    p = nl ? nl + 1 : p + len;
    if(blank && skip_blank) {
      free(line);
      continue;
    }
    v = jv_parse(line);
    free(line);
    if(!jv_is_valid(v)) {
      jv_free(v);
      jv_free(arr);
      *bad = n;
      return jv_invalid();
    }
    arr = jv_array_append(arr, v);
  }
  return arr;
}

/* Compare expected and actual result lines (both consumed).  1 or 0 and
 * a reason in why. */
static int compare_output(jv exp, jv act, int ordered, struct str *why)
{
  int ne = jv_array_length(jv_copy(exp));
  int na = jv_array_length(jv_copy(act));
  int i, j, ok = 1;
  char *used = NULL;

  if(ne != na) {
    char m[128];
    snprintf(m, sizeof(m), "want %d result lines, got %d", ne, na);
    str_puts(why, m);
    ok = 0;
    goto done;
  }
  used = calloc((size_t)na + 1, 1);
  for(i = 0; i < ne && ok; i++) {
    jv e = jv_array_get(jv_copy(exp), i), eh;
    const char *eid = line_id(e, &eh);
    char path[64];
    snprintf(path, sizeof(path), "line %d", i + 1);
    if(ordered) {
      jv a = jv_array_get(jv_copy(act), i);
      ok = match(e, a, path, why);
      jv_free(a);
    }
    else {
      int found = -1, idmatch = -1;
      for(j = 0; j < na && found < 0; j++) {
        jv a, ah;
        const char *aid;
        if(used[j])
          continue;
        a = jv_array_get(jv_copy(act), j);
        aid = line_id(a, &ah);
        if(eid && aid && !strcmp(eid, aid)) {
          struct str w = {NULL, 0, 0};
          idmatch = j;
          if(match(e, a, path, &w))
            found = j;
          else
            str_puts(why, str_c(&w));
          str_free(&w);
        }
        else if(!eid) {
          struct str w = {NULL, 0, 0};
          if(match(e, a, path, &w))
            found = j;
          str_free(&w);
        }
        jv_free(ah);
        jv_free(a);
        if(idmatch >= 0)
          break;
      }
      if(found >= 0) {
        used[found] = 1;
        str_free(why);
      }
      else {
        ok = 0;
        if(idmatch < 0) {
          char *s = show(e);
          str_free(why);
          str_puts(why, "no result line matches expected ");
          str_puts(why, s ? s : "?");
          free(s);
        }
      }
    }
    jv_free(eh);
    jv_free(e);
  }
done:
  free(used);
  jv_free(exp);
  jv_free(act);
  return ok;
}

/* ---------------------------------------------------------------------
 * Running one case
 */

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void rm_tree(const char *dir)
{
  char cmd[PATH_MAX + 32];
  pid_t pid;
  int st;

  snprintf(cmd, sizeof(cmd), "%s", dir);
  pid = fork();
  if(pid == 0) {
    execlp("rm", "rm", "-rf", cmd, (char *)NULL);
    _exit(127);
  }
  if(pid > 0)
    waitpid(pid, &st, 0);
}

/* Run the runner for tc; fill exit status (or -1 on a timeout or crash
 * with a message in why).  Returns 0 when it ran. */
static int run_case(struct tcase *tc, const char *tmp, int *status,
                    struct str *why)
{
  char pipe_path[PATH_MAX], in_path[PATH_MAX], out_path[PATH_MAX];
  char err_path[PATH_MAX], bin[PATH_MAX], plugpath[PATH_MAX];
  char *argv[MAX_ARGS + 4];
  char *args = NULL, *envtext = NULL;
  int argc = 0, n, st;
  pid_t pid;
  double t0;

  path_join(pipe_path, sizeof(pipe_path), tmp, "case.pipeline");
  path_join(in_path, sizeof(in_path), tmp, "input.jsonl");
  path_join(out_path, sizeof(out_path), tmp, "stdout");
  path_join(err_path, sizeof(err_path), tmp, "stderr");
  snprintf(plugpath, sizeof(plugpath), "%s/tests/plugins", build_dir);
  if(getenv("LLMROUTE"))
    snprintf(bin, sizeof(bin), "%s", getenv("LLMROUTE"));
  else
    snprintf(bin, sizeof(bin), "%s/bin/llmroute", build_dir);

  if(tc->has[S_PIPELINE]) {
    struct str *p = &tc->sect[S_PIPELINE];
    str_put(p, "\n", 1);
    if(write_file(pipe_path, p->p, p->len)) {
      str_puts(why, "cannot write the pipeline file");
      return -1;
    }
  }
  if(tc->has[S_INPUT]) {
    struct str *p = &tc->sect[S_INPUT];
    if(p->len)
      str_put(p, "\n", 1);
    if(write_file(in_path, str_c(p), p->len)) {
      str_puts(why, "cannot write the input file");
      return -1;
    }
  }

  argv[argc++] = bin;
  if(tc->has[S_PIPELINE]) {
    argv[argc++] = "-p";
    argv[argc++] = pipe_path;
  }
  args = expand(str_c(&tc->sect[S_ARGS]), tmp);
  n = split_words(args, argv + argc, MAX_ARGS);
  if(n < 0) {
    str_puts(why, "bad args section (quotes, or too many words)");
    free(args);
    return -1;
  }
  argc += n;
  argv[argc] = NULL;
  envtext = expand(str_c(&tc->sect[S_ENV]), tmp);

  fflush(stdout);
  fflush(stderr);
  pid = fork();
  if(pid < 0) {
    str_puts(why, "fork failed");
    free(args);
    free(envtext);
    return -1;
  }
  if(pid == 0) {
    int fd;
    char *line, *save = NULL;
    fd = open(tc->has[S_INPUT] ? in_path : "/dev/null", O_RDONLY);
    if(fd < 0 || dup2(fd, 0) < 0)
      _exit(126);
    close(fd);
    fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if(fd < 0 || dup2(fd, 1) < 0)
      _exit(126);
    close(fd);
    fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if(fd < 0 || dup2(fd, 2) < 0)
      _exit(126);
    close(fd);
    setenv("BUILD", build_dir, 1);
    setenv("CASE_TMP", tmp, 1);
    setenv("CASE_DIR", case_dir, 1);
    setenv("LLMROUTE_PLUGIN_PATH", plugpath, 1);
    /* line-N custom_ids keep expected lines readable; a case unsets it
       (a bare LLMROUTE_CUSTOM_IDS line) for the default h-HASH ids */
    setenv("LLMROUTE_CUSTOM_IDS", "line", 1);
    for(line = strtok_r(envtext, "\n", &save); line;
        line = strtok_r(NULL, "\n", &save)) {
      char *eq = strchr(line, '=');
      if(!eq)
        unsetenv(line);
      else {
        *eq = 0;
        setenv(line, eq + 1, 1);
      }
    }
    signal(SIGPIPE, SIG_DFL);
    execv(bin, argv);
    fprintf(stderr, "casecheck: cannot run %s: %s\n", bin,
            strerror(errno));
    _exit(127);
  }
  free(args);
  free(envtext);

  t0 = now_s();
  for(;;) {
    pid_t r = waitpid(pid, &st, WNOHANG);
    struct timespec ts = {0, 5000000};
    if(r == pid)
      break;
    if(r < 0) {
      str_puts(why, "waitpid failed");
      return -1;
    }
    if(now_s() - t0 > CASE_TIMEOUT_S) {
      kill(pid, SIGKILL);
      waitpid(pid, &st, 0);
      str_puts(why, "the runner did not finish within the case time limit");
      return -1;
    }
    nanosleep(&ts, NULL);
  }
  if(WIFSIGNALED(st)) {
    char m[128];
    snprintf(m, sizeof(m), "the runner died of signal %d (%s)",
             WTERMSIG(st), strsignal(WTERMSIG(st)));
    str_puts(why, m);
    return -1;
  }
  *status = WEXITSTATUS(st);
  return 0;
}

/* Check a finished case.  1 passed, 0 failed (why says what). */
static int check_case(struct tcase *tc, const char *tmp, int status,
                      struct str *why)
{
  char path[PATH_MAX];
  char *out, *err, *exptext;
  int want_exit = 0, bad = 0, ordered = 0, ok = 1;
  jv exp, act;

  if(tc->has[S_EXIT] && !strcmp(str_c(&tc->sect[S_EXIT]), "*"))
    want_exit = -1;
  else if(tc->has[S_EXIT])
    want_exit = atoi(str_c(&tc->sect[S_EXIT]));
  path_join(path, sizeof(path), tmp, "stdout");
  out = read_file(path, NULL);
  path_join(path, sizeof(path), tmp, "stderr");
  err = read_file(path, NULL);
  if(!out || !err) {
    str_puts(why, "cannot read the runner's output");
    free(out);
    free(err);
    return 0;
  }

  if(want_exit >= 0 && status != want_exit) {
    char m[128];
    snprintf(m, sizeof(m), "exit status %d, want %d", status, want_exit);
    str_puts(why, m);
    ok = 0;
  }

  if(ok && tc->has[S_STDERR]) {
    char *text = expand(str_c(&tc->sect[S_STDERR]), tmp), *line, *save;
    for(line = strtok_r(text, "\n", &save); line && ok;
        line = strtok_r(NULL, "\n", &save)) {
      if(!strstr(err, line)) {
        str_puts(why, "stderr lacks '");
        str_puts(why, line);
        str_puts(why, "'");
        ok = 0;
      }
    }
    free(text);
  }
  if(ok && tc->has[S_STDERR_NOT]) {
    char *text = expand(str_c(&tc->sect[S_STDERR_NOT]), tmp), *line, *save;
    for(line = strtok_r(text, "\n", &save); line && ok;
        line = strtok_r(NULL, "\n", &save)) {
      if(strstr(err, line)) {
        str_puts(why, "stderr holds '");
        str_puts(why, line);
        str_puts(why, "'");
        ok = 0;
      }
    }
    free(text);
  }

  if(ok) {
    act = parse_lines(out, &bad, 0);
    if(!jv_is_valid(act)) {
      char m[128];
      jv_free(act);
      snprintf(m, sizeof(m), "stdout line %d is not one JSON value", bad);
      str_puts(why, m);
      ok = 0;
    }
    else {
      exptext = expand(str_c(&tc->sect[S_OUTPUT]), tmp);
      exp = parse_lines(exptext, &bad, 1);
      free(exptext);
      if(!jv_is_valid(exp)) {
        char m[128];
        jv_free(exp);
        jv_free(act);
        snprintf(m, sizeof(m), "output line %d of the case is not JSON",
                 bad);
        str_puts(why, m);
        ok = 0;
      }
      else {
        const char *a = str_c(&tc->sect[S_ARGS]);
        ordered = strstr(a, "--keep-order") != NULL || tc->has[S_ORDERED];
        ok = compare_output(exp, act, ordered, why);
      }
    }
  }
  if(!ok && *err) {
    size_t n = strlen(err);
    char *nl;
    while(n && err[n - 1] == '\n')
      err[--n] = 0;
    for(nl = err; *nl; nl++)
      if(*nl == '\n')
        *nl = '|';
    str_puts(why, " [stderr: ");
    if(n > 400)
      err[400] = 0;
    str_puts(why, err);
    str_puts(why, "]");
  }
  if(!ok && verbose)
    fprintf(stderr, "--- stdout of %s:\n%s", tc->name, out);
  free(out);
  free(err);
  return ok;
}

static void one_line(char *s)
{
  for(; *s; s++)
    if(*s == '\n' || *s == '\r')
      *s = ' ';
}

/* Run and check a parsed case; print its PASS or FAIL line. */
static int do_case(struct tcase *tc)
{
  char tmpl[PATH_MAX];
  const char *base = getenv("TMPDIR");
  struct str why = {NULL, 0, 0};
  int status = -1, ok = 0;
  const char *fname = strrchr(case_file, '/');

  fname = fname ? fname + 1 : case_file;
  snprintf(tmpl, sizeof(tmpl), "%s/casecheck.XXXXXX",
           base && *base ? base : "/tmp");
  if(!mkdtemp(tmpl)) {
    printf("FAIL: %s: %s: cannot make a temp folder\n", fname, tc->name);
    return 0;
  }
  if(run_case(tc, tmpl, &status, &why) == 0)
    ok = check_case(tc, tmpl, status, &why);
  if(ok)
    printf("PASS: %s: %s\n", fname, tc->name);
  else {
    one_line(why.p ? why.p : (char *)"");
    printf("FAIL: %s: %s: %s (%s:%d)\n", fname, tc->name, str_c(&why),
           case_file, tc->line);
  }
  fflush(stdout);
  str_free(&why);
  if(ok || !verbose)
    rm_tree(tmpl);
  else
    fprintf(stderr, "casecheck: kept %s\n", tmpl);
  return ok;
}

static void case_reset(struct tcase *tc)
{
  int i;

  for(i = 0; i < S_COUNT; i++) {
    str_free(&tc->sect[i]);
    tc->has[i] = 0;
  }
  tc->name[0] = 0;
  tc->line = 0;
}

/* ---------------------------------------------------------------------
 * The case file
 */

static int run_file(const char *path, const char *filter, int *npass,
                    int *nfail)
{
  char *text = read_file(path, NULL), *p, *nl;
  struct tcase tc;
  enum sect cur = S_NONE;
  int lineno = 0, in_case = 0;

  if(!text) {
    fprintf(stderr, "casecheck: cannot read %s: %s\n", path,
            strerror(errno));
    return -1;
  }
  {
    size_t n = strlen(text);
    if(n && text[n - 1] != '\n') {
      char *t = realloc(text, n + 2);
      if(!t) {
        free(text);
        return -1;
      }
      text = t;
      strcpy(text + n, "\n");
    }
  }
  memset(&tc, 0, sizeof(tc));
  for(p = text;; p = nl + 1) {
    int at_end = !*p;
    nl = at_end ? NULL : strchr(p, '\n');
    if(!at_end)
      *nl = 0;
    lineno++;
    if(at_end || !strncmp(p, "=== ", 4) || !strcmp(p, "===")) {
      if(in_case) {
        int i;
        for(i = 0; i < S_COUNT; i++)
          str_trim_end(&tc.sect[i]);
        if(!filter || strstr(tc.name, filter)) {
          if(do_case(&tc))
            (*npass)++;
          else
            (*nfail)++;
        }
      }
      case_reset(&tc);
      if(at_end)
        break;
      in_case = 1;
      cur = S_NONE;
      snprintf(tc.name, sizeof(tc.name), "%s", p[3] ? p + 4 : "");
      if(!tc.name[0])
        snprintf(tc.name, sizeof(tc.name), "line %d", lineno);
      tc.line = lineno;
    }
    else if(!strncmp(p, "--- ", 4)) {
      int i;
      cur = S_NONE;
      for(i = 1; i < S_COUNT; i++)
        if(!strcmp(p + 4, sect_names[i]))
          cur = (enum sect)i;
      if(cur == S_NONE || !in_case) {
        fprintf(stderr, "%s:%d: unknown section '%s' (or before ===)\n",
                path, lineno, p + 4);
        free(text);
        case_reset(&tc);
        return -1;
      }
      tc.has[cur] = 1;
    }
    else if(p[0] == '#' && cur != S_PIPELINE && cur != S_INPUT)
      continue;
    else if(cur != S_NONE) {
      str_puts(&tc.sect[cur], p);
      str_put(&tc.sect[cur], "\n", 1);
    }
    else if(*p && *p != '#') {
      fprintf(stderr, "%s:%d: text outside a section\n", path, lineno);
      free(text);
      case_reset(&tc);
      return -1;
    }
  }
  free(text);
  return 0;
}

static char *absolute(const char *path)
{
  char *r = realpath(path, NULL);

  if(!r) {
    fprintf(stderr, "casecheck: %s: %s\n", path, strerror(errno));
    exit(2);
  }
  return r;
}

int main(int argc, char **argv)
{
  const char *build = getenv("BUILD");
  const char *file = NULL, *filter = NULL;
  char *dir, *slash;
  int i, npass = 0, nfail = 0;

  for(i = 1; i < argc; i++) {
    if(!strcmp(argv[i], "-b") && i + 1 < argc)
      build = argv[++i];
    else if(!strcmp(argv[i], "-v"))
      verbose = 1;
    else if(!file)
      file = argv[i];
    else if(!filter)
      filter = argv[i];
    else
      file = NULL, i = argc;
  }
  if(!file) {
    fprintf(stderr, "usage: casecheck [-b BUILD] [-v] FILE.case "
            "[NAME-SUBSTRING]\n");
    return 2;
  }
  build_dir = absolute(build && *build ? build : "build");
  dir = absolute(file);
  slash = strrchr(dir, '/');
  if(slash && slash != dir)
    *slash = 0;
  case_dir = dir;
  case_file = file;
  signal(SIGPIPE, SIG_IGN);
  if(run_file(file, filter, &npass, &nfail) < 0)
    return 2;
  if(verbose)
    fprintf(stderr, "casecheck: %s: %d passed, %d failed\n", file, npass,
            nfail);
  return nfail ? 1 : 0;
}
