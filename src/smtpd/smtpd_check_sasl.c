/*
 * smtpd_check_sasl - sender ownership restrictions (spec/security.md 5.4;
 * smtpd_check_int.h): smtpd_sender_login_maps maps an envelope sender to
 * the SASL login names that own it ("alice, alice2").
 *
 * Public functions:
 *   smtpd_check_sasl_init()
 *       open smtpd_sender_login_maps (from smtpd_check_init()).
 *   smtpd_check_sender_login(state, name)
 *       the restriction NAME for the sender of this transaction:
 *       reject_authenticated_sender_login_mismatch (logged in, and the
 *       sender is not listed or the login is not among its owners),
 *       reject_known_sender_login_mismatch (sender listed: logged in but
 *       not an owner, or not logged in), reject_unauthenticated_sender_
 *       login_mismatch (not logged in, sender listed), and
 *       reject_sender_login_mismatch (the authenticated then the
 *       unauthenticated rule). The null sender is never checked.
 *
 * The sender is first rewritten to canonical form (trivial-rewrite), then
 * looked up as mail_addr_find() does: user+ext@domain, user@domain, user
 * (only for a local domain), @domain. Owners compare case-insensitively.
 *
 * Errors: without smtpd_sasl_auth_enable the restriction is ignored with
 * a warning, as in Postfix; a lookup failure (table or trivial-rewrite)
 * is "451 4.3.0 <S>: Temporary lookup failure".
 */
#include "sys_defs.h"

#include <string.h>
#include <strings.h>

#include "dict.h"
#include "mail_addr_find.h"
#include "mail_params.h"
#include "maps.h"
#include "msg.h"
#include "mymalloc.h"
#include "resolve_clnt.h"
#include "smtpd_check.h"
#include "smtpd_check_int.h"
#include "stringops.h"
#include "vstring.h"

static MAPS *smtpd_check_sasl_login_maps;

/* Open smtpd_sender_login_maps while privileged. */
void smtpd_check_sasl_init(void)
{
    if (*var_smtpd_sender_login_maps)
        smtpd_check_sasl_login_maps =
            maps_create("smtpd_sender_login_maps", var_smtpd_sender_login_maps, DICT_FLAG_DEFAULT);
}

/* Owners of SENDER: 1 with *owners set (a copy), 0 unlisted, -1 lookup failure. */
static int smtpd_check_sasl_owners(SMTPD_STATE *state, const char *sender, char **owners)
{
    const RESOLVE_REPLY *reply;
    const char *value;

    *owners = NULL;
    if (smtpd_check_sasl_login_maps == NULL)
        return 0;
    reply = smtpd_check_resolve(state, sender);
    if (reply->flags & RESOLVE_FLAG_FAIL)
        return -1;
    value = mail_addr_find(smtpd_check_sasl_login_maps, vstring_str(reply->recipient), NULL);
    if (value == NULL)
        return smtpd_check_sasl_login_maps->error != DICT_ERR_NONE ? -1 : 0;
    *owners = mystrdup(value);
    return 1;
}

/* Whether LOGIN is one of the comma/space separated OWNERS. */
static bool smtpd_check_sasl_owned(const char *owners, const char *login)
{
    char *copy = mystrdup(owners);
    char *bp = copy;
    char *name;
    bool found = false;

    while (!found && (name = mystrtok(&bp, ", \t\r\n")) != NULL)
        found = strcasecmp(name, login) == 0;
    myfree(copy);
    return found;
}

/* The lookup-failure reply for SENDER. */
static int smtpd_check_sasl_retry(SMTPD_STATE *state, const char *sender)
{
    return smtpd_check_reject(state, SMTPD_ERR_RESOURCE, 451, "4.3.0", 0, "<%s>: Temporary lookup failure",
                              sender);
}

/* Logged in: the login must own SENDER (unlisted senders pass when ALLOW_UNLISTED). */
static int smtpd_check_sasl_auth(SMTPD_STATE *state, const char *sender, bool allow_unlisted)
{
    char *owners;
    int found;
    bool owned;

    if (state->sasl_username == NULL)
        return SMTPD_CHECK_DUNNO;
    if ((found = smtpd_check_sasl_owners(state, sender, &owners)) < 0)
        return smtpd_check_sasl_retry(state, sender);
    if (found == 0 && (allow_unlisted || smtpd_check_sasl_login_maps == NULL))
        return SMTPD_CHECK_DUNNO;
    owned = found > 0 && smtpd_check_sasl_owned(owners, state->sasl_username);
    myfree(owners);
    if (owned)
        return SMTPD_CHECK_DUNNO;
    return smtpd_check_reject(state, SMTPD_ERR_POLICY, 553, "5.7.1", 0,
                              "<%s>: Sender address rejected: not owned by user %s", sender,
                              state->sasl_username);
}

/* Not logged in: a listed SENDER needs a login. */
static int smtpd_check_sasl_unauth(SMTPD_STATE *state, const char *sender)
{
    char *owners;
    int found;

    if (state->sasl_username != NULL)
        return SMTPD_CHECK_DUNNO;
    if ((found = smtpd_check_sasl_owners(state, sender, &owners)) < 0)
        return smtpd_check_sasl_retry(state, sender);
    if (found == 0)
        return SMTPD_CHECK_DUNNO;
    myfree(owners);
    return smtpd_check_reject(state, SMTPD_ERR_POLICY, 553, "5.7.1", 0,
                              "<%s>: Sender address rejected: not logged in", sender);
}

/* One *_sender_login_mismatch restriction for the current sender. */
int smtpd_check_sender_login(SMTPD_STATE *state, const char *name)
{
    const char *sender = state->sender;
    int status;

    if (!var_smtpd_sasl_auth_enable) {
        msg_warn("restriction `%s' ignored: no SASL support", name);
        return SMTPD_CHECK_DUNNO;
    }
    if (sender == NULL || *sender == 0)
        return SMTPD_CHECK_DUNNO;
    if (strcasecmp(name, "reject_authenticated_sender_login_mismatch") == 0)
        return smtpd_check_sasl_auth(state, sender, false);
    if (strcasecmp(name, "reject_known_sender_login_mismatch") == 0) {
        if (state->sasl_username)
            return smtpd_check_sasl_auth(state, sender, true);
        return smtpd_check_sasl_unauth(state, sender);
    }
    if (strcasecmp(name, "reject_unauthenticated_sender_login_mismatch") == 0)
        return smtpd_check_sasl_unauth(state, sender);
    if (strcasecmp(name, "reject_sender_login_mismatch") == 0) {
        if ((status = smtpd_check_sasl_auth(state, sender, false)) != SMTPD_CHECK_DUNNO)
            return status;
        return smtpd_check_sasl_unauth(state, sender);
    }
    /* Not a Postfix restriction (e.g. "reject_unlisted_sender_login_mismatch"). */
    msg_warn("unknown smtpd restriction: \"%s\"", name);
    return smtpd_check_config_error(state, 0, 0);
}
