/*
 * dict_static - the "static" table: every key yields the table's name.
 *
 * static:foo answers "foo" for any key; static:{ text with spaces } answers
 * "text with spaces" (blanks inside the braces trimmed). A missing '}'
 * makes a surrogate: bad static:name syntax: missing '}' in "NAME".
 */
#ifndef DICT_STATIC_H
#define DICT_STATIC_H

#include "dict.h"

extern DICT *dict_static_open(const char *name, int open_flags, int dict_flags);

#endif
