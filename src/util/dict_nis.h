/*
 * dict_nis - the "nis" table. Postern has no NIS client: on a host without
 * an NIS domain (the normal case) every lookup is "not found", after one
 * warning 'NIS domain name not set - NIS lookups disabled', so the default
 * alias_maps (hash:/etc/aliases, nis:mail.aliases) works. On a host with
 * an NIS domain, lookups fail temporarily ("NIS lookups are not supported
 * by Postern") rather than pretend the map is empty.
 */
#ifndef DICT_NIS_H
#define DICT_NIS_H

#include "dict.h"

extern DICT *dict_nis_open(const char *map, int open_flags, int dict_flags);

#endif
