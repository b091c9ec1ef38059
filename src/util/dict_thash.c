/*
 * dict_thash - the "texthash" table (see dict_thash.h).
 */
#include "sys_defs.h"

#include <stdio.h>

#include "dict_ht.h"
#include "dict_src.h"
#include "dict_thash.h"
#include "msg.h"
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
        return dict_surrogate("texthash", path, open_flags, dict_flags, "open database %s: %m", path);
    /* Duplicates are judged here, where the line number is known. */
    dict = dict_ht_open("texthash", path, (dict_flags & ~DICT_FLAG_DUP_MASK) | DICT_FLAG_DUP_REPLACE);
    line = vstring_alloc(100);
    while (readlline(line, &rl, &lineno) != NULL) {
        if (!dict_src_split(vstring_str(line), path, lineno, DICT_SRC_FLAG_IGNORING, &key, &value))
            continue;
        if (dict_get(dict, key) != NULL && (dict_flags & DICT_FLAG_DUP_REPLACE) == 0) {
            if ((dict_flags & DICT_FLAG_DUP_IGNORE) == 0)
                msg_warn("%s, line %d: duplicate entry: \"%s\"", path, lineno, key);
            continue;
        }
        dict_put(dict, key, value);
    }
    dict->flags = dict_flags | DICT_FLAG_FIXED;
    vstring_free(line);
    (void)fclose(rl.fp);
    return dict;
}
