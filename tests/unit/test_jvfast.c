/*
 * test_jvfast.c - jvfast.h's lookups and walks agree with jq's API.
 *
 * On Debian's jq 1.6 they read jq's tables in place, and must (else
 * every lookup pays jq's overhead, silently).  test_jvfast_api.c builds
 * this same file with LLMR_JVF_API_ONLY, the path taken on a jq whose
 * layout the probe does not recognize.
 */
#include <stdio.h>
#include <string.h>

#include "jvfast.h"
#include "harness.h"

#ifdef LLMR_JVF_API_ONLY
#define MODE "jvfast (jq's API)"
#else
#define MODE "jvfast (in place)"
#endif

int main(void)
{
#ifdef LLMR_JVF_API_ONLY
  CHECK(MODE ": the probe is not taken", !jvf_direct());
#else
  CHECK(MODE ": reads objects in place on this jq", jvf_direct());
#endif
  {
    jv o = jv_object(), k, v, probe;
    int i, it, walked = 0, same = 1, found = 1;
    char name[24];

    for(i = 0; i < 300; i++) {
      snprintf(name, sizeof(name), "key-%d", i * 7919 % 1000);
      o = jv_object_set(o, jv_string(name), i % 3 ? jv_number(i)
                                                  : jv_string(name));
    }
    for(i = 0; i < 300; i += 5) {
      snprintf(name, sizeof(name), "key-%d", i * 7919 % 1000);
      o = jv_object_delete(o, jv_string(name));
    }
    it = jv_object_iter(o);
    for(i = jvf_next(o, -1, &k, &v); i >= 0; i = jvf_next(o, i, &k, &v)) {
      jv jk = jv_object_iter_key(o, it), jvv = jv_object_iter_value(o, it);
      size_t n = 0;
      const char *p = jvf_string(k, &n);

      same = same && i == it && jv_equal(jk, jv_string_sized(p, (int)n)) &&
             jv_equal(jvv, jv_copy(v));
      walked++;
      it = jv_object_iter_next(o, it);
    }
    CHECK(MODE ": walks every field in jq's order, once",
          same && !jv_object_iter_valid(o, it) &&
          walked == jv_object_length(jv_copy(o)));
    for(i = 0; i < 1000; i++) {
      jv a, b;

      snprintf(name, sizeof(name), "key-%d", i);
      probe = jv_string(name);
      a = jv_object_get(jv_copy(o), jv_copy(probe));
      b = jvf_get(o, probe);
      found = found && jv_get_kind(a) == jv_get_kind(b) &&
              (!jv_is_valid(a) || jv_equal(jv_copy(a), jv_copy(b)));
      jv_free(a);
      jv_free(b);
      jv_free(probe);
    }
    CHECK(MODE ": 1000 lookups, present and absent, as jq's", found);
    probe = jv_string("key-1");
    v = jv_array();
    CHECK(MODE ": no object, no value",
          !jv_is_valid(jvf_get(jv_number(1), probe)) &&
          !jv_is_valid(jvf_get(o, jv_number(1))) &&
          jvf_next(v, -1, &k, &k) < 0);
    jv_free(v);
    jv_free(probe);
    jv_free(o);
  }

  return harness_done();
}
