/*
 * unknown - deliver_unknown(): a recipient that is neither an alias nor a
 * passwd user (spec/delivery.md 2.7): fallback_transport_maps (key: the
 * user name), fallback_transport, luser_relay (one address with $user,
 * $local, $extension, $domain, $recipient expansions, delivered through
 * deliver_token_string() like an alias entry), then the required
 * postmaster/mailer-daemon rule ("warning: required alias not found:
 * NAME", status=sent (discarded)), else "5.1.1 unknown user: \"NAME\"".
 *
 * Errors: a fallback_transport_maps lookup failure defers (4.3.0); a
 * luser_relay that cannot be expanded defers (4.3.5); a luser_relay that
 * expands to the recipient itself bounces as unknown.
 */
#include "sys_defs.h"

#include <string.h>

#include "local.h"
#include "local_util.h"
#include "mac_expand.h"
#include "mail_params.h"
#include "maps.h"
#include "msg.h"
#include "mymalloc.h"
#include "stringops.h"

static MAPS *unknown_fallback_maps;

/* Deliver to luser_relay. */
static int unknown_luser_relay(LOCAL_STATE *state)
{
    VSTRING *dest = vstring_alloc(100);
    LOCAL_STATE copy;
    int status;

    if (local_expand(dest, var_luser_relay, state, NULL) & MAC_EXP_ERROR) {
        msg_warn("bad luser_relay syntax: %s", var_luser_relay);
        vstring_free(dest);
        return local_defer(state, "4.3.5", "mail system configuration error");
    }
    trimblanks(vstring_str(dest));
    dest->len = strlen(vstring_str(dest));
    if (VSTRING_LEN(dest) == 0 || strcasecmp(vstring_str(dest), state->rcpt.address) == 0 ||
        strcasecmp(vstring_str(dest), state->local) == 0) {
        vstring_free(dest);
        return local_bounce(state, "5.1.1", "unknown user: \"%s\"", state->user);
    }
    copy = *state;
    copy.level = state->level + 1;
    copy.exp_type = LOCAL_EXP_TYPE_NONE;
    copy.exp_from = "luser_relay";
    status = deliver_token_string(&copy, vstring_str(dest));
    vstring_free(dest);
    return status;
}

/* A recipient not found in aliases or passwd; 0 or -1 (reported). */
int deliver_unknown(LOCAL_STATE *state)
{
    const char *value = NULL;

    if (msg_verbose)
        msg_info("deliver_unknown[%d]: %s", state->level, state->rcpt.address);
    if (*var_fallback_transport_maps) {
        if (unknown_fallback_maps == NULL)
            unknown_fallback_maps =
                maps_create("fallback_transport_maps", var_fallback_transport_maps, DICT_FLAG_LOCK);
        value = maps_find(unknown_fallback_maps, state->user, 0);
        if (value == NULL && unknown_fallback_maps->error != DICT_ERR_NONE)
            return local_defer(state, "4.3.0", "fallback_transport_maps map lookup failure");
    }
    if (value != NULL) {
        char *saved = mystrdup(value);
        int status = deliver_pass_to(state, saved);

        myfree(saved);
        return status;
    }
    if (*var_fallback_transport)
        return deliver_pass_to(state, var_fallback_transport);
    if (*var_luser_relay)
        return unknown_luser_relay(state);
    if (strcasecmp(state->user, "postmaster") == 0 || strcasecmp(state->user, "mailer-daemon") == 0) {
        DSN_BUF *why = dsb_create();
        int status;

        msg_warn("required alias not found: %s", state->user);
        dsb_simple(why, "2.0.0", "discarded");
        status = local_result(state, why, false);
        dsb_free(why);
        return status;
    }
    return local_bounce(state, "5.1.1", "unknown user: \"%s\"", state->user);
}
