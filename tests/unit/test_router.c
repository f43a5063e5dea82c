/*
 * test_router.c - the learned router's parts in core/lib: the policy
 * (router_choose), the threshold table and tiers of a router file, the
 * features (last paragraph, shape), a model's meta lines and subsets,
 * the text a router reads, and strmap.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "router.h"
#include "strmap.h"

static void test_choose(void)
{
  double p[] = {0.60, 0.80, 0.90, 0.95};
  double cost[] = {1, 2, 5, 50};
  char skip[] = {0, 0, 0, 0};

  CHECK_INT("choose: t 0 takes the cheapest", router_choose(p, cost, skip,
                                                            4, 0), 0);
  CHECK_INT("choose: t 0.8 needs 0.76 of the best 0.95",
            router_choose(p, cost, skip, 4, 0.8), 1);
  CHECK_INT("choose: t 0.9 needs 0.855", router_choose(p, cost, skip, 4,
                                                       0.9), 2);
  CHECK_INT("choose: t 1 takes the likeliest", router_choose(p, cost, skip,
                                                             4, 1), 3);
  skip[1] = 1;
  CHECK_INT("choose: a skipped model is never taken",
            router_choose(p, cost, skip, 4, 0.8), 2);
  skip[3] = 1;
  CHECK_INT("choose: the best among the eligible sets the bar",
            router_choose(p, cost, skip, 4, 1), 2);
  memset(skip, 1, sizeof(skip));
  CHECK_INT("choose: none eligible", router_choose(p, cost, skip, 4, 0.5),
            -1);
  {
    double q[] = {0.7, 0.7}, c[] = {3, 3};
    CHECK_INT("choose: a tie on cost goes to the likelier",
              router_choose(q, c, NULL, 2, 0.5), 0);
  }
}

static void test_model_meta(void)
{
  const char *labels[] = {"cheap", "mid", "premium", "tier:1"};
  struct tf_model *m = tf_model_new(8, TF_F_WORDS, 4, labels), *r, *s;
  char path[] = "/tmp/llmr-router.XXXXXX", err[256];
  int fd = mkstemp(path), idx[] = {3, 0};
  size_t i;

  if(fd < 0 || !m) {
    CHECK("setup", 0);
    return;
  }
  snprintf(m->algo, sizeof(m->algo), "ovr");
  for(i = 0; i < ((size_t)1 << 8) * 4; i++)
    m->w[i] = (float)((int)(i % 7) - 3) / 10.0f;
  m->bias[0] = 0.5f;
  m->bias[3] = -0.25f;
  CHECK_INT("meta: set", tf_model_set_meta(m, "thresholds",
                                           "0.50:0.1000 0.90:0.8000 "
                                           "1.00:1.0000"), 0);
  CHECK_INT("meta: set another", tf_model_set_meta(m, "tiers",
                                                   "cheap:1 mid:2 "
                                                   "premium:3"), 0);
  CHECK_INT("meta: a key with a blank refused",
            tf_model_set_meta(m, "two words", "x"), -1);
  CHECK_INT("meta: replace", tf_model_set_meta(m, "tiers", "cheap:1 mid:2 "
                                               "premium:3 a/b:c:2"), 0);
  CHECK_INT("meta: two lines", (int)m->nmeta, 2);
  CHECK_INT("save", tf_model_save(m, path, 1, err, sizeof(err)), 0);
  r = router_load(path, err, sizeof(err));
  CHECK("load: a router", r != NULL);
  if(!r) {
    printf("  (%s)\n", err);
    tf_model_free(m);
    unlink(path);
    return;
  }
  CHECK_STR("meta: read back", tf_model_meta(r, "tiers"),
            "cheap:1 mid:2 premium:3 a/b:c:2");
  CHECK("meta: absent key", tf_model_meta(r, "nope") == NULL);
  CHECK_DBL("threshold: exact target", router_threshold(r, 0.9), 0.8, 1e-9);
  CHECK_DBL("threshold: the next target up", router_threshold(r, 0.6), 0.8,
            1e-9);
  CHECK_DBL("threshold: below the table", router_threshold(r, 0.2), 0.1,
            1e-9);
  CHECK_DBL("threshold: 1", router_threshold(r, 1.0), 1.0, 1e-9);
  CHECK_INT("tier: by name", router_tier(r, "mid"), 2);
  CHECK_INT("tier: a name with colons", router_tier(r, "a/b:c"), 2);
  CHECK_INT("tier: unknown", router_tier(r, "zzz"), 0);
  s = tf_model_subset(r, idx, 2);
  CHECK("subset: made", s != NULL);
  if(s) {
    uint32_t f[] = {1, 5, 9};
    double pr[TF_MAX_LABELS], ps[TF_MAX_LABELS];
    tf_model_predict(r, f, 3, pr);
    tf_model_predict(s, f, 3, ps);
    CHECK_STR("subset: labels in the order asked", s->labels[0], "tier:1");
    CHECK_DBL("subset: the same prediction (tier:1)", ps[0], pr[3], 1e-12);
    CHECK_DBL("subset: the same prediction (cheap)", ps[1], pr[0], 1e-12);
    CHECK("ovr: probabilities of their own (not summing to 1)",
          fabs(pr[0] + pr[1] + pr[2] + pr[3] - 1) > 1e-3 &&
          pr[0] > 0 && pr[0] < 1);
  }
  tf_model_free(s);
  tf_model_free(r);
  /* a classifier is not a router */
  snprintf(m->algo, sizeof(m->algo), "lr");
  tf_model_save(m, path, 1, err, sizeof(err));
  r = router_load(path, err, sizeof(err));
  CHECK("load: a classifier is refused", r == NULL &&
        strstr(err, "not a router") != NULL);
  tf_model_free(m);
  close(fd);
  unlink(path);
}

static void test_features(void)
{
  const char *few =
    "Q: 2+2?\nA) 3\nB) 4\nAnswer: B\n\n"
    "He never comes to my home because the _ is bigger.\nA) home\n"
    "B) house\nAnswer:";
  const char *plain = "Write a function to add two numbers.";
  uint32_t f1[TF_MAX_FEATS], f2[TF_MAX_FEATS];
  size_t n1, n2, i, j, same = 0;
  int opts = -1;

  n1 = router_features(few, strlen(few), strlen(few), ROUTER_FAMILIES,
                       ROUTER_BITS, f1, &opts);
  CHECK_INT("features: options of the last paragraph", opts, 2);
  CHECK("features: some", n1 > 10);
  for(i = 0; i < n1; i++)
    if(f1[i] >= (1u << ROUTER_BITS))
      break;
  CHECK("features: ids below 2^bits", i == n1);
  n2 = router_features(few, strlen(few), strlen(few), ROUTER_FAMILIES,
                       ROUTER_BITS, f2, NULL);
  CHECK("features: deterministic", n1 == n2 &&
        !memcmp(f1, f2, n1 * sizeof(uint32_t)));
  n2 = router_features(plain, strlen(plain), strlen(plain),
                       ROUTER_FAMILIES, ROUTER_BITS, f2, &opts);
  CHECK_INT("features: no options", opts, 0);
  for(i = 0; i < n2; i++)
    for(j = 0; j < n1; j++)
      if(f2[i] == f1[j]) {
        same++;
        break;
      }
  CHECK("features: another prompt, mostly other features", same < n2 / 2);
}

static void test_text(void)
{
  jv req = jv_parse("{\"body\":{\"messages\":["
                    "{\"role\":\"system\",\"content\":\"be brief\"},"
                    "{\"role\":\"user\",\"content\":\"first\"},"
                    "{\"role\":\"user\",\"content\":[{\"type\":\"text\","
                    "\"text\":\"0123456789\"}]}]}}");
  char buf[8];
  size_t total, n = router_text(req, buf, sizeof(buf), &total);

  CHECK_INT("text: the last user message's length", total, 10);
  CHECK_INT("text: its tail, cap - 1 bytes", n, 7);
  CHECK_STR("text: the tail", buf, "3456789");
  jv_free(req);
  req = jv_parse("{\"prompt\":\"short\"}");
  n = router_text(req, buf, sizeof(buf), &total);
  CHECK_STR("text: the prompt shorthand", buf, "short");
  jv_free(req);
}

static void test_strmap(void)
{
  struct strmap m;
  char key[32];
  int i, ok = 1;

  strmap_init(&m);
  CHECK_INT("strmap: empty", strmap_get(&m, "a"), -1);
  CHECK_INT("strmap: new key", strmap_put(&m, "a", 7), -1);
  CHECK_INT("strmap: replace gives the old value", strmap_put(&m, "a", 9),
            7);
  CHECK_INT("strmap: get", strmap_get(&m, "a"), 9);
  for(i = 0; i < 5000; i++) {
    snprintf(key, sizeof(key), "id-%d", i);
    strmap_put(&m, key, i);
  }
  for(i = 0; i < 5000 && ok; i++) {
    snprintf(key, sizeof(key), "id-%d", i);
    ok = strmap_get(&m, key) == i;
  }
  CHECK("strmap: 5,000 keys through growth", ok);
  CHECK_INT("strmap: count", (long)m.n, 5001);
  strmap_free(&m);
  CHECK_INT("strmap: freed is empty", strmap_get(&m, "a"), -1);
}

int main(void)
{
  test_choose();
  test_model_meta();
  test_features();
  test_text();
  test_strmap();
  return harness_done();
}
