/*
 * smtpd_check_tls - restrictions on the TLS client certificate
 * (smtpd_check_int.h; spec/security.md 7):
 *
 *   permit_tls_clientcerts      OK when the certificate or public-key
 *                               fingerprint is a key of relay_clientcerts
 *                               (the value is ignored; the issuer need not
 *                               be trusted).
 *   permit_tls_all_clientcerts  OK for any certificate that verified
 *                               against the configured CAs.
 *   check_ccert_access ARG      access-map actions for the fingerprints;
 *                               ARG is "type:table" or "{ type:table,
 *                               { search_order = cert_fingerprint,
 *                               pubkey_fingerprint } }" (commas optional).
 *
 * Fingerprints are the upper-case "AA:BB:..." strings the TLS library
 * computed with smtpd_tls_fingerprint_digest. Without TLS each is DUNNO;
 * with TLS but no certificate each is DUNNO too, with a warning when
 * smtpd_tls_ask_ccert = no (no certificate was ever asked for).
 *
 * Errors: a relay_clientcerts lookup failure and a malformed
 * check_ccert_access argument log a warning and give the usual "451 4.3.5
 * Server configuration error"; the session goes on.
 */
#include "sys_defs.h"

#include <string.h>
#include <strings.h>

#include "argv.h"
#include "dict.h"
#include "htable.h"
#include "mail_params.h"
#include "maps.h"
#include "msg.h"
#include "mymalloc.h"
#include "smtpd_check.h"
#include "smtpd_check_int.h"
#include "stringops.h"
#include "tls.h"

/* The reply class of check_ccert_access rejections. */
#define SMTPD_NAME_CCERT "Client certificate"

/* Search order codes. */
#define CCERT_SEARCH_CERT 'c' /* cert_fingerprint */
#define CCERT_SEARCH_PKEY 'p' /* pubkey_fingerprint */

/* One parsed check_ccert_access argument. */
typedef struct CCERT_ACL {
    char *table;       /* "type:table" */
    char order[3];     /* CCERT_SEARCH_* codes, NUL-terminated */
    const char *error; /* why the argument is unusable, or NULL */
} CCERT_ACL;

static MAPS *smtpd_relay_ccerts; /* relay_clientcerts, or NULL */
static HTABLE *smtpd_ccert_acls; /* argument -> CCERT_ACL */

/* Open relay_clientcerts (before privileges are dropped). */
void smtpd_check_tls_init(void)
{
    if (smtpd_relay_ccerts)
        smtpd_relay_ccerts = maps_free(smtpd_relay_ccerts);
    if (*var_relay_clientcerts)
        smtpd_relay_ccerts =
            maps_create("relay_clientcerts", var_relay_clientcerts, DICT_FLAG_LOCK | DICT_FLAG_FOLD_FIX);
}

/* Parse "search_order = a, b" into ACL->order. */
static void smtpd_ccert_search_order(CCERT_ACL *acl, char *attr)
{
    char *name;
    char *value;
    char *item;
    size_t n = 0;

    if ((acl->error = split_nameval(attr, &name, &value)) != NULL)
        return;
    if (strcasecmp(name, "search_order") != 0) {
        acl->error = "unknown attribute name";
        return;
    }
    while ((item = mystrtok(&value, CHARS_COMMA_SP)) != NULL) {
        char code;

        if (strcasecmp(item, "cert_fingerprint") == 0)
            code = CCERT_SEARCH_CERT;
        else if (strcasecmp(item, "pubkey_fingerprint") == 0)
            code = CCERT_SEARCH_PKEY;
        else {
            acl->error = "unknown search_order value";
            return;
        }
        if (memchr(acl->order, code, n) != NULL) {
            acl->error = "duplicate search_order value";
            return;
        }
        acl->order[n++] = code;
    }
    if (n == 0)
        acl->error = "empty search_order";
    acl->order[n] = 0;
}

/* The parsed form of a check_ccert_access argument (cached). */
static CCERT_ACL *smtpd_ccert_acl(const char *arg)
{
    CCERT_ACL *acl;
    char *copy;
    char *bp;
    char *table;
    char *attr;
    char *extra;

    if (smtpd_ccert_acls == NULL)
        smtpd_ccert_acls = htable_create(5, 0);
    if ((acl = htable_find(smtpd_ccert_acls, arg)) != NULL)
        return acl;
    acl = mymalloc(sizeof(*acl));
    acl->table = NULL;
    acl->error = NULL;
    strcpy(acl->order, (char[]){CCERT_SEARCH_CERT, CCERT_SEARCH_PKEY, 0});
    bp = copy = mystrdup(arg);
    if (*bp == '{') {
        if ((acl->error = extpar(&bp, "{}")) == NULL) {
            table = mystrtokq(&bp, CHARS_COMMA_SP, "{}");
            attr = mystrtokq(&bp, CHARS_COMMA_SP, "{}");
            extra = mystrtokq(&bp, CHARS_COMMA_SP, "{}");
            if (table == NULL || *table == '{' || strchr(table, ':') == NULL)
                acl->error = "missing type:table";
            else if (extra != NULL)
                acl->error = "too many elements";
            else {
                acl->table = mystrdup(table);
                if (attr != NULL) {
                    if (*attr != '{' || (acl->error = extpar(&attr, "{}")) != NULL)
                        acl->error = acl->error ? acl->error : "attribute list must be enclosed in {}";
                    else
                        smtpd_ccert_search_order(acl, attr);
                }
            }
        }
    } else {
        acl->table = mystrdup(bp);
    }
    if (acl->error)
        msg_warn("check_ccert_access: malformed argument \"%s\": %s", arg, acl->error);
    myfree(copy);
    htable_enter(smtpd_ccert_acls, arg, acl);
    return acl;
}

/* The fingerprint a search-order code names. */
static const char *smtpd_ccert_key(const TLS_SESS_STATE *sess, char code)
{
    const char *fpr = code == CCERT_SEARCH_CERT ? sess->peer_cert_fprint : sess->peer_pkey_fprint;

    return fpr ? fpr : "";
}

/* permit_tls_clientcerts / permit_tls_all_clientcerts. */
static int smtpd_ccert_permit(SMTPD_STATE *state, const char *name, bool all)
{
    const TLS_SESS_STATE *sess = state->tls_context;

    if (sess == NULL)
        return SMTPD_CHECK_DUNNO;
    if (all && TLS_CERT_IS_TRUSTED(sess)) {
        if (msg_verbose)
            msg_info("Relaying allowed for all verified client certificates");
        return SMTPD_CHECK_OK;
    }
    /* A fingerprint match needs no trusted issuer. */
    if (TLS_CERT_IS_PRESENT(sess)) {
        const char *prints[2] = {smtpd_ccert_key(sess, CCERT_SEARCH_CERT),
                                 smtpd_ccert_key(sess, CCERT_SEARCH_PKEY)};

        if (smtpd_relay_ccerts == NULL)
            return SMTPD_CHECK_DUNNO;
        for (int i = 0; i < 2; i++) {
            const char *found;

            if (*prints[i] == 0)
                continue;
            if ((found = maps_find(smtpd_relay_ccerts, prints[i], DICT_FLAG_NONE)) != NULL) {
                if (msg_verbose)
                    msg_info("Relaying allowed for certified client: %s", found);
                return SMTPD_CHECK_OK;
            }
            if (smtpd_relay_ccerts->error != DICT_ERR_NONE) {
                msg_warn("relay_clientcerts: lookup error for fingerprint '%s', pkey fingerprint %s",
                         prints[0], prints[1]);
                return smtpd_check_config_error(state, state->namaddr, SMTPD_NAME_CLIENT);
            }
        }
        if (msg_verbose)
            msg_info("relay_clientcerts: No match for fingerprint '%s', pkey fingerprint %s", prints[0],
                     prints[1]);
    } else if (!var_smtpd_tls_ask_ccert) {
        msg_warn("%s is requested, but \"smtpd_tls_ask_ccert = no\"", name);
    }
    return SMTPD_CHECK_DUNNO;
}

/* check_ccert_access ARG. */
static int smtpd_ccert_access(SMTPD_STATE *state, const char *arg)
{
    const TLS_SESS_STATE *sess = state->tls_context;
    CCERT_ACL *acl;

    if (sess == NULL)
        return SMTPD_CHECK_DUNNO;
    acl = smtpd_ccert_acl(arg);
    if (acl->error)
        return smtpd_check_config_error(state, 0, 0);
    if (TLS_CERT_IS_PRESENT(sess)) {
        const char *cn = sess->peer_CN ? sess->peer_CN : "";

        for (const char *code = acl->order; *code; code++) {
            const char *key = smtpd_ccert_key(sess, *code);
            int found;
            int status;

            if (*key == 0)
                continue;
            status =
                smtpd_check_access_maps(state, acl->table, &key, 1, 1, cn, SMTPD_NAME_CCERT, false, &found);
            if (status != SMTPD_CHECK_DUNNO)
                return status;
        }
    } else if (!var_smtpd_tls_ask_ccert) {
        msg_warn("%s is requested, but \"smtpd_tls_ask_ccert = no\"", "check_ccert_access");
    }
    return SMTPD_CHECK_DUNNO;
}

/* The client-certificate restrictions (NAME), with ARG for check_ccert_access. */
int smtpd_check_ccert(SMTPD_STATE *state, const char *name, const char *arg)
{
    if (strcasecmp(name, "permit_tls_clientcerts") == 0)
        return smtpd_ccert_permit(state, name, false);
    if (strcasecmp(name, "permit_tls_all_clientcerts") == 0)
        return smtpd_ccert_permit(state, name, true);
    if (strcasecmp(name, "check_ccert_access") == 0)
        return smtpd_ccert_access(state, arg ? arg : "");
    msg_panic("smtpd_check_ccert: unknown restriction %s", name);
}
