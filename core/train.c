/*
 * train.c - `llmroute train`: fit the classify stage's model from
 * labelled JSONL.  (First version: a stub so the runner links.)
 */
#include <stdio.h>
#include "core.h"

/* Borrows argv.  Exit status: 0 ok, 2 usage or input error. */
int train_main(int argc, char **argv)
{
  (void)argc;
  (void)argv;
  fprintf(stderr, "llmroute train: not implemented yet\n");
  return 2;
}
