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
 * o200k_base tokenizer: on 1,639 public task prompts (MT-bench,
 * Arena-hard, RouterArena)
 * (text only) total +2.7%, median |error| 4.5%, 90th percentile 14%
 * (cl100k_base: -1.6%, 4.8%, 24%); on the 213 requests of
 * pipelines/examples/prompts.jsonl (chat counts) total +0.1%, median
 * 3.7%, 90th percentile 10.5%.  Claude's and Gemini's tokenizers were
 * not measured (Anthropic says Claude 4.7+ counts ~30% more).
 */
#include <string.h>
#include <stdint.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core.h"
#include "jvfast.h"

#define WORD_CHARS 8      /* letters a common word spans in one token */
#define LONG_CHARS 4      /* letters per extra token past WORD_CHARS */
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

/* Estimated tokens of s[0..len) (not NUL-terminated), a byte at a time:
 * any text.  tokens_text() takes a faster path for ASCII. */
long tokens_text_scalar(const char *str, size_t len)
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

#if defined(__SSE2__)
/* ---------------------------------------------------------------------
 * ASCII text, 64 bytes at a time
 *
 * Most prompts are ASCII, and the byte loop above spends a branch on
 * every byte.  For ASCII the same count follows from bit masks of a
 * 64-byte block (bit i: byte i is a letter, a digit, white space ...):
 *   words      one per run of letters, plus a quarter for each letter
 *              with 8 letters before it in its run (WORD_CHARS,
 *              LONG_CHARS): the letters whose 8 predecessors are all
 *              letters are an AND of the mask shifted by 1 to 8
 *   whitespace one per run, less the runs that are a single ' '
 *   digits,    per run, found by its first byte and measured byte by
 *   punctuation byte (they are short and few)
 * Masks shift in the previous block's bits, so runs cross blocks.  The
 * count is kept in quarter tokens, exactly what the byte loop sums as a
 * double, and rounded the same way.  tests/unit/test_tokens.c compares
 * the two on random text.
 */
#if WORD_CHARS != 8 || LONG_CHARS != 4
#error "the ASCII path assumes 8 letters a token and 4 a token past them"
#endif

static unsigned bitcount(uint64_t x)
{
  x = x - ((x >> 1) & 0x5555555555555555ULL);
  x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
  x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
  return (unsigned)((x * 0x0101010101010101ULL) >> 56);
}

/* x shifted up by k (1..63), bits from prev shifted in at the bottom */
#define SHL(x, prev, k) (((x) << (k)) | ((prev) >> (64 - (k))))

struct masks {
  uint64_t alpha, digit, space, blank, high;  /* blank: ' ' itself */
};

static uint64_t movemask16(__m128i m, int at)
{
  return (uint64_t)(unsigned)_mm_movemask_epi8(m) << at;
}

static void classify64(const unsigned char *s, struct masks *m)
{
  const __m128i x20 = _mm_set1_epi8(0x20); /* ' ', and the case bit */
  int k;

  memset(m, 0, sizeof(*m));
  for(k = 0; k < 64; k += 16) {
    __m128i c = _mm_loadu_si128((const __m128i *)(const void *)(s + k));
    __m128i l = _mm_or_si128(c, x20);
    __m128i a = _mm_and_si128(_mm_cmpgt_epi8(l, _mm_set1_epi8('a' - 1)),
                              _mm_cmplt_epi8(l, _mm_set1_epi8('z' + 1)));
    __m128i d = _mm_and_si128(_mm_cmpgt_epi8(c, _mm_set1_epi8('0' - 1)),
                              _mm_cmplt_epi8(c, _mm_set1_epi8('9' + 1)));
    __m128i b = _mm_cmpeq_epi8(c, x20);
    __m128i w = _mm_or_si128(b, _mm_and_si128(
                  _mm_cmpgt_epi8(c, _mm_set1_epi8('\t' - 1)),
                  _mm_cmplt_epi8(c, _mm_set1_epi8('\r' + 1))));
    m->alpha |= movemask16(a, k);
    m->digit |= movemask16(d, k);
    m->space |= movemask16(w, k);
    m->blank |= movemask16(b, k);
    m->high |= movemask16(c, k);
  }
}

/* Tokens of s[i..) of one class, counted per run from each run's first
 * byte: digits take 3 a token, punctuation 2. */
static unsigned long runs_of(const unsigned char *s, size_t len,
                             size_t base, uint64_t starts, enum cclass want,
                             unsigned per)
{
  unsigned long t = 0;

  while(starts) {
    size_t i = base + (size_t)__builtin_ctzll(starts), run = 0;

    while(i < len && cls[s[i]] == want) {
      i++;
      run++;
    }
    t += (run + per - 1) / per;
    starts &= starts - 1;
  }
  return t;
}

/* Tokens of ASCII text, or -1 when a byte >= 0x80 turns up. */
static long ascii_tokens(const unsigned char *s, size_t len)
{
  uint64_t p_alpha = 0, p_t1 = 0, p_t2 = 0, p_digit = 0, p_punct = 0;
  uint64_t p_space = 0, lone_top = 0;
  unsigned long q = 0; /* quarter tokens */
  unsigned char tail[64];
  size_t i;

  for(i = 0; i < len; i += 64) {
    const unsigned char *b = s + i;
    uint64_t valid = ~(uint64_t)0, punct, t1, t2, t4, lone;
    struct masks m;

    if(len - i < 64) {
      memset(tail, 0, sizeof(tail));
      memcpy(tail, b, len - i);
      b = tail;
      valid = ((uint64_t)1 << (len - i)) - 1;
    }
    classify64(b, &m);
    if(m.high)
      return -1;
    punct = valid & ~(m.alpha | m.digit | m.space);
    /* words: runs, and letters with 8 letters before them */
    t1 = m.alpha & SHL(m.alpha, p_alpha, 1);
    t2 = t1 & SHL(t1, p_t1, 2);
    t4 = t2 & SHL(t2, p_t2, 4);
    q += 4 * bitcount(m.alpha & ~SHL(m.alpha, p_alpha, 1)) +
         bitcount(t4 & SHL(m.alpha, p_alpha, 8));
    /* white space: runs, less those that are one ' ' (a run of one
     * blank is lone when the next byte is not space; for the top bit
     * that is known with the next block) */
    lone = m.space & ~SHL(m.space, p_space, 1) & m.blank;
    if(lone_top && !(m.space & 1))
      q -= 4;
    q += 4 * bitcount(m.space & ~SHL(m.space, p_space, 1));
    q -= 4 * bitcount(lone & ~(m.space >> 1) & ~((uint64_t)1 << 63));
    lone_top = lone >> 63;
    q += 4 * runs_of(s, len, i, m.digit & ~SHL(m.digit, p_digit, 1),
                     C_DIGIT, 3);
    q += 4 * runs_of(s, len, i, punct & ~SHL(punct, p_punct, 1), C_PUNCT,
                     2);
    p_alpha = m.alpha;
    p_t1 = t1;
    p_t2 = t2;
    p_digit = m.digit;
    p_punct = punct;
    p_space = m.space;
  }
  if(lone_top)
    q -= 4;
  return (long)((q + 2) / 4);
}
#endif

/* Estimated tokens of s[0..len) (not NUL-terminated). */
long tokens_text(const char *s, size_t len)
{
#if defined(__SSE2__)
  long t;

  if(s && len >= 16 && (t = ascii_tokens((const unsigned char *)s, len))
     >= 0)
    return t;
#endif
  return tokens_text_scalar(s, len);
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
                       (size_t)jv_string_length_bytes(jvf_copy(content)));
  if(k != JV_KIND_ARRAY)
    return 0;
  n = jv_array_length(jvf_copy(content));
  for(i = 0; i < n; i++) {
    jv part = jv_array_get(jvf_copy(content), i);
    if(jv_get_kind(part) == JV_KIND_STRING)
      t += content_tokens(part);
    else if(jv_get_kind(part) == JV_KIND_OBJECT) {
      jv text = cget(part, CK_TEXT);
      if(jv_get_kind(text) == JV_KIND_STRING)
        t += content_tokens(text);
      else {
        jv type = cget(part, CK_TYPE);
        if(jv_get_kind(type) == JV_KIND_STRING &&
           strstr(jv_string_value(type), "image"))
          t += 85;
        jvf_free(type);
      }
      jvf_free(text);
    }
    jvf_free(part);
  }
  return t;
}

/* Tokens of a JSON value written out (borrows): tool definitions and
 * tool calls. */
static long json_tokens(jv v)
{
  jv s = jv_dump_string(jvf_copy(v), 0);
  long t = 0;

  if(jv_get_kind(s) == JV_KIND_STRING)
    t = tokens_text(jv_string_value(s),
                    (size_t)jv_string_length_bytes(jvf_copy(s)));
  jvf_free(s);
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
  msgs = cget(body, CK_MESSAGES);
  if(jv_get_kind(msgs) == JV_KIND_ARRAY) {
    n = jv_array_length(jvf_copy(msgs));
    for(i = 0; i < n; i++) {
      jv m = jv_array_get(jvf_copy(msgs), i);
      if(jv_get_kind(m) == JV_KIND_OBJECT) {
        jv c = cget(m, CK_CONTENT);
        jv nm = cget(m, CK_NAME);
        jv tc = cget(m, CK_TOOL_CALLS);
        jv role = cget(m, CK_ROLE);
        t += MSG_OVERHEAD + content_tokens(c) + content_tokens(role);
        jvf_free(role);
        if(jv_get_kind(nm) == JV_KIND_STRING)
          t += NAME_OVERHEAD + content_tokens(nm);
        if(jv_get_kind(tc) == JV_KIND_ARRAY)
          t += json_tokens(tc);
        jvf_free(c);
        jvf_free(nm);
        jvf_free(tc);
      }
      jvf_free(m);
    }
    t += REPLY_PRIMING;
  }
  jvf_free(msgs);
  tools = cget(body, CK_TOOLS);
  if(jv_get_kind(tools) == JV_KIND_ARRAY)
    t += json_tokens(tools);
  jvf_free(tools);
  return t;
}
