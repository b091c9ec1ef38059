/*
 * htable - hash tables with string keys.
 *
 * Keys are copied; values are opaque pointers owned by the caller (pass a
 * free function to htable_free()/htable_delete() to release them). The
 * table grows to keep chains short. htable_list() returns the entries in
 * insertion order, which keeps output deterministic. Case-insensitive
 * tables fold keys to lower case (ASCII) for hashing and comparison.
 */
#ifndef HTABLE_H
#define HTABLE_H

#include <stddef.h>

typedef struct HTABLE_INFO {
    char *key;
    void *value;
    struct HTABLE_INFO *next;           /* hash chain */
    struct HTABLE_INFO *seq_next;       /* insertion order */
    struct HTABLE_INFO *seq_prev;
} HTABLE_INFO;

typedef struct HTABLE {
    size_t size;                        /* buckets */
    size_t used;                        /* entries */
    int fold;                           /* case-insensitive keys */
    HTABLE_INFO **data;
    HTABLE_INFO *seq_head;
    HTABLE_INFO *seq_tail;
} HTABLE;

typedef void (*HTABLE_FREE_FN)(void *value);

#define HTABLE_FLAG_FOLD (1 << 0)

extern HTABLE *htable_create(size_t size, int flags);
extern HTABLE_INFO *htable_enter(HTABLE *table, const char *key, void *value);
extern HTABLE_INFO *htable_locate(const HTABLE *table, const char *key);
extern void *htable_find(const HTABLE *table, const char *key);
extern void htable_delete(HTABLE *table, const char *key, HTABLE_FREE_FN free_fn);
extern HTABLE *htable_free(HTABLE *table, HTABLE_FREE_FN free_fn);
extern HTABLE_INFO **htable_list(const HTABLE *table);

#endif
