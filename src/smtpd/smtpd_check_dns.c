/*
 * smtpd_check_dns - the DNS-based restrictions of the SMTP server
 * (spec/smtpd.md §7.5, §9.1): reject_rbl_client, reject_rhsbl_*,
 * permit_dnswl_client, permit_rhswl_client (with D=127.0.0.[2..4;10]
 * answer filters, rbl_reply_maps and default_rbl_reply templates),
 * reject_unknown_helo_hostname, reject_unknown_{sender,recipient}_domain,
 * check_*_{a,mx,ns}_access and the DNS part of permit_mx_backup.
 *
 * Functions: see smtpd_check_int.h. Answers of DNS lists are cached per
 * session (state->check->dns_cache). Errors: a temporary DNS failure of a
 * block list is "not listed" with a warning "QUERY: RBL lookup error:
 * ..."; of an allow list it is defer_if_reject; of the unknown-name
 * checks it follows the *_tempfail_action parameters.
 */
#include "sys_defs.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "access_keys.h"
#include "dns.h"
#include "htable.h"
#include "mac_expand.h"
#include "mail_params.h"
#include "maps.h"
#include "msg.h"
#include "mymalloc.h"
#include "namadr_list.h"
#include "resolve_local.h"
#include "smtpd.h"
#include "smtpd_check_int.h"
#include "valid_hostname.h"
#include "vstring.h"

#define STR(x) vstring_str(x)

#define RBL_NOT_LISTED 0
#define RBL_LISTED     1
#define RBL_RETRY      2

/* One cached DNS list answer. */
typedef struct SMTPD_RBL_ANSWER {
    int status;   /* RBL_* */
    char *reason; /* TXT text or NULL */
    char *why;    /* the resolver's text after a failure */
} SMTPD_RBL_ANSWER;

static MAPS *smtpd_rbl_reply_maps;
static NAMADR_LIST *smtpd_mx_backup_networks;
static char *smtpd_expansion_filter;

/* Undo the C-like escapes of smtpd_expansion_filter (\t, \40, \\). */
static char *smtpd_check_unescape(const char *value)
{
    VSTRING *buf = vstring_alloc(100);

    for (const char *cp = value; *cp; cp++) {
        if (*cp != '\\' || cp[1] == 0) {
            vstring_addch(buf, *cp);
            continue;
        }
        cp++;
        if (*cp >= '0' && *cp <= '7') {
            int ch = 0;

            for (int n = 0; n < 3 && *cp >= '0' && *cp <= '7'; n++, cp++)
                ch = ch * 8 + (*cp - '0');
            cp--;
            vstring_addch(buf, ch);
        } else {
            vstring_addch(buf, *cp == 't' ? '\t' : *cp == 'n' ? '\n' : *cp == 'r' ? '\r' : *cp);
        }
    }
    return vstring_export(buf);
}

/* Open rbl_reply_maps and the permit_mx_backup_networks list. */
void smtpd_check_dns_init(void)
{
    if (smtpd_rbl_reply_maps)
        smtpd_rbl_reply_maps = maps_free(smtpd_rbl_reply_maps);
    if (smtpd_mx_backup_networks)
        smtpd_mx_backup_networks = namadr_list_free(smtpd_mx_backup_networks);
    if (smtpd_expansion_filter)
        myfree(smtpd_expansion_filter);
    smtpd_rbl_reply_maps = maps_create("rbl_reply_maps", var_rbl_reply_maps, DICT_FLAG_DEFAULT);
    if (*var_permit_mx_backup_networks)
        smtpd_mx_backup_networks =
            namadr_list_init("permit_mx_backup_networks", var_permit_mx_backup_networks);
    smtpd_expansion_filter = smtpd_check_unescape(var_smtpd_expansion_filter);
}

static void smtpd_rbl_answer_free(void *ptr)
{
    SMTPD_RBL_ANSWER *answer = ptr;

    if (answer->reason)
        myfree(answer->reason);
    if (answer->why)
        myfree(answer->why);
    myfree(answer);
}

/* Drop the session's DNS list cache. */
void smtpd_check_dns_state_free(SMTPD_STATE *state)
{
    if (state->check && state->check->dns_cache)
        state->check->dns_cache = htable_free(state->check->dns_cache, smtpd_rbl_answer_free);
}

/* A plain numeric octet pattern. */
static bool alldig_octet(const char *part, int octet)
{
    if (*part == 0)
        return false;
    for (const char *cp = part; *cp; cp++)
        if (!isdigit((unsigned char)*cp))
            return false;
    return atoi(part) == octet;
}

/* Does one octet match a filter part: "2", "[2..4;10]"? */
static bool smtpd_rbl_octet_match(const char *part, int octet)
{
    char *copy;
    char *bp;
    char *item;
    bool match = false;

    if (*part != '[')
        return alldig_octet(part, octet);
    copy = mystrdup(part + 1);
    if ((bp = strchr(copy, ']')) != 0)
        *bp = 0;
    bp = copy;
    while (!match && (item = strsep(&bp, ";")) != 0) {
        char *range = strstr(item, "..");

        if (range) {
            *range = 0;
            match = octet >= atoi(item) && octet <= atoi(range + 2);
        } else {
            match = *item && octet == atoi(item);
        }
    }
    myfree(copy);
    return match;
}

/* Does a printable IPv4 answer match the filter "127.0.0.[2..4;10]"? */
static bool smtpd_rbl_filter_match(const char *filter, const char *addr)
{
    char fparts[4][64];
    int octets[4];
    const char *cp = filter;

    if (sscanf(addr, "%d.%d.%d.%d", &octets[0], &octets[1], &octets[2], &octets[3]) != 4)
        return false;
    for (int i = 0; i < 4; i++) {
        size_t len = 0;

        while (*cp && (*cp != '.' || (len > 0 && fparts[i][0] == '[' && strchr(fparts[i], ']') == 0)) &&
               len < sizeof(fparts[i]) - 1) {
            fparts[i][len++] = *cp++;
            fparts[i][len] = 0;
        }
        fparts[i][len] = 0;
        if (i < 3) {
            if (*cp != '.')
                return false;
            cp++;
        }
    }
    if (*cp)
        return false;
    for (int i = 0; i < 4; i++)
        if (!smtpd_rbl_octet_match(fparts[i], octets[i]))
            return false;
    return true;
}

/* Query QUERY (A, then TXT when listed), with answer filter; cached. */
static const SMTPD_RBL_ANSWER *smtpd_rbl_lookup(SMTPD_STATE *state, const char *query, const char *filter)
{
    SMTPD_CHECK_STATE *ck = state->check;
    VSTRING *key = vstring_alloc(100);
    SMTPD_RBL_ANSWER *answer;
    DNS_RR *rr = 0;
    VSTRING *why;
    int status;

    vstring_sprintf(key, "%s=%s", query, filter ? filter : "");
    if (ck->dns_cache == 0)
        ck->dns_cache = htable_create(10, 0);
    if ((answer = htable_find(ck->dns_cache, STR(key))) != 0) {
        vstring_free(key);
        return answer;
    }
    answer = mymalloc(sizeof(*answer));
    memset(answer, 0, sizeof(*answer));
    why = vstring_alloc(100);
    status = dns_lookup(query, T_A, 0, &rr, 0, why);
    if (status == DNS_OK) {
        for (DNS_RR *r = rr; r; r = r->next) {
            DNS_ADDR_STR pa;

            if (r->type != T_A || dns_rr_to_pa(r, &pa) == 0)
                continue;
            if (filter == 0 || smtpd_rbl_filter_match(filter, pa.buf)) {
                answer->status = RBL_LISTED;
                break;
            }
        }
        dns_rr_free(rr);
        if (answer->status == RBL_LISTED) {
            DNS_RR *txt = 0;

            if (dns_lookup(query, T_TXT, 0, &txt, 0, 0) == DNS_OK && txt != 0) {
                VSTRING *reason = vstring_alloc(100);

                for (DNS_RR *r = txt; r; r = r->next) {
                    if (r->type != T_TXT)
                        continue;
                    if (VSTRING_LEN(reason))
                        vstring_strcat(reason, "; ");
                    vstring_strcat(reason, r->data);
                }
                answer->reason = vstring_export(reason);
            }
            dns_rr_free(txt);
        }
    } else if (status == DNS_RETRY) {
        answer->status = RBL_RETRY;
        answer->why = mystrdup(STR(why));
    }
    vstring_free(why);
    htable_enter(ck->dns_cache, STR(key), answer);
    vstring_free(key);
    return answer;
}

/* The expansion context of an RBL reply template. */
typedef struct SMTPD_RBL_CONTEXT {
    SMTPD_STATE *state;
    const char *code;
    const char *class_name;
    const char *what;
    const char *domain;
    const char *reason;
    VSTRING *buf;
} SMTPD_RBL_CONTEXT;

/* A value with characters outside smtpd_expansion_filter replaced by '_'. */
static const char *smtpd_rbl_filtered(SMTPD_RBL_CONTEXT *ctx, const char *value)
{
    if (value == 0)
        return 0;
    vstring_strcpy(ctx->buf, value);
    for (char *cp = STR(ctx->buf); *cp; cp++)
        if (strchr(smtpd_expansion_filter, *cp) == 0)
            *cp = '_';
    return STR(ctx->buf);
}

/* mac_expand() lookup for $rbl_* and the client/sender/recipient names. */
static const char *smtpd_rbl_lookup_name(const char *name, void *context)
{
    SMTPD_RBL_CONTEXT *ctx = context;
    SMTPD_STATE *state = ctx->state;
    const char *value = 0;
    const char *at;

    if (strcmp(name, "rbl_code") == 0)
        value = ctx->code;
    else if (strcmp(name, "rbl_class") == 0)
        value = ctx->class_name;
    else if (strcmp(name, "rbl_what") == 0)
        value = ctx->what;
    else if (strcmp(name, "rbl_domain") == 0)
        value = ctx->domain;
    else if (strcmp(name, "rbl_reason") == 0 || strcmp(name, "rbl_txt") == 0)
        value = ctx->reason && *ctx->reason ? ctx->reason : 0;
    else if (strcmp(name, "client") == 0)
        value = state->namaddr;
    else if (strcmp(name, "client_address") == 0)
        value = state->addr;
    else if (strcmp(name, "client_name") == 0)
        value = state->name;
    else if (strcmp(name, "reverse_client_name") == 0)
        value = state->reverse_name;
    else if (strcmp(name, "helo_name") == 0)
        value = state->helo_name;
    else if (strcmp(name, "sender") == 0)
        value = state->sender;
    else if (strcmp(name, "recipient") == 0)
        value = state->recipient;
    else if (strcmp(name, "sender_domain") == 0)
        value = state->sender && (at = strrchr(state->sender, '@')) ? at + 1 : 0;
    else if (strcmp(name, "recipient_domain") == 0)
        value = state->recipient && (at = strrchr(state->recipient, '@')) ? at + 1 : 0;
    return smtpd_rbl_filtered(ctx, value);
}

/* Build and send the rejection for a listed name. */
static int smtpd_rbl_reject(SMTPD_STATE *state, const char *domain, const char *what, const char *class_name,
                            const char *reason)
{
    SMTPD_RBL_CONTEXT ctx;
    const char *template = 0;
    char *copy = 0;
    VSTRING *result = vstring_alloc(100);
    char code_buf[16];
    const char *text;
    char dsn[16];
    size_t len;
    int code;
    int status;

    if (smtpd_rbl_reply_maps && smtpd_rbl_reply_maps->argv->argc > 0) {
        if ((template = maps_find(smtpd_rbl_reply_maps, domain, 0)) != 0) {
            copy = mystrdup(template);
            template = copy;
        } else if (smtpd_rbl_reply_maps->error != DICT_ERR_NONE) {
            vstring_free(result);
            return smtpd_check_config_error(state, state->namaddr, class_name);
        }
    }
    if (template == 0)
        template = var_default_rbl_reply;
    snprintf(code_buf, sizeof(code_buf), "%d", var_maps_rbl_reject_code);
    ctx.state = state;
    ctx.code = code_buf;
    ctx.class_name = class_name;
    ctx.what = what;
    ctx.domain = domain;
    ctx.reason = reason;
    ctx.buf = vstring_alloc(100);
    (void)mac_expand(result, template, MAC_EXP_FLAG_NORECURSE, smtpd_rbl_lookup_name, &ctx);
    vstring_free(ctx.buf);
    if (copy)
        myfree(copy);

    text = STR(result);
    if (!(isdigit((unsigned char)text[0]) && isdigit((unsigned char)text[1]) &&
          isdigit((unsigned char)text[2]) && (text[3] == ' ' || text[3] == 0) &&
          (text[0] == '4' || text[0] == '5'))) {
        msg_warn("rbl response code configuration error: %s", text);
        vstring_free(result);
        return smtpd_check_config_error(state, state->namaddr, class_name);
    }
    code = atoi(text);
    text += 3;
    while (*text == ' ')
        text++;
    len = 0;
    if ((text[0] == '4' || text[0] == '5') && text[1] == '.') {
        len = strspn(text, "0123456789.");
        if (len >= sizeof(dsn) || (text[len] != ' ' && text[len] != 0))
            len = 0;
    }
    if (len > 0) {
        snprintf(dsn, sizeof(dsn), "%.*s", (int)len, text);
        text += len;
        while (*text == ' ')
            text++;
    } else {
        snprintf(dsn, sizeof(dsn), "%d.7.1", code / 100);
    }
    status = smtpd_check_reject(state, SMTPD_ERR_POLICY, code, dsn, class_name, "%s", text);
    vstring_free(result);
    return status;
}

/* Split "domain=filter" into its parts (filter NULL when absent). */
static char *smtpd_rbl_split(const char *spec, const char **filter)
{
    char *domain = mystrdup(spec);
    char *eq = strchr(domain, '=');

    *filter = 0;
    if (eq) {
        *eq = 0;
        *filter = spec + (eq - domain) + 1;
    }
    return domain;
}

/* Common part of DNSBL and RHSBL checks. */
static int smtpd_rbl_check(SMTPD_STATE *state, const char *prefix, const char *spec, const char *what,
                           const char *class_name, bool allow)
{
    const char *filter;
    char *domain = smtpd_rbl_split(spec, &filter);
    VSTRING *query = vstring_alloc(100);
    const SMTPD_RBL_ANSWER *answer;
    int status = SMTPD_CHECK_DUNNO;

    vstring_sprintf(query, "%s.%s", prefix, domain);
    answer = smtpd_rbl_lookup(state, STR(query), filter);
    if (answer->status == RBL_RETRY) {
        msg_warn("%s: RBL lookup error: %s", STR(query),
                 answer->why ? answer->why : "Host or domain name not found");
        if (allow)
            smtpd_check_defer(state, SMTPD_DEFER_IF_REJECT, 450, "4.7.1", 0,
                              "<%s>: %s rejected: Service unavailable", state->namaddr, SMTPD_NAME_CLIENT);
    } else if (answer->status == RBL_LISTED) {
        if (allow) {
            msg_info("%s: %s %s listed by domain %s as %s", state->namaddr, class_name, what, domain,
                     answer->reason ? answer->reason : "allowed");
            status = SMTPD_CHECK_OK;
        } else {
            status = smtpd_rbl_reject(state, domain, what, class_name, answer->reason);
        }
    }
    vstring_free(query);
    myfree(domain);
    return status;
}

/* reject_rbl_client / permit_dnswl_client: the reversed client address. */
int smtpd_check_dns_rbl_client(SMTPD_STATE *state, const char *spec, bool allow)
{
    VSTRING *rev = vstring_alloc(100);
    const char *addr = state->addr;
    int status = SMTPD_CHECK_DUNNO;

    if (addr && strncasecmp(addr, "::ffff:", 7) == 0 && strchr(addr + 7, '.'))
        addr += 7;
    if (addr && *addr && dns_reverse_name(addr, rev) != 0)
        status = smtpd_rbl_check(state, STR(rev), spec, addr, SMTPD_NAME_CLIENT, allow);
    vstring_free(rev);
    return status;
}

/* reject_rhsbl_* / permit_rhswl_client: DOMAIN.D, skipping numeric names and literals. */
int smtpd_check_dns_rhsbl(SMTPD_STATE *state, const char *what_class, const char *domain, const char *what,
                          const char *spec, bool allow)
{
    VSTRING *name;
    const char *last;
    int status;

    if (domain == 0 || *domain == 0 || *domain == '[' || strcasecmp(domain, "unknown") == 0)
        return SMTPD_CHECK_DUNNO;
    name = vstring_alloc(100);
    vstring_strcpy(name, domain);
    if (VSTRING_LEN(name) > 1 && STR(name)[VSTRING_LEN(name) - 1] == '.')
        vstring_truncate(name, VSTRING_LEN(name) - 1);
    last = strrchr(STR(name), '.');
    last = last ? last + 1 : STR(name);
    if (strspn(last, "0123456789") == strlen(last) || strchr(STR(name), ':') != 0) {
        vstring_free(name);
        return SMTPD_CHECK_DUNNO;
    }
    status = smtpd_rbl_check(state, STR(name), spec, what, what_class, allow);
    vstring_free(name);
    return status;
}

/* Does name have an A or AAAA record? DNS_* status. */
static int smtpd_check_has_addr(const char *name, VSTRING *why)
{
    return dns_lookup_l(name, 0, 0, 0, why, T_A, T_AAAA, 0);
}

/* reject_unknown_helo_hostname: no A/AAAA and no MX. */
int smtpd_check_dns_unknown_helo(SMTPD_STATE *state, const char *helo)
{
    VSTRING *why;
    int a_status;
    int mx_status;

    if (*helo == '[' || strchr(helo, ':') != 0)
        return SMTPD_CHECK_DUNNO;
    if (strspn(helo, "0123456789.") == strlen(helo))
        return SMTPD_CHECK_DUNNO;
    why = vstring_alloc(100);
    a_status = smtpd_check_has_addr(helo, why);
    mx_status = a_status == DNS_OK ? DNS_OK : dns_lookup(helo, T_MX, 0, 0, 0, why);
    vstring_free(why);
    if (a_status == DNS_OK || mx_status == DNS_OK || mx_status == DNS_NULLMX)
        return SMTPD_CHECK_DUNNO;
    if (a_status == DNS_RETRY || mx_status == DNS_RETRY) {
        VSTRING *text = vstring_alloc(100);
        int status;

        vstring_sprintf(text, "<%s>: %s rejected: Host not found", helo, SMTPD_NAME_HELO);
        status = smtpd_check_tempfail(state, var_unknown_helo_hostname_tempfail_action, 450, "4.7.1", 0,
                                      STR(text));
        vstring_free(text);
        return status;
    }
    return smtpd_check_reject(state, SMTPD_ERR_POLICY, var_unknown_hostname_reject_code, "4.7.1", 0,
                              "<%s>: %s rejected: Host not found", helo, SMTPD_NAME_HELO);
}

/* reject_unknown_sender_domain / _recipient_domain. */
int smtpd_check_dns_unknown_domain(SMTPD_STATE *state, const char *addr, const char *reply_class)
{
    const char *at = strrchr(addr, '@');
    bool sender = strcmp(reply_class, SMTPD_NAME_SENDER) == 0;
    const char *dsn = sender ? "4.1.8" : "4.1.2";
    const RESOLVE_REPLY *reply;
    VSTRING *domain;
    VSTRING *why;
    DNS_RR *mx = 0;
    int status;
    int result = SMTPD_CHECK_DUNNO;

    if (at == 0 || at[1] == 0 || at[1] == '[')
        return SMTPD_CHECK_DUNNO;
    reply = smtpd_check_resolve(state, addr);
    if (reply->flags & RESOLVE_FLAG_FAIL)
        return smtpd_check_reject(state, SMTPD_ERR_RESOURCE, 451, "4.3.0", 0,
                                  "<%s>: Temporary lookup failure", addr);
    if (reply->flags &
        (RESOLVE_FLAG_FINAL | RESOLVE_CLASS_LOCAL | RESOLVE_CLASS_ALIAS | RESOLVE_CLASS_VIRTUAL))
        return SMTPD_CHECK_DUNNO;
    domain = vstring_alloc(100);
    vstring_strcpy(domain, at + 1);
    if (VSTRING_LEN(domain) > 1 && STR(domain)[VSTRING_LEN(domain) - 1] == '.')
        vstring_truncate(domain, VSTRING_LEN(domain) - 1);
    why = vstring_alloc(100);
    status = dns_lookup(STR(domain), T_MX, 0, &mx, 0, why);
    if (status == DNS_NULLMX) {
        result = smtpd_check_reject(state, SMTPD_ERR_POLICY, sender ? 550 : 556, sender ? "5.7.27" : "5.1.10",
                                    0, "<%s>: %s rejected: Domain %s does not accept mail (nullMX)", addr,
                                    reply_class, STR(domain));
    } else if (status == DNS_OK) {
        bool valid = false;

        for (DNS_RR *r = mx; r; r = r->next)
            if (r->type == T_MX && valid_hostname(r->data))
                valid = true;
        if (!valid)
            status = DNS_FAIL;
    } else if (status == DNS_NOTFOUND) {
        status = smtpd_check_has_addr(STR(domain), why);
    }
    dns_rr_free(mx);
    if (status == DNS_RETRY) {
        VSTRING *text = vstring_alloc(100);

        vstring_sprintf(text, "<%s>: %s rejected: Domain not found", addr, reply_class);
        result = smtpd_check_tempfail(state, var_unknown_address_tempfail_action, 450, dsn, reply_class,
                                      STR(text));
        vstring_free(text);
    } else if (status != DNS_OK && status != DNS_NULLMX) {
        result = smtpd_check_reject(state, SMTPD_ERR_POLICY, var_unknown_address_reject_code, dsn,
                                    reply_class, "<%s>: %s rejected: Domain not found", addr, reply_class);
    }
    vstring_free(why);
    vstring_free(domain);
    return result;
}

/* Look one server host (name and addresses) up in an access table. */
static int smtpd_check_server_host(SMTPD_STATE *state, const char *table, const char *host,
                                   const char *reply_name, const char *reply_class, int *found)
{
    ARGV *keys = access_keys_host(host, access_keys_parent_mode("smtpd_access_maps"));
    DNS_RR *addrs = 0;
    int status;

    status = smtpd_check_access_maps(state, table, (const char *const *)keys->argv, keys->argc, 1, reply_name,
                                     reply_class, true, found);
    argv_free(keys);
    if (*found)
        return status;
    if (dns_lookup_l(host, 0, &addrs, 0, 0, T_A, T_AAAA, 0) != DNS_OK)
        return SMTPD_CHECK_DUNNO;
    for (DNS_RR *r = addrs; r && !*found; r = r->next) {
        DNS_ADDR_STR pa;

        if (dns_rr_to_pa(r, &pa) == 0)
            continue;
        keys = access_keys_addr(pa.buf);
        status = smtpd_check_access_maps(state, table, (const char *const *)keys->argv, keys->argc, 1,
                                         reply_name, reply_class, true, found);
        argv_free(keys);
    }
    dns_rr_free(addrs);
    return *found ? status : SMTPD_CHECK_DUNNO;
}

/* check_*_{a,mx,ns}_access: the A/AAAA, MX or NS hosts of name. */
int smtpd_check_dns_server_access(SMTPD_STATE *state, const char *table, unsigned type, const char *name,
                                  const char *reply_name, const char *reply_class)
{
    DNS_RR *hosts = 0;
    const char *domain = name;
    int found = 0;
    int status = SMTPD_CHECK_DUNNO;
    int dns_status;

    if (*name == '[')
        return SMTPD_CHECK_DUNNO;
    if (type == T_A) {
        DNS_RR *addrs = 0;

        if (dns_lookup_l(name, 0, &addrs, 0, 0, T_A, T_AAAA, 0) != DNS_OK)
            return SMTPD_CHECK_DUNNO;
        for (DNS_RR *r = addrs; r && !found; r = r->next) {
            DNS_ADDR_STR pa;
            ARGV *keys;

            if (dns_rr_to_pa(r, &pa) == 0)
                continue;
            keys = access_keys_addr(pa.buf);
            status = smtpd_check_access_maps(state, table, (const char *const *)keys->argv, keys->argc, 1,
                                             reply_name, reply_class, true, &found);
            argv_free(keys);
        }
        dns_rr_free(addrs);
        return found ? status : SMTPD_CHECK_DUNNO;
    }
    for (;;) {
        dns_status = dns_lookup(domain, type, 0, &hosts, 0, 0);
        if (dns_status != DNS_NOTFOUND && dns_status != DNS_FAIL)
            break;
        if (type == T_MX) /* no MX: the name itself is the mail host */
            return smtpd_check_server_host(state, table, name, reply_name, reply_class, &found);
        if (dns_status == DNS_FAIL || (domain = strchr(domain, '.')) == 0 || *++domain == 0)
            return SMTPD_CHECK_DUNNO;
    }
    if (dns_status != DNS_OK) {
        if (dns_status == DNS_RETRY)
            msg_info("%s: %s lookup for %s failed temporarily", reply_name, dns_strtype(type), domain);
        return SMTPD_CHECK_DUNNO;
    }
    for (DNS_RR *r = hosts; r && !found; r = r->next)
        if (r->type == type)
            status = smtpd_check_server_host(state, table, r->data, reply_name, reply_class, &found);
    dns_rr_free(hosts);
    return found ? status : SMTPD_CHECK_DUNNO;
}

/* Is one of host's addresses ours? Sets *in_networks for permit_mx_backup_networks. */
static bool smtpd_check_host_local(const char *host, bool *in_networks)
{
    DNS_RR *addrs = 0;
    bool local = false;

    *in_networks = smtpd_mx_backup_networks == 0;
    if (dns_lookup_l(host, 0, &addrs, 0, 0, T_A, T_AAAA, 0) != DNS_OK)
        return false;
    for (DNS_RR *r = addrs; r; r = r->next) {
        DNS_ADDR_STR pa;
        VSTRING *lit;

        if (dns_rr_to_pa(r, &pa) == 0)
            continue;
        lit = vstring_alloc(60);
        vstring_sprintf(lit, r->type == T_AAAA ? "[IPv6:%s]" : "[%s]", pa.buf);
        if (resolve_local(STR(lit)) > 0)
            local = true;
        vstring_free(lit);
        if (smtpd_mx_backup_networks && namadr_list_match(smtpd_mx_backup_networks, host, pa.buf))
            *in_networks = true;
    }
    dns_rr_free(addrs);
    return local;
}

/* permit_mx_backup: OK when this host is a non-primary MX of domain. */
int smtpd_check_dns_mx_backup(SMTPD_STATE *state, const char *domain)
{
    DNS_RR *mx = 0;
    int status = dns_lookup(domain, T_MX, 0, &mx, 0, 0);
    int best = -1;
    int local_pref = -1;
    bool primaries_ok = true;

    (void)state;
    if (status != DNS_OK)
        return SMTPD_CHECK_DUNNO;
    for (DNS_RR *r = mx; r; r = r->next)
        if (r->type == T_MX && (best < 0 || r->pref < best))
            best = r->pref;
    for (DNS_RR *r = mx; r; r = r->next) {
        bool in_networks;

        if (r->type != T_MX)
            continue;
        if (smtpd_check_host_local(r->data, &in_networks)) {
            if (local_pref < 0 || r->pref < local_pref)
                local_pref = r->pref;
        } else if (r->pref == best && !in_networks) {
            primaries_ok = false;
        }
    }
    dns_rr_free(mx);
    if (local_pref >= 0 && local_pref > best && primaries_ok)
        return SMTPD_CHECK_OK;
    return SMTPD_CHECK_DUNNO;
}
