/*
 * test_classify.c - the classify stage, its rules file, the shared
 * featurizer (core/textfeat.c) and `llmroute train` (core/train.c).
 *
 * The rules parser is compiled in from plugins/classify/rules.c; the
 * stage itself is loaded from $BUILD/lib/llmroute/classify.so through the
 * mock host (BUILD from the environment, default "build").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "harness.h"
#include "llmroute-mock.h"
#include "core.h"
#include "textfeat.h"
#include "../../plugins/classify/rules.c"

static char tmpdir[256];

static const char *tmp_path(const char *name)
{
  static char buf[4][512];
  static int k;
  k = (k + 1) % 4;
  snprintf(buf[k], sizeof(buf[k]), "%s/%s", tmpdir, name);
  return buf[k];
}

static void write_file(const char *path, const char *text)
{
  FILE *f = fopen(path, "w");
  if(!f)
    return;
  fputs(text, f);
  fclose(f);
}

/* The task rules pick for a prompt (NULL: none). */
static const char *match_text(const struct rules *r, const char *text,
                              int *prio)
{
  struct tf_token toks[TF_MAX_TOKENS];
  size_t n = tf_tokenize(text, strlen(text), toks, TF_MAX_TOKENS);
  return rules_match(r, text, strlen(text), toks, n, jv_null(), 0, prio);
}

/* ---------------------------------------------------------------------
 * Rules
 */

static void test_rules_parse(void)
{
  const char *text =
      "# comment line\n"
      "\n"
      "coding 70 keyword: python, stack trace, c++  # trailing comment\n"
      "summarization 90 regex: ^\\s*summari[sz]e\\b\n"
      "math 60 regex: \\d+\\s*[+*/-]\\s*\\d+\n"
      "chat 60 keyword: hello\n"
      "extraction 99 jq: .body.response_format.type? == \"json_schema\"\n";
  char *err = NULL;
  struct rules *r = rules_parse(text, "t.rules", mock_host(), &err);
  int prio = -1;
  CHECK("rules: parses", r != NULL);
  if(!r) {
    printf("  (%s)\n", err ? err : "?");
    free(err);
    return;
  }
  CHECK_INT("rules: count", rules_count(r), 5);
  CHECK_STR("rules: keyword", match_text(r, "Fix my Python script", &prio),
            "coding");
  CHECK_INT("rules: keyword priority", prio, 70);
  CHECK_STR("rules: phrase across spaces",
            match_text(r, "here is the Stack   Trace", NULL), "coding");
  CHECK("rules: phrase needs whole tokens",
        match_text(r, "stacktraces everywhere", NULL) == NULL);
  CHECK_STR("rules: symbol keyword", match_text(r, "a C++ question", NULL),
            "coding");
  CHECK_STR("rules: regex, case-insensitive",
            match_text(r, "SUMMARIZE this python file", NULL),
            "summarization");
  CHECK_STR("rules: regex on a later line (multiline ^)",
            match_text(r, "context\nSummarise it", NULL), "summarization");
  CHECK_STR("rules: tie goes to the earlier line",
            match_text(r, "hello, what is 2 + 2", NULL), "math");
  CHECK("rules: nothing matches",
        match_text(r, "tell me a joke", NULL) == NULL);
  {
    jv req = jv_parse("{\"body\":{\"messages\":[],\"response_format\":"
                      "{\"type\":\"json_schema\"}}}");
    struct tf_token toks[8];
    const char *t = "python";
    size_t n = tf_tokenize(t, strlen(t), toks, 8);
    CHECK_STR("rules: jq rule on the request",
              rules_match(r, t, strlen(t), toks, n, req, 0, &prio),
              "extraction");
    CHECK_INT("rules: jq priority", prio, 99);
    jv_free(req);
  }
  rules_free(r);
  rules_free(NULL);
}

static void test_rules_opening_and_guard(void)
{
  const char *text =
      "summarization 90 opening: summarize, give me the gist\n"
      "math 50 regex[how many]: \\d+\n"
      "coding 40 regex [code , snippet]: \\bfix\\b\n";
  char *err = NULL;
  struct rules *r = rules_parse(text, "o.rules", mock_host(), &err);
  CHECK("opening: parses", r != NULL);
  if(!r) {
    printf("  (%s)\n", err ? err : "?");
    free(err);
    return;
  }
  CHECK_STR("opening: first word", match_text(r, "Summarize this.", NULL),
            "summarization");
  CHECK_STR("opening: after courtesy words",
            match_text(r, "Could you please summarize the call?", NULL),
            "summarization");
  CHECK_STR("opening: at a later line",
            match_text(r, "You are a helpful bot.\nGive me the gist of it",
                       NULL), "summarization");
  CHECK("opening: not mid-sentence",
        match_text(r, "add a summarize button", NULL) == NULL);
  CHECK("guard: regex skipped without its word",
        match_text(r, "I have 3 apples", NULL) == NULL);
  CHECK_STR("guard: regex runs with its word",
            match_text(r, "how many apples are 3 and 4", NULL), "math");
  CHECK_STR("guard: phrase list with spaces",
            match_text(r, "fix this snippet", NULL), "coding");
  rules_free(r);
}

static void check_rules_error(const char *name, const char *text,
                              const char *want)
{
  char *err = NULL;
  struct rules *r = rules_parse(text, "bad.rules", mock_host(), &err);
  char label[160];
  snprintf(label, sizeof(label), "rules error: %s", name);
  CHECK(label, r == NULL && err && strstr(err, want));
  if(r || !err || !strstr(err, want))
    printf("  (got: %s, want %s)\n", err ? err : "(none)", want);
  rules_free(r);
  free(err);
}

static void test_rules_errors(void)
{
  check_rules_error("bad priority", "# x\ncoding high keyword: x\n",
                    "bad.rules:2: bad priority");
  check_rules_error("priority out of range", "coding 5000 keyword: x\n",
                    "bad.rules:1: bad priority");
  check_rules_error("unknown kind", "\n\ncoding 5 glob: *.py\n",
                    "bad.rules:3: unknown kind 'glob'");
  check_rules_error("no kind", "coding 5 python\n",
                    "bad.rules:1: expected KIND:");
  check_rules_error("bad regex", "math 5 regex: (unclosed\n",
                    "bad.rules:1: bad regex");
  check_rules_error("bad task", "co/ding 5 keyword: x\n",
                    "bad.rules:1: bad task name");
  check_rules_error("empty pattern", "coding 5 keyword:   \n",
                    "bad.rules:1: empty pattern");
  check_rules_error("empty keyword", "coding 5 keyword: a,,b\n",
                    "bad.rules:1: empty keyword");
  check_rules_error("bad jq", "coding 5 jq: .a |||\n",
                    "bad.rules:1: bad jq program");
  check_rules_error("task only", "coding\n", "bad.rules:1: expected");
  check_rules_error("guard on a keyword rule", "coding 5 keyword[x]: y\n",
                    "bad.rules:1: only regex rules take [guard words]");
  check_rules_error("unclosed guard", "coding 5 regex[x: y\n",
                    "bad.rules:1: expected regex[WORD, ...]");
  {
    char *err = NULL;
    struct rules *r = rules_load(tmp_path("missing.rules"), mock_host(),
                                 &err);
    CHECK("rules error: missing file", !r && err &&
          strstr(err, "missing.rules") && strstr(err, "cannot open"));
    free(err);
  }
}

static void test_shipped_rules(void)
{
  char *err = NULL;
  struct rules *r = rules_load("pipelines/tasks.rules", mock_host(), &err);
  CHECK("shipped rules: pipelines/tasks.rules loads", r != NULL);
  if(!r) {
    printf("  (%s)\n", err ? err : "?");
    free(err);
    return;
  }
  CHECK_STR("shipped rules: translation",
            match_text(r, "Translate this paragraph into German.", NULL),
            "translation");
  CHECK_STR("shipped rules: summarization",
            match_text(r, "Summarize the meeting notes below.", NULL),
            "summarization");
  CHECK_STR("shipped rules: coding",
            match_text(r, "Why does my pandas merge drop rows?", NULL),
            "coding");
  rules_free(r);
}

/* ---------------------------------------------------------------------
 * Featurizer
 */

static void test_featurizer(void)
{
  const char *a = "Write a SQL query: SELECT id FROM users WHERE age > 30;";
  uint32_t f1[TF_MAX_FEATS], f2[TF_MAX_FEATS];
  struct tf_token t1[TF_MAX_TOKENS], t2[TF_MAX_TOKENS];
  size_t n1, n2, k1, k2, i;
  int same = 1, inrange = 1;
  CHECK_INT("textfeat: FNV-1a of \"abc\"", tf_hash("abc", 3), 0x1a47e90bu);
  CHECK("textfeat: hash is case-insensitive",
        tf_hash("Hello", 5) == tf_hash("hELLO", 5));
  k1 = tf_tokenize(a, strlen(a), t1, TF_MAX_TOKENS);
  k2 = tf_tokenize(a, strlen(a), t2, TF_MAX_TOKENS);
  n1 = tf_features(a, t1, k1, NULL, TF_F_DEFAULT, 18, f1, TF_MAX_FEATS);
  n2 = tf_features(a, t2, k2, NULL, TF_F_DEFAULT, 18, f2, TF_MAX_FEATS);
  CHECK("textfeat: tokens found", k1 >= 12);
  CHECK_INT("textfeat: first token is 'write'", t1[0].hash,
            tf_hash("write", 5));
  CHECK_INT("textfeat: ':' is a symbol token", t1[4].kind, TF_SYM);
  CHECK_INT("textfeat: 30 is a number token", t1[k1 - 2].kind, TF_NUM);
  {
    /* numbers hash by their count of digits, 4 and more alike; a word
       may hold digits and '_'; tokens skip every kind of white space */
    static const char nums[] = "7 42\t123\n2024 1,234.5 v2_final\f\v?";
    struct tf_token t[16];
    size_t k = tf_tokenize(nums, strlen(nums), t, 16);
    CHECK_INT("textfeat: number tokens", k, 7);
    CHECK("textfeat: 1, 2, 3, 4+ digits",
          t[0].hash == tf_hash("#1", 2) && t[1].hash == tf_hash("#2", 2) &&
          t[2].hash == tf_hash("#3", 2) && t[3].hash == tf_hash("#4", 2) &&
          t[4].hash == tf_hash("#4", 2) && t[4].len == 7);
    CHECK("textfeat: a word with digits and _", t[5].kind == TF_WORD &&
          t[5].hash == tf_hash("v2_final", 8));
    CHECK("textfeat: the last token is '?'", t[6].kind == TF_SYM &&
          t[6].off == strlen(nums) - 1);
  }
  CHECK("textfeat: same features twice", n1 == n2 && n1 > 20);
  for(i = 0; i < n1 && i < n2; i++) {
    same &= f1[i] == f2[i];
    inrange &= f1[i] < (1u << 18);
  }
  CHECK("textfeat: deterministic ids", same);
  CHECK("textfeat: ids below 2^bits", inrange);
  n2 = tf_features(a, t1, k1, NULL, TF_F_WORDS, 18, f2, TF_MAX_FEATS);
  CHECK_INT("textfeat: words only = one per token", n2, k1);
  CHECK_INT("textfeat: families parse", tf_families_parse("words,char4"),
            TF_F_WORDS | TF_F_CHAR4);
  CHECK_INT("textfeat: unknown family", tf_families_parse("words,bogus"),
            -1);
  {
    char buf[64];
    tf_families_str(TF_F_DEFAULT, buf, sizeof(buf));
    CHECK_INT("textfeat: families round trip", tf_families_parse(buf),
              TF_F_DEFAULT);
  }
}

static void test_request_text(void)
{
  char buf[TF_TEXT_MAX];
  size_t total, len;
  jv req = jv_parse(
      "{\"body\":{\"messages\":[{\"role\":\"system\",\"content\":\"Be brief."
      "\"},{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":"
      "\"first part\"},{\"type\":\"image_url\",\"image_url\":{}},{\"type\":"
      "\"text\",\"text\":\"second\"}]},{\"role\":\"assistant\",\"content\":"
      "\"IGNORED\"}]}}");
  len = tf_request_text(req, buf, sizeof(buf), &total);
  CHECK_STR("text: system + user parts, no assistant", buf,
            "Be brief.\nfirst part\nsecond");
  CHECK_INT("text: length", len, strlen(buf));
  CHECK_INT("text: total", total, len);
  jv_free(req);
  req = jv_parse("{\"prompt\":\"just this\"}");
  tf_request_text(req, buf, sizeof(buf), NULL);
  CHECK_STR("text: prompt shorthand", buf, "just this");
  jv_free(req);
  req = jv_parse("[1,2]");
  CHECK_INT("text: not an object", tf_request_text(req, buf, sizeof(buf),
                                                   &total), 0);
  jv_free(req);
  {
    /* 10,000 bytes: head + '\n' + tail kept */
    char *big = malloc(10001);
    size_t i;
    for(i = 0; i < 10000; i++)
      big[i] = (char)('a' + i % 26);
    big[10000] = '\0';
    memcpy(big + 10000 - 4, "TAIL", 4);
    req = jv_object_set(jv_object(), jv_string("prompt"), jv_string(big));
    len = tf_request_text(req, buf, sizeof(buf), &total);
    CHECK_INT("text: total of long text", total, 10000);
    CHECK_INT("text: head + tail", len, TF_HEAD + 1 + TF_TAIL);
    CHECK("text: keeps the head", !memcmp(buf, big, TF_HEAD));
    CHECK("text: keeps the tail", !strcmp(buf + len - 4, "TAIL"));
    jv_free(req);
    free(big);
  }
  {
    /* several messages, the head's end and the tail's start falling
       inside, between and at the edges of them: the text kept is the
       head and tail of the messages joined by newlines */
    static const size_t sizes[][3] = {
      {2000, 2000, 2000}, {TF_HEAD, 10, 3000}, {TF_HEAD - 1, 1, 4000},
      {100, 5000, 100}, {4000, TF_TAIL - 1, 1}, {3000, 1, TF_TAIL},
      {1, 1, 9000}};
    size_t k;
    for(k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
      char *all = malloc(20000), label[80];
      size_t at = 0, m, i;
      jv msgs = jv_array();
      for(m = 0; m < 3; m++) {
        char *part = malloc(sizes[k][m] + 1);
        for(i = 0; i < sizes[k][m]; i++)
          part[i] = (char)('a' + (at + i) % 26);
        part[sizes[k][m]] = '\0';
        if(m)
          all[at++] = '\n';
        memcpy(all + at, part, sizes[k][m]);
        at += sizes[k][m];
        msgs = jv_array_append(msgs, jv_object_set(jv_object_set(
          jv_object(), jv_string("role"), jv_string("user")),
          jv_string("content"), jv_string(part)));
        free(part);
      }
      req = jv_object_set(jv_object(), jv_string("messages"), msgs);
      len = tf_request_text(req, buf, sizeof(buf), &total);
      snprintf(label, sizeof(label), "text: long, in parts %zu", k);
      CHECK(label, total == at && len == TF_HEAD + 1 + TF_TAIL &&
            !memcmp(buf, all, TF_HEAD) && buf[TF_HEAD] == '\n' &&
            !memcmp(buf + TF_HEAD + 1, all + at - TF_TAIL, TF_TAIL));
      jv_free(req);
      free(all);
    }
  }
}

/* ---------------------------------------------------------------------
 * Complexity
 */

static double complexity_of(const char *text, const char *task)
{
  struct tf_token toks[TF_MAX_TOKENS];
  struct tf_signals sig;
  size_t n = tf_tokenize(text, strlen(text), toks, TF_MAX_TOKENS);
  tf_signals(text, strlen(text), toks, n, 0, &sig);
  struct tf_weights w;
  tf_task_weights(task, &w);
  return tf_complexity(&sig, &w);
}

/* tf_byte_signals() visits the text 16 bytes at a time with SSE2, else
 * byte by byte: the counts must be the same, wherever the list items,
 * questions and line ends fall. */
static void test_byte_signals(void)
{
  static const char alphabet[] = "??\n\n;{-* 12.)ab\t\r";
  char text[300], label[120];
  unsigned long seed = 7;
  size_t len, k, tried = 0, differ = 0;
  int rep;

  for(len = 1; len < sizeof(text); len += 7) {
    for(rep = 0; rep < 30; rep++) {
      struct tf_signals a, b;

      for(k = 0; k < len; k++) {
        seed = seed * 6364136223846793005UL + 1442695040888963407UL;
        text[k] = alphabet[(seed >> 33) % (sizeof(alphabet) - 1)];
      }
      memset(&a, 0, sizeof(a));
      memset(&b, 0, sizeof(b));
      tf_byte_signals(text, len, &a, 0);
      tf_byte_signals(text, len, &b, 1);
      tried++;
      if(a.questions != b.questions || a.steps != b.steps ||
         a.code != b.code)
        differ++;
    }
  }
  snprintf(label, sizeof(label), "byte signals: the same 16 bytes at a "
           "time and bytewise on %zu texts (%zu differ)", tried, differ);
  CHECK(label, differ == 0);
  {
    static const char list[] = "Do this:\n- one\n  * two\n3. three\n"
                               "4) four?\nint x;\nif (y) {\n  why? and?";
    struct tf_signals sig;

    memset(&sig, 0, sizeof(sig));
    tf_byte_signals(list, sizeof(list) - 1, &sig, 0);
    CHECK_INT("byte signals: 4 list items", sig.steps, 4);
    CHECK_INT("byte signals: 3 questions", sig.questions, 3);
    CHECK_INT("byte signals: 2 code line ends", sig.code, 2);
  }
}

static void test_complexity(void)
{
  struct tf_signals s;
  struct tf_weights chat, msr, summ, top = {0.99, 0.99, 0.99};
  double base, c;
  int mono = 1, i;
  tf_task_weights("chat", &chat);
  tf_task_weights("multi_step_reasoning", &msr);
  tf_task_weights("summarization", &summ);
  memset(&s, 0, sizeof(s));
  base = tf_complexity(&s, &chat);
  CHECK_DBL("complexity: empty = prior", base, 0.05, 1e-9);
  s.words = 4000000;
  s.questions = s.steps = s.cues = s.code = s.domain = s.entities = 100000;
  c = tf_complexity(&s, &top);
  CHECK("complexity: at most 1", c <= 1.0 && c > 0.9);
  CHECK_DBL("complexity: unknown task weighs like chat",
            complexity_of("Hello there, Bob", "no-such-task"),
            complexity_of("Hello there, Bob", "chat"), 1e-12);
  /* every signal alone raises it and never lowers it */
  for(i = 0; i < 7; i++) {
    unsigned v;
    double prev = -1;
    for(v = 0; v < 50; v++) {
      memset(&s, 0, sizeof(s));
      switch(i) {
      case 0: s.words = v * 100; break;
      case 1: s.questions = v; break;
      case 2: s.steps = v; break;
      case 3: s.cues = v; break;
      case 4: s.code = v; break;
      case 5: s.domain = v; break;
      default: s.entities = v; break;
      }
      c = tf_complexity(&s, &summ);
      if(c < prev || c < 0 || c > 1)
        mono = 0;
      prev = c;
    }
    if(prev <= summ.prior + 1e-9)
      mono = 0; /* the signal must count for something */
  }
  CHECK("complexity: monotonic in each signal, in [0, 1]", mono);
  CHECK("complexity: task prior counts",
        tf_complexity(&s, &msr) > tf_complexity(&s, &chat));
  memset(&s, 0, sizeof(s));
  s.words = 800;
  CHECK("complexity: length weighs less for a summary",
        tf_complexity(&s, &summ) < tf_complexity(&s, &chat));
  CHECK("complexity: a long multi-step prompt beats a greeting",
        complexity_of("Hi there!", "chat") + 0.3 <
        complexity_of("We need to migrate 40 services to Kubernetes. First "
                      "analyze the dependencies, then design a rollout "
                      "plan.\n1. Compare the trade-offs of blue/green and "
                      "canary.\n2. Explain why each step is safe.\n3. "
                      "Estimate the latency impact. What could go wrong? "
                      "How do we roll back? Which database schema changes "
                      "are needed?", "multi_step_reasoning"));
  CHECK("complexity: code counts",
        complexity_of("```\nint main(void) {\n  return 0;\n}\n```", "chat")
        > complexity_of("int main void return 0", "chat"));
}

/* ---------------------------------------------------------------------
 * Training (core/train.c) and the model file
 */

static const char *tiny_set =
    "{\"prompt\":\"write a python function to sort a list\","
    "\"task\":\"coding\"}\n"
    "{\"prompt\":\"fix this python bug in my function\",\"task\":\"coding\"}\n"
    "{\"prompt\":\"python script to parse json\",\"task\":\"coding\"}\n"
    "{\"prompt\":\"debug my javascript function\",\"task\":\"coding\"}\n"
    "\n"
    "{\"prompt\":\"write a poem about the sea\",\"task\":\"creative\"}\n"
    "{\"prompt\":\"a short poem about autumn leaves\",\"task\":\"creative\"}\n"
    "{\"messages\":[{\"role\":\"user\",\"content\":\"compose a poem for my "
    "mother\"}],\"task\":\"creative\"}\n"
    "{\"prompt\":\"a love poem in rhyme\",\"task\":\"creative\"}\n";

static int run_train(const char **args, int n)
{
  char *argv[32];
  int i;
  for(i = 0; i < n; i++)
    argv[i] = (char *)args[i];
  argv[n] = NULL;
  fflush(stdout);
  return train_main(n, argv);
}

static int predict(const struct tf_model *m, const char *text)
{
  uint32_t feats[TF_MAX_FEATS];
  size_t n = tf_text_features(text, strlen(text), 0, m->families, m->bits,
                              feats, NULL);
  return tf_model_predict(m, feats, n, NULL);
}

static void test_train(const char *algo)
{
  const char *data = tmp_path("tiny.jsonl");
  const char *model = tmp_path("tiny.model");
  const char *args[] = {"train", "-o", model, "--algo", algo,
                        "--eval-split", "0", "--min-count", "1",
                        "--text", data};
  struct tf_model *m;
  char err[512], name[96];
  double probs[TF_MAX_LABELS];
  write_file(data, tiny_set);
  snprintf(name, sizeof(name), "train %s: exit 0", algo);
  CHECK_INT(name, run_train(args, 11), 0);
  m = tf_model_load(model, err, sizeof(err));
  snprintf(name, sizeof(name), "train %s: model loads", algo);
  CHECK(name, m != NULL);
  if(!m) {
    printf("  (%s)\n", err);
    return;
  }
  snprintf(name, sizeof(name), "train %s: two labels", algo);
  CHECK_INT(name, m->nlabels, 2);
  snprintf(name, sizeof(name), "train %s: predicts coding", algo);
  CHECK_STR(name, m->labels[predict(m, "my python function crashes")],
            "coding");
  snprintf(name, sizeof(name), "train %s: predicts creative", algo);
  CHECK_STR(name, m->labels[predict(m, "please write a poem")], "creative");
  {
    uint32_t feats[TF_MAX_FEATS];
    const char *t = "python poem";
    size_t n = tf_text_features(t, strlen(t), 0, m->families, m->bits,
                                feats, NULL);
    tf_model_predict(m, feats, n, probs);
    snprintf(name, sizeof(name), "train %s: probabilities sum to 1", algo);
    CHECK_DBL(name, probs[0] + probs[1], 1.0, 1e-9);
  }
  tf_model_free(m);
}

static void test_model_binary_roundtrip(void)
{
  const char *data = tmp_path("tiny.jsonl");
  const char *text_model = tmp_path("t.model");
  const char *bin_model = tmp_path("b.model");
  const char *a1[] = {"train", "-o", text_model, "--eval-split", "0",
                      "--min-count", "1", "--text", data};
  const char *a2[] = {"train", "-o", bin_model, "--eval-split", "0",
                      "--min-count", "1", data};
  struct tf_model *mt, *mb;
  char err[512];
  const char *probe[] = {"python poem", "write a function",
                         "poem about autumn", "json"};
  size_t i;
  int agree = 1;
  write_file(data, tiny_set);
  run_train(a1, 9);
  run_train(a2, 8);
  mt = tf_model_load(text_model, err, sizeof(err));
  mb = tf_model_load(bin_model, err, sizeof(err));
  CHECK("model: text and binary forms load", mt && mb);
  if(!mt || !mb) {
    tf_model_free(mt);
    tf_model_free(mb);
    return;
  }
  for(i = 0; i < sizeof(probe) / sizeof(probe[0]); i++)
    agree &= predict(mt, probe[i]) == predict(mb, probe[i]);
  CHECK("model: binary form predicts like the text form", agree);
  tf_model_free(mt);
  tf_model_free(mb);
}

static void test_model_errors(void)
{
  const char *p = tmp_path("bad.model");
  char err[512];
  struct tf_model *m;
  write_file(p, "llmroute-classifier 1\nalgo nb\nbits 99\n");
  m = tf_model_load(p, err, sizeof(err));
  CHECK("model error: bad bits, named with its line",
        !m && strstr(err, "bad.model:3:"));
  write_file(p, "something else\n");
  m = tf_model_load(p, err, sizeof(err));
  CHECK("model error: not a model", !m && strstr(err, "bad.model:1:"));
  write_file(p, "llmroute-classifier 1\nalgo lr\nbits 8\nfeatures words\n"
                "norm none\nlabels 2 a b\nbias 0 0\ndefault 0 0\nrows 2\n"
                "3 1 2\n");
  m = tf_model_load(p, err, sizeof(err));
  CHECK("model error: truncated rows",
        !m && strstr(err, "bad.model:11: unexpected end"));
  write_file(p, "llmroute-classifier 1\nalgo lr\nbits 8\nfeatures words\n"
                "norm none\nlabels 2 a b\nbias 0 0\ndefault 0 0\nrows 1\n"
                "300 1 2\nend\n");
  m = tf_model_load(p, err, sizeof(err));
  CHECK("model error: bucket out of range",
        !m && strstr(err, "bad.model:10: bad row"));
  tf_model_free(m);
}

static void test_train_errors(void)
{
  const char *bad = tmp_path("bad.jsonl");
  const char *model = tmp_path("never.model");
  const char *a[] = {"train", "-o", model, bad};
  const char *b[] = {"train", "--algo", "svm", bad};
  const char *c[] = {"train"};
  write_file(bad, "{\"prompt\":\"ok\",\"task\":\"chat\"}\n{not json\n");
  CHECK_INT("train error: invalid JSON -> 2", run_train(a, 4), 2);
  write_file(bad, "{\"prompt\":\"ok\"}\n");
  CHECK_INT("train error: no label -> 2", run_train(a, 4), 2);
  CHECK_INT("train error: bad algo -> 2", run_train(b, 4), 2);
  CHECK_INT("train error: no files -> 2", run_train(c, 1), 2);
  CHECK("train error: no model written", access(model, F_OK) != 0);
}

/* ---------------------------------------------------------------------
 * The stage through the mock host
 */

static void route_of(struct mock_stage *ms, const char *req, char *task,
                     char *source, double *complexity)
{
  struct llmr_job *job = mock_job_new("c1", jv_parse(req));
  char buf[128];
  jv cx;
  mock_process(ms, job);
  snprintf(task, 128, "%s",
           mock_str_at(job->route, "task", buf, sizeof(buf)) ?
           buf : "(none)");
  snprintf(source, 128, "%s",
           mock_str_at(job->route, "task_source", buf, sizeof(buf)) ?
           buf : "(none)");
  cx = jv_object_get(jv_copy(job->route), jv_string("complexity"));
  *complexity = jv_get_kind(cx) == JV_KIND_NUMBER ? jv_number_value(cx)
                                                  : -1;
  jv_free(cx);
  mock_job_free(job);
}

static void test_stage(void)
{
  struct mock_stage ms;
  const char *rules = tmp_path("stage.rules");
  char opt_rules[600], task[128], src[128];
  const char *opts[] = {"mode=rules", opt_rules, NULL};
  double cx;
  int rc;
  write_file(rules, "coding 70 keyword: python\n"
                    "translation 90 regex: \\btranslate\\b\n");
  snprintf(opt_rules, sizeof(opt_rules), "rules=%s", rules);
  rc = mock_stage_load(&ms, mock_build_path("lib/llmroute/classify.so"), opts);
  CHECK("stage: loads with rules=", rc == 0);
  if(rc) {
    printf("  (%s)\n", mock.errbuf);
    mock_stage_unload(&ms);
    return;
  }
  route_of(&ms, "{\"messages\":[{\"role\":\"user\",\"content\":\"my python "
                "loop is slow\"}]}", task, src, &cx);
  CHECK_STR("stage: rules decide", task, "coding");
  CHECK_STR("stage: task_source rules", src, "rules");
  CHECK("stage: complexity in [0,1]", cx >= 0 && cx <= 1);
  route_of(&ms, "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
           task, src, &cx);
  CHECK_STR("stage: default task", task, "chat");
  CHECK_STR("stage: task_source default", src, "default");
  route_of(&ms, "{\"custom_id\":\"h\",\"body\":{\"messages\":[{\"role\":"
                "\"user\",\"content\":\"translate my python code\"}]},"
                "\"routing\":{\"task\":\"summarization\"}}", task, src, &cx);
  CHECK_STR("stage: routing.task hint skips classification", task,
            "summarization");
  CHECK_STR("stage: task_source hint", src, "hint");
  CHECK("stage: hint still gets a complexity", cx >= 0 && cx <= 1);
  route_of(&ms, "{\"custom_id\":\"x\",\"body\":{\"messages\":\"oops\"}}",
           task, src, &cx);
  CHECK_STR("stage: malformed messages -> default", task, "chat");
  mock_stage_unload(&ms);
}

static void test_stage_model(void)
{
  struct mock_stage ms;
  const char *data = tmp_path("tiny.jsonl");
  const char *model = tmp_path("stage.model");
  const char *args[] = {"train", "-o", model, "--eval-split", "0",
                        "--min-count", "1", data};
  char opt_model[600], task[128], src[128];
  const char *opts[] = {"mode=model", opt_model, NULL};
  double cx;
  int rc;
  write_file(data, tiny_set);
  run_train(args, 8);
  snprintf(opt_model, sizeof(opt_model), "model=%s", model);
  rc = mock_stage_load(&ms, mock_build_path("lib/llmroute/classify.so"), opts);
  CHECK("stage model: loads with model=", rc == 0);
  if(rc) {
    printf("  (%s)\n", mock.errbuf);
    mock_stage_unload(&ms);
    return;
  }
  route_of(&ms, "{\"messages\":[{\"role\":\"user\",\"content\":\"write me "
                "a poem\"}]}", task, src, &cx);
  CHECK_STR("stage model: predicts", task, "creative");
  CHECK_STR("stage model: task_source model", src, "model");
  mock_stage_unload(&ms);
}

static char shipped[1024]; /* $BUILD/share/llmroute/pipelines */

static void test_stage_config_errors(void)
{
  struct mock_stage ms;
  const char *bad = tmp_path("broken.rules");
  char opt[600];
  const char *o1[] = {"mode=both", opt, NULL};
  const char *o2[] = {opt, NULL};
  const char *o3[] = {NULL};
  const char *o4[] = {"mode=sideways", opt, NULL};
  int rc;
  write_file(bad, "# ok\ncoding 70 keyword: python\nmath lots regex: x\n");
  snprintf(opt, sizeof(opt), "rules=%s", bad);
  mock.nconfig_errors = 0;
  rc = mock_stage_load(&ms, mock_build_path("lib/llmroute/classify.so"), o2);
  CHECK("stage error: bad rules file refused", rc != 0);
  CHECK("stage error: rules file line logged",
        strstr(mock.lastlog, "broken.rules:3: bad priority") != NULL);
  if(!strstr(mock.lastlog, "broken.rules:3:"))
    printf("  (log: %s / err: %s)\n", mock.lastlog, mock.errbuf);
  mock_stage_unload(&ms);
  write_file(bad, "coding 70 keyword: python\n");
  mock.share_dir = NULL; /* no shipped files to fall back on */
  rc = mock_stage_load(&ms, mock_build_path("lib/llmroute/classify.so"), o1);
  CHECK("stage error: mode=both, no model file", rc != 0 &&
        strstr(mock.errbuf, "bad model file") &&
        strstr(mock.errbuf, "classifier.model"));
  mock_stage_unload(&ms);
  rc = mock_stage_load(&ms, mock_build_path("lib/llmroute/classify.so"), o3);
  CHECK("stage error: no options, no shipped rules", rc != 0 &&
        strstr(mock.errbuf, "bad rules file") &&
        strstr(mock.errbuf, "tasks.rules"));
  mock_stage_unload(&ms);
  mock.share_dir = shipped;
  rc = mock_stage_load(&ms, mock_build_path("lib/llmroute/classify.so"), o3);
  CHECK("stage: no options loads the shipped rules and model", rc == 0);
  mock_stage_unload(&ms);
  rc = mock_stage_load(&ms, mock_build_path("lib/llmroute/classify.so"), o4);
  CHECK("stage error: bad mode", rc != 0 &&
        strstr(mock.errbuf, "bad mode"));
  mock_stage_unload(&ms);
}

int main(void)
{
  char tmpl[] = "/tmp/llmr-classify.XXXXXX";
  char cmd[600];
  if(!mkdtemp(tmpl)) {
    printf("FAIL: setup: mkdtemp\n");
    return 1;
  }
  snprintf(tmpdir, sizeof(tmpdir), "%s", tmpl);
  snprintf(shipped, sizeof(shipped), "%s",
           mock_build_path("share/llmroute/pipelines"));
  mock.share_dir = shipped; /* as the runner finds its shipped files */
  test_rules_parse();
  test_rules_opening_and_guard();
  test_rules_errors();
  test_shipped_rules();
  test_featurizer();
  test_request_text();
  test_byte_signals();
  test_complexity();
  test_train("nb");
  test_train("lr");
  test_model_binary_roundtrip();
  test_model_errors();
  test_train_errors();
  test_stage();
  test_stage_model();
  test_stage_config_errors();
  tf_release();
  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
  if(system(cmd) != 0)
    printf("  (could not remove %s)\n", tmpdir);
  return harness_done();
}
