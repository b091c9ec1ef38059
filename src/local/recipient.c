/*
 * recipient - deliver_recipient(): one local recipient, from its address
 * to the first mechanism that takes it (spec/delivery.md 2.1, 2.7).
 *
 * Steps: the Delivered-To: value (the address, lower case; at level 0
 * only with frozen_delivered_to = yes), mail forwarding loop detection
 * ("5.4.6 mail forwarding loop for ADDR"), the split of the localpart at
 * the first recipient_delimiter character into user and extension (an
 * extension with "/" is dropped with a warning; owner-NAME and
 * NAME-request stay whole when "-" is a delimiter and
 * owner_request_special = yes), "5.1.3 null username", the passwd entry,
 * then aliases (deliver_alias), the user's .forward (deliver_dotforward)
 * and deliver_mailbox(), which continues the chain of spec 2.7.
 *
 * The fields it sets (delivered, user, extension, local, domain, owner)
 * are its own: at level 0 they stay for local.c (forward_finish) which
 * frees them; at deeper levels the caller's values are restored on
 * return.
 *
 * Errors: reported through local_bounce()/local_defer(); returns 0 or -1.
 */
#include "sys_defs.h"

#include <string.h>

#include "deliver_request.h"
#include "local.h"
#include "local_util.h"
#include "mail_params.h"
#include "msg.h"
#include "mymalloc.h"
#include "stringops.h"

/* True when LOCAL must not be split (owner-NAME, NAME-request). */
static bool deliver_recipient_nosplit(const char *local)
{
    size_t len = strlen(local);

    if (!var_owner_request_special || strchr(var_recipient_delimiter, '-') == NULL)
        return false;
    return strncmp(local, "owner-", 6) == 0 || (len > 8 && strcmp(local + len - 8, "-request") == 0);
}

/* Fill user, extension, local, domain from the recipient address. */
static void deliver_recipient_split(LOCAL_STATE *state)
{
    const char *addr = state->rcpt.address;
    const char *at = strrchr(addr, '@');
    size_t n;

    state->local = lowercase(at ? mystrndup(addr, (size_t)(at - addr)) : mystrdup(addr));
    state->domain = lowercase(mystrdup(at ? at + 1 : ""));
    state->user = mystrdup(state->local);
    state->extension = NULL;
    if (*var_recipient_delimiter == 0 || deliver_recipient_nosplit(state->local))
        return;
    n = strcspn(state->user, var_recipient_delimiter);
    if (state->user[n] == 0)
        return;
    state->user[n] = 0;
    if (strchr(state->user + n + 1, '/') != NULL)
        msg_warn("%s: address with illegal extension: %s", state->request->queue_id, state->local);
    else
        state->extension = mystrdup(state->user + n + 1);
}

/* The chain after the address checks. */
static int deliver_recipient_chain(LOCAL_STATE *state)
{
    int status;

    if (delivered_hdr_find(state->loop_info, state->delivered))
        return local_bounce(state, "5.4.6", "mail forwarding loop for %s", state->rcpt.address);
    if (*state->user == 0)
        return local_bounce(state, "5.1.3", "null username in \"%s\"", state->rcpt.address);
    if (deliver_alias(state, &status))
        return status;
    if (deliver_dotforward(state, &status))
        return status;
    return deliver_mailbox(state);
}

/* Deliver the recipient in state->rcpt.address; 0 or -1 (reported). */
int deliver_recipient(LOCAL_STATE *state)
{
    LOCAL_STATE saved = *state;
    VSTRING *key = vstring_alloc(100);
    int status;

    if (msg_verbose)
        msg_info("deliver_recipient[%d]: %s", state->level, state->rcpt.address);
    vstring_sprintf(key, "recipient %d %s", state->level, state->rcpt.address);
    if (local_dup_seen(state, vstring_str(key))) {
        vstring_free(key);
        return 0;
    }
    vstring_free(key);

    if (state->level == 0 || !var_frozen_delivered_to || state->delivered == NULL)
        state->delivered = lowercase(mystrdup(state->rcpt.address));
    else
        state->delivered = mystrdup(state->delivered);
    deliver_recipient_split(state);
    state->owner = local_user_by_name(state->user);

    status = deliver_recipient_chain(state);

    if (state->level > 0) {
        myfree(state->delivered);
        myfree(state->user);
        myfree(state->extension);
        myfree(state->local);
        myfree(state->domain);
        local_user_free(state->owner);
        state->delivered = saved.delivered;
        state->user = saved.user;
        state->extension = saved.extension;
        state->local = saved.local;
        state->domain = saved.domain;
        state->owner = saved.owner;
    }
    return status;
}
