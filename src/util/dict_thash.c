/*
 * dict_thash - the "texthash" table (see dict_thash.h).
 */
#include "sys_defs.h"

#include <stdio.h>

#include "dict_ht.h"
#include "dict_src.h"
#include "dict_thash.h"
#include "readlline.h"

/* Read path into an in-memory table. */
DICT *dict_thash_open(const char *path, int open_flags, int dict_flags)
{
    READLLINE rl = {.name = path};
    VSTRING *line;
    DICT *dict;
    char *key;
    char *value;
    int lineno;

    if ((dict = dict_require_rdonly("texthash", path, open_flags, dict_flags)) != NULL)
        return dict;
    if ((rl.fp = fopen(path, "re")) == NULL)
        return dict_surrogate("texthash", path, open_flags, dict_flags,
                              "open database %s: %m", path);
    dict = dict_ht_open("texthash", path, dict_flags);
    line = vstring_alloc(100);
    while (readlline(line, &rl, &lineno) != NULL)
        if (dict_src_split(vstring_str(line), path, lineno, &key, &value))
            dict_put(dict, key, value);
    vstring_free(line);
    (void) fclose(rl.fp);
    return dict;
}
