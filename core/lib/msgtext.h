/*
 * msgtext.h - the text of a request's messages: walk, join, rewrite.
 *
 * Internal library (core/lib): the runner serves these to every stage as
 * host->request_text(), content_text(), set_message_text() and
 * map_text() (llmroute.h documents the contract: shapes accepted, which
 * parts count as text, the LLMR_TEXT_* role sets).  The classifier's
 * featurizer (textfeat.c) walks the same way without making a jv string
 * per request, so mt_walk() is here for it: one definition of "the text
 * of a request" for the runner, the built-in stages and plugin authors.
 */
#ifndef LLMR_MSGTEXT_H
#define LLMR_MSGTEXT_H

#include <stddef.h>
#include "llmroute.h"

/* Receives one piece of text: s[0..n), not NUL-terminated. */
typedef void (*mt_emit_fn)(void *ctx, const char *s, size_t n);

/* Borrows holder.  Calls emit for every piece of text of the messages
 * chosen by which, in order, with a "\n" piece between two pieces (none
 * before the first).  Returns the number of text pieces.  Never asserts
 * on a bad shape. */
int mt_walk(jv holder, unsigned which, mt_emit_fn emit, void *ctx);

/* host->request_text(): the pieces joined, a new jv string. */
jv mt_text(jv holder, unsigned which);

/* host->content_text(): borrows content; a new string or jv_null(). */
jv mt_content_text(jv content);

/* host->set_message_text(): consumes request and text. */
jv mt_set_message_text(jv request, int index, jv text);

/* host->map_text(): consumes request. */
jv mt_map_text(jv request, unsigned which, llmr_text_fn fn, void *ctx);

/* Drop the keys mt_walk() keeps (made once per process, or per plugin
 * for a stage linking this file); the next call makes them anew. */
void mt_release(void);

#endif /* LLMR_MSGTEXT_H */
