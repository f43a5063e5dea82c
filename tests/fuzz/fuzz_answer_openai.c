/*
 * fuzz_answer_openai.c - the call stage's openai answer parser
 * (plugins/call/openai.c, openai_response) on provider answer bodies; the
 * checks are in answer.h.
 */
#define FUZZ_FORMAT call_openai
#include "answer.h"
