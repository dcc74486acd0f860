/*
 * map.c — the string hash map of the working catalog (ids and folded names to
 * indices). Open addressing with linear probing; the table doubles at half
 * load, so a lookup touches one or two cache lines.
 */
#include "store/store_int.h"

#include <stdlib.h>
#include <string.h>

uint64_t strmap_hash(const char *s)
{
    /* FNV-1a: keys are short ids and names */
    uint64_t h = 14695981039346656037ull;
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        h ^= *p;
        h *= 1099511628211ull;
    }
    return h ^ (h >> 29);
}

static void slot_insert(struct strmap_slot *slots, size_t cap, const struct strmap_slot *in)
{
    size_t i = (size_t)in->hash & (cap - 1);
    while (slots[i].key != NULL)
        i = (i + 1) & (cap - 1);
    slots[i] = *in;
}

int strmap_put(struct strmap *m, const char *key, size_t value)
{
    if ((m->used + 1) * 2 > m->cap) {
        size_t ncap = m->cap == 0 ? 64 : m->cap * 2;
        struct strmap_slot *ns = calloc(ncap, sizeof *ns);
        if (ns == NULL)
            return KPI_ESYSTEM;
        for (size_t i = 0; i < m->cap; i++)
            if (m->slots[i].key != NULL)
                slot_insert(ns, ncap, &m->slots[i]);
        free(m->slots);
        m->slots = ns;
        m->cap = ncap;
    }
    struct strmap_slot s = {key, strmap_hash(key), value};
    slot_insert(m->slots, m->cap, &s);
    m->used++;
    return 0;
}

bool strmap_next(const struct strmap *m, const char *key, uint64_t hash, size_t *pos, size_t *value)
{
    if (m->cap == 0)
        return false;
    /* *pos counts the probes done so far */
    for (size_t i = ((size_t)hash + *pos) & (m->cap - 1); m->slots[i].key != NULL;
         i = (i + 1) & (m->cap - 1)) {
        (*pos)++;
        if (m->slots[i].hash == hash && strcmp(m->slots[i].key, key) == 0) {
            *value = m->slots[i].value;
            return true;
        }
    }
    return false;
}

void strmap_free(struct strmap *m)
{
    free(m->slots);
    m->slots = NULL;
    m->cap = m->used = 0;
}
