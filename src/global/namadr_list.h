/*
 * namadr_list - lists of client or server names and network addresses,
 * for parameters such as mynetworks, debug_peer_list,
 * permit_mx_backup_networks, qmqpd_authorized_clients,
 * smtpd_client_event_limit_exceptions.
 *
 * namadr_list_init(param_name, patterns) builds a match_list (util) that
 * tries each item first on the host name (match_list_hostname(): names,
 * ".names", table keys with parent domains) and then on the address
 * (match_list_hostaddr(): a.b.c.d, [ipv6], net/len, [net]/len, table key =
 * the address). Parent-domain mode as domain_list_parent_style() says.
 *
 * namadr_list_match(list, name, addr) returns 1 for a match and 0
 * otherwise. name may be NULL (or "unknown") when the host name is not
 * known; addr is the printable address without brackets ("192.0.2.1",
 * "2001:db8::1").
 *
 * Errors: after a table lookup failure or a malformed net/len pattern
 * namadr_list_match() returns 0 with list->error set (DICT_ERR_RETRY or
 * DICT_ERR_CONFIG); the list has logged why. Callers must treat that as a
 * temporary failure, never as "no match". namadr_list_free() returns NULL.
 */
#ifndef NAMADR_LIST_H
#define NAMADR_LIST_H

#include "match_list.h"

typedef MATCH_LIST NAMADR_LIST;

extern NAMADR_LIST *namadr_list_init(const char *param_name, const char *patterns);
extern int namadr_list_match(NAMADR_LIST *list, const char *name, const char *addr);
extern NAMADR_LIST *namadr_list_free(NAMADR_LIST *list);

#endif
