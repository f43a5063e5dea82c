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

  {
    /* jvf_set into jvf_object(16) and into jv_object(): the same
       object as jq's jv_object_set makes, fields in the same order */
    int start, i, same = 1;
    char name[24];

    for(start = 0; start < 2; start++) {
      jv mine = start ? jvf_object(16) : jv_object(), jqs = jv_object();
      jv k1, v1, k2, v2;
      int a, b;

      for(i = 0; i < 200; i++) {
        snprintf(name, sizeof(name), "f%d", i * 31 % 150); /* 50 again */
        mine = jvf_set(mine, jv_string(name), jv_number(i));
        jqs = jv_object_set(jqs, jv_string(name), jv_number(i));
      }
      same = same && jv_equal(jv_copy(mine), jv_copy(jqs));
      for(a = jvf_next(mine, -1, &k1, &v1), b = jvf_next(jqs, -1, &k2, &v2);
          a >= 0 && b >= 0;
          a = jvf_next(mine, a, &k1, &v1), b = jvf_next(jqs, b, &k2, &v2))
        same = same && jv_equal(jv_copy(k1), jv_copy(k2)) &&
               jv_equal(jv_copy(v1), jv_copy(v2));
      same = same && a < 0 && b < 0;
      jv_free(mine);
      jv_free(jqs);
    }
    CHECK(MODE ": set makes jq's object, in jq's order", same);
  }
  {
    /* a shared object is copied before a change, as jq does */
    jv o = jvf_set(jvf_object(16), jv_string("a"), jv_number(1));
    jv keep = jv_copy(o), got;

    o = jvf_set(o, jv_string("a"), jv_number(2));
    o = jvf_set(o, jv_string("b"), jv_number(3));
    got = jv_object_get(jv_copy(keep), jv_string("a"));
    CHECK(MODE ": set leaves another holder's object alone",
          jv_object_length(jv_copy(keep)) == 1 &&
          jv_number_value(got) == 1 && jv_object_length(jv_copy(o)) == 2);
    jv_free(got);
    jv_free(keep);
    jv_free(o);
  }
  {
    /* free: a tree's own parts go, the parts another holder shares stay
       (ASan's leak check runs this too) */
    jv sub = jv_object_set(jv_object(), jv_string("x"), jv_string("kept"));
    jv str = jv_string("shared text"), arr = jv_array(), keep1, keep2, o;

    arr = jv_array_append(arr, jv_copy(sub));
    o = jvf_set(jvf_object(16), jv_string("sub"), jv_copy(sub));
    o = jvf_set(o, jv_string("str"), jv_copy(str));
    o = jvf_set(o, jv_string("arr"), arr);
    o = jvf_set(o, jv_string("own"), jv_object_set(jv_object(),
                jv_string("deep"), jv_string("gone")));
    o = jvf_set(o, jv_string("n"), jv_number(3));
    keep1 = sub;
    keep2 = str;
    jvf_free(o);
    CHECK(MODE ": free leaves what others hold",
          jv_get_refcnt(keep1) == 1 && jv_get_refcnt(keep2) == 1 &&
          !strcmp(jv_string_value(keep2), "shared text") &&
          jv_object_length(jv_copy(keep1)) == 1);
    jv_free(keep1);
    jv_free(keep2);
    /* invalid values, with and without a message (ASan: no leak) */
    jvf_free(jv_invalid());
    jvf_free(jv_invalid_with_msg(jv_string("a message")));
    o = jv_string("copied");
    keep1 = jvf_copy(o);
    CHECK(MODE ": copy counts a reference", jv_get_refcnt(o) == 2);
    jvf_free(keep1);
    CHECK(MODE ": free gives it back", jv_get_refcnt(o) == 1);
    jvf_free(o);
  }
  return harness_done();
}
