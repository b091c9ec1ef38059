/*
 * namadr_list - lists of host names and network addresses. See
 * namadr_list.h.
 */
#include "sys_defs.h"

#include "domain_list.h"
#include "namadr_list.h"

/* Build the list for a name-and-address parameter. */
NAMADR_LIST *namadr_list_init(const char *param_name, const char *patterns)
{
    static const MATCH_LIST_FN fns[] = {match_list_hostname, match_list_hostaddr};

    return match_list_init(param_name,
                           domain_list_parent_style(param_name) ? MATCH_FLAG_PARENT : MATCH_FLAG_NONE,
                           patterns, fns, ARRAY_LEN(fns));
}

/* 1 when the name or the address matches; 0 otherwise (check list->error). */
int namadr_list_match(NAMADR_LIST *list, const char *name, const char *addr)
{
    const char *strings[] = {name, addr};

    return match_list_match(list, strings);
}

/* Release the list; returns NULL. */
NAMADR_LIST *namadr_list_free(NAMADR_LIST *list)
{
    return match_list_free(list);
}
