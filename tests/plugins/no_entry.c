/*
 * no_entry.c - test plugin (deliberately broken): a shared object that
 * exports a function, but not llmr_stage_entry.  The runner must refuse
 * it with "FILE:LINE: ..." and exit 2 before reading any input.
 */
#include "llmroute.h"

LLMR_EXPORT int llmr_stage_entry_misspelt(void);

int llmr_stage_entry_misspelt(void)
{
  return LLMR_ABI_MAJOR;
}
