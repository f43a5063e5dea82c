/*
 * redact.c - an example stage: remove e-mail addresses and phone
 * numbers from every message before the request leaves for a provider.
 *
 *   redact [email=true] [phone=true] [mask_email="[email]"]
 *          [mask_phone="[phone]"] [min_digits=7]
 *
 * Put it before `call`.  It rewrites the text of every message (string
 * contents and text parts alike) with host->map_text() and counts what it
 * replaced in route.redacted {email, phone}.  See what it does to a
 * request without calling anyone:
 *
 *   llmroute --dry-run -p redact.pipeline requests.jsonl
 *
 * Built against the installed kit only (Makefile here: `make test`).
 *
 * What counts: an e-mail address is LOCAL@DOMAIN.TLD (letters, digits
 * and ._%+- before the @; letters, digits, - and . after it; a TLD of two
 * letters or more).  A phone number is a run of digits, spaces, dots,
 * dashes and parentheses, optionally starting with +, holding from
 * min_digits to 15 digits, not glued to letters or other digits and not
 * a date written YYYY-MM-DD (so dates and short numbers stay).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <llmroute.h>

struct redact {
  const struct llmr_host *host;
  int email, phone;
  const char *mask_email, *mask_phone;
  long long min_digits;
};

/* What one map_text() pass found (the ctx of the rewriter). */
struct pass {
  const struct redact *r;
  long emails, phones;
};

static const struct llmr_option options[] = {
  {"email", LLMR_OPT_BOOL, "true", 0, "redact e-mail addresses"},
  {"phone", LLMR_OPT_BOOL, "true", 0, "redact phone numbers"},
  {"mask_email", LLMR_OPT_STRING, "[email]", 0, "what an address becomes"},
  {"mask_phone", LLMR_OPT_STRING, "[phone]", 0, "what a number becomes"},
  {"min_digits", LLMR_OPT_INT, "7", 0, "fewest digits of a phone number"},
  {NULL, LLMR_OPT_STRING, NULL, 0, NULL}
};

/* A growing output buffer. */
struct out {
  char *p;
  size_t len, cap;
};

static int put(struct out *o, const char *s, size_t n)
{
  if(o->len + n + 1 > o->cap) {
    size_t cap = o->cap ? o->cap * 2 : 256;
    char *p;
    while(cap < o->len + n + 1)
      cap *= 2;
    p = realloc(o->p, cap);
    if(!p)
      return -1;
    o->p = p;
    o->cap = cap;
  }
  memcpy(o->p + o->len, s, n);
  o->len += n;
  o->p[o->len] = '\0';
  return 0;
}

static int local_char(unsigned char c)
{
  return isalnum(c) || c == '.' || c == '_' || c == '%' || c == '+' ||
         c == '-';
}

static int domain_char(unsigned char c)
{
  return isalnum(c) || c == '-' || c == '.';
}

/* s[at] is '@': the e-mail address around it as [*from, *to), or 0. */
static int email_at(const char *s, size_t n, size_t at, size_t *from,
                    size_t *to)
{
  size_t b = at, e = at + 1, dot = 0, i;

  while(b > 0 && local_char((unsigned char)s[b - 1]))
    b--;
  while(e < n && domain_char((unsigned char)s[e]))
    e++;
  while(e > at + 1 && (s[e - 1] == '.' || s[e - 1] == '-'))
    e--;                                   /* "mail me at a@b.org." */
  for(i = at + 1; i < e; i++)
    if(s[i] == '.')
      dot = i;
  if(b == at || !dot || dot == at + 1 || e - dot < 3)
    return 0;
  for(i = dot + 1; i < e; i++)
    if(!isalpha((unsigned char)s[i]))
      return 0;
  *from = b;
  *to = e;
  return 1;
}

/* A phone number starting at s[at] (a digit, '+' or '('): its end in
 * *to, or 0. */
static int phone_at(const struct redact *r, const char *s, size_t n,
                    size_t at, size_t *to)
{
  size_t i = at, last = at;
  long digits = 0, groups = 0, first = 0, run = 0;

  if(at > 0 && (isalnum((unsigned char)s[at - 1]) || s[at - 1] == '+'))
    return 0;
  if(s[i] == '+')
    i++;
  for(; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if(isdigit(c)) {
      digits++;
      last = i + 1;
      if(!run++)
        groups++;
      if(groups == 1)
        first = run;
    }
    else if(!(c == ' ' || c == '-' || c == '.' || c == '(' || c == ')'))
      break;
    else if(c == ' ' && i + 1 < n && s[i + 1] == ' ')
      break;                               /* two blanks end it */
    else
      run = 0;
  }
  if(last < n && (isalpha((unsigned char)s[last]) || s[last] == '@' ||
                  s[last] == '_'))
    return 0;                              /* part of a word or address */
  if(digits < r->min_digits || digits > 15)
    return 0;
  if(groups == 3 && first == 4 && digits == 8)
    return 0;                              /* a date: 2024-01-02 */
  if(s[at] == '(' && !memchr(s + at, ')', last - at))
    return 0;
  *to = last;
  return 1;
}

/* The rewriter handed to host->map_text(): text (consumed) with every
 * address and number masked. */
static jv rewrite(void *ctx, jv text)
{
  struct pass *ps = ctx;
  const struct redact *r = ps->r;
  const char *s = jv_string_value(text);
  size_t n = (size_t)jv_string_length_bytes(jv_copy(text)), i, done = 0;
  struct out o = {NULL, 0, 0};
  int changed = 0, oom = 0;

  for(i = 0; i < n && !oom; i++) {
    size_t from, to;
    if(r->email && s[i] == '@' && email_at(s, n, i, &from, &to) &&
       from >= done) {
      oom = put(&o, s + done, from - done) ||
            put(&o, r->mask_email, strlen(r->mask_email));
      done = i = to;
      ps->emails++;
      changed = 1;
      i--;
    }
    else if(r->phone && i >= done &&
            (isdigit((unsigned char)s[i]) || s[i] == '+' || s[i] == '(') &&
            phone_at(r, s, n, i, &to)) {
      oom = put(&o, s + done, i - done) ||
            put(&o, r->mask_phone, strlen(r->mask_phone));
      done = to;
      ps->phones++;
      changed = 1;
      i = to - 1;
    }
  }
  if(!changed || oom || put(&o, s + done, n - done)) {
    free(o.p);
    return text;                           /* unchanged */
  }
  jv_free(text);
  text = jv_string_sized(o.p, (int)o.len);
  free(o.p);
  return text;
}

static int redact_init(const struct llmr_host *host,
                       const struct llmr_config *cf, void **self)
{
  struct redact *r = calloc(1, sizeof(*r));

  if(!r)
    return LLMR_ENOMEM;
  r->host = host;
  r->email = (int)host->opt(cf, "email")->i;
  r->phone = (int)host->opt(cf, "phone")->i;
  r->mask_email = host->opt(cf, "mask_email")->str;
  r->mask_phone = host->opt(cf, "mask_phone")->str;
  r->min_digits = host->opt(cf, "min_digits")->i;
  if(r->min_digits < 3 || r->min_digits > 15) {
    host->config_error(cf, "min_digits must be 3..15");
    free(r);
    return LLMR_ERR;
  }
  *self = r;
  return LLMR_OK;
}

static enum llmr_verdict redact_process(void *self, struct llmr_job *job)
{
  struct redact *r = self;
  const struct llmr_host *h = r->host;
  struct pass ps = {r, 0, 0};
  jv req = h->map_text(h->request(job), LLMR_TEXT_ALL, rewrite, &ps);
  jv route, counts;

  h->set_request(job, req);
  if(!ps.emails && !ps.phones)
    return LLMR_NEXT;
  counts = jv_object_set(jv_object(), jv_string("email"),
                         jv_number((double)ps.emails));
  counts = jv_object_set(counts, jv_string("phone"),
                         jv_number((double)ps.phones));
  route = jv_object_set(h->route(job), jv_string("redacted"), counts);
  h->set_route(job, route);
  h->log(job, LLMR_LOG_DEBUG, "redacted %ld addresses, %ld numbers",
         ps.emails, ps.phones);
  return LLMR_NEXT;
}

static void redact_finish(void *self)
{
  free(self);
}

static const struct llmr_stage descriptor = {
  LLMR_STAGE_VERSION,
  .name = "redact",
  .version = "1.0.0",
  .description = "mask e-mail addresses and phone numbers in every message",
  .options = options,
  .init = redact_init,
  .process = redact_process,
  .finish = redact_finish
};

LLMR_EXPORT const struct llmr_stage *llmr_stage_entry(unsigned host_major,
                                                     unsigned host_minor)
{
  (void)host_minor;
  return host_major == LLMR_ABI_MAJOR ? &descriptor : NULL;
}
