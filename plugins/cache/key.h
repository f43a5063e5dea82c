/*
 * key.h - the cache stage's key: what would be sent to the provider,
 * reduced to the fields that decide the answer, hashed.  Not installed.
 */
#ifndef LLMR_CACHE_KEY_H
#define LLMR_CACHE_KEY_H

#include <jv.h>

/* Fields of the request body that never reach the provider or do not
 * change its answer: left out of the key (see cache_key_body()). */
#define CACHE_KEY_DROPPED \
  "model, stream, stream_options, metadata, user, store"

/* Borrows request (the job's request, {"body":{...}, ...}).  New ref:
 * the body as the key sees it, or jv_invalid() when the request has no
 * body object.  Kept: every field of body that is sent (messages, tools,
 * tool_choice, temperature, top_p, stop, seed, response_format, n, ...);
 * max_tokens and max_completion_tokens become one "max_tokens" (the call
 * stage sends whichever name the provider wants, with the same value).
 * Dropped: the fields of CACHE_KEY_DROPPED; and, outside body,
 * custom_id, method, url and routing (llmroute's own).  Not seen: the
 * output cap call adds when the body has none (its max_tokens= option,
 * the model's limit), which is not in the request. */
jv cache_key_body(jv request);

/* Borrows request.  The key of request sent to model (a catalog model
 * name): SHA-256 of the canonical JSON (keys sorted, no spaces) of
 * {"v":1,"model":model,"body":cache_key_body(request)}, as 64 hex
 * digits into out.  0, or -1 when the request has no body object. */
int cache_key(jv request, const char *model, char out[65]);

#endif
