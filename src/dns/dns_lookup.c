/*
 * dns_lookup - blocking DNS queries over c-ares: dns_lookup(),
 * dns_lookup_l(), dns_lookup_v(), dns_addr_to_name() and
 * dns_name_has_addr() as described in dns.h.
 *
 * The c-ares channel is created by the first lookup: servers from
 * /etc/resolv.conf, or from the Postern parameter dns_resolver_servers
 * when it is set. Each query times out after DNS_TIMEOUT_MS, doubled per
 * retry, DNS_TRIES attempts per server (c-ares' backoff), and never runs
 * longer than DNS_DEADLINE_MS in all, so a dead server cannot stall an
 * SMTP session for long. Postfix has no parameter for this (it takes the
 * libc resolver's settings), so the values are fixed.
 *
 * Errors: all in the status and the why text; a bad dns_resolver_servers
 * value logs a warning and /etc/resolv.conf is used; a resolver that
 * cannot be initialised logs a warning and every lookup is DNS_RETRY.
 */
#include "sys_defs.h"

#include <ares.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>

#include "dns.h"
#include "dns_int.h"
#include "mail_params.h"
#include "msg.h"
#include "mymalloc.h"
#include "stringops.h"
#include "valid_hostname.h"

#define DNS_TIMEOUT_MS  1500 /* first attempt; c-ares doubles it per retry */
#define DNS_TRIES       2
#define DNS_DEADLINE_MS 8000 /* whatever the number of servers */
#define DNS_EDNS_SIZE   1232
#define DNS_MAX_TYPES   16

static ares_channel dns_channel;
static int dns_init_status = -1; /* -1 not yet, DNS_OK, DNS_RETRY */

typedef struct DNS_REPLY {
    bool done;
    int status;         /* ARES_xxx */
    unsigned char *buf; /* the reply, mymalloc'ed */
    size_t len;
} DNS_REPLY;

/* dns_servers_csv - dns_resolver_servers in ares_set_servers_ports_csv form */
static bool dns_servers_csv(const char *value, VSTRING *csv)
{
    char *saved = mystrdup(value), *bp = saved, *item;
    bool ok = true;

    vstring_truncate(csv, 0);
    while ((item = mystrtok(&bp, ", \t\r\n")) != NULL) {
        unsigned char bytes[16];

        if (VSTRING_LEN(csv) > 0)
            vstring_strcat(csv, ",");
        /* A bare IPv6 address has no port; c-ares wants it in brackets. */
        if (*item != '[' && strchr(item, ':') != strrchr(item, ':')) {
            if (inet_pton(AF_INET6, item, bytes) != 1)
                ok = false;
            vstring_sprintf_append(csv, "[%s]", item);
        } else {
            vstring_strcat(csv, item);
        }
    }
    myfree(saved);
    return ok && VSTRING_LEN(csv) > 0;
}

/* dns_init - create the channel once, from resolv.conf or the parameter */
static int dns_init(void)
{
    struct ares_options opts;
    int rc;

    if (dns_init_status >= 0)
        return dns_init_status;
    dns_init_status = DNS_RETRY;
    if ((rc = ares_library_init(ARES_LIB_INIT_ALL)) != ARES_SUCCESS) {
        msg_warn("dns: cannot initialise the resolver library: %s", ares_strerror(rc));
        return dns_init_status;
    }
    memset(&opts, 0, sizeof(opts));
    opts.timeout = DNS_TIMEOUT_MS;
    opts.tries = DNS_TRIES;
    if ((rc = ares_init_options(&dns_channel, &opts, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES)) != ARES_SUCCESS) {
        msg_warn("dns: cannot initialise the resolver: %s", ares_strerror(rc));
        return dns_init_status;
    }
    if (var_dns_resolver_servers != NULL && *var_dns_resolver_servers != 0) {
        VSTRING *csv = vstring_alloc(100);

        if (!dns_servers_csv(var_dns_resolver_servers, csv) ||
            (rc = ares_set_servers_ports_csv(dns_channel, vstring_str(csv))) != ARES_SUCCESS)
            msg_warn("dns: malformed dns_resolver_servers value \"%s\"; using /etc/resolv.conf",
                     var_dns_resolver_servers);
        vstring_free(csv);
    }
    dns_init_status = DNS_OK;
    return dns_init_status;
}

/* dns_callback - c-ares delivers the reply (or an error) */
static void dns_callback(void *arg, int status, int timeouts UNUSED, unsigned char *abuf, int alen)
{
    DNS_REPLY *reply = arg;

    reply->done = true;
    reply->status = status;
    if (status == ARES_SUCCESS && abuf != NULL && alen > 0) {
        reply->buf = mymemdup(abuf, (size_t)alen);
        reply->len = (size_t)alen;
    }
}

/* dns_now_ms - a monotonic clock in milliseconds */
static long long dns_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* dns_wait - run the channel until the reply is in, or the deadline */
static void dns_wait(DNS_REPLY *reply)
{
    long long deadline = dns_now_ms() + DNS_DEADLINE_MS;

    while (!reply->done) {
        ares_socket_t socks[ARES_GETSOCK_MAXNUM];
        struct pollfd pfd[ARES_GETSOCK_MAXNUM];
        struct timeval maxtv, tv, *tvp;
        long long left = deadline - dns_now_ms();
        int bits, n = 0, ms, rc;

        if (left <= 0) {
            ares_cancel(dns_channel); /* calls back with ARES_ECANCELLED */
            break;
        }
        bits = ares_getsock(dns_channel, socks, ARES_GETSOCK_MAXNUM);
        for (int i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
            short events = 0;

            /* Not c-ares' macros: they shift a signed 1 into the sign bit. */
            if (((unsigned)bits >> i) & 1U)
                events |= POLLIN;
            if (((unsigned)bits >> (i + ARES_GETSOCK_MAXNUM)) & 1U)
                events |= POLLOUT;
            if (events) {
                pfd[n].fd = socks[i];
                pfd[n].events = events;
                pfd[n].revents = 0;
                n++;
            }
        }
        maxtv.tv_sec = left / 1000;
        maxtv.tv_usec = (left % 1000) * 1000;
        tvp = ares_timeout(dns_channel, &maxtv, &tv);
        ms = (int)(tvp->tv_sec * 1000 + (tvp->tv_usec + 999) / 1000);
        rc = poll(pfd, (nfds_t)n, ms);
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            msg_warn("dns: poll: %m");
            ares_cancel(dns_channel);
            break;
        }
        if (rc == 0) {
            ares_process_fd(dns_channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
            continue;
        }
        for (int i = 0; i < n; i++) {
            short ev = pfd[i].revents;

            if (ev == 0)
                continue;
            ares_process_fd(dns_channel, (ev & (POLLIN | POLLERR | POLLHUP)) ? pfd[i].fd : ARES_SOCKET_BAD,
                            (ev & POLLOUT) ? pfd[i].fd : ARES_SOCKET_BAD);
        }
    }
    if (!reply->done) {
        reply->done = true;
        reply->status = ARES_ETIMEOUT;
    }
}

/* dns_query - send one query and wait for the raw reply */
static int dns_query(const char *name, unsigned type, unsigned flags, DNS_REPLY *reply)
{
    unsigned char *qbuf;
    int qlen, rc;

    memset(reply, 0, sizeof(*reply));
    rc = ares_create_query(name, C_IN, (int)type, 0, 1, &qbuf, &qlen,
                           (flags & DNS_REQ_FLAG_DNSSEC) ? DNS_EDNS_SIZE : 0);
    if (rc != ARES_SUCCESS)
        return rc;
    if ((flags & DNS_REQ_FLAG_DNSSEC) && qlen >= 12 + 11 && qbuf[qlen - 11] == 0 && qbuf[qlen - 10] == 0 &&
        qbuf[qlen - 9] == 41) {
        qbuf[3] |= 0x20;        /* AD: tell us whether the data was validated */
        qbuf[qlen - 4] |= 0x80; /* DO in the OPT record's TTL field */
    }
    ares_send(dns_channel, qbuf, qlen, dns_callback, reply);
    ares_free_string(qbuf);
    dns_wait(reply);
    return reply->status;
}

/* dns_set_why - the log text for a failed lookup */
static void dns_set_why(VSTRING *why, int status, const char *name, unsigned type)
{
    const char *text;

    if (why == NULL)
        return;
    switch (status) {
    case DNS_FAIL:
        text = "Host not found";
        break;
    case DNS_NOTFOUND:
        text = "Host found but no data record of requested type";
        break;
    case DNS_RETRY:
        text = "Host not found, try again";
        break;
    case DNS_NULLMX:
        vstring_sprintf(why, "Domain %s does not accept mail (nullMX)", name);
        return;
    case DNS_INVAL:
        vstring_sprintf(why,
                        "Name service error for name=%s type=%s: Malformed or unexpected name server reply",
                        name, dns_strtype(type));
        return;
    default:
        vstring_truncate(why, 0);
        return;
    }
    vstring_sprintf(why, "Host or domain name not found. Name service error for name=%s type=%s: %s", name,
                    dns_strtype(type), text);
}

/* dns_lookup - one query; see dns.h */
int dns_lookup(const char *name, unsigned type, unsigned flags, DNS_RR **rrlist, VSTRING *fqdn, VSTRING *why)
{
    DNS_REPLY reply;
    int rc, status;

    if (rrlist != NULL)
        *rrlist = NULL;
    if (!dns_valid_qname(name)) {
        if (why != NULL)
            vstring_sprintf(why, "Name service error for %s: invalid host or domain name", name);
        return DNS_INVAL;
    }
    if (dns_init() != DNS_OK) {
        dns_set_why(why, DNS_RETRY, name, type);
        return DNS_RETRY;
    }
    rc = dns_query(name, type, flags, &reply);
    switch (rc) {
    case ARES_SUCCESS:
        status = dns_parse_answer(reply.buf, reply.len, name, type, flags, rrlist, fqdn);
        if (status == DNS_INVAL)
            msg_warn("dns: malformed reply for name=%s type=%s", name, dns_strtype(type));
        break;
    case ARES_ENOTFOUND:
        status = DNS_FAIL;
        break;
    case ARES_ENODATA:
        status = DNS_NOTFOUND;
        break;
    case ARES_EBADNAME:
        status = DNS_INVAL;
        break;
    default: /* SERVFAIL, REFUSED, timeout, connection refused, ... */
        if (msg_verbose)
            msg_info("dns: name=%s type=%s: %s", name, dns_strtype(type), ares_strerror(rc));
        status = DNS_RETRY;
        break;
    }
    if (reply.buf != NULL)
        myfree(reply.buf);
    if (status != DNS_OK)
        dns_set_why(why, status, name, type);
    if (msg_verbose)
        msg_info("dns_lookup: name=%s type=%s: %s", name, dns_strtype(type), dns_strstatus(status));
    return status;
}

/* dns_status_rank - which failure dns_lookup_v reports when none succeeded */
static int dns_status_rank(int status)
{
    switch (status) {
    case DNS_RETRY:
        return 5;
    case DNS_INVAL:
        return 4;
    case DNS_NULLMX:
        return 3;
    case DNS_NOTFOUND:
        return 2;
    default:
        return 1;
    }
}

/* dns_lookup_v - several types, types[] ends with 0; see dns.h */
int dns_lookup_v(const char *name, unsigned flags, DNS_RR **rrlist, VSTRING *fqdn, VSTRING *why,
                 const unsigned *types)
{
    DNS_RR *all = NULL;
    int best = -1;
    VSTRING *one_why = why ? vstring_alloc(100) : NULL;
    VSTRING *one_fqdn = fqdn ? vstring_alloc(100) : NULL;
    bool have_fqdn = false;

    if (rrlist != NULL)
        *rrlist = NULL;
    for (; *types != 0; types++) {
        DNS_RR *rr = NULL;
        int status = dns_lookup(name, *types, flags, rrlist ? &rr : NULL, one_fqdn, one_why);

        if (status == DNS_OK) {
            all = dns_rr_append(all, rr);
            if (fqdn != NULL && !have_fqdn) {
                vstring_strcpy(fqdn, vstring_str(one_fqdn));
                have_fqdn = true;
            }
            best = DNS_OK;
        } else if (best != DNS_OK && (best < 0 || dns_status_rank(status) > dns_status_rank(best))) {
            best = status;
            if (why != NULL)
                vstring_strcpy(why, vstring_str(one_why));
        }
        if (status == DNS_INVAL && !dns_valid_qname(name))
            break;
    }
    if (one_why)
        vstring_free(one_why);
    if (one_fqdn)
        vstring_free(one_fqdn);
    if (best < 0)
        best = DNS_NOTFOUND;
    if (rrlist != NULL && best == DNS_OK)
        *rrlist = all;
    else
        dns_rr_free(all);
    return best;
}

/* dns_lookup_l - several types as a 0-terminated argument list */
int dns_lookup_l(const char *name, unsigned flags, DNS_RR **rrlist, VSTRING *fqdn, VSTRING *why, ...)
{
    unsigned types[DNS_MAX_TYPES + 1];
    size_t n = 0;
    unsigned type;
    va_list ap;

    va_start(ap, why);
    while ((type = va_arg(ap, unsigned)) != 0) {
        if (n >= DNS_MAX_TYPES)
            msg_panic("dns_lookup_l: too many types");
        types[n++] = type;
    }
    va_end(ap);
    types[n] = 0;
    return dns_lookup_v(name, flags, rrlist, fqdn, why, types);
}

/* dns_addr_to_name - the first PTR name of a printable address */
/* Without dns_resolver_servers, client names come from the system
 * resolver as in Postfix (so /etc/hosts and nsswitch.conf count). */
static bool dns_use_system_resolver(void)
{
    return var_dns_resolver_servers == NULL || *var_dns_resolver_servers == 0;
}

/* The system resolver's name of ADDR (getnameinfo). */
static int dns_system_addr_to_name(const char *addr, VSTRING *name)
{
    struct addrinfo hints = {.ai_flags = AI_NUMERICHOST, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res;
    char host[NI_MAXHOST];
    int err;

    if (getaddrinfo(addr, NULL, &hints, &res) != 0)
        return DNS_FAIL;
    err = getnameinfo(res->ai_addr, res->ai_addrlen, host, sizeof(host), NULL, 0, NI_NAMEREQD);
    freeaddrinfo(res);
    if (err == EAI_AGAIN)
        return DNS_RETRY;
    if (err != 0 || !valid_hostname(host))
        return DNS_FAIL;
    vstring_strcpy(name, host);
    return DNS_OK;
}

/* Whether the system resolver gives NAME the address ADDR (getaddrinfo). */
static int dns_system_name_has_addr(const char *name, const char *addr)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
    struct addrinfo *res, *ai;
    char buf[NI_MAXHOST];
    int err;
    int status = DNS_FAIL;

    if ((err = getaddrinfo(name, NULL, &hints, &res)) != 0)
        return err == EAI_AGAIN ? DNS_RETRY : DNS_FAIL;
    for (ai = res; ai != NULL && status != DNS_OK; ai = ai->ai_next)
        if (getnameinfo(ai->ai_addr, ai->ai_addrlen, buf, sizeof(buf), NULL, 0, NI_NUMERICHOST) == 0 &&
            strcasecmp(buf, addr) == 0)
            status = DNS_OK;
    freeaddrinfo(res);
    return status;
}

int dns_addr_to_name(const char *addr, VSTRING *name)
{
    VSTRING *query;
    DNS_RR *rr;
    int status;

    if (dns_use_system_resolver())
        return dns_system_addr_to_name(addr, name);
    query = vstring_alloc(100);
    if (dns_reverse_name(addr, query) == NULL) {
        vstring_free(query);
        return DNS_FAIL;
    }
    vstring_strcat(query, strchr(addr, ':') ? ".ip6.arpa" : ".in-addr.arpa");
    status = dns_lookup(vstring_str(query), T_PTR, 0, &rr, NULL, NULL);
    vstring_free(query);
    if (status == DNS_OK) {
        vstring_strcpy(name, rr->data);
        dns_rr_free(rr);
    } else if (status == DNS_INVAL || status == DNS_NULLMX) {
        status = DNS_FAIL;
    }
    return status;
}

/* dns_name_has_addr - does name have an A/AAAA record equal to addr */
int dns_name_has_addr(const char *name, const char *addr)
{
    unsigned char bytes[16];
    unsigned type;
    size_t len;
    DNS_RR *list, *rr;
    int status;

    if (dns_use_system_resolver())
        return dns_system_name_has_addr(name, addr);
    if (inet_pton(AF_INET, addr, bytes) == 1) {
        type = T_A;
        len = 4;
    } else if (inet_pton(AF_INET6, addr, bytes) == 1) {
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

        if (memcmp(bytes, mapped, sizeof(mapped)) == 0) {
            memmove(bytes, bytes + 12, 4);
            type = T_A;
            len = 4;
        } else {
            type = T_AAAA;
            len = 16;
        }
    } else {
        return DNS_FAIL;
    }
    status = dns_lookup(name, type, 0, &list, NULL, NULL);
    if (status == DNS_RETRY)
        return DNS_RETRY;
    if (status != DNS_OK)
        return DNS_FAIL;
    status = DNS_FAIL;
    for (rr = list; rr != NULL; rr = rr->next)
        if (rr->data_len == len && memcmp(rr->data, bytes, len) == 0)
            status = DNS_OK;
    dns_rr_free(list);
    return status;
}
