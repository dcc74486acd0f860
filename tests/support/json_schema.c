/* Test support: see json_schema.h. */
#include "support/json_schema.h"

#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JS_DEPTH_MAX 64 /* nested schemas, $ref included: a loop fails */
#define JS_PATH_MAX 512

struct js {
    const cJSON *root;
    char *why;
    size_t why_size;
    char path[JS_PATH_MAX];
    int depth;
};

static bool fail(struct js *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Record the first failure only: deeper ones are more precise, and an anyOf
 * resets it when a later branch matches. */
static bool fail(struct js *v, const char *fmt, ...)
{
    if (v->why == NULL || v->why_size == 0 || v->why[0] != '\0')
        return false;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(v->why, v->why_size, "%s: %s", v->path[0] ? v->path : "$", msg);
    return false;
}

const cJSON *js_pointer(const cJSON *root, const char *pointer)
{
    if (pointer == NULL || pointer[0] != '#')
        return NULL;
    const cJSON *node = root;
    const char *p = pointer + 1;
    while (node != NULL && *p == '/') {
        char key[256];
        size_t n = 0;
        for (p++; *p && *p != '/'; p++) {
            char c = *p;
            if (c == '~' && (p[1] == '0' || p[1] == '1'))
                c = *++p == '0' ? '~' : '/';
            if (n + 1 >= sizeof key)
                return NULL;
            key[n++] = c;
        }
        key[n] = '\0';
        node = cJSON_GetObjectItemCaseSensitive(node, key);
    }
    return *p == '\0' ? node : NULL;
}

static bool is_type(const cJSON *x, const char *type)
{
    if (strcmp(type, "null") == 0)
        return cJSON_IsNull(x);
    if (strcmp(type, "boolean") == 0)
        return cJSON_IsBool(x);
    if (strcmp(type, "object") == 0)
        return cJSON_IsObject(x);
    if (strcmp(type, "array") == 0)
        return cJSON_IsArray(x);
    if (strcmp(type, "string") == 0)
        return cJSON_IsString(x);
    if (strcmp(type, "number") == 0)
        return cJSON_IsNumber(x);
    if (strcmp(type, "integer") == 0)
        return cJSON_IsNumber(x) && isfinite(x->valuedouble) &&
               floor(x->valuedouble) == x->valuedouble;
    return false;
}

/* A short JSON rendering of x for messages. */
static void show(const cJSON *x, char *buf, size_t cap)
{
    char *text = cJSON_PrintUnformatted(x);
    snprintf(buf, cap, "%s", text ? text : "?");
    if (text != NULL && strlen(text) >= cap && cap > 4)
        strcpy(buf + cap - 4, "...");
    cJSON_free(text);
}

static bool validate(struct js *v, const cJSON *schema, const cJSON *x);

/* Validate x against schema with path extended by a suffix. */
static bool validate_at(struct js *v, const cJSON *schema, const cJSON *x, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static bool validate_at(struct js *v, const cJSON *schema, const cJSON *x, const char *fmt, ...)
{
    size_t len = strlen(v->path);
    if (len == 0) {
        strcpy(v->path, "$");
        len = 1;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->path + len, sizeof v->path - len, fmt, ap);
    va_end(ap);
    bool ok = validate(v, schema, x);
    v->path[len] = '\0';
    return ok;
}

static bool check_type(struct js *v, const cJSON *type, const cJSON *x)
{
    if (cJSON_IsString(type)) {
        if (is_type(x, type->valuestring))
            return true;
    } else if (cJSON_IsArray(type)) {
        const cJSON *t;
        cJSON_ArrayForEach(t, type)
        {
            if (cJSON_IsString(t) && is_type(x, t->valuestring))
                return true;
        }
    } else {
        return fail(v, "schema: bad \"type\"");
    }
    char got[80], want[80];
    show(x, got, sizeof got);
    show(type, want, sizeof want);
    return fail(v, "%s is not of type %s", got, want);
}

static bool check_pattern(struct js *v, const cJSON *pattern, const cJSON *x)
{
    if (!cJSON_IsString(x))
        return true;
    if (!cJSON_IsString(pattern))
        return fail(v, "schema: bad \"pattern\"");
    regex_t re;
    if (regcomp(&re, pattern->valuestring, REG_EXTENDED | REG_NOSUB) != 0)
        return fail(v, "schema: pattern %s does not compile", pattern->valuestring);
    bool ok = regexec(&re, x->valuestring, 0, NULL, 0) == 0;
    regfree(&re);
    return ok ? true : fail(v, "\"%s\" does not match %s", x->valuestring, pattern->valuestring);
}

static bool check_object(struct js *v, const cJSON *schema, const cJSON *x)
{
    if (!cJSON_IsObject(x))
        return true;
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(schema, "properties");
    const cJSON *required = cJSON_GetObjectItemCaseSensitive(schema, "required");
    const cJSON *additional = cJSON_GetObjectItemCaseSensitive(schema, "additionalProperties");
    const cJSON *r;
    cJSON_ArrayForEach(r, required)
    {
        if (!cJSON_IsString(r))
            return fail(v, "schema: bad \"required\"");
        if (cJSON_GetObjectItemCaseSensitive(x, r->valuestring) == NULL)
            return fail(v, "missing required member \"%s\"", r->valuestring);
    }
    const cJSON *member;
    cJSON_ArrayForEach(member, x)
    {
        const cJSON *sub = props ? cJSON_GetObjectItemCaseSensitive(props, member->string) : NULL;
        if (sub == NULL && additional != NULL) {
            if (cJSON_IsFalse(additional))
                return fail(v, "member \"%s\" is not in the schema", member->string);
            if (cJSON_IsObject(additional))
                sub = additional;
        }
        if (sub != NULL && !validate_at(v, sub, member, ".%s", member->string))
            return false;
    }
    return true;
}

static bool check_items(struct js *v, const cJSON *items, const cJSON *x)
{
    if (!cJSON_IsArray(x))
        return true;
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, x)
    {
        if (!validate_at(v, items, e, "[%d]", i))
            return false;
        i++;
    }
    return true;
}

/* anyOf (need >= 1), oneOf (need exactly 1), allOf (need all). */
static bool check_combination(struct js *v, const char *keyword, const cJSON *list, const cJSON *x)
{
    if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) == 0)
        return fail(v, "schema: bad \"%s\"", keyword);
    int matched = 0, total = cJSON_GetArraySize(list);
    char first[512] = "";
    const cJSON *sub;
    cJSON_ArrayForEach(sub, list)
    {
        size_t had = v->why ? strlen(v->why) : 0;
        if (validate(v, sub, x))
            matched++;
        else if (v->why != NULL && had == 0 && first[0] == '\0')
            snprintf(first, sizeof first, "%s", v->why);
        if (v->why != NULL && had == 0)
            v->why[0] = '\0'; /* a failing branch is not yet a failure */
    }
    bool ok = strcmp(keyword, "anyOf") == 0   ? matched >= 1
              : strcmp(keyword, "oneOf") == 0 ? matched == 1
                                              : matched == total;
    if (ok)
        return true;
    return fail(v, "%d of %d schemas of %s match%s%s", matched, total, keyword,
                first[0] ? "; first failure: " : "", first);
}

static bool check_number(struct js *v, const char *keyword, const cJSON *limit, const cJSON *x)
{
    if (!cJSON_IsNumber(x))
        return true;
    if (!cJSON_IsNumber(limit))
        return fail(v, "schema: bad \"%s\"", keyword);
    bool min = strcmp(keyword, "minimum") == 0;
    if (min ? x->valuedouble >= limit->valuedouble : x->valuedouble <= limit->valuedouble)
        return true;
    return fail(v, "%.17g is %s than %.17g", x->valuedouble, min ? "less" : "more",
                limit->valuedouble);
}

static bool check_length(struct js *v, const char *keyword, const cJSON *limit, const cJSON *x)
{
    if (!cJSON_IsString(x))
        return true;
    if (!cJSON_IsNumber(limit))
        return fail(v, "schema: bad \"%s\"", keyword);
    double len = (double)strlen(x->valuestring); /* bytes: enough for our limits */
    bool min = strcmp(keyword, "minLength") == 0;
    if (min ? len >= limit->valuedouble : len <= limit->valuedouble)
        return true;
    return fail(v, "\"%s\" breaks %s %.0f", x->valuestring, keyword, limit->valuedouble);
}

static bool check_enum(struct js *v, const cJSON *list, const cJSON *x)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, list)
    {
        if (cJSON_Compare(e, x, true))
            return true;
    }
    char got[80], want[200];
    show(x, got, sizeof got);
    show(list, want, sizeof want);
    return fail(v, "%s is not one of %s", got, want);
}

static const char *const annotations[] = {"description", "default",          "title",
                                          "format",      "contentMediaType", "example",
                                          "examples",    "deprecated",       NULL};

static bool is_annotation(const char *key)
{
    for (size_t i = 0; annotations[i] != NULL; i++)
        if (strcmp(annotations[i], key) == 0)
            return true;
    return false;
}

static bool validate(struct js *v, const cJSON *schema, const cJSON *x)
{
    if (cJSON_IsTrue(schema))
        return true;
    if (!cJSON_IsObject(schema))
        return fail(v, "schema: not an object");
    if (++v->depth > JS_DEPTH_MAX) {
        v->depth--;
        return fail(v, "schema: nested too deep ($ref loop?)");
    }
    bool ok = true, object_done = false;
    const cJSON *k;
    cJSON_ArrayForEach(k, schema)
    {
        const char *key = k->string;
        if (strcmp(key, "$ref") == 0) {
            const cJSON *target = cJSON_IsString(k) ? js_pointer(v->root, k->valuestring) : NULL;
            ok = target != NULL ? validate(v, target, x)
                                : fail(v, "schema: unresolved $ref %s",
                                       cJSON_IsString(k) ? k->valuestring : "?");
        } else if (strcmp(key, "type") == 0) {
            ok = check_type(v, k, x);
        } else if (strcmp(key, "enum") == 0) {
            ok = check_enum(v, k, x);
        } else if (strcmp(key, "const") == 0) {
            ok = cJSON_Compare(k, x, true) ? true : fail(v, "not the constant of the schema");
        } else if (strcmp(key, "pattern") == 0) {
            ok = check_pattern(v, k, x);
        } else if (strcmp(key, "minimum") == 0 || strcmp(key, "maximum") == 0) {
            ok = check_number(v, key, k, x);
        } else if (strcmp(key, "minLength") == 0 || strcmp(key, "maxLength") == 0) {
            ok = check_length(v, key, k, x);
        } else if (strcmp(key, "properties") == 0 || strcmp(key, "required") == 0 ||
                   strcmp(key, "additionalProperties") == 0) {
            if (!object_done) /* the three together, once per schema */
                ok = check_object(v, schema, x);
            object_done = true;
        } else if (strcmp(key, "items") == 0) {
            ok = check_items(v, k, x);
        } else if (strcmp(key, "anyOf") == 0 || strcmp(key, "oneOf") == 0 ||
                   strcmp(key, "allOf") == 0) {
            ok = check_combination(v, key, k, x);
        } else if (!is_annotation(key)) {
            ok = fail(v, "schema: unsupported keyword \"%s\"", key);
        }
        if (!ok)
            break;
    }
    v->depth--;
    return ok;
}

bool js_validate(const cJSON *root, const cJSON *schema, const cJSON *instance, char *why,
                 size_t why_size)
{
    struct js v = {.root = root, .why = why, .why_size = why_size};
    if (why != NULL && why_size > 0)
        why[0] = '\0';
    return validate(&v, schema, instance);
}

bool js_validate_text(const cJSON *root, const char *pointer, const char *json, char *why,
                      size_t why_size)
{
    if (why != NULL && why_size > 0)
        why[0] = '\0';
    const cJSON *schema = js_pointer(root, pointer);
    if (schema == NULL) {
        if (why != NULL)
            snprintf(why, why_size, "no schema at %s", pointer);
        return false;
    }
    const char *end = NULL;
    cJSON *doc = cJSON_ParseWithLengthOpts(json, strlen(json), &end, false);
    if (doc == NULL) {
        if (why != NULL)
            snprintf(why, why_size, "not JSON: %.60s", json);
        return false;
    }
    bool ok = js_validate(root, schema, doc, why, why_size);
    cJSON_Delete(doc);
    return ok;
}
