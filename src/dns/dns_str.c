/*
 * dns_str - names of DNS record types and of dns_lookup() status codes.
 *
 *   dns_strtype(type)     "A", "MX", ...; "unknown" style text "TYPE99"
 *                         for a type without a name (a static buffer)
 *   dns_type(name)        the reverse, case-insensitive; 0 when unknown
 *   dns_strstatus(status) "DNS_OK", "DNS_RETRY", ...; "DNS_UNKNOWN" else
 *
 * Errors: none; unknown input gives the fallbacks above.
 */
#include "sys_defs.h"

#include <stdio.h>
#include <strings.h>

#include "dns.h"

static const struct {
    unsigned type;
    const char *name;
} dns_type_table[] = {
    {T_A, "A"},     {T_NS, "NS"},       {T_CNAME, "CNAME"}, {T_SOA, "SOA"}, {T_PTR, "PTR"},
    {T_MX, "MX"},   {T_TXT, "TXT"},     {T_AAAA, "AAAA"},   {T_SRV, "SRV"}, {T_TLSA, "TLSA"},
    {T_ANY, "ANY"}, {T_HINFO, "HINFO"}, {T_NAPTR, "NAPTR"}, {41, "OPT"},    {43, "DS"},
    {46, "RRSIG"},  {47, "NSEC"},       {48, "DNSKEY"},     {50, "NSEC3"},  {99, "SPF"},
};

/* dns_strtype - the mnemonic of a record type */
const char *dns_strtype(unsigned type)
{
    static char unknown[sizeof("TYPE65535") + 8];

    for (size_t i = 0; i < sizeof(dns_type_table) / sizeof(dns_type_table[0]); i++)
        if (dns_type_table[i].type == type)
            return dns_type_table[i].name;
    snprintf(unknown, sizeof(unknown), "TYPE%u", type);
    return unknown;
}

/* dns_type - the record type of a mnemonic, 0 when unknown */
unsigned dns_type(const char *name)
{
    for (size_t i = 0; i < sizeof(dns_type_table) / sizeof(dns_type_table[0]); i++)
        if (strcasecmp(dns_type_table[i].name, name) == 0)
            return dns_type_table[i].type;
    return 0;
}

/* dns_strstatus - the symbolic name of a dns_lookup() status */
const char *dns_strstatus(int status)
{
    switch (status) {
    case DNS_OK:
        return "DNS_OK";
    case DNS_NOTFOUND:
        return "DNS_NOTFOUND";
    case DNS_FAIL:
        return "DNS_FAIL";
    case DNS_RETRY:
        return "DNS_RETRY";
    case DNS_INVAL:
        return "DNS_INVAL";
    case DNS_NULLMX:
        return "DNS_NULLMX";
    default:
        return "DNS_UNKNOWN";
    }
}
