/*
 * test_cache.c - the cache stage's own SHA-256 against the FIPS 180-4
 * test vectors, and its key: what is part of it (model, every body field
 * sent) and what is not (key order, number spelling, custom_id, routing,
 * metadata, stream).  The stage itself is tested end to end in
 * tests/cli/cache.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"
#include "plugins/cache/key.c"

static void vectors(void)
{
  static const struct { const char *in, *want; } v[] = {
    {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"abc",
     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    /* 56 bytes: the length no longer fits the first padded block */
    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    {"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
     "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
     "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
  };
  char hex[65], name[64];
  for(size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
    snprintf(name, sizeof(name), "sha256_vector_%zu", i);
    sha256_hex(v[i].in, strlen(v[i].in), hex);
    CHECK_STR(name, hex, v[i].want);
  }
  /* one million 'a', fed in uneven pieces */
  {
    static char a[1000];
    struct sha256 s;
    unsigned char d[32];
    size_t left = 1000000, piece = 1;
    memset(a, 'a', sizeof(a));
    sha256_init(&s);
    while(left) {
      size_t n = piece < left ? piece : left;
      sha256_update(&s, a, n);
      left -= n;
      piece = piece % 983 + 13; /* at most 995 */
    }
    sha256_final(&s, d);
    for(int i = 0; i < 32; i++)
      snprintf(hex + 2 * i, 3, "%02x", d[i]);
    CHECK_STR("sha256_million_a", hex,
              "cdc76e5c9914fb9281a1c7e284d73e67"
              "f1809a48a497200e046d39ccc7112cd0");
  }
  /* every length around the block boundaries: pieces of 1 byte agree
     with one call */
  {
    unsigned char buf[200], d[32];
    char one[65], bytewise[65];
    int bad = 0;
    for(int i = 0; i < 200; i++)
      buf[i] = (unsigned char)(i * 7 + 1);
    for(size_t len = 0; len <= 200; len++) {
      struct sha256 s;
      sha256_hex(buf, len, one);
      sha256_init(&s);
      for(size_t i = 0; i < len; i++)
        sha256_update(&s, buf + i, 1);
      sha256_final(&s, d);
      for(int i = 0; i < 32; i++)
        snprintf(bytewise + 2 * i, 3, "%02x", d[i]);
      bad += strcmp(one, bytewise) != 0;
    }
    CHECK_INT("sha256_pieces_agree", bad, 0);
  }
}

/* The key of request text req sent to model. */
static const char *key_of(const char *req, const char *model, char out[65])
{
  jv r = jv_parse(req);
  if(cache_key(r, model, out) != 0)
    snprintf(out, 65, "(none)");
  jv_free(r);
  return out;
}

#define MSG "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]"

static void keys(void)
{
  char a[65], b[65];

  key_of("{\"body\":{" MSG ",\"temperature\":0.7}}", "m", a);
  CHECK_INT("key_is_hex", (int)strspn(a, "0123456789abcdef"), 64);
  CHECK_STR("key_ignores_key_order_and_number_spelling", a,
            key_of("{\"body\":{\"temperature\":0.70," MSG "}}", "m", b));
  CHECK_STR("key_ignores_custom_id_routing_and_envelope", a,
            key_of("{\"custom_id\":\"x9\",\"method\":\"POST\","
                   "\"url\":\"/v1/chat/completions\","
                   "\"routing\":{\"task\":\"chat\",\"tags\":[\"a\"]},"
                   "\"body\":{" MSG ",\"temperature\":0.7}}", "m", b));
  CHECK_STR("key_ignores_body_model_metadata_stream_user", a,
            key_of("{\"body\":{" MSG ",\"temperature\":0.7,\"model\":\"z\","
                   "\"metadata\":{\"run\":\"1\"},\"stream\":true,"
                   "\"user\":\"u1\",\"store\":true}}", "m", b));
  CHECK("key_has_the_model",
        strcmp(a, key_of("{\"body\":{" MSG ",\"temperature\":0.7}}", "m2",
                         b)) != 0);
  CHECK("key_has_the_temperature",
        strcmp(a, key_of("{\"body\":{" MSG ",\"temperature\":0.8}}", "m",
                         b)) != 0);
  CHECK("key_has_the_messages",
        strcmp(a, key_of("{\"body\":{\"messages\":[{\"role\":\"user\","
                         "\"content\":\"hi!\"}],\"temperature\":0.7}}", "m",
                         b)) != 0);
  CHECK("key_has_tools_and_response_format",
        strcmp(a, key_of("{\"body\":{" MSG ",\"temperature\":0.7,"
                         "\"response_format\":{\"type\":\"json_object\"}}}",
                         "m", b)) != 0);
  key_of("{\"body\":{" MSG ",\"max_tokens\":50}}", "m", a);
  CHECK_STR("key_max_tokens_either_name", a,
            key_of("{\"body\":{" MSG ",\"max_completion_tokens\":50}}", "m",
                   b));
  CHECK("key_has_max_tokens",
        strcmp(a, key_of("{\"body\":{" MSG ",\"max_tokens\":51}}", "m",
                         b)) != 0);
  CHECK_STR("key_needs_a_body", key_of("{\"prompt\":\"hi\"}", "m", a),
            "(none)");
  /* the text hashed is {"body":{...},"model":"m","v":1}, keys sorted,
     no spaces (sha256sum of it); what goes into the key changes only
     with KEY_VERSION */
  CHECK_STR("key_is_stable",
            key_of("{\"body\":{" MSG "}}", "m", a),
            "c7a075023769a8412bda73ab4319c5b1"
            "14607c65a87a8443505da7e7b046239d");
}

int main(void)
{
  vectors();
  keys();
  return harness_done();
}
