/*
 * resolve_local - is a domain one of this mail system's own destinations?
 *
 * resolve_local_init() builds the lists it needs from $mydestination,
 * $inet_interfaces and $proxy_interfaces (call it after
 * mail_params_init(); resolve_local() calls it on first use).
 *
 * resolve_local(domain) returns 1 when the domain (a trailing dot is
 * ignored) matches $mydestination, or is an address literal [a.b.c.d] or
 * [ipv6:addr] naming one of the host's $inet_interfaces or
 * $proxy_interfaces addresses; 0 when it is not local.
 *
 * Errors: -1 when a $mydestination table lookup failed (the caller must
 * defer, not treat the domain as remote); the table logs the reason.
 */
#ifndef RESOLVE_LOCAL_H
#define RESOLVE_LOCAL_H

extern void resolve_local_init(void);
extern int resolve_local(const char *domain);

#endif
