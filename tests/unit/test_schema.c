/*
 * test_schema.c - the JSON Schema validator of the validate stage
 * (plugins/validate/schema.c), keyword by keyword, valid and invalid,
 * with the exact reason of each failure.  Run from the source root (it
 * reads tests/fixtures/schema/).
 */
#include <jq.h>
#include <unistd.h>
#include "harness.h"
#include "../../plugins/validate/schema.c"
#include "../../plugins/validate/schema_compile.c"
#include "../../plugins/validate/schema_ref.c"

/* One case: schema, instance, expected validity and, when not NULL, the
 * expected reason ("POINTER: message"). */
struct tcase {
  const char *name;
  const char *schema;
  const char *inst;
  int valid;
  const char *reason;
};

static const struct tcase cases[] = {
  /* boolean schemas */
  {"true schema", "true", "{\"a\":1}", 1, NULL},
  {"false schema", "false", "1", 0, "/: not allowed (false schema)"},
  {"empty schema", "{}", "[1,\"x\",null]", 1, NULL},

  /* type */
  {"type number ok", "{\"type\":\"number\"}", "1.5", 1, NULL},
  {"type number str", "{\"type\":\"number\"}", "\"1\"", 0,
   "/: expected number"},
  {"type integer 1.0", "{\"type\":\"integer\"}", "1.0", 1, NULL},
  {"type integer 1.5", "{\"type\":\"integer\"}", "1.5", 0,
   "/: expected integer"},
  {"type integer big", "{\"type\":\"integer\"}", "1e300", 1, NULL},
  {"type string", "{\"type\":\"string\"}", "\"\"", 1, NULL},
  {"type boolean not 0", "{\"type\":\"boolean\"}", "0", 0,
   "/: expected boolean"},
  {"type boolean false", "{\"type\":\"boolean\"}", "false", 1, NULL},
  {"type null", "{\"type\":\"null\"}", "null", 1, NULL},
  {"type null not false", "{\"type\":\"null\"}", "false", 0,
   "/: expected null"},
  {"type object not array", "{\"type\":\"object\"}", "[]", 0,
   "/: expected object"},
  {"type array", "{\"type\":\"array\"}", "[]", 1, NULL},
  {"type list ok", "{\"type\":[\"string\",\"null\"]}", "null", 1, NULL},
  {"type list bad", "{\"type\":[\"string\",\"null\"]}", "3", 0,
   "/: expected string or null"},
  {"type nested pointer",
   "{\"properties\":{\"total\":{\"type\":\"number\"}}}",
   "{\"total\":\"12\"}", 0, "/total: expected number"},

  /* enum, const */
  {"enum hit", "{\"enum\":[\"a\",1,null]}", "1", 1, NULL},
  {"enum 1 == 1.0", "{\"enum\":[1]}", "1.0", 1, NULL},
  {"enum false != 0", "{\"enum\":[0]}", "false", 0,
   "/: expected one of [0]"},
  {"enum object", "{\"enum\":[{\"a\":[1,2]}]}", "{\"a\":[1,2]}", 1, NULL},
  {"enum object miss", "{\"enum\":[{\"a\":[1,2]}]}", "{\"a\":[2,1]}", 0,
   NULL},
  {"const ok", "{\"const\":{\"x\":true}}", "{\"x\":true}", 1, NULL},
  {"const bad", "{\"const\":\"yes\"}", "\"no\"", 0,
   "/: expected \"yes\" (const)"},
  {"const null", "{\"const\":null}", "0", 0, "/: expected null (const)"},

  /* numbers */
  {"minimum ok", "{\"minimum\":1}", "1", 1, NULL},
  {"minimum bad", "{\"minimum\":1}", "0.5", 0,
   "/: 0.5 is less than minimum 1"},
  {"maximum bad", "{\"maximum\":10}", "10.5", 0,
   "/: 10.5 is greater than maximum 10"},
  {"maximum ignores str", "{\"maximum\":1}", "\"100\"", 1, NULL},
  {"exclusiveMinimum eq", "{\"exclusiveMinimum\":0}", "0", 0,
   "/: 0 is not greater than exclusiveMinimum 0"},
  {"exclusiveMinimum ok", "{\"exclusiveMinimum\":0}", "0.1", 1, NULL},
  {"exclusiveMaximum eq", "{\"exclusiveMaximum\":3}", "3", 0,
   "/: 3 is not less than exclusiveMaximum 3"},
  {"exclusiveMaximum ok", "{\"exclusiveMaximum\":3}", "2.9", 1, NULL},
  {"multipleOf int", "{\"multipleOf\":3}", "9", 1, NULL},
  {"multipleOf int bad", "{\"multipleOf\":3}", "10", 0,
   "/: 10 is not a multiple of 3"},
  {"multipleOf decimal", "{\"multipleOf\":0.01}", "19.99", 1, NULL},
  {"multipleOf decimal bad", "{\"multipleOf\":0.01}", "19.995", 0, NULL},
  {"multipleOf inf", "{\"multipleOf\":0.123456789}", "1e308", 0, NULL},

  /* strings */
  {"minLength ok", "{\"minLength\":2}", "\"ab\"", 1, NULL},
  {"minLength bad", "{\"minLength\":2}", "\"a\"", 0,
   "/: expected at least 2 characters, got 1"},
  {"maxLength codepoints", "{\"maxLength\":2}", "\"\\u00e9\\u00e8\"", 1,
   NULL},
  {"maxLength bad", "{\"maxLength\":2}", "\"abc\"", 0,
   "/: expected at most 2 characters, got 3"},
  {"pattern ok", "{\"pattern\":\"^[A-Z]{3}-\\\\d+$\"}", "\"ABC-12\"", 1,
   NULL},
  {"pattern bad", "{\"pattern\":\"^[A-Z]{3}-\\\\d+$\"}", "\"AB-12\"", 0,
   "/: does not match pattern \"^[A-Z]{3}-\\d+$\""},
  {"pattern unanchored", "{\"pattern\":\"b+\"}", "\"abbbc\"", 1, NULL},
  {"pattern non-string", "{\"pattern\":\"^a$\"}", "12", 1, NULL},

  /* arrays */
  {"minItems bad", "{\"minItems\":2}", "[1]", 0,
   "/: expected at least 2 items, got 1"},
  {"maxItems bad", "{\"maxItems\":1}", "[1,2]", 0,
   "/: expected at most 1 items, got 2"},
  {"items ok", "{\"items\":{\"type\":\"integer\"}}", "[1,2,3]", 1, NULL},
  {"items bad", "{\"items\":{\"type\":\"integer\"}}", "[1,\"2\",3]", 0,
   "/1: expected integer"},
  {"items ignores object", "{\"items\":{\"type\":\"integer\"}}",
   "{\"a\":\"x\"}", 1, NULL},
  {"prefixItems ok",
   "{\"prefixItems\":[{\"type\":\"string\"},{\"type\":\"number\"}]}",
   "[\"a\",1,true]", 1, NULL},
  {"prefixItems bad",
   "{\"prefixItems\":[{\"type\":\"string\"},{\"type\":\"number\"}]}",
   "[\"a\",\"b\"]", 0, "/1: expected number"},
  {"prefixItems short", "{\"prefixItems\":[{\"type\":\"string\"}]}", "[]",
   1, NULL},
  {"items after prefix",
   "{\"prefixItems\":[{\"type\":\"string\"}],\"items\":{\"type\":"
   "\"number\"}}", "[\"a\",1,\"c\"]", 0, "/2: expected number"},
  {"items false",
   "{\"prefixItems\":[{}],\"items\":false}", "[1,2]", 0,
   "/: expected at most 1 items (no items allowed after prefixItems)"},
  {"items false ok", "{\"prefixItems\":[{}],\"items\":false}", "[1]", 1,
   NULL},
  {"contains ok", "{\"contains\":{\"const\":3}}", "[1,3]", 1, NULL},
  {"contains bad", "{\"contains\":{\"const\":3}}", "[1,2]", 0,
   "/: no item matches the contains schema"},
  {"contains empty", "{\"contains\":{}}", "[]", 0, NULL},
  {"minContains", "{\"contains\":{\"const\":1},\"minContains\":2}",
   "[1,2,1]", 1, NULL},
  {"minContains bad", "{\"contains\":{\"const\":1},\"minContains\":2}",
   "[1,2]", 0, "/: expected at least 2 items matching contains, got 1"},
  {"minContains 0", "{\"contains\":{\"const\":1},\"minContains\":0}",
   "[]", 1, NULL},
  {"maxContains bad", "{\"contains\":{\"const\":1},\"maxContains\":1}",
   "[1,1]", 0, "/: expected at most 1 items matching contains, got 2"},
  {"uniqueItems ok", "{\"uniqueItems\":true}", "[1,\"1\",[1]]", 1, NULL},
  {"uniqueItems bad", "{\"uniqueItems\":true}", "[1,2,1.0]", 0,
   "/: items 0 and 2 are equal (uniqueItems)"},
  {"uniqueItems objects", "{\"uniqueItems\":true}",
   "[{\"a\":1,\"b\":2},{\"b\":2,\"a\":1}]", 0, NULL},
  {"uniqueItems false", "{\"uniqueItems\":false}", "[1,1]", 1, NULL},

  /* objects */
  {"required ok", "{\"required\":[\"a\"]}", "{\"a\":null}", 1, NULL},
  {"required bad", "{\"required\":[\"a\",\"b\"]}", "{\"a\":1}", 0,
   "/: missing required property \"b\""},
  {"required ignores array", "{\"required\":[\"a\"]}", "[]", 1, NULL},
  {"minProperties bad", "{\"minProperties\":1}", "{}", 0,
   "/: expected at least 1 properties, got 0"},
  {"maxProperties bad", "{\"maxProperties\":1}", "{\"a\":1,\"b\":2}", 0,
   "/: expected at most 1 properties, got 2"},
  {"properties nested",
   "{\"properties\":{\"a\":{\"properties\":{\"b\":{\"type\":\"string\"}}}}}",
   "{\"a\":{\"b\":1}}", 0, "/a/b: expected string"},
  {"properties escape",
   "{\"properties\":{\"a/b~c\":{\"type\":\"string\"}}}",
   "{\"a/b~c\":1}", 0, "/a~1b~0c: expected string"},
  {"additionalProperties false",
   "{\"properties\":{\"a\":{}},\"additionalProperties\":false}",
   "{\"a\":1,\"extra\":2}", 0, "/extra: additional property not allowed"},
  {"additionalProperties schema",
   "{\"properties\":{\"a\":{}},\"additionalProperties\":{\"type\":"
   "\"boolean\"}}", "{\"a\":1,\"b\":true,\"c\":1}", 0,
   "/c: expected boolean"},
  {"patternProperties",
   "{\"patternProperties\":{\"^n_\":{\"type\":\"number\"}}}",
   "{\"n_a\":1,\"n_b\":\"x\"}", 0, "/n_b: expected number"},
  {"patternProperties and additional",
   "{\"patternProperties\":{\"^n_\":{}},\"additionalProperties\":false}",
   "{\"n_a\":1,\"m\":2}", 0, "/m: additional property not allowed"},
  {"patternProperties both",
   "{\"properties\":{\"n_a\":{\"maximum\":5}},\"patternProperties\":"
   "{\"^n_\":{\"minimum\":3}}}", "{\"n_a\":2}", 0,
   "/n_a: 2 is less than minimum 3"},
  {"propertyNames", "{\"propertyNames\":{\"maxLength\":3}}",
   "{\"abcd\":1}", 0, "/abcd: expected at most 3 characters, got 4"},
  {"dependentRequired",
   "{\"dependentRequired\":{\"card\":[\"cvv\"]}}", "{\"card\":1}", 0,
   "/: missing property \"cvv\", required when \"card\" is present"},
  {"dependentSchemas",
   "{\"dependentSchemas\":{\"a\":{\"required\":[\"b\"]}}}", "{\"a\":1}", 0,
   "/: missing required property \"b\""},

  /* combinators */
  {"allOf ok", "{\"allOf\":[{\"type\":\"integer\"},{\"minimum\":2}]}", "3",
   1, NULL},
  {"allOf bad", "{\"allOf\":[{\"type\":\"integer\"},{\"minimum\":2}]}", "1",
   0, "/: 1 is less than minimum 2"},
  {"anyOf ok", "{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"null\"}]}",
   "null", 1, NULL},
  {"anyOf bad", "{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"null\"}]}",
   "1", 0, "/: matches none of the 2 anyOf schemas"},
  {"oneOf ok", "{\"oneOf\":[{\"type\":\"integer\"},{\"minimum\":2}]}", "1",
   1, NULL},
  {"oneOf both", "{\"oneOf\":[{\"type\":\"integer\"},{\"minimum\":2}]}", "3",
   0, "/: matches oneOf schemas 0 and 1 (exactly one allowed)"},
  {"oneOf none", "{\"oneOf\":[{\"type\":\"integer\"},{\"minimum\":2}]}",
   "1.5", 0, "/: matches none of the 2 oneOf schemas"},
  {"not ok", "{\"not\":{\"type\":\"string\"}}", "1", 1, NULL},
  {"not bad", "{\"not\":{\"type\":\"string\"}}", "\"a\"", 0,
   "/: must not match the \"not\" schema"},
  {"not inner reason hidden",
   "{\"anyOf\":[{\"not\":{\"type\":\"number\"}}],\"type\":\"number\"}",
   "1", 0, "/: matches none of the 1 anyOf schemas"},
  {"if then", "{\"if\":{\"minimum\":10},\"then\":{\"multipleOf\":10},"
   "\"else\":{\"maximum\":5}}", "20", 1, NULL},
  {"if then bad", "{\"if\":{\"minimum\":10},\"then\":{\"multipleOf\":10},"
   "\"else\":{\"maximum\":5}}", "25", 0, "/: 25 is not a multiple of 10"},
  {"if else bad", "{\"if\":{\"minimum\":10},\"then\":{\"multipleOf\":10},"
   "\"else\":{\"maximum\":5}}", "7", 0, "/: 7 is greater than maximum 5"},
  {"then without if", "{\"then\":false}", "1", 1, NULL},
  {"if alone", "{\"if\":false}", "1", 1, NULL},

  /* $ref and $defs */
  {"ref defs",
   "{\"$defs\":{\"pos\":{\"type\":\"number\",\"minimum\":0}},"
   "\"properties\":{\"n\":{\"$ref\":\"#/$defs/pos\"}}}", "{\"n\":-1}", 0,
   "/n: -1 is less than minimum 0"},
  {"ref mutual recursion through properties",
   "{\"$ref\":\"#/$defs/a\",\"$defs\":{\"a\":{\"properties\":{\"b\":{\"$ref\":"
   "\"#/$defs/b\"}}},\"b\":{\"allOf\":[{\"$ref\":\"#/$defs/a\"},{\"$ref\":"
   "\"#/$defs/a\"}],\"required\":[\"b\"]}}}",
   "{\"b\":{\"b\":{}}}", 0, "/b/b: missing required property \"b\""},
  {"ref root recursion",
   "{\"properties\":{\"kids\":{\"type\":\"array\",\"items\":{\"$ref\":"
   "\"#\"}},\"name\":{\"type\":\"string\"}},\"required\":[\"name\"]}",
   "{\"name\":\"a\",\"kids\":[{\"name\":\"b\",\"kids\":[{\"name\":2}]}]}", 0,
   "/kids/0/kids/0/name: expected string"},
  {"ref escaped pointer",
   "{\"$defs\":{\"a/b\":{\"type\":\"string\"},\"c~d\":{\"type\":"
   "\"number\"},\"e%f\":{\"type\":\"null\"}},"
   "\"prefixItems\":[{\"$ref\":\"#/$defs/a~1b\"},{\"$ref\":"
   "\"#/$defs/c~0d\"},{\"$ref\":\"#/$defs/e%25f\"}]}",
   "[\"x\",1,null]", 1, NULL},
  {"ref escaped pointer bad",
   "{\"$defs\":{\"c~d\":{\"type\":\"number\"}},"
   "\"items\":{\"$ref\":\"#/$defs/c~0d\"}}", "[1,\"x\"]", 0,
   "/1: expected number"},
  {"ref into array",
   "{\"prefixItems\":[{\"type\":\"integer\"},{\"$ref\":"
   "\"#/prefixItems/0\"}]}", "[1,1.5]", 0, "/1: expected integer"},
  {"ref with siblings",
   "{\"$defs\":{\"s\":{\"type\":\"string\"}},\"$ref\":\"#/$defs/s\","
   "\"maxLength\":2}", "\"abc\"", 0,
   "/: expected at most 2 characters, got 3"},
  {"ref anchor",
   "{\"$defs\":{\"x\":{\"$anchor\":\"flag\",\"type\":\"boolean\"}},"
   "\"$ref\":\"#flag\"}", "1", 0, "/: expected boolean"},
  {"ref to boolean", "{\"$defs\":{\"no\":false},\"$ref\":\"#/$defs/no\"}",
   "1", 0, "/: not allowed (false schema)"},

  {"ref by $id",
   "{\"$id\":\"http://x.test/s/root.json\",\"$defs\":{\"n\":{\"$id\":"
   "\"node.json\",\"type\":\"number\"}},\"items\":{\"$ref\":"
   "\"node.json\"}}", "[1,\"a\"]", 0, "/1: expected number"},
  {"ref by absolute $id",
   "{\"$id\":\"http://x.test/s/root.json\",\"$defs\":{\"n\":{\"$id\":"
   "\"node.json\",\"type\":\"number\"}},\"items\":{\"$ref\":"
   "\"http://x.test/s/node.json\"}}", "[1,2]", 1, NULL},
  {"ref pointer inside $id resource",
   "{\"$defs\":{\"r\":{\"$id\":\"urn:t:r\",\"$defs\":{\"s\":{\"type\":"
   "\"string\"}},\"$ref\":\"#/$defs/s\"}},\"$ref\":\"urn:t:r\"}", "3", 0,
   "/: expected string"},
  {"ref anchor in urn resource",
   "{\"$id\":\"urn:t:1\",\"$defs\":{\"a\":{\"$anchor\":\"num\","
   "\"type\":\"number\"}},\"$ref\":\"urn:t:1#num\"}", "\"s\"", 0,
   "/: expected number"},
  {"items array (draft 2019-09)",
   "{\"items\":[{\"type\":\"string\"}],\"additionalItems\":false}",
   "[\"a\",1]", 0,
   "/: expected at most 1 items (no items allowed after prefixItems)"},

  /* a realistic structured-output schema */
  {"invoice ok",
   "{\"type\":\"object\",\"required\":[\"vendor\",\"total\",\"lines\"],"
   "\"additionalProperties\":false,\"properties\":{\"vendor\":{\"type\":"
   "\"string\",\"minLength\":1},\"total\":{\"type\":\"number\","
   "\"minimum\":0},\"currency\":{\"enum\":[\"EUR\",\"USD\"]},\"lines\":"
   "{\"type\":\"array\",\"minItems\":1,\"items\":{\"$ref\":"
   "\"#/$defs/line\"}}},\"$defs\":{\"line\":{\"type\":\"object\","
   "\"required\":[\"qty\",\"price\"],\"properties\":{\"qty\":{\"type\":"
   "\"integer\",\"exclusiveMinimum\":0},\"price\":{\"type\":\"number\"}}}}}",
   "{\"vendor\":\"ACME\",\"total\":12.5,\"currency\":\"EUR\",\"lines\":"
   "[{\"qty\":1,\"price\":12.5}]}", 1, NULL},
  {"invoice bad line",
   "{\"type\":\"object\",\"required\":[\"vendor\",\"total\",\"lines\"],"
   "\"additionalProperties\":false,\"properties\":{\"vendor\":{\"type\":"
   "\"string\",\"minLength\":1},\"total\":{\"type\":\"number\","
   "\"minimum\":0},\"currency\":{\"enum\":[\"EUR\",\"USD\"]},\"lines\":"
   "{\"type\":\"array\",\"minItems\":1,\"items\":{\"$ref\":"
   "\"#/$defs/line\"}}},\"$defs\":{\"line\":{\"type\":\"object\","
   "\"required\":[\"qty\",\"price\"],\"properties\":{\"qty\":{\"type\":"
   "\"integer\",\"exclusiveMinimum\":0},\"price\":{\"type\":\"number\"}}}}}",
   "{\"vendor\":\"ACME\",\"total\":12.5,\"lines\":[{\"qty\":1,\"price\":1},"
   "{\"qty\":0,\"price\":1}]}", 0,
   "/lines/1/qty: 0 is not greater than exclusiveMinimum 0"},
  {"invoice string total",
   "{\"properties\":{\"total\":{\"type\":\"number\"}},\"required\":"
   "[\"total\"]}", "{\"total\":\"12.50\"}", 0, "/total: expected number"},
};

/* Schemas that must not compile, and the start of the message. */
static const struct tcase bad_schemas[] = {
  {"bad type name", "{\"type\":\"float\"}", NULL, 0,
   "#: type must be a type name"},
  {"bad minimum", "{\"properties\":{\"a\":{\"minimum\":\"1\"}}}", NULL, 0,
   "#/properties/a: minimum must be a number"},
  {"bad minLength", "{\"minLength\":-1}", NULL, 0,
   "#: minLength must be a non-negative integer"},
  {"bad multipleOf", "{\"multipleOf\":0}", NULL, 0,
   "#: multipleOf must be a number greater than 0"},
  {"bad required", "{\"required\":\"a\"}", NULL, 0,
   "#: required must be an array of strings"},
  {"bad pattern", "{\"items\":{\"pattern\":\"(\"}}", NULL, 0,
   "#/items: bad pattern \"(\""},
  {"bad patternProperties", "{\"patternProperties\":{\"[\":{}}}", NULL, 0,
   "#/patternProperties: bad pattern \"[\""},
  {"bad ref", "{\"$ref\":\"#/$defs/missing\"}", NULL, 0,
   "#: cannot resolve $ref \"#/$defs/missing\""},
  {"ref index past int", "{\"prefixItems\":[{\"type\":\"string\"}],"
   "\"items\":{\"$ref\":\"#/prefixItems/4294967296\"}}", NULL, 0,
   "#/items: cannot resolve $ref \"#/prefixItems/4294967296\""},
  {"remote ref", "{\"$ref\":\"http://example.com/s.json\"}", NULL, 0,
   "#: cannot resolve $ref"},
  {"bad allOf", "{\"allOf\":[]}", NULL, 0,
   "#: allOf must be a non-empty array of schemas"},
  {"bad subschema", "{\"not\":3}", NULL, 0,
   "#/not: a schema must be an object or a boolean"},
  {"bad root", "[1]", NULL, 0, "#: a schema must be an object"},
  /* $ref loops: found when compiling, before any answer is paid for */
  {"ref loop root", "{\"$ref\":\"#\"}", NULL, 0, "#: a $ref loop"},
  {"ref loop defs", "{\"$defs\":{\"a\":{\"$ref\":\"#/$defs/b\"},\"b\":{\"$ref\":"
   "\"#/$defs/a\"}},\"$ref\":\"#/$defs/a\"}", NULL, 0, "#: a $ref loop"},
  {"ref loop pair",
   "{\"properties\":{\"a\":{\"$ref\":\"#/$defs/x\"}},\"$defs\":{\"x\":"
   "{\"$ref\":\"#/$defs/y\"},\"y\":{\"allOf\":[{\"$ref\":\"#/$defs/x\"}]}}}",
   NULL, 0, "#/properties/a: a $ref loop"},
  {"ref loop anchor", "{\"$anchor\":\"top\",\"anyOf\":[{\"type\":\"null\"},"
   "{\"not\":{\"$ref\":\"#top\"}}]}", NULL, 0, "#: a $ref loop"},
  {"ref loop id",
   "{\"$id\":\"urn:r\",\"$defs\":{\"n\":{\"$id\":\"node\",\"if\":{\"$ref\":"
   "\"node\"}}}}", NULL, 0, "#/$defs/n: a $ref loop"},
  {"ref loop dependentSchemas",
   "{\"dependentSchemas\":{\"a\":{\"$ref\":\"#\"}}}", NULL, 0,
   "#: a $ref loop"},
};

/* Compile schema text; NULL and err set on failure. */
static struct schema *compile_text(const char *text, char *err, size_t n)
{
  jv doc = jv_parse(text);
  if(!jv_is_valid(doc)) {
    jv_free(doc);
    snprintf(err, n, "test schema is not JSON");
    return NULL;
  }
  return schema_compile(doc, err, n);
}

static void run_case(const struct tcase *t)
{
  char err[512] = "", reason[512] = "", name[200];
  struct schema *s = compile_text(t->schema, err, sizeof(err));
  jv inst = jv_parse(t->inst);
  int ok;
  snprintf(name, sizeof(name), "schema: %s", t->name);
  if(!s || !jv_is_valid(inst)) {
    CHECK(name, s && jv_is_valid(inst));
    if(!s)
      printf("  (compile: %s)\n", err);
    schema_free(s);
    jv_free(inst);
    return;
  }
  ok = schema_check(s, inst, reason, sizeof(reason));
  if(ok != t->valid) {
    CHECK_INT(name, ok, t->valid);
    printf("  (reason: %s)\n", reason);
  }
  else if(!t->valid && t->reason)
    CHECK_STR(name, reason, t->reason);
  else if(!t->valid)
    CHECK(name, reason[0] == '/');
  else
    CHECK(name, reason[0] == '\0');
  schema_free(s);
  jv_free(inst);
}

static void run_bad_schema(const struct tcase *t)
{
  char err[512] = "", name[200];
  struct schema *s = compile_text(t->schema, err, sizeof(err));
  snprintf(name, sizeof(name), "compile: %s", t->name);
  if(s) {
    CHECK(name, s == NULL);
    schema_free(s);
    return;
  }
  if(strncmp(err, t->reason, strlen(t->reason)))
    CHECK_STR(name, err, t->reason);
  else
    CHECK(name, 1);
}

/* A compiled schema is reused for many instances, and a NULL reason
 * buffer is allowed. */
static void test_reuse(void)
{
  char err[256];
  struct schema *s = compile_text(
      "{\"type\":\"object\",\"patternProperties\":{\"^x\":{\"type\":"
      "\"integer\"}}}", err, sizeof(err));
  int i, valid = 0;
  CHECK("reuse: compiles", s != NULL);
  if(!s)
    return;
  for(i = 0; i < 1000; i++) {
    jv inst = jv_object_set(jv_object(), jv_string("x1"),
                            jv_number(i % 2 ? 1.5 : 2));
    valid += schema_check(s, inst, NULL, 0);
    jv_free(inst);
  }
  CHECK_INT("reuse: half valid", valid, 500);
  CHECK_INT("reuse: one regex cached", (long long)s->nre, 1);
  schema_free(s);
  schema_free(NULL);
}

/* A long instance path is cut, never overflowed. */
static void test_deep_path(void)
{
  char err[256], reason[128];
  struct schema *s = compile_text("{\"additionalProperties\":{\"$ref\":"
                                  "\"#\"},\"type\":\"object\"}", err,
                                  sizeof(err));
  jv inst = jv_number(1);
  int i;
  for(i = 0; i < 60; i++)
    inst = jv_object_set(jv_object(),
                         jv_string("a-rather-long-property-name"), inst);
  CHECK("deep: compiles", s != NULL);
  if(s) {
    CHECK_INT("deep: invalid", schema_check(s, inst, reason,
                                            sizeof(reason)), 0);
    CHECK("deep: reason cut", strlen(reason) < sizeof(reason));
  }
  schema_free(s);
  jv_free(inst);
}

/* Found with tests/fuzz/fuzz_schema.c: checks that never ended.  A key
 * holding a NUL byte ("$ref\u0000") was taken for the keyword by the
 * checker but not by the compiler, so its $ref loop went unseen; and a
 * schema sharing its $defs, each an anyOf of two $refs to the next,
 * takes 2^depth steps without any loop.  SIGALRM ends a hang. */
static void test_costly(void)
{
  char err[256], reason[256], text[4096];
  struct schema *s;
  size_t n = 0;
  int i;
  jv inst = jv_number(1);

  alarm(30);
  s = compile_text("{\"anyOf\":[{\"$ref\\u0000\":\"#\"},"
                   "{\"$ref\\u0000\":\"#\"}]}", err, sizeof(err));
  CHECK("NUL key: compiles", s != NULL);
  if(s)
    CHECK_INT("NUL key: no $ref, valid at once",
              schema_check(s, inst, reason, sizeof(reason)), 1);
  schema_free(s);
  s = compile_text("{\"minimum\\u0000\":5}", err, sizeof(err));
  if(s)
    CHECK_INT("NUL key: no minimum",
              schema_check(s, inst, reason, sizeof(reason)), 1);
  schema_free(s);

  n += (size_t)snprintf(text + n, sizeof(text) - n, "{\"$defs\":{");
  for(i = 0; i < 40; i++)
    n += (size_t)snprintf(text + n, sizeof(text) - n,
                          "\"a%d\":{\"anyOf\":[{\"$ref\":\"#/$defs/a%d\"},"
                          "{\"$ref\":\"#/$defs/a%d\"}]},", i, i + 1, i + 1);
  snprintf(text + n, sizeof(text) - n, "\"a40\":false},\"not\":"
           "{\"$ref\":\"#/$defs/a0\"}}");
  s = compile_text(text, err, sizeof(err));
  CHECK("2^40 steps: compiles (no loop)", s != NULL);
  if(s) {
    CHECK_INT("2^40 steps: gives up, never valid",
              schema_check(s, inst, reason, sizeof(reason)), 0);
    CHECK_STR("2^40 steps: reason", reason, "/: too costly to check "
              "(more than 200000 subschema checks)");
    CHECK_INT("2^40 steps: the same again", schema_check(s, inst, NULL, 0),
              0);
  }
  schema_free(s);
  alarm(0);
  jv_free(inst);
}

/* Borrows nothing.  New ref of the JSON in file path, or jv_invalid(). */
static jv load_json(const char *path)
{
  jv all = jv_load_file(path, 0), v;
  if(jv_get_kind(all) != JV_KIND_ARRAY) {
    jv_free(all);
    return jv_invalid();
  }
  v = jv_array_get(all, 0);
  return v;
}

/* The invoice fixture (tests/fixtures/schema/): the valid instance, then
 * one change at a time and the reason it gives. */
static void test_fixture(void)
{
  static const char *const edits[][2] = {
    {".total = \"20.75\"", "/total: expected number"},
    {".total = 20.755", "/total: 20.755 is not a multiple of 0.01"},
    {".lines[1].qty = 0",
     "/lines/1/qty: 0 is not greater than exclusiveMinimum 0"},
    {".lines[0].unit_price = -1", "/lines/0/unit_price: -1 is less than "
     "minimum 0"},
    {".extra = 1", "/extra: additional property not allowed"},
    {".date = \"2/11/2026\"",
     "/date: does not match pattern \"^[0-9]{4}-[0-9]{2}-[0-9]{2}$\""},
    {".currency = \"JPY\"", "/currency: expected one of [\"EUR\",\"USD\","
     "\"GBP\"]"},
    {".lines = []", "/lines: expected at least 1 items, got 0"},
    {"del(.vendor)", "/: missing required property \"vendor\""},
    {".notes = 3", "/notes: expected string or null"},
  };
  char err[256], reason[256], name[300];
  jv doc = load_json("tests/fixtures/schema/invoice.json");
  jv good = load_json("tests/fixtures/schema/invoice.valid.json");
  struct schema *s;
  size_t i;
  CHECK("fixture: files load", jv_is_valid(doc) && jv_is_valid(good));
  if(!jv_is_valid(doc) || !jv_is_valid(good)) {
    jv_free(doc);
    jv_free(good);
    return;
  }
  s = schema_compile(doc, err, sizeof(err));
  CHECK("fixture: compiles", s != NULL);
  if(!s) {
    jv_free(good);
    return;
  }
  CHECK_INT("fixture: valid instance", schema_check(s, good, reason,
                                                    sizeof(reason)), 1);
  for(i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
    jq_state *jq = jq_init();
    jv bad;
    snprintf(name, sizeof(name), "fixture: %s", edits[i][0]);
    if(!jq || !jq_compile(jq, edits[i][0])) {
      CHECK(name, 0);
      jq_teardown(&jq);
      continue;
    }
    jq_start(jq, jv_copy(good), 0);
    bad = jq_next(jq);
    if(schema_check(s, bad, reason, sizeof(reason)))
      CHECK(name, 0);
    else
      CHECK_STR(name, reason, edits[i][1]);
    jv_free(bad);
    jq_teardown(&jq);
  }
  schema_free(s);
  jv_free(good);
}

/* URI reference resolution used for $id and $ref. */
static void test_uri(void)
{
  static const char *const t[][3] = {
    {"http://a.test/b/c.json", "d.json", "http://a.test/b/d.json"},
    {"http://a.test/b/c.json", "/x.json", "http://a.test/x.json"},
    {"http://a.test/b/c.json", "#/f", "http://a.test/b/c.json#/f"},
    {"http://a.test/b/c.json#/g", "#h", "http://a.test/b/c.json#h"},
    {"http://a.test/b", "//c.test/d", "http://c.test/d"},
    {"http://a.test/b", "urn:x:1", "urn:x:1"},
    {"urn:x:1", "#a", "urn:x:1#a"},
    {"", "node", "node"},
    {"", "#/$defs/a", "#/$defs/a"},
  };
  size_t i;
  for(i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
    char out[256], name[300];
    schema_uri_resolve(t[i][0], t[i][1], out, sizeof(out));
    snprintf(name, sizeof(name), "uri: %s + %s", t[i][0], t[i][1]);
    CHECK_STR(name, out, t[i][2]);
  }
}

int main(void)
{
  test_uri();
  test_fixture();
  size_t i;
  for(i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
    run_case(&cases[i]);
  for(i = 0; i < sizeof(bad_schemas) / sizeof(bad_schemas[0]); i++)
    run_bad_schema(&bad_schemas[i]);
  test_reuse();
  test_deep_path();
  test_costly();
  return harness_done();
}
