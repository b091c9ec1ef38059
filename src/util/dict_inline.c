/*
 * dict_inline - the "inline" table (see dict_inline.h).
 */
#include "sys_defs.h"

#include <string.h>

#include "dict_ht.h"
#include "dict_inline.h"
#include "mymalloc.h"
#include "stringops.h"

#define DICT_INLINE_NEED "need \"inline:{name=value...}\""

/* Parse one "name=value" or "{ name = value }" element; NULL or an error. */
static const char *dict_inline_pair(char *item, char **name, char **value)
{
    char *eq;

    if (*item == '{') {
        if (extpar(&item, "{}") != NULL)
            return "bad syntax";
    }
    if ((eq = strchr(item, '=')) == NULL)
        return "missing '=' after attribute name";
    *eq = 0;
    *name = trimblanks(item);
    *value = trimblanks(eq + 1);
    if (**name == 0)
        return "missing attribute name";
    if ((*name)[strcspn(*name, CHARS_SPACE)] != 0)
        return "missing '=' after attribute name";
    return NULL;
}

/* Open inline:{...}. */
DICT *dict_inline_open(const char *name, int open_flags, int dict_flags)
{
    char *copy = mystrdup(name);
    char *cp = copy;
    const char *err = NULL;
    char *item;
    char *key;
    char *value;
    DICT *dict;

    if ((dict = dict_require_rdonly("inline", name, open_flags, dict_flags)) != NULL) {
        myfree(copy);
        return dict;
    }
    if (*cp != '{' || extpar(&cp, "{}") != NULL || *cp == 0) {
        myfree(copy);
        return dict_surrogate("inline", name, open_flags, dict_flags,
                              "bad syntax: \"inline:%s\"; " DICT_INLINE_NEED, name);
    }
    dict = dict_ht_open("inline", name, dict_flags | DICT_FLAG_DUP_REPLACE);
    while (err == NULL && (item = mystrtokq(&cp, CHARS_COMMA_SP, "{}")) != NULL) {
        if ((err = dict_inline_pair(item, &key, &value)) == NULL)
            dict_put(dict, key, value);
    }
    myfree(copy);
    if (err != NULL) {
        dict_close(dict);
        return dict_surrogate("inline", name, open_flags, dict_flags, "%s: \"inline:%s\"; " DICT_INLINE_NEED,
                              err, name);
    }
    dict->flags = (dict_flags & ~DICT_FLAG_DUP_MASK) | DICT_FLAG_FIXED;
    return dict;
}
