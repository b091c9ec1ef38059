/*
 * dict_union - unionmap and pipemap (see dict_union.h).
 */
#include "sys_defs.h"

#include "argv.h"
#include "dict_open.h"
#include "dict_union.h"
#include "mymalloc.h"
#include "stringops.h"

typedef struct DICT_UNION {
    DICT dict;
    DICT **tables;
    size_t count;
    VSTRING *result;
} DICT_UNION;

static const char *dict_union_lookup(DICT *dict, const char *key)
{
    DICT_UNION *dp = (DICT_UNION *)dict;
    const char *value;
    bool found = false;

    vstring_reset(dp->result);
    for (size_t i = 0; i < dp->count; i++) {
        if ((value = dict_get(dp->tables[i], key)) != NULL) {
            if (found)
                vstring_addch(dp->result, ',');
            vstring_strcat(dp->result, value);
            found = true;
        } else if (dp->tables[i]->error) {
            DICT_ERR_VAL_RETURN(dict, dp->tables[i]->error, NULL);
        }
    }
    return found ? vstring_str(dp->result) : NULL;
}

static const char *dict_pipe_lookup(DICT *dict, const char *key)
{
    DICT_UNION *dp = (DICT_UNION *)dict;
    const char *value = key;

    for (size_t i = 0; i < dp->count; i++) {
        vstring_strcpy(dp->result, value);
        if ((value = dict_get(dp->tables[i], vstring_str(dp->result))) == NULL)
            DICT_ERR_VAL_RETURN(dict, dp->tables[i]->error, NULL);
    }
    vstring_strcpy(dp->result, value);
    return vstring_str(dp->result);
}

static bool dict_union_changed(const DICT *dict)
{
    const DICT_UNION *dp = (const DICT_UNION *)dict;

    for (size_t i = 0; i < dp->count; i++)
        if (dict_changed(dp->tables[i]))
            return true;
    return false;
}

static void dict_union_close(DICT *dict)
{
    DICT_UNION *dp = (DICT_UNION *)dict;

    for (size_t i = 0; i < dp->count; i++)
        dict_close(dp->tables[i]);
    myfree(dp->tables);
    vstring_free(dp->result);
    dict_free(dict);
}

/* Open TYPE:{type:name, ...} with the given lookup method. */
static DICT *dict_union_open_common(const char *type, const char *name, int open_flags, int dict_flags,
                                    const char *(*lookup)(DICT *, const char *))
{
    DICT_UNION *dp;
    DICT *dict;
    char *copy;
    char *cp;
    char *item;
    ARGV *specs;

    if ((dict = dict_require_rdonly(type, name, open_flags, dict_flags)) != NULL)
        return dict;
    cp = copy = mystrdup(name);
    if (*cp != '{' || extpar(&cp, "{}") != NULL || *cp == 0) {
        myfree(copy);
        return dict_surrogate(type, name, open_flags, dict_flags,
                              "bad syntax: \"%s:%s\"; need \"%s:{type:name...}\"", type, name, type);
    }
    specs = argv_alloc(4);
    while ((item = mystrtokq(&cp, CHARS_COMMA_SP, "{}")) != NULL)
        argv_add(specs, item);
    myfree(copy);

    dp = (DICT_UNION *)dict_alloc(type, name, sizeof(*dp));
    dp->dict.lookup = lookup;
    dp->dict.close = dict_union_close;
    dp->dict.changed = dict_union_changed;
    dp->dict.flags = dict_flags | DICT_FLAG_FIXED;
    dp->tables = mymalloc(sizeof(DICT *) * specs->argc);
    dp->result = vstring_alloc(100);
    for (size_t i = 0; i < specs->argc; i++) {
        dp->tables[dp->count++] = dict_open(specs->argv[i], open_flags, dict_flags);
        if (dp->tables[i]->flags & DICT_FLAG_PATTERN)
            dp->dict.flags = (dp->dict.flags & ~DICT_FLAG_FIXED) | DICT_FLAG_PATTERN;
    }
    argv_free(specs);
    return &dp->dict;
}

/* Open unionmap:{...}. */
DICT *dict_union_open(const char *name, int open_flags, int dict_flags)
{
    return dict_union_open_common("unionmap", name, open_flags, dict_flags, dict_union_lookup);
}

/* Open pipemap:{...}. */
DICT *dict_pipe_open(const char *name, int open_flags, int dict_flags)
{
    return dict_union_open_common("pipemap", name, open_flags, dict_flags, dict_pipe_lookup);
}
