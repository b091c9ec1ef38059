/*
 * access_keys - the ordered lookup keys for access maps and domain searches.
 *
 * check_client_access, check_helo_access, check_sender_access and friends
 * (tables.md 7.5), and domain-style searches such as transport_maps (7.3,
 * 7.4), look a value up under a series of keys, most specific first. These
 * functions only list the keys; the caller asks its table list for each key
 * in order (maps_find()), every table before the next key, and stops at the
 * first result or error. Interpreting the result is the caller's job too:
 * in access maps DUNNO is a result, so it stops the search for shorter keys
 * just like OK or REJECT do.
 *
 * Full and partial keys: the first key of every list is the complete
 * query and goes to every table (maps_find(maps, key, 0)); the other keys
 * are partial and must only go to exact-key tables (maps_find(maps, key,
 * DICT_FLAG_FIXED)), so regexp, pcre and cidr tables see the whole query
 * only. For e-mail keys with a quoted local part the first two keys (the
 * external and the internal form of the address) are both full: see
 * access_keys_mail().
 *
 * Keys keep the case of their input; fixed-key tables fold them.
 *
 * Public functions (each returns a new ARGV for argv_free()):
 *   access_keys_parent_mode(param_name)
 *       whether param_name (for access maps "smtpd_access_maps") is listed
 *       in $parent_domain_matches_subdomains (domain_list_parent_style()).
 *   access_keys_domain(domain, parent_mode)
 *       the domain, then its parents: in parent mode "sub.example.com",
 *       "example.com", "com"; otherwise "sub.example.com", ".example.com",
 *       ".com". Like Postfix, a name with a trailing dot ends with "." in
 *       dot mode; the empty key is never produced (so "" gives no keys).
 *   access_keys_host(name, parent_mode)
 *       a client or HELO host name: as access_keys_domain(), except that a
 *       numeric name (an IPv4 or IPv6 address without brackets) is looked
 *       up alone. "[1.2.3.4]" is not numeric and gets the parent search,
 *       as in Postfix.
 *   access_keys_addr(addr)
 *       a client address: IPv4 "1.2.3.4", "1.2.3", "1.2", "1"; IPv6 (first
 *       normalised to the compressed lower-case form) the address, then
 *       cut at the last ':' again and again while something is left, as
 *       Postfix 3.7 does: "2001:db8:1:2::5", "2001:db8:1:2:",
 *       "2001:db8:1:2", "2001:db8:1", "2001:db8", "2001"; "::1", ":".
 *       The caller converts IPv4-mapped IPv6 addresses to IPv4 first.
 *   access_keys_mail(address, parent_mode, full_keys)
 *       an external-form e-mail address: user+ext@domain, user@domain,
 *       the domain keys as access_keys_domain(), then user+ext@, user@
 *       (the extension as in mail_addr_find.h). Each local-part key comes
 *       in external form and then, when different, internal (unquoted)
 *       form. An address without '@' gives user+ext, user. The null
 *       address "" gives the single key $smtpd_null_access_lookup_key
 *       ("<>"). When full_keys is not NULL it receives the number of
 *       leading full keys (1 or 2; 0 for no keys).
 *
 * Errors: none; any string gives some (possibly empty) key list.
 */
#ifndef ACCESS_KEYS_H
#define ACCESS_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include "argv.h"

extern bool access_keys_parent_mode(const char *param_name);
extern ARGV *access_keys_domain(const char *domain, bool parent_mode);
extern ARGV *access_keys_host(const char *name, bool parent_mode);
extern ARGV *access_keys_addr(const char *addr);
extern ARGV *access_keys_mail(const char *address, bool parent_mode, size_t *full_keys);

#endif
