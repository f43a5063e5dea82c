/*
 * opts.c - test stage: declares one option of each type and writes what
 * the runner parsed into route.opts, so cases can check option parsing,
 * defaults, quoting, ${VAR} expansion and path resolution.
 *
 *   opts req=TEXT [s=TEXT] [i=INT] [d=NUM] [b=BOOL] [p=PATH] [key=SECRET]
 *        [setting=NAME] [refuse=BOOL]
 *
 * route.opts[INSTANCE] = {"s":..,"i":..,"d":..,"b":..,"p":..,"req":..,
 *               "set":[names written in the pipeline file],
 *               "key_set":BOOL, "name":..,"instance":..,"index":..,
 *               "line":..,"setting":<value of `set NAME=` or null>,
 *               "host_abi":[major,minor],"host_size_ok":BOOL}
 * The secret's value itself is never written.  refuse=true makes init()
 * report a configuration error (exit 2).
 */
#include <stdlib.h>
#include <string.h>
#include "llmroute.h"

struct opts {
  const struct llmr_host *host;
  char *instance;
  jv info;
};

static const struct llmr_option opts_options[] = {
  {"s", LLMR_OPT_STRING, "dflt", 0, "a string"},
  {"i", LLMR_OPT_INT, "42", 0, "an integer"},
  {"d", LLMR_OPT_DOUBLE, "2.5", 0, "a number"},
  {"b", LLMR_OPT_BOOL, "false", 0, "a boolean"},
  {"p", LLMR_OPT_PATH, NULL, 0, "a path"},
  {"req", LLMR_OPT_STRING, NULL, LLMR_OPT_REQUIRED, "a required string"},
  {"key", LLMR_OPT_STRING, NULL, LLMR_OPT_SECRET, "a secret"},
  {"setting", LLMR_OPT_STRING, NULL, 0, "a run-wide setting to report"},
  {"refuse", LLMR_OPT_BOOL, "false", 0, "fail init on purpose"},
  {NULL, LLMR_OPT_STRING, NULL, 0, NULL}
};

static jv str_or_null(const char *s)
{
  return s ? jv_string(s) : jv_null();
}

static int opts_init(const struct llmr_host *host,
                     const struct llmr_config *cf, void **self)
{
  struct opts *o;
  const struct llmr_option *op;
  const char *setting;
  jv info = jv_object(), set = jv_array();

  if(host->opt(cf, "refuse")->i) {
    host->config_error(cf, "refused on purpose (refuse=true)");
    jv_free(info);
    jv_free(set);
    return LLMR_ERR;
  }
  info = jv_object_set(info, jv_string("s"),
                       str_or_null(host->opt(cf, "s")->str));
  info = jv_object_set(info, jv_string("i"),
                       jv_number((double)host->opt(cf, "i")->i));
  info = jv_object_set(info, jv_string("d"),
                       jv_number(host->opt(cf, "d")->d));
  info = jv_object_set(info, jv_string("b"),
                       jv_bool(host->opt(cf, "b")->i != 0));
  info = jv_object_set(info, jv_string("p"),
                       str_or_null(host->opt(cf, "p")->str));
  info = jv_object_set(info, jv_string("req"),
                       str_or_null(host->opt(cf, "req")->str));
  info = jv_object_set(info, jv_string("key_set"),
                       jv_bool(host->opt(cf, "key")->str != NULL));
  for(op = opts_options; op->name; op++)
    if(host->opt(cf, op->name)->set)
      set = jv_array_append(set, jv_string(op->name));
  info = jv_object_set(info, jv_string("set"), set);
  info = jv_object_set(info, jv_string("name"), str_or_null(cf->name));
  info = jv_object_set(info, jv_string("instance"),
                       str_or_null(cf->instance));
  info = jv_object_set(info, jv_string("index"), jv_number(cf->index));
  info = jv_object_set(info, jv_string("line"), jv_number(cf->line));
  info = jv_object_set(info, jv_string("host_abi"),
                       jv_array_append(jv_array_append(jv_array(),
                                       jv_number(host->abi_major)),
                                       jv_number(host->abi_minor)));
  info = jv_object_set(info, jv_string("host_size_ok"),
                       jv_bool(host->size >= sizeof(struct llmr_host)));
  setting = host->opt(cf, "setting")->str;
  info = jv_object_set(info, jv_string("setting"),
                       setting ? str_or_null(host->setting(setting))
                               : jv_null());
  o = calloc(1, sizeof(*o));
  if(!o) {
    jv_free(info);
    return LLMR_ENOMEM;
  }
  o->host = host;
  o->instance = strdup(cf->instance ? cf->instance : "?");
  o->info = info;
  *self = o;
  return LLMR_OK;
}

static enum llmr_verdict opts_process(void *self, struct llmr_job *job)
{
  struct opts *o = self;
  jv route = o->host->route(job), all;

  if(jv_get_kind(route) != JV_KIND_OBJECT) {
    jv_free(route);
    route = jv_object();
  }
  all = jv_object_get(jv_copy(route), jv_string("opts"));
  if(jv_get_kind(all) != JV_KIND_OBJECT) {
    jv_free(all);
    all = jv_object();
  }
  all = jv_object_set(all, jv_string(o->instance), jv_copy(o->info));
  route = jv_object_set(route, jv_string("opts"), all);
  o->host->set_route(job, route);
  return LLMR_NEXT;
}

static void opts_finish(void *self)
{
  struct opts *o = self;

  if(!o)
    return;
  jv_free(o->info);
  free(o->instance);
  free(o);
}

static const struct llmr_stage opts_stage = {
  LLMR_STAGE_VERSION,
  .name = "opts",
  .version = "1.0",
  .description = "test: report the parsed options in the route",
  .options = opts_options,
  .init = opts_init,
  .process = opts_process,
  .finish = opts_finish
};

const struct llmr_stage *llmr_stage_entry(unsigned host_major,
                                          unsigned host_minor)
{
  (void)host_major;
  (void)host_minor;
  return &opts_stage;
}
