/*
 * smtpd_standin - link-time stand-ins for the modules other helpers write
 * in parallel (smtpd_check.c, anvil_clnt.c, dns.c). The lead deletes this
 * file at merge. Only what the core protocol needs to run its tests:
 * smtpd_check_rcpt() permits $mynetworks, else rejects with "554 5.7.1
 * <ADDR>: Relay access denied" unless the domain is in $mydestination;
 * the client lists are plain namadr lists; anvil always answers
 * "unavailable"; the two DNS calls use getnameinfo/getaddrinfo.
 *
 * Errors: none beyond the documented return values.
 */
#include "sys_defs.h"

#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/statvfs.h>

#include "anvil_clnt.h"
#include "dns.h"
#include "domain_list.h"
#include "mail_params.h"
#include "mymalloc.h"
#include "namadr_list.h"
#include "smtpd_check.h"
#include "valid_hostname.h"
#include "vstring.h"

static VSTRING *standin_reply;
static NAMADR_LIST *standin_mynetworks;
static NAMADR_LIST *standin_xclient;
static NAMADR_LIST *standin_xforward;
static NAMADR_LIST *standin_verp;
static NAMADR_LIST *standin_event;
static NAMADR_LIST *standin_bare_lf;
static DOMAIN_LIST *standin_mydest;

/* Open the lists. */
void smtpd_check_init(void)
{
    standin_reply = vstring_alloc(100);
    standin_mynetworks = namadr_list_init("mynetworks", var_mynetworks);
    standin_xclient = namadr_list_init("smtpd_authorized_xclient_hosts", var_smtpd_authorized_xclient_hosts);
    standin_xforward =
        namadr_list_init("smtpd_authorized_xforward_hosts", var_smtpd_authorized_xforward_hosts);
    standin_verp = namadr_list_init("smtpd_authorized_verp_clients", var_smtpd_authorized_verp_clients);
    standin_event =
        namadr_list_init("smtpd_client_event_limit_exceptions", var_smtpd_client_event_limit_exceptions);
    standin_bare_lf =
        namadr_list_init("smtpd_forbid_bare_newline_exclusions", var_smtpd_forbid_bare_newline_exclusions);
    standin_mydest = domain_list_init("mydestination", var_mydestination);
}

/* Per-session state: none. */
void smtpd_check_state_init(SMTPD_STATE *state)
{
    (void)state;
}

/* Per-session state: none. */
void smtpd_check_state_free(SMTPD_STATE *state)
{
    (void)state;
}

/* Per-transaction state: none. */
void smtpd_check_reset(SMTPD_STATE *state)
{
    (void)state;
}

/* Client restrictions: permit. */
const char *smtpd_check_client(SMTPD_STATE *state)
{
    (void)state;
    return NULL;
}

/* HELO restrictions: permit. */
const char *smtpd_check_helo(SMTPD_STATE *state, const char *helo)
{
    (void)state;
    (void)helo;
    return NULL;
}

/* Sender restrictions: permit. */
const char *smtpd_check_mail(SMTPD_STATE *state, const char *sender)
{
    (void)state;
    (void)sender;
    return NULL;
}

/* Crude relay control (see the file header). */
const char *smtpd_check_rcpt(SMTPD_STATE *state, const char *recipient)
{
    const char *at = strrchr(recipient, '@');

    if (smtpd_check_mynetworks(state))
        return NULL;
    if (at && domain_list_match(standin_mydest, at + 1))
        return NULL;
    vstring_sprintf(standin_reply, "554 5.7.1 <%s>: Relay access denied", recipient);
    return vstring_str(standin_reply);
}

/* Recipient validation: permit. */
const char *smtpd_check_rcptmap(SMTPD_STATE *state, const char *recipient)
{
    (void)state;
    (void)recipient;
    return NULL;
}

/* ETRN restrictions: permit. */
const char *smtpd_check_etrn(SMTPD_STATE *state, const char *domain)
{
    (void)state;
    (void)domain;
    return NULL;
}

/* DATA restrictions: permit. */
const char *smtpd_check_data(SMTPD_STATE *state)
{
    (void)state;
    return NULL;
}

/* End-of-data restrictions: permit. */
const char *smtpd_check_eod(SMTPD_STATE *state)
{
    (void)state;
    return NULL;
}

/* Message size and queue space. */
const char *smtpd_check_size(SMTPD_STATE *state, off_t size)
{
    (void)state;
    if (var_message_size_limit > 0 && size > var_message_size_limit)
        return "552 5.3.4 Message size exceeds fixed limit";
    return NULL;
}

/* Address syntax: a valid domain or a literal. */
int smtpd_check_addr(SMTPD_STATE *state, const char *addr, bool smtputf8)
{
    const char *at = strrchr(addr, '@');

    (void)state;
    (void)smtputf8;
    if (*addr == 0 || at == NULL || at[1] == '[')
        return 0;
    return at[1] == 0 ? -1 : 0;
}

/* Client list helpers. */
static bool standin_match(NAMADR_LIST *list, SMTPD_STATE *state)
{
    return list && namadr_list_match(list, state->name, state->addr) != 0;
}

bool smtpd_check_xclient_ok(SMTPD_STATE *state)
{
    return standin_match(standin_xclient, state);
}

bool smtpd_check_xforward_ok(SMTPD_STATE *state)
{
    return standin_match(standin_xforward, state);
}

bool smtpd_check_verp_ok(SMTPD_STATE *state)
{
    return standin_match(standin_verp, state);
}

bool smtpd_check_event_exempt(SMTPD_STATE *state)
{
    return standin_match(standin_event, state);
}

bool smtpd_check_bare_lf_exempt(SMTPD_STATE *state)
{
    return standin_match(standin_bare_lf, state);
}

bool smtpd_check_mynetworks(SMTPD_STATE *state)
{
    return standin_match(standin_mynetworks, state);
}

/* anvil: not reachable (no limits). */
ANVIL_CLNT *anvil_clnt_create(void)
{
    return NULL;
}

int anvil_clnt_connect(ANVIL_CLNT *anvil, const char *service, const char *addr, int *count, int *rate)
{
    (void)anvil, (void)service, (void)addr;
    *count = *rate = 0;
    return ANVIL_STAT_FAIL;
}

int anvil_clnt_mail(ANVIL_CLNT *anvil, const char *service, const char *addr, int *msgs)
{
    (void)anvil, (void)service, (void)addr;
    *msgs = 0;
    return ANVIL_STAT_FAIL;
}

int anvil_clnt_rcpt(ANVIL_CLNT *anvil, const char *service, const char *addr, int *rcpts)
{
    (void)anvil, (void)service, (void)addr;
    *rcpts = 0;
    return ANVIL_STAT_FAIL;
}

int anvil_clnt_disconnect(ANVIL_CLNT *anvil, const char *service, const char *addr)
{
    (void)anvil, (void)service, (void)addr;
    return ANVIL_STAT_FAIL;
}

void anvil_clnt_free(ANVIL_CLNT *anvil)
{
    (void)anvil;
}

/* PTR name via getnameinfo. */
int dns_addr_to_name(const char *addr, VSTRING *name)
{
    struct addrinfo hints = {.ai_flags = AI_NUMERICHOST, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res;
    char host[NI_MAXHOST];
    int err;

    if (getaddrinfo(addr, NULL, &hints, &res) != 0)
        return DNS_INVAL;
    err = getnameinfo(res->ai_addr, res->ai_addrlen, host, sizeof(host), NULL, 0, NI_NAMEREQD);
    freeaddrinfo(res);
    if (err == EAI_AGAIN)
        return DNS_RETRY;
    if (err != 0)
        return DNS_FAIL;
    vstring_strcpy(name, host);
    return DNS_OK;
}

/* Forward confirmation via getaddrinfo. */
int dns_name_has_addr(const char *name, const char *addr)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
    struct addrinfo *res, *ai;
    char buf[NI_MAXHOST];
    int err;
    int status = DNS_FAIL;

    if ((err = getaddrinfo(name, NULL, &hints, &res)) != 0)
        return err == EAI_AGAIN ? DNS_RETRY : DNS_FAIL;
    for (ai = res; ai; ai = ai->ai_next)
        if (getnameinfo(ai->ai_addr, ai->ai_addrlen, buf, sizeof(buf), NULL, 0, NI_NUMERICHOST) == 0 &&
            strcmp(buf, addr) == 0)
            status = DNS_OK;
    freeaddrinfo(res);
    return status;
}
