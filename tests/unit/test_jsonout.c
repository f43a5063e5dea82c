/*
 * test_jsonout.c - the result-line serializer must write what jq parses
 * back to the same value, compactly, for every kind of value.
 */
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "harness.h"

/* Serialize, parse back, compare; and compare text when want given. */
static void roundtrip(const char *name, const char *json, const char *want)
{
  jv v = jv_parse(json), back;
  char *out, label[200];

  if(!jv_is_valid(v)) {
    printf("FAIL: %s: test input does not parse\n", name);
    harness_failed++;
    jv_free(v);
    return;
  }
  out = json_dump(v);
  back = jv_parse(out);
  snprintf(label, sizeof(label), "%s: parses back equal", name);
  CHECK(label, jv_is_valid(back) && jv_equal(jv_copy(v), jv_copy(back)));
  if(want) {
    snprintf(label, sizeof(label), "%s: text", name);
    CHECK_STR(label, out, want);
  }
  jv_free(v);
  jv_free(back);
  free(out);
}

int main(void)
{
  struct buf b;

  roundtrip("scalars", "[null,true,false,0,-0,1,-17,3.5]",
            "[null,true,false,0,0,1,-17,3.5]");
  roundtrip("shortest doubles", "[0.1,0.0000786,1e-7,123456.789]",
            "[0.1,7.86e-05,1e-07,123456.789]");
  roundtrip("big integers", "[9007199254740993, 1e17, 12345678901234567]",
            NULL);
  roundtrip("escapes", "\"a\\\"b\\\\c\\n\\t\\r\\b\\f\\u0001\\u001f\"",
            "\"a\\\"b\\\\c\\n\\t\\r\\b\\f\\u0001\\u001f\"");
  roundtrip("utf-8 kept", "\"caf\\u00e9 \\u4e2d \\ud83d\\ude00\"",
            "\"caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80\"");
  roundtrip("del escaped", "\"\\u007f\"", "\"\\u007f\"");
  roundtrip("key order kept", "{\"z\":1,\"a\":{\"y\":[1,{\"b\":2}],\"x\":"
            "null}}", "{\"z\":1,\"a\":{\"y\":[1,{\"b\":2}],\"x\":null}}");
  roundtrip("empty containers", "[{},[],\"\"]", "[{},[],\"\"]");

  buf_init(&b);
  {
    int i;

    for(i = 0; i < 10000; i++)
      buf_puts(&b, "0123456789");
  }
  CHECK_INT("buf grows", b.len, 100000);
  CHECK_INT("buf NUL-terminated", b.p[b.len], 0);
  b.len = 0;
  json_write_string(&b, "a\0b", 3);
  CHECK_STR("embedded NUL escaped", b.p, "\"a\\u0000b\"");
  buf_free(&b);
  buf_free(&b); /* twice is safe */
  CHECK("buf_free twice", b.p == NULL && b.len == 0);
  return harness_done();
}
