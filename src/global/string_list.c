/*
 * string_list - lists of plain strings. See string_list.h.
 */
#include "sys_defs.h"

#include "string_list.h"

/* Build the list for a string-list parameter. */
STRING_LIST *string_list_init(const char *param_name, const char *patterns)
{
    static const MATCH_LIST_FN fns[] = {match_list_string};

    return match_list_init(param_name, MATCH_FLAG_NONE, patterns, fns, ARRAY_LEN(fns));
}

/* 1 when string matches; 0 otherwise (check list->error). */
int string_list_match(STRING_LIST *list, const char *string)
{
    const char *strings[] = {string};

    return match_list_match(list, strings);
}

/* Release the list; returns NULL. */
STRING_LIST *string_list_free(STRING_LIST *list)
{
    return match_list_free(list);
}
