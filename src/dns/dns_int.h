/*
 * dns_int - internals of the dns module shared by its files and unit
 * tests (not for other modules; they use dns.h).
 *
 *   rr = dns_rr_create(qname, rname, type, class, ttl, data, len)
 *       a record with a copy of data (data_len = len, plus a NUL byte)
 *   status = dns_parse_answer(buf, len, qname, type, flags, &list, fqdn)
 *       decodes a reply packet: rcode, CNAME chains from qname, records
 *       of type owned by the final name (fqdn gets that name for DNS_OK,
 *       DNS_NOTFOUND and DNS_NULLMX). DNS_OK (list set), DNS_NOTFOUND,
 *       DNS_FAIL (NXDOMAIN), DNS_RETRY (SERVFAIL, REFUSED, ...),
 *       DNS_NULLMX, DNS_INVAL (any malformation; list stays NULL).
 *   dns_valid_qname(name) true when name can be sent as a query name
 */
#ifndef DNS_INT_H
#define DNS_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "dns.h"
#include "vstring.h"

#define DNS_MAX_CNAME_HOPS 16

extern DNS_RR *dns_rr_create(const char *qname, const char *rname, unsigned type, unsigned class,
                             unsigned ttl, const void *data, size_t len);
extern int dns_parse_answer(const unsigned char *buf, size_t len, const char *qname, unsigned type,
                            unsigned flags, DNS_RR **list, VSTRING *fqdn);
extern bool dns_valid_qname(const char *name);

#endif
