/*
 * fuzz_json.c - the runner's JSON parser (core/jsonin.c: json_parse,
 * json_parse_strict) and its writer (core/jsonout.c: json_write).
 *
 * Checks beyond "no crash, no leak": a text the strict parser takes the
 * lenient one takes too, to the same value; a text the lenient one takes
 * and the strict one refuses has a duplicate key; what json_dump() writes
 * of a value parses again, to the same value (but for infinities, which
 * JSON cannot write), and writing that again gives the same text.
 */
#include <math.h>

#include "core.h"
#include "fuzz.h"

/* 1 when v (borrowed) holds a number that is not finite. */
static int has_nonfinite(jv v)
{
  int i, n, r = 0;

  switch(jv_get_kind(v)) {
  case JV_KIND_NUMBER:
    return !isfinite(jv_number_value(v));
  case JV_KIND_ARRAY:
    n = jv_array_length(jv_copy(v));
    for(i = 0; i < n && !r; i++) {
      jv e = jv_array_get(jv_copy(v), i);
      r = has_nonfinite(e);
      jv_free(e);
    }
    return r;
  case JV_KIND_OBJECT:
    jv_object_foreach(v, k, e) {
      if(!r)
        r = has_nonfinite(e);
      jv_free(k);
      jv_free(e);
    }
    return r;
  default:
    return 0;
  }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *s = (const char *)data;
  jv lax = json_parse(s, size);
  jv strict = json_parse_strict(s, size);

  if(jv_is_valid(strict)) {
    FUZZ_CHECK(jv_is_valid(lax));
    FUZZ_CHECK(jv_equal(jv_copy(strict), jv_copy(lax)));
  }
  else {
    jv msg = jv_invalid_get_msg(jv_copy(strict));
    FUZZ_CHECK(jv_get_kind(msg) == JV_KIND_STRING);
    FUZZ_CHECK(!jv_is_valid(lax) ||
               strstr(jv_string_value(msg), "duplicate key"));
    jv_free(msg);
  }
  if(!jv_is_valid(lax)) {
    jv msg = jv_invalid_get_msg(jv_copy(lax));
    FUZZ_CHECK(jv_get_kind(msg) == JV_KIND_STRING);
    jv_free(msg);
  }
  else {
    char *text = json_dump(lax), *again;
    jv back;

    FUZZ_CHECK(text != NULL);
    back = json_parse(text, strlen(text));
    FUZZ_CHECK(jv_is_valid(back));
    if(!has_nonfinite(lax))
      FUZZ_CHECK(jv_equal(jv_copy(lax), jv_copy(back)));
    again = json_dump(back);
    FUZZ_CHECK(!strcmp(text, again));
    free(again);
    free(text);
    jv_free(back);
  }
  jv_free(lax);
  jv_free(strict);
  return 0;
}
