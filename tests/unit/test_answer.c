/*
 * test_answer.c - the runner's answer checkers (core/answer.c, ABI 1.2):
 * host->set_answer_check() and host->check_answer() on a pipeline of four
 * stages and jobs standing at different stages; and its request checkers
 * (ABI 1.5): host->set_request_check() and host->check_request().
 */
#include <stdlib.h>
#include <string.h>

#include "run.h"
#include "harness.h"

/* A checker's instance: what it says, and what it saw. */
struct fake {
  enum llmr_answer says;
  const char *why;
  int calls;
  int stage_seen;       /* R.cur_stage while it ran */
  int nested;           /* ask check_answer() from inside */
  enum llmr_answer nested_got;
  jv seen;              /* the last response it was shown (a copy) */
};

static const struct llmr_host *host;

static enum llmr_answer fake_check(void *self, struct llmr_job *job,
                                   jv response, char *reason, size_t len)
{
  struct fake *f = self;
  char inner[64];

  (void)job;
  f->calls++;
  f->stage_seen = R.cur_stage;
  jv_free(f->seen);
  f->seen = jv_copy(response);
  if(f->nested)
    f->nested_got = host->check_answer(job, response, inner,
                                       sizeof(inner));
  if(f->why)
    snprintf(reason, len, "%s", f->why);
  return f->says;
}

/* A request checker's instance. */
struct rfake {
  const char *code;     /* what it returns */
  const char *why;
  int calls;
  int stage_seen;
  int nested;           /* ask check_request() from inside */
  const char *nested_got;
};

static const char *rfake_check(void *self, struct llmr_job *job,
                               char *reason, size_t len)
{
  struct rfake *f = self;
  char inner[64];

  f->calls++;
  f->stage_seen = R.cur_stage;
  if(f->nested)
    f->nested_got = host->check_request(job, inner, sizeof(inner));
  if(f->why)
    snprintf(reason, len, "%s", f->why);
  return f->code;
}

/* Request checkers share the answer checkers' table: one entry a stage,
 * holding either kind or both. */
static void test_request_checks(const struct llmr_host *h,
                                struct stage_inst *stages,
                                struct llmr_job *job)
{
  struct rfake p = {NULL, NULL, 0, 0, 0, NULL};
  struct rfake q = {"invalid_schema", "routing.schema is not a valid schema",
                    0, 0, 0, NULL};
  struct rfake u = {"bad_upstream", "upstream", 0, 0, 0, NULL};
  struct fake a = {LLMR_ANSWER_INVALID, "answer", 0, 0, 0, 0, {0}};
  struct llmr_config other = stages[1].cf;
  jv answer = jv_parse("{\"choices\":[]}");
  char why[32];

  a.seen = jv_null();
  job->stage = 1;
  strcpy(why, "junk");
  CHECK("request: none registered", h->check_request(job, why,
                                                     sizeof(why)) == NULL);
  CHECK_STR("request: none: empty reason", why, "");
  CHECK_INT("request: foreign cf", h->set_request_check(&other, rfake_check,
                                                        &q), LLMR_EINVAL);
  CHECK_INT("request: stage 3", h->set_request_check(&stages[3].cf,
                                                     rfake_check, &q),
            LLMR_OK);
  CHECK_INT("request: stage 2", h->set_request_check(&stages[2].cf,
                                                     rfake_check, &p),
            LLMR_OK);
  CHECK_INT("request: stage 0 (upstream)",
            h->set_request_check(&stages[0].cf, rfake_check, &u), LLMR_OK);
  /* stage 2 also judges answers: one entry holds both */
  CHECK_INT("request: answer checker beside it",
            h->set_answer_check(&stages[2].cf, fake_check, &a), LLMR_OK);

  R.cur_stage = 1;
  {
    const char *code = h->check_request(job, why, sizeof(why));
    CHECK_STR("request: the first broken one's code", code ? code : "(null)",
              "invalid_schema");
  }
  CHECK_STR("request: its reason, cut to the buffer", why,
            "routing.schema is not a valid s");
  CHECK_INT("request: upstream not asked", u.calls, 0);
  CHECK_INT("request: sound one ran", p.calls, 1);
  CHECK_INT("request: runs under the checker's stage", q.stage_seen, 3);
  CHECK_INT("request: caller's stage restored", R.cur_stage, 1);
  CHECK("request: no reason buffer", h->check_request(job, NULL, 0) != NULL);

  /* the answer checker of the same stage is still there, and vice versa */
  CHECK_INT("request: answer checker kept",
            h->check_answer(job, answer, why, sizeof(why)),
            LLMR_ANSWER_INVALID);
  CHECK_INT("request: remove answer checker",
            h->set_answer_check(&stages[2].cf, NULL, NULL), LLMR_OK);
  p.calls = 0;
  h->check_request(job, why, sizeof(why));
  CHECK_INT("request: request checker kept", p.calls, 1);

  /* a checker asking again is not re-entered */
  p.nested = 1;
  p.nested_got = "junk";
  h->check_request(job, why, sizeof(why));
  CHECK("request: nested refused", p.nested_got == NULL);
  p.nested = 0;

  /* NULL removes; none left downstream: NULL */
  h->set_request_check(&stages[3].cf, NULL, NULL);
  h->set_request_check(&stages[2].cf, NULL, NULL);
  CHECK("request: removed", h->check_request(job, why, sizeof(why)) == NULL);
  job->stage = -1;
  CHECK("request: an upstream one asked from before it",
        h->check_request(job, why, sizeof(why)) != NULL && u.calls == 1);
  answer_free();
  CHECK("request: freed", h->check_request(job, why, sizeof(why)) == NULL);
  jv_free(a.seen);
  jv_free(answer);
}

int main(void)
{
  static struct llmr_host h;
  struct stage_inst stages[4];
  struct pipeline pl;
  struct llmr_job *job = calloc(1, sizeof(*job));
  struct fake a = {LLMR_ANSWER_VALID, NULL, 0, 0, 0, 0, {0}};
  struct fake b = {LLMR_ANSWER_INVALID, "json: not JSON", 0, 0, 0, 0, {0}};
  struct fake c = {LLMR_ANSWER_INVALID, "late", 0, 0, 0, 0, {0}};
  struct llmr_config other;
  char why[32];
  jv answer = jv_parse("{\"choices\":[]}");
  int i;

  a.seen = b.seen = c.seen = jv_null();
  memset(stages, 0, sizeof(stages));
  memset(&pl, 0, sizeof(pl));
  for(i = 0; i < 4; i++)
    stages[i].cf.index = i;
  pl.stages = stages;
  pl.nstages = 4;
  memset(&R, 0, sizeof(R));
  R.pl = &pl;
  R.cur_stage = -1;
  host_init(&h);
  host = &h;
  CHECK_INT("abi: minor 7", h.abi_minor, 7);
  CHECK("abi: services set", h.set_answer_check && h.check_answer);
  CHECK("abi 1.3: services set", h.models && h.model && h.cost &&
        h.request_text && h.content_text && h.set_message_text &&
        h.map_text);
  CHECK("abi 1.4: stage_before set", h.stage_before != NULL);
  CHECK("abi 1.5: request checks and strict parse set",
        h.set_request_check && h.check_request && h.json_parse_strict);
  CHECK("abi 1.6: error getter set", h.error != NULL);
  CHECK("abi 1.7: shared_take set", h.shared_take != NULL);

  /* nothing registered: every answer counts as valid */
  job->stage = 1;
  strcpy(why, "junk");
  CHECK_INT("none: valid", h.check_answer(job, answer, why, sizeof(why)),
            LLMR_ANSWER_VALID);
  CHECK_STR("none: empty reason", why, "");
  CHECK_INT("none: no reason buffer",
            h.check_answer(job, answer, NULL, 0), LLMR_ANSWER_VALID);

  /* a cf that is not one of the pipeline's stages is refused */
  other = stages[2].cf;
  CHECK_INT("register: foreign cf", h.set_answer_check(&other, fake_check,
                                                       &b), LLMR_EINVAL);
  CHECK_INT("register: NULL cf", h.set_answer_check(NULL, fake_check, &b),
            LLMR_EINVAL);

  /* stage 3 first, then 2 and 0: kept in pipeline order */
  CHECK_INT("register: stage 3",
            h.set_answer_check(&stages[3].cf, fake_check, &c), LLMR_OK);
  CHECK_INT("register: stage 2",
            h.set_answer_check(&stages[2].cf, fake_check, &b), LLMR_OK);
  CHECK_INT("register: stage 0",
            h.set_answer_check(&stages[0].cf, fake_check, &a), LLMR_OK);

  /* the job is at stage 1: stage 0's checker is upstream, not asked;
     stage 2's refuses first, so stage 3's is not run */
  R.cur_stage = 1;
  CHECK_INT("ask: invalid", h.check_answer(job, answer, why, sizeof(why)),
            LLMR_ANSWER_INVALID);
  CHECK_STR("ask: the first refusal's reason", why, "json: not JSON");
  CHECK_INT("ask: upstream checker not run", a.calls, 0);
  CHECK_INT("ask: stage 2 ran once", b.calls, 1);
  CHECK_INT("ask: stopped at the first refusal", c.calls, 0);
  CHECK_INT("ask: runs under the checker's stage", b.stage_seen, 2);
  CHECK_INT("ask: the caller's stage restored", R.cur_stage, 1);
  CHECK("ask: the checker saw the answer", jv_equal(jv_copy(b.seen),
                                                    jv_copy(answer)));

  /* a short buffer: truncated, terminated */
  CHECK_INT("short: invalid", h.check_answer(job, answer, why, 5),
            LLMR_ANSWER_INVALID);
  CHECK_STR("short: truncated", why, "json");

  /* unknown from one, valid from the other: unknown, its reason */
  b.says = LLMR_ANSWER_UNKNOWN;
  b.why = "routing.schema is not a valid schema";
  c.says = LLMR_ANSWER_VALID;
  CHECK_INT("unknown: reported", h.check_answer(job, answer, why,
                                                sizeof(why)),
            LLMR_ANSWER_UNKNOWN);
  CHECK("unknown: reason", !strncmp(why, "routing.schema", 14));
  CHECK_INT("unknown: the next checker still ran", c.calls, 1);

  /* unknown, then a refusal: the refusal wins */
  c.says = LLMR_ANSWER_INVALID;
  CHECK_INT("unknown then invalid", h.check_answer(job, answer, why,
                                                   sizeof(why)),
            LLMR_ANSWER_INVALID);
  CHECK_STR("unknown then invalid: reason", why, "late");

  /* a second registration replaces; NULL removes */
  b.says = LLMR_ANSWER_VALID;
  c.says = LLMR_ANSWER_VALID;
  CHECK_INT("replace: stage 2 now a's",
            h.set_answer_check(&stages[2].cf, fake_check, &a), LLMR_OK);
  CHECK_INT("replace: valid", h.check_answer(job, answer, why, sizeof(why)),
            LLMR_ANSWER_VALID);
  CHECK_INT("replace: a ran for stage 2", a.calls, 1);
  CHECK_INT("replace: b no more", b.calls, 4);
  CHECK_INT("remove: stage 3",
            h.set_answer_check(&stages[3].cf, NULL, NULL), LLMR_OK);
  h.check_answer(job, answer, why, sizeof(why));
  CHECK_INT("remove: c not run", c.calls, 3);

  /* a job past every checker: nothing to ask */
  job->stage = 3;
  a.calls = 0;
  CHECK_INT("downstream of all: valid",
            h.check_answer(job, answer, why, sizeof(why)),
            LLMR_ANSWER_VALID);
  CHECK_INT("downstream of all: none ran", a.calls, 0);

  /* a checker asking again is not re-entered */
  job->stage = 1;
  a.nested = 1;
  a.nested_got = LLMR_ANSWER_VALID;
  h.check_answer(job, answer, why, sizeof(why));
  CHECK_INT("nested: refused", a.nested_got, LLMR_ANSWER_UNKNOWN);
  CHECK_INT("nested: not re-run", a.calls, 1);
  a.nested = 0;
  CHECK_INT("nested: usable again afterwards",
            h.check_answer(job, answer, why, sizeof(why)),
            LLMR_ANSWER_VALID);

  /* answer_free(): every checker dropped (finish_stages calls it) */
  answer_free();
  a.calls = 0;
  CHECK_INT("freed: valid", h.check_answer(job, answer, why, sizeof(why)),
            LLMR_ANSWER_VALID);
  CHECK_INT("freed: none ran", a.calls, 0);

  test_request_checks(&h, stages, job);

  jv_free(a.seen);
  jv_free(b.seen);
  jv_free(c.seen);
  jv_free(answer);
  free(job);
  return harness_done();
}
