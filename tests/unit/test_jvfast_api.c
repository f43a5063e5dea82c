/*
 * test_jvfast_api.c - test_jvfast.c on jvfast.h's fallback: jq's API, as
 * on a jq whose layout the probe does not recognize.
 */
#define LLMR_JVF_API_ONLY
#include "test_jvfast.c"
