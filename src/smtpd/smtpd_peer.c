/*
 * smtpd_peer - the identity of the SMTP client (smtpd.h, spec/smtpd.md
 * §1.1).
 *
 * Public functions:
 *   smtpd_peer_init(state)     address, port, server address and port from
 *                              the socket; the name from a PTR lookup
 *                              confirmed by a forward lookup
 *                              (smtpd_peername_lookup); not a socket (-S,
 *                              sendmail -bs): localhost[127.0.0.1]
 *   smtpd_peer_reset(state)    free the identity fields
 *   smtpd_peer_namaddr(state)  recompute "name[addr]"
 *
 * Errors: lookup failures give the name "unknown" with name_status
 * SMTPD_PEER_CODE_TEMP/PERM/FORGED; a forged name logs a warning
 * "hostname NAME does not resolve to address ADDR".
 */
#include "sys_defs.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "dns.h"
#include "mail_params.h"
#include "msg.h"
#include "mymalloc.h"
#include "smtpd.h"
#include "vstring.h"

/* Printable address and port of a socket address; false if not IP. */
static bool smtpd_peer_sockaddr(const struct sockaddr_storage *ss, char *addr, size_t addr_len, char *port,
                                size_t port_len, int *family)
{
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

        inet_ntop(AF_INET, &sin->sin_addr, addr, (socklen_t)addr_len);
        snprintf(port, port_len, "%u", ntohs(sin->sin_port));
        *family = AF_INET;
        return true;
    }
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

        if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
            inet_ntop(AF_INET, sin6->sin6_addr.s6_addr + 12, addr, (socklen_t)addr_len);
            *family = AF_INET;
        } else {
            inet_ntop(AF_INET6, &sin6->sin6_addr, addr, (socklen_t)addr_len);
            *family = AF_INET6;
        }
        snprintf(port, port_len, "%u", ntohs(sin6->sin6_port));
        return true;
    }
    return false;
}

/* Recompute state->namaddr and state->rfc_addr. */
void smtpd_peer_namaddr(SMTPD_STATE *state)
{
    VSTRING *buf = vstring_alloc(100);

    myfree(state->namaddr);
    vstring_sprintf(buf, "%s[%s]", state->name ? state->name : "unknown",
                    state->addr ? state->addr : "unknown");
    state->namaddr = mystrdup(vstring_str(buf));
    myfree(state->rfc_addr);
    if (state->addr && strchr(state->addr, ':') != NULL)
        vstring_sprintf(buf, "IPv6:%s", state->addr);
    else
        vstring_strcpy(buf, state->addr ? state->addr : "unknown");
    state->rfc_addr = mystrdup(vstring_str(buf));
    vstring_free(buf);
}

/* Look up the client name: PTR, then forward confirmation. */
static void smtpd_peer_lookup(SMTPD_STATE *state)
{
    VSTRING *name = vstring_alloc(100);
    int status;

    state->name = mystrdup("unknown");
    state->reverse_name = mystrdup("unknown");
    state->name_status = state->reverse_name_status = SMTPD_PEER_CODE_PERM;
    if (!var_smtpd_peername_lookup) {
        vstring_free(name);
        return;
    }
    status = dns_addr_to_name(state->addr, name);
    if (status != DNS_OK || VSTRING_LEN(name) == 0) {
        state->name_status = state->reverse_name_status =
            status == DNS_RETRY ? SMTPD_PEER_CODE_TEMP : SMTPD_PEER_CODE_PERM;
        vstring_free(name);
        return;
    }
    myfree(state->reverse_name);
    state->reverse_name = mystrdup(vstring_str(name));
    state->reverse_name_status = SMTPD_PEER_CODE_OK;
    status = dns_name_has_addr(vstring_str(name), state->addr);
    if (status == DNS_OK) {
        myfree(state->name);
        state->name = mystrdup(vstring_str(name));
        state->name_status = SMTPD_PEER_CODE_OK;
    } else if (status == DNS_RETRY) {
        state->name_status = SMTPD_PEER_CODE_TEMP;
    } else {
        msg_warn("hostname %s does not resolve to address %s", vstring_str(name), state->addr);
        state->name_status = SMTPD_PEER_CODE_FORGED;
    }
    vstring_free(name);
}

/* Fill the identity fields from the connection. */
void smtpd_peer_init(SMTPD_STATE *state)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char addr[INET6_ADDRSTRLEN + 1];
    char port[16];
    int family;

    if (getpeername(vstream_fileno(state->client), (struct sockaddr *)&ss, &len) == 0 &&
        smtpd_peer_sockaddr(&ss, addr, sizeof(addr), port, sizeof(port), &family)) {
        state->addr = mystrdup(addr);
        state->port = mystrdup(port);
        state->addr_family = family;
        len = sizeof(ss);
        if (getsockname(vstream_fileno(state->client), (struct sockaddr *)&ss, &len) == 0 &&
            smtpd_peer_sockaddr(&ss, addr, sizeof(addr), port, sizeof(port), &family)) {
            state->dest_addr = mystrdup(addr);
            state->dest_port = mystrdup(port);
        }
        smtpd_peer_lookup(state);
    } else {
        /* Standard input (-S, sendmail -bs): the local host. */
        state->addr = mystrdup("127.0.0.1");
        state->port = mystrdup("0");
        state->name = mystrdup("localhost");
        state->reverse_name = mystrdup("localhost");
        state->name_status = state->reverse_name_status = SMTPD_PEER_CODE_OK;
        state->addr_family = AF_UNSPEC;
        state->dest_addr = mystrdup("127.0.0.1");
        state->dest_port = mystrdup("0");
    }
    smtpd_peer_namaddr(state);
}

/* Free the identity fields (before XCLIENT replaces them, and at the end). */
void smtpd_peer_reset(SMTPD_STATE *state)
{
    char **fields[] = {&state->name, &state->reverse_name, &state->addr,      &state->rfc_addr,
                       &state->port, &state->namaddr,      &state->dest_addr, &state->dest_port};

    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        myfree(*fields[i]);
        *fields[i] = NULL;
    }
}
