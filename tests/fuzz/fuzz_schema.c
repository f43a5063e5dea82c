/*
 * fuzz_schema.c - the validate stage's JSON Schema compiler and
 * validator (plugins/validate/schema_compile.c, schema.c, schema_ref.c:
 * keywords, patterns, $ref, $id, $anchor), included as the unit tests
 * include them.
 *
 * The input is a schema on its first line and an instance on the rest.
 * A schema that compiles checks the instance the same way twice (the
 * regex cache and $ref resolution are state), with or without a reason
 * buffer, and a failure's reason starts with an instance pointer.
 */
#include <jq.h>

#include "core.h"
#include "fuzz.h"
#include "../../plugins/validate/schema.c"
#include "../../plugins/validate/schema_compile.c"
#include "../../plugins/validate/schema_ref.c"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  (void)argc;
  (void)argv;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *s = (const char *)data;
  const char *nl = memchr(s, '\n', size);
  size_t slen = nl ? (size_t)(nl - s) : size;
  jv doc = json_parse(s, slen), inst;
  char err[512], r1[512], r2[512];
  struct schema *sch;
  int ok1, ok2, ok3;

  if(!jv_is_valid(doc)) {
    jv_free(doc);
    return 0;
  }
  err[0] = '\0';
  sch = schema_compile(doc, err, sizeof(err));
  if(!sch) {
    FUZZ_CHECK(err[0] != '\0');
    return 0;
  }
  inst = nl ? json_parse(nl + 1, size - slen - 1) : jv_null();
  if(jv_is_valid(inst)) {
    ok1 = schema_check(sch, inst, r1, sizeof(r1));
    ok2 = schema_check(sch, inst, r2, sizeof(r2));
    ok3 = schema_check(sch, inst, NULL, 0);
    FUZZ_CHECK(ok1 == ok2 && ok1 == ok3);
    FUZZ_CHECK(!strcmp(r1, r2));
    if(!ok1) /* a long instance pointer may cut the message off */
      FUZZ_CHECK(r1[0] == '/' && strlen(r1) < sizeof(r1));
  }
  jv_free(inst);
  schema_free(sch);
  return 0;
}
