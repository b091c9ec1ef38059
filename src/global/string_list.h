/*
 * string_list - lists of plain strings, for parameters such as
 * authorized_submit_users, authorized_mailq_users or smtpd_noop_commands.
 *
 * string_list_init(param_name, patterns) builds a match_list (util) with
 * match_list_string(): each item is compared case-insensitively with the
 * whole string; /file/name, !pattern and type:table items (key = the
 * string) work as in every match list.
 *
 * string_list_match(list, string) returns 1 for a match and 0 otherwise.
 *
 * Errors: after a table lookup failure string_list_match() returns 0 with
 * list->error set (DICT_ERR_RETRY or DICT_ERR_CONFIG) and the list has
 * logged "PARAM: TYPE:NAME: table lookup problem". Callers must treat that
 * as a temporary failure, never as "no match". string_list_free() returns
 * NULL.
 */
#ifndef STRING_LIST_H
#define STRING_LIST_H

#include "match_list.h"

typedef MATCH_LIST STRING_LIST;

extern STRING_LIST *string_list_init(const char *param_name, const char *patterns);
extern int string_list_match(STRING_LIST *list, const char *string);
extern STRING_LIST *string_list_free(STRING_LIST *list);

#endif
