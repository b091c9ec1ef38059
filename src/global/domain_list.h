/*
 * domain_list - lists of host or domain names, for parameters such as
 * mydestination, relay_domains, virtual_alias_domains, fast_flush_domains.
 *
 * domain_list_init(param_name, patterns) builds a match_list (util) whose
 * items are names, ".names", /file/name and type:table patterns, with
 * match_list_hostname(). It is in parent-domain mode (plain "example.com"
 * also matches subdomains; tables are asked example.com, com instead of
 * .example.com, .com) iff param_name is listed in
 * $parent_domain_matches_subdomains (domain_list_parent_style()).
 *
 * domain_list_match(list, name) returns 1 for a match and 0 otherwise. The
 * name is matched case-insensitively and as given (strip a trailing dot
 * first if it may have one).
 *
 * Errors: after a table lookup failure domain_list_match() returns 0 with
 * list->error set (DICT_ERR_RETRY or DICT_ERR_CONFIG) and the list has
 * logged "PARAM: TYPE:NAME: table lookup problem". Callers must treat that
 * as a temporary failure, never as "no match". Syntax problems are as in
 * match_list.h. domain_list_free() returns NULL.
 */
#ifndef DOMAIN_LIST_H
#define DOMAIN_LIST_H

#include "match_list.h"

typedef MATCH_LIST DOMAIN_LIST;

extern DOMAIN_LIST *domain_list_init(const char *param_name, const char *patterns);
extern int domain_list_match(DOMAIN_LIST *list, const char *name);
extern DOMAIN_LIST *domain_list_free(DOMAIN_LIST *list);
extern int domain_list_parent_style(const char *param_name);

#endif
