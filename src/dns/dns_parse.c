/*
 * dns_parse - decoding of DNS reply packets for dns_lookup(): the header
 * (rcode, AD bit), compressed names, CNAME chains, and the records of
 * the wanted type with their TTLs.
 *
 *   status = dns_parse_answer(buf, len, qname, type, flags, &list, fqdn)
 *   dns_valid_qname(name)
 *
 * The packet is untrusted: every read is bounds-checked, compression
 * pointers must point backwards (so they cannot loop), and a CNAME chain
 * longer than DNS_MAX_CNAME_HOPS or that loops is malformed. Any problem
 * gives DNS_INVAL with no records. A record whose host name holds
 * characters that cannot appear in a host name (dot inside a label,
 * space, control characters) is skipped; when all are skipped, the
 * answer is DNS_INVAL.
 */
#include "sys_defs.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dns.h"
#include "dns_int.h"
#include "mymalloc.h"

#define DNS_HDR_LEN  12
#define DNS_NAME_MAX 255 /* wire bytes */

/* Header bits (byte 2 and 3 of the packet) and rcodes. */
#define DNS_HDR_QR     0x80
#define DNS_HDR_TC     0x02
#define DNS_HDR_AD     0x20
#define DNS_RCODE_MASK 0x0f

typedef struct DNS_PKT {
    const unsigned char *buf;
    size_t len;
} DNS_PKT;

typedef struct DNS_PARSED_RR {
    char owner[DNS_NAME_MAX + 1];
    unsigned type;
    unsigned class;
    unsigned ttl;
    size_t rdata; /* offset of the rdata */
    size_t rdlen;
} DNS_PARSED_RR;

/* dns_get16 - a big-endian 16-bit value at off */
static unsigned dns_get16(const unsigned char *p)
{
    return ((unsigned)p[0] << 8) | p[1];
}

/* dns_get32 - a big-endian 32-bit value at off */
static unsigned dns_get32(const unsigned char *p)
{
    return ((unsigned)p[0] << 24) | ((unsigned)p[1] << 16) | ((unsigned)p[2] << 8) | p[3];
}

/*
 * dns_expand_name - expand the (possibly compressed) name at *off into
 * out (text form, no trailing dot, "" for the root), advancing *off past
 * the name's bytes in place. *bad_char is set when a label holds bytes
 * that cannot be written as a host name. Returns false on malformation.
 */
static bool dns_expand_name(const DNS_PKT *pkt, size_t *off, size_t limit, char *out, bool *bad_char)
{
    size_t pos = *off, out_len = 0, wire_len = 0;
    size_t end = 0; /* where the caller continues, once known */
    bool jumped = false;
    size_t floor = pos; /* a pointer must point strictly before this */

    *out = 0;
    for (;;) {
        unsigned len;

        if (pos >= limit)
            return false;
        len = pkt->buf[pos];
        if ((len & 0xc0) == 0xc0) {
            size_t target;

            if (pos + 1 >= limit)
                return false;
            target = ((len & 0x3f) << 8) | pkt->buf[pos + 1];
            if (!jumped) {
                end = pos + 2;
                jumped = true;
            }
            /* Backwards only: every jump goes strictly lower, so no loop. */
            if (target >= floor || target < DNS_HDR_LEN)
                return false;
            floor = target;
            pos = target;
            limit = pkt->len;
            continue;
        }
        if ((len & 0xc0) != 0)
            return false; /* extended label types */
        if (len == 0) {
            if (!jumped)
                end = pos + 1;
            break;
        }
        if (pos + 1 + len > limit)
            return false;
        wire_len += len + 1;
        if (wire_len + 1 > DNS_NAME_MAX)
            return false;
        if (out_len > 0)
            out[out_len++] = '.';
        for (unsigned i = 0; i < len; i++) {
            int ch = pkt->buf[pos + 1 + i];

            if (ch == '.' || ch == '\\' || !isgraph(ch))
                *bad_char = true;
            out[out_len++] = (char)ch;
        }
        out[out_len] = 0;
        pos += 1 + len;
    }
    *off = end;
    return true;
}

/* dns_read_rr - read one resource record header at *off */
static bool dns_read_rr(const DNS_PKT *pkt, size_t *off, DNS_PARSED_RR *rr)
{
    bool bad = false;

    if (!dns_expand_name(pkt, off, pkt->len, rr->owner, &bad))
        return false;
    if (*off + 10 > pkt->len)
        return false;
    rr->type = dns_get16(pkt->buf + *off);
    rr->class = dns_get16(pkt->buf + *off + 2);
    rr->ttl = dns_get32(pkt->buf + *off + 4);
    if (rr->ttl > 0x7fffffffU) /* RFC 2181 8: treat as zero */
        rr->ttl = 0;
    rr->rdlen = dns_get16(pkt->buf + *off + 8);
    rr->rdata = *off + 10;
    if (rr->rdata + rr->rdlen > pkt->len)
        return false;
    *off = rr->rdata + rr->rdlen;
    return true;
}

/* dns_rdata_name - a name that must fill the rdata exactly from off */
static bool dns_rdata_name(const DNS_PKT *pkt, const DNS_PARSED_RR *rr, size_t off, char *out, bool *bad)
{
    size_t end = rr->rdata + rr->rdlen;

    if (!dns_expand_name(pkt, &off, end, out, bad))
        return false;
    return off == end;
}

/*
 * dns_make_rr - the DNS_RR for one parsed record of the wanted type.
 * Returns false on malformed rdata; *rrp stays NULL when the record is
 * skipped (a host name with impossible characters).
 */
static bool dns_make_rr(const DNS_PKT *pkt, const DNS_PARSED_RR *prr, const char *qname, DNS_RR **rrp)
{
    const unsigned char *rd = pkt->buf + prr->rdata;
    char host[DNS_NAME_MAX + 1];
    bool bad = false;
    unsigned pref = 0, weight = 0, port = 0;
    DNS_RR *rr;

    *rrp = NULL;
    switch (prr->type) {
    case T_A:
        if (prr->rdlen != 4)
            return false;
        rr = dns_rr_create(qname, prr->owner, prr->type, prr->class, prr->ttl, rd, 4);
        break;
    case T_AAAA:
        if (prr->rdlen != 16)
            return false;
        rr = dns_rr_create(qname, prr->owner, prr->type, prr->class, prr->ttl, rd, 16);
        break;
    case T_MX:
        if (prr->rdlen < 3)
            return false;
        pref = dns_get16(rd);
        if (!dns_rdata_name(pkt, prr, prr->rdata + 2, host, &bad))
            return false;
        if (bad)
            return true;
        rr = dns_rr_create(qname, prr->owner, prr->type, prr->class, prr->ttl, host, strlen(host));
        break;
    case T_SRV:
        if (prr->rdlen < 7)
            return false;
        pref = dns_get16(rd);
        weight = dns_get16(rd + 2);
        port = dns_get16(rd + 4);
        if (!dns_rdata_name(pkt, prr, prr->rdata + 6, host, &bad))
            return false;
        if (bad)
            return true;
        rr = dns_rr_create(qname, prr->owner, prr->type, prr->class, prr->ttl, host, strlen(host));
        break;
    case T_NS:
    case T_PTR:
    case T_CNAME:
        if (!dns_rdata_name(pkt, prr, prr->rdata, host, &bad))
            return false;
        if (bad)
            return true;
        rr = dns_rr_create(qname, prr->owner, prr->type, prr->class, prr->ttl, host, strlen(host));
        break;
    case T_TXT: {
        char *text = mymalloc(prr->rdlen + 1);
        size_t text_len = 0;

        for (size_t pos = 0; pos < prr->rdlen;) {
            size_t slen = rd[pos];

            if (pos + 1 + slen > prr->rdlen) {
                myfree(text);
                return false;
            }
            memcpy(text + text_len, rd + pos + 1, slen);
            text_len += slen;
            pos += 1 + slen;
        }
        if (prr->rdlen == 0) {
            myfree(text);
            return false;
        }
        rr = dns_rr_create(qname, prr->owner, prr->type, prr->class, prr->ttl, text, text_len);
        myfree(text);
        break;
    }
    case T_TLSA:
        if (prr->rdlen < 3)
            return false;
        rr = dns_rr_create(qname, prr->owner, prr->type, prr->class, prr->ttl, rd, prr->rdlen);
        break;
    default:
        rr = dns_rr_create(qname, prr->owner, prr->type, prr->class, prr->ttl, rd, prr->rdlen);
        break;
    }
    rr->pref = (unsigned short)pref;
    rr->weight = (unsigned short)weight;
    rr->port = (unsigned short)port;
    *rrp = rr;
    return true;
}

/* dns_parse_answer - decode a reply; see dns_int.h */
int dns_parse_answer(const unsigned char *buf, size_t len, const char *qname, unsigned type, unsigned flags,
                     DNS_RR **list, VSTRING *fqdn)
{
    DNS_PKT pkt = {buf, len};
    DNS_PARSED_RR *rrs = NULL;
    unsigned qdcount, ancount, rcode;
    size_t off = DNS_HDR_LEN;
    char current[DNS_NAME_MAX + 1], qbuf[DNS_NAME_MAX + 1];
    bool ad, bad = false, skipped = false, null_mx = false;
    DNS_RR *result = NULL;
    int status;
    size_t n;

    if (list != NULL)
        *list = NULL;
    if (len < DNS_HDR_LEN || (buf[2] & DNS_HDR_QR) == 0)
        return DNS_INVAL;
    rcode = buf[3] & DNS_RCODE_MASK;
    ad = (buf[3] & DNS_HDR_AD) != 0;
    switch (rcode) {
    case 0: /* NOERROR */
        break;
    case 3: /* NXDOMAIN */
        return DNS_FAIL;
    default: /* SERVFAIL, FORMERR, NOTIMP, REFUSED, ... */
        return DNS_RETRY;
    }
    qdcount = dns_get16(buf + 4);
    ancount = dns_get16(buf + 6);
    for (unsigned i = 0; i < qdcount; i++) {
        if (!dns_expand_name(&pkt, &off, len, qbuf, &bad) || off + 4 > len)
            return DNS_INVAL;
        off += 4;
    }
    /* Each record needs at least 11 bytes: do not trust ancount blindly. */
    if (ancount > (len - off) / 11)
        return DNS_INVAL;
    rrs = mymalloc((ancount ? ancount : 1) * sizeof(*rrs));
    for (n = 0; n < ancount; n++) {
        if (!dns_read_rr(&pkt, &off, rrs + n)) {
            myfree(rrs);
            return DNS_INVAL;
        }
    }

    /* Follow the CNAME chain from qname (unless CNAMEs are the question). */
    snprintf(current, sizeof(current), "%s", qname);
    n = strlen(current);
    if (n > 0 && current[n - 1] == '.')
        current[n - 1] = 0;
    if (type != T_CNAME) {
        int hops = 0;

        for (bool moved = true; moved;) {
            moved = false;
            for (size_t i = 0; i < ancount; i++) {
                if (rrs[i].type != T_CNAME || strcasecmp(rrs[i].owner, current) != 0)
                    continue;
                if (++hops > DNS_MAX_CNAME_HOPS ||
                    !dns_rdata_name(&pkt, rrs + i, rrs[i].rdata, current, &bad) || bad) {
                    myfree(rrs);
                    return DNS_INVAL;
                }
                moved = true;
                break;
            }
        }
    }

    for (size_t i = 0; i < ancount; i++) {
        DNS_RR *rr;

        if (rrs[i].type != type || strcasecmp(rrs[i].owner, current) != 0)
            continue;
        if (!dns_make_rr(&pkt, rrs + i, qname, &rr)) {
            dns_rr_free(result);
            myfree(rrs);
            return DNS_INVAL;
        }
        if (rr == NULL) {
            skipped = true;
            continue;
        }
        if (type == T_MX && rr->data[0] == 0) {
            null_mx = true;
            dns_rr_free(rr);
            continue;
        }
        rr->dnssec_valid = (flags & DNS_REQ_FLAG_DNSSEC) && ad;
        result = dns_rr_append(result, rr);
    }
    myfree(rrs);
    if (null_mx) {
        dns_rr_free(result);
        result = NULL;
        status = DNS_NULLMX;
    } else if (result != NULL) {
        status = DNS_OK;
    } else {
        status = skipped ? DNS_INVAL : DNS_NOTFOUND;
    }
    if (fqdn != NULL && status != DNS_INVAL)
        vstring_strcpy(fqdn, current);
    if (list != NULL)
        *list = result;
    else
        dns_rr_free(result);
    return status;
}

/* dns_valid_qname - a name that can be sent as a query */
bool dns_valid_qname(const char *name)
{
    size_t len = strlen(name), label = 0;

    if (len > 0 && name[len - 1] == '.')
        len--;
    if (len == 0 || len > 253)
        return false;
    for (size_t i = 0; i < len; i++) {
        int ch = (unsigned char)name[i];

        if (ch == '.') {
            if (label == 0)
                return false;
            label = 0;
        } else if (ch == '\\' || !isgraph(ch) || ++label > 63) {
            return false;
        }
    }
    return label > 0;
}
