/*
 * smtp_tls_policy - the TLS security level and attributes of each
 * destination and address for smtp(8)/lmtp(8) (spec/security.md 8;
 * smtp_tls_policy.h, smtp.h).
 *
 *   smtp_tls_params_init() reads smtp_tls_* (LMTP: the lmtp_tls_* twins,
 *       else the smtp_tls_* defaults).
 *   smtp_tls_policy_dest(state, dest_text, dest) sets state->tls for one
 *       destination: smtp_tls_policy_maps looked up by the next hop as
 *       routed (then parent domains of a bare domain), else the default
 *       level. smtp_tls_wrappermode raises "none"/"may" to "encrypt".
 *   smtp_tls_policy_host(state, dest, list, addr) settles "dane" and
 *       "dane-only" for one address as RFC 7672 and Postfix do: a
 *       DNSSEC-validated TLSA RRset "_PORT._tcp.HOST" with usable
 *       records keeps "dane"; none (or an insecure MX or host) gives
 *       "may" ("dane-only": defer); records that are all unusable give
 *       "encrypt"; a failed TLSA lookup defers "TLSA lookup error for
 *       HOST:PORT".
 *   smtp_tls_cache_ok(state) a cached plaintext session may serve the
 *       request's next hop only when its level does not require TLS.
 *
 * Errors: a bad level or attribute in the table, or a table lookup error,
 * logs a warning and defers the destination with 4.7.5 "client TLS
 * configuration problem"; an invalid smtp_tls_security_level is fatal.
 */
#include "sys_defs.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "argv.h"
#include "dns.h"
#include "dsn.h"
#include "mail_conf.h"
#include "mail_params.h"
#include "mail_params_init.h"
#include "maps.h"
#include "msg.h"
#include "mymalloc.h"
#include "smtp.h"
#include "smtp_tls_policy.h"
#include "stringops.h"
#include "tls.h"
#include "vstring.h"

SMTP_TLS_PARAMS smtp_tls_params;

static MAPS *smtp_tls_policy_maps;

/* The smtp_SUFFIX value (SMTP_VALUE) or, in LMTP mode, lmtp_SUFFIX or the
 * expanded default of smtp_SUFFIX. */
static const char *smtp_tls_pick(const char *smtp_value, const char *suffix)
{
    VSTRING *name;
    const char *value;
    const PARAM_INFO *info;

    if (!smtp_lmtp_mode)
        return smtp_value ? smtp_value : "";
    name = vstring_alloc(50);
    vstring_sprintf(name, "lmtp_%s", suffix);
    value = mail_conf_eval(vstring_str(name));
    if (value == NULL) {
        vstring_sprintf(name, "smtp_%s", suffix);
        if ((info = mail_params_find(vstring_str(name))) != NULL) {
            VSTRING *buf = vstring_alloc(100);

            mail_conf_expand(buf, info->def);
            value = vstring_export(buf);
        } else {
            value = "";
        }
    } else {
        value = mystrdup(value);
    }
    vstring_free(name);
    return value;
}

/* A boolean smtp_/lmtp_ parameter. */
static bool smtp_tls_pick_bool(bool smtp_value, const char *suffix)
{
    return smtp_lmtp_mode ? strcasecmp(smtp_tls_pick(NULL, suffix), "yes") == 0 : smtp_value;
}

/* A time parameter that main.cf may lack: NAME's value, else DEF. */
static int smtp_tls_time(const char *name, const char *def)
{
    const char *value = mail_conf_eval(name);
    long long secs;

    if (value == NULL || mail_params_time(value, 's', &secs) == 0 || secs <= 0 || secs > 0x7fffffff)
        (void)mail_params_time(def, 's', &secs);
    return (int)secs;
}

/* Read the parameters; see above. */
void smtp_tls_params_init(void)
{
    SMTP_TLS_PARAMS *p = &smtp_tls_params;
    const char *dns_level;

    p->level = smtp_tls_pick(var_smtp_tls_security_level, "tls_security_level");
    p->use_tls = smtp_tls_pick_bool(var_smtp_use_tls, "use_tls");
    p->enforce_tls = smtp_tls_pick_bool(var_smtp_enforce_tls, "enforce_tls");
    p->enforce_peername = smtp_tls_pick_bool(var_smtp_tls_enforce_peername, "tls_enforce_peername");
    p->policy_maps = smtp_tls_pick(var_smtp_tls_policy_maps, "tls_policy_maps");
    p->loglevel = atoi(smtp_tls_pick(var_smtp_tls_loglevel, "tls_loglevel"));
    p->note_starttls_offer = smtp_tls_pick_bool(var_smtp_tls_note_starttls_offer, "tls_note_starttls_offer");
    p->wrappermode = smtp_tls_pick_bool(var_smtp_tls_wrappermode, "tls_wrappermode");
    p->protocols = smtp_tls_pick(var_smtp_tls_protocols, "tls_protocols");
    p->mandatory_protocols = smtp_tls_pick(var_smtp_tls_mandatory_protocols, "tls_mandatory_protocols");
    p->ciphers = smtp_tls_pick(var_smtp_tls_ciphers, "tls_ciphers");
    p->mandatory_ciphers = smtp_tls_pick(var_smtp_tls_mandatory_ciphers, "tls_mandatory_ciphers");
    p->exclude = smtp_tls_pick(var_smtp_tls_exclude_ciphers, "tls_exclude_ciphers");
    p->mandatory_exclude =
        smtp_tls_pick(var_smtp_tls_mandatory_exclude_ciphers, "tls_mandatory_exclude_ciphers");
    p->fingerprint_cert_match =
        smtp_tls_pick(var_smtp_tls_fingerprint_cert_match, "tls_fingerprint_cert_match");
    p->verify_cert_match = smtp_tls_pick(var_smtp_tls_verify_cert_match, "tls_verify_cert_match");
    p->secure_cert_match = smtp_tls_pick(var_smtp_tls_secure_cert_match, "tls_secure_cert_match");
    p->mdalg = smtp_tls_pick(var_smtp_tls_fingerprint_digest, "tls_fingerprint_digest");
    p->cert_file = smtp_tls_pick(var_smtp_tls_cert_file, "tls_cert_file");
    p->key_file = smtp_tls_pick(var_smtp_tls_key_file, "tls_key_file");
    p->eccert_file = smtp_tls_pick(var_smtp_tls_eccert_file, "tls_eccert_file");
    p->eckey_file = smtp_tls_pick(var_smtp_tls_eckey_file, "tls_eckey_file");
    p->chain_files = smtp_tls_pick(var_smtp_tls_chain_files, "tls_chain_files");
    p->CAfile = smtp_tls_pick(var_smtp_tls_CAfile, "tls_CAfile");
    p->CApath = smtp_tls_pick(var_smtp_tls_CApath, "tls_CApath");
    p->verifydepth =
        smtp_lmtp_mode ? atoi(smtp_tls_pick(NULL, "tls_scert_verifydepth")) : var_smtp_tls_scert_verifydepth;
    if (p->verifydepth <= 0)
        p->verifydepth = 9;
    p->starttls_timeout =
        smtp_tls_time(smtp_lmtp_mode ? "lmtp_starttls_timeout" : "smtp_starttls_timeout", "300s");
    p->cache_database = smtp_tls_pick(var_smtp_tls_session_cache_database, "tls_session_cache_database");
    p->cache_timeout = var_smtp_tls_session_cache_timeout;
    p->insecure_mx_policy =
        smtp_tls_pick(var_smtp_tls_dane_insecure_mx_policy, "tls_dane_insecure_mx_policy");
    p->force_tlsa = smtp_tls_pick_bool(var_smtp_tls_force_insecure_host_tlsa_lookup,
                                       "tls_force_insecure_host_tlsa_lookup");
    dns_level = smtp_tls_pick(var_smtp_dns_support_level, "dns_support_level");
    p->dnssec = strcasecmp(dns_level, "dnssec") == 0;
    if (*p->policy_maps)
        smtp_tls_policy_maps = maps_create(smtp_lmtp_mode ? "lmtp_tls_policy_maps" : "smtp_tls_policy_maps",
                                           p->policy_maps, DICT_FLAG_LOCK | DICT_FLAG_FOLD_FIX);
}

/* The default level; see smtp_tls_policy.h. */
int smtp_tls_level_default(void)
{
    const SMTP_TLS_PARAMS *p = &smtp_tls_params;

    if (p->level && *p->level)
        return tls_level_lookup(p->level);
    if (p->enforce_tls)
        return p->enforce_peername ? TLS_LEV_VERIFY : TLS_LEV_ENCRYPT;
    return p->use_tls ? TLS_LEV_MAY : TLS_LEV_NONE;
}

/* Release the attributes and DANE records of a policy (not the struct). */
void smtp_tls_policy_clear(SMTP_TLS_POLICY *policy)
{
    char **strs[] = {&policy->protocols, &policy->ciphers, &policy->exclude,
                     &policy->match,     &policy->tafile,  &policy->nexthop};

    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        if (*strs[i]) {
            myfree(*strs[i]);
            *strs[i] = NULL;
        }
    if (policy->dane_match)
        policy->dane_match = (argv_free(policy->dane_match), NULL);
    if (policy->dane) {
        tls_dane_free(policy->dane);
        policy->dane = NULL;
    }
    policy->level = policy->dest_level = TLS_LEV_NONE;
}

/* Parse one policy table value; see smtp_tls_policy.h. */
int smtp_tls_policy_parse(SMTP_TLS_POLICY *policy, const char *value, VSTRING *why)
{
    static const char *names[] = {"protocols", "ciphers", "exclude", "match", "tafile"};
    char **slots[] = {&policy->protocols, &policy->ciphers, &policy->exclude, &policy->match,
                      &policy->tafile};
    char *copy = mystrdup(value);
    char *bp = copy;
    char *word;
    int result = 0;

    if ((word = mystrtok(&bp, ", \t\r\n")) == NULL) {
        vstring_sprintf(why, "empty TLS policy");
        myfree(copy);
        return -1;
    }
    if ((policy->dest_level = tls_level_lookup(word)) == TLS_LEV_INVALID) {
        vstring_sprintf(why, "invalid TLS security level: \"%s\"", word);
        myfree(copy);
        return -1;
    }
    policy->level = policy->dest_level;
    while (result == 0 && (word = mystrtok(&bp, ", \t\r\n")) != NULL) {
        char *eq = strchr(word, '=');
        size_t i;

        if (eq == NULL || eq == word) {
            vstring_sprintf(why, "malformed attribute/value pair: \"%s\"", word);
            result = -1;
            break;
        }
        *eq = 0;
        /* Accepted for compatibility, without effect here. */
        if (strcasecmp(word, "connection_reuse") == 0 || strcasecmp(word, "servername") == 0)
            continue;
        for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
            if (strcasecmp(word, names[i]) == 0)
                break;
        if (i == sizeof(names) / sizeof(names[0])) {
            vstring_sprintf(why, "invalid attribute name: \"%s\"", word);
            result = -1;
        } else if (*slots[i] != NULL) {
            vstring_sprintf(why, "duplicate attribute: \"%s\"", word);
            result = -1;
        } else if (eq[1] == 0) {
            vstring_sprintf(why, "empty \"%s\" value", word);
            result = -1;
        } else {
            *slots[i] = mystrdup(eq + 1);
        }
    }
    myfree(copy);
    return result;
}

/* The policy table keys for a destination; see smtp_tls_policy.h. */
ARGV *smtp_tls_policy_keys(const char *dest_text)
{
    ARGV *keys = argv_alloc(4);
    const char *key = dest_text;

    if (strncasecmp(key, "inet:", 5) == 0 || strncasecmp(key, "unix:", 5) == 0)
        key += 5;
    argv_add(keys, key);
    if (*key != '[' && strchr(key, ':') == NULL && strchr(key, '/') == NULL)
        for (const char *dot = strchr(key, '.'); dot != NULL; dot = strchr(dot + 1, '.'))
            if (dot[1] != 0)
                argv_add(keys, dot);
    return keys;
}

/* Mark the destination unusable: 4.7.5 "client TLS configuration problem". */
static int smtp_tls_config_problem(SMTP_STATE *state)
{
    smtp_site_fail(state, "none", "4.7.5", NULL, NULL, "client TLS configuration problem");
    state->tls->level = state->tls->dest_level = TLS_LEV_INVALID;
    return -1;
}

/* The policy of one destination; see smtp.h. */
int smtp_tls_policy_dest(SMTP_STATE *state, const char *dest_text, const SMTP_DEST *dest)
{
    SMTP_TLS_POLICY *policy;
    VSTRING *why;
    const char *value = NULL;
    ARGV *keys;
    int result = 0;

    if (state->tls == NULL) {
        state->tls = mymalloc(sizeof(*state->tls));
        memset(state->tls, 0, sizeof(*state->tls));
    }
    policy = state->tls;
    smtp_tls_policy_clear(policy);
    policy->nexthop = mystrdup(dest->kind == SMTP_DEST_UNIX ? var_myhostname : dest->name);
    policy->level = policy->dest_level = smtp_tls_level_default();
    if (smtp_tls_policy_maps != NULL) {
        keys = smtp_tls_policy_keys(dest_text);
        for (size_t i = 0; i < keys->argc && value == NULL; i++) {
            value = maps_find(smtp_tls_policy_maps, keys->argv[i], i > 0 ? DICT_FLAG_FIXED : 0);
            if (value == NULL && smtp_tls_policy_maps->error != 0) {
                msg_warn("%s: %s lookup error for \"%s\"", dest_text, smtp_tls_policy_maps->title,
                         keys->argv[i]);
                argv_free(keys);
                return smtp_tls_config_problem(state);
            }
        }
        if (value != NULL) {
            why = vstring_alloc(100);
            if (smtp_tls_policy_parse(policy, value, why) < 0) {
                msg_warn("%s: %s entry \"%s\": %s", dest_text, smtp_tls_policy_maps->title, value,
                         vstring_str(why));
                result = -1;
            }
            vstring_free(why);
        }
        argv_free(keys);
        if (result < 0)
            return smtp_tls_config_problem(state);
    }
    if (policy->dest_level == TLS_LEV_INVALID)
        return smtp_tls_config_problem(state);
    if (smtp_tls_params.wrappermode && policy->dest_level < TLS_LEV_ENCRYPT)
        policy->dest_level = TLS_LEV_ENCRYPT;
    policy->level = policy->dest_level;
    if (msg_verbose)
        msg_info("%s TLS level: %s", dest_text, tls_level_name(policy->level));
    return 0;
}

/* DANE does not apply: "dane" becomes may (encrypt when the records are
 * unusable); "dane-only" defers with TEXT. CONFIG: the administrator's
 * fault (logged as a warning). */
static int smtp_tls_dane_incompat(SMTP_STATE *state, bool config, bool unusable, const char *text)
{
    SMTP_TLS_POLICY *policy = state->tls;

    if (config)
        msg_warn("%s", text);
    if (policy->level == TLS_LEV_DANE) {
        policy->level = unusable ? TLS_LEV_ENCRYPT : TLS_LEV_MAY;
        if (msg_verbose && !config)
            msg_info("%s", text);
        return 0;
    }
    if (config)
        return smtp_tls_config_problem(state);
    smtp_site_fail(state, "none", "4.7.5", NULL, NULL, "%s", text);
    policy->level = TLS_LEV_INVALID;
    return -1;
}

/* The level for one address; see smtp.h. */
int smtp_tls_policy_host(SMTP_STATE *state, const SMTP_DEST *dest, const SMTP_ADDR_LIST *list,
                         const SMTP_ADDR *addr)
{
    SMTP_TLS_POLICY *policy = state->tls;
    VSTRING *text;
    VSTRING *why;
    DNS_RR *rr = NULL;
    int status;
    int usable;
    int mx_insecure_level;

    if (policy == NULL || policy->dest_level == TLS_LEV_INVALID)
        return -1;
    policy->level = policy->dest_level;
    if (policy->dane) {
        tls_dane_free(policy->dane);
        policy->dane = NULL;
    }
    if (policy->dane_match)
        policy->dane_match = (argv_free(policy->dane_match), NULL);
    if (!TLS_DANE_BASED(policy->level))
        return 0;

    text = vstring_alloc(100);
    if (dest->kind == SMTP_DEST_UNIX) {
        msg_warn("%s: the \"dane\" security level is invalid for delivery via unix-domain sockets",
                 dest->name);
        vstring_free(text);
        return smtp_tls_config_problem(state);
    }
    if (!smtp_tls_params.dnssec || smtp_params.dns_disabled) {
        vstring_sprintf(text, "%s: %s configured with dnssec lookups disabled", dest->name,
                        tls_level_name(policy->level));
        status = smtp_tls_dane_incompat(state, true, false, vstring_str(text));
        vstring_free(text);
        return status;
    }
    mx_insecure_level = tls_level_lookup(smtp_tls_params.insecure_mx_policy);
    if (list->mx_lookup && !list->mx_dnssec_valid &&
        (policy->level == TLS_LEV_DANE_ONLY || mx_insecure_level <= TLS_LEV_MAY)) {
        status = smtp_tls_dane_incompat(state, false, false, "non DNSSEC destination");
        vstring_free(text);
        return status;
    }
    /* TLSA records of a host whose addresses are not signed do not count. */
    if (!addr->dnssec_valid && !smtp_tls_params.force_tlsa) {
        status = smtp_tls_dane_incompat(state, false, false, "no TLSA records found");
        vstring_free(text);
        return status;
    }
    vstring_sprintf(text, "_%u._tcp.%s", dest->port, addr->host);
    why = vstring_alloc(100);
    status = dns_lookup(vstring_str(text), T_TLSA, DNS_REQ_FLAG_DNSSEC, &rr, NULL, why);
    vstring_free(why);
    if (status != DNS_OK && status != DNS_NOTFOUND && status != DNS_FAIL) {
        smtp_site_fail(state, "none", "4.7.5", NULL, NULL, "TLSA lookup error for %s:%u", addr->host,
                       dest->port);
        policy->level = TLS_LEV_INVALID;
        vstring_free(text);
        return -1;
    }
    if (status != DNS_OK || rr == NULL || !rr->dnssec_valid) {
        dns_rr_free(rr);
        status = smtp_tls_dane_incompat(state, false, false, "no TLSA records found");
        vstring_free(text);
        return status;
    }
    policy->dane = tls_dane_alloc();
    for (DNS_RR *r = rr; r; r = r->next)
        if (r->type == T_TLSA && r->data_len > 3)
            tls_dane_add(policy->dane, (unsigned char)r->data[0], (unsigned char)r->data[1],
                         (unsigned char)r->data[2], (const unsigned char *)r->data + 3, r->data_len - 3);
    dns_rr_free(rr);
    usable = policy->dane ? tls_dane_usable(policy->dane) : 0;
    if (usable <= 0) {
        if (policy->dane)
            tls_dane_free(policy->dane);
        policy->dane = NULL;
        status = smtp_tls_dane_incompat(state, false, true, "TLSA records unusable");
        vstring_free(text);
        return status;
    }
    if (list->mx_lookup && !list->mx_dnssec_valid && mx_insecure_level == TLS_LEV_ENCRYPT) {
        msg_info("TLSA RRs found, MX RRset insecure: just encrypt");
        tls_dane_free(policy->dane);
        policy->dane = NULL;
        policy->level = TLS_LEV_ENCRYPT;
        vstring_free(text);
        return 0;
    }
    /* Trust-anchor records: the certificate must name the host or the
     * destination. */
    policy->dane_match = argv_alloc(2);
    argv_add(policy->dane_match, addr->host);
    if (list->mx_lookup && strcasecmp(addr->host, dest->name) != 0)
        argv_add(policy->dane_match, dest->name);
    policy->level = TLS_LEV_DANE;
    vstring_free(text);
    return 0;
}

/* May a cached plaintext session serve the request? See smtp.h. */
bool smtp_tls_cache_ok(SMTP_STATE *state)
{
    ARGV *sites = argv_split(state->request->nexthop, ", \t\r\n");
    SMTP_DEST dest;
    bool ok = true;

    if (sites->argc > 0 &&
        smtp_dest_parse(&dest, sites->argv[0], smtp_params.tcp_port, smtp_lmtp_mode) == NULL) {
        SMTP_STATE scratch = *state;

        scratch.why = dsb_create();
        scratch.why_relay = NULL;
        if (smtp_tls_policy_dest(&scratch, sites->argv[0], &dest) < 0 ||
            TLS_REQUIRED(scratch.tls->dest_level))
            ok = false;
        state->tls = scratch.tls;
        dsb_free(scratch.why);
        if (scratch.why_relay)
            myfree(scratch.why_relay);
        smtp_dest_free(&dest);
    }
    argv_free(sites);
    return ok;
}

/* Release state->tls. */
void smtp_tls_policy_done(SMTP_STATE *state)
{
    if (state->tls) {
        smtp_tls_policy_clear(state->tls);
        myfree(state->tls);
        state->tls = NULL;
    }
}
