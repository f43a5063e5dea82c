/*
 * validate.c - the validate stage: structural checks of every answer.
 *
 * For a job that has a response, validate checks, in this order, and
 * stops at the first failure:
 *
 *   truncated  finish_reason "length"
 *   empty      no answer text (and no tool call)
 *   refusal    the model's refusal field, or the text matches refusal=
 *   json       the text parses as JSON (json=true, or json=auto and the
 *              request asked for JSON or a schema applies)
 *   schema     response_format.json_schema.schema, routing.schema and
 *              the schema= file, each that is present
 *   expect     routing.expect: a substring of the text, or with "re:" a
 *              regular expression; an array: every item
 *   check      the jq predicate check= over the response body is true
 *   tier       require_tier=T when the request is large or complex (a
 *              when_* proxy of proxy.h fires: route.complexity, input
 *              tokens, or matches of a regex such as reasoning hops):
 *              the answering model's tier must be at least T
 *   agreement  route.agreement.agree is not false for the model that
 *              answered: the agreement partner (route agree=true, asked
 *              by call) did not give another short answer
 *              (agreement=false turns it off)
 *
 * It writes "valid" and "reason" (null when valid) on the last entry of
 * route.attempts and returns NEXT either way: the escalate stage acts on
 * an invalid answer.  sample=F marks route.review true for a fraction F
 * of the custom_ids, the same ones on every run.  A job with no response
 * (the call failed) is passed on untouched.  A schema in the request that
 * is not a valid schema fails the job with "invalid_schema".
 *
 * The same checks are registered as the stage's answer checker (ABI 1.2,
 * host->set_answer_check), so a stage before validate can ask whether an
 * answer would pass (call does, to keep the first valid answer of a
 * hedge); the checks the request carries (its schemas, its expect
 * patterns) as its request checker (ABI 1.5, host->set_request_check),
 * so call refuses a request whose checks are broken before paying for an
 * answer.
 */
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <oniguruma.h>

#include "llmroute.h"
#include "core/lib/proxy.h"
#include "schema.h"
#include "core/lib/jget.h"

#define VALIDATE_VERSION "0.1.0"
#define REASON_LEN 512
#define CACHE_SIZE 32

/* Refusal phrases: "I can't help with", "I'm sorry, but I cannot", ...
 * with straight or curly apostrophes; not "I can't help but notice". */
#define APOS "['\u2019]"
#define DEFAULT_REFUSAL                                                    \
  "\\bI can(?:no|" APOS ")t (?:help|assist) (?:with|you)|"                 \
  "\\bI(?:" APOS "m| am) (?:sorry|afraid),? but I (?:can(?:no|" APOS       \
  ")t|won" APOS "t|am unable|am not able)|"                                \
  "\\bI(?:" APOS "m| am) (?:unable|not able) to (?:help|assist) "          \
  "(?:with|you)|\\bI won" APOS "t be able to (?:help|assist)"

/* One request schema compiled earlier, keyed by its compact JSON. */
struct cache_ent {
  char *key;
  struct schema *schema;
};

struct validate {
  const struct llmr_host *host;
  struct schema *file_schema;  /* schema= */
  int json_mode;               /* -1 auto, 0 off, 1 on */
  struct llmr_jq *check;       /* check= */
  char *check_src;
  OnigRegex refusal;           /* NULL: off */
  long require_tier;           /* 0: off */
  struct proxy proxy;          /* when_* */
  double sample;               /* 0: off */
  int agreement;               /* check route.agreement */
  jv catalog;
  struct cache_ent cache[CACHE_SIZE];
  int cache_next;
};

static const struct llmr_option options[] = {
  {"schema", LLMR_OPT_PATH, NULL, 0,
   "JSON Schema file (draft 2020-12) every answer must satisfy"},
  {"json", LLMR_OPT_STRING, "auto", 0,
   "answer must be JSON: auto (when the request asks for JSON), true, "
   "false"},
  {"check", LLMR_OPT_STRING, NULL, 0,
   "jq predicate over the response body that must be true"},
  {"refusal", LLMR_OPT_STRING, DEFAULT_REFUSAL, 0,
   "regex of refusal phrases, case-insensitive (empty: off)"},
  {"require_tier", LLMR_OPT_INT, "0", 0,
   "tier an answer needs when a when_* proxy fires (0: off)"},
  PROXY_OPTIONS,
  {"sample", LLMR_OPT_DOUBLE, "0", 0,
   "fraction of custom_ids marked route.review (deterministic)"},
  {"agreement", LLMR_OPT_BOOL, "true", 0,
   "refuse an answer its agreement partner (route.agree) contradicts"},
  {NULL, LLMR_OPT_STRING, NULL, 0, NULL}
};

/* ---------------------------------------------------------------------
 * Helpers
 */

/* Borrows v.  New ref of v.a.b... along a NULL-ended list of keys. */
static jv json_path(jv v, const char *const *keys)
{
  jv cur = jv_copy(v);
  for(; *keys; keys++) {
    jv next = jget(cur, *keys);
    jv_free(cur);
    cur = next;
  }
  return cur;
}

/* FNV-1a 64 of s, then the murmur3 finaliser (FNV's top bits vary little
 * for ids that differ only in their last characters). */
static uint64_t hash_id(const char *s)
{
  uint64_t h = 14695981039346656037ULL;
  for(; *s; s++) {
    h ^= (unsigned char)*s;
    h *= 1099511628211ULL;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

/* 1 when custom_id id falls in the sampled fraction rate (0..1). */
static int sample_pick(const char *id, double rate)
{
  double u = (double)(hash_id(id ? id : "") >> 11) / 9007199254740992.0;
  return u < rate;
}

/* Compile a case-insensitive regex; NULL and a message in err. */
static OnigRegex regex_new(const char *src, int icase, char *err,
                           size_t errlen)
{
  OnigRegex re;
  OnigErrorInfo einfo;
  int rc = onig_new(&re, (const OnigUChar *)src,
                    (const OnigUChar *)src + strlen(src),
                    icase ? ONIG_OPTION_IGNORECASE : ONIG_OPTION_NONE,
                    ONIG_ENCODING_UTF8, ONIG_SYNTAX_PERL_NG, &einfo);
  if(rc != ONIG_NORMAL) {
    OnigUChar msg[ONIG_MAX_ERROR_MESSAGE_LEN];
    onig_error_code_to_str(msg, rc, &einfo);
    snprintf(err, errlen, "bad regex \"%s\": %s", src, (char *)msg);
    return NULL;
  }
  return re;
}

/* Search re in s; returns the match offset or -1, its length in *mlen. */
static long regex_find(OnigRegex re, const char *s, size_t n, size_t *mlen)
{
  const OnigUChar *b = (const OnigUChar *)s, *e = b + n;
  OnigRegion *reg = onig_region_new();
  long at = -1;
  if(!reg)
    return -1;
  if(onig_search(re, b, e, b, e, reg, ONIG_OPTION_NONE) >= 0) {
    at = reg->beg[0];
    if(mlen)
      *mlen = (size_t)(reg->end[0] - reg->beg[0]);
  }
  onig_region_free(reg, 1);
  return at;
}

/* Borrows body.  New ref: the answer text of choices[0] (a string; parts
 * of an array content are joined), or jv_null() when there is none. */
static jv answer_text(jv body)
{
  static const char *const path[] = {"message", "content", NULL};
  jv choices = jget(body, "choices"), first, content, text;
  if(jv_get_kind(choices) != JV_KIND_ARRAY ||
     !jv_array_length(jv_copy(choices))) {
    jv_free(choices);
    return jv_null();
  }
  first = jv_array_get(choices, 0);
  content = json_path(first, path);
  jv_free(first);
  if(jv_get_kind(content) == JV_KIND_STRING ||
     jv_get_kind(content) != JV_KIND_ARRAY)
    return content;
  text = jv_string("");
  jv_array_foreach(content, i, part) {
    jv t = jget(part, "text");
    (void)i;
    if(jv_get_kind(t) == JV_KIND_STRING)
      text = jv_string_concat(text, t);
    else
      jv_free(t);
    jv_free(part);
  }
  jv_free(content);
  return text;
}

/* Borrows body.  New ref of body.choices[0][key]. */
static jv first_choice(jv body, const char *key)
{
  jv choices = jget(body, "choices"), first, v;
  if(jv_get_kind(choices) != JV_KIND_ARRAY ||
     !jv_array_length(jv_copy(choices))) {
    jv_free(choices);
    return jv_null();
  }
  first = jv_array_get(choices, 0);
  v = jget(first, key);
  jv_free(first);
  return v;
}

/* 1 when s holds only white space. */
static int blank(const char *s)
{
  for(; *s; s++)
    if(!isspace((unsigned char)*s))
      return 0;
  return 1;
}

/* Borrows catalog.  The tier of model name in the catalog, or 0. */
static long model_tier(jv catalog, const char *name)
{
  static const char *const path[] = {"models", NULL};
  jv models = json_path(catalog, path), m, t;
  long tier = 0;
  m = jget(models, name);
  t = jget(m, "tier");
  if(jv_get_kind(t) == JV_KIND_NUMBER)
    tier = (long)jv_number_value(t);
  jv_free(models);
  jv_free(m);
  jv_free(t);
  return tier;
}

/* ---------------------------------------------------------------------
 * Schemas from the request, compiled once per distinct schema
 */

/* Borrows doc.  The compiled schema for doc from the cache, compiling it
 * on a miss; NULL with a message in err when doc is not a schema.  The
 * cache owns the result. */
static struct schema *schema_for(struct validate *v, jv doc, char *err,
                                 size_t errlen)
{
  jv key = jv_dump_string(jv_copy(doc), JV_PRINT_SORTED);
  const char *k = jv_string_value(key);
  struct cache_ent *e;
  struct schema *s;
  int i;
  for(i = 0; i < CACHE_SIZE; i++)
    if(v->cache[i].key && !strcmp(v->cache[i].key, k)) {
      jv_free(key);
      return v->cache[i].schema;
    }
  s = schema_compile(jv_copy(doc), err, errlen);
  if(!s) {
    jv_free(key);
    return NULL;
  }
  e = &v->cache[v->cache_next];
  v->cache_next = (v->cache_next + 1) % CACHE_SIZE;
  free(e->key);
  schema_free(e->schema);
  e->key = strdup(k);
  e->schema = s;
  jv_free(key);
  if(!e->key) {
    e->schema = NULL;
    schema_free(s);
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  return s;
}

/* ---------------------------------------------------------------------
 * The checks
 */

/* Where the request carries its checks. */
static const char *const rf_type[] = {"body", "response_format", "type",
                                      NULL};
static const char *const rf_schema[] = {
  "body", "response_format", "json_schema", "schema", NULL};
static const char *const rt_schema[] = {"routing", "schema", NULL};
static const char *const rt_expect[] = {"routing", "expect", NULL};

/* Result of the checks on one answer. */
enum outcome { ANSWER_VALID = 0, ANSWER_INVALID, REQUEST_BAD };

/* Borrows doc and inst.  Check the parsed answer against one schema. */
static enum outcome check_schema(struct validate *v, jv doc, jv inst,
                                 const char *origin, char *reason)
{
  char msg[REASON_LEN - 16];
  struct schema *s = schema_for(v, doc, msg, sizeof(msg));
  if(!s) {
    snprintf(reason, REASON_LEN, "%.60s is not a valid schema: %.400s", origin,
             msg);
    return REQUEST_BAD;
  }
  if(schema_check(s, inst, msg, sizeof(msg)))
    return ANSWER_VALID;
  snprintf(reason, REASON_LEN, "schema: %s", msg);
  return ANSWER_INVALID;
}

/* Borrows text.  routing.expect: one string (or "re:REGEX"). */
static enum outcome check_expect_one(jv want, const char *text,
                                     char *reason)
{
  const char *w = jv_string_value(want);
  char err[256];
  if(!strncmp(w, "re:", 3)) {
    OnigRegex re = regex_new(w + 3, 0, err, sizeof(err));
    long at;
    if(!re) {
      snprintf(reason, REASON_LEN, "routing.expect: %s", err);
      return REQUEST_BAD;
    }
    at = regex_find(re, text, strlen(text), NULL);
    onig_free(re);
    if(at < 0) {
      snprintf(reason, REASON_LEN, "expect: answer does not match /%.200s/",
               w + 3);
      return ANSWER_INVALID;
    }
    return ANSWER_VALID;
  }
  if(!strstr(text, w)) {
    snprintf(reason, REASON_LEN, "expect: answer does not contain "
             "\"%.200s\"", w);
    return ANSWER_INVALID;
  }
  return ANSWER_VALID;
}

/* Borrows expect.  REQUEST_BAD (reason set) unless it is a string or an
 * array of strings whose "re:" patterns all compile. */
static enum outcome expect_sound(jv expect, char *reason)
{
  enum outcome o = ANSWER_VALID;
  jv all = jv_get_kind(expect) == JV_KIND_ARRAY
               ? jv_copy(expect)
               : jv_array_append(jv_array(), jv_copy(expect));
  jv_array_foreach(all, i, w) {
    (void)i;
    if(o == ANSWER_VALID && jv_get_kind(w) != JV_KIND_STRING) {
      snprintf(reason, REASON_LEN, "routing.expect must be a string or an "
               "array of strings");
      o = REQUEST_BAD;
    }
    else if(o == ANSWER_VALID && !strncmp(jv_string_value(w), "re:", 3)) {
      char err[256];
      OnigRegex re = regex_new(jv_string_value(w) + 3, 0, err, sizeof(err));
      if(re)
        onig_free(re);
      else {
        snprintf(reason, REASON_LEN, "routing.expect: %s", err);
        o = REQUEST_BAD;
      }
    }
    jv_free(w);
  }
  jv_free(all);
  return o;
}

/* Borrows expect.  A string, or an array of strings that must all hold. */
static enum outcome check_expect(jv expect, const char *text, char *reason)
{
  enum outcome o = ANSWER_VALID;
  if(jv_get_kind(expect) == JV_KIND_STRING)
    return check_expect_one(expect, text, reason);
  if(jv_get_kind(expect) != JV_KIND_ARRAY) {
    snprintf(reason, REASON_LEN, "routing.expect must be a string or an "
             "array of strings");
    return REQUEST_BAD;
  }
  jv_array_foreach(expect, i, w) {
    (void)i;
    if(o == ANSWER_VALID) {
      if(jv_get_kind(w) == JV_KIND_STRING)
        o = check_expect_one(w, text, reason);
      else {
        snprintf(reason, REASON_LEN, "routing.expect must be a string or "
                 "an array of strings");
        o = REQUEST_BAD;
      }
    }
    jv_free(w);
  }
  return o;
}

/* require_tier: when the request is big or complex, the tier of the
 * model that answered must be at least v->require_tier. */
static enum outcome check_tier(struct validate *v, jv req, jv route,
                               char *reason)
{
  char why[96] = "";
  jv last, model, attempts;
  long tier = 0;
  if(v->require_tier <= 0 ||
     !proxy_fires(&v->proxy, v->host, req, route, why, sizeof(why)))
    return ANSWER_VALID;
  attempts = jget(route, "attempts");
  last = jv_null();
  if(jv_get_kind(attempts) == JV_KIND_ARRAY) {
    int n = jv_array_length(jv_copy(attempts));
    if(n > 0) {
      jv_free(last);
      last = jv_array_get(jv_copy(attempts), n - 1);
    }
  }
  model = jget(last, "model");
  if(jv_get_kind(model) == JV_KIND_STRING)
    tier = model_tier(v->catalog, jv_string_value(model));
  jv_free(model);
  jv_free(last);
  jv_free(attempts);
  if(!tier) {
    jv t = jget(route, "tier");
    if(jv_get_kind(t) == JV_KIND_NUMBER)
      tier = (long)jv_number_value(t);
    jv_free(t);
  }
  if(tier >= v->require_tier)
    return ANSWER_VALID;
  snprintf(reason, REASON_LEN, "tier: %s needs tier >= %ld, got tier %ld",
           why, v->require_tier, tier);
  return ANSWER_INVALID;
}

/* Borrows body.  check=: the jq predicate must yield true. */
static enum outcome check_jq(struct validate *v, jv body, char *reason)
{
  jv r = v->host->jq_run(v->check, jv_copy(body)), m, s;
  if(jv_get_kind(r) == JV_KIND_TRUE) {
    jv_free(r);
    return ANSWER_VALID;
  }
  if(jv_get_kind(r) != JV_KIND_INVALID || !jv_invalid_has_msg(jv_copy(r))) {
    jv_free(r);
    snprintf(reason, REASON_LEN, "check: %.300s is not true", v->check_src);
    return ANSWER_INVALID;
  }
  m = jv_invalid_get_msg(r);
  s = jv_get_kind(m) == JV_KIND_STRING ? jv_copy(m)
                                       : jv_dump_string(jv_copy(m), 0);
  snprintf(reason, REASON_LEN, "check: error: %.300s", jv_string_value(s));
  jv_free(s);
  jv_free(m);
  return ANSWER_INVALID;
}

/* Borrows all.  Runs every check on one answer; the first failure's
 * reason goes to reason. */
/* Borrows route.  Invalid when route.agreement says the partner gave
 * another short answer than the model whose answer this is (a record of
 * an earlier pass, before an escalation, is about another answer). */
static enum outcome check_agreement(jv route, char *reason)
{
  jv a = jget(route, "agreement"), ok = jget(a, "agree");
  jv models = jget(a, "models"), model = jget(route, "model");
  jv m0 = jv_get_kind(models) == JV_KIND_ARRAY
          ? jv_array_get(jv_copy(models), 0) : jv_null();
  enum outcome o = ANSWER_VALID;

  if(jv_get_kind(ok) == JV_KIND_FALSE && jv_equal(jv_copy(m0),
                                                  jv_copy(model))) {
    jv answers = jget(a, "answers");
    int arr = jv_get_kind(answers) == JV_KIND_ARRAY;
    jv m1 = jv_array_get(jv_copy(models), 1);
    jv a0 = arr ? jv_array_get(jv_copy(answers), 0) : jv_null();
    jv a1 = arr ? jv_array_get(jv_copy(answers), 1) : jv_null();
    if(jv_get_kind(m0) == JV_KIND_STRING && jv_get_kind(m1) ==
       JV_KIND_STRING && jv_get_kind(a0) == JV_KIND_STRING &&
       jv_get_kind(a1) == JV_KIND_STRING)
      snprintf(reason, REASON_LEN, "disagreement: %.100s answered %.40s, "
               "%.100s answered %.40s", jv_string_value(m0),
               jv_string_value(a0), jv_string_value(m1),
               jv_string_value(a1));
    else
      snprintf(reason, REASON_LEN, "disagreement with the agreement "
               "partner");
    o = ANSWER_INVALID;
    jv_free(m1);
    jv_free(a0);
    jv_free(a1);
    jv_free(answers);
  }
  jv_free(m0);
  jv_free(models);
  jv_free(model);
  jv_free(ok);
  jv_free(a);
  return o;
}

static enum outcome check_answer(struct validate *v, jv req, jv route,
                                 jv body, char *reason)
{
  enum outcome o = ANSWER_VALID;
  jv text = answer_text(body), finish = first_choice(body, "finish_reason");
  jv msg = first_choice(body, "message"), tools = jget(msg, "tool_calls");
  jv refusal = jget(msg, "refusal"), rftype = json_path(req, rf_type);
  jv s1 = json_path(req, rf_schema), s2 = json_path(req, rt_schema);
  jv expect = json_path(req, rt_expect), inst = jv_invalid();
  int has_tools = jv_get_kind(tools) == JV_KIND_ARRAY &&
                  jv_array_length(jv_copy(tools)) > 0;
  int has_text = jv_get_kind(text) == JV_KIND_STRING &&
                 !blank(jv_string_value(text));
  int want_json = v->json_mode;
  const char *t = has_text ? jv_string_value(text) : "";

  if(want_json < 0)
    want_json = (jv_get_kind(rftype) == JV_KIND_STRING &&
                 (!strcmp(jv_string_value(rftype), "json_object") ||
                  !strcmp(jv_string_value(rftype), "json_schema"))) ||
                jv_get_kind(s1) != JV_KIND_NULL ||
                jv_get_kind(s2) != JV_KIND_NULL || v->file_schema;

  if(jv_get_kind(finish) == JV_KIND_STRING &&
     !strcmp(jv_string_value(finish), "length")) {
    snprintf(reason, REASON_LEN, "truncated: finish_reason length");
    o = ANSWER_INVALID;
  }
  else if(!has_text && !has_tools) {
    snprintf(reason, REASON_LEN, "empty: no answer text");
    o = ANSWER_INVALID;
  }
  else if(jv_get_kind(refusal) == JV_KIND_STRING) {
    snprintf(reason, REASON_LEN, "refusal: %.200s",
             jv_string_value(refusal));
    o = ANSWER_INVALID;
  }
  else if(v->refusal && has_text) {
    size_t mlen = 0;
    long at = regex_find(v->refusal, t, strlen(t), &mlen);
    if(at >= 0) {
      snprintf(reason, REASON_LEN, "refusal: \"%.*s\"",
               (int)(mlen > 200 ? 200 : mlen), t + at);
      o = ANSWER_INVALID;
    }
  }
  if(o == ANSWER_VALID && want_json && has_text) {
    inst = v->host->json_parse(t, strlen(t));
    if(!jv_is_valid(inst)) {
      jv m = jv_invalid_get_msg(jv_copy(inst));
      const char *lead = t + strspn(t, " \t\r\n");
      if(!strncmp(lead, "```", 3)) /* the usual cheap-model habit */
        snprintf(reason, REASON_LEN, "json: wrapped in a ``` code fence");
      else
        snprintf(reason, REASON_LEN, "json: %.300s",
                 jv_get_kind(m) == JV_KIND_STRING ? jv_string_value(m)
                                                  : "not JSON");
      jv_free(m);
      o = ANSWER_INVALID;
    }
  }
  if(o == ANSWER_VALID && jv_is_valid(inst)) {
    if(jv_get_kind(s1) != JV_KIND_NULL)
      o = check_schema(v, s1, inst, "response_format.json_schema.schema",
                       reason);
    if(o == ANSWER_VALID && jv_get_kind(s2) != JV_KIND_NULL)
      o = check_schema(v, s2, inst, "routing.schema", reason);
    if(o == ANSWER_VALID && v->file_schema) {
      char m[REASON_LEN - 16];
      if(!schema_check(v->file_schema, inst, m, sizeof(m))) {
        snprintf(reason, REASON_LEN, "schema: %s", m);
        o = ANSWER_INVALID;
      }
    }
  }
  if(o == ANSWER_VALID && jv_get_kind(expect) != JV_KIND_NULL)
    o = check_expect(expect, t, reason);
  if(o == ANSWER_VALID && v->check)
    o = check_jq(v, body, reason);
  if(o == ANSWER_VALID)
    o = check_tier(v, req, route, reason);
  if(o == ANSWER_VALID && v->agreement)
    o = check_agreement(route, reason);

  jv_free(text);
  jv_free(finish);
  jv_free(msg);
  jv_free(tools);
  jv_free(refusal);
  jv_free(rftype);
  jv_free(s1);
  jv_free(s2);
  jv_free(expect);
  jv_free(inst);
  return o;
}

/* Consumes route.  Returns it with valid/reason set on the last attempt
 * (an attempt is added when there is none). */
static jv mark_attempt(jv route, int valid, const char *reason)
{
  jv attempts = jget(route, "attempts"), last;
  int n;
  if(jv_get_kind(attempts) != JV_KIND_ARRAY) {
    jv_free(attempts);
    attempts = jv_array();
  }
  n = jv_array_length(jv_copy(attempts));
  if(!n) {
    jv model = jget(route, "model");
    last = jv_object_set(jv_object(), jv_string("model"), model);
    n = 1;
  }
  else
    last = jv_array_get(jv_copy(attempts), n - 1);
  if(jv_get_kind(last) != JV_KIND_OBJECT) {
    jv_free(last);
    last = jv_object();
  }
  last = jv_object_set(last, jv_string("valid"), jv_bool(valid));
  last = jv_object_set(last, jv_string("reason"),
                       valid ? jv_null() : jv_string(reason));
  attempts = jv_array_set(attempts, n - 1, last);
  if(jv_get_kind(route) != JV_KIND_OBJECT) {
    jv_free(route);
    route = jv_object();
  }
  return jv_object_set(route, jv_string("attempts"), attempts);
}

/* ---------------------------------------------------------------------
 * The answer checker (ABI 1.2): the same checks, asked for by a stage
 * upstream (call, choosing between the two answers of a hedge) through
 * host->check_answer().  It only looks; the job is marked when it gets
 * here.
 */
static enum llmr_answer validate_check(void *self, struct llmr_job *job,
                                       jv response, char *reason,
                                       size_t len)
{
  struct validate *v = self;
  const struct llmr_host *h = v->host;
  char why[REASON_LEN] = "";
  enum outcome o;
  jv req, route;
  if(jv_get_kind(response) != JV_KIND_OBJECT) {
    snprintf(reason, len, "no answer to check");
    return LLMR_ANSWER_UNKNOWN;
  }
  req = h->request(job);
  route = h->route(job);
  o = check_answer(v, req, route, response, why);
  jv_free(req);
  jv_free(route);
  if(o == ANSWER_VALID)
    return LLMR_ANSWER_VALID;
  snprintf(reason, len, "%s", why);
  return o == ANSWER_INVALID ? LLMR_ANSWER_INVALID : LLMR_ANSWER_UNKNOWN;
}

/* ---------------------------------------------------------------------
 * The request checker (ABI 1.5): the checks the request carries, judged
 * before call pays for an answer, so a broken schema or pattern fails
 * the job as invalid_schema with nothing sent.  Compiled schemas go to
 * the cache the answer checks use.
 */
static const char *validate_check_request(void *self, struct llmr_job *job,
                                          char *reason, size_t len)
{
  struct validate *v = self;
  jv req = v->host->request(job);
  jv s1 = json_path(req, rf_schema), s2 = json_path(req, rt_schema);
  jv expect = json_path(req, rt_expect);
  char why[REASON_LEN] = "", msg[REASON_LEN - 16];
  enum outcome o = ANSWER_VALID;

  if(jv_get_kind(s1) != JV_KIND_NULL && !schema_for(v, s1, msg, sizeof(msg))) {
    snprintf(why, sizeof(why), "response_format.json_schema.schema is not "
             "a valid schema: %.400s", msg);
    o = REQUEST_BAD;
  }
  else if(jv_get_kind(s2) != JV_KIND_NULL &&
          !schema_for(v, s2, msg, sizeof(msg))) {
    snprintf(why, sizeof(why), "routing.schema is not a valid schema: "
             "%.400s", msg);
    o = REQUEST_BAD;
  }
  else if(jv_get_kind(expect) != JV_KIND_NULL)
    o = expect_sound(expect, why);
  jv_free(s1);
  jv_free(s2);
  jv_free(expect);
  jv_free(req);
  if(o != REQUEST_BAD)
    return NULL;
  snprintf(reason, len, "%s", why);
  return "invalid_schema";
}

/* ---------------------------------------------------------------------
 * The stage
 */

static enum llmr_verdict validate_process(void *self, struct llmr_job *job)
{
  struct validate *v = self;
  const struct llmr_host *h = v->host;
  jv body = h->response(job), req, route, review;
  char reason[REASON_LEN] = "";
  enum outcome o;
  if(jv_get_kind(body) == JV_KIND_NULL || !jv_is_valid(body)) {
    jv_free(body);
    return LLMR_NEXT;
  }
  req = h->request(job);
  route = h->route(job);
  o = check_answer(v, req, route, body, reason);
  jv_free(req);
  jv_free(body);
  if(o == REQUEST_BAD) {
    jv_free(route);
    h->set_error(job, "invalid_schema", "%s", reason);
    return LLMR_FAIL;
  }
  if(o == ANSWER_INVALID)
    h->log(job, LLMR_LOG_INFO, "invalid answer: %s", reason);
  route = mark_attempt(route, o == ANSWER_VALID, reason);
  review = jget(route, "review");
  route = jv_object_set(route, jv_string("review"),
                        jv_bool(jv_get_kind(review) == JV_KIND_TRUE ||
                                (v->sample > 0 &&
                                 sample_pick(h->custom_id(job), v->sample))));
  jv_free(review);
  h->set_route(job, route);
  return LLMR_NEXT;
}

/* Free the stage instance (also after a failed init); accepts NULL. */
static void validate_finish(void *self)
{
  struct validate *v = self;
  int i;
  if(!v)
    return;
  schema_free(v->file_schema);
  v->host->jq_free(v->check);
  free(v->check_src);
  if(v->refusal)
    onig_free(v->refusal);
  for(i = 0; i < CACHE_SIZE; i++) {
    free(v->cache[i].key);
    schema_free(v->cache[i].schema);
  }
  proxy_free(&v->proxy);
  jv_free(v->catalog);
  free(v);
}

/* Reads the schema file path into a compiled schema; NULL and a message
 * in err. */
static struct schema *load_schema_file(const struct llmr_host *host,
                                       const char *path, char *err,
                                       size_t errlen)
{
  jv doc = jv_load_file(path, 1);
  char msg[400];
  struct schema *s;
  if(!jv_is_valid(doc)) {
    jv m = jv_invalid_get_msg(doc);
    snprintf(err, errlen, "schema=%s: %s", path,
             jv_get_kind(m) == JV_KIND_STRING ? jv_string_value(m)
                                              : "cannot read");
    jv_free(m);
    return NULL;
  }
  /* jv_load_file(raw=0) would give an array of every value: we read raw
   * text and parse it, so a file holding two values is refused. */
  {
    jv text = doc;
    doc = host->json_parse_strict(jv_string_value(text),
                                  (size_t)jv_string_length_bytes(
                                      jv_copy(text)));
    jv_free(text);
  }
  if(!jv_is_valid(doc)) {
    jv m = jv_invalid_get_msg(doc);
    snprintf(err, errlen, "schema=%s: %s", path,
             jv_get_kind(m) == JV_KIND_STRING ? jv_string_value(m)
                                              : "not JSON");
    jv_free(m);
    return NULL;
  }
  s = schema_compile(doc, msg, sizeof(msg));
  if(!s)
    snprintf(err, errlen, "schema=%s: %s", path, msg);
  return s;
}

/* Read and check the options; compile schema=, check=, refusal=. */
static int validate_init(const struct llmr_host *host,
                         const struct llmr_config *cf, void **self)
{
  struct validate *v = calloc(1, sizeof(*v));
  const struct llmr_value *o;
  char err[600];
  if(!v) {
    host->config_error(cf, "out of memory");
    return LLMR_ERR;
  }
  v->host = host;
  v->catalog = host->catalog();

  o = host->opt(cf, "schema");
  if(o && o->str && *o->str) {
    v->file_schema = load_schema_file(host, o->str, err, sizeof(err));
    if(!v->file_schema) {
      host->config_error(cf, "%s", err);
      goto fail;
    }
  }
  o = host->opt(cf, "json");
  if(!o || !o->str || !strcmp(o->str, "auto"))
    v->json_mode = -1;
  else if(!strcmp(o->str, "true"))
    v->json_mode = 1;
  else if(!strcmp(o->str, "false"))
    v->json_mode = 0;
  else {
    host->config_error(cf, "json=%s: expected auto, true or false", o->str);
    goto fail;
  }
  o = host->opt(cf, "check");
  if(o && o->str && *o->str) {
    char *msg = NULL;
    v->check = host->jq_compile(o->str, &msg);
    if(!v->check) {
      host->config_error(cf, "check=%s: %s", o->str,
                         msg ? msg : "does not compile");
      free(msg);
      goto fail;
    }
    v->check_src = strdup(o->str);
    if(!v->check_src) {
      host->config_error(cf, "out of memory");
      goto fail;
    }
  }
  o = host->opt(cf, "refusal");
  if(o && o->str && *o->str) {
    v->refusal = regex_new(o->str, 1, err, sizeof(err));
    if(!v->refusal) {
      host->config_error(cf, "refusal: %s", err);
      goto fail;
    }
  }
  o = host->opt(cf, "require_tier");
  v->require_tier = o ? (long)o->i : 0;
  if(proxy_init(&v->proxy, host, cf))
    goto fail;
  if(v->require_tier > 0 && !proxy_configured(&v->proxy)) {
    host->config_error(cf, "require_tier needs when_complexity=, "
                           "when_tokens= or when_pattern=");
    goto fail;
  }
  v->agreement = (int)host->opt(cf, "agreement")->i;
  o = host->opt(cf, "sample");
  v->sample = o ? o->d : 0;
  if(v->sample < 0 || v->sample > 1) {
    host->config_error(cf, "sample=%s: expected a fraction from 0 to 1",
                       o->str);
    goto fail;
  }
  if(host->set_answer_check(cf, validate_check, v) != LLMR_OK ||
     host->set_request_check(cf, validate_check_request, v) != LLMR_OK) {
    host->config_error(cf, "cannot register the answer checkers");
    goto fail;
  }
  *self = v;
  return LLMR_OK;
fail:
  validate_finish(v);
  return LLMR_ERR;
}

static const struct llmr_stage validate_stage = {
  LLMR_STAGE_VERSION,
  .name = "validate",
  .version = VALIDATE_VERSION,
  .description =
      "structural checks of every answer: schema, JSON, refusal, expect, jq",
  .options = options,
  .init = validate_init,
  .process = validate_process,
  .finish = validate_finish
};

LLMR_EXPORT const struct llmr_stage *llmr_stage_entry(unsigned host_major,
                                                     unsigned host_minor)
{
  (void)host_minor;
  if(host_major != LLMR_ABI_MAJOR)
    return NULL;
  return &validate_stage;
}
