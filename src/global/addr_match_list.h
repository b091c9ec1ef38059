/*
 * addr_match_list - lists of network addresses only (no host names), for
 * address-only access lists.
 *
 * addr_match_list_init(param_name, patterns) builds a match_list (util)
 * with match_list_hostaddr(): a.b.c.d, [ipv6], net/len, [net]/len,
 * /file/name, and type:table items whose key is the address.
 *
 * addr_match_list_match(list, addr) returns 1 for a match and 0
 * otherwise; addr is the printable address without brackets.
 *
 * Errors: after a table lookup failure or a malformed net/len pattern
 * addr_match_list_match() returns 0 with list->error set (DICT_ERR_RETRY
 * or DICT_ERR_CONFIG); the list has logged why. Callers must treat that
 * as a temporary failure, never as "no match". addr_match_list_free()
 * returns NULL.
 */
#ifndef ADDR_MATCH_LIST_H
#define ADDR_MATCH_LIST_H

#include "match_list.h"

typedef MATCH_LIST ADDR_MATCH_LIST;

extern ADDR_MATCH_LIST *addr_match_list_init(const char *param_name, const char *patterns);
extern int addr_match_list_match(ADDR_MATCH_LIST *list, const char *addr);
extern ADDR_MATCH_LIST *addr_match_list_free(ADDR_MATCH_LIST *list);

#endif
