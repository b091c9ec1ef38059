/*
 * dict_unix - the "unix" table: unix:passwd.byname and unix:group.byname
 * answer the passwd(5) or group(5) line of a login or group name
 * ("root:x:0:0:root:/root:/bin/bash", "mail:x:8:a,b"). Another name makes
 * a surrogate "unknown table: unix:NAME".
 */
#ifndef DICT_UNIX_H
#define DICT_UNIX_H

#include "dict.h"

extern DICT *dict_unix_open(const char *name, int open_flags, int dict_flags);

#endif
