/*
 * smtpd_check_test - unit tests for the restriction engine: each case sets
 * main.cf parameters, fills an SMTPD_STATE and runs one check, asserting
 * the exact reply of spec/smtpd.md §15 and the logged action.
 *
 * Log lines are the real ones (smtpd_log.c) captured through msg_output();
 * the policy client is the real one (the only policy case has no server).
 * Stand-ins: every dns_*() function smtpd's objects call answers from the
 * small zone below (defined here, so the linker never pulls libdns);
 * resolve_clnt_query()/rewrite_clnt_query() run trivial-rewrite's logic
 * in process (resolve_addr(), rewrite_addr()). DNS lists against a real
 * DNS server: tests/e2e/test_smtpd_dns.py.
 */
#include "sys_defs.h"

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "argv.h"
#include "cleanup_user.h"
#include "dict.h"
#include "dns.h"
#include "mail_conf.h"
#include "mail_params.h"
#include "mail_params_init.h"
#include "msg.h"
#include "mymalloc.h"
#include "resolve_addr.h"
#include "resolve_clnt.h"
#include "resolve_local.h"
#include "rewrite_addr.h"
#include "smtpd.h"
#include "smtpd_check.h"
#include "smtpd_policy.h"
#include "vstring.h"

static ARGV *test_log;         /* "ACTION: TEXT" and "warning: TEXT" */
static bool test_dns_servfail; /* bl.example.test and nx.example.test fail */

/* The test zone. */
static const struct {
    const char *name;
    unsigned type;
    const char *data;
} test_zone[] = {
    {"10.2.0.192.bl.example.test", T_A, "127.0.0.2"},
    {"10.2.0.192.bl.example.test", T_TXT, "listed"},
    {"10.2.0.192.wl.example.test", T_A, "127.0.0.5"},
    {"spam.test.bl.example.test", T_A, "127.0.0.2"},
    {"good.test", T_MX, "mx.good.test"},
    {"mx.good.test", T_A, "192.0.2.25"},
};

/* Stand-in: answer from test_zone; nx.* is NXDOMAIN, null.test has a null MX. */
int dns_lookup(const char *name, unsigned type, unsigned flags, DNS_RR **rrlist, VSTRING *fqdn, VSTRING *why)
{
    DNS_RR *list = 0;
    bool exists = false;

    (void)flags;
    (void)fqdn;
    if (rrlist)
        *rrlist = 0;
    if (test_dns_servfail && (strstr(name, "bl.example.test") || strstr(name, "nx.example.test"))) {
        if (why)
            vstring_sprintf(why,
                            "Host or domain name not found. Name service error for name=%s type=%s: Host "
                            "not found, try again",
                            name, dns_strtype(type));
        return DNS_RETRY;
    }
    if (strcasecmp(name, "null.test") == 0 && type == T_MX)
        return DNS_NULLMX;
    for (size_t i = 0; i < sizeof(test_zone) / sizeof(test_zone[0]); i++) {
        DNS_RR *rr;
        size_t len;

        if (strcasecmp(test_zone[i].name, name) != 0)
            continue;
        exists = true;
        if (test_zone[i].type != type)
            continue;
        len = type == T_A ? 4 : strlen(test_zone[i].data) + 1;
        rr = mymalloc(sizeof(*rr) + len);
        memset(rr, 0, sizeof(*rr));
        rr->qname = mystrdup(name);
        rr->rname = mystrdup(name);
        rr->type = (unsigned short)type;
        rr->data_len = len;
        if (type == T_A)
            inet_pton(AF_INET, test_zone[i].data, rr->data);
        else
            memcpy(rr->data, test_zone[i].data, len);
        list = dns_rr_append(list, rr);
    }
    if (list) {
        if (rrlist)
            *rrlist = list;
        else
            dns_rr_free(list);
        return DNS_OK;
    }
    return exists ? DNS_NOTFOUND : DNS_FAIL;
}

int dns_lookup_l(const char *name, unsigned flags, DNS_RR **rrlist, VSTRING *fqdn, VSTRING *why, ...)
{
    va_list ap;
    unsigned type;
    int best = DNS_FAIL;
    DNS_RR *all = 0;

    va_start(ap, why);
    while ((type = va_arg(ap, unsigned)) != 0) {
        DNS_RR *rr = 0;
        int status = dns_lookup(name, type, flags, &rr, fqdn, why);

        if (status == DNS_OK) {
            all = dns_rr_append(all, rr);
            best = DNS_OK;
        } else if (best != DNS_OK && (status == DNS_RETRY || (status == DNS_NOTFOUND && best == DNS_FAIL))) {
            best = status;
        }
    }
    va_end(ap);
    if (rrlist)
        *rrlist = all;
    else
        dns_rr_free(all);
    return best;
}

void dns_rr_free(DNS_RR *list)
{
    while (list) {
        DNS_RR *next = list->next;

        myfree(list->qname);
        myfree(list->rname);
        myfree(list);
        list = next;
    }
}

DNS_RR *dns_rr_append(DNS_RR *list, DNS_RR *rr)
{
    DNS_RR *tail = list;

    if (list == 0)
        return rr;
    while (tail->next)
        tail = tail->next;
    tail->next = rr;
    return list;
}

const char *dns_rr_to_pa(const DNS_RR *rr, DNS_ADDR_STR *buf)
{
    if (rr->type == T_A)
        return inet_ntop(AF_INET, rr->data, buf->buf, sizeof(buf->buf));
    if (rr->type == T_AAAA)
        return inet_ntop(AF_INET6, rr->data, buf->buf, sizeof(buf->buf));
    return 0;
}

const char *dns_reverse_name(const char *addr, VSTRING *buf)
{
    unsigned a, b, c, d;

    if (sscanf(addr, "%u.%u.%u.%u", &a, &b, &c, &d) != 4)
        return 0;
    vstring_sprintf(buf, "%u.%u.%u.%u", d, c, b, a);
    return vstring_str(buf);
}

int dns_addr_to_name(const char *addr, VSTRING *name)
{
    (void)addr;
    (void)name;
    return DNS_FAIL;
}

int dns_name_has_addr(const char *name, const char *addr)
{
    (void)name;
    (void)addr;
    return DNS_FAIL;
}

const char *dns_strtype(unsigned type)
{
    return type == T_A ? "A" : type == T_MX ? "MX" : type == T_TXT ? "TXT" : "other";
}

/* Stand-ins for the trivial-rewrite client: the same logic in process. */
int resolve_clnt_cache_ttl = 10;

void resolve_clnt_init(RESOLVE_REPLY *reply)
{
    reply->transport = vstring_alloc(10);
    reply->nexthop = vstring_alloc(10);
    reply->recipient = vstring_alloc(10);
    reply->flags = 0;
}

void resolve_clnt_free(RESOLVE_REPLY *reply)
{
    vstring_free(reply->transport);
    vstring_free(reply->nexthop);
    vstring_free(reply->recipient);
}

void resolve_clnt_query(const char *sender, const char *address, RESOLVE_REPLY *reply)
{
    resolve_addr(sender, address, reply);
}

const char *rewrite_clnt_query(const char *context, const char *address, VSTRING *result)
{
    return rewrite_addr(result, context, address);
}

/* Capture warnings. */
static void test_output(enum msg_level level, const char *text)
{
    VSTRING *buf = vstring_alloc(100);

    vstring_sprintf(buf, "%s%s", msg_level_prefix(level), text);
    argv_add(test_log, vstring_str(buf));
    vstring_free(buf);
}

static const char *const test_baseline[] = {
    "compatibility_level",
    "3.6",
    "myhostname",
    "mx.example.test",
    "mydomain",
    "example.test",
    "mydestination",
    "$myhostname, localhost, example.test",
    "mynetworks",
    "127.0.0.1/32",
    "inet_interfaces",
    "127.0.0.1",
    "alias_maps",
    "",
    "local_recipient_maps",
    "inline:{alice=1, bob=1, all=1}",
    "smtpd_authorized_xclient_hosts",
    "127.0.0.1",
    "queue_directory",
    "/tmp",
    0,
};

/* Start over with the baseline plus name/value pairs. */
static void test_config(const char *const *settings)
{
    mail_conf_forget();
    for (int i = 0; test_baseline[i]; i += 2)
        mail_conf_override(test_baseline[i], test_baseline[i + 1]);
    for (int i = 0; settings && settings[i]; i += 2)
        mail_conf_override(settings[i], settings[i + 1]);
    mail_params_init();
    resolve_addr_init();
    smtpd_check_init();
    if (test_log)
        argv_free(test_log);
    test_log = argv_alloc(10);
}

/* A session: "outside" is client.remote.test[192.0.2.10]. */
static void test_session(SMTPD_STATE *state, bool outside, const char *helo, const char *sender)
{
    memset(state, 0, sizeof(*state));
    state->name = mystrdup(outside ? "client.remote.test" : "localhost");
    state->reverse_name = mystrdup(state->name);
    state->addr = mystrdup(outside ? "192.0.2.10" : "127.0.0.1");
    state->namaddr = mystrdup(outside ? "client.remote.test[192.0.2.10]" : "localhost[127.0.0.1]");
    state->name_status = state->reverse_name_status = SMTPD_PEER_CODE_OK;
    state->helo_name = helo ? mystrdup(helo) : 0;
    state->sender = sender ? mystrdup(sender) : 0;
    state->where = SMTPD_CMD_RCPT;
    smtpd_check_state_init(state);
}

static void test_session_free(SMTPD_STATE *state)
{
    smtpd_check_state_free(state);
    myfree(state->name);
    myfree(state->reverse_name);
    myfree(state->addr);
    myfree(state->namaddr);
    if (state->helo_name)
        myfree(state->helo_name);
    if (state->sender)
        myfree(state->sender);
    if (state->prepend)
        argv_free(state->prepend);
    if (state->saved_bcc)
        argv_free(state->saved_bcc);
    if (state->saved_filter)
        myfree(state->saved_filter);
    if (state->saved_redirect)
        myfree(state->saved_redirect);
    if (state->discard_reason)
        myfree(state->discard_reason);
}

/* Whether a log line contains WANT, or for WANT = "ACTION: REST" has
 * ": ACTION: " followed later by REST (the real line has the stage and
 * the client in between). */
static bool test_logged(const char *want)
{
    const char *sep = strstr(want, ": ");
    VSTRING *action = vstring_alloc(20);
    bool found = false;

    if (sep)
        vstring_sprintf(action, ": %.*s: ", (int)(sep - want), want);
    for (size_t i = 0; !found && i < test_log->argc; i++) {
        const char *line = test_log->argv[i];
        const char *at;

        found = strstr(line, want) != NULL ||
                (sep && (at = strstr(line, vstring_str(action))) != NULL && strstr(at, sep + 2) != NULL);
    }
    vstring_free(action);
    return found;
}

static void test_expect(const char *got, const char *want)
{
    if (want == 0) {
        if (got != 0)
            fail_msg("expected acceptance, got \"%s\"", got);
    } else {
        assert_non_null(got);
        assert_string_equal(got, want);
    }
}

/* One RCPT case of §15. */
typedef struct RCPT_CASE {
    const char *title;
    const char *settings[14];
    bool outside;
    const char *helo;
    const char *sender;
    const char *recipient;
    bool servfail;
    const char *reply; /* NULL: accepted */
    const char *log;   /* a log line must contain this, or NULL */
} RCPT_CASE;

static const RCPT_CASE rcpt_cases[] = {
    {"9 unknown local user",
     {0},
     false,
     "c.test",
     "a@remote.test",
     "nobody@example.test",
     false,
     "550 5.1.1 <nobody@example.test>: Recipient address rejected: User unknown in local recipient table",
     "reject: 550 5.1.1 <nobody@example.test>"},
    {"9 known local user", {0}, false, "c.test", "a@remote.test", "alice@example.test", false, 0, 0},
    {"9 postmaster always known",
     {0},
     false,
     "c.test",
     "a@remote.test",
     "postmaster@example.test",
     false,
     0,
     0},
    {"9 show_user_unknown_table_name = no",
     {"show_user_unknown_table_name", "no"},
     false,
     "c.test",
     "a@remote.test",
     "nobody@example.test",
     false,
     "550 5.1.1 <nobody@example.test>: Recipient address rejected: User unknown",
     0},
    {"9 no_unknown_recipient_checks",
     {"receive_override_options", "no_unknown_recipient_checks"},
     false,
     "c.test",
     "a@remote.test",
     "nobody@example.test",
     false,
     0,
     0},
    {"10 default relay control",
     {0},
     true,
     "c.test",
     "a@remote.test",
     "u@remote.test",
     false,
     "454 4.7.1 <u@remote.test>: Relay access denied",
     "reject: 454 4.7.1 <u@remote.test>: Relay access denied"},
    {"10 local recipient from outside",
     {0},
     true,
     "c.test",
     "a@remote.test",
     "alice@example.test",
     false,
     0,
     0},
    {"11 reject_unauth_destination outside",
     {"smtpd_relay_restrictions", "permit_mynetworks, reject_unauth_destination"},
     true,
     "c.test",
     "a@remote.test",
     "u@remote.test",
     false,
     "554 5.7.1 <u@remote.test>: Relay access denied",
     0},
    {"11 reject_unauth_destination inside",
     {"smtpd_relay_restrictions", "permit_mynetworks, reject_unauth_destination"},
     false,
     "c.test",
     "a@remote.test",
     "u@remote.test",
     false,
     0,
     0},
    {"12 routed @",
     {0},
     true,
     "c.test",
     "a@remote.test",
     "u@remote.test@example.test",
     false,
     "454 4.7.1 <u@remote.test@example.test>: Relay access denied",
     0},
    {"12 routed %",
     {0},
     true,
     "c.test",
     "a@remote.test",
     "u%remote.test@example.test",
     false,
     "454 4.7.1 <u%remote.test@example.test>: Relay access denied",
     0},
    {"12 routed !",
     {0},
     true,
     "c.test",
     "a@remote.test",
     "remote.test!u@example.test",
     false,
     "454 4.7.1 <remote.test!u@example.test>: Relay access denied",
     0},
    {"12 source route",
     {0},
     true,
     "c.test",
     "a@remote.test",
     "@example.test:u@remote.test",
     false,
     "454 4.7.1 <@example.test:u@remote.test>: Relay access denied",
     0},
    {"12 literal",
     {0},
     true,
     "c.test",
     "a@remote.test",
     "u@[192.0.2.99]",
     false,
     "454 4.7.1 <u@[192.0.2.99]>: Relay access denied",
     0},
    {"12 trailing dot",
     {0},
     true,
     "c.test",
     "a@remote.test",
     "u@remote.test.",
     false,
     "454 4.7.1 <u@remote.test.>: Relay access denied",
     0},
    {"12 routed OK from access map counts as DUNNO",
     {"smtpd_recipient_restrictions", "check_recipient_access inline:{example.test=OK}"},
     true,
     "c.test",
     "a@remote.test",
     "u%remote.test@example.test",
     false,
     "454 4.7.1 <u%remote.test@example.test>: Relay access denied",
     0},
    {"23 client access at RCPT",
     {"smtpd_client_restrictions", "check_client_access inline:{192.0.2.10=REJECT}"},
     true,
     "c.test",
     "a@remote.test",
     "alice@example.test",
     false,
     "554 5.7.1 <client.remote.test[192.0.2.10]>: Client host rejected: Access denied",
     0},
    {"23 client name beats address",
     {"smtpd_client_restrictions", "check_client_access inline:{remote.test=OK, 192.0.2.10=REJECT}",
      "smtpd_recipient_restrictions", "reject_unauth_destination"},
     true,
     "c.test",
     "a@remote.test",
     "alice@example.test",
     false,
     0,
     0},
    {"25 non-FQDN HELO",
     {"smtpd_helo_restrictions", "reject_non_fqdn_helo_hostname"},
     true,
     "foo",
     "a@remote.test",
     "alice@example.test",
     false,
     "504 5.5.2 <foo>: Helo command rejected: need fully-qualified hostname",
     0},
    {"26 invalid HELO literal",
     {"smtpd_helo_restrictions", "reject_invalid_helo_hostname"},
     true,
     "[1.2.3]",
     "a@remote.test",
     "alice@example.test",
     false,
     "501 5.5.2 <[1.2.3]>: Helo command rejected: invalid ip address",
     0},
    {"26 invalid HELO name (old alias)",
     {"smtpd_helo_restrictions", "reject_invalid_hostname"},
     true,
     "a..b",
     "a@remote.test",
     "alice@example.test",
     false,
     "501 5.5.2 <a..b>: Helo command rejected: Invalid name",
     0},
    {"27 sender parent domain",
     {"smtpd_sender_restrictions", "check_sender_access inline:{spam.test=REJECT, "
                                   "sub.spam.test=DUNNO, {bad@=550 5.7.1 go away}}"},
     true,
     "c.test",
     "x@a.spam.test",
     "alice@example.test",
     false,
     "554 5.7.1 <x@a.spam.test>: Sender address rejected: Access denied",
     0},
    {"27 sender user@",
     {"smtpd_sender_restrictions", "check_sender_access inline:{spam.test=REJECT, "
                                   "sub.spam.test=DUNNO, {bad@=550 5.7.1 go away}}"},
     true,
     "c.test",
     "bad@any.test",
     "alice@example.test",
     false,
     "550 5.7.1 <bad@any.test>: Sender address rejected: go away",
     0},
    {"27 sender DUNNO",
     {"smtpd_sender_restrictions", "check_sender_access inline:{spam.test=REJECT, "
                                   "sub.spam.test=DUNNO, {bad@=550 5.7.1 go away}}"},
     true,
     "c.test",
     "x@sub.spam.test",
     "alice@example.test",
     false,
     0,
     0},
    {"28 DEFER_IF_PERMIT",
     {"smtpd_recipient_restrictions",
      "check_recipient_access inline:{{bob@example.test=DEFER_IF_PERMIT busy}}"},
     true,
     "c.test",
     "a@remote.test",
     "bob@example.test",
     false,
     "450 4.7.1 <bob@example.test>: Recipient address rejected: busy",
     0},
    {"29 class rejects",
     {"smtpd_restriction_classes", "insiders", "insiders",
      "check_sender_access inline:{example.test=OK}, reject", "smtpd_recipient_restrictions",
      "check_recipient_access inline:{all@example.test=insiders}"},
     true,
     "c.test",
     "x@remote.test",
     "all@example.test",
     false,
     "554 5.7.1 <all@example.test>: Recipient address rejected: Access denied",
     0},
    {"29 class permits",
     {"smtpd_restriction_classes", "insiders", "insiders",
      "check_sender_access inline:{example.test=OK}, reject", "smtpd_recipient_restrictions",
      "check_recipient_access inline:{all@example.test=insiders}"},
     true,
     "c.test",
     "x@example.test",
     "all@example.test",
     false,
     0,
     0},
    {"30 warn_if_reject",
     {"smtpd_sender_restrictions", "warn_if_reject reject_non_fqdn_sender"},
     true,
     "c.test",
     "a@b",
     "alice@example.test",
     false,
     0,
     "reject_warning: 504 5.5.2 <a@b>: Sender address rejected: need fully-qualified address"},
    {"32 RBL listed",
     {"smtpd_client_restrictions", "reject_rbl_client bl.example.test"},
     true,
     "c.test",
     "a@remote.test",
     "alice@example.test",
     false,
     "554 5.7.1 Service unavailable; Client host [192.0.2.10] blocked using bl.example.test; listed",
     0},
    {"32 RBL filter does not match",
     {"smtpd_client_restrictions", "reject_rbl_client bl.example.test=127.0.0.[3..4;10]"},
     true,
     "c.test",
     "a@remote.test",
     "alice@example.test",
     false,
     0,
     0},
    {"32 RBL filter matches",
     {"smtpd_client_restrictions", "reject_rbl_client bl.example.test=127.0.0.[3;1..2]"},
     true,
     "c.test",
     "a@remote.test",
     "alice@example.test",
     false,
     "554 5.7.1 Service unavailable; Client host [192.0.2.10] blocked using bl.example.test; listed",
     0},
    {"32 RBL SERVFAIL",
     {"smtpd_client_restrictions", "reject_rbl_client bl.example.test"},
     true,
     "c.test",
     "a@remote.test",
     "alice@example.test",
     true,
     0,
     "RBL lookup error"},
    {"32 rbl_reply_maps",
     {"smtpd_client_restrictions", "reject_rbl_client bl.example.test", "rbl_reply_maps",
      "inline:{{bl.example.test=$$rbl_code 5.7.9 no $$client_address $${rbl_reason}}}"},
     true,
     "c.test",
     "a@remote.test",
     "alice@example.test",
     false,
     "554 5.7.9 no 192.0.2.10 listed",
     0},
    {"33 RHSBL sender",
     {"smtpd_sender_restrictions", "reject_rhsbl_sender bl.example.test"},
     true,
     "c.test",
     "x@spam.test",
     "alice@example.test",
     false,
     "554 5.7.1 Service unavailable; Sender address [x@spam.test] blocked using bl.example.test",
     0},
    {"34 unknown sender domain NXDOMAIN",
     {"smtpd_sender_restrictions", "reject_unknown_sender_domain"},
     true,
     "c.test",
     "x@nx.example.test",
     "alice@example.test",
     false,
     "450 4.1.8 <x@nx.example.test>: Sender address rejected: Domain not found",
     0},
    {"34 unknown sender domain SERVFAIL",
     {"smtpd_sender_restrictions", "reject_unknown_sender_domain"},
     true,
     "c.test",
     "x@nx.example.test",
     "alice@example.test",
     true,
     "450 4.1.8 <x@nx.example.test>: Sender address rejected: Domain not found",
     0},
    {"34 SERVFAIL then reject",
     {"smtpd_sender_restrictions", "reject_unknown_sender_domain", "smtpd_recipient_restrictions", "reject"},
     true,
     "c.test",
     "x@nx.example.test",
     "alice@example.test",
     true,
     "554 5.7.1 <alice@example.test>: Recipient address rejected: Access denied",
     0},
    {"34 known sender domain",
     {"smtpd_sender_restrictions", "reject_unknown_sender_domain"},
     true,
     "c.test",
     "x@good.test",
     "alice@example.test",
     false,
     0,
     0},
    {"34 null MX recipient",
     {"smtpd_recipient_restrictions", "reject_unknown_recipient_domain, permit"},
     false,
     "c.test",
     "x@good.test",
     "u@null.test",
     false,
     "556 5.1.10 <u@null.test>: Recipient address rejected: Domain null.test does not accept mail (nullMX)",
     0},
    {"35 relay recipient known",
     {"relay_domains", "relay.test", "relay_recipient_maps", "inline:{ok@relay.test=1}"},
     true,
     "c.test",
     "a@remote.test",
     "ok@relay.test",
     false,
     0,
     0},
    {"35 relay recipient unknown",
     {"relay_domains", "relay.test", "relay_recipient_maps", "inline:{ok@relay.test=1}"},
     true,
     "c.test",
     "a@remote.test",
     "no@relay.test",
     false,
     "550 5.1.1 <no@relay.test>: Recipient address rejected: User unknown in relay recipient table",
     0},
    {"36 virtual mailbox",
     {"virtual_mailbox_domains", "vm.test", "virtual_mailbox_maps", "inline:{a@vm.test=x}",
      "virtual_alias_domains", "va.test", "virtual_alias_maps", "inline:{a@va.test=alice}"},
     true,
     "c.test",
     "a@remote.test",
     "b@vm.test",
     false,
     "550 5.1.1 <b@vm.test>: Recipient address rejected: User unknown in virtual mailbox table",
     0},
    {"36 virtual alias",
     {"virtual_mailbox_domains", "vm.test", "virtual_mailbox_maps", "inline:{a@vm.test=x}",
      "virtual_alias_domains", "va.test", "virtual_alias_maps", "inline:{a@va.test=alice}"},
     true,
     "c.test",
     "a@remote.test",
     "b@va.test",
     false,
     "550 5.1.1 <b@va.test>: Recipient address rejected: User unknown in virtual alias table",
     0},
    {"36 virtual alias known",
     {"virtual_mailbox_domains", "vm.test", "virtual_mailbox_maps", "inline:{a@vm.test=x}",
      "virtual_alias_domains", "va.test", "virtual_alias_maps", "inline:{a@va.test=alice}"},
     true,
     "c.test",
     "a@remote.test",
     "a@va.test",
     false,
     0,
     0},
    {"37 relocated",
     {"relocated_maps", "inline:{carol@example.test=carol@new.test}"},
     true,
     "c.test",
     "a@remote.test",
     "carol@example.test",
     false,
     "550 5.1.6 <carol@example.test>: Recipient address rejected: User has moved to carol@new.test",
     0},
    {"38 policy down",
     {"smtpd_recipient_restrictions", "check_policy_service { unix:/nonexistent/policy, timeout=1s }"},
     true,
     "c.test",
     "a@remote.test",
     "alice@example.test",
     false,
     "451 4.3.5 <alice@example.test>: Recipient address rejected: Server configuration problem",
     0},
    {"48 removed restriction",
     {"smtpd_recipient_restrictions", "check_relay_domains"},
     true,
     "c.test",
     "a@remote.test",
     "alice@example.test",
     false,
     "451 4.3.5 Server configuration error",
     "reject_unauth_destination"},
    {"unknown restriction",
     {"smtpd_recipient_restrictions", "reject_unknown_sender"},
     true,
     "c.test",
     "a@remote.test",
     "alice@example.test",
     false,
     "451 4.3.5 Server configuration error",
     "unknown smtpd restriction: \"reject_unknown_sender\""},
    {"enhanced code adapted for senders",
     {"smtpd_sender_restrictions", "check_sender_access inline:{{x.test=550 5.1.1 no}}"},
     true,
     "c.test",
     "a@x.test",
     "alice@example.test",
     false,
     "550 5.1.7 <a@x.test>: Sender address rejected: no",
     0},
    {"enhanced code follows reply code",
     {"smtpd_recipient_restrictions", "check_recipient_access inline:{{alice@example.test=450 5.1.8 wait}}"},
     true,
     "c.test",
     "a@x.test",
     "alice@example.test",
     false,
     "450 4.1.2 <alice@example.test>: Recipient address rejected: wait",
     0},
    {"defer_if_reject then reject",
     {"smtpd_recipient_restrictions", "defer_if_reject, reject"},
     true,
     "c.test",
     "a@x.test",
     "alice@example.test",
     false,
     "450 4.7.0 <alice@example.test>: Recipient address rejected: defer_if_reject requested",
     0},
    {"access map restriction list value",
     {"smtpd_recipient_restrictions",
      "check_recipient_access inline:{{alice@example.test=reject_non_fqdn_sender permit}}"},
     true,
     "c.test",
     "a@b",
     "alice@example.test",
     false,
     "504 5.5.2 <a@b>: Sender address rejected: need fully-qualified address",
     0},
    {"access map lookup table value",
     {"smtpd_recipient_restrictions",
      "check_recipient_access inline:{{alice@example.test=check_sender_access hash:/x}}"},
     true,
     "c.test",
     "a@b.test",
     "alice@example.test",
     false,
     "451 4.3.5 Server configuration error",
     "do not specify lookup tables inside SMTPD access maps"},
    {"421 disconnects",
     {"smtpd_recipient_restrictions", "check_recipient_access inline:{{alice@example.test=421 go}}"},
     true,
     "c.test",
     "a@b.test",
     "alice@example.test",
     false,
     "421 4.7.1 <alice@example.test>: Recipient address rejected: go",
     0},
    {"reject_unknown_client_hostname",
     {"smtpd_client_restrictions", "reject_unknown_client_hostname"},
     true,
     "c.test",
     "a@b.test",
     "alice@example.test",
     false,
     0,
     0},
    {"reject_unlisted_sender",
     {"smtpd_reject_unlisted_sender", "yes"},
     true,
     "c.test",
     "nobody@example.test",
     "alice@example.test",
     false,
     "550 5.1.0 <nobody@example.test>: Sender address rejected: User unknown in local recipient table",
     0},
    {"permit_dnswl_client",
     {"smtpd_client_restrictions", "permit_dnswl_client wl.example.test, reject"},
     true,
     "c.test",
     "a@b.test",
     "alice@example.test",
     false,
     0,
     0},
};

static void test_rcpt(void **unused)
{
    (void)unused;
    for (size_t i = 0; i < sizeof(rcpt_cases) / sizeof(rcpt_cases[0]); i++) {
        const RCPT_CASE *tc = rcpt_cases + i;
        SMTPD_STATE state;
        const char *reply;

        print_message("case: %s\n", tc->title);
        test_config(tc->settings);
        test_session(&state, tc->outside, tc->helo, tc->sender);
        test_dns_servfail = tc->servfail;
        reply = smtpd_check_rcpt(&state, tc->recipient);
        test_expect(reply, tc->reply);
        if (tc->log && !test_logged(tc->log)) {
            for (size_t j = 0; j < test_log->argc; j++)
                print_message("log: %s\n", test_log->argv[j]);
            fail_msg("%s: no log line contains \"%s\"", tc->title, tc->log);
        }
        test_session_free(&state);
        test_dns_servfail = false;
    }
}

/* 24: delay_reject = no rejects the client at CONNECT. */
static void test_client_no_delay(void **unused)
{
    static const char *const settings[] = {"smtpd_delay_reject", "no", "smtpd_client_restrictions",
                                           "check_client_access inline:{127.0.0.2=REJECT}", 0};
    SMTPD_STATE state;

    (void)unused;
    test_config(settings);
    test_session(&state, false, 0, 0);
    myfree(state.addr);
    state.addr = mystrdup("127.0.0.2");
    myfree(state.namaddr);
    state.namaddr = mystrdup("localhost[127.0.0.2]");
    state.where = SMTPD_AFTER_CONNECT;
    test_expect(smtpd_check_client(&state),
                "554 5.7.1 <localhost[127.0.0.2]>: Client host rejected: Access denied");
    assert_true(test_logged("reject: 554 5.7.1 <localhost[127.0.0.2]>"));
    test_session_free(&state);
}

/* 40: side-effect actions; all accept. */
static void test_actions(void **unused)
{
    static const char *const settings[] = {
        "smtpd_recipient_restrictions",
        "check_recipient_access inline:{{alice@example.test=HOLD}, {bob@example.test=REDIRECT "
        "bob@example.test}, "
        "{all@example.test=FILTER smtp:[127.0.0.1]:10099}, {postmaster@example.test=BCC bob@example.test}}, "
        "check_sender_access inline:{{p@x.test=PREPEND X-Test: yes}, {d@x.test=DISCARD}}",
        0};
    SMTPD_STATE state;

    (void)unused;
    test_config(settings);
    test_session(&state, true, "c.test", "p@x.test");
    test_expect(smtpd_check_rcpt(&state, "alice@example.test"), 0);
    assert_true(state.saved_flags & CLEANUP_FLAG_HOLD);
    assert_true(test_logged("hold: <alice@example.test>: Recipient address triggers HOLD action"));
    assert_non_null(state.prepend);
    assert_string_equal(state.prepend->argv[0], "X-Test: yes");
    test_expect(smtpd_check_rcpt(&state, "bob@example.test"), 0);
    assert_string_equal(state.saved_redirect, "bob@example.test");
    test_expect(smtpd_check_rcpt(&state, "all@example.test"), 0);
    assert_string_equal(state.saved_filter, "smtp:[127.0.0.1]:10099");
    test_expect(smtpd_check_rcpt(&state, "postmaster@example.test"), 0);
    assert_string_equal(state.saved_bcc->argv[0], "bob@example.test");
    test_session_free(&state);

    test_session(&state, true, "c.test", "d@x.test");
    test_expect(smtpd_check_rcpt(&state, "nobody@example.test"), 0);
    assert_true(state.saved_flags & CLEANUP_FLAG_DISCARD);
    assert_true(test_logged("discard: <d@x.test>: Sender address triggers DISCARD action"));
    test_session_free(&state);
}

/* 41: reject_unauth_pipelining at DATA; multi-recipient bounce. */
static void test_data(void **unused)
{
    static const char *const settings[] = {"smtpd_data_restrictions",
                                           "reject_unauth_pipelining, reject_multi_recipient_bounce", 0};
    SMTPD_STATE state;

    (void)unused;
    test_config(settings);
    test_session(&state, true, "c.test", "");
    state.where = SMTPD_CMD_DATA;
    state.rcpt_count = 1;
    test_expect(smtpd_check_data(&state), 0);
    state.rcpt_count = 2;
    test_expect(smtpd_check_data(&state), "550 5.5.3 <DATA>: Data command rejected: Multi-recipient bounce");
    state.flags |= SMTPD_FLAG_ILL_PIPELINE;
    test_expect(smtpd_check_data(&state),
                "503 5.5.0 <DATA>: Data command rejected: Improper use of SMTP command pipelining");
    test_session_free(&state);
}

/* 49: no list can refuse relaying: fatal at startup. */
static void test_startup_fatal(void **unused)
{
    int fds[2];
    pid_t pid;
    int status;
    char buf[1000];
    ssize_t n;

    (void)unused;
    assert_int_equal(pipe(fds), 0);
    if ((pid = fork()) == 0) {
        static const char *const settings[] = {"smtpd_relay_restrictions", "", "smtpd_recipient_restrictions",
                                               "permit_mynetworks", 0};

        dup2(fds[1], 2);
        msg_output_reset();
        test_config(settings);
        _exit(0);
    }
    close(fds[1]);
    n = read(fds[0], buf, sizeof(buf) - 1);
    buf[n > 0 ? n : 0] = 0;
    close(fds[0]);
    waitpid(pid, &status, 0);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) != 0);
    assert_non_null(strstr(buf,
                           "fatal: in parameter smtpd_relay_restrictions or smtpd_recipient_restrictions, "
                           "specify at least one working instance of: "));
}

/* Reply length, SIZE and address syntax. */
static void test_misc(void **unused)
{
    static const char *const settings[] = {"message_size_limit", "1000", 0};
    SMTPD_STATE state;
    static char long_addr[700];

    (void)unused;
    test_config(settings);
    test_session(&state, true, "c.test", "a@b.test");
    state.where = SMTPD_CMD_MAIL;
    test_expect(smtpd_check_size(&state, 5000), "552 5.3.4 Message size exceeds fixed limit");
    test_expect(smtpd_check_size(&state, 500), 0);
    assert_int_equal(smtpd_check_addr(&state, "u@example.test", false), 0);
    assert_int_equal(smtpd_check_addr(&state, "u@remote.test.", false), 0);
    assert_int_equal(smtpd_check_addr(&state, "u@[192.0.2.1]", false), 0);
    assert_int_equal(smtpd_check_addr(&state, "u@[192.0.2]", false), -1);
    assert_int_equal(smtpd_check_addr(&state, "u@bad..domain", false), -1);
    assert_int_equal(smtpd_check_addr(&state, "", false), 0);
    assert_true(smtpd_check_xclient_ok(&state) == false);
    assert_true(smtpd_check_mynetworks(&state) == false);
    test_session_free(&state);
    test_session(&state, false, "c.test", "a@b.test");
    assert_true(smtpd_check_xclient_ok(&state));
    assert_true(smtpd_check_mynetworks(&state));
    assert_true(smtpd_check_bare_lf_exempt(&state));

    /* A long recipient: the reply is cut to 510 characters. */
    memset(long_addr, 'a', 600);
    strcpy(long_addr + 600, "@remote.test");
    test_config((const char *const[]){"smtpd_relay_restrictions", "reject_unauth_destination", 0});
    {
        const char *reply = smtpd_check_rcpt(&state, long_addr);

        assert_non_null(reply);
        assert_int_equal(strlen(reply), 510);
        assert_memory_equal(reply, "554 5.7.1 <aaa", 14);
    }
    test_session_free(&state);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rcpt), cmocka_unit_test(test_client_no_delay), cmocka_unit_test(test_actions),
        cmocka_unit_test(test_data), cmocka_unit_test(test_startup_fatal),   cmocka_unit_test(test_misc),
    };

    test_log = argv_alloc(10);
    msg_output(test_output);
    dict_allow_surrogate = 1;
    return cmocka_run_group_tests(tests, 0, 0);
}
