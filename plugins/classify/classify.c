/*
 * classify.c - the classify stage: label each request with a task and a
 * complexity in [0, 1], written to the route record:
 *
 *   "task": "coding", "complexity": 0.42, "task_source": "rules"
 *
 * Options (pipeline file):
 *   rules=FILE   a rules file (format in rules.h); default the shipped
 *                tasks.rules
 *   model=FILE   a model written by `llmroute train` (textfeat.h);
 *                default the shipped classifier.model
 *   mode=auto|rules|model|both
 *                auto (default) and both: the rules, then the model;
 *                rules / model: only that one (the other is off)
 * A relative FILE resolves against the pipeline's folder, then the
 * shipped pipelines folder, so `classify` alone, or naming one file, works
 * from a pipeline anywhere.
 *   override=N   (both) a rule of priority >= N (default 90) decides
 *                before the model is asked
 *   min_confidence=P  (both) the model's label is used when its
 *                probability (softmax) is at least P (default 0.4);
 *                below it a weaker matching rule decides, and without
 *                one the model's label stands
 *   default=TASK the task when nothing decides (default "chat"): with
 *                rules only, when no rule matches
 *
 * task_source tells who decided: "hint" (the request's routing.task, which
 * skips classification), "rules", "model" or "default".  The complexity
 * always comes from the prompt's signals and the task (textfeat.c
 * documents the formula).
 *
 * Cost per request: one copy of at most TF_TEXT_MAX bytes of prompt text,
 * one tokenizing pass, a hash lookup per token for keywords, the regex
 * rules that could still win, and one weight-row add per feature for the
 * model.  No allocation except the jv updates of the route record.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "llmroute.h"
#include "core/lib/textfeat.h"
#include "core/lib/jvfast.h"
#include "rules.h"

enum mode { MODE_AUTO = 0, MODE_RULES, MODE_MODEL, MODE_BOTH };

struct classify {
  const struct llmr_host *host;
  struct rules *rules;
  struct tf_model *model;
  enum mode mode;
  int override;
  double min_conf;
  char deflt[TF_LABEL_MAX];
  jv k_task, k_complexity, k_source, k_routing; /* keys, made once */
  jv src_hint, src_rules, src_model, src_default;
};

static const struct llmr_option options[] = {
  {"rules", LLMR_OPT_PATH, "tasks.rules", 0,
   "rules file (TASK PRIORITY KIND: PATTERN)"},
  {"model", LLMR_OPT_PATH, "classifier.model", 0,
   "model file from `llmroute train`"},
  {"mode", LLMR_OPT_STRING, "auto", 0,
   "auto or both (rules, then the model), rules or model (only that one)"},
  {"override", LLMR_OPT_INT, "90", 0,
   "mode both: rules of this priority or more decide before the model"},
  {"min_confidence", LLMR_OPT_DOUBLE, "0.4", 0,
   "mode both: below this probability a weaker rule beats the model"},
  {"default", LLMR_OPT_STRING, "chat", 0, "task when nothing decides"},
  {NULL, LLMR_OPT_STRING, NULL, 0, NULL}};

/* ---------------------------------------------------------------------
 * Setup
 */

/* Accepts NULL. */
static void classify_finish(void *self)
{
  struct classify *c = self;
  if(!c)
    return;
  rules_free(c->rules);
  tf_model_free(c->model);
  jvf_free(c->k_task);
  jvf_free(c->k_complexity);
  jvf_free(c->k_source);
  jvf_free(c->k_routing);
  jvf_free(c->src_hint);
  jvf_free(c->src_rules);
  jvf_free(c->src_model);
  jvf_free(c->src_default);
  free(c);
  tf_release();
}

/* Borrows host and cf; *self gets the new instance.  LLMR_OK or LLMR_ERR
 * after reporting the problem. */
static int classify_init(const struct llmr_host *host,
                         const struct llmr_config *cf, void **self)
{
  struct classify *c = calloc(1, sizeof(*c));
  const struct llmr_value *rules = host->opt(cf, "rules");
  const struct llmr_value *model = host->opt(cf, "model");
  const char *mode = host->opt(cf, "mode")->str;
  const char *deflt = host->opt(cf, "default")->str;
  char err[512];
  if(!c) {
    host->config_error(cf, "out of memory");
    return LLMR_ERR;
  }
  c->host = host;
  c->k_task = jv_string("task");
  c->k_complexity = jv_string("complexity");
  c->k_source = jv_string("task_source");
  c->k_routing = jv_string("routing");
  c->src_hint = jv_string("hint");
  c->src_rules = jv_string("rules");
  c->src_model = jv_string("model");
  c->src_default = jv_string("default");
  c->min_conf = host->opt(cf, "min_confidence")->d;
  c->override = (int)host->opt(cf, "override")->i;
  if(!mode || !strcmp(mode, "auto"))
    c->mode = MODE_AUTO;
  else if(!strcmp(mode, "rules"))
    c->mode = MODE_RULES;
  else if(!strcmp(mode, "model"))
    c->mode = MODE_MODEL;
  else if(!strcmp(mode, "both"))
    c->mode = MODE_BOTH;
  else {
    host->config_error(cf, "bad mode '%s' (auto, rules, model "
                       "or both)", mode);
    goto fail;
  }
  if(!deflt || !*deflt || strlen(deflt) >= TF_LABEL_MAX) {
    host->config_error(cf, "bad default task");
    goto fail;
  }
  strcpy(c->deflt, deflt);
  if(c->min_conf < 0 || c->min_conf > 1) {
    host->config_error(cf, "min_confidence must be in [0, 1]");
    goto fail;
  }
  if(c->mode == MODE_AUTO)
    c->mode = MODE_BOTH;
  if(c->mode == MODE_RULES && model->set)
    host->log(NULL, LLMR_LOG_WARN, "%s:%d: mode=rules: model=%s is not "
              "used", cf->file, cf->line, model->str);
  if(c->mode == MODE_MODEL && rules->set)
    host->log(NULL, LLMR_LOG_WARN, "%s:%d: mode=model: rules=%s is not "
              "used", cf->file, cf->line, rules->str);
  if(c->mode != MODE_MODEL) {
    char *msg = NULL;
    c->rules = rules_load(rules->str, host, &msg);
    if(!c->rules) {
      /* the message names the rules file and its line */
      host->log(NULL, LLMR_LOG_ERROR, "%s", msg ? msg : "out of memory");
      host->config_error(cf, "bad rules file %s", rules->str);
      free(msg);
      goto fail;
    }
  }
  if(c->mode != MODE_RULES) {
    c->model = tf_model_load(model->str, err, sizeof(err));
    if(!c->model) {
      host->log(NULL, LLMR_LOG_ERROR, "%s", err);
      host->config_error(cf, "bad model file %s", model->str);
      goto fail;
    }
  }
  *self = c;
  return LLMR_OK;
fail:
  classify_finish(c);
  return LLMR_ERR;
}

/* ---------------------------------------------------------------------
 * Per request
 */

/* Borrows c and req.  New ref: req.routing.task when a non-empty string,
 * else jv_invalid(). */
static jv task_hint(const struct classify *c, jv req)
{
  jv routing, task;
  if(jv_get_kind(req) != JV_KIND_OBJECT)
    return jv_invalid();
  routing = jv_object_get(jvf_copy(req), jvf_copy(c->k_routing));
  if(jv_get_kind(routing) != JV_KIND_OBJECT) {
    jvf_free(routing);
    return jv_invalid();
  }
  task = jv_object_get(routing, jvf_copy(c->k_task));
  if(jv_get_kind(task) != JV_KIND_STRING ||
     !jv_string_length_bytes(jvf_copy(task))) {
    jvf_free(task);
    return jv_invalid();
  }
  return task;
}

/* Borrows c and req (jq rules look at it).  Decides the task of a prompt:
 * the label (owned by c) and who decided it (*source, borrowed). */
static const char *decide(const struct classify *c, const char *text,
                          size_t len, const struct tf_token *toks,
                          size_t ntok, const struct tf_signals *sig,
                          jv req, jv *source)
{
  const char *rule = NULL;
  if(c->rules) {
    /* with a model, only the strong rules go first (keywords are cheap;
       weak regex rules run only when the model is unsure) */
    rule = rules_match(c->rules, text, len, toks, ntok, req,
                       c->model ? c->override : 0, NULL);
    if(rule) {
      *source = c->src_rules;
      return rule;
    }
  }
  if(c->model) {
    uint32_t feats[TF_MAX_FEATS];
    double probs[TF_MAX_LABELS];
    size_t nf = tf_features(text, toks, ntok, sig, c->model->families,
                            c->model->bits, feats, TF_MAX_FEATS);
    int best = tf_model_predict(c->model, feats, nf,
                                c->min_conf > 0 ? probs : NULL);
    if(c->rules && c->min_conf > 0 && probs[best] < c->min_conf) {
      rule = rules_match(c->rules, text, len, toks, ntok, req, 0, NULL);
      if(rule) {
        *source = c->src_rules;
        return rule;
      }
    }
    *source = c->src_model;
    return c->model->labels[best];
  }
  *source = c->src_default;
  return c->deflt;
}

static double round2(double x)
{
  return floor(x * 100.0 + 0.5) / 100.0;
}

/* Borrows self; updates the job's route record. */
static enum llmr_verdict classify_process(void *self, struct llmr_job *job)
{
  struct classify *c = self;
  const struct llmr_host *host = c->host;
  char text[TF_TEXT_MAX];
  struct tf_token toks[TF_MAX_TOKENS];
  struct tf_signals sig;
  struct tf_weights weights;
  size_t len, total, ntok;
  jv req = host->request(job), hint, route, task, source;
  double complexity;
  len = tf_request_text(req, text, sizeof(text), &total);
  ntok = tf_tokenize(text, len, toks, TF_MAX_TOKENS);
  tf_signals(text, len, toks, ntok, total, &sig);
  hint = task_hint(c, req);
  if(jv_is_valid(hint)) {
    task = hint;
    source = c->src_hint;
  }
  else {
    const char *label;
    jvf_free(hint);
    label = decide(c, text, len, toks, ntok, &sig, req, &source);
    task = jv_string(label);
  }
  tf_task_weights(jv_string_value(task), &weights);
  complexity = round2(tf_complexity(&sig, &weights));
  jvf_free(req);
  /* take the record: with the job's reference dropped, the sets below
     change it in place instead of copying it */
  route = host->route(job);
  host->set_route(job, jv_null());
  if(jv_get_kind(route) != JV_KIND_OBJECT) {
    jvf_free(route);
    route = jv_object();
  }
  route = jvf_set(route, jvf_copy(c->k_task), task);
  route = jvf_set(route, jvf_copy(c->k_complexity),
                        jv_number(complexity));
  route = jvf_set(route, jvf_copy(c->k_source), jvf_copy(source));
  host->set_route(job, route);
  return LLMR_NEXT;
}

static const struct llmr_stage stage = {
  LLMR_STAGE_VERSION,
  .name = "classify",
  .version = "0.1.0",
  .description =
      "label each request with a task and a complexity (rules and/or model)",
  .options = options,
  .init = classify_init,
  .process = classify_process,
  .finish = classify_finish
};

/* The plugin's one export. */
LLMR_EXPORT const struct llmr_stage *llmr_stage_entry(unsigned host_major,
                                                     unsigned host_minor)
{
  (void)host_minor;
  if(host_major != LLMR_ABI_MAJOR)
    return NULL;
  return &stage;
}
