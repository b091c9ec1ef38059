/*
 * rewrite_addr - the standard form of an address (what trivial-rewrite's
 * "rewrite" request does), for cleanup, trivial-rewrite and smtpd.
 *
 * rewrite_addr(out, context, address) puts into out the standard form of
 * an external-form address (RFC 5322 quoting, "\"a b\"@c"), applying in
 * order (queue.md 4.2):
 *   1. "@hosta,@hostb:user@site" -> "user@site" (source route removed);
 *   2. "site!user" -> "user@site" with swap_bangpath (only without '@');
 *   3. "user%domain" -> "user@domain" with allow_percent_hack (the last
 *      '%', only without '@');
 *   4. "user" -> "user@$myorigin" with append_at_myorigin;
 *   5. "user@host" -> "user@host.$mydomain" with append_dot_mydomain,
 *      for a domain without '.' that is not an address literal;
 *   6. one trailing dot removed ("user@host." -> "user@host"), not after
 *      '.' or '@'.
 * Characters inside quoted strings and domain literals never count.
 * context is REWRITE_ADDR_LOCAL or REWRITE_ADDR_REMOTE: in the remote
 * context steps 4 and 5 append $remote_header_rewrite_domain instead of
 * $myorigin and $mydomain, and are skipped while it is empty. An empty
 * address stays empty. Returns vstring_str(out).
 *
 * rewrite_addr_internal(out, context, address) does the same for an
 * internal-form address (unquoted local part, as in queue files): it
 * quotes, rewrites and unquotes.
 *
 * Errors: none; input that is not an address comes back with at most
 * the changes above.
 */
#ifndef REWRITE_ADDR_H
#define REWRITE_ADDR_H

#include "vstring.h"

#define REWRITE_ADDR_LOCAL  "local"
#define REWRITE_ADDR_REMOTE "remote"

extern const char *rewrite_addr(VSTRING *out, const char *context, const char *address);
extern const char *rewrite_addr_internal(VSTRING *out, const char *context, const char *address);

#endif
