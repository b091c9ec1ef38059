/*
 * smtpd_check - the SMTP server's restriction engine (spec/smtpd.md §7,
 * §8, §9.2, §13): restriction lists and classes, access maps and their
 * actions, relay control, recipient and sender validation, and the small
 * client predicates of smtpd_check.h. The DNS-based restrictions live in
 * smtpd_check_dns.c; what both share is in smtpd_check_int.h.
 *
 * Public functions: see smtpd_check.h. Every decision is a reply text
 * (NULL = go on); rejections are logged with smtpd_log_event(). Startup
 * problems (a list that cannot reject relay attempts, an undefined class,
 * a restriction without its argument) are fatal in smtpd_check_init();
 * later problems (unknown restrictions, table lookup failures) answer
 * 451 4.3.5 with a warning.
 */
#include "sys_defs.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "access_keys.h"
#include "dns.h"
#include "argv.h"
#include "cleanup_user.h"
#include "dict.h"
#include "domain_list.h"
#include "htable.h"
#include "is_header.h"
#include "mail_addr_find.h"
#include "mail_conf.h"
#include "mail_params.h"
#include "maps.h"
#include "msg.h"
#include "mymalloc.h"
#include "namadr_list.h"
#include "resolve_clnt.h"
#include "resolve_local.h"
#include "smtpd.h"
#include "smtpd_check.h"
#include "smtpd_check_int.h"
#include "smtpd_policy.h"
#include "stringops.h"
#include "valid_hostname.h"
#include "vstring.h"

#define STR(x) vstring_str(x)

/* How deep restriction classes may nest. */
#define SMTPD_CHECK_MAX_RECURSION 100

/* The longest reply text (RFC 5321 line minus CRLF). */
#define SMTPD_CHECK_REPLY_MAX 510

/* What argument a restriction takes. */
#define ARG_NONE   0
#define ARG_TABLE  1
#define ARG_DOMAIN 2
#define ARG_POLICY 3
#define ARG_NUMBER 4

/* The parsed restriction lists, by stage. */
static ARGV *smtpd_client_list;
static ARGV *smtpd_helo_list;
static ARGV *smtpd_sender_list;
static ARGV *smtpd_relay_list;
static ARGV *smtpd_rcpt_list;
static ARGV *smtpd_data_list;
static ARGV *smtpd_eod_list;
static ARGV *smtpd_etrn_list;

static HTABLE *smtpd_check_classes;  /* class name -> ARGV */
static HTABLE *smtpd_check_tables;   /* "type:name" -> MAPS */
static HTABLE *smtpd_check_policies; /* spec -> SMTPD_POLICY */
static bool smtpd_check_parent_mode;

/* Client lists and the tables of recipient validation. */
static NAMADR_LIST *smtpd_check_mynetworks_list;
static NAMADR_LIST *smtpd_check_xclient_list;
static NAMADR_LIST *smtpd_check_xforward_list;
static NAMADR_LIST *smtpd_check_verp_list;
static NAMADR_LIST *smtpd_check_event_list;
static NAMADR_LIST *smtpd_check_bare_lf_list;
static MAPS *smtpd_check_canonical;
static MAPS *smtpd_check_send_canonical;
static MAPS *smtpd_check_rcpt_canonical;
static MAPS *smtpd_check_virt_alias;
static MAPS *smtpd_check_virt_mailbox;
static MAPS *smtpd_check_local_rcpt;
static MAPS *smtpd_check_relay_rcpt;
static MAPS *smtpd_check_relocated;

/* Removed restrictions and what replaces them. */
static const char *const smtpd_check_removed[][2] = {
    {"permit_naked_ip_address", "permit_mynetworks"},
    {"reject_maps_rbl", "reject_rbl_client domain-name"},
    {"check_relay_domains", "reject_unauth_destination"},
};

/* Old names that still work. */
static const char *const smtpd_check_aliases[][2] = {
    {"reject_unknown_client", "reject_unknown_client_hostname"},
    {"reject_invalid_hostname", "reject_invalid_helo_hostname"},
    {"reject_non_fqdn_hostname", "reject_non_fqdn_helo_hostname"},
    {"reject_unknown_hostname", "reject_unknown_helo_hostname"},
    {"check_recipient_maps", "reject_unlisted_recipient"},
    {"reject_rbl", "reject_rbl_client"},
};

/* Split a restriction list into tokens; {...} groups stay together. */
static ARGV *smtpd_check_parse(const char *value)
{
    ARGV *argv = argv_alloc(10);
    char *saved = mystrdup(value ? value : "");
    char *bp = saved;
    char *tok;

    while ((tok = mystrtokq(&bp, ", \t\r\n", "{}")) != 0)
        argv_add(argv, tok);
    myfree(saved);
    return argv;
}

/* The current name of an old alias, or the name itself. */
static const char *smtpd_check_canon_name(const char *name)
{
    for (size_t i = 0; i < sizeof(smtpd_check_aliases) / sizeof(smtpd_check_aliases[0]); i++)
        if (strcasecmp(name, smtpd_check_aliases[i][0]) == 0)
            return smtpd_check_aliases[i][1];
    return name;
}

/* What kind of argument the restriction name takes. */
static int smtpd_check_arg_kind(const char *name)
{
    size_t len = strlen(name);

    name = smtpd_check_canon_name(name);
    len = strlen(name);
    if (strncasecmp(name, "check_", 6) == 0 && len > 13 && strcasecmp(name + len - 7, "_access") == 0)
        return ARG_TABLE;
    if (strcasecmp(name, "check_policy_service") == 0)
        return ARG_POLICY;
    if (strcasecmp(name, "reject_rbl_client") == 0 || strncasecmp(name, "reject_rhsbl_", 13) == 0 ||
        strcasecmp(name, "permit_dnswl_client") == 0 || strcasecmp(name, "permit_rhswl_client") == 0)
        return ARG_DOMAIN;
    if (strcasecmp(name, "sleep") == 0)
        return ARG_NUMBER;
    return ARG_NONE;
}

/* The open table list for a "type:name" restriction argument. */
static MAPS *smtpd_check_maps(const char *spec)
{
    MAPS *maps;

    if (smtpd_check_tables == 0)
        smtpd_check_tables = htable_create(10, 0);
    if ((maps = htable_find(smtpd_check_tables, spec)) == 0) {
        maps = maps_create("smtpd_access_maps", spec, DICT_FLAG_DEFAULT);
        htable_enter(smtpd_check_tables, spec, maps);
    }
    return maps;
}

/* Open what one parsed list needs: tables, policy clients; check arguments. */
static void smtpd_check_prepare(const char *param, ARGV *list)
{
    for (size_t i = 0; i < list->argc; i++) {
        const char *name = list->argv[i];
        int kind = smtpd_check_arg_kind(name);

        if (kind == ARG_NONE)
            continue;
        if (i + 1 >= list->argc)
            msg_fatal("restriction %s in parameter %s requires %s argument", name, param,
                      kind == ARG_TABLE    ? "maptype:mapname"
                      : kind == ARG_DOMAIN ? "domain name"
                      : kind == ARG_POLICY ? "policy service"
                                           : "numerical");
        i++;
        if (kind == ARG_TABLE) {
            if (strchr(list->argv[i], ':') == 0)
                msg_fatal("restriction %s in parameter %s: bad table name \"%s\"", name, param,
                          list->argv[i]);
            /* "{ type:table, { search_order = ... } }" is check_ccert_access's. */
            if (*list->argv[i] != '{')
                (void)smtpd_check_maps(list->argv[i]);
        } else if (kind == ARG_POLICY) {
            if (smtpd_check_policies == 0)
                smtpd_check_policies = htable_create(5, 0);
            if (htable_find(smtpd_check_policies, list->argv[i]) == 0)
                htable_enter(smtpd_check_policies, list->argv[i], smtpd_policy_init(list->argv[i]));
        } else if (kind == ARG_NUMBER && !alldig(list->argv[i])) {
            msg_fatal("restriction %s in parameter %s requires a number, not \"%s\"", name, param,
                      list->argv[i]);
        }
    }
}

/* Parse and prepare one restriction list parameter. */
static ARGV *smtpd_check_list_init(const char *param, const char *value)
{
    ARGV *list = smtpd_check_parse(value);

    smtpd_check_prepare(param, list);
    return list;
}

/* Whether a relay or recipient list can refuse an unauthorised relay attempt. */
static bool smtpd_check_can_reject(const ARGV *list)
{
    static const char *const working[] = {"reject", "defer", "defer_if_permit", "reject_unauth_destination",
                                          "defer_unauth_destination"};

    for (size_t i = 0; i < list->argc; i++)
        for (size_t j = 0; j < sizeof(working) / sizeof(working[0]); j++)
            if (strcasecmp(list->argv[i], working[j]) == 0)
                return true;
    return false;
}

static void smtpd_check_argv_free(void *ptr)
{
    argv_free(ptr);
}

static void smtpd_check_maps_free(void *ptr)
{
    maps_free(ptr);
}

/* Release what an earlier smtpd_check_init() built (tests re-initialise). */
static void smtpd_check_forget(void)
{
    ARGV **lists[] = {&smtpd_client_list, &smtpd_helo_list, &smtpd_sender_list, &smtpd_relay_list,
                      &smtpd_rcpt_list,   &smtpd_data_list, &smtpd_eod_list,    &smtpd_etrn_list};
    NAMADR_LIST **nlists[] = {&smtpd_check_mynetworks_list, &smtpd_check_xclient_list,
                              &smtpd_check_xforward_list,   &smtpd_check_verp_list,
                              &smtpd_check_event_list,      &smtpd_check_bare_lf_list};
    MAPS **maps[] = {&smtpd_check_canonical,  &smtpd_check_send_canonical, &smtpd_check_rcpt_canonical,
                     &smtpd_check_virt_alias, &smtpd_check_virt_mailbox,   &smtpd_check_local_rcpt,
                     &smtpd_check_relay_rcpt, &smtpd_check_relocated};

    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
        if (*lists[i])
            *lists[i] = argv_free(*lists[i]);
    for (size_t i = 0; i < sizeof(nlists) / sizeof(nlists[0]); i++)
        if (*nlists[i])
            *nlists[i] = namadr_list_free(*nlists[i]);
    for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++)
        if (*maps[i])
            *maps[i] = maps_free(*maps[i]);
    if (smtpd_check_classes)
        smtpd_check_classes = htable_free(smtpd_check_classes, smtpd_check_argv_free);
    if (smtpd_check_tables)
        smtpd_check_tables = htable_free(smtpd_check_tables, smtpd_check_maps_free);
    if (smtpd_check_policies)
        smtpd_check_policies = htable_free(smtpd_check_policies, 0);
}

/* Parse every list and class, open their tables; fatal on §7.1 problems. */
void smtpd_check_init(void)
{
    ARGV *classes;

    smtpd_check_forget();
    smtpd_check_parent_mode = access_keys_parent_mode("smtpd_access_maps");

    /* Classes first: lists may name them. */
    smtpd_check_classes = htable_create(10, 0);
    classes = smtpd_check_parse(var_smtpd_restriction_classes);
    for (size_t i = 0; i < classes->argc; i++) {
        const char *name = classes->argv[i];
        const char *value = mail_conf_eval(name);

        if (value == 0)
            msg_fatal("restriction class `%s' needs a definition", name);
        if (htable_find(smtpd_check_classes, name) == 0)
            htable_enter(smtpd_check_classes, name, smtpd_check_list_init(name, value));
    }
    argv_free(classes);

    smtpd_client_list = smtpd_check_list_init("smtpd_client_restrictions", var_smtpd_client_restrictions);
    smtpd_helo_list = smtpd_check_list_init("smtpd_helo_restrictions", var_smtpd_helo_restrictions);
    smtpd_sender_list = smtpd_check_list_init("smtpd_sender_restrictions", var_smtpd_sender_restrictions);
    smtpd_relay_list = smtpd_check_list_init("smtpd_relay_restrictions", var_smtpd_relay_restrictions);
    smtpd_rcpt_list = smtpd_check_list_init("smtpd_recipient_restrictions", var_smtpd_recipient_restrictions);
    smtpd_data_list = smtpd_check_list_init("smtpd_data_restrictions", var_smtpd_data_restrictions);
    smtpd_eod_list =
        smtpd_check_list_init("smtpd_end_of_data_restrictions", var_smtpd_end_of_data_restrictions);
    smtpd_etrn_list = smtpd_check_list_init("smtpd_etrn_restrictions", var_smtpd_etrn_restrictions);

    if (!smtpd_check_can_reject(smtpd_relay_list) && !smtpd_check_can_reject(smtpd_rcpt_list))
        msg_fatal(
            "in parameter smtpd_relay_restrictions or smtpd_recipient_restrictions, specify at least one "
            "working instance of: reject_unauth_destination, defer_unauth_destination, reject, defer, "
            "defer_if_permit");

    smtpd_check_mynetworks_list = namadr_list_init("mynetworks", var_mynetworks);
    smtpd_check_xclient_list =
        namadr_list_init("smtpd_authorized_xclient_hosts", var_smtpd_authorized_xclient_hosts);
    smtpd_check_xforward_list =
        namadr_list_init("smtpd_authorized_xforward_hosts", var_smtpd_authorized_xforward_hosts);
    smtpd_check_verp_list =
        namadr_list_init("smtpd_authorized_verp_clients", var_smtpd_authorized_verp_clients);
    smtpd_check_event_list =
        namadr_list_init("smtpd_client_event_limit_exceptions", var_smtpd_client_event_limit_exceptions);
    smtpd_check_bare_lf_list =
        namadr_list_init("smtpd_forbid_bare_newline_exclusions", var_smtpd_forbid_bare_newline_exclusions);

    smtpd_check_canonical = maps_create("canonical_maps", var_canonical_maps, DICT_FLAG_DEFAULT);
    smtpd_check_send_canonical =
        maps_create("sender_canonical_maps", var_sender_canonical_maps, DICT_FLAG_DEFAULT);
    smtpd_check_rcpt_canonical =
        maps_create("recipient_canonical_maps", var_recipient_canonical_maps, DICT_FLAG_DEFAULT);
    smtpd_check_virt_alias = maps_create("virtual_alias_maps", var_virtual_alias_maps, DICT_FLAG_DEFAULT);
    smtpd_check_virt_mailbox =
        maps_create("virtual_mailbox_maps", var_virtual_mailbox_maps, DICT_FLAG_DEFAULT);
    smtpd_check_local_rcpt = maps_create("local_recipient_maps", var_local_recipient_maps, DICT_FLAG_DEFAULT);
    smtpd_check_relay_rcpt = maps_create("relay_recipient_maps", var_relay_recipient_maps, DICT_FLAG_DEFAULT);
    smtpd_check_relocated = maps_create("relocated_maps", var_relocated_maps, DICT_FLAG_DEFAULT);
    smtpd_check_dns_init();
    smtpd_check_tls_init();
    smtpd_check_sasl_init();
}

/* Per-session engine state. */
void smtpd_check_state_init(SMTPD_STATE *state)
{
    SMTPD_CHECK_STATE *ck = mymalloc(sizeof(*ck));

    memset(ck, 0, sizeof(*ck));
    ck->reply = vstring_alloc(100);
    ck->saved = vstring_alloc(100);
    ck->dip.reply = vstring_alloc(100);
    ck->dir.reply = vstring_alloc(100);
    for (int i = 0; i < SMTPD_CHECK_STAGES; i++)
        ck->stage_dip[i].reply = vstring_alloc(100);
    state->check = ck;
}

/* Release the per-session engine state. */
void smtpd_check_state_free(SMTPD_STATE *state)
{
    SMTPD_CHECK_STATE *ck = state->check;

    if (ck == 0)
        return;
    smtpd_check_dns_state_free(state);
    vstring_free(ck->reply);
    vstring_free(ck->saved);
    vstring_free(ck->dip.reply);
    vstring_free(ck->dir.reply);
    for (int i = 0; i < SMTPD_CHECK_STAGES; i++) {
        vstring_free(ck->stage_dip[i].reply);
        if (ck->stage_reply[i])
            myfree(ck->stage_reply[i]);
    }
    myfree(ck);
    state->check = 0;
}

/* Forget one remembered stage result. */
static void smtpd_check_stage_forget(SMTPD_CHECK_STATE *ck, int stage)
{
    ck->stage_dip[stage].active = false;
    if (ck->stage_reply[stage]) {
        myfree(ck->stage_reply[stage]);
        ck->stage_reply[stage] = 0;
    }
}

/* Per transaction: the sender result always, client and helo with delay_reject. */
void smtpd_check_reset(SMTPD_STATE *state)
{
    SMTPD_CHECK_STATE *ck = state->check;

    if (ck == 0)
        return;
    smtpd_check_stage_forget(ck, SMTPD_CHECK_STAGE_SENDER);
    if (var_smtpd_delay_reject) {
        smtpd_check_stage_forget(ck, SMTPD_CHECK_STAGE_CLIENT);
        smtpd_check_stage_forget(ck, SMTPD_CHECK_STAGE_HELO);
    }
    ck->sendermap_checked = false;
    ck->dip.active = false;
    ck->dir.active = false;
}

/* Start one command's evaluation. */
static void smtpd_check_begin(SMTPD_STATE *state)
{
    if (state->check == 0)
        smtpd_check_state_init(state);
    state->check->dip.active = false;
    state->check->dir.active = false;
    state->check->warn_if_reject = false;
    state->check->recursion = 0;
}

/* Adapt an enhanced status code to the reply code and the reply class. */
static void smtpd_check_dsn_fix(char *dsn, size_t size, int code, const char *dsn_in, const char *reply_class)
{
    const char *detail;
    int sub;

    snprintf(dsn, size, "%s", dsn_in && *dsn_in ? dsn_in : (code / 100 == 4 ? "4.0.0" : "5.0.0"));
    dsn[0] = (char)('0' + code / 100);
    if (dsn[1] != '.' || dsn[2] != '1' || dsn[3] != '.' || reply_class == 0)
        return;
    detail = dsn + 4;
    sub = atoi(detail);
    if (strcmp(reply_class, SMTPD_NAME_SENDER) == 0) {
        if (sub == 1 || sub == 3 || sub == 4 || sub == 6 || sub == 7)
            sub = 7;
        else if (sub == 2 || sub == 8)
            sub = 8;
        else
            sub = 0;
        snprintf(dsn + 4, size - 4, "%d", sub);
    } else if (strcmp(reply_class, SMTPD_NAME_RECIPIENT) == 0) {
        if (sub == 7)
            sub = 3;
        else if (sub == 8)
            sub = 2;
        else if (sub < 1 || sub > 6)
            sub = 0;
        snprintf(dsn + 4, size - 4, "%d", sub);
    } else {
        snprintf(dsn + 2, size - 2, "0.0");
    }
}

/* Format "CODE DSN TEXT" into buf: printable, at most 510 characters. */
static void smtpd_check_format(VSTRING *buf, int code, const char *dsn, const char *reply_class,
                               const char *fmt, va_list ap)
{
    char fixed[32];

    smtpd_check_dsn_fix(fixed, sizeof(fixed), code, dsn, reply_class);
    vstring_sprintf(buf, "%d %s ", code, fixed);
    vstring_vsprintf_append(buf, fmt, ap);
    for (char *cp = STR(buf); *cp; cp++)
        if ((unsigned char)*cp < 0x20 || *cp == 0x7f)
            *cp = ' ';
    if (VSTRING_LEN(buf) > SMTPD_CHECK_REPLY_MAX)
        vstring_truncate(buf, SMTPD_CHECK_REPLY_MAX);
}

/* Reject: defer_if_reject and warn_if_reject apply; log the decision. */
int smtpd_check_reject(SMTPD_STATE *state, int err, int code, const char *dsn, const char *reply_class,
                       const char *fmt, ...)
{
    SMTPD_CHECK_STATE *ck = state->check;
    va_list ap;

    va_start(ap, fmt);
    smtpd_check_format(ck->reply, code, dsn, reply_class, fmt, ap);
    va_end(ap);
    if (ck->dir.active && STR(ck->reply)[0] == '5') {
        vstring_strcpy(ck->reply, STR(ck->dir.reply));
        code = atoi(STR(ck->reply));
    }
    if (ck->warn_if_reject && err == SMTPD_ERR_POLICY) {
        smtpd_log_event(state, "reject_warning", STR(ck->reply));
        return SMTPD_CHECK_DUNNO;
    }
    if (code == 421 || code == 521)
        state->flags |= SMTPD_FLAG_HANGUP;
    smtpd_log_event(state, "reject", STR(ck->reply));
    return SMTPD_CHECK_REJECT;
}

/* Remember a defer_if_permit or defer_if_reject reply (the first one wins). */
void smtpd_check_defer(SMTPD_STATE *state, int which, int code, const char *dsn, const char *reply_class,
                       const char *fmt, ...)
{
    SMTPD_CHECK_DEFER *defer = which == SMTPD_DEFER_IF_PERMIT ? &state->check->dip : &state->check->dir;
    va_list ap;

    if (defer->active)
        return;
    va_start(ap, fmt);
    smtpd_check_format(defer->reply, code, dsn, reply_class, fmt, ap);
    va_end(ap);
    defer->active = true;
}

/* Apply a *_tempfail_action to a temporary failure with this 4xx reply. */
int smtpd_check_tempfail(SMTPD_STATE *state, const char *action, int code, const char *dsn,
                         const char *reply_class, const char *text)
{
    if (strcasecmp(action, "defer_if_permit") == 0) {
        smtpd_check_defer(state, SMTPD_DEFER_IF_PERMIT, code, dsn, reply_class, "%s", text);
        return SMTPD_CHECK_DUNNO;
    }
    if (strcasecmp(action, "defer_if_reject") == 0) {
        smtpd_check_defer(state, SMTPD_DEFER_IF_REJECT, code, dsn, reply_class, "%s", text);
        return SMTPD_CHECK_DUNNO;
    }
    if (strcasecmp(action, "defer") == 0 || strcasecmp(action, "reject") == 0)
        return smtpd_check_reject(state, SMTPD_ERR_POLICY, code, dsn, reply_class, "%s", text);
    msg_warn("unknown temporary failure action \"%s\"; using defer_if_permit", action);
    smtpd_check_defer(state, SMTPD_DEFER_IF_PERMIT, code, dsn, reply_class, "%s", text);
    return SMTPD_CHECK_DUNNO;
}

/* 451 4.3.5 for a failed table lookup or a broken table entry. */
int smtpd_check_config_error(SMTPD_STATE *state, const char *reply_name, const char *reply_class)
{
    if (reply_name == 0)
        return smtpd_check_reject(state, SMTPD_ERR_SOFTWARE, 451, "4.3.5", 0, "Server configuration error");
    return smtpd_check_reject(state, SMTPD_ERR_SOFTWARE, 451, "4.3.5", reply_class,
                              "<%s>: %s rejected: Server configuration error", reply_name, reply_class);
}

/* Does text start with an enhanced status code "d.ddd.ddd" plus space or end? */
static size_t smtpd_check_dsn_len(const char *text)
{
    const char *cp = text;
    int n;

    if (*cp != '2' && *cp != '4' && *cp != '5')
        return 0;
    cp++;
    for (int part = 0; part < 2; part++) {
        if (*cp++ != '.')
            return 0;
        for (n = 0; isdigit((unsigned char)*cp); cp++)
            n++;
        if (n < 1 || n > 3)
            return 0;
    }
    if (*cp != 0 && *cp != ' ' && *cp != '\t')
        return 0;
    return (size_t)(cp - text);
}

static int smtpd_check_list(SMTPD_STATE *state, ARGV *list, const char *reply_name, const char *reply_class);

/* Evaluate a restriction list given as a table value (or a class). */
static int smtpd_check_nested(SMTPD_STATE *state, ARGV *list, const char *reply_name, const char *reply_class)
{
    SMTPD_CHECK_STATE *ck = state->check;
    int status;

    if (ck->recursion >= SMTPD_CHECK_MAX_RECURSION) {
        msg_warn("SMTPD access map or restriction class nesting exceeds %d levels",
                 SMTPD_CHECK_MAX_RECURSION);
        return smtpd_check_config_error(state, 0, 0);
    }
    ck->recursion++;
    status = smtpd_check_list(state, list, reply_name, reply_class);
    ck->recursion--;
    return status;
}

/* Record a side-effect action in the log: "<NAME>: CLASS TEXT". */
static void smtpd_check_log_action(SMTPD_STATE *state, const char *action, const char *reply_name,
                                   const char *reply_class, const char *text)
{
    VSTRING *buf = vstring_alloc(100);

    vstring_sprintf(buf, "<%s>: %s %s", reply_name, reply_class, text);
    smtpd_log_event(state, action, STR(buf));
    vstring_free(buf);
}

/* Apply an access-map or policy action (§8.1). */
int smtpd_check_table_result(SMTPD_STATE *state, const char *table, const char *value, const char *reply_name,
                             const char *reply_class, bool no_ok)
{
    size_t len;
    const char *text;
    char kw[32];
    int status;

    while (*value == ' ' || *value == '\t')
        value++;
    if (*value == 0) {
        msg_warn("access table %s entry for %s has empty value", table, reply_name);
        return SMTPD_CHECK_OK;
    }
    len = strcspn(value, " \t");
    text = value + len;
    while (*text == ' ' || *text == '\t')
        text++;
    snprintf(kw, sizeof(kw), "%.*s", (int)(len < sizeof(kw) - 1 ? len : sizeof(kw) - 1), value);

    if (strcasecmp(kw, "OK") == 0 || strcasecmp(kw, "RELAY") == 0 || alldig(value)) {
        if (no_ok) {
            msg_warn(
                "access table %s: OK is not allowed here; use DUNNO instead of OK if you want to make an "
                "exception",
                table);
            return SMTPD_CHECK_DUNNO;
        }
        return SMTPD_CHECK_OK;
    }
    if (strcasecmp(kw, "DUNNO") == 0)
        return SMTPD_CHECK_DUNNO;
    if (strcasecmp(kw, "REJECT") == 0)
        return smtpd_check_reject(state, SMTPD_ERR_POLICY, var_access_map_reject_code, "5.7.1", reply_class,
                                  "<%s>: %s rejected: %s", reply_name, reply_class,
                                  *text ? text : "Access denied");
    if (strcasecmp(kw, "DEFER") == 0)
        return smtpd_check_reject(state, SMTPD_ERR_POLICY, var_access_map_defer_code, "4.7.1", reply_class,
                                  "<%s>: %s rejected: %s", reply_name, reply_class,
                                  *text ? text : "Access denied");
    if (strcasecmp(kw, "DEFER_IF_PERMIT") == 0 || strcasecmp(kw, "DEFER_IF_REJECT") == 0) {
        smtpd_check_defer(
            state, strcasecmp(kw, "DEFER_IF_PERMIT") == 0 ? SMTPD_DEFER_IF_PERMIT : SMTPD_DEFER_IF_REJECT,
            var_access_map_defer_code, "4.7.1", reply_class, "<%s>: %s rejected: %s", reply_name, reply_class,
            *text ? text : "Service unavailable");
        return SMTPD_CHECK_DUNNO;
    }
    if (strcasecmp(kw, "HOLD") == 0) {
        state->saved_flags |= CLEANUP_FLAG_HOLD;
        smtpd_check_log_action(state, "hold", reply_name, reply_class, *text ? text : "triggers HOLD action");
        return SMTPD_CHECK_DUNNO;
    }
    if (strcasecmp(kw, "DISCARD") == 0) {
        VSTRING *buf = vstring_alloc(100);

        state->saved_flags |= CLEANUP_FLAG_DISCARD;
        vstring_sprintf(buf, "<%s>: %s %s", reply_name, reply_class,
                        *text ? text : "triggers DISCARD action");
        if (state->discard_reason)
            myfree(state->discard_reason);
        state->discard_reason = mystrdup(STR(buf));
        smtpd_log_event(state, "discard", STR(buf));
        vstring_free(buf);
        return SMTPD_CHECK_OK;
    }
    if (strcasecmp(kw, "FILTER") == 0 || strcasecmp(kw, "REDIRECT") == 0 || strcasecmp(kw, "BCC") == 0) {
        bool filter = strcasecmp(kw, "FILTER") == 0;
        VSTRING *buf;

        if (filter ? (strchr(text, ':') == 0 || *text == ':') : strchr(text, '@') == 0) {
            msg_warn("access table %s entry \"%s\" requires %s", table, value,
                     filter ? "transport:destination" : "user@domain target");
            return smtpd_check_config_error(state, reply_name, reply_class);
        }
        buf = vstring_alloc(100);
        vstring_sprintf(buf, "triggers %s %s", kw, text);
        for (char *cp = STR(buf) + 9; *cp && *cp != ' '; cp++)
            *cp = (char)toupper((unsigned char)*cp);
        if (filter) {
            if (state->saved_filter)
                myfree(state->saved_filter);
            state->saved_filter = mystrdup(text);
            smtpd_check_log_action(state, "filter", reply_name, reply_class, STR(buf));
        } else if (strcasecmp(kw, "REDIRECT") == 0) {
            if (state->saved_redirect)
                myfree(state->saved_redirect);
            state->saved_redirect = mystrdup(text);
            smtpd_check_log_action(state, "redirect", reply_name, reply_class, STR(buf));
        } else {
            if (state->saved_bcc == 0)
                state->saved_bcc = argv_alloc(2);
            argv_add(state->saved_bcc, text);
            smtpd_check_log_action(state, "bcc", reply_name, reply_class, STR(buf));
        }
        vstring_free(buf);
        return SMTPD_CHECK_DUNNO;
    }
    if (strcasecmp(kw, "PREPEND") == 0) {
        if (is_header(text) == 0) {
            msg_warn("access table %s entry \"%s\" requires header: text", table, value);
            return smtpd_check_config_error(state, reply_name, reply_class);
        }
        if (state->where && strcmp(state->where, SMTPD_AFTER_EOM) == 0) {
            msg_warn("access table %s: action PREPEND is not allowed at end of data", table);
            return SMTPD_CHECK_DUNNO;
        }
        if (state->prepend == 0)
            state->prepend = argv_alloc(1);
        argv_add(state->prepend, text);
        return SMTPD_CHECK_DUNNO;
    }
    if (strcasecmp(kw, "WARN") == 0 || strcasecmp(kw, "INFO") == 0) {
        bool warn = strcasecmp(kw, "WARN") == 0;

        smtpd_check_log_action(state, warn ? "warn" : "info", reply_name, reply_class,
                               *text ? text : (warn ? "triggers WARN action" : "triggers INFO action"));
        return SMTPD_CHECK_DUNNO;
    }
    /* NNN text */
    if (len == 3 && alldig(kw) && (kw[0] == '4' || kw[0] == '5')) {
        int code = atoi(kw);
        size_t dlen = smtpd_check_dsn_len(text);
        char dsn[16];

        if (dlen > 0 && dlen < sizeof(dsn)) {
            snprintf(dsn, sizeof(dsn), "%.*s", (int)dlen, text);
            text += dlen;
            while (*text == ' ' || *text == '\t')
                text++;
        } else {
            snprintf(dsn, sizeof(dsn), "%c.7.1", kw[0]);
        }
        return smtpd_check_reject(state, SMTPD_ERR_POLICY, code, dsn, reply_class, "<%s>: %s rejected: %s",
                                  reply_name, reply_class, *text ? text : "Access denied");
    }
    if (len == 3 && alldig(kw)) {
        msg_warn("access table %s: bad reply code in \"%s\"", table, value);
        return smtpd_check_config_error(state, reply_name, reply_class);
    }

    /* A class name or a restriction list. */
    {
        ARGV *list = smtpd_check_parse(value);

        for (size_t i = 0; i < list->argc; i++) {
            if (strchr(list->argv[i], ':') != 0) {
                msg_warn("access table %s has entry with lookup table: %s", table, value);
                msg_warn("do not specify lookup tables inside SMTPD access maps");
                msg_warn("define a restriction class and specify its name instead.");
                argv_free(list);
                return smtpd_check_config_error(state, 0, 0);
            }
        }
        status = smtpd_check_nested(state, list, reply_name, reply_class);
        argv_free(list);
        return status;
    }
}

/* Look keys up in order (the first full, the rest fixed-key only). */
int smtpd_check_access_maps(SMTPD_STATE *state, const char *table, const char *const *keys, size_t nkeys,
                            size_t full, const char *reply_name, const char *reply_class, bool no_ok,
                            int *found)
{
    MAPS *maps = smtpd_check_maps(table);

    *found = 0;
    for (size_t i = 0; i < nkeys; i++) {
        const char *value = maps_find(maps, keys[i], i < full ? 0 : DICT_FLAG_FIXED);

        if (value != 0) {
            char *copy = mystrdup(value);
            int status;

            *found = 1;
            status = smtpd_check_table_result(state, table, copy, reply_name, reply_class, no_ok);
            myfree(copy);
            return status;
        }
        if (maps->error != DICT_ERR_NONE) {
            *found = 1;
            return smtpd_check_config_error(state, reply_name, reply_class);
        }
    }
    return SMTPD_CHECK_DUNNO;
}

/* Run one ARGV of keys against a table. */
static int smtpd_check_keys(SMTPD_STATE *state, const char *table, ARGV *keys, size_t full,
                            const char *reply_name, const char *reply_class, bool no_ok, int *found)
{
    int status = smtpd_check_access_maps(state, table, (const char *const *)keys->argv, keys->argc, full,
                                         reply_name, reply_class, no_ok, found);

    argv_free(keys);
    return status;
}

/* An IPv4-mapped IPv6 client address as plain IPv4. */
static const char *smtpd_check_plain_addr(const char *addr)
{
    if (strncasecmp(addr, "::ffff:", 7) == 0 && strchr(addr + 7, '.') != 0 && strchr(addr + 7, ':') == 0)
        return addr + 7;
    return addr;
}

/* check_client_access: the client name and parents, then the address. */
static int smtpd_check_client_access(SMTPD_STATE *state, const char *table, const char *name,
                                     const char *addr, const char *reply_class, bool no_ok)
{
    int found = 0;
    int status = SMTPD_CHECK_DUNNO;

    if (name && *name && strcasecmp(name, "unknown") != 0) {
        status = smtpd_check_keys(state, table, access_keys_host(name, smtpd_check_parent_mode), 1,
                                  state->namaddr, reply_class, no_ok, &found);
        if (found)
            return status;
    }
    if (addr && *addr)
        status = smtpd_check_keys(state, table, access_keys_addr(smtpd_check_plain_addr(addr)), 1,
                                  state->namaddr, reply_class, no_ok, &found);
    return status;
}

/* Canonical form and resolution of an address (trivial-rewrite). */
const RESOLVE_REPLY *smtpd_check_resolve(SMTPD_STATE *state, const char *addr)
{
    static RESOLVE_REPLY reply;
    static VSTRING *canon;
    static bool init;

    if (!init) {
        resolve_clnt_init(&reply);
        canon = vstring_alloc(100);
        init = true;
    }
    rewrite_clnt_query("local", addr, canon);
    if (VSTRING_LEN(canon) == 0)
        vstring_strcpy(canon, addr);
    resolve_clnt_query(state->sender ? state->sender : "", STR(canon), &reply);
    return &reply;
}

/* Whether the recipient resolves to sender-specified routing. */
static bool smtpd_check_routed(SMTPD_STATE *state, const char *addr)
{
    const RESOLVE_REPLY *reply;

    if (var_allow_untrusted_routing || *addr == 0)
        return false;
    reply = smtpd_check_resolve(state, addr);
    return (reply->flags & RESOLVE_FLAG_ROUTED) != 0;
}

/* check_sender_access, check_recipient_access. */
static int smtpd_check_mail_access(SMTPD_STATE *state, const char *table, const char *addr,
                                   const char *reply_class)
{
    size_t full = 0;
    ARGV *keys = access_keys_mail(addr, smtpd_check_parent_mode, &full);
    int found;
    int status;

    status = smtpd_check_keys(state, table, keys, full, addr, reply_class, false, &found);
    if (status == SMTPD_CHECK_OK && strcmp(reply_class, SMTPD_NAME_RECIPIENT) == 0 &&
        smtpd_check_routed(state, addr))
        status = SMTPD_CHECK_DUNNO;
    return status;
}

/* check_helo_access, check_etrn_access: the name and its parent domains. */
static int smtpd_check_domain_access(SMTPD_STATE *state, const char *table, const char *name,
                                     const char *reply_name, const char *reply_class)
{
    int found;

    return smtpd_check_keys(state, table, access_keys_host(name, smtpd_check_parent_mode), 1, reply_name,
                            reply_class, false, &found);
}

/* Is this an address literal [a.b.c.d] / [IPv6:...]? -1 malformed, 0 not a literal, 1 valid. */
static int smtpd_check_literal(const char *name)
{
    size_t len = strlen(name);
    char buf[100];
    unsigned char bin[16];

    if (len < 2 || name[0] != '[' || name[len - 1] != ']')
        return 0;
    if (len - 2 >= sizeof(buf))
        return -1;
    snprintf(buf, sizeof(buf), "%.*s", (int)(len - 2), name + 1);
    if (strncasecmp(buf, "IPv6:", 5) == 0)
        return inet_pton(AF_INET6, buf + 5, bin) == 1 ? 1 : -1;
    return inet_pton(AF_INET, buf, bin) == 1 ? 1 : -1;
}

/* A bare numeric address (1.2.3.4, 2001:db8::1)? */
static bool smtpd_check_hostaddr(const char *name)
{
    unsigned char bin[16];

    return inet_pton(AF_INET, name, bin) == 1 || inet_pton(AF_INET6, name, bin) == 1;
}

/* A host name with at most one trailing dot removed, into buf. */
static const char *smtpd_check_nodot(VSTRING *buf, const char *name)
{
    size_t len = strlen(name);

    vstring_strcpy(buf, name);
    if (len > 1 && name[len - 1] == '.')
        vstring_truncate(buf, len - 1);
    return STR(buf);
}

/* reject_invalid_helo_hostname */
static int smtpd_check_invalid_helo(SMTPD_STATE *state, const char *helo)
{
    VSTRING *buf;
    int lit = smtpd_check_literal(helo);
    bool ok;

    if (lit < 0)
        return smtpd_check_reject(state, SMTPD_ERR_POLICY, var_invalid_hostname_reject_code, "5.5.2",
                                  SMTPD_NAME_HELO, "<%s>: %s rejected: invalid ip address", helo,
                                  SMTPD_NAME_HELO);
    if (lit > 0)
        return SMTPD_CHECK_DUNNO;
    buf = vstring_alloc(100);
    ok = smtpd_check_hostaddr(helo) || valid_hostname(smtpd_check_nodot(buf, helo));
    vstring_free(buf);
    if (!ok)
        return smtpd_check_reject(state, SMTPD_ERR_POLICY, var_invalid_hostname_reject_code, "5.5.2",
                                  SMTPD_NAME_HELO, "<%s>: %s rejected: Invalid name", helo, SMTPD_NAME_HELO);
    return SMTPD_CHECK_DUNNO;
}

/* reject_non_fqdn_helo_hostname */
static int smtpd_check_non_fqdn_helo(SMTPD_STATE *state, const char *helo)
{
    VSTRING *buf;
    const char *name;
    bool ok;

    if (smtpd_check_literal(helo) != 0 || smtpd_check_hostaddr(helo))
        return SMTPD_CHECK_DUNNO;
    buf = vstring_alloc(100);
    name = smtpd_check_nodot(buf, helo);
    ok = strchr(name, '.') != 0 && valid_hostname(name);
    vstring_free(buf);
    if (!ok)
        return smtpd_check_reject(state, SMTPD_ERR_POLICY, var_non_fqdn_reject_code, "5.5.2", SMTPD_NAME_HELO,
                                  "<%s>: %s rejected: need fully-qualified hostname", helo, SMTPD_NAME_HELO);
    return SMTPD_CHECK_DUNNO;
}

/* reject_non_fqdn_sender / _recipient */
static int smtpd_check_non_fqdn_addr(SMTPD_STATE *state, const char *addr, const char *reply_class)
{
    const char *at = strrchr(addr, '@');
    VSTRING *buf;
    const char *domain;
    bool ok;

    if (*addr == 0)
        return SMTPD_CHECK_DUNNO;
    if (at != 0 && smtpd_check_literal(at + 1) != 0)
        return SMTPD_CHECK_DUNNO;
    buf = vstring_alloc(100);
    domain = at ? smtpd_check_nodot(buf, at + 1) : "";
    ok = *domain && strchr(domain, '.') != 0 && valid_hostname(domain);
    vstring_free(buf);
    if (!ok)
        return smtpd_check_reject(state, SMTPD_ERR_POLICY, var_non_fqdn_reject_code, "4.5.2", 0,
                                  "<%s>: %s rejected: need fully-qualified address", addr, reply_class);
    return SMTPD_CHECK_DUNNO;
}

/* permit_auth_destination: OK for local/virtual/relay domains without routing. */
static int smtpd_check_auth_dest(SMTPD_STATE *state, const char *addr)
{
    const RESOLVE_REPLY *reply;

    if (*addr == 0)
        return SMTPD_CHECK_DUNNO;
    reply = smtpd_check_resolve(state, addr);
    if (reply->flags & RESOLVE_FLAG_FAIL)
        return smtpd_check_reject(state, SMTPD_ERR_RESOURCE, 451, "4.3.0", 0,
                                  "<%s>: Temporary lookup failure", addr);
    if (!var_allow_untrusted_routing && (reply->flags & RESOLVE_FLAG_ROUTED))
        return SMTPD_CHECK_DUNNO;
    if (reply->flags &
        (RESOLVE_FLAG_FINAL | RESOLVE_CLASS_LOCAL | RESOLVE_CLASS_ALIAS | RESOLVE_CLASS_VIRTUAL))
        return SMTPD_CHECK_OK;
    if (reply->flags & RESOLVE_CLASS_RELAY)
        return SMTPD_CHECK_OK;
    return SMTPD_CHECK_DUNNO;
}

/* reject_unauth_destination / defer_unauth_destination */
static int smtpd_check_unauth_dest(SMTPD_STATE *state, const char *addr, int code)
{
    int status = smtpd_check_auth_dest(state, addr);

    if (status != SMTPD_CHECK_DUNNO)
        return status == SMTPD_CHECK_OK ? SMTPD_CHECK_DUNNO : status;
    return smtpd_check_reject(state, SMTPD_ERR_POLICY, code, code / 100 == 4 ? "4.7.1" : "5.7.1", 0,
                              "<%s>: Relay access denied", addr);
}

/* Is local part special (postmaster, MAILER-DAEMON, double bounce)? */
static bool smtpd_check_special_user(const char *addr)
{
    const char *at = strrchr(addr, '@');
    size_t len = at ? (size_t)(at - addr) : strlen(addr);
    const char *names[] = {"postmaster", "MAILER-DAEMON", var_double_bounce_sender};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i] && strlen(names[i]) == len && strncasecmp(addr, names[i], len) == 0)
            return true;
    return false;
}

/* Look addr up in maps: 1 found, 0 not found, -1 lookup failure. */
static int smtpd_check_find(MAPS *maps, const char *addr)
{
    if (maps == 0 || maps->argv->argc == 0)
        return 0;
    if (mail_addr_find(maps, addr, 0) != 0)
        return 1;
    return maps->error != DICT_ERR_NONE ? -1 : 0;
}

/* Whether receive_override_options turns recipient validation off. */
static bool smtpd_check_no_unknown_rcpt(void)
{
    ARGV *opts = smtpd_check_parse(var_receive_override_options);
    bool off = false;

    for (size_t i = 0; i < opts->argc; i++)
        if (strcasecmp(opts->argv[i], "no_unknown_recipient_checks") == 0)
            off = true;
    argv_free(opts);
    return off;
}

/* Recipient (or sender) validation, §9.2. */
static int smtpd_check_rcpt_maps(SMTPD_STATE *state, const char *addr, const char *reply_class)
{
    const RESOLVE_REPLY *reply;
    char *canon;
    const char *value;
    int status = SMTPD_CHECK_DUNNO;
    int found;
    bool sender = strcmp(reply_class, SMTPD_NAME_SENDER) == 0;
    const char *dsn = sender ? "5.1.0" : "5.1.1";

    if (*addr == 0 || smtpd_check_no_unknown_rcpt())
        return SMTPD_CHECK_DUNNO;
    reply = smtpd_check_resolve(state, addr);
    if (reply->flags & RESOLVE_FLAG_FAIL)
        return smtpd_check_reject(state, SMTPD_ERR_RESOURCE, 451, "4.3.0", 0,
                                  "<%s>: Temporary lookup failure", addr);
    canon = mystrdup(VSTRING_LEN(reply->recipient) ? STR(reply->recipient) : addr);
    int rflags = reply->flags;

#define LOOKUP_FAIL()                                                                                        \
    do {                                                                                                     \
        status = smtpd_check_reject(state, SMTPD_ERR_RESOURCE, 451, "4.3.0", 0,                              \
                                    "<%s>: Temporary lookup failure", addr);                                 \
        goto done;                                                                                           \
    } while (0)

    /* Canonical or virtual alias mapping makes an address known. */
    {
        MAPS *known[] = {smtpd_check_canonical,
                         sender ? smtpd_check_send_canonical : smtpd_check_rcpt_canonical,
                         smtpd_check_virt_alias};

        for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
            if ((found = smtpd_check_find(known[i], canon)) < 0)
                LOOKUP_FAIL();
            if (found > 0)
                goto done;
        }
    }

    /* Relocated users. */
    if (smtpd_check_relocated && smtpd_check_relocated->argv->argc > 0) {
        if ((value = mail_addr_find(smtpd_check_relocated, canon, 0)) != 0) {
            char *copy = mystrdup(value);
            size_t dlen;

            if (!var_relocated_prefix_enable && strlen(copy) > 4 && isdigit((unsigned char)copy[0]) &&
                isdigit((unsigned char)copy[1]) && isdigit((unsigned char)copy[2]) && copy[3] == ' ' &&
                (copy[0] == '4' || copy[0] == '5')) {
                const char *text = copy + 4;
                char rdsn[16];

                dlen = smtpd_check_dsn_len(text);
                if (dlen > 0 && dlen < sizeof(rdsn)) {
                    snprintf(rdsn, sizeof(rdsn), "%.*s", (int)dlen, text);
                    text += dlen;
                    while (*text == ' ')
                        text++;
                } else {
                    snprintf(rdsn, sizeof(rdsn), "%c.1.6", copy[0]);
                }
                status = smtpd_check_reject(state, SMTPD_ERR_POLICY, atoi(copy), rdsn, reply_class,
                                            "<%s>: %s rejected: %s", addr, reply_class, text);
            } else {
                status = smtpd_check_reject(state, SMTPD_ERR_POLICY, 550, "5.1.6", reply_class,
                                            "<%s>: %s rejected: %s%s", addr, reply_class,
                                            var_relocated_prefix_enable ? "User has moved to " : "", copy);
            }
            myfree(copy);
            goto done;
        }
        if (smtpd_check_relocated->error != DICT_ERR_NONE)
            LOOKUP_FAIL();
    }

    {
        MAPS *maps = 0;
        int code = 0;
        const char *table = "";

        if (rflags & RESOLVE_CLASS_LOCAL) {
            if (*var_local_recipient_maps == 0 || smtpd_check_special_user(canon))
                goto done;
            maps = smtpd_check_local_rcpt, code = var_unknown_local_recipient_reject_code;
            table = " in local recipient table";
        } else if (rflags & RESOLVE_CLASS_ALIAS) {
            maps = 0, code = var_unknown_virtual_alias_reject_code;
            table = " in virtual alias table";
        } else if (rflags & RESOLVE_CLASS_VIRTUAL) {
            maps = smtpd_check_virt_mailbox, code = var_unknown_virtual_mailbox_reject_code;
            table = " in virtual mailbox table";
        } else if (rflags & RESOLVE_CLASS_RELAY) {
            if (*var_relay_recipient_maps == 0)
                goto done;
            maps = smtpd_check_relay_rcpt, code = var_unknown_relay_recipient_reject_code;
            table = " in relay recipient table";
        } else {
            goto done;
        }
        if (maps != 0) {
            if ((found = smtpd_check_find(maps, canon)) < 0)
                LOOKUP_FAIL();
            if (found > 0)
                goto done;
        }
        status = smtpd_check_reject(state, SMTPD_ERR_POLICY, code, dsn, reply_class,
                                    "<%s>: %s rejected: User unknown%s", addr, reply_class,
                                    var_show_user_unknown_table_name ? table : "");
    }
done:
    myfree(canon);
    return status;
#undef LOOKUP_FAIL
}

/* permit_mynetworks match; *error set after a list lookup failure. */
bool smtpd_check_mynetworks_match(SMTPD_STATE *state, int *error)
{
    int match;

    *error = 0;
    if (smtpd_check_mynetworks_list == 0 || state->addr == 0)
        return false;
    match = namadr_list_match(smtpd_check_mynetworks_list, state->name, smtpd_check_plain_addr(state->addr));
    if (!match && smtpd_check_mynetworks_list->error != DICT_ERR_NONE)
        *error = 1;
    return match != 0;
}

/* Does the current list have the data this restriction needs? */
static const char *smtpd_check_recipient_of(const char *reply_class, SMTPD_STATE *state)
{
    (void)reply_class;
    return state->recipient;
}

/* Evaluate one restriction (with its argument, if any). */
static int smtpd_check_one(SMTPD_STATE *state, const char *name, const char *arg, const char *reply_name,
                           const char *reply_class)
{
    const char *recipient = smtpd_check_recipient_of(reply_class, state);
    bool have_sender = state->sender != 0;
    bool have_rcpt = recipient != 0;
    bool have_helo = state->helo_name != 0 && *state->helo_name != 0;
    void *class_list;
    int err;

    /* Removed names. */
    for (size_t i = 0; i < sizeof(smtpd_check_removed) / sizeof(smtpd_check_removed[0]); i++) {
        if (strcasecmp(name, smtpd_check_removed[i][0]) == 0) {
            msg_warn("support for restriction \"%s\" has been removed; instead, specify \"%s\"", name,
                     smtpd_check_removed[i][1]);
            return smtpd_check_config_error(state, 0, 0);
        }
    }
    name = smtpd_check_canon_name(name);

#define IS(s) (strcasecmp(name, (s)) == 0)

    /* Generic. */
    if (IS("permit"))
        return SMTPD_CHECK_OK;
    if (IS("reject"))
        return smtpd_check_reject(state, SMTPD_ERR_POLICY, var_reject_code, "5.7.1", reply_class,
                                  "<%s>: %s rejected: Access denied", reply_name, reply_class);
    if (IS("defer"))
        return smtpd_check_reject(state, SMTPD_ERR_POLICY, var_defer_code, "4.3.2", reply_class,
                                  "<%s>: %s rejected: Try again later", reply_name, reply_class);
    if (IS("defer_if_permit") || IS("defer_if_reject")) {
        bool permit = IS("defer_if_permit");

        smtpd_check_defer(state, permit ? SMTPD_DEFER_IF_PERMIT : SMTPD_DEFER_IF_REJECT, var_defer_code,
                          "4.7.0", reply_class, "<%s>: %s rejected: %s requested", reply_name, reply_class,
                          permit ? "defer_if_permit" : "defer_if_reject");
        return SMTPD_CHECK_DUNNO;
    }
    if (IS("sleep")) {
        sleep((unsigned)atoi(arg));
        return SMTPD_CHECK_DUNNO;
    }
    if (IS("reject_unauth_pipelining")) {
        if (state->flags & SMTPD_FLAG_ILL_PIPELINE)
            return smtpd_check_reject(state, SMTPD_ERR_POLICY, 503, "5.5.0", 0,
                                      "<%s>: %s rejected: Improper use of SMTP command pipelining",
                                      reply_name, reply_class);
        return SMTPD_CHECK_DUNNO;
    }
    if (IS("reject_plaintext_session")) {
        if (state->tls_protocol == 0)
            return smtpd_check_reject(state, SMTPD_ERR_POLICY, var_plaintext_reject_code, "4.7.1", 0,
                                      "Session encryption is required");
        return SMTPD_CHECK_DUNNO;
    }
    if (IS("reject_multi_recipient_bounce")) {
        int min = state->where && strcmp(state->where, SMTPD_CMD_RCPT) == 0 ? 1 : 2;

        if (have_sender && *state->sender == 0 && state->rcpt_count >= min)
            return smtpd_check_reject(state, SMTPD_ERR_POLICY, var_multi_recipient_bounce_reject_code,
                                      "5.5.3", 0, "<%s>: %s rejected: Multi-recipient bounce", reply_name,
                                      reply_class);
        return SMTPD_CHECK_DUNNO;
    }

    /* Client. */
    if (IS("permit_mynetworks")) {
        if (smtpd_check_mynetworks_match(state, &err))
            return SMTPD_CHECK_OK;
        return err ? smtpd_check_config_error(state, state->namaddr, SMTPD_NAME_CLIENT) : SMTPD_CHECK_DUNNO;
    }
    if (IS("permit_inet_interfaces")) {
        VSTRING *lit = vstring_alloc(60);
        const char *addr = state->addr ? smtpd_check_plain_addr(state->addr) : "";
        int local;

        vstring_sprintf(lit, strchr(addr, ':') ? "[IPv6:%s]" : "[%s]", addr);
        local = *addr ? resolve_local(STR(lit)) : 0;
        vstring_free(lit);
        if (local < 0)
            return smtpd_check_config_error(state, state->namaddr, SMTPD_NAME_CLIENT);
        return local > 0 ? SMTPD_CHECK_OK : SMTPD_CHECK_DUNNO;
    }
    if (IS("permit_sasl_authenticated"))
        return state->sasl_username != 0 ? SMTPD_CHECK_OK : SMTPD_CHECK_DUNNO;
    if (IS("permit_tls_clientcerts") || IS("permit_tls_all_clientcerts") || IS("check_ccert_access"))
        return smtpd_check_ccert(state, name, arg);
    if (IS("check_sasl_access")) {
        int found;

        if (state->sasl_username == 0)
            return SMTPD_CHECK_DUNNO;
        return smtpd_check_keys(state, arg, access_keys_domain(state->sasl_username, false), 1,
                                state->namaddr, SMTPD_NAME_CLIENT, false, &found);
    }
    if (IS("reject_sender_login_mismatch") || IS("reject_authenticated_sender_login_mismatch") ||
        IS("reject_known_sender_login_mismatch") || IS("reject_unauthenticated_sender_login_mismatch") ||
        IS("reject_unlisted_sender_login_mismatch"))
        return smtpd_check_sender_login(state, name);
    if (IS("check_client_access"))
        return smtpd_check_client_access(state, arg, state->name, state->addr, SMTPD_NAME_CLIENT, false);
    if (IS("check_reverse_client_hostname_access"))
        return smtpd_check_client_access(state, arg, state->reverse_name, state->addr, SMTPD_NAME_REV_CLIENT,
                                         true);
    if (IS("reject_unknown_client_hostname") || IS("reject_unknown_reverse_client_hostname")) {
        bool reverse = IS("reject_unknown_reverse_client_hostname");
        int status = reverse ? state->reverse_name_status : state->name_status;

        if (status == SMTPD_PEER_CODE_OK)
            return SMTPD_CHECK_DUNNO;
        return smtpd_check_reject(state, SMTPD_ERR_POLICY,
                                  status == SMTPD_PEER_CODE_TEMP ? 450 : var_unknown_client_reject_code,
                                  "4.7.1", 0, "Client host rejected: cannot find your %shostname, [%s]",
                                  reverse ? "reverse " : "", state->addr ? state->addr : "");
    }
    if (IS("reject_rbl_client"))
        return smtpd_check_dns_rbl_client(state, arg, false);
    if ((IS("permit_dnswl_client") || IS("permit_rhswl_client")) &&
        strcmp(reply_class, SMTPD_NAME_RECIPIENT) == 0 &&
        (!have_rcpt || smtpd_check_auth_dest(state, recipient) != SMTPD_CHECK_OK))
        return SMTPD_CHECK_DUNNO; /* never bypass reject_unauth_destination */
    if (IS("permit_dnswl_client"))
        return smtpd_check_dns_rbl_client(state, arg, true);
    if (IS("reject_rhsbl_client") || IS("permit_rhswl_client"))
        return smtpd_check_dns_rhsbl(state, SMTPD_NAME_CLIENT, state->name, state->name, arg,
                                     IS("permit_rhswl_client"));
    if (IS("reject_rhsbl_reverse_client"))
        return smtpd_check_dns_rhsbl(state, SMTPD_NAME_CLIENT, state->reverse_name, state->reverse_name, arg,
                                     false);
    if (IS("reject_rhsbl_helo"))
        return have_helo ? smtpd_check_dns_rhsbl(state, SMTPD_NAME_HELO, state->helo_name, state->helo_name,
                                                 arg, false)
                         : SMTPD_CHECK_DUNNO;
    if (IS("reject_rhsbl_sender")) {
        const char *at = have_sender ? strrchr(state->sender, '@') : 0;

        return at ? smtpd_check_dns_rhsbl(state, SMTPD_NAME_SENDER, at + 1, state->sender, arg, false)
                  : SMTPD_CHECK_DUNNO;
    }
    if (IS("reject_rhsbl_recipient")) {
        const char *at = have_rcpt ? strrchr(recipient, '@') : 0;

        return at ? smtpd_check_dns_rhsbl(state, SMTPD_NAME_RECIPIENT, at + 1, recipient, arg, false)
                  : SMTPD_CHECK_DUNNO;
    }

    /* HELO. */
    if (IS("check_helo_access"))
        return have_helo ? smtpd_check_domain_access(state, arg, state->helo_name, state->helo_name,
                                                     SMTPD_NAME_HELO)
                         : SMTPD_CHECK_DUNNO;
    if (IS("reject_invalid_helo_hostname"))
        return have_helo ? smtpd_check_invalid_helo(state, state->helo_name) : SMTPD_CHECK_DUNNO;
    if (IS("reject_non_fqdn_helo_hostname"))
        return have_helo ? smtpd_check_non_fqdn_helo(state, state->helo_name) : SMTPD_CHECK_DUNNO;
    if (IS("reject_unknown_helo_hostname"))
        return have_helo ? smtpd_check_dns_unknown_helo(state, state->helo_name) : SMTPD_CHECK_DUNNO;

    /* Sender and recipient. */
    if (IS("check_sender_access"))
        return have_sender ? smtpd_check_mail_access(state, arg, state->sender, SMTPD_NAME_SENDER)
                           : SMTPD_CHECK_DUNNO;
    if (IS("check_recipient_access"))
        return have_rcpt ? smtpd_check_mail_access(state, arg, recipient, SMTPD_NAME_RECIPIENT)
                         : SMTPD_CHECK_DUNNO;
    if (IS("check_etrn_access"))
        return strcmp(reply_class, SMTPD_NAME_ETRN) == 0
                   ? smtpd_check_domain_access(state, arg, reply_name, reply_name, SMTPD_NAME_ETRN)
                   : SMTPD_CHECK_DUNNO;
    if (IS("reject_non_fqdn_sender"))
        return have_sender ? smtpd_check_non_fqdn_addr(state, state->sender, SMTPD_NAME_SENDER)
                           : SMTPD_CHECK_DUNNO;
    if (IS("reject_non_fqdn_recipient"))
        return have_rcpt ? smtpd_check_non_fqdn_addr(state, recipient, SMTPD_NAME_RECIPIENT)
                         : SMTPD_CHECK_DUNNO;
    if (IS("reject_unknown_sender_domain"))
        return have_sender ? smtpd_check_dns_unknown_domain(state, state->sender, SMTPD_NAME_SENDER)
                           : SMTPD_CHECK_DUNNO;
    if (IS("reject_unknown_recipient_domain"))
        return have_rcpt ? smtpd_check_dns_unknown_domain(state, recipient, SMTPD_NAME_RECIPIENT)
                         : SMTPD_CHECK_DUNNO;
    if (IS("reject_unknown_address")) {
        if (strcmp(reply_class, SMTPD_NAME_RECIPIENT) == 0)
            return have_rcpt ? smtpd_check_dns_unknown_domain(state, recipient, SMTPD_NAME_RECIPIENT)
                             : SMTPD_CHECK_DUNNO;
        return have_sender ? smtpd_check_dns_unknown_domain(state, state->sender, SMTPD_NAME_SENDER)
                           : SMTPD_CHECK_DUNNO;
    }
    if (IS("reject_unlisted_sender")) {
        if (!have_sender || state->check->sendermap_checked)
            return SMTPD_CHECK_DUNNO;
        state->check->sendermap_checked = true;
        return smtpd_check_rcpt_maps(state, state->sender, SMTPD_NAME_SENDER);
    }
    if (IS("reject_unlisted_recipient")) {
        if (!have_rcpt || state->check->rcptmap_checked)
            return SMTPD_CHECK_DUNNO;
        state->check->rcptmap_checked = true;
        return smtpd_check_rcpt_maps(state, recipient, SMTPD_NAME_RECIPIENT);
    }
    if (IS("reject_unverified_sender") || IS("reject_unverified_recipient")) {
        msg_warn("restriction %s is not available: no address verification service", name);
        return SMTPD_CHECK_DUNNO;
    }

    /* Relay control. */
    if (IS("permit_auth_destination"))
        return have_rcpt ? smtpd_check_auth_dest(state, recipient) : SMTPD_CHECK_DUNNO;
    if (IS("reject_unauth_destination"))
        return have_rcpt ? smtpd_check_unauth_dest(state, recipient, var_relay_domains_reject_code)
                         : SMTPD_CHECK_DUNNO;
    if (IS("defer_unauth_destination"))
        return have_rcpt ? smtpd_check_unauth_dest(state, recipient, var_relay_domains_reject_code - 100)
                         : SMTPD_CHECK_DUNNO;
    if (IS("permit_mx_backup")) {
        const RESOLVE_REPLY *reply;
        const char *at;

        if (!have_rcpt || (at = strrchr(recipient, '@')) == 0)
            return SMTPD_CHECK_DUNNO;
        reply = smtpd_check_resolve(state, recipient);
        if (reply->flags & RESOLVE_FLAG_FAIL)
            return smtpd_check_reject(state, SMTPD_ERR_RESOURCE, 451, "4.3.0", 0,
                                      "<%s>: Temporary lookup failure", recipient);
        if (reply->flags & RESOLVE_FLAG_ROUTED)
            return SMTPD_CHECK_DUNNO;
        if (reply->flags & (RESOLVE_FLAG_FINAL | RESOLVE_CLASS_RELAY))
            return SMTPD_CHECK_OK;
        return smtpd_check_dns_mx_backup(state, at + 1);
    }

    /* check_{client,reverse_client_hostname,helo,sender,recipient}_{a,mx,ns}_access */
    {
        size_t len = strlen(name);
        unsigned type = 0;
        size_t cut = 0;

        if (len > 9 && strcasecmp(name + len - 9, "_a_access") == 0)
            type = T_A, cut = 9;
        else if (len > 10 && strcasecmp(name + len - 10, "_mx_access") == 0)
            type = T_MX, cut = 10;
        else if (len > 10 && strcasecmp(name + len - 10, "_ns_access") == 0)
            type = T_NS, cut = 10;
        if (type != 0) {
            char prefix[64];
            const char *what = 0;
            const char *rname = reply_name;
            const char *rclass = reply_class;

            snprintf(prefix, sizeof(prefix), "%.*s", (int)(len - cut < 63 ? len - cut : 63), name);
            if (strcasecmp(prefix, "check_client") == 0) {
                what = state->name, rname = state->namaddr, rclass = SMTPD_NAME_CLIENT;
            } else if (strcasecmp(prefix, "check_reverse_client_hostname") == 0) {
                what = state->reverse_name, rname = state->namaddr, rclass = SMTPD_NAME_REV_CLIENT;
            } else if (strcasecmp(prefix, "check_helo") == 0) {
                what = state->helo_name, rname = state->helo_name, rclass = SMTPD_NAME_HELO;
            } else if (strcasecmp(prefix, "check_sender") == 0) {
                what = have_sender && strrchr(state->sender, '@') ? strrchr(state->sender, '@') + 1 : 0;
                rname = state->sender, rclass = SMTPD_NAME_SENDER;
            } else if (strcasecmp(prefix, "check_recipient") == 0) {
                what = have_rcpt && strrchr(recipient, '@') ? strrchr(recipient, '@') + 1 : 0;
                rname = recipient, rclass = SMTPD_NAME_RECIPIENT;
            } else {
                msg_warn("unknown smtpd restriction: \"%s\"", name);
                return smtpd_check_config_error(state, 0, 0);
            }
            if (what == 0 || *what == 0 || strcasecmp(what, "unknown") == 0)
                return SMTPD_CHECK_DUNNO;
            return smtpd_check_dns_server_access(state, arg, type, what, rname, rclass);
        }
    }

    /* Policy service. */
    if (IS("check_policy_service")) {
        SMTPD_POLICY *policy = smtpd_check_policies ? htable_find(smtpd_check_policies, arg) : 0;
        VSTRING *action;
        int status;

        if (policy == 0) {
            if (smtpd_check_policies == 0)
                smtpd_check_policies = htable_create(5, 0);
            policy = smtpd_policy_init(arg);
            htable_enter(smtpd_check_policies, arg, policy);
        }
        action = vstring_alloc(100);
        (void)smtpd_policy_query(state, policy, action);
        status = smtpd_check_table_result(state, "check_policy_service", STR(action), reply_name, reply_class,
                                          false);
        vstring_free(action);
        return status;
    }

    /* Restriction classes. */
    if (smtpd_check_classes && (class_list = htable_find(smtpd_check_classes, name)) != 0)
        return smtpd_check_nested(state, class_list, reply_name, reply_class);

    msg_warn("unknown smtpd restriction: \"%s\"", name);
    return smtpd_check_config_error(state, 0, 0);
#undef IS
}

/* Evaluate a list left to right: OK and REJECT end it; its end is DUNNO. */
static int smtpd_check_list(SMTPD_STATE *state, ARGV *list, const char *reply_name, const char *reply_class)
{
    SMTPD_CHECK_STATE *ck = state->check;

    for (size_t i = 0; i < list->argc; i++) {
        const char *name = list->argv[i];
        const char *arg = 0;
        int status;

        if (strcasecmp(name, "warn_if_reject") == 0) {
            ck->warn_if_reject = true;
            continue;
        }
        if (smtpd_check_arg_kind(name) != ARG_NONE) {
            if (i + 1 >= list->argc) {
                msg_warn("restriction %s requires an argument", name);
                ck->warn_if_reject = false;
                return smtpd_check_config_error(state, 0, 0);
            }
            arg = list->argv[++i];
        }
        status = smtpd_check_one(state, name, arg, reply_name, reply_class);
        ck->warn_if_reject = false;
        if (status == SMTPD_CHECK_OK || status == SMTPD_CHECK_REJECT)
            return status;
    }
    return SMTPD_CHECK_DUNNO;
}

/* Run one of the client/helo/sender stages and remember its result. */
static const char *smtpd_check_stage(SMTPD_STATE *state, int stage)
{
    SMTPD_CHECK_STATE *ck = state->check;
    ARGV *list;
    const char *reply_name;
    const char *reply_class;
    int status;

    switch (stage) {
    case SMTPD_CHECK_STAGE_CLIENT:
        list = smtpd_client_list, reply_name = state->namaddr, reply_class = SMTPD_NAME_CLIENT;
        break;
    case SMTPD_CHECK_STAGE_HELO:
        list = smtpd_helo_list, reply_name = state->helo_name, reply_class = SMTPD_NAME_HELO;
        break;
    default:
        list = smtpd_sender_list, reply_name = state->sender, reply_class = SMTPD_NAME_SENDER;
        break;
    }
    smtpd_check_stage_forget(ck, stage);
    ck->dir.active = false;
    ck->dip.active = false;
    ck->warn_if_reject = false;
    ck->recursion = 0;
    status =
        list ? smtpd_check_list(state, list, reply_name ? reply_name : "", reply_class) : SMTPD_CHECK_DUNNO;
    if (status != SMTPD_CHECK_REJECT && stage == SMTPD_CHECK_STAGE_SENDER &&
        var_smtpd_reject_unlisted_sender && state->sender && !ck->sendermap_checked) {
        ck->sendermap_checked = true;
        status = smtpd_check_rcpt_maps(state, state->sender, SMTPD_NAME_SENDER);
    }
    if (status == SMTPD_CHECK_REJECT) {
        ck->stage_reply[stage] = mystrdup(STR(ck->reply));
    } else if (ck->dip.active) {
        ck->stage_dip[stage].active = true;
        vstring_strcpy(ck->stage_dip[stage].reply, STR(ck->dip.reply));
    }
    ck->dip.active = false;
    ck->dir.active = false;
    return ck->stage_reply[stage];
}

/* The delayed client, helo (and sender) stages at RCPT or ETRN: run again
 * for every command, as Postfix does (an access-map value may depend on
 * the recipient, e.g. a restriction list naming recipient checks). */
static const char *smtpd_check_delayed(SMTPD_STATE *state, int last_stage)
{
    for (int stage = 0; stage <= last_stage; stage++) {
        const char *reply = smtpd_check_stage(state, stage);

        if (reply != 0)
            return reply;
    }
    return 0;
}

/* A pending defer_if_permit of this command, or of the earlier stages. */
static const char *smtpd_check_pending(SMTPD_STATE *state, int last_stage)
{
    SMTPD_CHECK_STATE *ck = state->check;
    const char *reply = 0;

    if (ck->dip.active)
        reply = STR(ck->dip.reply);
    for (int stage = 0; reply == 0 && stage <= last_stage; stage++)
        if (ck->stage_dip[stage].active)
            reply = STR(ck->stage_dip[stage].reply);
    if (reply == 0)
        return 0;
    vstring_strcpy(ck->reply, reply);
    smtpd_log_event(state, "reject", STR(ck->reply));
    return STR(ck->reply);
}

/* CONNECT: smtpd_client_restrictions (without delay_reject). */
const char *smtpd_check_client(SMTPD_STATE *state)
{
    const char *reply;

    smtpd_check_begin(state);
    if (var_smtpd_delay_reject)
        return 0;
    reply = smtpd_check_stage(state, SMTPD_CHECK_STAGE_CLIENT);
    return reply ? vstring_str(vstring_strcpy(state->check->reply, reply)) : 0;
}

/* HELO/EHLO: smtpd_helo_restrictions (without delay_reject). */
const char *smtpd_check_helo(SMTPD_STATE *state, const char *helo)
{
    char *saved = state->helo_name;
    const char *reply;

    smtpd_check_begin(state);
    if (var_smtpd_delay_reject)
        return 0;
    state->helo_name = (char *)helo;
    reply = smtpd_check_stage(state, SMTPD_CHECK_STAGE_HELO);
    state->helo_name = saved;
    return reply ? vstring_str(vstring_strcpy(state->check->reply, reply)) : 0;
}

/* MAIL: smtpd_sender_restrictions (without delay_reject). */
const char *smtpd_check_mail(SMTPD_STATE *state, const char *sender)
{
    char *saved = state->sender;
    const char *reply;

    smtpd_check_begin(state);
    if (var_smtpd_delay_reject)
        return 0;
    state->sender = (char *)sender;
    reply = smtpd_check_stage(state, SMTPD_CHECK_STAGE_SENDER);
    state->sender = saved;
    return reply ? vstring_str(vstring_strcpy(state->check->reply, reply)) : 0;
}

/* RCPT and VRFY: delayed stages, relay and recipient lists, validation. */
const char *smtpd_check_rcpt(SMTPD_STATE *state, const char *recipient)
{
    SMTPD_CHECK_STATE *ck;
    char *saved = state->recipient;
    const char *reply = 0;
    ARGV *lists[2];
    int status = SMTPD_CHECK_DUNNO;

    smtpd_check_begin(state);
    ck = state->check;
    ck->rcptmap_checked = false;
    if (state->saved_flags & CLEANUP_FLAG_DISCARD)
        return 0;
    state->recipient = (char *)recipient;
    if (var_smtpd_delay_reject && (reply = smtpd_check_delayed(state, SMTPD_CHECK_STAGE_SENDER)) != 0) {
        reply = vstring_str(vstring_strcpy(ck->saved, reply));
        goto done;
    }
    ck->dip.active = false;
    ck->dir.active = false;
    ck->recursion = 0;
    lists[0] = var_smtpd_relay_before_recipient_restrictions ? smtpd_relay_list : smtpd_rcpt_list;
    lists[1] = var_smtpd_relay_before_recipient_restrictions ? smtpd_rcpt_list : smtpd_relay_list;
    for (int i = 0; i < 2 && status != SMTPD_CHECK_REJECT; i++) {
        ck->warn_if_reject = false;
        if (lists[i])
            status = smtpd_check_list(state, lists[i], recipient, SMTPD_NAME_RECIPIENT);
    }
    if (status != SMTPD_CHECK_REJECT && var_smtpd_reject_unlisted_recipient && !ck->rcptmap_checked &&
        !(state->saved_flags & CLEANUP_FLAG_DISCARD)) {
        ck->rcptmap_checked = true;
        ck->warn_if_reject = false;
        status = smtpd_check_rcpt_maps(state, recipient, SMTPD_NAME_RECIPIENT);
    }
    if (status == SMTPD_CHECK_REJECT)
        reply = STR(ck->reply);
    else if (!(state->saved_flags & CLEANUP_FLAG_DISCARD))
        reply = smtpd_check_pending(state, SMTPD_CHECK_STAGE_SENDER);
done:
    state->recipient = saved;
    return reply;
}

/* Recipient validation alone. */
const char *smtpd_check_rcptmap(SMTPD_STATE *state, const char *recipient)
{
    char *saved = state->recipient;
    int status;

    smtpd_check_begin(state);
    state->recipient = (char *)recipient;
    status = smtpd_check_rcpt_maps(state, recipient, SMTPD_NAME_RECIPIENT);
    state->recipient = saved;
    return status == SMTPD_CHECK_REJECT ? STR(state->check->reply) : 0;
}

/* ETRN: delayed client and helo stages, then smtpd_etrn_restrictions. */
const char *smtpd_check_etrn(SMTPD_STATE *state, const char *domain)
{
    const char *reply;
    int status;

    smtpd_check_begin(state);
    if (var_smtpd_delay_reject && (reply = smtpd_check_delayed(state, SMTPD_CHECK_STAGE_HELO)) != 0)
        return vstring_str(vstring_strcpy(state->check->saved, reply));
    state->check->dip.active = false;
    state->check->dir.active = false;
    state->etrn_domain = domain;
    status = smtpd_etrn_list ? smtpd_check_list(state, smtpd_etrn_list, domain, SMTPD_NAME_ETRN)
                             : SMTPD_CHECK_DUNNO;
    state->etrn_domain = NULL;
    if (status == SMTPD_CHECK_REJECT)
        return STR(state->check->reply);
    return smtpd_check_pending(state, -1);
}

/* One of the data / end-of-data lists. */
static const char *smtpd_check_simple(SMTPD_STATE *state, ARGV *list, const char *reply_name,
                                      const char *reply_class)
{
    int status;

    smtpd_check_begin(state);
    if (list == 0 || list->argc == 0)
        return 0;
    status = smtpd_check_list(state, list, reply_name, reply_class);
    if (status == SMTPD_CHECK_REJECT)
        return STR(state->check->reply);
    return smtpd_check_pending(state, -1);
}

/* DATA / first BDAT. */
const char *smtpd_check_data(SMTPD_STATE *state)
{
    return smtpd_check_simple(state, smtpd_data_list, SMTPD_CMD_DATA, SMTPD_NAME_DATA);
}

/* After the final dot. */
const char *smtpd_check_eod(SMTPD_STATE *state)
{
    return smtpd_check_simple(state, smtpd_eod_list, SMTPD_AFTER_EOM, SMTPD_NAME_EOD);
}

/* MAIL SIZE= and free queue space. */
const char *smtpd_check_size(SMTPD_STATE *state, off_t size)
{
    struct statvfs fs;
    unsigned long long space;

    smtpd_check_begin(state);
    if (var_message_size_limit > 0 && size > var_message_size_limit) {
        smtpd_check_reject(state, SMTPD_ERR_POLICY, 552, "5.3.4", 0, "Message size exceeds fixed limit");
        return STR(state->check->reply);
    }
    if (statvfs(var_queue_directory, &fs) < 0) {
        msg_warn("statvfs %s: %m", var_queue_directory);
        return 0;
    }
    space = (unsigned long long)fs.f_bavail * (unsigned long long)fs.f_frsize;
    if (space < (unsigned long long)var_queue_minfree ||
        (var_message_size_limit > 0 && space < (unsigned long long)var_message_size_limit * 3 / 2)) {
        msg_warn("not enough free space in mail queue: %llu bytes < 1.5*message size limit", space);
        smtpd_check_reject(state, SMTPD_ERR_RESOURCE, 452, "4.3.1", 0, "Insufficient system storage");
        return STR(state->check->reply);
    }
    return 0;
}

/* 0 when addr is an acceptable envelope address, -1 otherwise. */
int smtpd_check_addr(SMTPD_STATE *state, const char *addr, bool smtputf8)
{
    const char *at;
    const char *domain;
    VSTRING *buf;
    bool ok;

    (void)state;
    if (addr == 0 || *addr == 0 || (at = strrchr(addr, '@')) == 0)
        return 0;
    domain = at + 1;
    if (*domain == 0)
        return -1;
    if (*domain == '[')
        return smtpd_check_literal(domain) > 0 ? 0 : -1;
    if (smtputf8) {
        for (const char *cp = domain; *cp; cp++)
            if ((unsigned char)*cp >= 0x80)
                return 0;
    }
    buf = vstring_alloc(100);
    ok = valid_hostname(smtpd_check_nodot(buf, domain));
    vstring_free(buf);
    return ok ? 0 : -1;
}

/* Is the client in the list? A lookup failure counts as no. */
static bool smtpd_check_namadr(NAMADR_LIST *list, SMTPD_STATE *state)
{
    if (list == 0 || state->addr == 0)
        return false;
    return namadr_list_match(list, state->name, smtpd_check_plain_addr(state->addr)) != 0;
}

bool smtpd_check_xclient_ok(SMTPD_STATE *state)
{
    return smtpd_check_namadr(smtpd_check_xclient_list, state);
}

bool smtpd_check_xforward_ok(SMTPD_STATE *state)
{
    return smtpd_check_namadr(smtpd_check_xforward_list, state);
}

bool smtpd_check_verp_ok(SMTPD_STATE *state)
{
    return smtpd_check_namadr(smtpd_check_verp_list, state);
}

bool smtpd_check_event_exempt(SMTPD_STATE *state)
{
    return smtpd_check_namadr(smtpd_check_event_list, state);
}

bool smtpd_check_bare_lf_exempt(SMTPD_STATE *state)
{
    return smtpd_check_namadr(smtpd_check_bare_lf_list, state);
}

bool smtpd_check_mynetworks(SMTPD_STATE *state)
{
    return smtpd_check_namadr(smtpd_check_mynetworks_list, state);
}
