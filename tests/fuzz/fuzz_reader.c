/*
 * fuzz_reader.c - input lines to requests or error records: the reader
 * (core/reader.c: buffering, line splitting, max_line, blank lines,
 * json_parse, request_normalise) through the writer (core/writer.c),
 * with --dry-run's "request" in every result.
 *
 * The input is a whole input file.  It runs through a one-stage pipeline
 * whose stage (here, no plugin) checks every request it is handed; at
 * most 4 requests are in flight (-j 4) and max_line is 512 bytes, so the
 * refill, over-long line and --keep-order paths are all reached with
 * small inputs.  Results go to an in-memory stdout and are checked: one
 * result line per input line that is not blank, each a JSON object with
 * a custom_id, an error either null or an input error with its line.
 */
#include <fcntl.h>
#include <sys/stat.h>

#include "run.h"
#include "fuzz.h"

#define MAX_LINE 512
#define MAX_JOBS 4

static int out_fd = -1;
static long nlines; /* input lines */

/* Borrows obj.  obj[key], or jv_invalid() (never asserts). */
static jv get(jv obj, const char *key)
{
  if(jv_get_kind(obj) != JV_KIND_OBJECT)
    return jv_invalid();
  return jv_object_get(jv_copy(obj), jv_string(key));
}

/* The stage: every request the reader makes is a Batch-shaped object
 * whose custom_id is the job's, with a non-empty messages array. */
static enum llmr_verdict check_request(void *self, struct llmr_job *job)
{
  jv req = job->request, id, body, msgs, routing;

  (void)self;
  FUZZ_CHECK(jv_get_kind(req) == JV_KIND_OBJECT);
  FUZZ_CHECK(job->custom_id != NULL);
  id = get(req, "custom_id");
  FUZZ_CHECK(jv_get_kind(id) == JV_KIND_STRING &&
             !strcmp(jv_string_value(id), job->custom_id));
  jv_free(id);
  body = get(req, "body");
  FUZZ_CHECK(jv_get_kind(body) == JV_KIND_OBJECT);
  msgs = get(body, "messages");
  FUZZ_CHECK(jv_get_kind(msgs) == JV_KIND_ARRAY &&
             jv_array_length(jv_copy(msgs)) > 0);
  jv_free(msgs);
  jv_free(body);
  routing = get(req, "routing");
  FUZZ_CHECK(!jv_is_valid(routing) ||
             jv_get_kind(routing) == JV_KIND_OBJECT);
  jv_free(routing);
  return LLMR_NEXT;
}

static const struct llmr_stage check_stage = {
  LLMR_STAGE_VERSION, .name = "check", .version = "1",
  .description = "checks each request", .process = check_request,
};

/* The lines of data that make a result: not blank (spaces and tabs, an
 * optional \r), or longer than max_line. */
static long expected_results(const uint8_t *data, size_t size)
{
  size_t i = 0;
  long n = 0;

  nlines = 0;
  while(i < size) {
    const uint8_t *nl = memchr(data + i, '\n', size - i);
    size_t len = nl ? (size_t)(nl - (data + i)) : size - i, j, l = len;

    nlines++;
    if(len > MAX_LINE)
      n++;
    else {
      if(l && data[i + l - 1] == '\r')
        l--;
      for(j = 0; j < l && (data[i + j] == ' ' || data[i + j] == '\t'); j++)
        ;
      if(j < l)
        n++;
    }
    i += len + 1;
  }
  return n;
}

/* Check one result line (len bytes, no newline). */
static void check_result(const char *s, size_t len)
{
  jv r = json_parse(s, len), id, err;

  FUZZ_CHECK(jv_get_kind(r) == JV_KIND_OBJECT);
  id = get(r, "custom_id");
  FUZZ_CHECK(jv_get_kind(id) == JV_KIND_STRING);
  jv_free(id);
  err = get(r, "error");
  if(jv_get_kind(err) == JV_KIND_NULL) {
    jv req = get(r, "request");
    FUZZ_CHECK(jv_get_kind(req) == JV_KIND_OBJECT);
    jv_free(req);
  }
  else {
    jv stage = get(err, "stage"), code = get(err, "code");
    jv line = get(err, "line"), msg = get(err, "message");

    FUZZ_CHECK(jv_get_kind(stage) == JV_KIND_STRING &&
               !strcmp(jv_string_value(stage), "input"));
    FUZZ_CHECK(jv_get_kind(code) == JV_KIND_STRING);
    FUZZ_CHECK(jv_get_kind(msg) == JV_KIND_STRING);
    FUZZ_CHECK(jv_get_kind(line) == JV_KIND_NUMBER &&
               jv_number_value(line) >= 1 &&
               jv_number_value(line) <= (double)nlines);
    jv_free(stage);
    jv_free(code);
    jv_free(line);
    jv_free(msg);
  }
  jv_free(err);
  jv_free(r);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  /* results go to stdout: make it an in-memory file */
  out_fd = memfd_create("llmr-fuzz-out", MFD_CLOEXEC);
  FUZZ_CHECK(out_fd >= 0 && dup2(out_fd, 1) == 1);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static struct stage_inst st;
  static struct pipeline pl;
  char *files[2];
  long want = expected_results(data, size), got = 0, turns = 0;
  struct stat sb;
  char *out;
  size_t i, start;

  files[0] = (char *)fuzz_file_set(data, size);
  files[1] = NULL;
  FUZZ_CHECK(ftruncate(1, 0) == 0 && lseek(1, 0, SEEK_SET) == 0);

  memset(&st, 0, sizeof(st));
  st.desc = &check_stage;
  st.cf.file = "fuzz.pipeline";
  st.cf.line = 1;
  st.cf.name = "check";
  st.cf.instance = "check";
  memset(&pl, 0, sizeof(pl));
  pl.file = "fuzz.pipeline";
  pl.dir = ".";
  pl.stages = &st;
  pl.nstages = 1;

  memset(&R, 0, sizeof(R));
  R.pl = &pl;
  R.cur_stage = -1;
  R.nrun = 1;
  R.dry_run = 1;
  R.max_jobs = MAX_JOBS;
  R.max_line = MAX_LINE;
  R.max_hops = 8;
  writer_init((int)(size & 1), R.max_jobs); /* --keep-order or not */
  FUZZ_CHECK(reader_open(files) == LLMR_OK);
  for(;;) {
    if(!R.stop_reading && R.nactive < R.max_jobs)
      reader_fill();
    runq_run();
    if(reader_done() && R.nactive == 0)
      break;
    FUZZ_CHECK(++turns < 100000); /* the reader makes progress */
  }
  FUZZ_CHECK(writer_flush() == 0);
  reader_close();
  writer_free();
  json_write_cache_free();

  /* one result line per line that is not blank */
  FUZZ_CHECK(fstat(1, &sb) == 0);
  out = malloc((size_t)sb.st_size + 1);
  FUZZ_CHECK(out != NULL);
  FUZZ_CHECK(pread(1, out, (size_t)sb.st_size, 0) == sb.st_size);
  for(i = start = 0; i < (size_t)sb.st_size; i++)
    if(out[i] == '\n') {
      check_result(out + start, i - start);
      got++;
      start = i + 1;
    }
  FUZZ_CHECK(start == (size_t)sb.st_size); /* whole lines only */
  FUZZ_CHECK(got == want);
  FUZZ_CHECK((long)R.nok + (long)R.nerrors == want);
  free(out);
  return 0;
}
