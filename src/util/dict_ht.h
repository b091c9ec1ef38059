/*
 * dict_ht - an in-memory table, the storage behind inline: and texthash:.
 *
 * dict_ht_open(type, name, dict_flags) makes an empty table that supports
 * lookup, update, delete and sequence (in insertion order). Updates honour
 * DICT_FLAG_FOLD_FIX and the DICT_FLAG_DUP_* flags like the file-based
 * tables: DUP_WARN logs 'TYPE:NAME: duplicate entry: "KEY"' and keeps the
 * first value.
 */
#ifndef DICT_HT_H
#define DICT_HT_H

#include "dict.h"

extern DICT *dict_ht_open(const char *type, const char *name, int dict_flags);

#endif
