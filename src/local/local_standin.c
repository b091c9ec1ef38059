/*
 * local_standin - link-time stand-ins for the modules of local.h written
 * in parallel by another helper (alias.c, dotforward.c, include.c,
 * token.c, forward.c). The lead deletes this file when they are merged.
 *
 * deliver_alias/deliver_dotforward never handle a recipient;
 * deliver_include/forward_append defer; deliver_token_string delivers a
 * local address (no domain, or $myhostname / localhost) through
 * deliver_recipient() one level down and defers anything else;
 * forward_finish returns its status.
 */
#include "sys_defs.h"

#include <string.h>

#include "local.h"
#include "mail_params.h"
#include "mymalloc.h"
#include "stringops.h"

/* Stand-in: no aliases. */
bool deliver_alias(LOCAL_STATE *state UNUSED, int *status UNUSED)
{
    return false;
}

/* Stand-in: no .forward files. */
bool deliver_dotforward(LOCAL_STATE *state UNUSED, int *status UNUSED)
{
    return false;
}

/* Stand-in: :include: is not available. */
int deliver_include(LOCAL_STATE *state, const char *path UNUSED)
{
    return local_defer(state, "4.3.0", "include files not available");
}

/* Stand-in: a single local address only. */
int deliver_token_string(LOCAL_STATE *state, const char *text)
{
    char *addr = mystrdup(text);
    char *at;
    int status;

    trimblanks(addr);
    at = strrchr(addr, '@');
    if (strpbrk(addr, "|/:,\"") == NULL &&
        (at == NULL || strcasecmp(at + 1, var_myhostname) == 0 || strcasecmp(at + 1, "localhost") == 0)) {
        LOCAL_STATE copy = *state;
        char *full = at ? mystrdup(addr) : mymalloc(strlen(addr) + strlen(var_myhostname) + 2);

        if (at == NULL) {
            strcpy(full, addr);
            strcat(full, "@");
            strcat(full, var_myhostname);
        }
        copy.rcpt.address = full;
        status = deliver_recipient(&copy);
        myfree(full);
    } else {
        status = forward_append(state, addr);
    }
    myfree(addr);
    return status;
}

/* Stand-in: forwarding is not available. */
int forward_append(LOCAL_STATE *state, const char *address UNUSED)
{
    return local_defer(state, "4.3.0", "forwarding not available");
}

/* Stand-in: nothing to finish. */
int forward_finish(LOCAL_STATE *state UNUSED, int status)
{
    return status;
}
