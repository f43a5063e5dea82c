/*
 * test_pipeline.c - parsing pipeline files: words, quotes, ${VAR},
 * comments, set lines, relative paths, and FILE:LINE errors.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core.h"
#include "harness.h"

static char dir[] = "/tmp/llmr-pl-XXXXXX";

/* Write text to DIR/name; returns the path (static buffer). */
static const char *write_file(const char *name, const char *text)
{
  static char path[256];
  FILE *f;

  snprintf(path, sizeof(path), "%s/%s", dir, name);
  f = fopen(path, "w");
  fputs(text, f);
  fclose(f);
  return path;
}

/* Parse text; returns the status, stderr captured into err. */
static int parse(const char *text, struct pipeline *pl, char *err,
                 size_t errlen)
{
  const char *path = write_file("t.pipeline", text);
  char errpath[300];
  FILE *saved;
  int rc, fd;

  snprintf(errpath, sizeof(errpath), "%s/err", dir);
  fflush(stderr);
  fd = dup(2);
  saved = freopen(errpath, "w", stderr);
  (void)saved;
  rc = pipeline_parse(pl, path);
  fflush(stderr);
  dup2(fd, 2);
  close(fd);
  {
    FILE *f = fopen(errpath, "r");
    size_t n = fread(err, 1, errlen - 1, f);

    err[n] = '\0';
    fclose(f);
  }
  return rc;
}

int main(void)
{
  struct pipeline pl;
  char err[1024];
  int rc;

  if(!mkdtemp(dir)) {
    puts("FAIL: mkdtemp");
    return 1;
  }
  setenv("LLMR_T_TIMEOUT", "45", 1);
  unsetenv("LLMR_T_UNSET");

  rc = parse("# a comment\n"
             "set catalog=models.json baseline=claude-opus-4-5\n"
             "\n"
             "jq program='.body.max_tokens = 256'   # trailing comment\n"
             "call timeout=${LLMR_T_TIMEOUT} retries=${LLMR_T_UNSET:-2}\n"
             "jq program=\"a \\\"q\\\" ${LLMR_T_TIMEOUT} # not a comment\"\n",
             &pl, err, sizeof(err));
  CHECK_INT("good file parses", rc, LLMR_OK);
  CHECK_STR("no message", err, "");
  CHECK_INT("three stages", pl.nstages, 3);
  CHECK_INT("two settings", pl.nsettings, 2);
  if(pl.nstages == 3 && pl.nsettings == 2) {
    char want[300];

    snprintf(want, sizeof(want), "%s/models.json", dir);
    CHECK_STR("catalog resolved against the file's folder",
              pipeline_setting(&pl, "catalog"), want);
    CHECK_STR("plain setting", pipeline_setting(&pl, "baseline"),
              "claude-opus-4-5");
    CHECK("absent setting", pipeline_setting(&pl, "nope") == NULL);
    CHECK_STR("stage name", pl.stages[0].cf.name, "jq");
    CHECK_INT("stage line", pl.stages[0].cf.line, 4);
    CHECK_STR("single quotes kept whole", pl.stages[0].opts[0].val,
              ".body.max_tokens = 256");
    CHECK_STR("${VAR} expanded", pl.stages[1].opts[0].val, "45");
    CHECK_STR("${VAR:-default}", pl.stages[1].opts[1].val, "2");
    CHECK_STR("double quotes: escapes, ${VAR}, # kept",
              pl.stages[2].opts[0].val, "a \"q\" 45 # not a comment");
    CHECK_INT("index", pl.stages[2].cf.index, 2);
  }
  pipeline_free(&pl);
  pipeline_free(&pl); /* twice is safe */

  /* fuzz_pipeline: a word that expands to nothing (a set but empty
     variable, an empty default) was a buffer never terminated; dirty
     the heap so the old code reads garbage, not a lucky zero */
  setenv("LLMR_T_EMPTY", "", 1);
  {
    char *dirty = malloc(256);

    if(dirty)
      memset(dirty, 'x', 256);
    free(dirty);
  }
  rc = parse("${LLMR_T_EMPTY} k=${LLMR_T_EMPTY}\n"
             "\"${LLMR_T_UNSET:-}\"\n", &pl, err, sizeof(err));
  CHECK_INT("empty expansion parses", rc, LLMR_OK);
  CHECK_INT("empty expansion: two stages", pl.nstages, 2);
  if(pl.nstages == 2) {
    CHECK_STR("empty ${VAR} word is empty", pl.stages[0].cf.name, "");
    CHECK_STR("empty ${VAR} value", pl.stages[0].opts[0].val, "");
    CHECK_STR("empty quoted default word is empty", pl.stages[1].cf.name,
              "");
  }
  pipeline_free(&pl);

  rc = parse("jq program='.a\n", &pl, err, sizeof(err));
  CHECK_INT("unterminated quote fails", rc, LLMR_ERR);
  CHECK("unterminated quote: FILE:LINE", strstr(err, "t.pipeline:1: ") &&
        strstr(err, "unterminated"));
  pipeline_free(&pl);

  rc = parse("\n\ncall timeout=${LLMR_T_UNSET}\n", &pl, err, sizeof(err));
  CHECK_INT("unset variable fails", rc, LLMR_ERR);
  CHECK("unset variable: line 3 and the name",
        strstr(err, "t.pipeline:3: ") && strstr(err, "LLMR_T_UNSET"));
  pipeline_free(&pl);

  rc = parse("call timeout=1 timeout=2\n", &pl, err, sizeof(err));
  CHECK_INT("option twice fails", rc, LLMR_ERR);
  CHECK("option twice: message", strstr(err, "given twice") != NULL);
  pipeline_free(&pl);

  rc = parse("set x.a=1\nset x.a=2\njq program=.\n", &pl, err, sizeof(err));
  CHECK_INT("setting twice fails", rc, LLMR_ERR);
  CHECK("setting twice: line 2", strstr(err, "t.pipeline:2: ") != NULL);
  pipeline_free(&pl);

  rc = parse("call timeout\n", &pl, err, sizeof(err));
  CHECK_INT("word without = fails", rc, LLMR_ERR);
  pipeline_free(&pl);

  rc = parse("timeout=3\n", &pl, err, sizeof(err));
  CHECK_INT("KEY=VALUE as a stage fails", rc, LLMR_ERR);
  CHECK("KEY=VALUE hint", strstr(err, "'set'") != NULL);
  pipeline_free(&pl);

  rc = parse("# only comments\n\n", &pl, err, sizeof(err));
  CHECK_INT("no stage fails", rc, LLMR_ERR);
  CHECK("no stage message", strstr(err, "no stage") != NULL);
  pipeline_free(&pl);

  {
    char *p = pipeline_resolve("audit");

    CHECK("bare name -> share/llmroute/pipelines/NAME.pipeline",
          p && strstr(p, "/share/llmroute/pipelines/audit.pipeline"));
    free(p);
    p = pipeline_resolve("x/y.pipeline");
    CHECK_STR("path kept", p, "x/y.pipeline");
    free(p);
  }

  unlink(write_file("t.pipeline", ""));
  unlink(write_file("err", ""));
  rmdir(dir);
  return harness_done();
}
