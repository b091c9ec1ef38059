/*
 * htable - hash tables with string keys. See htable.h.
 */
#include "sys_defs.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "htable.h"
#include "msg.h"
#include "mymalloc.h"

/* FNV-1a over the key, folded to lower case when the table asks for it. */
static size_t htable_hash(const HTABLE *table, const char *key)
{
    uint64_t h = 14695981039346656037ULL;

    for (const unsigned char *cp = (const unsigned char *) key; *cp; cp++) {
        h ^= table->fold ? (unsigned char) tolower(*cp) : *cp;
        h *= 1099511628211ULL;
    }
    return (size_t) (h % table->size);
}

static int htable_same(const HTABLE *table, const char *a, const char *b)
{
    return table->fold ? strcasecmp(a, b) == 0 : strcmp(a, b) == 0;
}

HTABLE *htable_create(size_t size, int flags)
{
    HTABLE *table = mymalloc(sizeof(*table));

    table->size = size < 13 ? 13 : size | 1;
    table->used = 0;
    table->fold = (flags & HTABLE_FLAG_FOLD) != 0;
    table->data = mycalloc(table->size, sizeof(HTABLE_INFO *));
    table->seq_head = table->seq_tail = NULL;
    return table;
}

/* Double the bucket count and rehash every entry. */
static void htable_grow(HTABLE *table)
{
    size_t old_size = table->size;
    HTABLE_INFO **old = table->data;

    table->size = 2 * old_size + 1;
    table->data = mycalloc(table->size, sizeof(HTABLE_INFO *));
    for (size_t i = 0; i < old_size; i++) {
        for (HTABLE_INFO *ht = old[i], *next; ht; ht = next) {
            size_t n = htable_hash(table, ht->key);

            next = ht->next;
            ht->next = table->data[n];
            table->data[n] = ht;
        }
    }
    myfree(old);
}

/* Add a new entry; the key must not exist yet (that would be a bug). */
HTABLE_INFO *htable_enter(HTABLE *table, const char *key, void *value)
{
    if (htable_locate(table, key))
        msg_panic("htable_enter: duplicate key \"%s\"", key);
    if (table->used >= table->size)
        htable_grow(table);

    HTABLE_INFO *ht = mymalloc(sizeof(*ht));
    size_t n = htable_hash(table, key);

    ht->key = mystrdup(key);
    ht->value = value;
    ht->next = table->data[n];
    table->data[n] = ht;
    ht->seq_next = NULL;
    ht->seq_prev = table->seq_tail;
    if (table->seq_tail)
        table->seq_tail->seq_next = ht;
    else
        table->seq_head = ht;
    table->seq_tail = ht;
    table->used++;
    return ht;
}

HTABLE_INFO *htable_locate(const HTABLE *table, const char *key)
{
    for (HTABLE_INFO *ht = table->data[htable_hash(table, key)]; ht; ht = ht->next)
        if (htable_same(table, key, ht->key))
            return ht;
    return NULL;
}

/* The value stored under key, or NULL. */
void *htable_find(const HTABLE *table, const char *key)
{
    HTABLE_INFO *ht = htable_locate(table, key);

    return ht ? ht->value : NULL;
}

void htable_delete(HTABLE *table, const char *key, HTABLE_FREE_FN free_fn)
{
    for (HTABLE_INFO **hp = table->data + htable_hash(table, key); *hp; hp = &(*hp)->next) {
        HTABLE_INFO *ht = *hp;

        if (!htable_same(table, key, ht->key))
            continue;
        *hp = ht->next;
        if (ht->seq_prev)
            ht->seq_prev->seq_next = ht->seq_next;
        else
            table->seq_head = ht->seq_next;
        if (ht->seq_next)
            ht->seq_next->seq_prev = ht->seq_prev;
        else
            table->seq_tail = ht->seq_prev;
        if (free_fn)
            free_fn(ht->value);
        myfree(ht->key);
        myfree(ht);
        table->used--;
        return;
    }
}

HTABLE *htable_free(HTABLE *table, HTABLE_FREE_FN free_fn)
{
    if (table) {
        for (HTABLE_INFO *ht = table->seq_head, *next; ht; ht = next) {
            next = ht->seq_next;
            if (free_fn)
                free_fn(ht->value);
            myfree(ht->key);
            myfree(ht);
        }
        myfree(table->data);
        myfree(table);
    }
    return NULL;
}

/* A NULL-terminated array of the entries in insertion order; myfree() it. */
HTABLE_INFO **htable_list(const HTABLE *table)
{
    HTABLE_INFO **list = mymalloc((table->used + 1) * sizeof(*list));
    size_t n = 0;

    for (HTABLE_INFO *ht = table->seq_head; ht; ht = ht->seq_next)
        list[n++] = ht;
    list[n] = NULL;
    return list;
}
