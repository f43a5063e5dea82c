/*
 * fuzz.h - what the libFuzzer harnesses of tests/fuzz/ share: a check
 * that aborts with a message (libFuzzer saves the input as a crash), and
 * an in-memory file for the parsers that only take a path.
 *
 * Built only by `make fuzz`, with clang -fsanitize=fuzzer,address,
 * undefined; every harness frees what it allocates (leak detection is
 * on) and reaches no network.
 */
#ifndef LLMR_FUZZ_H
#define LLMR_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* An invariant of the code under test: a failure is a bug found. */
#define FUZZ_CHECK(cond)                                                  \
  do {                                                                    \
    if(!(cond)) {                                                         \
      fprintf(stderr, "fuzz check failed: %s (%s:%d)\n", #cond, __FILE__, \
              __LINE__);                                                  \
      abort();                                                            \
    }                                                                     \
  } while(0)

/* An in-memory file (memfd) holding the input, for code that opens a
 * path: fuzz_file_set() replaces its contents; fuzz_file_path() is a
 * path that opens it afresh (a new offset each open). */
static int fuzz_fd = -1;
static char fuzz_path[64];

static inline const char *fuzz_file_set(const uint8_t *data, size_t size)
{
  if(fuzz_fd < 0) {
    fuzz_fd = memfd_create("llmr-fuzz", MFD_CLOEXEC);
    FUZZ_CHECK(fuzz_fd >= 0);
    snprintf(fuzz_path, sizeof(fuzz_path), "/proc/self/fd/%d", fuzz_fd);
  }
  FUZZ_CHECK(ftruncate(fuzz_fd, 0) == 0);
  FUZZ_CHECK(size == 0 ||
             pwrite(fuzz_fd, data, size, 0) == (ssize_t)size);
  return fuzz_path;
}

#endif
