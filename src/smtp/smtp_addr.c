/*
 * smtp_addr - where a delivery request goes: next-hop parsing, MX and
 * address lookup, MX ordering and "loops back to myself" pruning
 * (spec/delivery.md 6.1, 6.2, 6.5, 7).
 *
 *   smtp_dest_parse(dest, text, def_port, lmtp) parses one destination:
 *       "domain", "domain:port", "[host]", "[host]:port", "[addr]",
 *       "[ipv6:addr]"; LMTP also "unix:/path", "inet:host[:port]" (a bare
 *       host is looked up without MX in LMTP mode). Returns NULL or an
 *       error text.
 *   smtp_port_lookup(service, &port) a number, a known_tcp_ports name or
 *       a services(5) name; 0 or -1.
 *   smtp_addr_sort(list, randomize, rnd) orders by preference (stable),
 *       shuffling addresses of equal preference with rnd() (random() when
 *       NULL).
 *   smtp_addr_prune_self(list, is_own) drops the first own address and
 *       every address of equal or worse preference; returns the own
 *       address's preference (list->i_am_mx set), or -1 when none is own.
 *   smtp_addr_resolve(dest, list, why) fills the list (sorted, recently
 *       unreachable addresses last (smtp_dead.c), not pruned) or returns SMTP_RESOLVE_FAIL with why's status
 * and text (the section 6.5 table). smtp_addr_is_own(addr) the address belongs to inet_interfaces or
 *       proxy_interfaces.
 *
 * Errors: in the return values; nothing is fatal.
 */
#include "sys_defs.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dns.h"
#include "mail_conf.h"
#include "mail_params.h"
#include "msg.h"
#include "mymalloc.h"
#include "resolve_local.h"
#include "smtp.h"
#include "stringops.h"
#include "valid_hostname.h"

/* A port number or service name; 0 on success, -1 if unknown. */
int smtp_port_lookup(const char *service, unsigned *port)
{
    if (*service == 0)
        return -1;
    if (alldig(service)) {
        long n = strtol(service, NULL, 10);

        if (n <= 0 || n > 65535 || strlen(service) > 5)
            return -1;
        *port = (unsigned)n;
        return 0;
    }
    /* known_tcp_ports: "lmtp=24, smtp=25, smtps=submissions=465". */
    if (var_known_tcp_ports != NULL) {
        char *copy = mystrdup(var_known_tcp_ports);
        char *bp = copy;
        char *item;
        int found = -1;

        while (found < 0 && (item = mystrtok(&bp, ", \t\r\n")) != NULL) {
            char *eq = strrchr(item, '=');
            char *name;
            char *np;

            if (eq == NULL || !alldig(eq + 1))
                continue;
            *eq = 0;
            np = item;
            while ((name = mystrtok(&np, "=")) != NULL) {
                if (strcasecmp(name, service) == 0) {
                    *port = (unsigned)atoi(eq + 1);
                    found = 0;
                    break;
                }
            }
        }
        myfree(copy);
        if (found == 0)
            return 0;
    }
    struct servent *sp = getservbyname(service, "tcp");

    if (sp == NULL)
        return -1;
    *port = ntohs((unsigned short)sp->s_port);
    return 0;
}

/* True for a numeric IPv4 or IPv6 address. */
static bool smtp_is_addr(const char *text)
{
    unsigned char buf[sizeof(struct in6_addr)];

    return inet_pton(AF_INET, text, buf) == 1 || inet_pton(AF_INET6, text, buf) == 1;
}

/* Parse one destination; NULL or an error text (static). */
const char *smtp_dest_parse(SMTP_DEST *dest, const char *text, const char *def_port, bool lmtp)
{
    static char err[200];
    const char *port_text = NULL;
    char *host;
    char *copy;

    memset(dest, 0, sizeof(*dest));
    while (isspace((unsigned char)*text))
        text++;
    if (lmtp && strncasecmp(text, "unix:", 5) == 0) {
        if (text[5] == 0)
            return "empty UNIX-domain socket pathname";
        dest->kind = SMTP_DEST_UNIX;
        dest->name = mystrdup(text + 5);
        return NULL;
    }
    if (lmtp && strncasecmp(text, "inet:", 5) == 0)
        text += 5;
    copy = mystrdup(text);
    trimblanks(copy);
    if (*copy == '[') {
        char *end = strchr(copy, ']');

        if (end == NULL) {
            snprintf(err, sizeof(err), "malformed destination: %.100s", text);
            myfree(copy);
            return err;
        }
        *end = 0;
        host = copy + 1;
        if (end[1] == ':')
            port_text = end + 2;
        else if (end[1] != 0) {
            snprintf(err, sizeof(err), "malformed destination: %.100s", text);
            myfree(copy);
            return err;
        }
        if (strncasecmp(host, "ipv6:", 5) == 0) {
            host += 5;
            dest->kind = SMTP_DEST_ADDR;
        } else {
            dest->kind = smtp_is_addr(host) ? SMTP_DEST_ADDR : SMTP_DEST_HOST;
        }
    } else {
        char *colon = strchr(copy, ':');

        host = copy;
        if (colon != NULL) {
            *colon = 0;
            port_text = colon + 1;
        }
        dest->kind = smtp_is_addr(host) ? SMTP_DEST_ADDR : lmtp ? SMTP_DEST_HOST : SMTP_DEST_DOMAIN;
    }
    if (*host == 0) {
        snprintf(err, sizeof(err), "empty host name in destination: %.100s", text);
        myfree(copy);
        return err;
    }
    if (dest->kind == SMTP_DEST_ADDR && !smtp_is_addr(host)) {
        snprintf(err, sizeof(err), "malformed address in destination: %.100s", text);
        myfree(copy);
        return err;
    }
    dest->port_given = port_text != NULL;
    if (port_text == NULL)
        port_text = def_port;
    if (smtp_port_lookup(port_text, &dest->port) < 0) {
        snprintf(err, sizeof(err), "unknown service: %.50s/tcp", port_text);
        myfree(copy);
        return err;
    }
    dest->name = mystrdup(host);
    myfree(copy);
    return NULL;
}

/* Free a parsed destination's strings. */
void smtp_dest_free(SMTP_DEST *dest)
{
    if (dest->name)
        myfree(dest->name);
    dest->name = NULL;
}

/* An empty address list. */
void smtp_addr_list_init(SMTP_ADDR_LIST *list)
{
    memset(list, 0, sizeof(*list));
}

/* Append one address. */
void smtp_addr_list_add(SMTP_ADDR_LIST *list, const char *host, const char *addr, int pref)
{
    if (list->len >= list->avail) {
        list->avail = list->avail ? 2 * list->avail : 8;
        list->info = myrealloc(list->info, list->avail * sizeof(*list->info));
    }
    SMTP_ADDR *a = list->info + list->len++;

    a->host = mystrdup(host);
    snprintf(a->addr, sizeof(a->addr), "%s", addr);
    a->pref = pref;
    a->dnssec_valid = false;
}

/* Free the list's memory; the list may be reused after init. */
void smtp_addr_list_free(SMTP_ADDR_LIST *list)
{
    for (int i = 0; i < list->len; i++)
        myfree(list->info[i].host);
    if (list->info)
        myfree(list->info);
    smtp_addr_list_init(list);
}

/* The default random source for shuffling. */
static unsigned smtp_random(void)
{
    return (unsigned)random();
}

/* Stable sort by preference, then shuffle runs of equal preference. */
void smtp_addr_sort(SMTP_ADDR_LIST *list, bool randomize, unsigned (*rnd)(void))
{
    SMTP_ADDR tmp;

    /* Insertion sort: lists are short and the order must be stable. */
    for (int i = 1; i < list->len; i++) {
        tmp = list->info[i];
        int j = i - 1;

        while (j >= 0 && list->info[j].pref > tmp.pref) {
            list->info[j + 1] = list->info[j];
            j--;
        }
        list->info[j + 1] = tmp;
    }
    if (!randomize)
        return;
    if (rnd == NULL)
        rnd = smtp_random;
    for (int start = 0; start < list->len;) {
        int end = start;

        while (end < list->len && list->info[end].pref == list->info[start].pref)
            end++;
        for (int i = end - 1; i > start; i--) {
            int j = start + (int)(rnd() % (unsigned)(i - start + 1));

            tmp = list->info[i];
            list->info[i] = list->info[j];
            list->info[j] = tmp;
        }
        start = end;
    }
}

/* Drop own addresses and every address not better than them. */
int smtp_addr_prune_self(SMTP_ADDR_LIST *list, bool (*is_own)(const char *addr))
{
    int self_pref = -1;
    int keep = 0;

    for (int i = 0; i < list->len; i++) {
        if (is_own(list->info[i].addr)) {
            self_pref = list->info[i].pref;
            break;
        }
    }
    if (self_pref < 0)
        return -1;
    list->i_am_mx = true;
    for (int i = 0; i < list->len; i++) {
        if (list->info[i].pref < self_pref)
            list->info[keep++] = list->info[i];
        else
            myfree(list->info[i].host);
    }
    list->len = keep;
    return self_pref;
}

/* True when ADDR is one of this host's inet_interfaces/proxy_interfaces. */
bool smtp_addr_is_own(const char *addr)
{
    char buf[100];

    if (strchr(addr, ':') != NULL)
        snprintf(buf, sizeof(buf), "[ipv6:%s]", addr);
    else
        snprintf(buf, sizeof(buf), "[%s]", addr);
    return resolve_local(buf) == 1;
}

/* Which address families inet_protocols allows. */
static void smtp_protocols(bool *v4, bool *v6)
{
    const char *value = mail_conf_eval("inet_protocols");

    if (value == NULL || strcasestr(value, "all") != NULL) {
        *v4 = *v6 = true;
        return;
    }
    *v4 = strcasestr(value, "ipv4") != NULL;
    *v6 = strcasestr(value, "ipv6") != NULL;
    if (!*v4 && !*v6)
        *v4 = true;
}

/* DNS_REQ_FLAG_DNSSEC when smtp_dns_support_level (lmtp_...) is dnssec. */
static unsigned smtp_dns_flags(void)
{
    const char *level = smtp_lmtp_mode ? mail_conf_eval("lmtp_dns_support_level") : var_smtp_dns_support_level;

    return level != NULL && strcasecmp(level, "dnssec") == 0 ? DNS_REQ_FLAG_DNSSEC : 0;
}

/* Host lookup through DNS; a DNS_* status. */
static int smtp_host_dns(const char *name, int pref, SMTP_ADDR_LIST *list, VSTRING *why)
{
    unsigned types[3];
    int n = 0;
    bool v4;
    bool v6;
    DNS_RR *rr = NULL;
    DNS_ADDR_STR pa;
    int status;

    smtp_protocols(&v4, &v6);
    if (v4)
        types[n++] = T_A;
    if (v6)
        types[n++] = T_AAAA;
    types[n] = 0;
    status = dns_lookup_v(name, smtp_dns_flags(), &rr, NULL, why, types);
    if (status == DNS_OK) {
        for (DNS_RR *r = rr; r; r = r->next)
            if (dns_rr_to_pa(r, &pa) != NULL) {
                smtp_addr_list_add(list, name, pa.buf, pref);
                list->info[list->len - 1].dnssec_valid = r->dnssec_valid;
            }
    }
    dns_rr_free(rr);
    return status;
}

/* Host lookup with getaddrinfo(); a DNS_* status. */
static int smtp_host_native(const char *name, int pref, SMTP_ADDR_LIST *list, VSTRING *why)
{
    struct addrinfo hints;
    struct addrinfo *res = NULL;
    bool v4;
    bool v6;
    int err;

    smtp_protocols(&v4, &v6);
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = v4 && v6 ? AF_UNSPEC : v6 ? AF_INET6 : AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    err = getaddrinfo(name, NULL, &hints, &res);
    if (err != 0) {
        vstring_sprintf(why, "%s: %s", name, gai_strerror(err));
        return err == EAI_AGAIN ? DNS_RETRY : err == EAI_NODATA ? DNS_NOTFOUND : DNS_FAIL;
    }
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        char buf[INET6_ADDRSTRLEN];
        const void *src = ai->ai_family == AF_INET ? (void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr
                                                   : (void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;

        if (inet_ntop(ai->ai_family, src, buf, sizeof(buf)) != NULL) {
            bool dup = false;

            for (int i = 0; i < list->len; i++)
                if (strcmp(list->info[i].addr, buf) == 0 && strcmp(list->info[i].host, name) == 0)
                    dup = true;
            if (!dup)
                smtp_addr_list_add(list, name, buf, pref);
        }
    }
    freeaddrinfo(res);
    return DNS_OK;
}

/* Address lookup per smtp_host_lookup; a DNS_* status, why on failure. */
static int smtp_host_addr(const char *name, int pref, SMTP_ADDR_LIST *list, VSTRING *why)
{
    bool use_dns = !smtp_params.dns_disabled && strcasestr(smtp_params.host_lookup, "dns") != NULL;
    bool use_native = smtp_params.dns_disabled || strcasestr(smtp_params.host_lookup, "native") != NULL;
    int status = DNS_FAIL;

    if (use_dns) {
        status = smtp_host_dns(name, pref, list, why);
        if (status == DNS_OK || !use_native)
            return status;
    }
    return smtp_host_native(name, pref, list, why);
}

/* DSN status for a failed host lookup. */
static const char *smtp_lookup_status(int status)
{
    return status == DNS_RETRY ? "4.4.3" : "5.4.4";
}

/* MX lookup of a domain, then the addresses of each MX host. */
static int smtp_domain_addr(const char *name, SMTP_ADDR_LIST *list, DSN_BUF *why)
{
    VSTRING *text = vstring_alloc(100);
    DNS_RR *mx = NULL;
    int status;
    int result = SMTP_RESOLVE_OK;

    status = dns_lookup(name, T_MX, smtp_dns_flags(), &mx, NULL, text);
    if (status == DNS_RETRY && var_ignore_mx_lookup_error) {
        msg_info("%s: MX lookup error ignored: %s", name, vstring_str(text));
        status = DNS_NOTFOUND;
    }
    switch (status) {
    case DNS_OK: {
        bool any_retry = false;
        int last = DNS_OK;

        /* Sort MX records (the address list is re-sorted stably later). */
        mx = dns_rr_sort(mx, dns_rr_compare_pref);
        list->best_pref = mx ? mx->pref : 0;
        list->mx_lookup = true;
        list->mx_dnssec_valid = mx != NULL && mx->dnssec_valid;
        for (DNS_RR *r = mx; r; r = r->next) {
            VSTRING *one = vstring_alloc(100);

            last = smtp_host_addr(r->data, r->pref, list, one);
            if (last == DNS_RETRY)
                any_retry = true;
            if (last != DNS_OK)
                vstring_strcpy(text, vstring_str(one));
            vstring_free(one);
        }
        if (list->len == 0) {
            msg_warn("no MX host for %s has a valid address record", name);
            dsb_simple(why, any_retry || smtp_params.defer_if_no_mx_address ? "4.4.3" : "5.4.4", "%s",
                       vstring_str(text));
            result = SMTP_RESOLVE_FAIL;
        }
        break;
    }
    case DNS_NULLMX:
        dsb_simple(why, "5.1.0", "%s", vstring_str(text));
        result = SMTP_RESOLVE_FAIL;
        break;
    case DNS_NOTFOUND:
    case DNS_FAIL:
        /* No MX: the name itself (implicit MX). */
        list->best_pref = 0;
        status = smtp_host_addr(name, 0, list, text);
        if (status != DNS_OK) {
            dsb_simple(why, smtp_lookup_status(status), "%s", vstring_str(text));
            result = SMTP_RESOLVE_FAIL;
        }
        break;
    case DNS_INVAL:
        dsb_simple(why, "5.4.4", "%s", vstring_str(text));
        result = SMTP_RESOLVE_FAIL;
        break;
    default:
        dsb_simple(why, "4.4.3", "%s", vstring_str(text));
        result = SMTP_RESOLVE_FAIL;
        break;
    }
    dns_rr_free(mx);
    vstring_free(text);
    return result;
}

/* Resolve a destination to a sorted address list; see above. */
int smtp_addr_resolve(const SMTP_DEST *dest, SMTP_ADDR_LIST *list, DSN_BUF *why)
{
    VSTRING *text;
    int status;

    smtp_addr_list_init(list);
    if (dest->kind == SMTP_DEST_ADDR) {
        smtp_addr_list_add(list, dest->name, dest->name, 0);
        return SMTP_RESOLVE_OK;
    }
    if (!valid_hostname(dest->name)) {
        dsb_simple(why, "5.4.4", "Name service error for %s: invalid host or domain name", dest->name);
        return SMTP_RESOLVE_FAIL;
    }
    if (dest->kind == SMTP_DEST_DOMAIN && !smtp_params.dns_disabled &&
        strcasestr(smtp_params.host_lookup, "dns") != NULL) {
        if (smtp_domain_addr(dest->name, list, why) != SMTP_RESOLVE_OK)
            return SMTP_RESOLVE_FAIL;
        smtp_addr_sort(list, smtp_params.randomize, NULL);
        smtp_dead_reorder(list, dest->port, time(NULL));
        return SMTP_RESOLVE_OK;
    }
    text = vstring_alloc(100);
    status = smtp_host_addr(dest->name, 0, list, text);
    if (status != DNS_OK)
        dsb_simple(why, smtp_lookup_status(status), "%s", vstring_str(text));
    vstring_free(text);
    if (status != DNS_OK)
        return SMTP_RESOLVE_FAIL;
    smtp_addr_sort(list, smtp_params.randomize, NULL);
    smtp_dead_reorder(list, dest->port, time(NULL));
    return SMTP_RESOLVE_OK;
}
