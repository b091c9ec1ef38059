/*
 * domain_list - lists of host or domain names. See domain_list.h.
 */
#include "sys_defs.h"

#include <string.h>
#include <strings.h>

#include "argv.h"
#include "domain_list.h"
#include "mail_params.h"

/* Is param_name one of the features listed in parent_domain_matches_subdomains? */
int domain_list_parent_style(const char *param_name)
{
    const char *value = var_parent_domain_matches_subdomains;
    ARGV *names;
    int found = 0;

    /* Before mail_params_init(): the built-in default. */
    if (value == 0)
        value = mail_params_find("parent_domain_matches_subdomains")->def;
    names = argv_split(value, " ,\t\r\n");
    for (size_t i = 0; i < names->argc && !found; i++)
        found = strcasecmp(names->argv[i], param_name) == 0;
    argv_free(names);
    return found;
}

/* Build the list for a name-list parameter. */
DOMAIN_LIST *domain_list_init(const char *param_name, const char *patterns)
{
    static const MATCH_LIST_FN fns[] = {match_list_hostname};

    return match_list_init(param_name,
                           domain_list_parent_style(param_name) ? MATCH_FLAG_PARENT : MATCH_FLAG_NONE,
                           patterns, fns, ARRAY_LEN(fns));
}

/* 1 when name matches; 0 otherwise (check list->error). */
int domain_list_match(DOMAIN_LIST *list, const char *name)
{
    const char *strings[] = {name};

    return match_list_match(list, strings);
}

/* Release the list; returns NULL. */
DOMAIN_LIST *domain_list_free(DOMAIN_LIST *list)
{
    return match_list_free(list);
}
