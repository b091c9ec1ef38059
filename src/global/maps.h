/*
 * maps - the list of tables one parameter names, searched in order.
 *
 * A parameter such as virtual_alias_maps = "hash:/a, regexp:/b" names
 * several tables; a lookup asks them in the listed order and the first
 * table with a result wins (tables.md 7.1). Tables are opened read-only
 * through dict_registry, so a table named by several parameters is open
 * once per process.
 *
 * Public functions:
 *   maps_create(title, map_names, dict_flags)
 *       title is the parameter name, used in warnings; map_names its value:
 *       "type:name" items separated by commas and/or whitespace, where an
 *       item may contain braces ("inline:{a=1, b=2}"). An empty value gives
 *       an empty list whose lookups find nothing.
 *   maps_find(maps, key, flags)
 *       the first table's value for key, or NULL with maps->error
 *       DICT_ERR_NONE (not found anywhere) or DICT_ERR_RETRY /
 *       DICT_ERR_CONFIG (the search failed; treat as a temporary failure,
 *       never as "not found"). flags 0 asks every table; DICT_FLAG_FIXED
 *       says key is a partial key (user@domain after user+ext@domain,
 *       @domain, a parent domain, ...) that only exact-key tables may see:
 *       tables without DICT_FLAG_FIXED (regexp, pcre, cidr, tcp, socketmap)
 *       are skipped, except surrogates, which are always asked so that an
 *       unavailable table fails the search instead of hiding in it.
 *       The value is valid until the next lookup in the same table by any
 *       user (tables are shared): copy it before the next maps_find().
 *   maps_free(maps)
 *       release the list (and table references); returns NULL.
 *
 * Errors: a lookup error stops the search at once (later tables are not
 * asked) and logs 'warning: TYPE:NAME lookup error for "KEY"'. A table
 * that returns an empty string is misconfigured: maps_find() logs
 * "TITLE lookup of KEY returns an empty string result" and "TITLE should
 * return NO RESULT in case of NOT FOUND" and fails with DICT_ERR_CONFIG.
 * Tables that cannot be opened are surrogates (dict.h); the caller decides
 * with dict_allow_surrogate whether that is fatal. With msg_verbose set,
 * each lookup is logged as "maps_find: TITLE: TYPE:NAME: KEY = VALUE" or
 * "... KEY: not found".
 */
#ifndef MAPS_H
#define MAPS_H

#include "argv.h"
#include "dict.h"

typedef struct MAPS {
    char *title;  /* parameter name */
    ARGV *argv;   /* "type:name" items as listed */
    DICT **dicts; /* the shared tables, same order */
    int error;    /* DICT_ERR_* of the last maps_find() */
} MAPS;

extern MAPS *maps_create(const char *title, const char *map_names, int dict_flags);
extern const char *maps_find(MAPS *maps, const char *key, int flags);
extern MAPS *maps_free(MAPS *maps);

#endif
