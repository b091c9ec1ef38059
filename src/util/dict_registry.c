/*
 * dict_registry - one shared open table per "type:name" and flags. See
 * dict_registry.h.
 *
 * Entries live in a list in opening order (so dict_registry_changed()
 * answers deterministically) and in a hash table keyed by the spec plus
 * both flag words, so that opening is one lookup. A process holds few
 * tables, so closing by DICT pointer walks the list.
 */
#include "sys_defs.h"

#include <string.h>

#include "dict_registry.h"
#include "htable.h"
#include "msg.h"
#include "mymalloc.h"
#include "vstring.h"

typedef struct DICT_REGISTRY_ENTRY {
    char *spec; /* "type:name" as asked for */
    char *key;  /* spec plus flags: the hash key */
    DICT *dict;
    int refcount;
    struct DICT_REGISTRY_ENTRY *next; /* opening order */
} DICT_REGISTRY_ENTRY;

static HTABLE *dict_registry_table;
static DICT_REGISTRY_ENTRY *dict_registry_head;
static DICT_REGISTRY_ENTRY *dict_registry_tail;

/* The hash key: flags first, so that no spec text can fake another key. */
static char *dict_registry_key(const char *spec, int open_flags, int dict_flags)
{
    VSTRING *key = vstring_alloc(100);

    vstring_sprintf(key, "%o,%x,%s", (unsigned)open_flags, (unsigned)dict_flags, spec);
    return vstring_export(key);
}

/* Open spec, or add a reference to the table already open with these flags. */
DICT *dict_registry_open(const char *spec, int open_flags, int dict_flags)
{
    char *key = dict_registry_key(spec, open_flags, dict_flags);
    DICT_REGISTRY_ENTRY *entry;

    if (dict_registry_table == NULL)
        dict_registry_table = htable_create(16, 0);
    if ((entry = htable_find(dict_registry_table, key)) != NULL) {
        myfree(key);
        entry->refcount++;
        return entry->dict;
    }
    entry = mymalloc(sizeof(*entry));
    entry->spec = mystrdup(spec);
    entry->key = key;
    entry->dict = dict_open(spec, open_flags, dict_flags);
    entry->refcount = 1;
    entry->next = NULL;
    if (dict_registry_tail)
        dict_registry_tail->next = entry;
    else
        dict_registry_head = entry;
    dict_registry_tail = entry;
    htable_enter(dict_registry_table, key, entry);
    return entry->dict;
}

/* Drop one reference; close the table and forget it after the last one. */
void dict_registry_close(DICT *dict)
{
    DICT_REGISTRY_ENTRY *entry;
    DICT_REGISTRY_ENTRY *prev = NULL;

    for (entry = dict_registry_head; entry; prev = entry, entry = entry->next)
        if (entry->dict == dict)
            break;
    if (entry == NULL)
        msg_panic("dict_registry_close: table %s:%s was not opened by the registry", dict->type, dict->name);
    if (--entry->refcount > 0)
        return;
    if (prev)
        prev->next = entry->next;
    else
        dict_registry_head = entry->next;
    if (dict_registry_tail == entry)
        dict_registry_tail = prev;
    htable_delete(dict_registry_table, entry->key, NULL);
    dict_close(entry->dict);
    myfree(entry->spec);
    myfree(entry->key);
    myfree(entry);
    if (dict_registry_head == NULL)
        dict_registry_table = htable_free(dict_registry_table, NULL);
}

/* The spec of the first open table whose file changed, or NULL. */
const char *dict_registry_changed(void)
{
    for (DICT_REGISTRY_ENTRY *entry = dict_registry_head; entry; entry = entry->next)
        if (dict_changed(entry->dict))
            return entry->spec;
    return NULL;
}

/* The spec a shared table was opened under, or NULL. */
const char *dict_registry_spec(const DICT *dict)
{
    for (DICT_REGISTRY_ENTRY *entry = dict_registry_head; entry; entry = entry->next)
        if (entry->dict == dict)
            return entry->spec;
    return NULL;
}
