/*
 * shared_redis.c - one budget and one set of rate-limit buckets for
 * every process of a run, in Redis (llmroute(1), SCALING OUT).  Not a
 * stage: the runner dlopens it for `set shared=redis://...` and calls
 * it through struct llmr_shared_ops (core/shared.h).
 *
 * Keys, all under llmroute:RUN: (one Redis, not a cluster: the scripts
 * touch the leases of other processes):
 *   budget        the run's budget in USD (set by its first process)
 *   spent         settled costs of every process
 *   held          hash: PROC.GEN -> USD reserved and not yet settled
 *   lease:PROC.GEN  exists while that process lives (PX ttl, refreshed
 *                 by its heartbeat)
 *   bucket:NAME   hash {level, stamp}: a token bucket, Redis' clock
 * Each reservation is one script: it reaps the held entries whose lease
 * is gone (charging them to spent at their worst case: the provider may
 * have billed those calls), then admits usd when spent + held + usd
 * stays within the budget.  A process whose own lease lapsed (stopped
 * longer than the ttl) was reaped the same way: it starts a new
 * generation, and settling a reaped reservation adds nothing.
 *
 * Synchronous hiredis with a timeout on every command: a few hundred
 * microseconds on loopback, never longer than the timeout.  The first
 * failure marks the connection lost for good: the runner then refuses
 * every new call (fails closed) instead of spending blind.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <hiredis/hiredis.h>

#include "llmroute.h"
#include "core/shared.h"

struct shr {
  redisContext *c;
  char *prefix;      /* "llmroute:RUN:" */
  char proc[160];    /* host:pid:nonce */
  long gen;          /* lease generation */
  long long ttl_ms;
  int lost;
  char err[256];
};

enum { S_RESERVE, S_SETTLE, S_TAKE, NSCRIPT };

static const char *const script[NSCRIPT] = {
  /* KEYS: budget spent held mylease; ARGV: field usd leaseprefix ttl_ms */
  "if not redis.call('SET', KEYS[4], '1', 'PX', ARGV[4], 'XX') then\n"
  "  return -2 end\n"
  "local spent = tonumber(redis.call('GET', KEYS[2]) or '0')\n"
  "local held = redis.call('HGETALL', KEYS[3])\n"
  "local out = 0\n"
  "for i = 1, #held, 2 do\n"
  "  local v = tonumber(held[i + 1])\n"
  "  if held[i] ~= ARGV[1] and\n"
  "     redis.call('EXISTS', ARGV[3] .. held[i]) == 0 then\n"
  "    redis.call('HDEL', KEYS[3], held[i])\n"
  "    if v > 0 then\n"
  "      spent = spent + v\n"
  "      redis.call('INCRBYFLOAT', KEYS[2], string.format('%.17g', v))\n"
  "    end\n"
  "  else out = out + v end\n"
  "end\n"
  "local budget = tonumber(redis.call('GET', KEYS[1]) or '-1')\n"
  "if budget >= 0 and spent + out + tonumber(ARGV[2]) > budget + 1e-12\n"
  "  then return 1 end\n"
  "redis.call('HINCRBYFLOAT', KEYS[3], ARGV[1], ARGV[2])\n"
  "return 0\n",
  /* KEYS: spent held; ARGV: field reserved actual */
  "if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then\n"
  "  redis.call('HINCRBYFLOAT', KEYS[2], ARGV[1], '-' .. ARGV[2])\n"
  "  redis.call('INCRBYFLOAT', KEYS[1], ARGV[3])\n"
  "end\n"
  "return 0\n",
  /* KEYS: bucket; ARGV: n per_minute ifroom */
  "local t = redis.call('TIME')\n"
  "local now = tonumber(t[1]) + tonumber(t[2]) / 1e6\n"
  "local cap = tonumber(ARGV[2])\n"
  "local rate = cap / 60\n"
  "local n = tonumber(ARGV[1])\n"
  "if n > cap then n = cap end\n"
  "local b = redis.call('HMGET', KEYS[1], 'level', 'stamp')\n"
  "local level = tonumber(b[1]) or cap\n"
  "local stamp = tonumber(b[2]) or now\n"
  "if now > stamp then\n"
  "  level = math.min(cap, level + (now - stamp) * rate)\n"
  "  stamp = now\n"
  "end\n"
  "if ARGV[3] == '1' and level < n then\n"
  "  return string.format('%.17g', (n - level) / rate) end\n"
  "level = level - n\n"
  "redis.call('HSET', KEYS[1], 'level', string.format('%.17g', level),\n"
  "           'stamp', string.format('%.17g', stamp))\n"
  "redis.call('PEXPIRE', KEYS[1],\n"
  "           120000 + math.ceil(math.max(-level, 0) / rate * 1000))\n"
  "if level >= 0 then return '0' end\n"
  "return string.format('%.17g', -level / rate)\n"
};
static char sha[NSCRIPT][41];

/* Mark h lost, once, with why. */
static void lose(struct shr *h, const char *why)
{
  if(h->lost)
    return;
  h->lost = 1;
  snprintf(h->err, sizeof(h->err), "%s", why);
}

/* A reply, or NULL with h lost (connection error, timeout, or an error
 * reply: the scripts never fail on good input, so it means trouble). */
static redisReply *check(struct shr *h, redisReply *r)
{
  if(!r) {
    lose(h, h->c->errstr[0] ? h->c->errstr : "no reply");
    return NULL;
  }
  if(r->type == REDIS_REPLY_ERROR) {
    char why[200];
    snprintf(why, sizeof(why), "%.*s", (int)r->len, r->str);
    freeReplyObject(r);
    lose(h, why);
    return NULL;
  }
  return r;
}

/* Run script s with nkeys keys then args (argc in all).  The script is
 * loaded at open; a server restarted since then (NOSCRIPT) gets it
 * whole. */
static redisReply *run(struct shr *h, int s, int nkeys, int argc,
                       const char **argv)
{
  const char *av[16];
  char nk[8];
  redisReply *r;

  if(h->lost)
    return NULL;
  snprintf(nk, sizeof(nk), "%d", nkeys);
  av[0] = "EVALSHA";
  av[1] = sha[s];
  av[2] = nk;
  memcpy(av + 3, argv, (size_t)argc * sizeof(*av));
  r = redisCommandArgv(h->c, argc + 3, av, NULL);
  if(r && r->type == REDIS_REPLY_ERROR && !strncmp(r->str, "NOSCRIPT", 8)) {
    freeReplyObject(r);
    av[0] = "EVAL";
    av[1] = script[s];
    r = redisCommandArgv(h->c, argc + 3, av, NULL);
  }
  return check(h, r);
}

static void key(const struct shr *h, char *out, size_t n, const char *what)
{
  snprintf(out, n, "%s%s", h->prefix, what);
}

/* The held field and lease key of the current generation. */
static void field(const struct shr *h, long gen, char *out, size_t n)
{
  snprintf(out, n, "%s.%ld", h->proc, gen);
}
static void lease_key(const struct shr *h, long gen, char *out, size_t n)
{
  snprintf(out, n, "%slease:%s.%ld", h->prefix, h->proc, gen);
}

/* SET the lease of the current generation (NX: a new one). */
static int lease_new(struct shr *h)
{
  char lk[512], ttl[32];
  redisReply *r;

  lease_key(h, h->gen, lk, sizeof(lk));
  snprintf(ttl, sizeof(ttl), "%lld", h->ttl_ms);
  r = check(h, redisCommand(h->c, "SET %s 1 PX %s NX", lk, ttl));
  if(!r)
    return -1;
  freeReplyObject(r);
  return 0;
}

static int s_heartbeat(void *hv)
{
  struct shr *h = hv;
  char lk[512], ttl[32];
  redisReply *r;
  int had;

  if(h->lost)
    return -1;
  lease_key(h, h->gen, lk, sizeof(lk));
  snprintf(ttl, sizeof(ttl), "%lld", h->ttl_ms);
  r = check(h, redisCommand(h->c, "SET %s 1 PX %s XX", lk, ttl));
  if(!r)
    return -1;
  had = r->type == REDIS_REPLY_STATUS;
  freeReplyObject(r);
  if(!had) { /* lapsed and maybe reaped: carry on as a new generation */
    h->gen++;
    return lease_new(h);
  }
  return 0;
}

static void fmt_usd(char *out, size_t n, double usd)
{
  snprintf(out, n, "%.17g", usd < 0 || !isfinite(usd) ? 0 : usd);
}

static int s_reserve(void *hv, double usd, long *gen)
{
  struct shr *h = hv;
  char kb[512], ks[512], kh[512], kl[512], f[200], u[40], lp[512],
       ttl[32];
  int tries;

  key(h, kb, sizeof(kb), "budget");
  key(h, ks, sizeof(ks), "spent");
  key(h, kh, sizeof(kh), "held");
  key(h, lp, sizeof(lp), "lease:");
  fmt_usd(u, sizeof(u), usd);
  snprintf(ttl, sizeof(ttl), "%lld", h->ttl_ms);
  for(tries = 0; tries < 2; tries++) {
    const char *av[] = { kb, ks, kh, kl, f, u, lp, ttl };
    redisReply *r;
    long long v;

    field(h, h->gen, f, sizeof(f));
    lease_key(h, h->gen, kl, sizeof(kl));
    r = run(h, S_RESERVE, 4, 8, av);
    if(!r)
      return -1;
    v = r->type == REDIS_REPLY_INTEGER ? r->integer : -3;
    freeReplyObject(r);
    if(v == 0) {
      *gen = h->gen;
      return 0;
    }
    if(v == 1)
      return 1;
    if(v != -2) {
      lose(h, "unexpected reply to the reservation script");
      return -1;
    }
    h->gen++; /* our lease lapsed: a new generation, then again */
    if(lease_new(h))
      return -1;
  }
  lose(h, "the lease keeps lapsing (ttl too short?)");
  return -1;
}

static int s_settle(void *hv, long gen, double reserved, double actual)
{
  struct shr *h = hv;
  char ks[512], kh[512], f[200], a[40], b[40];
  const char *av[] = { ks, kh, f, a, b };
  redisReply *r;

  key(h, ks, sizeof(ks), "spent");
  key(h, kh, sizeof(kh), "held");
  field(h, gen, f, sizeof(f));
  fmt_usd(a, sizeof(a), reserved);
  fmt_usd(b, sizeof(b), actual);
  r = run(h, S_SETTLE, 2, 5, av);
  if(!r)
    return -1;
  freeReplyObject(r);
  return 0;
}

static double s_take(void *hv, const char *bucket, double n,
                     double per_minute, int ifroom)
{
  struct shr *h = hv;
  char kb[512], a[40], b[40];
  const char *av[] = { kb, a, b, ifroom ? "1" : "0" };
  redisReply *r;
  double w;

  if(per_minute <= 0)
    return 0;
  snprintf(kb, sizeof(kb), "%sbucket:%s", h->prefix, bucket);
  snprintf(a, sizeof(a), "%.17g", n < 0 ? 0 : n);
  snprintf(b, sizeof(b), "%.17g", per_minute);
  r = run(h, S_TAKE, 1, 4, av);
  if(!r)
    return -1;
  w = r->type == REDIS_REPLY_STRING ? strtod(r->str, NULL) : -1;
  freeReplyObject(r);
  if(w < 0)
    lose(h, "unexpected reply to the bucket script");
  return w;
}

static double s_spent(void *hv)
{
  struct shr *h = hv;
  char ks[512];
  redisReply *r;
  double v;

  if(h->lost)
    return -1;
  key(h, ks, sizeof(ks), "spent");
  r = check(h, redisCommand(h->c, "GET %s", ks));
  if(!r)
    return -1;
  v = r->type == REDIS_REPLY_STRING ? strtod(r->str, NULL) : 0;
  freeReplyObject(r);
  return v;
}

static const char *s_error(void *hv)
{
  return ((struct shr *)hv)->err;
}

static void s_close(void *hv)
{
  struct shr *h = hv;

  if(!h)
    return;
  if(!h->lost) {
    char lk[512], kh[512], f[200];
    redisReply *r;

    /* everything is settled by now: drop our (zero) held entry and the
       lease.  Anything left would be charged by the next reaper. */
    key(h, kh, sizeof(kh), "held");
    field(h, h->gen, f, sizeof(f));
    lease_key(h, h->gen, lk, sizeof(lk));
    r = redisCommand(h->c, "HGET %s %s", kh, f);
    if(r && (r->type == REDIS_REPLY_NIL ||
             (r->type == REDIS_REPLY_STRING &&
              fabs(strtod(r->str, NULL)) < 1e-9))) {
      freeReplyObject(r);
      r = redisCommand(h->c, "HDEL %s %s", kh, f);
    }
    if(r)
      freeReplyObject(r);
    r = redisCommand(h->c, "DEL %s", lk);
    if(r)
      freeReplyObject(r);
  }
  if(h->c)
    redisFree(h->c);
  free(h->prefix);
  free(h);
}

/* Parse redis://host[:port][/db].  0, or -1 with err set. */
static int parse_url(const char *url, char *host, size_t hn, int *port,
                     int *db, char *err, size_t errlen)
{
  const char *p, *e;
  char *end;
  long v;

  *port = 6379;
  *db = 0;
  if(strncmp(url, "redis://", 8)) {
    snprintf(err, errlen, "'%s' is not redis://HOST[:PORT][/DB]", url);
    return -1;
  }
  p = url + 8;
  if(strchr(p, '@')) {
    snprintf(err, errlen, "a password in the URL is not supported");
    return -1;
  }
  e = p + strcspn(p, ":/");
  if(e == p || (size_t)(e - p) >= hn) {
    snprintf(err, errlen, "'%s' has no host", url);
    return -1;
  }
  memcpy(host, p, (size_t)(e - p));
  host[e - p] = 0;
  if(*e == ':') {
    v = strtol(e + 1, &end, 10);
    if(end == e + 1 || v < 1 || v > 65535 || (*end && *end != '/')) {
      snprintf(err, errlen, "'%s': bad port", url);
      return -1;
    }
    *port = (int)v;
    e = end;
  }
  if(*e == '/' && e[1]) {
    v = strtol(e + 1, &end, 10);
    if(*end || v < 0 || v > 1000000) {
      snprintf(err, errlen, "'%s': bad database number", url);
      return -1;
    }
    *db = (int)v;
  }
  return 0;
}

static void *s_open(const char *url, const char *run_name, double ttl,
                    double timeout, double budget, char *err,
                    size_t errlen)
{
  struct shr *h;
  char host[256], kb[512], b[40], hn[64];
  struct timeval tv;
  redisReply *r;
  int port, db, i;
  size_t n;

  if(parse_url(url, host, sizeof(host), &port, &db, err, errlen))
    return NULL;
  h = calloc(1, sizeof(*h));
  n = strlen(run_name) + 16;
  if(!h || !(h->prefix = malloc(n))) {
    free(h);
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  snprintf(h->prefix, n, "llmroute:%s:", run_name);
  h->ttl_ms = (long long)(ttl * 1000);
  if(gethostname(hn, sizeof(hn)))
    snprintf(hn, sizeof(hn), "host");
  hn[sizeof(hn) - 1] = 0;
  {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    /* host and pid name the process; the clock tells apart a pid
       reused on the same host within one run */
    snprintf(h->proc, sizeof(h->proc), "%s:%ld:%lx", hn, (long)getpid(),
             (unsigned long)(ts.tv_sec * 1000000L + ts.tv_nsec / 1000));
  }
  tv.tv_sec = (time_t)timeout;
  tv.tv_usec = (suseconds_t)((timeout - (double)tv.tv_sec) * 1e6);
  h->c = redisConnectWithTimeout(host, port, tv);
  if(!h->c || h->c->err) {
    snprintf(err, errlen, "cannot connect to %s: %s", url,
             h->c ? h->c->errstr : "out of memory");
    h->lost = 1;
    s_close(h);
    return NULL;
  }
  redisSetTimeout(h->c, tv);
  if(db) {
    r = check(h, redisCommand(h->c, "SELECT %d", db));
    if(r)
      freeReplyObject(r);
  }
  for(i = 0; i < NSCRIPT && !h->lost; i++) {
    r = check(h, redisCommand(h->c, "SCRIPT LOAD %s", script[i]));
    if(r && r->type == REDIS_REPLY_STRING && r->len == 40)
      memcpy(sha[i], r->str, 41);
    if(r)
      freeReplyObject(r);
  }
  key(h, kb, sizeof(kb), "budget");
  if(!h->lost && budget >= 0) {
    fmt_usd(b, sizeof(b), budget);
    r = check(h, redisCommand(h->c, "SET %s %s NX", kb, b));
    if(r)
      freeReplyObject(r);
    r = h->lost ? NULL : check(h, redisCommand(h->c, "GET %s", kb));
    if(r && r->type == REDIS_REPLY_STRING &&
       fabs(strtod(r->str, NULL) - budget) > 1e-9) {
      snprintf(err, errlen, "run '%s' already has a budget of %.10g "
               "USD; this process was given %.10g (one budget per run: "
               "give the same, or none, or a new run name)", run_name,
               strtod(r->str, NULL), budget);
      freeReplyObject(r);
      h->lost = 1;
      s_close(h);
      return NULL;
    }
    if(r)
      freeReplyObject(r);
  }
  if(!h->lost)
    lease_new(h);
  if(h->lost) {
    snprintf(err, errlen, "%s: %s", url, h->err);
    s_close(h); /* lost: it touches no key */
    return NULL;
  }
  return h;
}

static const struct llmr_shared_ops ops = {
  .version = LLMR_SHARED_VERSION,
  .size = sizeof(struct llmr_shared_ops),
  .open = s_open,
  .reserve = s_reserve,
  .settle = s_settle,
  .take = s_take,
  .heartbeat = s_heartbeat,
  .spent = s_spent,
  .error = s_error,
  .close = s_close,
};

LLMR_EXPORT const struct llmr_shared_ops *llmr_shared_entry(void);
const struct llmr_shared_ops *llmr_shared_entry(void)
{
  return &ops;
}
