/*
 * test_jsonout.c - the result-line serializer must write what jq parses
 * back to the same value, compactly, for every kind of value.
 */
#include <math.h>
#include <stdio.h>
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

/* json_parse must agree with jq's own parser on valid JSON. */
static void parse_same(const char *name, const char *json)
{
  jv mine = json_parse(json, strlen(json)), jqs = jv_parse(json);
  char label[200];

  snprintf(label, sizeof(label), "parse: %s", name);
  CHECK(label, jv_is_valid(mine) && jv_is_valid(jqs) &&
        jv_equal(jv_copy(mine), jv_copy(jqs)));
  jv_free(mine);
  jv_free(jqs);
}

/* json_parse must refuse text, with a message naming the column. */
static void parse_bad(const char *name, const char *json, size_t len)
{
  jv v = json_parse(json, len);
  char label[200];

  snprintf(label, sizeof(label), "refuse: %s", name);
  if(jv_is_valid(v)) {
    CHECK(label, 0);
  }
  else {
    jv msg = jv_invalid_get_msg(v);

    CHECK(label, jv_get_kind(msg) == JV_KIND_STRING &&
          strstr(jv_string_value(msg), "column") != NULL);
    jv_free(msg);
    v = jv_invalid();
  }
  jv_free(v);
}

/* What the writer printed before its decimal fast path: the shortest
 * of printf's %.15g..%.17g that reads back as d. */
static void printf_shortest(double d, char *out, size_t size)
{
  int prec;

  for(prec = 15; prec <= 17; prec++) {
    snprintf(out, size, "%.*g", prec, d);
    if(strtod(out, NULL) == d)
      return;
  }
}

/* The writer's numbers must be exactly printf's shortest round-trip text,
 * on costs (decimals rounded to 1e-8 and 1e-10), random doubles of every
 * magnitude, and values next to powers of ten. */
static void numbers_match_printf(void)
{
  struct buf b;
  char want[64];
  unsigned long long x = 88172645463325252ULL;
  long i, bad = 0, n = 0;
  char first[160] = "";

  buf_init(&b);
  for(i = 0; i < 300000; i++) {
    double d;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    switch(i % 6) {
    case 0: d = (double)(x % 100000000) / 1e8; break;           /* USD */
    case 1: d = (double)(x % 10000000000ULL) / 1e10; break;
    case 2: { /* any bit pattern that is a finite double */
      memcpy(&d, &x, sizeof(d));
      if(isnan(d) || isinf(d))
        continue;
      break;
    }
    case 3: d = ldexp((double)(x >> 11), (int)(x % 120) - 100); break;
    case 4: d = pow(10, (double)((int)(x % 40) - 20)); break;
    default: d = nextafter(pow(10, (double)((int)(x % 40) - 20)),
                           (x & 1) ? 0 : 1e300);
    }
    if(x & 2)
      d = -d;
    b.len = 0;
    json_write(&b, jv_number(d));
    printf_shortest(d, want, sizeof(want));
    if(d == floor(d) && fabs(d) < 1e17)
      continue; /* integers are written without printf, checked above */
    n++;
    if(strcmp(b.p, want)) {
      if(!bad++)
        snprintf(first, sizeof(first), "%.17g: wrote %s, printf %s", d,
                 b.p, want);
    }
  }
  if(bad)
    printf("  first mismatch: %s\n", first);
  CHECK("numbers: writer equals printf's shortest round trip", bad == 0);
  CHECK("numbers: most cases were non-integers", n > 200000);
  buf_free(&b);
}

int main(void)
{
  struct buf b;

  numbers_match_printf();
  {
    /* shared containers are written from a cache: never a stale text */
    jv a = jv_parse("[{\"provider\":\"groq\",\"model\":\"m1\"}]");
    jv keep = jv_copy(a); /* shared: cached when written */
    char *t1 = json_dump(a), *t2 = json_dump(a), *t3, *t4;
    CHECK_STR("cache: shared array", t1,
              "[{\"provider\":\"groq\",\"model\":\"m1\"}]");
    CHECK_STR("cache: written again, same text", t2, t1);
    a = jv_array_append(a, jv_number(2)); /* changes a copy */
    t3 = json_dump(a);
    CHECK_STR("cache: a changed copy is written as it is", t3,
              "[{\"provider\":\"groq\",\"model\":\"m1\"},2]");
    jv_free(a);
    jv_free(keep);
    a = jv_parse("{\"x\":[1,2,3]}"); /* a new value, maybe at the old
                                         address: written fresh */
    keep = jv_copy(a);
    t4 = json_dump(a);
    CHECK_STR("cache: a new value is not taken for an old one", t4,
              "{\"x\":[1,2,3]}");
    jv_free(a);
    jv_free(keep);
    free(t1);
    free(t2);
    free(t3);
    free(t4);
    json_write_cache_free();
  }
  {
    /* shared keys are written from a cache: each from its own string */
    jv ka = jv_string("alpha"), kb = jv_string("be\"ta"), o1, o2;
    char *t1, *t2, *t3;
    int i;

    o1 = jv_object_set(jv_object(), jv_copy(ka), jv_number(1));
    o1 = jv_object_set(o1, jv_copy(kb), jv_number(2));
    t1 = json_dump(o1);
    t2 = json_dump(o1);
    CHECK_STR("key cache: first text", t1, "{\"alpha\":1,\"be\\\"ta\":2}");
    CHECK_STR("key cache: again, from the cache", t2, t1);
    free(t1);
    free(t2);
    jv_free(o1);
    jv_free(ka);
    jv_free(kb);
    /* many other keys, some of them at addresses freed just before */
    o2 = jv_object();
    for(i = 0; i < 200; i++) {
      char name[16];
      jv k;

      snprintf(name, sizeof(name), "k%03d", i);
      k = jv_string(name);
      o2 = jv_object_set(o2, jv_copy(k), jv_number(i));
      jv_free(k);
    }
    t3 = json_dump(o2);
    CHECK("key cache: 200 keys written as they are",
          t3 && !strncmp(t3, "{\"k000\":0,\"k001\":1,", 19) &&
          strstr(t3, "\"k199\":199}") != NULL);
    free(t3);
    jv_free(o2);
    json_write_cache_free();
  }
  /* Debian 12's jq 1.6 has the string layout jsonin.c writes into: the
     parser must use it (else every string is checked twice, silently
     slower), and its strings must be whole jq strings */
  CHECK("parser makes strings itself on this jq", json_direct_strings());
  {
    static const char line[] = "{\"a\":\"plain ascii\",\"b\":\"esc\\n"
                               "\\u00e9\\u4e2d\",\"c\":\"caf\xc3\xa9\","
                               "\"d\":\"\\u0000x\",\"e\":\"\"}";
    jv v = json_parse(line, sizeof(line) - 1);
    jv q = jv_parse(line);
    jv s = jv_object_get(jv_copy(v), jv_string("a"));
    CHECK("direct strings: equal to jq's parse", jv_equal(jv_copy(v),
                                                           jv_copy(q)));
    CHECK("direct strings: length", jv_string_length_bytes(jv_copy(s)) == 11);
    CHECK("direct strings: NUL-terminated",
          !strcmp(jv_string_value(s), "plain ascii"));
    CHECK("direct strings: same hash as jv_string()",
          jv_string_hash(jv_copy(s)) == jv_string_hash(jv_string(
                                          "plain ascii")));
    s = jv_string_concat(s, jv_string("!")); /* appends past the bytes */
    CHECK_STR("direct strings: can grow", jv_string_value(s),
              "plain ascii!");
    jv_free(s);
    jv_free(v);
    jv_free(q);
  }

  parse_same("batch line", "{\"custom_id\":\"a\",\"method\":\"POST\","
             "\"body\":{\"messages\":[{\"role\":\"user\",\"content\":"
             "\"hi\"}],\"max_tokens\":256,\"temperature\":0.2}}");
  parse_same("scalars and spaces", " [ null , true,false, -0, 1.5e3,"
             "-2E-2 , 0 ] ");
  parse_same("escapes", "\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\u4e2d"
             "\\ud83d\\ude00\"");
  parse_same("nested", "{\"a\":{\"b\":[[],{},[{\"c\":[1,[2,[3]]]}]]}}");
  parse_same("duplicate keys: last wins", "{\"a\":1,\"a\":2}");
  parse_same("raw utf-8", "\"caf\xc3\xa9 \xe4\xb8\xad\"");
  parse_bad("trailing data", "{} {}", 5);
  /* keys that start like a shared key ("url", "body") but are not one */
  parse_bad("raw NUL inside a key", "{\"url\0x\":1}", 10);
  parse_bad("control byte ending a key", "{\"body\x01\":1}", 11);
  parse_same("shared keys and near misses", "{\"url\":1,\"urls\":2,"
             "\"bod\":3,\"body\":{\"messages\":[],\"max_tokens_x\":4},"
             "\"b\\u006fdy\":5}");
  {
    /* the string scan takes 16 bytes a step: each kind of byte that
       ends or changes it, at every place in and across the steps, with
       more of the line after the string (as in a real line) */
    static const char *specials[] = { "\\\"", "\\n", "\\u00e9",
                                      "\xc3\xa9", "\x7f", "\xff" };
    static const char after[] = "\",\"yyyyyyyyyyyyyyyyyyyyyyyy\"]";
    char json[128], label[96];
    size_t k, at, bad = 0, tried = 0;

    for(k = 0; k < sizeof(specials) / sizeof(specials[0]); k++) {
      for(at = 0; at < 40; at++) {
        size_t n = strlen(specials[k]);
        jv mine, jqs;

        memset(json, 'x', sizeof(json));
        memcpy(json, "[\"", 2);
        memcpy(json + 2 + at, specials[k], n);
        memcpy(json + 2 + 40 + n, after, sizeof(after));
        mine = json_parse(json, strlen(json));
        jqs = jv_parse(json);
        tried++;
        if(!jv_is_valid(mine) || !jv_equal(jv_copy(mine), jv_copy(jqs)))
          bad++;
        jv_free(mine);
        jv_free(jqs);
        json[2 + at] = '\x01'; /* a raw control byte: refused */
        mine = json_parse(json, strlen(json));
        tried++;
        if(jv_is_valid(mine))
          bad++;
        jv_free(mine);
      }
    }
    snprintf(label, sizeof(label), "string scan: %zu strings as jq reads "
             "them or refused (%zu wrong)", tried, bad);
    CHECK(label, bad == 0);
  }
  parse_bad("missing colon", "{\"a\" 1}", 7);
  parse_bad("key:value pairs", "{\"a\":1 \"b\":2}", 13);
  parse_bad("unfinished string", "\"abc", 4);
  parse_bad("bare word", "nope", 4);
  parse_bad("leading zero", "01", 2);
  parse_bad("lone minus", "-", 1);
  parse_bad("dot without digits", "1.", 2);
  parse_bad("empty", "", 0);
  parse_bad("NUL inside", "{\"a\":\"x\0y\"}", 10);
  parse_bad("bad escape", "\"\\q\"", 4);
  parse_bad("trailing comma", "[1,]", 4);
  {
    char deep[2000];

    memset(deep, '[', sizeof(deep));
    parse_bad("nesting over 512", deep, sizeof(deep));
  }
  {
    jv v = json_parse("\"a\xff" "b\\ud800c\"", 12);

    CHECK("bad UTF-8 and lone surrogate become U+FFFD",
          jv_is_valid(v) && !strcmp(jv_string_value(v),
                                    "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c"));
    jv_free(v);
  }
  {
    jv v = json_parse("[1,2]xyz", 5); /* length-delimited */

    CHECK("reads only len bytes", jv_is_valid(v) &&
          jv_array_length(jv_copy(v)) == 2);
    jv_free(v);
  }

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
