/*
 * hello.c - a sample stage built out of the tree, against the installed
 * header only:
 *
 *   cc -fPIC -shared -fvisibility=hidden $(pkg-config --cflags llmroute) \
 *      -o hello.so hello.c $(pkg-config --libs llmroute)
 *
 * and loaded by path from a pipeline:
 *
 *   ./hello.so tag=greeted
 *
 * It appends its tag to route.tags (once per job, however often the job
 * passes) and, when the request asks for it with routing.task "greeting",
 * answers on the spot with a chat.completion saying hello.
 */
#include <stdlib.h>
#include <string.h>
#include <llmroute.h>

struct hello {
  const struct llmr_host *host;
  const char *tag;
  long long greeted;
};

static const struct llmr_option hello_options[] = {
  {"tag", LLMR_OPT_STRING, "hello", 0, "tag added to route.tags"},
  {NULL, LLMR_OPT_STRING, NULL, 0, NULL}
};

static int hello_init(const struct llmr_host *host,
                      const struct llmr_config *cf, void **self)
{
  struct hello *h;
  const char *tag = host->opt(cf, "tag")->str;

  if(!tag || !*tag) {
    host->config_error(cf, "tag must not be empty");
    return LLMR_ERR;
  }
  h = calloc(1, sizeof(*h));
  if(!h)
    return LLMR_ENOMEM;
  h->host = host;
  h->tag = tag;
  *self = h;
  return LLMR_OK;
}

/* Borrows obj.  New ref, or jv_null() when absent; never asserts. */
static jv json_get(jv obj, const char *key)
{
  if(jv_get_kind(obj) != JV_KIND_OBJECT)
    return jv_null();
  return jv_object_get(jv_copy(obj), jv_string(key));
}

/* Consumes tags.  tags with tag appended unless already there. */
static jv add_tag(jv tags, const char *tag)
{
  int i, n;

  if(jv_get_kind(tags) != JV_KIND_ARRAY) {
    jv_free(tags);
    tags = jv_array();
  }
  n = jv_array_length(jv_copy(tags));
  for(i = 0; i < n; i++) {
    jv t = jv_array_get(jv_copy(tags), i);
    int same = jv_get_kind(t) == JV_KIND_STRING &&
               !strcmp(jv_string_value(t), tag);
    jv_free(t);
    if(same)
      return tags;
  }
  return jv_array_append(tags, jv_string(tag));
}

/* A minimal chat.completion saying hello. */
static jv greeting(const char *id)
{
  jv msg = jv_object(), choice = jv_object(), usage = jv_object();
  jv body = jv_object();

  msg = jv_object_set(msg, jv_string("role"), jv_string("assistant"));
  msg = jv_object_set(msg, jv_string("content"),
                      jv_string_fmt("Hello, %s!", id));
  choice = jv_object_set(choice, jv_string("index"), jv_number(0));
  choice = jv_object_set(choice, jv_string("message"), msg);
  choice = jv_object_set(choice, jv_string("finish_reason"),
                         jv_string("stop"));
  choice = jv_object_set(choice, jv_string("logprobs"), jv_null());
  usage = jv_object_set(usage, jv_string("prompt_tokens"), jv_number(0));
  usage = jv_object_set(usage, jv_string("completion_tokens"),
                        jv_number(0));
  usage = jv_object_set(usage, jv_string("total_tokens"), jv_number(0));
  body = jv_object_set(body, jv_string("id"), jv_string("chatcmpl-hello"));
  body = jv_object_set(body, jv_string("object"),
                       jv_string("chat.completion"));
  body = jv_object_set(body, jv_string("created"), jv_number(0));
  body = jv_object_set(body, jv_string("model"), jv_string("hello"));
  body = jv_object_set(body, jv_string("choices"),
                       jv_array_append(jv_array(), choice));
  body = jv_object_set(body, jv_string("usage"), usage);
  return body;
}

static enum llmr_verdict hello_process(void *self, struct llmr_job *job)
{
  struct hello *h = self;
  jv route = h->host->route(job);
  jv req = h->host->request(job);
  jv routing = json_get(req, "routing");
  jv task = json_get(routing, "task");
  int greet = jv_get_kind(task) == JV_KIND_STRING &&
              !strcmp(jv_string_value(task), "greeting");

  if(jv_get_kind(route) != JV_KIND_OBJECT) {
    jv_free(route);
    route = jv_object();
  }
  route = jv_object_set(route, jv_string("tags"),
                        add_tag(json_get(route, "tags"), h->tag));
  h->host->set_route(job, route);
  jv_free(task);
  jv_free(routing);
  jv_free(req);
  if(!greet)
    return LLMR_NEXT;
  h->greeted++;
  h->host->log(job, LLMR_LOG_DEBUG, "greeting #%lld", h->greeted);
  h->host->set_response(job, greeting(h->host->custom_id(job)));
  return LLMR_DONE;
}

static void hello_finish(void *self)
{
  free(self);
}

static const struct llmr_stage hello_stage = {
  LLMR_STAGE_VERSION,
  .name = "hello",
  .version = "1.0",
  .description = "sample out-of-tree stage: tags requests, greets",
  .options = hello_options,
  .init = hello_init,
  .process = hello_process,
  .finish = hello_finish
};

const struct llmr_stage *llmr_stage_entry(unsigned host_major,
                                          unsigned host_minor)
{
  (void)host_minor;
  if(host_major != LLMR_ABI_MAJOR)
    return NULL;
  return &hello_stage;
}
