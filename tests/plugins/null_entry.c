/*
 * null_entry.c - test stage (deliberately refusing): its entry returns
 * NULL, as a plugin does when it will not run on this runner.  The runner
 * must stop with "FILE:LINE: ..." and exit 2.
 */
#include <stddef.h>
#include "llmroute.h"

const struct llmr_stage *llmr_stage_entry(unsigned host_major,
                                          unsigned host_minor)
{
  (void)host_major;
  (void)host_minor;
  return NULL;
}
