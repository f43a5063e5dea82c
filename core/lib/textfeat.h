/*
 * textfeat.h - the text featurizer shared by `llmroute train` (core) and
 * the classify stage.  Both sides must turn a prompt into the same
 * features, so everything that touches the text lives here.
 *
 * Internal library (core/lib): a model file, its features and their
 * hashing are the built-in classifier's own format, tuned for speed, not
 * an interface to keep stable for plugin authors.
 *
 *
 *   tf_request_text()  which text of a request is looked at (user and
 *                      system messages, head + tail when long)
 *   tf_tokenize()      lower-cased word, number and symbol tokens, hashed
 *   tf_features()      hashed word unigrams, bigrams and char n-grams
 *   tf_signals()       counts behind the complexity score
 *   tf_complexity()    the complexity formula (documented in textfeat.c)
 *
 * No allocation: callers hand in fixed-size arrays (stack is fine).
 * Hashes are 32-bit FNV-1a over lower-cased ASCII bytes (bytes >= 0x80
 * are kept as they are), the same on every platform.
 */
#ifndef LLMR_TEXTFEAT_H
#define LLMR_TEXTFEAT_H

#include <stddef.h>
#include <stdint.h>
#include <jv.h>

/* Text looked at: the first TF_HEAD bytes and the last TF_TAIL bytes of
 * the user and system messages joined by newlines. */
#define TF_HEAD 2560
#define TF_TAIL 512
#define TF_TEXT_MAX (TF_HEAD + TF_TAIL + 8)

/* Most tokens and features taken from one text. */
#define TF_MAX_TOKENS 1024
#define TF_MAX_FEATS 4096

/* Feature families (a bit set, written in the model file). */
#define TF_F_WORDS 0x1u   /* word and symbol unigrams */
#define TF_F_BIGRAMS 0x2u /* adjacent token pairs */
#define TF_F_CHAR3 0x4u   /* character 3-grams inside words */
#define TF_F_CHAR4 0x8u   /* character 4-grams inside words */
#define TF_F_SIGNALS 0x10u /* coarse signal buckets (length, code ...) */
#define TF_F_DEFAULT (TF_F_WORDS | TF_F_BIGRAMS | TF_F_CHAR4 | TF_F_SIGNALS)

enum tf_kind {
  TF_WORD = 0, /* letters (and digits/underscores after a letter) */
  TF_NUM,      /* starts with a digit */
  TF_SYM       /* one punctuation byte */
};

struct tf_token {
  uint32_t hash;   /* FNV-1a of the lower-cased token */
  uint32_t off;    /* byte offset in the text */
  uint16_t len;    /* bytes */
  uint8_t kind;    /* enum tf_kind */
  uint8_t cap;     /* 1: word starting with an upper-case letter */
};

/* Counts from one text; the complexity formula reads them. */
struct tf_signals {
  size_t bytes;        /* whole text, before head/tail truncation */
  unsigned words;      /* word and number tokens, scaled to `bytes` */
  unsigned questions;  /* '?' characters */
  unsigned steps;      /* numbered/bulleted lines and sequencing words */
  unsigned cues;       /* reasoning cues: why, prove, step by step ... */
  unsigned code;       /* code signs: ``` fences, braces, `def`, `;` EOL */
  unsigned domain;     /* domain terms: contract, kubernetes, theorem ... */
  unsigned entities;   /* capitalised words not starting a sentence, and
                          numbers */
};

/* FNV-1a of s[0..n) lower-cased (ASCII).  Pure. */
uint32_t tf_hash(const char *s, size_t n);

/* The hash of the token pair (a, b).  Pure. */
uint32_t tf_pair(uint32_t a, uint32_t b);

/* Borrows msg_holder: a request ({"body":{"messages":...}}), a bare chat
 * body ({"messages":...}) or a {"prompt":"..."} object.  Writes the text
 * the classifier looks at into buf (NUL-terminated, at most cap - 1
 * bytes; cap >= TF_TEXT_MAX keeps head and tail) and returns its length.
 * *total gets the length of the whole text before truncation (may be
 * NULL).  Returns 0 when there is no text.  Never asserts on bad input. */
size_t tf_request_text(jv msg_holder, char *buf, size_t cap, size_t *total);

/* tf_request_text() keeps the JSON keys it looks up (jv strings, made
 * once); this frees them.  Call it when done (a stage's finish(), the end
 * of `llmroute train`): a plugin is unloaded with them otherwise.  Safe
 * to call again; the next tf_request_text() makes them anew. */
void tf_release(void);

/* Tokenize s[0..n) into toks (at most max).  Returns the count.  Pure. */
size_t tf_tokenize(const char *s, size_t n, struct tf_token *toks,
                   size_t max);

/* Hashed feature ids (in [0, 2^bits)) of the text into out (at most max);
 * families is a TF_F_* set; sig (from tf_signals(), needed only for
 * TF_F_SIGNALS, may be NULL) adds coarse signal features.  Returns the
 * count; ids repeat when a feature occurs more than once.  Borrows
 * everything; pure. */
size_t tf_features(const char *s, const struct tf_token *toks, size_t ntok,
                   const struct tf_signals *sig, unsigned families,
                   unsigned bits, uint32_t *out, size_t max);

/* The signals read from bytes alone (questions, list-item steps, lines
 * ending in ';' or '{'), added into *sig; tf_signals() calls it.  With
 * SSE2 it looks 16 bytes at a time unless bytewise is set (tests compare
 * the two). */
void tf_byte_signals(const char *s, size_t n, struct tf_signals *sig,
                     int bytewise);

/* Fill *sig from the text and its tokens; total is the untruncated
 * length (0: use n).  Pure (uses a table built on first call). */
void tf_signals(const char *s, size_t n, const struct tf_token *toks,
                size_t ntok, size_t total, struct tf_signals *sig);

/* Per-task parts of the complexity formula (textfeat.c documents it):
 * the task's base, and the weights of length and entities, each < 1. */
struct tf_weights {
  double prior, length, entities;
};

/* The weights of a task label (those of "chat" for unknown labels). */
void tf_task_weights(const char *task, struct tf_weights *w);

/* Complexity in [0, 1) from the signals and the task's weights.
 * Non-decreasing in every signal.  Pure. */
double tf_complexity(const struct tf_signals *sig,
                     const struct tf_weights *w);

/* Parse a feature family list like "words,bigrams,char4" into a TF_F_*
 * set; -1 on an unknown name.  tf_families_str() writes the inverse
 * (comma-separated) into buf. */
int tf_families_parse(const char *s);
void tf_families_str(unsigned families, char *buf, size_t cap);

/* ---------------------------------------------------------------------
 * The model: a linear classifier over hashed features, trained by
 * `llmroute train` (naive Bayes or logistic regression) and loaded by the
 * classify stage.  score[c] = bias[c] + scale * SUM over features f of
 * w[f][c], where scale is 1 (norm none) or 1/sqrt(number of features)
 * (norm sqrt).  The predicted task is the highest score.  With algo ovr
 * (one-vs-rest: the router of `llmroute train --outcomes`) each label is
 * a separate binary predictor and its probability is sigmoid(score[c]).
 *
 * File format (text, one record a line):
 *
 *   llmroute-classifier 1
 *   algo nb|lr
 *   bits 18                      hash buckets = 2^bits
 *   features words,bigrams,...   TF_F_* families used
 *   norm none|sqrt
 *   labels N label1 ... labelN
 *   meta KEY VALUE...            optional, any number (at most
 *                                TF_MAX_META): facts a user of the model
 *                                reads with tf_model_meta()
 *   bias b1 ... bN
 *   default d1 ... dN            weights of a bucket not listed below
 *   rows M                       then M text lines, buckets ascending:
 *   BUCKET w1 ... wN
 *   end
 *
 * or, in the compact form `llmroute train` writes by default,
 *
 *   rows M int16 SCALE           then M binary records right after the
 *                                newline: bucket as uint32 little-endian,
 *                                then N int16 little-endian weights;
 *                                weight = int16 * SCALE
 *   end
 */
#define TF_MAX_LABELS 32
#define TF_LABEL_MAX 48
#define TF_MAX_META 16
#define TF_META_MAX 1024

struct tf_model {
  char algo[8];
  unsigned bits, families, nlabels;
  int norm_sqrt;
  char labels[TF_MAX_LABELS][TF_LABEL_MAX];
  float bias[TF_MAX_LABELS];
  float def[TF_MAX_LABELS]; /* the "default" row: rows equal to it are
                               not written */
  float *w;   /* 2^bits rows of nlabels weights, dense (training) */
  int16_t *q; /* the same quantised, weight = q * scale: a loaded model
                 keeps only these (half the memory, fewer cache misses) */
  float scale;
  char meta[TF_MAX_META][TF_META_MAX]; /* "KEY VALUE..." lines */
  unsigned nmeta;
};

/* A new model with every weight 0, or NULL (out of memory or bad
 * arguments: bits in 8..24, 1..TF_MAX_LABELS labels).  Free with
 * tf_model_free(). */
struct tf_model *tf_model_new(unsigned bits, unsigned families,
                              unsigned nlabels, const char *const *labels);
/* Accepts NULL. */
void tf_model_free(struct tf_model *m);

/* Write m (borrowed) to path; rows equal to the default row are left
 * out; binary: rows as int16 records (else text).  0, or -1 with a
 * message in err. */
int tf_model_save(const struct tf_model *m, const char *path, int binary,
                  char *err, size_t errlen);
/* Read a model file.  NULL with "path:LINE: message" in err on failure. */
struct tf_model *tf_model_load(const char *path, char *err, size_t errlen);

/* Index of the best label for the features (borrowed); probs may be
 * NULL: nlabels softmax probabilities, or with algo ovr each label's own
 * probability (sigmoid of its score).  Pure. */
int tf_model_predict(const struct tf_model *m, const uint32_t *feats,
                     size_t n, double *probs);

/* Index of label in m, or -1. */
int tf_model_label(const struct tf_model *m, const char *label);

/* A loaded model (borrowed) keeping only the n labels at indexes idx,
 * in that order (the rows shrink with them: a stage that needs a few of
 * a router's predictors pays for those only), or NULL when out of
 * memory.  Free with tf_model_free(). */
struct tf_model *tf_model_subset(const struct tf_model *m, const int *idx,
                                 unsigned n);

/* The value of meta line KEY (the text after "KEY "), or NULL. */
const char *tf_model_meta(const struct tf_model *m, const char *key);
/* Add (or replace) meta line KEY VALUE.  0, or -1 when full or too
 * long. */
int tf_model_set_meta(struct tf_model *m, const char *key,
                      const char *value);

/* Featurize a text the way model m expects: tokens, signals, features.
 * Writes feats (TF_MAX_FEATS) and *sig (may be NULL); returns the count.
 * Uses about 16 KiB of stack. */
size_t tf_text_features(const char *text, size_t len, size_t total,
                        unsigned families, unsigned bits, uint32_t *feats,
                        struct tf_signals *sig);

#endif /* LLMR_TEXTFEAT_H */
