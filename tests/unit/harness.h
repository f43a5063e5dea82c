/*
 * harness.h - a tiny test harness (after sds testhelp.h and collectd
 * testing.h).  Each check prints "PASS: name" or "FAIL: name: why" on
 * stdout; tests/run.sh counts those lines.  main() ends with
 * `return harness_done();`, which exits non-zero when a check failed.
 *
 *   CHECK(name, cond)              a boolean check
 *   CHECK_STR(name, got, want)     strings equal (NULL-safe)
 *   CHECK_INT(name, got, want)     integers equal
 *   CHECK_DBL(name, got, want, e)  |got - want| <= e
 */
#ifndef LLMR_HARNESS_H
#define LLMR_HARNESS_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int harness_failed;

#define CHECK(name, cond)                                                  \
  do {                                                                     \
    if(cond)                                                               \
      printf("PASS: %s\n", (name));                                        \
    else {                                                                 \
      printf("FAIL: %s: %s (%s:%d)\n", (name), #cond, __FILE__, __LINE__); \
      harness_failed++;                                                    \
    }                                                                      \
  } while(0)

#define CHECK_STR(name, got, want)                                         \
  do {                                                                     \
    const char *g_ = (got), *w_ = (want);                                  \
    if((g_ == NULL && w_ == NULL) || (g_ && w_ && !strcmp(g_, w_)))         \
      printf("PASS: %s\n", (name));                                        \
    else {                                                                 \
      printf("FAIL: %s: got \"%s\", want \"%s\" (%s:%d)\n", (name),         \
             g_ ? g_ : "(null)", w_ ? w_ : "(null)", __FILE__, __LINE__);   \
      harness_failed++;                                                    \
    }                                                                      \
  } while(0)

#define CHECK_INT(name, got, want)                                         \
  do {                                                                     \
    long long g_ = (long long)(got), w_ = (long long)(want);               \
    if(g_ == w_)                                                           \
      printf("PASS: %s\n", (name));                                        \
    else {                                                                 \
      printf("FAIL: %s: got %lld, want %lld (%s:%d)\n", (name), g_, w_,    \
             __FILE__, __LINE__);                                          \
      harness_failed++;                                                    \
    }                                                                      \
  } while(0)

#define CHECK_DBL(name, got, want, eps)                                    \
  do {                                                                     \
    double g_ = (got), w_ = (want);                                        \
    if(fabs(g_ - w_) <= (eps))                                             \
      printf("PASS: %s\n", (name));                                        \
    else {                                                                 \
      printf("FAIL: %s: got %.17g, want %.17g (%s:%d)\n", (name), g_, w_,  \
             __FILE__, __LINE__);                                          \
      harness_failed++;                                                    \
    }                                                                      \
  } while(0)

static inline int harness_done(void)
{
  fflush(stdout);
  return harness_failed ? 1 : 0;
}

#endif
