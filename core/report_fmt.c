/*
 * report_fmt.c - the text forms of `llmroute report`: the aligned table,
 * one JSON object, CSV (RFC 4180) and markdown, from what report.c added
 * up.
 */
#include <stdio.h>
#include <string.h>

#include "core.h"
#include "report.h"

const char *const rep_by_name[BY_COUNT] = {
  "task", "model", "provider", "tag", "code"
};
static const char *const by_plural[BY_COUNT] = {
  "tasks", "models", "providers", "tags", "codes"
};

/* A percentage of n in d (borrowed into buf). */
static const char *pct_of(long n, long d, char *buf, size_t len)
{
  if(d > 0)
    snprintf(buf, len, "%.1f%%", 100.0 * (double)n / (double)d);
  else
    snprintf(buf, len, "-");
  return buf;
}

/* Latency percentile q of r as text ("-" with none). */
static const char *lat_text(const struct rep_row *r, double q, char *buf,
                            size_t len)
{
  double v = rep_pct(r->lat, r->nlat, q);

  if(v < 0)
    snprintf(buf, len, "-");
  else
    snprintf(buf, len, "%.0f", v);
  return buf;
}

static const char *sav_text(const struct rep_row *r, char *buf, size_t len)
{
  int none;
  double s = rep_savings(r, &none);

  if(none)
    snprintf(buf, len, "-");
  else
    snprintf(buf, len, "%.1f%%", s);
  return buf;
}

/* One aligned table line for r, name column w wide. */
static void table_line(FILE *out, int w, const struct rep_row *r)
{
  char sv[32], p50[32], p95[32], p99[32];

  fprintf(out, "%-*s %9ld %7ld %12.0f %11.0f %13.6f %13.6f %8s %7s %7s "
          "%7s\n", w, r->name, r->requests, r->errors, r->tokens_in,
          r->tokens_out, r->cost, r->baseline, sav_text(r, sv, sizeof(sv)),
          lat_text(r, 50, p50, sizeof(p50)), lat_text(r, 95, p95,
          sizeof(p95)), lat_text(r, 99, p99, sizeof(p99)));
}

void print_table(FILE *out, const struct report *rp, int by,
                        const char *kind)
{
  const struct rep_table *t = &rp->by[by];
  size_t i;
  int w = 12;

  for(i = 0; i < t->n; i++)
    if((int)strlen(t->rows[i].name) > w)
      w = (int)strlen(t->rows[i].name);
  if(w > 48)
    w = 48;
  fprintf(out, "\nby %s (%s costs, USD; latency in ms)\n", rep_by_name[by],
          kind);
  fprintf(out, "%-*s %9s %7s %12s %11s %13s %13s %8s %7s %7s %7s\n", w,
          rep_by_name[by], "requests", "errors", "tokens_in", "tokens_out",
          "cost", "baseline", "savings", "p50", "p95", "p99");
  for(i = 0; i < t->n; i++)
    table_line(out, w, &t->rows[i]);
  table_line(out, w, &rp->total);
}

/* The headline lines of the table format. */
void print_head(FILE *out, const struct report *rp, const char *kind)
{
  const struct rep_row *T = &rp->total;
  const struct rep_table *codes = &rp->by[BY_CODE];
  char a[32], b[32], c[32], d[32], p50[32], p95[32], p99[32];
  size_t i;

  fprintf(out, "llmroute report: %ld requests, %ld errors; %s costs%s\n",
          T->requests, T->errors, kind,
          rp->actual ? "" : " (audit plans: no call was made)");
  if(rp->actual)
    fprintf(out, "baseline: what each answer's actual tokens cost on the "
            "baseline model for %ld lines, the pre-call estimate for %ld\n",
            rp->baseline_actual, T->requests - T->errors -
            rp->baseline_actual);
  if(rp->nsuperseded)
    fprintf(out, "superseded: %ld earlier records of a custom_id seen again "
            "(not counted as requests); their $%.6f is in the cost\n",
            rp->nsuperseded, rp->superseded_cost);
  if(!rp->actual)
    return;
  fprintf(out, "latency: p50 %s ms, p95 %s ms, p99 %s ms over %zu "
          "requests with attempts\n", lat_text(T, 50, p50, sizeof(p50)),
          lat_text(T, 95, p95, sizeof(p95)), lat_text(T, 99, p99,
          sizeof(p99)), T->nlat);
  fprintf(out, "rates: retried %ld (%s), fallback %ld (%s), escalated %ld "
          "(%s), validation failed %ld (%s)\n",
          T->retried, pct_of(T->retried, T->requests, a, sizeof(a)),
          T->fallback, pct_of(T->fallback, T->requests, b, sizeof(b)),
          T->escalated, pct_of(T->escalated, T->requests, c, sizeof(c)),
          T->invalid, pct_of(T->invalid, T->requests, d, sizeof(d)));
  fprintf(out, "answered at tier: 1: %ld, 2: %ld, 3: %ld", rp->tier[1],
          rp->tier[2], rp->tier[3]);
  if(rp->tier[0])
    fprintf(out, ", no tier: %ld", rp->tier[0]);
  fputc('\n', out);
  if(T->cache_hit || T->cache_miss)
    fprintf(out, "cache: %ld hits, %ld misses\n", T->cache_hit,
            T->cache_miss);
  if(T->errors) {
    const char *sep = "";
    fprintf(out, "errors by code: ");
    for(i = 0; i < codes->n; i++)
      if(codes->rows[i].errors) {
        fprintf(out, "%s%s %ld", sep, codes->rows[i].name,
                codes->rows[i].errors);
        sep = ", ";
      }
    fputc('\n', out);
  }
}

/* r as a JSON object (new ref). */
static jv row_json(const struct rep_row *r)
{
  jv e = jv_object();
  int none;
  double s = rep_savings(r, &none);

#define SETN(k, v) e = jv_object_set(e, jv_string(k), jv_number(v))
  SETN("requests", r->requests);
  SETN("errors", r->errors);
  SETN("tokens_in", r->tokens_in);
  SETN("tokens_out", r->tokens_out);
  SETN("cost_usd", r->cost);
  SETN("baseline_cost_usd", r->baseline);
  e = jv_object_set(e, jv_string("savings_pct"),
                    none ? jv_null() : jv_number(s));
  if(r->nlat) {
    SETN("latency_p50_ms", rep_pct(r->lat, r->nlat, 50));
    SETN("latency_p95_ms", rep_pct(r->lat, r->nlat, 95));
    SETN("latency_p99_ms", rep_pct(r->lat, r->nlat, 99));
  }
  else {
    e = jv_object_set(e, jv_string("latency_p50_ms"), jv_null());
    e = jv_object_set(e, jv_string("latency_p95_ms"), jv_null());
    e = jv_object_set(e, jv_string("latency_p99_ms"), jv_null());
  }
  SETN("retried", r->retried);
  SETN("fallback", r->fallback);
  SETN("escalated", r->escalated);
  SETN("validation_failed", r->invalid);
  SETN("cache_hits", r->cache_hit);
  SETN("cache_misses", r->cache_miss);
  SETN("superseded", r->superseded);
#undef SETN
  return e;
}

static jv table_json(const struct rep_table *t)
{
  jv o = jv_object();
  size_t i;

  for(i = 0; i < t->n; i++)
    o = jv_object_set(o, jv_string(t->rows[i].name), row_json(&t->rows[i]));
  return o;
}

int print_json(FILE *out, const struct report *rp, const int *want,
                      const char *kind)
{
  jv o = jv_object(), d, codes = jv_object(), tiers = jv_object();
  const struct rep_table *ct = &rp->by[BY_CODE];
  size_t i;
  int k;

  o = jv_object_set(o, jv_string("costs"), jv_string(kind));
  o = jv_object_set(o, jv_string("actual_lines"), jv_number(rp->actual));
  o = jv_object_set(o, jv_string("estimated_lines"),
                    jv_number(rp->estimated));
  o = jv_object_set(o, jv_string("baseline_actual_lines"),
                    jv_number(rp->baseline_actual));
  o = jv_object_set(o, jv_string("superseded_records"),
                    jv_number(rp->nsuperseded));
  o = jv_object_set(o, jv_string("superseded_cost_usd"),
                    jv_number(rp->superseded_cost));
  for(i = 0; i < ct->n; i++)
    if(ct->rows[i].errors)
      codes = jv_object_set(codes, jv_string(ct->rows[i].name),
                            jv_number(ct->rows[i].errors));
  o = jv_object_set(o, jv_string("errors_by_code"), codes);
  tiers = jv_object_set(tiers, jv_string("1"), jv_number(rp->tier[1]));
  tiers = jv_object_set(tiers, jv_string("2"), jv_number(rp->tier[2]));
  tiers = jv_object_set(tiers, jv_string("3"), jv_number(rp->tier[3]));
  tiers = jv_object_set(tiers, jv_string("none"), jv_number(rp->tier[0]));
  o = jv_object_set(o, jv_string("answered_at_tier"), tiers);
  for(k = 0; k < BY_COUNT; k++)
    if(want[k])
      o = jv_object_set(o, jv_string(by_plural[k]), table_json(&rp->by[k]));
  o = jv_object_set(o, jv_string("total"), row_json(&rp->total));
  d = jv_dump_string(o, 0);
  fprintf(out, "%s\n", jv_string_value(d));
  jv_free(d);
  return 0;
}

/* s as one CSV field (RFC 4180: quoted when it holds , " or a newline). */
static void csv_field(FILE *out, const char *s)
{
  if(!strpbrk(s, ",\"\r\n")) {
    fputs(s, out);
    return;
  }
  fputc('"', out);
  for(; *s; s++) {
    if(*s == '"')
      fputc('"', out);
    fputc(*s, out);
  }
  fputc('"', out);
}

/* A number for CSV and markdown: %.6f for money, an integer otherwise. */
static void csv_row(FILE *out, const char *by, const struct rep_row *r,
                    const char *sep, const char *end)
{
  char sv[32], p50[32], p95[32], p99[32];
  int none;
  double s = rep_savings(r, &none);

  if(none)
    snprintf(sv, sizeof(sv), "%s", *sep == ',' ? "" : "-");
  else
    snprintf(sv, sizeof(sv), "%.1f", s);
  lat_text(r, 50, p50, sizeof(p50));
  lat_text(r, 95, p95, sizeof(p95));
  lat_text(r, 99, p99, sizeof(p99));
  if(*sep == ',') {
    if(!strcmp(p50, "-"))
      p50[0] = p95[0] = p99[0] = '\0';
    csv_field(out, by);
    fputs(sep, out);
    csv_field(out, r->name);
  }
  else {
    /* a markdown cell: a | in a name would split the row */
    const char *p;
    fputs("| ", out);
    for(p = r->name; *p; p++) {
      if(*p == '|')
        fputc('\\', out);
      fputc(*p, out);
    }
  }
  fprintf(out, "%s%ld%s%ld%s%.0f%s%.0f%s%.6f%s%.6f%s%s%s%s%s%s%s%s%s%ld%s"
          "%ld%s%ld%s%ld%s%ld%s%ld%s%ld%s\n", sep, r->requests, sep,
          r->errors, sep, r->tokens_in, sep, r->tokens_out, sep, r->cost,
          sep, r->baseline, sep, sv, sep, p50, sep, p95, sep, p99, sep,
          r->retried, sep, r->fallback, sep, r->escalated, sep, r->invalid,
          sep, r->cache_hit, sep, r->cache_miss, sep, r->superseded, end);
}

static const char *const cols[] = {
  "requests", "errors", "tokens_in", "tokens_out", "cost_usd",
  "baseline_cost_usd", "savings_pct", "p50_ms", "p95_ms", "p99_ms",
  "retried", "fallback", "escalated", "validation_failed", "cache_hits",
  "cache_misses", "superseded"
};
#define NCOLS (sizeof(cols) / sizeof(cols[0]))

void print_csv(FILE *out, const struct report *rp, const int *want)
{
  size_t i;
  int k;

  fputs("by,name", out);
  for(i = 0; i < NCOLS; i++)
    fprintf(out, ",%s", cols[i]);
  fputc('\n', out);
  for(k = 0; k < BY_COUNT; k++)
    for(i = 0; want[k] && i < rp->by[k].n; i++)
      csv_row(out, rep_by_name[k], &rp->by[k].rows[i], ",", "");
  csv_row(out, "total", &rp->total, ",", "");
}

void print_markdown(FILE *out, const struct report *rp,
                           const int *want, const char *kind)
{
  const struct rep_row *T = &rp->total;
  const struct rep_table *ct = &rp->by[BY_CODE];
  char sv[32], p50[32], p95[32], p99[32];
  size_t i;
  int k;

  fprintf(out, "# llmroute report\n\n");
  fprintf(out, "- **%ld requests**, %ld errors (%s costs)\n", T->requests,
          T->errors, kind);
  fprintf(out, "- cost $%.6f against a baseline of $%.6f: savings %s\n",
          T->cost, T->baseline, sav_text(T, sv, sizeof(sv)));
  if(rp->actual) {
    fprintf(out, "- latency p50 %s ms, p95 %s ms, p99 %s ms\n",
            lat_text(T, 50, p50, sizeof(p50)),
            lat_text(T, 95, p95, sizeof(p95)),
            lat_text(T, 99, p99, sizeof(p99)));
    fprintf(out, "- retried %ld, fallback %ld, escalated %ld, validation "
            "failed %ld\n", T->retried, T->fallback, T->escalated,
            T->invalid);
    fprintf(out, "- answered at tier 1: %ld, tier 2: %ld, tier 3: %ld\n",
            rp->tier[1], rp->tier[2], rp->tier[3]);
  }
  if(T->cache_hit || T->cache_miss)
    fprintf(out, "- cache: %ld hits, %ld misses\n", T->cache_hit,
            T->cache_miss);
  if(rp->nsuperseded)
    fprintf(out, "- superseded records: %ld ($%.6f, in the cost)\n",
            rp->nsuperseded, rp->superseded_cost);
  for(i = 0; i < ct->n; i++)
    if(ct->rows[i].errors)
      fprintf(out, "- errors `%s`: %ld\n", ct->rows[i].name,
              ct->rows[i].errors);
  for(k = 0; k < BY_COUNT; k++) {
    if(!want[k])
      continue;
    fprintf(out, "\n## By %s\n\n| %s |", rep_by_name[k], rep_by_name[k]);
    for(i = 0; i < NCOLS; i++)
      fprintf(out, " %s |", cols[i]);
    fputs("\n|---|", out);
    for(i = 0; i < NCOLS; i++)
      fputs("---:|", out);
    fputc('\n', out);
    for(i = 0; i < rp->by[k].n; i++)
      csv_row(out, rep_by_name[k], &rp->by[k].rows[i], " | ", " |");
    csv_row(out, "total", T, " | ", " |");
  }
}

