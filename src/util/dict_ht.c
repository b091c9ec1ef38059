/*
 * dict_ht - an in-memory table (see dict_ht.h).
 */
#include "sys_defs.h"

#include "dict_ht.h"
#include "htable.h"
#include "msg.h"
#include "mymalloc.h"

typedef struct DICT_HT {
    DICT dict;
    HTABLE *table;
    HTABLE_INFO **seq_list; /* snapshot for sequence() */
    HTABLE_INFO **seq_next;
} DICT_HT;

/* The table's values are copies owned by the table. */
static void dict_ht_free_value(void *value)
{
    myfree(value);
}

static const char *dict_ht_lookup(DICT *dict, const char *key)
{
    return htable_find(((DICT_HT *)dict)->table, dict_fold(dict, key));
}

static int dict_ht_update(DICT *dict, const char *key, const char *value)
{
    DICT_HT *dp = (DICT_HT *)dict;
    HTABLE_INFO *ht;

    key = dict_fold(dict, key);
    if ((ht = htable_locate(dp->table, key)) != NULL) {
        if (dict->flags & DICT_FLAG_DUP_REPLACE) {
            myfree(ht->value);
            ht->value = mystrdup(value);
            return DICT_STAT_SUCCESS;
        }
        if (dict->flags & DICT_FLAG_DUP_WARN)
            msg_warn("%s:%s: duplicate entry: \"%s\"", dict->type, dict->name, key);
        else if ((dict->flags & DICT_FLAG_DUP_IGNORE) == 0)
            msg_fatal("%s:%s: duplicate entry: \"%s\"", dict->type, dict->name, key);
        return DICT_STAT_FAIL;
    }
    htable_enter(dp->table, key, mystrdup(value));
    return DICT_STAT_SUCCESS;
}

static int dict_ht_delete(DICT *dict, const char *key)
{
    DICT_HT *dp = (DICT_HT *)dict;

    key = dict_fold(dict, key);
    if (htable_locate(dp->table, key) == NULL)
        return DICT_STAT_FAIL;
    htable_delete(dp->table, key, dict_ht_free_value);
    return DICT_STAT_SUCCESS;
}

static int dict_ht_sequence(DICT *dict, int func, const char **key, const char **value)
{
    DICT_HT *dp = (DICT_HT *)dict;

    if (func == DICT_SEQ_FUN_FIRST) {
        if (dp->seq_list)
            myfree(dp->seq_list);
        dp->seq_list = htable_list(dp->table);
        dp->seq_next = dp->seq_list;
    } else if (func != DICT_SEQ_FUN_NEXT) {
        msg_panic("dict_ht_sequence: unknown function %d", func);
    }
    if (dp->seq_next == NULL || *dp->seq_next == NULL)
        return DICT_STAT_FAIL;
    *key = (*dp->seq_next)->key;
    *value = (*dp->seq_next)->value;
    dp->seq_next++;
    return DICT_STAT_SUCCESS;
}

static void dict_ht_close(DICT *dict)
{
    DICT_HT *dp = (DICT_HT *)dict;

    htable_free(dp->table, dict_ht_free_value);
    if (dp->seq_list)
        myfree(dp->seq_list);
    dict_free(dict);
}

/* An empty in-memory table called type:name. */
DICT *dict_ht_open(const char *type, const char *name, int dict_flags)
{
    DICT_HT *dp = (DICT_HT *)dict_alloc(type, name, sizeof(DICT_HT));

    dp->dict.lookup = dict_ht_lookup;
    dp->dict.update = dict_ht_update;
    dp->dict.delete = dict_ht_delete;
    dp->dict.sequence = dict_ht_sequence;
    dp->dict.close = dict_ht_close;
    dp->dict.flags = dict_flags | DICT_FLAG_FIXED;
    dp->table = htable_create(16, 0);
    return &dp->dict;
}
