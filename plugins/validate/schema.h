/*
 * schema.h - a JSON Schema (draft 2020-12) validator over jq's jv.
 *
 * Keywords: type, enum, const, properties, required,
 * additionalProperties, patternProperties, propertyNames,
 * dependentRequired, dependentSchemas, min/maxProperties, items,
 * prefixItems, contains, min/maxContains, min/maxItems, uniqueItems,
 * min/maxLength, pattern, minimum, maximum, exclusiveMinimum,
 * exclusiveMaximum, multipleOf, allOf, anyOf, oneOf, not, if/then/else,
 * $defs, boolean schemas, and $ref within the document: "#", JSON
 * pointers ("#/$defs/a~1b", with ~0 ~1 and %-escapes), $anchor names, and
 * $id resources resolved against their base URI ("node.json",
 * "urn:x#/$defs/a").  Draft 2019-09's array form of items (with
 * additionalItems) and draft 7's "definitions" are accepted too.  Not
 * supported: remote references (the metaschema included), $dynamicRef,
 * unevaluatedProperties/Items, format (an annotation by default).
 * Unknown keywords are ignored, as the specification says.  Patterns are
 * ECMA-262-like regular expressions run by Oniguruma (Perl syntax),
 * unanchored.
 *
 * A schema is compiled once: its keywords are checked, its patterns
 * compiled, its resources and anchors indexed and its $refs resolved, so
 * a broken schema is reported before any instance is looked at.  A
 * compiled schema is then only read by schema_check() (its regex cache
 * grows only for patterns found in places the compiler does not walk,
 * reached through a $ref).  Not thread-safe; the runner has one thread.
 */
#ifndef LLMR_SCHEMA_H
#define LLMR_SCHEMA_H

#include <stddef.h>
#include <jv.h>

struct schema;

/* Compile a schema document (an object or a boolean).  Consumes doc.
 * Returns a new schema to free with schema_free(), or NULL with a
 * message such as "#/properties/a/minimum: expected a number" in err. */
struct schema *schema_compile(jv doc, char *err, size_t errlen);

/* Validate inst (borrowed) against s.  Returns 1 when it is valid;
 * 0 with the first failure in reason, as "POINTER: message" where
 * POINTER is the instance's JSON pointer ("/" for the root), e.g.
 * "/total: expected number".  reason may be NULL. */
int schema_check(struct schema *s, jv inst, char *reason, size_t len);

/* Free a compiled schema; accepts NULL. */
void schema_free(struct schema *s);

#endif /* LLMR_SCHEMA_H */
