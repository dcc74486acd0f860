/* Test support: see json_match.h. */
#include "support/json_match.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct matcher {
    double rel_tol;
    const char *const *ignore;
    char *why;
    size_t why_size;
};

static void say(const struct matcher *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void say(const struct matcher *m, const char *fmt, ...)
{
    if (m->why == NULL || m->why_size == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->why, m->why_size, fmt, ap);
    va_end(ap);
}

static bool ignored(const struct matcher *m, const char *key)
{
    for (size_t i = 0; m->ignore && m->ignore[i]; i++)
        if (strcmp(m->ignore[i], key) == 0)
            return true;
    return false;
}

static const char *type_name(const cJSON *v)
{
    if (cJSON_IsNull(v))
        return "null";
    if (cJSON_IsBool(v))
        return cJSON_IsTrue(v) ? "true" : "false";
    if (cJSON_IsNumber(v))
        return "a number";
    if (cJSON_IsString(v))
        return "a string";
    if (cJSON_IsArray(v))
        return "an array";
    if (cJSON_IsObject(v))
        return "an object";
    return "an invalid value";
}

/* A short text of a scalar for messages: strings quoted, numbers %.10g. */
static void describe(const cJSON *v, char *out, size_t size)
{
    if (cJSON_IsNumber(v))
        snprintf(out, size, "%.10g", v->valuedouble);
    else if (cJSON_IsString(v))
        snprintf(out, size, "\"%.200s\"", v->valuestring);
    else
        snprintf(out, size, "%s", type_name(v));
}

static const char *shown_path(const char *path)
{
    return path[0] ? path : "(root)";
}

static bool numbers_match(double expected, double actual, double rel_tol)
{
    if (!isfinite(expected) || !isfinite(actual))
        return expected == actual;
    double diff = fabs(expected - actual);
    return diff <= 1e-12 || diff <= rel_tol * fabs(expected);
}

static bool match_value(const struct matcher *m, const char *path, const cJSON *e, const cJSON *a);

/* Number of members of obj that are not ignored. */
static size_t member_count(const struct matcher *m, const cJSON *obj)
{
    size_t n = 0;
    for (const cJSON *it = obj->child; it; it = it->next)
        if (!ignored(m, it->string))
            n++;
    return n;
}

static bool match_object(const struct matcher *m, const char *path, const cJSON *e, const cJSON *a)
{
    char sub[1024];
    for (const cJSON *it = e->child; it; it = it->next) {
        if (ignored(m, it->string))
            continue;
        snprintf(sub, sizeof sub, "%s%s%s", path, path[0] ? "." : "", it->string);
        const cJSON *other = cJSON_GetObjectItemCaseSensitive(a, it->string);
        if (other == NULL) {
            say(m, "%s: missing (expected %s)", sub, type_name(it));
            return false;
        }
        if (!match_value(m, sub, it, other))
            return false;
    }
    for (const cJSON *it = a->child; it; it = it->next) {
        if (ignored(m, it->string))
            continue;
        if (cJSON_GetObjectItemCaseSensitive(e, it->string) == NULL) {
            snprintf(sub, sizeof sub, "%s%s%s", path, path[0] ? "." : "", it->string);
            say(m, "%s: unexpected key", sub);
            return false;
        }
    }
    if (member_count(m, e) != member_count(m, a)) { /* duplicate keys */
        say(m, "%s: expected %zu keys, got %zu", shown_path(path), member_count(m, e),
            member_count(m, a));
        return false;
    }
    return true;
}

static bool match_array(const struct matcher *m, const char *path, const cJSON *e, const cJSON *a)
{
    int ne = cJSON_GetArraySize(e), na = cJSON_GetArraySize(a);
    char sub[1024];
    const cJSON *x = e->child, *y = a->child;
    for (int i = 0; x && y; i++, x = x->next, y = y->next) {
        snprintf(sub, sizeof sub, "%s[%d]", path, i);
        if (!match_value(m, sub, x, y)) {
            if (ne != na && m->why && m->why_size > 0) {
                char first[1024];
                snprintf(first, sizeof first, "%s", m->why);
                say(m, "%s: expected %d elements, got %d; first difference: %s", shown_path(path),
                    ne, na, first);
            }
            return false;
        }
    }
    if (ne != na) {
        char extra[256] = "";
        if (y)
            describe(y, extra, sizeof extra);
        say(m, "%s: expected %d elements, got %d%s%s", shown_path(path), ne, na,
            y ? "; the first extra one is " : "", extra);
        return false;
    }
    return true;
}

static bool match_value(const struct matcher *m, const char *path, const cJSON *e, const cJSON *a)
{
    char want[256], got[256];
    if (cJSON_IsObject(e) && cJSON_IsObject(a))
        return match_object(m, path, e, a);
    if (cJSON_IsArray(e) && cJSON_IsArray(a))
        return match_array(m, path, e, a);
    bool same;
    if (cJSON_IsNumber(e) && cJSON_IsNumber(a))
        same = numbers_match(e->valuedouble, a->valuedouble, m->rel_tol);
    else if (cJSON_IsString(e) && cJSON_IsString(a))
        same = strcmp(e->valuestring, a->valuestring) == 0;
    else if (cJSON_IsNull(e) || cJSON_IsBool(e))
        same = (e->type & 0xFF) == (a->type & 0xFF);
    else
        same = false;
    if (!same) {
        describe(e, want, sizeof want);
        describe(a, got, sizeof got);
        say(m, "%s: expected %s, got %s", shown_path(path), want, got);
    }
    return same;
}

/* Parse a whole document (trailing whitespace allowed). */
static cJSON *parse_doc(const char *text, const char *which, const struct matcher *m)
{
    if (text == NULL) {
        say(m, "%s JSON is missing", which);
        return NULL;
    }
    size_t len = strlen(text);
    const char *end = NULL;
    cJSON *doc = cJSON_ParseWithLengthOpts(text, len, &end, false);
    if (doc == NULL) {
        size_t at = end && end >= text ? (size_t)(end - text) : 0;
        say(m, "%s JSON does not parse (near offset %zu: \"%.40s\")", which, at,
            at < len ? text + at : "");
        return NULL;
    }
    while (end && *end && strchr(" \t\r\n", *end))
        end++;
    if (end && *end) {
        say(m, "%s JSON has text after the document (offset %zu: \"%.40s\")", which,
            (size_t)(end - text), end);
        cJSON_Delete(doc);
        return NULL;
    }
    return doc;
}

bool json_match_ignoring(const char *expected_json, const char *actual_json, double rel_tol,
                         const char *const *ignore_keys, char *why, size_t why_size)
{
    struct matcher m = {rel_tol, ignore_keys, why, why_size};
    if (why && why_size > 0)
        why[0] = '\0';
    cJSON *e = parse_doc(expected_json, "expected", &m);
    if (e == NULL)
        return false;
    cJSON *a = parse_doc(actual_json, "actual", &m);
    if (a == NULL) {
        cJSON_Delete(e);
        return false;
    }
    bool ok = match_value(&m, "", e, a);
    cJSON_Delete(e);
    cJSON_Delete(a);
    return ok;
}

bool json_match(const char *expected_json, const char *actual_json, double rel_tol, char *why,
                size_t why_size)
{
    return json_match_ignoring(expected_json, actual_json, rel_tol, NULL, why, why_size);
}
