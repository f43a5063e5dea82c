/*
 * report.c - `llmroute report [--json] [FILE...]`: summarise result lines.
 *
 * Reads result lines (llmroute(1), RESULT LINES) from the FILEs, or
 * stdin when none or "-",
 * and prints one table per task and one per model: requests, errors,
 * tokens in and out, cost, baseline cost and savings, then the totals.
 *
 * A line is "actual" when a call was made (route.attempts is non-empty or
 * a response is present): its cost is route.cost_usd (else the sum of the
 * attempts' cost_usd) and its tokens the attempts' usage; in the table
 * per model each attempt counts on the model that answered it, the
 * request itself on its final model.  Otherwise it is an audit plan,
 * "estimated": route.expected_cost_usd and route.estimate
 * {input_tokens, output_tokens}.  The titles say which.
 * The baseline cost of an answered line is what its actual tokens cost on
 * the baseline model (route.baseline_basis "actual", written by call),
 * else the pre-call estimate; the header says how many lines are which.
 * An error line counts as a request and an error; what its attempts
 * spent counts as cost, its baseline does not (nothing was delivered).
 * Rows are sorted by name, so the output is deterministic.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

struct row {
  char *name;
  long requests, errors;
  double tokens_in, tokens_out;
  double cost, baseline;
};

struct table {
  struct row *rows;
  size_t n, cap;
};

struct tally {
  struct table tasks, models;
  struct row total;
  long actual, estimated, unreadable;
  long baseline_actual;  /* lines whose baseline is actual usage */
};

/* The row called name in t, created when missing; NULL when out of
 * memory.  The table owns the row. */
static struct row *table_row(struct table *t, const char *name)
{
  size_t i;
  struct row *r;

  for(i = 0; i < t->n; i++)
    if(!strcmp(t->rows[i].name, name))
      return &t->rows[i];
  if(t->n == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 16;
    struct row *nr = realloc(t->rows, cap * sizeof(*nr));
    if(!nr)
      return NULL;
    t->rows = nr;
    t->cap = cap;
  }
  r = &t->rows[t->n];
  memset(r, 0, sizeof(*r));
  r->name = strdup(name);
  if(!r->name)
    return NULL;
  t->n++;
  return r;
}

/* Frees the rows of t (safe twice). */
static void table_free(struct table *t)
{
  size_t i;

  for(i = 0; i < t->n; i++)
    free(t->rows[i].name);
  free(t->rows);
  t->rows = NULL;
  t->n = t->cap = 0;
}

/* Add one line's figures to r. */
static void row_add(struct row *r, const struct row *line)
{
  r->requests += line->requests;
  r->errors += line->errors;
  r->tokens_in += line->tokens_in;
  r->tokens_out += line->tokens_out;
  r->cost += line->cost;
  r->baseline += line->baseline;
}

/* The string route[key] (borrowed route), or dflt, copied into buf. */
static const char *route_name(jv route, const char *key, const char *dflt,
                              char *buf, size_t len)
{
  jv v = json_get(route, key);

  if(jv_get_kind(v) == JV_KIND_STRING)
    snprintf(buf, len, "%s", jv_string_value(v));
  else
    snprintf(buf, len, "%s", dflt);
  jv_free(v);
  return buf;
}

/* Account one parsed result line (consumes line). */
static int tally_line(struct tally *ta, jv line)
{
  jv route, attempts, resp, err, est;
  struct row fig;
  struct row *r;
  char task[128], model[128];
  int actual, i, n = 0, rc = LLMR_OK;
  double sum = 0.0;

  memset(&fig, 0, sizeof(fig));
  if(jv_get_kind(line) != JV_KIND_OBJECT) {
    jv_free(line);
    ta->unreadable++;
    return LLMR_OK;
  }
  route = json_get(line, "route");
  attempts = json_get(route, "attempts");
  resp = json_get(line, "response");
  err = json_get(line, "error");
  if(jv_get_kind(attempts) == JV_KIND_ARRAY)
    n = jv_array_length(jv_copy(attempts));
  actual = n > 0 || jv_get_kind(resp) == JV_KIND_OBJECT;
  fig.requests = 1;
  fig.errors = jv_get_kind(err) != JV_KIND_NULL;
  if(actual) {
    jv c = json_get(route, "cost_usd");
    for(i = 0; i < n; i++) {
      jv a = jv_array_get(jv_copy(attempts), i);
      jv u = json_get(a, "usage");
      struct row at;
      memset(&at, 0, sizeof(at));
      at.tokens_in = json_num(u, "input_tokens", 0) +
                     json_num(u, "cached_tokens", 0) +
                     json_num(u, "cache_write_tokens", 0);
      at.tokens_out = json_num(u, "output_tokens", 0);
      at.cost = json_num(a, "cost_usd", 0);
      row_add(&fig, &at);
      sum += at.cost;
      /* each attempt counts on the model that answered it */
      route_name(a, "model", "(none)", model, sizeof(model));
      r = table_row(&ta->models, model);
      if(r)
        row_add(r, &at);
      jv_free(u);
      jv_free(a);
      if(!r) {
        rc = LLMR_ENOMEM;
        break;
      }
    }
    fig.cost = jv_get_kind(c) == JV_KIND_NUMBER ? jv_number_value(c) : sum;
    jv_free(c);
    ta->actual++;
  }
  else {
    est = json_get(route, "estimate");
    if(!fig.errors) {
      fig.tokens_in = json_num(est, "input_tokens", 0);
      fig.tokens_out = json_num(est, "output_tokens", 0);
      fig.cost = json_num(route, "expected_cost_usd", 0);
    }
    jv_free(est);
    ta->estimated++;
  }
  if(!fig.errors) {
    jv basis = json_get(route, "baseline_basis");
    fig.baseline = json_num(route, "baseline_cost_usd", 0);
    ta->baseline_actual += jv_get_kind(basis) == JV_KIND_STRING &&
                           !strcmp(jv_string_value(basis), "actual");
    jv_free(basis);
  }
  route_name(route, "task", "(none)", task, sizeof(task));
  route_name(route, "model", "(none)", model, sizeof(model));
  jv_free(route);
  jv_free(attempts);
  jv_free(resp);
  jv_free(err);
  jv_free(line);

  r = table_row(&ta->tasks, task);
  if(!r)
    return LLMR_ENOMEM;
  row_add(r, &fig);
  if(rc != LLMR_OK)
    return rc;
  r = table_row(&ta->models, model);
  if(!r)
    return LLMR_ENOMEM;
  if(n > 0) {
    /* the attempts are counted already: the request, its errors and
       baseline (and any cost the attempts do not show) remain */
    struct row rest = fig;
    rest.tokens_in = rest.tokens_out = 0;
    rest.cost = fig.cost - sum;
    row_add(r, &rest);
  }
  else
    row_add(r, &fig);
  row_add(&ta->total, &fig);
  return LLMR_OK;
}

/* Read result lines from f (named name in messages) into ta. */
static int tally_file(struct tally *ta, FILE *f, const char *name)
{
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  long lineno = 0;
  int rc = LLMR_OK;

  while((len = getline(&line, &cap, f)) >= 0) {
    jv v;
    size_t k = (size_t)len;
    lineno++;
    while(k && (line[k - 1] == '\n' || line[k - 1] == '\r' ||
                line[k - 1] == ' '))
      k--;
    if(!k)
      continue;
    line[k] = '\0';
    v = json_parse(line, (size_t)k);
    if(!jv_is_valid(v)) {
      jv_free(v);
      if(ta->unreadable++ < 5)
        fprintf(stderr, "llmroute: report: %s:%ld: not a JSON line, "
                "skipped\n", name, lineno);
      continue;
    }
    rc = tally_line(ta, v);
    if(rc != LLMR_OK)
      break;
  }
  free(line);
  if(ferror(f)) {
    fprintf(stderr, "llmroute: report: %s: read error: %s\n", name,
            strerror(errno));
    return LLMR_ERR;
  }
  return rc;
}

/* qsort order of rows: by name. */
static int row_cmp(const void *a, const void *b)
{
  return strcmp(((const struct row *)a)->name, ((const struct row *)b)->name);
}

/* Savings in percent, written into buf ("-" with no baseline). */
static const char *savings(const struct row *r, char *buf, size_t len)
{
  if(r->baseline > 0)
    snprintf(buf, len, "%.1f%%", 100.0 * (r->baseline - r->cost) /
             r->baseline);
  else
    snprintf(buf, len, "-");
  return buf;
}

/* One aligned table line for r (borrowed), name column w wide. */
static void print_row(FILE *out, int w, const struct row *r)
{
  char sv[32];

  fprintf(out, "%-*s %9ld %7ld %12.0f %11.0f %13.6f %13.6f %8s\n", w,
          r->name, r->requests, r->errors, r->tokens_in, r->tokens_out,
          r->cost, r->baseline, savings(r, sv, sizeof(sv)));
}

/* Print one table, sorted by name, then the total row. */
static void print_table(FILE *out, struct table *t, const char *title,
                        const char *kind, struct row *total)
{
  size_t i;
  int w = 12;

  if(t->n > 1)
    qsort(t->rows, t->n, sizeof(*t->rows), row_cmp);
  for(i = 0; i < t->n; i++)
    if((int)strlen(t->rows[i].name) > w)
      w = (int)strlen(t->rows[i].name);
  if(w > 48)
    w = 48;
  fprintf(out, "\nby %s (%s costs, USD)\n", title, kind);
  fprintf(out, "%-*s %9s %7s %12s %11s %13s %13s %8s\n", w, title,
          "requests", "errors", "tokens_in", "tokens_out", "cost",
          "baseline", "savings");
  for(i = 0; i < t->n; i++)
    print_row(out, w, &t->rows[i]);
  print_row(out, w, total);
}

/* One table as a JSON object {name: {...}} (new ref). */
static jv table_json(const struct table *t)
{
  jv o = jv_object();
  size_t i;

  for(i = 0; i < t->n; i++) {
    const struct row *r = &t->rows[i];
    jv e = jv_object();
    e = jv_object_set(e, jv_string("requests"), jv_number(r->requests));
    e = jv_object_set(e, jv_string("errors"), jv_number(r->errors));
    e = jv_object_set(e, jv_string("tokens_in"), jv_number(r->tokens_in));
    e = jv_object_set(e, jv_string("tokens_out"), jv_number(r->tokens_out));
    e = jv_object_set(e, jv_string("cost_usd"), jv_number(r->cost));
    e = jv_object_set(e, jv_string("baseline_cost_usd"),
                      jv_number(r->baseline));
    o = jv_object_set(o, jv_string(r->name), e);
  }
  return o;
}

/* The subcommand's usage text on f. */
static void usage(FILE *f)
{
  fprintf(f, "usage: llmroute report [--json] [FILE...]\n"
          "Summarise llmroute result lines (stdin when no FILE) per task "
          "and per model:\nrequests, errors, tokens, cost, baseline cost "
          "and savings.\n");
}

/* `llmroute report ...`; argv[0] is "report".  Exit status: 0, 1 when a
 * file could not be read, 2 on a usage error. */
int report_main(int argc, char **argv)
{
  struct tally ta;
  const char *kind;
  int i, json = 0, nfiles = 0, status = 0, rc = LLMR_OK;
  FILE *out = stdout;

  memset(&ta, 0, sizeof(ta));
  for(i = 1; i < argc; i++) {
    if(!strcmp(argv[i], "--json"))
      json = 1;
    else if(!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
      usage(stdout);
      return 0;
    }
    else if(argv[i][0] == '-' && argv[i][1]) {
      fprintf(stderr, "llmroute: report: unknown option '%s'\n", argv[i]);
      usage(stderr);
      return 2;
    }
  }
  for(i = 1; i < argc && rc != LLMR_ENOMEM; i++) {
    FILE *f;
    if(!strcmp(argv[i], "--json"))
      continue;
    nfiles++;
    if(!strcmp(argv[i], "-")) {
      rc = tally_file(&ta, stdin, "(stdin)");
      continue;
    }
    f = report_open(argv[i]); /* a SQLite log too: reportdb.c */
    if(!f) {
      fprintf(stderr, "llmroute: report: %s: %s\n", argv[i],
              strerror(errno));
      status = 1;
      continue;
    }
    rc = tally_file(&ta, f, argv[i]);
    if(rc != LLMR_OK)
      status = 1;
    fclose(f);
  }
  if(!nfiles && tally_file(&ta, stdin, "(stdin)") != LLMR_OK)
    status = 1;

  kind = ta.actual && ta.estimated ? "mixed actual and estimated"
         : ta.actual ? "actual" : "estimated";
  ta.total.name = (char *)"total";
  if(json) {
    struct table one = { &ta.total, 1, 1 };
    jv o = jv_object(), d;
    if(ta.tasks.n > 1)
      qsort(ta.tasks.rows, ta.tasks.n, sizeof(struct row), row_cmp);
    if(ta.models.n > 1)
      qsort(ta.models.rows, ta.models.n, sizeof(struct row), row_cmp);
    o = jv_object_set(o, jv_string("costs"), jv_string(kind));
    o = jv_object_set(o, jv_string("actual_lines"), jv_number(ta.actual));
    o = jv_object_set(o, jv_string("estimated_lines"),
                      jv_number(ta.estimated));
    o = jv_object_set(o, jv_string("baseline_actual_lines"),
                      jv_number(ta.baseline_actual));
    o = jv_object_set(o, jv_string("tasks"), table_json(&ta.tasks));
    o = jv_object_set(o, jv_string("models"), table_json(&ta.models));
    o = jv_object_set(o, jv_string("total"),
                      jv_object_get(table_json(&one), jv_string("total")));
    d = jv_dump_string(o, 0);
    fprintf(out, "%s\n", jv_string_value(d));
    jv_free(d);
  }
  else {
    fprintf(out, "llmroute report: %ld requests, %ld errors; %s costs%s\n",
            ta.total.requests, ta.total.errors, kind,
            ta.actual ? "" : " (audit plans: no call was made)");
    if(ta.actual)
      fprintf(out, "baseline: what each answer's actual tokens cost on the "
              "baseline model for %ld lines, the pre-call estimate for %ld\n",
              ta.baseline_actual, ta.total.requests - ta.total.errors -
              ta.baseline_actual);
    print_table(out, &ta.tasks, "task", kind, &ta.total);
    print_table(out, &ta.models, "model", kind, &ta.total);
  }
  table_free(&ta.tasks);
  table_free(&ta.models);
  if(fflush(out) != 0 || ferror(out)) {
    fprintf(stderr, "llmroute: report: write error: %s\n", strerror(errno));
    return 1;
  }
  if(rc == LLMR_ENOMEM) {
    fprintf(stderr, "llmroute: report: out of memory\n");
    return 1;
  }
  return status;
}
