/*
 * tokens.c - the one token estimator every stage uses.
 *
 * No tokenizer ships with llmroute: a router needs a fast, deterministic
 * and roughly right count, not the exact one.  The text is split the
 * way BPE pre-tokenizers (tiktoken's cl100k/o200k patterns) split it,
 * and each piece is priced from its length and kind:
 *
 *   words        ASCII letters: up to WORD_CHARS letters is one token,
 *                one more per LONG_CHARS letters past that; words with
 *                accented Latin, Greek or Cyrillic letters: one token
 *                plus one per 4 letters past the third
 *   digits       one token per 3 digits (tiktoken splits numbers so)
 *   punctuation  one token per 2 characters of a run ("))", "\",")
 *   whitespace   a single space before a word is free (part of it); any
 *                other run (newlines, indentation) is one token
 *   CJK, kana,   CJK_TOKENS per character
 *   hangul
 *   other UTF-8  (Arabic, Hebrew, Indic, Thai ...) one token per two
 *                characters plus one per run; symbols one, emoji two
 *
 * A chat body adds, as OpenAI's cookbook counts: 3 tokens per message,
 * the role, one per name, and 3 for the reply's priming; tool
 * definitions and tool calls count as their JSON text.
 *
 * Measured with tests/tools/token_calibration.sh against the real
 * o200k_base tokenizer: on 1,639 prompts of ../shared/data/task_prompts
 * (text only) total +2.7%, median |error| 4.5%, 90th percentile 14%
 * (cl100k_base: -1.6%, 4.8%, 24%); on the 213 requests of
 * pipelines/examples/prompts.jsonl (chat counts) total +0.1%, median
 * 3.7%, 90th percentile 10.5%.  Claude's and Gemini's tokenizers were
 * not measured (Anthropic says Claude 4.7+ counts ~30% more).
 */
#include <string.h>

#include "core.h"

#define WORD_CHARS 8      /* letters a common word spans in one token */
#define LONG_CHARS 4.0    /* letters per extra token past WORD_CHARS */
#define CJK_TOKENS 0.8    /* per CJK character (o200k ~0.7, cl100k ~1.1) */
#define MSG_OVERHEAD 3    /* per message */
#define NAME_OVERHEAD 1   /* per message with a name */
#define REPLY_PRIMING 3   /* <|start|>assistant<|message|> */

enum cclass { C_SPACE, C_NEWLINE, C_ALPHA, C_DIGIT, C_PUNCT, C_HIGH };

/* The class of each byte; bytes >= 0x80 (UTF-8) are C_HIGH. */
static const unsigned char cls[256] = {
  C_PUNCT, C_PUNCT, C_PUNCT, C_PUNCT, C_PUNCT, C_PUNCT, C_PUNCT, C_PUNCT,
  C_PUNCT, C_SPACE, C_NEWLINE, C_SPACE, C_SPACE, C_NEWLINE, C_PUNCT,
  C_PUNCT,
  C_PUNCT, C_PUNCT, C_PUNCT, C_PUNCT, C_PUNCT, C_PUNCT, C_PUNCT, C_PUNCT,
  C_PUNCT, C_PUNCT, C_PUNCT, C_PUNCT, C_PUNCT, C_PUNCT, C_PUNCT, C_PUNCT,
  /* space ! " # $ % & ' ( ) * + , - . / */
  C_SPACE, C_PUNCT, C_PUNCT, C_PUNCT, C_PUNCT, C_PUNCT, C_PUNCT, C_PUNCT,
  C_PUNCT, C_PUNCT, C_PUNCT, C_PUNCT, C_PUNCT, C_PUNCT, C_PUNCT, C_PUNCT,
  /* 0-9 : ; < = > ? */
  C_DIGIT, C_DIGIT, C_DIGIT, C_DIGIT, C_DIGIT, C_DIGIT, C_DIGIT, C_DIGIT,
  C_DIGIT, C_DIGIT, C_PUNCT, C_PUNCT, C_PUNCT, C_PUNCT, C_PUNCT, C_PUNCT,
  /* @ A-Z [ \ ] ^ _ */
  C_PUNCT, C_ALPHA, C_ALPHA, C_ALPHA, C_ALPHA, C_ALPHA, C_ALPHA, C_ALPHA,
  C_ALPHA, C_ALPHA, C_ALPHA, C_ALPHA, C_ALPHA, C_ALPHA, C_ALPHA, C_ALPHA,
  C_ALPHA, C_ALPHA, C_ALPHA, C_ALPHA, C_ALPHA, C_ALPHA, C_ALPHA, C_ALPHA,
  C_ALPHA, C_ALPHA, C_ALPHA, C_PUNCT, C_PUNCT, C_PUNCT, C_PUNCT, C_PUNCT,
  /* ` a-z { | } ~ DEL */
  C_PUNCT, C_ALPHA, C_ALPHA, C_ALPHA, C_ALPHA, C_ALPHA, C_ALPHA, C_ALPHA,
  C_ALPHA, C_ALPHA, C_ALPHA, C_ALPHA, C_ALPHA, C_ALPHA, C_ALPHA, C_ALPHA,
  C_ALPHA, C_ALPHA, C_ALPHA, C_ALPHA, C_ALPHA, C_ALPHA, C_ALPHA, C_ALPHA,
  C_ALPHA, C_ALPHA, C_ALPHA, C_PUNCT, C_PUNCT, C_PUNCT, C_PUNCT, C_PUNCT,
#define H8 C_HIGH, C_HIGH, C_HIGH, C_HIGH, C_HIGH, C_HIGH, C_HIGH, C_HIGH
  H8, H8, H8, H8, H8, H8, H8, H8, H8, H8, H8, H8, H8, H8, H8, H8
#undef H8
};

#define ascii_class(c) ((enum cclass)cls[(unsigned char)(c)])

/* Decode the code point at s[i] (len bytes in all); sets *n to its byte
 * length (1 for an invalid byte, which is then returned as 0xFFFD). */
static unsigned long utf8_at(const unsigned char *s, size_t len, size_t i,
                             size_t *n)
{
  unsigned char c = s[i];
  size_t k, need;
  unsigned long cp;

  if(c < 0xC0) {
    *n = 1;
    return c < 0x80 ? c : 0xFFFD;
  }
  if(c < 0xE0) {
    need = 1;
    cp = c & 0x1F;
  }
  else if(c < 0xF0) {
    need = 2;
    cp = c & 0x0F;
  }
  else {
    need = 3;
    cp = c & 0x07;
  }
  if(i + need >= len) {
    *n = 1;
    return 0xFFFD;
  }
  for(k = 1; k <= need; k++) {
    if((s[i + k] & 0xC0) != 0x80) {
      *n = 1;
      return 0xFFFD;
    }
    cp = (cp << 6) | (s[i + k] & 0x3F);
  }
  *n = need + 1;
  return cp;
}

/* 1 when cp is a CJK ideograph, kana, hangul or fullwidth form: scripts
 * where a tokenizer spends about a token per character. */
static int is_cjk(unsigned long cp)
{
  return (cp >= 0x2E80 && cp <= 0x9FFF) ||  /* radicals .. CJK unified */
         (cp >= 0xAC00 && cp <= 0xD7AF) ||  /* hangul syllables */
         (cp >= 0xF900 && cp <= 0xFAFF) ||  /* compatibility ideographs */
         (cp >= 0xFF00 && cp <= 0xFFEF) ||  /* fullwidth forms */
         (cp >= 0x20000 && cp <= 0x2FFFF);  /* extension B .. */
}

/* Tokens of one run of len letters. */
static double word_tokens(size_t len)
{
  if(len <= WORD_CHARS)
    return 1.0;
  return 1.0 + (double)(len - WORD_CHARS) / LONG_CHARS;
}

/* 1 when cp is a letter of an alphabetic script that BPE vocabularies
 * merge into words: Latin-1 and extended Latin (accents, Vietnamese),
 * combining marks, Greek, Cyrillic. */
static int is_word_letter(unsigned long cp)
{
  return (cp >= 0xC0 && cp <= 0x24F && cp != 0xD7 && cp != 0xF7) ||
         (cp >= 0x300 && cp <= 0x52F) || (cp >= 0x1E00 && cp <= 0x1EFF);
}

/* Estimated tokens of s[0..len) (not NUL-terminated). */
long tokens_text(const char *str, size_t len)
{
  const unsigned char *s = (const unsigned char *)str;
  size_t i = 0, run, n;
  double t = 0.0;

  if(!s || !len)
    return 0;
  while(i < len) {
    unsigned char c = s[i];
    unsigned long cp;
    if(cls[c] == C_ALPHA || cls[c] == C_HIGH) {
      /* a word: ASCII letters and letters of alphabetic scripts */
      size_t chars = 0, other = 0;
      int wide = 0;
      for(;;) {
        while(i < len && cls[s[i]] == C_ALPHA) {
          chars++;
          i++;
        }
        if(i == len || cls[s[i]] != C_HIGH)
          break;
        cp = utf8_at(s, len, i, &n);
        if(!is_word_letter(cp))
          break;
        wide = 1;
        chars++;
        i += n;
      }
      if(chars)
        t += wide ? 1.0 + (chars > 3 ? (double)(chars - 3) / 4.0 : 0.0)
                  : word_tokens(chars);
      /* then any other non-ASCII characters */
      while(i < len && s[i] >= 0x80) {
        cp = utf8_at(s, len, i, &n);
        if(is_word_letter(cp))
          break;
        if(is_cjk(cp))
          t += CJK_TOKENS;
        else if(cp >= 0x2000 && cp <= 0x2BFF)
          t += 1.0;             /* punctuation, symbols, arrows */
        else if(cp >= 0x1F000)
          t += 2.0;             /* emoji: 2-3 byte-level tokens */
        else
          other++;              /* Arabic, Hebrew, Indic, Thai ... */
        i += n;
      }
      if(other)
        t += 1.0 + (double)other / 2.0;
      continue;
    }
    switch(ascii_class(c)) {
    case C_SPACE:
    case C_NEWLINE:
      /* a single space belongs to the next word; any other run of
         whitespace (newlines, indentation) is about one token */
      run = 0;
      while(i < len && (ascii_class(s[i]) == C_SPACE ||
                        ascii_class(s[i]) == C_NEWLINE)) {
        i++;
        run++;
      }
      if(run > 1 || c != ' ')
        t += 1.0;
      break;
    case C_DIGIT:
      run = 0;
      while(i < len && ascii_class(s[i]) == C_DIGIT) {
        i++;
        run++;
      }
      t += (double)((run + 2) / 3);
      break;
    case C_PUNCT:
    default:
      run = 0;
      while(i < len && ascii_class(s[i]) == C_PUNCT) {
        i++;
        run++;
      }
      t += (double)((run + 1) / 2);
      break;
    }
  }
  return (long)(t + 0.5);
}

/* Tokens of a message's content (borrows): a string, or an array of parts
 * ({"type":"text","text":...}; an image part counts a flat 85, OpenAI's
 * low-detail price). */
static long content_tokens(jv content)
{
  jv_kind k = jv_get_kind(content);
  long t = 0;
  int i, n;

  if(k == JV_KIND_STRING)
    return tokens_text(jv_string_value(content),
                       (size_t)jv_string_length_bytes(jv_copy(content)));
  if(k != JV_KIND_ARRAY)
    return 0;
  n = jv_array_length(jv_copy(content));
  for(i = 0; i < n; i++) {
    jv part = jv_array_get(jv_copy(content), i);
    if(jv_get_kind(part) == JV_KIND_STRING)
      t += content_tokens(part);
    else if(jv_get_kind(part) == JV_KIND_OBJECT) {
      jv text = jv_object_get(jv_copy(part), ckey(CK_TEXT));
      if(jv_get_kind(text) == JV_KIND_STRING)
        t += content_tokens(text);
      else {
        jv type = jv_object_get(jv_copy(part), ckey(CK_TYPE));
        if(jv_get_kind(type) == JV_KIND_STRING &&
           strstr(jv_string_value(type), "image"))
          t += 85;
        jv_free(type);
      }
      jv_free(text);
    }
    jv_free(part);
  }
  return t;
}

/* Tokens of a JSON value written out (borrows): tool definitions and
 * tool calls. */
static long json_tokens(jv v)
{
  jv s = jv_dump_string(jv_copy(v), 0);
  long t = 0;

  if(jv_get_kind(s) == JV_KIND_STRING)
    t = tokens_text(jv_string_value(s),
                    (size_t)jv_string_length_bytes(jv_copy(s)));
  jv_free(s);
  return t;
}

/* Estimated input tokens of a chat body (borrows). */
long tokens_estimate(jv body)
{
  jv msgs, tools;
  long t = 0;
  int i, n;

  if(jv_get_kind(body) != JV_KIND_OBJECT)
    return 0;
  msgs = jv_object_get(jv_copy(body), ckey(CK_MESSAGES));
  if(jv_get_kind(msgs) == JV_KIND_ARRAY) {
    n = jv_array_length(jv_copy(msgs));
    for(i = 0; i < n; i++) {
      jv m = jv_array_get(jv_copy(msgs), i);
      if(jv_get_kind(m) == JV_KIND_OBJECT) {
        jv c = jv_object_get(jv_copy(m), ckey(CK_CONTENT));
        jv nm = jv_object_get(jv_copy(m), ckey(CK_NAME));
        jv tc = jv_object_get(jv_copy(m), ckey(CK_TOOL_CALLS));
        jv role = jv_object_get(jv_copy(m), ckey(CK_ROLE));
        t += MSG_OVERHEAD + content_tokens(c) + content_tokens(role);
        jv_free(role);
        if(jv_get_kind(nm) == JV_KIND_STRING)
          t += NAME_OVERHEAD + content_tokens(nm);
        if(jv_get_kind(tc) == JV_KIND_ARRAY)
          t += json_tokens(tc);
        jv_free(c);
        jv_free(nm);
        jv_free(tc);
      }
      jv_free(m);
    }
    t += REPLY_PRIMING;
  }
  jv_free(msgs);
  tools = jv_object_get(jv_copy(body), ckey(CK_TOOLS));
  if(jv_get_kind(tools) == JV_KIND_ARRAY)
    t += json_tokens(tools);
  jv_free(tools);
  return t;
}
