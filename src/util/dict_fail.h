/*
 * dict_fail - the "fail" table: every operation fails temporarily
 * (DICT_ERR_RETRY), for testing how callers handle broken tables.
 */
#ifndef DICT_FAIL_H
#define DICT_FAIL_H

#include "dict.h"

extern DICT *dict_fail_open(const char *name, int open_flags, int dict_flags);

#endif
