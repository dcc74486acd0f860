/*
 * Test support: compare a JSON document with an expected one written by hand.
 * Test code only.
 *
 * Matching is strict: objects must have exactly the same keys (order does
 * not matter), arrays the same length and order, strings, booleans and null
 * must be equal, and numbers equal within rel_tol relative to the expected
 * number (or 1e-12 absolute), so that expected files may hold hand-rounded
 * numbers such as -0.236292. A number never matches null or a string.
 *
 * On a mismatch, why (may be NULL) receives the JSON path of the first
 * difference and what differs, e.g.
 *   alerts[3].gap: expected -0.2363, got -0.2412
 */
#ifndef KPI_TEST_JSON_MATCH_H
#define KPI_TEST_JSON_MATCH_H

#include <stdbool.h>
#include <stddef.h>

/* True when actual_json matches expected_json (both complete JSON texts;
 * trailing whitespace allowed). */
bool json_match(const char *expected_json, const char *actual_json, double rel_tol, char *why,
                size_t why_size);

/* The same, skipping every object member whose key is in ignore_keys (a
 * NULL-terminated list; NULL for none), at any depth and on both sides. */
bool json_match_ignoring(const char *expected_json, const char *actual_json, double rel_tol,
                         const char *const *ignore_keys, char *why, size_t why_size);

#endif
