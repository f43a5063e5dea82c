/*
 * loop.c - the event loop: one thread, curl's multi handle, the input fd
 * and a timer heap.  Nothing blocks but curl_multi_poll().
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "run.h"

double now_seconds(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---------------------------------------------------------------------
 * Timer heap (min-heap on `when`; each node knows its index)
 */
static void heap_swap(size_t a, size_t b)
{
  struct timer *t = R.heap[a];

  R.heap[a] = R.heap[b];
  R.heap[b] = t;
  R.heap[a]->heap_idx = a;
  R.heap[b]->heap_idx = b;
}

static void heap_up(size_t i)
{
  while(i > 0) {
    size_t p = (i - 1) / 2;

    if(R.heap[p]->when <= R.heap[i]->when)
      break;
    heap_swap(i, p);
    i = p;
  }
}

static void heap_down(size_t i)
{
  for(;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;

    if(l < R.nheap && R.heap[l]->when < R.heap[m]->when)
      m = l;
    if(r < R.nheap && R.heap[r]->when < R.heap[m]->when)
      m = r;
    if(m == i)
      break;
    heap_swap(i, m);
    i = m;
  }
}

static void heap_remove(struct timer *t)
{
  size_t i = t->heap_idx;

  R.nheap--;
  if(i != R.nheap) {
    R.heap[i] = R.heap[R.nheap];
    R.heap[i]->heap_idx = i;
    heap_down(i);
    heap_up(i);
  }
}

int timer_add(struct llmr_job *job, double delay_s, llmr_timer_fire fire,
              int stage, struct timer **out)
{
  struct timer *t;

  if(R.nheap == R.capheap) {
    size_t nc = R.capheap ? R.capheap * 2 : 256;
    struct timer **h = realloc(R.heap, nc * sizeof(*h));

    if(!h)
      return LLMR_ENOMEM;
    R.heap = h;
    R.capheap = nc;
  }
  t = calloc(1, sizeof(*t));
  if(!t)
    return LLMR_ENOMEM;
  t->when = now_seconds() + (delay_s > 0 ? delay_s : 0);
  t->job = job;
  t->fire = fire;
  t->stage = stage;
  t->heap_idx = R.nheap;
  R.heap[R.nheap++] = t;
  heap_up(t->heap_idx);
  if(fire) {
    t->jnext = job->timers;
    if(job->timers)
      job->timers->jprev = t;
    job->timers = t;
  }
  if(out)
    *out = t;
  return LLMR_OK;
}

/* Unlink from the heap and the job's list; free. */
void timer_cancel(struct timer *t)
{
  if(!t)
    return;
  heap_remove(t);
  if(t->fire) {
    if(t->jprev)
      t->jprev->jnext = t->jnext;
    else
      t->job->timers = t->jnext;
    if(t->jnext)
      t->jnext->jprev = t->jprev;
  }
  else
    t->job->deadline = NULL;
  free(t);
}

static void fire_due_timers(void)
{
  double now = now_seconds();

  while(R.nheap && R.heap[0]->when <= now && !R.interrupted) {
    struct timer *t = R.heap[0];
    struct llmr_job *job = t->job;
    llmr_timer_fire fire = t->fire;
    int stage = t->stage;

    timer_cancel(t);
    if(!fire) {
      job_deadline(job);
      continue;
    }
    if(job->has_verdict || job->phase == JOB_FINISHED)
      continue; /* completed meanwhile: drop */
    R.cur_stage = stage;
    fire(R.pl->stages[stage].self, job);
    R.cur_stage = -1;
  }
}

/* ---------------------------------------------------------------------
 * Transfers, found by easy handle (open addressing, linear probing)
 */
static size_t xfer_slot(CURL *easy)
{
  uintptr_t h = (uintptr_t)easy;

  h ^= h >> 17;
  h *= 0x9E3779B97F4A7C15ull;
  return (size_t)(h >> 7) & (R.xfer_cap - 1);
}

static int xfer_grow(void)
{
  struct transfer **old = R.xfer_tab;
  size_t oldcap = R.xfer_cap, i;

  R.xfer_cap = oldcap ? oldcap * 2 : 1024;
  R.xfer_tab = calloc(R.xfer_cap, sizeof(*R.xfer_tab));
  if(!R.xfer_tab) {
    R.xfer_tab = old;
    R.xfer_cap = oldcap;
    return -1;
  }
  for(i = 0; i < oldcap; i++)
    if(old[i]) {
      size_t s = xfer_slot(old[i]->easy);

      while(R.xfer_tab[s])
        s = (s + 1) & (R.xfer_cap - 1);
      R.xfer_tab[s] = old[i];
    }
  free(old);
  return 0;
}

static struct transfer *xfer_find(CURL *easy)
{
  size_t s;

  if(!R.xfer_cap)
    return NULL;
  s = xfer_slot(easy);
  while(R.xfer_tab[s]) {
    if(R.xfer_tab[s]->easy == easy)
      return R.xfer_tab[s];
    s = (s + 1) & (R.xfer_cap - 1);
  }
  return NULL;
}

static void xfer_unindex(struct transfer *x)
{
  size_t s = xfer_slot(x->easy), j;

  while(R.xfer_tab[s] != x)
    s = (s + 1) & (R.xfer_cap - 1);
  R.xfer_tab[s] = NULL;
  R.nxfer--;
  /* re-insert the rest of the cluster */
  for(j = (s + 1) & (R.xfer_cap - 1); R.xfer_tab[j];
      j = (j + 1) & (R.xfer_cap - 1)) {
    struct transfer *y = R.xfer_tab[j];
    size_t k;

    R.xfer_tab[j] = NULL;
    k = xfer_slot(y->easy);
    while(R.xfer_tab[k])
      k = (k + 1) & (R.xfer_cap - 1);
    R.xfer_tab[k] = y;
  }
}

int transfer_add(struct llmr_job *job, CURL *easy, llmr_http_done done)
{
  struct transfer *x;
  size_t s;

  if((R.nxfer + 1) * 2 > R.xfer_cap && xfer_grow())
    goto fail;
  x = calloc(1, sizeof(*x));
  if(!x)
    goto fail;
  x->easy = easy;
  x->job = job;
  x->done = done;
  x->stage = job->stage;
  if(curl_multi_add_handle(R.multi, easy) != CURLM_OK) {
    free(x);
    goto fail;
  }
  s = xfer_slot(easy);
  while(R.xfer_tab[s])
    s = (s + 1) & (R.xfer_cap - 1);
  R.xfer_tab[s] = x;
  R.nxfer++;
  x->jnext = job->transfers;
  if(job->transfers)
    job->transfers->jprev = x;
  job->transfers = x;
  return LLMR_OK;
fail:
  curl_easy_cleanup(easy);
  return LLMR_ERR;
}

/* Detach from multi, index and job; the easy handle is cleaned up. */
static void transfer_unlink(struct transfer *x)
{
  curl_multi_remove_handle(R.multi, x->easy);
  xfer_unindex(x);
  if(x->jprev)
    x->jprev->jnext = x->jnext;
  else
    x->job->transfers = x->jnext;
  if(x->jnext)
    x->jnext->jprev = x->jprev;
}

void transfer_cancel(struct transfer *x)
{
  transfer_unlink(x);
  curl_easy_cleanup(x->easy);
  free(x);
}

static void finish_transfers(void)
{
  CURLMsg *msg;
  int left;

  while((msg = curl_multi_info_read(R.multi, &left))) {
    struct transfer *x;
    struct llmr_job *job;

    if(msg->msg != CURLMSG_DONE)
      continue;
    x = xfer_find(msg->easy_handle);
    if(!x)
      continue;
    job = x->job;
    transfer_unlink(x);
    if(!job->has_verdict && job->phase != JOB_FINISHED) {
      CURLcode rc = msg->data.result;

      R.cur_stage = x->stage;
      x->done(R.pl->stages[x->stage].self, job, x->easy, rc);
      R.cur_stage = -1;
    }
    curl_easy_cleanup(x->easy);
    free(x);
  }
}

/* ---------------------------------------------------------------------
 * Signals: a self-pipe polled with the rest
 */
static void on_signal(int sig)
{
  int saved = errno;
  char c = (char)sig;

  R.interrupted = sig;
  if(R.sigpipe_fd[1] >= 0 && write(R.sigpipe_fd[1], &c, 1) < 0) {
    /* nothing to do: the flag is set */
  }
  errno = saved;
}

static int signals_init(void)
{
  struct sigaction sa;

  if(pipe(R.sigpipe_fd))
    return -1;
  fcntl(R.sigpipe_fd[0], F_SETFL, O_NONBLOCK);
  fcntl(R.sigpipe_fd[1], F_SETFL, O_NONBLOCK);
  fcntl(R.sigpipe_fd[0], F_SETFD, FD_CLOEXEC);
  fcntl(R.sigpipe_fd[1], F_SETFD, FD_CLOEXEC);
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  return 0;
}

/* Every job still in flight ends with an `interrupted` record. */
static void interrupt_all(void)
{
  char msg[64];

  snprintf(msg, sizeof(msg), "stopped by %s before it finished",
           R.interrupted == SIGINT ? "SIGINT" : "SIGTERM");
  R.stop_reading = 1;
  while(R.runq_head) {
    struct llmr_job *j = R.runq_head;

    R.runq_head = j->qnext;
    j->in_runq = 0;
  }
  R.runq_tail = NULL;
  while(R.active)
    job_fail_now(R.active, "interrupted", "core", msg);
}

/* ---------------------------------------------------------------------
 * The loop
 */
static int poll_timeout_ms(void)
{
  double ms;

  if(R.runq_head || (reader_more() && R.nactive < R.max_jobs))
    return 0;
  if(!R.nheap)
    return 1000;
  ms = (R.heap[0]->when - now_seconds()) * 1000.0;
  if(ms < 0)
    return 0;
  if(ms > 1000)
    return 1000;
  return (int)ms + 1;
}

int loop_run(void)
{
  int running = 0;

  if(signals_init())
    return LLMR_ERR;
  for(;;) {
    struct curl_waitfd fds[2];
    unsigned nfds = 0;
    int timeout, in_fd = -1;

    if(R.interrupted)
      interrupt_all();
    if(R.progress && now_seconds() >= R.progress_next)
      progress_tick();
    if(!R.stop_reading && R.nactive < R.max_jobs)
      reader_fill();
    runq_run();
    if(R.epipe)
      break;
    if(R.stop_reading || reader_done()) {
      if(R.nactive == 0)
        break;
    }
    /* what finished meanwhile, before deciding how long to sleep */
    curl_multi_perform(R.multi, &running);
    finish_transfers();
    fire_due_timers();
    shared_tick();
    /* paid answers are durable at once: a kill loses only what is out */
    if(writer_flush_paid() < 0)
      break;
    if(R.runq_head || R.interrupted)
      continue;
    timeout = poll_timeout_ms();
    if(timeout > 0 && writer_flush() < 0)
      break;
    fds[nfds].fd = R.sigpipe_fd[0];
    fds[nfds].events = CURL_WAIT_POLLIN;
    fds[nfds++].revents = 0;
    if(!R.stop_reading && R.nactive < R.max_jobs &&
       (in_fd = reader_fd()) >= 0) {
      fds[nfds].fd = in_fd;
      fds[nfds].events = CURL_WAIT_POLLIN;
      fds[nfds++].revents = 0;
    }
    curl_multi_poll(R.multi, fds, nfds, timeout, NULL);
    if(fds[0].revents) {
      char drain[64];

      while(read(R.sigpipe_fd[0], drain, sizeof(drain)) > 0)
        ;
    }
    if(in_fd >= 0 && fds[1].revents)
      reader_mark_ready();
  }
  if(R.epipe)
    return LLMR_ERR;
  return writer_flush() < 0 ? LLMR_ERR : LLMR_OK;
}
