/*
 * loader.c - finding, loading and checking stage plugins, and checking
 * their options (fluent-bit config_map, redis module loading).
 */
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core.h"

typedef const struct llmr_stage *(*entry_fn)(unsigned, unsigned);

static char *join_path(const char *dir, const char *name, const char *ext)
{
  size_t n = strlen(dir) + strlen(name) + strlen(ext) + 2;
  char *p = malloc(n);

  if(p)
    snprintf(p, n, "%s/%s%s", dir, name, ext);
  return p;
}

char *loader_find(const char *name)
{
  const char *pp = getenv("LLMROUTE_PLUGIN_PATH");
  char *path, *dirs, *save = NULL, *d;

  if(pp && *pp) {
    dirs = strdup(pp);
    for(d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
      path = join_path(d, name, ".so");
      if(path && access(path, R_OK) == 0) {
        free(dirs);
        return path;
      }
      free(path);
    }
    free(dirs);
  }
  {
    char *libdir = join_path(runner_prefix(), "lib", "/llmroute");

    path = libdir ? join_path(libdir, name, ".so") : NULL;
    free(libdir);
  }
  if(path && access(path, R_OK) == 0)
    return path;
  free(path);
  return NULL;
}

int loader_open(const char *path, void **dl, const struct llmr_stage **out,
                char *err, size_t errlen)
{
  void *h;
  entry_fn entry;
  const struct llmr_stage *d;

  *dl = NULL;
  *out = NULL;
  h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if(!h) {
    snprintf(err, errlen, "cannot load plugin: %s", dlerror());
    return LLMR_ERR;
  }
  /* POSIX: a function pointer through a void * */
  *(void **)(&entry) = dlsym(h, "llmr_stage_entry");
  if(!entry) {
    snprintf(err, errlen, "%s has no llmr_stage_entry symbol: not an "
             "llmroute stage (export it with LLMR_EXPORT)", path);
    dlclose(h);
    return LLMR_ERR;
  }
  d = entry(LLMR_ABI_MAJOR, LLMR_ABI_MINOR);
  if(!d) {
    snprintf(err, errlen, "%s refused to load into llmroute ABI %d.%d",
             path, LLMR_ABI_MAJOR, LLMR_ABI_MINOR);
    dlclose(h);
    return LLMR_ERR;
  }
  if(d->abi_major != LLMR_ABI_MAJOR) {
    snprintf(err, errlen, "%s was built for stage ABI %u.%u, this "
             "llmroute speaks %d.%d: rebuild the plugin against this "
             "llmroute.h", path, d->abi_major, d->abi_minor,
             LLMR_ABI_MAJOR, LLMR_ABI_MINOR);
    dlclose(h);
    return LLMR_ERR;
  }
  if(d->abi_minor > LLMR_ABI_MINOR) {
    snprintf(err, errlen, "%s needs stage ABI %u.%u, newer than this "
             "llmroute's %d.%d: upgrade llmroute", path, d->abi_major,
             d->abi_minor, LLMR_ABI_MAJOR, LLMR_ABI_MINOR);
    dlclose(h);
    return LLMR_ERR;
  }
  if(d->size < offsetof(struct llmr_stage, finish) + sizeof(d->finish) ||
     !d->name || !d->process) {
    snprintf(err, errlen, "%s: malformed stage descriptor (size %zu, "
             "name or process missing)", path, d->size);
    dlclose(h);
    return LLMR_ERR;
  }
  *dl = h;
  *out = d;
  return LLMR_OK;
}

/* ---------------------------------------------------------------------
 * Options
 */
static const char *type_name(enum llmr_opt_type t)
{
  switch(t) {
  case LLMR_OPT_STRING: return "string";
  case LLMR_OPT_INT: return "integer";
  case LLMR_OPT_DOUBLE: return "number";
  case LLMR_OPT_BOOL: return "boolean";
  case LLMR_OPT_PATH: return "path";
  }
  return "?";
}

static int parse_bool(const char *s, long long *out)
{
  static const char *yes[] = {"1", "true", "yes", "on"};
  static const char *no[] = {"0", "false", "no", "off"};
  size_t i;

  for(i = 0; i < 4; i++) {
    if(!strcasecmp(s, yes[i])) {
      *out = 1;
      return 0;
    }
    if(!strcasecmp(s, no[i])) {
      *out = 0;
      return 0;
    }
  }
  return -1;
}

/* Fill v from text s per the option's type.  0 or -1. */
static int parse_value(const struct llmr_option *o, const char *s,
                       const char *dir, struct llmr_value *v)
{
  char *end;

  switch(o->type) {
  case LLMR_OPT_INT:
    errno = 0;
    v->i = strtoll(s, &end, 10);
    if(!*s || *end || errno)
      return -1;
    v->d = (double)v->i;
    break;
  case LLMR_OPT_DOUBLE:
    errno = 0;
    v->d = strtod(s, &end);
    if(!*s || *end || errno || !isfinite(v->d))
      return -1;
    v->i = (long long)v->d;
    break;
  case LLMR_OPT_BOOL:
    if(parse_bool(s, &v->i))
      return -1;
    v->d = (double)v->i;
    break;
  case LLMR_OPT_PATH:
    v->str = path_resolve(dir, s);
    return v->str ? 0 : -1;
  case LLMR_OPT_STRING:
    break;
  }
  v->str = strdup(s);
  return v->str ? 0 : -1;
}

static void list_valid(const struct llmr_option *opts, char *out,
                       size_t len)
{
  size_t n = 0;
  int i;

  out[0] = '\0';
  for(i = 0; opts && opts[i].name && n < len; i++) {
    int r = snprintf(out + n, len - n, "%s%s", i ? ", " : "",
                     opts[i].name);

    if(r < 0)
      break;
    n += (size_t)r;
  }
  if(!opts || !opts[0].name)
    snprintf(out, len, "none");
}

int options_apply(struct stage_inst *st, const char *dir, char *err,
                  size_t errlen)
{
  const struct llmr_option *opts = st->desc->options;
  const char *sname = st->desc->name;
  int nopt = 0, i, j;

  while(opts && opts[nopt].name)
    nopt++;
  st->values = calloc((size_t)nopt + 1, sizeof(*st->values));
  if(!st->values) {
    snprintf(err, errlen, "out of memory");
    return LLMR_ERR;
  }
  st->cf.values = st->values;
  for(j = 0; j < st->nopts; j++) {
    for(i = 0; i < nopt; i++)
      if(!strcmp(opts[i].name, st->opts[j].key))
        break;
    if(i == nopt) {
      char valid[512];

      list_valid(opts, valid, sizeof(valid));
      snprintf(err, errlen, "unknown option '%s' for stage %s (valid: %s)",
               st->opts[j].key, sname, valid);
      return LLMR_ERR;
    }
    if(parse_value(&opts[i], st->opts[j].val, dir, &st->values[i])) {
      if(opts[i].flags & LLMR_OPT_SECRET)
        snprintf(err, errlen, "option '%s' of stage %s: the value is "
                 "not a valid %s", opts[i].name, sname,
                 type_name(opts[i].type));
      else
        snprintf(err, errlen, "option '%s' of stage %s: '%s' is not a "
                 "valid %s", opts[i].name, sname, st->opts[j].val,
                 type_name(opts[i].type));
      return LLMR_ERR;
    }
    st->values[i].set = 1;
  }
  for(i = 0; i < nopt; i++) {
    if(st->values[i].set)
      continue;
    if(opts[i].flags & LLMR_OPT_REQUIRED) {
      snprintf(err, errlen, "stage %s needs option '%s' (%s%s%s)", sname,
               opts[i].name, type_name(opts[i].type),
               opts[i].help ? ": " : "", opts[i].help ? opts[i].help : "");
      return LLMR_ERR;
    }
    if(opts[i].def &&
       parse_value(&opts[i], opts[i].def, dir, &st->values[i])) {
      snprintf(err, errlen, "stage %s: its default for option '%s' ('%s') "
               "is not a valid %s (a bug in the plugin)", sname,
               opts[i].name, opts[i].def, type_name(opts[i].type));
      return LLMR_ERR;
    }
  }
  return LLMR_OK;
}

void options_print(const struct llmr_stage *d, FILE *out)
{
  const struct llmr_option *o;

  fprintf(out, "%s %s%s%s\n", d->name, d->version ? d->version : "",
          d->description ? " - " : "", d->description ? d->description : "");
  if(!d->options || !d->options[0].name) {
    fprintf(out, "  (no options)\n");
    return;
  }
  for(o = d->options; o->name; o++)
    fprintf(out, "  %-16s %-8s %s%s%s%s%s\n", o->name, type_name(o->type),
            o->help ? o->help : "",
            (o->flags & LLMR_OPT_REQUIRED) ? " (required)" : "",
            o->def ? " [default " : "", o->def ? o->def : "",
            o->def ? "]" : "");
}
