/*
 * test_call_limits.c - the call stage's rate limits, concurrency queue
 * and circuit breaker (plugins/call/limits.c), on a fake host whose
 * timers only record what they were asked.
 */
#include <stdarg.h>
#include <stdlib.h>
#include "harness.h"
#include "../../plugins/call/common.c"
#include "../../plugins/call/openai.c"
#include "../../plugins/call/anthropic.c"
#include "../../plugins/call/gemini.c"
#include "../../plugins/call/replay.c"
#include "../../plugins/call/policy.c"
#include "../../plugins/call/limits.c"

/* call_resume lives in call.c; the queue only passes its address. */
void call_resume(void *self, struct llmr_job *job)
{
  (void)self;
  (void)job;
}

static int woken;
static struct llmr_job *woken_job;

static int fake_after(struct llmr_job *job, long ms, llmr_timer_fire fire)
{
  (void)ms;
  (void)fire;
  woken++;
  woken_job = job;
  return LLMR_OK;
}

static void fake_log(struct llmr_job *job, int level, const char *fmt, ...)
{
  (void)job;
  (void)level;
  (void)fmt;
}

static struct llmr_host host;
static struct call_stage st;

static void setup(void)
{
  memset(&host, 0, sizeof(host));
  host.after = fake_after;
  host.log = fake_log;
  memset(&st, 0, sizeof(st));
  st.host = &host;
  st.retry_after_max = 60;
  st.breaker_after = 2;
  st.cooldown = 30;
  st.capbrk = 8;
  st.brk = calloc(8, sizeof(*st.brk));
}

static void test_pauses(void)
{
  struct provider p;
  struct xfer x;
  struct job_state js;
  struct deployment d;
  memset(&p, 0, sizeof(p));
  memset(&x, 0, sizeof(x));
  memset(&js, 0, sizeof(js));
  memset(&d, 0, sizeof(d));
  d.p = &p;
  js.st = &st; /* as the stage sets it */
  js.body = jv_parse("{\"messages\":[],\"max_tokens\":100}");
  js.est_tokens = 50;
  call_bucket_init(&p.rpm, 0, 0);
  call_bucket_init(&p.tpm, 0, 0);

  CHECK_DBL("no limits: no wait", limits_wait(&js, &d, 100), 0, 1e-9);
  x.h_retry_after = "3";
  limits_learn(&st, &p, NULL, &x, 429, 100);
  CHECK_DBL("429 retry-after pauses the provider",
            limits_wait(&js, &d, 100), 3, 1e-9);
  x.h_retry_after = "600";
  limits_learn(&st, &p, NULL, &x, 429, 100);
  CHECK_DBL("pause capped at retry_after_max", limits_wait(&js, &d, 100),
            60, 1e-9);
  p.paused_until = 0;
  x.h_retry_after = NULL;
  x.h_rem_req = "0";
  x.h_reset_req = "2s";
  limits_learn(&st, &p, NULL, &x, 200, 100);
  CHECK_DBL("remaining 0 pauses until the reset",
            limits_wait(&js, &d, 100), 2, 1e-9);
  p.paused_until = 0;
  struct breaker br;
  memset(&br, 0, sizeof(br));
  d.brk = &br;
  x.h_reset_req = "4s";
  limits_learn(&st, &p, &br, &x, 200, 100);
  CHECK("a deployment's pause stays on it", p.paused_until == 0 &&
        br.paused_until == 104);
  CHECK_DBL("and holds it", limits_wait(&js, &d, 101), 3, 1e-9);
  d.brk = NULL;

  /* the announced limit is adopted; remaining is the truth */
  x.h_rem_req = "5";
  x.h_reset_req = NULL;
  x.h_lim_req = "600";
  limits_learn(&st, &p, NULL, &x, 200, 100);
  CHECK_DBL("announced limit adopted", p.rpm.rate, 10, 1e-9);
  CHECK_DBL("level from remaining", p.rpm.level, 5, 1e-9);
  p.inflight = 2;
  x.h_rem_req = "590";
  limits_learn(&st, &p, NULL, &x, 200, 100);
  CHECK_DBL("remaining minus in flight", p.rpm.level, 588, 1e-9);
  p.inflight = 0;

  /* a catalog limit stays, the server can only lower the level */
  call_bucket_init(&p.rpm, 60, 100);
  p.rpm_from_headers = 0;
  x.h_lim_req = "6000";
  x.h_rem_req = "3";
  limits_learn(&st, &p, NULL, &x, 200, 100);
  CHECK_DBL("catalog rpm kept", p.rpm.rate, 1, 1e-9);
  CHECK_DBL("server lowers the level", p.rpm.level, 3, 1e-9);

  /* reservations queue up one after another */
  call_bucket_init(&p.rpm, 60, 100);
  p.rpm.level = 0;
  CHECK_DBL("first waits one second", limits_reserve(&js, &d, 100), 1,
            1e-9);
  CHECK_DBL("second waits two", limits_reserve(&js, &d, 100), 2, 1e-9);
  CHECK_DBL("third waits three", limits_reserve(&js, &d, 100), 3, 1e-9);

  /* tokens per minute: input estimate + max_tokens */
  call_bucket_init(&p.rpm, 0, 100);
  call_bucket_init(&p.tpm, 600, 100); /* 10 tokens/s */
  p.tpm.level = 0;
  CHECK_DBL("tpm wait for 150 tokens", limits_wait(&js, &d, 100), 15,
            1e-9);
  jv_free(js.body);
}

static void test_queue(void)
{
  struct provider p;
  struct job_state a, b, c;
  memset(&p, 0, sizeof(p));
  memset(&a, 0, sizeof(a));
  memset(&b, 0, sizeof(b));
  memset(&c, 0, sizeof(c));
  a.st = b.st = c.st = &st;
  a.job = (struct llmr_job *)&a;
  b.job = (struct llmr_job *)&b;
  c.job = (struct llmr_job *)&c;
  p.concurrency = 2;
  woken = 0;
  CHECK("slot 1", limits_slot(&a, &p) == 1);
  CHECK("slot 2", limits_slot(&b, &p) == 1);
  CHECK("third queued", limits_slot(&c, &p) == 0 && p.wait_head == &c);
  CHECK_INT("in flight", p.inflight, 2);
  limits_release(&st, &p);
  CHECK("release wakes the queued job",
        woken == 1 && woken_job == c.job && c.slot == &p && !p.wait_head);
  CHECK_INT("slot promised", p.inflight, 2);
  CHECK("woken job takes its promised slot", limits_slot(&c, &p) == 1 &&
        !c.slot);
  CHECK_INT("still two", p.inflight, 2);
  /* a queued job that goes away leaves the queue */
  struct job_state d2;
  memset(&d2, 0, sizeof(d2));
  d2.st = &st;
  d2.job = (struct llmr_job *)&d2;
  CHECK("queued again", limits_slot(&d2, &p) == 0);
  limits_forget(&d2);
  CHECK("forgotten", !p.wait_head && !d2.q_prov);
  limits_release(&st, &p);
  limits_release(&st, &p);
  CHECK_INT("all given back", p.inflight, 0);
}

static void test_breaker(void)
{
  struct breaker *b = limits_breaker(&st, "oa", "gpt-a");
  CHECK("breaker made", b != NULL);
  CHECK("same breaker", limits_breaker(&st, "oa", "gpt-a") == b);
  CHECK("closed", limits_breaker_ok(&st, b, 0));
  limits_breaker_note(&st, b, 0, 10);
  CHECK("one failure: closed", limits_breaker_ok(&st, b, 10));
  limits_breaker_note(&st, b, 0, 11);
  CHECK("two failures: open", !limits_breaker_ok(&st, b, 12));
  CHECK("half-open after the cool-down", limits_breaker_ok(&st, b, 41.5));
  limits_breaker_note(&st, b, 1, 42);
  CHECK("a success closes it", limits_breaker_ok(&st, b, 42) &&
        b->failures == 0);
  for(int i = 0; i < 10; i++) {
    char m[16];
    snprintf(m, sizeof(m), "m%d", i);
    limits_breaker(&st, "x", m);
  }
  CHECK_INT("table bounded", st.nbrk, st.capbrk);
}

/* A fake shared bucket: records what was asked, answers `shared_w`. */
static char shared_seen[256];
static double shared_w;
static double fake_shared_take(const char *bucket, double n,
                               double per_minute, int ifroom)
{
  size_t len = strlen(shared_seen);
  snprintf(shared_seen + len, sizeof(shared_seen) - len, "%s %g %g %d;",
           bucket, n, per_minute, ifroom);
  return shared_w;
}

/* With set shared= the run's buckets (host->shared_take, ABI 1.7) are
 * asked besides the local ones, per provider, for rpm and tpm. */
static void test_shared(void)
{
  struct provider p;
  struct job_state js;
  struct deployment d;
  memset(&p, 0, sizeof(p));
  memset(&js, 0, sizeof(js));
  memset(&d, 0, sizeof(d));
  p.name = "oa";
  d.p = &p;
  js.st = &st;
  js.body = jv_parse("{\"messages\":[],\"max_tokens\":100}");
  js.est_tokens = 50;
  call_bucket_init(&p.rpm, 60, 0);
  call_bucket_init(&p.tpm, 0, 0);
  /* a runner before 1.7 (a smaller table): local buckets only */
  host.size = offsetof(struct llmr_host, shared_take);
  host.shared_take = fake_shared_take;
  shared_seen[0] = 0;
  CHECK_DBL("older runner: local only", limits_reserve(&js, &d, 0), 0,
            1e-9);
  CHECK("older runner: not asked", shared_seen[0] == 0);
  host.size = sizeof(host);
  shared_w = 2.5;
  CHECK_DBL("the shared wait counts", limits_reserve(&js, &d, 0), 2.5,
            1e-9);
  CHECK("rpm bucket asked, no tpm limit: no tpm round trip",
        !strcmp(shared_seen, "oa:rpm 1 60 0;"));
  call_bucket_init(&p.tpm, 6000, 0);
  shared_seen[0] = 0;
  shared_w = 0;
  CHECK("room: taken", limits_shared_try(&js, &d) == 1);
  CHECK("if-room takes of rpm and tpm (50 in + 100 out)",
        !strcmp(shared_seen, "oa:rpm 1 60 1;oa:tpm 150 6000 1;"));
  shared_w = 1;
  CHECK("no room: not taken", limits_shared_try(&js, &d) == 0);
  shared_w = -1; /* not shared, or lost: the local buckets decide */
  CHECK("not shared: taken", limits_shared_try(&js, &d) == 1);
  host.size = 0;
  host.shared_take = NULL;
  jv_free(js.body);
}

/* A catalog deployment's own rpm/tpm: a bucket per provider/model taken
 * besides the provider's, locally and, when shared, by name
 * "PROVIDER/MODEL:rpm". */
static void test_deployment_limits(void)
{
  struct provider p;
  struct job_state js;
  struct deployment d, other;
  memset(&p, 0, sizeof(p));
  memset(&js, 0, sizeof(js));
  memset(&d, 0, sizeof(d));
  memset(&other, 0, sizeof(other));
  p.name = "oa";
  d.p = other.p = &p;
  d.brk = limits_breaker(&st, "oa", "gpt-lim");
  other.brk = limits_breaker(&st, "oa", "gpt-free");
  if(!d.brk || !other.brk) {
    CHECK("deployment entries made", 0);
    return;
  }
  js.st = &st;
  js.body = jv_parse("{\"messages\":[],\"max_tokens\":100}");
  js.est_tokens = 50;
  call_bucket_init(&p.rpm, 0, 100); /* the provider: no limit */
  call_bucket_init(&p.tpm, 0, 100);
  CHECK("a new deployment entry has no limits", d.brk->rpm.rate == 0 &&
        d.brk->tpm.rate == 0 && !d.brk->limits_set);
  call_bucket_init(&d.brk->rpm, 60, 100); /* 1 a second */
  d.brk->rpm.level = 0;
  CHECK_DBL("the deployment's rpm holds it back",
            limits_wait(&js, &d, 100), 1, 1e-9);
  CHECK_DBL("another model of the provider goes at once",
            limits_wait(&js, &other, 100), 0, 1e-9);
  CHECK_DBL("reserved: its debt is waited out",
            limits_reserve(&js, &d, 100), 1, 1e-9);
  CHECK_DBL("the next waits two", limits_reserve(&js, &d, 100), 2, 1e-9);
  call_bucket_init(&d.brk->rpm, 0, 100);
  call_bucket_init(&d.brk->tpm, 600, 100); /* 10 tokens a second */
  d.brk->tpm.level = 0;
  CHECK_DBL("the deployment's tpm: 150 tokens wait 15 s",
            limits_wait(&js, &d, 100), 15, 1e-9);
  /* shared: its own bucket by name, after the provider's (none here) */
  call_bucket_init(&d.brk->tpm, 0, 100);
  call_bucket_init(&d.brk->rpm, 120, 100);
  host.size = sizeof(host);
  host.shared_take = fake_shared_take;
  shared_seen[0] = 0;
  shared_w = 0;
  CHECK_DBL("shared: no wait", limits_reserve(&js, &d, 100), 0, 1e-9);
  CHECK("shared: the deployment's bucket asked by name",
        !strcmp(shared_seen, "oa/gpt-lim:rpm 1 120 0;"));
  shared_seen[0] = 0;
  shared_w = 3;
  CHECK("shared, no room: not taken", limits_shared_try(&js, &d) == 0);
  CHECK("shared: asked if room", !strcmp(shared_seen,
                                         "oa/gpt-lim:rpm 1 120 1;"));
  host.size = 0;
  host.shared_take = NULL;
  jv_free(js.body);
}

int main(void)
{
  setup();
  test_pauses();
  test_queue();
  test_deployment_limits(); /* before test_breaker fills the table */
  test_breaker();
  test_shared();
  for(int i = 0; i < st.nbrk; i++)
    free(st.brk[i].key);
  free(st.brk);
  return harness_done();
}
