/*
 * pipeline.c - the pipeline file (llmroute(1), PIPELINE FILE).
 *
 *   # comment
 *   set catalog=models.json baseline=claude-opus-4-5
 *   classify rules=tasks.rules
 *   jq program='.body.max_tokens = 256'
 *   call timeout=${CALL_TIMEOUT:-60}
 *
 * One stage a line: NAME [KEY=VALUE ...].  Values may be double-quoted
 * (backslash escapes, ${VAR} expanded) or single-quoted (taken as is).
 * ${VAR} and ${VAR:-default} expand from the environment.  Every error
 * is printed as FILE:LINE: message, before any input is read.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"

#define PL_ERR(pl, line, ...)                                              \
  do {                                                                     \
    fprintf(stderr, "%s:%d: ", (pl)->file, (line));                        \
    fprintf(stderr, __VA_ARGS__);                                          \
    fputc('\n', stderr);                                                   \
  } while(0)

/* ---------------------------------------------------------------------
 * Where things are
 */
const char *runner_prefix(void)
{
  static char prefix[PATH_MAX];
  char exe[PATH_MAX];
  ssize_t n;
  char *slash;

  if(prefix[0])
    return prefix;
  n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if(n <= 0) {
    strcpy(prefix, ".");
    return prefix;
  }
  exe[n] = '\0';
  /* <prefix>/bin/llmroute */
  slash = strrchr(exe, '/');
  if(slash)
    *slash = '\0';
  slash = strrchr(exe, '/');
  if(slash)
    *slash = '\0';
  snprintf(prefix, sizeof(prefix), "%s", exe[0] ? exe : "/");
  return prefix;
}

static int ends_with(const char *s, const char *suffix)
{
  size_t n = strlen(s), m = strlen(suffix);

  return n >= m && !strcmp(s + n - m, suffix);
}

char *pipeline_resolve(const char *arg)
{
  char *path;
  size_t n;

  if(strchr(arg, '/') || ends_with(arg, ".pipeline"))
    return strdup(arg);
  n = strlen(runner_prefix()) + strlen(arg) + 64;
  path = malloc(n);
  if(path)
    snprintf(path, n, "%s/share/llmroute/pipelines/%s.pipeline",
             runner_prefix(), arg);
  return path;
}

/* ---------------------------------------------------------------------
 * Tokenizing one line
 */
struct tok {
  char *text;
  int quoted_value;
};

/* Append the value of ${...} at *pp (just past "${") to out.  Returns 0
 * or -1 with a message in err. */
static int expand_var(const char **pp, struct buf *out, char *err,
                      size_t errlen)
{
  const char *p = *pp, *end = strchr(p, '}');
  char name[256];
  const char *def = NULL;
  size_t nlen, dlen = 0;
  const char *val;

  if(!end) {
    snprintf(err, errlen, "unterminated ${ in value");
    return -1;
  }
  nlen = (size_t)(end - p);
  {
    const char *dash = NULL, *q;

    for(q = p; q < end - 1; q++)
      if(q[0] == ':' && q[1] == '-') {
        dash = q;
        break;
      }
    if(dash) {
      def = dash + 2;
      dlen = (size_t)(end - def);
      nlen = (size_t)(dash - p);
    }
  }
  if(nlen == 0 || nlen >= sizeof(name)) {
    snprintf(err, errlen, "bad variable name in ${...}");
    return -1;
  }
  memcpy(name, p, nlen);
  name[nlen] = '\0';
  {
    size_t i;

    for(i = 0; i < nlen; i++)
      if(!isalnum((unsigned char)name[i]) && name[i] != '_') {
        snprintf(err, errlen, "bad variable name '${%.60s}'", name);
        return -1;
      }
  }
  val = getenv(name);
  if(val && *val)
    buf_puts(out, val);
  else if(def)
    buf_put(out, def, dlen);
  else if(val)
    ; /* set but empty */
  else {
    snprintf(err, errlen,
             "environment variable %.60s is not set (write ${%.60s:-default} "
             "for a default)", name, name);
    return -1;
  }
  *pp = end + 1;
  return 0;
}

int env_expand(const char *in, struct buf *out, char *err, size_t errlen)
{
  const char *p = in;

  while(*p) {
    if(p[0] == '$' && p[1] == '{') {
      p += 2;
      if(expand_var(&p, out, err, errlen))
        return -1;
    }
    else
      buf_putc(out, *p++);
  }
  return 0;
}

/* Split a line into words, honouring quotes, ${VAR} and # comments.
 * Returns the number of words (>= 0) or -1 with err set. */
static int tokenize(const char *line, struct tok **out, char *err,
                    size_t errlen)
{
  struct tok *toks = NULL;
  int n = 0, cap = 0;
  const char *p = line;

  *out = NULL;
  for(;;) {
    struct buf w;
    int quoted = 0;

    while(*p == ' ' || *p == '\t' || *p == '\r')
      p++;
    if(!*p || *p == '#' || *p == '\n')
      break;
    buf_init(&w);
    buf_reserve(&w, 16);
    while(*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n') {
      if(*p == '\'') {
        const char *end = strchr(p + 1, '\'');

        if(!end) {
          snprintf(err, errlen, "unterminated ' quote");
          goto fail;
        }
        buf_put(&w, p + 1, (size_t)(end - p - 1));
        p = end + 1;
        quoted = 1;
      }
      else if(*p == '"') {
        p++;
        while(*p && *p != '"') {
          if(*p == '\\' && p[1]) {
            buf_putc(&w, p[1]);
            p += 2;
          }
          else if(p[0] == '$' && p[1] == '{') {
            p += 2;
            if(expand_var(&p, &w, err, errlen))
              goto fail;
          }
          else
            buf_putc(&w, *p++);
        }
        if(*p != '"') {
          snprintf(err, errlen, "unterminated \" quote");
          goto fail;
        }
        p++;
        quoted = 1;
      }
      else if(p[0] == '$' && p[1] == '{') {
        p += 2;
        if(expand_var(&p, &w, err, errlen))
          goto fail;
      }
      else
        buf_putc(&w, *p++);
    }
    if(n == cap) {
      int nc = cap ? cap * 2 : 8;
      struct tok *t = realloc(toks, (size_t)nc * sizeof(*t));

      if(!t) {
        snprintf(err, errlen, "out of memory");
        goto fail;
      }
      toks = t;
      cap = nc;
    }
    toks[n].text = w.p;
    toks[n].quoted_value = quoted;
    n++;
    continue;
fail:
    buf_free(&w);
    while(n > 0)
      free(toks[--n].text);
    free(toks);
    return -1;
  }
  *out = toks;
  return n;
}

static void free_toks(struct tok *t, int n)
{
  int i;

  for(i = 0; i < n; i++)
    free(t[i].text);
  free(t);
}

/* Split "KEY=VALUE" in place; returns the value or NULL. */
static char *split_kv(char *word)
{
  char *eq = strchr(word, '=');

  if(!eq || eq == word)
    return NULL;
  *eq = '\0';
  return eq + 1;
}

static int valid_key(const char *k)
{
  if(!*k)
    return 0;
  for(; *k; k++)
    if(!isalnum((unsigned char)*k) && *k != '_' && *k != '-' && *k != '.')
      return 0;
  return 1;
}

/* ---------------------------------------------------------------------
 * The file
 */
static char *dir_of(const char *path)
{
  const char *slash = strrchr(path, '/');

  if(!slash)
    return strdup(".");
  if(slash == path)
    return strdup("/");
  return strndup(path, (size_t)(slash - path));
}

/* Settings whose values are file paths (resolved like PATH options). */
static int path_setting(const char *key)
{
  return !strcmp(key, "catalog");
}

char *path_resolve_in(const char *dir, const char *shipped,
                      const char *val)
{
  size_t n;
  char *p, *q;

  if(val[0] == '/' || !val[0])
    return strdup(val);
  n = strlen(dir) + strlen(val) + 2;
  p = malloc(n);
  if(!p)
    return NULL;
  snprintf(p, n, "%s/%s", dir, val);
  if(!shipped || access(p, F_OK) == 0)
    return p;
  /* not beside the pipeline: the shipped file of that name, if any */
  n = strlen(shipped) + strlen(val) + 2;
  q = malloc(n);
  if(q) {
    snprintf(q, n, "%s/%s", shipped, val);
    if(access(q, F_OK) == 0) {
      free(p);
      return q;
    }
    free(q);
  }
  return p;
}

char *path_resolve(const char *dir, const char *val)
{
  const char *pre = runner_prefix();
  size_t n = strlen(pre) + sizeof("/share/llmroute/pipelines");
  char *shipped = malloc(n), *p;

  if(!shipped)
    return NULL;
  snprintf(shipped, n, "%s/share/llmroute/pipelines", pre);
  p = path_resolve_in(dir, shipped, val);
  free(shipped);
  return p;
}

static int add_kv(struct kv **arr, int *n, const char *k, char *v,
                  int line)
{
  struct kv *a = realloc(*arr, (size_t)(*n + 1) * sizeof(**arr));

  if(!a)
    return -1;
  *arr = a;
  a[*n].key = strdup(k);
  a[*n].val = v;
  a[*n].line = line;
  (*n)++;
  return 0;
}

/* The run-wide settings a `set` line may hold (llmroute(1), PIPELINE
 * FILE), so a misspelled key is refused, not ignored.  A key with a dot
 * ("mystage.knob") is a third-party stage's own, read through
 * host->setting(), and is not checked. */
static const char *const known_settings[] = {
  "catalog", "baseline", "budget", "concurrency", "max_hops",
  "job_timeout", "max_line", "shared", "run", "shared_ttl",
  "shared_timeout", NULL
};

static int parse_set(struct pipeline *pl, struct tok *t, int nt, int line)
{
  int i, j;

  if(nt < 2) {
    PL_ERR(pl, line, "'set' needs KEY=VALUE pairs");
    return -1;
  }
  for(i = 1; i < nt; i++) {
    char *val = split_kv(t[i].text);
    char *v;

    if(!val || !valid_key(t[i].text)) {
      PL_ERR(pl, line, "expected KEY=VALUE after 'set', got '%s'",
             t[i].text);
      return -1;
    }
    for(j = 0; known_settings[j] && strcmp(known_settings[j], t[i].text);
        j++)
      ;
    if(!known_settings[j] && !strchr(t[i].text, '.')) {
      PL_ERR(pl, line, "unknown setting '%s' (valid: catalog, baseline, "
             "budget, concurrency, max_hops, job_timeout, max_line, "
             "shared, run, shared_ttl, shared_timeout; a stage's own: "
             "NAME.KEY)", t[i].text);
      return -1;
    }
    for(j = 0; j < pl->nsettings; j++)
      if(!strcmp(pl->settings[j].key, t[i].text)) {
        PL_ERR(pl, line, "setting '%s' already set on line %d",
               t[i].text, pl->settings[j].line);
        return -1;
      }
    v = path_setting(t[i].text) ? path_resolve(pl->dir, val) : strdup(val);
    if(!v || add_kv(&pl->settings, &pl->nsettings, t[i].text, v, line)) {
      free(v);
      PL_ERR(pl, line, "out of memory");
      return -1;
    }
  }
  return 0;
}

static int parse_stage(struct pipeline *pl, struct tok *t, int nt, int line)
{
  struct stage_inst *st, *arr;
  int i, j;

  arr = realloc(pl->stages, (size_t)(pl->nstages + 1) * sizeof(*arr));
  if(!arr) {
    PL_ERR(pl, line, "out of memory");
    return -1;
  }
  pl->stages = arr;
  st = &arr[pl->nstages++];
  memset(st, 0, sizeof(*st));
  st->cf.file = pl->file;
  st->cf.line = line;
  st->cf.index = pl->nstages - 1;
  st->cf.name = strdup(t[0].text);
  for(i = 1; i < nt; i++) {
    char *val = split_kv(t[i].text);

    if(!val || !valid_key(t[i].text)) {
      PL_ERR(pl, line, "expected KEY=VALUE after stage '%s', got '%s'",
             t[0].text, t[i].text);
      return -1;
    }
    for(j = 0; j < st->nopts; j++)
      if(!strcmp(st->opts[j].key, t[i].text)) {
        PL_ERR(pl, line, "option '%s' given twice", t[i].text);
        return -1;
      }
    if(add_kv(&st->opts, &st->nopts, t[i].text, strdup(val), line)) {
      PL_ERR(pl, line, "out of memory");
      return -1;
    }
  }
  return 0;
}

int pipeline_parse(struct pipeline *pl, const char *path)
{
  FILE *f;
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  int lineno = 0, rc = LLMR_OK;

  memset(pl, 0, sizeof(*pl));
  pl->file = strdup(path);
  pl->dir = dir_of(path);
  f = fopen(path, "r");
  if(!f) {
    fprintf(stderr, "%s:0: cannot open pipeline file: %s\n", path,
            strerror(errno));
    return LLMR_ERR;
  }
  while((len = getline(&line, &cap, f)) >= 0) {
    struct tok *t;
    char err[256];
    int nt;

    lineno++;
    if(memchr(line, '\0', (size_t)len)) {
      PL_ERR(pl, lineno, "NUL byte in pipeline file");
      rc = LLMR_ERR;
      break;
    }
    nt = tokenize(line, &t, err, sizeof(err));
    if(nt < 0) {
      PL_ERR(pl, lineno, "%s", err);
      rc = LLMR_ERR;
      break;
    }
    if(nt == 0) {
      free(t);
      continue;
    }
    if(!strcmp(t[0].text, "set"))
      rc = parse_set(pl, t, nt, lineno) ? LLMR_ERR : LLMR_OK;
    else if(strchr(t[0].text, '=')) {
      PL_ERR(pl, lineno, "expected a stage name, got '%s' (settings go "
             "on a 'set' line)", t[0].text);
      rc = LLMR_ERR;
    }
    else
      rc = parse_stage(pl, t, nt, lineno) ? LLMR_ERR : LLMR_OK;
    free_toks(t, nt);
    if(rc)
      break;
  }
  if(!rc && ferror(f)) {
    fprintf(stderr, "%s:%d: read error: %s\n", path, lineno,
            strerror(errno));
    rc = LLMR_ERR;
  }
  free(line);
  fclose(f);
  if(!rc && pl->nstages == 0) {
    fprintf(stderr, "%s:%d: the pipeline has no stage\n", path, lineno);
    rc = LLMR_ERR;
  }
  return rc;
}

const char *pipeline_setting(const struct pipeline *pl, const char *key)
{
  int i;

  for(i = 0; i < pl->nsettings; i++)
    if(!strcmp(pl->settings[i].key, key))
      return pl->settings[i].val;
  return NULL;
}

int pipeline_override(struct pipeline *pl, const char *key, const char *val)
{
  int i;

  for(i = 0; i < pl->nsettings; i++)
    if(!strcmp(pl->settings[i].key, key)) {
      free(pl->settings[i].val);
      pl->settings[i].val = NULL;
      if(val && !(pl->settings[i].val = strdup(val)))
        return LLMR_ERR;
      if(!val) { /* removed: the last one takes its place */
        free(pl->settings[i].key);
        pl->settings[i] = pl->settings[--pl->nsettings];
      }
      return LLMR_OK;
    }
  if(!val)
    return LLMR_OK;
  {
    char *v = strdup(val);
    if(!v || add_kv(&pl->settings, &pl->nsettings, key, v, 0)) {
      free(v);
      return LLMR_ERR;
    }
  }
  return LLMR_OK;
}

/* Label instances: "call", then "call#2" for the second "call". */
static int label_instances(struct pipeline *pl)
{
  int i, j;

  for(i = 0; i < pl->nstages; i++) {
    const char *name = pl->stages[i].desc->name;
    int nth = 1;
    char label[256];

    for(j = 0; j < i; j++)
      if(!strcmp(pl->stages[j].desc->name, name))
        nth++;
    if(nth == 1)
      snprintf(label, sizeof(label), "%s", name);
    else
      snprintf(label, sizeof(label), "%s#%d", name, nth);
    pl->stages[i].cf.instance = strdup(label);
    if(!pl->stages[i].cf.instance)
      return -1;
  }
  return 0;
}

int pipeline_load(struct pipeline *pl)
{
  int i;
  char err[1024];

  for(i = 0; i < pl->nstages; i++) {
    struct stage_inst *st = &pl->stages[i];
    const char *name = st->cf.name;

    if(strchr(name, '/'))
      st->path = path_resolve(pl->dir, name);
    else
      st->path = loader_find(name);
    if(!st->path) {
      const char *pp = getenv("LLMROUTE_PLUGIN_PATH");

      PL_ERR(pl, st->cf.line,
             "unknown stage '%s': no %s.so in %s%s%s%s/lib/llmroute; "
             "name the file (./%s.so) or add its folder to "
             "LLMROUTE_PLUGIN_PATH (colon-separated)", name, name,
             pp && *pp ? "LLMROUTE_PLUGIN_PATH (" : "",
             pp && *pp ? pp : "", pp && *pp ? ") or " : "",
             runner_prefix(), name);
      return LLMR_ERR;
    }
    if(loader_open(st->path, &st->dl, &st->desc, err, sizeof(err))) {
      PL_ERR(pl, st->cf.line, "%s", err);
      return LLMR_ERR;
    }
    if(options_apply(st, pl->dir, err, sizeof(err))) {
      PL_ERR(pl, st->cf.line, "%s", err);
      return LLMR_ERR;
    }
  }
  if(label_instances(pl)) {
    fprintf(stderr, "%s: out of memory\n", pl->file);
    return LLMR_ERR;
  }
  return LLMR_OK;
}

void pipeline_free(struct pipeline *pl)
{
  int i, j;

  if(!pl)
    return;
  for(i = 0; i < pl->nstages; i++) {
    struct stage_inst *st = &pl->stages[i];

    for(j = 0; j < st->nopts; j++) {
      free(st->opts[j].key);
      free(st->opts[j].val);
    }
    free(st->opts);
    if(st->values && st->desc && st->desc->options) {
      for(j = 0; st->desc->options[j].name; j++)
        free((char *)st->values[j].str);
    }
    free(st->values);
    free((char *)st->cf.name);
    free((char *)st->cf.instance);
    free(st->path);
    /* the .so stays mapped: jv values it made may still be alive */
  }
  free(pl->stages);
  for(i = 0; i < pl->nsettings; i++) {
    free(pl->settings[i].key);
    free(pl->settings[i].val);
  }
  free(pl->settings);
  free(pl->file);
  free(pl->dir);
  memset(pl, 0, sizeof(*pl));
}
