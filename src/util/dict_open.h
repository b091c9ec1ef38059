/*
 * dict_open - the registry of table types and "type:name" parsing.
 *
 * dict_open(spec, ...) splits spec at the first ':' and calls the open
 * function registered for the type (dict_open3()). The built-in backends
 * are rows of one table in dict_open.c; a higher layer may add a type with
 * dict_open_register() (for example a proxymap client replacing the
 * pass-through proxy:). dict_mapnames() lists the types, sorted, for
 * "postconf -m".
 *
 * dict_split_spec() checks and splits "type:name" without opening:
 * it returns 0 and fills type/name, or -1 with the Postfix text
 * 'expecting "type:name" form instead of "SPEC"' in why.
 *
 * Errors: an empty type or name, or an unknown type, gives a surrogate
 * (dict.h) whose reason is 'open dictionary: expecting "type:name" form
 * instead of "SPEC"' or 'unsupported dictionary type: TYPE'.
 */
#ifndef DICT_OPEN_H
#define DICT_OPEN_H

#include "argv.h"
#include "dict.h"

typedef DICT *(*DICT_OPEN_FN)(const char *name, int open_flags, int dict_flags);

extern void dict_open_register(const char *type, DICT_OPEN_FN open_fn);
extern DICT_OPEN_FN dict_open_lookup(const char *type);
extern ARGV *dict_mapnames(void);
extern int dict_split_spec(const char *spec, VSTRING *type, VSTRING *name, VSTRING *why);

#endif
