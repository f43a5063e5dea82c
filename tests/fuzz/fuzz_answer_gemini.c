/*
 * fuzz_answer_gemini.c - the call stage's gemini answer parser
 * (plugins/call/gemini.c, gemini_response) on provider answer bodies; the
 * checks are in answer.h.
 */
#define FUZZ_FORMAT call_gemini
#include "answer.h"
