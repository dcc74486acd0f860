/*
 * Test support: a small JSON Schema validator over cJSON, enough to check
 * the answers of the HTTP API against the schemas of docs/openapi.json.
 * Test code only.
 *
 * Validating keywords: $ref (a JSON pointer into the same document,
 * "#/components/schemas/Alert"), type (a name or an array of names: null,
 * boolean, object, array, number, integer, string), enum, const, pattern
 * (POSIX extended regular expression, unanchored like ECMA-262), minimum,
 * maximum, minLength, maxLength, properties, required, additionalProperties
 * (false or a schema), items, anyOf, oneOf, allOf. Annotations (description,
 * default, title, format, contentMediaType, example, examples, deprecated)
 * are ignored. Any other keyword is an error of the schema, so that a
 * document never relies on a check that does not happen.
 *
 * On failure, why (may be NULL) receives the JSON path of the first problem
 * in the instance and what is wrong, e.g.
 *   $.alerts[3].gap: "x" is not of type ["number","null"]
 */
#ifndef KPI_TEST_JSON_SCHEMA_H
#define KPI_TEST_JSON_SCHEMA_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

/* The node at a JSON pointer ("#/a/b", "~0" and "~1" escapes) of root, or
 * NULL. Borrowed from root. */
const cJSON *js_pointer(const cJSON *root, const char *pointer);

/* True when instance is valid against schema, a node of root (the document
 * that $ref pointers are resolved in). */
bool js_validate(const cJSON *root, const cJSON *schema, const cJSON *instance, char *why,
                 size_t why_size);

/* js_validate of a JSON text against the schema at pointer in root; a text
 * that is not JSON, or a pointer that resolves to nothing, is invalid. */
bool js_validate_text(const cJSON *root, const char *pointer, const char *json, char *why,
                      size_t why_size);

#endif
