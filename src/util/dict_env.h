/*
 * dict_env - the "environ" table: the key names an environment variable.
 *
 * The table's name is ignored. Keys are folded like any exact-key table,
 * so "postmap -q HOME environ:x" looks up "home" unless -f is given.
 */
#ifndef DICT_ENV_H
#define DICT_ENV_H

#include "dict.h"

extern DICT *dict_env_open(const char *name, int open_flags, int dict_flags);

#endif
