/*
 * http_get.c - test stage: GET a URL through the runner's curl multi
 * handle (host->http) and record the answer in route.http =
 * {"status": CODE, "body": TEXT}.  A transfer error fails the job with
 * code "http_error".
 *
 *   http_get url=URL [append_id=BOOL]
 *
 * append_id=true appends "/" and the job's custom_id to the URL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "llmroute.h"

#define BODY_MAX 4096

struct getter {
  const struct llmr_host *host;
  const char *url;
  int append_id;
};

struct fetch {
  char body[BODY_MAX + 1];
  size_t len;
};

static const struct llmr_option get_options[] = {
  {"url", LLMR_OPT_STRING, NULL, LLMR_OPT_REQUIRED, "the URL to GET"},
  {"append_id", LLMR_OPT_BOOL, "false", 0, "append /custom_id to url"},
  {NULL, LLMR_OPT_STRING, NULL, 0, NULL}
};

static int get_init(const struct llmr_host *host,
                    const struct llmr_config *cf, void **self)
{
  struct getter *g = calloc(1, sizeof(*g));

  if(!g)
    return LLMR_ENOMEM;
  g->host = host;
  g->url = host->opt(cf, "url")->str;
  g->append_id = (int)host->opt(cf, "append_id")->i;
  *self = g;
  return LLMR_OK;
}

static size_t get_write(char *ptr, size_t size, size_t nmemb, void *user)
{
  struct fetch *f = user;
  size_t n = size * nmemb, room = BODY_MAX - f->len;

  memcpy(f->body + f->len, ptr, n < room ? n : room);
  f->len += n < room ? n : room;
  f->body[f->len] = 0;
  return n;
}

static void get_done(void *self, struct llmr_job *job, CURL *easy,
                     CURLcode rc)
{
  struct getter *g = self;
  struct fetch *f = g->host->state(job);
  long status = 0;
  jv route, info;

  if(rc != CURLE_OK || !f) {
    g->host->set_error(job, "http_error", "GET %s: %s", g->url,
                       curl_easy_strerror(rc));
    g->host->complete(job, LLMR_FAIL);
    return;
  }
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
  info = jv_object();
  info = jv_object_set(info, jv_string("status"), jv_number(status));
  info = jv_object_set(info, jv_string("body"),
                       jv_string_sized(f->body, (int)f->len));
  route = g->host->route(job);
  if(jv_get_kind(route) != JV_KIND_OBJECT) {
    jv_free(route);
    route = jv_object();
  }
  route = jv_object_set(route, jv_string("http"), info);
  g->host->set_route(job, route);
  g->host->complete(job, LLMR_NEXT);
}

static enum llmr_verdict get_process(void *self, struct llmr_job *job)
{
  struct getter *g = self;
  struct fetch *f = calloc(1, sizeof(*f));
  CURL *easy = curl_easy_init();
  char url[2048];

  if(!f || !easy) {
    free(f);
    if(easy)
      curl_easy_cleanup(easy);
    g->host->set_error(job, "out_of_memory", "http_get: no memory");
    return LLMR_FAIL;
  }
  if(g->append_id)
    snprintf(url, sizeof(url), "%s/%s", g->url, g->host->custom_id(job));
  else
    snprintf(url, sizeof(url), "%s", g->url);
  g->host->set_state(job, f, free);
  curl_easy_setopt(easy, CURLOPT_URL, url);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, get_write);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, f);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_TIMEOUT, 10L);
  if(g->host->http(job, easy, get_done) != LLMR_OK) {
    g->host->set_error(job, "http_error", "host->http() refused");
    return LLMR_FAIL;
  }
  return LLMR_PENDING;
}

static void get_finish(void *self)
{
  free(self);
}

static const struct llmr_stage get_stage = {
  LLMR_STAGE_VERSION,
  .name = "http_get",
  .version = "1.0",
  .description = "test: GET a URL through host->http",
  .options = get_options,
  .init = get_init,
  .process = get_process,
  .finish = get_finish
};

const struct llmr_stage *llmr_stage_entry(unsigned host_major,
                                          unsigned host_minor)
{
  (void)host_major;
  (void)host_minor;
  return &get_stage;
}
