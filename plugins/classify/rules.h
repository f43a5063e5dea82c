/*
 * rules.h - the classify stage's rules file: parsing and matching.
 *
 * Format (pipelines/tasks.rules is the example), one rule a line:
 *
 *   TASK PRIORITY KIND: PATTERN          # comment
 *
 *   TASK      a label: letters, digits, '_' and '-'
 *   PRIORITY  an integer 0..1000; the matching rule with the highest
 *             priority decides the task (on a tie, the earlier line)
 *   KIND      keyword  PATTERN is a comma-separated list of words or
 *                      phrases, matched case-insensitively on whole
 *                      tokens ("stack trace" matches "Stack  trace" but
 *                      not "stacktraces"); a number in a keyword matches
 *                      any number with as many digits (up to 4)
 *             opening  like keyword, but only as the first words of a
 *                      line, after at most two courtesy phrases
 *                      ("please", "can you", "could you", "help me" ...):
 *                      "summarize" matches "Could you please summarize
 *                      this" but not "a summarize button"
 *             regex    PATTERN is an Oniguruma (Perl syntax) regex,
 *                      case-insensitive for ASCII letters (like the
 *                      keywords; full Unicode case folding made a
 *                      search about 13 times slower), searched in the
 *                      prompt text;
 *                      ^ and $ match at every line start and end.
 *                      regex[WORD, PHRASE, ...]: PATTERN runs the regex
 *                      only when one of those keywords occurs (a guard:
 *                      a regex search costs microseconds, a keyword
 *                      nearly nothing)
 *             jq       PATTERN is a jq program run on the request
 *                      ({"custom_id":..,"body":{..},"routing":..}); the
 *                      rule matches when its first output is truthy
 *
 * Blank lines are ignored; "#" at the start of a line or after a blank
 * starts a comment (write [#] in a regex).  Keywords are
 * compiled into one hash table and matched in a single pass over the
 * prompt's tokens; regex and jq rules are compiled once and tried in
 * order of priority, only while they could still beat the best match.
 * At most 1024 rules.
 */
#ifndef CLASSIFY_RULES_H
#define CLASSIFY_RULES_H

#include "llmroute.h"
#include "core/lib/textfeat.h"

struct rules;

/* Parse and compile path.  On failure NULL, and a message
 * "PATH:LINE: what" (malloc'd, the caller frees it) in *errmsg.  host
 * gives jq_compile (may be NULL when the file has no jq rules). */
struct rules *rules_load(const char *path, const struct llmr_host *host,
                         char **errmsg);

/* Same, from a string (name is used in messages). */
struct rules *rules_parse(const char *text, const char *name,
                          const struct llmr_host *host, char **errmsg);

/* Accepts NULL. */
void rules_free(struct rules *r);

/* Number of rules. */
size_t rules_count(const struct rules *r);

/* The best matching rule's task for a prompt (text, its tokens) and the
 * request (borrowed; only jq rules look at it, may be jv_null()), among
 * the rules of priority >= min_prio.  NULL when no rule matches; the
 * string belongs to r.  *prio gets the winning priority (may be NULL). */
const char *rules_match(const struct rules *r, const char *text,
                        size_t len, const struct tf_token *toks,
                        size_t ntok, jv request, int min_prio, int *prio);

#endif /* CLASSIFY_RULES_H */
