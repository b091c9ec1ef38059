/*
 * dict_union - tables made of other tables.
 *
 * unionmap:{type:name, ...} asks every table and joins all results with
 * ','; pipemap:{type:name, ...} feeds each table's result to the next as
 * its key and answers the last result. No result anywhere (union) or at
 * any step (pipe) is "not found"; an error in any table fails the lookup.
 * Bad syntax makes a surrogate 'bad syntax: "TYPE:NAME"; need
 * "TYPE:{type:name...}"'.
 */
#ifndef DICT_UNION_H
#define DICT_UNION_H

#include "dict.h"

extern DICT *dict_union_open(const char *name, int open_flags, int dict_flags);
extern DICT *dict_pipe_open(const char *name, int open_flags, int dict_flags);

#endif
