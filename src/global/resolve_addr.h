/*
 * resolve_addr - address resolution done in process: the logic behind
 * trivial-rewrite's resolve service (queue.md section 6), also usable by
 * programs that want no round trip.
 *
 * resolve_addr_init() opens the tables and lists it needs
 * (transport_maps, relocated_maps, sender_dependent_relayhost_maps,
 * sender_dependent_default_transport_maps, the *_domains lists) after
 * mail_params_init(), and logs "warning: do not list domain D in BOTH X
 * and Y" for literal domains listed in two class lists. resolve_addr()
 * calls it on first use.
 *
 * resolve_addr(sender, address, reply) fills a RESOLVE_REPLY
 * (resolve_clnt.h) for an internal-form address: routed-address
 * handling (local domains stripped from user@a@b, user%a@b, a!user@b),
 * the class and its transport and next hop, transport_maps overrides,
 * relayhost / sender-dependent relay hosts, relocated_maps ("error",
 * "5.1.6 User has moved to NEW"), the virtual alias class error
 * ("error", "5.1.1 User unknown in virtual alias table").
 *
 * Errors: a failed table lookup sets RESOLVE_FLAG_FAIL (with a warning
 * from the table); syntax errors set RESOLVE_FLAG_ERROR.
 */
#ifndef RESOLVE_ADDR_H
#define RESOLVE_ADDR_H

#include "resolve_clnt.h"

extern void resolve_addr_init(void);
extern void resolve_addr(const char *sender, const char *address, RESOLVE_REPLY *reply);

#endif
