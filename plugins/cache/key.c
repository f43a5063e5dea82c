/*
 * key.c - the cache key.  Two requests share a key exactly when the
 * call stage would send the same model the same body, up to the order
 * of object keys and the spelling of numbers (0.70 and 0.7 are one
 * number): the body is dumped with its keys sorted by jq's printer, so
 * the text is canonical.  The API key is never part of a request, so it
 * cannot reach the key or the database.
 */
#include <string.h>

#include "key.h"
#include "core/lib/sha256.h"

#define KEY_VERSION 1 /* bump when what goes into the key changes */

jv cache_key_body(jv request)
{
  static const char *const dropped[] = {
    "model", "stream", "stream_options", "metadata", "user", "store", NULL
  };
  jv body, cap;
  int i;

  if(jv_get_kind(request) != JV_KIND_OBJECT)
    return jv_invalid();
  body = jv_object_get(jv_copy(request), jv_string("body"));
  if(jv_get_kind(body) != JV_KIND_OBJECT) {
    jv_free(body);
    return jv_invalid();
  }
  for(i = 0; dropped[i]; i++)
    body = jv_object_delete(body, jv_string(dropped[i]));
  /* the call stage reads max_completion_tokens first, then max_tokens */
  cap = jv_object_get(jv_copy(body), jv_string("max_completion_tokens"));
  if(jv_get_kind(cap) != JV_KIND_NUMBER) {
    jv_free(cap);
    cap = jv_object_get(jv_copy(body), jv_string("max_tokens"));
  }
  body = jv_object_delete(body, jv_string("max_completion_tokens"));
  body = jv_object_delete(body, jv_string("max_tokens"));
  if(jv_get_kind(cap) == JV_KIND_NUMBER)
    body = jv_object_set(body, jv_string("max_tokens"), cap);
  else
    jv_free(cap);
  return body;
}

int cache_key(jv request, const char *model, char out[65])
{
  jv body = cache_key_body(request), doc, text;

  if(!jv_is_valid(body)) {
    jv_free(body);
    out[0] = '\0';
    return -1;
  }
  doc = jv_object();
  doc = jv_object_set(doc, jv_string("v"), jv_number(KEY_VERSION));
  doc = jv_object_set(doc, jv_string("model"), jv_string(model ? model : ""));
  doc = jv_object_set(doc, jv_string("body"), body);
  text = jv_dump_string(doc, JV_PRINT_SORTED);
  sha256_hex(jv_string_value(text),
             (size_t)jv_string_length_bytes(jv_copy(text)), out);
  jv_free(text);
  return 0;
}
