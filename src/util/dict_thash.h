/*
 * dict_thash - the "texthash" table: a postmap source file read into
 * memory at open, with the same answers as hash: built from it.
 *
 * The file is parsed like postmap's input (dict_src.h); a duplicate key
 * warns 'FILE, line N: duplicate entry: "KEY"' and keeps the first value
 * (DICT_FLAG_DUP_IGNORE: silently; DICT_FLAG_DUP_REPLACE: the last wins).
 * The table is never written back. There
 * is no change detection (as in Postfix): a new file needs a new process.
 * An unreadable file makes a surrogate "open database FILE: REASON".
 */
#ifndef DICT_THASH_H
#define DICT_THASH_H

#include "dict.h"

extern DICT *dict_thash_open(const char *path, int open_flags, int dict_flags);

#endif
