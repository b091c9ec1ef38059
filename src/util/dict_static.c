/*
 * dict_static - the "static" table (see dict_static.h).
 */
#include "sys_defs.h"

#include <string.h>

#include "dict_static.h"
#include "msg.h"
#include "mymalloc.h"
#include "stringops.h"

typedef struct DICT_STATIC {
    DICT dict;
    char *value;
} DICT_STATIC;

static const char *dict_static_lookup(DICT *dict, const char *key)
{
    (void)key;
    return ((DICT_STATIC *)dict)->value;
}

static void dict_static_close(DICT *dict)
{
    myfree(((DICT_STATIC *)dict)->value);
    dict_free(dict);
}

/* Open static:NAME or static:{ NAME }. */
DICT *dict_static_open(const char *name, int open_flags, int dict_flags)
{
    DICT_STATIC *dp;
    DICT *dict;
    char *value;

    if ((dict = dict_require_rdonly("static", name, open_flags, dict_flags)) != NULL)
        return dict;
    if (*name == '{') {
        char *copy = mystrdup(name);
        char *cp = copy;
        const char *err = extpar(&cp, "{}");

        if (err != NULL) {
            myfree(copy);
            return dict_surrogate("static", name, open_flags, dict_flags,
                                  "bad static:name syntax: missing '}' in \"%s\"", name);
        }
        value = mystrdup(cp);
        myfree(copy);
    } else {
        value = mystrdup(name);
    }
    dp = (DICT_STATIC *)dict_alloc("static", name, sizeof(*dp));
    dp->dict.lookup = dict_static_lookup;
    dp->dict.close = dict_static_close;
    dp->dict.flags = dict_flags | DICT_FLAG_FIXED;
    dp->value = value;
    return &dp->dict;
}
