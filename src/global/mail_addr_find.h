/*
 * mail_addr_find - look up an address in an address-style table list.
 *
 * canonical_maps, virtual_alias_maps, relocated_maps, *_bcc_maps,
 * virtual_mailbox_maps, local_recipient_maps and the like search an address
 * user+ext@domain in this order (tables.md 7.2); every key is sent to all
 * tables of the list before the next key is tried:
 *   1. user+ext@domain                (full key: pattern tables see it too)
 *   2. user@domain                    (only with an extension)
 *   3. user+ext, then user            (only when domain is $myorigin or
 *                                      resolve_local(domain) says local)
 *   4. @domain                        (exact domain, no parents)
 * An address without a domain tries user+ext then user. Steps 2-4 are
 * partial keys (maps_find() with DICT_FLAG_FIXED): regexp, pcre and cidr
 * tables never see them. Fixed-key tables fold keys to lower case.
 *
 * Extensions: with recipient_delimiter set (it may list several
 * characters), the local part is cut at the first delimiter character it
 * contains; the extension keeps that character ("+x"). Like Postfix, these
 * are never split: an empty user part (local part starting with a
 * delimiter), "postmaster", "MAILER-DAEMON" and $double_bounce_sender
 * (whole local part, any case), and, when '-' is a delimiter, "owner-..."
 * and "...-request" names.
 *
 * Address forms: callers pass the address in external form (RFC 5322
 * quoting: "joe smith"@example.com). Like Postfix 3.7, each local-part key
 * is tried in external form first and then, when it differs, in internal
 * (unquoted) form: "joe smith+x"@d, joe smith+x@d, "joe smith"@d, ...
 * The extension is split in internal form.
 *
 * Public functions:
 *   mail_addr_find(maps, address, extension)
 *       the first result, or NULL with maps->error DICT_ERR_NONE (not
 *       found) or DICT_ERR_RETRY / DICT_ERR_CONFIG (lookup failure,
 *       including a failed $mydestination lookup in step 3: defer, never
 *       treat as not found). When extension is not NULL it receives a
 *       mymalloc()ed copy of the extension that was stripped to find the
 *       result (steps 2 and 3b, e.g. "+x"), else NULL; the caller frees it
 *       and applies propagate_unmatched_extensions.
 *   mail_addr_find_result(buf, result, address, extension, propagate)
 *       turn one result address into the rewritten address (into buf,
 *       which is returned as a string): a result "@otherdomain" means the
 *       same user in otherdomain (the address's local part, minus the
 *       stripped extension); then, when propagate is set and extension is
 *       not NULL, the extension is inserted into the local part:
 *       "joe2@example.net" -> "joe2+x@example.net", "joe2" -> "joe2+x",
 *       "@example.net" -> "joe+x@example.net". The "@otherdomain" rule is
 *       the caller's (canonical, virtual) to apply through this helper;
 *       mail_addr_find() returns results as the table has them. Results
 *       listing several addresses ("a, b") are split by the caller, which
 *       applies this to each.
 *   mail_addr_find_add_ext(buf, address, extension)
 *       address with extension appended to its local part, quoting kept
 *       correct ("\"a b\"@d" + "+x" -> "\"a b+x\"@d").
 *   mail_addr_find_propagate(class)
 *       whether $propagate_unmatched_extensions lists class ("canonical",
 *       "virtual", "alias", "forward", "include", "generic").
 *
 * Helpers shared with access_keys:
 *   mail_addr_find_split(address, local, user, extension, domain)
 *       parse an external-form address: local part in internal form, user
 *       part and extension (empty when not split, user then equals local)
 *       and the domain after the last '@' outside quotes. Returns true when
 *       the address has an '@'.
 *   mail_addr_find_forms(keys, local, suffix)
 *       append to keys the external form of internal local part local
 *       followed by suffix and, when different, the internal form.
 *
 * Errors: see maps.h for the warnings a failed lookup logs. With
 * msg_verbose each search logs "mail_addr_find: ADDRESS -> RESULT".
 */
#ifndef MAIL_ADDR_FIND_H
#define MAIL_ADDR_FIND_H

#include <stdbool.h>

#include "argv.h"
#include "maps.h"
#include "vstring.h"

extern const char *mail_addr_find(MAPS *maps, const char *address, char **extension);
extern const char *mail_addr_find_result(VSTRING *buf, const char *result, const char *address,
                                         const char *extension, bool propagate);
extern const char *mail_addr_find_add_ext(VSTRING *buf, const char *address, const char *extension);
extern bool mail_addr_find_propagate(const char *class_name);
extern bool mail_addr_find_split(const char *address, VSTRING *local, VSTRING *user, VSTRING *extension,
                                 VSTRING *domain);
extern void mail_addr_find_forms(ARGV *keys, const char *local, const char *suffix);

#endif
