/*
 * smtp_sasl.h - the pieces of smtp_sasl.c that its unit test drives
 * (smtp_sasl_test.c): the password lookup order and the mechanism filter.
 * The daemon itself uses only smtp_sasl_init() and
 * smtp_sasl_authenticate() from smtp.h.
 *
 *   smtp_sasl_passwd_lookup(maps, sender, host, dest, delim, user, pass)
 *       searches MAPS for (1) SENDER when not NULL (an address-style
 *       search: user+ext@domain, user@domain, @domain), (2) HOST, the
 *       remote host name actually connected, (3) DEST, the next hop as
 *       written ("example.com", "[mail.isp.example]:587"). The first
 *       "username:password" found is split at the first DELIM; a value
 *       without DELIM is a username with an empty password. Returns 1
 *       (found: *USER and *PASS are mymalloc()ed), 0 (nothing found) or
 *       -1 (a table lookup failed: maps->error set; never "not found").
 *   smtp_sasl_filter_mechs(offered, filter, out)
 *       the mechanisms of OFFERED (space-separated, as the server
 *       listed them) that FILTER (smtp_sasl_mechanism_filter as a string
 *       list; NULL: no filter) matches, into OUT in the server's order.
 *       Returns 0, or -1 when a filter table lookup failed.
 */
#ifndef SMTP_SASL_H
#define SMTP_SASL_H

#include "maps.h"
#include "string_list.h"
#include "vstring.h"

extern int smtp_sasl_passwd_lookup(MAPS *maps, const char *sender, const char *host, const char *dest,
                                   int delim, char **user, char **pass);
extern int smtp_sasl_filter_mechs(const char *offered, STRING_LIST *filter, VSTRING *out);

#endif
