/*
 * dict_fail - the "fail" table (see dict_fail.h).
 */
#include "sys_defs.h"

#include "dict_fail.h"

static const char *dict_fail_lookup(DICT *dict, const char *key)
{
    (void)key;
    DICT_ERR_VAL_RETURN(dict, DICT_ERR_RETRY, NULL);
}

static int dict_fail_update(DICT *dict, const char *key, const char *value)
{
    (void)key;
    (void)value;
    DICT_ERR_VAL_RETURN(dict, DICT_ERR_RETRY, DICT_STAT_ERROR);
}

static int dict_fail_delete(DICT *dict, const char *key)
{
    (void)key;
    DICT_ERR_VAL_RETURN(dict, DICT_ERR_RETRY, DICT_STAT_ERROR);
}

static int dict_fail_sequence(DICT *dict, int func, const char **key, const char **value)
{
    (void)func;
    (void)key;
    (void)value;
    DICT_ERR_VAL_RETURN(dict, DICT_ERR_RETRY, DICT_STAT_ERROR);
}

/* Open fail:LABEL. */
DICT *dict_fail_open(const char *name, int open_flags, int dict_flags)
{
    DICT *dict = dict_alloc("fail", name, sizeof(DICT));

    (void)open_flags;
    dict->lookup = dict_fail_lookup;
    dict->update = dict_fail_update;
    dict->delete = dict_fail_delete;
    dict->sequence = dict_fail_sequence;
    dict->flags = dict_flags | DICT_FLAG_PATTERN;
    return dict;
}
