/*
 * reader.c - input lines: read(2) into a reused buffer, split, parse and
 * normalise each into a job (input shapes: llmroute(1), INPUT LINES).
 * Reading stops while -j jobs are
 * unwritten, so memory stays bounded whatever the input size.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run.h"
#include "jvfast.h"

#define READ_CHUNK 65536

static struct {
  char **files;        /* NULL-terminated, or NULL for stdin */
  int next_file;
  int fd;              /* current input, -1 between files */
  int fd_is_file;      /* a regular file: always readable */
  int ready;           /* poll said the fd is readable */
  int eof_all;
  const char *name;    /* for messages */
  struct buf in;
  size_t pos;          /* start of the unconsumed bytes in `in` */
  size_t scan;         /* no '\n' in [pos, scan): search from here */
  long line;           /* lines seen so far */
  int discarding;      /* inside an over-long line */
  long discard_line;
} rd = {.fd = -1};

/* custom_ids to skip (--resume): a sorted array for bsearch */
static char **resume_ids;
static size_t nresume, capresume;
static unsigned long nresume_files; /* files read */

/* ---------------------------------------------------------------------
 * Files
 */
static int open_next(void)
{
  for(;;) {
    const char *f;
    struct stat sb;

    if(rd.files == NULL || rd.files[0] == NULL) {
      if(rd.next_file > 0) {
        rd.eof_all = 1;
        return -1;
      }
      rd.next_file = 1;
      rd.fd = 0;
      rd.name = "stdin";
    }
    else {
      f = rd.files[rd.next_file];
      if(!f) {
        rd.eof_all = 1;
        return -1;
      }
      rd.next_file++;
      if(!strcmp(f, "-")) {
        rd.fd = 0;
        rd.name = "stdin";
      }
      else {
        rd.fd = open(f, O_RDONLY | O_CLOEXEC);
        rd.name = f;
        if(rd.fd < 0) {
          log_msg(LLMR_LOG_ERROR, NULL, "%s: %s", f, strerror(errno));
          R.nerrors++;
          continue;
        }
      }
    }
    rd.fd_is_file = fstat(rd.fd, &sb) == 0 && S_ISREG(sb.st_mode);
    rd.ready = rd.fd_is_file;
    return 0;
  }
}

int reader_open(char **files)
{
  /* a fresh start: line numbers and the end of input are this run's */
  memset(&rd, 0, sizeof(rd));
  rd.fd = -1;
  rd.files = files;
  buf_init(&rd.in);
  buf_reserve(&rd.in, READ_CHUNK);
  return open_next() == 0 || rd.eof_all ? LLMR_OK : LLMR_ERR;
}

void reader_close(void)
{
  size_t i;

  if(rd.fd > 0)
    close(rd.fd);
  rd.fd = -1;
  buf_free(&rd.in);
  for(i = 0; i < nresume; i++)
    free(resume_ids[i]);
  free(resume_ids);
  resume_ids = NULL;
  nresume = capresume = 0;
  nresume_files = 0;
  ids_free();
}

/* The next '\n' in the unconsumed bytes, or NULL.  Bytes searched once
 * are not searched again, so a long line arriving in many reads costs
 * linear time. */
static char *find_newline(void)
{
  char *nl;

  if(rd.scan < rd.pos)
    rd.scan = rd.pos;
  nl = memchr(rd.in.p + rd.scan, '\n', rd.in.len - rd.scan);
  rd.scan = nl ? (size_t)(nl - rd.in.p) : rd.in.len;
  return nl;
}

int reader_fd(void)
{
  if(rd.eof_all || rd.fd < 0 || rd.fd_is_file || rd.ready)
    return -1;
  if(find_newline())
    return -1;
  return rd.fd;
}

int reader_more(void)
{
  if(rd.eof_all)
    return rd.pos < rd.in.len;
  return rd.ready || rd.fd_is_file || find_newline() != NULL;
}

void reader_mark_ready(void)
{
  rd.ready = 1;
}

int reader_done(void)
{
  return rd.eof_all && rd.pos >= rd.in.len;
}

/* ---------------------------------------------------------------------
 * One line -> one job
 */
/* Borrows obj.  New ref, or jv_null() when absent; never asserts. */
static jv object_get(jv obj, enum ckey key)
{
  jv v;

  if(jv_get_kind(obj) != JV_KIND_OBJECT)
    return jv_null();
  v = cget(obj, key);
  if(!jv_is_valid(v)) {
    jvf_free(v);
    return jv_null();
  }
  return v;
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int resumed(const char *id)
{
  return nresume &&
         bsearch(&id, resume_ids, nresume, sizeof(char *), cmp_str);
}

/* Fail a fresh job with an input error record carrying the line. */
static void input_error(struct llmr_job *job, const char *code,
                        const char *msg)
{
  jv e = error_record(code, "input", msg);

  e = jv_object_set(e, jv_string("line"), jv_number((double)job->line));
  job_fail_record(job, e);
}

/* Text of a custom_id value: strings as they are, numbers printed. */
static char *id_text(jv id)
{
  if(jv_get_kind(id) == JV_KIND_STRING)
    return strdup(jv_string_value(id));
  if(jv_get_kind(id) == JV_KIND_NUMBER)
    return json_dump(id);
  return NULL;
}

jv request_normalise(jv in, char **custom_id, int *id_kept)
{
  jv body, routing, id, req, msgs;
  int id_string;

  id = object_get(in, CK_CUSTOM_ID);
  *id_kept = 0;
  id_string = jv_get_kind(id) == JV_KIND_STRING;
  if(id_string && strlen(jv_string_value(id)) !=
                  (size_t)jv_string_length_bytes(jv_copy(id))) {
    /* "a\u0000b" and "a\u0000c" would both be "a" to every C string
       (stages, logs, --resume): refused, not silently cut */
    *custom_id = NULL;
    jvf_free(id);
    jvf_free(in);
    return jv_invalid_with_msg(jv_string(
        "invalid_request: \"custom_id\" contains a NUL character "
        "(\\u0000)"));
  }
  *custom_id = id_text(id);
  jvf_free(id);
  routing = object_get(in, CK_ROUTING);
  if(jv_get_kind(routing) != JV_KIND_NULL &&
     jv_get_kind(routing) != JV_KIND_OBJECT) {
    jvf_free(routing);
    jvf_free(in);
    return jv_invalid_with_msg(jv_string(
        "invalid_request: \"routing\" must be an object"));
  }
  {
    /* a line for another endpoint (embeddings, responses) is refused by
       its url before its body is taken for a chat request */
    jv ok = batch_check_endpoint(in);

    if(!jv_is_valid(ok)) {
      jvf_free(routing);
      jvf_free(in);
      return ok;
    }
  }
  body = object_get(in, CK_BODY);
  if(jv_get_kind(body) == JV_KIND_NULL &&
     jv_get_kind(in) == JV_KIND_OBJECT &&
     jv_object_has(jv_copy(in), jv_string("params"))) {
    /* 4. an Anthropic Message Batches line: its params as the body */
    body = batch_from_anthropic(json_get(in, "params"));
    if(!jv_is_valid(body)) {
      jvf_free(routing);
      jvf_free(in);
      return body;
    }
    req = jv_object();
    if(id_string)
      req = jv_object_set(req, ckey(CK_CUSTOM_ID),
                          jv_string(*custom_id));
    *id_kept = id_string;
    req = jv_object_set(req, ckey(CK_METHOD), jv_string("POST"));
    req = jv_object_set(req, ckey(CK_URL),
                        jv_string("/v1/chat/completions"));
    req = jv_object_set(req, ckey(CK_BODY), jvf_copy(body));
    jvf_free(in);
  }
  else if(jv_get_kind(body) == JV_KIND_OBJECT) {
    /* 1. an OpenAI Batch line: keep it whole (body stays for the
       messages check below) */
    req = jv_object_delete(in, ckey(CK_ROUTING));
    *id_kept = id_string;
  }
  else if(jv_get_kind(body) != JV_KIND_NULL) {
    jvf_free(body);
    jvf_free(routing);
    jvf_free(in);
    return jv_invalid_with_msg(jv_string(
        "invalid_request: \"body\" must be an object"));
  }
  else {
    jv prompt = object_get(in, CK_PROMPT);

    jvf_free(body);
    body = jv_object_delete(jv_object_delete(in, ckey(CK_CUSTOM_ID)),
                            ckey(CK_ROUTING));
    if(jv_get_kind(prompt) == JV_KIND_STRING) {
      /* 3. {"prompt":"text", ...} */
      jv m = jv_object_set(jv_object(), ckey(CK_ROLE),
                           jv_string("user"));

      m = jv_object_set(m, ckey(CK_CONTENT), prompt);
      body = jv_object_delete(body, ckey(CK_PROMPT));
      body = jv_object_set(body, ckey(CK_MESSAGES),
                           jv_array_append(jv_array(), m));
    }
    else
      jvf_free(prompt); /* 2. a bare chat body */
    req = jv_object();
    req = jv_object_set(req, ckey(CK_METHOD), jv_string("POST"));
    req = jv_object_set(req, ckey(CK_URL),
                        jv_string("/v1/chat/completions"));
    req = jv_object_set(req, ckey(CK_BODY), jvf_copy(body));
  }
  msgs = object_get(body, CK_MESSAGES);
  if(jv_get_kind(msgs) != JV_KIND_ARRAY ||
     jv_array_length(jvf_copy(msgs)) == 0) {
    /* "input" is what the Responses and embeddings APIs carry */
    jv input = json_get(body, "input");
    int other = jv_get_kind(input) != JV_KIND_NULL;

    jvf_free(input);
    jvf_free(body);
    jvf_free(msgs);
    jvf_free(routing);
    jvf_free(req);
    return jv_invalid_with_msg(jv_string(other ?
        "no_messages: the request has no \"messages\" array; its "
        "\"input\" is a /v1/responses or /v1/embeddings field, and "
        "llmroute serves /v1/chat/completions only" :
        "no_messages: the request has no \"messages\" array (nor a "
        "\"prompt\" string, nor Anthropic Message Batches \"params\")"));
  }
  jvf_free(body);
  jvf_free(msgs);
  if(jv_get_kind(routing) == JV_KIND_OBJECT)
    req = jv_object_set(req, ckey(CK_ROUTING), routing);
  else
    jvf_free(routing);
  return req;
}

/* routing.tags (an array of strings, or one string) start route.tags,
 * so a result line keeps the tags its request came with and a report
 * can group by them; a stage may append its own. */
static void route_tags(struct llmr_job *job, jv req)
{
  jv routing = cget(req, CK_ROUTING), tags;

  if(jv_get_kind(routing) != JV_KIND_OBJECT) {
    jvf_free(routing);
    return;
  }
  tags = jv_object_get(routing, jv_string("tags"));
  if(jv_get_kind(tags) == JV_KIND_STRING)
    tags = jv_array_append(jv_array(), tags);
  if(jv_get_kind(tags) == JV_KIND_ARRAY)
    job->route = jvf_set(job->route, jv_string("tags"), tags);
  else
    jv_free(tags);
}

static void line_to_job(char *text, size_t len, long lineno)
{
  struct llmr_job *job;
  jv v, req;
  char *cid = NULL;
  int was_object, id_kept = 0;

  v = json_parse(text, len);
  was_object = jv_get_kind(v) == JV_KIND_OBJECT;
  if(was_object)
    req = request_normalise(v, &cid, &id_kept);
  else
    req = v;
  /* a generated id is made before the --resume check, which must see
     it (and count a repeat) like a given one */
  if(!cid && !(cid = ids_custom_id(text, len, lineno))) {
    jvf_free(req);
    log_msg(LLMR_LOG_ERROR, NULL, "out of memory");
    R.stop_reading = 1;
    return;
  }
  if(resumed(cid)) {
    jvf_free(req);
    free(cid);
    R.nskipped++;
    return;
  }
  job = job_new(lineno);
  if(!job) {
    jvf_free(req);
    free(cid);
    log_msg(LLMR_LOG_ERROR, NULL, "out of memory");
    R.stop_reading = 1;
    return;
  }
  job->custom_id = cid;
  if(!jv_is_valid(req)) {
    jv msg = jv_invalid_get_msg(req);
    const char *m = jv_get_kind(msg) == JV_KIND_STRING
                        ? jv_string_value(msg) : "cannot parse";
    const char *colon = strstr(m, ": ");

    if(was_object && colon) {
      char code[64];
      size_t n = (size_t)(colon - m);

      if(n >= sizeof(code))
        n = sizeof(code) - 1;
      memcpy(code, m, n);
      code[n] = '\0';
      input_error(job, code, colon + 2);
    }
    else
      input_error(job, "invalid_json", m);
    jvf_free(msg);
    return;
  }
  if(jv_get_kind(req) != JV_KIND_OBJECT) {
    input_error(job, "not_an_object", "the line is valid JSON but not an "
                "object");
    jvf_free(req);
    return;
  }
  if(!id_kept) /* a number, absent, or dropped from a bare body */
    req = jv_object_set(req, ckey(CK_CUSTOM_ID), jv_string(cid));
  route_tags(job, req);
  job->request = req;
  job_start(job);
}

static void too_long(long lineno)
{
  struct llmr_job *job = job_new(lineno);
  char msg[128];

  if(!job)
    return;
  job->custom_id = ids_custom_id(NULL, 0, lineno); /* its bytes are gone */
  snprintf(msg, sizeof(msg), "the line is longer than max_line=%zu bytes",
           R.max_line);
  input_error(job, "line_too_long", msg);
}

/* Take complete lines from the buffer while there is room for jobs. */
static void take_lines(int at_eof)
{
  while(R.nactive < R.max_jobs && !R.stop_reading) {
    char *start = rd.in.p + rd.pos;
    size_t avail = rd.in.len - rd.pos, len;
    char *nl = find_newline();

    if(!nl) {
      if(!at_eof || avail == 0)
        return;
      nl = start + avail; /* the last line has no newline */
    }
    len = (size_t)(nl - start);
    rd.pos += len + (nl < start + avail ? 1 : 0);
    rd.line++;
    if(rd.discarding) {
      rd.discarding = 0;
      too_long(rd.discard_line);
      continue;
    }
    if(len > R.max_line) {
      too_long(rd.line);
      continue;
    }
    if(len && start[len - 1] == '\r')
      len--;
    {
      size_t i = 0;

      while(i < len && (start[i] == ' ' || start[i] == '\t'))
        i++;
      if(i == len)
        continue; /* blank */
    }
    start[len] = '\0';
    line_to_job(start, len, rd.line);
  }
}

int reader_fill(void)
{
  while(R.nactive < R.max_jobs && !R.stop_reading) {
    ssize_t n;

    take_lines(0);
    if(R.nactive >= R.max_jobs || rd.eof_all)
      break;
    if(!rd.ready)
      break;
    /* compact, then read more */
    if(rd.pos > 0 && (rd.pos == rd.in.len || rd.pos > rd.in.cap / 2)) {
      memmove(rd.in.p, rd.in.p + rd.pos, rd.in.len - rd.pos);
      rd.in.len -= rd.pos;
      rd.scan = rd.scan > rd.pos ? rd.scan - rd.pos : 0;
      rd.pos = 0;
    }
    if(rd.in.len - rd.pos > R.max_line) {
      /* an over-long line: drop what we have of it */
      if(!rd.discarding) {
        rd.discarding = 1;
        rd.discard_line = rd.line + 1;
      }
      rd.in.len = rd.scan = rd.pos;
    }
    buf_reserve(&rd.in, READ_CHUNK);
    n = read(rd.fd, rd.in.p + rd.in.len, READ_CHUNK);
    if(n < 0) {
      if(errno == EINTR)
        continue;
      if(errno == EAGAIN) {
        rd.ready = 0;
        break;
      }
      log_msg(LLMR_LOG_ERROR, NULL, "reading %s: %s", rd.name,
              strerror(errno));
      n = 0;
    }
    if(n == 0) {
      take_lines(1);
      if(rd.pos < rd.in.len) /* no room yet for the last line */
        break;
      if(rd.discarding) {
        rd.discarding = 0;
        rd.line++;
        too_long(rd.discard_line);
      }
      if(rd.fd > 0)
        close(rd.fd);
      rd.fd = -1;
      rd.in.len = rd.pos = rd.scan = 0;
      if(open_next() < 0)
        break;
      continue;
    }
    rd.in.len += (size_t)n;
    if(!rd.fd_is_file)
      rd.ready = 0; /* read once per poll */
  }
  if(rd.eof_all && rd.pos >= rd.in.len)
    rd.pos = rd.in.len = rd.scan = 0;
  return LLMR_OK;
}

/* ---------------------------------------------------------------------
 * --resume PATH: custom_ids that already have a successful result
 */

/* Borrows v, err (its "error").  A success in any --output-format: no
 * error and no HTTP error status (an OpenAI Batch line reports a
 * provider's 400 with "error" null), or an Anthropic "succeeded". */
static int succeeded(jv v, jv err)
{
  jv result = json_get(v, "result"), type = json_get(result, "type");
  jv resp = json_get(v, "response"), st = json_get(resp, "status_code");
  int ok;

  if(jv_get_kind(result) == JV_KIND_OBJECT)
    ok = jv_get_kind(type) == JV_KIND_STRING &&
         !strcmp(jv_string_value(type), "succeeded");
  else
    ok = jv_get_kind(err) == JV_KIND_NULL &&
         (jv_get_kind(st) != JV_KIND_NUMBER ||
          (jv_number_value(st) >= 200 && jv_number_value(st) < 300));
  jv_free(result);
  jv_free(type);
  jv_free(resp);
  jv_free(st);
  return ok;
}

unsigned long resume_files(void)
{
  return nresume_files;
}

static int resume_add(const char *id)
{
  if(nresume == capresume) {
    size_t nc = capresume ? capresume * 2 : 1024;
    char **a = realloc(resume_ids, nc * sizeof(*a));

    if(!a)
      return -1;
    resume_ids = a;
    capresume = nc;
  }
  if(!(resume_ids[nresume] = strdup(id)))
    return -1;
  nresume++;
  return 0;
}

/* One file (or stdin, f given): its ids added; -1 out of memory. */
static int resume_file(FILE *f, const char *path)
{
  char *line = NULL;
  size_t cap = 0;
  ssize_t len;
  off_t at = 0;
  int rc = 0;

  while((len = getline(&line, &cap, f)) > 0) {
    jv v, err, id;

    if(line[len - 1] != '\n') {
      /* a torn last line (the run was killed while writing it): its
         request counts as not done; cut it off, so that the file ends
         on a whole line and `cat old new` cannot fuse two results */
      int cut = f != stdin && ftruncate(fileno(f), at) == 0;
      log_msg(LLMR_LOG_WARN, NULL, "--resume %s: the last line is torn "
              "(%zd bytes without a newline): %s; its request will be sent "
              "again", path, len, cut ? "cut off" : f == stdin ? "ignored"
              : "ignored (the file is read-only)");
      break;
    }
    at += (off_t)len;
    v = json_parse(line, (size_t)len);
    if(jv_get_kind(v) != JV_KIND_OBJECT) {
      jvf_free(v);
      continue;
    }
    err = object_get(v, CK_ERROR);
    id = object_get(v, CK_CUSTOM_ID);
    if(succeeded(v, err) && jv_get_kind(id) == JV_KIND_STRING &&
       resume_add(jv_string_value(id)))
      rc = -1;
    jvf_free(err);
    jvf_free(id);
    jvf_free(v);
    if(rc)
      break;
  }
  free(line);
  nresume_files++;
  return rc;
}

static int resume_path(const char *path, int in_folder)
{
  FILE *f;
  int rc;

  if(!strcmp(path, "-") && !in_folder)
    return resume_file(stdin, "-") ? LLMR_ERR : LLMR_OK;
  f = fopen(path, "r+");
  if(!f && (errno == EACCES || errno == EROFS))
    f = fopen(path, "r"); /* read-only: a torn line is only reported */
  if(!f) {
    log_msg(LLMR_LOG_ERROR, NULL, "--resume %s: %s", path,
            strerror(errno));
    return LLMR_ERR;
  }
  rc = resume_file(f, path);
  fclose(f);
  if(rc)
    log_msg(LLMR_LOG_ERROR, NULL, "--resume %s: out of memory", path);
  return rc ? LLMR_ERR : LLMR_OK;
}

/* A folder: every regular file in it (shard outputs), not its
 * subfolders, in name order so that messages come out the same. */
static int resume_folder(const char *dir)
{
  struct dirent **ents;
  int n, i, rc = LLMR_OK;

  n = scandir(dir, &ents, NULL, alphasort);
  if(n < 0) {
    log_msg(LLMR_LOG_ERROR, NULL, "--resume %s: %s", dir, strerror(errno));
    return LLMR_ERR;
  }
  for(i = 0; i < n; i++) {
    struct stat sb;
    size_t len = strlen(dir) + strlen(ents[i]->d_name) + 2;
    char *p = rc == LLMR_OK ? malloc(len) : NULL;

    if(p) {
      snprintf(p, len, "%s/%s", dir, ents[i]->d_name);
      if(stat(p, &sb) == 0 && S_ISREG(sb.st_mode))
        rc = resume_path(p, 1);
      free(p);
    }
    else if(rc == LLMR_OK) {
      log_msg(LLMR_LOG_ERROR, NULL, "--resume %s: out of memory", dir);
      rc = LLMR_ERR;
    }
    free(ents[i]);
  }
  free(ents);
  return rc;
}

int resume_load(const char *path)
{
  struct stat sb;
  int rc;

  if(strcmp(path, "-") && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
    rc = resume_folder(path);
  else
    rc = resume_path(path, 0);
  if(nresume) /* resume_ids is NULL when no file had an id */
    qsort(resume_ids, nresume, sizeof(char *), cmp_str);
  return rc;
}
