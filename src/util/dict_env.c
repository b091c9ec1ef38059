/*
 * dict_env - the "environ" table (see dict_env.h).
 */
#include "sys_defs.h"

#include <stdlib.h>

#include "dict_env.h"

static const char *dict_env_lookup(DICT *dict, const char *key)
{
    return getenv(dict_fold(dict, key));
}

/* Open environ:NAME. */
DICT *dict_env_open(const char *name, int open_flags, int dict_flags)
{
    DICT *dict;

    if ((dict = dict_require_rdonly("environ", name, open_flags, dict_flags)) != NULL)
        return dict;
    dict = dict_alloc("environ", name, sizeof(DICT));
    dict->lookup = dict_env_lookup;
    dict->flags = dict_flags | DICT_FLAG_FIXED;
    return dict;
}
