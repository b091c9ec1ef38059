/*
 * addr_match_list - lists of network addresses. See addr_match_list.h.
 */
#include "sys_defs.h"

#include "addr_match_list.h"

/* Build the list for an address-only parameter. */
ADDR_MATCH_LIST *addr_match_list_init(const char *param_name, const char *patterns)
{
    static const MATCH_LIST_FN fns[] = {match_list_hostaddr};

    return match_list_init(param_name, MATCH_FLAG_NONE, patterns, fns, ARRAY_LEN(fns));
}

/* 1 when addr matches; 0 otherwise (check list->error). */
int addr_match_list_match(ADDR_MATCH_LIST *list, const char *addr)
{
    const char *strings[] = {addr};

    return match_list_match(list, strings);
}

/* Release the list; returns NULL. */
ADDR_MATCH_LIST *addr_match_list_free(ADDR_MATCH_LIST *list)
{
    return match_list_free(list);
}
