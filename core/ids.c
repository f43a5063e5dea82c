/*
 * ids.c - the ids a run writes (llmroute(1), IDS AND SHARDS): the result
 * "id" llmr-RUN-N, unique across processes and machines, and the
 * custom_id of a line without one, the same for the same line in every
 * run and every shard.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "run.h"

/* ---------------------------------------------------------------------
 * A 128-bit hash of bytes, four 64-bit lanes over 8-byte words read
 * little-endian, so the same bytes give the same id on every machine.
 * Not cryptographic: it tells apart the lines of honest inputs (two
 * different lines share an id with odds of about n^2 / 2^81 for n
 * lines), and costs about 0.1 microsecond for a 1 KB line.
 * Changing it changes every generated custom_id: never do.
 */
#define M1 0x9e3779b97f4a7c15ULL
#define M2 0xbf58476d1ce4e5b9ULL
#define M3 0x94d049bb133111ebULL
#define M4 0xc2b2ae3d27d4eb4fULL

static uint64_t rotl(uint64_t x, int r)
{
  return (x << r) | (x >> (64 - r));
}

static uint64_t fmix(uint64_t x)
{
  x ^= x >> 30;
  x *= M2;
  x ^= x >> 27;
  x *= M3;
  return x ^ (x >> 31);
}

/* 8 bytes as a little-endian number: one load (a byte swap on a
 * big-endian CPU) */
static uint64_t load8(const unsigned char *p)
{
  uint64_t w;

  memcpy(&w, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  w = __builtin_bswap64(w);
#endif
  return w;
}

/* The last 1 to 7 bytes, zero-padded, little-endian. */
static uint64_t load_tail(const unsigned char *p, size_t n)
{
  uint64_t w = 0;
  size_t i;

  for(i = 0; i < n; i++)
    w |= (uint64_t)p[i] << (8 * i);
  return w;
}

/* One word into a lane: a multiply that needs the lane's last value
 * only once, so the four lanes of hash128() run side by side. */
static uint64_t lane(uint64_t v, uint64_t w)
{
  return rotl(v ^ (w * M1), 31) * M2;
}

static void hash128(const void *data, size_t len, uint64_t out[2])
{
  const unsigned char *p = data;
  uint64_t v0 = M1, v1 = M2, v2 = M3, v3 = M4 ^ (uint64_t)len, a;
  size_t i = 0;

  for(; i + 32 <= len; i += 32) {
    v0 = lane(v0, load8(p + i));
    v1 = lane(v1, load8(p + i + 8));
    v2 = lane(v2, load8(p + i + 16));
    v3 = lane(v3, load8(p + i + 24));
  }
  for(; i + 8 <= len; i += 8) /* 0 to 3 words left: lanes 0, 1, 2 */
    switch((i / 8) & 3) {
    case 0: v0 = lane(v0, load8(p + i)); break;
    case 1: v1 = lane(v1, load8(p + i)); break;
    default: v2 = lane(v2, load8(p + i)); break;
    }
  if(i < len)
    v3 = lane(v3, load_tail(p + i, len - i));
  a = v0 + rotl(v1, 19) + rotl(v2, 37) + rotl(v3, 53);
  out[0] = fmix(a ^ ((uint64_t)len * M4));
  out[1] = fmix((v0 ^ rotl(v2, 23)) * M1 + (v1 ^ rotl(v3, 41)) * M3 +
                out[0]);
}

/* ---------------------------------------------------------------------
 * The run token: 12 characters (60 bits) from the host name, the pid,
 * the start time in nanoseconds and 8 random bytes, so two processes
 * (GNU parallel's shards, containers with the same host name and pid 1
 * started in the same second) get different tokens.
 */
static const char b32[] = "0123456789abcdefghjkmnpqrstvwxyz";
static char run_token[16];

const char *ids_run_token(void)
{
  if(!run_token[0]) {
    struct {
      char host[256];
      pid_t pid;
      struct timespec ts;
      unsigned char rnd[8];
    } seed;
    uint64_t h[2];
    int i;

    memset(&seed, 0, sizeof(seed));
    gethostname(seed.host, sizeof(seed.host) - 1);
    seed.pid = getpid();
    clock_gettime(CLOCK_REALTIME, &seed.ts);
    if(getrandom(seed.rnd, sizeof(seed.rnd), GRND_NONBLOCK) < 0) {
      /* no entropy yet (early boot): the other fields still differ */
    }
    hash128(&seed, sizeof(seed), h);
    for(i = 0; i < 12; i++)
      run_token[i] = b32[(h[0] >> (5 * i)) & 31];
    run_token[12] = '\0';
  }
  return run_token;
}

/* ---------------------------------------------------------------------
 * Generated custom_ids.  Lines seen are kept as the first 64 bits of
 * their hash in an open-addressing set (8 bytes a slot, at most 3/4
 * full); a line seen again goes into a second, small table with its
 * count, which gives it "#2", "#3", ... in input order.
 */
struct hset {
  uint64_t *key;            /* 0: empty (a key of 0 is stored as 1) */
  uint32_t *count;          /* NULL in the first-seen set */
  size_t cap, n;
};

static struct hset seen, dups;
static int by_line = -1;    /* custom_ids=line: the old line-N */

static size_t hset_slot(const struct hset *s, uint64_t k)
{
  size_t i = (size_t)(k ^ (k >> 32)) & (s->cap - 1);

  while(s->key[i] && s->key[i] != k)
    i = (i + 1) & (s->cap - 1);
  return i;
}

static int hset_grow(struct hset *s, int with_count)
{
  struct hset t = {0};
  size_t i;

  t.cap = s->cap ? s->cap * 2 : 1024;
  t.key = calloc(t.cap, sizeof(*t.key));
  if(with_count)
    t.count = calloc(t.cap, sizeof(*t.count));
  if(!t.key || (with_count && !t.count)) {
    free(t.key);
    free(t.count);
    return -1;
  }
  for(i = 0; i < s->cap; i++)
    if(s->key[i]) {
      size_t j = hset_slot(&t, s->key[i]);

      t.key[j] = s->key[i];
      if(t.count)
        t.count[j] = s->count[i];
    }
  t.n = s->n;
  free(s->key);
  free(s->count);
  *s = t;
  return 0;
}

/* Add k; 1 when it was there already, 0 when new, -1 out of memory. */
static int hset_add(struct hset *s, uint64_t k)
{
  size_t i;

  if(!k)
    k = 1;
  if((s->n + 1) * 4 > s->cap * 3 && hset_grow(s, 0))
    return -1;
  i = hset_slot(s, k);
  if(s->key[i])
    return 1;
  s->key[i] = k;
  s->n++;
  return 0;
}

/* Count one more sighting of a duplicate k; its number (2, 3, ...). */
static uint32_t dups_bump(uint64_t k)
{
  size_t i;

  if(!k)
    k = 1;
  if((dups.n + 1) * 4 > dups.cap * 3 && hset_grow(&dups, 1))
    return 0;
  i = hset_slot(&dups, k);
  if(!dups.key[i]) {
    dups.key[i] = k;
    dups.count[i] = 1;
    dups.n++;
  }
  return ++dups.count[i];
}

int ids_set_scheme(const char *scheme)
{
  if(!scheme || !*scheme || !strcmp(scheme, "content"))
    by_line = 0;
  else if(!strcmp(scheme, "line"))
    by_line = 1;
  else
    return -1;
  return 0;
}

char *ids_custom_id(const char *line, size_t len, long lineno)
{
  char tmp[64];
  uint64_t h[2];
  int i;

  if(by_line < 0)
    by_line = 0;
  if(by_line || !line) {
    snprintf(tmp, sizeof(tmp), "line-%ld", lineno);
    return strdup(tmp);
  }
  hash128(line, len, h);
  memcpy(tmp, "h-", 2);
  /* 20 hex digits: 64 bits of the first lane, 16 of the second */
  for(i = 0; i < 16; i++)
    tmp[2 + i] = "0123456789abcdef"[(h[0] >> (60 - 4 * i)) & 15];
  for(i = 0; i < 4; i++)
    tmp[18 + i] = "0123456789abcdef"[(h[1] >> (60 - 4 * i)) & 15];
  tmp[22] = '\0';
  switch(hset_add(&seen, h[0])) {
  case 1: {
    uint32_t n = dups_bump(h[0]);

    if(n)
      snprintf(tmp + 22, sizeof(tmp) - 22, "#%u", (unsigned)n);
    else
      return NULL;
    break;
  }
  case -1:
    return NULL;
  default:
    break;
  }
  return strdup(tmp);
}

void ids_free(void)
{
  free(seen.key);
  free(seen.count);
  free(dups.key);
  free(dups.count);
  memset(&seen, 0, sizeof(seen));
  memset(&dups, 0, sizeof(dups));
}
