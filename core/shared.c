/*
 * shared.c - the run's state shared with other processes (llmroute(1),
 * SCALING OUT): with `set shared=redis://HOST:PORT/DB run=NAME` (or
 * LLMROUTE_SHARED and LLMROUTE_RUN) the budget and the call stage's rate
 * limits are those of the run NAME across every process that names it.
 * The module that talks to the server (shared_redis.so, the only part
 * linking hiredis) is dlopened here, so a run without shared= never
 * loads it.  When the server is lost the run fails closed: every later
 * reservation is refused (shared_unavailable), said once on stderr.
 */
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "run.h"
#include "shared.h"

static const struct llmr_shared_ops *ops;
static void *handle;   /* the module's connection; NULL: not shared */
static void *dl;
static double ttl, last_beat;
static int said_lost;

/* Where a setting came from, for messages: "FILE:LINE: set KEY" or the
 * environment variable. */
static const char *setting_of(const struct pipeline *pl, const char *key,
                              const char *env, char *where, size_t n)
{
  const char *v = pipeline_setting(pl, key);
  int i;

  if(v) {
    for(i = 0; i < pl->nsettings; i++)
      if(!strcmp(pl->settings[i].key, key))
        break;
    snprintf(where, n, "%s:%d: set %s", pl->file,
             i < pl->nsettings ? pl->settings[i].line : 0, key);
    return v;
  }
  v = getenv(env);
  snprintf(where, n, "%s", env);
  return v && *v ? v : NULL;
}

/* The server is gone: say so once. */
static void lost(void)
{
  if(said_lost)
    return;
  said_lost = 1;
  log_msg(LLMR_LOG_ERROR, NULL, "shared: lost the shared state server "
          "(%s): no new calls are reserved; the rest of the input gets "
          "shared_unavailable", ops->error(handle));
}

int shared_setup(const struct pipeline *pl, int connect, double budget)
{
  char w_url[512], w_run[512], w[512], err[512];
  const char *url = setting_of(pl, "shared", "LLMROUTE_SHARED", w_url,
                               sizeof(w_url));
  const char *run = setting_of(pl, "run", "LLMROUTE_RUN", w_run,
                               sizeof(w_run));
  const char *v;
  double timeout = 1;
  char *path, *end;
  size_t i;

  ttl = 30;
  if(!url)
    return 0;
  if(!run) {
    fprintf(stderr, "%s: needs a run name (set run=NAME or LLMROUTE_RUN): "
            "every process of one run gives the same\n", w_url);
    return -1;
  }
  for(i = 0; run[i]; i++)
    if(!(run[i] == '-' || run[i] == '_' || run[i] == '.' ||
         (run[i] >= '0' && run[i] <= '9') || (run[i] >= 'a' && run[i] <= 'z')
         || (run[i] >= 'A' && run[i] <= 'Z')) || i >= 100) {
      fprintf(stderr, "%s: '%s' is not a run name (up to 100 of A-Z a-z "
              "0-9 . _ -)\n", w_run, run);
      return -1;
    }
  if((v = setting_of(pl, "shared_ttl", "LLMROUTE_SHARED_TTL", w,
                     sizeof(w)))) {
    errno = 0;
    ttl = strtod(v, &end);
    if(*end || errno || !(ttl >= 1 && ttl <= 86400)) {
      fprintf(stderr, "%s: '%s' is not a number of seconds from 1 to "
              "86400\n", w, v);
      return -1;
    }
  }
  if((v = setting_of(pl, "shared_timeout", "LLMROUTE_SHARED_TIMEOUT", w,
                     sizeof(w)))) {
    errno = 0;
    timeout = strtod(v, &end);
    if(*end || errno || !(timeout >= 0.001 && timeout <= 60)) {
      fprintf(stderr, "%s: '%s' is not a number of seconds from 0.001 "
              "to 60\n", w, v);
      return -1;
    }
  }
  if(strncmp(url, "redis://", 8)) {
    fprintf(stderr, "%s: '%s' is not redis://HOST[:PORT][/DB]\n", w_url,
            url);
    return -1;
  }
  if(!connect)
    return 0;
  path = loader_find("shared_redis");
  if(!path) {
    fprintf(stderr, "%s: no shared_redis.so in the plugin path (built "
            "with libhiredis-dev?)\n", w_url);
    return -1;
  }
  dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if(dl) {
    llmr_shared_entry_fn entry;

    *(void **)(&entry) = dlsym(dl, LLMR_SHARED_ENTRY);
    ops = entry ? entry() : NULL;
  }
  if(!dl || !ops || ops->version != LLMR_SHARED_VERSION) {
    fprintf(stderr, "%s: cannot load %s: %s\n", w_url, path,
            dl ? "not a shared-state module of this version" : dlerror());
    free(path);
    shared_close();
    return -1;
  }
  free(path);
  handle = ops->open(url, run, ttl, timeout, budget, err, sizeof(err));
  if(!handle) {
    fprintf(stderr, "%s: %s\n", w_url, err);
    shared_close();
    return -1;
  }
  last_beat = now_seconds();
  log_msg(LLMR_LOG_INFO, NULL, "shared: run %s at %s", run, url);
  return 0;
}

int shared_active(void)
{
  return handle != NULL;
}

int shared_reserve(double usd, long *gen)
{
  int r = ops->reserve(handle, usd, gen);

  if(r < 0)
    lost();
  return r;
}

void shared_settle(long gen, double reserved, double actual)
{
  if(ops->settle(handle, gen, reserved, actual) < 0)
    lost();
}

double shared_take(const char *bucket, double n, double per_minute,
                   int ifroom)
{
  double w;

  if(!handle || said_lost)
    return -1;
  w = ops->take(handle, bucket, n, per_minute, ifroom);
  if(w < 0)
    lost();
  return w;
}

void shared_tick(void)
{
  double now;

  if(!handle || said_lost)
    return;
  now = now_seconds();
  /* three chances before the lease lapses */
  if(now - last_beat < ttl / 3)
    return;
  last_beat = now;
  if(ops->heartbeat(handle) < 0)
    lost();
}

void shared_close(void)
{
  if(handle) {
    if(!said_lost) {
      double spent = ops->spent(handle);

      if(spent >= 0)
        log_msg(LLMR_LOG_INFO, NULL, "shared: the run has spent $%.6f "
                "in all its processes", spent);
    }
    ops->close(handle);
  }
  handle = NULL;
  if(dl)
    dlclose(dl);
  dl = NULL;
  ops = NULL;
  said_lost = 0;
}
