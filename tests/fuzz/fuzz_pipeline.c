/*
 * fuzz_pipeline.c - the pipeline-file parser (core/pipeline.c:
 * pipeline_parse: words, quotes, ${VAR}, comments, set lines, stage
 * options), without loading a stage (no pipeline_load, no dlopen).
 *
 * The input is the file, read from an in-memory file.  A file that
 * parses has at least one stage, each with a name and KEY=VALUE options
 * of valid keys given once; every setting reads back, and overriding
 * and removing one work.
 */
#include <ctype.h>

#include "core.h"
#include "fuzz.h"

static int valid_key(const char *k)
{
  if(!*k)
    return 0;
  for(; *k; k++)
    if(!isalnum((unsigned char)*k) && *k != '_' && *k != '-' && *k != '.')
      return 0;
  return 1;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  /* ${VAR} finds these (and whatever else the environment holds) */
  setenv("LLMR_FUZZ_SET", "value with spaces", 1);
  setenv("LLMR_FUZZ_EMPTY", "", 1);
  unsetenv("LLMR_FUZZ_UNSET");
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct pipeline pl;
  const char *path = fuzz_file_set(data, size);
  int i, j, rc;

  rc = pipeline_parse(&pl, path);
  if(rc == LLMR_OK) {
    FUZZ_CHECK(pl.nstages > 0);
    for(i = 0; i < pl.nstages; i++) {
      const struct stage_inst *st = &pl.stages[i];

      FUZZ_CHECK(st->cf.name != NULL); /* "" when ${VAR} is empty */
      FUZZ_CHECK(!strchr(st->cf.name, '='));
      FUZZ_CHECK(st->cf.index == i);
      for(j = 0; j < st->nopts; j++) {
        int k;

        FUZZ_CHECK(valid_key(st->opts[j].key) && st->opts[j].val);
        for(k = 0; k < j; k++)
          FUZZ_CHECK(strcmp(st->opts[k].key, st->opts[j].key));
      }
    }
    for(i = 0; i < pl.nsettings; i++) {
      FUZZ_CHECK(valid_key(pl.settings[i].key));
      FUZZ_CHECK(pipeline_setting(&pl, pl.settings[i].key) ==
                 pl.settings[i].val);
    }
    /* what --catalog and --baseline do */
    FUZZ_CHECK(pipeline_override(&pl, "baseline", "fuzz-model") == LLMR_OK);
    FUZZ_CHECK(!strcmp(pipeline_setting(&pl, "baseline"), "fuzz-model"));
    FUZZ_CHECK(pipeline_override(&pl, "catalog", NULL) == LLMR_OK);
    FUZZ_CHECK(pipeline_setting(&pl, "catalog") == NULL);
  }
  pipeline_free(&pl);
  return 0;
}
