/*
 * schema_ref.c - the JSON Schema validator's plumbing: jv helpers, the
 * regular expression cache, URI resolution, the index of resources
 * ($id) and anchors ($anchor), and $ref resolution within the document.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema_int.h"

/* ---------------------------------------------------------------------
 * jv helpers
 */

jv schema_get(jv obj, const char *key)
{
  if(jv_get_kind(obj) != JV_KIND_OBJECT)
    return jv_invalid();
  return jv_object_get(jv_copy(obj), jv_string(key));
}

int schema_is_integral(jv v)
{
  double x;
  if(jv_get_kind(v) != JV_KIND_NUMBER)
    return 0;
  x = jv_number_value(v);
  return isfinite(x) && x == floor(x);
}

/* ---------------------------------------------------------------------
 * Regular expressions (Oniguruma, Perl syntax, UTF-8), cached by source
 */

OnigRegex schema_regex(struct schema *s, const char *src, char *err,
                       size_t errlen)
{
  OnigRegex re;
  OnigErrorInfo einfo;
  size_t i;
  int rc;
  for(i = 0; i < s->nre; i++)
    if(!strcmp(s->re[i].src, src))
      return s->re[i].re;
  rc = onig_new(&re, (const OnigUChar *)src,
                (const OnigUChar *)src + strlen(src),
                ONIG_OPTION_CAPTURE_GROUP,
                ONIG_ENCODING_UTF8, ONIG_SYNTAX_PERL_NG, &einfo);
  if(rc != ONIG_NORMAL) {
    if(err) {
      OnigUChar msg[ONIG_MAX_ERROR_MESSAGE_LEN];
      onig_error_code_to_str(msg, rc, &einfo);
      snprintf(err, errlen, "bad pattern \"%s\": %s", src, (char *)msg);
    }
    return NULL;
  }
  if(s->nre == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 8;
    struct schema_regex *n = realloc(s->re, cap * sizeof(*n));
    if(!n) {
      onig_free(re);
      if(err)
        snprintf(err, errlen, "out of memory");
      return NULL;
    }
    s->re = n;
    s->cap = cap;
  }
  s->re[s->nre].src = strdup(src);
  if(!s->re[s->nre].src) {
    onig_free(re);
    if(err)
      snprintf(err, errlen, "out of memory");
    return NULL;
  }
  s->re[s->nre].re = re;
  s->nre++;
  return re;
}

int schema_regex_search(OnigRegex re, const char *str, size_t n)
{
  const OnigUChar *b = (const OnigUChar *)str, *e = b + n;
  return onig_search(re, b, e, b, e, NULL, ONIG_OPTION_NONE) >= 0;
}

/* ---------------------------------------------------------------------
 * URIs
 */

/* Length of s's scheme with its ':' ("urn:", "http:"), or 0. */
static size_t scheme_len(const char *s)
{
  size_t i = 0;
  if(!isalpha((unsigned char)s[0]))
    return 0;
  while(isalnum((unsigned char)s[i]) || s[i] == '+' || s[i] == '-' ||
        s[i] == '.')
    i++;
  return s[i] == ':' ? i + 1 : 0;
}

/* out = the first keep bytes of base, then ref; cut to n - 1 bytes. */
static void join(const char *base, size_t keep, const char *ref, char *out,
                 size_t n)
{
  snprintf(out, n, "%.*s%s", (int)keep, base, ref);
}

void schema_uri_resolve(const char *base, const char *ref, char *out,
                        size_t n)
{
  size_t sl = scheme_len(base), bl = strcspn(base, "#"), pl, i;
  if(scheme_len(ref)) {
    join("", 0, ref, out, n);
    return;
  }
  if(!*ref || ref[0] == '#') {
    join(base, bl, ref, out, n);
    return;
  }
  if(ref[0] == '/' && ref[1] == '/') {
    join(base, sl, ref, out, n);
    return;
  }
  if(ref[0] == '/') {
    size_t a = sl;
    if(base[sl] == '/' && base[sl + 1] == '/')
      a = sl + 2 + strcspn(base + sl + 2, "/?#");
    join(base, a, ref, out, n);
    return;
  }
  pl = strcspn(base, "?#");
  for(i = pl; i > sl && base[i - 1] != '/'; i--)
    ;
  join(base, i > sl ? i : sl, ref, out, n);
}

/* Decode %XX escapes of a URI fragment into out (at least strlen(in)+1
 * bytes). */
static void percent_decode(const char *in, char *out)
{
  while(*in) {
    if(in[0] == '%' && in[1] && in[2] && strchr("0123456789abcdefABCDEF",
                                                in[1]) &&
       strchr("0123456789abcdefABCDEF", in[2])) {
      char hex[3] = {in[1], in[2], '\0'};
      *out++ = (char)strtol(hex, NULL, 16);
      in += 3;
    }
    else
      *out++ = *in++;
  }
  *out = '\0';
}

/* Borrows doc.  New ref of the value at JSON pointer ptr ("" or
 * "/a/b~1c"), or jv_invalid() when there is none. */
static jv pointer_get(jv doc, const char *ptr)
{
  jv cur = jv_copy(doc);
  char tok[256];
  while(*ptr == '/') {
    size_t n = 0;
    ptr++;
    while(*ptr && *ptr != '/') {
      char c = *ptr++;
      if(c == '~' && *ptr == '0') {
        c = '~';
        ptr++;
      }
      else if(c == '~' && *ptr == '1') {
        c = '/';
        ptr++;
      }
      if(n + 1 >= sizeof(tok)) {
        jv_free(cur);
        return jv_invalid();
      }
      tok[n++] = c;
    }
    tok[n] = '\0';
    if(jv_get_kind(cur) == JV_KIND_OBJECT)
      cur = jv_object_get(cur, jv_string(tok));
    else if(jv_get_kind(cur) == JV_KIND_ARRAY) {
      char *end;
      long i = strtol(tok, &end, 10);
      if(!n || *end || i < 0 || (n > 1 && tok[0] == '0') ||
         i >= jv_array_length(jv_copy(cur))) { /* never cut to an int */
        jv_free(cur);
        return jv_invalid();
      }
      cur = jv_array_get(cur, (int)i);
    }
    else {
      jv_free(cur);
      return jv_invalid();
    }
    if(!jv_is_valid(cur))
      return cur;
  }
  if(*ptr) {
    jv_free(cur);
    return jv_invalid();
  }
  return cur;
}

/* ---------------------------------------------------------------------
 * The index of resources and anchors
 */

int schema_index_add(struct schema *s, const char *uri, const char *anchor,
                     jv sch)
{
  struct schema_res *r;
  if(s->nres == s->rescap) {
    size_t cap = s->rescap ? s->rescap * 2 : 8;
    struct schema_res *n = realloc(s->res, cap * sizeof(*n));
    if(!n)
      return -1;
    s->res = n;
    s->rescap = cap;
  }
  r = &s->res[s->nres];
  r->uri = strdup(uri);
  r->anchor = anchor ? strdup(anchor) : NULL;
  if(!r->uri || (anchor && !r->anchor)) {
    free(r->uri);
    free(r->anchor);
    return -1;
  }
  r->schema = jv_copy(sch);
  s->nres++;
  return 0;
}

const char *schema_resource_uri(struct schema *s, jv sch)
{
  size_t i;
  for(i = 0; i < s->nres; i++)
    if(!s->res[i].anchor &&
       jv_identical(jv_copy(s->res[i].schema), jv_copy(sch)))
      return s->res[i].uri;
  return NULL;
}

jv schema_resolve(struct schema *s, const char *base, const char *ref,
                  const char **target_base)
{
  char abs[SCHEMA_URI_LEN], frag[SCHEMA_URI_LEN], *hash;
  jv res = jv_invalid();
  size_t i;
  schema_uri_resolve(base ? base : "", ref, abs, sizeof(abs));
  hash = strchr(abs, '#');
  if(hash)
    *hash++ = '\0';
  percent_decode(hash ? hash : "", frag);
  for(i = 0; i < s->nres; i++) {
    struct schema_res *r = &s->res[i];
    if(strcmp(r->uri, abs))
      continue;
    if(!r->anchor && (!frag[0] || frag[0] == '/')) {
      res = frag[0] ? pointer_get(r->schema, frag) : jv_copy(r->schema);
      *target_base = r->uri;
      return res;
    }
    if(r->anchor && !strcmp(r->anchor, frag)) {
      *target_base = r->uri;
      return jv_copy(r->schema);
    }
  }
  return res;
}
