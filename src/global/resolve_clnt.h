/*
 * resolve_clnt - where a recipient goes: the answer of trivial-rewrite's
 * "resolve" service (queue.md section 6), and the client that asks it.
 *
 * RESOLVE_REPLY: the delivery transport (a master.cf service name:
 * "local", "smtp", "error", ...), the next hop (for smtp/lmtp a host,
 * [host], [host]:port, host:port or a comma list; for local/virtual the
 * domain or $myhostname; for error/retry the reason text, optionally
 * starting with an RFC 3463 status), the recipient in its final form
 * (routing removed, standard form), and flags:
 *
 *   RESOLVE_FLAG_FINAL   the destination is this mail system (local,
 *                        virtual alias, virtual mailbox domains)
 *   RESOLVE_FLAG_ROUTED  the address had sender routing (%, !, a second @)
 *                        that was not stripped off by a local domain
 *   RESOLVE_FLAG_ERROR   bad address syntax (transport is "error")
 *   RESOLVE_FLAG_FAIL    a table lookup failed: try again later (the
 *                        caller defers with "4.3.0 address resolver
 *                        failure"; never bounce)
 *   RESOLVE_CLASS_*      the address class (exactly one is set)
 *
 * resolve_clnt_init(reply) / resolve_clnt_free(reply) manage the buffers.
 * resolve_clnt_query(sender, address, reply) asks private/rewrite (the
 * sender matters for sender_dependent_relayhost_maps and
 * sender_dependent_default_transport_maps). Answers are cached in the
 * client process: a cache entry lives resolve_clnt_cache_ttl seconds (10)
 * and the cache is dropped whenever the connection to the service had to
 * be re-established (the service restarts when a table changes). When the
 * service cannot be reached for $ipc_timeout the reply has
 * RESOLVE_FLAG_FAIL.
 *
 * Protocol: request "request"="resolve", "sender", "address"; answer
 * "flags", "transport", "nexthop", "recipient". Request
 * "request"="rewrite", "rule" (local or remote), "address"; answer
 * "flags", "address" (rewrite_addr.h's standard form).
 *
 * rewrite_clnt_query(context, address, result) asks for the standard
 * form over the same connection, cached the same way; returns result's
 * string.
 */
#ifndef RESOLVE_CLNT_H
#define RESOLVE_CLNT_H

#include "vstring.h"

typedef struct RESOLVE_REPLY {
    VSTRING *transport;
    VSTRING *nexthop;
    VSTRING *recipient;
    int flags;
} RESOLVE_REPLY;

#define RESOLVE_FLAG_FINAL  (1 << 0)
#define RESOLVE_FLAG_ROUTED (1 << 1)
#define RESOLVE_FLAG_ERROR  (1 << 2)
#define RESOLVE_FLAG_FAIL   (1 << 3)

#define RESOLVE_CLASS_LOCAL   (1 << 8)
#define RESOLVE_CLASS_ALIAS   (1 << 9)
#define RESOLVE_CLASS_VIRTUAL (1 << 10)
#define RESOLVE_CLASS_RELAY   (1 << 11)
#define RESOLVE_CLASS_DEFAULT (1 << 12)
#define RESOLVE_CLASS_MASK    (0x1f << 8)

#define RESOLVE_REQ_RESOLVE    "resolve"
#define RESOLVE_REQ_REWRITE    "rewrite"
#define RESOLVE_ATTR_REQ       "request"
#define RESOLVE_ATTR_SENDER    "sender"
#define RESOLVE_ATTR_ADDR      "address"
#define RESOLVE_ATTR_RULE      "rule"
#define RESOLVE_ATTR_FLAGS     "flags"
#define RESOLVE_ATTR_TRANSPORT "transport"
#define RESOLVE_ATTR_NEXTHOP   "nexthop"
#define RESOLVE_ATTR_RECIP     "recipient"

extern int resolve_clnt_cache_ttl;

extern void resolve_clnt_init(RESOLVE_REPLY *reply);
extern void resolve_clnt_free(RESOLVE_REPLY *reply);
extern void resolve_clnt_query(const char *sender, const char *address, RESOLVE_REPLY *reply);
extern const char *rewrite_clnt_query(const char *context, const char *address, VSTRING *result);

#endif
