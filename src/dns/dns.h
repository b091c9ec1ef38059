/*
 * dns - the DNS resolver of Postern, shared by the SMTP server (client
 * names, DNS lists, unknown domains, MX/NS access checks) and the SMTP
 * client (MX and address lookups, DANE). Built on c-ares (design.md);
 * the calls block, with c-ares doing the transport (UDP, TCP fallback on
 * truncation, retries, several servers).
 *
 * Where queries go: the servers in /etc/resolv.conf, unless the Postern
 * parameter dns_resolver_servers is set ("127.0.0.1:5353, [::1]:53"),
 * which tests and site-local setups use. dns_init() is called lazily by
 * the first lookup.
 *
 *   status = dns_lookup(name, type, flags, &rrlist, fqdn, why)
 *       one query of type T_A, T_AAAA, T_MX, T_NS, T_TXT, T_PTR, T_CNAME,
 *       T_TLSA, T_SRV (arpa/nameser.h values). CNAME chains in the answer
 *       are followed (fqdn gets the final name when not NULL). rrlist gets
 *       the matching records in answer order (NULL when not wanted). why
 *       (when not NULL) gets a text for logs: "Host not found",
 *       "Host or domain name not found. Name service error for
 *       name=x.test type=A: Host not found, try again", ...
 *   status = dns_lookup_l(name, flags, &rrlist, fqdn, why, T1, T2, ..., 0)
 *   status = dns_lookup_v(name, flags, &rrlist, fqdn, why, types)
 *       several types (e.g. T_A, T_AAAA): the answers appended in type
 *       order; DNS_OK if any type had records, else the "best" failure
 *       (DNS_RETRY wins over DNS_NOTFOUND and DNS_FAIL).
 *   flags: DNS_REQ_FLAG_DNSSEC asks for DNSSEC (sets DO and AD; a record
 *       has dnssec_valid when the answer had the AD bit: the local
 *       resolver is trusted, as in Postfix); DNS_REQ_FLAG_NCACHE_TTL
 *       unused for now.
 *   Status codes:
 *       DNS_OK        records found
 *       DNS_NOTFOUND  name exists, no records of this type (NODATA)
 *       DNS_FAIL      NXDOMAIN (permanent)
 *       DNS_RETRY     SERVFAIL, timeout, no servers: try again later
 *       DNS_INVAL     malformed name or answer
 *       DNS_NULLMX    an MX lookup found the null MX ("." preference 0)
 *
 *   dns_rr_free(list); dns_rr_append(list, rr); dns_rr_sort(list, cmp);
 *   dns_rr_shuffle(list); dns_rr_compare_pref(a, b) (MX preference)
 *   dns_rr_to_pa(rr, buf)  printable address of an A/AAAA record
 *                          ("192.0.2.1", "2001:db8::1"); NULL otherwise
 *   dns_reverse_name(addr, buf)
 *       the reversed form used for PTR and DNS lists, without a suffix:
 *       "192.0.2.10" -> "10.2.0.192"; IPv6 -> 32 dot-separated nibbles;
 *       returns buf's string, or NULL for a malformed address.
 *   dns_strtype(type) "A", "MX", ...;  dns_type(name) the reverse (0 if
 *                     unknown)
 *   dns_strstatus(status) "DNS_RETRY" style text for debugging
 *
 *   Client names (the two functions below) come from the system resolver
 *   (getnameinfo/getaddrinfo: /etc/hosts and nsswitch.conf count, as in
 *   Postfix) unless dns_resolver_servers is set; then from those servers.
 *   status = dns_addr_to_name(addr, name)
 *       the PTR name of a printable address (the first PTR record);
 *       DNS_OK / DNS_FAIL / DNS_NOTFOUND / DNS_RETRY.
 *   status = dns_name_has_addr(name, addr)
 *       DNS_OK when an A/AAAA record of name equals addr (forward
 *       confirmation), DNS_FAIL when none does, DNS_RETRY on temporary
 *       failure.
 *
 * Errors: everything is reported in the status; nothing exits. A
 * malformed dns_resolver_servers value logs a warning and falls back to
 * /etc/resolv.conf.
 */
#ifndef DNS_H
#define DNS_H

#include <arpa/nameser.h>
#include <stdbool.h>
#include <stddef.h>

#include "vstring.h"

#ifndef T_TLSA
#define T_TLSA 52
#endif

#define DNS_OK       0
#define DNS_NOTFOUND 1
#define DNS_FAIL     2
#define DNS_RETRY    3
#define DNS_INVAL    4
#define DNS_NULLMX   5

#define DNS_REQ_FLAG_DNSSEC     (1 << 0)
#define DNS_REQ_FLAG_NCACHE_TTL (1 << 1)

typedef struct DNS_RR {
    char *qname;          /* the name asked for */
    char *rname;          /* the owner name of this record (after CNAMEs) */
    unsigned short type;  /* T_A, ... */
    unsigned short class; /* C_IN */
    unsigned ttl;
    bool dnssec_valid;    /* the answer had the AD bit (DNS_REQ_FLAG_DNSSEC) */
    unsigned short pref;  /* MX preference, SRV priority */
    unsigned short weight; /* SRV */
    unsigned short port;  /* SRV */
    struct DNS_RR *next;
    size_t data_len;      /* bytes in data */
    char data[];          /* A/AAAA: the address bytes; MX/NS/PTR/CNAME/SRV:
                             the host name (NUL-terminated, no trailing
                             dot); TXT: the strings joined, NUL-terminated;
                             TLSA: usage, selector, mtype, then the data */
} DNS_RR;

typedef struct DNS_ADDR_STR {
    char buf[64];
} DNS_ADDR_STR;

extern int dns_lookup(const char *name, unsigned type, unsigned flags, DNS_RR **rrlist, VSTRING *fqdn,
                      VSTRING *why);
extern int dns_lookup_l(const char *name, unsigned flags, DNS_RR **rrlist, VSTRING *fqdn, VSTRING *why, ...);
extern int dns_lookup_v(const char *name, unsigned flags, DNS_RR **rrlist, VSTRING *fqdn, VSTRING *why,
                        const unsigned *types);

extern void dns_rr_free(DNS_RR *list);
extern DNS_RR *dns_rr_append(DNS_RR *list, DNS_RR *rr);
extern DNS_RR *dns_rr_sort(DNS_RR *list, int (*cmp)(const DNS_RR *, const DNS_RR *));
extern DNS_RR *dns_rr_shuffle(DNS_RR *list);
extern int dns_rr_compare_pref(const DNS_RR *a, const DNS_RR *b);
extern const char *dns_rr_to_pa(const DNS_RR *rr, DNS_ADDR_STR *buf);
extern const char *dns_reverse_name(const char *addr, VSTRING *buf);
extern const char *dns_strtype(unsigned type);
extern unsigned dns_type(const char *name);
extern const char *dns_strstatus(int status);

extern int dns_addr_to_name(const char *addr, VSTRING *name);
extern int dns_name_has_addr(const char *name, const char *addr);

#endif
