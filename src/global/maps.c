/*
 * maps - the list of tables one parameter names, searched in order. See
 * maps.h.
 */
#include "sys_defs.h"

#include "dict_registry.h"
#include "maps.h"
#include "msg.h"
#include "mymalloc.h"
#include "stringops.h"

/* Open every table named in map_names (shared, read-only). */
MAPS *maps_create(const char *title, const char *map_names, int dict_flags)
{
    MAPS *maps = mymalloc(sizeof(*maps));
    char *copy = mystrdup(map_names);
    char *cp = copy;
    char *item;

    maps->title = mystrdup(title);
    maps->argv = argv_alloc(2);
    maps->error = DICT_ERR_NONE;
    while ((item = mystrtokq(&cp, CHARS_COMMA_SP, "{}")) != NULL)
        argv_add(maps->argv, item);
    myfree(copy);
    maps->dicts = mymalloc(sizeof(DICT *) * (maps->argv->argc + 1));
    for (size_t i = 0; i < maps->argv->argc; i++)
        maps->dicts[i] = dict_registry_open(maps->argv->argv[i], O_RDONLY, dict_flags);
    return maps;
}

/* Whether a table may see a partial key (see maps.h). */
static bool maps_accepts_partial(const DICT *dict)
{
    return (dict->flags & (DICT_FLAG_FIXED | DICT_FLAG_SURROGATE)) != 0;
}

/* The first table's value for key; NULL with maps->error telling why. */
const char *maps_find(MAPS *maps, const char *key, int flags)
{
    const char *value;
    DICT *dict;

    maps->error = DICT_ERR_NONE;
    for (size_t i = 0; i < maps->argv->argc; i++) {
        dict = maps->dicts[i];
        if ((flags & DICT_FLAG_FIXED) && !maps_accepts_partial(dict))
            continue;
        if ((value = dict_get(dict, key)) != NULL) {
            if (*value == 0) {
                msg_warn("%s lookup of %s returns an empty string result", maps->title, key);
                msg_warn("%s should return NO RESULT in case of NOT FOUND", maps->title);
                maps->error = DICT_ERR_CONFIG;
                return NULL;
            }
            if (msg_verbose)
                msg_info("maps_find: %s: %s: %s = %s", maps->title, maps->argv->argv[i], key, value);
            return value;
        }
        if (dict->error != DICT_ERR_NONE) {
            msg_warn("%s:%s lookup error for \"%s\"", dict->type, dict->name, key);
            maps->error = dict->error;
            return NULL;
        }
        if (msg_verbose)
            msg_info("maps_find: %s: %s: %s: not found", maps->title, maps->argv->argv[i], key);
    }
    return NULL;
}

/* Release the list and its table references. */
MAPS *maps_free(MAPS *maps)
{
    for (size_t i = 0; i < maps->argv->argc; i++)
        dict_registry_close(maps->dicts[i]);
    myfree(maps->dicts);
    argv_free(maps->argv);
    myfree(maps->title);
    myfree(maps);
    return NULL;
}
