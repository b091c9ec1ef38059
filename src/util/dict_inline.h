/*
 * dict_inline - the "inline" table: inline:{ key=value, { key = text } }.
 *
 * Pairs are separated by commas or whitespace; a braced pair keeps the
 * spaces in its value. The table is read-only once opened (lookup and
 * sequence). Bad syntax makes a surrogate whose reason ends in
 * '; need "inline:{name=value...}"'.
 */
#ifndef DICT_INLINE_H
#define DICT_INLINE_H

#include "dict.h"

extern DICT *dict_inline_open(const char *name, int open_flags, int dict_flags);

#endif
