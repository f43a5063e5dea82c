/*
 * agree.c - do two models' answers agree?  The check behind route.agree
 * (route policy=learned agree=true): the call stage asks the chosen
 * model and a partner at once, and when both answer compares what they
 * answered.  Disagreement is structural evidence that the cheap answer
 * may be wrong (two cheap models rarely make the same mistake), found
 * without a judge model and without the answer's truth.
 *
 * What is compared is the short answer each text gives:
 *   - a choice: the text starts with an option letter A-H standing alone
 *     ("B", "B)", "(B) wet palms", "B. because ...", not "A long ..."),
 *     or boxes it
 *     (\boxed{B}: a boxed number or word is compared too), or says
 *     "answer is B" / "answer: B";
 *   - else a number: the last number of a text of at most 400 bytes
 *     ("... so the total is 42."), digits grouped by commas joined;
 *   - else a short text (at most 60 bytes): lower-cased, letters and
 *     digits only.
 * Anything else (an essay, code) cannot be compared: the answers count
 * as agreeing, so a long answer is never escalated on this ground.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include "stage.h"

/* The short answer of text into out (cap bytes): "L:B", "N:42", "T:..."
 * or "" when it has none. */
void agree_extract(const char *text, char *out, size_t cap)
{
  const unsigned char *s = (const unsigned char *)text, *p;
  size_t n = strlen(text), o;

  out[0] = '\0';
  while(*s && (isspace(*s) || *s == '(' || *s == '[' || *s == '"' ||
               *s == '\'' || *s == '*'))
    s++;
  /* a choice letter standing alone at the start ("A long answer" is an
     article, not a choice) */
  if(*s >= 'A' && *s <= 'H' && !isalnum(s[1]) &&
     !(s[1] == ' ' && islower(s[2]))) {
    snprintf(out, cap, "L:%c", *s);
    return;
  }
  /* a LaTeX box: \boxed{B}, \boxed{42} */
  if((p = (const unsigned char *)strstr(text, "boxed{")) != NULL) {
    const unsigned char *q = p + 6, *e = (const unsigned char *)
                             strchr((const char *)q, '}');
    if(e && e - q >= 1 && e - q < 40) {
      if(e - q == 1 && *q >= 'A' && *q <= 'J')
        snprintf(out, cap, "L:%c", *q);
      else {
        o = (size_t)snprintf(out, cap, "%s", isdigit(*q) || *q == '-'
                             ? "N:" : "T:");
        for(; q < e && o + 1 < cap; q++)
          if(isalnum(*q) || *q == '.' || *q == '-')
            out[o++] = (char)tolower(*q);
        out[o] = '\0';
      }
      return;
    }
  }
  /* "answer is B", "answer: B", "Answer: (C)" */
  for(p = (const unsigned char *)text; (p = (const unsigned char *)
      strstr((const char *)p, "nswer")) != NULL; p++) {
    const unsigned char *q = p + 5;
    while(*q == ' ' || *q == ':' || *q == '(' || *q == '*')
      q++;
    if(!strncmp((const char *)q, "is ", 3)) {
      q += 3;
      while(*q == ' ' || *q == '(' || *q == '*')
        q++;
    }
    if(*q >= 'A' && *q <= 'H' && !isalnum(q[1])) {
      snprintf(out, cap, "L:%c", *q);
      return;
    }
  }
  if(n <= 400) { /* the last number */
    const unsigned char *end = NULL, *start;
    for(p = (const unsigned char *)text + n; p > (const unsigned char *)
        text; p--)
      if(isdigit(p[-1])) {
        end = p;
        break;
      }
    if(end) {
      start = end;
      while(start > (const unsigned char *)text &&
            (isdigit(start[-1]) || start[-1] == '.' ||
             (start[-1] == ',' && start - 1 > (const unsigned char *)text &&
              isdigit(start[-2]))))
        start--;
      if(start > (const unsigned char *)text && start[-1] == '-')
        start--;
      o = (size_t)snprintf(out, cap, "N:");
      for(p = start; p < end && o + 1 < cap; p++)
        if(*p != ',')
          out[o++] = (char)*p;
      while(o > 2 && (out[o - 1] == '.' || out[o - 1] == '0') &&
            memchr(out + 2, '.', o - 2)) /* 42.0 = 42 */
        o--;
      if(o > 2 && out[o - 1] == '.')
        o--;
      out[o] = '\0';
      return;
    }
  }
  if(n <= 60) { /* a short text */
    o = (size_t)snprintf(out, cap, "T:");
    for(p = s; *p && o + 1 < cap; p++)
      if(isalnum(*p))
        out[o++] = (char)tolower(*p);
    out[o] = '\0';
    if(o == 2)
      out[0] = '\0';
  }
}

/* Borrows a completion.  Its first choice's content, or "". */
static const char *answer_content(jv completion)
{
  jv ch = call_get(completion, "choices"), c0, msg;
  const char *s = "";

  if(jv_get_kind(ch) == JV_KIND_ARRAY && jv_array_length(jv_copy(ch)) > 0) {
    c0 = jv_array_get(jv_copy(ch), 0);
    msg = call_get(c0, "message");
    s = call_str(msg, "content");
    /* the string lives in completion: c0 and msg are refs into it */
    jv_free(msg);
    jv_free(c0);
  }
  jv_free(ch);
  return s ? s : "";
}

int agree_compare(jv a, jv b, char *ea, char *eb, size_t cap)
{
  agree_extract(answer_content(a), ea, cap);
  agree_extract(answer_content(b), eb, cap);
  if(!ea[0] || !eb[0] || ea[0] != eb[0])
    return -1; /* one has no short answer, or not of the same kind */
  return !strcmp(ea, eb);
}
