/*
 * test_tokens.c - the token estimator: exact small cases, monotonicity,
 * chat overheads, and closeness to real o200k_base counts.
 *
 * The reference counts below were measured with the o200k_base encoding
 * (the gpt-tokenizer npm package's copy of OpenAI's rank file) on these
 * exact strings; they are facts about the tokenizer, not tuned outputs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "harness.h"

static long tt(const char *s)
{
  return tokens_text(s, strlen(s));
}

static const struct {
  const char *text;
  long o200k;
} samples[] = {
  { "The quick brown fox jumps over the lazy dog.", 10 },
  { "Extract the invoice number, the total amount and the due date from "
    "the following email and return them as JSON.", 22 },
  { "def fibonacci(n):\n    if n < 2:\n        return n\n    return "
    "fibonacci(n - 1) + fibonacci(n - 2)\n", 30 },
  { "Summarize the quarterly report in three bullet points: revenue grew "
    "12% to $4.2 billion, operating margin fell to 18.5%, and guidance "
    "for 2026 was raised.", 41 },
  { "Prove that the square root of 2 is irrational, then explain each "
    "step of the argument to a high-school student.", 25 },
  { "Classify the sentiment of this review as positive, negative or "
    "neutral: \"The battery life is terrible, but the screen is "
    "gorgeous.\"", 27 },
  { "\xc3\x89" "crivez un court po\xc3\xa8me sur la mer et les \xc3\xa9"
    "toiles, avec des rimes crois\xc3\xa9" "es.", 21 },
  { "\xd0\x9d\xd0\xb0\xd0\xbf\xd0\xb8\xd1\x88\xd0\xb8\xd1\x82\xd0\xb5 "
    "\xd0\xba\xd0\xbe\xd1\x80\xd0\xbe\xd1\x82\xd0\xba\xd0\xbe\xd0\xb5 "
    "\xd0\xbf\xd0\xb8\xd1\x81\xd1\x8c\xd0\xbc\xd0\xbe "
    "\xd0\xba\xd0\xbe\xd0\xbb\xd0\xbb\xd0\xb5\xd0\xb3\xd0\xb5 \xd1\x81 "
    "\xd0\xbf\xd1\x80\xd0\xbe\xd1\x81\xd1\x8c\xd0\xb1\xd0\xbe\xd0\xb9 "
    "\xd0\xbf\xd0\xb5\xd1\x80\xd0\xb5\xd0\xbd\xd0\xb5\xd1\x81\xd1\x82"
    "\xd0\xb8 \xd0\xb2\xd1\x81\xd1\x82\xd1\x80\xd0\xb5\xd1\x87\xd1\x83 "
    "\xd0\xbd\xd0\xb0 \xd0\xbf\xd1\x8f\xd1\x82\xd0\xbd\xd0\xb8\xd1\x86"
    "\xd1\x83.", 18 },
  { "\xe8\xaf\xb7\xe7\x94\xa8\xe4\xb8\x89\xe5\x8f\xa5\xe8\xaf\x9d\xe6"
    "\x80\xbb\xe7\xbb\x93\xe8\xbf\x99\xe7\xaf\x87\xe6\x96\x87\xe7\xab"
    "\xa0\xe7\x9a\x84\xe4\xb8\xbb\xe8\xa6\x81\xe8\xa7\x82\xe7\x82\xb9"
    "\xe3\x80\x82", 12 },
  { "SELECT customer_id, SUM(amount) AS total FROM orders WHERE "
    "created_at >= '2025-01-01' GROUP BY customer_id ORDER BY total DESC "
    "LIMIT 10;", 35 }
};

static void test_exact(void)
{
  CHECK_INT("empty text", tokens_text("", 0), 0);
  CHECK_INT("NULL text", tokens_text(NULL, 5), 0);
  CHECK_INT("one short word", tt("hello"), 1);
  CHECK_INT("two words", tt("Hello world"), 2);
  CHECK_INT("a long word splits", tt("internationalization"), 4);
  CHECK_INT("digits in threes", tt("1234567"), 3);
  CHECK_INT("punctuation pairs", tt("));"), 2);
  CHECK_INT("indentation is one token", tt("\n        x"), 2);
  CHECK_INT("CJK about 0.8 per character",
            tt("\xe4\xbd\xa0\xe5\xa5\xbd\xe4\xb8\x96\xe7\x95\x8c"), 3);
  CHECK_INT("stops at len", tokens_text("hello world", 5), 1);
  CHECK_INT("invalid UTF-8 does not crash", tt("\xff\xfe\xc3") >= 1, 1);
}

static void test_monotonic(void)
{
  char buf[4096];
  long prev = 0, t;
  size_t i, n = 0;
  int ok = 1;
  const char *piece = "The estimate grows with the text, 42 times. ";

  for(i = 0; i < 60; i++) {
    size_t k = strlen(piece);
    memcpy(buf + n, piece, k);
    n += k;
    t = tokens_text(buf, n);
    if(t < prev)
      ok = 0;
    prev = t;
  }
  CHECK("appending text never lowers the estimate", ok);
  t = tokens_text(buf, strlen(piece) * 30);
  CHECK("twice the text, twice the tokens (+-5%)",
        prev >= 2 * t - t / 10 && prev <= 2 * t + t / 10);
  ok = 1;
  prev = 0;
  for(i = 1; i <= n; i++) {
    t = tokens_text(buf, i);
    if(t + 1 < prev)   /* a cut word may round down by one */
      ok = 0;
    if(t > prev)
      prev = t;
  }
  CHECK("prefixes grow (within rounding)", ok);
}

static void test_reference(void)
{
  long est = 0, real = 0;
  size_t i;
  char name[96];

  for(i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
    long e = tt(samples[i].text), r = samples[i].o200k;
    snprintf(name, sizeof(name), "o200k sample %zu within 20%% (%ld vs %ld)",
             i, e, r);
    CHECK(name, e * 10 >= r * 8 && e * 10 <= r * 12);
    est += e;
    real += r;
  }
  snprintf(name, sizeof(name), "o200k samples in all within 5%% (%ld vs %ld)",
           est, real);
  CHECK(name, est * 100 >= real * 95 && est * 100 <= real * 105);
}

/* tokens_text() counts ASCII 64 bytes at a time from bit masks, other
 * text a byte at a time: the two must agree exactly.  Random text from
 * alphabets that stress each rule (long words, digit and punctuation
 * runs of every length, lone blanks, tabs, newlines, runs across the
 * 64-byte blocks), at lengths around the block size. */
static void test_ascii_path(void)
{
  static const char *alphabets[] = {
    "abcdefghijklmnopqrstuvwxyz ",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa b",
    "ab 1234567890 ,.;()\"'",
    "  \t\n\r\v\fx",
    "x.,;:!?-_()[]{}<>/\\|\x01\x7f 9",
    "The quick brown fox, 42 times;\n\tindented  twice.",
    " a",
    "a1.",
  };
  static const size_t lens[] = { 16, 17, 31, 63, 64, 65, 127, 128, 129,
                                 191, 200, 257, 1000 };
  char buf[1100];
  unsigned long seed = 12345;
  size_t a, l, k, mismatches = 0, tried = 0;
  int rep;

  for(a = 0; a < sizeof(alphabets) / sizeof(alphabets[0]); a++) {
    size_t an = strlen(alphabets[a]);
    for(l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
      for(rep = 0; rep < 40; rep++) {
        for(k = 0; k < lens[l]; k++) {
          seed = seed * 6364136223846793005UL + 1442695040888963407UL;
          buf[k] = alphabets[a][(seed >> 33) % an];
        }
        tried++;
        if(tokens_text(buf, lens[l]) != tokens_text_scalar(buf, lens[l]))
          mismatches++;
      }
    }
  }
  memset(buf, 'a', 1000);
  for(l = 16; l <= 1000; l++) {
    tried++;
    if(tokens_text(buf, l) != tokens_text_scalar(buf, l))
      mismatches++;
  }
  memset(buf, ' ', 200);
  for(l = 16; l <= 200; l++) {
    buf[l - 1] = 'x';
    tried++;
    if(tokens_text(buf, l) != tokens_text_scalar(buf, l))
      mismatches++;
    buf[l - 1] = ' ';
  }
  snprintf(buf, sizeof(buf), "ASCII path agrees with the byte loop on "
           "%zu random texts (%zu differ)", tried, mismatches);
  CHECK(buf, mismatches == 0);
  CHECK_INT("a long word across blocks", tokens_text(
              "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
              "xxxxxxxxxxxx", 72), 17); /* 1 + 64 / 4 */
  CHECK_INT("one blank at a block's end is free", tokens_text(
              "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
              "aaa bbbb", 68), 16); /* 63 letters 14.75, blank 0, word 1 */
}

static jv parse(const char *s)
{
  return jv_parse(s);
}

static void test_chat(void)
{
  jv b;

  b = parse("{\"messages\":[{\"role\":\"user\","
            "\"content\":\"Hello world\"}]}");
  /* 3 per message + role 1 + content 2 + priming 3 */
  CHECK_INT("one message", tokens_estimate(b), 9);
  jv_free(b);
  b = parse("{\"messages\":[{\"role\":\"system\",\"content\":\"Be brief\"},"
            "{\"role\":\"user\",\"name\":\"ann\","
            "\"content\":\"Hello world\"}]}");
  CHECK_INT("two messages and a name", tokens_estimate(b),
            (3 + 1 + 2) + (3 + 1 + 2 + 1 + 1) + 3);
  jv_free(b);
  b = parse("{\"messages\":[{\"role\":\"user\",\"content\":["
            "{\"type\":\"text\",\"text\":\"Hello world\"},"
            "{\"type\":\"image_url\",\"image_url\":{\"url\":\"x\"}}]}]}");
  CHECK_INT("content parts and an image", tokens_estimate(b),
            3 + 1 + 2 + 85 + 3);
  jv_free(b);
  b = parse("{\"model\":\"auto\"}");
  CHECK_INT("no messages", tokens_estimate(b), 0);
  jv_free(b);
  CHECK_INT("not an object", tokens_estimate(jv_null()), 0);
  b = parse("{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],"
            "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":"
            "\"get_weather\",\"parameters\":{}}}]}");
  CHECK("tools are counted", tokens_estimate(b) > 3 + 1 + 1 + 3 + 5);
  jv_free(b);
  b = parse("{\"messages\":\"oops\"}");
  CHECK_INT("messages not an array", tokens_estimate(b), 0);
  jv_free(b);
  b = parse("{\"messages\":[1,null,{\"role\":\"user\",\"content\":7}]}");
  CHECK_INT("odd messages are skipped safely", tokens_estimate(b),
            3 + 1 + 3);
  jv_free(b);
}

int main(void)
{
  test_exact();
  test_monotonic();
  test_reference();
  test_ascii_path();
  test_chat();
  return harness_done();
}
