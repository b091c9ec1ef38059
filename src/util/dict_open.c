/*
 * dict_open - the registry of table types and "type:name" parsing.
 * See dict_open.h. A new table type is one backend file plus one row in
 * dict_backends[] below.
 */
#include "sys_defs.h"

#include <string.h>

#include "dict_open.h"
#include "dict_cdb.h"
#include "dict_cidr.h"
#include "dict_env.h"
#include "dict_fail.h"
#include "dict_inline.h"
#include "dict_lmdb.h"
#include "dict_nis.h"
#include "dict_pcre.h"
#include "dict_proxy.h"
#include "dict_regexp.h"
#include "dict_static.h"
#include "dict_thash.h"
#include "dict_union.h"
#include "dict_unix.h"
#include "htable.h"
#include "msg.h"
#include "mymalloc.h"

typedef struct DICT_BACKEND {
    const char *type;
    DICT_OPEN_FN open;
} DICT_BACKEND;

/* The built-in types. Optional libraries add their rows when present. */
static const DICT_BACKEND dict_backends[] = {
#ifdef HAS_LMDB
    {"btree", dict_btree_open},    {"hash", dict_hash_open},      {"lmdb", dict_lmdb_open},
#endif
#ifdef HAS_CDB
    {"cdb", dict_cdb_open},
#endif
#ifdef HAS_PCRE2
    {"pcre", dict_pcre_open},
#endif
    {"cidr", dict_cidr_open},      {"environ", dict_env_open},    {"fail", dict_fail_open},
    {"inline", dict_inline_open},  {"nis", dict_nis_open},        {"pipemap", dict_pipe_open},
    {"proxy", dict_proxy_open},    {"regexp", dict_regexp_open},  {"static", dict_static_open},
    {"texthash", dict_thash_open}, {"unionmap", dict_union_open}, {"unix", dict_unix_open},
};

/* Types added at run time by higher layers; they override built-ins. */
static HTABLE *dict_extra_backends;

/* Add or replace a table type. */
void dict_open_register(const char *type, DICT_OPEN_FN open_fn)
{
    if (dict_extra_backends == NULL)
        dict_extra_backends = htable_create(8, 0);
    htable_delete(dict_extra_backends, type, NULL);
    htable_enter(dict_extra_backends, type, (void *)open_fn);
}

/* The open function of a type, or NULL when the type is not built in. */
DICT_OPEN_FN dict_open_lookup(const char *type)
{
    void *fn;

    if (dict_extra_backends && (fn = htable_find(dict_extra_backends, type)) != NULL)
        return (DICT_OPEN_FN)fn;
    for (size_t i = 0; i < ARRAY_LEN(dict_backends); i++)
        if (strcmp(dict_backends[i].type, type) == 0)
            return dict_backends[i].open;
    return NULL;
}

/* The names of every available type, sorted. */
ARGV *dict_mapnames(void)
{
    ARGV *names = argv_alloc(ARRAY_LEN(dict_backends) + 4);

    for (size_t i = 0; i < ARRAY_LEN(dict_backends); i++)
        argv_add(names, dict_backends[i].type);
    if (dict_extra_backends) {
        HTABLE_INFO **list = htable_list(dict_extra_backends);

        for (HTABLE_INFO **ht = list; *ht; ht++)
            argv_add(names, (*ht)->key);
        myfree(list);
    }
    argv_sort(names);
    argv_uniq(names);
    return names;
}

/* Split "type:name"; -1 with the Postfix error text when either is empty. */
int dict_split_spec(const char *spec, VSTRING *type, VSTRING *name, VSTRING *why)
{
    const char *colon = strchr(spec, ':');

    if (colon == NULL || colon == spec || colon[1] == 0) {
        vstring_sprintf(why, "open dictionary: expecting \"type:name\" form instead of \"%s\"", spec);
        return -1;
    }
    vstring_strncpy(type, spec, (size_t)(colon - spec));
    vstring_strcpy(name, colon + 1);
    return 0;
}

/* End the program with reason, releasing what would otherwise leak. */
static NORETURN dict_open_fatal(const char *reason, DICT *dict)
{
    static VSTRING *text;

    if (text == NULL)
        text = vstring_alloc(100);
    vstring_strcpy(text, reason);
    if (dict)
        dict_close(dict);
    msg_fatal("%s", vstring_str(text));
}

/* Open type:name; see dict.h for what happens when that fails. */
DICT *dict_open3(const char *type, const char *name, int open_flags, int dict_flags)
{
    DICT_OPEN_FN open_fn = dict_open_lookup(type);
    DICT *dict;

    if (open_fn == NULL)
        dict = dict_surrogate(type, name, open_flags, dict_flags, "unsupported dictionary type: %s", type);
    else
        dict = open_fn(name, open_flags, dict_flags);
    if ((dict->flags & DICT_FLAG_SURROGATE) && !dict_allow_surrogate) {
        dict_open_fatal(dict_surrogate_reason(dict), dict);
    }
    dict->open_flags = open_flags;
    return dict;
}

/* Open a table given as "type:name". */
DICT *dict_open(const char *spec, int open_flags, int dict_flags)
{
    VSTRING *type = vstring_alloc(16);
    VSTRING *name = vstring_alloc(64);
    VSTRING *why = vstring_alloc(64);
    DICT *dict;

    if (dict_split_spec(spec, type, name, why) < 0) {
        dict = dict_surrogate("unknown", spec, open_flags, dict_flags, "%s", vstring_str(why));
        if (!dict_allow_surrogate) {
            vstring_free(type);
            vstring_free(name);
            vstring_free(why);
            dict_open_fatal(dict_surrogate_reason(dict), dict);
        }
    } else {
        dict = dict_open3(vstring_str(type), vstring_str(name), open_flags, dict_flags);
    }
    vstring_free(type);
    vstring_free(name);
    vstring_free(why);
    return dict;
}
