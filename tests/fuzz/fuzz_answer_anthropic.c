/*
 * fuzz_answer_anthropic.c - the call stage's anthropic answer parser
 * (plugins/call/anthropic.c, anthropic_response) on provider answer bodies; the
 * checks are in answer.h.
 */
#define FUZZ_FORMAT call_anthropic
#include "answer.h"
