/*
 * report_html.c - `llmroute report --html FILE`: one self-contained page.
 *
 * Inline CSS and SVG only: no script, no font or image to fetch, so the
 * page opens the same from a mail attachment, an air-gapped machine or a
 * CI artifact.  It shows the headline numbers, cost against baseline per
 * task, the tiers that answered (the escalation funnel), the latency
 * distribution and errors over the run.  Every part has a stable id and
 * every bar a class and data-* attributes holding its exact figure, so a
 * test (or a scraper) reads the numbers without parsing the drawing.
 *
 * Result lines carry no clock time, so "over the run" is the order the
 * lines were written: completion order, the order of a run's output.
 */
#include <stdio.h>
#include <string.h>

#include "core.h"
#include "report.h"

#define W 720          /* drawing width, px */
#define LABEL 170      /* the label column of bar charts */
#define NBINS 20       /* latency histogram bins */
#define NSLOTS 30      /* errors-over-the-run buckets */

/* s with the five HTML specials escaped. */
static void esc(FILE *f, const char *s)
{
  for(; *s; s++)
    switch(*s) {
    case '&': fputs("&amp;", f); break;
    case '<': fputs("&lt;", f); break;
    case '>': fputs("&gt;", f); break;
    case '"': fputs("&quot;", f); break;
    case '\'': fputs("&#39;", f); break;
    default: fputc(*s, f);
    }
}

static void stat(FILE *f, const char *id, const char *label,
                 const char *value)
{
  fprintf(f, "<div class=\"stat\" id=\"stat-%s\"><span class=\"value\">",
          id);
  esc(f, value);
  fprintf(f, "</span><span class=\"label\">%s</span></div>\n", label);
}

static void headline(FILE *f, const struct report *rp, const char *kind)
{
  const struct rep_row *T = &rp->total;
  char b[64], lab[64];
  int none;
  double s = rep_savings(T, &none);

  fputs("<section id=\"headline\">\n", f);
  snprintf(b, sizeof(b), "%ld", T->requests);
  stat(f, "requests", "requests", b);
  snprintf(b, sizeof(b), "%ld", T->errors);
  stat(f, "errors", "errors", b);
  snprintf(b, sizeof(b), "$%.4f", T->cost);
  snprintf(lab, sizeof(lab), "cost (%s)", kind);
  stat(f, "cost", lab, b);
  snprintf(b, sizeof(b), "$%.4f", T->baseline);
  stat(f, "baseline", "baseline", b);
  if(none)
    snprintf(b, sizeof(b), "-");
  else
    snprintf(b, sizeof(b), "%.1f%%", s);
  stat(f, "savings", "savings", b);
  if(T->nlat) {
    snprintf(b, sizeof(b), "%.0f ms", rep_pct(T->lat, T->nlat, 50));
    stat(f, "p50", "latency p50", b);
    snprintf(b, sizeof(b), "%.0f ms", rep_pct(T->lat, T->nlat, 95));
    stat(f, "p95", "latency p95", b);
    snprintf(b, sizeof(b), "%.0f ms", rep_pct(T->lat, T->nlat, 99));
    stat(f, "p99", "latency p99", b);
  }
  snprintf(b, sizeof(b), "%ld", T->escalated);
  stat(f, "escalated", "escalated", b);
  snprintf(b, sizeof(b), "%ld", T->retried);
  stat(f, "retried", "retried", b);
  snprintf(b, sizeof(b), "%ld", T->fallback);
  stat(f, "fallback", "fallback", b);
  snprintf(b, sizeof(b), "%ld", T->invalid);
  stat(f, "invalid", "validation failed", b);
  if(T->cache_hit || T->cache_miss) {
    snprintf(b, sizeof(b), "%ld / %ld", T->cache_hit, T->cache_miss);
    stat(f, "cache", "cache hits / misses", b);
  }
  if(rp->nsuperseded) {
    snprintf(b, sizeof(b), "%ld ($%.4f)", rp->nsuperseded,
             rp->superseded_cost);
    stat(f, "superseded", "superseded records (cost kept)", b);
  }
  fputs("</section>\n", f);
}

/* Cost against baseline per task: two bars a task. */
static void cost_bars(FILE *f, const struct report *rp)
{
  const struct rep_table *t = &rp->by[BY_TASK];
  double max = 0;
  size_t i;
  int h = 40, y;

  for(i = 0; i < t->n; i++) {
    if(t->rows[i].cost > max)
      max = t->rows[i].cost;
    if(t->rows[i].baseline > max)
      max = t->rows[i].baseline;
  }
  fputs("<section id=\"cost-by-task\"><h2>Cost against baseline, per "
        "task</h2>\n<p class=\"legend\"><span class=\"key cost\"></span>"
        "cost <span class=\"key baseline\"></span>baseline (USD)</p>\n", f);
  fprintf(f, "<svg width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
          "role=\"img\" aria-label=\"cost against baseline per task\">\n",
          W, (int)t->n * h + 4, W, (int)t->n * h + 4);
  for(i = 0, y = 2; i < t->n; i++, y += h) {
    const struct rep_row *r = &t->rows[i];
    double span = W - LABEL - 110;
    int wc = max > 0 ? (int)(span * r->cost / max + 0.5) : 0;
    int wb = max > 0 ? (int)(span * r->baseline / max + 0.5) : 0;
    fputs("<g class=\"task-bar\" data-task=\"", f);
    esc(f, r->name);
    fprintf(f, "\" data-cost=\"%.6f\" data-baseline=\"%.6f\" "
            "data-requests=\"%ld\">\n<text class=\"name\" x=\"0\" y=\"%d\">",
            r->cost, r->baseline, r->requests, y + 22);
    esc(f, r->name);
    fprintf(f, "</text>\n<rect class=\"cost\" x=\"%d\" y=\"%d\" "
            "width=\"%d\" height=\"16\"/><text class=\"num\" x=\"%d\" "
            "y=\"%d\">$%.4f</text>\n", LABEL, y, wc > 1 ? wc : 1,
            LABEL + wc + 4, y + 13, r->cost);
    fprintf(f, "<rect class=\"baseline\" x=\"%d\" y=\"%d\" width=\"%d\" "
            "height=\"16\"/><text class=\"num\" x=\"%d\" y=\"%d\">$%.4f"
            "</text>\n</g>\n", LABEL, y + 18, wb > 1 ? wb : 1,
            LABEL + wb + 4, y + 31, r->baseline);
  }
  fputs("</svg></section>\n", f);
}

/* Answered at tier 1, 2, 3, then the requests that failed. */
static void funnel(FILE *f, const struct report *rp)
{
  long n[5], max = 1;
  const char *label[5] = { "tier 1", "tier 2", "tier 3", "no tier",
                           "failed" };
  const char *id[5] = { "funnel-tier-1", "funnel-tier-2", "funnel-tier-3",
                        "funnel-no-tier", "funnel-failed" };
  int i, y, rows = 0;

  n[0] = rp->tier[1];
  n[1] = rp->tier[2];
  n[2] = rp->tier[3];
  n[3] = rp->tier[0];
  n[4] = rp->total.errors;
  for(i = 0; i < 5; i++) {
    if(n[i] > max)
      max = n[i];
    rows += i < 3 || n[i];
  }
  fputs("<section id=\"funnel\"><h2>Escalation funnel: the tier that "
        "answered</h2>\n", f);
  fprintf(f, "<svg width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
          "role=\"img\" aria-label=\"requests answered per tier\">\n",
          W, rows * 30 + 4, W, rows * 30 + 4);
  for(i = 0, y = 2; i < 5; i++) {
    int w = (int)((double)(W - LABEL - 90) * (double)n[i] / (double)max
                  + 0.5);
    if(i >= 3 && !n[i])
      continue;
    fprintf(f, "<g class=\"funnel-tier%s\" id=\"%s\" data-count=\"%ld\">"
            "<text class=\"name\" x=\"0\" y=\"%d\">%s</text><rect x=\"%d\" "
            "y=\"%d\" width=\"%d\" height=\"22\"/><text class=\"num\" "
            "x=\"%d\" y=\"%d\">%ld</text></g>\n", i == 4 ? " failed" : "",
            id[i], n[i], y + 16, label[i], LABEL, y, w > 1 ? w : 1,
            LABEL + w + 6, y + 16, n[i]);
    y += 30;
  }
  fputs("</svg></section>\n", f);
}

/* Latency histogram of the requests' latencies (sorted), NBINS bins. */
static void histogram(FILE *f, const struct report *rp)
{
  const struct rep_row *T = &rp->total;
  long count[NBINS] = {0}, max = 1;
  double lo, hi, width;
  size_t i;
  int b, bw = (W - 40) / NBINS, H = 160;

  fputs("<section id=\"latency\"><h2>Latency per request (ms, summed over "
        "its attempts)</h2>\n", f);
  if(!T->nlat) {
    fputs("<p class=\"empty\">no latency recorded (no call was made)</p>"
          "</section>\n", f);
    return;
  }
  lo = T->lat[0];
  hi = T->lat[T->nlat - 1];
  width = hi > lo ? (hi - lo) / NBINS : 1;
  for(i = 0; i < T->nlat; i++) {
    b = (int)((T->lat[i] - lo) / width);
    if(b >= NBINS)
      b = NBINS - 1;
    if(++count[b] > max)
      max = count[b];
  }
  fprintf(f, "<svg width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
          "role=\"img\" aria-label=\"latency histogram\">\n", W, H + 40, W,
          H + 40);
  for(b = 0; b < NBINS; b++) {
    int h = (int)((double)H * (double)count[b] / (double)max + 0.5);
    fprintf(f, "<rect class=\"hist-bar\" data-lo=\"%.0f\" data-hi=\"%.0f\" "
            "data-count=\"%ld\" x=\"%d\" y=\"%d\" width=\"%d\" "
            "height=\"%d\"><title>%.0f-%.0f ms: %ld</title></rect>\n",
            lo + b * width, lo + (b + 1) * width, count[b], 20 + b * bw,
            H + 4 - h, bw - 2, h, lo + b * width, lo + (b + 1) * width,
            count[b]);
  }
  fprintf(f, "<line class=\"axis\" x1=\"20\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>"
          "\n<text class=\"num\" x=\"20\" y=\"%d\">%.0f ms</text>\n"
          "<text class=\"num\" x=\"%d\" y=\"%d\" text-anchor=\"end\">%.0f ms"
          "</text>\n</svg>\n", H + 4, 20 + NBINS * bw, H + 4, H + 22, lo,
          20 + NBINS * bw, H + 22, hi);
  fprintf(f, "<p class=\"note\">%zu requests; p50 %.0f ms, p95 %.0f ms, "
          "p99 %.0f ms.</p></section>\n", T->nlat, rep_pct(T->lat, T->nlat,
          50), rep_pct(T->lat, T->nlat, 95), rep_pct(T->lat, T->nlat, 99));
}

/* Errors over the run: the records in the order read, NSLOTS buckets,
 * each bar all records, its red part the errors. */
static void errors_over_run(FILE *f, const struct report *rp)
{
  long all[NSLOTS] = {0}, bad[NSLOTS] = {0}, max = 1;
  size_t i, n = rp->nrecs;
  int s, slots = n < NSLOTS ? (int)n : NSLOTS, H = 120, bw;

  fputs("<section id=\"errors-over-time\"><h2>Errors over the run</h2>\n",
        f);
  if(!slots) {
    fputs("<p class=\"empty\">no result lines</p></section>\n", f);
    return;
  }
  bw = (W - 40) / slots;
  for(i = 0; i < n; i++) {
    s = (int)(i * (size_t)slots / n);
    all[s]++;
    bad[s] += rp->recs[i].err;
  }
  for(s = 0; s < slots; s++)
    if(all[s] > max)
      max = all[s];
  fprintf(f, "<svg width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
          "role=\"img\" aria-label=\"errors over the run\">\n", W, H + 30,
          W, H + 30);
  for(s = 0; s < slots; s++) {
    int ha = (int)((double)H * (double)all[s] / (double)max + 0.5);
    int hb = (int)((double)H * (double)bad[s] / (double)max + 0.5);
    fprintf(f, "<g class=\"slot\" data-records=\"%ld\" data-errors=\"%ld\">"
            "<rect class=\"ok\" x=\"%d\" y=\"%d\" width=\"%d\" "
            "height=\"%d\"/><rect class=\"err\" x=\"%d\" y=\"%d\" "
            "width=\"%d\" height=\"%d\"/><title>%ld errors in %ld lines"
            "</title></g>\n", all[s], bad[s], 20 + s * bw, H + 4 - ha,
            bw - 2, ha - hb, 20 + s * bw, H + 4 - hb, bw - 2, hb, bad[s],
            all[s]);
  }
  fprintf(f, "<text class=\"num\" x=\"20\" y=\"%d\">first line</text>"
          "<text class=\"num\" x=\"%d\" y=\"%d\" text-anchor=\"end\">last "
          "line</text>\n</svg>\n", H + 22, 20 + slots * bw, H + 22);
  fputs("<p class=\"note\">Result lines in the order they were written "
        "(completion order); result lines carry no clock time. Superseded "
        "records count here: they happened.</p></section>\n", f);
}

static void code_table(FILE *f, const struct report *rp)
{
  const struct rep_table *t = &rp->by[BY_CODE];
  size_t i;

  fputs("<section id=\"errors\"><h2>Errors by code</h2>\n", f);
  if(!rp->total.errors) {
    fputs("<p class=\"empty\" id=\"no-errors\">no errors</p></section>\n",
          f);
    return;
  }
  fputs("<table id=\"errors-by-code\"><tr><th>code</th><th>requests</th>"
        "</tr>\n", f);
  for(i = 0; i < t->n; i++) {
    if(!t->rows[i].errors)
      continue;
    fputs("<tr class=\"code\"><td>", f);
    esc(f, t->rows[i].name);
    fprintf(f, "</td><td class=\"n\">%ld</td></tr>\n", t->rows[i].errors);
  }
  fputs("</table></section>\n", f);
}

static void task_table(FILE *f, const struct report *rp)
{
  const struct rep_table *t = &rp->by[BY_TASK];
  size_t i;

  fputs("<section id=\"tasks\"><h2>Per task</h2>\n<table id=\"by-task\">"
        "<tr><th>task</th><th>requests</th><th>errors</th><th>cost</th>"
        "<th>baseline</th><th>savings</th><th>p95 ms</th><th>escalated"
        "</th></tr>\n", f);
  for(i = 0; i <= t->n; i++) {
    const struct rep_row *r = i < t->n ? &t->rows[i] : &rp->total;
    int none;
    double s = rep_savings(r, &none);
    double p95 = rep_pct(r->lat, r->nlat, 95);
    fputs(i < t->n ? "<tr class=\"task\"><td>" : "<tr class=\"total\"><td>",
          f);
    esc(f, r->name);
    fprintf(f, "</td><td class=\"n\">%ld</td><td class=\"n\">%ld</td>"
            "<td class=\"n\">%.6f</td><td class=\"n\">%.6f</td>",
            r->requests, r->errors, r->cost, r->baseline);
    if(none)
      fputs("<td class=\"n\">-</td>", f);
    else
      fprintf(f, "<td class=\"n\">%.1f%%</td>", s);
    if(p95 < 0)
      fputs("<td class=\"n\">-</td>", f);
    else
      fprintf(f, "<td class=\"n\">%.0f</td>", p95);
    fprintf(f, "<td class=\"n\">%ld</td></tr>\n", r->escalated);
  }
  fputs("</table></section>\n", f);
}

static const char css[] =
  "body{font:14px/1.4 system-ui,sans-serif;margin:24px auto;max-width:"
  "760px;color:#222;background:#fff}\n"
  "h1{font-size:22px;margin:0 0 12px}h2{font-size:16px;margin:28px 0 8px}\n"
  "#headline{display:flex;flex-wrap:wrap;gap:10px}\n"
  ".stat{border:1px solid #ddd;border-radius:6px;padding:8px 12px;"
  "min-width:110px}\n"
  ".stat .value{display:block;font-size:20px;font-weight:600}\n"
  ".stat .label{color:#666;font-size:12px}\n"
  "svg text{font-size:12px;fill:#333}\n"
  "rect.cost,.key.cost{fill:#2b7bb9;background:#2b7bb9}\n"
  "rect.baseline,.key.baseline{fill:#c8c8c8;background:#c8c8c8}\n"
  ".key{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;"
  "vertical-align:-1px}\n"
  ".funnel-tier rect{fill:#3a9d5d}.funnel-tier.failed rect{fill:#c0392b}\n"
  "rect.hist-bar{fill:#7a5bb5}line.axis{stroke:#999}\n"
  "rect.ok{fill:#c8d8e8}rect.err{fill:#c0392b}\n"
  "table{border-collapse:collapse}td,th{padding:3px 10px;border-bottom:"
  "1px solid #eee;text-align:left}td.n{text-align:right;"
  "font-variant-numeric:tabular-nums}tr.total td{font-weight:600}\n"
  ".note,.legend,.empty{color:#666;font-size:12px}\n";

int report_html(const struct report *rp, const char *kind, FILE *f)
{
  fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta "
          "charset=\"utf-8\">\n<title>llmroute report</title>\n"
          "<style>\n%s</style></head>\n<body>\n<h1>llmroute report</h1>\n"
          "<p class=\"note\" id=\"kind\">%s costs; %ld result lines read."
          "</p>\n", css, kind, (long)rp->nrecs);
  headline(f, rp, kind);
  cost_bars(f, rp);
  funnel(f, rp);
  histogram(f, rp);
  errors_over_run(f, rp);
  code_table(f, rp);
  task_table(f, rp);
  fputs("</body></html>\n", f);
  return ferror(f) ? -1 : 0;
}
