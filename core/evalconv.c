/*
 * evalconv.c - `llmroute eval convert`: recorded outcomes from
 * RouterBench's wide CSV, or from llmroute's own result files joined
 * with review verdicts.
 *
 *   llmroute eval convert routerbench [-o OUT.jsonl] [--catalog-out CAT]
 *                                     [--tiers T1,T2] CSV...
 *   llmroute eval convert results [-o OUT.jsonl] --requests REQ.jsonl
 *                                 --verdicts VERDICTS.jsonl RESULTS...
 *
 * A recorded-outcomes line (llmroute(1), RECORDED OUTCOMES) is an input
 * line as llmroute reads it plus "outcomes": per model, what it answered,
 * its score in [0, 1], its usage and what the call cost:
 *
 *   {"custom_id":"arc.1108","prompt":"...","benchmark":"arc-challenge",
 *    "outcomes":{"gpt-4":{"answer":"B","score":1,
 *                         "usage":{"input_tokens":812,"output_tokens":1},
 *                         "cost_usd":0.00523}, ...}}
 *
 * RouterBench's CSV has, per row, sample_id, prompt (a Python list of
 * strings), eval_name, then per model <model> (the score), <model>|
 * model_response (a Python list) and <model>|total_cost.  It records no
 * token counts: usage is the token estimator's count of the prompt and of
 * the answer.  A row missing the scores of more than half its models is
 * skipped; a model missing its score in a kept row scores 0.  Duplicate
 * sample_ids get "#2", "#3" ... so every custom_id is unique.
 *
 * The catalog written beside it serves every recorded model through one
 * provider of format "replay" reading OUT.jsonl (named relative to the
 * catalog when both are in one folder, else by absolute path).  A
 * model's price is
 * what its recorded calls cost per estimated token (input and output
 * alike: the CSV does not split them); its tier comes from that price:
 * below T1 USD per million tokens tier 1, below T2 tier 2, else 3
 * (--tiers, default 0.8,5).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "strmap.h"

/* ---------------------------------------------------------------------
 * CSV (RFC 4180: quoted fields may hold commas, "" and newlines)
 */

struct csv {
  FILE *f;
  const char *path;
  long line;          /* physical line of the record's start */
  char *buf;          /* the fields, NUL-separated */
  size_t len, cap;
  size_t *off;        /* field offsets into buf */
  int n, capf;
};

static int csv_put(struct csv *c, int ch)
{
  if(c->len + 1 >= c->cap) {
    size_t cap = c->cap ? c->cap * 2 : 65536;
    char *p = realloc(c->buf, cap);
    if(!p)
      return -1;
    c->buf = p;
    c->cap = cap;
  }
  c->buf[c->len++] = (char)ch;
  return 0;
}

static int csv_field(struct csv *c)
{
  if(c->n == c->capf) {
    int cap = c->capf ? c->capf * 2 : 64;
    size_t *o = realloc(c->off, (size_t)cap * sizeof(*o));
    if(!o)
      return -1;
    c->off = o;
    c->capf = cap;
  }
  c->off[c->n++] = c->len;
  return 0;
}

/* Read one record.  1 when read, 0 at end of file, -1 on error (out of
 * memory, or end of file inside quotes). */
static int csv_record(struct csv *c)
{
  int ch, quoted = 0, any = 0;

  c->len = 0;
  c->n = 0;
  if(csv_field(c))
    return -1;
  for(;;) {
    ch = getc(c->f);
    if(ch == EOF) {
      if(quoted)
        return -1;
      if(!any)
        return 0;
      break;
    }
    any = 1;
    if(quoted) {
      if(ch == '"') {
        int nx = getc(c->f);
        if(nx == '"') {
          if(csv_put(c, '"'))
            return -1;
          continue;
        }
        quoted = 0;
        if(nx == EOF)
          break;
        ungetc(nx, c->f);
        continue;
      }
      if(ch == '\n')
        c->line++;
      if(csv_put(c, ch))
        return -1;
      continue;
    }
    if(ch == '"')
      quoted = 1;
    else if(ch == ',') {
      if(csv_put(c, '\0') || csv_field(c))
        return -1;
    }
    else if(ch == '\n') {
      c->line++;
      break;
    }
    else if(ch != '\r' && csv_put(c, ch))
      return -1;
  }
  return csv_put(c, '\0') ? -1 : 1;
}

static const char *csv_get(const struct csv *c, int i)
{
  return i >= 0 && i < c->n ? c->buf + c->off[i] : NULL;
}

/* ---------------------------------------------------------------------
 * Python literals: a list of strings, ['a', "b\n"], or a bare string
 */

/* Append the Python string literal at *pp (at its opening quote) to o,
 * decoding escapes; *pp moves past it.  0, or -1 when it is no literal. */
static int py_string(const char **pp, struct buf *o)
{
  const char *p = *pp;
  char q = *p++;

  if(q != '\'' && q != '"')
    return -1;
  while(*p && *p != q) {
    if(*p != '\\') {
      buf_putc(o, *p++);
      continue;
    }
    p++;
    switch(*p) {
    case 'n': buf_putc(o, '\n'); break;
    case 't': buf_putc(o, '\t'); break;
    case 'r': buf_putc(o, '\r'); break;
    case '0': buf_putc(o, '\0'); break;
    case '\\': case '\'': case '"': buf_putc(o, *p); break;
    case 'x': case 'u': case 'U': {
      int digits = *p == 'x' ? 2 : *p == 'u' ? 4 : 8, i;
      unsigned long cp = 0;
      for(i = 0; i < digits; i++) {
        char h = p[1 + i];
        int v = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ?
                h - 'a' + 10 : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
        if(v < 0)
          return -1;
        cp = cp * 16 + (unsigned long)v;
      }
      p += digits;
      /* as UTF-8 (\xNN in a str literal is a code point too) */
      if(cp < 0x80)
        buf_putc(o, (char)cp);
      else if(cp < 0x800) {
        buf_putc(o, (char)(0xc0 | (cp >> 6)));
        buf_putc(o, (char)(0x80 | (cp & 0x3f)));
      }
      else if(cp < 0x10000) {
        buf_putc(o, (char)(0xe0 | (cp >> 12)));
        buf_putc(o, (char)(0x80 | ((cp >> 6) & 0x3f)));
        buf_putc(o, (char)(0x80 | (cp & 0x3f)));
      }
      else {
        buf_putc(o, (char)(0xf0 | (cp >> 18)));
        buf_putc(o, (char)(0x80 | ((cp >> 12) & 0x3f)));
        buf_putc(o, (char)(0x80 | ((cp >> 6) & 0x3f)));
        buf_putc(o, (char)(0x80 | (cp & 0x3f)));
      }
      break;
    }
    case '\n': break; /* a line continuation */
    case '\0': return -1;
    default:
      buf_putc(o, '\\');
      buf_putc(o, *p);
    }
    p++;
  }
  if(*p != q)
    return -1;
  *pp = p + 1;
  return 0;
}

/* The text of a Python list of strings (elements joined by "\n"), or of
 * a bare string literal, or s itself when it is neither.  Into o. */
static void py_text(const char *s, struct buf *o)
{
  const char *p = s;
  int n = 0;

  o->len = 0;
  while(*p == ' ')
    p++;
  if(*p == '\'' || *p == '"') {
    if(py_string(&p, o) == 0)
      return;
  }
  else if(*p == '[') {
    p++;
    for(;;) {
      while(*p == ' ' || *p == ',' || *p == '\n')
        p++;
      if(*p == ']')
        return;
      if(n++)
        buf_putc(o, '\n');
      if(py_string(&p, o))
        break;
    }
  }
  o->len = 0; /* not a literal: the text as it is */
  buf_puts(o, s);
}

/* ---------------------------------------------------------------------
 * RouterBench
 */

#define RB_MAX_MODELS 64

struct rb_model {
  char *name;
  int score, answer, cost; /* column indexes, -1 absent */
  double cost_sum, tokens;
};

struct rb {
  struct rb_model m[RB_MAX_MODELS];
  int n;
  int c_id, c_prompt, c_bench;
};

static int col_of(const struct csv *c, const char *name)
{
  int i;

  for(i = 0; i < c->n; i++)
    if(!strcmp(csv_get(c, i), name))
      return i;
  return -1;
}

/* Read the header of one CSV into rb (the first file sets the models;
 * later files must have them all).  0 or -1 (message printed). */
static int rb_header(struct rb *rb, const struct csv *c, int first)
{
  int i;

  rb->c_id = col_of(c, "sample_id");
  rb->c_prompt = col_of(c, "prompt");
  rb->c_bench = col_of(c, "eval_name");
  if(rb->c_prompt < 0) {
    fprintf(stderr, "llmroute eval convert: %s: no \"prompt\" column: not "
            "a RouterBench CSV\n", c->path);
    return -1;
  }
  if(first) {
    for(i = 0; i < c->n; i++) {
      const char *h = csv_get(c, i);
      char col[512];
      struct rb_model *m;
      if(!*h || strchr(h, '|') || i == rb->c_id || i == rb->c_prompt ||
         i == rb->c_bench || !strcmp(h, "oracle_model_to_route_to"))
        continue;
      snprintf(col, sizeof(col), "%s|model_response", h);
      if(col_of(c, col) < 0)
        continue; /* not a model column */
      if(rb->n == RB_MAX_MODELS) {
        fprintf(stderr, "llmroute eval convert: %s: more than %d models\n",
                c->path, RB_MAX_MODELS);
        return -1;
      }
      m = &rb->m[rb->n++];
      m->name = strdup(h);
      if(!m->name)
        return -1;
    }
    if(!rb->n) {
      fprintf(stderr, "llmroute eval convert: %s: no model columns "
              "(<model>, <model>|model_response, <model>|total_cost)\n",
              c->path);
      return -1;
    }
  }
  for(i = 0; i < rb->n; i++) {
    struct rb_model *m = &rb->m[i];
    char col[512];
    m->score = col_of(c, m->name);
    snprintf(col, sizeof(col), "%s|model_response", m->name);
    m->answer = col_of(c, col);
    snprintf(col, sizeof(col), "%s|total_cost", m->name);
    m->cost = col_of(c, col);
    if(m->score < 0 || m->answer < 0 || m->cost < 0) {
      fprintf(stderr, "llmroute eval convert: %s: no columns for model "
              "%s\n", c->path, m->name);
      return -1;
    }
  }
  return 0;
}

/* A number from a CSV cell, or NAN when empty or not a number. */
static double cell_num(const char *s)
{
  char *end;
  double d;

  if(!s || !*s)
    return NAN;
  errno = 0;
  d = strtod(s, &end);
  return *end || errno || !isfinite(d) ? NAN : d;
}

/* Times id was seen before (counts it). */
static int id_seen(struct strmap *seen, const char *id)
{
  long times = strmap_get(seen, id);

  if(times < 0)
    times = 0;
  strmap_put(seen, id, times + 1);
  return (int)times;
}

/* One row into out.  1 written, 0 skipped, -1 error. */
static int rb_row(struct rb *rb, const struct csv *c, struct strmap *ids,
                  long rowno, struct buf *line, struct buf *text,
                  struct buf *ans, FILE *out)
{
  int i, scored = 0, times;
  char id[512];
  const char *sid = csv_get(c, rb->c_id), *bench = csv_get(c, rb->c_bench);
  long in;

  for(i = 0; i < rb->n; i++)
    scored += !isnan(cell_num(csv_get(c, rb->m[i].score)));
  if(scored * 2 <= rb->n)
    return 0;
  snprintf(id, sizeof(id), "%s", sid && *sid ? sid : "row");
  if(!sid || !*sid)
    snprintf(id, sizeof(id), "%s:%ld", c->path, rowno);
  times = id_seen(ids, id);
  if(times)
    snprintf(id + strlen(id), sizeof(id) - strlen(id), "#%d", times + 1);
  py_text(csv_get(c, rb->c_prompt), text);
  in = tokens_text(text->p, text->len);
  line->len = 0;
  buf_puts(line, "{\"custom_id\":");
  json_write_string(line, id, strlen(id));
  buf_puts(line, ",\"prompt\":");
  json_write_string(line, text->p, text->len);
  if(bench && *bench) {
    buf_puts(line, ",\"benchmark\":");
    json_write_string(line, bench, strlen(bench));
  }
  buf_puts(line, ",\"outcomes\":{");
  for(i = 0; i < rb->n; i++) {
    struct rb_model *m = &rb->m[i];
    double score = cell_num(csv_get(c, m->score));
    double cost = cell_num(csv_get(c, m->cost));
    long out_t;
    char num[64];
    py_text(csv_get(c, m->answer), ans);
    out_t = tokens_text(ans->p, ans->len);
    if(isnan(score) || score < 0)
      score = 0;
    if(score > 1)
      score = 1;
    if(isnan(cost) || cost < 0)
      cost = 0;
    m->cost_sum += cost;
    m->tokens += (double)(in + out_t);
    if(i)
      buf_putc(line, ',');
    json_write_string(line, m->name, strlen(m->name));
    buf_puts(line, ":{\"answer\":");
    json_write_string(line, ans->p, ans->len);
    snprintf(num, sizeof(num), ",\"score\":%.6g", score);
    buf_puts(line, num);
    buf_puts(line, ",\"usage\":{\"input_tokens\":");
    buf_put_uint(line, (unsigned long long)in);
    buf_puts(line, ",\"output_tokens\":");
    buf_put_uint(line, (unsigned long long)out_t);
    snprintf(num, sizeof(num), "},\"cost_usd\":%.10g}", cost);
    buf_puts(line, num);
  }
  buf_puts(line, "}}\n");
  return fwrite(line->p, 1, line->len, out) == line->len ? 1 : -1;
}

/* The catalog of the recorded models, served by a replay provider that
 * reads outcomes (as written on the command line). */
static int rb_catalog(const struct rb *rb, const char *path,
                      const char *outcomes, double t1, double t2)
{
  FILE *f = fopen(path, "w");
  struct buf b;
  int i;

  if(!f) {
    fprintf(stderr, "llmroute eval convert: %s: %s\n", path,
            strerror(errno));
    return -1;
  }
  buf_init(&b);
  buf_puts(&b, "{\"providers\":{\"replay\":{\"format\":\"replay\","
               "\"outcomes\":");
  json_write_string(&b, outcomes, strlen(outcomes));
  buf_puts(&b, "}},\n \"models\":{");
  for(i = 0; i < rb->n; i++) {
    const struct rb_model *m = &rb->m[i];
    double price = m->tokens > 0 ? m->cost_sum / m->tokens * 1e6 : 0;
    int tier = price < t1 ? 1 : price < t2 ? 2 : 3;
    char num[256];
    buf_puts(&b, i ? ",\n  " : "\n  ");
    json_write_string(&b, m->name, strlen(m->name));
    snprintf(num, sizeof(num), ":{\"tier\":%d,\"input_usd_per_mtok\":%.4g,"
             "\"output_usd_per_mtok\":%.4g,\"context_tokens\":1000000,"
             "\"max_output_tokens\":32768,\"deployments\":[{\"provider\":"
             "\"replay\",\"model\":", tier, price, price);
    buf_puts(&b, num);
    json_write_string(&b, m->name, strlen(m->name));
    buf_puts(&b, "}]}");
  }
  buf_puts(&b, "}}\n");
  if(fwrite(b.p, 1, b.len, f) != b.len || fclose(f)) {
    fprintf(stderr, "llmroute eval convert: %s: write error\n", path);
    buf_free(&b);
    return -1;
  }
  buf_free(&b);
  return 0;
}

static int convert_routerbench(int argc, char **argv)
{
  const char *outpath = NULL, *catpath = NULL;
  double t1 = 0.8, t2 = 5;
  struct rb rb;
  struct strmap ids;
  struct buf line, text, ans;
  FILE *out = stdout;
  long written = 0, skipped = 0;
  int i, files = 0, rc = 2, r;

  memset(&rb, 0, sizeof(rb));
  strmap_init(&ids);
  buf_init(&line);
  buf_init(&text);
  buf_init(&ans);
  for(i = 0; i < argc; i++) {
    if(!strcmp(argv[i], "-o") && i + 1 < argc)
      outpath = argv[++i];
    else if(!strcmp(argv[i], "--catalog-out") && i + 1 < argc)
      catpath = argv[++i];
    else if(!strcmp(argv[i], "--tiers") && i + 1 < argc) {
      if(sscanf(argv[++i], "%lf,%lf", &t1, &t2) != 2 || !(t1 > 0) ||
         !(t2 > t1)) {
        fprintf(stderr, "llmroute eval convert: --tiers wants T1,T2 (USD "
                "per million tokens, 0 < T1 < T2)\n");
        goto done;
      }
    }
    else if(argv[i][0] == '-' && argv[i][1]) {
      fprintf(stderr, "llmroute eval convert: unknown option '%s'\n",
              argv[i]);
      goto done;
    }
    else
      argv[files++] = argv[i];
  }
  if(!files) {
    fprintf(stderr, "usage: llmroute eval convert routerbench [-o OUT.jsonl]"
            " [--catalog-out CAT.json] [--tiers T1,T2] CSV...\n");
    goto done;
  }
  if(catpath && !outpath) {
    fprintf(stderr, "llmroute eval convert: --catalog-out needs -o (the "
            "catalog's replay provider reads that file)\n");
    goto done;
  }
  if(outpath && !(out = fopen(outpath, "w"))) {
    fprintf(stderr, "llmroute eval convert: %s: %s\n", outpath,
            strerror(errno));
    goto done;
  }
  for(i = 0; i < files; i++) {
    struct csv c;
    long row = 0;
    memset(&c, 0, sizeof(c));
    c.path = argv[i];
    c.f = fopen(argv[i], "r");
    if(!c.f) {
      fprintf(stderr, "llmroute eval convert: %s: %s\n", argv[i],
              strerror(errno));
      goto done;
    }
    c.line = 1;
    r = csv_record(&c);
    if(r != 1 || rb_header(&rb, &c, i == 0)) {
      if(r != 1)
        fprintf(stderr, "llmroute eval convert: %s: no header line\n",
                argv[i]);
      fclose(c.f);
      free(c.buf);
      free(c.off);
      goto done;
    }
    for(;;) {
      long at = c.line;
      r = csv_record(&c);
      if(r == 0)
        break;
      if(r < 0) {
        fprintf(stderr, "llmroute eval convert: %s:%ld: unterminated "
                "quoted field (or out of memory)\n", argv[i], at);
        break;
      }
      row++;
      r = rb_row(&rb, &c, &ids, row, &line, &text, &ans, out);
      if(r < 0) {
        fprintf(stderr, "llmroute eval convert: write error\n");
        break;
      }
      if(r)
        written++;
      else
        skipped++;
    }
    fclose(c.f);
    free(c.buf);
    free(c.off);
    if(r < 0)
      goto done;
  }
  if(out != stdout && fclose(out)) {
    out = stdout;
    fprintf(stderr, "llmroute eval convert: %s: write error\n", outpath);
    goto done;
  }
  out = stdout;
  fprintf(stderr, "llmroute eval convert: %ld prompts, %d models%s", written,
          rb.n, skipped ? "" : "\n");
  if(skipped)
    fprintf(stderr, " (%ld rows skipped: more than half their models "
            "unscored)\n", skipped);
  if(catpath) {
    /* the catalog names the outcomes relative to its own folder when
       they share it, else by absolute path */
    char *co = realpath(outpath, NULL), *cc = NULL, *slash;
    const char *name = co ? co : outpath;
    FILE *t = fopen(catpath, "a");
    if(t)
      fclose(t);
    cc = realpath(catpath, NULL);
    if(co && cc && (slash = strrchr(cc, '/')) != NULL &&
       !strncmp(co, cc, (size_t)(slash - cc + 1)) &&
       !strchr(co + (slash - cc + 1), '/'))
      name = co + (slash - cc + 1);
    r = rb_catalog(&rb, catpath, name, t1, t2);
    free(co);
    free(cc);
    if(r)
      goto done;
  }
  rc = 0;
done:
  if(out != stdout)
    fclose(out);
  for(i = 0; i < rb.n; i++)
    free(rb.m[i].name);
  strmap_free(&ids);
  buf_free(&line);
  buf_free(&text);
  buf_free(&ans);
  return rc;
}

/* ---------------------------------------------------------------------
 * From llmroute's own results, joined with review verdicts
 */

/* Consumes v.  v[k] as a new ref, jv_null() when absent. */
static jv take(jv v, const char *k)
{
  jv r = json_get(v, k);

  jv_free(v);
  return r;
}

/* The line each_line() is at, as the runner reads it (no "\n", no
 * trailing "\r"): the bytes a generated custom_id is made of. */
static const char *cur_text;
static size_t cur_len;

/* Calls fn for every JSON line of path (blank lines skipped); stops at
 * the first error.  0, or -1 (message printed). */
static int each_line(const char *path,
                     int (*fn)(void *ctx, jv v, const char *path,
                               long line),
                     void *ctx)
{
  FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
  char *l = NULL;
  size_t cap = 0;
  ssize_t n;
  long line = 0;
  int rc = 0;

  if(!f) {
    fprintf(stderr, "llmroute eval convert: %s: %s\n", path,
            strerror(errno));
    return -1;
  }
  while(rc == 0 && (n = getline(&l, &cap, f)) >= 0) {
    jv v;
    line++;
    if(strspn(l, " \t\r\n") == (size_t)n)
      continue;
    v = json_parse(l, (size_t)n);
    cur_text = l;
    cur_len = (size_t)n;
    if(cur_len && l[cur_len - 1] == '\n')
      cur_len--;
    if(cur_len && l[cur_len - 1] == '\r')
      cur_len--;
    if(jv_get_kind(v) != JV_KIND_OBJECT) {
      fprintf(stderr, "llmroute eval convert: %s:%ld: not a JSON object\n",
              path, line);
      jv_free(v);
      rc = -1;
      break;
    }
    rc = fn(ctx, v, path, line);
  }
  free(l);
  if(f != stdin)
    fclose(f);
  return rc;
}

/* What convert_results() collects, by custom_id. */
struct join {
  struct strmap ids;      /* custom_id -> index */
  jv lines;               /* per index: the request line, outcomes added */
  long nreq, nanswers, nscored;
};

static int join_request(void *ctx, jv v, const char *path, long line)
{
  struct join *j = ctx;
  jv id = json_get(v, "custom_id");
  char *gen = NULL;
  const char *cid = jv_get_kind(id) == JV_KIND_STRING
                    ? jv_string_value(id) : NULL;

  if(!cid) { /* as the runner names it (ids.c) */
    if(!(gen = ids_custom_id(cur_text, cur_len, line))) {
      fprintf(stderr, "llmroute eval convert: out of memory\n");
      jv_free(id);
      jv_free(v);
      return -1;
    }
    cid = gen;
    v = jv_object_set(v, jv_string("custom_id"), jv_string(gen));
  }
  if(strmap_put(&j->ids, cid, (long)j->nreq) != -1) {
    fprintf(stderr, "llmroute eval convert: %s:%ld: custom_id %s again\n",
            path, line, cid);
    free(gen);
    jv_free(id);
    jv_free(v);
    return -1;
  }
  free(gen);
  jv_free(id);
  j->lines = jv_array_append(j->lines, jv_object_set(
    jv_object_delete(v, jv_string("outcomes")), jv_string("outcomes"),
    jv_object()));
  j->nreq++;
  return 0;
}

/* The attempt that gave a result's answer: the last one. */
static int join_result(void *ctx, jv v, const char *path, long line)
{
  struct join *j = ctx;
  jv id = json_get(v, "custom_id"), route = json_get(v, "route");
  jv atts = json_get(route, "attempts"), last, content, o, rec, outc, usage;
  long i = jv_get_kind(id) == JV_KIND_STRING
           ? strmap_get(&j->ids, jv_string_value(id)) : -1;
  int n = jv_get_kind(atts) == JV_KIND_ARRAY
          ? jv_array_length(jv_copy(atts)) : 0;

  content = jv_null();
  {
    jv ch = take(take(json_get(v, "response"), "body"), "choices");
    if(jv_get_kind(ch) == JV_KIND_ARRAY && jv_array_length(jv_copy(ch)))
      content = take(take(jv_array_get(jv_copy(ch), 0), "message"),
                     "content");
    jv_free(ch);
  }
  (void)path;
  (void)line;
  if(i < 0 || !n || jv_get_kind(content) != JV_KIND_STRING) {
    jv_free(id);
    jv_free(route);
    jv_free(atts);
    jv_free(content);
    jv_free(v);
    return 0; /* not a request of --requests, or no answer: skipped */
  }
  last = jv_array_get(atts, n - 1);
  usage = json_get(last, "usage");
  o = jv_object_set(jv_object(), jv_string("answer"), content);
  o = jv_object_set(o, jv_string("usage"), usage);
  o = jv_object_set(o, jv_string("cost_usd"), json_get(route, "cost_usd"));
  rec = jv_array_get(jv_copy(j->lines), (int)i);
  outc = json_get(rec, "outcomes");
  {
    jv model = json_get(last, "model");
    if(jv_get_kind(model) == JV_KIND_STRING) {
      outc = jv_object_set(outc, model, o);
      j->nanswers++;
    }
    else {
      jv_free(model);
      jv_free(o);
    }
  }
  rec = jv_object_set(rec, jv_string("outcomes"), outc);
  j->lines = jv_array_set(j->lines, (int)i, rec);
  jv_free(last);
  jv_free(id);
  jv_free(route);
  jv_free(v);
  return 0;
}

/* Lower-cased text without blanks and punctuation at its ends. */
static void norm(const char *s, char *out, size_t cap)
{
  size_t n = 0;
  const char *e;

  while(*s && (*s == ' ' || *s == '\n' || *s == '\t' || *s == '"' ||
               *s == '\''))
    s++;
  e = s + strlen(s);
  while(e > s && strchr(" \n\t\r.\"'!", e[-1]))
    e--;
  for(; s < e && n + 1 < cap; s++)
    out[n++] = (char)(*s >= 'A' && *s <= 'Z' ? *s - 'A' + 'a' : *s);
  out[n] = '\0';
}

/* The score a verdict line gives an answer (borrowed), or -1 when it
 * says nothing usable. */
static double verdict_score(jv ver, jv answer)
{
  jv s = json_get(ver, "score"), label;
  double d = -1;

  if(jv_get_kind(s) == JV_KIND_NUMBER)
    d = jv_number_value(s);
  else if(jv_get_kind(s) == JV_KIND_TRUE || jv_get_kind(s) == JV_KIND_FALSE)
    d = jv_get_kind(s) == JV_KIND_TRUE;
  jv_free(s);
  s = json_get(ver, "verdict");
  if(d < 0 && jv_get_kind(s) == JV_KIND_STRING) {
    const char *t = jv_string_value(s);
    if(!strcmp(t, "good") || !strcmp(t, "correct") || !strcmp(t, "pass"))
      d = 1;
    else if(!strcmp(t, "bad") || !strcmp(t, "incorrect") ||
            !strcmp(t, "fail"))
      d = 0;
  }
  jv_free(s);
  label = json_get(ver, "label");
  if(d < 0 && jv_get_kind(label) == JV_KIND_STRING &&
     jv_get_kind(answer) == JV_KIND_STRING) {
    char a[256], l[256];
    norm(jv_string_value(answer), a, sizeof(a));
    norm(jv_string_value(label), l, sizeof(l));
    d = !strcmp(a, l);
  }
  jv_free(label);
  return d < 0 ? -1 : d > 1 ? 1 : d;
}

static int join_verdict(void *ctx, jv v, const char *path, long line)
{
  struct join *j = ctx;
  jv id = json_get(v, "custom_id"), model = json_get(v, "model"), rec, outc;
  long i = jv_get_kind(id) == JV_KIND_STRING
           ? strmap_get(&j->ids, jv_string_value(id)) : -1;
  int it, any = 0;

  if(i < 0) {
    fprintf(stderr, "llmroute eval convert: %s:%ld: no request has this "
            "custom_id\n", path, line);
    jv_free(id);
    jv_free(model);
    jv_free(v);
    return -1;
  }
  rec = jv_array_get(jv_copy(j->lines), (int)i);
  outc = json_get(rec, "outcomes");
  for(it = jv_object_iter(outc); jv_object_iter_valid(outc, it);
      it = jv_object_iter_next(outc, it)) {
    jv k = jv_object_iter_key(outc, it), o = jv_object_iter_value(outc, it);
    jv ans = json_get(o, "answer");
    double sc;
    if(jv_get_kind(model) == JV_KIND_STRING &&
       strcmp(jv_string_value(model), jv_string_value(k))) {
      jv_free(k);
      jv_free(o);
      jv_free(ans);
      continue;
    }
    sc = verdict_score(v, ans);
    jv_free(ans);
    if(sc >= 0) {
      o = jv_object_set(o, jv_string("score"), jv_number(sc));
      outc = jv_object_set(outc, jv_copy(k), o);
      any = 1;
    }
    else
      jv_free(o);
    jv_free(k);
  }
  if(!any) {
    fprintf(stderr, "llmroute eval convert: %s:%ld: no score for an answer "
            "(give \"score\", \"verdict\" good|bad or \"label\"; "
            "\"model\" when it names one)\n", path, line);
    jv_free(outc);
    jv_free(rec);
    jv_free(id);
    jv_free(model);
    jv_free(v);
    return -1;
  }
  rec = jv_object_set(rec, jv_string("outcomes"), outc);
  j->lines = jv_array_set(j->lines, (int)i, rec);
  j->nscored++;
  jv_free(id);
  jv_free(model);
  jv_free(v);
  return 0;
}

static int convert_results(int argc, char **argv)
{
  const char *outpath = NULL, *reqs = NULL, *verdicts = NULL;
  struct join j;
  FILE *out = stdout;
  struct buf b;
  int i, files = 0, rc = 2;
  long k, written = 0;

  strmap_init(&j.ids);
  j.lines = jv_array();
  j.nreq = j.nanswers = j.nscored = 0;
  buf_init(&b);
  for(i = 0; i < argc; i++) {
    if(!strcmp(argv[i], "-o") && i + 1 < argc)
      outpath = argv[++i];
    else if(!strcmp(argv[i], "--requests") && i + 1 < argc)
      reqs = argv[++i];
    else if(!strcmp(argv[i], "--verdicts") && i + 1 < argc)
      verdicts = argv[++i];
    else if(argv[i][0] == '-' && argv[i][1]) {
      fprintf(stderr, "llmroute eval convert: unknown option '%s'\n",
              argv[i]);
      goto done;
    }
    else
      argv[files++] = argv[i];
  }
  if(!files || !reqs || !verdicts) {
    fprintf(stderr, "usage: llmroute eval convert results [-o OUT.jsonl] "
            "--requests REQ.jsonl --verdicts V.jsonl RESULTS.jsonl...\n");
    goto done;
  }
  if(ids_set_scheme(getenv("LLMROUTE_CUSTOM_IDS"))) {
    fprintf(stderr, "llmroute eval convert: LLMROUTE_CUSTOM_IDS wants "
            "content or line\n");
    goto done;
  }
  if(each_line(reqs, join_request, &j))
    goto done;
  for(i = 0; i < files; i++)
    if(each_line(argv[i], join_result, &j))
      goto done;
  if(each_line(verdicts, join_verdict, &j))
    goto done;
  if(outpath && !(out = fopen(outpath, "w"))) {
    fprintf(stderr, "llmroute eval convert: %s: %s\n", outpath,
            strerror(errno));
    goto done;
  }
  for(k = 0; k < j.nreq; k++) {
    jv rec = jv_array_get(jv_copy(j.lines), (int)k);
    jv outc = json_get(rec, "outcomes");
    int scored = 0, it;
    for(it = jv_object_iter(outc); jv_object_iter_valid(outc, it);
        it = jv_object_iter_next(outc, it)) {
      jv o = jv_object_iter_value(outc, it), sc = json_get(o, "score");
      scored |= jv_get_kind(sc) == JV_KIND_NUMBER;
      jv_free(sc);
      jv_free(o);
    }
    jv_free(outc);
    if(scored) {
      b.len = 0;
      json_write(&b, rec);
      buf_putc(&b, '\n');
      if(fwrite(b.p, 1, b.len, out) != b.len) {
        jv_free(rec);
        fprintf(stderr, "llmroute eval convert: write error\n");
        goto done;
      }
      written++;
    }
    jv_free(rec);
  }
  fprintf(stderr, "llmroute eval convert: %ld prompts with a scored answer "
          "(of %ld requests; %ld answers, %ld verdicts)\n", written, j.nreq,
          j.nanswers, j.nscored);
  rc = 0;
done:
  if(out != stdout && fclose(out) && rc == 0) {
    fprintf(stderr, "llmroute eval convert: %s: write error\n", outpath);
    rc = 2;
  }
  strmap_free(&j.ids);
  ids_free();
  jv_free(j.lines);
  buf_free(&b);
  return rc;
}

int eval_convert_main(int argc, char **argv)
{
  if(argc >= 2 && !strcmp(argv[1], "routerbench"))
    return convert_routerbench(argc - 2, argv + 2);
  if(argc >= 2 && !strcmp(argv[1], "results"))
    return convert_results(argc - 2, argv + 2);
  fprintf(stderr, "usage: llmroute eval convert routerbench [-o OUT.jsonl] "
          "[--catalog-out CAT.json] CSV...\n"
          "       llmroute eval convert results [-o OUT.jsonl] --requests "
          "REQ.jsonl --verdicts V.jsonl RESULTS.jsonl...\n");
  return 2;
}
