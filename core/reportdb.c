/*
 * reportdb.c - `llmroute report runs.db`: a log stage's SQLite file read
 * as the result lines it stores.
 *
 * The runner links no SQLite (only the log plugin does): a file that
 * starts with SQLite's 16-byte header is handed to llmr_log_export() of
 * log.so, found where the runner finds stages, which writes the stored
 * result lines into a temporary file; the report reads that as it reads
 * any result file, so both give the same numbers.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core.h"

/* llmr_log_export() of plugins/log (plugins/log/log.h). */
typedef int (*export_fn)(const char *db, FILE *out, char *err,
                         size_t errlen);

static const char sqlite_magic[16] = "SQLite format 3";

/* The result lines stored in the SQLite file path, in a temporary file
 * opened for reading at its start; NULL (message printed) on failure. */
static FILE *export_db(const char *path)
{
  char *so = loader_find("log"), err[512];
  void *dl = NULL;
  export_fn fn = NULL;
  FILE *tmp = NULL;

  err[0] = '\0';
  if(!so) {
    snprintf(err, sizeof(err), "a SQLite file, but the log plugin (log.so)"
             " is not installed to read it");
    goto fail;
  }
  dl = dlopen(so, RTLD_NOW | RTLD_LOCAL);
  if(!dl) {
    snprintf(err, sizeof(err), "cannot load %s: %s", so, dlerror());
    goto fail;
  }
  /* POSIX: a function pointer through a void * */
  *(void **)(&fn) = dlsym(dl, "llmr_log_export");
  if(!fn) {
    snprintf(err, sizeof(err), "%s has no llmr_log_export", so);
    goto fail;
  }
  tmp = tmpfile();
  if(!tmp) {
    snprintf(err, sizeof(err), "temporary file: %s", strerror(errno));
    goto fail;
  }
  if(fn(path, tmp, err, sizeof(err)) != LLMR_OK || fflush(tmp) != 0 ||
     fseek(tmp, 0, SEEK_SET) != 0) {
    if(!err[0])
      snprintf(err, sizeof(err), "temporary file: %s", strerror(errno));
    goto fail;
  }
  dlclose(dl);
  free(so);
  return tmp;

fail:
  fprintf(stderr, "llmroute: report: %s: %s\n", path, err);
  if(tmp)
    fclose(tmp);
  if(dl)
    dlclose(dl);
  free(so);
  return NULL;
}

FILE *report_open(const char *path)
{
  FILE *f = fopen(path, "r");
  struct stat sb;
  char head[16];

  if(!f) {
    fprintf(stderr, "llmroute: report: %s: %s\n", path, strerror(errno));
    return NULL;
  }
  /* only a regular file can be a database; a pipe (report <(cmd)) is
     read as result lines, untouched */
  if(fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode))
    return f;
  if(fread(head, 1, sizeof(head), f) == sizeof(head) &&
     !memcmp(head, sqlite_magic, sizeof(head))) {
    fclose(f);
    return export_db(path);
  }
  rewind(f); /* a result file: read from its start */
  return f;
}
