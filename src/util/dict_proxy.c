/*
 * dict_proxy - the pass-through "proxy" table (see dict_proxy.h).
 */
#include "sys_defs.h"

#include "dict_open.h"
#include "dict_proxy.h"

typedef struct DICT_PROXY {
    DICT dict;
    DICT *real;
} DICT_PROXY;

static const char *dict_proxy_lookup(DICT *dict, const char *key)
{
    DICT *real = ((DICT_PROXY *)dict)->real;
    const char *value = dict_get(real, key);

    dict->error = real->error;
    return value;
}

static int dict_proxy_sequence(DICT *dict, int func, const char **key, const char **value)
{
    DICT *real = ((DICT_PROXY *)dict)->real;
    int status = dict_seq(real, func, key, value);

    dict->error = real->error;
    return status;
}

static bool dict_proxy_changed(const DICT *dict)
{
    return dict_changed(((const DICT_PROXY *)dict)->real);
}

static void dict_proxy_close(DICT *dict)
{
    dict_close(((DICT_PROXY *)dict)->real);
    dict_free(dict);
}

/* Open proxy:type:name. */
DICT *dict_proxy_open(const char *name, int open_flags, int dict_flags)
{
    DICT_PROXY *dp;
    DICT *real;

    if ((open_flags & O_ACCMODE) != O_RDONLY)
        return dict_surrogate("proxy", name, open_flags, dict_flags,
                              "can't create maps via the proxy service");
    real = dict_open(name, open_flags, dict_flags);
    dp = (DICT_PROXY *)dict_alloc("proxy", name, sizeof(*dp));
    dp->dict.lookup = dict_proxy_lookup;
    dp->dict.sequence = dict_proxy_sequence;
    dp->dict.close = dict_proxy_close;
    dp->dict.changed = dict_proxy_changed;
    dp->dict.flags = real->flags;
    dp->real = real;
    return &dp->dict;
}
