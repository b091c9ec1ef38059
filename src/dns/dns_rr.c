/*
 * dns_rr - DNS resource record lists: create, free, append, sort,
 * shuffle, and the printable forms derived from records and addresses.
 *
 *   dns_rr_create()      (dns_int.h) one record with its own data copy
 *   dns_rr_free(list)    frees a whole list (NULL is fine)
 *   dns_rr_append(l, r)  appends list r to list l, returns the head
 *   dns_rr_sort(l, cmp)  stable sort, returns the new head
 *   dns_rr_shuffle(l)    random order, returns the new head
 *   dns_rr_compare_pref  MX preference (SRV priority) order
 *   dns_rr_to_pa(rr, b)  printable address of an A/AAAA record, else NULL
 *   dns_reverse_name(a, b) the reversed address form for PTR and DNS lists
 *
 * Errors: malformed input gives NULL; nothing exits.
 */
#include "sys_defs.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "dns_int.h"
#include "mymalloc.h"

/* dns_rr_create - a record holding a copy of data plus a terminating NUL */
DNS_RR *dns_rr_create(const char *qname, const char *rname, unsigned type, unsigned class, unsigned ttl,
                      const void *data, size_t len)
{
    DNS_RR *rr = mymalloc(sizeof(*rr) + len + 1);

    rr->qname = mystrdup(qname);
    rr->rname = mystrdup(rname);
    rr->type = (unsigned short)type;
    rr->class = (unsigned short)class;
    rr->ttl = ttl;
    rr->dnssec_valid = false;
    rr->pref = rr->weight = rr->port = 0;
    rr->next = NULL;
    rr->data_len = len;
    if (len > 0)
        memcpy(rr->data, data, len);
    rr->data[len] = 0;
    return rr;
}

/* dns_rr_free - free a list of records */
void dns_rr_free(DNS_RR *list)
{
    while (list != NULL) {
        DNS_RR *next = list->next;

        myfree(list->qname);
        myfree(list->rname);
        myfree(list);
        list = next;
    }
}

/* dns_rr_append - append rr (a list) at the end of list */
DNS_RR *dns_rr_append(DNS_RR *list, DNS_RR *rr)
{
    DNS_RR *tail;

    if (list == NULL)
        return rr;
    for (tail = list; tail->next != NULL; tail = tail->next)
        /* void */;
    tail->next = rr;
    return list;
}

/* dns_rr_sort - stable merge sort of a list */
DNS_RR *dns_rr_sort(DNS_RR *list, int (*cmp)(const DNS_RR *, const DNS_RR *))
{
    DNS_RR *left, *right, *slow, *fast, head, *tail;

    if (list == NULL || list->next == NULL)
        return list;
    for (slow = list, fast = list->next; fast != NULL && fast->next != NULL; fast = fast->next->next)
        slow = slow->next;
    right = slow->next;
    slow->next = NULL;
    left = dns_rr_sort(list, cmp);
    right = dns_rr_sort(right, cmp);
    for (tail = &head; left != NULL && right != NULL; tail = tail->next) {
        if (cmp(right, left) < 0) {
            tail->next = right;
            right = right->next;
        } else {
            tail->next = left;
            left = left->next;
        }
    }
    tail->next = left != NULL ? left : right;
    return head.next;
}

/* dns_rr_shuffle - random permutation of a list (Fisher-Yates) */
DNS_RR *dns_rr_shuffle(DNS_RR *list)
{
    DNS_RR **vec, *rr;
    size_t n = 0, i;

    for (rr = list; rr != NULL; rr = rr->next)
        n++;
    if (n < 2)
        return list;
    vec = mymalloc(n * sizeof(*vec));
    for (i = 0, rr = list; rr != NULL; rr = rr->next)
        vec[i++] = rr;
    for (i = n - 1; i > 0; i--) {
        size_t j = arc4random_uniform((uint32_t)i + 1);
        DNS_RR *tmp = vec[i];

        vec[i] = vec[j];
        vec[j] = tmp;
    }
    for (i = 0; i + 1 < n; i++)
        vec[i]->next = vec[i + 1];
    vec[n - 1]->next = NULL;
    list = vec[0];
    myfree(vec);
    return list;
}

/* dns_rr_compare_pref - order by MX preference (SRV priority) */
int dns_rr_compare_pref(const DNS_RR *a, const DNS_RR *b)
{
    return (int)a->pref - (int)b->pref;
}

/* dns_rr_to_pa - the printable address of an A or AAAA record */
const char *dns_rr_to_pa(const DNS_RR *rr, DNS_ADDR_STR *buf)
{
    if (rr->type == T_A && rr->data_len == 4)
        return inet_ntop(AF_INET, rr->data, buf->buf, sizeof(buf->buf));
    if (rr->type == T_AAAA && rr->data_len == 16)
        return inet_ntop(AF_INET6, rr->data, buf->buf, sizeof(buf->buf));
    return NULL;
}

/* dns_reverse_name - reversed octets (IPv4) or nibbles (IPv6), no suffix */
const char *dns_reverse_name(const char *addr, VSTRING *buf)
{
    unsigned char bytes[16];
    static const char hex[] = "0123456789abcdef";

    vstring_truncate(buf, 0);
    if (strchr(addr, ':') == NULL) {
        if (inet_pton(AF_INET, addr, bytes) != 1)
            return NULL;
        vstring_sprintf(buf, "%u.%u.%u.%u", bytes[3], bytes[2], bytes[1], bytes[0]);
        return vstring_str(buf);
    }
    if (inet_pton(AF_INET6, addr, bytes) != 1)
        return NULL;
    for (int i = 15; i >= 0; i--) {
        char nib[4] = {hex[bytes[i] & 0xf], '.', hex[bytes[i] >> 4], 0};

        if (i < 15)
            vstring_strcat(buf, ".");
        vstring_strcat(buf, nib);
    }
    return vstring_str(buf);
}
